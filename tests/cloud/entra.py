"""Fake Entra ID: the client-credentials flow MSAL runs for the bot, and the Teams SSO tokens users hold.

Refusals answer as Entra ID does (status, `error`, `AADSTS` code in `error_description`, `error_codes`), from
"Microsoft Entra authentication and authorization error codes" (learn.microsoft.com, entra/identity-platform/
reference-error-codes) and MSAL Python 1.39's handling of them (msal/authority.py: an unknown tenant fails OpenID
discovery with a 4xx): AADSTS7000215 invalid client secret (401 invalid_client), AADSTS7000222 expired client
secret (401 invalid_client), AADSTS700016 application not found in the directory (400 unauthorized_client),
AADSTS90002 tenant not found (400 invalid_tenant at discovery, invalid_request at the token endpoint).
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from typing import Any

from aiohttp import web

from ._runtime import Faults, bearer
from .keys import SigningKey
from .teams import Directory

BOT_SCOPE = "https://api.botframework.com"


class FakeEntra:
    """An `adfs`-style authority on TLS (`https://127.0.0.1:P/adfs`), and a tenant-style one
    (`https://127.0.0.1:P/<tenant>`, as `https://login.microsoftonline.com/<tenant>`) that knows only the directory's
    tenant and `botframework.com`; MSAL needs `instance_discovery=False` to use the latter on a loopback host.

    With tenant `adfs` MSAL 1.39 skips instance discovery and reads `<authority>/.well-known/openid-configuration`.
    Access tokens are RS256 JWTs signed with this authority's key, so the fake connector and token service can
    check them without shared state, and they stay valid across `reset()`.
    MSAL throttles a 429/5xx for 5 s per application unless the answer carries `Retry-After`; inject failures with
    `retry_after=0` when the test expects the next attempt to reach the server.
    """

    def __init__(self, key: SigningKey, directory: Directory, *, app_id: str, app_password: str) -> None:
        self._key = key
        self._directory = directory
        self._app_id = app_id
        self._app_password = app_password
        self._lock = threading.Lock()
        self._faults = Faults()
        self._token_requests = 0
        self._discovery_requests = 0
        self.latency_s = 0.0  # seconds every discovery and token request waits before it is answered (a slow Entra)
        self.secret_expired = False  # the right secret answers AADSTS7000222, as after its expiry date
        self.base_url = ""

    @property
    def authority(self) -> str:
        return f"{self.base_url}/adfs"

    def tenant_authority(self, tenant: str | None = None) -> str:
        """`https://127.0.0.1:P/<tenant>`: the directory's tenant unless told otherwise (an unknown one fails)."""
        return f"{self.base_url}/{tenant or self._directory.tenant_id}"

    @property
    def token_requests(self) -> int:
        """Client-credentials POSTs received (including refused and failed ones) since the last reset."""
        with self._lock:
            return self._token_requests

    @property
    def discovery_requests(self) -> int:
        with self._lock:
            return self._discovery_requests

    def fail_next(self, status: int, times: int = 1, retry_after: float | str | None = None,
                  endpoint: str = "token") -> None:
        """Answer `status` to the next `times` requests to `endpoint` ("token", "discovery" or "any")."""
        paths = {"token": "/oauth2/token", "discovery": "/.well-known/", "any": None}
        self._faults.add(status, times, retry_after, paths[endpoint])

    def reset(self) -> None:
        self._faults.clear()
        with self._lock:
            self._token_requests = self._discovery_requests = 0
        self.latency_s = 0.0
        self.secret_expired = False

    def app_token(self, audience: str = BOT_SCOPE, *, expires_in: int = 3599) -> str:
        """An access token for the bot app, minted directly (not counted); for tests calling fakes by hand."""
        now = int(time.time())
        return self._key.sign({
            "aud": audience, "iss": self.authority, "appid": self._app_id, "azp": self._app_id,
            "tid": self._directory.tenant_id, "iat": now, "nbf": now, "exp": now + expires_in,
            "jti": uuid.uuid4().hex,
        })

    def verify_app_token(self, authorization: str | None, audience: str = BOT_SCOPE) -> bool:
        """True when the `Authorization` header carries an unexpired token this authority issued to the bot."""
        token = bearer(authorization)
        claims = self._key.verify(token, audience=audience) if token else None
        return claims is not None and claims.get("appid") == self._app_id

    def sso_token(self, user: str, *, audience: str | None = None, expires_in: int = 3600) -> str:
        """The token Teams' `getAuthToken` gives a signed-in user for this bot (`aud = api://botid-<app id>`)."""
        person = self._directory.user(user)
        now = int(time.time())
        return self._key.sign({
            "aud": audience or f"api://botid-{self._app_id}",
            "iss": f"{self.authority}/{person.tenant_id}/v2.0",
            "iat": now, "nbf": now, "exp": now + expires_in,
            "azp": "5e3ce6c0-2b1f-4285-8d4b-75ee78787346",  # the Teams web client's public app id
            "oid": person.aad_object_id, "tid": person.tenant_id, "sub": person.teams_id,
            "upn": person.upn, "preferred_username": person.upn, "name": person.display_name,
            "scp": "access_as_user", "ver": "2.0",
        })

    def verify_sso_token(self, token: str, audience: str) -> dict[str, Any] | None:
        """The SSO token's claims when this authority signed it for `audience` and it has not expired."""
        return self._key.verify(token, audience=audience)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/adfs/.well-known/openid-configuration", self._discovery)
        app.router.add_get("/adfs/discovery/keys", self._jwks)
        app.router.add_post("/adfs/oauth2/token", self._token)
        app.router.add_get("/{tenant}/v2.0/.well-known/openid-configuration", self._tenant_discovery)
        app.router.add_post("/{tenant}/oauth2/v2.0/token", self._token)
        return app

    def _known_tenant(self, tenant: str) -> bool:
        return tenant in (self._directory.tenant_id, "botframework.com")

    def _fault(self, request: web.Request) -> web.Response | None:
        fault = self._faults.take(request.path)
        if fault is None:
            return None
        body = {"error": "temporarily_unavailable", "error_description": f"Injected failure {fault.status}."}
        return web.json_response(body, status=fault.status, headers=fault.headers())

    async def _discovery(self, request: web.Request) -> web.Response:
        with self._lock:
            self._discovery_requests += 1
        await asyncio.sleep(self.latency_s)
        if (failed := self._fault(request)) is not None:
            return failed
        return web.json_response({
            "issuer": self.authority,
            "authorization_endpoint": f"{self.authority}/oauth2/authorize",
            "token_endpoint": f"{self.authority}/oauth2/token",
            "jwks_uri": f"{self.authority}/discovery/keys",
            "response_types_supported": ["code", "id_token", "token"],
            "grant_types_supported": ["authorization_code", "client_credentials", "refresh_token"],
            "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "subject_types_supported": ["pairwise"],
        })

    async def _tenant_discovery(self, request: web.Request) -> web.Response:
        """A tenant's v2.0 OpenID configuration; an unknown tenant gets Entra's 400 `invalid_tenant`."""
        with self._lock:
            self._discovery_requests += 1
        await asyncio.sleep(self.latency_s)
        if (failed := self._fault(request)) is not None:
            return failed
        tenant = request.match_info["tenant"]
        if not self._known_tenant(tenant):
            return _oauth_error(400, "invalid_tenant", f"AADSTS90002: Tenant '{tenant}' not found. Check to make "
                                "sure you have the correct tenant ID and are signing into the correct cloud.", 90002)
        base = f"{self.base_url}/{tenant}"
        return web.json_response({
            "issuer": f"{base}/v2.0",
            "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
            "token_endpoint": f"{base}/oauth2/v2.0/token",
            "jwks_uri": f"{self.authority}/discovery/keys",
            "response_types_supported": ["code", "id_token", "token"],
            "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "subject_types_supported": ["pairwise"],
        })

    async def _jwks(self, request: web.Request) -> web.Response:
        return web.json_response({"keys": [self._key.jwk()]})

    async def _token(self, request: web.Request) -> web.Response:
        with self._lock:
            self._token_requests += 1
        await asyncio.sleep(self.latency_s)
        if (failed := self._fault(request)) is not None:
            return failed
        form = await request.post()
        tenant = request.match_info.get("tenant", "adfs")
        if tenant != "adfs" and not self._known_tenant(tenant):
            return _oauth_error(400, "invalid_request", f"AADSTS90002: Tenant '{tenant}' not found. Check to make "
                                "sure you have the correct tenant ID and are signing into the correct cloud.", 90002)
        if form.get("grant_type") != "client_credentials":
            return _oauth_error(400, "unsupported_grant_type", "Only client_credentials is supported here.")
        if form.get("client_id") != self._app_id:
            return _oauth_error(400, "unauthorized_client", f"AADSTS700016: Application with identifier "
                                f"'{form.get('client_id')}' was not found in the directory '{tenant}'. This can happen "
                                "if the application has not been installed by the administrator of the tenant or "
                                "consented to by any user in the tenant. You may have sent your authentication "
                                "request to the wrong tenant.", 700016)
        if form.get("client_secret") != self._app_password:
            return _oauth_error(401, "invalid_client", "AADSTS7000215: Invalid client secret provided. Ensure the "
                                "secret being sent in the request is the client secret value, not the client secret "
                                f"ID, for a secret added to app '{self._app_id}'.", 7000215)
        if self.secret_expired:
            return _oauth_error(401, "invalid_client", f"AADSTS7000222: The provided client secret keys for app "
                                f"'{self._app_id}' are expired.", 7000222)
        scope = str(form.get("scope", ""))
        if not scope.endswith("/.default"):
            return _oauth_error(400, "invalid_scope", "The scope must be a resource followed by /.default.")
        return web.json_response({
            "token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599,
            "access_token": self.app_token(scope.removesuffix("/.default")),
        })


def _oauth_error(status: int, error: str, description: str, code: int | None = None) -> web.Response:
    """Entra's error body: the AADSTS code is in the description and, as a number, in `error_codes`."""
    body: dict[str, Any] = {"error": error, "error_description": description}
    if code is not None:
        body.update(error_codes=[code], error_uri=f"https://login.microsoftonline.com/error?code={code}")
    return web.json_response(body, status=status)
