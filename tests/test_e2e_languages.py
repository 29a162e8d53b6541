"""End to end in every shipped language, and in the pseudo-locale (DESIGN.md section 11).

The real app, authentication on, the loopback cloud and the Graph simulator; the activities carry the user's Teams
locale and time zone as Teams sends them. Expected sentences are read from the catalogs the same way the bot reads
them (`strings.NAME` inside `speaking(language)`), and compared with what the user would see.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from app import BOT
from dialogs.cards import actions, strings
from dialogs.cards.language import Catalogs, Language, speaking
from dialogs.cards.timefmt import format_when
from tests.e2e_support import adaptive_cards, running_bot
from tests.test_cards import check_structure
from tests.test_e2e_conversation import Chat, aad, result_url
from tests.test_e2e_messaging_extension import fetch, form_of, press, result_of, submit

pytestmark = pytest.mark.e2e

CATALOGS = Catalogs.load()
SOON = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(hours=2)
LANGUAGES = [
    # (catalog, Teams locale, time zone, the skip word as a user types it)
    ("es", "es-ES", "Europe/Madrid", "Omitir"),
    ("fr", "fr-FR", "Europe/Paris", "passer"),
    ("de", "de-DE", "Europe/Berlin", "Überspringen"),
    ("pt_BR", "pt-BR", "America/Sao_Paulo", "pular"),
    ("ja", "ja-JP", "Asia/Tokyo", "スキップ"),
]


@pytest.fixture
def signed_in(cloud, sim):
    cloud.token_service.give_token("alice")


def said(language: Language, name: str) -> Any:
    """`strings.<name>` in `language`, as the bot reads it."""
    with speaking(language):
        return getattr(strings, name)


def word(language: Language, name: str) -> str:
    with speaking(language):
        return strings.command(name)


def _card_texts(node: Any) -> Iterator[str]:
    """Every text a card shows: text blocks, fact titles and values, input labels, placeholders and values,
    choice titles and button titles."""
    if isinstance(node, dict):
        kind = node.get("type", "")
        for key in ("text", "title", "label", "placeholder", "value"):
            value = node.get(key)
            if isinstance(value, str) and (key != "value" or kind.startswith("Input.") or kind == ""):
                yield value
        for key, child in node.items():
            if key not in ("data", "url", "selectAction"):
                yield from _card_texts(child)
    elif isinstance(node, list):
        for item in node:
            yield from _card_texts(item)


def visible(activity: dict[str, Any]) -> list[str]:
    """What the user reads of an activity: its text and every text of its cards."""
    shown = [activity["text"]] if activity.get("text") else []
    for card in adaptive_cards(activity):
        shown += list(_card_texts(card))
    for attachment in activity.get("attachments") or []:
        if attachment.get("contentType") == "application/vnd.microsoft.card.oauth":  # the sign-in card
            shown += [attachment["content"]["text"], *(b["title"] for b in attachment["content"]["buttons"])]
    return shown


def shown(activity: dict[str, Any]) -> str:
    return "\n".join(visible(activity))


# --- every shipped language -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("catalog", "tag", "zone", "skip"), LANGUAGES, ids=[c for c, *_ in LANGUAGES])
async def test_the_conversation_in_each_language(cloud, sim, signed_in, catalog, tag, zone, skip):
    language = CATALOGS.language(tag)
    assert language.catalog == catalog
    event = sim.add_event(aad(cloud, "alice"), "Consulta 42", SOON, attendees=("Jordan Lee",))
    async with running_bot(cloud, sim) as bot:
        chat = Chat(bot, locale=tag, timezone=zone)

        await chat.say(word(language, "CMD_HELP").upper())
        help_card = shown(await chat.reply())
        assert said(language, "HELP_TITLE") in help_card and said(language, "HELP_ENGLISH_TOO") in help_card
        for command in ("CMD_GET_LINK", "CMD_HELP", "CMD_SIGN_OUT", "CMD_CANCEL", "CMD_SKIP"):
            assert word(language, command) in help_card
        await chat.say("help")  # English works too, and answers in the user's language
        assert shown(await chat.reply()) == help_card

        await chat.say(word(language, "CMD_GET_LINK"))
        choice = await chat.reply()
        with speaking(language):
            when = format_when(event.start, event.end, tz_name=zone, now=datetime.now(UTC))
        for text in (said(language, "ASK_MEETING"), said(language, "BUTTON_NEW_MEETING"), when):
            assert text in shown(choice), text
        assert "Consulta 42" in shown(choice)

        await chat.submit(actions.CHOOSE_MEETING, meetingRef=event.meeting.join_web_url)
        form = shown(await chat.reply())
        labels = ("ASK_CLIENT_DETAILS", "LABEL_NAME", "LABEL_EMAIL", "LABEL_PHONE", "BUTTON_CONTINUE", "BUTTON_SKIP")
        for name in labels:
            assert said(language, name) in form, name
        await chat.submit(actions.CLIENT_DETAILS, clientName="Ana", clientEmail="ana@@example", clientPhone="")
        assert said(language, "INVALID_EMAIL") in shown(await chat.reply())

        await chat.say(skip)
        result = await chat.reply()
        assert result_url(result) == event.meeting.virtual_appointment_url
        for text in (said(language, "RESULT_TITLE"), said(language, "FACT_WHEN"), when, said(language, "RESULT_HINT")):
            assert text in shown(result), text
        languages = {request.headers.get("Accept-Language") for request in sim.requests}
        assert languages == {tag}  # Graph is asked in the user's language on every call

        await chat.say(f"{word(language, 'CMD_GET_LINK')} https://zoom.us/j/123456789")
        assert said(language, "REF_NOT_TEAMS_LINK") in shown(await chat.reply())
        await chat.say(word(language, "CMD_CANCEL"))
        assert (await chat.reply())["text"] == said(language, "CANCELLED")
        await chat.say(word(language, "CMD_CANCEL"))
        assert (await chat.reply())["text"] == said(language, "NOTHING_TO_CANCEL")
        await chat.say("¿qué?")
        assert (await chat.reply())["text"] == said(language, "UNKNOWN_COMMAND")


@pytest.mark.parametrize(
    ("status", "name"),
    [(404, "ERR_MEETING_NOT_FOUND"), (403, "ERR_NOT_ORGANIZER"), (400, "ERR_BAD_REQUEST"), (429, "ERR_THROTTLED")],
)
@pytest.mark.parametrize(("catalog", "tag", "zone", "skip"), LANGUAGES[::2], ids=[c for c, *_ in LANGUAGES[::2]])
async def test_graph_errors_are_said_in_the_language(cloud, sim, signed_in, catalog, tag, zone, skip, status, name):
    language = CATALOGS.language(tag)
    meeting = sim.add_meeting(aad(cloud, "alice"), "Revue", SOON, SOON + timedelta(minutes=30))
    async with running_bot(cloud, sim) as bot:
        chat = Chat(bot, locale=tag, timezone=zone)
        await chat.say(f"{word(language, 'CMD_GET_LINK')} {meeting.id}")
        await chat.reply()
        sim.inject("getVirtualAppointmentJoinWebUrl", status=status, retry_after="0", times=10)
        await chat.say(skip)
        error = await chat.reply()
        assert said(language, name) in shown(error)
        if name == "ERR_THROTTLED":
            assert said(language, "BUTTON_TRY_AGAIN") in shown(error)
            sim.clear_faults()
            await chat.say(word(language, "CMD_RETRY"))  # typed in the user's language
            assert result_url(await chat.reply()) == meeting.virtual_appointment_url


async def test_the_turn_error_handler_speaks_the_language(cloud, sim, signed_in):
    """The error handler runs outside the dialogs (bot/errors.py), still in the user's language: unreadable stored
    state is reset with one sentence in Japanese."""
    language = CATALOGS.language("ja-JP")
    meeting = sim.add_meeting(aad(cloud, "alice"), "Revue", SOON, SOON + timedelta(minutes=30))
    async with running_bot(cloud, sim) as bot:
        chat = Chat(bot, locale="ja-JP", timezone="Asia/Tokyo")
        await chat.say(f"リンクを取得 {meeting.join_web_url}")
        assert said(language, "ASK_CLIENT_DETAILS") in shown(await chat.reply())
        memory = bot.app[BOT].states.storage.memory
        for key, (_, etag) in list(memory.items()):
            memory[key] = (b"\x00 not a state document", etag)
        await chat.say("スキップ")
        assert (await chat.reply())["text"] == said(language, "STATE_RESET")


@pytest.mark.parametrize(("catalog", "tag", "zone", "skip"), LANGUAGES, ids=[c for c, *_ in LANGUAGES])
async def test_the_messaging_extension_in_each_language(cloud, sim, signed_in, catalog, tag, zone, skip):
    language = CATALOGS.language(tag)
    meeting = sim.add_meeting(aad(cloud, "alice"), "Revue", SOON, SOON + timedelta(minutes=30))
    cloud.add_meeting("consult", organizer="alice", title="Revue", graph_id=meeting.id)
    async with running_bot(cloud, sim) as bot:
        status, body = await bot.post(fetch(cloud, meeting_id="consult", locale=tag, timezone=zone))
        assert status == 200
        assert body["task"]["value"]["title"] == said(language, "TASK_TITLE")
        form = form_of(body)
        [prefilled] = [e["value"] for e in _inputs(form) if e["id"] == actions.INPUT_MEETING_REF]
        assert prefilled == said(language, "THIS_MEETING")
        assert said(language, "TASK_INTRO") in list(_card_texts(form))
        # The prefilled words, in the user's language, are understood as "this meeting".
        status, body = await bot.post(submit(cloud, prefilled, meeting_id="consult", locale=tag, timezone=zone))
        result = form_of(body)  # the result, privately in the task module
        assert said(language, "RESULT_TITLE") in list(_card_texts(result))
        [insert] = [e["data"] for e in _actions(result) if e["data"].get("action") == actions.INSERT_LINK]
        status, body = await bot.post(press(cloud, insert, meeting_id="consult", locale=tag, timezone=zone))
        compose = list(_card_texts(result_of(body)))  # the card put into the compose box
        assert said(language, "COMPOSE_TITLE") in compose and said(language, "BUTTON_JOIN") in compose
        status, body = await bot.post(submit(cloud, "tomorrow at ten", clientEmail="x@@y", locale=tag))
        texts = list(_card_texts(form_of(body)))
        assert said(language, "REF_UNRECOGNISED") in texts and said(language, "INVALID_EMAIL") in texts


def _inputs(card: dict[str, Any]) -> list[dict[str, Any]]:
    return _of_kind(card, "Input.")


def _actions(card: dict[str, Any]) -> list[dict[str, Any]]:
    return _of_kind(card, "Action.Submit")


def _of_kind(card: dict[str, Any], prefix: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if str(node.get("type", "")).startswith(prefix):
                found.append(node)
            for child in node.values():
                walk(child)
        elif isinstance(node, list):
            for child in node:
                walk(child)

    walk(card)
    return found


# --- the pseudo-locale: everything the user sees went through the catalogs ------------------------------------------

ASCII_WORD = re.compile(r"[A-Za-z]{2,}")
LINKS = re.compile(r"https?://\S+|[\w.+-]+@[\w.-]+")  # links and addresses are data (or examples of it)
# Formatted by Babel (dates, times, lists in the pseudo-locale's en-US formats) or typed data, not our sentences.
LOCALE_DATA = {"AM", "PM", "UTC", "and", "minutes", "hour", "hours", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"}
LOCALE_DATA |= {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}
# The client form's language choice: each shipped language named in itself by CLDR, its catalog name as the value.
LOCALE_DATA |= {"en", "English", "es", "Espa", "ol", "fr", "Fran", "ais", "de", "Deutsch", "pt", "BR", "Portugu",
                "Brasil", "ja"}


def leftover_english(texts: list[str], data: list[str]) -> list[str]:
    """Runs of plain ASCII letters left after removing user data: English that never went through a catalog."""
    found = []
    for text in texts:
        text = LINKS.sub(" ", text)
        for value in sorted(data, key=len, reverse=True):
            text = text.replace(value, " ")
        found += [w for w in ASCII_WORD.findall(text) if w not in LOCALE_DATA]
    return found


async def test_the_whole_conversation_in_the_pseudo_locale(cloud, sim, signed_in):
    """Accented, 40% longer English: no bare English appears anywhere, and every card keeps its structure."""
    event = sim.add_event(aad(cloud, "alice"), "Mortgage review", SOON, attendees=("Jordan Lee", "Sam Patel"))
    pseudo = CATALOGS.language("qps-ploc")
    clinic = sim.add_business("Clinic")
    staff = sim.add_staff(clinic, "Alice", "alice@contoso.example", user_id=aad(cloud, "alice"))
    sim.add_appointment(clinic, sim.add_service(clinic, "Video visit"), SOON + timedelta(hours=1), staff=[staff],
                        customer={"name": "Sam Lee"})
    # What the test typed or put in Graph: data, not sentences.
    data = ["Mortgage review", "Jordan Lee", "Sam Patel", "Alex Morgan", "alex@@example", "Clinic", "Video visit",
            "Sam Lee"]
    async with running_bot(cloud, sim) as bot:
        chat = Chat(bot, locale="qps-ploc", timezone="America/New_York")
        seen: list[dict[str, Any]] = []

        async def step() -> dict[str, Any]:
            activity = await chat.reply()
            seen.append(activity)
            return activity

        status, _ = await bot.post(
            cloud.activity(None, type="installationUpdate", locale="qps-ploc", extra={"action": "add"})
        )
        assert status in (200, 201)
        await step()  # the welcome card
        await chat.say(word(pseudo, "CMD_HELP"))
        await step()
        await chat.say("nonsense")
        await step()
        await chat.say(word(pseudo, "CMD_GET_LINK") + " https://zoom.us/j/123456789")
        await step()
        await chat.submit(actions.CHOOSE_MEETING, meetingRef=event.meeting.join_web_url)
        await step()
        await chat.submit(actions.CLIENT_DETAILS, clientName="Alex Morgan", clientEmail="alex@@example",
                          clientPhone="12")
        await step()
        await chat.submit(actions.CLIENT_DETAILS, clientName="Alex Morgan", clientEmail="alex@example.com",
                          clientPhone="+1 206 555 0100")
        result = await step()
        assert result_url(result) == event.meeting.virtual_appointment_url
        await chat.submit(actions.TEXT_LINK)
        await step()
        await chat.submit(actions.CONFIRM_TEXT)
        await step()
        await chat.say(word(pseudo, "CMD_GET_LINK") + " new")
        await step()
        await chat.say(word(pseudo, "CMD_CANCEL"))
        await step()
        status, body = await bot.post(fetch(cloud, locale="qps-ploc"))
        task_form = form_of(body)
        status, body = await bot.post(submit(cloud, event.meeting.join_web_url, locale="qps-ploc"))
        task_result = form_of(body)
        [insert] = [e["data"] for e in _actions(task_result) if e["data"].get("action") == actions.INSERT_LINK]
        status, body = await bot.post(press(cloud, insert, locale="qps-ploc"))
        compose = result_of(body)
        # In a shared chat: one sentence there, the flow in the 1:1 chat.
        status, _ = await bot.post(cloud.activity(word(pseudo, "CMD_GET_LINK"), conversation_type="groupChat",
                                                  mention=True, locale="qps-ploc"))
        assert status == 201
        await chat.reply()
        await chat.reply()
        await chat.say(word(pseudo, "CMD_SIGN_OUT"))
        await step()
        await chat.say(word(pseudo, "CMD_GET_LINK"))
        sign_in_card = await step()
        assert sign_in_card["attachments"][0]["contentType"] == "application/vnd.microsoft.card.oauth"
        await chat.quiet()
        status, body = await bot.post(fetch(cloud, locale="qps-ploc"))  # signed out: Teams is asked to sign in
        [sign_in] = body["composeExtension"]["suggestedActions"]["actions"]

    everything = list(cloud.connector.activities)  # every conversation: the 1:1 chat and the group chat
    cards = [task_form, task_result, compose]
    texts = [t for activity in everything for t in visible(activity)] + [sign_in["title"]]
    texts += [t for card in cards for t in _card_texts(card)]
    assert len(seen) == 13 and len(everything) > len(seen) and len(texts) > 60
    left = leftover_english(texts, data)
    assert left == [], left
    for card in [*cards, *(card for activity in everything for card in adaptive_cards(activity))]:
        check_structure(card)
    assert leftover_english(["Get a link, now"], data) == ["Get", "link", "now"]  # the check can fail
    assert any(said(pseudo, "SOURCE_BOOKINGS") in text for text in texts)  # the Bookings choice was shown
    assert "+1 206-555-0100" in json.dumps(seen, ensure_ascii=False)
