"""Helpers for the ingest tests (not fixtures): agent processes and their environment."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

AGENTS = Path(__file__).resolve().parent / "agents"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def agent_env(url: str | None = None, token: str | None = None, **extra: str) -> dict[str, str]:
    """The environment an agent process gets: the test's data folder (where MemLens wrote
    its address and token), and an explicit URL / token when given."""
    env = dict(os.environ)
    env.pop("MEMLENS_URL", None)
    env.pop("MEMLENS_TOKEN", None)
    if url is not None:
        env["MEMLENS_URL"] = url
    if token is not None:
        env["MEMLENS_TOKEN"] = token
    env.update(extra)
    return env


class LineAgent:
    """An agent process driven one stdin line at a time, answering one JSON line each."""

    def __init__(self, script: str, *args: str, env: dict[str, str], cwd: Path) -> None:
        self.log = cwd / f"{Path(script).stem}.log"
        self.proc = subprocess.Popen(
            [sys.executable, str(AGENTS / script), *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=open(self.log, "w"),  # noqa: SIM115 - lives as long as the agent
            text=True,
            env=env,
            cwd=cwd,
        )

    def read(self) -> dict:
        line = self.proc.stdout.readline()
        if not line:
            raise AssertionError(f"agent stopped: {self.log.read_text(errors='replace')[-3000:]}")
        return json.loads(line)

    def send(self, line: str) -> dict:
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        return self.read()

    def finish(self, timeout: float = 120) -> dict:
        """Close its input; wait for its last line and its exit (code 0)."""
        self.proc.stdin.close()
        last = self.read()
        assert self.proc.wait(timeout) == 0, self.log.read_text(errors="replace")[-3000:]
        return last

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(30)
