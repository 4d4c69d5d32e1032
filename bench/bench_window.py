"""The real window at scale: open, scroll and jump, search as you type, an edit, the graph
tab, an import, event-loop stalls and peak memory.

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/bench_window.py --size 100000 --import-n 10000

One size per process, so the peak memory is that size's alone (the model's process added). Runs the
MainWindow on a copy of the cached synthetic store (edits and the import must not touch
the cache), with a fresh journal, traces file and data folder. A heartbeat timer on the
GUI thread measures the longest event-loop stall during each kind of background work.
Writes bench/results/window-<size>.json.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import (
    Heartbeat,
    TreeMemory,
    format_table,
    median,
    peak_rss_mb,
    percentile,
    rss_mb,
    wait_until,
    write_result,
)
from synthetic import records_and_vectors, synthetic_store

# Typed the way people type: a search runs each time they pause after a word.
PHRASES = [
    "Alice booked flights to Lisbon",
    "coffee budget every week",
    "Grace started pottery again",
    "taxes and deadlines for the meetings",
    "Bob prefers hiking with family",
    "what movies does Heidi like",
    "Ivan reported sleep problems after running",
    "garden recipes with allergy notes",
]
EDITED_TEXT = "Quentin adopted a three-legged greyhound called Biscuit from the shelter"


def searches() -> list[str]:
    out = []
    for phrase in PHRASES:
        words = phrase.split()
        out += [" ".join(words[: i + 1]) for i in range(len(words))]
    return out


def copy_store(n: int, into: Path) -> Path:
    """The cached store's Chroma files only: MemLens' journal and traces start empty."""
    target = into / "store"
    shutil.copytree(synthetic_store(n), target, ignore=shutil.ignore_patterns("memlens-*", "READY"))
    return target


class PaintSpy:
    """Notes when the table's viewport has finished painting rows (an app-wide event filter
    sees the paint event; a zero timer fires once that paint is done)."""

    def __init__(self, app, window) -> None:
        from PySide6.QtCore import QEvent, QObject, QTimer

        spy = self
        self.done: float | None = None

        class Filter(QObject):
            def eventFilter(self, obj, event):
                page = window.page
                if (
                    spy.done is None
                    and event.type() == QEvent.Type.Paint
                    and page is not None
                    and obj is page.table.viewport()
                    and page.model.rowCount() > 0
                ):
                    QTimer.singleShot(0, spy._painted)
                return False

        self._filter = Filter()
        self._app = app
        app.installEventFilter(self._filter)

    def _painted(self) -> None:
        if self.done is None:
            self.done = time.perf_counter()
            self._app.removeEventFilter(self._filter)


def run_size(n: int, import_n: int, graph: bool, encode_n: int, stacks_to: Path | None = None) -> dict:
    from PySide6.QtCore import QSettings, Qt, QTimer
    from PySide6.QtTest import QTest

    from memlens.core.jsonl import write_jsonl
    from memlens.core.record import Status
    from memlens.gui import main_window
    from memlens.gui.app import make_app
    from memlens.gui.main_window import MainWindow

    tmp = Path(tempfile.mkdtemp(prefix=f"memlens-bench-{n}-"))
    os.environ["MEMLENS_DATA_DIR"] = str(tmp / "data")
    path = copy_store(n, tmp)
    row: dict = {"n": n, "rss_start_mb": rss_mb()}
    memory = TreeMemory()  # the window's and the model's process together
    app = make_app()
    window = MainWindow(settings=QSettings(str(tmp / "settings.ini"), QSettings.Format.IniFormat))
    window.show()
    beat = Heartbeat(stacks_to=stacks_to)
    app.processEvents()

    # (1) Open until the first table page is on screen; then until everything is indexed.
    # "Open" is when the store, its journal and traces file are open (open_readable returns).
    spy = PaintSpy(app, window)
    opened: list[float] = []
    # (open_service in code before 2026-12-06: the harness can time an older checkout.)
    open_name = "open_readable" if hasattr(main_window, "open_readable") else "open_service"
    real_open = getattr(main_window, open_name)

    def timed_open(*args, **kwargs):
        opened_service = real_open(*args, **kwargs)
        opened.append(time.perf_counter())
        return opened_service

    built: list[tuple[float, float]] = []
    real_page = main_window.CollectionPage

    def timed_page(*args, **kwargs):
        t = time.perf_counter()
        page = real_page(*args, **kwargs)
        built.append((t, time.perf_counter()))
        return page

    setattr(main_window, open_name, timed_open)
    main_window.CollectionPage = timed_page
    beat.start("open")
    t0 = time.perf_counter()
    window.open_store(path, "bench")
    wait_until(lambda: spy.done is not None, what="the first table page")
    setattr(main_window, open_name, real_open)
    main_window.CollectionPage = real_page
    row["click_to_first_page_s"] = spy.done - t0
    row["store_open_s"] = opened[0] - t0
    row["first_page_s"] = spy.done - opened[0]
    # Where that time went: reading the newest page, building the page's widgets, the rest
    # (the first filter, the table's first paint, events queued behind them).
    row["first_page_read_s"] = built[0][0] - opened[0]
    row["first_page_build_s"] = built[0][1] - built[0][0]
    row["first_page_paint_s"] = spy.done - built[0][1]
    wait_until(lambda: window.service is not None and window.service.loaded, what="the index")
    row["loaded_s"] = time.perf_counter() - t0
    wait_until(lambda: not window.workers.busy, what="the model to load")
    row["open_idle_s"] = time.perf_counter() - t0
    row["stall_open_ms"] = beat.stop()
    page = window.page
    service = window.service
    row["rss_open_mb"] = rss_mb()

    # (2) Scroll a page at a time, then jump: the longest frame.
    table, viewport = page.table, page.table.viewport()

    def frame(action) -> float:
        # The action, then the events it queued, the viewport's one paint among them (a
        # repaint() after it painted every frame twice and doubled the figure).
        t = time.perf_counter()
        action()
        app.processEvents()
        return (time.perf_counter() - t) * 1000

    bar = table.verticalScrollBar()
    scroll = [frame(lambda: bar.setValue(bar.value() + bar.pageStep())) for _ in range(60)]
    deep = page.model.ids[int(len(page.model.ids) * 0.9)]
    jumps = {
        "end": frame(lambda: QTest.keyClick(table, Qt.Key.Key_End, Qt.KeyboardModifier.ControlModifier)),
        "home": frame(lambda: QTest.keyClick(table, Qt.Key.Key_Home, Qt.KeyboardModifier.ControlModifier)),
        "deep": frame(lambda: page.selection.set([deep], source=None)),  # as a click on the map does
        "back": frame(lambda: page.selection.set([page.model.ids[0]], source=None)),
    }
    row["scroll_frame_median_ms"] = median(scroll)
    row["scroll_frame_max_ms"] = max(scroll)
    row["jump_frame_max_ms"] = max(jumps.values())
    row["longest_frame_ms"] = max(max(scroll), *jumps.values())

    # (3) Search as you type: from the pause (the debounce firing) to the table repainted.
    def run_searches(phase: str) -> list[float]:
        times = []
        box = page.filter_bar.search
        for query in searches():
            reset_at: list[float] = []

            def note(reset_at=reset_at) -> None:
                # Once the slot that reset the model has returned (highlights, counts).
                QTimer.singleShot(0, lambda: reset_at.append(time.perf_counter()))

            page.model.modelReset.connect(note)
            box.setText(query)
            beat.start(phase)
            t = time.perf_counter()
            QTest.keyClick(box, Qt.Key.Key_Return)  # what the debounce does after a pause
            wait_until(lambda r=reset_at: r and not window.workers.busy, what=f"search {query!r}")
            beat.stop()
            page.model.modelReset.disconnect(note)
            t_paint = time.perf_counter()
            viewport.repaint()
            times.append((reset_at[0] - t + time.perf_counter() - t_paint) * 1000)
        clear_search()
        return times

    def clear_search() -> None:
        box = page.filter_bar.search
        box.setText("")
        QTest.keyClick(box, Qt.Key.Key_Return)
        wait_until(lambda: not page.model.searching and not window.workers.busy, what="the table back")

    gui = run_searches("search")
    row["search_p50_ms"] = percentile(gui, 50)
    row["search_p95_ms"] = percentile(gui, 95)
    row["searches"] = len(gui)
    row["stall_search_ms"] = beat.stall_ms("search")
    # The same queries, stage by stage (GUI idle): the model, the index, and the rest.
    embed, index = [], []
    for query in searches():
        t = time.perf_counter()
        vector = service.embedder.encode([query])[0]
        embed.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        service.search_vector(vector, 50)
        index.append((time.perf_counter() - t) * 1000)
    row["search_embed_p50_ms"] = percentile(embed, 50)
    row["search_index_p50_ms"] = percentile(index, 50)
    rest = row["search_p50_ms"] - row["search_embed_p50_ms"] - row["search_index_p50_ms"]
    row["search_table_p50_ms"] = max(0.0, rest)

    # (7) An edit until it is visible in search: the user searched for the new words first.
    box = page.filter_bar.search
    box.setText(EDITED_TEXT)
    QTest.keyClick(box, Qt.Key.Key_Return)
    wait_until(lambda: page.model.searching and not window.workers.busy, what="the edit's search")
    target = page.model.ids[-1]  # the weakest hit: the edit must lift it to the top
    beat.start("edit")
    t = time.perf_counter()
    page.save(target, {"text": EDITED_TEXT})
    wait_until(
        lambda: page.model.searching and page.model.ids[:1] == [target] and not window.workers.busy,
        what="the edited memory on top of the search",
    )
    row["edit_visible_s"] = time.perf_counter() - t
    row["stall_edit_ms"] = beat.stop()
    clear_search()

    # A curated collection has a trash: delete ten memories, then search again.
    doomed = page.model.ids[10:20]
    beat.start("delete")
    page.set_status(doomed, Status.DELETED)
    wait_until(
        lambda: service.status_counts()[Status.DELETED] == 10 and not window.workers.busy, what="the delete"
    )
    row["stall_delete_ms"] = beat.stop()
    trash = run_searches("search+trash")
    row["search_trash_p50_ms"] = percentile(trash, 50)
    row["search_trash_p95_ms"] = percentile(trash, 95)
    row["stall_search_trash_ms"] = beat.stall_ms("search+trash")

    # (4) The graph tab: build and layout in the background, then the first paint.
    if graph:
        beat.start("layout")
        t = time.perf_counter()
        page.show_view("Graph")
        wait_until(lambda: page.scene is not None and not window.workers.busy, 1800, "the graph")
        row["graph_open_s"] = time.perf_counter() - t
        row["stall_layout_ms"] = beat.stop()
        page.graph_view.plot.repaint()
        row["rss_graph_mb"] = rss_mb()
        # Searching with the graph built: each search also lights its hits in both views.
        page.show_view("Table")
        with_graph = run_searches("search+graph")
        row["search_graph_p50_ms"] = percentile(with_graph, 50)
        row["search_graph_p95_ms"] = percentile(with_graph, 95)
        row["stall_search_graph_ms"] = beat.stall_ms("search+graph")

    # (6) Import with embedding through File ▸ Import (the file checked, then Import
    # pressed) until the table lists the new memories. The floor, the model's own encode of
    # the same texts, is measured just before, the window idle: measured after, it shared
    # the CPU with the window taking in the import (the model runs at a lower priority),
    # and one run read 122 texts/s where five others read 188-228.
    if import_n:
        records = [r.replace(id=f"imp-{i:06d}") for i, r in enumerate(records_and_vectors(import_n, 11)[0])]
        jsonl = tmp / "import.jsonl"
        with jsonl.open("w", encoding="utf-8") as out:
            write_jsonl(records, out)
        dialog = window.import_file(jsonl)
        wait_until(lambda: dialog.parsed is not None and not window.workers.busy, 600, "the file check")
        texts = [r.text for r in records][:encode_n]  # a sample: throughput, not a total
        t = time.perf_counter()
        service.embedder.encode(texts)
        row["encode_per_s"] = len(texts) / (time.perf_counter() - t)
        listed = page.model.total()
        beat.start("import")
        t = time.perf_counter()
        dialog.import_button.click()
        wait_until(
            lambda: (
                not dialog.importing and not window.workers.busy and page.model.total() == listed + import_n
            ),
            1800,
            "the import",
        )
        row["import_s"] = time.perf_counter() - t
        row["stall_import_ms"] = beat.stop()
        row["import_per_s"] = import_n / row["import_s"]
        row["rss_import_mb"] = rss_mb()
        dialog.close()
        row["import_vs_encode"] = row["import_per_s"] / row["encode_per_s"]
        row["import_n"] = import_n

    row["stall_max_ms"] = max(v for k, v in row.items() if k.startswith("stall_"))
    # Every gap over 100 ms: (phase, seconds since the window opened, ms), to see what caused it.
    row["stall_log"] = beat.log
    # The window's process and the model's: what the user's machine has to hold.
    row["peak_rss_window_mb"] = peak_rss_mb()
    row["peak_rss_model_mb"] = peak_rss_mb(window.embedder.pid) if window.embedder.pid else 0.0
    # Each process's own peak, added: an upper bound (they peak at different times).
    row["peak_rss_sum_of_peaks_mb"] = row["peak_rss_window_mb"] + row["peak_rss_model_mb"]
    row["peak_rss_mb"], row["peak_rss_shares_mb"] = memory.stop()  # [window, model]
    window.workers.wait()
    window.close()
    shutil.rmtree(tmp, ignore_errors=True)
    return row


COLUMNS = [
    ("n", "memories", "{:,}"),
    ("first_page_s", "first page s", "{:.2f}"),
    ("click_to_first_page_s", "click→page s", "{:.2f}"),
    ("loaded_s", "indexed s", "{:.2f}"),
    ("longest_frame_ms", "longest frame ms", "{:.0f}"),
    ("search_p50_ms", "search p50 ms", "{:.0f}"),
    ("search_p95_ms", "search p95 ms", "{:.0f}"),
    ("search_trash_p95_ms", "+trash p95 ms", "{:.0f}"),
    ("search_graph_p95_ms", "+graph p95 ms", "{:.0f}"),
    ("edit_visible_s", "edit→search s", "{:.2f}"),
    ("graph_open_s", "graph tab s", "{:.1f}"),
    ("import_per_s", "import /s", "{:.0f}"),
    ("encode_per_s", "encode /s", "{:.0f}"),
    ("stall_max_ms", "worst stall ms", "{:.0f}"),
    ("peak_rss_mb", "peak MB", "{:.0f}"),
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=100000)
    parser.add_argument("--import-n", type=int, default=0, help="memories to import (0: skip)")
    parser.add_argument("--encode-n", type=int, default=3000, help="texts for the model's own encode")
    parser.add_argument("--no-graph", action="store_true", help="skip the graph tab")
    parser.add_argument(
        "--stall-stacks", type=Path, help="write every thread's stack to this file whenever the GUI stalls"
    )
    args = parser.parse_args()
    print(f"window: {args.size:,} memories…", file=sys.stderr, flush=True)
    row = run_size(args.size, args.import_n, not args.no_graph, args.encode_n, args.stall_stacks)
    print(format_table([row], COLUMNS))
    print({k: round(v, 3) if isinstance(v, float) else v for k, v in row.items()})
    write_result(f"window-{args.size}", [row])
    return 0


if __name__ == "__main__":
    sys.exit(main())
