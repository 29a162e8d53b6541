"""Unit tests of dialogs/graph_errors: one sentence per Graph failure, and the consent sentence naming the
permission the refused call actually needs (issue 15)."""

from __future__ import annotations

import json

import pytest

from dialogs.cards import strings
from dialogs.graph_errors import GraphCall, consent_sentence, is_consent_refusal, is_transient, sentence_for
from graph.errors import Forbidden, NotFound, Throttled, Unauthorized, error_from_response

# 403 bodies as Graph sends them when the app lacks a delegated permission...
CONSENT_BODIES = [
    {"error": {"code": "Forbidden", "message": "Insufficient privileges to complete the operation."}},
    {"error": {"code": "Authorization_RequestDenied", "message": "Access denied."}},
    {"error": {"code": "ErrorAccessDenied", "message": "Access is denied. Check credentials and try again."}},
    {"error": {"code": "Forbidden", "message": "Missing scope permissions on the request. API requires one of "
               "'VirtualAppointmentNotification.Send'."}},
]
# ...and when the user simply does not organise the meeting.
NOT_ORGANIZER = {"error": {"code": "Forbidden", "message": "The signed-in user is not the organizer of this meeting."}}

EXPECTED_PERMISSION = {
    GraphCall.JOIN_LINK: "VirtualAppointment.Read",
    GraphCall.LOOKUP: "OnlineMeetings.Read",
    GraphCall.CALENDAR: "Calendars.Read",
    GraphCall.CREATE_EVENT: "Calendars.ReadWrite",
    GraphCall.CREATE_MEETING: "OnlineMeetings.ReadWrite",
    GraphCall.TEXT: "VirtualAppointmentNotification.Send",
    GraphCall.BOOKINGS: "Bookings.Read.All",
    GraphCall.MAIL: "Mail.Send",
}


def forbidden(body: dict[str, object]) -> Forbidden:
    error = error_from_response(403, {}, json.dumps(body).encode())
    assert isinstance(error, Forbidden)
    return error


@pytest.mark.parametrize("call", list(GraphCall))
@pytest.mark.parametrize("body", CONSENT_BODIES)
def test_consent_sentence_names_the_permission_of_the_refused_call(call: GraphCall, body: dict[str, object]) -> None:
    error = forbidden(body)
    assert is_consent_refusal(error)
    sentence = sentence_for(error, call)
    assert sentence == consent_sentence(call)
    assert f"its {EXPECTED_PERMISSION[call]} permission" in sentence
    others = {p for c, p in EXPECTED_PERMISSION.items() if c is not call and p not in EXPECTED_PERMISSION[call]}
    assert not any(other in sentence for other in others), sentence


def test_every_call_has_its_own_sentence() -> None:
    sentences = {consent_sentence(call) for call in GraphCall}
    assert len(sentences) == len(GraphCall)
    assert all(s.startswith("This app isn't allowed to ") and "admin" in s for s in sentences)


@pytest.mark.parametrize("call", list(GraphCall))
def test_not_the_organizer_is_not_a_consent_problem(call: GraphCall) -> None:
    error = forbidden(NOT_ORGANIZER)
    assert not is_consent_refusal(error)
    assert sentence_for(error, call) == strings.ERR_NOT_ORGANIZER


def test_a_request_id_cannot_make_a_403_look_like_consent() -> None:
    error = Forbidden("Not the organizer.", status=403, code="Forbidden", request_id="scope-permission-consent")
    assert not is_consent_refusal(error)


def test_other_failures_keep_their_sentences() -> None:
    assert sentence_for(Unauthorized("x", status=401), GraphCall.TEXT) == strings.ERR_SIGN_IN_AGAIN
    assert sentence_for(NotFound("x", status=404), GraphCall.LOOKUP) == strings.ERR_MEETING_NOT_FOUND
    assert sentence_for(Throttled("x", status=429), GraphCall.JOIN_LINK) == strings.ERR_THROTTLED
    assert is_transient(Throttled("x", status=429)) and not is_transient(forbidden(NOT_ORGANIZER))
    assert not is_consent_refusal(NotFound("insufficient permission", status=404))
