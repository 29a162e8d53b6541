"""End to end: private things stay private in group and meeting chats (issue 15; DESIGN.md section 3).

Real app, authentication on, the loopback cloud and the Graph simulator. After `get link ...` in a shared chat the
bot says one sentence there and runs the whole flow in the user's one-to-one chat, which it opens with the
connector's `POST /v3/conversations` (or finds again from the reference it keeps). Every test ends by checking that
nothing sent to the shared conversation carries the link, a subject, the client's details or sign-in material.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from app import create_app
from config import Settings
from dialogs.cards import actions, strings
from tests.e2e_support import adaptive_cards, card_text, running_bot

pytestmark = pytest.mark.e2e

OAUTH = "application/vnd.microsoft.card.oauth"
SOON = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(hours=2)
GROUP: dict[str, Any] = {"conversation_type": "groupChat", "mention": True}
CLIENT = {"clientName": "Alex Morgan", "clientEmail": "alex.morgan@example.com", "clientPhone": "+1 (206) 555-0100"}


def phone_pattern(digits: str) -> re.Pattern[str]:
    """The number in any formatting: +1 206-555-0100, (206) 555 0100, 2065550100, 206.555.0100..."""
    return re.compile(r"\D{0,3}".join(digits))


def assert_nothing_private(shared: list[dict[str, Any]], *, secrets: list[str], cloud: Any) -> None:
    """No activity sent to a shared conversation shows a secret, the client's number, or sign-in material."""
    shown = json.dumps(shared)
    for secret in secrets:
        assert secret.lower() not in shown.lower(), f"{secret!r} was posted in the shared chat"
    assert not phone_pattern("2065550100").search(shown), "the client's number was posted in the shared chat"
    for activity in shared:
        assert not any(a.get("contentType") == OAUTH for a in activity.get("attachments") or [])
    assert cloud.token_service.base_url not in shown and "signin" not in shown.lower()


async def wait_for(condition: Callable[[], bool], what: str, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


class Conversation:
    """One conversation as the connector saw it: read the bot's next activities, post the user's next ones."""

    def __init__(self, bot: Any, conversation_id: str, user: str = "alice", **options: Any) -> None:
        self.bot, self.id, self.user, self.options = bot, conversation_id, user, options
        self.seen = 0

    @property
    def sent(self) -> list[dict[str, Any]]:
        return self.bot.cloud.connector.activities_in(self.id)

    async def reply(self) -> dict[str, Any]:
        await wait_for(lambda: len(self.sent) > self.seen, f"reply #{self.seen + 1} in {self.id}")
        self.seen += 1
        return self.sent[self.seen - 1]

    async def say(self, text: str) -> None:
        status, _ = await self.bot.say(text, user=self.user, **self.options)
        assert status == 201

    async def press(self, data: dict[str, Any]) -> None:
        activity = self.bot.cloud.activity(None, user=self.user, value=data, **self.options)
        status, _ = await self.bot.post(activity)
        assert status == 201

    async def quiet(self, wait: float = 0.2) -> None:
        await asyncio.sleep(wait)
        assert len(self.sent) == self.seen, [card_text(a)[:120] for a in self.sent[self.seen:]]


def button(activity: dict[str, Any], action: str) -> dict[str, Any]:
    [card] = adaptive_cards(activity)
    found = [a for a in card.get("actions", []) if (a.get("data") or {}).get("action") == action]
    found += [a for e in card["body"] if e.get("type") == "ActionSet" for a in e["actions"]
              if (a.get("data") or {}).get("action") == action]
    [one] = found
    return dict(one["data"])


def result_url(activity: dict[str, Any]) -> str:
    [card] = adaptive_cards(activity)
    [url] = [a["url"] for a in card["actions"] if a["type"] == "Action.OpenUrl"]
    return url


def chats(bot: Any, **shared: Any) -> tuple[Conversation, Conversation]:
    """(the shared conversation, alice's one-to-one chat with the bot)."""
    cloud = bot.cloud
    group_id = cloud.activity("x", **shared)["conversation"]["id"]
    return Conversation(bot, group_id, **shared), Conversation(bot, cloud.connector.personal_conversation("alice"))


def opened(cloud: Any) -> list[dict[str, Any]]:
    return [r for r in cloud.connector.requests if r["method"] == "POST" and r["path"] == "/v3/conversations"]


@pytest.fixture
def alice_signed_in(cloud, sim):
    cloud.token_service.give_token("alice")


@pytest.mark.parametrize("known", [False, True], ids=["opened", "reference-kept"])
async def test_get_link_with_a_reference_runs_privately(cloud, sim, alice_signed_in, known):
    meeting = sim.add_meeting(cloud.user("alice").aad_object_id, "Mortgage review", SOON)
    async with running_bot(cloud, sim) as bot:
        group, private = chats(bot, **GROUP)
        if known:  # alice has chatted with the bot before: it keeps a reference to that chat
            await private.say("help")
            await private.reply()
        await group.say(f"get link {meeting.join_web_url}")
        assert (await group.reply())["text"] == strings.PRIVATE_FLOW_STARTED
        assert (await private.reply())["text"] == strings.PRIVATE_FLOW_INTRO
        form = await private.reply()
        assert strings.ASK_CLIENT_DETAILS in card_text(form)

        await private.press({"action": actions.CLIENT_DETAILS, **CLIENT})
        result = await private.reply()
        assert result_url(result) == meeting.virtual_appointment_url
        assert "Alex Morgan" in card_text(result) and "Mortgage review" in card_text(result)
        await private.press(button(result, actions.TEXT_LINK))
        confirm = await private.reply()
        await private.press(button(confirm, actions.CONFIRM_TEXT))
        assert (await private.reply())["text"] == strings.text_sent("+1 206-555-0100")
        assert [s["meeting_id"] for s in sim.sms_sent] == [meeting.id]
        await private.press(button(result, actions.EMAIL_LINK))  # and the email: asked and answered privately too
        confirm = await private.reply()
        await private.press(button(confirm, actions.CONFIRM_EMAIL))  # no replyToId: a new card says it was sent
        assert strings.email_sent("a•••@example.com") in json.dumps(await private.reply(), ensure_ascii=False)
        assert (await private.reply())["text"] == strings.email_sent("a•••@example.com")
        assert [m.to for m in sim.mail_sent] == [(CLIENT["clientEmail"],)]
        await group.quiet()

    if known:
        assert opened(cloud) == []  # the kept reference was used; no new conversation asked for
    else:
        assert cloud.connector.created_conversations == [
            {
                "id": private.id,
                "members": [cloud.user("alice").teams_id],
                "isGroup": False,
                "tenantId": cloud.tenant_id,
                "bot": {"id": f"28:{cloud.app_id}", "name": "Bot"},
            }
        ]
    assert [a.get("text") for a in group.sent] == [strings.PRIVATE_FLOW_STARTED]  # one sentence, nothing else
    secrets = [meeting.virtual_appointment_url, meeting.join_web_url, "Mortgage review", CLIENT["clientName"],
               CLIENT["clientEmail"]]
    assert_nothing_private(group.sent, secrets=secrets, cloud=cloud)


@pytest.mark.parametrize("allow_list", [False, True], ids=["any-tenant", "AllowedTenantIds"])
async def test_plain_get_link_offers_the_calendar_privately(cloud, sim, alice_signed_in, allow_list):
    """With `AllowedTenantIds` too (issue 28, hole 6: its middleware read the private turn before the user's time
    zone was carried into it, so the choices showed UTC)."""
    event = sim.add_event(cloud.user("alice").aad_object_id, "Pension check-in", SOON, attendees=("Jordan Lee",))
    env = {"AllowedTenantIds": cloud.tenant_id} if allow_list else {}
    async with running_bot(cloud, sim, **env) as bot:
        group, private = chats(bot, **GROUP)
        group.options["timezone"] = "America/New_York"
        await group.say("get link")
        assert (await group.reply())["text"] == strings.PRIVATE_FLOW_STARTED
        await private.reply()  # the intro
        choice = await private.reply()
        assert "Pension check-in" in card_text(choice) and "Jordan Lee" in card_text(choice)
        local = SOON.astimezone(ZoneInfo("America/New_York")).strftime("%H:%M")
        assert local in card_text(choice) and " UTC" not in card_text(choice)  # the user's zone, carried along
        await private.press({"action": actions.CHOOSE_MEETING, "meetingRef": event.meeting.join_web_url})
        await private.reply()  # the client form
        await private.press({"action": actions.SKIP})
        assert result_url(await private.reply()) == event.meeting.virtual_appointment_url
        await group.quiet()
    secrets = [event.meeting.virtual_appointment_url, event.meeting.join_web_url, "Pension check-in", "Jordan Lee"]
    assert_nothing_private(group.sent, secrets=secrets, cloud=cloud)
    assert len(group.sent) == 1


async def test_not_signed_in_signs_in_privately_and_the_flow_goes_on_there(cloud, sim):
    async with running_bot(cloud, sim) as bot:
        group, private = chats(bot, **GROUP)
        await group.say("get link")
        assert (await group.reply())["text"] == strings.PRIVATE_FLOW_STARTED
        await private.reply()  # the intro
        prompt = await private.reply()
        assert [a["contentType"] for a in prompt["attachments"]] == [OAUTH]

        exchange = {"id": "exchange-1", "connectionName": "GraphConnection", "token": cloud.entra.sso_token("alice")}
        status, _ = await bot.post(cloud.invoke("signin/tokenExchange", exchange, user="alice"))  # in the 1:1 chat
        assert status == 200
        assert strings.ASK_MEETING_NO_UPCOMING in card_text(await private.reply())  # signed in: the flow goes on
        await group.quiet()
    assert cloud.token_service.has_token("alice")
    assert_nothing_private(group.sent, secrets=[], cloud=cloud)
    assert len(group.sent) == 1


async def test_in_a_meeting_chat_that_meeting_is_the_default_privately(cloud, sim, alice_signed_in):
    meeting = sim.add_meeting(cloud.user("alice").aad_object_id, "Quarterly review", SOON)
    cloud.add_meeting("m1", organizer="alice", title="Quarterly review", graph_id=meeting.id)
    async with running_bot(cloud, sim) as bot:
        meeting_chat, private = chats(bot, meeting_id="m1", mention=True)
        await meeting_chat.say("get link")
        assert (await meeting_chat.reply())["text"] == strings.PRIVATE_FLOW_STARTED
        await private.reply()  # the intro
        form = await private.reply()
        assert strings.client_details_for("Quarterly review") in card_text(form)  # no meeting question: this one
        await private.press({"action": actions.SKIP})
        assert result_url(await private.reply()) == meeting.virtual_appointment_url
        await meeting_chat.quiet()
    teams_id = cloud.meeting_ids("m1")[1]
    assert not any(teams_id in r.path for r in sim.requests)  # the Teams meeting id never reaches Graph
    secrets = [meeting.virtual_appointment_url, meeting.join_web_url, "Quarterly review"]
    assert_nothing_private(meeting_chat.sent, secrets=secrets, cloud=cloud)
    assert len(meeting_chat.sent) == 1


async def test_get_link_this_meeting_said_in_a_meeting_chat_means_that_meeting_privately(cloud, sim, alice_signed_in):
    """Typed out ("get link this meeting"), it is the same as the default: the one-to-one chat is not in a meeting,
    so the meeting chat's own meeting must travel with the request (not the words, which mean nothing there)."""
    meeting = sim.add_meeting(cloud.user("alice").aad_object_id, "Quarterly review", SOON)
    cloud.add_meeting("m1", organizer="alice", title="Quarterly review", graph_id=meeting.id)
    async with running_bot(cloud, sim) as bot:
        meeting_chat, private = chats(bot, meeting_id="m1", mention=True)
        await meeting_chat.say("get link this meeting")
        assert (await meeting_chat.reply())["text"] == strings.PRIVATE_FLOW_STARTED
        await private.reply()  # the intro
        form = await private.reply()
        assert strings.client_details_for("Quarterly review") in card_text(form), card_text(form)[:200]
        await private.press({"action": actions.SKIP})
        assert result_url(await private.reply()) == meeting.virtual_appointment_url
        await meeting_chat.quiet()
    secrets = [meeting.virtual_appointment_url, "Quarterly review"]
    assert_nothing_private(meeting_chat.sent, secrets=secrets, cloud=cloud)


@pytest.mark.parametrize("status", [403, 404])
async def test_when_the_private_chat_cannot_be_opened_the_group_gets_one_helpful_sentence(
    cloud, sim, alice_signed_in, status
):
    meeting = sim.add_meeting(cloud.user("alice").aad_object_id, "Mortgage review", SOON)
    cloud.connector.refuse_personal_chat(status, user="alice")
    async with running_bot(cloud, sim) as bot:
        group, private = chats(bot, **GROUP)
        await group.say(f"get link {meeting.id}")
        assert (await group.reply())["text"] == strings.PRIVATE_FLOW_UNAVAILABLE
        await group.quiet()
        await private.quiet()
    assert [r["status"] for r in opened(cloud)] == [status]
    assert len(cloud.connector.activities) == 1  # the sentence, and nothing anywhere else
    assert sim.requests == []  # nothing private was even fetched
    assert_nothing_private(group.sent, secrets=[meeting.virtual_appointment_url, "Mortgage review"], cloud=cloud)


@pytest.mark.parametrize(
    ("said", "sentence"),
    [("remind me", "PRIVATE_REMINDERS_UNAVAILABLE"), ("stop reminders", "PRIVATE_STOP_REMINDERS_UNAVAILABLE")],
)
async def test_a_refused_private_chat_names_the_command_that_was_typed(cloud, sim, alice_signed_in, said, sentence):
    """`remind me` refused a private chat is not told to type `get link` there."""
    cloud.connector.refuse_personal_chat(403, user="alice")
    async with running_bot(cloud, sim) as bot:
        group, private = chats(bot, **GROUP)
        await group.say(said)
        answer = (await group.reply())["text"]
        assert answer == getattr(strings, sentence) and f"**{said}**" in answer
        await group.quiet()
        await private.quiet()
    assert len(cloud.connector.activities) == 1


async def test_local_mode_runs_the_private_flow_too(cloud):
    """Local mode (no app id, no inbound or outbound authentication) opens the one-to-one chat the same way."""
    cloud.connector.require_auth = False  # local mode sends no token, as the Agents Playground expects
    server = TestServer(create_app(Settings.from_mapping({})), host="127.0.0.1", port=0)
    await server.start_server()
    try:
        async with aiohttp.ClientSession() as session:
            group = cloud.activity("get link", **GROUP)
            status, _ = await cloud.apost(session, str(server.make_url("/")), group, auth=None)
            assert status == 201
            personal = cloud.connector.personal_conversation("alice")
            await wait_for(lambda: len(cloud.connector.activities_in(personal)) >= 2, "the private flow")
    finally:
        await server.close()
    assert [a.get("text") for a in cloud.connector.activities_in(group["conversation"]["id"])] == [
        strings.PRIVATE_FLOW_STARTED
    ]
    intro, question = cloud.connector.activities_in(personal)[:2]
    assert intro["text"] == strings.PRIVATE_FLOW_INTRO and adaptive_cards(question)  # signed in at once: which meeting
    assert [c["isGroup"] for c in cloud.connector.created_conversations] == [False]


async def test_when_teams_fails_to_deliver_privately_the_group_hears_try_later(cloud, sim, alice_signed_in):
    meeting = sim.add_meeting(cloud.user("alice").aad_object_id, "Mortgage review", SOON)
    personal = cloud.connector.personal_conversation("alice")
    cloud.connector.fail_next(503, times=10, retry_after=0, path_contains=personal)  # outlasts the 3 attempts
    async with running_bot(cloud, sim) as bot:
        group, private = chats(bot, **GROUP)
        await group.say(f"get link {meeting.id}")
        assert (await group.reply())["text"] == strings.ERR_TRY_LATER  # not "install me": nothing was refused
        await group.quiet()
    assert private.sent == [] and sim.requests == []
    assert len(cloud.connector.activities) == 1


async def test_a_kept_reference_that_no_longer_works_is_dropped_and_the_chat_opened_again(cloud, sim, alice_signed_in):
    meeting = sim.add_meeting(cloud.user("alice").aad_object_id, "Mortgage review", SOON)
    async with running_bot(cloud, sim) as bot:
        group, private = chats(bot, **GROUP)
        await private.say("help")  # the reference is kept
        await private.reply()
        cloud.connector.fail_next(403, path_contains=private.id)  # e.g. the app was removed and added again since
        await group.say(f"get link {meeting.id}")
        assert (await group.reply())["text"] == strings.PRIVATE_FLOW_STARTED
        assert (await private.reply())["text"] == strings.PRIVATE_FLOW_INTRO
        assert strings.ASK_CLIENT_DETAILS in card_text(await private.reply())
        await group.quiet()
    assert [r["status"] for r in opened(cloud)] == [201]  # asked Teams once, after the kept one failed


async def test_text_the_link_tapped_on_an_old_card_in_a_group_is_confirmed_privately(cloud, sim, alice_signed_in):
    meeting = sim.add_meeting(cloud.user("alice").aad_object_id, "Mortgage review", SOON)
    data = {"action": actions.TEXT_LINK, "meetingId": meeting.id, "phone": "+12065550100"}
    async with running_bot(cloud, sim) as bot:
        group, private = chats(bot, **GROUP)
        await group.press(data)  # a result card posted in the group by an older version
        assert (await group.reply())["text"] == strings.PRIVATE_FLOW_STARTED
        assert (await private.reply())["text"] == strings.PRIVATE_TEXT_INTRO  # not "a client link"
        confirm = await private.reply()
        assert "+1 206-555-0100" in card_text(confirm)
        assert sim.sms_sent == []  # asked, never sent unasked
        await private.press(button(confirm, actions.CONFIRM_TEXT))
        assert (await private.reply())["text"] == strings.text_sent("+1 206-555-0100")
        await group.quiet()
    assert [s["meeting_id"] for s in sim.sms_sent] == [meeting.id]
    assert_nothing_private(group.sent, secrets=[meeting.virtual_appointment_url, "Mortgage review"], cloud=cloud)


async def test_email_the_link_tapped_on_a_card_in_a_group_is_confirmed_privately(cloud, sim, alice_signed_in):
    meeting = sim.add_meeting(cloud.user("alice").aad_object_id, "Mortgage review", SOON)
    data = {
        "action": actions.CONFIRM_EMAIL,  # even a Send: in a shared chat it is only asked again, privately
        "link": meeting.virtual_appointment_url,
        "email": CLIENT["clientEmail"],
        "language": "fr",
        "card": "0123456789abcdef",
        "subject": "Mortgage review",
    }
    async with running_bot(cloud, sim) as bot:
        group, private = chats(bot, **GROUP)
        await group.press(data)
        assert (await group.reply())["text"] == strings.PRIVATE_FLOW_STARTED
        assert (await private.reply())["text"] == strings.PRIVATE_EMAIL_INTRO
        confirm = await private.reply()
        assert CLIENT["clientEmail"] in card_text(confirm)
        assert sim.mail_sent == []  # asked, never sent unasked
        await private.press(button(confirm, actions.CONFIRM_EMAIL))
        assert strings.email_sent("a•••@example.com") in json.dumps(await private.reply(), ensure_ascii=False)
        assert (await private.reply())["text"] == strings.email_sent("a•••@example.com")
        await group.quiet()
    [mail] = sim.mail_sent
    assert mail.to == (CLIENT["clientEmail"],) and '<html lang="fr' in mail.content
    secrets = [meeting.virtual_appointment_url, "Mortgage review", CLIENT["clientEmail"], "a•••@example.com"]
    assert_nothing_private(group.sent, secrets=secrets, cloud=cloud)


async def test_a_group_conversation_without_a_conversation_type_is_still_shared(cloud, sim, alice_signed_in):
    """Privacy fails closed: a conversation that says it is a group (`isGroup`) but not its type is not taken for
    the user's one-to-one chat."""
    meeting = sim.add_meeting(cloud.user("alice").aad_object_id, "Mortgage review", SOON)
    async with running_bot(cloud, sim) as bot:
        group, private = chats(bot, **GROUP)
        activity = cloud.activity(f"get link {meeting.id}", **GROUP)
        del activity["conversation"]["conversationType"]
        status, _ = await bot.post(activity)
        assert status == 201
        assert (await group.reply())["text"] == strings.PRIVATE_FLOW_STARTED
        await private.reply()  # the intro
        assert strings.ASK_CLIENT_DETAILS in card_text(await private.reply())
        await group.quiet()
    assert_nothing_private(group.sent, secrets=[meeting.virtual_appointment_url, "Mortgage review"], cloud=cloud)


async def test_cancel_in_the_shared_chat_points_to_the_private_chat_where_the_flow_waits(cloud, sim, alice_signed_in):
    """The flow runs in the one-to-one chat, so `cancel` in the group does not say "nothing to cancel" (the form
    still waits privately): it says where to cancel, and the private flow is untouched."""
    meeting = sim.add_meeting(cloud.user("alice").aad_object_id, "Mortgage review", SOON)
    async with running_bot(cloud, sim) as bot:
        group, private = chats(bot, **GROUP)
        await group.say(f"get link {meeting.id}")
        await group.reply()
        await private.reply()  # the intro
        assert strings.ASK_CLIENT_DETAILS in card_text(await private.reply())
        await group.say("cancel")
        sentence = (await group.reply())["text"]
        assert sentence == strings.NOTHING_TO_CANCEL_SHARED and "**cancel**" in sentence
        await private.press({"action": actions.SKIP})  # the form in the one-to-one chat still works
        assert result_url(await private.reply()) == meeting.virtual_appointment_url
        await group.quiet()
    assert_nothing_private(group.sent, secrets=[meeting.virtual_appointment_url, "Mortgage review"], cloud=cloud)


async def test_a_team_channel_is_a_shared_chat_too(cloud, sim, alice_signed_in):
    meeting = sim.add_meeting(cloud.user("alice").aad_object_id, "Mortgage review", SOON)
    async with running_bot(cloud, sim) as bot:
        channel, private = chats(bot, conversation_type="channel", mention=True)
        await channel.say(f"get link {meeting.id}")
        assert (await channel.reply())["text"] == strings.PRIVATE_FLOW_STARTED
        await private.reply()  # the intro
        assert strings.ASK_CLIENT_DETAILS in card_text(await private.reply())
        await private.press({"action": actions.SKIP})
        assert result_url(await private.reply()) == meeting.virtual_appointment_url
        await channel.quiet()
    assert len(channel.sent) == 1
    assert_nothing_private(channel.sent, secrets=[meeting.virtual_appointment_url, "Mortgage review"], cloud=cloud)


async def test_a_reminder_button_tapped_in_a_group_is_confirmed_privately(cloud, sim, alice_signed_in):
    meeting = sim.add_meeting(cloud.user("alice").aad_object_id, "Mortgage review", SOON)
    data = {"action": actions.TEXT_REMINDER, "meetingId": meeting.id, "phone": "+12065550100",
            "start": SOON.isoformat()}
    async with running_bot(cloud, sim) as bot:
        group, private = chats(bot, **GROUP)
        await group.press(data)
        assert (await group.reply())["text"] == strings.PRIVATE_FLOW_STARTED
        assert (await private.reply())["text"] == strings.PRIVATE_TEXT_INTRO
        confirm = await private.reply()
        assert strings.reminder_question("+1 206-555-0100") in card_text(confirm)
        await private.press(button(confirm, actions.CONFIRM_REMINDER))
        assert (await private.reply())["text"] == strings.reminder_set("+1 206-555-0100")
        await group.quiet()
    assert [(s["meeting_id"], s["action"]) for s in sim.sms_sent] == [(meeting.id, "sendVirtualAppointmentReminderSms")]
    assert_nothing_private(group.sent, secrets=[meeting.virtual_appointment_url, "Mortgage review"], cloud=cloud)
