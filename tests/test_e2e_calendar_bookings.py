"""End to end (issues 17 and 19): choices are meetings the user organises and their own online Bookings
appointments; `new` goes on the calendar; "Text a reminder 15 minutes before".

Real app with authentication on, the loopback cloud and the Graph simulator, users signed in.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from dialogs.cards import actions, strings
from tests.e2e_support import adaptive_cards, card_text, running_bot
from tests.test_e2e_conversation import Chat, aad, finish_without_client, result_url

pytestmark = pytest.mark.e2e

NOW = datetime.now(UTC).replace(second=0, microsecond=0)
HOUR = timedelta(hours=1)
JORDAN = {"name": "Jordan Miller", "emailAddress": "jordan.m@fabrikam.example", "phone": "+1 213 555 0199"}


@pytest.fixture
def signed_in(cloud, sim):
    for user in ("alice", "bob"):
        cloud.token_service.give_token(user)
        sim.add_user(aad(cloud, user), f"{user.title()} Example", mail=f"{user.title()}@contoso.example")


def choices(card_activity: dict[str, Any]) -> list[dict[str, Any]]:
    """The Choose buttons' data, in order."""
    [card] = adaptive_cards(card_activity)
    found: list[dict[str, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "ActionSet":
                found.extend(a["data"] for a in node["actions"] if a["data"].get("action") == actions.CHOOSE_MEETING)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(card["body"])
    return found


def shown(sentence: str) -> str:
    """A sentence as it appears in `card_text` (card JSON escapes non-ASCII characters)."""
    return json.dumps(sentence)[1:-1]


async def tap(chat: Chat, data: dict[str, Any]) -> None:
    """Submit a button's data, as Teams does when it is tapped."""
    await chat.submit(data["action"], **{k: v for k, v in data.items() if k != "action"})


def buttons(activity: dict[str, Any], action: str) -> list[dict[str, Any]]:
    [card] = adaptive_cards(activity)
    return [a for a in card.get("actions", []) if a.get("data", {}).get("action") == action]


def busy_calendar(sim: Any, user: str, boss: str) -> list[Any]:
    """Eight invitations first, a cancelled and an offline meeting of the user's own, then three they organise."""
    for i in range(8):
        sim.add_event(user, f"Invitation {i}", NOW + timedelta(minutes=40 + i), organizer_id=boss)
    sim.add_event(user, "Cancelled consult", NOW + 2 * HOUR, cancelled=True)
    sim.add_event(user, "Branch visit", NOW + 2 * HOUR + timedelta(minutes=5), online=False)
    return [sim.add_event(user, f"Consult {c}", NOW + (3 + i) * HOUR) for i, c in enumerate("ABC")]


# ---- issue 17: calendar choices --------------------------------------------------------------------------------


async def test_only_the_meetings_the_user_organises_are_offered(cloud, sim, signed_in):
    alice, bob = aad(cloud, "alice"), aad(cloud, "bob")
    own = busy_calendar(sim, alice, bob)
    sim.max_page_size = 10  # Graph's default page: the three qualifying meetings are on the second page
    async with running_bot(cloud, sim) as bot:
        chat = Chat(bot)
        await chat.say("get link")
        card = await chat.reply()
        offered = choices(card)
        assert [c["meetingRef"] for c in offered] == [e.meeting.join_web_url for e in own]
        assert "Invitation" not in card_text(card) and "Cancelled" not in card_text(card)
        assert strings.SOURCE_CALENDAR in card_text(card)
        await tap(chat, offered[1])
        result = await finish_without_client(chat)
        assert result_url(result) == own[1].meeting.virtual_appointment_url
        assert sim.count("/calendarView") == 2


async def test_an_endless_next_link_chain_is_bounded(cloud, sim, signed_in):
    async with running_bot(cloud, sim) as bot:
        loop_page = {"value": [], "@odata.nextLink": f"{sim.base_url}/v1.0/me/calendarView?$skip=50&x=1"}
        sim.inject("/calendarView", status=200, body=loop_page, times=1000)
        chat = Chat(bot)
        await chat.say("get link")
        card = await chat.reply()
        assert strings.ASK_MEETING_NO_UPCOMING in card_text(card) and choices(card) == []
        assert 1 < sim.count("/calendarView") <= 5


# ---- issue 17: new meetings on the calendar ---------------------------------------------------------------------


async def test_new_is_on_the_calendar_once_even_when_the_submit_repeats(cloud, sim, signed_in):
    alice = aad(cloud, "alice")
    async with running_bot(cloud, sim) as bot:
        chat = Chat(bot, timezone="Europe/Paris")
        await chat.say("get link new")
        await chat.reply()
        day = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%d")
        inputs = {"subject": "Loan review", "startDate": day, "startTime": "10:30", "duration": "45"}
        sim.inject("/me/events", method="POST", drop_after=True)  # made, answer lost: the client retries
        await chat.submit(actions.CREATE_MEETING, **inputs)
        result = await finish_without_client(chat)
        [event] = sim.events_of(alice)
        assert event.subject == "Loan review" and event.is_organizer and event.attendees == ()
        assert result_url(result) == event.meeting.virtual_appointment_url
        assert strings.NOT_ON_CALENDAR not in card_text(result)
        assert sim.count("/me/events", "POST") == 2 and sim.count("createOrGet") == 0
        # the same submit again (a double tap on the old card): an old card, and still one event
        await chat.submit(actions.CREATE_MEETING, **inputs)
        assert (await chat.reply())["text"] == strings.ERR_EXPIRED_CARD
        assert len(sim.events_of(alice)) == 1
        # and it is on the calendar: the next `get link` offers it
        await chat.say("get link")
        card = await chat.reply()
        assert [c["meetingRef"] for c in choices(card)] == [event.meeting.join_web_url]


async def test_without_calendar_consent_new_says_it_is_not_on_the_calendar(cloud, sim, signed_in):
    alice = aad(cloud, "alice")
    sim.deny("/me/events", method="POST")
    async with running_bot(cloud, sim) as bot:
        chat = Chat(bot)
        await chat.say("get link new")
        await chat.reply()
        day = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%d")
        await chat.submit(actions.CREATE_MEETING, subject="Quick call", startDate=day, startTime="09:00", duration="30")
        result = await finish_without_client(chat)
        [meeting] = sim.meetings_of(alice)
        assert result_url(result) == meeting.virtual_appointment_url and meeting.external_id
        assert strings.NOT_ON_CALENDAR in card_text(result)
        assert sim.events_of(alice) == []


# ---- issue 17: reminder text ------------------------------------------------------------------------------------


async def link_with_phone(chat: Chat, reference: str) -> dict[str, Any]:
    await chat.say(f"get link {reference}")
    await chat.reply()
    await chat.submit(actions.CLIENT_DETAILS, clientName="Alex Morgan", clientPhone="+1 206 555 0100")
    return await chat.reply()


async def test_reminder_text_is_confirmed_then_sent(cloud, sim, signed_in):
    meeting = sim.add_meeting(aad(cloud, "alice"), "Mortgage review", NOW + 2 * HOUR)
    async with running_bot(cloud, sim) as bot:
        chat = Chat(bot)
        result = await link_with_phone(chat, meeting.join_web_url)
        [remind] = buttons(result, actions.TEXT_REMINDER)
        assert remind["title"] == strings.BUTTON_TEXT_REMINDER
        assert remind["data"]["meetingId"] == meeting.id and remind["data"]["phone"] == "+12065550100"
        await tap(chat, remind["data"])
        confirm = await chat.reply()
        assert strings.reminder_question("+1 206-555-0100") in card_text(confirm)
        assert sim.sms_sent == []  # nothing before the confirmation
        [send] = buttons(confirm, actions.CONFIRM_REMINDER)
        await tap(chat, send["data"])
        done = await chat.reply()
        assert done["text"] == strings.reminder_set("+1 206-555-0100")
        [sms] = sim.sms_sent
        assert sms["action"] == "sendVirtualAppointmentReminderSms" and sms["meeting_id"] == meeting.id
        assert sms["body"]["remindBeforeTimeInMinutesType"] == "mins15"
        assert sms["body"]["attendees"][0]["phoneNumber"] == "+12065550100"


async def test_reminder_without_teams_premium_says_so(cloud, sim, signed_in):
    meeting = sim.add_meeting(aad(cloud, "alice"), "Mortgage review", NOW + 2 * HOUR)
    sim.deny(
        "sendVirtualAppointmentReminderSms", code="Forbidden", message="The organizer has no Teams Premium license."
    )
    async with running_bot(cloud, sim) as bot:
        chat = Chat(bot)
        result = await link_with_phone(chat, meeting.join_web_url)
        [remind] = buttons(result, actions.TEXT_REMINDER)
        await tap(chat, remind["data"])
        [send] = buttons(await chat.reply(), actions.CONFIRM_REMINDER)
        await tap(chat, send["data"])
        assert (await chat.reply())["text"] == strings.REMINDER_NEEDS_PREMIUM
        assert sim.sms_sent == []


async def test_reminder_not_offered_for_a_meeting_less_than_15_minutes_away(cloud, sim, signed_in):
    soon = sim.add_meeting(aad(cloud, "alice"), "Walk-in", NOW + timedelta(minutes=10))
    async with running_bot(cloud, sim) as bot:
        chat = Chat(bot)
        result = await link_with_phone(chat, soon.join_web_url)
        assert buttons(result, actions.TEXT_LINK) and not buttons(result, actions.TEXT_REMINDER)
        # a reminder button kept from an older card is refused once the meeting is too close
        await chat.submit(actions.TEXT_REMINDER, meetingId=soon.id, phone="+12065550100", start=soon.start.isoformat())
        assert (await chat.reply())["text"] == strings.REMINDER_TOO_LATE
        assert sim.sms_sent == []


async def test_an_older_cards_text_button_texts_that_cards_meeting(cloud, sim, signed_in):
    alice = aad(cloud, "alice")
    first = sim.add_meeting(alice, "First", NOW + 2 * HOUR)
    second = sim.add_meeting(alice, "Second", NOW + 3 * HOUR)
    async with running_bot(cloud, sim) as bot:
        chat = Chat(bot)
        old = await link_with_phone(chat, first.join_web_url)
        await link_with_phone(chat, second.join_web_url)
        [text_it] = buttons(old, actions.TEXT_LINK)
        await tap(chat, text_it["data"])
        [send] = buttons(await chat.reply(), actions.CONFIRM_TEXT)
        await tap(chat, send["data"])
        await chat.reply()
        [sms] = sim.sms_sent
        assert sms["meeting_id"] == first.id


# ---- issue 19: Bookings -----------------------------------------------------------------------------------------


class Bookings:
    """Two businesses; alice is staff in both, bob in one; online and in-person appointments for each."""

    def __init__(self, cloud: Any, sim: Any) -> None:
        alice, bob = aad(cloud, "alice"), aad(cloud, "bob")
        self.clinic, self.bank = sim.add_business("Clinic"), sim.add_business("Bank")
        me_clinic = sim.add_staff(self.clinic, "Alice", "alice@CONTOSO.example")  # matched by e-mail alone
        me_bank = sim.add_staff(self.bank, "Alice", "alice@contoso.example", user_id=alice)
        bob_bank = sim.add_staff(self.bank, "Bob", "bob@contoso.example", user_id=bob)
        video = sim.add_service(self.clinic, "Video visit")
        call = sim.add_service(self.bank, "Mortgage call", minutes=45)
        branch = sim.add_service(self.bank, "Branch visit", online=False)
        self.mine = [
            sim.add_appointment(self.bank, call, NOW + HOUR, staff=[me_bank], customer=JORDAN),
            sim.add_appointment(self.clinic, video, NOW + 5 * HOUR, staff=[me_clinic], customer={"name": "Sam Lee"}),
        ]
        self.in_person = sim.add_appointment(self.bank, branch, NOW + 2 * HOUR, staff=[me_bank], customer=JORDAN)
        self.bobs = sim.add_appointment(self.bank, call, NOW + 3 * HOUR, staff=[bob_bank], customer={"name": "Kim"})
        self.calendar = sim.add_event(alice, "Own consult", NOW + 4 * HOUR)


async def test_bookings_and_calendar_in_one_list_and_a_booking_prefills_the_form(cloud, sim, signed_in):
    world = Bookings(cloud, sim)
    async with running_bot(cloud, sim) as bot:
        chat = Chat(bot, locale="en-US")
        await chat.say("get link")
        card = await chat.reply()
        text = card_text(card)
        offered = choices(card)
        assert [c["meetingRef"] for c in offered] == [
            world.mine[0].id,
            world.calendar.meeting.join_web_url,
            world.mine[1].id,
        ]  # soonest first; the in-person one, bob's, and the invitations the bookings put on alice's calendar: not
        assert shown(strings.bookings_line("Bank", "Jordan Miller")) in text
        assert shown(strings.bookings_line("Clinic", "Sam Lee")) in text
        assert "Kim" not in text and "Branch visit" not in text
        await tap(chat, offered[0])
        form = await chat.reply()
        inputs = _inputs(form)
        assert inputs["clientName"] == "Jordan Miller" and inputs["clientEmail"] == JORDAN["emailAddress"]
        assert "213" in inputs["clientPhone"]
        await chat.submit(
            actions.CLIENT_DETAILS,
            clientName="Jordan Miller",
            clientEmail=JORDAN["emailAddress"],
            clientPhone=inputs["clientPhone"],
        )
        result = await chat.reply()
        assert result_url(result) == world.mine[0].meeting.virtual_appointment_url  # the anonymousJoinWebUrl
        assert not buttons(result, actions.TEXT_LINK) and not buttons(result, actions.TEXT_REMINDER)
        assert strings.BOOKINGS_TEXTS_NOTE in card_text(result)
        assert sim.count("getVirtualAppointmentJoinWebUrl") == 0  # the link came with the appointment
        [email] = buttons(result, actions.EMAIL_LINK)  # but it can be emailed, to the customer's address
        assert (email["data"]["email"], email["data"]["link"]) == (JORDAN["emailAddress"], result_url(result))


def _inputs(activity: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = {}

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if str(node.get("type", "")).startswith("Input.") and "id" in node:
                found[node["id"]] = node.get("value")
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(adaptive_cards(activity))
    return found


async def test_a_booking_the_user_organises_uses_the_join_link_function_and_can_be_texted(cloud, sim, signed_in):
    alice = aad(cloud, "alice")
    clinic = sim.add_business("Clinic")
    me = sim.add_staff(clinic, "Alice", "alice@contoso.example", user_id=alice)
    video = sim.add_service(clinic, "Video visit")
    booked = sim.add_appointment(
        clinic, video, NOW + 2 * HOUR, staff=[me], customer=JORDAN, anonymous=False, organizer_id=alice
    )
    async with running_bot(cloud, sim) as bot:
        chat = Chat(bot, locale="en-US")
        await chat.say("get link")
        card = await chat.reply()
        offered = choices(card)
        assert [c["meetingRef"] for c in offered] == [booked.id]  # on her calendar too, but offered once
        await tap(chat, offered[0])
        await chat.reply()
        await chat.submit(actions.CLIENT_DETAILS, clientName="Jordan Miller", clientPhone="+1 213 555 0199")
        result = await chat.reply()
        assert result_url(result) == booked.meeting.virtual_appointment_url
        assert sim.count("getVirtualAppointmentJoinWebUrl") == 1
        assert buttons(result, actions.TEXT_LINK) and buttons(result, actions.TEXT_REMINDER)


async def test_bookings_forbidden_means_calendar_only_and_no_error(cloud, sim, signed_in):
    world = Bookings(cloud, sim)
    sim.deny("/solutions/", user_id=aad(cloud, "alice"))
    async with running_bot(cloud, sim) as bot:
        chat = Chat(bot)
        await chat.say("get link")
        card = await chat.reply()
        assert [c["meetingRef"] for c in choices(card)] == [world.calendar.meeting.join_web_url]
        text = card_text(card)
        assert strings.BOOKINGS_INCOMPLETE not in text and strings.ERR_CALENDAR not in text


async def test_slow_bookings_do_not_hold_up_the_choices(cloud, sim, signed_in):
    world = Bookings(cloud, sim)
    sim.inject("/solutions/", latency=2.0, times=100)
    async with running_bot(cloud, sim) as bot:
        chat = Chat(bot)
        started = time.monotonic()
        await chat.say("get link")
        card = await chat.reply()
        elapsed = time.monotonic() - started
        assert elapsed < 2.0, elapsed  # the budget for Bookings is well under the 2 s they take
        assert [c["meetingRef"] for c in choices(card)] == [world.calendar.meeting.join_web_url]
        assert strings.BOOKINGS_INCOMPLETE in card_text(card)


@pytest.mark.parametrize("form", ["id", "url"])
async def test_get_link_with_a_bookings_appointment(cloud, sim, signed_in, form):
    world = Bookings(cloud, sim)
    appointment = world.mine[1]
    reference = (
        appointment.id
        if form == "id"
        else (
            "https://outlook.office.com/bookings/calendar?itemid="
            + appointment.id.replace("=", "%3D").replace("+", "%2B").replace("/", "%2F")
        )
    )
    async with running_bot(cloud, sim) as bot:
        chat = Chat(bot)
        await chat.say(f"get link {reference}")
        form_card = await chat.reply()
        assert _inputs(form_card)["clientName"] == "Sam Lee"
        await chat.submit(actions.SKIP)
        result = await chat.reply()
        assert result_url(result) == appointment.meeting.virtual_appointment_url
        assert "Video visit" in card_text(result)


async def test_a_bookings_appointment_of_another_business_is_not_found(cloud, sim, signed_in):
    Bookings(cloud, sim)
    elsewhere = sim.add_business("Elsewhere")
    stranger = sim.add_staff(elsewhere, "Someone", "someone@contoso.example")
    theirs = sim.add_appointment(elsewhere, sim.add_service(elsewhere, "Video"), NOW + HOUR, staff=[stranger])
    async with running_bot(cloud, sim) as bot:
        chat = Chat(bot)
        await chat.say(f"get link {theirs.id}")
        again = await chat.reply()
        assert strings.REF_BOOKING_NOT_FOUND in card_text(again)
        assert theirs.meeting.virtual_appointment_url not in json.dumps(bot.cloud.connector.activities)


async def test_the_teams_link_of_a_booking_finds_the_booking(cloud, sim, signed_in):
    world = Bookings(cloud, sim)
    booked = world.mine[0]  # its meeting belongs to the booking mailbox: Graph refuses alice the lookup
    async with running_bot(cloud, sim) as bot:
        chat = Chat(bot)
        await chat.say(f"get link {booked.meeting.join_web_url}")
        form = await chat.reply()
        assert _inputs(form)["clientName"] == "Jordan Miller"
        await chat.submit(actions.SKIP)
        result = await chat.reply()
        assert result_url(result) == booked.meeting.virtual_appointment_url
        assert sim.count("/onlineMeetings", "GET") == 1  # the refused lookup, then Bookings


async def test_messaging_extension_takes_a_bookings_appointment(cloud, sim, signed_in):
    world = Bookings(cloud, sim)
    booked = world.mine[1]
    value = {
        "commandId": "getAppointmentLink",
        "commandContext": "compose",
        "data": {"action": "submitTask", "meetingRef": booked.id},
    }
    async with running_bot(cloud, sim) as bot:
        status, body = await bot.post(cloud.invoke("composeExtension/submitAction", value))
    assert status == 200  # the result card, wherever the extension puts it
    assert booked.meeting.virtual_appointment_url in json.dumps(body)
    assert shown(strings.BOOKINGS_TEXTS_NOTE) in json.dumps(body)
