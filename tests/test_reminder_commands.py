"""`remind me [n minutes before]` and `stop reminders` (dialogs/commands.py): what is understood, what is refused, and
linear time on hostile shapes."""

from __future__ import annotations

import pytest

from dialogs.cards import help_card, strings
from dialogs.cards.language import Catalogs, speaking
from dialogs.commands import REMIND_ME, STOP_REMINDERS, parse_command, reminder_lead
from dialogs.reminders import ReminderRequest
from tests.linear import assert_growth_is_linear


@pytest.mark.parametrize(
    ("text", "lead"),
    [
        ("remind me", 15),
        ("Remind me.", 15),
        ("<at>Bot</at> remind   me", 15),
        ("remindme 10", 10),
        ("remind me 10 minutes before", 10),
        ("remind me 5 min before", 5),
        ("remind me 60 mins", 60),
        ("remind me 30m", 30),
        ("REMIND ME 45 MINUTES BEFORE", 45),
    ],
)
def test_remind_me_and_its_lead_time(text: str, lead: int) -> None:
    command, rest = parse_command(text)
    assert command == REMIND_ME
    assert reminder_lead(rest) == lead


@pytest.mark.parametrize("rest", ["4 minutes before", "61 minutes", "0", "-10", "10 hours before", "tomorrow",
                                  "10 minutes after", "99999"])
def test_lead_times_outside_5_to_60_or_not_minutes_are_refused(rest: str) -> None:
    assert reminder_lead(rest) is None


@pytest.mark.parametrize("text", ["stop reminders", "Stop reminding me", "reminders off", "no reminders."])
def test_stop_reminders(text: str) -> None:
    assert parse_command(text) == (STOP_REMINDERS, "")


def test_other_words_are_not_reminder_commands() -> None:
    assert parse_command("reminder")[0] is None
    assert parse_command("remind mega")[0] is None


HOSTILE = {
    "digits": lambda n: "remind me " + "9" * n,
    "spaces": lambda n: "remind" + " " * n + "me",
    "minutes": lambda n: "remind me 10 " + "minutes " * (n // 8),
}


@pytest.mark.parametrize("shape", HOSTILE)
def test_reminder_parsing_is_linear(shape: str) -> None:
    assert_growth_is_linear(lambda text: reminder_lead(parse_command(text)[1]), HOSTILE[shape], n=4_000)


CATALOGS = Catalogs.load()
LEADS = {
    "es-ES": "recuérdame 10 minutos antes",
    "fr-FR": "Rappelle-moi 10 minutes avant",
    "de-DE": "erinnere mich 10 Minuten vorher",
    "pt-BR": "lembre-me 10 minutos antes",
    "ja-JP": "リマインド 10分前",
}


def test_japanese_needs_no_space_before_the_number() -> None:
    """Japanese is written without spaces: `リマインド10分前` is "remind me 10 minutes before", not an unknown
    message; a word run on after a command is still no command."""
    with speaking(CATALOGS.language("ja-JP")):
        command, rest = parse_command("リマインド10分前")
        assert (command, reminder_lead(rest)) == (REMIND_ME, 10)
        assert parse_command("リマインド１５分前")[0] == REMIND_ME  # full-width digits, as a Japanese IME types them
        assert reminder_lead(parse_command("リマインド１５分前")[1]) == 15
    assert parse_command("remind meeting") == (None, "remind meeting")


@pytest.mark.parametrize("tag", LEADS)
def test_reminder_commands_in_each_shipped_language_and_in_english(tag: str) -> None:
    with speaking(CATALOGS.language(tag)):
        command, rest = parse_command(LEADS[tag])
        assert (command, reminder_lead(rest)) == (REMIND_ME, 10)
        assert parse_command(strings.command("CMD_STOP_REMINDERS")) == (STOP_REMINDERS, "")
        assert parse_command("remind me 20 minutes before")[0] == REMIND_ME  # English works everywhere
        assert reminder_lead(parse_command("remind me 20 minutes before")[1]) == 20
        facts = [f["title"] for e in help_card()["body"] if e["type"] == "FactSet" for f in e["facts"]]
        understood = {parse_command(title.split(" [")[0])[0] for title in facts}
        assert {REMIND_ME, STOP_REMINDERS} <= understood  # the help card names words the parser understands
        assert strings.command("CMD_REMIND_ME") in strings.REMINDERS_OFF


@pytest.mark.parametrize("lead", [0, 4, 61, 100_000, -15, True, 10.5, "10", None])
def test_a_stored_reminder_request_outside_5_to_60_minutes_is_the_default(lead: object) -> None:
    """The request travels through stored dialog state; a lead the subscription store would refuse to read back is
    never confirmed and stored (the user would believe reminders were on)."""
    assert ReminderRequest.from_state({"lead": lead}).lead_minutes == 15
    assert ReminderRequest.from_state({"lead": 60}).lead_minutes == 60
