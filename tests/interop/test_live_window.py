"""The window on a Chroma server while an agent (Mem0, another process) writes to it: the
views follow within seconds, the user's unsaved edit survives, and an edit of a memory
changed underneath is never saved over theirs without the user choosing."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtWidgets import QApplication, QPlainTextEdit

from gui_support import wait_idle
from memlens.gui.conflict_dialog import ConflictDialog


@pytest.fixture
def live_window(qtbot, tmp_path, embedder, server_spec, start_agent):
    from memlens.gui.main_window import MainWindow

    agent = start_agent(server_spec)
    paris = agent.send(op="add", text="Alice lives in Paris", user_id="alice")["id"]
    cat = agent.send(op="add", text="Alice has a cat named Tom", user_id="alice")["id"]
    window = MainWindow(settings=QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    window.embedder = embedder
    qtbot.addWidget(window)
    window.show()
    window.open_server(server_spec, "mem0")
    qtbot.waitUntil(lambda: window.page is not None or window.banner.isVisible(), timeout=60000)
    wait_idle(qtbot, window)
    yield window, agent, paris, cat
    window.live.stop()
    window.workers.wait()


def _edit_text(qtbot, window, memory_id: str, text: str) -> None:
    window.page.selection.set([memory_id])
    inspector = window.page.inspector
    inspector.text.setFocus()
    inspector.text.selectAll()
    qtbot.keyClicks(inspector.text, text)


def _choose_in_conflict_dialog(button: str, seen: list) -> None:
    """Press a button of the conflict dialog when it opens (it is modal)."""

    def press() -> None:
        dialog = QApplication.activeModalWidget()
        if isinstance(dialog, ConflictDialog):
            seen.append(
                {
                    n: dialog.findChild(QPlainTextEdit, f"conflict-{n}").toPlainText()
                    for n in ("base", "theirs", "mine")
                }
            )
            getattr(dialog, button).click()
        else:
            QTimer.singleShot(50, press)

    QTimer.singleShot(50, press)


def test_window_follows_the_agent_and_keeps_the_unsaved_edit(qtbot, live_window):
    window, agent, paris, cat = live_window
    page, inspector = window.page, window.page.inspector
    assert window.live.running and window.follow_action.isChecked()  # on by default for a server
    _edit_text(qtbot, window, paris, "Alice lives in Paris, near the Louvre")

    violin = agent.send(op="add", text="Alice started learning the violin", user_id="alice")["id"]
    agent.send(op="update", id=paris, text="Alice lives in Berlin")
    agent.send(op="delete", id=cat)
    # Additions and deletions show at the next quick look, changes at the next full one.
    qtbot.waitUntil(
        lambda: (
            violin in page.model.ids
            and cat not in page.model.ids
            and page.service.get(paris).text == "Alice lives in Berlin"
        ),
        timeout=60000,
    )
    wait_idle(qtbot, window)

    assert inspector.record.id == paris
    assert inspector.text.toPlainText() == "Alice lives in Paris, near the Louvre"  # the draft stays
    assert inspector.conflict_notice.isVisible()
    assert "Someone else changed this memory" in inspector.conflict_label.text()
    assert "outside change(s)" in window.live_label.text()

    seen: list = []
    _choose_in_conflict_dialog("keep_mine", seen)
    qtbot.mouseClick(inspector.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(seen), timeout=10000)
    wait_idle(qtbot, window)
    assert seen == [
        {
            "base": "Alice lives in Paris",
            "theirs": "Alice lives in Berlin",
            "mine": "Alice lives in Paris, near the Louvre",
        }
    ]
    mem0 = {m["id"]: m["memory"] for m in agent.send(op="get_all")["results"]}
    assert mem0 == {
        paris: "Alice lives in Paris, near the Louvre",
        violin: "Alice started learning the violin",
    }
    assert not inspector.conflict_notice.isVisible()


def test_a_change_between_looks_is_caught_when_saving(qtbot, live_window):
    window, agent, paris, _cat = live_window
    inspector = window.page.inspector
    window.follow_action.trigger()  # stop following: the next change is not seen before the save
    assert not window.live.running
    _edit_text(qtbot, window, paris, "Alice lives in Paris since 2019")
    agent.send(op="update", id=paris, text="Alice lives in Madrid")

    seen: list = []
    _choose_in_conflict_dialog("take_theirs", seen)
    qtbot.mouseClick(inspector.save_button, Qt.MouseButton.LeftButton)  # the store refuses this save
    qtbot.waitUntil(lambda: bool(seen), timeout=30000)
    wait_idle(qtbot, window)
    assert seen[0]["theirs"] == "Alice lives in Madrid"
    assert inspector.text.toPlainText() == "Alice lives in Madrid"
    assert not inspector.dirty
    mem0 = {m["id"]: m["memory"] for m in agent.send(op="get_all")["results"]}
    assert mem0[paris] == "Alice lives in Madrid"  # nothing was overwritten
    assert window.undo_action.text() == "&Undo"  # and nothing was recorded as done


def test_token_is_used_but_never_remembered(qtbot, tmp_path, embedder, chroma_server):
    from processes import TokenGate

    from memlens.core.server_spec import ServerSpec
    from memlens.gui.main_window import MainWindow
    from memlens.gui.server_dialog import ServerDialog

    gate = TokenGate(chroma_server.port, "Authorization", "Bearer s3cret").start()
    settings = tmp_path / "settings.ini"
    window = MainWindow(settings=QSettings(str(settings), QSettings.Format.IniFormat))
    window.embedder = embedder
    qtbot.addWidget(window)
    try:
        window.open_server(ServerSpec.parse(gate.url, token="s3cret"), "gated")
        qtbot.waitUntil(lambda: window.page is not None or window.banner.isVisible(), timeout=60000)
        wait_idle(qtbot, window)
        assert window.page is not None, window.banner.label.text()
        assert window.store_label.text() == f"{gate.url}"
        window.settings.sync()
        saved = settings.read_text(encoding="utf-8")
        assert gate.url.removeprefix("http://") in saved and "s3cret" not in saved

        # Open Recent asks again (with the address filled in) instead of connecting without it.
        asked: list[str] = []

        def answer() -> None:
            dialog = QApplication.activeModalWidget()
            if isinstance(dialog, ServerDialog):
                asked.append(dialog.url.text())
                dialog.reject()
            else:
                QTimer.singleShot(50, answer)

        window._fill_recent()
        [entry] = [a for a in window.recent_menu.actions() if a.text() == gate.url]
        QTimer.singleShot(50, answer)
        entry.trigger()
        assert asked == [gate.url]
    finally:
        window.live.stop()
        window.workers.wait()
        gate.stop()


def test_keep_editing_keeps_the_draft_on_top_of_their_version(qtbot, live_window):
    window, agent, paris, _cat = live_window
    inspector = window.page.inspector
    window.follow_action.trigger()  # the agent's change is found by the save itself
    _edit_text(qtbot, window, paris, "Alice lives in Paris, 5th floor")
    agent.send(op="update", id=paris, text="Alice lives in Rome")

    seen: list = []
    _choose_in_conflict_dialog("keep_editing", seen)
    qtbot.mouseClick(inspector.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(seen), timeout=30000)
    wait_idle(qtbot, window)
    assert seen[0]["theirs"] == "Alice lives in Rome"
    assert inspector.text.toPlainText() == "Alice lives in Paris, 5th floor"  # still the user's
    assert inspector.dirty and inspector.save_button.isEnabled()
    assert not inspector.conflict_notice.isVisible()  # their version is now the base
    mem0 = {m["id"]: m["memory"] for m in agent.send(op="get_all")["results"]}
    assert mem0[paris] == "Alice lives in Rome"  # nothing saved yet
    assert window.undo_action.text() == "&Undo"

    # Saving now writes the draft over the version the user has seen, without asking again.
    qtbot.mouseClick(inspector.save_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, window)
    assert len(seen) == 1
    mem0 = {m["id"]: m["memory"] for m in agent.send(op="get_all")["results"]}
    assert mem0[paris] == "Alice lives in Paris, 5th floor"
    assert [e.label for e in window.service.history(paris)] == ["Edit text"]
    assert window.undo_action.text() == "&Undo Edit text"


def test_a_memory_deleted_by_the_agent_while_edited_is_not_saved(qtbot, live_window):
    from PySide6.QtWidgets import QMessageBox

    from gui_support import answer_next_dialog

    window, agent, paris, _cat = live_window
    inspector = window.page.inspector
    window.follow_action.trigger()
    _edit_text(qtbot, window, paris, "Alice lives in Paris, near the river")
    agent.send(op="delete", id=paris)

    answer_next_dialog(qtbot, QMessageBox.StandardButton.Ok)  # "Deleted by someone else"
    qtbot.mouseClick(inspector.save_button, Qt.MouseButton.LeftButton)  # the store refuses it
    qtbot.waitUntil(lambda: inspector.conflict_notice.isVisible(), timeout=30000)
    wait_idle(qtbot, window)
    assert "Someone else deleted this memory" in inspector.conflict_label.text()
    assert not inspector.compare_button.isVisible()  # nothing of theirs to compare with
    assert inspector.text.toPlainText() == "Alice lives in Paris, near the river"  # kept to copy
    assert paris not in {m["id"] for m in agent.send(op="get_all")["results"]}  # not brought back
    assert window.service.get(paris) is None
    assert window.undo_action.text() == "&Undo"
