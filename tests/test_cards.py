"""Unit tests of every card builder in dialogs/cards: structure Teams accepts, exact links, local times, forms."""

import ast
import inspect
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import dialogs.cards as cards_package
from dialogs.cards import (
    actions,
    attachment,
    client_form_card,
    compose_card,
    confirm_reminder_card,
    confirm_text_card,
    error_card,
    help_card,
    meeting_choice_card,
    new_meeting_card,
    notice_card,
    result_card,
    strings,
    task_form_card,
    welcome_card,
)
from dialogs.cards.__main__ import main
from dialogs.cards.language import Catalogs, speaking
from dialogs.cards.result import confirm_email_card, email_sent_card
from dialogs.cards.samples import sample_cards
from dialogs.cards.timefmt import format_when

# Adaptive Cards 1.5 elements and actions that Teams renders, with the properties the 1.5 schema allows on each
# (a misspelt property is silently ignored by renderers, so the test is the only place it is caught).
_COMMON = {"type", "id", "spacing", "separator", "isVisible", "height", "requires", "fallback"}
ELEMENT_PROPS: dict[str, set[str]] = {
    "TextBlock": _COMMON
    | {"text", "wrap", "size", "weight", "color", "isSubtle", "fontType", "horizontalAlignment", "maxLines", "style"},
    "FactSet": _COMMON | {"facts"},
    "ColumnSet": _COMMON | {"columns", "selectAction", "style", "bleed", "minHeight", "horizontalAlignment"},
    "Column": _COMMON
    | {"items", "width", "verticalContentAlignment", "selectAction", "style", "bleed", "minHeight", "rtl"},
    "Container": _COMMON
    | {"items", "style", "selectAction", "verticalContentAlignment", "bleed", "minHeight", "rtl", "backgroundImage"},
    "Input.Text": _COMMON
    | {"label", "placeholder", "value", "style", "maxLength", "isMultiline", "isRequired", "errorMessage", "regex"},
    "Input.ChoiceSet": _COMMON
    | {"label", "choices", "value", "style", "isMultiSelect", "placeholder", "wrap", "isRequired", "errorMessage"},
    "Input.Date": _COMMON | {"label", "value", "min", "max", "placeholder", "isRequired", "errorMessage"},
    "Input.Time": _COMMON | {"label", "value", "min", "max", "placeholder", "isRequired", "errorMessage"},
    "ActionSet": _COMMON | {"actions"},
}
_ACTION_COMMON = {"type", "title", "id", "style", "iconUrl", "tooltip", "isEnabled", "mode", "fallback", "requires"}
ACTION_PROPS: dict[str, set[str]] = {
    "Action.Submit": _ACTION_COMMON | {"data", "associatedInputs"},
    "Action.OpenUrl": _ACTION_COMMON | {"url"},
    "Action.ShowCard": _ACTION_COMMON | {"card"},
    "Action.ToggleVisibility": _ACTION_COMMON | {"targetElements"},
}
CARD_PROPS = {"type", "$schema", "version", "body", "actions", "msteams", "fallbackText", "speak", "lang"}

ODD_URL = (
    "https://visit.teams.microsoft.com/webrtc-svc/api/route?tid=a796be92-&convId=19:meeting_Zj_k*x_1%3a2"
    "@thread.v2&name=O'Brien&x=[1](2)&a=b&c=<d>&e=%40%3A%2F=True"
)
NOW = datetime(2025, 1, 13, 9, 0, tzinfo=UTC)  # Monday 13 January 2025, winter in Europe


@pytest.fixture(autouse=True)
def british_english() -> Iterator[None]:
    """Cards built as for a user whose Teams is in British English (24-hour times, day before month)."""
    with speaking(Catalogs.load().language("en-GB")):
        yield


@dataclass(frozen=True)
class Meeting:
    subject: str | None
    start: datetime | None
    end: datetime | None
    join_url: str
    attendees: Sequence[str] = field(default_factory=tuple)
    source: str = "calendar"
    business_name: str | None = None
    customer_name: str | None = None

    @property
    def reference(self) -> str:
        return self.join_url

    @property
    def key(self) -> str:
        return "k:" + self.join_url


@dataclass(frozen=True)
class Client:
    name: str = ""
    email: str = ""
    phone_display: str = ""


def walk(node: Any) -> Iterator[dict[str, Any]]:
    """Every typed object (element, action, card) anywhere in the card, depth first in document order."""
    if isinstance(node, dict):
        if "type" in node:
            yield node
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from walk(item)


def of_type(card: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [n for n in walk(card) if n["type"] == kind]


def submits(card: dict[str, Any]) -> list[dict[str, Any]]:
    return of_type(card, "Action.Submit")


def by_action(card: dict[str, Any], action: str) -> list[dict[str, Any]]:
    return [s for s in submits(card) if s["data"]["action"] == action]


def input_by_id(card: dict[str, Any], input_id: str) -> dict[str, Any]:
    (found,) = [n for n in walk(card) if n["type"].startswith("Input.") and n["id"] == input_id]
    return found


def texts(card: dict[str, Any]) -> list[str]:
    return [n["text"] for n in of_type(card, "TextBlock")]


def flat_items(card: dict[str, Any]) -> list[dict[str, Any]]:
    """Body elements in reading order, containers flattened (to check what sits right under an input)."""
    return [n for n in walk(card["body"]) if n["type"] in ELEMENT_PROPS]


def check_structure(card: dict[str, Any]) -> None:
    assert card["type"] == "AdaptiveCard"
    assert card["version"] == "1.5"
    assert card["$schema"] == "http://adaptivecards.io/schemas/adaptive-card.json"
    assert set(card) <= CARD_PROPS, set(card) - CARD_PROPS
    assert card["body"], "a card with no body renders as an empty bubble"
    _check_elements(card["body"])
    _check_actions(card.get("actions", []))
    ids = [n["id"] for n in walk(card) if "id" in n and n is not card]
    assert len(ids) == len(set(ids)), f"duplicate ids: {ids}"
    for submit in submits(card):
        assert isinstance(submit["data"], dict)
        assert submit["data"].get("action") in actions.ALL_ACTIONS, submit
        assert submit.get("associatedInputs", "auto") in {"auto", "none"}
    assert json.loads(json.dumps(card)) == card


def _check_elements(elements: list[dict[str, Any]]) -> None:
    for element in elements:
        kind = element["type"]
        assert kind in ELEMENT_PROPS, f"{kind} is not an allowed element"
        assert set(element) <= ELEMENT_PROPS[kind], f"{kind}: unknown {set(element) - ELEMENT_PROPS[kind]}"
        if kind == "TextBlock":
            assert element["wrap"] is True and element["text"]
        if kind in ("Container", "Column"):
            _check_elements(element["items"])
        if kind == "ColumnSet":
            assert all(c["type"] == "Column" for c in element["columns"])
            _check_elements(element["columns"])
        if kind == "ActionSet":
            _check_actions(element["actions"])
        if "selectAction" in element:
            assert element["selectAction"]["type"] in {"Action.Submit", "Action.OpenUrl", "Action.ToggleVisibility"}
            _check_actions([element["selectAction"]])
        if kind == "FactSet":
            assert all(set(f) == {"title", "value"} and f["value"] for f in element["facts"])


def _check_actions(items: list[dict[str, Any]]) -> None:
    for action in items:
        kind = action["type"]
        assert kind in ACTION_PROPS, f"{kind} is not an allowed action"
        assert set(action) <= ACTION_PROPS[kind], f"{kind}: unknown {set(action) - ACTION_PROPS[kind]}"
        assert action["title"]


def every_card() -> list[tuple[str, dict[str, Any]]]:
    meetings = [
        Meeting("Review", NOW + timedelta(hours=5), NOW + timedelta(hours=5, minutes=30), "https://t/1", ("A",)),
    ]
    cards = [(name, build()) for name, build in sample_cards().items()]
    cards += [
        ("choice-empty", meeting_choice_card([], tz_name="Europe/Paris", now=NOW)),
        ("choice-reason", meeting_choice_card(meetings, tz_name=None, now=NOW, reason=strings.REF_CHAT_ID)),
        ("form-blank", client_form_card()),
        ("result-bare", result_card(join_url=ODD_URL)),
        ("error-plain", error_card(strings.ERR_GENERIC)),
        ("task-blank", task_form_card()),
    ]
    return cards


@pytest.mark.parametrize(("name", "card"), every_card(), ids=[n for n, _ in every_card()])
def test_every_card_has_teams_safe_structure(name: str, card: dict[str, Any]) -> None:
    check_structure(card)


def test_structure_check_catches_mistakes() -> None:
    card = welcome_card()
    card["body"].append({"type": "Input.Rating", "id": "x"})  # Adaptive Cards 1.6: not for Teams' 1.5
    with pytest.raises(AssertionError):
        check_structure(card)
    card = welcome_card()
    card["actions"][0]["data"] = {"verb": "getLink"}
    with pytest.raises(AssertionError):
        check_structure(card)
    card = client_form_card()
    card["body"].append({"type": "Input.Text", "id": actions.INPUT_CLIENT_NAME, "label": "again"})
    with pytest.raises(AssertionError, match="duplicate"):
        check_structure(card)


def test_attachment_wraps_card() -> None:
    card = welcome_card()
    assert attachment(card) == {"contentType": "application/vnd.microsoft.card.adaptive", "content": card}


def test_cards_import_nothing_above_them() -> None:
    forbidden = ("botbuilder", "botframework", "bot", "config", "app", "aiohttp", "graph.client")
    for path in Path(cards_package.__file__).parent.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            for module in names:
                assert module.split(".")[0] not in forbidden, f"{path} imports {module}"
                assert not module.startswith("dialogs.") or module.startswith("dialogs.cards"), f"{path}: {module}"


# --- welcome, help, sign-in, error ------------------------------------------------------------------------------


def test_welcome_card_says_how_to_start() -> None:
    card = welcome_card()
    assert any("get link" in t for t in texts(card))
    (button,) = by_action(card, actions.GET_LINK)
    assert button["data"] == {"action": "getLink"}


def test_help_card_lists_commands_and_meeting_forms() -> None:
    card = help_card()
    facts = {f["title"] for fs in of_type(card, "FactSet") for f in fs["facts"]}
    assert {"get link", "help", "sign out", "cancel"} <= facts
    body = "\n".join(texts(card))
    assert "https://teams.microsoft.com/l/meetup-join/" in body
    assert "https://teams.microsoft.com/meet/" in body
    assert "passcode" in body and "**new**" in body and "48 hours" in body
    assert "19:meeting_" in body and "won't work" in body


def test_error_card_with_and_without_retry() -> None:
    plain = error_card(strings.ERR_MEETING_NOT_FOUND)
    assert texts(plain) == [strings.ERR_MEETING_NOT_FOUND]
    assert submits(plain) == []
    retry = error_card(strings.ERR_THROTTLED, retry_action=actions.GET_LINK)
    (button,) = submits(retry)
    assert button["title"] == strings.BUTTON_TRY_AGAIN
    assert button["data"] == {"action": actions.GET_LINK}


# --- times ------------------------------------------------------------------------------------------------------


def test_times_render_in_the_users_zone() -> None:
    start = datetime(2025, 1, 13, 14, 0, tzinfo=UTC)
    end = start + timedelta(minutes=30)
    assert format_when(start, end, tz_name="Europe/Paris", now=NOW) == "Today, 15:00 – 15:30"
    assert format_when(start, end, tz_name="America/Los_Angeles", now=NOW) == "Today, 06:00 – 06:30"
    summer = datetime(2025, 7, 14, 14, 0, tzinfo=UTC)
    assert format_when(summer, None, tz_name="Europe/Paris", now=summer) == "Today, 16:00"


def test_day_labels() -> None:
    tz = "Europe/London"
    tomorrow = datetime(2025, 1, 14, 9, 0, tzinfo=UTC)
    assert format_when(tomorrow, tomorrow + timedelta(minutes=30), tz_name=tz, now=NOW) == "Tomorrow, 09:00 – 09:30"
    later = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
    assert format_when(later, later + timedelta(minutes=30), tz_name=tz, now=NOW) == "Mon, 3 Mar, 09:00 – 09:30"
    assert format_when(later, None, tz_name=tz) == "Mon, 3 Mar 2025, 09:00"
    next_year = datetime(2026, 1, 2, 9, 0, tzinfo=UTC)
    assert format_when(next_year, None, tz_name=tz, now=NOW) == "Fri, 2 Jan 2026, 09:00"
    late = datetime(2025, 1, 13, 23, 30, tzinfo=UTC)
    assert format_when(late, late + timedelta(hours=1), tz_name=tz, now=NOW) == "Today, 23:30 – Tomorrow, 00:30"


def test_local_midnight_decides_today() -> None:
    # 23:30 UTC on the 13th is already the 14th in Tokyo, where "now" (09:00 UTC) is still the 13th.
    late = datetime(2025, 1, 13, 23, 30, tzinfo=UTC)
    assert format_when(late, None, tz_name="Asia/Tokyo", now=NOW) == "Tomorrow, 08:30"


def test_unknown_or_missing_zone_says_utc() -> None:
    start = datetime(2025, 1, 13, 14, 0, tzinfo=UTC)
    assert format_when(start, None, tz_name="Mars/Olympus", now=NOW) == "Today, 14:00 UTC"
    assert format_when(start, None, tz_name=None, now=NOW) == "Today, 14:00 UTC"
    assert format_when(start, None, tz_name="../../etc/passwd", now=NOW) == "Today, 14:00 UTC"
    naive = datetime(2025, 1, 13, 14, 0)
    assert format_when(naive, None, tz_name="Europe/Paris", now=NOW) == "Today, 15:00"


# --- which meeting? ---------------------------------------------------------------------------------------------


def _meetings() -> list[Meeting]:
    def at(hours: float, subject: str | None, url: str, *people: str) -> Meeting:
        start = NOW + timedelta(hours=hours)
        return Meeting(subject, start, start + timedelta(minutes=30), url, people)

    return [
        at(24, "Account opening", "https://teams.microsoft.com/meet/2?p=x", "Ana", "Ben", "Cy", "Dee", "Eve"),
        at(5, "Consultation", "https://teams.microsoft.com/l/meetup-join/19%3ameeting_1%40thread.v2/0", "Sam"),
        at(-0.25, None, "https://teams.microsoft.com/meet/3?p=y"),
    ]


def test_meeting_choices_soonest_first_with_local_times() -> None:
    card = meeting_choice_card(_meetings(), tz_name="Europe/Paris", now=NOW)
    chosen = [b["data"]["meetingRef"] for b in card_choice_buttons(card)]
    assert chosen == [
        "https://teams.microsoft.com/meet/3?p=y",
        "https://teams.microsoft.com/l/meetup-join/19%3ameeting_1%40thread.v2/0",
        "https://teams.microsoft.com/meet/2?p=x",
    ]
    body = texts(card)
    assert strings.ASK_MEETING in body
    assert "Today, 09:45 – 10:15 · now" in body  # in progress, 08:45 UTC is 09:45 in Paris
    assert "Today, 15:00 – 15:30" in body
    assert "Tomorrow, 10:00 – 10:30" in body
    assert strings.NO_SUBJECT in body
    assert "Your calendar · With Sam" in body
    assert "Your calendar · With Ana, Ben, Cy and 2 more" in body
    assert [b["data"]["choice"] for b in card_choice_buttons(card)] == ["k:" + url for url in chosen]


def test_bookings_choice_names_business_and_customer_and_carries_the_appointment() -> None:
    start = NOW + timedelta(hours=2)
    booked = Meeting(
        "Video visit",
        start,
        start + timedelta(minutes=30),
        "AAMkADb1=",
        ("Jordan Miller",),
        "bookings",
        "Contoso Advice Centre",
        "Jordan Miller",
    )
    card = meeting_choice_card([booked], tz_name="UTC", now=NOW, note=strings.BOOKINGS_INCOMPLETE)
    assert "Bookings · Contoso Advice Centre · Jordan Miller" in texts(card)
    assert strings.BOOKINGS_INCOMPLETE in texts(card)
    (button,) = card_choice_buttons(card)
    assert button["data"] == {"action": "chooseMeeting", "meetingRef": "AAMkADb1=", "choice": "k:AAMkADb1="}


def card_choice_buttons(card: dict[str, Any]) -> list[dict[str, Any]]:
    """The Choose buttons (inside ActionSets), one per meeting, excluding the rows' selectActions."""
    return [a for s in of_type(card, "ActionSet") for a in s["actions"] if a["data"]["action"] == "chooseMeeting"]


def test_meeting_choices_do_not_send_the_paste_box() -> None:
    card = meeting_choice_card(_meetings(), tz_name="UTC", now=NOW)
    for button in by_action(card, actions.CHOOSE_MEETING) + by_action(card, actions.NEW_MEETING):
        assert button["associatedInputs"] == "none"
    (cancel,) = by_action(card, actions.CANCEL)
    assert cancel["associatedInputs"] == "none"
    (use,) = by_action(card, actions.MEETING_REF)
    assert use["data"] == {"action": "meetingRef"}
    assert "associatedInputs" not in use, "the paste button must send the paste box"
    assert input_by_id(card, "meetingRef")["type"] == "Input.Text"
    rows = [n for n in walk(card["body"]) if n["type"] == "Container" and "selectAction" in n]
    assert [r["selectAction"]["data"]["meetingRef"] for r in rows] == [
        b["data"]["meetingRef"] for b in card_choice_buttons(card)
    ]


def test_meeting_choice_is_capped_and_skips_unjoinable() -> None:
    many = [Meeting(f"M{i}", NOW + timedelta(hours=i), None, f"https://t/{i}") for i in range(9)]
    many.append(Meeting("No link", NOW, None, ""))
    card = meeting_choice_card(many, tz_name="UTC", now=NOW)
    assert [b["data"]["meetingRef"] for b in card_choice_buttons(card)] == [f"https://t/{i}" for i in range(5)]


def test_no_meetings_keeps_the_paste_box() -> None:
    card = meeting_choice_card([], tz_name="Europe/Paris", now=NOW)
    assert strings.ASK_MEETING_NO_UPCOMING in texts(card)
    assert by_action(card, actions.CHOOSE_MEETING) == []
    assert input_by_id(card, "meetingRef")
    assert by_action(card, actions.NEW_MEETING) and by_action(card, actions.CANCEL)


def test_reask_reason_sits_under_the_paste_box() -> None:
    pasted = "19:meeting_abc@thread.v2"
    card = meeting_choice_card([], tz_name=None, now=NOW, meeting_ref=pasted, reason=strings.REF_CHAT_ID)
    items = flat_items(card)
    index = next(i for i, n in enumerate(items) if n.get("id") == "meetingRef")
    assert items[index]["value"] == pasted
    assert items[index + 1]["text"] == strings.REF_CHAT_ID
    assert items[index + 1]["color"] == "attention"


# --- client details form ----------------------------------------------------------------------------------------


def _error_after(card: dict[str, Any], input_id: str) -> str | None:
    items = flat_items(card)
    index = next(i for i, n in enumerate(items) if n.get("id") == input_id)
    following = items[index + 1] if index + 1 < len(items) else {}
    return following.get("text") if following.get("color") == "attention" else None


def test_client_form_inputs_and_buttons() -> None:
    card = client_form_card(meeting_subject="Mortgage review")
    assert input_by_id(card, "clientName").get("maxLength") == 100
    assert input_by_id(card, "clientEmail")["style"] == "email"
    assert input_by_id(card, "clientPhone")["style"] == "tel"
    assert all("value" not in input_by_id(card, i) for i in ("clientName", "clientEmail", "clientPhone"))
    assert all(input_by_id(card, i)["placeholder"] for i in ("clientName", "clientEmail", "clientPhone"))
    assert strings.client_details_for("Mortgage review") in texts(card)
    assert any("type **skip**" in t for t in texts(card))
    (go,) = by_action(card, actions.CLIENT_DETAILS)
    assert "associatedInputs" not in go
    (skip,) = by_action(card, actions.SKIP)
    assert skip["associatedInputs"] == "none"
    assert not [t for t in of_type(card, "TextBlock") if t.get("color") == "attention"]


def test_client_form_shows_errors_next_to_fields_and_keeps_values() -> None:
    card = client_form_card(
        name="Alex Morgan",
        email="alex@",
        phone="+1 206 555 0100",
        errors={"email": strings.INVALID_EMAIL, "phone": strings.INVALID_PHONE},
    )
    assert input_by_id(card, "clientName")["value"] == "Alex Morgan"
    assert input_by_id(card, "clientEmail")["value"] == "alex@"
    assert input_by_id(card, "clientPhone")["value"] == "+1 206 555 0100"
    assert _error_after(card, "clientName") is None
    assert _error_after(card, "clientEmail") == strings.INVALID_EMAIL
    assert _error_after(card, "clientPhone") == strings.INVALID_PHONE


def test_task_form() -> None:
    inside = task_form_card(in_meeting=True)
    assert input_by_id(inside, "meetingRef")["value"] == strings.THIS_MEETING
    link = "https://teams.microsoft.com/meet/123?p=abc"
    from_message = task_form_card(meeting_ref=link, in_meeting=True, email="a@b.co")
    assert input_by_id(from_message, "meetingRef")["value"] == link
    assert input_by_id(from_message, "clientEmail")["value"] == "a@b.co"
    assert "value" not in input_by_id(task_form_card(), "meetingRef")
    (go,) = submits(inside)
    assert go["data"] == {"action": "submitTask"} and "associatedInputs" not in go
    errs = task_form_card(errors={"meeting": strings.REF_UNRECOGNISED, "phone": strings.INVALID_PHONE})
    assert _error_after(errs, "meetingRef") == strings.REF_UNRECOGNISED
    assert _error_after(errs, "clientPhone") == strings.INVALID_PHONE
    assert _error_after(errs, "clientEmail") is None


# --- result -----------------------------------------------------------------------------------------------------


def _url_places(card: dict[str, Any]) -> tuple[list[str], list[str], str]:
    opens = [a["url"] for a in of_type(card, "Action.OpenUrl")]
    blocks = [t for t in texts(card) if t.startswith("http")]
    return opens, blocks, input_by_id(card, "joinUrl")["value"]


def test_result_card_carries_the_exact_url() -> None:
    card = result_card(join_url=ODD_URL)
    opens, blocks, copy = _url_places(card)
    assert opens == [ODD_URL]
    assert blocks == [ODD_URL]
    assert copy == ODD_URL
    assert f"]({ODD_URL})" not in json.dumps(card)
    assert card["fallbackText"] == ODD_URL


@given(st.text(min_size=1).map(lambda s: "https://visit.teams.microsoft.com/" + s))
def test_result_card_never_alters_the_url(url: str) -> None:
    card = json.loads(json.dumps(result_card(join_url=url)))
    opens, blocks, copy = _url_places(card)
    assert opens == [url] and copy == url and url in blocks


def test_result_card_meeting_time_and_client() -> None:
    start = datetime(2025, 1, 13, 14, 0, tzinfo=UTC)
    card = result_card(
        join_url="https://x.test/j",
        subject="Mortgage review",
        start=start,
        end=start + timedelta(minutes=30),
        tz_name="Europe/Paris",
        client=Client(name="Alex Morgan", phone_display="+1 206-555-0100"),
        now=NOW,
    )
    facts = {f["title"]: f["value"] for fs in of_type(card, "FactSet") for f in fs["facts"]}
    assert facts == {
        "Meeting": "Mortgage review",
        "When": "Today, 15:00 – 15:30",
        "Client": "Alex Morgan",
        "Phone": "+1 206-555-0100",
    }
    assert by_action(card, actions.TEXT_LINK) == [] and by_action(card, actions.TEXT_REMINDER) == []
    (again,) = by_action(card, actions.GET_LINK)
    assert again["associatedInputs"] == "none"


def test_texting_buttons_carry_what_they_act_on() -> None:
    start = datetime(2025, 1, 13, 14, 0, tzinfo=UTC)
    card = result_card(
        join_url="https://x.test/j",
        start=start,
        can_text=True,
        can_remind=True,
        meeting_id="MSo-meeting",
        phone="+12065550100",
        notes=[strings.NOT_ON_CALENDAR],
    )
    (text_it,) = by_action(card, actions.TEXT_LINK)
    assert text_it["data"] == {"action": "textLink", "meetingId": "MSo-meeting", "phone": "+12065550100"}
    (remind,) = by_action(card, actions.TEXT_REMINDER)
    assert remind["title"] == strings.BUTTON_TEXT_REMINDER and remind["associatedInputs"] == "none"
    assert remind["data"] == {
        "action": "textReminder",
        "meetingId": "MSo-meeting",
        "phone": "+12065550100",
        "start": "2025-01-13T14:00:00+00:00",
    }
    assert strings.NOT_ON_CALENDAR in texts(card)
    assert by_action(result_card(join_url="https://x.test/j", can_remind=True), actions.TEXT_REMINDER) == []


def test_email_button_carries_what_the_email_says_and_goes_once_sent() -> None:
    carry = {"link": "https://x.test/j?a=1&b=2", "email": "ana@example.com", "language": "es", "card": "c" * 32}
    card = result_card(join_url="https://x.test/j?a=1&b=2", email=carry)
    (email,) = by_action(card, actions.EMAIL_LINK)
    assert email["title"] == strings.BUTTON_EMAIL_LINK and email["associatedInputs"] == "none"
    assert email["data"] == {"action": "emailLink", **carry}
    assert by_action(result_card(join_url="https://x.test/j"), actions.EMAIL_LINK) == []  # no address: no button
    sent = result_card(join_url="https://x.test/j", email=carry, emailed_to="a•••@example.com")
    assert by_action(sent, actions.EMAIL_LINK) == []
    assert f"✓ {strings.emailed_to('a•••@example.com')}" in texts(sent)
    confirm = confirm_email_card(address="ana@example.com", language="Español", carry=carry, reason="busy")
    assert texts(confirm)[0] == "busy" and strings.email_question("ana@example.com", "Español") in texts(confirm)
    send, cancel = submits(confirm)
    assert send["data"] == {"action": "confirmEmail", **carry} and cancel["data"] == {"action": "cancelEmail"}
    assert submits(email_sent_card("a•••@example.com")) == []


def test_client_form_offers_the_shipped_languages_defaulting_to_the_users() -> None:
    choice = input_by_id(client_form_card(), actions.INPUT_CLIENT_LANGUAGE)
    assert [c["value"] for c in choice["choices"]] == ["en", "es", "fr", "de", "pt_BR", "ja"]
    names = ["Español", "Français", "Deutsch", "Português (Brasil)", "日本語"]
    assert [c["title"] for c in choice["choices"]][1:] == names
    assert choice["value"] == "en"  # outside a turn the user's language is English
    assert input_by_id(client_form_card(language="ja"), actions.INPUT_CLIENT_LANGUAGE)["value"] == "ja"
    assert input_by_id(task_form_card(language="fr"), actions.INPUT_CLIENT_LANGUAGE)["value"] == "fr"
    assert input_by_id(client_form_card(language="xx"), actions.INPUT_CLIENT_LANGUAGE)["value"] == "en"


def test_confirm_reminder_card_carries_its_target() -> None:
    carry = {"meetingId": "MSo-1", "phone": "+12065550100", "start": "2025-01-13T14:00:00+00:00"}
    card = confirm_reminder_card(phone_display="+1 206 555 0100", carry=carry)
    assert strings.reminder_question("+1 206 555 0100") in texts(card)
    send, cancel = submits(card)
    assert send["data"] == {"action": "confirmReminder", **carry} and cancel["data"] == {"action": "cancelText"}
    confirm = confirm_text_card(phone_display="+1 206 555 0100", carry={"meetingId": "MSo-1", "phone": "+1206"})
    assert submits(confirm)[0]["data"] == {"action": "confirmText", "meetingId": "MSo-1", "phone": "+1206"}


def test_result_card_without_now_uses_absolute_date_and_offers_text() -> None:
    start = datetime(2025, 1, 13, 14, 0, tzinfo=UTC)
    card = result_card(join_url="https://x.test/j", start=start, tz_name="Europe/Paris", can_text=True)
    facts = {f["title"]: f["value"] for fs in of_type(card, "FactSet") for f in fs["facts"]}
    assert facts == {"When": "Mon, 13 Jan 2025, 15:00"}
    (text_it,) = by_action(card, actions.TEXT_LINK)
    assert text_it["data"] == {"action": "textLink"} and text_it["associatedInputs"] == "none"
    assert of_type(result_card(join_url="https://x.test/j", client=Client()), "FactSet") == []


def test_confirm_text_card() -> None:
    card = confirm_text_card(phone_display="+1 206 555 0100")
    assert "Text the link to +1 206 555 0100?" in texts(card)
    assert [s["data"]["action"] for s in submits(card)] == ["confirmText", "cancelText"]


def test_confirm_asked_again_says_why_first() -> None:
    card = confirm_text_card(phone_display="+1 206-555-0100", carry={"meetingId": "m", "phone": "+12065550100"},
                             reason=strings.ERR_THROTTLED)
    check_structure(card)
    first = card["body"][0]
    assert first["text"] == strings.ERR_THROTTLED and first["color"] == "attention"
    assert by_action(card, actions.CONFIRM_TEXT)[0]["data"]["meetingId"] == "m"


def test_notice_card_is_one_sentence() -> None:
    card = notice_card(strings.TEXT_CANCELLED)
    check_structure(card)
    assert texts(card) == [strings.TEXT_CANCELLED] and "actions" not in card


def test_task_module_result_offers_insert_with_what_the_compose_card_needs() -> None:
    start = datetime(2025, 1, 13, 14, 0, tzinfo=UTC)
    client = Client(name="Alex Morgan", email="alex@example.com", phone_display="+1 206-555-0100")
    card = result_card(
        join_url=ODD_URL, subject="Review", start=start, end=start + timedelta(minutes=30), tz_name="Europe/Paris",
        client=client, can_text=True, meeting_id="graph-meeting-1", phone="+12065550100", now=NOW, insert=True,
    )
    check_structure(card)
    assert [a["title"] for a in card["actions"]] == [strings.BUTTON_OPEN_LINK, strings.BUTTON_TEXT_LINK,
                                                     strings.BUTTON_INSERT]
    assert by_action(card, actions.GET_LINK) == []  # in a task module it would only reopen the form
    (insert,) = by_action(card, actions.INSERT_LINK)
    assert insert["associatedInputs"] == "none"  # the copy box never travels with (or overwrites) the data
    assert insert["data"] == {
        "action": "insertLink",
        "link": ODD_URL,
        "subject": "Review",
        "start": "2025-01-13T14:00:00+00:00",
        "end": "2025-01-13T14:30:00+00:00",
        "clientName": "Alex Morgan",
    }
    assert "alex@example.com" not in json.dumps(insert) and "206" not in json.dumps(insert)
    bare = result_card(join_url="https://x.test/j", insert=True)
    (insert,) = by_action(bare, actions.INSERT_LINK)
    assert insert["data"] == {"action": "insertLink", "link": "https://x.test/j"}


def test_compose_card_shows_link_subject_time_and_name_only() -> None:
    start = datetime(2025, 1, 13, 14, 0, tzinfo=UTC)
    card = compose_card(
        join_url=ODD_URL, subject="Mortgage review", start=start, end=start + timedelta(minutes=30),
        tz_name="Europe/Paris", client_name="Alex Morgan",
    )
    check_structure(card)
    facts = {f["title"]: f["value"] for fs in of_type(card, "FactSet") for f in fs["facts"]}
    assert facts == {"Meeting": "Mortgage review", "When": "Mon, 13 Jan 2025, 15:00 – 15:30", "For": "Alex Morgan"}
    assert [a["url"] for a in of_type(card, "Action.OpenUrl")] == [ODD_URL]
    assert ODD_URL in texts(card) and card["fallbackText"] == ODD_URL
    assert submits(card) == [] and not [n for n in walk(card) if n["type"].startswith("Input.")]
    bare = compose_card(join_url="https://x.test/j")
    assert of_type(bare, "FactSet") == [] and "https://x.test/j" in texts(bare)


def test_compose_card_takes_no_email_or_phone() -> None:
    assert set(inspect.signature(compose_card).parameters) == {
        "join_url", "subject", "start", "end", "tz_name", "client_name",
    }


# --- samples CLI ------------------------------------------------------------------------------------------------


def test_samples_cli_writes_one_valid_file_per_card(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "samples"
    assert main(["samples", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == sorted(["en", "es", "fr", "de", "pt_BR", "ja", "qps_ploc"])
    for language in out.iterdir():
        files = sorted(p.name for p in language.iterdir())
        assert files == sorted(f"{name}.json" for name in sample_cards())
        for path in language.iterdir():
            check_structure(json.loads(path.read_text(encoding="utf-8")))
    builders = {"welcome", "help", "meeting_choice", "client_form", "result", "confirm_text", "error", "task_form",
                "result_emailed", "confirm_email", "email_sent"}
    assert builders <= {Path(f).stem for f in files}
    printed = capsys.readouterr().out
    assert str(out / "en" / "result.json") in printed and str(out / "ja" / "result.json") in printed
    spanish = json.loads((out / "es" / "help.json").read_text(encoding="utf-8"))
    assert "Cómo usarme" in json.dumps(spanish, ensure_ascii=False)


def test_samples_cli_requires_a_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main([])
    assert exc.value.code == 2


def test_new_meeting_card_prefills_and_shows_its_error() -> None:
    card = new_meeting_card(subject="Review", start_date="2025-01-13", start_time="09:15", error=strings.INVALID_START)
    check_structure(card)
    values = {e["id"]: e.get("value") for e in card["body"] if "id" in e}
    assert values == {
        actions.INPUT_SUBJECT: "Review",
        actions.INPUT_START_DATE: "2025-01-13",
        actions.INPUT_START_TIME: "09:15",
        actions.INPUT_DURATION: "30",
    }
    assert strings.INVALID_START in json.dumps(card)
    assert [a["data"]["action"] for a in card["actions"]] == [actions.CREATE_MEETING, actions.CANCEL]
