"""The "which meeting?" card: upcoming online meetings as one-tap choices, beside a box for a pasted reference.

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
    """What the card needs of a meeting; graph's calendar dataclass fits without conversion."""

    @property
    def subject(self) -> str | None: ...
    @property
    def start(self) -> datetime | None: ...
    @property
    def end(self) -> datetime | None: ...
    @property
    def join_url(self) -> str | None: ...
    @property
    def attendees(self) -> Sequence[str]: ...


def _soonest_first(meetings: Iterable[MeetingLike]) -> list[MeetingLike]:
    """Choosable meetings (those with a join URL), soonest first, undated ones last."""
    usable = [m for m in meetings if m.join_url]
    return sorted(usable, key=lambda m: (m.start is None, as_aware(m.start).timestamp() if m.start else 0.0))


def _choice(meeting: MeetingLike, *, tz_name: str | None, now: datetime) -> Element:
    """One meeting row; the whole row and its button both choose it."""
    choose = submit(
        strings.BUTTON_CHOOSE,
        actions.CHOOSE_MEETING,
        extra={"meetingRef": meeting.join_url or ""},
        inputs=False,
    )
    details = [text(meeting.subject or strings.NO_SUBJECT, weight="bolder")]
    if meeting.start is not None:
        when = format_when(meeting.start, meeting.end, tz_name=tz_name, now=now)
        if is_happening(meeting.start, meeting.end, now):
            when += f" · {strings.NOW_MARKER}"
        details.append(text(when, spacing="none", subtle=True))
    attendees = strings.attendee_line(meeting.attendees)
    if attendees:
        details.append(text(attendees, spacing="none", subtle=True, size="small"))
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
) -> Card:
    """Ask which meeting: up to ``MAX_CHOICES`` upcoming meetings, a paste box, "New meeting" and "Cancel".

    ``reason`` (why the last reference was not accepted) is shown under the paste box, which keeps ``meeting_ref``.
    """
    choices = _soonest_first(meetings)[:MAX_CHOICES]
    body: list[Element] = []
    if choices:
        body.append(text(strings.ASK_MEETING, weight="bolder"))
        body.append(text(strings.UPCOMING_HEADING, subtle=True, size="small", spacing="medium"))
        body.extend(_choice(m, tz_name=tz_name, now=now) for m in choices)
    else:
        body.append(text(strings.ASK_MEETING_NO_UPCOMING, weight="bolder"))
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
