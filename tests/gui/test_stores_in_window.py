"""Stores other than the demo, opened in the window: foreign layouts, big rows, bad ones."""

from __future__ import annotations

import gc
import weakref
from datetime import datetime

import chromadb
import numpy as np
from chromadb.config import Settings
from PySide6.QtCore import QCoreApplication, QEvent, Qt
from PySide6.QtWidgets import QMessageBox

from gui_support import answer_next_dialog, click_row, column_values, wait_idle
from memlens.core.record import MemoryRecord
from memlens.gui.memory_table import PAGE


def test_mem0_store_shows_texts_owners_times_and_mem0_history(qtbot, open_window, mem0_memory):
    added = mem0_memory.add("Alice likes green tea", user_id="alice", infer=False)
    mem0_memory.add("Bob runs on Sundays", user_id="bob", agent_id="coach", infer=False)
    tea_id = added["results"][0]["id"]
    mem0_memory.update(tea_id, "Alice likes oolong tea")
    native = {m["id"]: m for m in mem0_memory.get_all(filters={"user_id": "alice"})["results"]}

    window = open_window(mem0_memory.store_path)
    page = window.page
    assert window.collection_box.currentText().startswith("mem0  (2, Mem0)")
    assert sorted(column_values(page, "Memory")) == ["Alice likes oolong tea", "Bob runs on Sundays"]
    assert sorted(column_values(page, "User")) == ["alice", "bob"]
    row = page.model.row_of(tea_id)
    created = datetime.fromisoformat(native[tea_id]["created_at"]).strftime("%Y-%m-%d %H:%M")
    assert page.model.index(row, 0).data() == created

    page.selection.set([tea_id])
    history = [page.inspector.history.item(i).text() for i in range(page.inspector.history.count())]
    assert any("Mem0 ADD" in h for h in history) and any("Mem0 UPDATE" in h for h in history)
    assert "-Alice likes green tea" in page.inspector.diff.toPlainText()


def test_mem0_housekeeping_collection_is_not_offered(qtbot, open_window, mem0_memory):
    mem0_memory.add("Alice likes green tea", user_id="alice", infer=False)
    client = chromadb.PersistentClient(
        str(mem0_memory.store_path), settings=Settings(anonymized_telemetry=False)
    )
    client.get_or_create_collection("mem0migrations", embedding_function=None).add(
        ids=["x"], embeddings=[np.zeros(384, dtype=np.float32)], metadatas=[{"data": "telemetry"}]
    )
    window = open_window(mem0_memory.store_path)
    names = [window.collection_box.itemData(i) for i in range(window.collection_box.count())]
    assert names == ["mem0"]


def test_edit_metadata_in_place(qtbot, demo_window):
    page = demo_window.page
    click_row(qtbot, demo_window, 0)
    memory_id = page.selection.current
    page.inspector.user.setText("erin")
    page.inspector.tags.setText("moved, checked")
    page.inspector.save()
    wait_idle(qtbot, demo_window)
    stored = page.service.store.get([memory_id])[0].record
    assert (stored.user_id, stored.tags) == ("erin", ("moved", "checked"))
    assert "erin" in [page.filter_bar.user.itemText(i) for i in range(page.filter_bar.user.count())]


def test_lazy_paging_and_a_ten_megabyte_memory(qtbot, open_window, make_service, store_dir):
    service = make_service()
    big = "A very long memory. " * 500_000  # 10 MB
    records = [
        MemoryRecord(id=f"n{i:05d}", text=f"note {i} about topic {i % 37}") for i in range(2 * PAGE + 500)
    ]
    service.add([*records, MemoryRecord(id="big", text=big)])
    window = open_window(store_dir)
    page = window.page
    assert page.model.total() == 2 * PAGE + 501
    assert page.model.rowCount() == PAGE  # only the first page exists as rows
    page.table.scrollToBottom()
    qtbot.waitUntil(lambda: page.model.rowCount() > PAGE)

    page.selection.set(["big"])
    row = page.model.row_of("big")
    assert len(page.model.index(row, 1).data()) <= 241  # a preview, not 10 MB in a cell
    assert page.inspector.text.toPlainText() == big
    # Its history (added with the rest): the diff shows the first 64 KB, and says so.
    diff = page.inspector.diff.toPlainText()
    assert diff.startswith("(long change, 0 KB before and 10.0 MB after: only its first 64 KB")
    assert 64 * 1024 < len(diff) < 70 * 1024


def test_wrong_dimension_is_refused_in_the_window(qtbot, open_window, tmp_path):
    client = chromadb.PersistentClient(str(tmp_path / "other"), settings=Settings(anonymized_telemetry=False))
    client.create_collection("big_model", embedding_function=None).add(
        ids=["a"], embeddings=[np.ones(768, dtype=np.float32)], documents=["made by another model"]
    )
    client.create_collection("small_model", embedding_function=None).add(
        ids=["b"], embeddings=[np.ones(384, dtype=np.float32)], documents=["made by this model"]
    )
    window = open_window(tmp_path / "other", "big_model")
    assert window.page is None
    assert "768-dimensional" in window.banner.label.text()
    # The store is open all the same: its other collections can be picked.
    assert window.store_label.text() == str(tmp_path / "other")
    names = [window.collection_box.itemData(i) for i in range(window.collection_box.count())]
    assert sorted(names) == ["big_model", "small_model"]
    window.collection_box.setCurrentIndex(names.index("small_model"))
    window.collection_box.activated.emit(names.index("small_model"))
    qtbot.waitUntil(lambda: window.page is not None, timeout=60000)
    assert window.service.store.collection == "small_model"


def test_a_store_opened_without_a_collection_skips_one_the_model_cannot_read(qtbot, open_window, tmp_path):
    client = chromadb.PersistentClient(str(tmp_path / "mixed"), settings=Settings(anonymized_telemetry=False))
    for name, dim in (("aaa_openai", 1536), ("zzz_mini", 384)):
        client.create_collection(name, embedding_function=None).add(
            ids=[name], embeddings=[np.ones(dim, dtype=np.float32)], documents=[f"written for {name}"]
        )
    window = open_window(tmp_path / "mixed")
    qtbot.waitUntil(lambda: window.page is not None, timeout=60000)
    assert window.service.store.collection == "zzz_mini"
    assert "'aaa_openai' holds 1536-dimensional" in window.banner.label.text()
    assert "Opened 'zzz_mini' instead." in window.banner.label.text()


def test_a_mem0_history_kept_elsewhere_is_used_for_a_folder_store(qtbot, open_window, mem0_memory, tmp_path):
    tea = mem0_memory.add("Alice likes green tea", user_id="alice", infer=False)["results"][0]["id"]
    elsewhere = tmp_path / "agent-history.db"
    (mem0_memory.store_path / "history.db").rename(elsewhere)  # as a config pointing elsewhere would
    window = open_window()
    window.open_store(mem0_memory.store_path, mem0_history=elsewhere)
    qtbot.waitUntil(lambda: window.page is not None, timeout=60000)
    assert window.service.mem0_history.path == elsewhere
    assert [e.event for e in window.service.mem0_events(tea)] == ["ADD"]
    window.collection_box.activated.emit(0)  # reopened: still the same history
    window.reload()
    qtbot.waitUntil(lambda: not window.workers.busy, timeout=60000)
    assert window.service.mem0_history.path == elsewhere


def test_recent_stores_are_remembered(qtbot, open_window, tmp_path):
    window = open_window(tmp_path / "store", demo=True)
    window._fill_recent()
    entries = [a.text() for a in window.recent_menu.actions()]
    assert entries == [str((tmp_path / "store").absolute())]
    assert window.page.model.index(0, 1).data(Qt.ItemDataRole.DisplayRole)


def _recent_entries(window) -> list[str]:
    window._fill_recent()
    return [a.text() for a in window.recent_menu.actions()]


def _open_recent(qtbot, window, location: str) -> None:
    window._fill_recent()
    [entry] = [a for a in window.recent_menu.actions() if a.text() == location]
    entry.trigger()
    wait_idle(qtbot, window)


def test_open_recent_keeps_order_without_repeats_and_never_makes_a_store(
    qtbot, open_window, make_service, tmp_path
):
    import shutil

    from memlens.gui.main_window import MAX_RECENT

    folders = [tmp_path / name for name in ("first", "second", "third")]
    for n, folder in enumerate(folders):
        make_service(path=folder).add([MemoryRecord(id=f"m{n}", text=f"memory in {folder.name}")])
    window = open_window(folders[0])
    for folder in folders[1:]:
        window.open_store(folder)
        wait_idle(qtbot, window)
    first, second, third = (str(f.absolute()) for f in folders)
    assert _recent_entries(window) == [third, second, first]  # the latest first

    _open_recent(qtbot, window, first)
    assert column_values(window.page, "Memory") == ["memory in first"]
    assert _recent_entries(window) == [first, third, second]  # moved up, not listed twice

    for n in range(MAX_RECENT):  # more stores than the list holds: the oldest drop off
        window._remember(str(tmp_path / f"more-{n}"))
    assert len(_recent_entries(window)) == MAX_RECENT
    assert first not in _recent_entries(window)

    window._set_recent([second, first])
    shutil.rmtree(folders[0])
    answer_next_dialog(qtbot, QMessageBox.StandardButton.Yes)  # "Remove it from Open Recent?"
    _open_recent(qtbot, window, first)
    assert not folders[0].exists()  # no empty store made in its place
    assert "no longer exists" in window.statusBar().currentMessage()
    assert _recent_entries(window) == [second]
    assert column_values(window.page, "Memory") == ["memory in first"]  # the open store stays


def _history_labels(inspector) -> list[str]:
    return [inspector.history.item(i).text() for i in range(inspector.history.count())]


def test_mem0_history_and_the_journal_in_time_order_without_repeats(
    qtbot, open_window, make_service, mem0_memory
):
    import re

    tea_id = mem0_memory.add("Alice likes green tea", user_id="alice", infer=False)["results"][0]["id"]
    mem0_memory.update(tea_id, "Alice likes oolong tea")
    make_service(path=mem0_memory.store_path).edit(tea_id, text="Alice likes jasmine tea")
    mem0_memory.update(tea_id, "Alice likes black tea")
    assert [h["event"] for h in mem0_memory.history(tea_id)] == ["ADD", "UPDATE", "UPDATE", "UPDATE"]

    window = open_window(mem0_memory.store_path)
    window.page.selection.set([tea_id])
    inspector = window.page.inspector
    labels = _history_labels(inspector)
    stamp = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC"
    assert [re.sub(f"^{stamp}  ", "", label) for label in labels] == [
        "Mem0 ADD  by mem0",
        "Mem0 UPDATE  by mem0",
        "Edit text  by user",  # MemLens' own row in history.db is this entry: shown once
        "Mem0 UPDATE  by mem0",
    ]
    times = [re.match(stamp, label).group() for label in labels]
    assert times == sorted(times)  # one zone, one format: read in order, they are in time order
    inspector.history.setCurrentRow(2)
    assert "-Alice likes oolong tea" in inspector.diff.toPlainText()
    assert "+Alice likes jasmine tea" in inspector.diff.toPlainText()


def test_langchain_store_shows_texts_and_invents_no_owner_or_time(qtbot, open_window, langchain_store):
    ids = langchain_store.add_texts(
        ["Bob is allergic to peanuts", "Bob works at ACME"],
        metadatas=[{"source": "chat", "user": "bob"}, {"source": "email"}],
    )
    window = open_window(langchain_store.store_path)
    page, inspector = window.page, window.page.inspector
    assert window.collection_box.currentText().startswith("langchain  (2, LangChain)")
    assert sorted(column_values(page, "Memory")) == ["Bob is allergic to peanuts", "Bob works at ACME"]
    # LangChain keeps caller metadata only: no owner, no time, and MemLens makes none up.
    assert column_values(page, "User") == ["", ""]
    assert column_values(page, "Created") == ["", ""]

    page.selection.set([ids[0]])
    shown = {
        inspector.metadata.item(r, 0).text(): inspector.metadata.item(r, 1).text()
        for r in range(inspector.metadata.rowCount())
    }
    assert shown["extra · user"] == "bob" and shown["extra · source"] == "chat"
    assert shown["store profile"] == "LangChain"
    assert inspector.times.text() == "created  · updated "

    inspector.user.setFocus()
    qtbot.keyClicks(inspector.user, "bob")
    qtbot.mouseClick(inspector.save_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, window)
    assert column_values(page, "User")[page.model.row_of(ids[0])] == "bob"
    [doc] = langchain_store.get_by_ids([ids[0]])
    assert doc.metadata == {"source": "chat", "user": "bob", "memlens_user_id": "bob"}


def test_table_and_inspector_show_times_in_one_zone(qtbot, open_window, make_service, store_dir):
    from datetime import timedelta, timezone

    pacific = timezone(timedelta(hours=-8))
    make_service().add(
        [MemoryRecord(id="m1", text="Lunch with Zoe", created_at=datetime(2026, 3, 1, 9, 30, tzinfo=pacific))]
    )
    window = open_window(store_dir)
    page = window.page
    assert column_values(page, "Created") == ["2026-03-01 17:30"]
    assert page.model.headerData(0, Qt.Orientation.Horizontal, Qt.ItemDataRole.ToolTipRole) == (
        "Times are shown in UTC"
    )
    page.selection.set(["m1"])
    assert page.inspector.times.text().startswith("created 2026-03-01 17:30:00 UTC")


def test_switching_collections_lets_each_old_page_and_its_store_go(qtbot, open_window, tmp_path):
    """Every switch once kept the old page, its views and its store (7 MB, 8 open files)."""
    client = chromadb.PersistentClient(str(tmp_path / "two"), settings=Settings(anonymized_telemetry=False))
    for name in ("first", "second"):
        client.create_collection(name, embedding_function=None).add(
            ids=[f"{name}-{i}" for i in range(3)],
            embeddings=np.ones((3, 384), dtype=np.float32),
            documents=[f"{name} memory {i}" for i in range(3)],
        )
    window = open_window(tmp_path / "two", "first")
    names = [window.collection_box.itemData(i) for i in range(window.collection_box.count())]
    old: list[weakref.ref] = []
    for name in ("second", "first", "second", "first"):
        old += [weakref.ref(window.page), weakref.ref(window.service)]
        window.page.views.setCurrentIndex(1)  # the graph too, made and filled
        wait_idle(qtbot, window)
        window.collection_box.setCurrentIndex(names.index(name))
        window.collection_box.activated.emit(names.index(name))
        qtbot.waitUntil(lambda n=name: window.service.store.collection == n, timeout=60000)
        wait_idle(qtbot, window)
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)
    gc.collect()
    assert [ref() for ref in old if ref() is not None] == []
