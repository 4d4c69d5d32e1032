"""A small local server speaking the OpenAI chat-completions API, for tests.

Tests give it a function from the request's messages to the reply text; it answers on
127.0.0.1 like the real API (JSON, or server-sent events when `stream` is set) and keeps
every request it received so a test can check what was asked. A reply may also be a
`ToolCall`, answered as the model calling that function (what `tool_choice` asks for).
Setting `gate` to an unset `threading.Event` holds a streamed answer after its first
piece until the test sets it, so a test can look at a half-written answer.

Like the real API it refuses (HTTP 400) JSON mode (`response_format` json_object) when no
message mentions JSON, and a `tool_choice` naming a function that `tools` does not offer.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class ToolCall:
    """A reply in which the model calls a function with these arguments (JSON text or a dict)."""

    name: str
    arguments: str | dict


Reply = Callable[[list[dict]], "str | ToolCall"]


class FakeOpenAI:
    def __init__(self, reply: Reply) -> None:
        self.reply = reply
        self.requests: list[dict] = []
        self.status = 200  # set to 500 to play a broken server
        self.gate: threading.Event | None = None  # holds a stream after its first piece
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # keep test output clean
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                outer.requests.append(
                    {"path": self.path, "body": body, "auth": self.headers.get("Authorization")}
                )
                if outer.status != 200 or not self.path.endswith("/chat/completions"):
                    self._send(
                        outer.status if outer.status != 200 else 404, {"error": {"message": "fake failure"}}
                    )
                    return
                refusal = invalid_request(body)
                if refusal:
                    self._send(400, {"error": {"message": refusal, "type": "invalid_request_error"}})
                    return
                text = outer.reply(body.get("messages", []))
                if isinstance(text, ToolCall):
                    self._send(200, tool_completion(body.get("model", "fake"), text))
                    return
                if body.get("stream"):
                    self._stream(body.get("model", "fake"), text)
                    return
                self._send(200, completion(body.get("model", "fake"), text))

            def _send(self, status: int, payload: dict) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _stream(self, model: str, text: str) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                for n, piece in enumerate([text[i : i + 8] for i in range(0, len(text), 8)] or [""]):
                    if n == 1 and outer.gate is not None:
                        outer.gate.wait(60)
                    chunk = {
                        "id": "c1",
                        "object": "chat.completion.chunk",
                        "created": int(time.time()),
                        "model": model,
                        "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}],
                    }
                    self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                    self.wfile.flush()
                self.wfile.write(b"data: [DONE]\n\n")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def __enter__(self) -> FakeOpenAI:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


def invalid_request(body: dict) -> str | None:
    """What the real API says about a request it refuses, or None."""
    if (body.get("response_format") or {}).get("type") == "json_object":
        said = " ".join(str(m.get("content") or "") for m in body.get("messages", []))
        if "json" not in said.lower():
            return (
                "'messages' must contain the word 'json' in some form, to use 'response_format' of "
                "type 'json_object'."
            )
    choice = body.get("tool_choice")
    if isinstance(choice, dict):
        offered = [t.get("function", {}).get("name") for t in body.get("tools") or []]
        wanted = choice.get("function", {}).get("name")
        if wanted not in offered:
            return f"Invalid 'tool_choice': function {wanted!r} is not among 'tools' ({offered})."
    return None


def completion(model: str, text: str) -> dict:
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }


def tool_completion(model: str, call: ToolCall) -> dict:
    args = call.arguments if isinstance(call.arguments, str) else json.dumps(call.arguments)
    message = {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {"id": "call_fake", "type": "function", "function": {"name": call.name, "arguments": args}}
        ],
    }
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls"}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }
