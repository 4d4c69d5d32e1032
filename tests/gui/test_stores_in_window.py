"""Stores other than the demo, opened in the window: foreign layouts, big rows, bad ones."""

from __future__ import annotations

from datetime import datetime

import chromadb
import numpy as np
from chromadb.config import Settings
from PySide6.QtCore import Qt
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
    assert window.collection_box.currentText().startswith("mem0  (2, mem0)")
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


def test_wrong_dimension_is_refused_in_the_window(qtbot, open_window, tmp_path):
    client = chromadb.PersistentClient(str(tmp_path / "other"), settings=Settings(anonymized_telemetry=False))
    client.create_collection("big_model", embedding_function=None).add(
        ids=["a"], embeddings=[np.ones(768, dtype=np.float32)], documents=["made by another model"]
    )
    window = open_window(tmp_path / "other", "big_model")
    assert window.page is None
    assert "768-dimensional" in window.banner.label.text()


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

