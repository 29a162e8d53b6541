"""Every card rendered with realistic sample data, for the Adaptive Cards Designer and for tests.

``python -m dialogs.cards samples DIR`` writes one JSON file per card builder and language, `DIR/<language>/<card>.json`
(every shipped language, and the pseudo-locale that shows layouts with 40% longer text). The data is fixed (a Monday
morning in New York), so the files only change when a card or a translation does.
"""

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from . import actions, strings
from .elements import Card
from .forms import client_form_card, new_meeting_card, task_form_card
from .info import error_card, help_card, notice_card, welcome_card
from .language import PSEUDO, SHIPPED, Catalogs, language_name, speaking
from .meetings import meeting_choice_card
from .result import (
    compose_card,
    confirm_email_card,
    confirm_reminder_card,
    confirm_text_card,
    email_sent_card,
    result_card,
)

SAMPLE_TZ = "America/New_York"
SAMPLE_CARRY = {
    actions.DATA_MEETING_ID: "MSo1N2Y5ZGFjYy03MWJmLTQ3NDMtYjQxMy01M2EdFGkdRWHJlQ",
    actions.DATA_PHONE: "+12065550100",
}
SAMPLE_EMAIL = "alex.morgan@example.com"
SAMPLE_MASKED = "a•••@example.com"
SAMPLE_NOW = datetime(2025, 3, 3, 13, 30, tzinfo=UTC)  # Mon 3 Mar 2025, 08:30 in New York
SAMPLE_JOIN_URL = (
    "https://visit.teams.microsoft.com/webrtc-svc/api/route?tid=a796be92-1e3c-4a5b-9d2e-6f0c8b7a1d24"
    "&convId=19:meeting_NjA1ZTc0YjYtMDVhYy00YTMwLWJlOGQtYTU1MDI1NDg5NjM5@thread.v2=True"
)


@dataclass(frozen=True)
class SampleMeeting:
    """Shaped like graph's meeting choice (``graph.choices.MeetingChoice``)."""

    subject: str
    start: datetime
    end: datetime
    join_url: str
    attendees: Sequence[str] = field(default_factory=tuple)
    source: str = "calendar"
    business_name: str | None = None
    customer_name: str | None = None
    appointment_id: str | None = None

    @property
    def reference(self) -> str:
        return self.appointment_id or self.join_url

    @property
    def key(self) -> str:
        return self.reference


@dataclass(frozen=True)
class SampleClient:
    """Shaped like ``dialogs.client_details.ClientDetails``."""

    name: str
    email: str
    phone_display: str


def _meeting(number: int, subject: str, hours_from_now: float, minutes: int, *attendees: str) -> SampleMeeting:
    start = SAMPLE_NOW + timedelta(hours=hours_from_now)
    return SampleMeeting(
        subject=subject,
        start=start,
        end=start + timedelta(minutes=minutes),
        join_url=f"https://teams.microsoft.com/l/meetup-join/19%3ameeting_Zj{number:04d}Q1NjE3%40thread.v2/0?context=%7b%7d",
        attendees=attendees,
    )


def sample_meetings() -> list[SampleMeeting]:
    """Three upcoming meetings: one in progress, one later today, one tomorrow with a long guest list."""
    return [
        _meeting(1, "Mortgage review", -0.25, 30, "Alex Morgan"),
        _meeting(2, "New patient consultation", 2.5, 30, "Sam Patel", "Dr Lee Chen"),
        _meeting(
            3,
            "Account opening",
            24.5,
            45,
            "Jordan Rivera",
            "Casey Kim",
            "Robin Adebayo",
            "Taylor Novak",
            "Morgan Silva",
        ),
        SampleMeeting(
            subject="Video consultation",
            start=SAMPLE_NOW + timedelta(hours=4),
            end=SAMPLE_NOW + timedelta(hours=4, minutes=30),
            join_url="https://teams.microsoft.com/l/meetup-join/19%3ameeting_Ym9va2luZw%40thread.v2/0?context=%7b%7d",
            attendees=("Jordan Miller",),
            source="bookings",
            business_name="Contoso Advice Centre",
            customer_name="Jordan Miller",
            appointment_id="AAMkADc2FtcGxl=",
        ),
    ]


def sample_cards() -> dict[str, Callable[[], Card]]:
    """Card name -> a builder call with sample data; one entry per card builder."""
    first = sample_meetings()[0]
    return {
        "welcome": welcome_card,
        "help": help_card,
        "meeting_choice": lambda: meeting_choice_card(sample_meetings(), tz_name=SAMPLE_TZ, now=SAMPLE_NOW),
        "client_form": lambda: client_form_card(
            name="Alex Morgan",
            email="alex.morgan@example",
            phone="+1 206 555 0100",
            errors={actions.FIELD_EMAIL: strings.INVALID_EMAIL},
            meeting_subject=first.subject,
        ),
        "result": lambda: _sample_result(first),
        "result_emailed": lambda: _sample_result(first, emailed=True),
        "result_task_module": lambda: _sample_result(first, insert=True),
        "compose": lambda: compose_card(
            join_url=SAMPLE_JOIN_URL,
            subject=first.subject,
            start=first.start,
            end=first.end,
            tz_name=SAMPLE_TZ,
            client_name="Alex Morgan",
        ),
        "confirm_text": lambda: confirm_text_card(phone_display="+1 206-555-0100", carry=SAMPLE_CARRY),
        "confirm_reminder": lambda: confirm_reminder_card(
            phone_display="+1 206-555-0100",
            carry={**SAMPLE_CARRY, actions.DATA_START: "2025-03-03T13:15:00+00:00"},
        ),
        "confirm_email": lambda: confirm_email_card(
            address=SAMPLE_EMAIL, language=language_name("es"), carry=_email_carry(first)
        ),
        "email_sent": lambda: email_sent_card(SAMPLE_MASKED),
        "error": lambda: error_card(strings.ERR_THROTTLED, retry_action=actions.GET_LINK),
        "task_form": lambda: task_form_card(in_meeting=True, name="Alex Morgan"),
        "notice": lambda: notice_card(strings.text_sent("+1 206-555-0100")),
        "new_meeting": lambda: new_meeting_card(
            subject=strings.NEW_MEETING_SUBJECT, start_date="2025-01-13", start_time="09:15"
        ),
    }


def _email_carry(meeting: SampleMeeting) -> dict[str, str]:
    """What "Email the link" carries (``dialogs.email_target.EmailTarget.carry`` makes it in the bot)."""
    return {
        actions.DATA_LINK: SAMPLE_JOIN_URL,
        actions.DATA_EMAIL: SAMPLE_EMAIL,
        actions.DATA_LANGUAGE: "es",
        actions.DATA_CARD: "3f2b8c1d9e7a4b6c8d0e1f2a3b4c5d6e",
        actions.DATA_MEETING_ID: SAMPLE_CARRY[actions.DATA_MEETING_ID],
        actions.DATA_CLIENT_NAME: "Alex Morgan",
        actions.DATA_SUBJECT: meeting.subject,
        actions.DATA_START: meeting.start.isoformat(),
        actions.DATA_END: meeting.end.isoformat(),
        actions.DATA_TIME_ZONE: SAMPLE_TZ,
    }


def _sample_result(meeting: SampleMeeting, *, insert: bool = False, emailed: bool = False) -> Card:
    """The result card for `meeting`, in chat or (`insert`) in the messaging extension's task module; `emailed`:
    after its link was emailed."""
    return result_card(
        join_url=SAMPLE_JOIN_URL,
        subject=meeting.subject,
        start=meeting.start,
        end=meeting.end,
        tz_name=SAMPLE_TZ,
        client=SampleClient("Alex Morgan", "alex.morgan@example.com", "+1 206-555-0100"),
        can_text=True,
        can_remind=not insert,
        meeting_id=SAMPLE_CARRY[actions.DATA_MEETING_ID],
        phone=SAMPLE_CARRY[actions.DATA_PHONE],
        now=SAMPLE_NOW,
        insert=insert,
        email=_email_carry(meeting),
        emailed_to=SAMPLE_MASKED if emailed else None,
    )


SAMPLE_LANGUAGES: tuple[str, ...] = (*SHIPPED, PSEUDO)


def write_samples(directory: Path, catalogs: Catalogs | None = None) -> list[Path]:
    """Write ``<language>/<name>.json`` for every sample card in every language into ``directory`` (created if
    needed); return the paths."""
    catalogs = catalogs or Catalogs.load()
    written = []
    for language in SAMPLE_LANGUAGES:
        folder = directory / language
        folder.mkdir(parents=True, exist_ok=True)
        with speaking(catalogs.language(language.replace("_", "-"))):
            for name, build in sample_cards().items():
                path = folder / f"{name}.json"
                path.write_text(json.dumps(build(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
                written.append(path)
    return written
