"""SDK defect 7.5/7.6 (cost): a new ConnectorClient and a new TokenApiClient for every turn.

CloudAdapter asks its authentication object for a connector client (per service URL) and a user-token client on
every turn; each is a new msrest client with its own Configuration (a ConfigParser), retry policy, pipeline and
requests Session, built before any I/O (its cost: README, SDK-defect table). The clients hold nothing turn-specific
(the service URL, the bot's credentials), so one per (app id, service URL, audience) and one token client per app
id serve every turn.
Before handing out a cached client, its bot token is refreshed off the event loop when due (bot/sdk/credentials.py).
Given the app's aiohttp session, each cached client also sends through it on the event loop instead of `requests`
in a thread pool (bot/sdk/aiohttp_transport.py), and (de)serialises with bot/sdk/fast_msrest.py. Every factory it
hands out is wrapped by the app's send guard (bot/send_guard.py), so no client is built for an untrusted service URL.
"""

from __future__ import annotations

from typing import Any

from botbuilder.schema import Activity
from botframework.connector.auth import (
    AuthenticateRequestResult,
    BotFrameworkAuthentication,
    ClaimsIdentity,
    ConnectorFactory,
    JwtTokenValidation,
    UserTokenClient,
)

from bot.sdk.aiohttp_transport import SessionSource, use_aiohttp
from bot.sdk.credentials import CachedAppCredentials
from bot.sdk.fast_msrest import use_fast_serializer
from bot.send_guard import GuardedConnectorFactory, SendGuard

MAX_CLIENTS = 64  # service URLs are a handful per cloud region; a bound keeps a hostile stream from growing it


async def _fresh(client: Any) -> None:
    credentials = getattr(getattr(client, "config", None), "credentials", None)
    if isinstance(credentials, CachedAppCredentials):
        await credentials.ensure_token()


class CachingConnectorFactory(ConnectorFactory):
    """Hands out one ConnectorClient per (service URL, audience) for the factory's app id."""

    def __init__(self, inner: ConnectorFactory, cache: dict[tuple[str, str, str], Any], app_id: str,
                 session: SessionSource | None = None) -> None:
        self._inner = inner
        self._cache = cache
        self._app_id = app_id
        self._session = session

    async def create(self, service_url: str, audience: str | None = None) -> Any:
        key = (self._app_id, service_url, audience or "")
        client = self._cache.get(key)
        if client is None:
            client = await self._inner.create(service_url, audience)
            if self._session is not None:
                use_fast_serializer(use_aiohttp(client, self._session))
            if len(self._cache) >= MAX_CLIENTS:
                self._cache.pop(next(iter(self._cache)))
            self._cache[key] = client
        else:
            await _fresh(client)
        return client


class CachingBotFrameworkAuthentication(BotFrameworkAuthentication):
    """Delegates everything to the SDK's authentication, caching the clients it builds per turn; with `session`
    (the app's aiohttp session, read when a client is first built) the cached clients send through it."""

    def __init__(self, inner: BotFrameworkAuthentication, session: SessionSource | None = None,
                 guard: SendGuard | None = None) -> None:
        self._inner = inner
        self._session = session
        self._guard = guard
        self._connectors: dict[tuple[str, str, str], Any] = {}
        self._token_clients: dict[str, UserTokenClient] = {}

    def _wrap(self, factory: ConnectorFactory) -> ConnectorFactory:
        app_id = str(getattr(factory, "_app_id", ""))
        cached = CachingConnectorFactory(factory, self._connectors, app_id, self._session)
        return cached if self._guard is None else GuardedConnectorFactory(cached, self._guard)

    async def authenticate_request(self, activity: Activity, auth_header: str) -> AuthenticateRequestResult:
        result = await self._inner.authenticate_request(activity, auth_header)
        if result.connector_factory is not None:
            result.connector_factory = self._wrap(result.connector_factory)
        return result

    async def authenticate_streaming_request(
        self, auth_header: str, channel_id_header: str
    ) -> AuthenticateRequestResult:
        return await self._inner.authenticate_streaming_request(auth_header, channel_id_header)

    def create_connector_factory(self, claims_identity: ClaimsIdentity) -> ConnectorFactory:
        return self._wrap(self._inner.create_connector_factory(claims_identity))

    async def create_user_token_client(self, claims_identity: ClaimsIdentity) -> UserTokenClient:
        app_id = JwtTokenValidation.get_app_id_from_claims(claims_identity.claims) or ""
        client = self._token_clients.get(app_id)
        if client is None:
            client = await self._inner.create_user_token_client(claims_identity)
            api_client = getattr(client, "_client", None)  # the SDK's TokenApiClient inside _UserTokenClientImpl
            if self._session is not None and api_client is not None:
                use_fast_serializer(use_aiohttp(api_client, self._session))
            self._token_clients[app_id] = client
        else:
            await _fresh(getattr(client, "_client", None))
        return client

    def create_bot_framework_client(self) -> Any:
        return self._inner.create_bot_framework_client()

    def get_originating_audience(self) -> str:
        return str(self._inner.get_originating_audience())

    async def authenticate_channel_request(self, auth_header: str) -> ClaimsIdentity:
        return await self._inner.authenticate_channel_request(auth_header)
