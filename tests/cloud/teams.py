"""Teams users and the activity JSON Teams posts to a bot, in its camelCase wire shape."""

from __future__ import annotations

import base64
import hashlib
import itertools
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

_NAMESPACE = uuid.UUID("6c1f3b0e-2a4d-4c55-9b7e-1d0f5a3c8e21")


def _digest(*parts: str) -> str:
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


def teams_meeting_id(conversation_id: str) -> str:
    """The `channelData.meeting.id` Teams sends: base64 of `0#<meeting chat id>#0`."""
    return base64.b64encode(f"0#{conversation_id}#0".encode()).decode()


@dataclass(frozen=True)
class TeamsUser:
    """A person in the fake tenant; every id is derived from the short name so it is stable across runs."""

    name: str
    tenant_id: str

    @property
    def teams_id(self) -> str:
        raw = hashlib.sha256(f"teams|{self.name}".encode()).digest()
        return "29:1" + base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @property
    def aad_object_id(self) -> str:
        return str(uuid.uuid5(_NAMESPACE, f"user|{self.name}"))

    @property
    def display_name(self) -> str:
        return f"{self.name.title()} Example"

    @property
    def upn(self) -> str:
        return f"{self.name.lower()}@contoso.example"

    def channel_account(self) -> dict[str, Any]:
        """The TeamsChannelAccount JSON the connector answers member look-ups with."""
        return {
            "id": self.teams_id,
            "name": self.display_name,
            "aadObjectId": self.aad_object_id,
            "givenName": self.name.title(),
            "surname": "Example",
            "email": self.upn,
            "userPrincipalName": self.upn,
            "tenantId": self.tenant_id,
            "userRole": "user",
        }


class Directory:
    """Who exists and who has been seen in which conversation; shared by the fakes, thread-safe."""

    def __init__(self, tenant_id: str) -> None:
        self.tenant_id = tenant_id
        self._lock = threading.Lock()
        self._users: dict[str, TeamsUser] = {}
        self._members: dict[str, list[str]] = {}

    def user(self, name: str) -> TeamsUser:
        """The user with this short name, registering them on first use."""
        with self._lock:
            return self._users.setdefault(name, TeamsUser(name, self.tenant_id))

    def find(self, any_id: str) -> TeamsUser | None:
        """A known user by Teams id, AAD object id or short name."""
        with self._lock:
            for user in self._users.values():
                if any_id in (user.teams_id, user.aad_object_id, user.name):
                    return user
        return None

    def join(self, conversation_id: str, user: TeamsUser) -> None:
        with self._lock:
            names = self._members.setdefault(conversation_id, [])
            if user.name not in names:
                names.append(user.name)

    def members(self, conversation_id: str) -> list[TeamsUser]:
        with self._lock:
            return [self._users[name] for name in self._members.get(conversation_id, [])]

    def reset(self) -> None:
        """Forget conversation membership; users (and their ids) stay."""
        with self._lock:
            self._members.clear()


class ActivityFactory:
    """Builds inbound Teams activities for one bot, tenant and connector."""

    def __init__(self, directory: Directory, *, app_id: str, bot_name: str, service_url: str) -> None:
        self.directory = directory
        self.app_id = app_id
        self.bot_name = bot_name
        self.service_url = service_url
        self._ids = itertools.count(int(time.time() * 1000))

    def conversation_id(self, conversation_type: str, user: str, meeting_id: str | None = None) -> str:
        """Stable per (bot, user) for personal chats, per bot for group chats and channels, per meeting key."""
        if meeting_id is not None:
            return f"19:meeting_{_digest(self.app_id, 'meeting', meeting_id)[:40]}@thread.v2"
        if conversation_type == "personal":
            return "a:1" + _digest(self.app_id, "personal", user)[:60]
        if conversation_type == "groupChat":
            return f"19:{_digest(self.app_id, 'groupChat')[:32]}@thread.v2"
        if conversation_type == "channel":
            return f"19:{_digest(self.app_id, 'channel')[:32]}@thread.tacv2"
        raise ValueError(f"unknown conversation_type {conversation_type!r}")

    def build(
        self,
        text: str | None,
        *,
        type: str,
        user: str,
        conversation_type: str,
        value: Any,
        name: str | None,
        locale: str,
        timezone: str,
        tenant_id: str | None,
        meeting_id: str | None,
        reply_to_id: str | None,
        mention: bool,
        extra: dict[str, Any] | None,
    ) -> dict[str, Any]:
        person = self.directory.user(user)
        tenant = tenant_id or self.directory.tenant_id
        if meeting_id is not None:
            conversation_type = "groupChat"
        conversation_id = self.conversation_id(conversation_type, user, meeting_id)
        self.directory.join(conversation_id, person)
        now = datetime.now(UTC)
        country = locale.partition("-")[2]
        conversation: dict[str, Any] = {
            "conversationType": conversation_type, "tenantId": tenant, "id": conversation_id,
        }
        if conversation_type != "personal":
            conversation = {"isGroup": True, **conversation}
        channel_data: dict[str, Any] = {"tenant": {"id": tenant}}
        if meeting_id is not None:
            channel_data["meeting"] = {"id": teams_meeting_id(conversation_id)}
        if conversation_type == "channel":
            team_id = f"19:{_digest(self.app_id, 'team')[:32]}@thread.tacv2"
            channel_data.update(teamsChannelId=conversation_id, teamsTeamId=team_id,
                                channel={"id": conversation_id}, team={"id": team_id})
        entities: list[dict[str, Any]] = [
            {"type": "clientInfo", "locale": locale, "country": country, "platform": "Web", "timezone": timezone}
        ]
        bot_account = {"id": f"28:{self.app_id}", "name": self.bot_name}
        activity: dict[str, Any] = {
            "type": type,
            "id": f"f:{next(self._ids)}" if type == "invoke" else str(next(self._ids)),
            "timestamp": now.strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z",
            "localTimestamp": _local_timestamp(now, timezone),
            "localTimezone": timezone,
            "serviceUrl": self.service_url,
            "channelId": "msteams",
            "from": {"id": person.teams_id, "name": person.display_name, "aadObjectId": person.aad_object_id},
            "conversation": conversation,
            "recipient": bot_account,
            "entities": entities,
            "channelData": channel_data,
            "locale": locale,
        }
        if type == "message" and text is not None:
            if mention:
                at = f"<at>{self.bot_name}</at>"
                text = f"{at} {text}"
                entities.append({"type": "mention", "text": at, "mentioned": bot_account})
            activity.update(text=text, textFormat="plain")
        if name is not None:
            activity["name"] = name
        if value is not None:
            activity["value"] = value
        if reply_to_id is not None:
            activity["replyToId"] = reply_to_id
        activity.update(extra or {})
        return activity


def _local_timestamp(now: datetime, timezone: str) -> str:
    local = now.astimezone(ZoneInfo(timezone))
    offset = local.strftime("%z")
    return local.strftime("%Y-%m-%dT%H:%M:%S.%f") + "0" + offset[:3] + ":" + offset[3:]


def meeting_info(
    conversation_id: str,
    organizer: TeamsUser,
    *,
    title: str,
    start: datetime,
    end: datetime,
    join_url: str | None = None,
    graph_id: str | None = None,
) -> dict[str, Any]:
    """The MeetingInfo JSON `GET /v1/meetings/{id}` answers (Teams "Get meeting details" API)."""
    context = quote(f'{{"Tid":"{organizer.tenant_id}","Oid":"{organizer.aad_object_id}"}}', safe="")
    return {
        "details": {
            "id": teams_meeting_id(conversation_id),
            "msGraphResourceId": graph_id
            or base64.b64encode(f"1*{organizer.aad_object_id}*0**{conversation_id}".encode()).decode(),
            "joinUrl": join_url
            or f"https://teams.microsoft.com/l/meetup-join/{quote(conversation_id, safe='')}/0?context={context}",
            "title": title,
            "scheduledStartTime": start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "scheduledEndTime": end.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "type": "Scheduled",
        },
        "conversation": {"isGroup": True, "conversationType": "groupChat", "id": conversation_id},
        "organizer": {"id": organizer.teams_id, "aadObjectId": organizer.aad_object_id,
                      "tenantId": organizer.tenant_id},
    }
