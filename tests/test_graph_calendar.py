"""Calendar choices and new meetings against the simulator: only meetings the user organises, paging that is
bounded, `POST /me/events` idempotent by transactionId, and the createOrGet fallback when the calendar is refused."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest

from graph.client import GraphClient
from graph.errors import Forbidden
from graph.models import CreatedEvent, UpcomingMeeting
from graph.retry import RetryPolicy
from graph.simulator import GraphSimulator, serve

ME = "5b1f0c3e-7d0a-4c55-9e7a-1f2d3c4b5a60"
BOSS = "0e9d8c7b-6a5f-4e3d-2c1b-0a9f8e7d6c5b"
NOW = datetime.now(UTC).replace(second=0, microsecond=0)
FAST = RetryPolicy(max_attempts=3, backoff_base=0.01, backoff_cap=0.02)


@pytest.fixture
async def sim_and_client() -> AsyncIterator[tuple[GraphSimulator, GraphClient]]:
    sim = GraphSimulator(seed=False)
    sim.add_user(ME, "Robin Front")
    sim.add_user(BOSS, "Kim Manager")
    token = sim.issue_token(ME)

    async def provider() -> str:
        return token

    async with serve(sim) as base_url, aiohttp.ClientSession() as session:
        yield sim, GraphClient(session, provider, base_url=base_url, policy=FAST)


def busy_calendar(sim: GraphSimulator) -> list[str]:
    """Eight invitations first, then a cancelled and an offline meeting of the user's own, then three they
    organise; returns the three subjects, soonest first."""
    for i in range(8):
        sim.add_event(ME, f"Invitation {i}", NOW + timedelta(minutes=30 + i), organizer_id=BOSS)
    sim.add_event(ME, "Cancelled consult", NOW + timedelta(hours=2), cancelled=True)
    sim.add_event(ME, "Branch visit", NOW + timedelta(hours=2, minutes=5), online=False)
    own = ["Consult A", "Consult B", "Consult C"]
    for i, subject in enumerate(own):
        sim.add_event(ME, subject, NOW + timedelta(hours=3 + i))
    return own


async def test_only_meetings_the_user_organises_are_offered(
    sim_and_client: tuple[GraphSimulator, GraphClient],
) -> None:
    sim, client = sim_and_client
    own = busy_calendar(sim)
    sim.max_page_size = 10  # Graph's default page: the three are all on the second page
    upcoming = await client.upcoming_meetings()
    assert [m.subject for m in upcoming] == own
    pages = [r for r in sim.requests if r.path.endswith("/calendarView")]
    assert len(pages) == 2 and pages[1].query["$skip"] == "10"
    # the invitations really are unlinkable: Graph refuses their lookup to a non-organiser
    invitation = next(e for e in sim.events_of(ME) if not e.is_organizer)
    assert invitation.meeting is not None
    with pytest.raises(Forbidden):
        await client.find_meeting_by_join_url(invitation.meeting.join_web_url)
    chosen = await client.find_meeting_by_join_url(upcoming[0].join_url)
    assert await client.get_join_link(chosen.id) == sim.meeting(chosen.id).virtual_appointment_url  # type: ignore[union-attr]


async def test_reading_stops_once_enough_qualify(sim_and_client: tuple[GraphSimulator, GraphClient]) -> None:
    sim, client = sim_and_client
    for i in range(30):
        sim.add_event(ME, f"Own {i}", NOW + timedelta(minutes=10 + i))
    upcoming = await client.upcoming_meetings(top=5, want=7)
    assert [m.subject for m in upcoming] == [f"Own {i}" for i in range(7)]
    assert sim.count("/calendarView") == 2


async def test_endless_next_link_chain_is_bounded(sim_and_client: tuple[GraphSimulator, GraphClient]) -> None:
    sim, client = sim_and_client
    base = client.base_url
    loop_page = {"value": [], "@odata.nextLink": f"{base}/v1.0/me/calendarView?$skip=10&startDateTime=x"}
    sim.inject("/calendarView", status=200, body=loop_page, times=100)
    assert await client.upcoming_meetings(max_pages=4) == []
    assert sim.count("/calendarView") == 4


async def test_next_link_to_another_host_is_not_followed(sim_and_client: tuple[GraphSimulator, GraphClient]) -> None:
    sim, client = sim_and_client
    foreign = {"value": [], "@odata.nextLink": "https://attacker.example/v1.0/me/calendarView?$skip=10"}
    sim.inject("/calendarView", status=200, body=foreign)
    assert await client.upcoming_meetings() == []
    assert sim.count("/calendarView") == 1
    assert client.next_link_path(f"{client.base_url}/beta/me/x") is None  # another version: not ours either
    assert client.next_link_path(f"{client.base_url}/v1.0/me/x?$skip=1") == "/me/x?$skip=1"


async def test_window_without_qualifying_meetings_is_empty(sim_and_client: tuple[GraphSimulator, GraphClient]) -> None:
    sim, client = sim_and_client
    sim.add_event(ME, "Invitation", NOW + timedelta(hours=1), organizer_id=BOSS)
    sim.add_event(ME, "Later", NOW + timedelta(hours=60))
    assert await client.upcoming_meetings() == []


def test_from_event_needs_is_organizer_true() -> None:
    event = {
        "id": "e1",
        "subject": "x",
        "isOnlineMeeting": True,
        "isCancelled": False,
        "onlineMeeting": {"joinUrl": "https://teams.microsoft.com/l/meetup-join/19%3ameeting_a%40thread.v2/0"},
        "start": {"dateTime": "2030-01-01T10:00:00.0000000", "timeZone": "UTC"},
    }
    assert UpcomingMeeting.from_event(event) is None  # isOrganizer left out of $select: not offered
    assert UpcomingMeeting.from_event({**event, "isOrganizer": False}) is None
    assert UpcomingMeeting.from_event({**event, "isOrganizer": True}) is not None
    assert UpcomingMeeting.from_event({**event, "isOrganizer": True, "isCancelled": True}) is None
    assert UpcomingMeeting.from_event({**event, "isOrganizer": True, "onlineMeeting": None}) is None


# ---- new meetings -----------------------------------------------------------------------------------------


async def test_new_meeting_is_on_the_calendar_once_per_request(
    sim_and_client: tuple[GraphSimulator, GraphClient],
) -> None:
    sim, client = sim_and_client
    start = NOW + timedelta(hours=1)
    first = await client.schedule_meeting(
        "req-7f3a", subject="Consultation", start=start, end=start + timedelta(minutes=30)
    )
    again = await client.schedule_meeting(
        "req-7f3a", subject="Consultation", start=start, end=start + timedelta(minutes=30)
    )
    assert first.on_calendar and again.on_calendar
    assert first.meeting.id == again.meeting.id and first.event_id == again.event_id
    assert [e.subject for e in sim.events_of(ME)] == ["Consultation"]
    posts = [r for r in sim.requests if r.method == "POST" and r.path.endswith("/me/events")]
    assert len(posts) == 2
    assert sim.count("createOrGet") == 0
    # on the calendar view afterwards, as a meeting the user organises, and its link works
    upcoming = await client.upcoming_meetings()
    assert [m.subject for m in upcoming] == ["Consultation"]
    assert upcoming[0].join_url == first.meeting.join_web_url
    assert await client.get_join_link(first.meeting.id)


async def test_new_meeting_request_body(sim_and_client: tuple[GraphSimulator, GraphClient]) -> None:
    sim, client = sim_and_client
    start = datetime(2031, 5, 6, 14, 30, tzinfo=UTC)
    event = await client.create_event_meeting("tx-1", subject="Advice", start=start, end=start + timedelta(hours=1))
    assert isinstance(event, CreatedEvent) and event.transaction_id == "tx-1" and event.join_url
    [stored] = sim.events_of(ME)
    assert stored.transaction_id == "tx-1" and stored.attendees == () and stored.is_organizer  # nobody invited
    assert stored.start == start and stored.meeting is not None and stored.meeting.organizer_id == ME


async def test_dropped_connection_on_event_post_is_retried_without_a_second_event(
    sim_and_client: tuple[GraphSimulator, GraphClient],
) -> None:
    sim, client = sim_and_client
    start = NOW + timedelta(hours=2)
    sim.inject("/me/events", method="POST", drop_after=True)  # created, but the answer is lost
    made = await client.schedule_meeting("req-drop", subject="S", start=start, end=start + timedelta(minutes=15))
    assert made.on_calendar and len(sim.events_of(ME)) == 1
    assert sim.count("/me/events", "POST") == 2


async def test_without_calendar_consent_falls_back_to_create_or_get(
    sim_and_client: tuple[GraphSimulator, GraphClient],
) -> None:
    sim, client = sim_and_client
    sim.deny("/me/events", method="POST")
    start = NOW + timedelta(hours=1)
    made = await client.schedule_meeting(
        "req-9", subject="Consultation", start=start, end=start + timedelta(minutes=30)
    )
    again = await client.schedule_meeting(
        "req-9", subject="Consultation", start=start, end=start + timedelta(minutes=30)
    )
    assert not made.on_calendar and made.event_id is None
    assert made.meeting.id == again.meeting.id and made.meeting.external_id == "req-9"
    assert sim.events_of(ME) == [] and sim.count("createOrGet") == 2
    assert await client.get_join_link(made.meeting.id)


async def test_other_failures_of_the_event_post_are_not_hidden(
    sim_and_client: tuple[GraphSimulator, GraphClient],
) -> None:
    sim, client = sim_and_client
    sim.inject("/me/events", method="POST", status=400)
    start = NOW + timedelta(hours=1)
    with pytest.raises(Exception) as caught:
        await client.schedule_meeting("req-x", subject="S", start=start, end=start + timedelta(minutes=30))
    assert getattr(caught.value, "status", None) == 400
    assert sim.count("createOrGet") == 0


async def test_simulator_event_post_validation(sim_and_client: tuple[GraphSimulator, GraphClient]) -> None:
    sim, client = sim_and_client
    bad = [
        {"subject": "x", "start": {"dateTime": "nope", "timeZone": "UTC"}, "end": {"dateTime": "nope"}},
        {
            "subject": "x",
            "start": {"dateTime": "2030-01-01T10:00:00", "timeZone": "UTC"},
            "end": {"dateTime": "2030-01-01T09:00:00", "timeZone": "UTC"},
        },
        {
            "subject": "x",
            "start": {"dateTime": "2030-01-01T10:00:00", "timeZone": "Pacific Standard Time"},
            "end": {"dateTime": "2030-01-01T11:00:00", "timeZone": "Pacific Standard Time"},
            "isOnlineMeeting": True,
            "onlineMeetingProvider": "skypeForConsumer",
        },
    ]
    for body in bad:
        with pytest.raises(Exception) as caught:
            await client.request("POST", "/me/events", json_body=body)
        assert getattr(caught.value, "status", None) == 400
    ok = await client.request(
        "POST",
        "/me/events",
        json_body={
            "subject": "Windows zone",
            "start": {"dateTime": "2030-01-01T10:00:00", "timeZone": "Pacific Standard Time"},
            "end": {"dateTime": "2030-01-01T11:00:00", "timeZone": "Pacific Standard Time"},
        },
    )
    assert ok.status == 201 and ok.value["isOnlineMeeting"] is False and ok.value["isOrganizer"] is True
    assert sim.events_of(ME)[0].start == datetime(2030, 1, 1, 18, 0, tzinfo=UTC)
