"""A real Chroma server per test process, a fresh database on it per test, and an agent
(Mem0, in its own process) that writes to it."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from processes import ChromaServer

HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory):
    server = ChromaServer(tmp_path_factory.mktemp("chroma-server") / "db").start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def chroma_admin(chroma_server):
    """chromadb's AdminClient on the test server: tenants and databases (tests only)."""
    import chromadb
    from chromadb.config import Settings

    return chromadb.AdminClient(
        Settings(
            anonymized_telemetry=False,
            chroma_api_impl="chromadb.api.fastapi.FastAPI",
            chroma_server_host="127.0.0.1",
            chroma_server_http_port=chroma_server.port,
        )
    )


@pytest.fixture
def server_spec(chroma_server, chroma_admin):
    """A database of its own on the shared server, so tests never see each other's data."""
    from memlens.core.server_spec import DEFAULT_TENANT, ServerSpec

    name = f"t{uuid.uuid4().hex[:12]}"
    chroma_admin.create_database(name, tenant=DEFAULT_TENANT)
    return ServerSpec.parse(chroma_server.url, database=name)


class Agent:
    """Mem0 in another process; `send` one command, get its JSON answer."""

    def __init__(self, args: list[str], cwd: Path) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(HERE / "agent.py"), *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=open(cwd / "agent.log", "w"),  # noqa: SIM115 - lives as long as the agent
            text=True,
            cwd=cwd,
        )
        self.log = cwd / "agent.log"
        ready = self._read()
        assert ready == {"ready": True}, ready

    def _read(self) -> dict:
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"agent stopped: {self.log.read_text(errors='replace')[-3000:]}")
        return json.loads(line)

    def send(self, **cmd) -> dict:
        self.proc.stdin.write(json.dumps(cmd) + "\n")
        self.proc.stdin.flush()
        answer = self._read()
        assert "error" not in answer, answer
        return answer

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


@pytest.fixture
def start_agent(tmp_path):
    agents: list[Agent] = []

    def start(spec, collection: str = "mem0") -> Agent:
        args = ["--server", spec.base_url, "--tenant", spec.tenant, "--database", spec.database]
        args += ["--collection", collection, "--history", str(tmp_path / "agent-history.db")]
        if spec.token:
            args += ["--token", spec.token, "--token-header", spec.token_header]
        agent = Agent(args, tmp_path)
        agents.append(agent)
        return agent

    yield start
    for agent in agents:
        agent.close()
