"""Fake Bot Connector (Teams' `serviceUrl`): receives the bot's replies and answers its Teams REST calls."""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

from aiohttp import web

from ._runtime import Faults
from .teams import Directory


class FakeConnector:
    """Records every request; checks the bot's bearer token; answers like the Teams Bot Connector.

    `requests` holds dicts `{method, path, query, json, has_authorization, authorized, status, at}` (`at`: the
    `time.monotonic()` when it arrived);
    `activities` the bodies POSTed as sends or replies (in order); `meetings` maps the Teams meeting id
    (`channelData.meeting.id`) to the MeetingInfo JSON `GET /v1/meetings/{id}` returns (404 when absent).
    """

    def __init__(self, directory: Directory, authorize: Callable[[str | None], bool]) -> None:
        self._directory = directory
        self._authorize = authorize
        self._lock = threading.Condition()
        self._faults = Faults()
        self._requests: list[dict[str, Any]] = []
        self._activities: list[dict[str, Any]] = []
        self._ids = itertools.count(int(time.time() * 1000))
        self.meetings: dict[str, dict[str, Any]] = {}
        self.require_auth = True
        self.latency_s = 0.0  # seconds every request waits before it is answered (a slow connector)
        self.base_url = ""

    @property
    def service_url(self) -> str:
        """The URL Teams puts in `activity.serviceUrl` (with its trailing slash)."""
        return f"{self.base_url}/"

    @property
    def requests(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._requests)

    @property
    def activities(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._activities)

    def fail_next(self, status: int, times: int = 1, retry_after: float | str | None = None,
                  path_contains: str | None = None) -> None:
        """Answer `status` (with `Retry-After` if given) to the next `times` requests whose path matches."""
        self._faults.add(status, times, retry_after, path_contains)

    def wait_for_activities(self, n: int, timeout: float = 5.0) -> list[dict[str, Any]]:
        """Block until at least `n` activities arrived; returns them all. From async tests use `await_activities`."""
        with self._lock:
            if not self._lock.wait_for(lambda: len(self._activities) >= n, timeout):
                raise AssertionError(self._shortfall(n, timeout))
            return list(self._activities)

    async def await_activities(self, n: int, timeout: float = 5.0) -> list[dict[str, Any]]:
        """Like `wait_for_activities` but polls, so the caller's loop (running the bot) keeps going."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                if len(self._activities) >= n:
                    return list(self._activities)
                if time.monotonic() >= deadline:
                    raise AssertionError(self._shortfall(n, timeout))
            await asyncio.sleep(0.005)

    def _shortfall(self, n: int, timeout: float) -> str:
        texts = [a.get("text") or a.get("type") for a in self._activities]
        return f"expected {n} activities at the fake connector within {timeout}s, got {len(texts)}: {texts}"

    def reset(self) -> None:
        self._faults.clear()
        with self._lock:
            self._requests.clear()
            self._activities.clear()
        self.meetings.clear()
        self.require_auth = True
        self.latency_s = 0.0

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        return app

    async def _handle(self, request: web.Request) -> web.Response:
        arrived = time.monotonic()
        if self.latency_s:
            await asyncio.sleep(self.latency_s)
        body = await _json_body(request)
        header = request.headers.get("Authorization")
        authorized = self._authorize(header)
        # Route on the raw path: ids such as base64 meeting ids may contain an escaped "/".
        segments = [unquote(s) for s in request.raw_path.split("?", 1)[0].strip("/").split("/")]
        if (fault := self._faults.take(request.path)) is not None:
            response = _error(fault.status, "ServiceError", "Injected failure.", fault.headers())
        elif self.require_auth and not authorized:
            response = web.json_response({"message": "Authorization has been denied for this request."}, status=401)
        else:
            response = self._route(request.method, segments, request.query.get("tenantId"), body)
        with self._lock:
            self._requests.append({
                "method": request.method, "path": "/" + "/".join(segments), "query": dict(request.query),
                "json": body, "has_authorization": header is not None, "authorized": authorized,
                "status": response.status, "at": arrived,
            })
            if request.method == "POST" and response.status < 300 and _is_send(segments):
                self._activities.append(body)
            self._lock.notify_all()
        return response

    def _route(self, method: str, path: list[str], tenant_id: str | None, body: Any) -> web.Response:
        match method, path:
            case "POST", ["v3", "conversations", _, "activities"]:
                return web.json_response({"id": self._new_id()}, status=201)
            case "POST", ["v3", "conversations", _, "activities", _]:
                return web.json_response({"id": self._new_id()})
            case "PUT", ["v3", "conversations", _, "activities", activity_id]:
                return web.json_response({"id": activity_id})
            case "DELETE", ["v3", "conversations", _, "activities", _]:
                return web.Response(status=200)
            case "POST", ["v3", "conversations"]:
                conversation = f"a:1{self._new_id()}"
                return web.json_response({"id": conversation, "activityId": self._new_id(),
                                          "serviceUrl": self.service_url}, status=201)
            case "GET", ["v3", "conversations", conversation, "members"]:
                return web.json_response([u.channel_account() for u in self._directory.members(conversation)])
            case "GET", ["v3", "conversations", conversation, "pagedmembers"]:
                members = [u.channel_account() for u in self._directory.members(conversation)]
                return web.json_response({"members": members, "continuationToken": None})
            case "GET", ["v3", "conversations", _, "members", member_id]:
                if (user := self._directory.find(member_id)) is None:
                    return _error(404, "MemberNotFoundInConversation", "The member is not in this conversation.")
                return web.json_response(user.channel_account())
            case "GET", ["v3", "teams", team_id]:
                return web.json_response({"id": team_id, "name": "Contoso Clinic", "aadGroupId": _guid(team_id)})
            case "GET", ["v3", "teams", team_id, "conversations"]:
                return web.json_response({"conversations": [{"id": team_id, "name": None}]})
            case "GET", ["v1", "meetings", meeting_id]:
                if (meeting := self.meetings.get(meeting_id)) is None:
                    return _error(404, "NotFound", "Meeting not found.")
                return web.json_response(meeting)
            case "GET", ["v1", "meetings", meeting_id, "participants", participant_id]:
                return self._participant(meeting_id, participant_id, tenant_id)
        return _error(404, "NotFound", f"No fake for {method} /{'/'.join(path)}.")

    def _participant(self, meeting_id: str, participant_id: str, tenant_id: str | None) -> web.Response:
        meeting = self.meetings.get(meeting_id)
        user = self._directory.find(participant_id)
        if meeting is None or user is None or (tenant_id and tenant_id != user.tenant_id):
            return _error(404, "NotFound", "Participant not found.")
        organizer = meeting.get("organizer", {}).get("aadObjectId")
        role = "Organizer" if organizer == user.aad_object_id else "Attendee"
        return web.json_response({
            "user": user.channel_account(),
            "meeting": {"role": role, "inMeeting": True},
            "conversation": meeting.get("conversation", {}),
        })

    def _new_id(self) -> str:
        return str(next(self._ids))


def _is_send(path: list[str]) -> bool:
    """A send to a conversation or a reply to an activity (not an update, delete or history upload)."""
    return len(path) in (4, 5) and path[:2] == ["v3", "conversations"] and path[3] == "activities" \
        and path[-1] != "history"


async def _json_body(request: web.Request) -> Any:
    if not request.can_read_body:
        return None
    text = await request.text()
    try:
        return json.loads(text)
    except ValueError:
        return text


def _guid(seed: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, seed))


def _error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response({"error": {"code": code, "message": message}}, status=status, headers=headers)
