"""GraphClient against the simulator over loopback: every row of DESIGN.md section 5, every error class,
retries that honour Retry-After, and deadlines that are never overrun."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import aiohttp
import pytest

from graph.client import GraphClient, deadline_in
from graph.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    GraphTimeout,
    NotFound,
    PreconditionFailed,
    Throttled,
    Unauthorized,
    Unavailable,
)
from graph.legacy import LegacyVirtualAppointments
from graph.models import SmsAttendee
from graph.references import MeetingReference, ReferenceKind, parse_meeting_reference
from graph.retry import RetryPolicy
from graph.simulator import ADELE, MEGAN, GraphSimulator, SimMeeting, serve

JOIN = "getVirtualAppointmentJoinWebUrl"
FAST_RETRY = RetryPolicy(max_attempts=4, backoff_base=0.01, backoff_cap=0.05)


@pytest.fixture
async def sim_url() -> AsyncIterator[tuple[GraphSimulator, str]]:
    sim = GraphSimulator(now=datetime.now(UTC))
    async with serve(sim) as base_url:
        yield sim, base_url


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


def make_client(session: aiohttp.ClientSession, base_url: str, token: str, **kwargs: object) -> GraphClient:
    async def provider() -> str:
        return token

    return GraphClient(session, provider, base_url=base_url, policy=FAST_RETRY, **kwargs)  # type: ignore[arg-type]


@pytest.fixture
def sim(sim_url: tuple[GraphSimulator, str]) -> GraphSimulator:
    return sim_url[0]


@pytest.fixture
def client(sim_url: tuple[GraphSimulator, str], session: aiohttp.ClientSession) -> GraphClient:
    sim, base_url = sim_url
    return make_client(session, base_url, sim.issue_token(ADELE, display_name="Adele Vance"))


@pytest.fixture
def meeting(sim: GraphSimulator) -> SimMeeting:
    return sim.meetings_of(ADELE)[0]


# ---- the table ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("version", ["v1.0", "beta"])
@pytest.mark.parametrize("by_user", [False, True])
async def test_join_link_on_both_versions_and_owners(
    client: GraphClient, sim: GraphSimulator, meeting: SimMeeting, version: str, by_user: bool
) -> None:
    link = await client.with_version(version).get_join_link(
        meeting.id, user_id=ADELE if by_user else None, locale="de-DE"
    )
    assert link == meeting.virtual_appointment_url
    assert link.startswith("https://visit.teams.microsoft.com/webrtc-svc/api/route?tid=")
    last = sim.requests[-1]
    owner = f"/users/{ADELE}" if by_user else "/me"
    assert last.path == f"/{version}{owner}/onlineMeetings/{meeting.id}/{JOIN}"
    assert last.headers["Accept-Language"] == "de-DE"
    assert uuid.UUID(last.client_request_id or "")
    assert "Authorization" not in last.headers


async def test_every_request_gets_a_fresh_client_request_id(client: GraphClient, sim: GraphSimulator) -> None:
    meeting = sim.meetings_of(ADELE)[0]
    for _ in range(3):
        await client.get_join_link(meeting.id)
    ids = [r.client_request_id for r in sim.requests]
    assert len(set(ids)) == 3
    assert all("Accept-Language" not in r.headers for r in sim.requests)


async def test_meeting_by_id(client: GraphClient, meeting: SimMeeting) -> None:
    found = await client.get_meeting(meeting.id)
    assert (found.id, found.subject, found.join_web_url) == (meeting.id, meeting.subject, meeting.join_web_url)
    assert (found.join_meeting_id, found.passcode, found.organizer_id) == (
        meeting.join_meeting_id,
        meeting.passcode,
        ADELE,
    )
    assert found.chat_thread_id == meeting.thread_id
    assert found.start == meeting.start and found.end == meeting.end


async def test_meeting_by_join_url_is_encoded_once_more(
    client: GraphClient, sim: GraphSimulator, meeting: SimMeeting
) -> None:
    assert "19%3ameeting_" in meeting.join_web_url
    found = await client.find_meeting_by_join_url(meeting.join_web_url)
    assert found.id == meeting.id
    last = sim.requests[-1]
    assert last.query["$filter"] == f"JoinWebUrl eq '{meeting.join_web_url}'"  # decoded once by the server


async def test_join_url_quotes_are_doubled(client: GraphClient, sim: GraphSimulator) -> None:
    with pytest.raises(NotFound):
        await client.find_meeting_by_join_url("https://teams.microsoft.com/l/meetup-join/it's")
    assert sim.requests[-1].query["$filter"] == "JoinWebUrl eq 'https://teams.microsoft.com/l/meetup-join/it''s'"


async def test_meeting_by_short_url_and_meeting_id(client: GraphClient, meeting: SimMeeting) -> None:
    assert (await client.find_meeting_by_join_url(meeting.short_url)).id == meeting.id
    assert (await client.find_meeting_by_meeting_id(meeting.join_meeting_id)).id == meeting.id
    spaced = " ".join(meeting.join_meeting_id[i : i + 3] for i in range(0, 12, 3))
    assert (await client.find_meeting_by_meeting_id(spaced)).id == meeting.id


async def test_empty_filter_result_is_not_found(client: GraphClient) -> None:
    with pytest.raises(NotFound) as caught:
        await client.find_meeting_by_meeting_id("999999999999")
    assert caught.value.request_id and caught.value.client_request_id


async def test_resolve_every_reference_kind(client: GraphClient, meeting: SimMeeting) -> None:
    texts = [
        meeting.id,
        f"Join the meeting now <{meeting.join_web_url}>",
        meeting.short_url,
        f"Meeting ID: {meeting.join_meeting_id} Passcode: {meeting.passcode}",
    ]
    for text in texts:
        reference = parse_meeting_reference(text)
        assert isinstance(reference, MeetingReference)
        assert (await client.resolve_meeting(reference)).id == meeting.id
    with pytest.raises(ValueError):
        await client.resolve_meeting(MeetingReference(ReferenceKind.NEW, "new"))


async def test_upcoming_meetings(client: GraphClient, sim: GraphSimulator) -> None:
    upcoming = await client.upcoming_meetings(time_zone="Europe/Berlin")
    # seed: three online meetings Adele organises in 48 h (one a Bookings appointment); the offline, cancelled and
    # 72 h-away ones, the invitation and the Bookings appointments the booking mailbox organises are left out
    assert [m.subject for m in upcoming] == [
        "Mortgage review - Jordan Lee",
        "Account opening - Sam Patel",
        "Video consultation",
    ]
    first = upcoming[0]
    assert first.attendees == ("Jordan Lee", "Adele Vance")
    assert first.time_zone == "Europe/Berlin"
    assert first.start is not None and str(first.start.tzinfo) == "Europe/Berlin"
    assert first.start == sim.meetings_of(ADELE)[0].start  # same instant, shown in Berlin time
    assert first.join_url == sim.meetings_of(ADELE)[0].join_web_url
    last = sim.requests[-1]
    assert last.path == "/v1.0/me/calendarView"
    assert last.headers["Prefer"] == 'outlook.timezone="Europe/Berlin"'
    assert last.query["$orderby"] == "start/dateTime"
    assert last.query["$top"] == "50"
    assert {"onlineMeeting", "isOrganizer", "isCancelled", "isOnlineMeeting"} <= set(last.query["$select"].split(","))
    assert {"startDateTime", "endDateTime"} <= set(last.query)


async def test_upcoming_meetings_window_top_and_windows_zone(client: GraphClient, sim: GraphSimulator) -> None:
    start = datetime.now(UTC) + timedelta(hours=20)
    upcoming = await client.upcoming_meetings(start=start, end=start + timedelta(hours=60), top=2)
    assert [m.subject for m in upcoming] == ["Account opening - Sam Patel", "Video consultation", "Quarterly planning"]
    one = await client.upcoming_meetings(top=1, want=1, time_zone="Pacific Standard Time")
    assert [m.subject for m in one] == ["Mortgage review - Jordan Lee"]
    assert one[0].time_zone == "Pacific Standard Time"
    assert one[0].start is not None and one[0].start.tzinfo is None  # Windows zone names stay naive


async def test_create_or_get_is_idempotent(client: GraphClient, sim: GraphSimulator) -> None:
    start = datetime(2030, 1, 2, 15, 0, tzinfo=UTC)
    first = await client.create_or_get_meeting(
        "appt-42", subject="Consult", start=start, end=start + timedelta(hours=1)
    )
    again = await client.create_or_get_meeting("appt-42", subject="Consult")
    assert (first.created, again.created) == (True, False)
    assert first.meeting.id == again.meeting.id
    assert (first.meeting.subject, first.meeting.start, first.meeting.external_id) == ("Consult", start, "appt-42")
    assert sim.meeting(first.meeting.id) is not None
    assert await client.get_join_link(first.meeting.id)


async def test_sms_and_reminder(client: GraphClient, sim: GraphSimulator, meeting: SimMeeting) -> None:
    attendee = SmsAttendee("+13129224122", "Pacific Standard Time")
    await client.send_sms(meeting.id, [attendee], message_type="reschedule")
    await client.send_reminder_sms(meeting.id, [attendee])
    sent = sim.sms_sent
    assert [s["action"] for s in sent] == ["sendVirtualAppointmentSms", "sendVirtualAppointmentReminderSms"]
    assert sent[0]["body"] == {
        "attendees": [{"phoneNumber": "+13129224122", "timeZone": "Pacific Standard Time"}],
        "messageType": "reschedule",
    }
    assert sent[1]["body"]["remindBeforeTimeInMinutesType"] == "mins15"
    with pytest.raises(BadRequest, match="phone"):
        await client.send_sms(meeting.id, [SmsAttendee("+44 20 7946 0958")])
    with pytest.raises(ValueError):
        await client.send_sms(meeting.id, [attendee], message_type="hello")
    with pytest.raises(ValueError):  # remindBeforeTimeInMinutesType documents mins15 only
        await client.send_reminder_sms(meeting.id, [attendee], remind_before="mins30")


async def test_legacy_resource_put_patch_and_stale_etag(client: GraphClient, sim: GraphSimulator) -> None:
    meeting = sim.meetings_of(ADELE)[0]
    legacy = LegacyVirtualAppointments(client)
    with pytest.warns(DeprecationWarning):
        created = await legacy.create(meeting.id, {"externalAppointmentId": "AAMkADKnAAA="})
    assert created.etag and created.etag.startswith('W/"')
    assert created.client_join_web_url == meeting.virtual_appointment_url
    assert sim.requests[-1].path.startswith("/beta/")
    with pytest.warns(DeprecationWarning):
        new_etag = await legacy.update(meeting.id, {"externalAppointmentId": "B"}, etag=created.etag)
    assert new_etag and new_etag != created.etag
    before = sim.count("virtualAppointment", "PATCH")
    with pytest.warns(DeprecationWarning), pytest.raises(PreconditionFailed) as caught:
        await legacy.update(meeting.id, {"externalAppointmentId": "C"}, etag=created.etag)
    assert caught.value.status == 412
    assert sim.count("virtualAppointment", "PATCH") == before + 1  # a 412 is never retried
    with pytest.warns(DeprecationWarning):
        current = await legacy.get(meeting.id)
    assert (current.etag, current.data["externalAppointmentId"]) == (new_etag, "B")


# ---- errors -----------------------------------------------------------------------------------------------------


async def test_unauthorized(sim_url: tuple[GraphSimulator, str], session: aiohttp.ClientSession) -> None:
    sim, base_url = sim_url
    meeting = sim.meetings_of(ADELE)[0]
    with pytest.raises(Unauthorized) as caught:
        await make_client(session, base_url, "not-a-token").get_join_link(meeting.id)
    assert caught.value.code == "InvalidAuthenticationToken"
    assert "not-a-token" not in repr(caught.value) + str(caught.value)


async def test_forbidden_for_someone_elses_meeting(client: GraphClient, sim: GraphSimulator) -> None:
    megans = sim.meetings_of(MEGAN)[0]
    with pytest.raises(Forbidden):
        await client.get_join_link(megans.id)
    with pytest.raises(Forbidden):
        await client.find_meeting_by_join_url(megans.join_web_url)
    with pytest.raises(Forbidden):
        await client.get_join_link(sim.meetings_of(ADELE)[0].id, user_id=MEGAN)


@pytest.mark.parametrize(
    ("bad_id", "message"),
    [
        ("19:meeting_NTg0NmQ3NzctYjUxNC00ZjRh@thread.v2", "Invalid meeting id 19:meeting_NTg0NmQ3NzctYjUxNC00ZjRh"),
        ("MCMxOTptZWV0aW5nX05UZzBObVEzTnpjdFlqVXhOQzAwWmpSaEB0aHJlYWQudjIjMA==", "Meeting Id is corrupted"),
    ],
)
async def test_bad_request_for_teams_ids(client: GraphClient, bad_id: str, message: str) -> None:
    with pytest.raises(BadRequest, match=message) as caught:
        await client.get_join_link(bad_id)
    assert caught.value.status == 400 and caught.value.request_id


async def test_not_found(client: GraphClient) -> None:
    with pytest.raises(NotFound) as caught:
        await client.get_join_link("MSpkYzE3Njc0Yy04MWQ5LTRhZGItYmZi")
    assert caught.value.status == 404


async def test_conflict_is_not_retried(client: GraphClient, sim: GraphSimulator, meeting: SimMeeting) -> None:
    sim.inject("virtualAppointment", status=409, retry_after="1")
    with pytest.warns(DeprecationWarning), pytest.raises(Conflict):
        await LegacyVirtualAppointments(client).create(meeting.id, {})
    assert sim.count("virtualAppointment") == 1


async def test_throttled_after_all_attempts(client: GraphClient, sim: GraphSimulator, meeting: SimMeeting) -> None:
    sim.inject(JOIN, status=429, retry_after="0.01", times=10)
    with pytest.raises(Throttled) as caught:
        await client.get_join_link(meeting.id)
    assert caught.value.retry_after == pytest.approx(0.01)
    assert sim.count(JOIN) == FAST_RETRY.max_attempts
    retry_headers = [r.headers.get("retry-attempt") for r in sim.requests]
    assert retry_headers == [None, "1", "2", "3"]


@pytest.mark.parametrize("status", [503, 504])
async def test_unavailable_retried_then_succeeds(
    client: GraphClient, sim: GraphSimulator, meeting: SimMeeting, status: int
) -> None:
    sim.inject(JOIN, status=status, times=2)  # no Retry-After: jittered backoff
    assert await client.get_join_link(meeting.id) == meeting.virtual_appointment_url
    assert sim.count(JOIN) == 3
    assert len({r.client_request_id for r in sim.requests}) == 3


async def test_500_is_not_retried(client: GraphClient, sim: GraphSimulator, meeting: SimMeeting) -> None:
    sim.inject(JOIN, status=500)
    with pytest.raises(Unavailable):
        await client.get_join_link(meeting.id)
    assert sim.count(JOIN) == 1


async def test_sms_is_not_resent_on_503(client: GraphClient, sim: GraphSimulator, meeting: SimMeeting) -> None:
    sim.inject("sendVirtualAppointmentSms", status=503)
    with pytest.raises(Unavailable):
        await client.send_sms(meeting.id, [SmsAttendee("+13129224122")])
    assert sim.count("sendVirtualAppointmentSms") == 1


async def test_sms_is_retried_on_429(client: GraphClient, sim: GraphSimulator, meeting: SimMeeting) -> None:
    sim.inject("sendVirtualAppointmentSms", status=429, retry_after="0")
    await client.send_sms(meeting.id, [SmsAttendee("+13129224122")])
    assert sim.count("sendVirtualAppointmentSms") == 2
    assert len(sim.sms_sent) == 1


# ---- retries and deadlines ------------------------------------------------------------------------------------


async def test_fractional_retry_after_is_honoured(
    client: GraphClient, sim: GraphSimulator, meeting: SimMeeting
) -> None:
    sim.inject(JOIN, status=429, retry_after="0.25", times=2)
    started = time.monotonic()
    assert await client.get_join_link(meeting.id) == meeting.virtual_appointment_url
    elapsed = time.monotonic() - started
    assert elapsed >= 0.5  # two waits of 0.25 s
    assert elapsed < 2.0
    assert sim.count(JOIN) == 3


async def test_http_date_retry_after_is_honoured(client: GraphClient, sim: GraphSimulator, meeting: SimMeeting) -> None:
    # HTTP dates have whole seconds: 2 s ahead is a wait of 1-2 s, depending on where in the second we are.
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=2), usegmt=True)
    sim.inject(JOIN, status=503, retry_after=when)
    started = time.monotonic()
    assert await client.get_join_link(meeting.id, deadline=deadline_in(5))
    assert time.monotonic() - started >= 0.9
    assert sim.count(JOIN) == 2


async def test_retry_after_beyond_the_deadline_fails_fast(
    client: GraphClient, sim: GraphSimulator, meeting: SimMeeting
) -> None:
    sim.inject(JOIN, status=429, retry_after="10")
    started = time.monotonic()
    with pytest.raises(Throttled) as caught:
        await client.get_join_link(meeting.id, deadline=deadline_in(1.0))
    assert time.monotonic() - started < 0.5  # no pointless sleep
    assert caught.value.retry_after == 10
    assert sim.count(JOIN) == 1


async def test_slow_graph_never_overruns_the_deadline(
    client: GraphClient, sim: GraphSimulator, meeting: SimMeeting
) -> None:
    sim.inject(JOIN, latency=3.0)
    started = time.monotonic()
    with pytest.raises(GraphTimeout) as caught:
        await client.get_join_link(meeting.id, deadline=deadline_in(0.6))
    assert 0.55 <= time.monotonic() - started < 1.0
    assert caught.value.client_request_id


async def test_default_timeout_applies(sim_url: tuple[GraphSimulator, str], session: aiohttp.ClientSession) -> None:
    sim, base_url = sim_url
    client = make_client(session, base_url, sim.issue_token(ADELE), default_timeout=0.3)
    sim.inject(JOIN, latency=2.0)
    started = time.monotonic()
    with pytest.raises(GraphTimeout):
        await client.get_join_link(sim.meetings_of(ADELE)[0].id)
    assert time.monotonic() - started < 0.8


async def test_expired_deadline_sends_nothing(client: GraphClient, sim: GraphSimulator, meeting: SimMeeting) -> None:
    with pytest.raises(GraphTimeout):
        await client.get_join_link(meeting.id, deadline=asyncio.get_running_loop().time() - 1)
    assert sim.requests == []


async def test_dropped_connection_on_get_is_retried(
    client: GraphClient, sim: GraphSimulator, meeting: SimMeeting
) -> None:
    sim.inject(JOIN, drop=True)
    assert await client.get_join_link(meeting.id) == meeting.virtual_appointment_url
    assert sim.count(JOIN) == 2


async def test_dropped_connections_until_the_end_are_a_timeout(
    client: GraphClient, sim: GraphSimulator, meeting: SimMeeting
) -> None:
    sim.inject(JOIN, drop=True, times=10)
    with pytest.raises(GraphTimeout, match="connection"):
        await client.get_join_link(meeting.id)
    # aiohttp itself resends an idempotent request once when a pooled keep-alive connection turns out dead
    assert FAST_RETRY.max_attempts <= sim.count(JOIN) <= 2 * FAST_RETRY.max_attempts


async def test_dropped_connection_on_sms_is_not_retried(
    client: GraphClient, sim: GraphSimulator, meeting: SimMeeting
) -> None:
    sim.inject("sendVirtualAppointmentSms", drop=True)
    with pytest.raises(GraphTimeout):
        await client.send_sms(meeting.id, [SmsAttendee("+13129224122")])
    assert sim.count("sendVirtualAppointmentSms") == 1


async def test_dropped_connection_on_create_or_get_is_retried(client: GraphClient, sim: GraphSimulator) -> None:
    sim.inject("createOrGet", drop=True)
    created = await client.create_or_get_meeting("ext-drop")
    assert created.created is True
    assert sim.count("createOrGet") == 2


async def test_slow_token_provider_is_bounded_by_the_deadline(
    sim_url: tuple[GraphSimulator, str], session: aiohttp.ClientSession
) -> None:
    sim, base_url = sim_url

    async def slow_provider() -> str:
        await asyncio.sleep(5)
        return "never"

    client = GraphClient(session, slow_provider, base_url=base_url)
    started = time.monotonic()
    with pytest.raises(GraphTimeout, match="token"):
        await client.get_join_link(sim.meetings_of(ADELE)[0].id, deadline=deadline_in(0.2))
    assert time.monotonic() - started < 0.6
    assert sim.requests == []
