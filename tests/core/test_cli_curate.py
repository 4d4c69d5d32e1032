"""Curation from the command line, in-process (as the console script runs it), on the demo
store: each command's store contents before, after, and after `memlens undo`."""

from __future__ import annotations

import itertools
import json
import re

import pytest

from fake_openai import FakeOpenAI
from memlens.cli_curate import COMMANDS
from memlens.core.chroma_store import ChromaBackend
from memlens.core.demo import generate_demo
from memlens.core.demo_store import DEMO_COLLECTION, ensure_demo_store
from memlens.core.record import MemoryRecord, Status
from tests_support import run_cli

PLANTED = generate_demo().planted
NURSE = PLANTED["duplicates"][2]
MAYA = PLANTED["contradictions"][0]


@pytest.fixture
def demo(store_dir, embedder):
    return ensure_demo_store(ChromaBackend.open_path(store_dir), embedder)


@pytest.fixture
def cli(capsys, store_dir, demo):
    """`memlens ARGS --store … --collection demo`: (exit code, stdout, stderr)."""
    return lambda *args: run_cli(capsys, *args, "--store", str(store_dir), "--collection", DEMO_COLLECTION)


def stored(make_service, mid):
    """What a fresh open of the collection holds (the CLI wrote it in its own service)."""
    return make_service(DEMO_COLLECTION).get(mid)


def conflict_pairs(out: str) -> set[frozenset[str]]:
    """The (older, newer) pairs `memlens conflicts` lists."""
    lines = out.splitlines()
    return {
        frozenset((a.split()[0], b.split()[0]))
        for a, b in itertools.pairwise(lines)
        if a.endswith("(older)") and b.endswith("(newer)")
    }


def test_every_curation_command_has_help(capsys):
    for command in COMMANDS:
        with pytest.raises(SystemExit) as done:
            run_cli(capsys, command, "--help")
        out = capsys.readouterr().out
        assert done.value.code == 0 and "--store" in out, command
    assert {
        "flag",
        "verify",
        "archive",
        "purge",
        "trash",
        "redo",
        "duplicates",
        "conflicts",
        "review",
        "bulk",
    } <= set(COMMANDS)


def test_status_commands_trash_purge_undo_and_redo(cli, make_service):
    mid = "demo-0005"
    original = stored(make_service, mid)
    assert cli("flag", mid, "--reason", "odd")[:2] == (0, "Flag 1 memory in 'demo'.\n")
    assert stored(make_service, mid).status == Status.FLAGGED
    cli("verify", mid)
    assert make_service(DEMO_COLLECTION).history(mid)[-1].op == "verified"
    code, out, _ = cli("trash")
    assert out.startswith("0 archived or deleted memories")

    cli("archive", mid)
    code, out, _ = cli("trash")
    assert out.startswith("1 archived or deleted memories") and f"{mid}  [archived," in out

    code, _, err = cli("purge", "demo-0006")
    assert code == 1 and "Not in the trash: demo-0006" in err
    code, _, err = cli("purge", mid)  # no terminal to ask on
    assert code == 1 and "--yes" in err and stored(make_service, mid).status == Status.ARCHIVED
    code, out, _ = cli("purge", mid, "--yes")
    assert code == 0 and out.startswith("Purge 1 memory from 'demo'")
    assert stored(make_service, mid) is None

    assert cli("undo")[1] == "Undid: Purge 1 memory.\n"
    assert stored(make_service, mid).status == Status.ARCHIVED
    assert cli("redo")[1] == "Redid: Purge 1 memory.\n"
    assert stored(make_service, mid) is None
    for _ in range(4):  # purge, archive, verify, flag
        cli("undo")
    assert stored(make_service, mid) == original
    code, _, err = cli("flag", "nope")
    assert code == 1 and err == "memlens: No memory with id 'nope' in 'demo'.\n"


def test_duplicates_list_keep_and_undo(cli):
    code, out, _ = cli("duplicates")
    assert code == 0 and re.match(r"\d+ clusters \(\d+ memories\) at similarity ≥ 0\.85\.", out)
    nurse_cluster = next(block for block in out.split("cluster ")[1:] if NURSE[0] in block)
    assert all(m in nurse_cluster for m in NURSE)
    for a, b in PLANTED["contradictions"]:  # a contradiction is no duplicate
        assert not any(a in block and b in block for block in out.split("cluster ")[1:])
    strict = cli("duplicates", "--threshold", "0.97")[1]
    assert int(strict.split()[0]) < int(out.split()[0])

    code, out, _ = cli("duplicates", "keep", *NURSE, "--reason", "three shifts")
    assert code == 0 and out.startswith("Keep 3 memories as distinct")
    assert NURSE[0] not in cli("duplicates")[1]
    cli("undo")
    assert NURSE[0] in cli("duplicates")[1]
    code, _, err = cli("duplicates", "--threshold", "2")
    assert code == 1 and "between 0 and 1" in err


def test_conflicts_list_supersede_keep_and_undo(cli, make_service, monkeypatch):
    code, out, _ = cli("conflicts")
    assert code == 0 and "numbers differ: 7 vs 9" in out
    assert {frozenset(g) for g in PLANTED["contradictions"]} <= conflict_pairs(out)
    older = make_service(DEMO_COLLECTION).get(MAYA[0])
    code, out, _ = cli("conflicts", "supersede", MAYA[0])  # its partner is found
    assert code == 0 and f"superseded by {MAYA[1]}" in out
    assert stored(make_service, MAYA[0]).valid_to == stored(make_service, MAYA[1]).created_at
    assert frozenset(MAYA) not in conflict_pairs(cli("conflicts")[1])
    cli("undo")
    assert stored(make_service, MAYA[0]) == older

    lisbon = PLANTED["contradictions"][1]
    assert cli("conflicts", "keep", *lisbon)[1].startswith("Keep both: not a conflict")
    assert frozenset(lisbon) not in conflict_pairs(cli("conflicts")[1])
    cli("undo")
    assert frozenset(lisbon) in conflict_pairs(cli("conflicts")[1])

    for name in ("MEMLENS_LLM_API_KEY", "OPENAI_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr("memlens.core.llm._keyring_key", lambda: None)
    with FakeOpenAI(lambda messages: json.dumps({"contradiction": False, "reason": "fine"})) as server:
        monkeypatch.setenv("MEMLENS_LLM_BASE_URL", server.base_url)
        code, out, _ = cli("conflicts", "--judge")
        assert code == 0 and out.startswith("0 possible conflicts") and server.requests
        server.status = 500
        code, _, err = cli("conflicts", "--judge")
        assert code == 1 and "could not be asked" in err


def test_review_lists_the_queue(service, store_dir, capsys):
    def told(mid, text, turn):
        return MemoryRecord(
            id=mid, text=text, user_id="alice", source={"turns": [{"role": "user", "text": turn}]}
        )

    service.add(
        [
            told("tokyo", "Alice booked a flight to Tokyo.", "I might visit Japan someday."),
            told("lisbon", "Alice lives in Lisbon.", "I'm based in Lisbon, flights from LIS please."),
            told("violin", "Alice's daughter plays the violin.", "My daughter started violin lessons."),
        ]
    )
    service.set_status(["violin"], Status.FLAGGED, reason="which daughter?")
    code, out, _ = run_cli(capsys, "review", "--store", str(store_dir))
    assert code == 0 and out.startswith("2 memories to review in 'memories'")
    first, why_first, second, why_second = out.splitlines()[1:]
    assert (
        first.startswith("user flag")
        and "violin" in first
        and why_second.endswith("not in the source: tokyo")
    )
    assert why_first.strip() == "why: flagged: which daughter?" and "weak support" in second
    code, out, _ = run_cli(capsys, "review", "--limit", "1", "--store", str(store_dir))
    assert len(out.splitlines()) == 3


def test_bulk_on_a_filter_or_ids_with_a_dry_run_and_undo(cli, make_service):
    service = make_service(DEMO_COLLECTION)
    dan = [r.id for r in service.records(service.select()) if r.user_id == "dan"]
    before = {r.id: r for r in service.records(service.select_all())}
    code, out, _ = cli("bulk", "--user", "dan", "--add-tag", "audit", "--set-user", "daniel", "--dry-run")
    assert code == 0 and out.startswith(
        f"tag audit; user → daniel: {len(dan)} of {len(dan)} memories change."
    )
    assert "user dan → daniel" in out and out.rstrip().endswith("Dry run: nothing was changed.")
    assert {r.id: r for r in make_service(DEMO_COLLECTION).records(before)} == before

    code, out, _ = cli("bulk", "--user", "dan", "--add-tag", "audit", "--set-user", "daniel")
    after = make_service(DEMO_COLLECTION)
    changed = {m for m in before if after.get(m) != before[m]}
    assert code == 0 and changed == set(dan)
    assert all(after.get(m).user_id == "daniel" and "audit" in after.get(m).tags for m in dan)
    cli("undo")
    assert {r.id: r for r in make_service(DEMO_COLLECTION).records(before)} == before

    code, out, _ = cli("bulk", "demo-0001", "demo-0002", "--delete", "--reason", "test rows")
    assert code == 0 and "Bulk delete (2 memories)" in out
    last = make_service(DEMO_COLLECTION).history("demo-0001")[-1]
    assert (last.op, last.reason) == ("deleted", "test rows")
    cli("undo")
    assert stored(make_service, "demo-0001") == before["demo-0001"]

    code, _, err = cli("bulk", "--add-tag", "x")
    assert code == 1 and "Which memories?" in err
    code, _, err = cli("bulk", "demo-0001", "--user", "dan", "--add-tag", "x")
    assert code == 1 and "not both" in err
    code, _, err = cli("bulk", "demo-0001")
    assert code == 1 and "Nothing to change" in err


def test_duplicates_keep_one_archives_the_others_and_undoes(cli, make_service):
    keep, *others = NURSE
    before = {m: stored(make_service, m) for m in NURSE}
    code, out, _ = cli("duplicates", "keep-one", keep, *others, "--reason", "one is enough")
    assert code == 0 and out == (
        f"Keep 1 of 3 memories: kept {keep}; archived {', '.join(others)} (memlens undo brings them back).\n"
    )
    assert stored(make_service, keep) == before[keep]
    assert all(stored(make_service, m).status == Status.ARCHIVED for m in others)
    assert make_service(DEMO_COLLECTION).history(others[0])[-1].reason == "one is enough"
    assert keep not in cli("duplicates")[1]  # its cluster is gone
    cli("undo")
    assert {m: stored(make_service, m) for m in NURSE} == before

    code, _, err = cli("duplicates", "keep-one", keep)
    assert code == 1 and "the memory to keep, then the ones to archive" in err
    code, _, err = cli("duplicates", "keep-one", keep, keep)
    assert code == 1 and f"'{keep}' is named more than once. Nothing was changed." in err
