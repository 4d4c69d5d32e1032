"""MemLens notices another process on the same embedded store, and forgets one that is gone."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from memlens.core.store_lock import CLAIM_DIR, claim, other_openers, shared_store_warning

EMBEDDED_AGENT = Path(__file__).resolve().parents[1] / "ingest" / "agents" / "embedded_agent.py"


@pytest.fixture
def agent_on(tmp_path):
    procs = []

    def start(folder):
        proc = subprocess.Popen(
            [sys.executable, str(EMBEDDED_AGENT), str(folder)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert proc.stdout.readline().strip() == "open"
        procs.append(proc)
        return proc

    yield start
    for proc in procs:
        proc.kill()
        proc.wait(30)


@pytest.mark.skipif(
    not os.path.isdir("/proc"), reason="finding other holders of the file needs /proc (Linux)"
)
def test_an_agent_holding_the_store_open_is_named_until_it_exits(tmp_path, agent_on):
    folder = tmp_path / "store"
    agent = agent_on(folder)
    (found,) = other_openers(folder)
    assert found.pid == agent.pid and found.how == "file" and "python" in found.program
    warning = shared_store_warning(folder)
    assert f"process {agent.pid}" in warning and "Chroma server" in warning
    agent.stdin.close()
    agent.wait(30)
    assert other_openers(folder) == [] and shared_store_warning(folder) is None


def test_another_memlens_claim_counts_while_its_process_lives(tmp_path):
    folder = tmp_path / "store"
    folder.mkdir()
    mine = claim(folder)
    assert mine is not None and other_openers(folder) == []  # this process is not "another"
    code = (
        f"from memlens.core.store_lock import claim; c = claim({str(folder)!r}); "
        "print('ok', flush=True); input()"
    )
    other = subprocess.Popen(
        [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert other.stdout.readline().strip() == "ok"
        assert [o.pid for o in other_openers(folder)] == [other.pid]
    finally:
        other.stdin.close()
        other.wait(30)
    assert other_openers(folder) == []  # it released its claim on the way out
    mine.release()
    assert not list((folder / CLAIM_DIR).glob("*.json"))


def test_a_stale_claim_is_ignored_and_cleaned_up(tmp_path):
    folder = tmp_path / "store"
    (folder / CLAIM_DIR).mkdir(parents=True)
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    pid = int(dead.stdout)  # a process that has exited
    stale = folder / CLAIM_DIR / f"{socket.gethostname()}-{pid}.json"
    stale.write_text(json.dumps({"pid": pid, "host": socket.gethostname(), "program": "memlens"}))
    (folder / CLAIM_DIR / "garbage.json").write_text("{not json")
    assert other_openers(folder) == []
    assert not stale.exists()
