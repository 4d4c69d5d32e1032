"""Curation on real stores: each operation's store contents before, after, and after undo."""

from __future__ import annotations

import random
import re

import pytest

from fake_openai import FakeOpenAI
from memlens.core import bulk
from memlens.core.chroma_store import ChromaBackend
from memlens.core.conflicts import find_conflicts, supersede
from memlens.core.demo import generate_demo
from memlens.core.demo_store import ensure_demo_store
from memlens.core.dismissals import Dismissals
from memlens.core.duplicates import DEFAULT_THRESHOLD, DuplicateFinder
from memlens.core.importers.locomo import read_locomo
from memlens.core.llm import LLM, LLMConfig, LLMError
from memlens.core.merge import merge
from memlens.core.record import MemoryRecord, Status
from memlens.core.review import decide, review_queue
from memlens.core.support import support_scores

PLANTED = generate_demo().planted


@pytest.fixture
def demo(store_dir, embedder):
    return ensure_demo_store(ChromaBackend.open_path(store_dir), embedder)


def stored(service, mid):
    got = service.store.get([mid])
    return got[0].record if got else None


def test_merge_archives_sources_keeps_provenance_and_repoints_links(service):
    service.add(
        [
            MemoryRecord(id="a", text="Alice is vegetarian.", user_id="alice", tags=("diet",)),
            MemoryRecord(id="b", text="Alice follows a vegetarian diet.", user_id="alice", tags=("food",)),
            MemoryRecord(id="c", text="Cook without meat for Alice.", user_id="alice", links=("a",)),
        ]
    )
    before = {m: stored(service, m) for m in "abc"}
    change, merged = merge(
        service, ["a", "b"], text="Alice is vegetarian and eats no meat.", reason="same fact"
    )
    assert merged.source["merged_from"] == ["a", "b"]
    assert merged.tags == ("diet", "food") and merged.user_id == "alice"
    assert merged.created_at == min(before["a"].created_at, before["b"].created_at)
    assert stored(service, "a").status == stored(service, "b").status == Status.ARCHIVED
    assert stored(service, "c").links == (merged.id,)
    assert service.semantic_search("meat-free diet", k=1)[0].record.id == merged.id
    assert change.label == "Merge 2 memories"

    service.undo()
    assert stored(service, merged.id) is None
    assert {m: stored(service, m) for m in "abc"} == before


def test_planted_duplicates_are_found_and_dismissals_remembered(demo, make_service):
    finder = DuplicateFinder(demo)
    clusters = [set(c.ids) for c in finder.clusters(DEFAULT_THRESHOLD)]
    for group in PLANTED["duplicates"]:
        assert any(set(group) <= c for c in clusters), group
    loose, strict = finder.preview(0.75), finder.preview(0.95)
    assert loose[1] > strict[1]  # more memories in clusters at a lower threshold

    dismissals = Dismissals(demo.journal.path, demo.store.collection)
    first = PLANTED["duplicates"][0]
    dismissals.dismiss("duplicate", first)
    reopened = Dismissals(make_service("demo").journal.path, "demo")
    remaining = [set(c.ids) for c in finder.clusters(DEFAULT_THRESHOLD, reopened.pairs("duplicate"))]
    assert not any(set(first) <= c for c in remaining)


def test_planted_contradictions_are_found_and_superseding_undoes(demo):
    conflicts = find_conflicts(demo)
    found = {frozenset((c.a, c.b)) for c in conflicts}
    for group in PLANTED["contradictions"]:
        assert frozenset(group) in found, group
    top = {frozenset((c.a, c.b)) for c in conflicts[: len(PLANTED["contradictions"])]}
    assert top == {frozenset(g) for g in PLANTED["contradictions"]}  # the strongest candidates

    maya = next(c for c in conflicts if {c.a, c.b} == set(PLANTED["contradictions"][0]))
    supersede(demo, maya.a, maya.b)
    assert stored(demo, maya.a).valid_to == demo.get(maya.b).created_at
    assert frozenset((maya.a, maya.b)) not in {frozenset((c.a, c.b)) for c in find_conflicts(demo)}
    demo.undo()
    assert stored(demo, maya.a).valid_to is None


def test_planted_hallucinations_lead_the_review_queue(demo):
    queue = review_queue(demo)
    weak = [s.record.id for s in queue if s.origin == "weak support"]
    for (mid,) in PLANTED["hallucinations"]:
        assert mid in weak[:10], (mid, weak[:10])
    assert all(s.support.score < 0.35 for s in queue if s.origin == "weak support")


def test_flags_from_users_and_plugins_join_the_queue_first(demo):
    demo.set_status(["demo-0001"], Status.FLAGGED, actor="plugin:fact-checker", reason="no source found")
    demo.set_status(["demo-0002"], Status.FLAGGED, reason="looks wrong")
    queue = review_queue(demo)
    assert [(s.record.id, s.origin) for s in queue[:2]] == [
        ("demo-0001", "plugin flag"),
        ("demo-0002", "user flag"),
    ]
    assert queue[0].why == "flagged by fact-checker: no source found"


def test_triage_decisions_are_journaled_with_reasons_and_undo(demo):
    (bad,) = PLANTED["hallucinations"][0]
    original = stored(demo, bad)
    decide(demo, bad, "archive", reason="the turns never mention it")
    assert stored(demo, bad).status == Status.ARCHIVED
    demo.undo()
    assert stored(demo, bad) == original
    decide(demo, bad, "edit", text="Alice would like to visit Japan someday.")
    decide(demo, "demo-0002", "verify")
    decide(demo, "demo-0003", "skip", reason="not sure yet")
    assert [h.op for h in demo.history("demo-0003")][-1] == "review-skip"
    assert demo.history("demo-0003")[-1].reason == "not sure yet"
    assert stored(demo, "demo-0003") == demo.history("demo-0003")[-1].after
    assert stored(demo, bad).text == "Alice would like to visit Japan someday."


def test_bulk_change_previews_exactly_and_is_one_undo_step(demo):
    ids = demo.select()[:5]
    already = demo.get(ids[0])
    demo.edit(ids[0], tags=(*already.tags, "reviewed"))
    before = {m: stored(demo, m) for m in ids}
    change = bulk.BulkChange(add_tags=("reviewed",), user_id="erin")
    pairs = bulk.preview(demo, ids, change)
    assert len(pairs) == 5
    assert all(after.user_id == "erin" and "reviewed" in after.tags for _, after in pairs)
    bulk.apply(demo, ids, change, reason="moved to Erin's account")
    assert all(stored(demo, m).user_id == "erin" for m in ids)
    demo.undo()
    assert {m: stored(demo, m) for m in ids} == {m: before[m] for m in ids}

    bulk.apply(demo, ids, bulk.BulkChange(status=Status.DELETED))
    assert all(stored(demo, m).status == Status.DELETED for m in ids)
    assert demo.history(ids[0])[-1].label == "Bulk delete (5 memories)"


def corrupt(records, rate=0.15, seed=3):
    """Change a name, number or place in a copy of some memories (their turns stay)."""
    rng = random.Random(seed)
    invented = ["Priya", "Jonas", "Tokyo", "Oslo", "Marcus"]
    out, bad = [], set()
    for r in records:
        if rng.random() >= rate:
            out.append(r)
            continue
        text = r.text
        numbers = re.findall(r"\d+", text)
        names = re.findall(r"\b[A-Z][a-z]+\b", text)[1:]
        if numbers:
            text = text.replace(numbers[0], str(int(numbers[0]) + 7), 1)
        elif names:
            text = text.replace(names[0], rng.choice(invented), 1)
        else:
            text += " in " + rng.choice(["Tokyo", "Oslo"])
        out.append(r.replace(text=text))
        bad.add(r.id)
    return out, bad


def test_support_score_ranks_corrupted_locomo_observations_as_suspects(shared_data, embedder):
    records = read_locomo(shared_data / "locomo" / "locomo10.json", {"conv-26", "conv-30"}).records
    mixed, bad = corrupt(records)
    ranked = sorted(support_scores(mixed, embedder), key=lambda s: s.score)
    k = len(bad)
    precision_at_k = sum(s.memory_id in bad for s in ranked[:k]) / k
    precision_at_10 = sum(s.memory_id in bad for s in ranked[:10]) / 10
    print(f"\nLoCoMo support score: {len(mixed)} observations, {k} corrupted, "
          f"precision@{k} = {precision_at_k:.2f}, precision@10 = {precision_at_10:.2f}")  # fmt: skip
    assert precision_at_k >= 0.55  # chance is k/n = 0.15
    assert precision_at_10 >= 0.9


def test_language_model_paths_against_a_local_server():
    def reply(messages):
        user = messages[-1]["content"]
        if "Memories:" in user:
            return "Alice is vegetarian and eats no meat."
        if user.startswith("A:"):
            return '{"contradiction": true, "reason": "7 is not 9"}'
        return '{"supported": false, "reason": "Tokyo is never mentioned"}'

    with FakeOpenAI(reply) as server:
        llm = LLM(LLMConfig(base_url=server.base_url, model="test-model", api_key="sk-test"))
        assert llm.suggest_merge(["Alice is vegetarian.", "Alice eats no meat."]) == (
            "Alice is vegetarian and eats no meat."
        )
        assert llm.judge_conflict("Maya is 7.", "Maya is 9.") == (True, "7 is not 9")
        assert llm.judge_support("Alice flew to Tokyo.", ["I might visit Japan"]) == (
            False,
            "Tokyo is never mentioned",
        )
        assert server.requests[0]["body"]["model"] == "test-model"
        assert server.requests[0]["auth"] == "Bearer sk-test"
        server.status = 500
        with pytest.raises(LLMError, match="could not be asked"):
            llm.suggest_merge(["x", "y"])


def test_unreachable_model_gives_a_clear_error():
    llm = LLM(LLMConfig(base_url="http://127.0.0.1:9/v1", timeout=2))
    with pytest.raises(LLMError, match=r"at http://127\.0\.0\.1:9/v1 could not be asked"):
        llm.judge_conflict("a", "b")


def test_key_comes_from_the_environment_not_a_file(monkeypatch, tmp_path):
    monkeypatch.setenv("MEMLENS_LLM_API_KEY", "sk-from-env")
    monkeypatch.setenv("MEMLENS_LLM_BASE_URL", "http://127.0.0.1:1/v1")
    config = LLMConfig.from_env()
    assert config.api_key == "sk-from-env" and config.configured
    assert not any("sk-from-env" in p.read_text(errors="ignore") for p in tmp_path.rglob("*") if p.is_file())
