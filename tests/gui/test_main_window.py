"""The main window driven as a user drives it: open, browse, filter, search, edit, undo."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from gui_support import answer_next_dialog, click_row, column_values, type_search, wait_idle
from memlens.core.record import Status
from tests_support import SEED, run_cli

HTML_ID = "demo-0076"


def test_opens_the_demo_store_with_its_memories(demo_window):
    page = demo_window.page
    assert page.model.total() == 324
    assert "324 memories" in demo_window.counts.text()
    created = column_values(page, "Created")
    assert created == sorted(created, reverse=True)  # newest first
    assert demo_window.collection_box.currentData() == "demo"
    assert page.inspector.record is not None  # the first row is shown, not an empty pane


def test_filter_by_user_and_kind(qtbot, demo_window):
    bar = demo_window.page.filter_bar
    bar.user.setCurrentText("bob")
    wait_idle(qtbot, demo_window)
    users = column_values(demo_window.page, "User")
    assert users and set(users) == {"bob"}
    bar.kind.setCurrentText("preference")
    wait_idle(qtbot, demo_window)
    assert set(column_values(demo_window.page, "Kind")) == {"preference"}
    assert bar.count.text() == f"{len(column_values(demo_window.page, 'Kind'))} memories"


def test_keyword_and_semantic_search(qtbot, demo_window):
    type_search(qtbot, demo_window, "epipen", semantic=False)
    texts = column_values(demo_window.page, "Memory")
    assert texts and all("epipen" in t.lower() for t in texts)

    type_search(qtbot, demo_window, "which pet does Dan have", semantic=True)
    page = demo_window.page
    assert page.model.searching
    top = " ".join(column_values(page, "Memory")[:3]).lower()
    assert "biscuit" in top or "beagle" in top
    scores = [float(s) for s in column_values(page, "Score")]
    assert scores == sorted(scores, reverse=True)

    type_search(qtbot, demo_window, "", semantic=True)  # clearing goes back to browsing
    assert page.model.total() == 324 and not page.model.searching


def test_edit_save_undo_redo_with_history(qtbot, demo_window):
    page = demo_window.page
    click_row(qtbot, demo_window, 2)
    memory_id = page.selection.current
    original = page.service.get(memory_id).text
    inspector = page.inspector
    assert inspector.text.toPlainText() == original

    inspector.text.setPlainText("   ")  # emptied: Save waits, and says to delete instead
    assert not inspector.save_button.isEnabled() and "use Delete" in inspector.save_button.toolTip()
    inspector.text.setPlainText(original + " (checked with the user)")
    assert inspector.save_button.isEnabled()
    qtbot.mouseClick(inspector.save_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, demo_window)
    stored = page.service.store.get([memory_id])[0].record
    assert stored.text == original + " (checked with the user)"
    assert demo_window.undo_action.text() == "&Undo Edit text"
    assert "Edit text" in inspector.history.item(inspector.history.count() - 1).text()
    assert "+" + original + " (checked with the user)" in inspector.diff.toPlainText()

    demo_window.undo_action.trigger()
    wait_idle(qtbot, demo_window)
    assert page.service.store.get([memory_id])[0].record.text == original
    assert inspector.text.toPlainText() == original
    demo_window.redo_action.trigger()
    wait_idle(qtbot, demo_window)
    assert page.service.store.get([memory_id])[0].record.text.endswith("(checked with the user)")


def test_delete_goes_to_trash_and_restores(qtbot, demo_window):
    page = demo_window.page
    click_row(qtbot, demo_window, 0)
    memory_id = page.selection.current
    demo_window.delete_action.trigger()
    wait_idle(qtbot, demo_window)
    assert memory_id not in page.model.ids
    assert page.service.store.get([memory_id])[0].record.status == Status.DELETED
    assert "1 in trash" in demo_window.counts.text()

    page.filter_bar.status.setCurrentText("Trash")
    wait_idle(qtbot, demo_window)
    assert page.model.ids == [memory_id]
    click_row(qtbot, demo_window, 0)
    qtbot.mouseClick(page.inspector.restore_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, demo_window)
    assert page.service.get(memory_id).status == Status.ACTIVE
    assert page.model.ids == []


def test_flag_and_verify_from_the_inspector(qtbot, demo_window):
    page = demo_window.page
    click_row(qtbot, demo_window, 1)
    memory_id = page.selection.current
    qtbot.mouseClick(page.inspector.flag_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, demo_window)
    assert page.service.get(memory_id).status == Status.FLAGGED
    assert page.inspector.status.text() == "flagged"
    assert "1 flagged" in demo_window.counts.text()


def test_html_in_a_memory_is_shown_as_text(qtbot, demo_window):
    page = demo_window.page
    raw = page.service.get(HTML_ID).text
    assert "<script>" in raw
    page.selection.set([HTML_ID])
    qtbot.wait(10)
    assert page.inspector.text.toPlainText() == raw
    row = page.model.row_of(HTML_ID)
    assert "<b>bold</b>" in page.model.index(row, 1).data()
    tooltip = page.model.index(row, 1).data(Qt.ItemDataRole.ToolTipRole)
    assert "&lt;script&gt;" in tooltip and "<script>" not in tooltip
    assert page.inspector.title.textFormat() == Qt.TextFormat.PlainText


def test_unsaved_edit_survives_moving_to_another_memory(qtbot, demo_window):
    page = demo_window.page
    click_row(qtbot, demo_window, 0)
    first = page.selection.current
    page.inspector.text.setPlainText("draft text")
    click_row(qtbot, demo_window, 1)
    assert page.inspector.text.toPlainText() != "draft text"
    assert page.inspector.draft_count == 1
    page.selection.set([first])
    assert page.inspector.text.toPlainText() == "draft text"
    assert page.service.get(first).text != "draft text"  # not saved behind the user's back

    # Closing asks before losing the draft; Cancel keeps the window open.
    answer_next_dialog(qtbot, QMessageBox.StandardButton.Cancel)
    assert not demo_window.close()
    assert demo_window.isVisible()
    answer_next_dialog(qtbot, QMessageBox.StandardButton.Discard)
    assert demo_window.close()


def test_open_errors_are_shown_in_the_window(qtbot, open_window, tmp_path):
    junk = tmp_path / "not-a-store"
    junk.mkdir()
    (junk / "photo.jpg").write_bytes(b"\xff\xd8")
    window = open_window(junk)
    assert window.banner.isVisible()
    assert "not a Chroma store" in window.banner.label.text()
    assert window.page is None


def test_undo_history_survives_a_restart(qtbot, open_window, tmp_path):
    store = tmp_path / "store"
    first = open_window(store, demo=True)
    page = first.page
    page.set_status([page.model.id_at(0)], Status.ARCHIVED)
    wait_idle(qtbot, first)
    first.close()
    second = open_window(store, demo=True)
    assert second.undo_action.isEnabled()
    assert second.undo_action.text() == "&Undo Archive 1 memory"
    second.undo_action.trigger()
    wait_idle(qtbot, second)
    assert second.page.service.status_counts()[Status.ARCHIVED] == 0


@pytest.fixture
def small_window(open_window, make_service, store_dir):
    """A window on four memories (quicker to make than the demo store)."""
    make_service().add(SEED)
    return open_window(store_dir)


def _press(qtbot, window, key: Qt.Key, modifiers: Qt.KeyboardModifier) -> None:
    """A key press as the user makes it, with the table (not a text field) focused."""
    window.activateWindow()
    window.page.table.setFocus()
    qtbot.keyClick(window.page.table, key, modifiers)


def _journal_ids(window) -> list[str]:
    applied, undone = window.service.undo_stack()
    return [g.id for g in [*applied, *undone]]


def test_ctrl_z_right_after_save_waits_for_the_save(qtbot, small_window):
    window = small_window
    page, inspector = window.page, window.page.inspector
    click_row(qtbot, window, 3)
    memory_id = page.selection.current
    original = page.service.get(memory_id).text
    page.set_status([page.model.id_at(0)], Status.FLAGGED)  # an older step on the stack
    wait_idle(qtbot, window)
    assert window.undo_action.text() == "&Undo Flag 1 memory"

    inspector.text.setPlainText(original + " (re-checked)")
    qtbot.mouseClick(inspector.save_button, Qt.MouseButton.LeftButton)  # re-embeds off-thread
    assert not window.undo_action.isEnabled()  # the save is queued: nothing to undo yet
    _press(qtbot, window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    wait_idle(qtbot, window)
    assert page.service.get(memory_id).text == original + " (re-checked)"  # the press undid nothing
    assert page.service.status_counts()[Status.FLAGGED] == 1
    assert window.undo_action.text() == "&Undo Edit text"
    assert window.undo_stack.group_ids() == _journal_ids(window)

    _press(qtbot, window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert not window.redo_action.isEnabled()  # the undo itself is a write under way
    wait_idle(qtbot, window)
    assert page.service.store.get([memory_id])[0].record.text == original
    assert inspector.text.toPlainText() == original
    assert page.service.status_counts()[Status.FLAGGED] == 1  # one step back, not two
    assert window.redo_action.text() == "&Redo Edit text"

    shift_ctrl = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    _press(qtbot, window, Qt.Key.Key_Z, shift_ctrl)
    wait_idle(qtbot, window)
    assert page.service.store.get([memory_id])[0].record.text == original + " (re-checked)"
    assert window.undo_stack.index() == window.undo_stack.count()
    assert window.undo_stack.group_ids() == _journal_ids(window)


def test_undo_is_refused_when_another_writer_moved_the_journal(qtbot, small_window, capsys):
    window = small_window
    page = window.page
    archived, deleted = page.model.id_at(0), page.model.id_at(1)
    page.set_status([archived], Status.ARCHIVED)
    wait_idle(qtbot, window)
    assert window.undo_action.text() == "&Undo Archive 1 memory"
    store = str(page.service.store.location)
    # Another process (the command line) writes to the same store and journal.
    code, _out, err = run_cli(capsys, "delete", deleted, "--store", store)
    assert code == 0, err

    _press(qtbot, window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    wait_idle(qtbot, window)
    message = window.banner.label.text()
    assert "the next undo in the journal is 'Delete 1 memory'" in message
    assert "The Undo list was rebuilt from the journal." in message
    assert page.service.store.get([archived])[0].record.status == Status.ARCHIVED  # nothing undone
    assert window.undo_action.text() == "&Undo Delete 1 memory"  # the journal's own next step
    assert window.undo_stack.group_ids() == _journal_ids(window)

    _press(qtbot, window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    wait_idle(qtbot, window)
    assert page.service.store.get([deleted])[0].record.status == Status.ACTIVE
    assert window.undo_action.text() == "&Undo Archive 1 memory"
