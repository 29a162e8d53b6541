"""Where the signed-in user's Graph token comes from, without ever keeping it in bot state.

`TokenServiceTokens` asks the Bot Framework token service (the Azure Bot's OAuth connection) at most once per turn;
`LocalTokens` stands in for it in local mode, where there is no registered bot, by issuing Graph-simulator tokens.
The token lives in the turn's memory only (`turn_state`), never in conversation, user or dialog state.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Protocol

from botbuilder.core import CloudAdapterBase, TurnContext
from botbuilder.schema import Activity
from botframework.connector.auth import UserTokenClient
from botframework.connector.token_api.models import TokenExchangeRequest

log = logging.getLogger(__name__)

_TURN_TOKEN = "link_bot.graph_token"  # noqa: S105 - a turn_state key, not a secret


class TokenSource(Protocol):
    """What the dialogs need from sign-in: the current user's token, exchange, the sign-in link, sign-out.

    `interactive` says whether a user can be without a token and must be asked to sign in (SSO, the sign-in card,
    a messaging-extension `auth` answer); False where every user is signed in at once (local mode)."""

    connection_name: str
    interactive: bool

    async def get_token(self, context: TurnContext, magic_code: str | None = None) -> str | None: ...

    async def sign_in_resource(self, context: TurnContext, activity: Activity | None = None) -> Any:
        """The token service's SignInResource (sign-in link, token exchange and post resources) for `activity`
        (default: this turn's), e.g. a copy addressed to the user's one-to-one chat."""

    async def exchange(self, context: TurnContext, sso_token: str) -> str | None: ...

    async def sign_out(self, context: TurnContext) -> None: ...


def turn_token(context: TurnContext) -> str | None:
    """The token already obtained on this turn (by the SSO middleware's exchange, say), if any."""
    token = context.turn_state.get(_TURN_TOKEN)
    return str(token) if token else None


def _remember(context: TurnContext, token: str | None) -> str | None:
    if token:
        context.turn_state[_TURN_TOKEN] = token
    return token


class TokenServiceTokens:
    """The Bot Framework token service, through the turn's UserTokenClient."""

    interactive = True

    def __init__(self, connection_name: str) -> None:
        self.connection_name = connection_name

    @staticmethod
    def _client(context: TurnContext) -> UserTokenClient:
        client = context.turn_state.get(CloudAdapterBase.USER_TOKEN_CLIENT_KEY)
        if client is None:
            raise RuntimeError("no UserTokenClient on this turn")
        return client

    async def get_token(self, context: TurnContext, magic_code: str | None = None) -> str | None:
        """The user's token; one token-service request per turn at most (none if already known this turn)."""
        if magic_code is None and turn_token(context):
            return turn_token(context)
        activity = context.activity
        response = await self._client(context).get_user_token(
            activity.from_property.id, self.connection_name, activity.channel_id, magic_code
        )
        return _remember(context, getattr(response, "token", None))

    async def sign_in_resource(self, context: TurnContext, activity: Activity | None = None) -> Any:
        return await self._client(context).get_sign_in_resource(
            self.connection_name, activity or context.activity, None
        )

    async def exchange(self, context: TurnContext, sso_token: str) -> str | None:
        """Exchange a Teams SSO token. Any failure is None: an ErrorResponse (token service 400, consent
        required) is *returned* by the SDK, not raised, and has no `token` (SDK defect 7.2)."""
        activity = context.activity
        try:
            response = await self._client(context).exchange_token(
                activity.from_property.id,
                self.connection_name,
                activity.channel_id,
                TokenExchangeRequest(token=sso_token),
            )
        except Exception as exc:
            log.info("token exchange failed: %s", type(exc).__name__)
            return None
        token = getattr(response, "token", None)
        if not token:
            log.info("token exchange refused: %s", type(response).__name__)
        return _remember(context, token)

    async def sign_out(self, context: TurnContext) -> None:
        activity = context.activity
        context.turn_state.pop(_TURN_TOKEN, None)
        await self._client(context).sign_out_user(activity.from_property.id, self.connection_name, activity.channel_id)


class LocalTokens:
    """Local mode: every user is signed in at once with a Graph-simulator token (no Azure, no SSO). One token per
    user, reused across turns, for at most `max_users` users (least recently seen dropped and revoked), so neither
    this table nor the simulator's grows with the number of turns or users."""

    interactive = False
    connection_name = "local"

    def __init__(
        self, issue_token: Callable[[str], str], revoke_token: Callable[[str], None] | None = None,
        *, max_users: int = 1000,
    ) -> None:
        self._issue = issue_token
        self._revoke = revoke_token
        self._max_users = max_users
        self._issued: OrderedDict[str, str] = OrderedDict()

    @staticmethod
    def _user(context: TurnContext) -> str:
        sender = context.activity.from_property
        return str(getattr(sender, "aad_object_id", None) or sender.id)

    async def get_token(self, context: TurnContext, magic_code: str | None = None) -> str | None:
        if turn_token(context):
            return turn_token(context)
        return _remember(context, self.token_for(self._user(context)))

    def token_for(self, user: str) -> str:
        """The user's simulator token (Entra object id, else channel id), also outside a turn (reminders)."""
        token = self._issued.pop(user, None) or self._issue(user)
        self._issued[user] = token  # most recently seen last
        while len(self._issued) > self._max_users:
            self._drop(self._issued.popitem(last=False)[1])
        return token

    def _drop(self, token: str) -> None:
        if self._revoke is not None:
            self._revoke(token)

    async def exchange(self, context: TurnContext, sso_token: str) -> str | None:
        return await self.get_token(context)

    async def sign_in_resource(self, context: TurnContext, activity: Activity | None = None) -> Any:
        raise RuntimeError("local mode has no sign-in link: every user is signed in already")

    async def sign_out(self, context: TurnContext) -> None:
        """The next `get link` signs the user in again with a fresh simulator token."""
        context.turn_state.pop(_TURN_TOKEN, None)
        token = self._issued.pop(self._user(context), None)
        if token is not None:
            self._drop(token)
