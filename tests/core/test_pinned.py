"""Pinned queries: saved with what they must and must not return, re-run after curation,
reported per query (and by `memlens check-queries` with its exit code)."""

from __future__ import annotations

import pytest

from memlens.core.pinned import PinnedQuery, PinnedStore, check_pinned
from memlens.core.query import Filter
from memlens.core.record import Status
from tests_support import run_cli


def test_pinned_queries_pass_then_fail_after_curation_with_the_cause(seeded, make_service):
    pins = PinnedStore(seeded.traces.path)
    pins.add(PinnedQuery("food allergy", must=("m1",), must_not=("m4",), k=2, collection="memories"))
    pins.add(
        PinnedQuery("Where does Bob live?", must=("m4",), k=1, filter=Filter(users=frozenset({"bob"})),
                    collection="memories")
    )  # fmt: skip

    results = check_pinned(seeded, PinnedStore(seeded.traces.path).all("memories"))
    assert [r.passed for r in results] == [True, True]
    assert results[0].line() == "PASS  'food allergy' (k=2): 1 required returned, 1 forbidden kept out"
    assert results[1].pinned.filter == Filter(users=frozenset({"bob"}))

    seeded.delete(["m1"])
    seeded.edit("m4", text="Bob is allergic to food colouring.")
    seeded.edit("m3", text="Bob now lives in Porto.")
    reopened = make_service()
    allergy, bob = check_pinned(reopened, PinnedStore(reopened.traces.path).all("memories"))
    assert not allergy.passed and allergy.missing == ("m1",) and allergy.unexpected == ("m4",)
    assert allergy.why["m1"].cause == "status"
    line = allergy.line()
    assert line.startswith("FAIL  'food allergy' (k=2): missing m1 [status: ")
    assert "unexpected m4 at rank" in line
    assert not bob.passed and bob.missing == ("m4",) and bob.why["m4"].cause == "beyond_k"
    # Each run is a trace, so the failing retrieval can be opened in the debugger.
    latest = reopened.traces.find(origin="cli", limit=2)
    assert [t.query for t in latest] == ["Where does Bob live?", "food allergy"]
    assert latest[1].id == allergy.trace.id and "m4" in latest[1].ids


def test_pinned_queries_are_per_collection_and_can_be_removed(tmp_path):
    pins = PinnedStore(tmp_path / "t.sqlite3")
    a = pins.add(PinnedQuery("q1", must=("m1",), collection="memories"))
    pins.add(PinnedQuery("q2", must_not=("m9",), collection="other"))
    assert [p.query for p in pins.all("memories")] == ["q1"]
    assert [p.query for p in PinnedStore(tmp_path / "t.sqlite3").all()] == ["q1", "q2"]
    assert pins.remove(a.id) and not pins.remove(a.id)
    assert [p.query for p in pins.all()] == ["q2"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"query": " "}, "needs query text"),
        ({"must": ()}, "at least one memory"),
        ({"must": ("m1",), "must_not": ("m1",)}, "'m1' cannot be both"),
        ({"must": ("a", "b", "c"), "k": 2}, "k is only 2"),
    ],
)
def test_contradictory_pins_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        PinnedQuery(**({"query": "q"} | kwargs))


def test_pin_and_check_queries_commands(seeded, store_dir, capsys):
    store = ["--store", str(store_dir)]
    code, out, _ = run_cli(
        capsys, "pin", "food allergy", "--must", "m1", "--must-not", "m4", "--k", "2", *store
    )
    assert code == 0 and out.startswith("Pinned 'food allergy' (k=2) in 'memories': must return m1; must not")
    code, out, _ = run_cli(capsys, "pin", "violin", "--must", "m2", "--user", "alice", "--k", "1", *store)
    assert code == 0

    code, out, err = run_cli(capsys, "check-queries", *store)
    assert code == 0
    assert [line.split()[0] for line in out.splitlines()] == ["PASS", "PASS"]
    assert "2 passed, 0 failed." in err

    seeded.set_status(["m2"], Status.ARCHIVED)
    code, out, err = run_cli(capsys, "check-queries", *store)
    assert code == 1
    lines = out.splitlines()
    assert lines[0].startswith("PASS  'food allergy'")
    assert lines[1].startswith(
        "FAIL  'violin' (k=1): missing m2 [status: Kept out by its status: it is archived"
    )
    assert "1 passed, 1 failed." in err

    code, out, _ = run_cli(capsys, "traces", "--origin", "cli", *store)
    assert len(out.splitlines()) == 4  # two checks, two queries each

    code, out, err = run_cli(capsys, "pin", "q", "--must", "nope", *store)
    assert code == 1 and out == ""
    assert err.strip() == "memlens: No memory with id 'nope' in 'memories'; nothing was pinned."
    code, _, err = run_cli(capsys, "pin", "q", "--must", "m1", "--must-not", "m1", *store)
    assert code == 1 and "cannot be both required and forbidden" in err
    code, _, err = run_cli(capsys, "pin", "q", "--must", "m3", "--user", "alice", *store)
    assert code == 1
    assert (
        "m3 can never be returned with this filter: its user_id is 'bob' but the filter wants {'alice'}"
        in err
    )


def test_check_queries_with_nothing_pinned_passes(seeded, store_dir, capsys):
    code, out, err = run_cli(capsys, "check-queries", "--store", str(store_dir))
    assert code == 0 and out == "" and "No pinned queries for 'memories'" in err
