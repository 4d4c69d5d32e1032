"""An agent (Mem0, in its own process) writes to the server store MemLens has open:
MemLens follows it, and an edit of a memory changed underneath is refused, not lost."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from memlens.core.chroma_store import ChromaBackend
from memlens.core.service import Change
from memlens.core.watch import EditConflict, StoreWatcher
from memlens.core.workspace import open_service


@pytest.fixture
def agent_and_service(server_spec, start_agent, embedder, tmp_path):
    agent = start_agent(server_spec)
    first = agent.send(op="add", text="Alice lives in Paris", user_id="alice")["id"]
    second = agent.send(op="add", text="Alice has a cat named Tom", user_id="alice")["id"]
    history = tmp_path / "agent-history.db"
    service = open_service(ChromaBackend.connect(server_spec), embedder, "mem0", mem0_history=history)
    service.load()
    return agent, service, first, second


def test_memlens_follows_an_agent_adding_editing_and_deleting(agent_and_service):
    agent, service, paris, cat = agent_and_service
    assert service.store.profile == "mem0"
    heard: list[Change] = []
    service.subscribe(heard.append)
    watcher = StoreWatcher(service)
    first = watcher.poll()
    assert (first.candidates, first.change) == (0, None)  # nothing happened since MemLens loaded

    new = agent.send(op="add", text="Alice started learning the violin", user_id="alice")["id"]
    agent.send(op="update", id=paris, text="Alice lives in Lyon")
    agent.send(op="delete", id=cat)
    result = watcher.poll(full=True)

    assert sorted(result.change.ids) == sorted([new, paris, cat])
    assert [c.kind for c in heard] == ["external"]
    assert service.get(new).text == "Alice started learning the violin"
    assert service.get(new).user_id == "alice"
    assert service.get(paris).text == "Alice lives in Lyon"
    assert service.get(cat) is None
    assert watcher.poll(full=True).change is None  # seen once, reported once


def test_changes_between_load_and_the_first_poll_are_not_missed(agent_and_service):
    agent, service, paris, _cat = agent_and_service
    agent.send(op="update", id=paris, text="Alice lives in Nice")
    assert StoreWatcher(service).poll().change.ids == (paris,)
    assert service.get(paris).text == "Alice lives in Nice"


def test_memlens_own_writes_are_not_reported_as_outside_changes(agent_and_service):
    _agent, service, paris, cat = agent_and_service
    watcher = StoreWatcher(service)
    watcher.poll()
    service.edit(paris, text="Alice lives in Marseille")
    service.delete([cat])
    result = watcher.poll(full=True)
    assert result.candidates == 2  # both moved in the store...
    assert result.change is None  # ...and both were MemLens' own doing


def test_quick_looks_see_adds_and_deletes_and_full_looks_see_edits(agent_and_service):
    agent, service, paris, cat = agent_and_service
    watcher = StoreWatcher(service)
    assert watcher.poll().full  # the first look is always a full one
    new = agent.send(op="add", text="Alice adopted a parrot", user_id="alice")["id"]
    agent.send(op="delete", id=cat)
    agent.send(op="update", id=paris, text="Alice lives in Toulouse")
    quick = watcher.poll(full=False)
    assert not quick.full
    assert sorted(quick.change.ids) == sorted([new, cat])
    assert service.get(paris).text == "Alice lives in Paris"  # an edit needs a full look
    full = watcher.poll(full=True)
    assert full.change.ids == (paris,)  # the added one is read again, found unchanged
    assert service.get(paris).text == "Alice lives in Toulouse"


def test_edit_of_a_memory_changed_underneath_is_refused_then_resolved(agent_and_service):
    agent, service, paris, _cat = agent_and_service
    base = service.get(paris)  # the user starts editing this
    agent.send(op="update", id=paris, text="Alice lives in Berlin")

    with pytest.raises(EditConflict) as err:
        service.edit(paris, expected=base, text="Alice lives in Paris, 5th arrondissement")
    assert err.value.theirs.text == "Alice lives in Berlin"
    assert "changed by someone else" in str(err.value)
    assert service.get(paris).text == "Alice lives in Berlin"  # the index caught up
    [mem0_view] = [m for m in agent.send(op="get_all")["results"] if m["id"] == paris]
    assert mem0_view["memory"] == "Alice lives in Berlin"  # nothing was overwritten

    # The user chose "keep mine": saved against what is there now.
    service.edit(paris, expected=err.value.theirs, text="Alice lives in Paris, 5th arrondissement")
    [mem0_view] = [m for m in agent.send(op="get_all")["results"] if m["id"] == paris]
    assert mem0_view["memory"] == "Alice lives in Paris, 5th arrondissement"
    assert mem0_view["hash"] == hashlib.md5(b"Alice lives in Paris, 5th arrondissement").hexdigest()
    events = [(h["event"], h["new_memory"]) for h in agent.send(op="history", id=paris)["results"]]
    assert events == [
        ("ADD", "Alice lives in Paris"),
        ("UPDATE", "Alice lives in Berlin"),
        ("UPDATE", "Alice lives in Paris, 5th arrondissement"),
    ]
    hits = agent.send(op="search", query="where does Alice live")["results"]
    assert hits[0]["memory"] == "Alice lives in Paris, 5th arrondissement"


def test_edit_of_a_memory_the_agent_deleted_is_refused(agent_and_service):
    agent, service, _paris, cat = agent_and_service
    base = service.get(cat)
    agent.send(op="delete", id=cat)
    with pytest.raises(EditConflict, match="was deleted by someone else") as err:
        service.edit(cat, expected=base, text="Alice has two cats")
    assert err.value.theirs is None
    assert service.get(cat) is None
    assert cat not in {m["id"] for m in agent.send(op="get_all")["results"]}


def test_journal_of_a_server_store_is_local(agent_and_service, tmp_path):
    _agent, service, paris, _cat = agent_and_service
    service.edit(paris, text="Alice lives in Rome")
    journals = list((Path(tmp_path) / "memlens-data" / "journals").glob("*.sqlite3"))
    assert len(journals) == 1
    assert service.journal.path == journals[0]
