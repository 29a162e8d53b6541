"""Typed results of the Graph calls, built from Graph's JSON by small tolerant constructors.

Graph omits properties freely (and `$select` drops more), so every field but the id may be None.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _dict(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {}


def parse_datetime(value: Any) -> datetime | None:
    """An ISO 8601 date-time from Graph (7 fractional digits and `Z` allowed); None if absent or malformed."""
    text = _str(value)
    if text is None:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def zone(name: str) -> ZoneInfo | None:
    """The IANA zone for a name, or None (Windows zone names like `Pacific Standard Time` stay unresolved)."""
    if name.upper() == "UTC":
        return ZoneInfo("UTC")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def parse_event_time(value: Any) -> datetime | None:
    """A calendar `dateTimeTimeZone` object: naive local time plus a zone name; aware when the zone is IANA."""
    data = _dict(value)
    moment = parse_datetime(data.get("dateTime"))
    if moment is None or moment.tzinfo is not None:
        return moment
    tz = zone(_str(data.get("timeZone")) or "UTC")
    return moment.replace(tzinfo=tz) if tz is not None else moment


@dataclass(frozen=True, slots=True)
class Meeting:
    """The meeting a link is for, as the whole bot carries it: its Graph onlineMeeting id and what the result card
    shows (subject, times). Every source (a Graph lookup, Teams' meeting info, a new meeting, a Bookings
    appointment) ends up as this.

    `id` is empty when only Bookings knows the meeting (its mailbox organises it): then `client_url` (the
    appointment's anonymousJoinWebUrl) is the link, and nothing can be texted by the bot. `customer` prefills the
    client form; `on_calendar` is False when `new` could not put the meeting on the user's calendar."""

    id: str
    subject: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    client_url: str | None = None
    booking_id: str | None = None
    customer: BookingCustomer | None = None
    on_calendar: bool | None = None

    def to_state(self) -> dict[str, Any]:
        """Plain JSON data for dialog state (times as ISO 8601 strings)."""
        return {
            "id": self.id,
            "subject": self.subject,
            "start": self.start.isoformat() if self.start else None,
            "end": self.end.isoformat() if self.end else None,
            "clientUrl": self.client_url,
            "bookingId": self.booking_id,
            "customer": self.customer.to_state() if self.customer else None,
            "onCalendar": self.on_calendar,
        }

    @classmethod
    def from_state(cls, data: Any) -> Meeting:
        """The inverse of `to_state`; tolerant of missing fields."""
        state = _dict(data)
        customer = state.get("customer")
        on_calendar = state.get("onCalendar")
        return cls(
            id=str(state.get("id") or ""),
            subject=_str(state.get("subject")),
            start=parse_datetime(state.get("start")),
            end=parse_datetime(state.get("end")),
            client_url=_str(state.get("clientUrl")),
            booking_id=_str(state.get("bookingId")),
            customer=BookingCustomer.from_state(customer) if isinstance(customer, dict) else None,
            on_calendar=on_calendar if isinstance(on_calendar, bool) else None,
        )


@dataclass(frozen=True, slots=True)
class OnlineMeeting:
    """The onlineMeeting fields the bot uses."""

    id: str
    subject: str | None
    start: datetime | None
    end: datetime | None
    join_web_url: str | None
    join_meeting_id: str | None
    passcode: str | None
    organizer_id: str | None
    external_id: str | None = None
    chat_thread_id: str | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> OnlineMeeting:
        settings = _dict(data.get("joinMeetingIdSettings"))
        organizer = _dict(_dict(_dict(_dict(data.get("participants")).get("organizer")).get("identity")).get("user"))
        return cls(
            id=str(data.get("id", "")),
            subject=_str(data.get("subject")),
            start=parse_datetime(data.get("startDateTime")),
            end=parse_datetime(data.get("endDateTime")),
            join_web_url=_str(data.get("joinWebUrl")),
            join_meeting_id=_str(settings.get("joinMeetingId")),
            passcode=_str(settings.get("passcode")),
            organizer_id=_str(organizer.get("id")),
            external_id=_str(data.get("externalId")),
            chat_thread_id=_str(_dict(data.get("chatInfo")).get("threadId")),
        )

    def as_meeting(self) -> Meeting:
        return Meeting(self.id, self.subject, self.start, self.end)


@dataclass(frozen=True, slots=True)
class CreatedMeeting:
    """Result of createOrGet: the meeting, and whether this call created it (201) or found it (200)."""

    meeting: OnlineMeeting
    created: bool


@dataclass(frozen=True, slots=True)
class UpcomingMeeting:
    """A calendar event with a Teams meeting that the user organises, times in the zone asked for (`time_zone`).

    Only such events can get a client link: Graph refuses the join-URL lookup to anyone but the organiser.
    """

    event_id: str
    subject: str | None
    start: datetime | None
    end: datetime | None
    time_zone: str
    attendees: tuple[str, ...]
    join_url: str

    @classmethod
    def from_event(cls, data: Mapping[str, Any]) -> UpcomingMeeting | None:
        """None for events that cannot get a link: offline, cancelled, no join URL, or organised by someone else
        (`isOrganizer` must be true; an event without it, e.g. from a `$select` that forgot it, is not offered)."""
        join_url = _str(_dict(data.get("onlineMeeting")).get("joinUrl"))
        if (
            data.get("isOnlineMeeting") is False
            or data.get("isCancelled") is True
            or data.get("isOrganizer") is not True
            or join_url is None
        ):
            return None
        names = tuple(
            name
            for attendee in data.get("attendees") or ()
            if (name := _str(_dict(_dict(attendee).get("emailAddress")).get("name")))
        )
        start = _dict(data.get("start"))
        return cls(
            event_id=str(data.get("id", "")),
            subject=_str(data.get("subject")),
            start=parse_event_time(start),
            end=parse_event_time(data.get("end")),
            time_zone=_str(start.get("timeZone")) or "UTC",
            attendees=names,
            join_url=join_url,
        )


@dataclass(frozen=True, slots=True)
class CreatedEvent:
    """The answer to `POST /me/events`: the event, and the Teams join URL Graph attached to it (if yet)."""

    event_id: str
    join_url: str | None
    transaction_id: str | None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CreatedEvent:
        return cls(
            event_id=str(data.get("id", "")),
            join_url=_str(_dict(data.get("onlineMeeting")).get("joinUrl")),
            transaction_id=_str(data.get("transactionId")),
        )


@dataclass(frozen=True, slots=True)
class ScheduledMeeting:
    """A meeting made for `new`: on the user's calendar (`POST /me/events`), or, without calendar consent, a
    standalone `createOrGet` meeting that is not on it (`on_calendar` False: the user must be told)."""

    meeting: OnlineMeeting
    on_calendar: bool
    event_id: str | None = None


@dataclass(frozen=True, slots=True)
class Me:
    """The signed-in user: who they are in Graph, and the addresses Bookings may know them by."""

    id: str
    display_name: str | None
    mail: str | None
    user_principal_name: str | None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Me:
        return cls(
            id=str(data.get("id", "")),
            display_name=_str(data.get("displayName")),
            mail=_str(data.get("mail")),
            user_principal_name=_str(data.get("userPrincipalName")),
        )

    @property
    def addresses(self) -> frozenset[str]:
        """Mail and UPN, case-folded: e-mail addresses compare case-insensitively."""
        return frozenset(a.casefold() for a in (self.mail, self.user_principal_name) if a)


@dataclass(frozen=True, slots=True)
class BookingBusiness:
    """A Bookings business (its id is the booking mailbox's address)."""

    id: str
    display_name: str | None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> BookingBusiness:
        return cls(id=str(data.get("id", "")), display_name=_str(data.get("displayName")))


@dataclass(frozen=True, slots=True)
class BookingStaffMember:
    id: str
    display_name: str | None
    email: str | None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> BookingStaffMember:
        return cls(
            id=str(data.get("id", "")),
            display_name=_str(data.get("displayName")),
            email=_str(data.get("emailAddress")),
        )


@dataclass(frozen=True, slots=True)
class BookingCustomer:
    """One `bookingCustomerInformation`: what the client form can be prefilled with."""

    name: str | None
    email: str | None
    phone: str | None
    time_zone: str | None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> BookingCustomer:
        return cls(
            name=_str(data.get("name")),
            email=_str(data.get("emailAddress")),
            phone=_str(data.get("phone")),
            time_zone=_str(data.get("timeZone")),
        )

    def to_state(self) -> dict[str, Any]:
        """Plain JSON for dialog state, in Graph's own field names (so `from_state` is `from_json`)."""
        return {"name": self.name, "emailAddress": self.email, "phone": self.phone, "timeZone": self.time_zone}

    @classmethod
    def from_state(cls, data: Any) -> BookingCustomer:
        return cls.from_json(_dict(data))


@dataclass(frozen=True, slots=True)
class BookingAppointment:
    """A `bookingAppointment`, with the business it belongs to. Its online meeting is organised by the booking
    mailbox, so the client link is `anonymous_join_web_url` (the join-link function works only for an organiser)."""

    id: str
    business_id: str
    business_name: str | None
    service_name: str | None
    start: datetime | None
    end: datetime | None
    staff_member_ids: tuple[str, ...]
    is_online: bool
    join_web_url: str | None
    anonymous_join_web_url: str | None
    sms_notifications_enabled: bool
    customers: tuple[BookingCustomer, ...]

    @classmethod
    def from_json(cls, data: Mapping[str, Any], business: BookingBusiness) -> BookingAppointment:
        customers = tuple(BookingCustomer.from_json(c) for c in data.get("customers") or () if isinstance(c, dict))
        if not customers and (data.get("customerName") or data.get("customerEmailAddress")):
            customers = (  # the older flat fields, still returned beside `customers`
                BookingCustomer(
                    name=_str(data.get("customerName")),
                    email=_str(data.get("customerEmailAddress")),
                    phone=_str(data.get("customerPhone")),
                    time_zone=_str(data.get("customerTimeZone")),
                ),
            )
        staff = data.get("staffMemberIds")
        return cls(
            id=str(data.get("id", "")),
            business_id=business.id,
            business_name=business.display_name,
            service_name=_str(data.get("serviceName")),
            start=parse_event_time(data.get("start") or data.get("startDateTime")),
            end=parse_event_time(data.get("end") or data.get("endDateTime")),
            staff_member_ids=tuple(s for s in staff if isinstance(s, str)) if isinstance(staff, list) else (),
            is_online=data.get("isLocationOnline") is True,
            join_web_url=_str(data.get("joinWebUrl")),
            anonymous_join_web_url=_str(data.get("anonymousJoinWebUrl")),
            sms_notifications_enabled=data.get("smsNotificationsEnabled") is True,
            customers=customers,
        )

    @property
    def customer(self) -> BookingCustomer | None:
        """The first customer (a one-to-one appointment has exactly one)."""
        return self.customers[0] if self.customers else None


@dataclass(frozen=True, slots=True)
class SmsAttendee:
    """One SMS recipient: an E.164 phone number and the zone the text's times are shown in."""

    phone_number: str
    time_zone: str = "UTC"

    def to_json(self) -> dict[str, str]:
        return {"phoneNumber": self.phone_number, "timeZone": self.time_zone}


def utc_iso(moment: datetime) -> str:
    """A datetime as Graph's UTC form (`...Z`); naive input is taken as UTC."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
