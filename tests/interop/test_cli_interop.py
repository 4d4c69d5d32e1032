"""The two things a user checks from a shell: a Mem0 store curated with `memlens` and read
back by Mem0, and `memlens watch` following an agent that writes to a Chroma server.
Every step is a separate process, as in docs/INTEROP.md."""

from __future__ import annotations

import csv
import hashlib
import json
import subprocess
import sys

from processes import mem0_agent, memlens


def test_mem0_store_curated_from_the_command_line_reads_back_in_mem0(tmp_path):
    store = str(tmp_path / "mem0-store")
    on_store = ["--store", store, "--collection", "mem0"]
    added = mem0_agent(
        "--path",
        store,
        commands=[
            {
                "op": "add",
                "text": "Alice likes green tea",
                "user_id": "alice",
                "metadata": {"topic": "drinks"},
            },
            {"op": "add", "text": "Alice lives in Paris", "user_id": "alice"},
            {"op": "add", "text": "Alice runs on Sundays", "user_id": "alice"},
            {"op": "add", "text": "Alice goes running every Sunday morning", "user_id": "alice"},
        ],
    )
    tea, city, run1, run2 = (a["id"] for a in added)

    edit = memlens("edit", tea, "--text", "Alice likes oolong tea", "--reason", "she corrected it", *on_store)
    assert edit.returncode == 0, edit.stderr
    assert edit.stdout.strip() == f"Edit text: {tea} is now v2: 'Alice likes oolong tea'"
    delete = memlens("delete", city, *on_store)
    assert delete.stdout.strip() == "Delete 1 memory in 'mem0'."
    merged = memlens("merge", run1, run2, "--text", "Alice runs every Sunday morning", *on_store)
    assert merged.returncode == 0, merged.stderr
    merged_id = merged.stdout.split(" into ")[1].split(":")[0]
    exported = memlens("export", "--format", "mem0-json", *on_store)
    assert exported.returncode == 0, exported.stderr

    view, hits, tea_history, city_history = mem0_agent(
        "--path",
        store,
        commands=[
            {"op": "get_all", "user_id": "alice"},
            {"op": "search", "query": "what tea does Alice like", "user_id": "alice"},
            {"op": "history", "id": tea},
            {"op": "history", "id": city},
        ],
    )
    by_id = {m["id"]: m for m in view["results"]}
    assert set(by_id) == {tea, merged_id}
    assert by_id[tea]["memory"] == "Alice likes oolong tea"
    assert by_id[tea]["hash"] == hashlib.md5(b"Alice likes oolong tea").hexdigest()
    assert by_id[tea]["metadata"] == {"topic": "drinks"}
    assert by_id[tea]["updated_at"] > by_id[tea]["created_at"]
    assert by_id[merged_id]["memory"] == "Alice runs every Sunday morning"
    assert hits["results"][0]["id"] == tea
    assert [(h["event"], h["new_memory"]) for h in tea_history["results"]] == [
        ("ADD", "Alice likes green tea"),
        ("UPDATE", "Alice likes oolong tea"),
    ]
    assert [h["event"] for h in city_history["results"]] == ["ADD", "DELETE"]
    # MemLens' Mem0-shaped export is what Mem0 itself reports.
    assert sorted(json.loads(exported.stdout)["results"], key=lambda m: m["id"]) == sorted(
        view["results"], key=lambda m: m["id"]
    )


def test_memorybank_import_and_csv_export_from_the_command_line(shared_data, tmp_path):
    store = str(tmp_path / "store")
    bank = str(shared_data / "memorybank" / "memory_bank_en.json")
    out = memlens("import", bank, "--conversation", "Emily", "--store", store)
    assert out.returncode == 0, out.stderr
    raw = json.loads((shared_data / "memorybank" / "memory_bank_en.json").read_text(encoding="utf-8"))
    expected = sum(len(day) for day in raw["Emily"]["history"].values()) + 3  # + 3 profile fields
    assert out.stdout.strip() == f"Imported {expected} memories into 'memories'."
    again = memlens("import", bank, "--conversation", "Emily", "--store", store)
    assert again.returncode == 1 and "already exist" in again.stderr

    csv_path = tmp_path / "emily.csv"
    exported = memlens("export", "--format", "csv", "-o", str(csv_path), "--store", store)
    assert exported.stderr.strip().endswith(f"Wrote {expected} memories to {csv_path}.")
    with open(csv_path, encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == expected and {r["user_id"] for r in rows} == {"Emily"}
    assert rows[0]["text"] == raw["Emily"]["history"]["2023-04-27"][0]["query"]  # oldest first

    chat = tmp_path / "chat.jsonl"
    chat.write_text('{"messages": [{"role": "user", "content": "hi"}]}\n{"messages": 3}\n', encoding="utf-8")
    bad = memlens("import", str(chat), "--store", store)
    assert bad.returncode == 1
    assert bad.stderr.splitlines() == [
        f'{chat}:line 2: expected a list of messages or {{"messages": [...]}}',
        f"memlens: 1 bad line(s) in {chat}; nothing was imported. "
        "Fix them, or pass --skip-invalid to import the other lines.",
    ]
    nowhere = memlens("export", "--format", "csv", "-o", str(tmp_path / "no" / "x.csv"), "--store", store)
    assert nowhere.returncode == 1
    assert nowhere.stderr.strip() == (
        f"memlens: Cannot write {tmp_path / 'no' / 'x.csv'}: No such file or directory; nothing was written."
    )


def test_watch_follows_an_agent_writing_to_a_chroma_server(server_spec, start_agent):
    agent = start_agent(server_spec)
    paris = agent.send(op="add", text="Alice lives in Paris", user_id="alice")["id"]
    cat = agent.send(op="add", text="Alice has a cat named Tom", user_id="alice")["id"]
    where = ["--server", server_spec.base_url, "--database", server_spec.database, "--collection", "mem0"]
    watch = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "memlens",
            "watch",
            *where,
            "--interval",
            "0.5",
            "--max-events",
            "3",
            "--json",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        banner = watch.stderr.readline()
        assert banner.startswith("Watching 'mem0' in ") and "(2 memories, mem0 layout)" in banner
        violin = agent.send(op="add", text="Alice started learning the violin", user_id="alice")["id"]
        agent.send(op="update", id=paris, text="Alice lives in Lyon")
        agent.send(op="delete", id=cat)
        out, err = watch.communicate(timeout=120)
    finally:
        if watch.poll() is None:
            watch.kill()
            watch.wait()
    assert watch.returncode == 0, err
    events = {(e["event"], e["id"]): e for e in map(json.loads, out.splitlines())}
    assert set(events) == {("added", violin), ("changed", paris), ("deleted", cat)}
    assert events["added", violin]["text"] == "Alice started learning the violin"
    assert (events["changed", paris]["before"], events["changed", paris]["text"]) == (
        "Alice lives in Paris",
        "Alice lives in Lyon",
    )
    assert events["deleted", cat]["text"] == "Alice has a cat named Tom"
