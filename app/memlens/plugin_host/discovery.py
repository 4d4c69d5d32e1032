"""Finding plugins from installed packages' metadata, without importing any of them.

`importlib.metadata` reads the entry points from each distribution's metadata files;
nothing is imported until `load()` is called, and MemLens calls it for enabled plugins only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points

from memlens.plugin_api.plugin import ENTRY_POINT_GROUP

FIRST_PARTY_DISTRIBUTION = "memlens"


@dataclass(frozen=True)
class PluginEntry:
    """A plugin as its package's metadata describes it (nothing imported)."""

    name: str
    target: str  # "module:attribute"
    distribution: str
    version: str
    entry_point: EntryPoint | None = field(default=None, compare=False, repr=False)

    @property
    def module(self) -> str:
        return self.target.split(":", 1)[0]

    @property
    def first_party(self) -> bool:
        return self.distribution == FIRST_PARTY_DISTRIBUTION

    def load(self) -> object:
        """Import the plugin's module and return the object the entry point names."""
        if self.entry_point is None:
            raise RuntimeError(f"plugin {self.name!r} has no entry point to load")
        return self.entry_point.load()


def discover(group: str = ENTRY_POINT_GROUP) -> tuple[list[PluginEntry], list[str]]:
    """Installed plugins sorted by name, and a warning for each name taken twice (the
    first distribution found keeps it)."""
    found: dict[str, PluginEntry] = {}
    warnings: list[str] = []
    for ep in entry_points(group=group):
        dist = ep.dist
        entry = PluginEntry(
            name=ep.name,
            target=ep.value,
            distribution=dist.name if dist is not None else "?",
            version=dist.version if dist is not None else "?",
            entry_point=ep,
        )
        if ep.name in found:
            if found[ep.name].target != entry.target:
                warnings.append(
                    f"Two packages offer a plugin named {ep.name!r} ({found[ep.name].distribution} and "
                    f"{entry.distribution}); using the one from {found[ep.name].distribution}."
                )
            continue
        found[ep.name] = entry
    return sorted(found.values(), key=lambda e: e.name), warnings
