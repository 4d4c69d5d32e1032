"""The `memlens` command as a user types it: real processes, real stores."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys

import pytest

from memlens.core.jsonl import parse_jsonl


def memlens(*args: str, env: dict | None = None, timeout: int = 300) -> subprocess.CompletedProcess:
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "memlens", *args],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=timeout,
    )


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory, embedder) -> str:
    """A store holding only the 'demo' collection (324 memories, about 190 kB as JSONL).
    Tests read it; none writes to it."""
    from memlens.core.chroma_store import ChromaBackend
    from memlens.core.demo_store import ensure_demo_store

    path = tmp_path_factory.mktemp("demo") / "store"
    ensure_demo_store(ChromaBackend.open_path(path), embedder)
    return str(path)


GOOD = [
    {
        "id": "a1",
        "text": "Alice likes green tea",
        "user_id": "alice",
        "created_at": "2026-01-02T10:00:00+00:00",
    },
    {"text": "Bob runs on Sundays", "user_id": "bob", "tags": ["sport"], "extra": {"origin": "crm"}},
]


def write_lines(path, lines):
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "command",
    [
        "stats",
        "import",
        "export",
        "demo",
        "traces",
        "import-traces",
        "pin",
        "check-queries",
        "why-not",
        "replay",
    ],
)
def test_every_command_has_help(command):
    out = memlens(command, "--help")
    assert out.returncode == 0
    assert "--store" in out.stdout


def test_import_stats_export_round_trip(tmp_path):
    store = tmp_path / "store"
    src = write_lines(tmp_path / "in.jsonl", [json.dumps(x) for x in GOOD])
    out = memlens("import", str(src), "--store", str(store))
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "Imported 2 memories into 'memories'."

    stats = memlens("stats", "--store", str(store), "--json")
    info = json.loads(stats.stdout)["collections"]
    assert [(c["name"], c["count"], c["profile"], c["dimension"]) for c in info] == [
        ("memories", 2, "native", 384)
    ]
    table = memlens("stats", "--store", str(store)).stdout
    assert "memories" in table and "MemLens" in table and "384" in table

    exported = memlens("export", "--format", "jsonl", "--store", str(store), "--collection", "memories")
    records = parse_jsonl(exported.stdout.splitlines()).records
    # Oldest first; the line without a time was stamped when it was imported.
    assert [r.text for r in records] == ["Alice likes green tea", "Bob runs on Sundays"]
    by_text = {r.text: r for r in records}
    assert by_text["Bob runs on Sundays"].extra == {"origin": "crm"}
    assert by_text["Bob runs on Sundays"].tags == ("sport",)
    assert by_text["Alice likes green tea"].id == "a1"


def test_malformed_lines_are_reported_by_number_and_nothing_is_imported(tmp_path):
    store = tmp_path / "store"
    src = write_lines(
        tmp_path / "bad.jsonl",
        [
            json.dumps(GOOD[0]),
            '{"text": "unterminated',
            json.dumps({"id": "x", "text": "ok", "status": "bogus"}),
            json.dumps({"id": "y"}),
            json.dumps(GOOD[1]),
        ],
    )
    out = memlens("import", str(src), "--store", str(store))
    assert out.returncode == 1
    lines = out.stderr.strip().splitlines()
    assert lines[0].startswith(f"{src}:line 2: not valid JSON")
    assert lines[1].startswith(f"{src}:line 3: field 'status' must be one of")
    assert lines[2] == f"{src}:line 4: field 'text' must be a string"
    assert lines[-1].startswith("memlens: 3 bad line(s)") and "nothing was imported" in lines[-1]
    assert not store.exists()

    partial = memlens("import", str(src), "--store", str(store), "--skip-invalid")
    assert partial.returncode == 0
    assert partial.stdout.strip() == "Imported 2 memories into 'memories', skipped 3 bad line(s)."


def test_errors_are_one_clear_line_with_nonzero_exit(tmp_path):
    (tmp_path / "junk.txt").write_text("x")
    out = memlens("stats", "--store", str(tmp_path))
    assert out.returncode == 1
    assert out.stderr.count("\n") == 1 and "is not a Chroma store" in out.stderr
    missing = memlens("export", "--store", str(tmp_path / "nowhere"))
    assert missing.returncode == 1 and "does not exist" in missing.stderr
    no_file = memlens("import", str(tmp_path / "none.jsonl"), "--store", str(tmp_path / "s"))
    assert no_file.returncode == 1 and "is not a file" in no_file.stderr


def test_without_a_display_the_window_explains_how_to_run_headless():
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    out = subprocess.run(
        [sys.executable, "-m", "memlens"], capture_output=True, text=True, env=env, timeout=120
    )
    assert out.returncode == 1
    assert "no display found" in out.stderr and "QT_QPA_PLATFORM=offscreen" in out.stderr


def test_an_unreachable_display_is_caught_before_qt_aborts(tmp_path):
    """DISPLAY names an X server that is not there: Qt would abort the process (a core
    dump); memlens asks a child first and says what to do instead."""
    free = next(n for n in range(99, 200) if not os.path.exists(f"/tmp/.X11-unix/X{n}"))
    env = {k: v for k, v in os.environ.items() if k not in ("WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    env["DISPLAY"] = f":{free}"
    out = subprocess.run(
        [sys.executable, "-m", "memlens", "--store", str(tmp_path / "store")],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        cwd=tmp_path,
    )
    assert out.returncode == 1  # an exit, not a signal (an abort is -6)
    assert out.stderr.startswith(f"memlens: cannot open a window on DISPLAY=:{free}: Qt could not start")
    assert "QT_QPA_PLATFORM=offscreen" in out.stderr and "libxcb-cursor0" in out.stderr
    assert out.stderr.count("\n") == 1
    assert list(tmp_path.iterdir()) == []  # no core file, and no store made


def test_demo_command_creates_the_demo_once(tmp_path):
    store = tmp_path / "store"
    first = memlens("demo", "--store", str(store))
    assert first.returncode == 0, first.stderr
    assert "324 memories" in first.stdout
    again = memlens("demo", "--store", str(store))
    assert "324 memories" in again.stdout
    assert (
        json.loads(memlens("stats", "--store", str(store), "--json").stdout)["collections"][0]["count"] == 324
    )


def test_search_is_traced_and_pinned_queries_fail_the_exit_code(tmp_path, make_service, capsys):
    from memlens.cli import main

    def run(*args: str) -> tuple[int, str, str]:
        """In-process (the model loads in seconds, not a new interpreter each time)."""
        code = main([*args, "--store", str(store)])
        out = capsys.readouterr()
        return code, out.out, out.err

    store = tmp_path / "store"
    lines = [
        {"id": "tea", "text": "Ana drinks green tea every morning", "user_id": "ana"},
        {"id": "bike", "text": "Ana cycles to work on a red bike", "user_id": "ana"},
        {"id": "cat", "text": "Ben has a grey cat called Miso", "user_id": "ben"},
        {"id": "jazz", "text": "Ben listens to jazz while cooking", "user_id": "ben"},
    ]
    src = write_lines(tmp_path / "m.jsonl", [json.dumps(x) for x in lines])
    assert run("import", str(src))[0] == 0

    code, out, err = run("search", "what does Ana drink", "--k", "2", "--json")
    assert code == 0, err
    assert json.loads(out.splitlines()[0])["id"] == "tea"
    trace = json.loads(run("traces", "--json")[1].splitlines()[0])
    assert trace["origin"] == "cli" and trace["query"] == "what does Ana drink"
    assert "only the top 2 were returned" in run("why-not", trace["id"][:8], "cat")[1]
    assert trace["model"] and trace["filter"]["users"] == [] and trace["threshold"] is None

    # One trace whole; a filtered search says which filter; traces by time and by memory.
    assert run("search", "who has a pet", "--user", "ben", "--k", "1")[0] == 0
    shown = run("trace", json.loads(run("traces", "--json")[1].splitlines()[0])["id"][:8])
    lines_shown = shown[1].splitlines()
    assert shown[0] == 0 and "'who has a pet'" in lines_shown[0]
    assert "filter: user ben" in lines_shown[1]
    assert (
        lines_shown[2].startswith("  1. score")
        and "cat  [active, ben]  Ben has a grey cat called Miso" in lines_shown[3]
    )
    assert len(run("traces", "--memory", "tea")[1].splitlines()) == 1
    assert run("traces", "--since", "2999-01-01")[1] == ""
    assert len(run("traces", "--until", "2999-01-01")[1].splitlines()) == 2
    with pytest.raises(SystemExit) as usage:
        run("traces", "--since", "last tuesday")
    assert usage.value.code == 2 and "'last tuesday' is not a date or time" in capsys.readouterr().err

    assert run("pin", "what does Ana drink", "--must", "tea", "--k", "1")[0] == 0
    assert run("check-queries")[0] == 0
    make_service("memories", store).edit("tea", text="The office printer is out of toner")
    failed = memlens("check-queries", "--store", str(store))  # a real process: its exit code
    assert failed.returncode == 1 and "FAIL" in failed.stdout and "tea" in failed.stdout
    # The trace keeps what the search saw; `trace` shows it beside what the memory says now.
    then_now = run("trace", trace["id"][:8])[1]
    assert "tea  then: Ana drinks green tea every morning" in then_now
    assert "now:  The office printer is out of toner" in then_now
    assert json.loads(run("trace", trace["id"][:8], "--json")[1])["hits"][0]["text"] == (
        "Ana drinks green tea every morning"
    )

    assert "keeps the newest 1" in run("traces", "--keep", "1")[2]
    assert len(run("traces")[1].splitlines()) == 1


def test_store_options_before_the_command_are_used_and_the_commands_own_win(tmp_path, capsys):
    from tests_support import run_cli

    for store, text in ((tmp_path / "before", "Alice likes tea"), (tmp_path / "after", "Bob likes coffee")):
        src = write_lines(tmp_path / f"{store.name}.jsonl", [json.dumps({"id": store.name, "text": text})])
        assert run_cli(capsys, "--store", str(store), "import", str(src), "--collection", store.name)[0] == 0

    code, out, _ = run_cli(capsys, "--store", str(tmp_path / "before"), "stats", "--json")
    assert code == 0 and [c["name"] for c in json.loads(out)["collections"]] == ["before"]
    code, out, _ = run_cli(
        capsys, "--store", str(tmp_path / "before"), "stats", "--store", str(tmp_path / "after"), "--json"
    )
    assert code == 0 and [c["name"] for c in json.loads(out)["collections"]] == ["after"]
    code, _, err = run_cli(capsys, "--server", "http://127.0.0.1:9", "stats")
    assert code == 1 and "Cannot reach the Chroma server at http://127.0.0.1:9" in err


@pytest.mark.parametrize("fmt", ["jsonl", "mem0-json"])
def test_export_into_a_reader_that_stops_early_ends_quietly(demo_store, fmt):
    """`memlens export | head -1`: the reader closes the pipe after one line, while the
    export is still writing (its output is larger than the pipe holds)."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "memlens",
            "export",
            "--format",
            fmt,
            "--collection",
            "demo",
            "--store",
            demo_store,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    first = proc.stdout.readline()
    proc.stdout.close()
    err = proc.stderr.read()
    assert proc.wait(timeout=120) == 0
    assert err == ""
    assert first.startswith("{")


def test_reading_commands_create_no_store(tmp_path):
    """On a fresh machine (no default store yet) and on an empty folder, a command that
    only reads says there is no store, and leaves nothing behind."""
    data = tmp_path / "data"
    empty = tmp_path / "empty"
    empty.mkdir()
    for command in (["stats"], ["export"], ["traces"], ["search", "tea"], ["pins"]):
        fresh = memlens(*command, env={"MEMLENS_DATA_DIR": str(data)})
        assert fresh.returncode == 1, (command, fresh.stderr)
        assert fresh.stderr == (
            f"memlens: No store at {data / 'store'} (the folder does not exist); "
            "`memlens import FILE` or `memlens demo` creates one.\n"
        )
        in_empty = memlens(*command, "--store", str(empty))
        assert in_empty.returncode == 1 and "(the folder is empty)" in in_empty.stderr
    assert not data.exists() and list(empty.iterdir()) == []


def test_without_collection_reads_the_only_one_and_imports_into_memories(demo_store, tmp_path, capsys):
    from tests_support import run_cli

    def help_of(command: str) -> str:
        return " ".join(memlens(command, "--help").stdout.split())  # unwrapped

    assert "--collection NAME collection to add to (default: 'memories', created if needed)" in help_of(
        "import"
    )
    assert "(default: 'memories', else the only one; if there are several, name one)" in help_of("export")

    code, out, err = run_cli(capsys, "export", "--store", demo_store)
    assert code == 0 and len(out.splitlines()) == 324
    assert err == f"Using 'demo', the only collection in {demo_store}.\n"

    store = str(tmp_path / "store")
    shutil.copytree(demo_store, store)
    src = write_lines(tmp_path / "in.jsonl", [json.dumps(GOOD[0])])
    code, out, err = run_cli(capsys, "import", str(src), "--store", store)
    assert code == 0 and out == "Imported 1 memories into 'memories'.\n"
    assert (
        err == "No --collection given: writing to a new collection 'memories' (this store also holds demo).\n"
    )
    code, out, err = run_cli(capsys, "export", "--store", store)
    assert (code, err) == (0, "") and [json.loads(line)["id"] for line in out.splitlines()] == ["a1"]


def test_without_collection_several_others_are_not_guessed(tmp_path, capsys):
    from memlens.core.chroma_store import ChromaBackend
    from tests_support import run_cli

    store = tmp_path / "store"
    backend = ChromaBackend.open_path(store)
    code, out, err = run_cli(capsys, "search", "tea", "--store", str(store))
    assert (code, out) == (1, "")
    assert err == f"memlens: {store} holds no memory collections. `memlens import FILE` adds one.\n"
    for name in ("notes", "agent"):
        backend.open(name, create=True)
    code, out, err = run_cli(capsys, "export", "--store", str(store))
    assert (code, out) == (1, "")
    assert err == (
        f"memlens: {store} holds 2 collections and none is named 'memories': agent, notes. "
        "Choose one with --collection NAME.\n"
    )


def test_each_command_help_says_what_it_does_and_lists_only_what_it_uses(capsys):
    from memlens.cli import main

    listed = memlens("--help").stdout.split("\n  COMMAND\n")[1].split("\n\n")[0]
    commands = re.findall(r"^    (\S+)", listed, re.M)
    assert {"stats", "import", "serve", "edit", "pin"} <= set(commands)
    helps = {}
    for command in commands:
        with pytest.raises(SystemExit) as done:
            main([command, "--help"])
        assert done.value.code == 0
        helps[command] = capsys.readouterr().out
        description = " ".join(helps[command].split("\n\n")[1].split())  # after the usage lines
        assert description[0].isupper() and description.endswith("."), (command, description)
        assert not description.startswith(("options:", "positional arguments:")), command
    assert "--model" not in helps["stats"] and "--mem0-history" not in helps["stats"]
    assert "--mem0-history" not in helps["demo"] and "--model" in helps["demo"]
    assert "--mem0-history" in helps["export"]


def test_import_reports_progress_on_stderr_and_keeps_stdout_for_the_result(tmp_path):
    lines = [json.dumps({"id": f"f{n}", "text": f"Fact number {n} about the garden"}) for n in range(600)]
    src = write_lines(tmp_path / "many.jsonl", lines)
    out = memlens("import", str(src), "--store", str(tmp_path / "store"))
    assert out.returncode == 0, out.stderr
    assert out.stdout == "Imported 600 memories into 'memories'.\n"
    # The model embeds in chunks of 500; the first report is always printed.
    assert out.stderr.splitlines()[0] == "embedded 500 of 600 memories…"
    assert all(line.startswith("embedded ") for line in out.stderr.splitlines())


def test_pins_are_listed_and_removed_from_the_command_line(seeded, store_dir, capsys):
    from tests_support import run_cli

    store = ["--store", str(store_dir)]
    code, out, err = run_cli(capsys, "pins", *store)
    assert (code, out) == (0, "") and err.startswith("No pinned queries.")
    assert (
        run_cli(capsys, "pin", "food allergy", "--must", "m1", "--must-not", "m4", "--k", "2", *store)[0] == 0
    )
    assert run_cli(capsys, "pin", "violin", "--must", "m2", "--user", "alice", "--k", "1", *store)[0] == 0

    rows = [json.loads(line) for line in run_cli(capsys, "pins", "--json", *store)[1].splitlines()]
    assert [(r["query"], r["must"], r["must_not"], r["k"]) for r in rows] == [
        ("food allergy", ["m1"], ["m4"], 2),
        ("violin", ["m2"], [], 1),
    ]
    assert rows[1]["filter"]["users"] == ["alice"] and rows[1]["collection"] == "memories"
    food, violin = (r["id"][:8] for r in rows)
    code, out, _ = run_cli(capsys, "pins", *store)
    assert out.splitlines() == [
        f"{food}  memories  'food allergy' (k=2): must return m1; must not return m4",
        f"{violin}  memories  'violin' (k=1): must return m2; filter: user alice",
    ]
    assert run_cli(capsys, "pins", "--collection", "other", *store)[1] == ""

    # Every id is checked first: one unknown id, and nothing is unpinned.
    code, out, err = run_cli(capsys, "unpin", food, "nope", *store)
    assert (code, out) == (1, "")
    assert err == (
        f"memlens: 'nope' matches no pinned query in {store_dir / 'memlens-traces.sqlite3'}. "
        "Nothing was unpinned.\n"
    )
    code, out, _ = run_cli(capsys, "unpin", food, *store)
    assert (code, out) == (0, f"Unpinned 'food allergy' ({food}) in 'memories'.\n")
    code, out, err = run_cli(capsys, "check-queries", *store)
    assert code == 0 and out.startswith("PASS  'violin'") and err == "1 passed, 0 failed.\n"
