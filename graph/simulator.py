"""A Microsoft Graph simulator for the virtual-appointment surface, served on loopback.

Serves DESIGN.md section 5 on `/v1.0` and `/beta` with Graph's field names, status codes and error bodies
(`{"error": {"code", "message", "innerError": {"request-id", "date", "client-request-id"}}}`), keeps meetings per
organizer, checks bearer tokens it issued, and injects latency, error statuses with `Retry-After` and dropped
connections on demand. State is guarded by one lock, so tests and the bot may drive it from any thread.

`$filter=JoinWebUrl eq '<url>'` matches the long join URL exactly as stored, and also the short form
`https://teams.microsoft.com/meet/<joinMeetingId>?p=<passcode>` (Teams shows both for one meeting).

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
REMINDER_TYPES = frozenset({"mins15", "mins30", "mins60", "day1"})
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
    body: Mapping[str, Any] | None


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
        self._users: dict[str, str] = {}
        self._tokens: dict[str, str] = {}
        self._meetings: dict[str, SimMeeting] = {}
        self._events: list[SimEvent] = []
        self._faults: list[_Fault] = []
        self._requests: list[RecordedRequest] = []
        self._sms: list[dict[str, Any]] = []
        if seed:
            self._seed((now or datetime.now(UTC)).replace(second=0, microsecond=0))

    # ---- state: users, tokens, meetings, events -------------------------------------------------------------

    def add_user(self, user_id: str, display_name: str) -> None:
        with self._lock:
            self._users[user_id] = display_name

    def issue_token(self, user_id: str, *, display_name: str | None = None) -> str:
        """A new bearer token for `user_id` (registered on first use)."""
        token = secrets.token_urlsafe(24)
        with self._lock:
            self._users.setdefault(user_id, display_name or user_id)
            if display_name:
                self._users[user_id] = display_name
            self._tokens[token] = user_id
        return token

    def revoke_token(self, token: str) -> None:
        with self._lock:
            self._tokens.pop(token, None)

    def display_name(self, user_id: str) -> str | None:
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
        self._users.setdefault(organizer_id, organizer_id)
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
    ) -> SimEvent:
        """A calendar event; an online one gets its own meeting, organized by the owner."""
        finish = end or start + timedelta(minutes=30)
        with self._lock:
            meeting = self._add_meeting_locked(owner_id, subject, start, finish, None) if online else None
            event = SimEvent(
                id=base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("="),
                owner_id=owner_id,
                subject=subject,
                start=start,
                end=finish,
                meeting=meeting,
                attendees=tuple(attendees),
                cancelled=cancelled,
            )
            self._events.append(event)
        return event

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
    ) -> None:
        """Make the next `times` requests whose path contains `path` (None: any) slow, fail or drop."""
        fault = _Fault(
            path=path,
            method=method.upper() if method else None,
            status=status,
            retry_after=None if retry_after is None else str(retry_after),
            times=times,
            latency=latency,
            drop=drop,
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
        segments = [unquote(s) for s in request.rel_url.raw_path.split("/")[1:]]
        if not segments or segments[0] not in VERSIONS:
            raise _Reply(400, "Invalid version.")
        rest = segments[1:]
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
        if tail == ["calendarView"] and method == "GET":
            return self._calendar_view(call)
        if tail == ["onlineMeetings"] and method == "GET":
            return self._filter_meetings(call)
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

    def _calendar_view(self, call: _Call) -> web.Response:
        query = call.request.query
        begin, finish = parse_datetime(query.get("startDateTime")), parse_datetime(query.get("endDateTime"))
        if begin is None or finish is None:
            raise _Reply(
                400,
                "This request requires a time window specified by the query string parameters StartDateTime and "
                "EndDateTime.",
                "ErrorInvalidParameter",
            )
        begin = begin if begin.tzinfo else begin.replace(tzinfo=UTC)
        finish = finish if finish.tzinfo else finish.replace(tzinfo=UTC)
        try:
            top = int(query.get("$top", "10"))
        except ValueError:
            raise _Reply(400, "Invalid $top value.") from None
        prefer = _PREFER_TZ.search(call.request.headers.get("Prefer", ""))
        tz_name = prefer.group(1) if prefer else "UTC"
        tz = zone(_WINDOWS_ZONES.get(tz_name, tz_name))
        if tz is None:
            tz_name, tz = "UTC", zone("UTC")
        if prefer:
            call.extra_headers["Preference-Applied"] = f'outlook.timezone="{tz_name}"'
        selected = set(query["$select"].split(",")) if "$select" in query else None
        with self._lock:
            events = sorted(
                (e for e in self._events if e.owner_id == call.user_id and e.start < finish and e.end > begin),
                key=lambda e: e.start,
            )[: max(top, 0)]
        value = [_select(_event_json(e, tz_name, tz), selected) for e in events]
        return web.json_response(
            {
                "@odata.context": f"https://graph.microsoft.com/{call.version}/$metadata#users('{call.user_id}')/calendarView",
                "value": value,
            }
        )

    def summary(self, tokens: Mapping[str, str] | None = None) -> str:
        """Seed data for people: users (with tokens, if given), their meetings and join links."""
        lines = [f"tenant {self.tenant_id}"]
        with self._lock:
            users = dict(self._users)
        for user_id, name in users.items():
            token = (tokens or {}).get(user_id)
            lines.append(f"user {name} ({user_id})" + (f" token: {token}" if token else ""))
            for m in self.meetings_of(user_id):
                lines += [
                    f"  meeting {m.subject!r} {m.start:%Y-%m-%d %H:%M} UTC",
                    f"    id: {m.id}",
                    f"    join URL: {m.join_web_url}",
                    f"    short URL: {m.short_url}  meeting ID: {m.join_meeting_id} passcode: {m.passcode}",
                ]
        return "\n".join(lines)


class _Dropped(Exception):
    """Close the connection without an answer."""


def _error(status: int, code: str, message: str, request_id: str, client_request_id: str | None) -> web.Response:
    inner = {"date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S"), "request-id": request_id}
    if client_request_id:
        inner["client-request-id"] = client_request_id
    return web.json_response({"error": {"code": code, "message": message, "innerError": inner}}, status=status)


def _event_json(event: SimEvent, tz_name: str, tz: Any) -> dict[str, Any]:
    def when(moment: datetime) -> dict[str, str]:
        return {"dateTime": moment.astimezone(tz).strftime("%Y-%m-%dT%H:%M:%S.%f") + "0", "timeZone": tz_name}

    return {
        "id": event.id,
        "@odata.etag": f'W/"{event.id[:12]}"',
        "subject": event.subject,
        "start": when(event.start),
        "end": when(event.end),
        "isCancelled": event.cancelled,
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


def _select(data: dict[str, Any], selected: set[str] | None) -> dict[str, Any]:
    if selected is None:
        return data
    return {k: v for k, v in data.items() if k in selected or k in ("id", "@odata.etag")}


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
