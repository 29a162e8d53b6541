"""A Microsoft Graph simulator for the virtual-appointment surface, served on loopback.

Serves DESIGN.md section 5 on `/v1.0` and `/beta` with Graph's field names, status codes and error bodies
(`{"error": {"code", "message", "innerError": {"request-id", "date", "client-request-id"}}}`), keeps meetings per
organizer, checks bearer tokens it issued, and injects latency, error statuses with `Retry-After` and dropped
connections on demand. State is guarded by one lock, so tests and the bot may drive it from any thread.

`$filter=JoinWebUrl eq '<url>'` matches the long join URL exactly as stored, and also the short form
`https://teams.microsoft.com/meet/<joinMeetingId>?p=<passcode>` (Teams shows both for one meeting).

Calendars hold events the user organises and invitations from others (`isOrganizer` false, the meeting owned by
the organiser, so its lookup answers 403 as Graph does), cancelled and offline ones; calendarView pages by `$top`
(default 10, capped by `max_page_size`) with an `@odata.nextLink` carrying `$skip`. `POST /me/events` makes a
calendar event with a real online meeting, once per `transactionId`. Bookings businesses have staff, services and
appointments (online ones with a meeting organised by the booking mailbox, which also lands on the staff members'
calendars as an invitation); a user sees the staff and appointments of businesses they are staff in, 403 elsewhere.
`deny()` makes a route answer 403 for a user until `allow()`, as a missing consent or licence does (or 404
`MailboxNotEnabledForRESTAPI` on `sendMail`, a user without an Exchange Online mailbox). `POST /me/sendMail` checks
the message as Exchange does (recipients, body type, base64 attachments, size), answers 202 and keeps what was sent
(`mail_sent`), which local mode's outbox page shows.

Run `python -m graph.simulator --port 8765` for a standalone simulator with seed data and printed tokens.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import re
import secrets
import threading
import uuid
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple
from urllib.parse import quote, unquote

from aiohttp import web

from graph.models import parse_datetime, zone
from graph.references import Rejected, RejectReason, parse_meeting_reference

DEFAULT_TENANT = "a796be92-0000-4c3b-9f1e-5a1d2c3b4e5f"
ADELE = "4a1c3f7e-0c1e-4b8e-9a53-2f6b8d1e5a10"
MEGAN = "7d2e9b41-5f3a-4c6d-8e1f-0a9b3c5d7e21"
VERSIONS = frozenset({"v1.0", "beta"})
SMS_TYPES = frozenset({"confirmation", "reschedule", "cancellation"})
REMINDER_TYPES = frozenset({"mins15"})
MAIL_DOMAIN = "contoso.example"
_ACCESS_DENIED = "Access is denied. Check credentials and try again."
MAIL_MAX_BYTES = 4 * 1024 * 1024  # a JSON sendMail request above this is refused (attachments over 3 MB need uploads)
_MAIL_ADDRESS = re.compile(r"^[^@\s<>\"]{1,64}@[^@\s<>\"]{1,255}\.[^@\s<>\".]{2,63}$")
_US_PHONE = re.compile(r"^\+1[2-9]\d{2}[2-9]\d{6}$")
_JOIN_URL_FILTER = re.compile(r"^\s*joinWebUrl\s+eq\s+'((?:[^']|'')*)'\s*$", re.IGNORECASE)
_MEETING_ID_FILTER = re.compile(r"^\s*joinMeetingIdSettings/joinMeetingId\s+eq\s+'(\d+)'\s*$", re.IGNORECASE)
_PREFER_TZ = re.compile(r'outlook\.timezone\s*=\s*"([^"]+)"', re.IGNORECASE)
_WINDOWS_ZONES = {
    "Pacific Standard Time": "America/Los_Angeles",
    "Mountain Standard Time": "America/Denver",
    "Central Standard Time": "America/Chicago",
    "Eastern Standard Time": "America/New_York",
    "GMT Standard Time": "Europe/London",
    "W. Europe Standard Time": "Europe/Berlin",
    "India Standard Time": "Asia/Kolkata",
}
_STATUS_CODES = {
    400: "BadRequest",
    401: "InvalidAuthenticationToken",
    403: "Forbidden",
    404: "NotFound",
    409: "Conflict",
    412: "PreconditionFailed",
    429: "TooManyRequests",
    500: "InternalServerError",
    502: "BadGateway",
    503: "ServiceNotAvailable",
    504: "GatewayTimeout",
}


def _lower_escapes(text: str) -> str:
    """Teams writes percent escapes in lower case (`19%3ameeting_...%40thread.v2`)."""
    return re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), text)


def _graph_time(moment: datetime) -> str:
    """Graph's 7-digit fraction, UTC with `Z`."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z"


@dataclass
class SimMeeting:
    """One online meeting, owned by its organizer."""

    id: str
    organizer_id: str
    tenant_id: str
    subject: str | None
    start: datetime
    end: datetime
    thread_id: str
    join_meeting_id: str
    passcode: str
    created: datetime
    external_id: str | None = None
    virtual_appointment: dict[str, Any] | None = None
    va_etag: str | None = None

    @property
    def join_web_url(self) -> str:
        context = json.dumps({"Tid": self.tenant_id, "Oid": self.organizer_id}, separators=(",", ":"))
        thread = quote(self.thread_id, safe="")
        return _lower_escapes(f"https://teams.microsoft.com/l/meetup-join/{thread}/0?context={quote(context, safe='')}")

    @property
    def short_url(self) -> str:
        return f"https://teams.microsoft.com/meet/{self.join_meeting_id}?p={self.passcode}"

    @property
    def virtual_appointment_url(self) -> str:
        return f"https://visit.teams.microsoft.com/webrtc-svc/api/route?tid={self.tenant_id}&convId={self.thread_id}"

    def to_json(self, organizer_name: str | None) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id,
            "creationDateTime": _graph_time(self.created),
            "startDateTime": _graph_time(self.start),
            "endDateTime": _graph_time(self.end),
            "joinWebUrl": self.join_web_url,
            "subject": self.subject,
            "isBroadcast": False,
            "allowedPresenters": "everyone",
            "joinMeetingIdSettings": {
                "isPasscodeRequired": True,
                "joinMeetingId": self.join_meeting_id,
                "passcode": self.passcode,
            },
            "participants": {
                "organizer": {
                    "role": "presenter",
                    "identity": {
                        "user": {
                            "id": self.organizer_id,
                            "displayName": organizer_name,
                            "tenantId": self.tenant_id,
                            "identityProvider": "AAD",
                        }
                    },
                },
                "attendees": [],
            },
            "chatInfo": {"threadId": self.thread_id, "messageId": "0", "replyChainMessageId": None},
            "lobbyBypassSettings": {"scope": "organization", "isDialInBypassEnabled": False},
        }
        if self.external_id is not None:
            data["externalId"] = self.external_id
        return data


@dataclass
class SimEvent:
    """A calendar event; online ones point at a SimMeeting."""

    id: str
    owner_id: str
    subject: str
    start: datetime
    end: datetime
    meeting: SimMeeting | None
    attendees: tuple[str, ...] = ()
    cancelled: bool = False
    organizer_id: str = ""  # empty: the owner organises it
    transaction_id: str | None = None

    @property
    def is_organizer(self) -> bool:
        return self.organizer_id in ("", self.owner_id)


@dataclass
class SimUser:
    id: str
    display_name: str
    mail: str
    user_principal_name: str

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "displayName": self.display_name,
            "mail": self.mail,
            "userPrincipalName": self.user_principal_name,
            "businessPhones": [],
            "jobTitle": None,
        }


@dataclass
class SimStaff:
    id: str
    display_name: str
    email: str
    role: str = "teamMember"
    user_id: str | None = None


@dataclass
class SimService:
    id: str
    display_name: str
    is_online: bool = True
    minutes: int = 30


@dataclass
class SimBusiness:
    """A Bookings business; `id` is its mailbox address, `mailbox_user_id` the mailbox's object id (it organises
    the appointments' online meetings)."""

    id: str
    display_name: str
    mailbox_user_id: str
    staff: list[SimStaff] = field(default_factory=list)
    services: list[SimService] = field(default_factory=list)


@dataclass
class SimAppointment:
    id: str
    business: SimBusiness
    service: SimService
    start: datetime
    end: datetime
    staff_ids: tuple[str, ...]
    customers: tuple[Mapping[str, Any], ...]
    meeting: SimMeeting | None
    anonymous: bool = True  # whether Graph fills anonymousJoinWebUrl
    sms_notifications: bool = True


@dataclass(frozen=True)
class SentMail:
    """One message `sendMail` accepted: who sent it, to whom, and exactly what (attachments decoded)."""

    user_id: str
    sender: str
    to: tuple[str, ...]
    subject: str
    content_type: str
    content: str
    attachments: tuple[tuple[str, str, bytes], ...]  # (name, content type, bytes)
    saved: bool  # saved to Sent Items
    at: datetime


class RecordedRequest(NamedTuple):
    """What arrived (the Authorization header is never recorded)."""

    method: str
    path: str
    client_request_id: str | None
    query: Mapping[str, str]
    headers: Mapping[str, str]


@dataclass
class _Fault:
    path: str | None
    method: str | None
    status: int | None
    retry_after: str | None
    times: int
    latency: float
    drop: bool
    drop_after: bool
    body: Mapping[str, Any] | None


@dataclass
class _Denial:
    path: str
    user_id: str | None
    method: str | None
    status: int
    code: str
    message: str


class _Reply(Exception):
    """Raised inside handlers to answer with a Graph-shaped error."""

    def __init__(self, status: int, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code or _STATUS_CODES.get(status, "UnknownError")


@dataclass
class _Call:
    """One parsed request: version, caller, the path after the owner, and the raw request."""

    version: str
    user_id: str
    tail: list[str]
    request: web.Request
    extra_headers: dict[str, str] = field(default_factory=dict)


class GraphSimulator:
    """State of the simulated tenant. `create_app()` serves it; every public method is thread-safe."""

    def __init__(self, *, tenant_id: str = DEFAULT_TENANT, seed: bool = True, now: datetime | None = None) -> None:
        self.tenant_id = tenant_id
        self._lock = threading.Lock()
        self._users: dict[str, SimUser] = {}
        self._tokens: dict[str, str] = {}
        self._meetings: dict[str, SimMeeting] = {}
        self._events: list[SimEvent] = []
        self._businesses: dict[str, SimBusiness] = {}
        self._appointments: list[SimAppointment] = []
        self._denials: list[_Denial] = []
        self.max_page_size = 1000  # calendarView's $top cap; tests lower it to force paging
        self._faults: list[_Fault] = []
        self._requests: list[RecordedRequest] = []
        self._sms: list[dict[str, Any]] = []
        self._mail: list[SentMail] = []
        if seed:
            self._seed((now or datetime.now(UTC)).replace(second=0, microsecond=0))

    # ---- state: users, tokens, meetings, events -------------------------------------------------------------

    def add_user(
        self, user_id: str, display_name: str, *, mail: str | None = None, user_principal_name: str | None = None
    ) -> SimUser:
        """Register (or rename) a user; mail and UPN default to `<first name><initial>@contoso.example`."""
        with self._lock:
            return self._add_user_locked(user_id, display_name, mail, user_principal_name)

    def _add_user_locked(
        self, user_id: str, display_name: str, mail: str | None = None, upn: str | None = None
    ) -> SimUser:
        words = display_name.split()
        alias = (words[0] + (words[-1][:1] if len(words) > 1 else "")) if words else user_id
        alias = re.sub(r"[^A-Za-z0-9._-]", "", alias) or user_id
        current = self._users.get(user_id)
        user = SimUser(
            user_id,
            display_name,
            mail or (current.mail if current and current.display_name == display_name else f"{alias}@{MAIL_DOMAIN}"),
            upn
            or (
                current.user_principal_name
                if current and current.display_name == display_name
                else f"{alias.lower()}@{MAIL_DOMAIN}"
            ),
        )
        self._users[user_id] = user
        return user

    def issue_token(self, user_id: str, *, display_name: str | None = None) -> str:
        """A new bearer token for `user_id` (registered on first use)."""
        token = secrets.token_urlsafe(24)
        with self._lock:
            if display_name or user_id not in self._users:
                self._add_user_locked(user_id, display_name or user_id)
            self._tokens[token] = user_id
        return token

    def revoke_token(self, token: str) -> None:
        with self._lock:
            self._tokens.pop(token, None)

    def display_name(self, user_id: str) -> str | None:
        with self._lock:
            user = self._users.get(user_id)
        return user.display_name if user else None

    def user(self, user_id: str) -> SimUser | None:
        with self._lock:
            return self._users.get(user_id)

    def add_meeting(
        self,
        organizer_id: str,
        subject: str | None,
        start: datetime,
        end: datetime | None = None,
        *,
        external_id: str | None = None,
    ) -> SimMeeting:
        with self._lock:
            finish = end or start + timedelta(hours=1)
            return self._add_meeting_locked(organizer_id, subject, start, finish, external_id)

    def _add_meeting_locked(
        self, organizer_id: str, subject: str | None, start: datetime, end: datetime, external_id: str | None
    ) -> SimMeeting:
        if organizer_id not in self._users:
            self._add_user_locked(organizer_id, organizer_id)
        while True:  # ids without '/' or '+' keep the printed seed data copy-pasteable
            token = base64.b64encode(str(uuid.uuid4()).encode()).decode().rstrip("=")
            thread_id = f"19:meeting_{token}@thread.v2"
            meeting_id = base64.b64encode(f"1*{organizer_id}*0**{thread_id}".encode()).decode()
            if not set(meeting_id) & {"/", "+"}:
                break
        meeting = SimMeeting(
            id=meeting_id,
            organizer_id=organizer_id,
            tenant_id=self.tenant_id,
            subject=subject,
            start=start,
            end=end,
            thread_id=thread_id,
            join_meeting_id=str(secrets.randbelow(9 * 10**11) + 10**11),
            passcode=secrets.token_urlsafe(6)[:6].replace("-", "x").replace("_", "y"),
            created=datetime.now(UTC),
            external_id=external_id,
        )
        self._meetings[meeting.id] = meeting
        return meeting

    def add_event(
        self,
        owner_id: str,
        subject: str,
        start: datetime,
        end: datetime | None = None,
        *,
        online: bool = True,
        attendees: Iterable[str] = (),
        cancelled: bool = False,
        organizer_id: str | None = None,
        meeting: SimMeeting | None = None,
    ) -> SimEvent:
        """An event on `owner_id`'s calendar. An online one has a meeting (`meeting`, else a new one) organised
        by `organizer_id` (default: the owner); when that is someone else the event is an invitation."""
        finish = end or start + timedelta(minutes=30)
        organizer = organizer_id or owner_id
        with self._lock:
            if online and meeting is None:
                meeting = self._add_meeting_locked(organizer, subject, start, finish, None)
            return self._add_event_locked(
                owner_id, subject, start, finish, meeting if online else None, tuple(attendees), cancelled, organizer
            )

    def _add_event_locked(
        self,
        owner_id: str,
        subject: str,
        start: datetime,
        end: datetime,
        meeting: SimMeeting | None,
        attendees: tuple[str, ...],
        cancelled: bool,
        organizer_id: str,
        transaction_id: str | None = None,
    ) -> SimEvent:
        event = SimEvent(
            id="AAMkAG" + base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("="),
            owner_id=owner_id,
            subject=subject,
            start=start,
            end=end,
            meeting=meeting,
            attendees=attendees,
            cancelled=cancelled,
            organizer_id="" if organizer_id == owner_id else organizer_id,
            transaction_id=transaction_id,
        )
        self._events.append(event)
        return event

    def events_of(self, user_id: str) -> list[SimEvent]:
        with self._lock:
            return sorted((e for e in self._events if e.owner_id == user_id), key=lambda e: e.start)

    # ---- Bookings -----------------------------------------------------------------------------------------

    def add_business(self, display_name: str, mailbox: str | None = None) -> SimBusiness:
        """A Bookings business with its own mailbox (which organises the appointments' meetings)."""
        slug = re.sub(r"[^A-Za-z0-9]", "", display_name) or "Bookings"
        business = SimBusiness(
            id=mailbox or f"{slug}@{MAIL_DOMAIN}", display_name=display_name, mailbox_user_id=str(uuid.uuid4())
        )
        with self._lock:
            self._add_user_locked(business.mailbox_user_id, display_name, business.id, business.id)
            self._businesses[business.id] = business
        return business

    def add_staff(
        self,
        business: SimBusiness,
        display_name: str,
        email: str,
        *,
        user_id: str | None = None,
        role: str = "teamMember",
    ) -> SimStaff:
        staff = SimStaff(str(uuid.uuid4()), display_name, email, role, user_id)
        with self._lock:
            business.staff.append(staff)
        return staff

    def add_service(self, business: SimBusiness, name: str, *, online: bool = True, minutes: int = 30) -> SimService:
        service = SimService(str(uuid.uuid4()), name, online, minutes)
        with self._lock:
            business.services.append(service)
        return service

    def add_appointment(
        self,
        business: SimBusiness,
        service: SimService,
        start: datetime,
        *,
        staff: Sequence[SimStaff],
        customer: Mapping[str, Any] | None = None,
        online: bool | None = None,
        anonymous: bool = True,
        sms_notifications: bool = True,
        organizer_id: str | None = None,
    ) -> SimAppointment:
        """An appointment; an online one gets a meeting organised by the business mailbox (or `organizer_id`),
        and every staff member who is a user finds it on their calendar as an invitation (or as their own
        meeting, when they organise it)."""
        is_online = service.is_online if online is None else online
        end = start + timedelta(minutes=service.minutes)
        organizer = organizer_id or business.mailbox_user_id
        with self._lock:
            meeting = self._add_meeting_locked(organizer, service.display_name, start, end, None) if is_online else None
            appointment = SimAppointment(
                id="AAMkAD" + base64.b64encode(uuid.uuid4().bytes).decode(),
                business=business,
                service=service,
                start=start,
                end=end,
                staff_ids=tuple(m.id for m in staff),
                customers=(dict(customer),) if customer else (),
                meeting=meeting,
                anonymous=anonymous,
                sms_notifications=sms_notifications,
            )
            self._appointments.append(appointment)
            for member in staff:
                if member.user_id is not None:
                    self._add_event_locked(
                        member.user_id, service.display_name, start, end, meeting, (), False, organizer
                    )
        return appointment

    # ---- access -------------------------------------------------------------------------------------------

    def deny(
        self,
        path: str,
        *,
        user_id: str | None = None,
        method: str | None = None,
        status: int = 403,
        code: str = "ErrorAccessDenied",
        message: str = _ACCESS_DENIED,
    ) -> None:
        """Answer requests whose path contains `path` (for `user_id`, or anyone) with `status` until `allow()`:
        a missing consent (Calendars.ReadWrite, Bookings.Read.All) or licence (Teams Premium, Bookings)."""
        with self._lock:
            self._denials.append(_Denial(path, user_id, method.upper() if method else None, status, code, message))

    def allow(self) -> None:
        with self._lock:
            self._denials.clear()

    def _check_denied(self, user_id: str, method: str, path: str) -> None:
        with self._lock:
            denial = next(
                (
                    d
                    for d in self._denials
                    if d.path in path and d.user_id in (None, user_id) and d.method in (None, method)
                ),
                None,
            )
        if denial is not None:
            raise _Reply(denial.status, denial.message, denial.code)

    def meeting(self, meeting_id: str) -> SimMeeting | None:
        with self._lock:
            return self._meetings.get(meeting_id)

    def meetings_of(self, user_id: str) -> list[SimMeeting]:
        with self._lock:
            return sorted((m for m in self._meetings.values() if m.organizer_id == user_id), key=lambda m: m.start)

    def _seed(self, now: datetime) -> None:
        self.add_user(ADELE, "Adele Vance")
        self.add_user(MEGAN, "Megan Bowen")
        hour = timedelta(hours=1)
        self.add_event(ADELE, "Mortgage review - Jordan Lee", now + 2 * hour, attendees=["Jordan Lee", "Adele Vance"])
        self.add_event(ADELE, "Team lunch", now + 4 * hour, online=False, attendees=["Megan Bowen"])
        self.add_event(ADELE, "Cancelled consult", now + 5 * hour, cancelled=True, attendees=["Casey Jensen"])
        self.add_event(ADELE, "Account opening - Sam Patel", now + 26 * hour, attendees=["Sam Patel"])
        self.add_event(ADELE, "Quarterly planning", now + 72 * hour, attendees=["Megan Bowen"])
        self.add_event(MEGAN, "Pension advice - Alex Wilber", now + 3 * hour, attendees=["Alex Wilber"])
        self.add_event(ADELE, "Branch all-hands", now + 6 * hour, organizer_id=MEGAN, attendees=["Adele Vance"])
        self.seed_bookings(ADELE, now)

    def seed_bookings(self, user_id: str, now: datetime, *, business: SimBusiness | None = None) -> SimBusiness:
        """A Bookings business (new, or `business`) where `user_id` is staff: two online appointments for them
        (one whose meeting they organise, without `anonymousJoinWebUrl`), one in person, and one online for a
        colleague."""
        user = self.user(user_id)
        name = user.display_name if user else user_id
        business = business or self.add_business("Contoso Advice Centre")
        me = self.add_staff(
            business, name, (user.mail if user else f"{user_id}@{MAIL_DOMAIN}").lower(), user_id=user_id
        )
        other = self.add_staff(business, "Alex Wilber", f"alexw@{MAIL_DOMAIN}")
        services = {s.display_name: s for s in business.services}
        video = services.get("Video consultation") or self.add_service(business, "Video consultation", minutes=30)
        branch = services.get("Branch visit") or self.add_service(business, "Branch visit", online=False, minutes=45)
        hour = timedelta(hours=1)
        customer = {
            "name": "Jordan Miller",
            "emailAddress": "jordan.miller@fabrikam.example",
            "phone": "+1 213 555 0199",
            "timeZone": "America/Chicago",
        }
        self.add_appointment(business, video, now + 90 * timedelta(minutes=1), staff=[me], customer=customer)
        self.add_appointment(
            business,
            video,
            now + 28 * hour,
            staff=[me],
            anonymous=False,
            organizer_id=user_id,  # one the user organises: its link comes from the join-link function
            customer={
                "name": "Riley Chen",
                "emailAddress": "riley.chen@fabrikam.example",
                "phone": None,
                "timeZone": "America/New_York",
            },
        )
        self.add_appointment(business, branch, now + 5 * hour, staff=[me], customer={"name": "Casey Park"})
        self.add_appointment(business, video, now + 3 * hour, staff=[other], customer={"name": "Morgan Lee"})
        return business

    # ---- faults and observations --------------------------------------------------------------------------

    def inject(
        self,
        path: str | None = None,
        *,
        status: int | None = None,
        retry_after: str | float | None = None,
        times: int = 1,
        latency: float = 0.0,
        drop: bool = False,
        method: str | None = None,
        body: Mapping[str, Any] | None = None,
        drop_after: bool = False,
    ) -> None:
        """Make the next `times` requests whose path contains `path` (None: any) slow, fail or drop; `drop_after`
        drops the connection after Graph acted (the answer is lost, the change is made)."""
        fault = _Fault(
            path=path,
            method=method.upper() if method else None,
            status=status,
            retry_after=None if retry_after is None else str(retry_after),
            times=times,
            latency=latency,
            drop=drop,
            drop_after=drop_after,
            body=body,
        )
        with self._lock:
            self._faults.append(fault)

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    def count(self, path_substring: str, method: str | None = None) -> int:
        """How many requests reached a route, e.g. `sim.count("getVirtualAppointmentJoinWebUrl")`."""
        return sum(
            1 for r in self.requests if path_substring in r.path and (method is None or r.method == method.upper())
        )

    @property
    def sms_sent(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._sms)

    @property
    def mail_sent(self) -> list[SentMail]:
        """Every message `sendMail` accepted, oldest first."""
        with self._lock:
            return list(self._mail)

    def _take_fault(self, method: str, path: str) -> _Fault | None:
        with self._lock:
            for fault in self._faults:
                if (fault.path is None or fault.path in path) and fault.method in (None, method):
                    fault.times -= 1
                    if fault.times <= 0:
                        self._faults.remove(fault)
                    return fault
        return None

    # ---- HTTP ---------------------------------------------------------------------------------------------

    def create_app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        return app

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        request_id = str(uuid.uuid4())
        client_request_id = request.headers.get("client-request-id")
        path = unquote(request.rel_url.raw_path)
        headers = {k: v for k, v in request.headers.items() if k.lower() != "authorization"}
        recorded = RecordedRequest(request.method, path, client_request_id, dict(request.query), headers)
        with self._lock:
            self._requests.append(recorded)
        extra: dict[str, str] = {}
        try:
            response = await self._answer(request, path, extra)
        except _Reply as reply:
            response = _error(reply.status, reply.code, reply.message, request_id, client_request_id)
        except _Dropped:
            if request.transport is not None:
                request.transport.abort()
            return web.Response(status=499)
        response.headers.update(extra)
        response.headers["request-id"] = request_id
        if client_request_id:
            response.headers["client-request-id"] = client_request_id
        return response

    async def _answer(self, request: web.Request, path: str, extra: dict[str, str]) -> web.Response:
        fault = self._take_fault(request.method, path)
        response = await self._respond(fault, request, path, extra)
        if fault is not None and fault.drop_after:
            raise _Dropped  # Graph acted; the answer is lost on the way
        return response

    async def _respond(
        self, fault: _Fault | None, request: web.Request, path: str, extra: dict[str, str]
    ) -> web.Response:
        if fault is not None:
            if fault.latency:
                await asyncio.sleep(fault.latency)
            if fault.drop:
                raise _Dropped
            if fault.status is not None:
                if fault.retry_after is not None:
                    extra["Retry-After"] = fault.retry_after
                if fault.body is not None:
                    return web.json_response(dict(fault.body), status=fault.status)
                raise _Reply(fault.status, f"Injected {fault.status}")
        caller = self._authenticate(request)
        self._check_denied(caller, request.method, path)
        segments = [unquote(s) for s in request.rel_url.raw_path.split("/")[1:]]
        if not segments or segments[0] not in VERSIONS:
            raise _Reply(400, "Invalid version.")
        rest = segments[1:]
        if rest[:2] == ["solutions", "bookingBusinesses"]:
            return await self._route_bookings(_Call(segments[0], caller, rest[2:], request, extra))
        if rest[:1] == ["me"]:
            tail = rest[1:]
        elif len(rest) >= 2 and rest[0] == "users":
            if rest[1] != caller:
                raise _Reply(403, "Organizer Id mismatch User Id: a delegated token reaches only its own user.")
            tail = rest[2:]
        else:
            raise _Reply(400, f"Resource not found for the segment '{rest[0] if rest else ''}'.")
        return await self._route(_Call(segments[0], caller, tail, request, extra))

    def _authenticate(self, request: web.Request) -> str:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise _Reply(401, "Access token is empty.", "InvalidAuthenticationToken")
        with self._lock:
            user = self._tokens.get(token.strip())
        if user is None:
            raise _Reply(401, "Access token validation failure. Invalid audience.", "InvalidAuthenticationToken")
        return user

    async def _route(self, call: _Call) -> web.Response:
        method, tail = call.request.method, call.tail
        if not tail and method == "GET":
            return self._me(call)
        if tail == ["calendarView"] and method == "GET":
            return self._calendar_view(call)
        if tail == ["events"] and method == "POST":
            return await self._create_event(call)
        if len(tail) == 2 and tail[0] == "events" and method == "GET":
            return self._get_event(call, tail[1])
        if tail == ["onlineMeetings"] and method == "GET":
            return self._filter_meetings(call)
        if tail == ["sendMail"] and method == "POST":
            return await self._send_mail(call)
        if tail == ["onlineMeetings", "createOrGet"] and method == "POST":
            return await self._create_or_get(call)
        if len(tail) in (2, 3) and tail[0] == "onlineMeetings":
            meeting = self._meeting_for(call.user_id, tail[1])
            action = tail[2] if len(tail) == 3 else None
            if action is None and method == "GET":
                return web.json_response(self._meeting_json(meeting))
            if action == "getVirtualAppointmentJoinWebUrl" and method == "GET":
                return web.json_response(
                    {
                        "@odata.context": f"https://graph.microsoft.com/{call.version}/$metadata#Edm.String",
                        "value": meeting.virtual_appointment_url,
                    }
                )
            if action in ("sendVirtualAppointmentSms", "sendVirtualAppointmentReminderSms") and method == "POST":
                return await self._send_sms(call, meeting, action)
            if action == "virtualAppointment":
                return await self._virtual_appointment(call, meeting)
        if tail and method not in ("GET", "POST", "PUT", "PATCH", "DELETE"):
            raise _Reply(405, f"Method {method} is not allowed.", "MethodNotAllowed")
        segment = tail[-1] if tail else ""
        raise _Reply(400, f"Resource not found for the segment '{segment}'.")

    def _meeting_json(self, meeting: SimMeeting) -> dict[str, Any]:
        return meeting.to_json(self.display_name(meeting.organizer_id))

    def _meeting_for(self, user_id: str, meeting_id: str) -> SimMeeting:
        """The meeting, or Graph's answer to a wrong id: chat id / context id 400, unknown 404, not yours 403."""
        with self._lock:
            meeting = self._meetings.get(meeting_id)
        if meeting is None:
            parsed = parse_meeting_reference(meeting_id)
            if isinstance(parsed, Rejected) and parsed.reason is RejectReason.CHAT_THREAD_ID:
                raise _Reply(400, f"Invalid meeting id {meeting_id}.")
            if isinstance(parsed, Rejected) and parsed.reason is RejectReason.CONTEXT_MEETING_ID:
                raise _Reply(400, "Meeting Id is corrupted.")
            raise _Reply(404, "The specified meeting was not found.")
        if meeting.organizer_id != user_id:
            raise _Reply(403, "The signed-in user is not the organizer of this meeting.")
        return meeting

    def _filter_meetings(self, call: _Call) -> web.Response:
        expr = call.request.query.get("$filter")
        if expr is None:
            raise _Reply(400, "This request requires a $filter on JoinWebUrl or joinMeetingIdSettings/joinMeetingId.")
        by_url = _JOIN_URL_FILTER.match(expr)
        by_id = _MEETING_ID_FILTER.match(expr)
        with self._lock:
            meetings = list(self._meetings.values())
        if by_url:
            url = by_url.group(1).replace("''", "'")
            found = [m for m in meetings if url in (m.join_web_url, m.short_url)]
        elif by_id:
            found = [m for m in meetings if m.join_meeting_id == by_id.group(1)]
        else:
            raise _Reply(400, f"Invalid filter clause: could not find a property named in '{expr}'.")
        if any(m.organizer_id != call.user_id for m in found):
            raise _Reply(403, "Only the organizer can look up a meeting by this filter.")
        context = f"https://graph.microsoft.com/{call.version}/$metadata#users('{call.user_id}')/onlineMeetings"
        return web.json_response({"@odata.context": context, "value": [self._meeting_json(m) for m in found]})

    async def _json_body(self, request: web.Request) -> dict[str, Any]:
        try:
            body = await request.json()
        except ValueError:
            raise _Reply(400, "Request body is not valid JSON.") from None
        if not isinstance(body, dict):
            raise _Reply(400, "Request body must be a JSON object.")
        return body

    async def _create_or_get(self, call: _Call) -> web.Response:
        body = await self._json_body(call.request)
        external_id = body.get("externalId")
        if not isinstance(external_id, str) or not external_id:
            raise _Reply(400, "externalId is required for createOrGet.")
        start = parse_datetime(body.get("startDateTime")) or datetime.now(UTC)
        start = start if start.tzinfo else start.replace(tzinfo=UTC)
        end = parse_datetime(body.get("endDateTime")) or start + timedelta(hours=1)
        end = end if end.tzinfo else end.replace(tzinfo=UTC)
        subject = body.get("subject") if isinstance(body.get("subject"), str) else None
        with self._lock:
            existing = next(
                (m for m in self._meetings.values() if m.organizer_id == call.user_id and m.external_id == external_id),
                None,
            )
            meeting = existing or self._add_meeting_locked(call.user_id, subject, start, end, external_id)
        return web.json_response(self._meeting_json(meeting), status=200 if existing else 201)

    async def _send_sms(self, call: _Call, meeting: SimMeeting, action: str) -> web.Response:
        body = await self._json_body(call.request)
        attendees = body.get("attendees")
        if not isinstance(attendees, list) or not attendees:
            raise _Reply(400, "attendees must be a non-empty collection.")
        for attendee in attendees:
            phone = attendee.get("phoneNumber") if isinstance(attendee, dict) else None
            if not isinstance(phone, str) or not _US_PHONE.match(phone):
                raise _Reply(400, f"Invalid phone number {phone!r}: only US numbers in E.164 form are supported.")
            if not isinstance(attendee.get("timeZone", "UTC"), str):
                raise _Reply(400, "timeZone must be a string.")
        if action == "sendVirtualAppointmentSms":
            kind = body.get("messageType")
            if kind not in SMS_TYPES:
                raise _Reply(400, f"Invalid messageType {kind!r}.")
        else:
            kind = body.get("remindBeforeTimeInMinutesType")
            if kind not in REMINDER_TYPES:
                raise _Reply(400, f"Invalid remindBeforeTimeInMinutesType {kind!r}.")
        with self._lock:
            self._sms.append({"meeting_id": meeting.id, "action": action, "body": body})
        return web.Response(status=202)

    async def _send_mail(self, call: _Call) -> web.Response:
        """`POST /me/sendMail`, JSON form, as Exchange checks it: a message with at least one valid recipient, a body
        of Text or HTML, file attachments with base64 content, the whole request under the size limit. 202, empty."""
        if call.request.content_length is not None and call.request.content_length > MAIL_MAX_BYTES:
            raise _Reply(413, "The message exceeds the maximum supported size.", "ErrorMessageSizeExceeded")
        body = await self._json_body(call.request)
        message = body.get("message")
        if not isinstance(message, dict):
            raise _Reply(400, "Empty Payload. JSON content expected.", "ErrorInvalidRequest")
        recipients = [r for kind in ("to", "cc", "bcc") for r in _list(message.get(f"{kind}Recipients"))]
        if not recipients:
            raise _Reply(400, "At least one recipient is not valid., Recipient is missing.", "ErrorInvalidRecipients")
        for recipient in recipients:
            address = recipient.get("emailAddress", {}).get("address") if isinstance(recipient, dict) else None
            if not isinstance(address, str) or not _MAIL_ADDRESS.match(address):
                raise _Reply(400, "At least one recipient is not valid.", "ErrorInvalidRecipients")
        content = message.get("body")
        if content is not None and (
            not isinstance(content, dict) or str(content.get("contentType", "Text")).lower() not in ("text", "html")
        ):
            raise _Reply(400, "The body's contentType must be Text or HTML.", "ErrorInvalidProperty")
        attachments: list[tuple[str, str, bytes]] = []
        for attachment in _list(message.get("attachments")):
            if not isinstance(attachment, dict) or attachment.get("@odata.type") != "#microsoft.graph.fileAttachment":
                raise _Reply(400, "Only file attachments can be sent inline.", "ErrorInvalidProperty")
            try:
                data = base64.b64decode(str(attachment.get("contentBytes", "")), validate=True)
            except ValueError:
                raise _Reply(400, "Invalid base64 string for contentBytes.", "ErrorInvalidProperty") from None
            attachments.append((str(attachment.get("name", "")), str(attachment.get("contentType", "")), data))
        sender = self.user(call.user_id)
        sent = SentMail(
            user_id=call.user_id,
            sender=sender.mail if sender else "",
            to=tuple(r["emailAddress"]["address"] for r in _list(message.get("toRecipients"))),
            subject=str(message.get("subject") or ""),
            content_type=str((content or {}).get("contentType", "Text")),
            content=str((content or {}).get("content", "")),
            attachments=tuple(attachments),
            saved=body.get("saveToSentItems") not in (False, "false"),
            at=datetime.now(UTC),
        )
        with self._lock:
            self._mail.append(sent)
        return web.Response(status=202)

    async def _virtual_appointment(self, call: _Call, meeting: SimMeeting) -> web.Response:
        if call.version != "beta":
            raise _Reply(400, "Resource not found for the segment 'virtualAppointment'.")
        method = call.request.method
        if method == "GET":
            with self._lock:
                current, etag = meeting.virtual_appointment, meeting.va_etag
            if current is None:
                raise _Reply(404, "No virtual appointment exists for this meeting.")
            call.extra_headers["ETag"] = etag or ""
            return web.json_response(current)
        if method not in ("PUT", "PATCH"):
            raise _Reply(405, f"Method {method} is not allowed.", "MethodNotAllowed")
        body = await self._json_body(call.request)
        etag = f'W/"{base64.b64encode(secrets.token_bytes(18)).decode()}"'
        with self._lock:
            if method == "PUT":
                meeting.virtual_appointment = {
                    **body,
                    "@odata.type": "#microsoft.graph.virtualAppointment",
                    "id": str(uuid.uuid4()),
                    "appointmentClientJoinWebUrl": meeting.virtual_appointment_url,
                }
            elif meeting.virtual_appointment is None:
                raise _Reply(404, "No virtual appointment exists for this meeting.")
            elif call.request.headers.get("If-Match") != meeting.va_etag:
                raise _Reply(412, "The If-Match value does not match the ETag of the virtual appointment.")
            else:
                meeting.virtual_appointment.update({k: v for k, v in body.items() if k not in ("id", "@odata.type")})
            meeting.va_etag = etag
            created = dict(meeting.virtual_appointment)
        call.extra_headers["ETag"] = etag
        return web.json_response(created, status=201) if method == "PUT" else web.Response(status=204)

    def _me(self, call: _Call) -> web.Response:
        user = self.user(call.user_id)
        assert user is not None  # tokens are issued to registered users only
        context = f"https://graph.microsoft.com/{call.version}/$metadata#users/$entity"
        body = _select(user.to_json(), _selected(call.request))
        return web.json_response({"@odata.context": context, **body})

    def _zone_of(self, call: _Call) -> tuple[str, Any]:
        """The `Prefer: outlook.timezone` zone (IANA or Windows name), else UTC; echoed in Preference-Applied."""
        prefer = _PREFER_TZ.search(call.request.headers.get("Prefer", ""))
        tz_name = prefer.group(1) if prefer else "UTC"
        tz = zone(_WINDOWS_ZONES.get(tz_name, tz_name))
        if tz is None:
            tz_name, tz = "UTC", zone("UTC")
        if prefer:
            call.extra_headers["Preference-Applied"] = f'outlook.timezone="{tz_name}"'
        return tz_name, tz

    def _calendar_view(self, call: _Call) -> web.Response:
        query = call.request.query
        begin, finish = _window(query.get("startDateTime"), query.get("endDateTime"), "StartDateTime and EndDateTime")
        top, skip = _int_param(query, "$top", 10), _int_param(query, "$skip", 0)
        if top < 1 or skip < 0:
            raise _Reply(400, "Invalid paging parameters.", "ErrorInvalidParameter")
        top = min(top, self.max_page_size)
        tz_name, tz = self._zone_of(call)
        with self._lock:
            events = sorted(
                (e for e in self._events if e.owner_id == call.user_id and e.start < finish and e.end > begin),
                key=lambda e: e.start,
            )
            names = {e.organizer_id: self._users[e.organizer_id] for e in events if e.organizer_id in self._users}
        owner = self.user(call.user_id)
        page = events[skip : skip + top]
        value = [
            _select(_event_json(e, tz_name, tz, owner, names.get(e.organizer_id)), _selected(call.request))
            for e in page
        ]
        body: dict[str, Any] = {
            "@odata.context": f"https://graph.microsoft.com/{call.version}/$metadata#users('{call.user_id}')/calendarView",
            "value": value,
        }
        if skip + top < len(events):
            body["@odata.nextLink"] = str(call.request.url.update_query({"$top": str(top), "$skip": str(skip + top)}))
        return web.json_response(body)

    async def _create_event(self, call: _Call) -> web.Response:
        """`POST /me/events`: one event per `transactionId` (a repeat returns the first), with a Teams meeting
        organised by the caller when `isOnlineMeeting` is set."""
        body = await self._json_body(call.request)
        subject = str(body.get("subject") or "")
        start, end = _event_time(body.get("start")), _event_time(body.get("end"))
        if start is None or end is None or end <= start:
            raise _Reply(
                400,
                "The event's start and end must be valid dateTimeTimeZone values, end after start.",
                "ErrorInvalidRequest",
            )
        online = body.get("isOnlineMeeting") is True
        provider = body.get("onlineMeetingProvider", "teamsForBusiness" if online else None)
        if online and provider != "teamsForBusiness":
            raise _Reply(
                400, f"Online meeting provider {provider!r} is not allowed for this mailbox.", "ErrorInvalidRequest"
            )
        transaction = body.get("transactionId")
        if transaction is not None and (not isinstance(transaction, str) or not transaction):
            raise _Reply(400, "transactionId must be a non-empty string.", "ErrorInvalidRequest")
        attendees = tuple(
            name
            for a in body.get("attendees") or ()
            if isinstance(a, dict) and (name := (a.get("emailAddress") or {}).get("name") or "")
        )
        with self._lock:
            event = next(
                (
                    e
                    for e in self._events
                    if e.owner_id == call.user_id and transaction and e.transaction_id == transaction
                ),
                None,
            )
            if event is None:
                meeting = self._add_meeting_locked(call.user_id, subject, start, end, None) if online else None
                event = self._add_event_locked(
                    call.user_id, subject, start, end, meeting, attendees, False, call.user_id, transaction
                )
        tz_name, tz = self._zone_of(call)
        return web.json_response(_event_json(event, tz_name, tz, self.user(call.user_id), None), status=201)

    def _get_event(self, call: _Call, event_id: str) -> web.Response:
        with self._lock:
            event = next((e for e in self._events if e.owner_id == call.user_id and e.id == event_id), None)
            organizer = self._users.get(event.organizer_id) if event else None
        if event is None:
            raise _Reply(404, "The specified object was not found in the store.", "ErrorItemNotFound")
        tz_name, tz = self._zone_of(call)
        data = _event_json(event, tz_name, tz, self.user(call.user_id), organizer)
        return web.json_response(_select(data, _selected(call.request)))

    # ---- Bookings over HTTP -------------------------------------------------------------------------------

    async def _route_bookings(self, call: _Call) -> web.Response:
        """`/solutions/bookingBusinesses[/{id}[/staffMembers|/services|/calendarView|/appointments[/{id}]]]`."""
        method, tail = call.request.method, call.tail
        base = f"https://graph.microsoft.com/{call.version}/solutions/$metadata#bookingBusinesses"
        if method != "GET":
            raise _Reply(405, f"Method {method} is not allowed.", "MethodNotAllowed")
        if not tail:
            with self._lock:
                businesses = list(self._businesses.values())
            return web.json_response(
                {"@odata.context": base, "value": [{"id": b.id, "displayName": b.display_name} for b in businesses]}
            )
        business = self._business_for(call.user_id, tail[0])
        context = f"{base}('{quote(business.id, safe='')}')"
        if len(tail) == 1:
            return web.json_response({"@odata.context": f"{base}/$entity", **_business_json(business)})
        if tail[1:] == ["staffMembers"]:
            with self._lock:
                staff = [_staff_json(m) for m in business.staff]
            return web.json_response({"@odata.context": f"{context}/staffMembers", "value": staff})
        if tail[1:] == ["services"]:
            with self._lock:
                services = [_service_json(v) for v in business.services]
            return web.json_response({"@odata.context": f"{context}/services", "value": services})
        if tail[1:] == ["calendarView"]:
            query = call.request.query
            begin, finish = _window(query.get("start"), query.get("end"), "start and end")
            with self._lock:
                found = sorted(
                    (a for a in self._appointments if a.business is business and a.start < finish and a.end > begin),
                    key=lambda a: a.start,
                )
            return web.json_response(
                {"@odata.context": f"{context}/calendarView", "value": [_appointment_json(a) for a in found]}
            )
        if len(tail) == 3 and tail[1] == "appointments":
            with self._lock:
                appointment = next((a for a in self._appointments if a.business is business and a.id == tail[2]), None)
            if appointment is None:
                raise _Reply(404, "The specified appointment was not found.", "ErrorItemNotFound")
            return web.json_response(
                {"@odata.context": f"{context}/appointments/$entity", **_appointment_json(appointment)}
            )
        raise _Reply(400, f"Resource not found for the segment '{tail[-1]}'.")

    def _business_for(self, user_id: str, business_id: str) -> SimBusiness:
        """The business, if the caller is one of its staff (by user id or e-mail); else 404 or 403."""
        with self._lock:
            business = self._businesses.get(business_id)
            user = self._users.get(user_id)
        if business is None:
            raise _Reply(404, "The Bookings business was not found.", "ErrorItemNotFound")
        addresses = {a.casefold() for a in (user.mail, user.user_principal_name)} if user else set()
        if not any(m.user_id == user_id or m.email.casefold() in addresses for m in business.staff):
            raise _Reply(403, _ACCESS_DENIED, "ErrorAccessDenied")
        return business

    def summary(self, tokens: Mapping[str, str] | None = None) -> str:
        """Seed data for people: users (with tokens, if given), their meetings and join links."""
        lines = [f"tenant {self.tenant_id}"]
        with self._lock:
            users = dict(self._users)
            businesses = list(self._businesses.values())
            appointments = list(self._appointments)
        mailboxes = {b.mailbox_user_id for b in businesses}
        for user_id, user in users.items():
            if user_id in mailboxes:
                continue
            token = (tokens or {}).get(user_id)
            lines.append(f"user {user.display_name} ({user_id}) {user.mail}" + (f" token: {token}" if token else ""))
            for m in self.meetings_of(user_id):
                lines += [
                    f"  meeting {m.subject!r} {m.start:%Y-%m-%d %H:%M} UTC",
                    f"    id: {m.id}",
                    f"    join URL: {m.join_web_url}",
                    f"    short URL: {m.short_url}  meeting ID: {m.join_meeting_id} passcode: {m.passcode}",
                ]
        for business in businesses:
            lines.append(f"Bookings business {business.display_name!r} ({business.id})")
            for a in (a for a in appointments if a.business is business):
                where = "online" if a.meeting else "in person"
                lines.append(
                    f"  appointment {a.service.display_name!r} {a.start:%Y-%m-%d %H:%M} UTC {where} id: {a.id}"
                )
        return "\n".join(lines)


class _Dropped(Exception):
    """Close the connection without an answer."""


def _error(status: int, code: str, message: str, request_id: str, client_request_id: str | None) -> web.Response:
    inner = {"date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S"), "request-id": request_id}
    if client_request_id:
        inner["client-request-id"] = client_request_id
    return web.json_response({"error": {"code": code, "message": message, "innerError": inner}}, status=status)


def _event_json(
    event: SimEvent, tz_name: str, tz: Any, owner: SimUser | None, organizer: SimUser | None
) -> dict[str, Any]:
    """An event as calendarView returns it: `isOrganizer`, `organizer`, and the meeting's join URL."""

    def when(moment: datetime) -> dict[str, str]:
        return {"dateTime": moment.astimezone(tz).strftime("%Y-%m-%dT%H:%M:%S.%f") + "0", "timeZone": tz_name}

    who = owner if event.is_organizer else organizer
    data: dict[str, Any] = {
        "id": event.id,
        "@odata.etag": f'W/"{event.id[-12:]}"',
        "subject": event.subject,
        "type": "singleInstance",
        "start": when(event.start),
        "end": when(event.end),
        "isCancelled": event.cancelled,
        "isOrganizer": event.is_organizer,
        "organizer": {"emailAddress": {"name": who.display_name, "address": who.mail}} if who else None,
        "isOnlineMeeting": event.meeting is not None,
        "onlineMeetingProvider": "teamsForBusiness" if event.meeting else "unknown",
        "onlineMeeting": {"joinUrl": event.meeting.join_web_url} if event.meeting else None,
        "attendees": [
            {
                "type": "required",
                "status": {"response": "none", "time": "0001-01-01T00:00:00Z"},
                "emailAddress": {"name": name, "address": name.lower().replace(" ", ".") + "@contoso.example"},
            }
            for name in event.attendees
        ],
    }
    if event.transaction_id is not None:
        data["transactionId"] = event.transaction_id
    return data


def _business_json(business: SimBusiness) -> dict[str, Any]:
    return {
        "id": business.id,
        "displayName": business.display_name,
        "businessType": "Financial services",
        "email": business.id,
        "defaultCurrencyIso": "USD",
        "isPublished": True,
    }


def _staff_json(member: SimStaff) -> dict[str, Any]:
    return {
        "@odata.type": "#microsoft.graph.bookingStaffMember",
        "id": member.id,
        "displayName": member.display_name,
        "emailAddress": member.email,
        "role": member.role,
        "timeZone": "America/Chicago",
        "useBusinessHours": True,
        "availabilityIsAffectedByPersonalCalendar": True,
        "isEmailNotificationEnabled": False,
        "workingHours": [],
    }


def _service_json(service: SimService) -> dict[str, Any]:
    minutes = service.minutes
    return {
        "@odata.type": "#microsoft.graph.bookingService",
        "id": service.id,
        "displayName": service.display_name,
        "defaultDuration": f"PT{minutes // 60}H{minutes % 60}M" if minutes >= 60 else f"PT{minutes}M",
        "isLocationOnline": service.is_online,
        "smsNotificationsEnabled": True,
    }


def _appointment_json(appointment: SimAppointment) -> dict[str, Any]:
    """A bookingAppointment as List calendarView documents it (times in UTC, flat customer fields beside
    `customers`)."""
    meeting = appointment.meeting
    first = appointment.customers[0] if appointment.customers else {}

    def when(moment: datetime) -> dict[str, str]:
        return {"dateTime": moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z", "timeZone": "UTC"}

    return {
        "id": appointment.id,
        "selfServiceAppointmentId": "00000000-0000-0000-0000-000000000000",
        "isLocationOnline": meeting is not None,
        "joinWebUrl": meeting.join_web_url if meeting else None,
        "anonymousJoinWebUrl": meeting.virtual_appointment_url if meeting and appointment.anonymous else None,
        "customerName": first.get("name"),
        "customerEmailAddress": first.get("emailAddress"),
        "customerPhone": first.get("phone"),
        "customerNotes": None,
        "customers": [
            {
                "@odata.type": "#microsoft.graph.bookingCustomerInformation",
                "customerId": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{c.get('emailAddress') or c.get('name')}")),
                "name": c.get("name"),
                "emailAddress": c.get("emailAddress"),
                "phone": c.get("phone"),
                "notes": None,
                "smsNotificationsEnabled": appointment.sms_notifications,
                "timeZone": c.get("timeZone"),
            }
            for c in appointment.customers
        ],
        "customerTimeZone": first.get("timeZone"),
        "smsNotificationsEnabled": appointment.sms_notifications,
        "serviceId": appointment.service.id,
        "serviceName": appointment.service.display_name,
        "duration": f"PT{appointment.service.minutes}M",
        "preBuffer": "PT0S",
        "postBuffer": "PT0S",
        "priceType": "free",
        "price": 0.0,
        "serviceNotes": None,
        "optOutOfCustomerEmail": False,
        "staffMemberIds": list(appointment.staff_ids),
        "start": when(appointment.start),
        "end": when(appointment.end),
        "serviceLocation": {"displayName": "Microsoft Teams meeting" if meeting else "Branch"},
        "reminders": [],
    }


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _selected(request: web.Request) -> set[str] | None:
    return set(request.query["$select"].split(",")) if "$select" in request.query else None


def _select(data: dict[str, Any], selected: set[str] | None) -> dict[str, Any]:
    if selected is None:
        return data
    return {k: v for k, v in data.items() if k in selected or k in ("id", "@odata.etag")}


def _int_param(query: Mapping[str, str], name: str, default: int) -> int:
    try:
        return int(query.get(name, str(default)))
    except ValueError:
        raise _Reply(400, f"Invalid {name} value.", "ErrorInvalidParameter") from None


def _window(first: str | None, last: str | None, names: str) -> tuple[datetime, datetime]:
    """A required [start, end) query window; naive times are UTC."""
    begin, finish = parse_datetime(first), parse_datetime(last)
    if begin is None or finish is None:
        raise _Reply(
            400,
            f"This request requires a time window specified by the query string parameters {names}.",
            "ErrorInvalidParameter",
        )
    return (begin if begin.tzinfo else begin.replace(tzinfo=UTC)), (
        finish if finish.tzinfo else finish.replace(tzinfo=UTC)
    )


def _event_time(value: Any) -> datetime | None:
    """A request's dateTimeTimeZone (IANA or Windows zone name) as an aware datetime."""
    if not isinstance(value, dict):
        return None
    moment = parse_datetime(value.get("dateTime"))
    name = str(value.get("timeZone") or "UTC")
    tz = zone(_WINDOWS_ZONES.get(name, name))
    if moment is None or tz is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=tz)


# ---- serving ------------------------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def serve(sim: GraphSimulator, host: str = "127.0.0.1", port: int = 0) -> AsyncIterator[str]:
    """Serve on the current loop; yields the base URL (`http://127.0.0.1:<port>`)."""
    runner = web.AppRunner(sim.create_app(), access_log=None, shutdown_timeout=0.5)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
        bound_host, bound_port = runner.addresses[0][:2]
        yield f"http://{bound_host}:{bound_port}"
    finally:
        await runner.cleanup()


class SimulatorThread:
    """The simulator on its own thread and event loop, for code that blocks (the bot SDK) or is measured."""

    def __init__(self, sim: GraphSimulator, host: str = "127.0.0.1", port: int = 0) -> None:
        self.sim = sim
        self._host, self._port = host, port
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._error: BaseException | None = None
        self.base_url = ""
        self._thread = threading.Thread(target=self._run, name="graph-simulator", daemon=True)

    def start(self) -> str:
        self._thread.start()
        self._ready.wait(10)
        if self._error is not None or not self.base_url:
            raise RuntimeError("the Graph simulator did not start") from self._error
        return self.base_url

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:  # reported to the starting thread
            self._error = exc
            self._ready.set()

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        async with serve(self.sim, self._host, self._port) as base_url:
            self.base_url = base_url
            self._ready.set()
            await self._stop.wait()

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)

    def __enter__(self) -> SimulatorThread:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def run_in_thread(sim: GraphSimulator, host: str = "127.0.0.1", port: int = 0) -> SimulatorThread:
    """Start the simulator in a background thread; returns the handle (`.base_url`, `.stop()`)."""
    handle = SimulatorThread(sim, host, port)
    handle.start()
    return handle


async def _serve_forever(host: str, port: int) -> None:
    sim = GraphSimulator()
    tokens = {user: sim.issue_token(user) for user in (ADELE, MEGAN)}
    async with serve(sim, host, port) as base_url:
        print(f"Graph simulator on {base_url} (use it as GraphEndpoint)")
        print(sim.summary(tokens), flush=True)
        await asyncio.Event().wait()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m graph.simulator", description="A loopback Graph simulator.")
    parser.add_argument("--host", default="127.0.0.1", help="listen address (default 127.0.0.1, loopback only)")
    parser.add_argument("--port", type=int, default=0, help="listen port (default 0: any free port)")
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve_forever(args.host, args.port))


if __name__ == "__main__":
    main()
