"""Render the documentation screenshots offscreen from a fresh demo store.

    .venv/bin/python docs/make_screenshots.py        # writes docs/screenshots/*.png

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
    page.show_view("Semantic map")
    settle_for(0.3)
    window.grab().save(str(OUT / "map-query-demo.png"))
    page.filter_bar.search.setText("")
    settle(lambda: not page.model.searching)

    page.selection.set([target])
    page.show_view("Timeline")
    settle(lambda: page.timeline.data is not None)
    settle_for(0.5)
    window.grab().save(str(OUT / "timeline-demo.png"))

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


if __name__ == "__main__":
    sys.exit(main())
