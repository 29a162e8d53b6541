"""The loopback "test cloud": fakes of everything around a Teams bot, speaking the real wire protocol.

`LoopbackCloud().start()` serves, on 127.0.0.1 ephemeral ports and in a background thread with its own event
loop: the Bot Connector (`connector`), the Bot Framework token service (`token_service`), Entra ID over TLS
(`entra`) and the channel's OpenID metadata (`openid`). Point a bot at it with `settings_env()` and put
`ca_bundle` in `REQUESTS_CA_BUNDLE` (MSAL uses `requests`); the `cloud` fixture in tests/conftest.py does both.
"""

from __future__ import annotations

import json
import shutil
import ssl
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any

import aiohttp
import requests
import trustme

from ._runtime import LoopThread
from .connector import FakeConnector
from .entra import BOT_SCOPE, FakeEntra
from .keys import SigningKey
from .openid import CHANNEL_ISSUER, FakeOpenIdMetadata
from .teams import ActivityFactory, Directory, TeamsUser, meeting_info, teams_meeting_id
from .token_service import EXCHANGE_MODES, FakeTokenService, opaque_token

__all__ = [
    "EXCHANGE_MODES",
    "FakeConnector",
    "FakeEntra",
    "FakeOpenIdMetadata",
    "FakeTokenService",
    "LoopbackCloud",
    "TeamsUser",
    "opaque_token",
    "teams_meeting_id",
]

VALID = "valid"
CONNECTION_NAME = "GraphConnection"


class LoopbackCloud:
    """Everything a Teams bot talks to, on loopback. Start once per session; `reset()` between tests."""

    bot_name = "Bot"

    def __init__(self) -> None:
        self.app_id = str(uuid.uuid4())
        self.app_password = "loopback-" + uuid.uuid4().hex
        self.tenant_id = str(uuid.uuid4())
        self._channel_key = SigningKey.generate("bf-key-1", ("msteams", "webchat", "emulator"))
        self._webchat_key = SigningKey.generate("bf-key-webchat", ("webchat", "directline"))
        self._rogue_key = SigningKey.generate("bf-key-1")
        self._directory = Directory(self.tenant_id)
        self._threads = LoopThread()
        self._tmp: Path | None = None
        self._ca: trustme.CA | None = None
        self.openid = FakeOpenIdMetadata([self._channel_key, self._webchat_key])
        self.entra = FakeEntra(SigningKey.generate("entra-key-1"), self._directory,
                               app_id=self.app_id, app_password=self.app_password)
        self._activities = ActivityFactory(self._directory, app_id=self.app_id, bot_name=self.bot_name,
                                           service_url="")
        self.connector = FakeConnector(self._directory, self.entra.verify_app_token,
                                       lambda user: self._activities.conversation_id("personal", user.name))
        self.token_service = FakeTokenService(self._directory, self.entra, app_id=self.app_id,
                                              connection_name=CONNECTION_NAME)

    # --- lifecycle -----------------------------------------------------------------------------------------------

    def start(self) -> LoopbackCloud:
        """Serve every fake; returns self so `cloud = LoopbackCloud().start()` reads naturally."""
        if self._threads.running:
            return self
        self._tmp = Path(tempfile.mkdtemp(prefix="loopback-cloud-"))
        self._ca = trustme.CA()
        self._ca.cert_pem.write_to_path(str(self._tmp / "ca.pem"))
        server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._ca.issue_cert("127.0.0.1").configure_cert(server_tls)
        self._threads.start()
        try:
            self.openid.base_url = f"http://127.0.0.1:{self._threads.serve(self.openid.app())}"
            self.entra.base_url = f"https://127.0.0.1:{self._threads.serve(self.entra.app(), server_tls)}"
            self.connector.base_url = f"http://127.0.0.1:{self._threads.serve(self.connector.app())}"
            self.token_service.base_url = f"http://127.0.0.1:{self._threads.serve(self.token_service.app())}"
        except BaseException:
            self.stop()
            raise
        self._activities.service_url = self.connector.service_url
        return self

    def stop(self) -> None:
        """Close the servers, join the thread and delete the CA files."""
        self._threads.stop()
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    def __enter__(self) -> LoopbackCloud:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def reset(self) -> None:
        """Forget records, faults, tokens, meetings and modes; keep keys, ports, CA and `token_minter`."""
        self.openid.reset()
        self.entra.reset()
        self.connector.reset()
        self.token_service.reset()
        self._directory.reset()

    # --- configuration -------------------------------------------------------------------------------------------

    def settings_env(self, **overrides: str) -> dict[str, str]:
        """The environment for `config.Settings.from_mapping`: authentication on, every endpoint on loopback."""
        env = {
            "MicrosoftAppId": self.app_id,
            "MicrosoftAppPassword": self.app_password,
            "MicrosoftAppType": "MultiTenant",
            "ToBotFromChannelOpenIdMetadataUrl": self.openid.metadata_url,
            "ToBotFromEmulatorOpenIdMetadataUrl": self.openid.metadata_url,
            "ToBotFromChannelTokenIssuer": CHANNEL_ISSUER,
            "ToChannelFromBotLoginUrl": self.entra.authority,
            "ToChannelFromBotOAuthScope": BOT_SCOPE,
            "OAuthUrl": self.token_service.base_url,
            "CallerId": "urn:botframework:azure",
            "ConnectionName": self.token_service.connection_name,
            "TrustedServiceUrls": self.connector.service_url,
        }
        env.update(overrides)
        return env

    @property
    def ca_bundle(self) -> str:
        """Path of the throw-away CA's PEM; put it in `REQUESTS_CA_BUNDLE` so MSAL trusts the fake Entra."""
        if self._tmp is None:
            raise RuntimeError("the loopback cloud is not started")
        return str(self._tmp / "ca.pem")

    def ssl_context_for_clients(self) -> ssl.SSLContext:
        """A client SSL context trusting the fake Entra's certificate (for aiohttp clients)."""
        if self._ca is None:
            raise RuntimeError("the loopback cloud is not started")
        context = ssl.create_default_context()
        self._ca.configure_trust(context)
        return context

    # --- inbound tokens ------------------------------------------------------------------------------------------

    def channel_token(
        self,
        *,
        service_url: str | None = None,
        audience: str | None = None,
        issuer: str = CHANNEL_ISSUER,
        expires_in: int = 3600,
        not_before_offset: int = 0,
        kid: str = "bf-key-1",
        sign_with_unknown_key: bool = False,
        endorse_msteams: bool = True,
    ) -> str:
        """A Bot Connector token for this bot, valid unless told otherwise.

        Bad variants: `expires_in=-600` (expired beyond the SDK's 300 s leeway), `sign_with_unknown_key=True`
        (same kid, unpublished key: wrong signature), `kid="nope"` (unknown kid), `audience=`, `service_url=`,
        `issuer=`, and `endorse_msteams=False` (signed with a published key not endorsed for msteams).
        """
        now = int(time.time())
        claims = {
            "iss": issuer,
            "aud": audience or self.app_id,
            "serviceurl": service_url or self.connector.service_url,
            "nbf": now + not_before_offset,
            "iat": now,
            "exp": now + expires_in,
        }
        key = self._channel_key if endorse_msteams else self._webchat_key
        header_kid = kid if endorse_msteams or kid != "bf-key-1" else key.kid
        return (self._rogue_key if sign_with_unknown_key else key).sign(claims, kid=header_kid)

    def auth_header(self, **token_options: Any) -> str:
        return "Bearer " + self.channel_token(**token_options)

    # --- Teams activities ----------------------------------------------------------------------------------------

    def user_ids(self, user: str) -> tuple[str, str]:
        """(Teams user id `29:...`, AAD object id) for a short user name; stable across runs."""
        person = self._directory.user(user)
        return person.teams_id, person.aad_object_id

    def user(self, user: str) -> TeamsUser:
        return self._directory.user(user)

    def activity(
        self,
        text: str | None = "hello",
        *,
        type: str = "message",
        user: str = "alice",
        conversation_type: str = "personal",
        value: Any = None,
        name: str | None = None,
        locale: str = "en-GB",
        timezone: str = "Europe/London",
        tenant_id: str | None = None,
        meeting_id: str | None = None,
        reply_to_id: str | None = None,
        mention: bool = False,
        extra: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """A Teams activity as Teams posts it (camelCase JSON).

        `conversation_type` is "personal", "groupChat" or "channel"; a `meeting_id` (any short key) makes it that
        meeting's chat, with `channelData.meeting.id` set (register the meeting with `add_meeting`). Text is sent
        for messages unless `text=None` (an Adaptive Card submit carries only `value`). `mention=True` prefixes
        `<at>Bot</at>` with its mention entity. `extra` is merged in last, shallowly.
        """
        return self._activities.build(
            text, type=type, user=user, conversation_type=conversation_type, value=value, name=name,
            locale=locale, timezone=timezone, tenant_id=tenant_id, meeting_id=meeting_id,
            reply_to_id=reply_to_id, mention=mention, extra=extra,
        )

    def invoke(self, name: str, value: Any = None, **options: Any) -> dict[str, Any]:
        """An invoke activity (`signin/tokenExchange`, `composeExtension/fetchTask`, ...)."""
        return self.activity(None, type="invoke", name=name, value=value, **options)

    def meeting_ids(self, meeting_id: str) -> tuple[str, str]:
        """(meeting chat conversation id, Teams meeting id as in `channelData.meeting.id`) for a meeting key."""
        conversation = self._activities.conversation_id("groupChat", "", meeting_id)
        return conversation, teams_meeting_id(conversation)

    def add_meeting(
        self,
        meeting_id: str,
        *,
        organizer: str = "alice",
        title: str = "Virtual appointment",
        start: datetime | None = None,
        end: datetime | None = None,
        join_url: str | None = None,
        graph_id: str | None = None,
    ) -> dict[str, Any]:
        """Register a meeting with the connector's `/v1/meetings` and return its MeetingInfo JSON."""
        conversation, teams_id = self.meeting_ids(meeting_id)
        begins = start or datetime.now(UTC).replace(microsecond=0) + timedelta(hours=1)
        info = meeting_info(conversation, self._directory.user(organizer), title=title, start=begins,
                            end=end or begins + timedelta(minutes=30), join_url=join_url, graph_id=graph_id)
        self.connector.meetings[teams_id] = info
        return info

    # --- posting to the bot --------------------------------------------------------------------------------------

    def _auth(self, activity: dict[str, Any], auth: str | None) -> dict[str, str]:
        """`"valid"`: a fresh channel token for the activity; None: no header; a token or a whole header."""
        if auth is None:
            return {}
        if auth == VALID:
            auth = self.channel_token(service_url=activity.get("serviceUrl"))
        return {"Authorization": auth if " " in auth else f"Bearer {auth}"}

    def post(self, base_url: str, activity: dict[str, Any], *, token: str | None = VALID,
             timeout: float = 10.0) -> tuple[int, Any]:
        """POST to the bot's `/api/messages`, blocking (from async tests use `asyncio.to_thread`)."""
        response = requests.post(_messages_url(base_url), json=activity, headers=self._auth(activity, token),
                                 timeout=timeout)
        return response.status_code, _body(response.text)

    async def apost(self, session: aiohttp.ClientSession, base_url: str, activity: dict[str, Any], *,
                    auth: str | None = VALID) -> tuple[int, Any]:
        """POST to the bot's `/api/messages` with aiohttp."""
        async with session.post(_messages_url(base_url), json=activity, headers=self._auth(activity, auth)) as resp:
            return resp.status, _body(await resp.text())


def _messages_url(base_url: str) -> str:
    base = base_url.rstrip("/")
    return base if base.endswith("/api/messages") else base + "/api/messages"


def _body(text: str) -> Any:
    """Parsed JSON, the raw text when it is not JSON, or None when empty."""
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text
