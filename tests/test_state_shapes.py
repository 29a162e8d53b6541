"""The typed shapes kept in dialog state: `to_state()` is plain JSON data and `from_state()` reads it back."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

from bot.private_chat import PersonalChat
from dialogs.client_details import ClientDetails
from dialogs.client_form import ClientForm
from dialogs.link import LastLink, LinkRequest
from dialogs.meeting import MeetingQuestion
from graph.models import BookingCustomer, Meeting

START = datetime(2030, 5, 1, 9, 30, tzinfo=timezone(timedelta(hours=-7)))


def round_trip(state: object) -> object:
    """Through JSON text, as any store keeps it: fails on anything that is not plain data."""
    return json.loads(json.dumps(state, allow_nan=False))


def test_meeting_round_trips_with_aware_times():
    meeting = Meeting("abc", "Mortgage review", START, START + timedelta(minutes=30))
    again = Meeting.from_state(round_trip(meeting.to_state()))
    assert again == meeting
    assert again.start is not None and again.start.utcoffset() == timedelta(hours=-7)


def test_meeting_without_times_and_from_garbage():
    assert Meeting.from_state(round_trip(Meeting("x").to_state())) == Meeting("x")
    assert Meeting.from_state({"id": "x", "start": "not a date", "subject": 5}) == Meeting("x")
    assert Meeting.from_state(None) == Meeting("")


def test_link_request_and_last_link_round_trip():
    request = LinkRequest(Meeting("m", None, datetime(2030, 1, 1, tzinfo=UTC)), ClientDetails("Jo", "", "+12065550100"))
    assert LinkRequest.from_state(round_trip(request.to_state())) == request
    last = LastLink("m", "+12065550100", "America/Los_Angeles")
    assert LastLink.from_state(round_trip(last.to_state())) == last
    assert LastLink.from_state({"phone": "+1"}) is None  # no meeting: nothing to text


def test_question_and_form_round_trip():
    question = MeetingQuestion(reason="why", typed="abc", asked=True)
    assert MeetingQuestion.from_state(round_trip(question.to_state())) == question
    form = ClientForm("Jo", "jo@", "", {"email": "bad"}, "Subject")
    assert ClientForm.from_state(round_trip(form.to_state())) == form


def test_bookings_meeting_and_reminder_target_round_trip():
    customer = BookingCustomer("Jordan Miller", "jordan@fabrikam.example", "+1 213 555 0199", "America/Chicago")
    booked = Meeting(
        "",
        "Video visit",
        START,
        START + timedelta(minutes=30),
        client_url="https://visit.teams.microsoft.com/webrtc-svc/api/route?tid=t&convId=19:meeting_x@thread.v2",
        booking_id="AAMkADb1=",
        customer=customer,
    )
    assert Meeting.from_state(round_trip(booked.to_state())) == booked
    not_on_calendar = Meeting("m", "New", START, on_calendar=False)
    assert Meeting.from_state(round_trip(not_on_calendar.to_state())) == not_on_calendar
    assert Meeting.from_state({"id": "m", "customer": "Jordan", "onCalendar": "no"}) == Meeting("m")
    target = LastLink("m", "+12065550100", "Europe/Paris", START)
    assert LastLink.from_state(round_trip(target.to_state())) == target
    assert target.carry() == {"meetingId": "m", "phone": "+12065550100", "start": START.isoformat()}


def test_personal_chat_reference_round_trips_and_rejects_garbage():
    chat = PersonalChat("a:1xyz", "https://smba.trafficmanager.net/emea/", "tenant-1")
    assert PersonalChat.from_state(round_trip(chat.to_state())) == chat
    bare = PersonalChat("a:1", "https://s/")
    assert PersonalChat.from_state(round_trip(bare.to_state())) == bare
    for garbage in (None, [], {"conversationId": "a:1"}, {**chat.to_state(), "version": 2},
                    {**chat.to_state(), "serviceUrl": 5}, {**chat.to_state(), "conversationId": ""}):
        assert PersonalChat.from_state(garbage) is None
