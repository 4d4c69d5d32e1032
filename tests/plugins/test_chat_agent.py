"""The reference chat agent against a local OpenAI-compatible server: the whole loop.

Retrieve (a trace of the session), answer (streamed), decide what to remember (JSON mode
or a tool call), write with the session as actor; a user's correction in between reaches
the next turn's prompt.
"""

from __future__ import annotations

import pytest

from memlens.plugin_api import MemoryAdded, MemoryUpdated, MessageDelta, RetrievalPerformed
from memlens_chat_agent import ChatAgentPlugin
from memlens_chat_agent.agent import DECISIONS_SCHEMA, TOOL_NAME
from memlens_chat_agent.decisions import DecisionError, parse_decisions
from plugin_support import EXTRACTING, number_of


@pytest.fixture
def chat(memlens_harness, model):
    settings = {"base_url": model.server.base_url}
    memlens_harness.activate(ChatAgentPlugin(), name="chat-agent", settings=settings)
    return memlens_harness


def chat_requests(server) -> list[dict]:
    bodies = [r["body"] for r in server.requests]
    return [b for b in bodies if not b["messages"][0]["content"].startswith(EXTRACTING)]


def test_chat_writes_memories_and_the_next_turn_uses_the_users_correction(chat, model):
    service = chat.service
    session = chat.start_session("Chat agent")
    model.decide = lambda shown, body: {
        "decisions": [
            {"op": "add", "text": "The user lives in Lyon."},
            {"op": "add", "text": "The user loves hiking in the Alps."},
        ]
    }
    chat.send(session, "I moved to Lyon last month, and I love hiking in the Alps.")

    # Memories written, journaled with the session as actor, tied to the session.
    added = chat.of(MemoryAdded, session.id)
    assert [e.text for e in added] == ["The user lives in Lyon.", "The user loves hiking in the Alps."]
    lyon = service.get(added[0].memory_id)
    assert lyon.session_id == session.id and lyon.source["type"] == "agent-session"
    assert [t["role"] for t in lyon.source["turns"]] == ["user", "assistant"]
    assert [h.actor for h in service.history(lyon.id)] == [f"agent:{session.id}"]
    # The retrieval was recorded as a trace of the session, and the event names it.
    (retrieval,) = chat.of(RetrievalPerformed, session.id)
    (trace,) = service.traces.find(session_id=session.id)
    assert (trace.origin, trace.query) == (f"agent:{session.id}", retrieval.query)
    assert retrieval.trace_id == trace.id
    # Decisions were asked for in JSON mode (the fake, like the API, refuses it unless a
    # message says JSON).
    (extraction,) = [r["body"] for r in model.server.requests if r["body"] not in chat_requests(model.server)]
    assert extraction["response_format"] == {"type": "json_object"} and "tools" not in extraction
    assert extraction["temperature"] == 0
    # The answer was streamed in pieces, then published whole.
    assert len(chat.of(MessageDelta, session.id)) > 1
    roles = [role for role, _ in chat.transcript(session.id)]
    assert roles == ["user", "assistant"]

    # The user corrects the memory in MemLens (as the inspector's Save does).
    chat.store.update(lyon.id, text="The user lives in Grenoble, not Lyon.")
    model.decide = lambda shown, body: {"decisions": [{"op": "none"}]}
    chat.send(session, "Where do I live these days?")

    prompt = chat_requests(model.server)[-1]["messages"][0]["content"]
    assert "[1] The user lives in Grenoble, not Lyon." in prompt
    assert "The user lives in Lyon." not in prompt
    assert "Grenoble" in chat.transcript(session.id)[-2][1]  # the answer used the corrected memory
    assert chat.transcript(session.id)[-1] == ("notice", "Nothing new to remember from this turn.")
    second = chat.of(RetrievalPerformed, session.id)[-1]
    assert second.hits[0].text == "The user lives in Grenoble, not Lyon."
    # The earlier turns travel with the question.
    sent = chat_requests(model.server)[-1]["messages"]
    assert [m["role"] for m in sent] == ["system", "user", "assistant", "user"]


def test_update_and_delete_decisions_change_the_memories_the_model_named(chat, model):
    service = chat.service
    session = chat.start_session("Chat agent")
    model.decide = lambda shown, body: {
        "decisions": [
            {"op": "add", "text": "The user drinks three coffees a day."},
            {"op": "add", "text": "The user owns a cat called Miso."},
        ]
    }
    chat.send(session, "I drink three coffees a day, and my cat Miso says hi.")
    coffee, cat = (e.memory_id for e in chat.of(MemoryAdded, session.id))

    model.decide = lambda shown, body: [
        {"event": "UPDATE", "id": f"[{number_of(shown, 'coffee')}]", "memory": "The user quit coffee."},
        {"op": "delete", "id": int(number_of(shown, "Miso"))},
    ]
    chat.send(session, "I quit coffee, and sadly I never had a cat, that was my sister's.")
    assert service.get(coffee).text == "The user quit coffee."
    assert service.get(cat).status.value == "deleted"
    (updated,) = chat.of(MemoryUpdated, session.id)
    assert updated.before_text == "The user drinks three coffees a day."
    assert updated.text == "The user quit coffee."
    assert [h.actor for h in service.history(coffee)][-1] == f"agent:{session.id}"
    assert service.history(cat)[-1].reason == "contradicted in conversation"
    # Undo works on a session's write like on any other.
    service.undo()
    assert service.get(cat).status.value == "active"


def test_tool_call_decisions_and_a_plain_answer(chat, model):
    chat.host.settings("chat-agent").update({"extraction": "tools", "stream": False})
    model.tools = True
    model.decide = lambda shown, body: {"decisions": [{"op": "add", "text": "The user is vegetarian."}]}
    session = chat.start_session("Chat agent")
    chat.send(session, "I'm vegetarian.")
    assert [m.text for m in chat.store.list()] == ["The user is vegetarian."]
    extraction = model.server.requests[-1]["body"]
    assert extraction["tool_choice"] == {"type": "function", "function": {"name": TOOL_NAME}}
    (tool,) = extraction["tools"]
    assert tool["function"]["name"] == TOOL_NAME and tool["function"]["parameters"] == DECISIONS_SCHEMA
    assert "response_format" not in extraction
    assert chat.of(MessageDelta, session.id) == []  # not streamed: one whole answer
    assert chat.transcript(session.id)[1][0] == "assistant"


def test_the_ranking_setting_blends_recency_into_the_retrieval(chat, model):
    from datetime import timedelta

    from memlens.core.record import MemoryRecord, utc_now

    now = utc_now()
    chat.service.add(
        [
            MemoryRecord(
                id="old", text="The user lives in Lyon.", user_id="user", created_at=now - timedelta(days=900)
            ),
            MemoryRecord(id="new", text="The user moved to Grenoble.", user_id="user", created_at=now),
        ]
    )
    chat.host.settings("chat-agent").update({"ranking": "similarity=0.5,recency=0.5", "k": 1})
    model.decide = lambda shown, body: {"decisions": [{"op": "none"}]}
    session = chat.start_session("Chat agent")
    chat.send(session, "Where does the user live?")
    prompt = chat_requests(model.server)[-1]["messages"][0]["content"]
    assert "[1] The user moved to Grenoble." in prompt and "Lyon" not in prompt
    (trace,) = chat.service.traces.find(session_id=session.id)
    assert trace.source["blend"]["recency"] == 0.5
    assert set(trace.hits[0].components) == {"similarity", "recency"}


def test_a_ranking_setting_that_cannot_be_read_is_an_error_before_any_request(chat, model):
    chat.host.settings("chat-agent").update({"ranking": "recency=soon"})
    session = chat.start_session("Chat agent")
    chat.send(session, "Hello?")
    role, text = chat.transcript(session.id)[-1]
    assert role == "error" and "Ranking setting cannot be read" in text and "'soon' is not a number" in text
    assert model.server.requests == []


def test_decisions_that_are_not_json_write_nothing_and_say_so(chat, model):
    session = chat.start_session("Chat agent")
    model.decide = lambda shown, body: "Sure! I will remember that you like tea."
    chat.send(session, "I like tea.")
    assert chat.store.list() == []
    assert chat.transcript(session.id)[-1] == (
        "error",
        "The model's memory decisions could not be read (the answer is not JSON: "
        "'Sure! I will remember that you like tea.'); nothing was written.",
    )


def test_decisions_naming_memories_not_shown_are_skipped_with_a_reason(chat, model):
    session = chat.start_session("Chat agent")
    model.decide = lambda shown, body: {
        "decisions": [
            {"op": "delete", "id": "7"},
            {"op": "teleport"},
            {"op": "add", "text": "The user is tall."},
        ]
    }
    chat.send(session, "I am tall.")
    assert [m.text for m in chat.store.list()] == ["The user is tall."]
    notices = [text for role, text in chat.transcript(session.id) if role == "notice"]
    assert notices == [
        "Skipped: decision 1 (delete) names memory '7', which was not among those shown.",
        "Skipped: decision 2 has an unknown op 'teleport'.",
    ]


def test_an_unreachable_endpoint_is_a_clear_error_and_nothing_is_written(memlens_harness):
    memlens_harness.activate(
        ChatAgentPlugin(), name="chat-agent", settings={"base_url": "http://127.0.0.1:9/v1", "timeout": 5.0}
    )
    session = memlens_harness.start_session("Chat agent")
    memlens_harness.send(session, "Hello?")
    role, text = memlens_harness.transcript(session.id)[-1]
    assert role == "error"
    assert text.startswith("Could not get an answer from http://127.0.0.1:9/v1: Connection error")
    assert text.endswith("Nothing was remembered.")
    assert memlens_harness.store.list() == []


def test_a_failing_server_is_reported_with_its_status(chat, model):
    model.server.status = 500
    session = chat.start_session("Chat agent")
    chat.send(session, "Hello?")
    role, text = chat.transcript(session.id)[-1]
    assert role == "error" and "HTTP 500" in text and "fake failure" in text


def test_without_any_endpoint_the_agent_says_how_to_set_one(memlens_harness, monkeypatch):
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    memlens_harness.activate(ChatAgentPlugin(), name="chat-agent")
    session = memlens_harness.start_session("Chat agent")
    memlens_harness.send(session, "Hello?")
    role, text = memlens_harness.transcript(session.id)[-1]
    assert role == "error" and "OPENAI_BASE_URL" in text and "Plugins…" in text


def test_environment_variables_are_the_fallback_endpoint(memlens_harness, model, monkeypatch):
    monkeypatch.setenv("OPENAI_BASE_URL", model.server.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env")
    memlens_harness.activate(ChatAgentPlugin(), name="chat-agent")
    session = memlens_harness.start_session("Chat agent")
    memlens_harness.send(session, "Hello")
    assert model.server.requests[0]["auth"] == "Bearer sk-from-env"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ('{"decisions": [{"op": "add", "text": "A"}]}', [("add", None, "A")]),
        ('```json\n[{"op": "ADD", "memory": "A"}]\n```', [("add", None, "A")]),
        ('Here: {"memory": [{"event": "UPDATE", "id": 2, "text": "B"}]} Done.', [("update", "2", "B")]),
        ('{"op": "delete", "id": "[1]"}', [("delete", "1", None)]),
        ('{"decisions": [{"op": "none"}, {"op": "no-op"}]}', []),
        ("{}", []),
    ],
)
def test_decisions_are_read_in_the_shapes_models_write(raw, expected):
    decisions, skipped = parse_decisions(raw, {"1", "2"})
    assert [(d.op, d.ref, d.text) for d in decisions] == expected and skipped == []


@pytest.mark.parametrize("raw", ["", "   ", "nothing to add", '{"decisions": 3}', '"add"'])
def test_answers_without_decisions_are_refused(raw):
    with pytest.raises(DecisionError):
        parse_decisions(raw, {"1"})
