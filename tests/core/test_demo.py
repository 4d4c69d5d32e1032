"""The demo generator: reproducible, big enough to browse, and carrying its planted problems."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from memlens.core.demo import DemoData, generate_demo, load_scenario
from memlens.core.record import KINDS, MemoryRecord, Status


@pytest.fixture(scope="module")
def demo() -> DemoData:
    return generate_demo()


@pytest.fixture(scope="module")
def by_id(demo: DemoData) -> dict[str, MemoryRecord]:
    return {r.id: r for r in demo.records}


def words(text: str) -> set[str]:
    return set(re.findall(r"\w+", text.lower()))


def overlap(a: str, b: str) -> float:
    """Share of the shorter text's words that the other text also uses."""
    wa, wb = words(a), words(b)
    return len(wa & wb) / min(len(wa), len(wb))


def turns_text(record: MemoryRecord) -> str:
    return " ".join(t["text"] for t in record.source["turns"])


def test_deterministic() -> None:
    assert generate_demo() == generate_demo()
    assert generate_demo(seed=8).records != generate_demo(seed=7).records


def test_size_cast_and_span(demo: DemoData) -> None:
    records = demo.records
    assert 250 <= len(records) <= 450
    assert len({r.agent_id for r in records}) >= 2
    assert len({r.user_id for r in records}) >= 3
    times = [r.created_at for r in records]
    assert max(times) - min(times) >= timedelta(weeks=3)
    assert min(times) >= datetime(2026, 9, 1, 9, 0, tzinfo=UTC)


def test_start_is_honoured() -> None:
    start = datetime(2025, 1, 6, 8, 0, tzinfo=UTC)
    assert min(r.created_at for r in generate_demo(start=start).records) >= start


def test_record_fields(demo: DemoData) -> None:
    records = demo.records
    assert len({r.id for r in records}) == len(records)
    ids = {r.id for r in records}
    for r in records:
        assert r.kind in KINDS
        assert r.created_at.utcoffset() == timedelta(0)
        assert r.updated_at >= r.created_at
        assert r.session_id.startswith(f"s-{r.user_id}-")
        assert 1 <= len(r.tags) <= 3 and all(t == t.lower() for t in r.tags)
        assert 0.0 <= r.importance <= 1.0
        assert r.status in (Status.ACTIVE, Status.VERIFIED) and r.version == 1
        assert set(r.links) <= ids - {r.id}
    kinds = [r.kind for r in records]
    assert kinds.count("episodic") + kinds.count("semantic") > len(records) / 2
    assert any(r.links for r in records)
    assert any(r.extra for r in records)
    assert any(r.status is Status.VERIFIED for r in records)
    assert any(r.updated_at > r.created_at for r in records)


def test_every_record_has_source_turns(demo: DemoData) -> None:
    message_ids = []
    for r in demo.records:
        assert r.source["type"] == "conversation"
        assert r.source["turns"], r.id
        for turn in r.source["turns"]:
            assert turn["role"] in ("user", "assistant") and turn["text"]
            message_ids.append(turn["message_id"])
    assert len(set(message_ids)) == len(message_ids)


def test_planted_groups_reference_existing_ids(demo: DemoData, by_id) -> None:
    assert set(demo.planted) == {"duplicates", "contradictions", "hallucinations"}
    assert len(demo.planted["duplicates"]) >= 6
    assert len(demo.planted["contradictions"]) >= 2
    assert len(demo.planted["hallucinations"]) >= 4
    for kind, groups in demo.planted.items():
        for group in groups:
            assert all(i in by_id for i in group)
            assert len(group) == 1 if kind == "hallucinations" else len(group) >= 2


def test_near_duplicates_share_most_words(demo: DemoData, by_id) -> None:
    for group in demo.planted["duplicates"]:
        texts = [by_id[i].text for i in group]
        assert len(set(texts)) == len(texts)  # near, not exact
        assert len({by_id[i].session_id for i in group}) == len(group)
        for other in texts[1:]:
            assert overlap(texts[0], other) >= 0.6, (texts[0], other)


def test_contradictions_are_about_the_same_thing(demo: DemoData, by_id) -> None:
    for first, second in demo.planted["contradictions"]:
        a, b = by_id[first], by_id[second]
        assert a.user_id == b.user_id and a.text != b.text
        assert a.session_id != b.session_id
        assert overlap(a.text, b.text) >= 0.6


def test_hallucinations_are_unsupported_by_their_turns(demo: DemoData, by_id) -> None:
    scenario = load_scenario()
    facts = {f.get("key"): f for user in scenario["users"].values() for f in user["facts"]}
    planted_keys = scenario["planted"]["hallucinations"]
    for (record_id,), (key,) in zip(demo.planted["hallucinations"], planted_keys, strict=True):
        record = by_id[record_id]
        unsupported = facts[key]["unsupported"]
        assert unsupported
        for word in unsupported:
            pattern = rf"\b{re.escape(word)}\b"
            assert re.search(pattern, record.text, re.IGNORECASE), (word, record.text)
            assert not re.search(pattern, turns_text(record), re.IGNORECASE), (word, record.id)


def test_html_memory_exists(demo: DemoData) -> None:
    assert any("<script>" in r.text and "<b>" in r.text for r in demo.records)


def test_round_trip(demo: DemoData) -> None:
    for r in demo.records:
        assert MemoryRecord.from_dict(r.to_dict()) == r
