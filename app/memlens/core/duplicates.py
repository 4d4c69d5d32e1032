"""Near-duplicate memories: pairs above a similarity threshold, grouped into clusters, and
"keep one" (the others archived, links re-pointed to the one kept).

Pairs that disagree (other numbers or dates, one says not, other names: see
`conflicts.disagreement`) are left out: they are different facts or a conflict, not the
same one said twice. Neighbours come from the vector index once, at a low floor; moving
the threshold then only regroups those pairs in memory, so the GUI can preview counts as
a slider moves.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from memlens.core.conflicts import disagreement
from memlens.core.graph import semantic_pairs
from memlens.core.merge import curation_problem, repointed_links
from memlens.core.query import Filter
from memlens.core.record import HIDDEN_STATUSES, Status
from memlens.core.service import Change, MemoryService

DEFAULT_THRESHOLD = 0.85
FLOOR = 0.7


@dataclass(frozen=True)
class Cluster:
    ids: tuple[str, ...]
    similarity: float  # the strongest pair in the cluster


class DuplicateFinder:
    def __init__(
        self,
        service: MemoryService,
        ids: Sequence[str] | None = None,
        floor: float = FLOOR,
        k: int = 6,
        progress: Callable[[int, int], None] | None = None,
    ) -> None:
        self.service = service
        self.ids = list(ids) if ids is not None else service.select(Filter())
        found = semantic_pairs(service.store, self.ids, k, floor, progress)
        pairs = []
        for i, j, sim in found:
            a, b = service.get(self.ids[i]), service.get(self.ids[j])
            # "Ran 5 km" / "ran 8 km", "lives in Lisbon" / "in Porto": two facts, not one said twice.
            if a is not None and b is not None and not disagreement(a, b):
                pairs.append((a.id, b.id, sim))
        self.pairs = sorted(pairs, key=lambda p: -p[2])

    def _current(self, memory_id: str) -> bool:
        """Still a listed memory: a merge archives its sources after the pairs were found."""
        r = self.service.get(memory_id)
        return r is not None and r.status not in HIDDEN_STATUSES

    def clusters(
        self, threshold: float = DEFAULT_THRESHOLD, dismissed: set[frozenset[str]] = frozenset()
    ) -> list[Cluster]:
        parent: dict[str, str] = {}

        def root(x: str) -> str:
            while parent.get(x, x) != x:
                parent[x] = parent.get(parent[x], parent[x])
                x = parent[x]
            return x

        best: dict[str, float] = {}
        for a, b, sim in self.pairs:
            if sim < threshold or frozenset((a, b)) in dismissed:
                continue
            if not (self._current(a) and self._current(b)):
                continue
            ra, rb = root(a), root(b)
            if ra != rb:
                parent[ra] = rb
            best[a] = max(best.get(a, 0.0), sim)
            best[b] = max(best.get(b, 0.0), sim)
        groups: dict[str, list[str]] = {}
        for node in best:
            groups.setdefault(root(node), []).append(node)
        clusters = [Cluster(tuple(sorted(g)), max(best[m] for m in g)) for g in groups.values() if len(g) > 1]
        return sorted(clusters, key=lambda c: (-len(c.ids), -c.similarity, c.ids))

    def preview(self, threshold: float, dismissed: set[frozenset[str]] = frozenset()) -> tuple[int, int]:
        """(clusters, memories in them) at `threshold`, for a live count beside the slider."""
        clusters = self.clusters(threshold, dismissed)
        return len(clusters), sum(len(c.ids) for c in clusters)


class KeepOneRefused(ValueError):
    """What is wrong with a "keep one" asked for, in words for the user."""


def keep_one(
    service: MemoryService,
    keep: str,
    others: Sequence[str],
    actor: str = "user",
    reason: str | None = None,
) -> Change:
    """Keep `keep` and archive `others` (restorable from the Trash), as one undo step.

    Links that pointed at the archived ones point at the kept memory instead, as after a merge.
    """
    if not others:
        raise KeepOneRefused("Keep one needs the memory to keep and at least one other to archive.")
    problem = curation_problem(service, [keep, *others], "kept or archived as duplicates")
    if problem:
        raise KeepOneRefused(problem)
    archived = [r.replace(status=Status.ARCHIVED) for r in service.records(others)]
    changed = archived + repointed_links(service, set(others), keep)
    label = f"Keep 1 of {len(others) + 1} memories"
    return service.apply_records(changed, actor, reason or f"duplicates of {keep}", label=label)
