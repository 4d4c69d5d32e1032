"""The example plugin: a memory an agent writes with an e-mail address or a phone number
is flagged, and heads the Review tab as a plugin's flag with its reason."""

from __future__ import annotations

import pytest

from memlens.core.review import review_queue
from memlens.plugin_api import Status
from memlens_chat_agent import ChatAgentPlugin
from memlens_pii_guard import PiiGuardPlugin, personal_data


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("Reach Keiko at keiko.tanaka@example.jp", ["an e-mail address"]),
        ("Call the clinic on +33 4 72 11 22 33", ["a phone number"]),
        ("The user ran 21.1 km in 1:58:30 on 25 October 2026", []),
        ("Room 404, version 1.2.3", []),
    ],
)
def test_personal_data_is_recognised_and_numbers_that_are_not_are_left(text, found):
    assert personal_data(text) == found


def test_a_memory_with_an_email_written_by_a_session_is_flagged_for_review(memlens_harness, model):
    h = memlens_harness
    h.activate(PiiGuardPlugin(), name="pii-guard")
    h.activate(ChatAgentPlugin(), name="chat-agent", settings={"base_url": model.server.base_url})
    model.decide = lambda shown, body: {
        "decisions": [
            {"op": "add", "text": "The user's coach is Marc (marc.coach@runlyon.fr)."},
            {"op": "add", "text": "The user runs on Sunday mornings."},
        ]
    }
    session = h.start_session("Chat agent")
    h.send(session, "My coach Marc (marc.coach@runlyon.fr) wants me to run on Sunday mornings.")
    h.wait_for(lambda: any(r.status == Status.FLAGGED for r in h.store.list()))
    by_text = {r.text: r for r in h.store.list()}
    coach = by_text["The user's coach is Marc (marc.coach@runlyon.fr)."]
    assert coach.status == Status.FLAGGED
    assert by_text["The user runs on Sunday mornings."].status == Status.ACTIVE
    (suspect,) = [s for s in review_queue(h.service) if s.record.id == coach.id]
    assert suspect.origin == "plugin flag"
    assert suspect.why == "flagged by pii-guard: contains an e-mail address"


def test_a_bad_extra_pattern_fails_activation_with_the_regex_error(memlens_harness):
    with pytest.raises(Exception, match="unterminated character set"):
        memlens_harness.activate(PiiGuardPlugin(), name="pii-guard", settings={"extra_pattern": "[oops"})
    assert "unterminated character set" in memlens_harness.host.state("pii-guard").last_error
