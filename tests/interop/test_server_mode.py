"""MemLens on a Chroma server (`chroma run`): the same features as on a folder."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from processes import TokenGate, free_port

from memlens.core.chroma_store import ChromaBackend
from memlens.core.record import MemoryRecord, Status
from memlens.core.server_spec import AUTHORIZATION, X_CHROMA_TOKEN, ServerSpec
from memlens.core.store import StoreError
from memlens.core.workspace import journal_path, open_service, traces_path


def _records() -> list[MemoryRecord]:
    return [
        MemoryRecord(id="m1", text="Alice is allergic to peanuts", user_id="alice"),
        MemoryRecord(id="m2", text="Alice lives in Paris", user_id="alice"),
        MemoryRecord(id="m3", text="Bob plays the cello", user_id="bob"),
    ]


def test_server_store_curates_like_a_folder(server_spec, embedder):
    backend = ChromaBackend.connect(server_spec)
    assert backend.location == f"{server_spec.base_url}/default_tenant/{server_spec.database}"
    assert not backend.is_local
    service = open_service(backend, embedder, "memories")
    service.load()
    service.add(_records())
    service.edit("m2", text="Alice lives in Lyon", reason="she moved")
    service.delete(["m3"])

    # A second, independent connection (another MemLens) sees the same store.
    again = open_service(ChromaBackend.connect(server_spec), embedder, "memories")
    again.load()
    assert again.get("m2").text == "Alice lives in Lyon"
    assert again.get("m3").status == Status.DELETED
    hits = again.semantic_search("which city does Alice live in", k=1)
    assert [h.record.id for h in hits] == ["m2"]
    assert [c.name for c in backend.collections()] == ["memories"]

    # The journal and the traces of a server store live in the user's data folder.
    data = Path(os.environ["MEMLENS_DATA_DIR"])
    assert journal_path(backend).parent == data / "journals"
    assert traces_path(backend).parent == data / "traces"
    assert journal_path(backend).is_file()
    assert [e.label for e in again.history("m2")] == ["Add 3 memories", "Edit text"]
    assert again.undo().label == "Delete 1 memory"
    assert again.undo().label == "Edit text"
    assert service.store.get(["m2"])[0].record.text == "Alice lives in Paris"
    assert service.store.get(["m3"])[0].record.status == Status.ACTIVE


def test_tenants_and_databases_are_kept_apart(server_spec, embedder):
    other = ServerSpec.parse(server_spec.base_url)  # the default database
    mine = open_service(ChromaBackend.connect(server_spec), embedder, "shared-name")
    mine.load()
    mine.add(_records()[:1])
    theirs = ChromaBackend.connect(other)
    assert "shared-name" not in [c.name for c in theirs.collections()]
    assert journal_path(theirs) != journal_path(mine.store._backend)


def test_unreachable_server_and_unknown_database_say_so(server_spec):
    port = free_port()
    with pytest.raises(StoreError) as err:
        ChromaBackend.connect(ServerSpec.parse(f"http://127.0.0.1:{port}"))
    assert f"Cannot reach the Chroma server at http://127.0.0.1:{port}" in str(err.value)
    assert "chroma run" in str(err.value)
    with pytest.raises(StoreError, match="has no tenant 'default_tenant' with database 'nope'"):
        ChromaBackend.connect(ServerSpec.parse(server_spec.base_url, database="nope"))


@pytest.mark.parametrize(
    ("header", "sent"),
    [(AUTHORIZATION, "Bearer s3cret"), (X_CHROMA_TOKEN, "s3cret")],
    ids=["bearer", "x-token"],
)
def test_token_is_sent_in_the_header_the_server_expects(chroma_server, embedder, header, sent):
    gate = TokenGate(chroma_server.port, header, sent).start()
    try:
        spec = ServerSpec.parse(gate.url, token="s3cret", token_header=header)
        service = open_service(ChromaBackend.connect(spec), embedder, "gated")
        service.load()
        service.add(_records()[:1])
        assert service.store.get(["m1"])[0].record.text == "Alice is allergic to peanuts"
        assert all(h.get(header) == sent for h in gate.seen_headers)
        with pytest.raises(StoreError) as err:
            ChromaBackend.connect(ServerSpec.parse(gate.url, token="wrong", token_header=header))
        assert "refused access" in str(err.value)
        assert f"the token in {header} was sent" in str(err.value)
        assert "s3cret" not in str(err.value) and "wrong" not in str(err.value)
    finally:
        gate.stop()


def test_token_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("MEMLENS_CHROMA_TOKEN", "from-env")
    spec = ServerSpec.parse("https://chroma.example.com/acme/prod")
    assert (spec.host, spec.port, spec.ssl) == ("chroma.example.com", 443, True)
    assert (spec.tenant, spec.database) == ("acme", "prod")
    assert spec.headers() == {"Authorization": "Bearer from-env"}
    assert "from-env" not in spec.location
    for bad, why in [
        ("ftp://x", "starts with http"),
        ("http://x:99999", "port"),
        ("http://x/only-tenant", "/TENANT/DATABASE"),
    ]:
        with pytest.raises(ValueError, match=why):
            ServerSpec.parse(bad)


def test_a_tenant_of_its_own_on_the_server(chroma_server, chroma_admin, embedder, capsys):
    import uuid

    from tests_support import run_cli

    tenant = f"acme-{uuid.uuid4().hex[:8]}"
    admin = chroma_admin
    admin.create_tenant(tenant)
    admin.create_database("prod", tenant=tenant)
    spec = ServerSpec.parse(f"{chroma_server.url}/{tenant}/prod")
    assert (spec.tenant, spec.database) == (tenant, "prod")

    backend = ChromaBackend.connect(spec)
    assert backend.location == f"{chroma_server.url}/{tenant}/prod"
    service = open_service(backend, embedder, "team-memories")
    service.load()
    service.add(_records()[:2])
    service.edit("m2", text="Alice lives in Lyon")

    # The same name elsewhere on the server is another collection: the default tenant's
    # database of that name does not see it.
    admin.create_database("prod")
    default = ChromaBackend.connect(ServerSpec.parse(chroma_server.url, database="prod"))
    assert "team-memories" not in [c.name for c in default.collections()]
    assert journal_path(default) != journal_path(backend)

    # The command line reaches the tenant with --tenant / --database, and sees the edit.
    code, out, err = run_cli(
        capsys, "stats", "--server", chroma_server.url, "--tenant", tenant, "--database", "prod"
    )
    assert code == 0, err
    assert f"Store: {chroma_server.url}/{tenant}/prod" in out
    assert re.search(r"^team-memories\s+2\s", out, re.M)
    again = open_service(ChromaBackend.connect(spec), embedder, "team-memories")
    again.load()
    assert again.get("m2").text == "Alice lives in Lyon"
    assert again.undo().label == "Edit text"  # the tenant's store keeps its own local journal
    assert service.store.get(["m2"])[0].record.text == "Alice lives in Paris"

    with pytest.raises(StoreError, match=f"has no tenant '{tenant}' with database 'staging'"):
        ChromaBackend.connect(ServerSpec.parse(f"{chroma_server.url}/{tenant}/staging"))
