"""Bookings: the staff member's own online appointments, found by e-mail across businesses, cached, bounded,
within the deadline; 403 is silent; merged with calendar meetings into one de-duplicated list (pure)."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest

from bot.local import SAMPLE_EVENTS, SAMPLE_INVITATIONS, LocalGraph
from graph.bookings import BookingsDirectory, BookingsStatus, staff_id_for
from graph.choices import ChoiceSource, merge_choices
from graph.client import GraphClient, deadline_in
from graph.errors import Unauthorized
from graph.models import BookingAppointment, BookingBusiness, BookingStaffMember, Me, UpcomingMeeting
from graph.references import ReferenceKind, join_url_organizer, join_url_thread, parse_meeting_reference
from graph.retry import RetryPolicy
from graph.simulator import GraphSimulator, serve
from tests.linear import assert_growth_is_linear

ME = "3c2b1a09-8f7e-4d6c-5b4a-392817060504"
OTHER = "9a8b7c6d-5e4f-4a3b-2c1d-0e9f8a7b6c5d"
NOW = datetime.now(UTC).replace(second=0, microsecond=0)
HOUR = timedelta(hours=1)
FAST = RetryPolicy(max_attempts=2, backoff_base=0.01, backoff_cap=0.02)
CUSTOMER = {
    "name": "Jordan Miller",
    "emailAddress": "jordanm@fabrikam.example",
    "phone": "213-555-0199",
    "timeZone": "America/Chicago",
}


class Tenant:
    """Two businesses: the user is staff in both (by e-mail, in another case than their mail), a colleague too."""

    def __init__(self, sim: GraphSimulator) -> None:
        sim.add_user(ME, "Adele Vance", mail="AdeleV@contoso.example", user_principal_name="adelev@contoso.example")
        sim.add_user(OTHER, "Alex Wilber")
        self.sim = sim
        self.clinic = sim.add_business("Clinic")
        self.bank = sim.add_business("Bank")
        self.me_at_clinic = sim.add_staff(self.clinic, "Adele Vance", "ADELEV@CONTOSO.EXAMPLE")
        self.me_at_bank = sim.add_staff(self.bank, "Adele V.", "adelev@contoso.example", user_id=ME)
        self.other_at_bank = sim.add_staff(self.bank, "Alex Wilber", "alexw@contoso.example", user_id=OTHER)
        video = sim.add_service(self.clinic, "Video visit")
        bank_video = sim.add_service(self.bank, "Mortgage call", minutes=45)
        branch = sim.add_service(self.bank, "Branch visit", online=False)
        self.mine = [
            sim.add_appointment(self.clinic, video, NOW + 3 * HOUR, staff=[self.me_at_clinic], customer=CUSTOMER),
            sim.add_appointment(self.bank, bank_video, NOW + HOUR, staff=[self.me_at_bank], customer=CUSTOMER),
        ]
        sim.add_appointment(self.bank, branch, NOW + 2 * HOUR, staff=[self.me_at_bank], customer=CUSTOMER)
        sim.add_appointment(self.bank, bank_video, NOW + 2 * HOUR, staff=[self.other_at_bank], customer=CUSTOMER)
        sim.add_appointment(self.clinic, video, NOW + 100 * HOUR, staff=[self.me_at_clinic], customer=CUSTOMER)


@pytest.fixture
async def world() -> AsyncIterator[tuple[Tenant, GraphClient]]:
    sim = GraphSimulator(seed=False)
    tenant = Tenant(sim)
    token = sim.issue_token(ME)

    async def provider() -> str:
        return token

    async with serve(sim) as base_url, aiohttp.ClientSession() as session:
        yield tenant, GraphClient(session, provider, base_url=base_url, policy=FAST)


async def read(directory: BookingsDirectory, client: GraphClient, seconds: float = 5.0):  # type: ignore[no-untyped-def]
    return await directory.appointments(client, ME, start=NOW, end=NOW + 48 * HOUR, deadline=deadline_in(seconds))


async def test_exactly_the_users_online_appointments_in_the_window(world: tuple[Tenant, GraphClient]) -> None:
    tenant, client = world
    result = await read(BookingsDirectory(), client)
    assert result.status is BookingsStatus.OK and not result.incomplete
    assert [a.id for a in result.appointments] == [tenant.mine[1].id, tenant.mine[0].id]  # soonest first
    bank, clinic = result.appointments
    assert (bank.business_name, bank.service_name, clinic.business_name) == ("Bank", "Mortgage call", "Clinic")
    assert bank.customer is not None and (bank.customer.name, bank.customer.phone) == ("Jordan Miller", "213-555-0199")
    assert bank.anonymous_join_web_url == tenant.mine[1].meeting.virtual_appointment_url  # type: ignore[union-attr]
    assert result.me is not None and result.me.mail == "AdeleV@contoso.example"


async def test_membership_is_cached_and_the_warm_read_is_one_round(world: tuple[Tenant, GraphClient]) -> None:
    tenant, client = world
    now = [0.0]
    directory = BookingsDirectory(ttl=300, clock=lambda: now[0])
    await read(directory, client)
    sim = tenant.sim
    cold = (sim.count("/me"), sim.count("/staffMembers"), sim.count("bookingBusinesses", "GET"))
    await read(directory, client)
    assert (sim.count("/staffMembers"), sim.count("/calendarView")) == (cold[1], 4)
    assert sim.count("/v1.0/me") == 1  # /me only on the cold read
    now[0] = 301.0  # expired: looked up again
    await read(directory, client)
    assert sim.count("/staffMembers") == cold[1] * 2


async def test_forbidden_is_silent_and_logged_once(
    world: tuple[Tenant, GraphClient], caplog: pytest.LogCaptureFixture
) -> None:
    tenant, client = world
    tenant.sim.deny("/solutions/", user_id=ME)
    directory = BookingsDirectory()
    with caplog.at_level(logging.INFO, logger="graph.bookings"):
        first = await read(directory, client)
        directory.forget(ME)
        second = await read(directory, client)
    assert first.status is second.status is BookingsStatus.FORBIDDEN
    assert not first.incomplete and first.appointments == ()
    assert sum("Bookings not readable" in r.getMessage() for r in caplog.records) == 1
    before = tenant.sim.count("/solutions/")
    await read(directory, client)  # remembered: no more 403s asked for
    assert tenant.sim.count("/solutions/") == before


async def test_slow_bookings_end_at_the_deadline_with_what_is_ready(world: tuple[Tenant, GraphClient]) -> None:
    tenant, client = world
    directory = BookingsDirectory()
    await read(directory, client)  # warm: membership known
    tenant.sim.inject(f"/{tenant.clinic.id}/calendarView", latency=2.0)
    started = time.monotonic()
    result = await read(directory, client, seconds=0.5)
    assert time.monotonic() - started < 1.5
    assert result.status is BookingsStatus.TIMED_OUT and result.incomplete
    assert [a.id for a in result.appointments] == [tenant.mine[1].id]  # the bank answered in time


async def test_cold_and_slow_is_a_timeout_not_an_error(world: tuple[Tenant, GraphClient]) -> None:
    tenant, client = world
    tenant.sim.inject("/solutions/", latency=2.0, times=20)
    result = await read(BookingsDirectory(), client, seconds=0.4)
    assert result.status is BookingsStatus.TIMED_OUT and result.appointments == ()


async def test_refused_token_is_raised(world: tuple[Tenant, GraphClient]) -> None:
    tenant, client = world
    tenant.sim.inject("/solutions/bookingBusinesses", status=401)
    with pytest.raises(Unauthorized):
        await read(BookingsDirectory(), client)


async def test_businesses_are_bounded_and_outsiders_skipped(world: tuple[Tenant, GraphClient]) -> None:
    tenant, client = world
    for i in range(6):
        tenant.sim.add_business(f"Other {i}")  # the user is not staff there: 403 on their staff list
    result = await read(BookingsDirectory(max_probe=4), client)
    assert result.status is BookingsStatus.OK and len(result.appointments) == 2
    assert tenant.sim.count("/staffMembers") == 4
    capped = await read(BookingsDirectory(max_businesses=1), client)
    assert [a.business_name for a in capped.appointments] == ["Clinic"]


async def test_find_a_pasted_appointment(world: tuple[Tenant, GraphClient]) -> None:
    tenant, client = world
    directory = BookingsDirectory()
    found = await directory.find_appointment(client, ME, tenant.mine[1].id, deadline=deadline_in(5))
    assert found is not None and found.id == tenant.mine[1].id and found.business_id == tenant.bank.id
    assert await directory.find_appointment(client, ME, "AAMkADnope=", deadline=deadline_in(5)) is None


def test_staff_id_matches_mail_or_upn_case_insensitively() -> None:
    me = Me("u1", "Adele", "AdeleV@Contoso.example", "adele.vance@contoso.example")
    staff = [
        BookingStaffMember("s0", "Someone", None),
        BookingStaffMember("s1", "Other", "alexw@contoso.example"),
        BookingStaffMember("s2", "Adele", "ADELE.VANCE@CONTOSO.EXAMPLE"),
    ]
    assert staff_id_for(me, staff) == "s2"
    assert staff_id_for(Me("u1", None, None, None), staff) is None


# ---- shapes, parsing and merging (pure) ----------------------------------------------------------------------

DOC_APPOINTMENT = {  # the documented List calendarView example, shortened
    "id": "AAMkADKpAAA=",
    "isLocationOnline": True,
    "customerName": "Jordan Miller",
    "customerEmailAddress": "jordanm@contoso.com",
    "customerPhone": "213-555-0199",
    "joinWebUrl": "https://teams.microsoft.com/l/meetup-join/19%3ameeting_MTlhZTE3MDUtODk0Yy00MGZkLTlhNzktN2FmYTk3"
    "MDUxNmE2%40thread.v2/0?context=%7b%22Tid%22%3a%22995fa18c-b557-4694-8d07-b89779d6dc77%22%2c%22Oid%22%3a%22"
    "d4d260ab-989d-490e-b121-e2066391807a%22%7d",
    "anonymousJoinWebUrl": None,
    "customers": [],
    "customerTimeZone": "America/Chicago",
    "smsNotificationsEnabled": True,
    "serviceName": "Catered bento",
    "staffMemberIds": [],
    "start": {"dateTime": "2018-05-05T12:00:00.0000000Z", "timeZone": "UTC"},
    "end": {"dateTime": "2018-05-05T12:30:00.0000000Z", "timeZone": "UTC"},
}
BUSINESS = BookingBusiness("Contosolunchdelivery@contoso.com", "Contoso lunch delivery")


def test_documented_appointment_shape() -> None:
    appointment = BookingAppointment.from_json(DOC_APPOINTMENT, BUSINESS)
    assert appointment.is_online and appointment.anonymous_join_web_url is None
    assert appointment.start == datetime(2018, 5, 5, 12, 0, tzinfo=UTC)
    assert appointment.customer is not None and appointment.customer.name == "Jordan Miller"  # from the flat fields
    assert appointment.customer.time_zone == "America/Chicago" and appointment.sms_notifications_enabled
    assert join_url_organizer(appointment.join_web_url or "") == "d4d260ab-989d-490e-b121-e2066391807a"
    assert join_url_thread(appointment.join_web_url or "") == (
        "19:meeting_MTlhZTE3MDUtODk0Yy00MGZkLTlhNzktN2FmYTk3MDUxNmE2@thread.v2"
    )


@pytest.mark.parametrize(
    "text",
    [
        "AAMkADKpAAA=",
        "get link for AAMkADKpAAA=",
        "https://outlook.office.com/bookings/calendar?itemid=AAMkADKpAAA%3D",
        "https://outlook.office365.com/bookings/homepage#/appointment?id=AAMkADKpAAA%3D",
    ],
)
def test_bookings_references(text: str) -> None:
    parsed = parse_meeting_reference(text)
    assert getattr(parsed, "kind", None) is ReferenceKind.BOOKING and parsed.value == "AAMkADKpAAA="  # type: ignore[union-attr]


def test_bookings_link_without_an_appointment_is_explained() -> None:
    parsed = parse_meeting_reference("https://outlook.office.com/bookings/homepage")
    assert "Bookings link" in getattr(parsed, "message", "")


def test_join_url_helpers_are_linear_and_tolerant() -> None:
    assert join_url_organizer("https://teams.microsoft.com/l/meetup-join/x?context=%7bnot json") is None
    assert join_url_thread("nothing here") is None
    hostile = "19:meeting_" * 50_000
    baseline_started = time.perf_counter()
    hostile.count("19:")
    baseline = time.perf_counter() - baseline_started
    started = time.perf_counter()
    assert join_url_thread(hostile) is None
    assert time.perf_counter() - started < max(baseline * 2000, 0.05)


def test_join_url_thread_is_linear_below_its_cap_on_a_thread_prefix_flood() -> None:
    """A cap is not a fix: a `19:meeting_` flood with no `@thread.v2` must not be rescanned from every prefix."""
    assert_growth_is_linear(join_url_thread, lambda size: ("19:meeting_" * (size // 11 + 1))[:size], n=64, steps=2)
    assert join_url_thread("x19:meeting_a19:meeting_b@thread.v2/0") == "19:meeting_a19:meeting_b@thread.v2"
    assert join_url_thread("19%3ameeting_a%2019%3Ameeting_Q%40THREAD.V2") == "19:meeting_Q@THREAD.V2"


def _meeting(subject: str, start: datetime, url: str) -> UpcomingMeeting:
    return UpcomingMeeting("e-" + subject, subject, start, start + HOUR, "UTC", ("Sam",), url)


def _url(thread: str, organizer: str, escaped: bool = True) -> str:
    context = f"%7b%22Tid%22%3a%22t%22%2c%22Oid%22%3a%22{organizer}%22%7d"
    if escaped:
        return f"https://teams.microsoft.com/l/meetup-join/19%3ameeting_{thread}%40thread.v2/0?context={context}"
    return f"https://teams.microsoft.com/l/meetup-join/19:meeting_{thread}@thread.v2/0?context={context}"


VISIT = "https://visit.teams.microsoft.com/webrtc-svc/api/route?tid=t&convId=19:meeting_v@thread.v2"


def test_merge_is_soonest_first_marked_and_deduplicated() -> None:
    base = replace(BookingAppointment.from_json(DOC_APPOINTMENT, BUSINESS), anonymous_join_web_url=VISIT)
    mailbox_owned = replace(base, id="b1", start=NOW + 2 * HOUR, join_web_url=_url("AAA", "mailbox"))
    also_on_calendar = replace(base, id="b2", start=NOW + 4 * HOUR, join_web_url=_url("BBB", ME, escaped=False))
    calendar = [
        _meeting("Own early", NOW + HOUR, _url("CCC", ME)),
        _meeting("Booked one", NOW + 4 * HOUR, _url("BBB", ME)),  # the same meeting as b2, escaped differently
    ]
    choices = merge_choices(calendar, [also_on_calendar, mailbox_owned], user_id=ME.upper())
    assert [(c.source, c.subject) for c in choices] == [
        (ChoiceSource.CALENDAR, "Own early"),
        (ChoiceSource.BOOKINGS, "Catered bento"),
        (ChoiceSource.BOOKINGS, "Catered bento"),
    ]
    assert [c.appointment.id if c.appointment else None for c in choices] == [None, "b1", "b2"]
    assert [c.user_organises for c in choices] == [True, False, True]
    assert choices[1].customer is not None and choices[1].customer.name == "Jordan Miller"
    assert merge_choices(calendar, [also_on_calendar, mailbox_owned], user_id=ME, limit=1)[0].subject == "Own early"


def test_merge_keeps_appointments_without_a_join_url_apart() -> None:
    base = replace(BookingAppointment.from_json(DOC_APPOINTMENT, BUSINESS), anonymous_join_web_url=VISIT)
    a, b = replace(base, id="x1", join_web_url=None), replace(base, id="x2", join_web_url=None)
    assert [c.key for c in merge_choices([], [a, b, a], user_id=None)] == ["booking:x1", "booking:x2"]


async def test_simulator_bookings_shapes(world: tuple[Tenant, GraphClient]) -> None:
    tenant, client = world
    listing = await client.request("GET", "/solutions/bookingBusinesses")
    assert {b["id"] for b in listing.value["value"]} == {tenant.clinic.id, tenant.bank.id}
    assert set(listing.value["value"][0]) == {"id", "displayName"}
    path = f"/solutions/bookingBusinesses/{tenant.bank.id.replace('@', '%40')}"
    staff = (await client.request("GET", f"{path}/staffMembers")).value["value"]
    assert {"id", "displayName", "emailAddress", "role"} <= set(staff[0])
    services = (await client.request("GET", f"{path}/services")).value["value"]
    assert {s["isLocationOnline"] for s in services} == {True, False}
    view = await client.request(
        "GET", f"{path}/calendarView", params=[("start", NOW.isoformat()), ("end", (NOW + 48 * HOUR).isoformat())]
    )
    first = view.value["value"][0]
    assert {"isLocationOnline", "joinWebUrl", "anonymousJoinWebUrl", "customers", "staffMemberIds"} <= set(first)
    assert first["start"]["timeZone"] == "UTC" and first["start"]["dateTime"].endswith("0Z")
    with pytest.raises(Exception) as missing_window:
        await client.request("GET", f"{path}/calendarView")
    assert getattr(missing_window.value, "status", None) == 400
    # the appointment's meeting is the mailbox's: its staff member sees an invitation, not their own meeting
    invitation = next(e for e in tenant.sim.events_of(ME) if e.subject == "Mortgage call")
    assert not invitation.is_organizer
    assert invitation.meeting is not None and invitation.meeting.organizer_id == tenant.bank.mailbox_user_id


async def test_local_mode_samples_show_the_filter_and_two_bookings() -> None:
    """What a newcomer sees in the Agents Playground: their own meetings (not the invitations) and two of their
    Bookings appointments, from the same calls the bot makes."""
    local = LocalGraph()
    user = "local-user-1"
    token = local.issue_token(user)
    local.issue_token(user)  # a second sign-in seeds nothing twice

    async def provider() -> str:
        return token

    async with serve(local.simulator) as base_url, aiohttp.ClientSession() as session:
        client = GraphClient(session, provider, base_url=base_url, policy=FAST)
        upcoming = await client.upcoming_meetings()
        bookings = await read_for(BookingsDirectory(), client, user)
    own = [m.subject for m in upcoming]
    assert [s for s in own if s != "Video consultation"] == [subject for subject, *_ in SAMPLE_EVENTS]
    invitations = [e for e in local.simulator.events_of(user) if not e.is_organizer]
    assert len(invitations) >= len(SAMPLE_INVITATIONS)  # the invitations are there, and are not offered
    assert bookings.status is BookingsStatus.OK and len(bookings.appointments) == 2
    assert {a.anonymous_join_web_url is None for a in bookings.appointments} == {True, False}
    choices = merge_choices(upcoming, bookings.appointments, user_id=user)
    # the booking the user organises is on their calendar too: offered once, as the booking
    assert [c.source for c in choices].count(ChoiceSource.BOOKINGS) == 2
    assert len(choices) == len(upcoming) + 1


async def read_for(directory: BookingsDirectory, client: GraphClient, user: str):  # type: ignore[no-untyped-def]
    return await directory.appointments(client, user, start=NOW, end=NOW + 48 * HOUR, deadline=deadline_in(5))


def test_an_appointment_without_a_client_link_is_offered_only_to_its_organiser() -> None:
    base = BookingAppointment.from_json(DOC_APPOINTMENT, BUSINESS)  # anonymousJoinWebUrl null, mailbox organises
    assert merge_choices([], [base], user_id=ME) == []
    mine = replace(base, join_web_url=_url("DDD", ME))
    assert [c.user_organises for c in merge_choices([], [mine], user_id=ME)] == [True]
