"""Where the bot may send with its token (DESIGN.md section 9): nothing read from storage is an address used unchecked.

Every connector call (replies, `POST /v3/conversations`, meeting info, every proactive turn) gets its client from a
connector factory; `GuardedConnectorFactory` refuses to build one for a service URL whose whole origin (scheme, host,
port) is not a Teams connector's, so the bot's Bearer token never leaves for another host, whatever a stored
reference says (the SDK's own trusted-host list is obsolete and no longer consulted). Trusted origins:

- the documented Teams connector hosts, public and sovereign, over https on port 443 (`TEAMS_CONNECTOR_HOSTS`);
- the configured `TrustedServiceUrls` (the loopback test cloud; a sovereign cloud with no preset here);
- an origin seen on an authenticated inbound activity (the Bot Connector's JWT binds `serviceUrl`), remembered in this
  process only. Deliberately not in storage: storage is what a stored reference comes from, so an origin written
  there proves nothing. Another instance trusts such an origin once it has seen it too (or once it is configured);
  until then its reminders wait (they are retried, not dropped).

A proactive turn is always a private send (the 1:1 hand-off, reminders), so `admit_private` also requires its
conversation id to be a personal chat's (`a:...`, the form `POST /v3/conversations` returns for a 1:1 chat; group chats
and meetings are `19:...@thread.v2`, channels `19:...@thread.tacv2` / `@thread.skype`), and Teams to confirm the
reference's user is a member of it (so a stored id cannot point one user's private flow at another user's chat).
The conversation's kind is then taken from that id, never from a label the bot wrote itself.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections import OrderedDict
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from botbuilder.schema import Activity
from botframework.connector.auth import ConnectorFactory

from bot.sdk.reply_retry import reply_status

log = logging.getLogger(__name__)

# Documented Teams connector hosts (the service URL Teams puts on activities), per cloud: public (with GCC), GCC High,
# DoD and China, from the Teams SDK's service URL validation, "Allowed hostnames by cloud":
# https://microsoft.github.io/teams-sdk/python/essentials/app-configuration/service-url-validation
# (the same family as the Agents SDK's TeamsServiceEndpoints: smba.trafficmanager.net/teams/, smba.infra.gcc...,
# smba.infra.gov..., smba.infra.dod...). Other sovereign clouds (France Bleu, ...) go in `TrustedServiceUrls`.
TEAMS_CONNECTOR_HOSTS = frozenset({
    "smba.trafficmanager.net",
    "smba.onyx.prod.teams.trafficmanager.net",
    "smba.infra.gcc.teams.microsoft.com",
    "smba.infra.gov.teams.microsoft.us",
    "smba.infra.dod.teams.microsoft.us",
    "frontend.botapi.msg.infra.teams.microsoftonline.cn",
})
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
MAX_SEEN = 64  # origins seen inbound: a handful per cloud region; bounded against a hostile stream
MEMBER_CHECK_S = 5.0  # one connector GET, inside a message turn's and a reminder's time
# A 1:1 chat's conversation id as the Bot Connector gives it: `a:` and an opaque base64url run, nothing else.
_PERSONAL_ID = re.compile(r"a:[A-Za-z0-9_-]{1,1000}")
# Local mode only: the Agents Playground names its 1:1 chats itself (a GUID, or `<guid>@test.user`), never `a:...`;
# its group chats are `<guid>@test.group`, and Teams' shared chats `19:...@thread...`. Loopback, no token: the member
# check still decides.
_LOCAL_ID = re.compile(r"[A-Za-z0-9_.:@-]{1,200}")
_SHARED_MARKS = ("19:", "@thread", "@test.group")

Origin = tuple[str, str, int]


class RefusedReference(Exception):
    """A reference the bot will not send to; `reason` is safe to log (no URL, no id). `kind` says what is wrong:
    ORIGIN (not a connector this instance trusts: another instance may), CHAT (not the user's personal chat), or
    UNCONFIRMED (Teams did not answer the membership check: try later)."""

    def __init__(self, kind: str, reason: str) -> None:
        super().__init__(reason)
        self.kind = kind
        self.reason = reason


ORIGIN, CHAT, UNCONFIRMED = "origin", "chat", "unconfirmed"


def origin_of(url: str) -> Origin | None:
    """(scheme, host, port) of an http(s) URL with no user info; None for anything else."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("http", "https") or not host or parts.username is not None or parts.password is not None:
        return None
    return parts.scheme, host, port or (443 if parts.scheme == "https" else 80)


def is_personal_conversation_id(conversation_id: Any, *, local_mode: bool = False) -> bool:
    """A Teams 1:1 chat's id (`a:...`); group, meeting and channel ids (`19:...@thread...`) and anything else: no.
    In local mode also the Agents Playground's 1:1 chat ids, which are not of Teams' form."""
    if not isinstance(conversation_id, str):
        return False
    if _PERSONAL_ID.fullmatch(conversation_id) is not None:
        return True
    return (local_mode and _LOCAL_ID.fullmatch(conversation_id) is not None
            and not any(mark in conversation_id for mark in _SHARED_MARKS))


class SendGuard:
    """The trusted origins of this process and the checks every send passes."""

    def __init__(self, configured: Iterable[str] = (), *, local_mode: bool = False) -> None:
        self._configured = {o for o in (origin_of(url) for url in configured) if o is not None}
        self._local_mode = local_mode
        self._seen: OrderedDict[Origin, None] = OrderedDict()

    def saw(self, service_url: str) -> None:
        """An authenticated inbound activity came with this service URL: its origin is a connector's."""
        origin = origin_of(service_url)
        if origin is None or self._local_mode:
            return
        self._seen[origin] = None
        self._seen.move_to_end(origin)
        while len(self._seen) > MAX_SEEN:
            self._seen.popitem(last=False)

    def trusts(self, service_url: str) -> bool:
        origin = origin_of(service_url)
        if origin is None:
            return False
        scheme, host, port = origin
        if scheme == "https" and port == 443 and host in TEAMS_CONNECTOR_HOSTS:
            return True
        if self._local_mode and host in LOOPBACK_HOSTS:  # local mode: unauthenticated, loopback only, no token
            return True
        return origin in self._configured or origin in self._seen

    def is_personal(self, conversation_id: Any) -> bool:
        return is_personal_conversation_id(conversation_id, local_mode=self._local_mode)

    def check_origin(self, service_url: str) -> None:
        if not self.trusts(service_url):
            raise RefusedReference(ORIGIN, "service URL not a Teams connector's")

    async def admit_private(self, activity: Activity, connector: Any) -> None:
        """A proactive (private) turn may run in `activity`'s conversation: a personal chat's id that Teams says the
        user is in. Marks the conversation personal from what was checked. RefusedReference otherwise."""
        conversation, user = activity.conversation, activity.from_property
        conversation_id, user_id = getattr(conversation, "id", None), getattr(user, "id", None)
        if not self.is_personal(conversation_id):
            raise RefusedReference(CHAT, "conversation id not a personal chat's")
        if not isinstance(user_id, str) or not user_id:
            raise RefusedReference(CHAT, "no user")
        try:
            await asyncio.wait_for(
                connector.conversations.get_conversation_member(conversation_id, user_id), MEMBER_CHECK_S
            )
        except Exception as exc:
            if reply_status(exc) in (400, 403, 404):
                raise RefusedReference(CHAT, "the user is not in that chat") from None
            raise RefusedReference(UNCONFIRMED, f"membership not confirmed ({type(exc).__name__})") from None
        conversation.conversation_type, conversation.is_group = "personal", False


class GuardedConnectorFactory(ConnectorFactory):
    """Builds connector clients only for trusted origins (RefusedReference otherwise): the one seam every outgoing
    connector call passes."""

    def __init__(self, inner: ConnectorFactory, guard: SendGuard) -> None:
        self._inner = inner
        self._guard = guard

    async def create(self, service_url: str, audience: str | None = None) -> Any:
        self._guard.check_origin(service_url)
        return await self._inner.create(service_url, audience)
