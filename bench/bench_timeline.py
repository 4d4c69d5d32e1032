"""Timeline: journal read, first paint, refresh, zoom and pan repaint, picking, lanes, as-of.

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/bench_timeline.py --sizes 1000 10000 100000

On the synthetic stores of bench_graph (one year of memories, four agents, ten users).
Those stores have no journal history, so a copy of the timeline data gets change marks
(5% of memories edited, 1% deleted, in memory only: the cached store is left as it is)
and one retrieval per 20 memories, so every layer is drawn. The journal columns read a
scratch journal holding an import of the whole store plus edits of 1% (see `journaled`).
Prints a table of medians; writes bench/results/timeline.json.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np
from benchlib import format_table
from synthetic import synthetic_store

RESULTS = Path(__file__).resolve().parent / "results"


def timed(fn, repeat: int = 1):
    times, result = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), result


def paint(widget) -> None:
    """A full repaint into an image: the same measure as bench_graph."""
    from PySide6.QtGui import QImage, QPainter

    image = QImage(widget.size(), QImage.Format.Format_ARGB32_Premultiplied)
    painter = QPainter(image)
    widget.render(painter)
    painter.end()


def with_changes(data, seed: int = 7):
    """The same timeline with edit and delete marks added, as a busy collection would have."""
    rng = np.random.default_rng(seed)
    n = len(data.records)
    kinds = {"edit": 0.05, "delete": 0.01}
    index, when, kind = [], [], []
    for name, share in kinds.items():
        rows = rng.choice(n, size=max(1, int(n * share)), replace=False)
        index.append(rows)
        when.append(data.created[rows] + rng.uniform(3600, 30 * 86400, size=len(rows)))
        kind.append(np.full(len(rows), name, dtype="<U7"))
    rows = np.concatenate(index)
    return dataclasses.replace(
        data,
        event_index=rows,
        event_ids=[data.records[i].id for i in rows],
        event_time=np.concatenate(when),
        event_kind=np.concatenate(kind),
        event_label=["synthetic"] * len(rows),
    )


def journaled(service, tmp: Path):
    """A journal as a real collection would have one: the whole store imported in one group
    (the usual way in), then 1% of the memories edited in groups of ten. Written to a
    scratch file and swapped in, so the cached store's own journal stays empty."""
    from memlens.core.journal import APPLIED, Journal, Operation, State

    journal = Journal(tmp / "journal.sqlite3")
    collection = service.store.collection
    records = service.records(service.select_all())
    imported = [Operation("add", r.id, State(None), State(r)) for r in records]
    journal.set_state(journal.begin(collection, "Import", imported, "bench", None), APPLIED)
    edited = records[::100]
    for start in range(0, len(edited), 10):
        ops = [
            Operation("edit", r.id, State(r), State(r.replace(text=r.text + " (edited)", version=2)))
            for r in edited[start : start + 10]
        ]
        journal.set_state(journal.begin(collection, "Edit", ops, "bench", None), APPLIED)
    return journal


def run_size(n: int, app, repeat: int) -> dict:
    from PySide6.QtCore import QPointF

    from memlens.core.chroma_store import ChromaBackend
    from memlens.core.embedder import SentenceTransformerEmbedder
    from memlens.core.timeline import as_of, timeline_events
    from memlens.core.workspace import open_service
    from memlens.gui.selection import SelectionModel
    from memlens.gui.timeline_view import TimelineView

    path = synthetic_store(n)
    row: dict = {"n": n}
    service = open_service(ChromaBackend.open_path(path), SentenceTransformerEmbedder(), "bench")
    row["load_s"], _ = timed(service.load)
    row["events_s"], data = timed(lambda: timeline_events(service), repeat)
    data = with_changes(data)
    row["marks"] = len(data.records) + len(data.event_time)
    retrievals = [(float(t) + 60.0, 1 + i % 7) for i, t in enumerate(data.created[::20])]
    selection = SelectionModel()

    def first_paint():
        view = TimelineView(service, selection)  # reads the collection and journal itself
        view.resize(1200, 700)
        view.show()
        paint(view.canvas)
        return view

    row["first_paint_s"], view = timed(first_paint)
    app.processEvents()

    def refresh():
        view.set_data(data)
        view.set_retrievals(retrievals)
        paint(view.canvas)

    row["refresh_s"] = timed(refresh, repeat)[0]

    def zoom():
        view.box.scaleBy((0.9, 1.0))
        view._update_density()  # what the zoom debounce runs once the wheel stops
        paint(view.canvas)

    row["zoom_repaint_ms"] = timed(zoom, repeat)[0] * 1000

    def pan():
        lo, hi = view.box.viewRange()[0]
        view.box.translateBy((0.02 * (hi - lo), 0.0))
        paint(view.canvas)

    row["pan_repaint_ms"] = timed(pan, repeat)[0] * 1000
    view.show_all()
    i = len(data.records) // 2
    targets = [QPointF(float(data.created[j]), float(view._y[j])) for j in (i, i + 1)]
    row["hover_pick_ms"] = timed(lambda: view.mark_at(targets[0]), repeat)[0] * 1000
    clicks = iter(targets * repeat)
    # A click: pick the mark, select its memory in the shared selection, draw the ring.
    row["click_ms"] = timed(lambda: view.click_at(next(clicks)), repeat)[0] * 1000
    assert selection.current in {data.records[i].id, data.records[i + 1].id}

    def lanes():
        view.lanes_box.setCurrentIndex((view.lanes_box.currentIndex() + 1) % view.lanes_box.count())
        paint(view.canvas)

    row["lanes_switch_s"] = timed(lanes, repeat)[0]
    middle = data.records[i].created_at
    row["as_of_s"] = timed(lambda: as_of(service, middle), repeat)[0]

    with tempfile.TemporaryDirectory() as tmp:
        own, service.journal = service.journal, journaled(service, Path(tmp))
        try:
            row["journal_events_s"], busy = timed(lambda: timeline_events(service), repeat)
            row["journal_marks"] = len(busy.event_time)
            row["journal_as_of_s"] = timed(lambda: as_of(service, middle), repeat)[0]
        finally:
            service.journal.close()
            service.journal = own
    view.close()
    return row


COLUMNS = [
    ("n", "memories", "{:,}"),
    ("marks", "marks", "{:,}"),
    ("load_s", "load s", "{:.2f}"),
    ("events_s", "events s", "{:.3f}"),
    ("first_paint_s", "first paint s", "{:.2f}"),
    ("refresh_s", "refresh s", "{:.2f}"),
    ("zoom_repaint_ms", "zoom ms", "{:.1f}"),
    ("pan_repaint_ms", "pan ms", "{:.1f}"),
    ("hover_pick_ms", "hover ms", "{:.2f}"),
    ("click_ms", "click ms", "{:.2f}"),
    ("lanes_switch_s", "lanes s", "{:.2f}"),
    ("as_of_s", "as of s", "{:.3f}"),
    ("journal_events_s", "events+journal s", "{:.3f}"),
    ("journal_as_of_s", "as of+journal s", "{:.3f}"),
]


def table(rows: list[dict]) -> str:
    return format_table(rows, COLUMNS)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    from memlens.gui.app import make_app

    app = make_app()
    rows = []
    for n in args.sizes:
        print(f"measuring {n:,} memories…", file=sys.stderr, flush=True)
        rows.append(run_size(n, app, args.repeat))
    print(table(rows))
    RESULTS.mkdir(exist_ok=True)
    machine = {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()}
    (RESULTS / "timeline.json").write_text(json.dumps({"machine": machine, "rows": rows}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
