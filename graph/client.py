"""Async Microsoft Graph client for the virtual-appointment surface (DESIGN.md section 5).

Every call goes through `GraphClient.request`: bearer token, a fresh `client-request-id` per attempt, retries of
429/503/504 honouring `Retry-After` inside the caller's deadline, and one pure mapping of the response
(`interpret_response`) to a value or an error of `graph.errors`. The client never learns where tokens come from:
it is handed an async token provider.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, TypeVar
from urllib.parse import quote

import aiohttp
from yarl import URL

from graph.errors import Forbidden, GraphError, GraphTimeout, NotFound, error_from_response
from graph.mail import NO_MAILBOX_CODES, MailMessage
from graph.models import (
    BookingAppointment,
    BookingBusiness,
    BookingStaffMember,
    CreatedEvent,
    CreatedMeeting,
    Me,
    OnlineMeeting,
    ScheduledMeeting,
    SmsAttendee,
    UpcomingMeeting,
    utc_iso,
)
from graph.references import MeetingReference, ReferenceKind
from graph.retry import RETRY_STATUSES, RetryPolicy, backoff_delay, parse_retry_after

T = TypeVar("T")
TokenProvider = Callable[[], Awaitable[str]]
Query = Sequence[tuple[str, str]]

DEFAULT_BASE_URL = "https://graph.microsoft.com"
SMS_MESSAGE_TYPES = frozenset({"confirmation", "reschedule", "cancellation"})
REMINDER_TYPES = frozenset({"mins15"})  # remindBeforeTimeInMinutesType: the one documented member
_UPCOMING_SELECT = "subject,start,end,isOrganizer,isOnlineMeeting,isCancelled,onlineMeeting,attendees"
_ME_SELECT = "id,displayName,mail,userPrincipalName"
_IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE"})

log = logging.getLogger(__name__)


class CallRecord(Protocol):
    """What one `GraphClient.request` tells its observer while it runs."""

    def attempt(self, status: int | None, request_id: str | None) -> None:
        """An attempt ended: Graph's status and `request-id`, or None for a timeout or dropped connection."""
        ...

    def waiting(self, seconds: float, status: int | None) -> None:
        """About to wait `seconds` before the next attempt (Retry-After or back-off after `status`)."""
        ...

    def sending(self) -> AbstractContextManager[object]:
        """Around one attempt's HTTP exchange: the observer records attempts itself, and may keep this one out of
        generic HTTP tracing."""
        ...


class GraphTelemetry(Protocol):
    """An observer of Graph calls (bot/telemetry: a span per call, counters). The client calls it with the request
    as sent, path with ids included: the observer decides what of it may be recorded."""

    def call(self, method: str, path: str) -> AbstractContextManager[CallRecord]: ...


@dataclass(frozen=True, slots=True)
class GraphResponse:
    """A successful response: status, headers, the decoded JSON body (None when empty) and our request id."""

    status: int
    headers: Mapping[str, str]
    value: Any
    client_request_id: str


def interpret_response(
    status: int, headers: Mapping[str, str], body: bytes, *, client_request_id: str | None = None
) -> Any:
    """2xx: the decoded JSON body, or None when empty. Otherwise raise the mapped error. Pure."""
    if not 200 <= status < 300:
        raise error_from_response(status, headers, body, client_request_id=client_request_id)
    if not body.strip():
        return None
    try:
        return json.loads(body)
    except ValueError:
        raise GraphError(
            "Graph returned a body that is not JSON",
            status=status,
            request_id=headers.get("request-id"),
            client_request_id=client_request_id,
        ) from None


def deadline_in(seconds: float) -> float:
    """The absolute deadline `seconds` from now on the running loop: compute it once per invoke (5 s in all)
    and pass it to every call, so retries of one call never eat the next call's time."""
    return asyncio.get_running_loop().time() + seconds


async def within(awaitable: Awaitable[T], deadline: float) -> T:
    """Await something that takes no deadline itself (meeting info, the token service) until the absolute
    `deadline` from `deadline_in`; TimeoutError after it."""
    async with asyncio.timeout_at(deadline):
        return await awaitable


def odata_string(value: str) -> str:
    """An OData string literal: quotes doubled, then wrapped in single quotes."""
    return "'" + value.replace("'", "''") + "'"


def _encode_query(params: Query) -> str:
    return "&".join(f"{quote(key, safe='$')}={quote(value, safe='')}" for key, value in params)


# The words of the Graph paths this client calls; any other segment is an id (a Bookings business id and a staff
# member's are mailbox addresses, a user id may be a UPN) and is logged as its kind only.
_PATH_WORDS = frozenset({
    "me", "users", "solutions", "bookingBusinesses", "staffMembers", "calendarView", "appointments", "onlineMeetings",
    "createOrGet", "events", "getVirtualAppointmentJoinWebUrl", "sendVirtualAppointmentSms",
    "sendVirtualAppointmentReminderSms", "sendMail", "virtualAppointment", "v1.0", "beta",
})


def path_shape(path: str) -> str:
    """A Graph path fit for a log line or a span name: every id replaced by `{id}` and the query left out
    (`/solutions/bookingBusinesses/{id}/calendarView?...`), so no address in a path ever reaches a log, however it is
    encoded. Linear in the path."""
    route, query = path.partition("?")[::2]
    shaped = "/".join(segment if segment in _PATH_WORDS or not segment else "{id}" for segment in route.split("/"))
    return shaped + ("?..." if query else "")


def _business_path(business_id: str) -> str:
    """`/solutions/bookingBusinesses/{id}`; the id is the booking mailbox's address (`@` encoded)."""
    return f"/solutions/bookingBusinesses/{quote(business_id, safe='')}"


def owner_path(user_id: str | None) -> str:
    """`/me`, or `/users/{id}` for a named user."""
    return "/me" if user_id is None else f"/users/{quote(user_id, safe='')}"


def meeting_path(meeting_id: str, user_id: str | None, suffix: str = "") -> str:
    """`<owner>/onlineMeetings/{id}<suffix>`; ids are base64 and may hold `/`, `+` or `=`, so fully encoded."""
    return f"{owner_path(user_id)}/onlineMeetings/{quote(meeting_id, safe='')}{suffix}"


def _items(response: GraphResponse) -> list[dict[str, Any]]:
    """The objects of a collection answer (`value`), ignoring anything that is not an object."""
    items = response.value.get("value") if isinstance(response.value, dict) else None
    return [item for item in items if isinstance(item, dict)] if isinstance(items, list) else []


def _not_found(message: str, response: GraphResponse) -> NotFound:
    return NotFound(
        message,
        code="NoMatchingMeeting",
        request_id=response.headers.get("request-id"),
        client_request_id=response.client_request_id,
    )


class GraphClient:
    """One per process (it shares the caller's aiohttp session); cheap to copy with `with_version`."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        token_provider: TokenProvider,
        *,
        base_url: str = DEFAULT_BASE_URL,
        version: str = "v1.0",
        policy: RetryPolicy | None = None,
        default_timeout: float = 10.0,
        rng: random.Random | None = None,
        accept_language: str | None = None,
        telemetry: GraphTelemetry | None = None,
    ) -> None:
        self._session = session
        self._telemetry = telemetry  # None: nothing observed, nothing spent
        self._token_provider = token_provider
        self._base_url = base_url.rstrip("/")
        self.version = version
        self._policy = policy or RetryPolicy()
        self._default_timeout = default_timeout
        self._rng = rng or random.Random()  # noqa: S311 - jitter only
        self.accept_language = accept_language  # the user's language, sent as Accept-Language on every request

    @property
    def base_url(self) -> str:
        return self._base_url

    def next_link_path(self, link: Any) -> str | None:
        """The path (with its query, as Graph encoded it) of an `@odata.nextLink`, or None when there is none or
        it points anywhere but this client's Graph and version: the bearer token is never sent elsewhere."""
        prefix = f"{self._base_url}/{self.version}/"
        if not isinstance(link, str) or not link.startswith(prefix) or len(link) > 8192:
            return None
        return link[len(prefix) - 1 :]

    def with_version(self, version: str) -> GraphClient:
        """The same client on another Graph version (`beta`)."""
        return self._copy(version=version)

    def with_language(self, tag: str | None) -> GraphClient:
        """The same client asking Graph for answers in `tag` (a BCP 47 language tag such as `es-MX`)."""
        return self._copy(accept_language=tag)

    def _copy(self, **changes: Any) -> GraphClient:
        options: dict[str, Any] = {
            "base_url": self._base_url,
            "version": self.version,
            "policy": self._policy,
            "default_timeout": self._default_timeout,
            "rng": self._rng,
            "accept_language": self.accept_language,
            "telemetry": self._telemetry,
        }
        options.update(changes)
        return GraphClient(self._session, self._token_provider, **options)

    # ---- the one request function -------------------------------------------------------------------------

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Query = (),
        json_body: Any = None,
        headers: Mapping[str, str] | None = None,
        locale: str | None = None,
        idempotent: bool | None = None,
        deadline: float | None = None,
    ) -> GraphResponse:
        """Send one Graph request (with retries) and return the success, or raise a `GraphError`.

        `path` is already percent-encoded and starts with `/`; `deadline` is an absolute `loop.time()` (see
        `deadline_in`), default `default_timeout` from now. 429 is retried for every method (Graph did not act);
        503/504 and dropped connections only when `idempotent` (default: by method), so a text is never sent twice.
        """
        if self._telemetry is None:
            return await self._request(method, path, params, json_body, headers, locale, idempotent, deadline, None)
        with self._telemetry.call(method, path) as record:
            return await self._request(method, path, params, json_body, headers, locale, idempotent, deadline, record)

    async def _request(
        self,
        method: str,
        path: str,
        params: Query,
        json_body: Any,
        headers: Mapping[str, str] | None,
        locale: str | None,
        idempotent: bool | None,
        deadline: float | None,
        record: CallRecord | None,
    ) -> GraphResponse:
        loop = asyncio.get_running_loop()
        end = deadline if deadline is not None else loop.time() + self._default_timeout
        safe = method.upper() in _IDEMPOTENT_METHODS if idempotent is None else idempotent
        url = f"{self._base_url}/{self.version}{path}" + (f"?{_encode_query(params)}" if params else "")
        target = URL(url, encoded=True)
        payload = None if json_body is None else json.dumps(json_body).encode()
        try:
            async with asyncio.timeout_at(end):
                token = await self._token_provider()
        except TimeoutError:
            raise GraphTimeout("no token before the deadline") from None
        base_headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        if payload is not None:
            base_headers["Content-Type"] = "application/json"
        if locale or self.accept_language:
            base_headers["Accept-Language"] = locale or str(self.accept_language)
        base_headers.update(headers or {})
        client_request_id: str | None = None
        for attempt in range(1, self._policy.max_attempts + 1):
            remaining = end - loop.time()
            if remaining <= 0:
                raise GraphTimeout("deadline passed before Graph answered", client_request_id=client_request_id)
            client_request_id = str(uuid.uuid4())
            attempt_headers = {**base_headers, "client-request-id": client_request_id}
            if attempt > 1:
                attempt_headers["retry-attempt"] = str(attempt - 1)
            limits = aiohttp.ClientTimeout(total=remaining, sock_connect=min(self._policy.connect_timeout, remaining))
            started = loop.time()
            wait: float | None = None
            try:
                with record.sending() if record is not None else nullcontext():
                    async with self._session.request(
                        method, target, headers=attempt_headers, data=payload, timeout=limits, allow_redirects=False
                    ) as resp:
                        body = await resp.read()
                        status, resp_headers = resp.status, resp.headers
                        if status in RETRY_STATUSES:
                            resp.close()  # Graph: retry over a new connection
            except TimeoutError:
                failure: GraphError = GraphTimeout(
                    f"no answer within {remaining:.2f} s", client_request_id=client_request_id
                )
                retryable = safe
                if record is not None:
                    record.attempt(None, None)
            except aiohttp.ClientConnectionError as exc:
                failure = GraphTimeout(f"connection failed ({type(exc).__name__})", client_request_id=client_request_id)
                retryable = safe
                if record is not None:
                    record.attempt(None, None)
            else:
                if record is not None:
                    record.attempt(status, resp_headers.get("request-id"))
                log.debug(
                    "graph %s %s -> %s in %.1f ms request-id=%s client-request-id=%s attempt=%d",
                    method,
                    path_shape(path),
                    status,
                    (loop.time() - started) * 1000,
                    resp_headers.get("request-id"),
                    client_request_id,
                    attempt,
                )
                if status not in RETRY_STATUSES:
                    value = interpret_response(status, resp_headers, body, client_request_id=client_request_id)
                    return GraphResponse(status, resp_headers, value, client_request_id)
                wait = parse_retry_after(resp_headers.get("Retry-After"))
                failure = error_from_response(
                    status, resp_headers, body, client_request_id=client_request_id, retry_after=wait
                )
                retryable = status == 429 or safe
            if not retryable or attempt == self._policy.max_attempts:
                raise failure
            delay = min(wait, self._policy.max_retry_after) if wait is not None else None
            delay = delay if delay is not None else backoff_delay(attempt, self._policy, self._rng)
            if loop.time() + delay >= end:
                raise failure  # waiting would overrun the caller's deadline: fail now
            log.info(
                "graph %s %s: %s, retry %d in %.2f s (client-request-id=%s)",
                method,
                path_shape(path),
                failure.status or type(failure).__name__,
                attempt,
                delay,
                client_request_id,
            )
            if record is not None:
                record.waiting(delay, failure.status)
            await asyncio.sleep(delay)
        raise AssertionError("unreachable: the loop returns or raises")

    # ---- the calls of DESIGN.md section 5 -------------------------------------------------------------------

    async def get_join_link(
        self,
        meeting_id: str,
        *,
        user_id: str | None = None,
        locale: str | None = None,
        deadline: float | None = None,
    ) -> str:
        """The virtual-appointment (browser, lobby) join URL, exactly as Graph returned it."""
        response = await self.request(
            "GET",
            meeting_path(meeting_id, user_id, "/getVirtualAppointmentJoinWebUrl"),
            locale=locale,
            deadline=deadline,
        )
        value = response.value.get("value") if isinstance(response.value, dict) else None
        if not isinstance(value, str) or not value:
            raise GraphError(
                "Graph's join-link answer has no value",
                status=response.status,
                request_id=response.headers.get("request-id"),
                client_request_id=response.client_request_id,
            )
        return value

    async def get_meeting(
        self,
        meeting_id: str,
        *,
        user_id: str | None = None,
        deadline: float | None = None,
    ) -> OnlineMeeting:
        response = await self.request("GET", meeting_path(meeting_id, user_id), deadline=deadline)
        return OnlineMeeting.from_json(response.value if isinstance(response.value, dict) else {})

    async def _find_one(
        self, filter_expr: str, what: str, user_id: str | None, deadline: float | None
    ) -> OnlineMeeting:
        response = await self.request(
            "GET",
            f"{owner_path(user_id)}/onlineMeetings",
            params=[("$filter", filter_expr)],
            deadline=deadline,
        )
        items = response.value.get("value") if isinstance(response.value, dict) else None
        if not isinstance(items, list) or not items or not isinstance(items[0], dict):
            raise _not_found(f"no meeting matches that {what}", response)
        return OnlineMeeting.from_json(items[0])

    async def find_meeting_by_join_url(
        self,
        join_url: str,
        *,
        user_id: str | None = None,
        deadline: float | None = None,
    ) -> OnlineMeeting:
        """`$filter=JoinWebUrl eq '<url>'`; the whole filter is percent-encoded, so the URL's own escapes
        (`19%3ameeting`) arrive intact. Only the organizer can use this filter (403 otherwise)."""
        return await self._find_one(f"JoinWebUrl eq {odata_string(join_url)}", "join link", user_id, deadline)

    async def find_meeting_by_meeting_id(
        self,
        join_meeting_id: str,
        *,
        user_id: str | None = None,
        deadline: float | None = None,
    ) -> OnlineMeeting:
        digits = "".join(join_meeting_id.split())
        if not digits.isdigit():
            raise ValueError("a meeting ID is digits only")
        expr = f"joinMeetingIdSettings/joinMeetingId eq {odata_string(digits)}"
        return await self._find_one(expr, "meeting ID", user_id, deadline)

    async def resolve_meeting(
        self,
        reference: MeetingReference,
        *,
        user_id: str | None = None,
        deadline: float | None = None,
    ) -> OnlineMeeting:
        """The meeting a parsed reference names. Short URLs are looked up by their meeting ID (a documented
        filter) rather than by URL. `new` is not a lookup: use `create_or_get_meeting`."""
        if reference.kind is ReferenceKind.GRAPH_ID:
            return await self.get_meeting(reference.value, user_id=user_id, deadline=deadline)
        if reference.kind is ReferenceKind.JOIN_URL:
            return await self.find_meeting_by_join_url(reference.value, user_id=user_id, deadline=deadline)
        if reference.kind in (ReferenceKind.MEETING_ID, ReferenceKind.SHORT_URL) and reference.meeting_id:
            return await self.find_meeting_by_meeting_id(reference.meeting_id, user_id=user_id, deadline=deadline)
        raise ValueError(f"{reference.kind} is not something to look up")

    async def pages(
        self,
        path: str,
        *,
        params: Query = (),
        headers: Mapping[str, str] | None = None,
        max_pages: int,
        deadline: float | None = None,
    ) -> AsyncIterator[list[dict[str, Any]]]:
        """The items of a collection, page by page, following `@odata.nextLink` for at most `max_pages` pages.
        The caller stops early by breaking out; a nextLink to another host ends the walk."""
        next_path: str | None = path
        query: Query = params
        for _ in range(max_pages):
            if next_path is None:
                return
            response = await self.request("GET", next_path, params=query, headers=headers, deadline=deadline)
            yield _items(response)
            body = response.value if isinstance(response.value, dict) else {}
            next_path, query = self.next_link_path(body.get("@odata.nextLink")), ()

    async def upcoming_meetings(
        self,
        *,
        start: datetime | None = None,
        end: datetime | None = None,
        time_zone: str = "UTC",
        top: int = 50,
        want: int = 10,
        max_pages: int = 4,
        deadline: float | None = None,
    ) -> list[UpcomingMeeting]:
        """The signed-in user's meetings that can get a client link, in [start, end) (default: the next 48 hours),
        soonest first, times in `time_zone` (IANA or Windows name, via `Prefer: outlook.timezone`).

        Only online meetings the user organises and that are not cancelled qualify (`UpcomingMeeting.from_event`).
        Pages of `top` events are read until `want` qualify, the window ends, or `max_pages` were read: a calendar
        full of invitations costs a few round trips, never an unbounded walk."""
        if '"' in time_zone or not time_zone.strip():
            raise ValueError("bad time zone name")
        begin = start or datetime.now(UTC)
        finish = end or begin + timedelta(hours=48)
        found: list[UpcomingMeeting] = []
        async for events in self.pages(
            "/me/calendarView",
            params=[
                ("startDateTime", utc_iso(begin)),
                ("endDateTime", utc_iso(finish)),
                ("$select", _UPCOMING_SELECT),
                ("$orderby", "start/dateTime"),
                ("$top", str(top)),
            ],
            headers={"Prefer": f'outlook.timezone="{time_zone}"'},
            max_pages=max_pages,
            deadline=deadline,
        ):
            found.extend(m for m in map(UpcomingMeeting.from_event, events) if m is not None)
            if len(found) >= want:
                break
        return found[:want]

    async def create_event_meeting(
        self,
        transaction_id: str,
        *,
        subject: str,
        start: datetime,
        end: datetime,
        deadline: float | None = None,
    ) -> CreatedEvent:
        """`POST /me/events` with a Teams meeting: it is on the user's calendar. `transactionId` makes a retried
        or repeated POST return the one event, so the request is safe to retry. Nobody is invited."""
        body = {
            "subject": subject,
            "start": {"dateTime": utc_iso(start).removesuffix("Z"), "timeZone": "UTC"},
            "end": {"dateTime": utc_iso(end).removesuffix("Z"), "timeZone": "UTC"},
            "isOnlineMeeting": True,
            "onlineMeetingProvider": "teamsForBusiness",
            "transactionId": transaction_id,
        }
        response = await self.request("POST", "/me/events", json_body=body, idempotent=True, deadline=deadline)
        event = CreatedEvent.from_json(response.value if isinstance(response.value, dict) else {})
        if event.join_url is None and event.event_id:  # Exchange may attach the meeting just after answering
            again = await self.request(
                "GET",
                f"/me/events/{quote(event.event_id, safe='')}",
                params=[("$select", "id,onlineMeeting,transactionId")],
                deadline=deadline,
            )
            event = CreatedEvent.from_json(again.value if isinstance(again.value, dict) else {})
        return event

    async def schedule_meeting(
        self,
        key: str,
        *,
        subject: str,
        start: datetime,
        end: datetime,
        deadline: float | None = None,
    ) -> ScheduledMeeting:
        """A meeting for `new`, keyed by `key` (the request's own id: a retry makes no second meeting).

        On the calendar (`create_event_meeting`, then its online meeting by join URL). Without calendar consent
        (403) or a mailbox, `createOrGet` under the same key instead, which is not on the calendar."""
        try:
            event = await self.create_event_meeting(key, subject=subject, start=start, end=end, deadline=deadline)
        except (Forbidden, NotFound) as exc:
            if isinstance(exc, NotFound) and exc.code not in NO_MAILBOX_CODES:
                raise
            log.info("calendar event refused (%s %s): createOrGet instead", exc.status, exc.code)
            created = await self.create_or_get_meeting(key, subject=subject, start=start, end=end, deadline=deadline)
            return ScheduledMeeting(created.meeting, on_calendar=False)
        if event.join_url is None:
            raise GraphError("the new calendar event has no Teams meeting", code="NoOnlineMeeting")
        meeting = await self.find_meeting_by_join_url(event.join_url, deadline=deadline)
        return ScheduledMeeting(meeting, on_calendar=True, event_id=event.event_id)

    async def me(self, *, deadline: float | None = None) -> Me:
        response = await self.request("GET", "/me", params=[("$select", _ME_SELECT)], deadline=deadline)
        return Me.from_json(response.value if isinstance(response.value, dict) else {})

    async def booking_businesses(self, *, deadline: float | None = None) -> list[BookingBusiness]:
        """The tenant's Bookings businesses (Graph returns id and displayName only, up to 500, no paging)."""
        response = await self.request("GET", "/solutions/bookingBusinesses", deadline=deadline)
        return [BookingBusiness.from_json(item) for item in _items(response)]

    async def booking_staff_members(
        self, business_id: str, *, deadline: float | None = None
    ) -> list[BookingStaffMember]:
        response = await self.request("GET", f"{_business_path(business_id)}/staffMembers", deadline=deadline)
        return [BookingStaffMember.from_json(item) for item in _items(response)]

    async def booking_calendar_view(
        self,
        business: BookingBusiness,
        *,
        start: datetime,
        end: datetime,
        max_pages: int = 3,
        deadline: float | None = None,
    ) -> list[BookingAppointment]:
        """A business's appointments in [start, end) (`start` and `end` are required by Graph)."""
        found: list[BookingAppointment] = []
        async for items in self.pages(
            f"{_business_path(business.id)}/calendarView",
            params=[("start", utc_iso(start)), ("end", utc_iso(end))],
            max_pages=max_pages,
            deadline=deadline,
        ):
            found.extend(BookingAppointment.from_json(item, business) for item in items)
        return found

    async def booking_appointment(
        self, business: BookingBusiness, appointment_id: str, *, deadline: float | None = None
    ) -> BookingAppointment:
        path = f"{_business_path(business.id)}/appointments/{quote(appointment_id, safe='')}"
        response = await self.request("GET", path, deadline=deadline)
        return BookingAppointment.from_json(response.value if isinstance(response.value, dict) else {}, business)

    async def create_or_get_meeting(
        self,
        external_id: str,
        *,
        subject: str | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        user_id: str | None = None,
        deadline: float | None = None,
    ) -> CreatedMeeting:
        """`createOrGet` keyed by `external_id`: safe to retry, so a dropped connection is retried too."""
        body: dict[str, Any] = {"externalId": external_id}
        if subject is not None:
            body["subject"] = subject
        if start is not None:
            body["startDateTime"] = utc_iso(start)
        if end is not None:
            body["endDateTime"] = utc_iso(end)
        response = await self.request(
            "POST",
            f"{owner_path(user_id)}/onlineMeetings/createOrGet",
            json_body=body,
            idempotent=True,
            deadline=deadline,
        )
        data = response.value if isinstance(response.value, dict) else {}
        return CreatedMeeting(OnlineMeeting.from_json(data), created=response.status == 201)

    async def send_sms(
        self,
        meeting_id: str,
        attendees: Sequence[SmsAttendee],
        *,
        message_type: str = "confirmation",
        user_id: str | None = None,
        deadline: float | None = None,
    ) -> None:
        """Text the join link (Teams Premium, US numbers); Graph answers 202 and sends asynchronously."""
        if message_type not in SMS_MESSAGE_TYPES:
            raise ValueError(f"message_type must be one of {sorted(SMS_MESSAGE_TYPES)}")
        await self.request(
            "POST",
            meeting_path(meeting_id, user_id, "/sendVirtualAppointmentSms"),
            json_body={"attendees": [a.to_json() for a in attendees], "messageType": message_type},
            deadline=deadline,
        )

    async def send_reminder_sms(
        self,
        meeting_id: str,
        attendees: Sequence[SmsAttendee],
        *,
        remind_before: str = "mins15",
        user_id: str | None = None,
        deadline: float | None = None,
    ) -> None:
        """Schedule a reminder text `remind_before` the start (`mins15`, the only documented value); Teams
        Premium and US numbers, like `send_sms`. Sent once: never retried after Graph may have acted."""
        if remind_before not in REMINDER_TYPES:
            raise ValueError(f"remind_before must be one of {sorted(REMINDER_TYPES)}")
        await self.request(
            "POST",
            meeting_path(meeting_id, user_id, "/sendVirtualAppointmentReminderSms"),
            json_body={"attendees": [a.to_json() for a in attendees], "remindBeforeTimeInMinutesType": remind_before},
            deadline=deadline,
        )

    async def send_mail(self, message: MailMessage, *, deadline: float | None = None) -> None:
        """`POST /me/sendMail` from the signed-in user's mailbox, saved to Sent Items; Graph answers 202 and delivers
        asynchronously. 429 is retried (Graph did not act); a dropped connection or 5xx is not, so a message is never
        sent twice by a retry."""
        if not message.to:
            raise ValueError("a message needs a recipient")
        await self.request(
            "POST", "/me/sendMail", json_body=message.to_json(), idempotent=False, deadline=deadline
        )
