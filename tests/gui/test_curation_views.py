"""Curation in the window: duplicates, conflicts, review queue, trash, merge and bulk dialogs."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from fake_openai import FakeOpenAI
from gui_support import wait_idle
from memlens.core.demo import generate_demo
from memlens.core.dismissals import Dismissals
from memlens.core.duplicates import DuplicateFinder
from memlens.core.record import Status
from memlens.gui.bulk_dialog import BulkDialog
from memlens.gui.merge_dialog import MergeDialog

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


def test_keep_all_dismisses_for_good(qtbot, demo_window):
    panel = open_panel(qtbot, demo_window, "Duplicates")
    pick(panel, NURSE)
    qtbot.keyClick(panel.list, Qt.Key.Key_K)
    assert not any(set(c.ids) == NURSE for c in panel.items)
    service = demo_window.page.service
    dismissed = Dismissals(service.journal.path, service.store.collection).pairs("duplicate")
    assert not any(set(c.ids) >= NURSE for c in DuplicateFinder(service).clusters(0.85, dismissed))


def test_merge_dialog_shows_sources_side_by_side_and_asks_the_model(qtbot, demo_window, monkeypatch):
    for name in ("MEMLENS_LLM_BASE_URL", "MEMLENS_LLM_API_KEY", "OPENAI_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr("memlens.core.llm._keyring_key", lambda: None)  # the desktop's keyring
    sources = demo_window.page.service.records(sorted(NURSE))
    dialog = MergeDialog(sources, demo_window.workers)
    qtbot.addWidget(dialog)
    assert not dialog.suggest.isEnabled()  # no model configured: the button says how to set one
    assert "bob" in dialog.summary.text() and "3 sources are archived" in dialog.summary.text()

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

    def confirm():
        box = QApplication.activeModalWidget()
        if isinstance(box, QMessageBox):
            box.button(QMessageBox.StandardButton.Yes).click()
        else:
            QTimer.singleShot(20, confirm)

    QTimer.singleShot(20, confirm)
    panel.purge()
    wait_idle(qtbot, demo_window)
    assert page.service.get(victims[1]) is None
    assert page.service.store.get([victims[1]]) == []


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
