"""Graph and semantic map: build, layout, first paint and zoom repaint, against baselines.

The map is measured with its default edges (links and merges), the Graph tab with its own
(semantic, session, link and merge): both are what a user sees on opening them.

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/bench_graph.py --sizes 1000 10000 100000

Baselines measured in the same run: networkx `spring_layout` (what a quick script would
use) and a naive QGraphicsScene with one item per memory and per edge (what most Qt graph
viewers do). Prints a table; writes bench/results/graph.json. Times are medians.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import networkx as nx
import numpy as np
from synthetic import synthetic_store

RESULTS = Path(__file__).resolve().parent / "results"
from memlens.core.layout import FORCE_LIMIT  # noqa: E402

SPRING_LIMIT = 10_000  # networkx holds an n-by-n matrix above ~500 nodes: 100k would need 80 GB


def timed(fn, repeat: int = 1):
    times, result = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), result


def paint(widget) -> None:
    """A full repaint into an image: the same measure for every widget compared."""
    from PySide6.QtGui import QImage, QPainter

    image = QImage(widget.size(), QImage.Format.Format_ARGB32_Premultiplied)
    painter = QPainter(image)
    widget.render(painter)
    painter.end()


def naive_scene(positions: np.ndarray, edges: np.ndarray):
    """One QGraphicsItem per memory and per edge, painted once."""
    from PySide6.QtGui import QBrush, QColor, QPen
    from PySide6.QtWidgets import QGraphicsScene, QGraphicsView

    view = QGraphicsView()
    scene = QGraphicsScene(view)  # parented: a bare scene is freed when this function returns
    view.setScene(scene)
    brush, pen = QBrush(QColor("#4e79a7")), QPen(QColor("#a0aec0"))
    xy = positions * 1000
    for a, b in edges:
        scene.addLine(xy[a, 0], xy[a, 1], xy[b, 0], xy[b, 1], pen)
    for x, y in xy:
        scene.addEllipse(x - 3, y - 3, 6, 6, QPen(), brush)
    view.resize(1200, 800)
    view.fitInView(scene.sceneRect())
    view.show()
    paint(view)
    return view


def run_size(n: int, app, repeat: int, spring_limit: int = SPRING_LIMIT) -> dict:
    from memlens.core.chroma_store import ChromaBackend
    from memlens.core.embedder import SentenceTransformerEmbedder
    from memlens.core.graph import GraphOptions, build_graph, community_labels, update_graph
    from memlens.core.graph_scene import GraphScene
    from memlens.core.layout import force_positions, semantic_positions
    from memlens.core.workspace import open_service
    from memlens.gui.graph_view import GraphView
    from memlens.gui.selection import SelectionModel

    path = synthetic_store(n)
    row: dict = {"n": n}
    service = open_service(ChromaBackend.open_path(path), SentenceTransformerEmbedder(), "bench")
    row["load_s"], _ = timed(service.load)
    records = service.records(service.select())
    row["build_s"], mg = timed(lambda: build_graph(records, service.store, GraphOptions()))
    row["edges"] = int(sum(len(v) for v in mg.edges.values()))
    ids = [r.id for r in records]
    # An edit: the graph made from the last one, asking the index about one memory (and those
    # near it) again, as the window does after a save. The store itself is left as it is.
    row["edit_update_s"], _ = timed(
        lambda: update_graph(mg, records, service.store, GraphOptions(), {ids[n // 2]}), repeat
    )
    row["embeddings_s"], vectors = timed(
        lambda: np.concatenate([service.store.embeddings(ids[i : i + 5000]) for i in range(0, n, 5000)])
    )
    row["map_layout_s"], (map_pos, _) = timed(lambda: semantic_positions(vectors))
    row["graph_layout_s"], graph_pos = timed(lambda: force_positions(mg.graph, ids, map_pos))
    # Community names are worked out with the scene, off the GUI thread, as compute_scene does.
    scene = GraphScene(
        mg, records, map_pos, graph_pos, True, labels=community_labels(records, mg.communities)
    )

    view = GraphView(SelectionModel(), "map")
    view.resize(1200, 800)
    view.show()
    app.processEvents()

    def first_paint():
        view.set_scene(scene)
        paint(view.plot)

    row["first_paint_s"], _ = timed(first_paint)

    def zoom():
        view.box.scaleBy((0.9, 0.9))
        paint(view.plot)

    row["zoom_repaint_ms"] = timed(zoom, repeat)[0] * 1000

    def pan():
        view.box.translateBy((0.01, 0.0))
        paint(view.plot)

    row["pan_repaint_ms"] = timed(pan, repeat)[0] * 1000
    view.close()
    row.update(graph_view_repaints(scene, app, repeat))

    # Baselines on the same graph.
    memory_graph = mg.graph.subgraph(ids)
    if n <= spring_limit:
        row["nx_spring_layout_s"], _ = timed(lambda: nx.spring_layout(memory_graph, seed=7))
    else:
        row["nx_spring_layout_s"] = None
    semantic = mg.edges["semantic"]
    row["naive_scene_first_paint_s"], naive = timed(lambda: naive_scene(map_pos, semantic))

    def naive_zoom():
        naive.scale(1.1, 1.1)
        paint(naive)

    row["naive_zoom_repaint_ms"] = timed(naive_zoom, repeat)[0] * 1000
    naive.close()
    return row


def graph_view_repaints(scene, app, repeat: int) -> dict:
    """The Graph tab itself: its layout with its default edges (semantic ones among them)."""
    from memlens.gui.graph_view import GraphView
    from memlens.gui.selection import SelectionModel

    view = GraphView(SelectionModel(), "graph")
    view.resize(1200, 800)
    view.show()
    app.processEvents()
    out: dict = {}

    def first_paint():
        view.set_scene(scene)
        paint(view.plot)

    out["graph_first_paint_s"], _ = timed(first_paint)
    out["graph_edges_shown"] = int(
        sum(len(scene.graph.edges.get(t, ())) for t, box in view.edge_checks.items() if box.isChecked())
    )

    def zoom():
        view.box.scaleBy((0.9, 0.9))
        paint(view.plot)

    def pan():
        view.box.translateBy((0.01, 0.0))
        paint(view.plot)

    out["graph_zoom_repaint_ms"] = timed(zoom, repeat)[0] * 1000
    out["graph_pan_repaint_ms"] = timed(pan, repeat)[0] * 1000
    view.close()
    return out


COLUMNS = [
    ("n", "memories", "{:,}"),
    ("edges", "edges", "{:,}"),
    ("load_s", "load s", "{:.2f}"),
    ("build_s", "graph build s", "{:.2f}"),
    ("edit_update_s", "edit update s", "{:.2f}"),
    ("map_layout_s", "map layout s", "{:.2f}"),
    ("graph_layout_s", "graph layout s", "{:.2f}"),
    ("nx_spring_layout_s", "nx spring s", "{:.2f}"),
    ("first_paint_s", "first paint s", "{:.2f}"),
    ("naive_scene_first_paint_s", "naive paint s", "{:.2f}"),
    ("zoom_repaint_ms", "zoom ms", "{:.1f}"),
    ("naive_zoom_repaint_ms", "naive zoom ms", "{:.1f}"),
    ("pan_repaint_ms", "pan ms", "{:.1f}"),
    ("graph_edges_shown", "graph tab edges", "{:,}"),
    ("graph_zoom_repaint_ms", "graph zoom ms", "{:.1f}"),
    ("graph_pan_repaint_ms", "graph pan ms", "{:.1f}"),
]


def table(rows: list[dict]) -> str:
    from benchlib import format_table  # benchlib imports this module

    return format_table(rows, COLUMNS)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--spring-limit", type=int, default=SPRING_LIMIT, help="largest size to run spring_layout on"
    )
    args = parser.parse_args()
    from memlens.gui.app import make_app

    app = make_app()
    rows = []
    for n in args.sizes:
        print(f"measuring {n:,} memories…", file=sys.stderr, flush=True)
        rows.append(run_size(n, app, args.repeat, args.spring_limit))
        for r in rows[-1:]:
            if r.get("nx_spring_layout_s") and r["n"] <= FORCE_LIMIT:
                r["ratio_layout_vs_nx_spring"] = r["nx_spring_layout_s"] / max(r["graph_layout_s"], 1e-9)
            r["ratio_zoom_vs_naive"] = r["naive_zoom_repaint_ms"] / max(r["zoom_repaint_ms"], 1e-9)
    print(table(rows))
    for r in rows:
        ratios = ", ".join(
            f"{k.removeprefix('ratio_')} ×{v:.1f}" for k, v in r.items() if k.startswith("ratio_")
        )
        print(f"{r['n']:>7,}: {ratios}")
    RESULTS.mkdir(exist_ok=True)
    machine = {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()}
    (RESULTS / "graph.json").write_text(json.dumps({"machine": machine, "rows": rows}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
