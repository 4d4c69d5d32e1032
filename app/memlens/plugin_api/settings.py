"""A plugin's own settings: JSON in MemLens' data folder, secrets in the keyring.

A plugin reads `context.settings.get("model")`; the value is what the user saved in the
Plugins dialog, else the default its `Setting` declares. Values are read fresh on every
`get`, so a setting changed in the dialog applies to the plugin's next call.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from memlens.plugin_api.plugin import Setting, SettingValue

log = logging.getLogger(__name__)
KEYRING_SERVICE = "memlens-plugin"


def _keyring():
    try:
        import keyring  # optional: not every desktop has a keyring backend
    except ImportError:
        return None
    return keyring


class PluginSettings:
    """Settings of one plugin. `path=None` keeps everything in memory (tests, previews)."""

    def __init__(self, plugin: str, path: Path | None, schema: Sequence[Setting] = ()) -> None:
        self.plugin = plugin
        self.path = path
        self._lock = threading.RLock()
        self._schema: dict[str, Setting] = {}
        self._values: dict[str, Any] = {}
        self._secrets: dict[str, str] = {}  # where no keyring is installed: this run only
        self.load_error: str | None = None
        self.set_schema(schema)
        self._read()

    # -- schema --------------------------------------------------------------------------
    def set_schema(self, schema: Sequence[Setting]) -> None:
        with self._lock:
            self._schema = {s.key: s for s in schema}

    @property
    def schema(self) -> list[Setting]:
        with self._lock:
            return list(self._schema.values())

    # -- values --------------------------------------------------------------------------
    def get(self, key: str, default: Any = None) -> Any:
        with self._lock:
            spec = self._schema.get(key)
            if spec is not None and spec.secret:
                value = self._secret(key)
                return value if value else (default if default is not None else spec.default)
            if key in self._values:
                return self._values[key]
            if default is not None:
                return default
            return spec.default if spec is not None else None

    def set(self, key: str, value: SettingValue | None) -> None:
        """Change one value (None: back to the default); `save()` writes the file."""
        with self._lock:
            spec = self._schema.get(key)
            if spec is not None and spec.secret:
                self._set_secret(key, "" if value is None else str(value))
            elif value is None:
                self._values.pop(key, None)
            else:
                self._values[key] = _coerce(value, spec)

    def update(self, values: dict[str, SettingValue | None]) -> None:
        for key, value in values.items():
            self.set(key, value)

    def as_dict(self) -> dict[str, Any]:
        """Every declared setting's current value (secrets as given, for the dialog's fields)."""
        with self._lock:
            out = {key: self.get(key) for key in self._schema}
            out.update({k: v for k, v in self._values.items() if k not in out})
            return out

    @property
    def secrets_persist(self) -> bool:
        return _keyring() is not None and self.path is not None

    # -- files ---------------------------------------------------------------------------
    def _read(self) -> None:
        if self.path is None or not self.path.exists():
            return
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            if not isinstance(data, dict):
                raise ValueError("not a JSON object")
        except (OSError, ValueError) as exc:
            # A broken file must not stop the plugin: defaults apply, the file is kept for the user.
            self.load_error = f"Settings file {self.path} could not be read ({exc}); using defaults."
            log.warning(self.load_error)
            return
        self._values = {k: v for k, v in data.items() if not k.startswith("_")}

    def save(self) -> None:
        """Write the non-secret values atomically (a crash leaves the old file whole)."""
        if self.path is None:
            return
        with self._lock:
            values = {k: v for k, v in self._values.items() if not self._is_secret(k)}
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=self.path.name, suffix=".tmp")
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(values, f, indent=2, ensure_ascii=False, sort_keys=True)
            os.replace(tmp, self.path)

    # -- secrets -------------------------------------------------------------------------
    def _is_secret(self, key: str) -> bool:
        spec = self._schema.get(key)
        return spec is not None and spec.secret

    def _secret(self, key: str) -> str:
        if key in self._secrets:
            return self._secrets[key]
        ring = _keyring() if self.path is not None else None
        if ring is None:
            return ""
        try:
            return ring.get_password(KEYRING_SERVICE, f"{self.plugin}:{key}") or ""
        except Exception:  # a locked or absent backend just means "nothing stored"
            return ""

    def _set_secret(self, key: str, value: str) -> None:
        self._secrets[key] = value
        ring = _keyring() if self.path is not None else None
        if ring is None:
            return
        try:
            name = f"{self.plugin}:{key}"
            if value:
                ring.set_password(KEYRING_SERVICE, name, value)
            else:
                ring.delete_password(KEYRING_SERVICE, name)
        except Exception as exc:
            log.warning("Could not keep %s in the keyring (%s); it lasts for this run only.", key, exc)


def _coerce(value: SettingValue, spec: Setting | None) -> SettingValue:
    """Text typed in a field becomes the type the setting's default has."""
    if spec is None or not isinstance(value, str):
        return value
    kind = type(spec.default)
    try:
        if kind is bool:
            return value.strip().lower() in ("1", "true", "yes", "on")
        if kind is int:
            return int(value)
        if kind is float:
            return float(value)
    except ValueError:
        wanted = "a whole number" if kind is int else "a number"
        raise ValueError(f"setting '{spec.label}' must be {wanted}, not {value!r}") from None
    return value
