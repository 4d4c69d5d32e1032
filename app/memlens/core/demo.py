"""Deterministic demo data: a few hundred memories of a small cast, with planted problems.

The content (people, facts, the turns they were learned from, routine episodes and the
planted duplicates, contradictions and hallucinations) lives in resources/demo/scenario.json.
This module only schedules that content into sessions and turns it into MemoryRecords, so a
given seed always yields the same store and the demo can be compared run to run.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from memlens.core.record import KINDS, MemoryRecord, Status
from memlens.paths import RESOURCES

#: Fixed default so that screenshots, tests and bug reports all see the same timeline.
DEFAULT_START = datetime(2026, 9, 1, 9, 0, tzinfo=UTC)

# Agents rate lasting facts above day-to-day episodes; the generator jitters around these.
_BASE_IMPORTANCE = {
    "profile": 0.8,
    "preference": 0.65,
    "procedural": 0.7,
    "semantic": 0.55,
    "episodic": 0.3,
}


@dataclass(frozen=True)
class DemoData:
    records: list[MemoryRecord]
    #: "duplicates", "contradictions", "hallucinations" -> groups of record ids.
    planted: dict[str, list[list[str]]]


def load_scenario() -> dict[str, Any]:
    """The hand-written inputs of the generator (see resources/demo/scenario.json)."""
    return json.loads((RESOURCES / "demo" / "scenario.json").read_text(encoding="utf-8"))


def _fill(template: str, values: dict[str, str] | None) -> str:
    # Only routine templates have slots; hand-written facts may contain braces verbatim.
    return template.format_map(values) if values is not None else template


def _items(sc: dict[str, Any], user: dict[str, Any], rng: random.Random) -> list[dict[str, Any]]:
    """One user's memories in learning order: the facts as written, routine episodes mixed in."""
    slots = {**sc["slots"], **user.get("slots", {})}
    episodes = []
    for _ in range(user["episodes"]):
        agent = rng.choice(user["agents"])
        template = rng.choice(sc["routines"][agent])
        values = {name: rng.choice(options) for name, options in slots.items()}
        episodes.append({**template, "agent": agent, "kind": "episodic", "values": values})
    # Facts keep their order (the later half of a contradiction must come later);
    # episodes land anywhere in between.
    facts = user["facts"]
    keyed = [((i + 0.5) / len(facts), f) for i, f in enumerate(facts)]
    keyed += [(rng.random(), e) for e in episodes]
    return [item for _, item in sorted(keyed, key=lambda pair: pair[0])]


def _chunk(
    items: list[dict[str, Any]], group_of: dict[str, str], rng: random.Random
) -> list[list[dict[str, Any]]]:
    """Cut items into sessions of 1-4 memories; no session holds two members of a planted group,
    so a near-duplicate or contradiction always comes from a different conversation."""
    sessions: list[list[dict[str, Any]]] = []
    current: list[dict[str, Any]] = []
    seen: set[str] = set()
    size = rng.randint(1, 4)
    for item in items:
        group = group_of.get(item.get("key", ""))
        if current and (len(current) >= size or group in seen):
            sessions.append(current)
            current, seen, size = [], set(), rng.randint(1, 4)
        current.append(item)
        if group:
            seen.add(group)
    if current:
        sessions.append(current)
    return sessions


def generate_demo(seed: int = 7, start: datetime | None = None) -> DemoData:
    """Build the demo store. Same seed and start -> equal records, ids included."""
    rng = random.Random(seed)
    start = start or DEFAULT_START
    start = start.replace(tzinfo=UTC) if start.tzinfo is None else start.astimezone(UTC)
    sc = load_scenario()
    span_days = sc["weeks"] * 7
    midnight = start.replace(hour=0, minute=0, second=0, microsecond=0)
    group_of = {
        key: f"{kind}:{n}"
        for kind, groups in sc["planted"].items()
        for n, group in enumerate(groups)
        for key in group
    }

    drafts: list[dict[str, Any]] = []
    for user_id, user in sc["users"].items():
        items = _items(sc, user, rng)
        # Each agent's sessions keep their order; the user's agents interleave over the weeks.
        placed = []
        for agent in user["agents"]:
            chunks = _chunk([it for it in items if it["agent"] == agent], group_of, rng)
            placed += [((i + rng.random()) / len(chunks), agent, c) for i, c in enumerate(chunks)]
        placed.sort(key=lambda p: p[0])
        counters = dict.fromkeys(user["agents"], 0)
        previous = start - timedelta(hours=2)
        for position, agent, chunk in placed:
            day = midnight + timedelta(days=int(position * span_days))
            begin = day + timedelta(hours=rng.choice(user["hours_utc"]), minutes=rng.randint(0, 59))
            begin = max(begin, previous + timedelta(hours=2))  # one conversation at a time
            previous = begin
            counters[agent] += 1
            short = sc["agents"][agent]["short"]
            session_id = f"s-{user_id}-{short}-{counters[agent]:03d}"
            message = 0
            for j, item in enumerate(chunk):
                values = item.get("values")
                if values is not None:
                    date = f"{begin:%a} {begin.day} {begin:%b}"
                    values = {**values, "name": user["name"], "date": date}
                turns = []
                for role, said in item["turns"]:
                    message += 1
                    turns.append(
                        {
                            "role": role,
                            "text": _fill(said, values),
                            "message_id": f"{session_id}-m{message:02d}",
                        }
                    )
                kind = item.get("kind", "semantic")
                if kind not in KINDS:
                    raise ValueError(f"scenario: unknown kind {kind!r} in {item['text']!r}")
                created = begin + timedelta(minutes=4 * (j + 1) + rng.randint(0, 3))
                # A few memories were touched again later (re-confirmed or re-scored).
                updated = created
                if rng.random() < 0.06:
                    updated += timedelta(days=rng.randint(1, 9), hours=rng.randint(0, 12))
                # Some records carry keys MemLens does not know, as other tools' stores do.
                extra = {}
                if rng.random() < 0.15:
                    extra = {"app": "demo", "confidence": round(rng.uniform(0.55, 0.98), 2)}
                base = item.get("importance", _BASE_IMPORTANCE[kind])
                drafts.append(
                    {
                        "key": item.get("key"),
                        "link_keys": item.get("links", []),
                        "text": _fill(item["text"], values),
                        "kind": kind,
                        "user_id": user_id,
                        "agent_id": agent,
                        "session_id": session_id,
                        "created_at": created,
                        "updated_at": updated,
                        "source": {"type": "conversation", "turns": turns},
                        "importance": round(min(1.0, max(0.0, base + rng.uniform(-0.1, 0.1))), 2),
                        "tags": tuple(item["tags"]),
                        "status": Status(item.get("status", "active")),
                        "extra": extra,
                    }
                )

    # Ids follow time, so "demo-0001" is the oldest memory.
    drafts.sort(key=lambda d: (d["created_at"], d["session_id"]))
    ids: dict[str, str] = {}
    for n, draft in enumerate(drafts, 1):
        draft["id"] = f"demo-{n:04d}"
        if draft["key"]:
            ids[draft["key"]] = draft["id"]
    records = [
        MemoryRecord(
            **{k: v for k, v in d.items() if k not in ("key", "link_keys")},
            links=tuple(ids[key] for key in d["link_keys"]),
        )
        for d in drafts
    ]
    planted = {
        kind: [[ids[key] for key in group] for group in groups] for kind, groups in sc["planted"].items()
    }
    return DemoData(records=records, planted=planted)
