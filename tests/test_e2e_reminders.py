"""Reminders end to end: the real app (authentication on) over the loopback cloud and the Graph simulator, its
poller driven by a hand-moved clock. Opting in, the reminders that arrive (when, where, with which link), a meeting
moved later, `stop reminders`, `sign out`, a token gone, and a chat that is gone."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from app import REMINDERS, create_app
from bot.reminders.blob_store import LEASE_S
from bot.reminders.clock import ManualClock
from config import Settings
from dialogs.cards import actions, strings
from dialogs.cards.language import Catalogs, speaking
from tests.cloud import LoopbackCloud
from tests.e2e_support import RunningBot, adaptive_cards, card_text, running_bot

pytestmark = pytest.mark.e2e

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)


class Reminded:
    """The bot and its clock; every activity the connector received, with the clock's time when it arrived."""

    def __init__(self, bot: RunningBot, clock: ManualClock) -> None:
        self.bot, self.clock, self.cloud = bot, clock, bot.cloud
        self.seen: list[tuple[datetime, dict[str, Any]]] = []

    def _collect(self) -> None:
        for activity in self.cloud.connector.activities[len(self.seen):]:
            self.seen.append((self.clock.now(), activity))

    async def say(self, text: str, **options: Any) -> dict[str, Any]:
        before = len(self.cloud.connector.activities)
        status, _ = await self.bot.say(text, **options)
        assert status in (200, 201)
        await self.cloud.connector.await_activities(before + 1)
        await asyncio.sleep(0.05)
        self._collect()
        return self.seen[before][1]

    async def until(self, when: datetime, step_s: float = 10) -> None:
        """Move the clock to `when` in steps, letting the poller finish (and send) what each step made due."""
        while self.clock.now() < when:
            await asyncio.wait_for(self.clock.idle(), 10)
            self._collect()
            self.clock.advance(min(step_s, (when - self.clock.now()).total_seconds()))
        await asyncio.wait_for(self.clock.idle(), 10)
        await asyncio.sleep(0.05)
        self._collect()

    def reminders(self) -> list[tuple[datetime, dict[str, Any]]]:
        return [(at, a) for at, a in self.seen if strings.REMINDER_TITLE in card_text(a)]

    def texts(self, sentence: str) -> list[datetime]:
        return [at for at, a in self.seen if a.get("text") == sentence]


@pytest.fixture
async def alice(cloud: LoopbackCloud, sim: Any) -> AsyncIterator[Reminded]:
    cloud.token_service.give_token("alice")
    clock = ManualClock(T0)
    async with running_bot(cloud, sim, clock=clock) as bot:
        yield Reminded(bot, clock)


def aad(cloud: LoopbackCloud, user: str) -> str:
    return cloud.user_ids(user)[1]


def personal_chat(cloud: LoopbackCloud, user: str = "alice") -> str:
    return str(cloud.activity("x", user=user)["conversation"]["id"])


def link_of(activity: dict[str, Any]) -> str:
    [card] = adaptive_cards(activity)
    [open_url] = [a for a in card["actions"] if a["type"] == "Action.OpenUrl"]
    return str(open_url["url"])


def button(activity: dict[str, Any], action: str) -> dict[str, Any]:
    """The data of the card's button for `action` (what tapping it submits)."""
    [card] = adaptive_cards(activity)
    [data] = [a["data"] for a in card["actions"] if (a.get("data") or {}).get("action") == action]
    return dict(data)


def move(event: Any, start: datetime) -> None:
    """Reschedule a simulator event (and its online meeting), keeping its length."""
    length = event.end - event.start
    event.start, event.end = start, start + length
    if event.meeting is not None:
        event.meeting.start, event.meeting.end = start, start + length


async def test_reminders_arrive_before_each_meeting_the_user_organises_and_stop_when_asked(
    cloud: LoopbackCloud, sim: Any, alice: Reminded
) -> None:
    me, bob = aad(cloud, "alice"), aad(cloud, "bob")
    first = sim.add_event(me, "Mortgage review", T0 + 30 * MIN)
    sim.add_event(me, "Team sync (Bob's)", T0 + 40 * MIN, organizer_id=bob)  # an invitation: never announced
    second = sim.add_event(me, "Pension advice", T0 + 50 * MIN)

    confirmation = await alice.say("remind me")
    assert confirmation["text"] == strings.reminders_on(15)

    await alice.until(T0 + 20 * MIN)
    [(at, reminder)] = alice.reminders()
    assert at == T0 + 15 * MIN  # exactly the lead time before
    assert link_of(reminder) == first.meeting.virtual_appointment_url
    assert "Mortgage review" in card_text(reminder)
    assert reminder["conversation"]["id"] == personal_chat(cloud)

    move(first, T0 + 70 * MIN)  # moved later: announced again at its new time
    await alice.until(T0 + 60 * MIN)
    assert [(at, link_of(r)) for at, r in alice.reminders()] == [
        (T0 + 15 * MIN, first.meeting.virtual_appointment_url),
        (T0 + 35 * MIN, second.meeting.virtual_appointment_url),
        (T0 + 55 * MIN, first.meeting.virtual_appointment_url),
    ]
    assert all("Team sync" not in card_text(r) for _, r in alice.reminders())

    assert (await alice.say("stop reminders"))["text"] == strings.REMINDERS_OFF
    sim.add_event(me, "Account opening", T0 + 80 * MIN)
    await alice.until(T0 + 90 * MIN)
    assert len(alice.reminders()) == 3
    assert (await alice.say("stop reminders"))["text"] == strings.REMINDERS_WERE_OFF


async def test_a_meeting_already_inside_the_lead_time_comes_within_a_minute_of_opting_in(
    cloud: LoopbackCloud, sim: Any, alice: Reminded
) -> None:
    meeting = sim.add_event(aad(cloud, "alice"), "Mortgage review", T0 + 10 * MIN)
    await alice.until(T0 + 2 * MIN)  # the poller runs with nobody subscribed
    await alice.say("remind me 30 minutes before")
    await alice.until(T0 + 4 * MIN, step_s=1)
    [(at, reminder)] = alice.reminders()
    assert T0 + 2 * MIN < at <= T0 + 3 * MIN
    assert link_of(reminder) == meeting.meeting.virtual_appointment_url


async def test_bookings_appointments_are_announced_with_their_customer(
    cloud: LoopbackCloud, sim: Any, alice: Reminded
) -> None:
    me = aad(cloud, "alice")
    business = sim.add_business("Contoso Advice Centre")
    staff = sim.add_staff(business, "Alice", sim.user(me).mail.lower(), user_id=me)
    colleague = sim.add_staff(business, "Alex Wilber", "alexw@contoso.example")
    video = sim.add_service(business, "Video consultation")
    branch = sim.add_service(business, "Branch visit", online=False)
    jordan = {"name": "Jordan Miller", "emailAddress": "jordan.miller@fabrikam.example", "phone": "+1 213 555 0199"}
    booked = sim.add_appointment(business, video, T0 + 40 * MIN, staff=[staff], customer=jordan)
    riley = {"name": "Riley Chen", "emailAddress": "riley.chen@fabrikam.example", "phone": "+1 206 555 0142"}
    own = sim.add_appointment(  # one whose meeting Alice organises: also on her calendar, announced once
        business, video, T0 + 60 * MIN, staff=[staff], customer=riley, anonymous=False, organizer_id=me
    )
    sim.add_appointment(business, video, T0 + 50 * MIN, staff=[colleague], customer={"name": "Morgan Lee"})
    sim.add_appointment(business, branch, T0 + 55 * MIN, staff=[staff], customer={"name": "Casey Park"})

    await alice.say("remind me")
    await alice.until(T0 + 70 * MIN, step_s=30)
    reminders = alice.reminders()
    assert [(at, link_of(r)) for at, r in reminders] == [
        (T0 + 25 * MIN, booked.meeting.virtual_appointment_url),  # the appointment's anonymousJoinWebUrl
        (T0 + 45 * MIN, own.meeting.virtual_appointment_url),  # the join-link function's
    ]
    first, second = (card_text(r) for _, r in reminders)
    assert "Jordan Miller" in first and "jordan.miller@fabrikam.example" in first
    assert actions.TEXT_LINK not in first  # run by the Bookings mailbox: the bot cannot text it
    assert "Riley Chen" in second and actions.TEXT_LINK in second
    assert actions.TEXT_REMINDER not in second  # 15 minutes before, a 15-minute reminder text is too late

    # "Text the link" on the reminder works like on any result card: confirmed, then sent for that meeting.
    await alice.bot.post(cloud.activity(None, value=button(reminders[1][1], actions.TEXT_LINK)))
    await cloud.connector.await_activities(len(alice.seen) + 1)
    confirm = cloud.connector.activities[len(alice.seen)]
    await alice.bot.post(cloud.activity(None, value=button(confirm, actions.CONFIRM_TEXT)))
    await cloud.connector.await_activities(len(alice.seen) + 2)
    assert [s["meeting_id"] for s in sim.sms_sent] == [own.meeting.id]
    assert "Morgan Lee" not in first + second and "Casey Park" not in first + second


async def test_bad_lead_times_are_asked_again_and_change_nothing(alice: Reminded) -> None:
    for text in ("remind me 2 minutes before", "remind me 90 minutes before", "remind me tomorrow"):
        assert (await alice.say(text))["text"] == strings.REMINDERS_BAD_LEAD
    assert await alice.bot.app[REMINDERS].store.list() == []


async def test_the_welcome_card_and_help_offer_reminders(cloud: LoopbackCloud, alice: Reminded) -> None:
    status, _ = await alice.bot.post(cloud.activity(None, type="installationUpdate", extra={"action": "add"}))
    assert status in (200, 201)
    await cloud.connector.await_activities(1)
    [welcome] = adaptive_cards(cloud.connector.activities[0])
    assert actions.REMIND_ME in str(welcome)
    status, _ = await alice.bot.post(cloud.activity(None, value={"action": actions.REMIND_ME}))
    await cloud.connector.await_activities(2)
    assert cloud.connector.activities[1]["text"] == strings.reminders_on(15)
    help_card = await alice.say("help")
    assert "stop reminders" in card_text(help_card) and "remind me" in card_text(help_card)


async def test_sign_out_turns_reminders_off(cloud: LoopbackCloud, sim: Any, alice: Reminded) -> None:
    sim.add_event(aad(cloud, "alice"), "Mortgage review", T0 + 30 * MIN)
    await alice.say("remind me")
    assert len(await alice.bot.app[REMINDERS].store.list()) == 1
    await alice.say("sign out")
    assert await alice.bot.app[REMINDERS].store.list() == []
    await alice.until(T0 + 40 * MIN, step_s=30)
    assert alice.reminders() == []


async def test_token_gone_asks_once_to_sign_in_then_pauses_until_signed_in_again(
    cloud: LoopbackCloud, sim: Any, alice: Reminded
) -> None:
    me = aad(cloud, "alice")
    sim.add_event(me, "Mortgage review", T0 + 30 * MIN)
    await alice.say("remind me")
    cloud.token_service.take_token("alice")
    await alice.until(T0 + 60 * MIN, step_s=30)
    assert len(alice.texts(strings.REMINDERS_SIGN_IN_AGAIN)) == 1
    assert alice.reminders() == []
    polls = sum(1 for name in cloud.token_service.call_names() if name == "GetToken")
    await alice.until(T0 + 120 * MIN, step_s=60)
    assert sum(1 for name in cloud.token_service.call_names() if name == "GetToken") == polls  # paused: no storm
    [stored] = await alice.bot.app[REMINDERS].store.list()
    assert stored.subscription.paused

    cloud.token_service.give_token("alice")  # signed in again (any flow's sign-in resumes them)
    sim.add_event(me, "Pension advice", T0 + 140 * MIN)
    await alice.say("get link")
    await alice.until(T0 + 130 * MIN, step_s=10)
    [(at, _)] = alice.reminders()
    assert at == T0 + 125 * MIN


async def test_a_chat_the_connector_refuses_removes_the_subscription(
    cloud: LoopbackCloud, sim: Any, alice: Reminded
) -> None:
    sim.add_event(aad(cloud, "alice"), "Mortgage review", T0 + 30 * MIN)
    sim.add_event(aad(cloud, "alice"), "Pension advice", T0 + 50 * MIN)
    await alice.say("remind me")
    cloud.connector.fail_next(403, times=10, path_contains=personal_chat(cloud))  # the app was uninstalled
    await alice.until(T0 + 20 * MIN, step_s=30)
    assert await alice.bot.app[REMINDERS].store.list() == []
    reads = sim.count("calendarView")
    await alice.until(T0 + 60 * MIN, step_s=60)
    assert sim.count("calendarView") == reads  # no longer polled
    assert alice.reminders() == []


async def test_a_chat_teams_fails_to_deliver_to_keeps_the_subscription_and_the_reminder_comes_later(
    cloud: LoopbackCloud, sim: Any, alice: Reminded
) -> None:
    """A 5xx from Teams is not an uninstalled app: the subscription stays and the reminder is sent at a later
    check; the failed proactive turn does not answer with "something went wrong" either."""
    sim.add_event(aad(cloud, "alice"), "Mortgage review", T0 + 30 * MIN)
    await alice.say("remind me")
    cloud.connector.fail_next(500, times=2, path_contains=personal_chat(cloud))  # Teams failing for a while
    await alice.until(T0 + 29 * MIN, step_s=30)
    assert len(await alice.bot.app[REMINDERS].store.list()) == 1
    assert len(alice.reminders()) == 1
    assert alice.texts(strings.ERR_GENERIC) == []


async def test_two_instances_on_blob_announce_once_and_the_survivor_takes_over(
    cloud: LoopbackCloud, sim: Any, azurite: Any
) -> None:
    """Two real apps share one Azurite container: one polls; each meeting is announced once; when the polling
    instance dies without handing the lease back, the other takes over within the lease time and misses nothing."""
    blob = {"BotStorage": "blob", "BlobConnectionString": azurite.connection_string,
            "BlobContainer": f"rem-{uuid.uuid4().hex[:16]}"}
    cloud.token_service.give_token("alice")
    me = aad(cloud, "alice")
    early = sim.add_event(me, "Mortgage review", T0 + 20 * MIN)
    late = sim.add_event(me, "Pension advice", T0 + 30 * MIN)
    clock = ManualClock(T0)
    async with running_bot(cloud, sim, clock=clock, **blob) as a, running_bot(cloud, sim, clock=clock, **blob) as b:
        alice = Reminded(a, clock)
        await alice.say("remind me")  # on instance a, whichever instance polls
        services = [bot.app[REMINDERS].service for bot in (a, b)]
        deadline = time.monotonic() + 10
        while not any(s.leader for s in services) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        [holder] = [s for s in services if s.leader]
        [other] = [s for s in services if s is not holder]
        await alice.until(T0 + 10 * MIN)
        assert [link_of(r) for _, r in alice.reminders()] == [early.meeting.virtual_appointment_url]

        await holder.stop(release=False)  # dies: no renewal, no hand-back
        killed = time.monotonic()
        while not other.leader:
            assert time.monotonic() - killed < LEASE_S + 2, "the other instance did not take over"
            await asyncio.sleep(0.05)
        await alice.until(T0 + 25 * MIN)
        assert [(at, link_of(r)) for at, r in alice.reminders()] == [
            (T0 + 5 * MIN, early.meeting.virtual_appointment_url),
            (T0 + 15 * MIN, late.meeting.virtual_appointment_url),
        ]


async def test_remind_me_in_a_group_chat_confirms_and_reminds_in_the_one_to_one_chat(
    cloud: LoopbackCloud, sim: Any, alice: Reminded
) -> None:
    meeting = sim.add_event(aad(cloud, "alice"), "Mortgage review", T0 + 30 * MIN)
    group = cloud.activity("x", conversation_type="groupChat", mention=True)["conversation"]["id"]
    private = cloud.connector.personal_conversation("alice")
    status, _ = await alice.bot.say("remind me 20 minutes before", conversation_type="groupChat", mention=True)
    assert status == 201
    await alice.until(T0 + 15 * MIN)
    assert [a.get("text") for a in cloud.connector.activities_in(group)] == [strings.PRIVATE_FLOW_STARTED]
    texts = [a.get("text") for a in cloud.connector.activities_in(private)]
    assert texts[:2] == [strings.PRIVATE_REMINDERS_ON_INTRO, strings.reminders_on(20)]  # not "a client link"
    [(at, reminder)] = alice.reminders()
    assert at == T0 + 10 * MIN and reminder["conversation"]["id"] == private
    assert link_of(reminder) == meeting.meeting.virtual_appointment_url

    status, _ = await alice.bot.say("stop reminders", conversation_type="groupChat", mention=True)
    await cloud.connector.await_activities(len(alice.seen) + 3)  # group sentence, intro, confirmation
    assert [a.get("text") for a in cloud.connector.activities_in(group)][-1] == strings.PRIVATE_FLOW_STARTED
    assert [a.get("text") for a in cloud.connector.activities_in(private)][-2:] == [
        strings.PRIVATE_REMINDERS_OFF_INTRO, strings.REMINDERS_OFF
    ]
    assert await alice.bot.app[REMINDERS].store.list() == []


async def test_local_mode_reminds_too(cloud: LoopbackCloud) -> None:
    """Local mode (no app id, simulator sign-in, no token service): the same poller, the proactive message without
    credentials, to the loopback connector."""
    cloud.connector.require_auth = False  # local mode sends no token
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    clock = ManualClock(now)
    app = create_app(Settings.from_mapping({"PORT": "0"}), clock=clock)
    server = TestServer(app, host="127.0.0.1", port=0)
    await server.start_server()
    try:
        async with aiohttp.ClientSession() as session:
            bot = RunningBot(str(server.make_url("/")), app, session, cloud)
            alice = Reminded(bot, clock)
            status, _ = await bot.post(cloud.activity("remind me"), auth=None)
            assert status == 201
            await cloud.connector.await_activities(1)
            await alice.until(now + 50 * MIN, step_s=60)  # the sample "Mortgage review" starts in an hour
            [(at, reminder)] = alice.reminders()
            assert at == now + 45 * MIN and "Mortgage review" in card_text(reminder)
    finally:
        await server.close()


async def test_graph_throttling_is_honoured_and_the_reminder_still_comes(
    cloud: LoopbackCloud, sim: Any, alice: Reminded
) -> None:
    meeting = sim.add_event(aad(cloud, "alice"), "Mortgage review", T0 + 40 * MIN)
    sim.inject("calendarView", status=429, retry_after=600, times=1)  # ten minutes: beyond any in-call retry
    await alice.say("remind me")
    await alice.until(T0 + 10 * MIN, step_s=10)
    assert sim.count("calendarView") == 1  # throttled at the first check; nothing asked again for ten minutes
    await alice.until(T0 + 30 * MIN, step_s=10)
    assert sim.count("calendarView") >= 2
    [(at, reminder)] = alice.reminders()
    assert at == T0 + 25 * MIN and link_of(reminder) == meeting.meeting.virtual_appointment_url


async def test_reminders_speak_the_language_the_user_opted_in_with(
    cloud: LoopbackCloud, sim: Any, alice: Reminded
) -> None:
    sim.add_event(aad(cloud, "alice"), "Revisión de hipoteca", T0 + 30 * MIN)
    confirmation = await alice.say("recuérdame 20 minutos antes", locale="es-ES")
    spanish = Catalogs.load().language("es-ES")
    with speaking(spanish):
        assert confirmation["text"] == strings.reminders_on(20)
        title = strings.REMINDER_TITLE
    assert "Recordatorios" in confirmation["text"]
    await alice.until(T0 + 12 * MIN)
    [(at, reminder)] = alice.seen[-1:]
    assert at == T0 + 10 * MIN and title in card_text(reminder)
