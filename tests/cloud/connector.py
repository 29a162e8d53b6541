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
from .teams import Directory, TeamsUser

# What Teams answers when the bot may not open a one-to-one chat with someone.
PERSONAL_CHAT_REFUSALS = {
    403: ("BotNotInConversationRoster", "The bot is not installed in the user's personal scope."),
    404: ("NotFound", "The user was not found in this tenant."),
}


class FakeConnector:
    """Records every request; checks the bot's bearer token; answers like the Teams Bot Connector.

    `requests` holds dicts `{method, path, query, json, has_authorization, authorized, status, at}` (`at`: the
    `time.monotonic()` when it arrived);
    `activities` the bodies POSTed as sends or replies (in order), `activities_in(conversation_id)` those sent to one
    conversation (by the URL they were POSTed to); `meetings` maps the Teams meeting id (`channelData.meeting.id`)
    to the MeetingInfo JSON `GET /v1/meetings/{id}` returns (404 when absent).

    `POST /v3/conversations` opens a one-to-one chat as Teams does: exactly one member (by Teams or AAD id), not a
    group, the tenant given; its id is the user's personal conversation id (`personal_conversation(user)`, the same
    id their own messages to the bot carry), and `created_conversations` records each request's members, `isGroup`
    and tenant. `refuse_personal_chat(status, user=)` makes it answer 403 (the app is not installed for the user)
    or 404 until `reset()`.
    """

    def __init__(
        self,
        directory: Directory,
        authorize: Callable[[str | None], bool],
        personal_conversation: Callable[[TeamsUser], str] | None = None,
    ) -> None:
        self._directory = directory
        self._authorize = authorize
        self._personal_conversation = personal_conversation or (lambda user: f"a:1{user.name}")
        self._lock = threading.Condition()
        self._faults = Faults()
        self._requests: list[dict[str, Any]] = []
        self._activities: list[dict[str, Any]] = []
        self._sent: list[tuple[str, dict[str, Any]]] = []
        self._created: list[dict[str, Any]] = []
        self._refusals: dict[str | None, int] = {}
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

    def activities_in(self, conversation_id: str) -> list[dict[str, Any]]:
        """The activities sent (or replied) to one conversation, in order."""
        with self._lock:
            return [body for conversation, body in self._sent if conversation == conversation_id]

    @property
    def created_conversations(self) -> list[dict[str, Any]]:
        """Each `POST /v3/conversations` the connector accepted: `{id, members, isGroup, tenantId, bot}` (`members`
        the ids as sent; `isGroup` None when the request left it out)."""
        with self._lock:
            return list(self._created)

    def refuse_personal_chat(self, status: int = 403, *, user: str | None = None) -> None:
        """From now on, answer `POST /v3/conversations` for `user` (a Teams id, AAD id or short name; None: anyone)
        with `status`: 403 BotNotInConversationRoster (the app is not installed for them) or 404 (unknown user)."""
        if status not in PERSONAL_CHAT_REFUSALS:
            raise ValueError(f"status must be one of {sorted(PERSONAL_CHAT_REFUSALS)}")
        key = None
        if user is not None:
            if (person := self._directory.find(user)) is None:
                raise ValueError(f"unknown user {user!r}")
            key = person.teams_id
        with self._lock:
            self._refusals[key] = status

    def personal_conversation(self, user: str) -> str:
        """The id of the bot's one-to-one chat with `user` (short name), as `POST /v3/conversations` returns it."""
        return self._personal_conversation(self._directory.user(user))

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
            self._sent.clear()
            self._created.clear()
            self._refusals.clear()
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
                self._sent.append((segments[2], body))
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
                return self._create_conversation(body)
            case "GET", ["v3", "conversations", conversation, "members"]:
                return web.json_response([u.channel_account() for u in self._directory.members(conversation)])
            case "GET", ["v3", "conversations", conversation, "pagedmembers"]:
                members = [u.channel_account() for u in self._directory.members(conversation)]
                return web.json_response({"members": members, "continuationToken": None})
            case "GET", ["v3", "conversations", conversation, "members", member_id]:
                user = self._directory.find(member_id)
                if user is None or user not in self._directory.members(conversation):
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

    def _create_conversation(self, body: Any) -> web.Response:
        """Open (or find again) the bot's one-to-one chat with the single member named, as Teams does."""
        if not isinstance(body, dict):
            return _error(400, "BadArgument", "The request body must be a ConversationParameters object.")
        members = body.get("members")
        channel_data = body.get("channelData")
        tenant_data = channel_data.get("tenant") if isinstance(channel_data, dict) else None
        tenant = body.get("tenantId") or (tenant_data.get("id") if isinstance(tenant_data, dict) else None)
        if body.get("isGroup"):
            return _error(400, "BadArgument", "Bots cannot create group conversations in Teams.")
        if not isinstance(members, list) or len(members) != 1 or not isinstance(members[0], dict):
            return _error(400, "BadArgument", "A one-to-one conversation needs exactly one member.")
        if tenant != self._directory.tenant_id:
            return _error(400, "BadArgument", "The tenant id is missing or is not this user's tenant.")
        member_id = str(members[0].get("id") or "")
        user = self._directory.find(member_id)
        with self._lock:
            refused = self._refusals.get(user.teams_id if user else None, self._refusals.get(None))
        if refused is not None or user is None:
            status = refused or 404
            code, message = PERSONAL_CHAT_REFUSALS[status]
            return _error(status, code, message)
        conversation = self._personal_conversation(user)
        self._directory.join(conversation, user)
        record = {"id": conversation, "members": [m.get("id") for m in members], "isGroup": body.get("isGroup"),
                  "tenantId": tenant, "bot": body.get("bot")}
        with self._lock:
            self._created.append(record)
        return web.json_response({"id": conversation, "activityId": self._new_id(),
                                  "serviceUrl": self.service_url}, status=201)

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
