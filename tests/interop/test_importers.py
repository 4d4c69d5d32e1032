"""Importing conversations and memories from the formats other tools write, with every bad
line reported by number and nothing imported from a bad file unless asked."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest

from memlens.core.importers.formats import (
    ImportOptions,
    ImportRefused,
    apply_import,
    detect_format,
    error_report,
    read_import,
)
from memlens.core.importers.json_lines import loads_with_lines
from memlens.core.query import Filter
from tests_support import REPO, run_cli

MEMORYBANK = "memorybank/memory_bank_en.json"


def _doc_example() -> str:
    """The sessions JSON example in docs/INTEROP.md (so the documentation stays true)."""
    text = (REPO / "docs" / "INTEROP.md").read_text(encoding="utf-8")
    section = text[text.index("### The sessions JSON format") :]
    return re.search(r"```json\n(.*?)```", section, re.S).group(1)


def test_memorybank_users_become_sessions_of_episodic_memories(shared_data, service):
    fmt, parsed = read_import(shared_data / MEMORYBANK, options=ImportOptions(frozenset({"Emily", "Ivy"})))
    assert fmt == "memorybank" and parsed.errors == []
    raw = json.loads((shared_data / MEMORYBANK).read_text(encoding="utf-8"))
    pairs = {u.strip(): sum(len(day) for day in e["history"].values()) for u, e in raw.items()}
    episodic = [r for r in parsed.records if r.kind == "episodic"]
    assert len(episodic) == pairs["Emily"] + pairs["Ivy"]  # " Ivy " is trimmed
    assert {r.user_id for r in parsed.records} == {"Emily", "Ivy"}

    first = parsed.records[0]
    day = raw["Emily"]["history"]["2023-04-27"]
    assert first.text == day[0]["query"]
    assert first.session_id == "Emily:2023-04-27"
    assert first.created_at == datetime(2023, 4, 27, tzinfo=UTC)
    assert [t["text"] for t in first.source["turns"]] == [day[0]["query"], day[0]["response"]]
    assert first.source["dataset"] == "MemoryBank"
    hobbies = next(r for r in parsed.records if r.id == "memorybank:Emily:profile:hobbies")
    assert hobbies.kind == "profile"
    assert hobbies.text == f"Emily's hobbies: {raw['Emily']['meta_information']['hobbies']}"

    change = apply_import(service, parsed, "memory_bank_en.json")
    assert len(change.ids) == len(parsed.records)
    emily = Filter(users=frozenset({"Emily"}))
    hits = service.semantic_search("a walk in the park with cherry blossoms and a squirrel", k=3, flt=emily)
    assert any("Green Meadow Park" in h.record.text for h in hits)
    with pytest.raises(ImportRefused, match="already exist"):
        apply_import(service, parsed, "memory_bank_en.json")
    service.undo()
    assert len(service) == 0


def test_memorybank_problems_are_named_and_stop_the_import(shared_data, tmp_path, service):
    raw = json.loads((shared_data / MEMORYBANK).read_text(encoding="utf-8"))
    emily = raw["Emily"]
    emily["history"]["27/04/2023"] = emily["history"].pop("2023-04-28")
    emily["history"]["2023-04-29"][1] = {"response": "no query here"}
    bad = tmp_path / "bank.json"
    bad.write_text(json.dumps({"Emily": emily}, indent=1), encoding="utf-8")
    lines = bad.read_text().splitlines()

    _fmt, parsed = read_import(bad, "memorybank")
    date_line = next(n for n, line in enumerate(lines, 1) if '"27/04/2023"' in line)
    no_query = next(n for n, line in enumerate(lines, 1) if '"no query here"' in line)
    assert [str(e) for e in parsed.errors] == [  # in file order (the renamed day moved last)
        f"line {no_query - 1}: user 'Emily' 2023-04-29 #2: needs a 'query' string",
        f"line {date_line}: user 'Emily': '27/04/2023' is not a YYYY-MM-DD day",
    ]
    with pytest.raises(ImportRefused, match="2 bad line"):
        apply_import(service, parsed, bad.name)
    assert len(service) == 0
    change = apply_import(service, parsed, bad.name, skip_invalid=True)
    assert len(change.ids) == len(parsed.records) > 0


def test_documented_sessions_json_imports_as_described(tmp_path, service):
    path = tmp_path / "sessions.json"
    path.write_text(_doc_example(), encoding="utf-8")
    assert detect_format(path) == "sessions-json"
    _fmt, parsed = read_import(path)
    assert parsed.errors == []
    by_id = {r.id: r for r in parsed.records}
    assert sorted(by_id) == [
        "sessions:2024-05-01-printer:m1",
        "sessions:2024-05-01-printer:m2",
        "sessions:2024-05-02-vpn:1",
    ]
    veg = by_id["sessions:2024-05-01-printer:m1"]
    assert (veg.text, veg.kind, veg.tags, veg.user_id, veg.agent_id) == (
        "Alice is vegetarian",
        "semantic",
        ("diet",),
        "alice",
        "helpdesk",
    )
    assert [t["message_id"] for t in veg.source["turns"]] == ["t3"]
    assert veg.created_at == datetime(2024, 5, 1, 9, 1, tzinfo=UTC)  # t3: 2 turns of 30 s in
    printer = by_id["sessions:2024-05-01-printer:m2"]
    assert [t["role"] for t in printer.source["turns"]] == ["Alice", "assistant"]
    assert printer.importance == 0.6 and printer.kind == "episodic"
    vpn = by_id["sessions:2024-05-02-vpn:1"]
    assert (vpn.user_id, vpn.text) == ("bob", "The VPN drops when I switch to Wi-Fi.")
    assert vpn.created_at == datetime(2024, 5, 2, 14, 3, tzinfo=UTC)
    assert vpn.source["turns"][1]["text"] == "Try the new VPN client, version 5.2."
    apply_import(service, parsed, path.name)
    assert service.get(veg.id).source["turns"][0]["text"].startswith("Thanks. I am vegetarian")


def test_sessions_json_problems_have_their_lines(tmp_path):
    doc = {
        "sessions": [
            {"id": "a", "turns": [{"role": "user", "text": "fine"}]},
            {"id": "b", "turns": [{"role": "robot", "text": "hm"}, {"role": "user"}]},
            {"id": "a", "turns": []},
            {
                "id": "c",
                "turns": [{"id": "x", "role": "user", "text": "hi"}],
                "memories": [{"text": "m", "evidence": ["y"]}],
            },
            {"id": "d"},
            {"id": "e", "turns": [{"role": "user", "text": "when", "time": "yesterday"}]},
        ]
    }
    path = tmp_path / "s.json"
    path.write_text(json.dumps(doc, indent=2), encoding="utf-8")
    lines = path.read_text().splitlines()

    def line_of(fragment: str, nth: int = 0) -> int:
        found = [n for n, line in enumerate(lines, 1) if fragment in line]
        return found[nth]

    robot, no_text = line_of('"robot"') - 1, line_of('"user"', 1) - 1
    first_a, second_a = line_of('"id": "a"') - 1, line_of('"id": "a"', 1) - 1
    memory, session_d, when = line_of('"evidence"') - 2, line_of('"id": "d"') - 1, line_of('"yesterday"') - 3
    roles = "assistant, developer, function, system, tool, user"
    _fmt, parsed = read_import(path, "sessions-json")
    assert [str(e) for e in parsed.errors] == [
        f"line {robot}: sessions[1].turns[0].role must be one of {roles}, not 'robot'",
        f"line {no_text}: sessions[1].turns[1].text must be a string",
        f"line {second_a}: session id 'a' already used on line {first_a}",
        f"line {memory}: session 'c': evidence ['y'] names no turn",
        f"line {session_d}: sessions[4]: needs 'turns', a list of turns",
        f"line {when}: sessions[5].turns[0].time: 'yesterday' is not an ISO-8601 time",
    ]
    assert [r.text for r in parsed.records] == ["fine"]


def test_openai_chat_jsonl_one_conversation_per_line(tmp_path, service):
    good = {
        "id": "conv-1",
        "user": "carol",
        "created": 1714550400,  # 2024-05-01T08:00:00Z
        "messages": [
            {"role": "system", "content": "You are a travel agent."},
            {"role": "user", "content": "I want to visit Kyoto in April."},
            {"role": "assistant", "content": None, "tool_calls": [{"id": "c1", "type": "function"}]},
            {"role": "tool", "content": '{"flights": 3}'},
            {"role": "assistant", "content": [{"type": "text", "text": "Cherry blossom season!"}]},
            {"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]},
            {"role": "user", "content": [{"type": "text", "text": "I am afraid of flying."}]},
        ],
    }
    other = [{"role": "user", "content": "Book me a train."}, {"role": "assistant", "content": "Done."}]
    path = tmp_path / "chats.jsonl"
    path.write_text(
        "\n".join(
            [
                json.dumps(good),
                "{not json",
                json.dumps({"messages": [{"role": "bot", "content": "x"}]}),
                "",
                json.dumps(other),
            ]
        ),
        encoding="utf-8",
    )
    assert detect_format(path) == "openai-chat"
    _fmt, parsed = read_import(path, options=ImportOptions(user_id="dave", agent_id="travel-bot"))
    assert [str(e) for e in parsed.errors] == [
        "line 2: not valid JSON (Expecting property name enclosed in double quotes at column 2)",
        "line 3: messages[0].role must be one of assistant, developer, function, system, tool, user, "
        "not 'bot'",
    ]
    assert [(r.id, r.user_id, r.text) for r in parsed.records] == [
        ("chat:conv-1:2", "carol", "I want to visit Kyoto in April."),
        ("chat:conv-1:7", "carol", "I am afraid of flying."),
        ("chat:chats-3:1", "dave", "Book me a train."),
    ]
    kyoto = parsed.records[0]
    assert kyoto.created_at == datetime(2024, 5, 1, 8, 0, 30, tzinfo=UTC)
    assert [t["text"] for t in kyoto.source["turns"]] == [
        "I want to visit Kyoto in April.",
        "Cherry blossom season!",
    ]
    assert {r.agent_id for r in parsed.records} == {"travel-bot"}
    assert error_report(parsed.errors, "chats.jsonl", limit=1) == [
        "chats.jsonl:line 2: not valid JSON (Expecting property name enclosed in double quotes at column 2)",
        "... and 1 more",
    ]
    apply_import(service, parsed, path.name, skip_invalid=True)
    assert len(service) == 3


def test_openai_chat_json_message_list(tmp_path):
    path = tmp_path / "one.json"
    path.write_text(
        json.dumps([{"role": "user", "content": "Remember I like window seats", "name": "erin"}], indent=2),
        encoding="utf-8",
    )
    assert detect_format(path) == "openai-chat"
    _fmt, parsed = read_import(path)
    assert parsed.errors == []
    [record] = parsed.records
    assert (record.user_id, record.text, record.session_id) == (
        "erin",
        "Remember I like window seats",
        "one-1",
    )


def test_formats_are_recognised(shared_data, tmp_path):
    assert detect_format(shared_data / "locomo" / "locomo10.json") == "locomo"
    assert detect_format(shared_data / MEMORYBANK) == "memorybank"
    native = tmp_path / "export.jsonl"
    native.write_text(
        json.dumps({"id": "a", "text": "x", "source": {"type": "conversation", "turns": []}}) + "\n"
    )
    assert detect_format(native) == "jsonl"  # a MemLens export of conversation memories


def test_unreadable_files_say_why(tmp_path):
    latin = tmp_path / "latin.json"
    latin.write_bytes('{"sessions": [{"turns": [{"role": "user", "text": "caf\xe9"}]}]}'.encode("latin-1"))
    assert [str(e) for e in read_import(latin, "sessions-json")[1].errors] == [
        "line 0: the file is not UTF-8 text (invalid continuation byte)"
    ]
    broken = tmp_path / "broken.json"
    broken.write_text('{"sessions": [\n  {"turns": []},\n  oops\n]}')
    assert [str(e) for e in read_import(broken, "sessions-json")[1].errors] == [
        "line 3: not valid JSON (Expecting value at column 3)"
    ]
    assert [str(e) for e in read_import(tmp_path / "missing.json")[1].errors] == [
        f"line 0: {tmp_path / 'missing.json'} is not a file"
    ]


def test_json_with_lines_reads_what_json_reads(shared_data):
    text = (shared_data / "locomo" / "locomo10.json").read_text(encoding="utf-8")
    doc = loads_with_lines(text)
    assert doc.value == json.loads(text)
    conv = doc.value[0]["conversation"]
    first_turn = conv["session_1"][0]
    opening = text.rfind("{", 0, text.index('"dia_id": "D1:1"'))  # where the turn's object opens
    assert doc.line(first_turn) == text[:opening].count("\n") + 1


LOCOMO = "locomo/locomo10.json"


def test_locomo_observations_become_memories_with_their_turns(shared_data):
    fmt, parsed = read_import(
        shared_data / LOCOMO, options=ImportOptions(frozenset({"conv-26", "conv-30", "conv-48"}))
    )
    assert fmt == "locomo" and parsed.errors == []
    raw = {s["sample_id"]: s for s in json.loads((shared_data / LOCOMO).read_text(encoding="utf-8"))}
    conv = raw["conv-26"]["conversation"]
    turns = {t["dia_id"]: t for k, v in conv.items() if re.fullmatch(r"session_\d+", k) for t in v}
    facts = [
        (int(key.split("_")[1]), speaker, fact, evidence)
        for key, by_speaker in raw["conv-26"]["observation"].items()
        for speaker, items in by_speaker.items()
        for fact, evidence in items
    ]
    mine = [r for r in parsed.records if r.id.startswith("conv-26:")]
    assert len(mine) == len(facts) == 184
    by_text = {r.text: r for r in mine}
    for session, speaker, fact, evidence in facts:
        record = by_text[fact]
        assert (record.user_id, record.kind, record.session_id) == (
            speaker,
            "episodic",
            f"conv-26-session-{session}",
        )
        assert record.source["turns"] == [
            {"role": turns[evidence]["speaker"], "text": turns[evidence]["text"], "message_id": evidence}
        ]
        start = datetime.strptime(conv[f"session_{session}_date_time"], "%I:%M %p on %d %B, %Y")
        assert start.replace(tzinfo=UTC) <= record.created_at < start.replace(tzinfo=UTC) + timedelta(hours=2)
    first = by_text[
        "Caroline attended an LGBTQ support group recently and found the transgender stories inspiring."
    ]
    assert first.created_at == datetime(2023, 5, 8, 13, 57, 30, tzinfo=UTC)  # 1:56 pm, third turn
    assert first.source["participants"] == ["Caroline", "Melanie"]

    # Evidence as a list (conv-30), and as several ids in one string (conv-48's "D22:21, D22:23").
    [listed] = [r for r in parsed.records if r.id.startswith("conv-30:") and len(r.source["evidence"]) > 1]
    assert listed.source["evidence"] == ["D15:3", "D15:5"]
    joined = [r for r in parsed.records if r.id.startswith("conv-48:s22:") and len(r.source["evidence"]) > 1]
    assert sorted(r.source["evidence"] for r in joined) == [["D22:10", "D22:12"], ["D22:21", "D22:23"]]
    for r in (listed, *joined):
        assert [t["message_id"] for t in r.source["turns"]] == r.source["evidence"]
        assert all(t["text"] for t in r.source["turns"])


def test_locomo_problems_have_their_lines(tmp_path):
    sample = {
        "sample_id": "mini",
        "conversation": {
            "speaker_a": "Ann",
            "speaker_b": "Ben",
            "session_1_date_time": "9:00 am on 2 June, 2024",
            "session_1": [
                {"speaker": "Ann", "dia_id": "D1:1", "text": "I adopted a dog."},
                {"speaker": "Ben", "dia_id": "D1:2", "text": "What is its name?"},
            ],
            "session_2_date_time": "sometime",
            "session_2": [],
        },
        "observation": {
            "session_1_observation": {
                "Ann": [["Ann adopted a dog.", "D1:1"], ["Ann's dog is called Rex.", "D1:1; D1:9"], "oops"]
            },
            "session_2_observation": {"Ben": [["Ben likes cats.", "D2:1"]]},
        },
    }
    path = tmp_path / "mini-locomo.json"
    path.write_text(json.dumps([sample], indent=2), encoding="utf-8")
    lines = path.read_text(encoding="utf-8").splitlines()

    def line_of(text: str) -> int:
        return next(n for n, line in enumerate(lines, 1) if text in line)

    _fmt, parsed = read_import(path, "locomo")
    assert [r.text for r in parsed.records] == ["Ann adopted a dog."]
    second_session, ann = line_of("session_2_observation"), line_of('"Ann": [')
    assert [str(e) for e in parsed.errors] == [
        # a fact's line is where its [fact, evidence] opens; a bare string has none: its list's
        f"line {line_of('Rex') - 1}: mini session 1 Ann #2: evidence ['D1:9'] names no turn",
        f"line {ann}: mini session 1 Ann #3: not [fact, evidence turn id(s)]",
        f"line {second_session}: mini session 2: no readable date; its observations were skipped",
    ]


def test_openai_chat_message_without_text_is_a_line_error(tmp_path, service, capsys):
    good = {
        "messages": [
            {"role": "user", "content": "Book me a window seat."},
            {"role": "assistant", "tool_calls": [{"id": "c1", "type": "function"}]},  # no content: fine
            {"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]},  # media only
        ]
    }
    path = tmp_path / "chats.jsonl"
    path.write_text(
        "\n".join(
            json.dumps(c)
            for c in (
                good,
                {"messages": [{"role": "user"}]},
                {"messages": [{"role": "user", "content": None}]},
                {"messages": [{"role": "system", "content": "hi"}, {"role": "user", "content": "  "}]},
                {"messages": [{"role": "assistant"}]},
            )
        )
        + "\n",
        encoding="utf-8",
    )
    code, out, err = run_cli(capsys, "import", str(path), "--store", str(tmp_path / "store"))
    assert code == 1 and out == ""
    assert err.splitlines() == [
        f"{path}:line 2: messages[0] has no 'content'",
        f"{path}:line 3: messages[0] is a user message without text",
        f"{path}:line 4: messages[1] is a user message without text",
        f"{path}:line 5: messages[0] has no 'content'",
        f"memlens: 4 bad line(s) in {path}; nothing was imported. "
        "Fix them, or pass --skip-invalid to import the other lines.",
    ]
    _fmt, parsed = read_import(path)
    apply_import(service, parsed, path.name, skip_invalid=True)
    assert [r.text for r in service.records(service.select(Filter()))] == ["Book me a window seat."]


def test_jsonl_errors_name_the_fault_and_the_field(tmp_path, capsys):
    lines = [
        '{"text": "Alice likes tea", "user_id": "alice"',  # the closing } is missing
        '{"text": "Bob said \\"}\\" and [", "tags": ["x"',  # brackets inside a text do not count
        '{"text": "v", "version": "abc"}',
        '{"text": "v", "version": 0}',
        '{"text": "n", "importance": NaN}',
        '{"text": "n", "importance": Infinity}',
        '{"text": "n", "importance": "0.5"}',
        '{"text": "   "}',
        '{"text": "fine", "importance": 0.5, "version": 3}',
    ]
    path = tmp_path / "m.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, _out, err = run_cli(capsys, "import", str(path), "--store", str(tmp_path / "store"))
    assert code == 1
    assert err.splitlines()[:-1] == [
        f"{path}:line 1: not valid JSON (the line ends before the object is closed)",
        f"{path}:line 2: not valid JSON (the line ends before the list is closed)",
        f"{path}:line 3: field 'version' must be a positive integer, not 'abc'",
        f"{path}:line 4: field 'version' must be a positive integer, not 0",
        f"{path}:line 5: field 'importance' must be a finite number, not NaN",
        f"{path}:line 6: field 'importance' must be a finite number, not Infinity",
        f"{path}:line 7: field 'importance' must be a number, not '0.5'",
        f"{path}:line 8: field 'text' is blank: a memory needs some text",
    ]
    assert "8 bad line(s)" in err.splitlines()[-1] and not (tmp_path / "store").exists()
    [fine] = read_import(path)[1].records
    assert (fine.importance, fine.version) == (0.5, 3)


def test_a_json_file_cut_short_names_the_line_left_open(tmp_path):
    path = tmp_path / "cut.json"
    path.write_text('{"sessions": [\n  {"turns": [\n    {"role": "user", "text": "hi"}\n  ]\n', "utf-8")
    assert [str(e) for e in read_import(path, "sessions-json")[1].errors] == [
        "line 2: not valid JSON (the file ends before the object opened here is closed)"
    ]


def test_blank_or_impossible_values_are_line_errors_in_every_importer(tmp_path):
    sessions = tmp_path / "s.json"
    sessions.write_text(
        json.dumps(
            {
                "sessions": [
                    {
                        "id": "a",
                        "turns": [{"id": "t1", "role": "user", "text": "I like tea"}],
                        "memories": [
                            {"text": " ", "evidence": ["t1"]},
                            {"text": "likes tea", "evidence": ["t1"], "importance": float("nan")},
                        ],
                    }
                ]
            },
            indent=2,
        ),
        encoding="utf-8",
    )
    text = sessions.read_text()

    def opens(fragment: str) -> int:  # a memory's object opens the line above its text
        return text[: text.index(fragment)].count("\n")

    blank, nan = opens('"text": " "'), opens('"text": "likes tea"')
    assert [str(e) for e in read_import(sessions, "sessions-json")[1].errors] == [
        f"line {blank}: sessions[0].memories[0].text is blank: a memory needs some text",
        f"line {nan}: sessions[0].memories[1].importance must be a finite number, not NaN",
    ]
    locomo = tmp_path / "l.json"
    locomo.write_text(
        json.dumps(
            [
                {
                    "sample_id": "mini",
                    "conversation": {
                        "session_1_date_time": "9:00 am on 2 June, 2024",
                        "session_1": [{"speaker": "Ann", "dia_id": "D1:1", "text": "I adopted a dog."}],
                    },
                    "observation": {"session_1_observation": {"Ann": [["", "D1:1"]]}},
                }
            ]
        ),
        encoding="utf-8",
    )
    assert [str(e) for e in read_import(locomo, "locomo")[1].errors] == [
        "line 1: mini session 1 Ann #1: the fact is blank"
    ]
    bank = tmp_path / "b.json"
    bank.write_text(json.dumps({"Ann": {"history": {"2023-04-27": [{"query": "", "response": "hi"}]}}}))
    assert [str(e) for e in read_import(bank, "memorybank")[1].errors] == [
        "line 1: session 'Ann:2023-04-27': turn '1' has no text"
    ]
