"""Curation in the window: duplicates, conflicts, review queue, trash, merge and bulk dialogs."""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from fake_openai import FakeOpenAI
from gui_support import answer_next_dialog, wait_idle
from memlens.core import llm
from memlens.core.demo import generate_demo
from memlens.core.dismissals import CONFLICT, DUPLICATE, Dismissals
from memlens.core.duplicates import DuplicateFinder
from memlens.core.record import Status
from memlens.gui.bulk_dialog import BulkDialog
from memlens.gui.llm_settings_dialog import LLMSettingsDialog, apply_settings
from memlens.gui.merge_dialog import MergeDialog
from tests_support import json_file_keyring

PLANTED = generate_demo().planted
NURSE = set(PLANTED["duplicates"][2])  # Bob the night-shift nurse, said three ways


def open_panel(qtbot, window, name):
    window.page.show_view(name)
    panel = window.page.panels[name]
    qtbot.waitUntil(lambda: panel.loaded and not window.workers.busy, timeout=60000)
    wait_idle(qtbot, window)
    return panel


def pick(panel, ids):
    row = next(n for n, item in enumerate(panel.items) if set(panel.item_ids(item)) == set(ids))
    panel.list.setCurrentRow(row)


def stored(window, mid):
    return window.page.service.store.get([mid])[0].record


def test_duplicate_review_merges_a_cluster_and_undo_restores(qtbot, demo_window):
    panel = open_panel(qtbot, demo_window, "Duplicates")
    assert any(set(c.ids) == NURSE for c in panel.items)
    counts = panel.threshold_label.text()
    panel.slider.setValue(75)
    assert panel.threshold_label.text() != counts  # the count previews as the slider moves
    panel.slider.setValue(85)

    pick(panel, NURSE)
    assert set(demo_window.page.selection.ids) == NURSE  # the inspector and table follow
    panel.merge_current(text="Bob works night shifts as a nurse at Manchester Royal Infirmary.")
    wait_idle(qtbot, demo_window)
    assert all(stored(demo_window, m).status == Status.ARCHIVED for m in NURSE)
    assert demo_window.undo_action.text() == "&Undo Merge 3 memories"
    demo_window.undo_action.trigger()
    wait_idle(qtbot, demo_window)
    assert all(stored(demo_window, m).status != Status.ARCHIVED for m in NURSE)


def test_keeping_a_cluster_or_a_conflict_is_undoable(qtbot, demo_window):
    service = demo_window.page.service
    panel = open_panel(qtbot, demo_window, "Duplicates")
    pick(panel, NURSE)
    qtbot.keyClick(panel.list, Qt.Key.Key_K)
    wait_idle(qtbot, demo_window)
    assert not any(set(c.ids) == NURSE for c in panel.items)
    dismissed = Dismissals(service).pairs(DUPLICATE)
    assert not any(set(c.ids) >= NURSE for c in DuplicateFinder(service).clusters(0.85, dismissed))
    assert demo_window.undo_action.text() == "&Undo Keep 3 memories as distinct"
    demo_window.undo_action.trigger()
    wait_idle(qtbot, demo_window)
    assert set(panel.current().ids) == NURSE  # back in the list, where the user is
    demo_window.redo_action.trigger()
    wait_idle(qtbot, demo_window)
    assert not any(set(c.ids) == NURSE for c in panel.items)

    lisbon = set(PLANTED["contradictions"][1])
    panel = open_panel(qtbot, demo_window, "Conflicts")
    pick(panel, lisbon)
    assert "names differ: Lisbon vs Porto" in panel.detail.toPlainText()
    qtbot.keyClick(panel.list, Qt.Key.Key_K)
    wait_idle(qtbot, demo_window)
    assert not any({c.a, c.b} == lisbon for c in panel.items)
    assert Dismissals(service).pairs(CONFLICT) == {frozenset(lisbon)}
    assert service.history(min(lisbon))[-1].label == "Keep both: not a conflict"
    demo_window.undo_action.trigger()
    wait_idle(qtbot, demo_window)
    assert {panel.current().a, panel.current().b} == lisbon
    assert Dismissals(service).pairs(CONFLICT) == set()


def test_merge_dialog_shows_sources_side_by_side_and_asks_the_model(qtbot, demo_window, monkeypatch):
    for name in ("MEMLENS_LLM_BASE_URL", "MEMLENS_LLM_API_KEY", "OPENAI_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr("memlens.core.llm._keyring_key", lambda: None)  # the desktop's keyring
    sources = demo_window.page.service.records(sorted(NURSE))
    dialog = MergeDialog(sources, demo_window.workers)
    qtbot.addWidget(dialog)
    assert not dialog.suggest.isEnabled()  # no model configured: the button says how to set one
    assert "bob" in dialog.summary.text() and "3 sources are archived" in dialog.summary.text()
    dialog.text.setPlainText("  \n ")  # nothing left to keep: Merge waits for a text
    assert not dialog.merge_button.isEnabled() and "needs some text" in dialog.merge_button.toolTip()
    dialog.text.setPlainText("Bob is a nurse.")
    assert dialog.merge_button.isEnabled()

    with FakeOpenAI(lambda messages: "Bob is a night-shift nurse at Manchester Royal Infirmary.") as server:
        monkeypatch.setenv("MEMLENS_LLM_BASE_URL", server.base_url)
        dialog = MergeDialog(sources, demo_window.workers)
        qtbot.addWidget(dialog)
        qtbot.mouseClick(dialog.suggest, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: dialog.merged_text.startswith("Bob is a night-shift"), timeout=20000)
        assert "Bob works night shifts" in server.requests[0]["body"]["messages"][-1]["content"]


def test_conflict_resolved_by_superseding_the_older(qtbot, demo_window):
    panel = open_panel(qtbot, demo_window, "Conflicts")
    maya = PLANTED["contradictions"][0]
    pick(panel, maya)
    assert "numbers differ" in panel.detail.toPlainText()
    older = panel.current().a
    qtbot.keyClick(panel.list, Qt.Key.Key_O)
    wait_idle(qtbot, demo_window)
    assert stored(demo_window, older).valid_to is not None
    demo_window.undo_action.trigger()
    wait_idle(qtbot, demo_window)
    assert stored(demo_window, older).valid_to is None


def test_conflict_resolved_by_editing_either_memory_in_place(qtbot, demo_window):
    service = demo_window.page.service
    panel = open_panel(qtbot, demo_window, "Conflicts")
    lisbon = set(PLANTED["contradictions"][1])
    pick(panel, lisbon)
    pair = panel.current()
    before = {m: stored(demo_window, m) for m in lisbon}
    qtbot.keyClick(panel.list, Qt.Key.Key_E)
    assert panel.editor.isVisible() and panel.editor.texts() == {
        pair.a: "Carol lives in Lisbon.",
        pair.b: "Carol lives in Porto.",
    }
    qtbot.keyClick(panel.detail, Qt.Key.Key_K)  # triage keys wait while the edit is open
    assert panel.editor.isVisible() and panel.current() == pair
    older = panel.editor.edits[pair.a]
    older.setPlainText("   ")
    panel.save_edit()
    assert "empty: nothing was saved" in panel.status.text() and panel.editor.isVisible()

    older.setPlainText("Carol lives in Madrid.")  # corrected, but still not Porto
    qtbot.keyClick(older, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    wait_idle(qtbot, demo_window)
    assert not panel.editor.isVisible()
    assert stored(demo_window, pair.a).text == "Carol lives in Madrid."
    assert stored(demo_window, pair.b) == before[pair.b]
    assert demo_window.undo_action.text() == "&Undo Correct 1 memory"
    assert service.history(pair.a)[-1].op == "edit"
    assert panel.current().reasons == ("names differ: Madrid vs Porto",)  # still listed, told again

    qtbot.keyClick(panel.list, Qt.Key.Key_E)
    panel.editor.edits[pair.a].setPlainText("Carol lived in Lisbon before moving to Porto.")
    panel.editor.edits[pair.b].setPlainText("Carol lives in Porto since 2025.")
    qtbot.keyClick(panel.editor.edits[pair.b], Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    wait_idle(qtbot, demo_window)
    assert stored(demo_window, pair.b).text == "Carol lives in Porto since 2025."
    assert demo_window.undo_action.text() == "&Undo Correct 2 memories"  # both, one step
    assert not any({c.a, c.b} == lisbon for c in panel.items)  # they no longer disagree

    demo_window.undo_action.trigger()
    wait_idle(qtbot, demo_window)
    assert panel.current().reasons == ("names differ: Madrid vs Porto",)  # back, where the user is
    demo_window.undo_action.trigger()
    wait_idle(qtbot, demo_window)
    assert {m: stored(demo_window, m) for m in lisbon} == before
    assert panel.current() == pair


def test_keep_one_of_a_cluster_archives_the_others_and_undoes(qtbot, demo_window):
    page = demo_window.page
    panel = open_panel(qtbot, demo_window, "Duplicates")
    pick(panel, NURSE)
    before = {m: stored(demo_window, m) for m in NURSE}
    assert {panel.members.item(n).data(Qt.ItemDataRole.UserRole) for n in range(3)} == NURSE
    assert panel.kept() in NURSE and set(page.selection.ids) == NURSE  # the most complete is offered
    keep = min(NURSE)
    panel.members.setCurrentRow(panel.current().ids.index(keep))
    assert page.selection.ids == [keep]  # the one to keep, alone in the inspector
    qtbot.keyClick(panel.members, Qt.Key.Key_O)
    wait_idle(qtbot, demo_window)
    assert stored(demo_window, keep) == before[keep]
    assert all(stored(demo_window, m).status == Status.ARCHIVED for m in NURSE - {keep})
    assert not any(set(c.ids) & NURSE for c in panel.items)
    assert demo_window.undo_action.text() == "&Undo Keep 1 of 3 memories"
    assert page.service.history(max(NURSE))[-1].reason == f"duplicates of {keep}"

    demo_window.undo_action.trigger()
    wait_idle(qtbot, demo_window)
    assert {m: stored(demo_window, m) for m in NURSE} == before
    assert set(panel.current().ids) == NURSE  # back in the list, where the user is


def test_review_queue_keyboard_triage(qtbot, demo_window):
    panel = open_panel(qtbot, demo_window, "Review")
    first = panel.current().record.id
    assert first in {g[0] for g in PLANTED["hallucinations"]}
    assert "SOURCE TURNS" in panel.detail.toPlainText()
    panel.reason.setText("no turn mentions it")
    qtbot.keyClick(panel.list, Qt.Key.Key_A)
    wait_idle(qtbot, demo_window)
    assert stored(demo_window, first).status == Status.ARCHIVED
    assert demo_window.page.service.history(first)[-1].reason == "no turn mentions it"
    assert panel.progress.text() == f"Reviewed 1 of {panel.total}"

    second = panel.current().record.id
    qtbot.keyClick(panel.list, Qt.Key.Key_V)
    third = panel.current().record.id
    qtbot.keyClick(panel.list, Qt.Key.Key_S)
    wait_idle(qtbot, demo_window)
    assert stored(demo_window, second).status == Status.VERIFIED
    assert demo_window.page.service.history(third)[-1].op == "review-skip"
    assert panel.progress.text() == f"Reviewed 3 of {panel.total}"


def test_review_edit_counts_once_saved_and_keeps_the_reason(qtbot, demo_window):
    service = demo_window.page.service
    panel = open_panel(qtbot, demo_window, "Review")
    first = panel.current().record
    qtbot.keyClick(panel.list, Qt.Key.Key_E)
    assert panel.editor.isVisible() and list(panel.editor.texts()) == [first.id]
    assert panel.editor.edits[first.id].toPlainText() == first.text
    assert panel.progress.text() == f"Reviewed 0 of {panel.total}"  # not yet: nothing is saved
    qtbot.keyClick(panel.editor.edits[first.id], Qt.Key.Key_Escape)
    assert not panel.editor.isVisible() and panel.current().record.id == first.id
    assert service.history(first.id)[-1].op == "add"

    qtbot.keyClick(panel.list, Qt.Key.Key_E)
    edit = panel.editor.edits[first.id]
    edit.setPlainText("Alice would like to visit Japan someday.")
    panel.reason.setText("her turns only mention Japan")
    assert panel.progress.text() == f"Reviewed 0 of {panel.total}"
    qtbot.keyClick(edit, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    wait_idle(qtbot, demo_window)
    assert stored(demo_window, first.id).text == "Alice would like to visit Japan someday."
    last = service.history(first.id)[-1]
    assert (last.op, last.reason) == ("edit", "her turns only mention Japan")
    assert panel.progress.text() == f"Reviewed 1 of {panel.total}"
    assert first.id not in {s.record.id for s in panel.items} and panel.reason.text() == ""
    demo_window.undo_action.trigger()
    wait_idle(qtbot, demo_window)
    assert stored(demo_window, first.id) == first


def test_trash_restores_and_purges_with_confirmation(qtbot, demo_window):
    page = demo_window.page
    victims = page.model.ids[:2]
    page.set_status(victims, Status.DELETED)
    wait_idle(qtbot, demo_window)
    panel = open_panel(qtbot, demo_window, "Trash")
    assert {r.id for r in panel.items} == set(victims)
    pick(panel, [victims[0]])
    qtbot.keyClick(panel.list, Qt.Key.Key_R)
    wait_idle(qtbot, demo_window)
    assert page.service.get(victims[0]).status == Status.ACTIVE

    pick(panel, [victims[1]])
    answer_next_dialog(qtbot, QMessageBox.StandardButton.Yes)
    panel.purge()
    wait_idle(qtbot, demo_window)
    assert page.service.get(victims[1]) is None
    assert page.service.store.get([victims[1]]) == []
    demo_window.undo_action.trigger()  # the purge
    wait_idle(qtbot, demo_window)
    assert stored(demo_window, victims[1]).status == Status.DELETED
    assert victims[1] in {r.id for r in panel.items}
    demo_window.undo_action.trigger()  # the restore
    wait_idle(qtbot, demo_window)
    assert {r.id for r in panel.items} == set(victims)


def test_an_archived_memory_waits_in_the_trash(qtbot, demo_window):
    page = demo_window.page
    victim = page.model.ids[0]
    original = stored(demo_window, victim)
    page.set_status([victim], Status.ARCHIVED)
    wait_idle(qtbot, demo_window)
    assert victim not in page.model.ids
    panel = open_panel(qtbot, demo_window, "Trash")
    pick(panel, [victim])
    assert panel.list.currentItem().text().startswith("archived · ")
    qtbot.keyClick(panel.list, Qt.Key.Key_R)
    wait_idle(qtbot, demo_window)
    assert stored(demo_window, victim).status == Status.ACTIVE and victim in page.model.ids
    assert panel.items == []
    demo_window.undo_action.trigger()
    wait_idle(qtbot, demo_window)
    assert stored(demo_window, victim).status == Status.ARCHIVED
    assert [r.id for r in panel.items] == [victim]
    demo_window.undo_action.trigger()
    wait_idle(qtbot, demo_window)
    assert stored(demo_window, victim) == original


def test_bulk_dialog_previews_exactly_and_applies_as_one_step(qtbot, demo_window):
    page = demo_window.page
    ids = page.model.ids[:3]
    page.selection.set(ids)

    def fill_and_apply():
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, BulkDialog):
            QTimer.singleShot(20, fill_and_apply)
            return
        dialog.add_tags.setText("needs-review")
        dialog.user.setText("erin")
        assert dialog.table.rowCount() == 3
        assert (
            "user erin" in dialog.table.item(0, 2).text() and "needs-review" in dialog.table.item(0, 2).text()
        )
        dialog.accept()

    QTimer.singleShot(20, fill_and_apply)
    demo_window.bulk_action.trigger()
    wait_idle(qtbot, demo_window)
    assert all(stored(demo_window, m).user_id == "erin" for m in ids)
    assert demo_window.undo_action.text().startswith("&Undo Bulk tag needs-review; user → erin")
    demo_window.undo_action.trigger()
    wait_idle(qtbot, demo_window)
    assert all(stored(demo_window, m).user_id != "erin" for m in ids)


def test_bulk_preview_counts_only_what_changes(qtbot, demo_window):
    service = demo_window.page.service
    bob = [m for m in demo_window.page.model.ids if service.get(m).user_id == "bob"][:4]
    dialog = BulkDialog(service, bob, "4 selected")
    qtbot.addWidget(dialog)
    dialog.user.setText("bob")  # already bob: nothing changes, Apply is off
    assert dialog.table.rowCount() == 0
    assert not dialog.buttons.buttons()[0].isEnabled()


def test_bulk_on_the_filter_changes_only_what_it_lists(qtbot, demo_window):
    page = demo_window.page
    service = page.service
    page.filter_bar.user.setCurrentText("carol")
    wait_idle(qtbot, demo_window)
    listed = list(page.model.ids)
    assert listed and all(service.get(m).user_id == "carol" for m in listed)
    before = {m: stored(demo_window, m) for m in service.select_all()}
    page.selection.set(listed[:1])

    def fill_and_apply():
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, BulkDialog):
            QTimer.singleShot(20, fill_and_apply)
            return
        assert dialog.windowTitle() == f"Bulk change: {len(listed)} listed by the filter"
        dialog.add_tags.setText("carol-audit")
        assert dialog.table.rowCount() == len(listed)
        dialog.accept()

    QTimer.singleShot(20, fill_and_apply)
    demo_window.bulk_action.trigger()
    wait_idle(qtbot, demo_window)
    now = {m: stored(demo_window, m) for m in service.select_all()}
    assert {m for m in now if now[m] != before[m]} == set(listed)
    assert all("carol-audit" in now[m].tags for m in listed)
    demo_window.undo_action.trigger()
    wait_idle(qtbot, demo_window)
    assert {m: stored(demo_window, m) for m in service.select_all()} == before


@pytest.fixture
def test_keyring_entry(monkeypatch):
    """A key set in the test never lands on (or replaces) a real desktop keyring entry."""
    monkeypatch.setattr(llm, "KEYRING_USER", f"llm-test-{uuid.uuid4().hex[:8]}")
    yield
    llm.save_key(None)
    llm.configure()


def files_holding(text: str, *folders: Path) -> list[Path]:
    found = []
    for folder in folders:
        for path in [folder] if folder.is_file() else sorted(folder.rglob("*")):
            if path.is_file() and text.encode() in path.read_bytes():
                found.append(path)
    return found


def test_language_model_settings_keep_the_key_out_of_files_and_judge_the_queue(
    qtbot, demo_window, tmp_path, monkeypatch, test_keyring_entry
):
    for name in ("MEMLENS_LLM_BASE_URL", "MEMLENS_LLM_API_KEY", "OPENAI_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    secret = f"sk-test-{uuid.uuid4().hex}"
    bad = PLANTED["hallucinations"]

    def reply(messages):
        user = messages[-1]["content"]
        supported = demo_window.page.service.get(bad[0][0]).text in user
        return json.dumps({"supported": supported, "reason": "checked against the turns"})

    with FakeOpenAI(reply) as server:
        dialog = LLMSettingsDialog(demo_window.settings, demo_window.workers, demo_window)
        qtbot.addWidget(dialog)
        backend = llm.keyring_backend()
        assert ("session only" in dialog.note.text()) == (backend is None)
        dialog.base_url.setText(server.base_url)
        dialog.model.setText("judge-model")
        dialog.key.setText(secret)
        dialog.accept()
        assert dialog.kept_in == (llm.KEYRING if backend else llm.SESSION)
        assert demo_window.settings.value("llm/base_url") == server.base_url

        panel = demo_window.page.panels["Review"]
        panel.use_model.setChecked(True)
        panel = open_panel(qtbot, demo_window, "Review")  # the model is asked off the GUI thread
        assert panel.use_model.isEnabled() and panel.use_model.isChecked()
        weak = {s.record.id for s in panel.items if s.origin == "weak support"}
        assert bad[0][0] not in weak and {m for (m,) in bad[1:]} <= weak
        assert len(server.requests) == len(weak) + 1  # the one the model found supported, too
        assert all(r["auth"] == f"Bearer {secret}" for r in server.requests)
        assert {r["body"]["model"] for r in server.requests} == {"judge-model"}

    demo_window.settings.sync()
    settings_file, store = Path(demo_window.settings.fileName()), tmp_path / "store"
    data_dir = Path(os.environ["MEMLENS_DATA_DIR"])  # may hold nothing for a folder store
    assert files_holding(server.base_url, settings_file)  # the scan reads what was written
    assert files_holding("Carol lives in Porto", store)  # and the store's files
    assert files_holding(secret, settings_file, data_dir, store) == []


def test_a_key_in_the_system_keyring_is_read_off_the_gui_thread_after_a_restart(
    qtbot, demo_window, tmp_path, monkeypatch, test_keyring_entry
):
    keyring = pytest.importorskip("keyring")
    for name in ("MEMLENS_LLM_BASE_URL", "MEMLENS_LLM_API_KEY", "OPENAI_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    desktop = json_file_keyring(tmp_path / "desktop-keyring.json")
    before = keyring.get_keyring()
    keyring.set_keyring(desktop)
    secret = f"sk-test-{uuid.uuid4().hex}"
    try:
        with FakeOpenAI(lambda messages: json.dumps({"supported": True, "reason": "ok"})) as server:
            dialog = LLMSettingsDialog(demo_window.settings, demo_window.workers, demo_window)
            qtbot.addWidget(dialog)
            dialog.base_url.setText(server.base_url)
            dialog.key.setText(secret)
            dialog.accept()
            assert dialog.kept_in == llm.KEYRING

            # The next start: nothing in memory, only the settings (which hold no key).
            monkeypatch.setattr(llm, "_session_key", None)
            monkeypatch.setattr(llm, "_read", {})
            apply_settings(demo_window.settings)
            desktop.readers.clear()
            panel = demo_window.page.panels["Review"]
            panel.use_model.refresh()
            assert panel.use_model.isEnabled()  # offered without asking the keyring
            assert desktop.readers == []
            panel.use_model.setChecked(True)
            open_panel(qtbot, demo_window, "Review")
            assert server.requests and all(r["auth"] == f"Bearer {secret}" for r in server.requests)
            assert desktop.readers and "MainThread" not in desktop.readers
    finally:
        keyring.set_keyring(before)
    assert files_holding(secret, Path(demo_window.settings.fileName()), tmp_path / "store") == []
