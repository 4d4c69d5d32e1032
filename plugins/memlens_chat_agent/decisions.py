"""Reading the model's memory decisions, whatever shape the JSON came in.

The extraction call asks for {"decisions": [{"op": "add|update|delete|none", "id": …,
"text": …}]}. Models wander: a bare list, Mem0's "event"/"memory" keys, a code fence,
prose around the JSON, ids written as 3 or "[3]". All of that is read; what cannot be
read as JSON at all raises DecisionError and nothing is written. A single decision that
makes no sense (an unknown op, an id that was not shown) is skipped with a reason.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

ADD, UPDATE, DELETE, NONE = "add", "update", "delete", "none"
_OPS = {
    ADD: ADD,
    "create": ADD,
    "new": ADD,
    "insert": ADD,
    UPDATE: UPDATE,
    "edit": UPDATE,
    "change": UPDATE,
    "modify": UPDATE,
    "correct": UPDATE,
    DELETE: DELETE,
    "remove": DELETE,
    "forget": DELETE,
    NONE: NONE,
    "noop": NONE,
    "no-op": NONE,
    "no_op": NONE,
    "nothing": NONE,
    "skip": NONE,
    "keep": NONE,
}
_LIST_KEYS = ("decisions", "memory", "memories", "actions", "operations")


class DecisionError(ValueError):
    """The answer holds no readable list of decisions."""


@dataclass(frozen=True)
class Decision:
    op: str
    ref: str | None = None  # the number the memory had in the prompt
    text: str | None = None


def _json_in(raw: str) -> Any:
    text = raw.strip()
    fence = re.search(r"```(?:json)?\s*(.*?)```", text, re.DOTALL)
    if fence:
        text = fence.group(1).strip()
    try:
        return json.loads(text)
    except ValueError:
        pass
    # Prose around the JSON: take the outermost object or list.
    starts = [i for i in (text.find("{"), text.find("[")) if i >= 0]
    if starts:
        start = min(starts)
        end = max(text.rfind("}"), text.rfind("]"))
        if end > start:
            try:
                return json.loads(text[start : end + 1])
            except ValueError:
                pass
    shown = raw.strip().replace("\n", " ")
    raise DecisionError(f"the answer is not JSON: {shown[:160]!r}")


def _items(data: Any) -> list[Any]:
    if isinstance(data, list):
        return data
    if isinstance(data, dict):
        for key in _LIST_KEYS:
            if isinstance(data.get(key), list):
                return data[key]
        if any(k in data for k in ("op", "event", "action")):
            return [data]
        if not data:
            return []
    raise DecisionError('expected {"decisions": [...]} or a list of decisions')


def _ref(value: Any) -> str | None:
    if value is None or isinstance(value, bool):
        return None
    ref = str(value).strip().strip("[]#").strip()
    return ref or None


def parse_decisions(raw: str | None, shown: set[str]) -> tuple[list[Decision], list[str]]:
    """(decisions to apply, why others were skipped). `shown` are the numbers of the
    memories the model was shown; update and delete must name one of them."""
    if raw is None or not raw.strip():
        raise DecisionError("the answer was empty")
    decisions: list[Decision] = []
    skipped: list[str] = []
    touched: set[str] = set()
    for n, item in enumerate(_items(_json_in(raw)), 1):
        if not isinstance(item, dict):
            skipped.append(f"decision {n} is not an object")
            continue
        op_name = str(item.get("op") or item.get("event") or item.get("action") or "").strip().lower()
        op = _OPS.get(op_name)
        if op is None:
            skipped.append(f"decision {n} has an unknown op {op_name!r}")
            continue
        if op == NONE:
            continue
        text = item.get("text", item.get("memory", item.get("content")))
        text = text.strip() if isinstance(text, str) else None
        ref = _ref(item.get("id", item.get("memory_id")))
        if op in (UPDATE, DELETE):
            if ref not in shown:
                skipped.append(f"decision {n} ({op}) names memory {ref!r}, which was not among those shown")
                continue
            if ref in touched:
                skipped.append(f"decision {n} ({op}) changes memory {ref} a second time")
                continue
            touched.add(ref)
        if op in (ADD, UPDATE) and not text:
            skipped.append(f"decision {n} ({op}) has no text")
            continue
        decisions.append(Decision(op, ref if op != ADD else None, text if op != DELETE else None))
    return decisions, skipped
