"""The examples of docs/WRITING_PLUGINS.md, run as written (a guide that lies is worse than none)."""

from __future__ import annotations

import re
from pathlib import Path

from memlens.plugin_api import MessageDelta

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "WRITING_PLUGINS.md"


def guide_code(first_line: str) -> str:
    """The ```python block of the guide that starts with `first_line`."""
    blocks = re.findall(r"```python\n(.*?)```", GUIDE.read_text(encoding="utf-8"), re.DOTALL)
    return next(b for b in blocks if b.startswith(first_line))


def run(code: str) -> dict:
    namespace: dict = {}
    exec(compile(code, str(GUIDE), "exec"), namespace)
    return namespace


def test_the_smallest_plugin_and_its_test_work_as_written(memlens_harness, monkeypatch):
    import sys
    import types

    module = types.ModuleType("my_plugin")
    exec(compile(guide_code("# my_plugin/__init__.py"), str(GUIDE), "exec"), module.__dict__)
    monkeypatch.setitem(sys.modules, "my_plugin", module)
    run(guide_code("from my_plugin import MyPlugin"))["test_coffee_memories_are_tagged"](memlens_harness)
    (record,) = memlens_harness.store.list()
    assert record.tags == ("caffeine",)
    assert memlens_harness.service.history(record.id)[-1].actor == "plugin:my-plugin"


def test_the_echo_agent_works_as_written(memlens_harness):
    namespace = run(guide_code("from memlens.plugin_api import ASSISTANT"))
    memlens_harness.activate(namespace["EchoPlugin"](), name="echo")
    session = memlens_harness.start_session("Echo")
    memlens_harness.send(session, "please remember I like tea")
    assert memlens_harness.transcript(session.id) == [
        ("user", "please remember I like tea"),
        ("assistant", "You said 'please remember I like tea'. I remember 0 related things."),
    ]
    assert len(memlens_harness.of(MessageDelta, session.id)) == 2
    assert [r.text for r in memlens_harness.store.list()] == ["please remember I like tea"]


def test_the_tidy_plugin_and_its_test_work_as_written(memlens_harness, monkeypatch):
    import sys
    import types

    module = types.ModuleType("tidy_plugin")
    exec(compile(guide_code("# tidy_plugin.py"), str(GUIDE), "exec"), module.__dict__)
    monkeypatch.setitem(sys.modules, "tidy_plugin", module)
    run(guide_code("from tidy_plugin import TidyPlugin"))["test_a_session_leaves_no_duplicates"](
        memlens_harness
    )
    (older,) = [r for r in memlens_harness.store.list() if r.text.startswith("Bob works")]
    last = memlens_harness.service.history(older.id)[-1]
    assert (last.op, last.actor, last.state) == ("archived", "plugin:tidy", "undone")
