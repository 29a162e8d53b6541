"""Teams SSO token exchange, done once per sign-in however many Teams clients ask (DESIGN.md 7.2 and 7.3).

Replaces botbuilder's `TeamsSSOTokenExchangeMiddleware`, which crashes (AttributeError, HTTP 501) when the token
service answers 400 and de-duplicates nothing with Python's MemoryStorage. Order, as in the SDK: exchange first, so a
failed exchange answers 412 to every client (Teams then shows consent or the sign-in card); then claim the exchange id
atomically, so only the first successful invoke continues the dialog and duplicates get 200 with no side effect.
The exchanged token is left in the turn's memory for the sign-in prompt, which therefore does not exchange again.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from http import HTTPStatus

from botbuilder.core import Middleware, TurnContext
from botbuilder.schema import ActivityTypes, SignInConstants

from bot.storage.dedupe import ExchangeDedupe
from bot.telemetry import record
from dialogs.signin.prompt import EXCHANGE_FAILED, exchange_response
from dialogs.signin.tokens import TokenSource
from dialogs.turn import Turn

log = logging.getLogger(__name__)


class TeamsSsoExchangeMiddleware(Middleware):
    """Exchange the Teams SSO token once; 412 on any failure; one continuation per exchange id."""

    def __init__(self, tokens: TokenSource, dedupe: ExchangeDedupe) -> None:
        self.tokens = tokens
        self.dedupe = dedupe

    async def on_turn(self, context: TurnContext, logic: Callable[[], Awaitable[None]]) -> None:
        activity = context.activity
        if not (
            activity.type == ActivityTypes.invoke
            and activity.name == SignInConstants.token_exchange_operation_name
            and activity.channel_id == "msteams"
        ):
            await logic()
            return
        value = Turn.of(context).values
        exchange_id = value.get("id")
        connection = self.tokens.connection_name
        sso_token = value.get("token")
        token = None
        if value.get("connectionName") in (None, connection) and exchange_id and sso_token:
            token = await self.tokens.exchange(context, str(sso_token))
        if token is None:
            record.sign_in("consent_needed")
            await context.send_activity(
                exchange_response(int(HTTPStatus.PRECONDITION_FAILED), connection, exchange_id, EXCHANGE_FAILED)
            )
            return
        key = f"{activity.channel_id}/{activity.conversation.id}/{activity.from_property.id}/{exchange_id}"
        if not await self.dedupe.claim(key):
            log.info("duplicate token exchange ignored")
            await context.send_activity(exchange_response(int(HTTPStatus.OK), connection, exchange_id, None))
            return
        record.sign_in("silent_sso")
        await logic()
