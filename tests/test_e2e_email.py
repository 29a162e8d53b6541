"""End to end: "Email the link" (issue 27), in chat and in the messaging extension.

Real app with authentication on, the loopback cloud and the Graph simulator, whose `sendMail` keeps what it accepted:
each test reads the email back as the client would get it (recipient, language, the exact link, the .ics parsed with
icalendar) and counts how many were sent.
"""

from __future__ import annotations

import asyncio
import html
import json
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from typing import Any

import pytest
from icalendar import Calendar

from dialogs.cards import actions, strings
from dialogs.cards.language import Catalogs, speaking
from dialogs.cards.mail import invitation_uid
from graph.simulator import SentMail
from tests.e2e_support import adaptive_cards, card_text, running_bot
from tests.test_e2e_conversation import Chat, aad, button_data, result_url
from tests.test_e2e_messaging_extension import COMMAND, form_of, press, task_result_of, texts
from tests.test_e2e_messaging_extension import button_data as task_button_data

pytestmark = pytest.mark.e2e

START = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(days=2)
CLIENT = "ana.garcia@example.com"
MASKED = "a•••@example.com"
CONSENT_403 = {"error": {"code": "ErrorAccessDenied", "message": "Access is denied. Check credentials and try again."}}
CONFIRMATION_ID = "1:confirmation"
NO_MAILBOX = "The mailbox is either inactive, soft-deleted, or is hosted on-premise."


class Links(HTMLParser):
    """The href of every <a> and all the text of an HTML body, as a mail program reads them."""

    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self.hrefs.extend(value or "" for name, value in attrs if name == "href")

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def read_html(body: str) -> Links:
    parser = Links()
    parser.feed(body)
    return parser


def in_language(tag: str, read: Any) -> Any:
    """`read()` in the language of `tag`, from the compiled catalogs (what the client's email must say)."""
    with speaking(Catalogs.load().language(tag)):
        return read()


@pytest.fixture
def signed_in(cloud, sim):
    for user in ("alice", "bob"):
        cloud.token_service.give_token(user)


def meeting_for(cloud: Any, sim: Any, subject: str = "Consulta <inicial>") -> Any:
    return sim.add_meeting(aad(cloud, "alice"), subject, START, START + timedelta(minutes=45))


async def result_with_client(chat: Chat, meeting: Any, **details: str) -> dict[str, Any]:
    await chat.say(f"get link {meeting.id}")
    await chat.reply()
    await chat.submit(actions.CLIENT_DETAILS, **details)
    return await chat.reply()


async def confirm_and_send(chat: Chat, result: dict[str, Any]) -> dict[str, Any]:
    """Tap "Email the link", then Send on the confirmation (as a reply to it, as Teams sends it); the sentence."""
    await chat.press(button_data(result, actions.EMAIL_LINK))
    confirm = await chat.reply()
    await chat.press_on(confirm, button_data(confirm, actions.CONFIRM_EMAIL))
    return await chat.reply()


class ReplyChat(Chat):
    async def press_on(self, card_activity: dict[str, Any], data: dict[str, Any]) -> None:
        """Tap a button of the card that `card_activity` posted: Teams sends the card's id as replyToId (the
        loopback connector does not echo ids into what it records, so a fixed one stands for it)."""
        activity = self.bot.cloud.activity(
            None, user=self.user, value=data, reply_to_id=card_activity.get("id") or CONFIRMATION_ID, **self.options
        )
        status, _ = await self.bot.post(activity)
        assert status == 201


def shown(activity: dict[str, Any]) -> str:
    """What an activity shows (its text and cards), non-ASCII as it is."""
    return (activity.get("text") or "") + json.dumps(activity.get("attachments") or [], ensure_ascii=False)


def the_mail(sim: Any) -> SentMail:
    [mail] = sim.mail_sent
    return mail


def ics_of(mail: SentMail) -> Calendar:
    [(name, kind, content)] = mail.attachments
    assert (name, kind) == ("appointment.ics", "text/calendar")
    return Calendar.from_ical(content)


# --- the email ----------------------------------------------------------------------------------------------------


async def test_the_email_goes_to_the_client_in_their_language_with_the_exact_link_and_an_ics(cloud, sim, signed_in):
    meeting = meeting_for(cloud, sim)
    async with running_bot(cloud, sim) as bot:
        chat = ReplyChat(bot, locale="en-US", timezone="Europe/Madrid")
        result = await result_with_client(
            chat, meeting, clientName="Ana <García> & co", clientEmail=CLIENT, clientLanguage="es"
        )
        link = result_url(result)
        assert link == meeting.virtual_appointment_url
        assert strings.BUTTON_EMAIL_LINK in card_text(result)
        await chat.press(button_data(result, actions.EMAIL_LINK))
        confirm = await chat.reply()
        assert strings.email_question(CLIENT, "Español") in shown(confirm)  # in the user's language, English
        assert sim.mail_sent == []  # nothing goes before Send
        await chat.press_on(confirm, button_data(confirm, actions.CONFIRM_EMAIL))
        done = await chat.reply()
        assert done["text"] == strings.email_sent(MASKED)
        assert CLIENT not in json.dumps(done)  # the chat shows the address masked
        [update] = [r for r in cloud.connector.requests if r["method"] == "PUT"]  # the confirmation, now spent
        assert update["path"].endswith(f"/activities/{CONFIRMATION_ID}")
        assert strings.email_sent(MASKED) in json.dumps(update["json"]["attachments"], ensure_ascii=False)
        assert actions.CONFIRM_EMAIL not in json.dumps(update["json"])

    mail = the_mail(sim)
    assert mail.to == (CLIENT,) and mail.saved and mail.content_type == "HTML"
    assert mail.sender.endswith("@contoso.example")  # from the user's own mailbox
    body = read_html(mail.content)
    assert body.hrefs == [link]  # the join button: the exact link, unaltered
    assert link in "".join(body.text)  # and as text
    assert '<html lang="es' in mail.content
    assert "Ana &lt;García&gt; &amp; co" in mail.content and "<García>" not in mail.content
    assert "Consulta &lt;inicial&gt;" in mail.content
    spanish = in_language("es", lambda: (strings.mail_greeting("Ana <García> & co"), strings.MAIL_EXPECT_BROWSER))
    assert all(sentence in "".join(body.text) for sentence in spanish)
    assert mail.subject.startswith(in_language("es", lambda: strings.mail_subject("")))
    assert "Europa central" in mail.subject  # the meeting's time with its zone named, in Spanish

    [event] = ics_of(mail).walk("VEVENT")
    calendar = ics_of(mail)
    assert str(calendar["METHOD"]) == "PUBLISH"
    assert str(event["URL"]) == link
    assert event.decoded("DTSTART") == START and event.decoded("DTEND") == START + timedelta(minutes=45)
    assert str(event["UID"]) == invitation_uid(meeting.id)
    assert "ATTENDEE" not in event and "ORGANIZER" not in event


async def test_the_clients_language_defaults_to_the_users(cloud, sim, signed_in):
    meeting = meeting_for(cloud, sim, subject="Beratung")
    async with running_bot(cloud, sim) as bot:
        chat = ReplyChat(bot, locale="de-DE", timezone="Europe/Berlin")
        result = await result_with_client(chat, meeting, clientEmail=CLIENT)
        done = await confirm_and_send(chat, result)
        assert done["text"] == in_language("de-DE", lambda: strings.email_sent(MASKED))
    mail = the_mail(sim)
    assert '<html lang="de' in mail.content
    assert in_language("de-DE", lambda: strings.MAIL_EXPECT_BROWSER) in html.unescape(mail.content)


async def test_a_double_tap_or_a_redelivered_submit_sends_one_email(cloud, sim, signed_in):
    meeting = meeting_for(cloud, sim)
    async with running_bot(cloud, sim) as bot:
        chat = ReplyChat(bot, locale="en-US")
        result = await result_with_client(chat, meeting, clientEmail=CLIENT)
        await chat.press(button_data(result, actions.EMAIL_LINK))
        confirm = await chat.reply()
        send = button_data(confirm, actions.CONFIRM_EMAIL)
        await asyncio.gather(chat.press_on(confirm, send), chat.press_on(confirm, send))  # both at once
        answers = {(await chat.reply())["text"], (await chat.reply())["text"]}
        assert answers == {strings.email_sent(MASKED), strings.email_already_sent(MASKED)}
        await chat.press_on(confirm, send)  # later, again
        assert (await chat.reply())["text"] == strings.email_already_sent(MASKED)
        assert len(sim.mail_sent) == 1
        again = await result_with_client(chat, meeting, clientEmail=CLIENT)  # a new card may email again
        await confirm_and_send(chat, again)
    assert len(sim.mail_sent) == 2


async def test_without_mail_send_consent_the_sentence_names_the_permission(cloud, sim, signed_in):
    meeting = meeting_for(cloud, sim)
    sim.inject("sendMail", status=403, body=CONSENT_403)
    async with running_bot(cloud, sim) as bot:
        chat = ReplyChat(bot, locale="en-US")
        result = await result_with_client(chat, meeting, clientEmail=CLIENT)
        done = await confirm_and_send(chat, result)
        assert "Mail.Send" in done["text"]
        assert done["text"] == strings.admin_consent(strings.CONSENT_MAIL, "Mail.Send")
        assert sim.mail_sent == []
        await confirm_and_send(chat, result)  # refused, so not spent: once consented, the same card sends
    assert len(sim.mail_sent) == 1


async def test_a_mailbox_without_exchange_says_so(cloud, sim, signed_in):
    meeting = meeting_for(cloud, sim)
    sim.deny("sendMail", status=404, code="MailboxNotEnabledForRESTAPI", message=NO_MAILBOX)
    async with running_bot(cloud, sim) as bot:
        chat = ReplyChat(bot, locale="en-US")
        result = await result_with_client(chat, meeting, clientEmail=CLIENT)
        done = await confirm_and_send(chat, result)
    assert done["text"] == strings.ERR_EMAIL_NO_MAILBOX
    assert sim.mail_sent == []


async def test_throttling_is_retried_within_the_turn(cloud, sim, signed_in):
    meeting = meeting_for(cloud, sim)
    sim.inject("sendMail", status=429, retry_after="0.2", times=2)
    async with running_bot(cloud, sim) as bot:
        chat = ReplyChat(bot, locale="en-US")
        result = await result_with_client(chat, meeting, clientEmail=CLIENT)
        done = await confirm_and_send(chat, result)
    assert done["text"] == strings.email_sent(MASKED)
    assert sim.count("sendMail", "POST") == 3 and len(sim.mail_sent) == 1


async def test_a_lost_answer_is_not_sent_again(cloud, sim, signed_in):
    meeting = meeting_for(cloud, sim)
    sim.inject("sendMail", drop_after=True)  # Graph sent it; the answer is lost on the way
    async with running_bot(cloud, sim) as bot:
        chat = ReplyChat(bot, locale="en-US")
        result = await result_with_client(chat, meeting, clientEmail=CLIENT)
        done = await confirm_and_send(chat, result)
        assert done["text"] == strings.ERR_EMAIL_UNSURE
        again = await confirm_and_send(chat, result)
        assert again["text"] == strings.email_already_sent(MASKED)
    assert sim.count("sendMail", "POST") == 1 and len(sim.mail_sent) == 1


async def test_no_email_action_without_an_address(cloud, sim, signed_in):
    meeting = meeting_for(cloud, sim)
    async with running_bot(cloud, sim) as bot:
        chat = ReplyChat(bot, locale="en-US")
        result = await result_with_client(chat, meeting, clientName="Ana", clientPhone="(206) 555-0100")
        [card] = adaptive_cards(result)
        assert actions.EMAIL_LINK not in json.dumps(card) and strings.BUTTON_EMAIL_LINK not in card_text(result)
        forged = {"action": actions.CONFIRM_EMAIL, "link": result_url(result), "language": "en", "card": "c" * 32}
        await chat.press(forged)  # a submit that carries no address
        assert (await chat.reply())["text"] == strings.ERR_EXPIRED_CARD
        await chat.press({**forged, "email": "not an address"})
        assert (await chat.reply())["text"] == strings.ERR_EXPIRED_CARD
    assert sim.count("sendMail") == 0


# --- the messaging extension's private result ---------------------------------------------------------------------


def task_submit(cloud: Any, meeting_ref: str, **fields: str) -> dict[str, Any]:
    data = {"action": "submitTask", "meetingRef": meeting_ref, **fields}
    return cloud.invoke("composeExtension/submitAction", {"commandId": COMMAND, "commandContext": "compose",
                                                          "data": data})


async def test_the_messaging_extension_result_emails_the_link_once(cloud, sim, signed_in):
    meeting = meeting_for(cloud, sim, subject="面談")
    async with running_bot(cloud, sim) as bot:
        status, body = await bot.post(task_submit(cloud, meeting.id, clientEmail=CLIENT, clientLanguage="ja"))
        assert status == 200
        result = task_result_of(body)
        email = task_button_data(result, actions.EMAIL_LINK)
        assert email["language"] == "ja" and email["email"] == CLIENT
        status, body = await bot.post(press(cloud, email))
        confirm = form_of(body)
        assert strings.email_question(CLIENT, "日本語") in texts(confirm)
        send = task_button_data(confirm, actions.CONFIRM_EMAIL)
        status, body = await bot.post(press(cloud, send))
        assert status == 200 and strings.email_sent(MASKED) in texts(form_of(body))
        status, body = await bot.post(press(cloud, send))  # Teams redelivers, or the user taps again
        assert strings.email_already_sent(MASKED) in texts(form_of(body))
        assert cloud.connector.activities == []  # all of it privately, in the task module
    mail = the_mail(sim)
    assert mail.to == (CLIENT,) and '<html lang="ja' in mail.content
    assert read_html(mail.content).hrefs == [meeting.virtual_appointment_url]
    assert in_language("ja", lambda: strings.MAIL_EXPECT_BROWSER) in html.unescape(mail.content)
    assert str(next(iter(ics_of(mail).walk("VEVENT")))["URL"]) == meeting.virtual_appointment_url
