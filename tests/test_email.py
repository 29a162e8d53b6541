"""The pieces of "Email the link" (issue 27): the email in each language, the button's data read back as input,
the simulator's sendMail as Exchange checks it, the once-claims on both stores, and local mode's outbox page."""

from __future__ import annotations

import base64
import html
import json
import re
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from hypothesis import given
from hypothesis import strategies as st
from icalendar import Calendar

from app import LOCAL_GRAPH, create_app
from bot.storage.blob import BlobSendOnce, BlobStorage
from bot.storage.sent_once import MemorySendOnce
from config import Settings
from dialogs.cards import actions, strings
from dialogs.cards.language import SHIPPED, Catalogs, speaking
from dialogs.cards.mail import Appointment, html_body, invitation_ics, invitation_uid, subject_line, when_line
from dialogs.email_link import failure_sentence
from dialogs.email_target import EmailTarget, mask
from graph.errors import BadRequest, Forbidden, GraphTimeout, NotFound, Throttled, Unavailable
from graph.mail import FileAttachment, MailMessage
from graph.simulator import GraphSimulator, run_in_thread
from tests.azurite import Azurite
from tests.test_e2e_languages import leftover_english

CATALOGS = Catalogs.load()
LINK = "https://teams.microsoft.com/meet/2345678901?p=Ab&c=%2Fd'e"
START = datetime(2026, 12, 8, 9, 0, tzinfo=UTC)


def appointment(**changes: Any) -> Appointment:
    fields: dict[str, Any] = {
        "link": LINK,
        "key": "MSo-meeting",
        "client_name": "Ana <script>alert(1)</script>",
        "host": "Dr Lee & Partners",
        "subject": 'Review "<b>"',
        "start": START,
        "end": START + timedelta(minutes=30),
        "tz_name": "Asia/Tokyo",
    }
    return Appointment(**{**fields, **changes})


class Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.text: list[str] = []
        self.tags: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        if tag == "a":
            self.hrefs.extend(value or "" for name, value in attrs if name == "href")

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def read(body: str) -> Reader:
    reader = Reader()
    reader.feed(body)
    return reader


# --- the email ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("catalog", SHIPPED)
def test_every_text_of_the_email_comes_from_the_catalog_of_its_language(catalog: str) -> None:
    language = CATALOGS.language(catalog.replace("_", "-"))
    with speaking(language):
        body = html_body(appointment())
        subject = subject_line(appointment())
        expected = [
            strings.mail_greeting("Ana <script>alert(1)</script>"),
            strings.mail_invited("Dr Lee & Partners"),
            strings.MAIL_EXPECT_BROWSER,
            strings.mail_lobby("Dr Lee & Partners"),
            strings.MAIL_CALENDAR,
            strings.BUTTON_JOIN,
            strings.MAIL_LINK_INTRO,
        ]
    reader = read(body)
    shown = "".join(reader.text)
    assert all(sentence in shown for sentence in expected), catalog
    assert f'lang="{language.tag}"' in body
    assert reader.hrefs == [LINK] and LINK in shown  # the exact link, as a button and as text
    assert "script" not in reader.tags and "<script>" not in body and "<b>" not in body
    if catalog != "en":  # no English sentence left in another language
        with speaking(CATALOGS.language("en-US")):
            english = [strings.MAIL_EXPECT_BROWSER, strings.MAIL_CALENDAR, strings.MAIL_LINK_INTRO, strings.BUTTON_JOIN]
        assert not [sentence for sentence in english if sentence in shown or sentence in subject]


def test_the_pseudo_locale_leaves_no_english_in_the_email() -> None:
    with speaking(CATALOGS.language("qps-ploc")):
        reader, subject = read(html_body(appointment())), subject_line(appointment())
    data = ["Ana", "script", "alert", "Dr Lee & Partners", "Review", "Japan Standard Time"]  # the zone: CLDR's
    assert leftover_english([*reader.text, subject], data) == []


def test_the_time_is_in_the_meetings_zone_with_the_zone_named() -> None:
    with speaking(CATALOGS.language("ja")):
        line = when_line(appointment())
    assert "18:00" in line and "日本標準時" in line  # 09:00 UTC is 18:00 in Tokyo
    with speaking(CATALOGS.language("en-US")):
        assert when_line(appointment(tz_name=None)).endswith("(UTC)")
        assert when_line(appointment(tz_name="Not/AZone")).endswith("(UTC)")
        assert when_line(appointment(start=None)) == ""
        assert subject_line(appointment(start=None)) == strings.MAIL_SUBJECT


def test_the_ics_is_a_publish_event_with_the_link_and_no_attendees() -> None:
    now = datetime(2026, 12, 6, 4, 0, tzinfo=UTC)
    ics = invitation_ics(appointment(), now=now)
    assert ics is not None
    calendar = Calendar.from_ical(ics)
    assert str(calendar["METHOD"]) == "PUBLISH" and str(calendar["VERSION"]) == "2.0"
    [event] = calendar.walk("VEVENT")
    assert str(event["URL"]) == LINK and str(event["LOCATION"]) == LINK
    assert event.decoded("DTSTART") == START and event.decoded("DTEND") == START + timedelta(minutes=30)
    assert str(event["UID"]) == invitation_uid("MSo-meeting") == invitation_uid("MSo-meeting")  # stable per meeting
    assert invitation_uid("MSo-other") != invitation_uid("MSo-meeting")
    assert "ATTENDEE" not in event and "ORGANIZER" not in event
    no_end = Calendar.from_ical(invitation_ics(appointment(end=None), now=now) or b"")
    assert next(iter(no_end.walk("VEVENT"))).decoded("DTEND") == START + timedelta(minutes=30)
    assert invitation_ics(appointment(start=None), now=now) is None


MARKUP = st.sampled_from(["<img src=x onerror=alert(1)>", "</p><script>x()</script>", '"><a href="x">', "&amp;", ""])


@given(MARKUP, st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=30))
def test_any_name_is_escaped(markup: str, rest: str) -> None:
    name = markup + rest
    body = html_body(appointment(client_name=name, host=name, subject=name))
    reader = read(body)
    assert reader.hrefs == [LINK]
    assert reader.tags <= {"html", "head", "meta", "title", "body", "p", "table", "tr", "td", "a", "br", "span"}
    greeting = strings.mail_greeting(name) if name else strings.MAIL_GREETING
    assert greeting in "".join(reader.text)  # shown as typed, as text


def test_the_message_is_graphs_json_shape() -> None:
    message = MailMessage("Hi", "<p>x</p>", ["a@example.com"], [FileAttachment("a.ics", "text/calendar", b"ICS")])
    assert message.to_json() == {
        "message": {
            "subject": "Hi",
            "body": {"contentType": "HTML", "content": "<p>x</p>"},
            "toRecipients": [{"emailAddress": {"address": "a@example.com"}}],
            "attachments": [
                {
                    "@odata.type": "#microsoft.graph.fileAttachment",
                    "name": "a.ics",
                    "contentType": "text/calendar",
                    "contentBytes": base64.b64encode(b"ICS").decode(),
                }
            ],
        },
        "saveToSentItems": True,
    }


# --- the button's data ----------------------------------------------------------------------------------------------


def target_data(**changes: Any) -> dict[str, Any]:
    data = {
        actions.DATA_LINK: LINK,
        actions.DATA_EMAIL: "Ana.Garcia@Example.COM",
        actions.DATA_LANGUAGE: "pt_BR",
        actions.DATA_CARD: "0123456789abcdef",
        actions.DATA_START: START.isoformat(),
        actions.DATA_TIME_ZONE: "America/Sao_Paulo",
    }
    return {**data, **changes}


def test_the_target_is_read_back_like_any_input() -> None:
    target = EmailTarget.from_data(target_data())
    assert target is not None and target.email == "Ana.Garcia@example.com" and target.start == START
    assert EmailTarget.from_data(json.loads(json.dumps({"action": "x", **target.carry()}))) == target
    for bad in (
        {actions.DATA_EMAIL: ""},
        {actions.DATA_EMAIL: "not-an-address"},
        {actions.DATA_EMAIL: "a@" + "b" * 400 + ".com"},
        {actions.DATA_LINK: "http://teams.microsoft.com/x"},
        {actions.DATA_LINK: "https://x.test/a b"},
        {actions.DATA_LANGUAGE: "qps_ploc"},
        {actions.DATA_LANGUAGE: "xx"},
        {actions.DATA_CARD: "short"},
        {actions.DATA_CARD: "../../etc/passwd0"},
    ):
        assert EmailTarget.from_data(target_data(**bad)) is None, bad
    odd = EmailTarget.from_data(target_data(**{actions.DATA_TIME_ZONE: "Europe/Paris\nX", actions.DATA_START: "x"}))
    assert odd is not None and odd.time_zone is None and odd.start is None


def test_one_claim_per_card_and_recipient() -> None:
    first = EmailTarget.from_data(target_data())
    same = EmailTarget.from_data(target_data(**{actions.DATA_EMAIL: "ana.garcia@EXAMPLE.com"}))
    other_card = EmailTarget.from_data(target_data(**{actions.DATA_CARD: "fedcba9876543210"}))
    other_address = EmailTarget.from_data(target_data(**{actions.DATA_EMAIL: "sam@example.com"}))
    assert first is not None and same is not None and other_card is not None and other_address is not None
    assert first.claim_key == same.claim_key
    assert len({first.claim_key, other_card.claim_key, other_address.claim_key}) == 3
    assert "example" not in first.claim_key and re.fullmatch(r"mail-[0-9a-f]{48}", first.claim_key)


def test_the_address_is_masked() -> None:
    assert mask("alex.morgan@example.com") == "a•••@example.com"
    assert mask("nobody") == "nobody"


@pytest.mark.parametrize(
    ("error", "sentence"),
    [
        (Forbidden("x", code="ErrorAccessDenied", status=403), None),
        (NotFound("x", code="MailboxNotEnabledForRESTAPI", status=404), "ERR_EMAIL_NO_MAILBOX"),
        (Forbidden("x", code="ErrorSendAsDenied", status=403), "ERR_EMAIL_NO_MAILBOX"),
        (BadRequest("x", code="ErrorInvalidRecipients", status=400), "ERR_EMAIL_ADDRESS"),
        (BadRequest("x", code="ErrorInvalidProperty", status=400), "ERR_EMAIL_FAILED"),
        (GraphTimeout("x"), "ERR_EMAIL_UNSURE"),
        (Unavailable("x", status=503), "ERR_EMAIL_UNSURE"),
        (Throttled("x", status=429), "ERR_THROTTLED"),
    ],
)
def test_each_failure_is_one_sentence(error: Any, sentence: str | None) -> None:
    expected = strings.admin_consent(strings.CONSENT_MAIL, "Mail.Send") if sentence is None else getattr(
        strings, sentence
    )
    assert failure_sentence(error) == expected


# --- the simulator's sendMail -------------------------------------------------------------------------------------


@pytest.fixture
def graph_sim() -> Any:
    sim = GraphSimulator(seed=False)
    handle = run_in_thread(sim)
    try:
        yield sim, handle.base_url, sim.issue_token("u1", display_name="Adele Vance")
    finally:
        handle.stop()


async def test_the_simulator_accepts_sendmail_as_graph_does(graph_sim: Any) -> None:
    sim, url, token = graph_sim
    headers = {"Authorization": f"Bearer {token}"}
    good = MailMessage("S", "<p>b</p>", ["a@example.com"], [FileAttachment("x.ics", "text/calendar", b"ICS")])
    cases: list[tuple[Any, int, str | None]] = [
        (good.to_json(), 202, None),
        ({"saveToSentItems": True}, 400, "ErrorInvalidRequest"),
        ({"message": {"subject": "S", "toRecipients": []}}, 400, "ErrorInvalidRecipients"),
        ({"message": {"toRecipients": [{"emailAddress": {"address": "not an address"}}]}}, 400,
         "ErrorInvalidRecipients"),
        ({"message": {"toRecipients": [{"emailAddress": {"address": "a@example.com"}}],
                      "body": {"contentType": "RTF", "content": "x"}}}, 400, "ErrorInvalidProperty"),
        ({"message": {"toRecipients": [{"emailAddress": {"address": "a@example.com"}}],
                      "attachments": [{"@odata.type": "#microsoft.graph.fileAttachment", "name": "x",
                                       "contentBytes": "not base64!"}]}}, 400, "ErrorInvalidProperty"),
    ]
    async with aiohttp.ClientSession() as session:
        for body, status, code in cases:
            async with session.post(f"{url}/v1.0/me/sendMail", json=body, headers=headers) as response:
                assert response.status == status, body
                answer = await response.read()
                assert (json.loads(answer)["error"]["code"] if code else answer) == (code or b"")
        async with session.post(f"{url}/v1.0/me/sendMail", json=good.to_json()) as response:
            assert response.status == 401
        big = MailMessage("S", "x" * (5 * 1024 * 1024), ["a@example.com"]).to_json()
        async with session.post(f"{url}/v1.0/me/sendMail", json=big, headers=headers) as response:
            assert response.status == 413 and (await response.json())["error"]["code"] == "ErrorMessageSizeExceeded"
    [sent] = sim.mail_sent
    assert (sent.user_id, sent.sender, sent.subject) == ("u1", "AdeleV@contoso.example", "S")
    assert sent.to == ("a@example.com",)
    assert sent.content == "<p>b</p>" and sent.attachments == (("x.ics", "text/calendar", b"ICS"),) and sent.saved


# --- once, on both stores -----------------------------------------------------------------------------------------


async def test_memory_claims_once_until_released_and_stays_bounded() -> None:
    once = MemorySendOnce(limit=3)
    assert await once.claim("a") and not await once.claim("a")
    await once.release("a")
    assert await once.claim("a")
    for key in "bcd":
        assert await once.claim(key)
    assert await once.claim("a")  # the oldest was forgotten: the memory holds `limit` claims at most
    assert not await once.claim("d")


async def test_blob_claims_once_across_instances(azurite: Azurite) -> None:
    stores = [BlobStorage(azurite.connection_string, "t-sent-once"), BlobStorage(azurite.connection_string,
                                                                                 "t-sent-once")]
    for store in stores:
        await store.open()
    try:
        one, two = (BlobSendOnce(store) for store in stores)
        results = [await one.claim("mail-k1"), await two.claim("mail-k1"), await one.claim("mail-k1")]
        assert results == [True, False, False]
        await two.release("mail-k1")
        assert await one.claim("mail-k1") and not await two.claim("mail-k1")
        await one.release("never-claimed")  # nothing to give back: no error
        names = [blob.name async for blob in stores[0].container.list_blobs()]
        assert names == ["mail-sent/mail-k1"]
    finally:
        await stores[0].container.delete_container()
        for store in stores:
            await store.close()


# --- local mode's outbox --------------------------------------------------------------------------------------------


async def test_local_mode_outbox_shows_each_email_as_sent_and_serves_its_ics(cloud: Any) -> None:
    """The whole flow in local mode (the Agents Playground's way in), then the outbox page as a person reads it."""
    cloud.connector.require_auth = False
    app = create_app(Settings.from_mapping({}))
    server = TestServer(app, host="127.0.0.1", port=0)
    await server.start_server()
    try:
        sim = app[LOCAL_GRAPH].simulator
        user = cloud.user("alice").aad_object_id
        sim.issue_token(user)
        meeting = sim.add_meeting(user, "Consultation <1>", datetime.now(UTC) + timedelta(days=1))
        base = str(server.make_url("/"))
        async with aiohttp.ClientSession() as session:
            personal = cloud.connector.personal_conversation("alice")

            async def post(activity: dict[str, Any]) -> None:
                status, _ = await cloud.apost(session, base, activity, auth=None)
                assert status == 201

            def card(n: int) -> dict[str, Any]:
                activities = cloud.connector.wait_for_activities(n)
                return activities[n - 1]["attachments"][0]["content"]

            def data_of(content: dict[str, Any], action: str) -> dict[str, Any]:
                [data] = [a["data"] for a in content["actions"] if a.get("data", {}).get("action") == action]
                return dict(data)

            async with session.get(f"{base}outbox") as response:
                assert response.status == 200 and "No email sent yet" in await response.text()
            await post(cloud.activity(f"get link {meeting.id}"))
            card(1)
            details = {"clientName": "<img src=x onerror=alert(1)>", "clientEmail": "client@example.com",
                       "clientLanguage": "fr"}
            await post(cloud.activity(None, value={"action": actions.CLIENT_DETAILS, **details}))
            await post(cloud.activity(None, value=data_of(card(2), actions.EMAIL_LINK)))
            await post(cloud.activity(None, value=data_of(card(3), actions.CONFIRM_EMAIL), reply_to_id="1:x"))
            cloud.connector.wait_for_activities(4)
            assert all(a["conversation"]["id"] == personal for a in cloud.connector.activities)
            [mail] = sim.mail_sent
            async with session.get(f"{base}outbox") as response:
                page = await response.text()
                assert response.headers["Content-Security-Policy"].startswith("default-src 'none'")
            async with session.get(f"{base}outbox/0/0") as response:
                ics = await response.read()
                assert response.content_type == "text/calendar"
                assert 'filename="appointment.ics"' in response.headers["Content-Disposition"]
            async with session.get(f"{base}outbox/7/0") as response:
                assert response.status == 404
    finally:
        await server.close()
    outer = read(page)
    assert "img" not in outer.tags and "script" not in outer.tags  # the typed name is text on the page
    inner = read(mail.content)
    assert "img" not in inner.tags and "<img src=x onerror=alert(1)>" in "".join(inner.text)  # and in the mail
    frame = re.search(r'<iframe sandbox title="[^"]*" srcdoc="([^"]*)"', page)
    assert frame is not None and html.unescape(frame.group(1)) == mail.content  # exactly what the client gets
    assert '<html lang="fr' in mail.content and "client@example.com" in page
    assert str(next(iter(Calendar.from_ical(ics).walk("VEVENT")))["URL"]) == meeting.virtual_appointment_url


async def test_the_outbox_is_for_this_machine_and_local_mode_only(cloud: Any) -> None:
    from aiohttp.test_utils import make_mocked_request

    from bot.outbox import _loopback_only

    request = make_mocked_request("GET", "/outbox")
    request._transport_peername = ("192.0.2.7", 5000)  # type: ignore[attr-defined]
    with pytest.raises(aiohttp.web.HTTPForbidden):
        _loopback_only(request)
    app = create_app(Settings.from_mapping(cloud.settings_env()))  # an app id: not local mode
    assert not [r for r in app.router.routes() if r.resource is not None and "outbox" in r.resource.canonical]
