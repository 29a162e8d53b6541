"""Unit tests of `dialogs.extension.compose_from`: the compose card from an "Insert into message" button's data,
which comes back through the Teams client and is checked like any input (issue 15)."""

from __future__ import annotations

import json

import pytest

from dialogs.cards import actions
from dialogs.extension import compose_from

LINK = "https://visit.teams.microsoft.com/webrtc-svc/api/route?tid=t&convId=19:meeting_x@thread.v2"


def shown(card: dict[str, object]) -> str:
    return json.dumps(card, ensure_ascii=False)


def test_the_card_shows_link_subject_time_and_name() -> None:
    data = {"action": actions.INSERT_LINK, "link": LINK, "subject": "Mortgage review", "clientName": "Alex Morgan",
            "start": "2030-01-14T14:00:00+00:00", "end": "2030-01-14T14:30:00+00:00"}
    card = compose_from(data, "Europe/Paris")
    assert card is not None
    text = shown(card)
    # Outside a turn, American English: the time in the 12-hour clock (issue 21 formats times by locale).
    assert LINK in text and "Mortgage review" in text and "Alex Morgan" in text and "3:00 PM – 3:30 PM" in text


def test_email_or_phone_in_the_data_never_reach_the_card() -> None:
    data = {"link": LINK, "clientEmail": "alex@example.com", "clientPhone": "+12065550100", "phone": "+12065550100",
            "email": "alex@example.com"}
    card = compose_from(data, None)
    assert card is not None
    assert "example.com" not in shown(card) and "2065550100" not in shown(card)


@pytest.mark.parametrize(
    "link",
    [None, 5, "", "http://visit.teams.microsoft.com/x", "javascript:alert(1)", "https://x.test/a b",
     "https://x.test/\nb", "https://x.test/\x7f", "https://x.test/" + "a" * 3000],
)
def test_a_link_that_is_not_a_plain_https_url_gives_no_card(link: object) -> None:
    assert compose_from({"link": link, "subject": "S"}, None) is None


def test_texts_are_cleaned_and_bounded_and_bad_times_dropped() -> None:
    data = {"link": LINK, "subject": "Re\u202eview\x00" + "x" * 1000, "clientName": "A\u200bl" + "y" * 500,
            "start": "not a time", "end": "2030-01-14T14:30:00"}  # a naive time has no zone to show it in
    card = compose_from(data, None)
    assert card is not None
    facts = {f["title"]: f["value"] for e in card["body"] if e["type"] == "FactSet" for f in e["facts"]}
    assert set(facts) == {"Meeting", "For"}  # no time: neither could be read
    assert facts["Meeting"].startswith("Review") and len(facts["Meeting"]) <= 255
    assert "\u202e" not in facts["Meeting"] and "\x00" not in facts["Meeting"]
    assert facts["For"].startswith("Al") and len(facts["For"]) <= 100
