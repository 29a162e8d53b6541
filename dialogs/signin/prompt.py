"""OAuthPrompt with the SDK's Teams SSO defects fixed (DESIGN.md section 7, items 2 and 9).

- 7.9: the stock prompt serialises the OAuthCard's `tokenExchangeResource` / `tokenPostResource` with msrest
  `as_dict()`, i.e. snake_case (`provider_id`, `sas_url`). We build the card with the wire's camelCase keys.
- 7.2: when the token service answers 400 (consent required) the SDK *returns* an ErrorResponse and the prompt then
  raises AttributeError on `.token`; Teams gets 501 and shows an error instead of consent. Any exchange failure here
  answers 412, which makes Teams fall back to consent or the sign-in card. The sign-in-card paths (verifyState, a
  typed six-digit code) never answer 500 either.
If the SSO middleware already exchanged the token on this turn, the prompt reuses it instead of exchanging twice.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

from botbuilder.core import CardFactory, InvokeResponse, TurnContext
from botbuilder.dialogs import DialogContext
from botbuilder.dialogs.prompts import OAuthPrompt, OAuthPromptSettings, PromptRecognizerResult
from botbuilder.schema import (
    Activity,
    ActivityTypes,
    Attachment,
    InputHints,
    SignInConstants,
    TokenExchangeInvokeResponse,
    TokenResponse,
)

from dialogs.signin.tokens import TokenSource, turn_token
from dialogs.turn import Turn

log = logging.getLogger(__name__)

EXCHANGE_FAILED = "The bot is unable to exchange token. Proceed with regular login."
_MAGIC_CODE = re.compile(r"(?<!\d)\d{6}(?!\d)")


def exchange_response(status: int, connection_name: str, exchange_id: str | None, failure: str | None) -> Activity:
    """The invokeResponse Teams expects for `signin/tokenExchange`."""
    body = TokenExchangeInvokeResponse(id=exchange_id, connection_name=connection_name, failure_detail=failure)
    return Activity(type=ActivityTypes.invoke_response, value=InvokeResponse(status=status, body=body))


def oauth_card(text: str, title: str, connection_name: str, resource: Any) -> Attachment:
    """An OAuthCard with camelCase resource keys, so Teams can try SSO silently (defect 7.9)."""
    content: dict[str, Any] = {
        "text": text,
        "connectionName": connection_name,
        "buttons": [{"type": "signin", "title": title, "text": text, "value": resource.sign_in_link}],
    }
    exchange = resource.token_exchange_resource
    if exchange is not None:
        content["tokenExchangeResource"] = {"id": exchange.id, "uri": exchange.uri, "providerId": exchange.provider_id}
    post = resource.token_post_resource
    if post is not None:
        content["tokenPostResource"] = {"sasUrl": post.sas_url}
    return Attachment(content_type=CardFactory.content_types.oauth_card, content=content)


class TeamsSsoPrompt(OAuthPrompt):
    """Sign-in for the Azure Bot OAuth connection that works in every Teams branch."""

    def __init__(
        self,
        dialog_id: str,
        tokens: TokenSource,
        *,
        title: Callable[[], str],
        text: Callable[[], str],
        timeout_ms: int,
    ) -> None:
        """`title` and `text` are read each time the card is sent, so they are in that turn's language."""
        settings = OAuthPromptSettings(
            connection_name=tokens.connection_name, title=title(), text=text(), timeout=timeout_ms
        )
        super().__init__(dialog_id, settings)
        self._tokens = tokens
        self._title = title
        self._text = text

    async def _send_oauth_card(self, context: TurnContext, prompt: Any = None) -> None:
        resource = await self._tokens.sign_in_resource(context)
        card = oauth_card(self._text(), self._title(), self._settings.connection_name, resource)
        await Turn.of(context).reply(
            Activity(type=ActivityTypes.message, attachments=[card], input_hint=InputHints.accepting_input)
        )

    async def _recognize_token(self, dialog_context: DialogContext) -> PromptRecognizerResult:
        context = dialog_context.context
        activity = context.activity
        connection = self._settings.connection_name
        token: str | None = None
        if activity.type == ActivityTypes.invoke and activity.name == SignInConstants.token_exchange_operation_name:
            value = Turn.of(context).values
            exchange_id = value.get("id")
            if value.get("connectionName") not in (None, connection):
                log.warning("token exchange for another connection; answering 412")
            else:
                token = turn_token(context)
                if token is None and value.get("token"):
                    token = await self._tokens.exchange(context, str(value["token"]))
            status = HTTPStatus.OK if token else HTTPStatus.PRECONDITION_FAILED
            await context.send_activity(
                exchange_response(int(status), connection, exchange_id, None if token else EXCHANGE_FAILED)
            )
        elif activity.type == ActivityTypes.invoke and activity.name == SignInConstants.verify_state_operation_name:
            code = Turn.of(context).value("state") or None
            token = await self._token_or_none(context, code)
            status = HTTPStatus.OK if token else HTTPStatus.NOT_FOUND
            await context.send_activity(
                Activity(type=ActivityTypes.invoke_response, value=InvokeResponse(status=int(status)))
            )
        elif activity.type == ActivityTypes.message and activity.text:
            match = _MAGIC_CODE.search(Turn.of(context).text)
            if match:
                token = await self._token_or_none(context, match.group())
        if token is None:
            return PromptRecognizerResult()
        return PromptRecognizerResult(True, TokenResponse(connection_name=connection, token=token))

    async def _token_or_none(self, context: TurnContext, code: str | None) -> str | None:
        try:
            return await self._tokens.get_token(context, code)
        except Exception as exc:  # the token service failing must not fail the turn
            log.warning("token service failed during sign-in: %s", type(exc).__name__)
            return None
