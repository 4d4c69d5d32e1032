"""`memlens --screenshot FILE`: the picture is saved once the collection is on screen, and
a store that cannot be opened ends the run with its reason instead of waiting."""

from __future__ import annotations

from PySide6.QtGui import QImage

from memlens.gui.snapshot import Snapshot


def test_the_picture_shows_the_collection_once_it_is_loaded(qtbot, open_window, tmp_path):
    window = open_window()
    window.resize(1200, 800)
    picture = tmp_path / "shots" / "window.png"
    ended = []
    snapshot = Snapshot(window, picture, on_done=ended.append)
    window.open_demo(tmp_path / "store")
    qtbot.waitUntil(lambda: snapshot.exit_code is not None, timeout=120000)
    assert snapshot.exit_code == 0 and ended == [0]
    assert window.page is not None and window.page.model.rowCount() > 0  # it waited for the rows
    image = QImage(str(picture))
    assert (image.width(), image.height()) == (window.width(), window.height())


def test_a_store_that_cannot_open_ends_the_run_with_its_reason(qtbot, open_window, tmp_path, capsys):
    not_a_store = tmp_path / "notes"
    not_a_store.mkdir()
    (not_a_store / "chroma.sqlite3").write_text("this is not a database")
    window = open_window()
    snapshot = Snapshot(window, tmp_path / "window.png", timeout_s=60)
    window.open_store(not_a_store)
    qtbot.waitUntil(lambda: snapshot.exit_code is not None, timeout=30000)
    assert snapshot.exit_code == 1
    assert (tmp_path / "window.png").is_file()  # the picture shows the message
    assert "is not a readable Chroma store" in capsys.readouterr().err
