"""Every benchmark in one run: the window at 1k/10k/100k memories, graph and map, timeline,
and the baselines (Chroma, the model, networkx, a naive Qt scene, Mem0), then the budgets.

    make bench                 # or: QT_QPA_PLATFORM=offscreen .venv/bin/python bench/run.py
    make bench BENCH_ARGS=--quick    # 1k and 10k only, for trying things out

Each part runs in its own process (so each size's peak memory is its own) and writes its
JSON to bench/results/; this script reads them back, prints the tables with the ratios to
each baseline and the budgets at 100,000 memories, writes bench/results/summary.json, and
rewrites the generated part of docs/PERFORMANCE.md. Times are medians unless marked p95.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from benchlib import RESULTS, busy_processes, format_table, machine  # noqa: E402
from tree_memory import tree  # noqa: E402

DOC = HERE.parent / "docs" / "PERFORMANCE.md"
START, END = "<!-- bench:start -->", "<!-- bench:end -->"
SCALE = 100_000


def parts(sizes: list[int], import_n: int) -> list[tuple[list[str], list[str]]]:
    """(command, the result files it writes) for each part."""
    top = max(sizes)
    steps = [(["bench_baselines.py", "--sizes", *map(str, sizes)], ["baselines"])]
    for n in sizes:
        extra = ["--import-n", str(import_n)] if n == top and import_n else []
        steps.append((["bench_window.py", "--size", str(n), *extra], [f"window-{n}"]))
    # networkx's spring_layout took 253 s at 10,000 memories: it runs at 1,000 only.
    graph = ["bench_graph.py", "--sizes", *map(str, sizes), "--repeat", "3", "--spring-limit", "1000"]
    steps.append((graph, ["graph"]))
    steps.append((["bench_timeline.py", "--sizes", *map(str, sizes), "--repeat", "3"], ["timeline"]))
    return steps


class Neighbours:
    """Samples, every half minute, which other processes use the CPU while the run goes on."""

    def __init__(self) -> None:
        self.seen: dict[str, float] = {}
        self.ours: set[int] = {os.getpid()}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(30):
            # The part's process and its children (MemLens' own model process among them).
            ours = {p for pid in self.ours for p in tree(pid)}
            for name, cpu in busy_processes(ours).items():
                self.seen[name] = max(self.seen.get(name, 0.0), cpu)

    def stop(self) -> list[str]:
        self._stop.set()
        return [f"{name} (up to {cpu:.0f}% of a core)" for name, cpu in sorted(self.seen.items())]


def run_parts(steps: list[tuple[list[str], list[str]]], neighbours: Neighbours) -> dict[str, float]:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "HF_HUB_OFFLINE": "1"}
    took = {}
    for step, outputs in steps:
        name = " ".join(step)
        print(f"\n== {name}", flush=True)
        t, started = time.perf_counter(), time.time()
        child = subprocess.Popen([sys.executable, str(HERE / step[0]), *step[1:]], env=env)
        neighbours.ours = {os.getpid(), child.pid}
        if child.wait():
            fresh = all(
                (RESULTS / f"{o}.json").exists() and (RESULTS / f"{o}.json").stat().st_mtime >= started
                for o in outputs
            )
            if not fresh:
                raise SystemExit(f"{name} failed (exit {child.returncode})")
            # bench_timeline has crashed in Qt's teardown, after writing its results.
            print(f"   exited with {child.returncode} after writing its results", flush=True)
        took[name] = time.perf_counter() - t
        print(f"   ({took[name]:.0f} s)", flush=True)
    return took


def load(name: str) -> list[dict]:
    path = RESULTS / f"{name}.json"
    return json.loads(path.read_text())["rows"] if path.exists() else []


def by_size(rows: list[dict]) -> dict[int, dict]:
    return {r["n"]: r for r in rows}


def ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None or b == 0 else a / b


def collect(sizes: list[int]) -> dict:
    window = {n: (load(f"window-{n}") or [{}])[0] for n in sizes}
    base, graph, timeline = by_size(load("baselines")), by_size(load("graph")), by_size(load("timeline"))
    rows = []
    for n in sizes:
        w, b, g, t = window.get(n, {}), base.get(n, {}), graph.get(n, {}), timeline.get(n, {})
        floor_search = (b.get("encode_query_p50_ms") or 0) + (b.get("chroma_query_p50_ms") or 0)
        searches = [w.get(k) for k in ("search_p95_ms", "search_trash_p95_ms", "search_graph_p95_ms")]
        rows.append(
            {
                "n": n,
                **{f"w_{k}": v for k, v in w.items() if k != "n"},
                **{f"b_{k}": v for k, v in b.items() if k != "n"},
                **{f"g_{k}": v for k, v in g.items() if k != "n"},
                **{f"t_{k}": v for k, v in t.items() if k != "n"},
                "search_worst_p95_ms": max((s for s in searches if s is not None), default=None),
                "x_first_page_vs_chroma_page": ratio(
                    w.get("first_page_s"), (b.get("chroma_get_page_ms") or 0) / 1000
                ),
                "x_indexed_vs_chroma_get_all": ratio(w.get("loaded_s"), b.get("chroma_get_all_s")),
                "x_search_vs_floor": ratio(w.get("search_p50_ms"), floor_search),
                "x_search_user_vs_mem0": ratio(
                    b.get("memlens_mem0_search_user_p50_ms"), b.get("mem0_search_p50_ms")
                ),
                "x_page_vs_mem0_get_all": ratio(b.get("memlens_mem0_page_ms"), b.get("mem0_get_all_page_ms")),
                "x_import_vs_encode": w.get("import_vs_encode"),
                "x_layout_vs_nx_spring": ratio(g.get("graph_layout_s"), g.get("nx_spring_layout_s")),
                "x_zoom_vs_naive": ratio(g.get("zoom_repaint_ms"), g.get("naive_zoom_repaint_ms")),
                "x_paint_vs_naive": ratio(g.get("first_paint_s"), g.get("naive_scene_first_paint_s")),
            }
        )
    return {"rows": rows}


def budgets(row: dict) -> list[tuple[str, str, str, bool | None]]:
    """(budget, limit, measured, met) at the largest size."""

    def check(value, limit, fmt, higher_is_better=False):
        if value is None:
            return "not measured", None
        return fmt.format(value), (value >= limit if higher_is_better else value <= limit)

    repaints = ("g_zoom_repaint_ms", "g_pan_repaint_ms", "g_graph_zoom_repaint_ms", "g_graph_pan_repaint_ms")
    repaint = max((row.get(k) for k in repaints if row.get(k)), default=None)
    items = [
        ("First table page after the store is open", 0.5, row.get("w_first_page_s"), "{:.2f} s", "≤ 0.5 s"),
        (
            "Search p95 (plain, with trash, with graph built)",
            80,
            row.get("search_worst_p95_ms"),
            "{:.0f} ms",
            "≤ 80 ms",
        ),
        ("Graph and map repaint (zoom, pan)", 30, repaint, "{:.1f} ms", "≤ 30 ms"),
        ("Import vs the model's own encode", 0.8, row.get("x_import_vs_encode"), "{:.0%}", "≥ 80%"),
        ("Longest GUI stall during background work", 100, row.get("w_stall_max_ms"), "{:.0f} ms", "≤ 100 ms"),
        ("Peak memory, model included", 2048, row.get("w_peak_rss_mb"), "{:.0f} MB", "≤ 2,048 MB"),
    ]
    out = []
    for name, limit, value, fmt, shown in items:
        measured, met = check(value, limit, fmt, higher_is_better=name.startswith("Import"))
        out.append((name, shown, measured, met))
    return out


WINDOW = [
    ("n", "memories", "{:,}"),
    ("w_store_open_s", "store open s", "{:.2f}"),
    ("w_first_page_s", "first page s", "{:.2f}"),
    ("w_first_page_read_s", "of which: read", "{:.2f}"),
    ("w_first_page_build_s", "build page", "{:.2f}"),
    ("w_first_page_paint_s", "filter+paint", "{:.2f}"),
    ("w_loaded_s", "all indexed s", "{:.1f}"),
    ("w_scroll_frame_median_ms", "scroll frame ms", "{:.0f}"),
    ("w_longest_frame_ms", "longest frame ms", "{:.0f}"),
    ("w_search_p50_ms", "search p50 ms", "{:.0f}"),
    ("w_search_p95_ms", "search p95 ms", "{:.0f}"),
    ("w_search_trash_p95_ms", "+trash p95", "{:.0f}"),
    ("w_search_graph_p95_ms", "+graph p95", "{:.0f}"),
    ("w_edit_visible_s", "edit→in search s", "{:.2f}"),
    ("w_graph_open_s", "graph tab s", "{:.1f}"),
    ("w_peak_rss_mb", "peak MB", "{:,.0f}"),
    ("w_peak_rss_sum_of_peaks_mb", "each one's peak, added MB", "{:,.0f}"),
]
STALLS = [
    ("n", "memories", "{:,}"),
    ("w_stall_open_ms", "open", "{:.0f}"),
    ("w_stall_search_ms", "search", "{:.0f}"),
    ("w_stall_edit_ms", "edit", "{:.0f}"),
    ("w_stall_delete_ms", "delete", "{:.0f}"),
    ("w_stall_search_trash_ms", "search+trash", "{:.0f}"),
    ("w_stall_layout_ms", "graph layout", "{:.0f}"),
    ("w_stall_search_graph_ms", "search+graph", "{:.0f}"),
    ("w_stall_import_ms", "import", "{:.0f}"),
]
SEARCH = [
    ("n", "memories", "{:,}"),
    ("b_encode_query_p50_ms", "model encode", "{:.1f}"),
    ("b_chroma_query_p50_ms", "Chroma query", "{:.1f}"),
    ("w_search_p50_ms", "MemLens search", "{:.0f}"),
    ("x_search_vs_floor", "× floor", "{:.1f}"),
    ("b_mem0_search_p50_ms", "Mem0 search (user)", "{:.0f}"),
    ("b_memlens_mem0_search_user_p50_ms", "MemLens (user)", "{:.0f}"),
    ("x_search_user_vs_mem0", "× Mem0", "{:.2f}"),
    ("b_mem0_search_p95_ms", "Mem0 p95", "{:.0f}"),
    ("b_memlens_mem0_search_user_p95_ms", "MemLens p95", "{:.0f}"),
]
OPENING = [
    ("n", "memories", "{:,}"),
    ("b_chroma_get_page_ms", "Chroma page ms", "{:.0f}"),
    ("w_first_page_s", "MemLens first page s", "{:.2f}"),
    ("x_first_page_vs_chroma_page", "× Chroma", "{:.1f}"),
    ("b_chroma_get_all_s", "Chroma get all s", "{:.1f}"),
    ("w_loaded_s", "MemLens indexed s", "{:.1f}"),
    ("x_indexed_vs_chroma_get_all", "× Chroma", "{:.2f}"),
    ("b_mem0_get_all_page_ms", "Mem0 get_all 1k ms", "{:.0f}"),
    ("b_memlens_mem0_page_ms", "MemLens page ms", "{:.0f}"),
    ("b_mem0_get_all_user_s", "Mem0 get_all user s", "{:.2f}"),
    ("b_memlens_mem0_load_s", "MemLens load Mem0 s", "{:.1f}"),
]
GRAPH = [
    ("n", "memories", "{:,}"),
    ("g_edges", "edges", "{:,}"),
    ("g_build_s", "build s", "{:.1f}"),
    ("g_map_layout_s", "map layout s", "{:.2f}"),
    ("g_graph_layout_s", "graph layout s", "{:.2f}"),
    ("g_nx_spring_layout_s", "nx spring s", "{:.1f}"),
    ("g_first_paint_s", "first paint s", "{:.2f}"),
    ("g_naive_scene_first_paint_s", "naive paint s", "{:.1f}"),
    ("g_zoom_repaint_ms", "map zoom ms", "{:.1f}"),
    ("g_pan_repaint_ms", "map pan ms", "{:.1f}"),
    ("g_graph_edges_shown", "graph tab edges", "{:,}"),
    ("g_graph_zoom_repaint_ms", "graph zoom ms", "{:.1f}"),
    ("g_graph_pan_repaint_ms", "graph pan ms", "{:.1f}"),
    ("g_naive_zoom_repaint_ms", "naive zoom ms", "{:.0f}"),
    ("x_zoom_vs_naive", "× naive", "{:.3f}"),
]
TIMELINE = [
    ("n", "memories", "{:,}"),
    ("t_marks", "marks", "{:,}"),
    ("t_first_paint_s", "first paint s", "{:.2f}"),
    ("t_zoom_repaint_ms", "zoom ms", "{:.1f}"),
    ("t_pan_repaint_ms", "pan ms", "{:.1f}"),
    ("t_hover_pick_ms", "hover ms", "{:.2f}"),
    ("t_as_of_s", "as-of s", "{:.3f}"),
]
IMPORT = [
    ("n", "into memories", "{:,}"),
    ("w_import_n", "imported", "{:,}"),
    ("w_import_s", "import s", "{:.1f}"),
    ("w_import_per_s", "import /s", "{:.0f}"),
    ("w_encode_per_s", "model encode /s", "{:.0f}"),
    ("x_import_vs_encode", "ratio", "{:.0%}"),
    ("w_stall_import_ms", "longest stall ms", "{:.0f}"),
]


def md_table(rows: list[dict], columns: list[tuple[str, str, str]]) -> str:
    head = "| " + " | ".join(c[1] for c in columns) + " |"
    rule = "|" + "|".join("---:" for _ in columns) + "|"
    body = [
        "| " + " | ".join("—" if r.get(k) is None else f.format(r[k]) for k, _, f in columns) + " |"
        for r in rows
    ]
    return "\n".join([head, rule, *body])


def report(summary: dict, markdown: bool) -> str:
    rows = summary["rows"]
    top = rows[-1]
    table = md_table if markdown else format_table
    sections = [
        ("Budgets at the largest size", None),
        ("The window (MainWindow offscreen, GUI-thread heartbeat)", WINDOW),
        ("Longest GUI event-loop stall by background work, ms", STALLS),
        ("Search as you type: the floor (model + Chroma) and Mem0, medians", SEARCH),
        ("Opening: Chroma's own get, Mem0's get_all", OPENING),
        ("Graph and semantic map vs networkx spring_layout and a naive one-item-per-memory scene", GRAPH),
        ("Timeline", TIMELINE),
        ("Import with embedding vs the model's own encode", IMPORT),
    ]
    out = []
    for title, columns in sections:
        out.append(f"### {title}" if markdown else f"\n{title}")
        if columns is None:
            lines = [
                (n, limit, measured, {True: "met", False: "MISSED", None: "—"}[met])
                for n, limit, measured, met in budgets(top)
            ]
            if markdown:
                out.append("| budget | limit | measured | |\n|---|---:|---:|---|")
                out += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in lines]
            else:
                out += [f"  {a:<52} {b:>10} {c:>10}  {d}" for a, b, c, d in lines]
        else:
            shown = [r for r in rows if any(r.get(k) is not None for k, _, _ in columns[1:])]
            out.append(table(shown, columns))
        out.append("")
    return "\n".join(out)


def machine_line(summary: dict) -> str:
    m = summary["machine"]
    others = summary["busy"]
    return (
        f"Machine: {m['cpu_model']}, {m['cpus']} cores (nproc), {m['memory_gb']} GB RAM, "
        f"Python {m['python']}, {m['platform']}. Load average before the run {summary['load_before']}, "
        f"after {summary['load_after']}"
        + (f"; other processes using the CPU during the run: {', '.join(others)}." if others else ".")
    )


def write_doc(summary: dict) -> None:
    head = [
        f"Last run: {summary['date']}, `{summary['command']}`, {summary['minutes']:.1f} minutes.",
        "",
        machine_line(summary),
        "",
        report(summary, markdown=True),
    ]
    text = DOC.read_text() if DOC.exists() else f"# Performance\n\n{START}\n{END}\n"
    if START not in text:
        text += f"\n{START}\n{END}\n"
    before, rest = text.split(START, 1)
    after = rest.split(END, 1)[1]
    DOC.write_text(f"{before}{START}\n" + "\n".join(head) + f"\n{END}{after}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1k and 10k memories only")
    parser.add_argument("--sizes", type=int, nargs="+", help="memories per store (default 1k 10k 100k)")
    parser.add_argument("--import-n", type=int, default=10_000, help="memories imported at the largest size")
    parser.add_argument("--report-only", action="store_true", help="rebuild the tables from bench/results")
    parser.add_argument("--no-doc", action="store_true", help="leave docs/PERFORMANCE.md alone")
    args = parser.parse_args()
    sizes = args.sizes or ([1000, 10000] if args.quick else [1000, 10000, SCALE])
    started, load_before = time.perf_counter(), [round(x, 2) for x in os.getloadavg()]
    neighbours = Neighbours()
    took = (
        {}
        if args.report_only
        else run_parts(parts(sizes, args.import_n if not args.quick else 1000), neighbours)
    )
    summary = {
        **collect(sizes),
        "machine": machine(),
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
        "command": "make bench" + (" BENCH_ARGS=" + " ".join(sys.argv[1:]) if sys.argv[1:] else ""),
        "minutes": (time.perf_counter() - started) / 60,
        "parts_s": took,
        "load_before": load_before,
        "load_after": [round(x, 2) for x in os.getloadavg()],
        "busy": neighbours.stop(),
    }
    print(report(summary, markdown=False))
    print(f"total {summary['minutes']:.1f} minutes")
    (RESULTS / "summary.json").write_text(json.dumps(summary, indent=2))
    if not args.no_doc:
        write_doc(summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
