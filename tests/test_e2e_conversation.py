"""End to end: the "get link" conversation and its cards (issue 5, DESIGN.md section 3).

Real app with authentication on, the loopback cloud, the Graph simulator; users already signed in unless a test
says otherwise. Every result is checked against the exact URL the simulator's Graph returned.
"""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from dialogs.cards import actions, strings
from tests.e2e_support import adaptive_cards, card_text, running_bot

pytestmark = pytest.mark.e2e

EVIL_LOOKALIKE = "https://teams.microsoft.com.evil.example/l/meetup-join/19%3ameeting_x%40thread.v2/0"
SOON = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(hours=2)


class Chat:
    """One user's conversation with the bot: send messages and card submits, read the bot's next replies."""

    def __init__(self, bot: Any, user: str = "alice", **options: Any) -> None:
        self.bot, self.user, self.options = bot, user, options
        self.conversation = bot.cloud.activity("x", user=user, **options)["conversation"]["id"]
        self.seen = 0

    async def say(self, text: str) -> None:
        status, _ = await self.bot.say(text, user=self.user, **self.options)
        assert status == 201

    async def submit(self, action: str, **inputs: Any) -> None:
        activity = self.bot.cloud.activity(None, user=self.user, value={"action": action, **inputs}, **self.options)
        status, _ = await self.bot.post(activity)
        assert status == 201

    async def press(self, data: dict[str, Any]) -> None:
        """Tap a card's button: post exactly the `data` it carries."""
        status, _ = await self.bot.post(self.bot.cloud.activity(None, user=self.user, value=data, **self.options))
        assert status == 201

    def _mine(self) -> list[dict[str, Any]]:
        return [a for a in self.bot.cloud.connector.activities if a["conversation"]["id"] == self.conversation]

    async def reply(self, timeout: float = 5.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            mine = self._mine()
            if len(mine) > self.seen:
                self.seen += 1
                return mine[self.seen - 1]
            await asyncio.sleep(0.01)
        had = [card_text(a)[:80] for a in self._mine()]
        raise AssertionError(f"no reply #{self.seen + 1} for {self.user}; had {had}")

    async def quiet(self, wait: float = 0.2) -> None:
        await asyncio.sleep(wait)
        assert len(self._mine()) == self.seen, [card_text(a)[:120] for a in self._mine()[self.seen:]]


def aad(cloud: Any, user: str) -> str:
    return cloud.user_ids(user)[1]


def meeting_for(cloud: Any, sim: Any, user: str = "alice", subject: str = "Mortgage review") -> Any:
    return sim.add_meeting(aad(cloud, user), subject, SOON, SOON + timedelta(minutes=30))


def button_data(activity: dict[str, Any], action: str) -> dict[str, Any]:
    """The data of the one submit button for `action` on the activity's card."""
    [card] = adaptive_cards(activity)
    [data] = [a["data"] for a in card.get("actions", []) if a.get("data", {}).get("action") == action]
    return dict(data)


def result_url(activity: dict[str, Any]) -> str:
    [card] = adaptive_cards(activity)
    [open_url] = [a for a in card["actions"] if a["type"] == "Action.OpenUrl"]
    return open_url["url"]


async def finish_without_client(chat: Chat) -> dict[str, Any]:
    """From the client-details form to the result: skip the details."""
    form = await chat.reply()
    assert strings.ASK_CLIENT_DETAILS in card_text(form)
    await chat.submit(actions.SKIP)
    return await chat.reply()


@pytest.fixture
def signed_in(cloud, sim):
    for user in ("alice", "bob"):
        cloud.token_service.give_token(user)


@pytest.mark.parametrize("form", ["graph_id", "join_url", "short_url", "meeting_id", "meeting_id_spaced"])
async def test_each_reference_form_gives_the_exact_link(cloud, sim, signed_in, form):
    meeting = meeting_for(cloud, sim)
    digits = meeting.join_meeting_id
    reference = {
        "graph_id": meeting.id,
        "join_url": meeting.join_web_url,
        "short_url": meeting.short_url,
        "meeting_id": f"Meeting ID: {digits} Passcode: {meeting.passcode}",
        "meeting_id_spaced": " ".join(digits[i : i + 3] for i in range(0, len(digits), 3)),
    }[form]
    async with running_bot(cloud, sim) as bot:
        chat = Chat(bot)
        await chat.say(f"get link {reference}")
        result = await finish_without_client(chat)
        assert result_url(result) == meeting.virtual_appointment_url
        assert "Mortgage review" in card_text(result)


async def test_reference_asked_when_not_given_and_upcoming_meetings_offered(cloud, sim, signed_in):
    event = sim.add_event(aad(cloud, "alice"), "Pension check-in", SOON, attendees=("Jordan Lee", "Sam Patel"))
    sim.add_event(aad(cloud, "bob"), "Bob's private meeting", SOON)
    async with running_bot(cloud, sim) as bot:
        chat = Chat(bot)
        await chat.say("Get   LINK")  # case and spacing forgiven
        choice = await chat.reply()
        text = card_text(choice)
        assert "Pension check-in" in text and "Jordan Lee" in text and "Bob's private meeting" not in text
        assert json.dumps(event.meeting.join_web_url) in json.dumps(adaptive_cards(choice))  # a one-tap choice
        await chat.submit(actions.CHOOSE_MEETING, meetingRef=event.meeting.join_web_url)
        result = await finish_without_client(chat)
        assert result_url(result) == event.meeting.virtual_appointment_url


async def test_new_meeting_is_created_once_even_when_retried(cloud, sim, signed_in):
    async with running_bot(cloud, sim) as bot:
        chat = Chat(bot, timezone="Europe/Paris")
        await chat.say("get link new")
        form = await chat.reply()
        assert strings.NEW_MEETING_TITLE in card_text(form)
        start = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%d")
        inputs = {"subject": "Loan review", "startDate": start, "startTime": "10:30", "duration": "45"}
        sim.inject("/me/events", status=500)  # not retried by the client: the form comes back with the reason
        await chat.submit(actions.CREATE_MEETING, **inputs)
        again = await chat.reply()
        assert strings.ERR_TRY_LATER in card_text(again) and "Loan review" in card_text(again)
        await chat.submit(actions.CREATE_MEETING, **inputs)
        result = await finish_without_client(chat)
        [meeting] = sim.meetings_of(aad(cloud, "alice"))  # the retry reused the transactionId: one meeting
        assert [e.subject for e in sim.events_of(aad(cloud, "alice"))] == ["Loan review"]  # on the calendar
        assert meeting.subject == "Loan review" and meeting.end - meeting.start == timedelta(minutes=45)
        assert meeting.start.astimezone(UTC).hour in (9, 10) and meeting.start.minute == 30  # 10:30 in Paris
        assert result_url(result) == meeting.virtual_appointment_url


@pytest.mark.parametrize(
    ("pasted", "sentence"),
    [
        ("19:meeting_NjQ0ZDQ2YjItOTQ2ZS00@thread.v2", strings.REF_CHAT_ID),
        ("https://zoom.us/j/123456789", strings.REF_NOT_TEAMS_LINK),
        (EVIL_LOOKALIKE, strings.REF_NOT_TEAMS_LINK),
        ("tomorrow at ten", strings.REF_UNRECOGNISED),
    ],
)
async def test_bad_references_are_asked_again_with_the_reason(cloud, sim, signed_in, pasted, sentence):
    async with running_bot(cloud, sim) as bot:
        chat = Chat(bot)
        await chat.say("get link")
        await chat.reply()
        await chat.submit(actions.MEETING_REF, meetingRef=pasted)
        again = await chat.reply()
        assert sentence in card_text(again)
        assert json.dumps(pasted)[1:-1] in card_text(again)  # what was pasted stays in the box
        assert sim.count("getVirtualAppointmentJoinWebUrl") == 0


async def test_a_meeting_someone_else_organises_is_refused_plainly(cloud, sim, signed_in):
    theirs = meeting_for(cloud, sim, user="bob")
    async with running_bot(cloud, sim) as bot:
        chat = Chat(bot)
        await chat.say(f"get link {theirs.id}")
        again = await chat.reply()
        assert strings.ERR_NOT_ORGANIZER in card_text(again)
        assert theirs.virtual_appointment_url not in json.dumps(bot.cloud.connector.activities)


async def test_client_details_valid_then_text_the_link(cloud, sim, signed_in):
    meeting = meeting_for(cloud, sim)
    async with running_bot(cloud, sim) as bot:
        chat = Chat(bot, locale="en-US")
        await chat.say(f"get link {meeting.join_web_url}")
        await chat.reply()
        details = {"clientName": "Alex Morgan", "clientEmail": "alex@example.com", "clientPhone": "(206) 555-0100"}
        await chat.submit(actions.CLIENT_DETAILS, **details)
        result = await chat.reply()
        text = card_text(result)
        assert result_url(result) == meeting.virtual_appointment_url
        assert "Alex Morgan" in text and "alex@example.com" in text and "+1 206-555-0100" in text
        text_it = button_data(result, actions.TEXT_LINK)  # the button carries its meeting and number
        assert text_it == {"action": actions.TEXT_LINK, "meetingId": meeting.id, "phone": "+12065550100"}
        await chat.press(text_it)
        confirm = await chat.reply()
        assert "+1 206-555-0100" in card_text(confirm)
        await chat.press(button_data(confirm, actions.CONFIRM_TEXT))
        done = await chat.reply()
        assert done["text"] == strings.text_sent("+1 206-555-0100")
        [sms] = sim.sms_sent
        assert json.dumps(sms).count("+12065550100") == 1


async def test_an_older_cards_text_the_link_texts_that_cards_meeting_and_number(cloud, sim, signed_in):
    first = meeting_for(cloud, sim, subject="First appointment")
    second = meeting_for(cloud, sim, subject="Second appointment")
    async with running_bot(cloud, sim) as bot:
        chat = Chat(bot, locale="en-US")
        cards = []
        for meeting, phone in ((first, "(206) 555-0100"), (second, "(312) 922-4122")):
            await chat.say(f"get link {meeting.id}")
            await chat.reply()
            await chat.submit(actions.CLIENT_DETAILS, clientPhone=phone)
            cards.append(await chat.reply())
        await chat.press(button_data(cards[0], actions.TEXT_LINK))  # the older card, after a newer link
        confirm = await chat.reply()
        assert "+1 206-555-0100" in card_text(confirm) and "312" not in card_text(confirm)
        await chat.press(button_data(confirm, actions.CONFIRM_TEXT))
        assert (await chat.reply())["text"] == strings.text_sent("+1 206-555-0100")
        [sms] = sim.sms_sent
        assert sms["meeting_id"] == first.id
        assert [a["phoneNumber"] for a in sms["body"]["attendees"]] == ["+12065550100"]


CONSENT_403 = {"error": {"code": "Authorization_RequestDenied", "message": "Insufficient privileges to complete the "
                          "operation."}}


@pytest.mark.parametrize(
    ("refused", "permission"),
    [
        ("calendarView", "Calendars.Read"),
        ("getVirtualAppointmentJoinWebUrl", "VirtualAppointment.Read"),
        ("onlineMeetings", "OnlineMeetings.Read"),
        ("sendVirtualAppointmentSms", "VirtualAppointmentNotification.Send"),
    ],
)
async def test_the_consent_sentence_names_the_permission_that_was_missing(cloud, sim, signed_in, refused, permission):
    meeting = meeting_for(cloud, sim)
    sim.inject(refused, status=403, body=CONSENT_403, times=5)
    async with running_bot(cloud, sim) as bot:
        chat = Chat(bot, locale="en-US")
        if refused == "calendarView":
            await chat.say("get link")
            shown = card_text(await chat.reply())
        elif refused == "onlineMeetings":
            await chat.say(f"get link {meeting.join_web_url}")  # looked up by its join URL ($filter)
            shown = card_text(await chat.reply())
        else:
            await chat.say(f"get link {meeting.id}")
            await chat.reply()
            await chat.submit(actions.CLIENT_DETAILS, clientPhone="(206) 555-0100")
            result = await chat.reply()
            if refused == "sendVirtualAppointmentSms":
                await chat.press(button_data(result, actions.TEXT_LINK))
                await chat.press(button_data(await chat.reply(), actions.CONFIRM_TEXT))
                result = await chat.reply()
            shown = card_text(result)
    assert f"its {permission} permission" in shown, shown
    others = {"Calendars.Read", "VirtualAppointment.Read", "OnlineMeetings.Read", "VirtualAppointmentNotification.Send"}
    assert not any(f"its {other} permission" in shown for other in others - {permission})


async def test_invalid_client_details_are_asked_again_keeping_what_was_typed(cloud, sim, signed_in):
    meeting = meeting_for(cloud, sim)
    async with running_bot(cloud, sim) as bot:
        chat = Chat(bot, locale="en-GB")
        await chat.say(f"get link {meeting.id}")
        await chat.reply()
        await chat.submit(actions.CLIENT_DETAILS, clientName="Alex", clientEmail="alex@@example", clientPhone="12")
        again = await chat.reply()
        text = card_text(again)
        assert strings.INVALID_EMAIL in text and "alex@@example" in text and '"value": "Alex"' in text
        assert strings.INVALID_PHONE in text or strings.PHONE_NEEDS_COUNTRY_CODE in text
        await chat.submit(actions.CLIENT_DETAILS, clientName="Alex", clientEmail="alex@example.com", clientPhone="")
        result = await chat.reply()
        assert result_url(result) == meeting.virtual_appointment_url
        assert actions.TEXT_LINK not in card_text(result)  # no phone, no texting


async def test_typing_skip_skips_the_client_details(cloud, sim, signed_in):
    meeting = meeting_for(cloud, sim)
    async with running_bot(cloud, sim) as bot:
        chat = Chat(bot)
        await chat.say(f"get link {meeting.id}")
        await chat.reply()
        await chat.say("Skip")
        assert result_url(await chat.reply()) == meeting.virtual_appointment_url


@pytest.mark.parametrize(
    ("status", "sentence", "retryable"),
    [
        (401, strings.ERR_SIGN_IN_AGAIN, False),
        (403, strings.ERR_NOT_ORGANIZER, False),
        (404, strings.ERR_MEETING_NOT_FOUND, False),
        (400, strings.ERR_BAD_REQUEST, False),
        (429, strings.ERR_THROTTLED, True),
        (503, strings.ERR_TRY_LATER, True),
        (504, strings.ERR_TRY_LATER, True),
    ],
)
async def test_each_graph_error_class_is_one_plain_sentence(cloud, sim, signed_in, status, sentence, retryable):
    meeting = meeting_for(cloud, sim)
    async with running_bot(cloud, sim) as bot:
        chat = Chat(bot)
        await chat.say(f"get link {meeting.id}")
        await chat.reply()
        sim.inject("getVirtualAppointmentJoinWebUrl", status=status, retry_after="0", times=10)
        await chat.submit(actions.SKIP)
        error = await chat.reply()
        assert sentence in card_text(error)
        assert "Traceback" not in card_text(error) and "request-id" not in card_text(error).lower()
        if status == 401:
            assert not cloud.token_service.has_token("alice")  # next time the user signs in afresh
        if retryable:  # the user keeps their place: "Try again" works once Graph recovers
            sim.clear_faults()
            await chat.submit(actions.RETRY)
            assert result_url(await chat.reply()) == meeting.virtual_appointment_url


async def test_graph_timeout_is_said_plainly_and_can_be_retried(cloud, sim, signed_in):
    meeting = meeting_for(cloud, sim)
    async with running_bot(cloud, sim) as bot:
        chat = Chat(bot)
        await chat.say(f"get link {meeting.id}")
        await chat.reply()
        sim.inject("getVirtualAppointmentJoinWebUrl", latency=12.0, times=5)
        started = time.monotonic()
        await chat.submit(actions.SKIP)
        error = await chat.reply(timeout=12)
        assert time.monotonic() - started < 10.5  # inside Teams' 15 s for a message turn
        assert strings.ERR_TRY_LATER in card_text(error)
        sim.clear_faults()
        await chat.say("try again")
        assert result_url(await chat.reply()) == meeting.virtual_appointment_url


async def test_throttling_is_recovered_transparently(cloud, sim, signed_in):
    meeting = meeting_for(cloud, sim)
    async with running_bot(cloud, sim) as bot:
        chat = Chat(bot)
        sim.inject("getVirtualAppointmentJoinWebUrl", status=429, retry_after="0.2", times=1)
        await chat.say(f"get link {meeting.id}")
        result = await finish_without_client(chat)
        assert result_url(result) == meeting.virtual_appointment_url
        assert sim.count("getVirtualAppointmentJoinWebUrl") == 2


async def test_help_and_cancel_at_the_meeting_step(cloud, sim, signed_in):
    meeting = meeting_for(cloud, sim)
    async with running_bot(cloud, sim) as bot:
        chat = Chat(bot)
        await chat.say("get link")
        await chat.reply()
        await chat.say("help")
        assert strings.HELP_TITLE in card_text(await chat.reply())
        await chat.say(meeting.join_web_url)  # the question before help still stands
        assert strings.ASK_CLIENT_DETAILS in card_text(await chat.reply())
        await chat.say("get link")
        await chat.reply()
        await chat.say("cancel")
        assert (await chat.reply())["text"] == strings.CANCELLED
        await chat.submit(actions.CLIENT_DETAILS, clientName="Late")  # a stale card after cancelling
        assert (await chat.reply())["text"] == strings.ERR_EXPIRED_CARD


async def test_help_and_cancel_at_the_client_step(cloud, sim, signed_in):
    meeting = meeting_for(cloud, sim)
    async with running_bot(cloud, sim) as bot:
        chat = Chat(bot)
        await chat.say(f"get link {meeting.id}")
        await chat.reply()
        await chat.submit(actions.HELP)
        assert strings.HELP_TITLE in card_text(await chat.reply())
        await chat.submit(actions.SKIP)
        assert result_url(await chat.reply()) == meeting.virtual_appointment_url
        await chat.submit(actions.GET_LINK)  # "Get another link"
        await chat.reply()
        await chat.submit(actions.CANCEL)
        assert (await chat.reply())["text"] == strings.CANCELLED
        await chat.say("cancel")
        assert (await chat.reply())["text"] == strings.NOTHING_TO_CANCEL


async def test_cancel_and_help_at_the_sign_in_step(cloud, sim):
    async with running_bot(cloud, sim) as bot:
        chat = Chat(bot)
        await chat.say("get link")
        assert (await chat.reply())["attachments"][0]["contentType"] == "application/vnd.microsoft.card.oauth"
        await chat.say("help")
        assert strings.HELP_TITLE in card_text(await chat.reply())
        await chat.say("cancel")
        assert (await chat.reply())["text"] == strings.CANCELLED
        await chat.quiet()


async def test_in_a_meeting_chat_this_meeting_is_the_default(cloud, sim, signed_in):
    meeting = meeting_for(cloud, sim, subject="Quarterly review")
    cloud.add_meeting("m1", organizer="alice", title="Quarterly review", graph_id=meeting.id)
    async with running_bot(cloud, sim) as bot:
        chat = Chat(bot, conversation_type="groupChat", meeting_id="m1", mention=True)
        await chat.say("get link")
        assert (await chat.reply())["text"] == strings.PRIVATE_FLOW_STARTED  # issue 15: the flow goes private
        private = Chat(bot)
        assert (await private.reply())["text"] == strings.PRIVATE_FLOW_INTRO
        result = await finish_without_client(private)
        assert result_url(result) == meeting.virtual_appointment_url
        paths = [r.path for r in sim.requests]
        teams_id = cloud.meeting_ids("m1")[1]
        assert not any(teams_id in p for p in paths)  # the Teams meeting id never reaches Graph


async def test_meeting_chat_without_meeting_info_says_it_could_not_read_the_meeting(cloud, sim, signed_in):
    """No RSC consent (Teams' meeting info answers 404): the chat says what the messaging extension says, never that
    the user is not in a meeting; the question is asked again and a pasted link then works."""
    meeting = meeting_for(cloud, sim, subject="Quarterly review")
    async with running_bot(cloud, sim) as bot:
        chat = Chat(bot, conversation_type="groupChat", meeting_id="unknown", mention=True)
        await chat.say("get link")
        assert (await chat.reply())["text"] == strings.PRIVATE_FLOW_STARTED  # issue 15: the flow goes private
        private = Chat(bot)
        assert (await private.reply())["text"] == strings.PRIVATE_FLOW_INTRO
        asked = card_text(await private.reply())
        assert strings.ERR_MEETING_INFO in asked
        assert strings.REF_NOT_IN_MEETING not in asked
        await private.say(meeting.join_web_url)
        result = await finish_without_client(private)
        assert result_url(result) == meeting.virtual_appointment_url


async def test_two_users_in_parallel_never_see_each_others_links(cloud, sim, signed_in):
    mine, theirs = meeting_for(cloud, sim, "alice"), meeting_for(cloud, sim, "bob")
    async with running_bot(cloud, sim) as bot:
        alice, bob = Chat(bot, "alice"), Chat(bot, "bob")

        async def flows(chat: Chat, meeting: Any) -> list[str]:
            urls = []
            for _ in range(3):
                await chat.say(f"get link {meeting.join_web_url}")
                urls.append(result_url(await finish_without_client(chat)))
            return urls

        got = await asyncio.gather(flows(alice, mine), flows(bob, theirs))
        assert got == [[mine.virtual_appointment_url] * 3, [theirs.virtual_appointment_url] * 3]
        assert theirs.virtual_appointment_url not in json.dumps(alice._mine())
        assert mine.virtual_appointment_url not in json.dumps(bob._mine())
