"""One list of meetings to choose from: calendar meetings the user organises and their own Bookings appointments.

Pure: no I/O, no clock. The same meeting can be found twice (a Bookings appointment whose meeting the user
organises is also on their calendar); it is offered once, as the Bookings appointment (which knows the customer),
noting that the user organises it (so the bot may text its link).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from graph.models import BookingAppointment, BookingCustomer, UpcomingMeeting
from graph.references import join_url_organizer, join_url_thread


class ChoiceSource(StrEnum):
    CALENDAR = "calendar"
    BOOKINGS = "bookings"


@dataclass(frozen=True, slots=True)
class MeetingChoice:
    """One choosable meeting, from either source."""

    source: ChoiceSource
    subject: str | None
    start: datetime | None
    end: datetime | None
    join_url: str | None  # the Teams (staff) join URL
    user_organises: bool  # the join-link function and texting work only for the organiser
    attendees: tuple[str, ...] = ()
    appointment: BookingAppointment | None = None

    @property
    def customer(self) -> BookingCustomer | None:
        return self.appointment.customer if self.appointment else None

    @property
    def customer_name(self) -> str | None:
        customer = self.customer
        return customer.name if customer else None

    @property
    def business_name(self) -> str | None:
        return self.appointment.business_name if self.appointment else None

    @property
    def reference(self) -> str:
        """What names this meeting as a `get link` reference: the appointment id for a booking (it brings back
        the customer and the anonymous link), else the join URL."""
        return self.appointment.id if self.appointment else (self.join_url or "")

    @property
    def key(self) -> str:
        """What identifies the meeting across sources: its chat thread, else its URL, else the appointment."""
        if self.join_url:
            return join_url_thread(self.join_url) or self.join_url
        return f"booking:{self.appointment.id}" if self.appointment else ""


def from_calendar(meeting: UpcomingMeeting) -> MeetingChoice:
    """Calendar choices are organised by the user (`UpcomingMeeting` keeps only those)."""
    return MeetingChoice(
        ChoiceSource.CALENDAR,
        meeting.subject,
        meeting.start,
        meeting.end,
        meeting.join_url,
        user_organises=True,
        attendees=meeting.attendees,
    )


def from_booking(appointment: BookingAppointment, *, user_id: str | None) -> MeetingChoice:
    """A Bookings appointment; the user organises its meeting only when the join URL names them as organiser
    (normally the booking mailbox does)."""
    organiser = join_url_organizer(appointment.join_web_url) if appointment.join_web_url else None
    customer = appointment.customer
    return MeetingChoice(
        ChoiceSource.BOOKINGS,
        appointment.service_name,
        appointment.start,
        appointment.end,
        appointment.join_web_url,
        user_organises=bool(user_id) and organiser == (user_id or "").casefold(),
        attendees=(customer.name,) if customer and customer.name else (),
        appointment=appointment,
    )


def _when(choice: MeetingChoice) -> tuple[bool, float]:
    """Soonest first, undated last; a naive time (a Windows zone name Python cannot resolve) is taken as UTC."""
    if choice.start is None:
        return (True, 0.0)
    start = choice.start if choice.start.tzinfo else choice.start.replace(tzinfo=UTC)
    return (False, start.timestamp())


def merge_choices(
    calendar: Iterable[UpcomingMeeting],
    bookings: Iterable[BookingAppointment],
    *,
    user_id: str | None,
    limit: int = 10,
) -> list[MeetingChoice]:
    """Both sources as one list, soonest first, each meeting once (the Bookings entry wins), at most `limit`.
    A Bookings appointment that is also on the calendar is one the user organises. Only meetings that can get a
    client link are offered: an appointment without `anonymousJoinWebUrl` only when the user organises it."""
    by_key: dict[str, MeetingChoice] = {}
    for choice in (from_calendar(m) for m in calendar):
        by_key.setdefault(choice.key, choice)
    for appointment in bookings:
        choice = from_booking(appointment, user_id=user_id)
        earlier = by_key.get(choice.key)
        if not appointment.anonymous_join_web_url and not choice.user_organises and earlier is None:
            continue  # no client link from Bookings, and only the organiser could get one: not offered
        if earlier is not None and earlier.source is ChoiceSource.BOOKINGS:
            continue
        if earlier is not None:  # also on the calendar, organised by the user
            choice = MeetingChoice(
                choice.source,
                choice.subject or earlier.subject,
                choice.start or earlier.start,
                choice.end or earlier.end,
                choice.join_url,
                user_organises=True,
                attendees=choice.attendees,
                appointment=appointment,
            )
        by_key[choice.key] = choice
    return sorted(by_key.values(), key=_when)[:limit]
