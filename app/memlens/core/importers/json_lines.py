"""JSON that remembers where each object and list started, for error reports by line.

`json.loads` forgets positions, so a bad turn deep in a transcript could only be named by
its path. This reader builds the same Python values (strings and numbers are decoded by
the json module itself) and records the line of every dict and list it makes.
"""

from __future__ import annotations

import json
import re
from bisect import bisect_right
from dataclasses import dataclass
from json.decoder import scanstring
from json.scanner import NUMBER_RE
from pathlib import Path
from typing import Any

from memlens.core.jsonl import LineError, ParseResult, json_error

_WS = re.compile(r"[ \t\n\r]*")
_LITERALS = {"true": True, "false": False, "null": None, "NaN": float("nan"), "Infinity": float("inf")}


@dataclass
class LinedJSON:
    value: Any
    _lines: dict[int, int]
    _keep: list[Any]  # the containers, so their ids stay theirs while this object lives

    def line(self, obj: Any, default: int = 0) -> int:
        """1-based line where `obj` (a dict or list from `value`) starts."""
        return self._lines.get(id(obj), default)


class _Reader:
    def __init__(self, text: str) -> None:
        self.text = text
        self.newlines = [m.start() for m in re.finditer("\n", text)]
        self.lines: dict[int, int] = {}
        self.keep: list[Any] = []

    def _line(self, pos: int) -> int:
        return bisect_right(self.newlines, pos - 1) + 1

    def _ws(self, pos: int) -> int:
        return _WS.match(self.text, pos).end()

    def _fail(self, message: str, pos: int) -> None:
        raise json.JSONDecodeError(message, self.text, pos)

    def _container(self, obj: Any, pos: int) -> None:
        self.lines[id(obj)] = self._line(pos)
        self.keep.append(obj)

    def value(self, pos: int) -> tuple[Any, int]:
        text = self.text
        pos = self._ws(pos)
        if pos >= len(text):
            self._fail("Expecting value", pos)
        c = text[pos]
        if c == "{":
            return self._object(pos)
        if c == "[":
            return self._array(pos)
        if c == '"':
            return scanstring(text, pos + 1)
        m = NUMBER_RE.match(text, pos)
        if m:
            integer, frac, exp = m.groups()
            if frac or exp:
                return float(integer + (frac or "") + (exp or "")), m.end()
            return int(integer), m.end()
        for word, literal in _LITERALS.items():
            if text.startswith(word, pos):
                return literal, pos + len(word)
        if text.startswith("-Infinity", pos):
            return float("-inf"), pos + 9
        self._fail("Expecting value", pos)
        raise AssertionError  # unreachable

    def _object(self, start: int) -> tuple[dict, int]:
        obj: dict[str, Any] = {}
        self._container(obj, start)
        pos = self._ws(start + 1)
        if self.text.startswith("}", pos):
            return obj, pos + 1
        while True:
            if not self.text.startswith('"', pos):
                self._fail("Expecting property name enclosed in double quotes", pos)
            key, pos = scanstring(self.text, pos + 1)
            pos = self._ws(pos)
            if not self.text.startswith(":", pos):
                self._fail("Expecting ':' delimiter", pos)
            obj[key], pos = self.value(pos + 1)
            pos = self._ws(pos)
            if self.text.startswith("}", pos):
                return obj, pos + 1
            if not self.text.startswith(",", pos):
                self._fail("Expecting ',' delimiter", pos)
            pos = self._ws(pos + 1)

    def _array(self, start: int) -> tuple[list, int]:
        arr: list[Any] = []
        self._container(arr, start)
        pos = self._ws(start + 1)
        if self.text.startswith("]", pos):
            return arr, pos + 1
        while True:
            item, pos = self.value(pos)
            arr.append(item)
            pos = self._ws(pos)
            if self.text.startswith("]", pos):
                return arr, pos + 1
            if not self.text.startswith(",", pos):
                self._fail("Expecting ',' delimiter", pos)
            pos += 1


def loads_with_lines(text: str) -> LinedJSON:
    """Parse JSON text; raises json.JSONDecodeError (with its line) on bad JSON."""
    reader = _Reader(text.removeprefix("\ufeff"))
    try:
        value, end = reader.value(0)
    except RecursionError:
        raise json.JSONDecodeError("nested too deeply", text, 0) from None
    end = reader._ws(end)
    if end != len(reader.text):
        reader._fail("Extra data", end)
    return LinedJSON(value, reader.lines, reader.keep)


def load_json(path: str | Path) -> LinedJSON | ParseResult:
    """A JSON file with line positions, or a ParseResult holding why it cannot be read."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        return ParseResult(errors=[LineError(0, f"the file is not UTF-8 text ({exc.reason})")])
    except OSError as exc:
        return ParseResult(errors=[LineError(0, f"cannot read the file: {exc.strerror or exc}")])
    try:
        return loads_with_lines(text)
    except json.JSONDecodeError as exc:
        return ParseResult(errors=[json_error(exc)])
