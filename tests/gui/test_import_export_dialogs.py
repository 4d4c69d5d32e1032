"""File ▸ Import… and File ▸ Export… in a real window: problems listed by line before
anything is written, progress while importing, and files a spreadsheet opens."""

from __future__ import annotations

import csv
import json

from PySide6.QtCore import Qt

from gui_support import column_values, wait_idle


def _sessions_with_problems(tmp_path):
    doc = {
        "user_id": "alice",
        "sessions": [
            {
                "id": "monday",
                "started_at": "2024-05-06T09:00:00Z",
                "turns": [
                    {"role": "user", "text": "I moved to Lyon last week."},
                    {"role": "assistant", "text": "Welcome to Lyon!"},
                    {"role": "user", "text": "My sister <b>Zoe</b> visits in June."},
                ],
            },
            {"id": "tuesday", "turns": [{"role": "robot", "text": "beep"}]},
            {"id": "wednesday", "turns": [{"role": "user"}], "started_at": "last wednesday"},
        ],
    }
    path = tmp_path / "sessions.json"
    path.write_text(json.dumps(doc, indent=2), encoding="utf-8")
    return path


def test_import_dialog_lists_problems_then_imports_the_valid_part(qtbot, open_window, tmp_path):
    window = open_window(tmp_path / "store")
    dialog = window.import_file(_sessions_with_problems(tmp_path))
    qtbot.waitUntil(lambda: dialog.parsed is not None, timeout=30000)

    assert dialog.format_used == "sessions-json"
    problems = [
        (dialog.errors.item(r, 0).text(), dialog.errors.item(r, 1).text())
        for r in range(dialog.errors.rowCount())
    ]
    lines = (tmp_path / "sessions.json").read_text().splitlines()
    robot = next(n for n, line in enumerate(lines, 1) if '"robot"' in line) - 1
    roles = "assistant, developer, function, system, tool, user"
    assert problems[0] == (str(robot), f"sessions[1].turns[0].role must be one of {roles}, not 'robot'")
    assert problems[1][1] == "sessions[2].started_at: 'last wednesday' is not an ISO-8601 time"
    assert dialog.tabs.currentWidget() is dialog.errors
    assert "2 memories ready to import; 2 problem(s)" in dialog.summary.text()
    assert dialog.preview.item(1, 0).text() == "My sister <b>Zoe</b> visits in June."  # plain text
    assert not dialog.import_button.isEnabled()  # problems stop the import...

    dialog.skip.setChecked(True)  # ...unless the user skips them
    assert dialog.import_button.isEnabled()
    qtbot.mouseClick(dialog.import_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dialog.importing, timeout=60000)
    wait_idle(qtbot, window)
    assert dialog.summary.text().startswith("Imported 2 memories into 'memories', skipped 2 line(s)")
    assert sorted(column_values(window.page, "Memory")) == [
        "I moved to Lyon last week.",
        "My sister <b>Zoe</b> visits in June.",
    ]
    assert window.undo_action.text() == "&Undo Import sessions.json"
    assert not dialog.import_button.isEnabled()  # imported once; again would clash


def test_import_of_existing_ids_is_refused_in_the_dialog(qtbot, open_window, tmp_path):
    window = open_window(tmp_path / "store")
    path = tmp_path / "one.jsonl"
    path.write_text(json.dumps({"id": "m1", "text": "Alice likes tea"}) + "\n", encoding="utf-8")
    for expected in ("Imported 1 memories", "1 id(s) already exist in 'memories' (first: 'm1')"):
        dialog = window.import_file(path)
        qtbot.waitUntil(lambda d=dialog: d.parsed is not None, timeout=30000)
        qtbot.mouseClick(dialog.import_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda d=dialog: not d.importing, timeout=60000)
        assert dialog.summary.text().startswith(expected)
        dialog.close()
    assert len(window.service) == 1


def test_export_dialog_writes_what_the_table_lists(qtbot, demo_window, tmp_path):
    page = demo_window.page
    listed = list(page.model.ids)
    dialog = demo_window.export_file()
    dialog.format.setCurrentIndex(dialog.format.findData("csv"))
    target = tmp_path / "demo.csv"
    dialog.path.setText(str(target))
    qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.written is not None, timeout=60000)
    assert dialog.summary.text() == f"Wrote {len(listed):,} memories to {target}."
    with open(target, encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["id"] for r in rows] == list(reversed(listed))  # oldest first

    dialog.path.setText(str(tmp_path / "missing" / "demo.csv"))
    qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dialog.exporting and "Nothing was written" in dialog.summary.text())
    assert "No such file or directory" in dialog.summary.text()


def test_import_progress_moves_while_embedding(qtbot, open_window, tmp_path):
    window = open_window(tmp_path / "store")
    path = tmp_path / "many.jsonl"
    path.write_text(
        "".join(json.dumps({"text": f"note {n}"}) + "\n" for n in range(520)),  # embedded 500 at a time
        encoding="utf-8",
    )
    dialog = window.import_file(path)
    qtbot.waitUntil(lambda: dialog.parsed is not None, timeout=30000)
    seen: list[int] = []
    dialog.progress.valueChanged.connect(seen.append)
    qtbot.mouseClick(dialog.import_button, Qt.MouseButton.LeftButton)
    assert dialog.progress.isVisible() and dialog.progress.maximum() == 520
    assert dialog.progress.format() == "Embedding and writing: %v of %m"
    qtbot.waitUntil(lambda: not dialog.importing, timeout=60000)
    wait_idle(qtbot, window)
    assert seen[0] == 0 and seen[-1] == 520
    assert any(0 < v < 520 for v in seen)  # a step between: the bar moved, not jumped to the end
    assert seen == sorted(seen)
    assert not dialog.progress.isVisible()
    assert dialog.summary.text().startswith("Imported 520 memories")
