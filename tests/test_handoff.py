"""The shared chat's hand-off to the one-to-one chat (dialogs/handoff.py): one encoder, one decoder, plain data."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from dialogs.cards import strings
from dialogs.handoff import GetLink, RemindersOff, RemindersOn, TextContact, decode, encode, sentences
from dialogs.link import LastLink
from dialogs.reminders import ReminderRequest
from graph.models import Meeting

MEETING = Meeting(id="MSo1N2Y5ZGFjYy03MWZmLTQ3NDMtYjQxMy01M2EdYTQ0Z", subject="Consultation",
                  start=datetime(2026, 12, 7, 9, 0, tzinfo=UTC), end=datetime(2026, 12, 7, 9, 30, tzinfo=UTC))
REQUESTS = [
    GetLink("https://teams.microsoft.com/l/meetup-join/x"),
    GetLink(meeting=MEETING),
    GetLink(reason="no meeting info"),
    TextContact("textLink", LastLink("m-1", "+14255550100", "Europe/Paris")),
    TextContact("textReminder", None),
    RemindersOn(ReminderRequest(10, "Europe/Paris", "fr-FR")),
    RemindersOff(),
]


@pytest.mark.parametrize("request_", REQUESTS, ids=lambda r: type(r).__name__)
def test_every_request_survives_plain_json(request_):
    wire = json.loads(json.dumps(encode(request_)))  # what dialog state may hold: JSON data, nothing else
    assert decode(wire) == request_


@pytest.mark.parametrize("value", [None, True, "privately", {}, {"privately": None}, {"privately": {"ask": "?"}},
                                   {"privately": {"ask": "text", "dialog": 3}}, {"reference": "x"}, [1]])
def test_anything_else_is_not_a_request(value):
    assert decode(value) is None


def test_the_sentences_name_what_was_asked():
    assert sentences(RemindersOn(ReminderRequest()))[1] == strings.PRIVATE_REMINDERS_UNAVAILABLE
    assert sentences(RemindersOff())[1] == strings.PRIVATE_STOP_REMINDERS_UNAVAILABLE
    assert sentences(TextContact("textLink", None))[0] == strings.PRIVATE_TEXT_INTRO
    assert sentences(GetLink())[0] == strings.PRIVATE_FLOW_INTRO


def test_the_get_link_flow_options_keep_their_stored_shape():
    # An in-flight flow's options are in stored dialog state: the keys must stay what older versions wrote.
    assert GetLink("ref").to_state() == {"reference": "ref"}
    assert GetLink.from_state({"reference": "ref", "meeting": MEETING.to_state()}).meeting == MEETING
    assert GetLink.from_state({"reference": 7, "reason": None}) == GetLink()
