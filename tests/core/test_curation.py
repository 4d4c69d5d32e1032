"""Curation on real stores: each operation's store contents before, after, and after undo."""

from __future__ import annotations

import json
import random
import re

import pytest

from fake_openai import FakeOpenAI
from memlens.core import bulk
from memlens.core.chroma_store import ChromaBackend
from memlens.core.conflicts import correct, disagreement, find_conflicts, recheck, supersede
from memlens.core.demo import generate_demo
from memlens.core.demo_store import ensure_demo_store
from memlens.core.dismissals import CONFLICT, DUPLICATE, Dismissals
from memlens.core.duplicates import DEFAULT_THRESHOLD, DuplicateFinder, KeepOneRefused, keep_one
from memlens.core.importers.locomo import read_locomo
from memlens.core.llm import LLM, LLMConfig, LLMError
from memlens.core.merge import MergeRefused, merge
from memlens.core.query import Filter
from memlens.core.record import MemoryRecord, Status
from memlens.core.review import SUSPECT_BELOW, decide, review_queue
from memlens.core.service import BlankText
from memlens.core.support import support_scores

PLANTED = generate_demo().planted


@pytest.fixture
def demo(store_dir, embedder):
    return ensure_demo_store(ChromaBackend.open_path(store_dir), embedder)


def stored(service, mid):
    got = service.store.get([mid])
    return got[0].record if got else None


def test_a_merge_of_a_trashed_missing_or_repeated_memory_is_refused_and_changes_nothing(service):
    service.add([MemoryRecord(id=m, text=f"Alice fact {m}") for m in "abc"])
    service.set_status(["c"], Status.DELETED)
    count = len(service.journal.groups(service.store.collection))
    asks = {
        ("a", "c"): "Only current memories can be merged: 'c' is deleted. Restore it from the Trash first.",
        ("a", "a", "b"): "'a' is named more than once.",
        ("a", "zz"): "No memory 'zz' in 'memories'.",
    }
    for ids, message in asks.items():
        with pytest.raises(MergeRefused, match=re.escape(message)):
            merge(service, list(ids))
    assert len(service.journal.groups(service.store.collection)) == count
    assert stored(service, "c").status == Status.DELETED


def test_a_blank_text_is_refused_by_merge_edit_and_add_and_changes_nothing(service):
    service.add([MemoryRecord(id=m, text=f"Alice fact {m}") for m in "ab"])
    count = len(service.journal.groups(service.store.collection))
    for attempt in (
        lambda: merge(service, ["a", "b"], text="   "),
        lambda: service.edit("a", text="\n"),
        lambda: service.add([MemoryRecord(id="c", text="")]),
    ):
        with pytest.raises(BlankText, match="A memory needs some text"):
            attempt()
    assert len(service.journal.groups(service.store.collection)) == count
    assert [stored(service, m).text for m in "ab"] == ["Alice fact a", "Alice fact b"]
    assert stored(service, "c") is None


def test_a_memory_stored_blank_by_another_writer_can_still_be_flagged(service):
    service.add([MemoryRecord(id="a", text="placeholder")])
    # As another library could leave it: the text emptied, the vector kept.
    service.store._col.update(ids=["a"], documents=[""], embeddings=service.store.embeddings(["a"]))
    service.sync_from_store(["a"])
    service.set_status(["a"], Status.FLAGGED, reason="empty")
    assert stored(service, "a").status == Status.FLAGGED and stored(service, "a").text == ""


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


def clusters_of(finder, threshold=DEFAULT_THRESHOLD, service=None):
    dismissed = Dismissals(service).pairs(DUPLICATE) if service is not None else frozenset()
    return [set(c.ids) for c in finder.clusters(threshold, dismissed)]


def test_planted_duplicates_are_found_and_count_with_the_threshold(demo):
    finder = DuplicateFinder(demo)
    clusters = clusters_of(finder)
    for group in PLANTED["duplicates"]:
        assert any(set(group) <= c for c in clusters), group
    loose, strict = finder.preview(0.75), finder.preview(0.95)
    assert loose[1] > strict[1]  # more memories in clusters at a lower threshold


def test_no_planted_contradiction_is_offered_as_a_duplicate(demo):
    finder = DuplicateFinder(demo)
    for threshold in (0.7, DEFAULT_THRESHOLD):
        clusters = clusters_of(finder, threshold)
        for a, b in PLANTED["contradictions"]:
            assert not any({a, b} <= c for c in clusters), (threshold, demo.get(a).text, demo.get(b).text)


def test_keeping_a_cluster_is_one_journaled_step_that_undoes(demo, make_service):
    first = PLANTED["duplicates"][0]
    finder = DuplicateFinder(demo)
    before = {m: stored(demo, m) for m in first}
    assert any(set(first) <= c for c in clusters_of(finder, service=demo))

    change = Dismissals(demo).dismiss(DUPLICATE, first, reason="two different trips")
    assert change.label == "Keep 2 memories as distinct" and set(change.ids) == set(first)
    assert not any(set(first) <= c for c in clusters_of(finder, service=demo))
    assert {m: stored(demo, m) for m in first} == before  # the memories themselves are untouched
    last = demo.history(first[0])[-1]
    assert (last.op, last.reason) == ("dismiss", "two different trips")
    reopened = make_service("demo")  # remembered: in the journal's file
    assert not any(set(first) <= c for c in clusters_of(finder, service=reopened))

    assert demo.undo().label == "Keep 2 memories as distinct"
    assert any(set(first) <= c for c in clusters_of(finder, service=demo))
    assert {m: stored(demo, m) for m in first} == before
    demo.redo()
    assert not any(set(first) <= c for c in clusters_of(finder, service=demo))


def test_keeping_both_sides_of_a_conflict_undoes(demo):
    pair = PLANTED["contradictions"][1]
    dismissals = Dismissals(demo)
    assert frozenset(pair) in {frozenset((c.a, c.b)) for c in find_conflicts(demo)}
    dismissals.dismiss(CONFLICT, pair)
    dismissed = dismissals.pairs(CONFLICT)
    assert dismissed == {frozenset(pair)} and dismissals.pairs(DUPLICATE) == set()
    assert frozenset(pair) not in {frozenset((c.a, c.b)) for c in find_conflicts(demo, dismissed=dismissed)}
    demo.undo()
    assert dismissals.pairs(CONFLICT) == set()


@pytest.mark.parametrize(
    ("x", "y", "reason"),
    [
        ("Maya is 7 years old.", "Maya is 9 years old.", "numbers differ: 7 vs 9"),
        ("The race is on 2026-10-18.", "The race is on 2026-10-25.",
         "dates differ: 2026-10-18 vs 2026-10-25"),
        ("Dan sees the dentist on 3/4.", "Dan sees the dentist on 3/5.", "dates differ: 3/4 vs 3/5"),
        ("Alice moves to Lyon in March.", "Alice moves to Lyon in June.", "dates differ: March vs June"),
        ("The half marathon is on 18 October.", "The half marathon is on October 25th.",
         "dates differ: October 18 vs October 25"),
        ("Bob's yoga class is on Tuesdays.", "Bob's yoga class is on Thursdays.",
         "dates differ: Tuesday vs Thursday"),
        ("Alice is allergic to penicillin.", "Alice is not allergic to penicillin.", "one says not"),
        ("Carol doesn't eat fish.", "Carol eats fish.", "one says not"),
        ("Carol lives in Lisbon.", "Carol lives in Porto.", "names differ: Lisbon vs Porto"),
    ],
)  # fmt: skip
def test_each_signal_of_a_disagreement(x, y, reason):
    assert disagreement(MemoryRecord(id="x", text=x), MemoryRecord(id="y", text=y)) == [reason]


@pytest.mark.parametrize(
    ("x", "y"),
    [
        ("Alice prefers a window seat.", "Alice always prefers a window seat on her flights."),
        ("Dan drinks five cups of coffee a day.", "Dan has about five cups of coffee every day."),
        ("May I remind Alice about the race?", "Alice's race is in June."),  # "May" is no month here
        ("Jan lives in Oslo.", "Jan has lived in Oslo since 2019."),  # a date on one side only
    ],
)
def test_no_disagreement_without_a_signal(x, y):
    assert disagreement(MemoryRecord(id="x", text=x), MemoryRecord(id="y", text=y)) == []


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
    assert all(s.support.score < SUSPECT_BELOW for s in queue if s.origin == "weak support")


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
    original = {m: stored(demo, m) for m in (bad, "demo-0002", "demo-0003")}
    decisions = [
        (bad, "archive", None, lambda r: r.status == Status.ARCHIVED),
        (
            bad,
            "edit",
            "Alice would like to visit Japan someday.",
            lambda r: r.text.endswith("Japan someday."),
        ),
        ("demo-0002", "verify", None, lambda r: r.status == Status.VERIFIED),
        ("demo-0003", "skip", None, lambda r: r == original["demo-0003"]),
    ]
    for mid, decision, text, after in decisions:
        decide(demo, mid, decision, reason=f"{decision}: checked the turns", text=text)
        assert after(stored(demo, mid)), decision
        last = demo.history(mid)[-1]
        assert last.reason == f"{decision}: checked the turns"
        demo.undo()
        assert stored(demo, mid) == original[mid], decision
    assert demo.history("demo-0003")[-1].op == "review-skip"
    with pytest.raises(ValueError, match="needs the corrected text"):
        decide(demo, bad, "edit")


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


def test_bulk_delete_is_journaled_as_a_delete_and_undoes(demo):
    ids = demo.select()[:5]
    before = {m: stored(demo, m) for m in ids}
    bulk.apply(demo, ids, bulk.BulkChange(status=Status.DELETED), reason="test data")
    assert all(stored(demo, m).status == Status.DELETED for m in ids)
    assert not set(ids) & set(demo.select())  # gone from the listing, in the trash
    last = demo.history(ids[0])[-1]
    assert (last.op, last.label, last.reason) == ("deleted", "Bulk delete (5 memories)", "test data")
    demo.undo()
    assert {m: stored(demo, m) for m in ids} == before
    assert set(ids) <= set(demo.select())


def test_bulk_on_a_filter_changes_exactly_what_it_lists(demo):
    bob = demo.select(Filter(users=frozenset({"bob"})))
    others = [m for m in demo.select_all() if m not in bob]
    before = {m: stored(demo, m) for m in demo.select_all()}
    bulk.apply(demo, bob, bulk.BulkChange(add_tags=("bob-audit",), status=Status.ARCHIVED))
    assert all(stored(demo, m).status == Status.ARCHIVED and "bob-audit" in stored(demo, m).tags for m in bob)
    assert {m: stored(demo, m) for m in others} == {m: before[m] for m in others}
    assert demo.history(bob[0])[-1].op == "archived"
    demo.undo()
    assert {m: stored(demo, m) for m in demo.select_all()} == before


def test_restore_and_purge_undo(demo):
    victim = demo.select()[0]
    original = stored(demo, victim)
    demo.delete([victim])
    deleted = stored(demo, victim)
    demo.restore([victim])
    assert stored(demo, victim).status == Status.ACTIVE
    demo.undo()  # the restore
    assert stored(demo, victim) == deleted
    demo.purge([victim])
    assert stored(demo, victim) is None and demo.get(victim) is None
    assert demo.history(victim)[-1].op == "purge"
    demo.undo()  # the purge: back, vector included
    assert stored(demo, victim) == deleted
    assert victim in demo.select(Filter(statuses=frozenset({Status.DELETED})))
    demo.undo()  # the delete
    assert stored(demo, victim) == original
    assert demo.semantic_search(original.text, k=1)[0].record.id == victim


NUMBER_SWAPS = {
    "one": "four",
    "two": "six",
    "three": "eight",
    "four": "two",
    "five": "nine",
    "seven": "three",
    "first": "third",
    "second": "fifth",
    "third": "first",
}
PLACE_SWAPS = {
    "studio": "warehouse",
    "store": "bank",
    "home": "hotel",
    "parade": "funeral",
    "center": "casino",
    "conference": "wedding",
    "beach": "airport",
    "library": "nightclub",
    "lake": "desert",
    "school": "prison",
    "sweden": "Argentina",
    "mountains": "suburbs",
    "museum": "stadium",
    "concert": "court hearing",
    "park": "car park",
    "forest": "shopping mall",
    "festival": "trial",
    "paris": "Cairo",
    "gym": "pub",
}
INVENTED = ["Priya", "Jonas", "Marcus", "Ingrid", "Tomasz"]


def _swap_number(text: str) -> str | None:
    for match in re.finditer(r"\b(\d+|" + "|".join(NUMBER_SWAPS) + r")\b", text, re.I):
        word = match.group(0)
        new = str(int(word) + 7) if word.isdigit() else NUMBER_SWAPS[word.lower()]
        return text[: match.start()] + new + text[match.end() :]
    return None


def _swap_place(text: str) -> str | None:
    for match in re.finditer(r"\b(" + "|".join(PLACE_SWAPS) + r")\b", text, re.I):
        return text[: match.start()] + PLACE_SWAPS[match.group(0).lower()] + text[match.end() :]
    return None


def _swap_name(text: str, rng: random.Random) -> str | None:
    names = [n for n in re.findall(r"\b[A-Z][a-z]{2,}\b", text) if n.lower() not in PLACE_SWAPS]
    speakers = [n for n in names if n not in ("The", "She", "Her", "His", "They", "LGBTQ")]
    if not speakers:
        return None
    return text.replace(speakers[0], rng.choice(INVENTED))


def corrupt(records, rate=0.15, seed=3):
    """Change a number, a place or a name inside a copy of some memories, as a model that
    misremembers would (their source turns stay as they were). Numbers and places are
    rarer than names in LoCoMo's observations: up to 8 and 15 are taken, names fill the rest."""
    rng = random.Random(seed)
    order = list(range(len(records)))
    rng.shuffle(order)
    total = round(rate * len(records))
    chosen: dict[int, tuple[str, str]] = {}
    for kind, swap, quota in (
        ("number", _swap_number, 8),
        ("place", _swap_place, 15),
        ("name", lambda text: _swap_name(text, rng), total),
    ):
        taken = 0
        for i in order:
            if taken >= quota or len(chosen) >= total:
                break
            new = None if i in chosen else swap(records[i].text)
            if new is not None and new != records[i].text:
                chosen[i] = (kind, new)
                taken += 1
    out = [r.replace(text=chosen[i][1]) if i in chosen else r for i, r in enumerate(records)]
    return out, {records[i].id: kind for i, (kind, _) in chosen.items()}


def test_support_score_ranks_corrupted_locomo_observations_as_suspects(shared_data, embedder):
    records = read_locomo(shared_data / "locomo" / "locomo10.json", {"conv-26", "conv-30"}).records
    mixed, kinds = corrupt(records)
    ranked = sorted(support_scores(mixed, embedder), key=lambda s: s.score)
    k = len(kinds)
    top = {s.memory_id for s in ranked[:k]}
    precision_at_k = len(top & set(kinds)) / k
    precision_at_10 = sum(s.memory_id in kinds for s in ranked[:10]) / 10
    found = {kind: (sum(kinds[m] == kind for m in top & set(kinds)), list(kinds.values()).count(kind))
             for kind in ("name", "number", "place")}  # fmt: skip
    print(f"\nLoCoMo support score: {len(mixed)} observations, {k} corrupted, "
          f"precision@{k} = {precision_at_k:.2f}, precision@10 = {precision_at_10:.2f}; in the top {k}: "
          + ", ".join(f"{kind}s {a} of {b}" for kind, (a, b) in found.items()))  # fmt: skip
    assert all(b >= 5 for _, b in found.values()), found  # every kind of corruption is tried
    assert precision_at_k >= 0.5  # chance is k/n = 0.15
    assert precision_at_10 >= 0.8
    assert found["name"][0] >= 0.6 * found["name"][1]  # a swapped name is the plainest tell


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


def test_key_comes_from_the_environment_when_none_is_kept(monkeypatch):
    monkeypatch.setenv("MEMLENS_LLM_API_KEY", "sk-from-env")
    monkeypatch.setenv("MEMLENS_LLM_BASE_URL", "http://127.0.0.1:1/v1")
    monkeypatch.setattr("memlens.core.llm._keyring_key", lambda: None)  # not the desktop's keyring
    config = LLMConfig.current()
    assert (
        config.api_key == "sk-from-env" and config.base_url == "http://127.0.0.1:1/v1" and config.configured
    )


def told(mid, text, turns=(), **kw):
    """A memory extracted from the user's `turns`."""
    source = {"turns": [{"role": "user", "text": t} for t in turns]} if turns else {}
    return MemoryRecord(id=mid, text=text, user_id="alice", kind="semantic", source=source, **kw)


def test_model_judges_the_review_queue_and_conflicts(service):
    service.add(
        [
            told("tokyo", "Alice booked a flight to Tokyo.", ["I might visit Japan someday."]),
            told("fish", "Alice is allergic to shellfish.", ["We had a lovely seafood dinner."]),
            told("lisbon", "Alice lives in Lisbon.", ["I'm based in Lisbon, flights from LIS please."]),
            told("porto", "Alice lives in Porto."),
            told("maya7", "Alice's daughter Maya is 7 years old."),
            told("maya9", "Alice's daughter Maya is 9 years old."),
        ]
    )

    def reply(messages):
        user = messages[-1]["content"]
        if user.startswith("Memory:"):
            ok = "Tokyo" in user
            return json.dumps({"supported": ok, "reason": "the turns say so" if ok else "not in the turns"})
        calm = "Porto" in user
        return json.dumps({"contradiction": not calm, "reason": "a visit" if calm else "both can't hold"})

    with FakeOpenAI(reply) as server:
        llm = LLM(LLMConfig(base_url=server.base_url, model="judge"))
        assert {s.record.id for s in review_queue(service)} == {"tokyo", "fish"}
        judged = review_queue(service, judge=llm.supports)
        assert [(s.record.id, s.why.split("; model: ")[-1]) for s in judged] == [("fish", "not in the turns")]
        asked = [r["body"]["messages"][-1]["content"] for r in server.requests]
        assert len(asked) == 2 and "Turns:\n- We had a lovely seafood dinner." in asked[1] + asked[0]
        assert server.requests[0]["body"]["model"] == "judge"

        assert {frozenset((c.a, c.b)) for c in find_conflicts(service)} >= {
            frozenset(("lisbon", "porto")),
            frozenset(("maya7", "maya9")),
        }
        server.requests.clear()
        conflicts = find_conflicts(service, judge=llm.contradicts)
        assert [(c.a, c.b) for c in conflicts if "maya7" in (c.a, c.b)] in (
            [("maya7", "maya9")],
            [("maya9", "maya7")],
        )
        assert not any({c.a, c.b} == {"lisbon", "porto"} for c in conflicts)
        assert all(c.reasons[-1] == "model: both can't hold" for c in conflicts)
        assert any("Porto" in r["body"]["messages"][-1]["content"] for r in server.requests)

        server.status = 500
        with pytest.raises(LLMError, match="could not be asked"):
            find_conflicts(service, judge=llm.contradicts)


def test_keep_one_archives_the_others_repoints_links_and_undoes(demo):
    keep, *others = PLANTED["duplicates"][2]
    demo.add([MemoryRecord(id="note", text="Ask Bob about his shifts.", links=(others[0], keep))])
    before = {m: stored(demo, m) for m in [keep, *others, "note"]}
    change = keep_one(demo, keep, others, reason="one is enough")
    assert change.label == f"Keep 1 of {len(others) + 1} memories"
    assert stored(demo, keep) == before[keep]
    assert all(stored(demo, m).status == Status.ARCHIVED for m in others)
    assert stored(demo, "note").links == (keep,)  # re-pointed, and not twice
    assert not any(keep in c for c in clusters_of(DuplicateFinder(demo)))
    assert demo.history(others[0])[-1].reason == "one is enough"

    assert demo.undo().label == change.label
    assert {m: stored(demo, m) for m in before} == before
    for keep_, others_, problem in ((keep, [], "at least one other"), (keep, [keep], "named more than once")):
        with pytest.raises(KeepOneRefused, match=problem):
            keep_one(demo, keep_, others_)


def test_a_conflict_corrected_by_editing_is_resolved_once_it_no_longer_disagrees(demo):
    lisbon = next(c for c in find_conflicts(demo) if {c.a, c.b} == set(PLANTED["contradictions"][1]))
    before = {m: stored(demo, m) for m in (lisbon.a, lisbon.b)}
    older = before[lisbon.a].text
    assert recheck(demo, lisbon) == lisbon

    change = correct(demo, {lisbon.a: older.replace("Lisbon", "Madrid"), lisbon.b: before[lisbon.b].text})
    assert change.label == "Correct 1 memory" and change.ids == (lisbon.a,)
    assert recheck(demo, lisbon).reasons == ("names differ: Madrid vs Porto",)  # still disagrees
    correct(demo, {lisbon.a: before[lisbon.b].text})
    assert recheck(demo, lisbon) is None
    assert demo.history(lisbon.a)[-1].reason == "corrected a conflict"

    demo.undo()
    demo.undo()
    assert {m: stored(demo, m) for m in before} == before and recheck(demo, lisbon) == lisbon
    with pytest.raises(BlankText):
        correct(demo, {lisbon.a: "  "})
