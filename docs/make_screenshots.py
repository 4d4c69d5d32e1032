"""Render the documentation screenshots offscreen from a fresh demo store.

    .venv/bin/python docs/make_screenshots.py          # writes docs/screenshots/*.png
    .venv/bin/python docs/make_screenshots.py session  # only live-session-demo.png

Uses a throw-away data folder, so the user's own stores are never touched.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
OUT = Path(__file__).resolve().parent / "screenshots"


def main() -> int:
    tmp = Path(tempfile.mkdtemp(prefix="memlens-shots-"))
    os.environ["MEMLENS_DATA_DIR"] = str(tmp / "data")
    from PySide6.QtCore import QSettings

    from memlens.core.ranking import Blend
    from memlens.core.record import Status
    from memlens.gui.app import make_app
    from memlens.gui.main_window import MainWindow

    app = make_app()
    window = MainWindow(settings=QSettings(str(tmp / "settings.ini"), QSettings.Format.IniFormat))
    window.resize(1500, 880)
    window.show()

    def settle(condition=lambda: True, timeout: float = 120.0) -> None:
        end = time.monotonic() + timeout
        while time.monotonic() < end and not (condition() and not window.workers.busy):
            app.processEvents()
            time.sleep(0.02)
        for _ in range(20):
            app.processEvents()

    def settle_for(seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            app.processEvents()
            time.sleep(0.02)

    window.open_demo()
    settle(lambda: window.page is not None)
    page = window.page
    service = page.service
    # A little real curation so the history has something to show.
    target = "demo-0143"  # a planted hallucination: a flight nobody booked
    service.set_status([target], Status.FLAGGED, reason="source turns only say 'someday'")
    service.edit(
        target, text="Alice would like to visit Japan someday; nothing is booked.", reason="matches source"
    )
    settle()
    page.selection.set([target])
    settle()
    OUT.mkdir(parents=True, exist_ok=True)
    window.grab().save(str(OUT / "main-window.png"))
    page.inspector.tabs.setCurrentIndex(3)
    settle()
    window.grab().save(str(OUT / "inspector-history.png"))
    page.inspector.tabs.setCurrentIndex(1)
    settle()
    window.grab().save(str(OUT / "inspector-metadata.png"))
    page.inspector.tabs.setCurrentIndex(0)
    page.filter_bar.search.setText("food allergies")
    settle(lambda: page.model.searching)
    window.grab().save(str(OUT / "semantic-search.png"))
    page.filter_bar.search.setText("")
    settle(lambda: not page.model.searching)
    page.selection.set(["demo-0041"])  # Bob's daughter Maya: a planted contradiction
    for tab, name in ((1, "graph-demo"), (2, "map-demo")):
        page.views.setCurrentIndex(tab)
        settle(lambda: page.scene is not None)
        settle_for(0.3)
        window.grab().save(str(OUT / f"{name}.png"))

    # The retrieval debugger: a question, its trace, and why a memory stayed out.
    page.filter_bar.search.setText("Where is Alice travelling?")
    settle(lambda: page.model.searching)
    page.show_view("Traces")
    traces = page.traces_panel
    settle(lambda: traces.list.count() > 0)
    traces.list.setCurrentRow(0)
    settle(lambda: traces.cutoff.isVisible())
    returned = set(traces.trace.ids)
    traces.hits.selectRow(0)
    settle_for(0.3)
    window.grab().save(str(OUT / "trace-demo.png"))
    # A memory about travel that the top 50 left out: why?
    candidates = [r for r in service.records(service.select()) if r.id not in returned]
    left_out = next((r.id for r in candidates if "trip" in r.text.lower()), candidates[0].id)
    page.selection.set([left_out])
    settle(lambda: left_out in traces.why.text())
    settle_for(0.2)
    window.grab().save(str(OUT / "why-not-demo.png"))
    # An agent's blended retrieval: each signal's part of each score, and a memory that
    # similarity alone would have returned, out-scored by fresher or weightier ones.
    blend = Blend(similarity=0.6, recency=0.2, importance=0.2)
    question = "What does Bob like to eat?"
    service.semantic_search(question, k=5, origin="agent:demo-chat", session_id="demo-chat", blend=blend)
    traces.load()
    traces.list.setCurrentRow(0)
    settle(lambda: traces.trace is not None and traces.trace.source and traces.cutoff.isVisible())
    blended = traces.trace
    plain = [h.record.id for h in service.semantic_search(question, k=5, origin="cli")]
    out_scored = next((i for i in plain if i not in blended.ids), plain[-1])
    page.selection.set([out_scored])
    settle(lambda: out_scored in traces.why.text())
    settle_for(0.2)
    window.grab().save(str(OUT / "trace-blend-demo.png"))
    page.show_view("Semantic map")
    settle_for(0.3)
    window.grab().save(str(OUT / "map-query-demo.png"))
    page.filter_bar.search.setText("")
    settle(lambda: not page.model.searching)

    page.views.setCurrentIndex(0)
    for name in ("Duplicates", "Review", "Conflicts"):
        page.show_view(name)
        settle(lambda n=name: page.panels[n].loaded)
        settle_for(0.2)
        window.grab().save(str(OUT / f"{name.lower()}-demo.png"))
    from memlens.gui.merge_dialog import MergeDialog

    dupes = page.panels["Duplicates"]
    dialog = MergeDialog(service.records(dupes.current().ids), window.workers, parent=window)
    dialog.show()
    settle_for(0.3)
    dialog.grab().save(str(OUT / "merge-dialog.png"))
    dialog.close()

    # The timeline after some curation: an edit (above), a merge, a delete and a restore,
    # each a mark on its memory's row.
    from memlens.core.merge import merge

    _change, merged = merge(service, dupes.current().ids, reason="one fact, said three times")
    doomed = "demo-0131"  # a planted hallucination: deleted, then restored to check it again
    service.delete([doomed], reason="no source says so")
    service.restore([doomed], reason="check it against the transcript first")
    settle()
    page.selection.set([merged.id])
    page.show_view("Timeline")
    settle(lambda: page.timeline.data is not None)
    settle_for(0.5)
    window.grab().save(str(OUT / "timeline-demo.png"))

    locomo = Path(__file__).resolve().parents[2] / "shared" / "data" / "locomo" / "locomo10.json"
    if locomo.is_file():
        from memlens.core.importers.locomo import read_locomo

        records = read_locomo(locomo, {"conv-26"}).records
        service.store._backend.open("locomo-conv-26", create=True)
        window.open_store(service.store.location, "locomo-conv-26")
        settle(lambda: window.page is not page)
        window.page.service.add(records, actor="import", label="Import LoCoMo conv-26")
        settle()
        loc = window.page
        loc.selection.set([records[0].id])
        for tab, name in (
            (0, "table-locomo"),
            (1, "graph-locomo"),
            (2, "map-locomo"),
            (3, "timeline-locomo"),
        ):
            loc.views.setCurrentIndex(tab)
            settle(
                lambda t=tab: t == 0 or (loc.scene is not None if t < 3 else loc.timeline.data is not None)
            )
            settle_for(0.3)
            window.grab().save(str(OUT / f"{name}.png"))
    print(f"wrote {len(list(OUT.glob('*.png')))} screenshots to {OUT}")
    window.workers.wait()
    return 0


# -- a live agent session (the chat agent plugin on a local stand-in for a model) ---------
SESSION_SCRIPT = (  # (what Alice says, the answer, the memory decisions)
    (
        "My half marathon moved: Run in Lyon is on 25 October now, not the 18th.",
        "Thanks, Alice, noted: Run in Lyon is on 25 October. One more week of training; keep the "
        "long run on Sunday mornings and go easy on that left knee.",
        lambda shown: [
            {
                "op": "update",
                "id": _number(shown, "18 October"),
                "text": "Alice is training for the Run in Lyon half marathon on 25 October.",
            }
        ],
    ),
    (
        "I started Japanese lessons with Keiko, you can reach her at keiko.tanaka@example.jp.",
        "Lovely! Twenty minutes before your 6:30 run would fit your mornings. Shall I note Keiko "
        "as a contact?",
        lambda shown: [
            {"op": "add", "text": "Alice takes Japanese lessons with Keiko (keiko.tanaka@example.jp)."}
        ],
    ),
    (
        "And I never booked a flight to Tokyo; I'd just like to visit Japan someday.",
        "Understood, I had that wrong. Japan stays on the someday list, with no flight booked.",
        lambda shown: [
            {"op": "delete", "id": _number(shown, "Tokyo")},
            {"op": "add", "text": "Alice would like to visit Japan someday; nothing is booked."},
        ],
    ),
)


def _number(shown: dict[str, str], words: str) -> str:
    return next(n for n, text in shown.items() if words in text)


def _scripted_model(messages: list[dict]) -> str:
    """Answers the chat agent's two requests from SESSION_SCRIPT, like a model would."""
    import json
    import re

    said = messages[-1]["content"]
    for question, answer, decide in SESSION_SCRIPT:
        if messages[0]["content"].startswith("You keep the long-term memory") and question in said:
            shown = dict(re.findall(r"^\[(\d+)\] (.+)$", said, re.MULTILINE))
            return json.dumps({"decisions": decide(shown)})
        if said == question:
            return answer
    return "I am not sure."


def live_session() -> int:
    """docs/screenshots/live-session-demo.png: a chat session beside the memories it wrote."""
    tmp = Path(tempfile.mkdtemp(prefix="memlens-session-"))
    os.environ["MEMLENS_DATA_DIR"] = str(tmp / "data")
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from PySide6.QtCore import QSettings, Qt

    from fake_openai import FakeOpenAI
    from memlens.gui.app import make_app
    from memlens.gui.main_window import MainWindow

    app = make_app()
    window = MainWindow(settings=QSettings(str(tmp / "settings.ini"), QSettings.Format.IniFormat))
    window.resize(2000, 1000)  # the page needs ~1,550 px; the Sessions dock gets the rest
    window.show()

    def settle(condition=lambda: True, timeout: float = 120.0) -> None:
        end = time.monotonic() + timeout
        while time.monotonic() < end and not (condition() and not window.workers.busy):
            app.processEvents()
            time.sleep(0.02)
        for _ in range(20):
            app.processEvents()

    with FakeOpenAI(_scripted_model) as server:
        host = window.plugins.host
        settle(lambda: bool(host.agents()))
        host.settings("chat-agent").update({"base_url": server.base_url, "user_id": "alice", "k": 4})
        window.open_demo()
        settle(lambda: window.page is not None)
        panel = window.plugins.sessions
        panel.new_session()
        for question, _answer, _decide in SESSION_SCRIPT:
            panel.input.setText(question)
            panel.send()
            settle(lambda: panel.send_button.isEnabled())
        written = host.sessions.memories(panel.shown)
        page = window.page
        window.resizeDocks([window.plugins.dock], [440], Qt.Orientation.Horizontal)
        corrected = next(mid for mid, what in written.items() if what == "updated")
        page.selection.set([corrected])
        settle()
        page.inspector.tabs.setCurrentIndex(3)  # its history: corrected by the session
        page.inspector.history.setCurrentRow(page.inspector.history.count() - 1)
        page.table.scrollToTop()  # the memories the session added, tinted, above the rest
        settle()
        OUT.mkdir(parents=True, exist_ok=True)
        window.grab().save(str(OUT / "live-session-demo.png"))
        page.show_view("Graph")  # the session's memories lit among the rest
        settle(lambda: page.scene is not None)
        settle()
        window.grab().save(str(OUT / "live-session-graph.png"))
    print(f"wrote {OUT / 'live-session-demo.png'} and live-session-graph.png")
    window.plugins.shutdown()
    window.workers.wait()
    return 0


if __name__ == "__main__":
    sys.exit(live_session() if sys.argv[1:] == ["session"] else main() or live_session())
