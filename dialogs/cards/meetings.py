"""The "which meeting?" card: upcoming meetings (calendar and Bookings) as one-tap choices, beside a paste box.

Each choice says where it comes from (the user's calendar, or Bookings with the business and the customer's name).
Its button carries the meeting's reference (join URL, or Bookings appointment id) and its key among the offered
choices, so a choice on an older card still names its meeting.

The choice buttons and "New meeting"/"Cancel" send no inputs (``associatedInputs: none``): the Adaptive Cards
renderer merges input values over a button's data, so a half-typed paste box (id ``meetingRef``) would otherwise
replace the chosen meeting's ``meetingRef``.
"""

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Protocol

from . import actions, strings
from .elements import (
    Card,
    Element,
    action_set,
    adaptive_card,
    column,
    column_set,
    container,
    error_text,
    submit,
    text,
    text_input,
)
from .timefmt import as_aware, format_when, is_happening

MAX_CHOICES = 5


class MeetingLike(Protocol):
    """What the card needs of a choice; ``graph.choices.MeetingChoice`` fits without conversion."""

    @property
    def subject(self) -> str | None: ...
    @property
    def start(self) -> datetime | None: ...
    @property
    def end(self) -> datetime | None: ...
    @property
    def attendees(self) -> Sequence[str]: ...
    @property
    def source(self) -> str: ...  # "calendar" or "bookings"
    @property
    def business_name(self) -> str | None: ...
    @property
    def customer_name(self) -> str | None: ...
    @property
    def reference(self) -> str: ...  # what the button sends as meetingRef
    @property
    def key(self) -> str: ...


def _soonest_first(meetings: Iterable[MeetingLike]) -> list[MeetingLike]:
    """Choosable meetings (those with a reference), soonest first, undated ones last."""
    usable = [m for m in meetings if m.reference]
    return sorted(usable, key=lambda m: (m.start is None, as_aware(m.start).timestamp() if m.start else 0.0))


def _origin(meeting: MeetingLike) -> str:
    if meeting.source == "bookings":
        return strings.bookings_line(meeting.business_name, meeting.customer_name)
    attendees = strings.attendee_line(meeting.attendees)
    return f"{strings.SOURCE_CALENDAR} · {attendees}" if attendees else strings.SOURCE_CALENDAR


def _choice(meeting: MeetingLike, *, tz_name: str | None, now: datetime) -> Element:
    """One meeting row; the whole row and its button both choose it."""
    choose = submit(
        strings.BUTTON_CHOOSE,
        actions.CHOOSE_MEETING,
        extra={actions.INPUT_MEETING_REF: meeting.reference, actions.DATA_CHOICE: meeting.key},
        inputs=False,
    )
    details = [text(meeting.subject or strings.NO_SUBJECT, weight="bolder")]
    if meeting.start is not None:
        when = format_when(meeting.start, meeting.end, tz_name=tz_name, now=now)
        if is_happening(meeting.start, meeting.end, now):
            when += f" · {strings.NOW_MARKER}"
        details.append(text(when, spacing="none", subtle=True))
    details.append(text(_origin(meeting), spacing="none", subtle=True, size="small"))
    row = column_set(
        [
            column(details),
            column([action_set([choose])], width="auto", verticalContentAlignment="center"),
        ]
    )
    return container([row], separator=True, spacing="medium", selectAction=choose)


def meeting_choice_card(
    meetings: Iterable[MeetingLike],
    *,
    tz_name: str | None,
    now: datetime,
    meeting_ref: str = "",
    reason: str | None = None,
    note: str | None = None,
) -> Card:
    """Ask which meeting: up to ``MAX_CHOICES`` upcoming meetings, a paste box, "New meeting" and "Cancel".

    ``reason`` (why the last reference was not accepted) is shown under the paste box, which keeps ``meeting_ref``;
    ``note`` (e.g. Bookings could not be read in time) under the choices.
    """
    choices = _soonest_first(meetings)[:MAX_CHOICES]
    body: list[Element] = []
    if choices:
        body.append(text(strings.ASK_MEETING, weight="bolder"))
        body.append(text(strings.UPCOMING_HEADING, subtle=True, size="small", spacing="medium"))
        body.extend(_choice(m, tz_name=tz_name, now=now) for m in choices)
    else:
        body.append(text(strings.ASK_MEETING_NO_UPCOMING, weight="bolder"))
    if note:
        body.append(text(note, subtle=True, size="small"))
    paste = [
        text_input(
            actions.INPUT_MEETING_REF,
            label=strings.PASTE_LABEL,
            value=meeting_ref,
            placeholder=strings.PASTE_PLACEHOLDER,
        )
    ]
    if reason:
        paste.append(error_text(reason))
    paste.append(action_set([submit(strings.BUTTON_USE_MEETING, actions.MEETING_REF, primary=True)]))
    body.append(container(paste, separator=bool(choices), spacing="large"))
    buttons = [
        submit(strings.BUTTON_NEW_MEETING, actions.NEW_MEETING, inputs=False),
        submit(strings.BUTTON_CANCEL, actions.CANCEL, inputs=False),
    ]
    return adaptive_card(body, buttons)
