"""Fake Bot Framework token service (`OAuthUrl`): the user-token calls OAuthPrompt and the SSO middleware make."""

from __future__ import annotations

import base64
import json
import secrets
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from ._runtime import Faults
from .entra import FakeEntra
from .teams import Directory

PROVIDER_ID = "30dd229c-58e3-4a48-bdfd-91ec48eb906c"  # the Azure AD v2 OAuth provider
EXCHANGE_MODES = ("ok", "consent_required", "not_found", "error")

TokenMinter = Callable[[str, str], str]


def opaque_token(teams_user_id: str, aad_object_id: str) -> str:
    """The default Graph token: opaque, unique, meaningless outside the tests."""
    return "graph-" + secrets.token_urlsafe(24)


class FakeTokenService:
    """Stores users' Graph tokens per (Teams user id, connection); answers only the bot's Entra-issued bearer.

    `calls` records `(name, query)` for every `/api/...` request. `exchange_mode` forces the outcome of
    `POST /api/usertoken/exchange`: "ok", "consent_required" (400 ErrorResponse), "not_found" (404), "error" (500).
    In "ok" mode a token that is not a valid SSO token for that user (see `FakeEntra.sso_token`) also gets 400.
    `token_minter(teams_user_id, aad_object_id)` makes the Graph tokens; it runs on the cloud's thread and is kept
    across `reset()` (it is wiring, not test state). `fail_next` injects failures, like the connector's.
    """

    def __init__(self, directory: Directory, entra: FakeEntra, *, app_id: str, connection_name: str) -> None:
        self._directory = directory
        self._entra = entra
        self._app_id = app_id
        self.connection_name = connection_name
        # The OAuth connections configured on the Azure Bot. GetTokenStatus lists exactly these ("the token status
        # for each configured connection", botbuilder-core 4.17.1 BotFrameworkAdapter.get_token_status), with
        # hasToken false for a user without a token; GetToken answers 404 both for a user without a token and for a
        # connection the bot does not have (microsoft/botframework-sdk#4874, #6652), so it cannot tell them apart.
        self.connection_names = {connection_name}
        self._lock = threading.Lock()
        self._tokens: dict[tuple[str, str], dict[str, Any]] = {}
        self._codes: dict[str, tuple[str, str]] = {}
        self._calls: list[tuple[str, dict[str, str]]] = []
        self._faults = Faults()
        self.exchange_mode = "ok"
        self.token_minter: TokenMinter = opaque_token
        self.base_url = ""

    @property
    def exchange_uri(self) -> str:
        """The `tokenExchangeResource.uri`, which is also the audience of the users' SSO tokens."""
        return f"api://botid-{self._app_id}"

    @property
    def calls(self) -> list[tuple[str, dict[str, str]]]:
        with self._lock:
            return list(self._calls)

    def call_names(self) -> list[str]:
        return [name for name, _ in self.calls]

    def give_token(self, user: str, *, connection_name: str | None = None) -> str:
        """Sign `user` in as if they had done so earlier; returns the Graph token they now hold."""
        stored = self._store(self._directory.user(user).teams_id, connection_name or self.connection_name)
        return str(stored["token"])

    def take_token(self, user: str, *, connection_name: str | None = None) -> None:
        """Forget `user`'s token, as when it expires or consent is revoked outside the bot."""
        key = (self._directory.user(user).teams_id, connection_name or self.connection_name)
        with self._lock:
            self._tokens.pop(key, None)

    def has_token(self, user: str, *, connection_name: str | None = None) -> bool:
        key = (self._directory.user(user).teams_id, connection_name or self.connection_name)
        with self._lock:
            return key in self._tokens

    def token_of(self, user: str, *, connection_name: str | None = None) -> str | None:
        key = (self._directory.user(user).teams_id, connection_name or self.connection_name)
        with self._lock:
            stored = self._tokens.get(key)
        return str(stored["token"]) if stored else None

    def complete_sign_in(self, user: str, *, connection_name: str | None = None) -> str:
        """The person finishes the sign-in page: returns the 6-digit magic code `GetToken?code=` accepts once."""
        return self._issue_code(self._directory.user(user).teams_id, connection_name or self.connection_name)

    def fail_next(self, status: int, times: int = 1, path_contains: str | None = None) -> None:
        """Answer `status` to the next `times` `/api/...` requests whose path contains `path_contains` (None: any),
        e.g. `fail_next(503, path_contains="GetToken")` or `"exchange"`. Failed calls are still recorded."""
        self._faults.add(status, times, path_contains=path_contains)

    def clear_faults(self) -> None:
        """Forget the failures not yet served (the service recovers)."""
        self._faults.clear()

    def reset(self) -> None:
        self._faults.clear()
        with self._lock:
            self._tokens.clear()
            self._codes.clear()
            self._calls.clear()
        self.exchange_mode = "ok"
        self.connection_names = {self.connection_name}

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/api/usertoken/GetToken", self._get_token)
        app.router.add_get("/api/botsignin/GetSignInResource", self._get_sign_in_resource)
        app.router.add_get("/api/botsignin/GetSignInUrl", self._get_sign_in_url)
        app.router.add_post("/api/usertoken/exchange", self._exchange)
        app.router.add_delete("/api/usertoken/SignOut", self._sign_out)
        app.router.add_get("/api/usertoken/GetTokenStatus", self._get_token_status)
        app.router.add_post("/api/usertoken/GetAadTokens", self._get_aad_tokens)
        app.router.add_get("/signin", self._sign_in_page)
        return app

    # --- state ---------------------------------------------------------------------------------------------------

    def _store(self, teams_user_id: str, connection: str, aad_object_id: str | None = None) -> dict[str, Any]:
        user = self._directory.find(teams_user_id)
        aad = aad_object_id or (user.aad_object_id if user else "")
        expiration = (datetime.now(UTC) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        response = {"channelId": "msteams", "connectionName": connection,
                    "token": self.token_minter(teams_user_id, aad), "expiration": expiration}
        with self._lock:
            self._tokens[(teams_user_id, connection)] = response
        return response

    def _issue_code(self, teams_user_id: str, connection: str) -> str:
        with self._lock:
            code = f"{secrets.randbelow(10**6):06d}"
            while code in self._codes:
                code = f"{secrets.randbelow(10**6):06d}"
            self._codes[code] = (teams_user_id, connection)
        return code

    def _stored(self, teams_user_id: str, connection: str) -> dict[str, Any] | None:
        with self._lock:
            return self._tokens.get((teams_user_id, connection))

    # --- handlers ------------------------------------------------------------------------------------------------

    def _check(self, name: str, request: web.Request) -> web.Response | None:
        """Record the call; refuse it unless it carries the bot's token from the fake Entra."""
        with self._lock:
            self._calls.append((name, dict(request.query)))
        if (fault := self._faults.take(request.path)) is not None:
            return _error(fault.status, "ServiceError", "Injected failure.")
        if self._entra.verify_app_token(request.headers.get("Authorization")):
            return None
        return _error(401, "Unauthorized", "The bot's token is missing or invalid.")

    async def _get_token(self, request: web.Request) -> web.Response:
        if (refused := self._check("GetToken", request)) is not None:
            return refused
        user_id, connection = request.query.get("userId", ""), request.query.get("connectionName", "")
        code = request.query.get("code")
        if code:
            with self._lock:
                pending = self._codes.pop(code, None) if self._codes.get(code) == (user_id, connection) else None
            if pending is not None:
                return web.json_response(self._store(user_id, connection))
        if (stored := self._stored(user_id, connection)) is not None:
            return web.json_response(stored)
        return _error(404, "TokenNotFound", "The user has no token for this connection.")

    async def _get_sign_in_resource(self, request: web.Request) -> web.Response:
        if (refused := self._check("GetSignInResource", request)) is not None:
            return refused
        state = request.query.get("state", "")
        decoded = _decode_state(state)
        if decoded is None or decoded.get("msAppId") != self._app_id:
            return _error(400, "BadArgument", "The state is not a token exchange state for this bot.")
        return web.json_response({
            "signInLink": self._sign_in_link(state),
            "tokenExchangeResource": {"id": str(uuid.uuid4()), "uri": self.exchange_uri, "providerId": PROVIDER_ID},
            "tokenPostResource": {"sasUrl": f"{self.base_url}/api/sas/{uuid.uuid4().hex}"},
        })

    async def _get_sign_in_url(self, request: web.Request) -> web.Response:
        if (refused := self._check("GetSignInUrl", request)) is not None:
            return refused
        return web.Response(text=self._sign_in_link(request.query.get("state", "")))

    def _sign_in_link(self, state: str) -> str:
        return f"{self.base_url}/signin?{urlencode({'state': state})}"

    async def _sign_in_page(self, request: web.Request) -> web.Response:
        """What the person sees after signing in through the link: the magic code to type into the chat."""
        decoded = _decode_state(request.query.get("state", ""))
        user_id = ((decoded or {}).get("conversation") or {}).get("user", {}).get("id")
        if decoded is None or not user_id:
            return web.Response(status=400, text="Bad sign-in state.")
        code = self._issue_code(user_id, decoded.get("connectionName") or self.connection_name)
        html = f"<html><body><p>Type this code in the chat: <b id=\"code\">{code}</b></p></body></html>"
        return web.Response(text=html, content_type="text/html")

    async def _exchange(self, request: web.Request) -> web.Response:
        if (refused := self._check("exchange", request)) is not None:
            return refused
        mode = self.exchange_mode
        if mode == "consent_required":
            return _error(400, "consent_required", "AADSTS65001: The user or administrator has not consented to "
                                                   "use the application.")
        if mode == "not_found":
            return _error(404, "TokenExchangeFailed", "The token could not be exchanged.")
        if mode == "error":
            return _error(500, "ServiceError", "The token service failed.")
        user_id, connection = request.query.get("userId", ""), request.query.get("connectionName", "")
        body = await request.json()
        uri, token = body.get("uri"), body.get("token")
        claims = self._entra.verify_sso_token(token, self.exchange_uri) if isinstance(token, str) else None
        user = self._directory.find(user_id)
        if claims is None or uri not in (None, self.exchange_uri) or user is None \
                or claims.get("oid") != user.aad_object_id:
            return _error(400, "BadArgument", "The token is not a valid SSO token for this user and bot.")
        return web.json_response(self._store(user_id, connection, user.aad_object_id))

    async def _sign_out(self, request: web.Request) -> web.Response:
        if (refused := self._check("SignOut", request)) is not None:
            return refused
        user_id, connection = request.query.get("userId", ""), request.query.get("connectionName")
        with self._lock:
            for key in [k for k in self._tokens if k[0] == user_id and connection in (None, "", k[1])]:
                del self._tokens[key]
        return web.json_response({})

    async def _get_token_status(self, request: web.Request) -> web.Response:
        if (refused := self._check("GetTokenStatus", request)) is not None:
            return refused
        user_id = request.query.get("userId", "")
        with self._lock:
            connections = set(self.connection_names)
            statuses = [{"channelId": "msteams", "connectionName": c, "hasToken": (user_id, c) in self._tokens,
                         "serviceProviderDisplayName": "Azure Active Directory v2"} for c in sorted(connections)]
        return web.json_response(statuses)

    async def _get_aad_tokens(self, request: web.Request) -> web.Response:
        if (refused := self._check("GetAadTokens", request)) is not None:
            return refused
        user_id, connection = request.query.get("userId", ""), request.query.get("connectionName", "")
        urls = (await request.json()).get("resourceUrls") or []
        stored = self._stored(user_id, connection)
        return web.json_response({url: stored for url in urls} if stored else {})


def _decode_state(state: str) -> dict[str, Any] | None:
    try:
        decoded = json.loads(base64.b64decode(state + "=" * (-len(state) % 4)))
    except ValueError:
        return None
    return decoded if isinstance(decoded, dict) else None


def _error(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"error": {"code": code, "message": message}}, status=status)
