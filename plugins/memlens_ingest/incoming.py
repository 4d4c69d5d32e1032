"""What a request brings in: session events, each with what MemLens needs to file it.

An agent using `memlens.client` posts events in MemLens' own JSON form; an OpenTelemetry
exporter posts spans that `otlp.py` turns into the same events. Either way a request is
read whole and checked before anything is accepted, so a bad one is refused with the
reason and leaves nothing half-delivered.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from memlens.core.traces import Trace
from memlens.plugin_api import Event, event_from_dict

MAX_ERRORS_LISTED = 10


class Malformed(ValueError):
    """A request MemLens understood the shape of, and refuses: the message says what is wrong."""


@dataclass(frozen=True)
class Item:
    """One event to publish. `trace`: the retrieval trace to keep first (its id then goes
    into the event); `agent`: the agent's name, for a session that never said it started."""

    event: Event
    trace: Trace | None = None
    agent: str | None = None


def event_items(body: Any) -> list[Item]:
    """The events of a /v1/events body: {"events": [...]}, a list, or one event object."""
    if isinstance(body, dict) and "events" in body:
        raw = body["events"]
        if not isinstance(raw, list):
            raise Malformed("'events' must be a list of event objects")
    elif isinstance(body, list):
        raw = body
    elif isinstance(body, dict):
        raw = [body]
    else:
        raise Malformed(f"expected an event object or {{'events': [...]}}, not a JSON {type(body).__name__}")
    items, errors = [], []
    for n, data in enumerate(raw):
        try:
            items.append(Item(event_from_dict(data)))
        except ValueError as exc:
            errors.append(f"event {n}: {exc}")
    if errors:
        more = f" (and {len(errors) - MAX_ERRORS_LISTED} more)" if len(errors) > MAX_ERRORS_LISTED else ""
        raise Malformed(
            f"{len(errors)} of {len(raw)} event(s) are invalid, none was accepted: "
            + "; ".join(errors[:MAX_ERRORS_LISTED])
            + more
        )
    return items
