"""SDK defect 7.5: credentials rebuilt every turn, with an Entra token request per outgoing call on the event loop.

botbuilder 4.17.1 calls `create_credentials` for the connector and the token service on every turn; each call
builds a fresh `MicrosoftAppCredentials`, i.e. a fresh MSAL app (OpenID discovery) and a fresh client-credentials
token request, made synchronously from `signed_session` on the event loop. `CachingCredentialsFactory` keeps one
credentials object per (app id, scope, authority), fetches its token in a worker thread before the SDK needs it, and
refreshes it five minutes before it expires. Steady state: zero Entra requests per turn, no blocking on the loop.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from typing import Any

import msal
from botbuilder.integration.aiohttp import ConfigurationServiceClientCredentialFactory
from botframework.connector.auth import (
    AuthenticationConstants,
    MicrosoftAppCredentials,
    ServiceClientCredentialsFactory,
)
from msrest.authentication import Authentication

log = logging.getLogger(__name__)

REFRESH_MARGIN_S = 300.0  # refresh this long before expiry, as MSAL itself does
MSAL_TIMEOUT_S = 10.0  # MSAL's default is no timeout at all


class CachedAppCredentials(MicrosoftAppCredentials):
    """App credentials whose token is fetched off the event loop and reused until shortly before it expires."""

    def __init__(self, app_id: str, password: str, tenant_id: str | None, oauth_scope: str, authority: str) -> None:
        super().__init__(app_id, password, channel_auth_tenant=tenant_id, oauth_scope=oauth_scope)
        self.oauth_endpoint = authority
        self._msal: msal.ConfidentialClientApplication | None = None
        self._token: str | None = None
        self._refresh_at = 0.0
        self._thread_lock = threading.Lock()
        self._async_lock: asyncio.Lock | None = None

    @property
    def fresh(self) -> bool:
        return self._token is not None and time.monotonic() < self._refresh_at

    async def ensure_token(self) -> None:
        """Fetch or refresh the token in a worker thread; concurrent turns share one request."""
        if self.fresh:
            return
        if self._async_lock is None:
            self._async_lock = asyncio.Lock()
        async with self._async_lock:
            if not self.fresh:
                await asyncio.to_thread(self._acquire)

    def get_access_token(self, force_refresh: bool = False) -> str:
        """Called synchronously by the SDK from `signed_session`: normally just returns the cached token."""
        if force_refresh or not self.fresh:
            self._acquire()
        assert self._token is not None
        return self._token

    def _acquire(self) -> None:
        with self._thread_lock:
            if self.fresh:
                return
            if self._msal is None:
                self._msal = msal.ConfidentialClientApplication(
                    client_id=self.microsoft_app_id,
                    client_credential=self.microsoft_app_password,
                    authority=self.oauth_endpoint,
                    timeout=MSAL_TIMEOUT_S,
                )
            scope = self.oauth_scope if self.oauth_scope.endswith("/.default") else self.oauth_scope + "/.default"
            result: dict[str, Any] = self._msal.acquire_token_for_client(scopes=[scope])
            if "access_token" not in result:
                # Same exception type as the SDK, so the adapter treats it the same way; no secret in the text.
                raise PermissionError(f"Entra ID refused the bot's credentials: {result.get('error', 'unknown error')}")
            lifetime = float(result.get("expires_in", 3600))
            self._token = result["access_token"]
            self._refresh_at = time.monotonic() + max(30.0, lifetime - REFRESH_MARGIN_S)
            log.debug("bot token acquired for scope %s, valid %.0f s", scope, lifetime)


class CachingCredentialsFactory(ServiceClientCredentialsFactory):
    """One `CachedAppCredentials` per (app id, scope, authority) for the life of the process.

    Password credentials only (SingleTenant, MultiTenant). Managed identity is delegated to the SDK unchanged.
    """

    def __init__(self, config: Any) -> None:
        self._sdk = ConfigurationServiceClientCredentialFactory(config)
        self._app_id: str = config.APP_ID
        self._password: str = config.APP_PASSWORD
        self._tenant_id: str | None = config.APP_TENANTID if config.APP_TYPE == "SingleTenant" else None
        self._managed_identity = config.APP_TYPE == "UserAssignedMSI"
        self._cache: dict[tuple[str, str, str], Authentication] = {}

    async def is_valid_app_id(self, app_id: str) -> bool:
        return bool(await self._sdk.is_valid_app_id(app_id))

    async def is_authentication_disabled(self) -> bool:
        return bool(await self._sdk.is_authentication_disabled())

    async def create_credentials(
        self, app_id: str, oauth_scope: str, login_endpoint: str, validate_authority: bool
    ) -> Authentication:
        if self._managed_identity or await self.is_authentication_disabled():
            sdk_credentials: Authentication = await self._sdk.create_credentials(
                app_id, oauth_scope, login_endpoint, validate_authority
            )
            return sdk_credentials
        if app_id != self._app_id:
            raise PermissionError("Invalid app id")
        key = (app_id, oauth_scope or "", login_endpoint or "")
        credentials = self._cache.get(key)
        if credentials is None:
            credentials = CachedAppCredentials(
                app_id, self._password, self._tenant_id, oauth_scope, self.authority(login_endpoint)
            )
            self._cache[key] = credentials
        assert isinstance(credentials, CachedAppCredentials)
        await credentials.ensure_token()
        return credentials

    def authority(self, login_endpoint: str) -> str:
        """The same authority the SDK's password factory would use."""
        public_prefix = AuthenticationConstants.TO_CHANNEL_FROM_BOT_LOGIN_URL_PREFIX
        if not login_endpoint or login_endpoint.lower().startswith(public_prefix):
            return str(public_prefix) + (self._tenant_id or AuthenticationConstants.DEFAULT_CHANNEL_AUTH_TENANT)
        return login_endpoint

    async def warm_up(self, oauth_scope: str, login_endpoint: str) -> None:
        """Fetch the connector token at start-up (off the loop), so the first turn pays nothing."""
        await self.create_credentials(self._app_id, oauth_scope, login_endpoint, True)
