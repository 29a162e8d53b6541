"""Sign-in and sign-out as the user meets them: the sign-in dialog, the sign-in invokes that arrive outside a flow,
the messaging extension's sign-in answer, and (quiet) sign-out.

Silent Teams SSO first, the sign-in card when consent or SSO is unavailable. Sign-in only ever happens in the user's
one-to-one chat: in a group or meeting chat Teams offers no bot SSO, and a sign-in card or a typed magic code there
would be seen by everyone, so the whole get-link flow (sign-in included) runs in the one-to-one chat
(`dialogs.main`, bot/private_chat.py). The messaging extension signs in with Teams' `auth` answer.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from http import HTTPStatus

from botbuilder.core import InvokeResponse, TurnContext
from botbuilder.dialogs import ComponentDialog, WaterfallDialog, WaterfallStepContext
from botbuilder.dialogs.dialog_turn_result import DialogTurnResult
from botbuilder.schema import (
    Activity,
    ActivityTypes,
    SignInConstants,
    TokenResponse,
)

from dialogs.cards import strings
from dialogs.events import Events, NoEvents
from dialogs.signin.prompt import TeamsSsoPrompt, exchange_response
from dialogs.signin.tokens import TokenSource, turn_token
from dialogs.turn import Turn
from graph.client import within

log = logging.getLogger(__name__)

SIGN_IN_TIMEOUT_MS = 15 * 60 * 1000


class SignInDialog(ComponentDialog):
    """Ends with True when the user has a token, False otherwise (having told them what to do)."""

    ID = "signIn"
    PROMPT = "ssoPrompt"

    def __init__(self, tokens: TokenSource, events: Events | None = None) -> None:
        super().__init__(self.ID)
        self.tokens = tokens
        self.events = events or NoEvents()
        if tokens.interactive:
            self.add_dialog(
                TeamsSsoPrompt(
                    self.PROMPT,
                    tokens,
                    title=lambda: strings.BUTTON_SIGN_IN,
                    text=lambda: strings.SIGN_IN_PROMPT,
                    timeout_ms=SIGN_IN_TIMEOUT_MS,
                )
            )
        self.add_dialog(WaterfallDialog("signInSteps", [self.check_step, self.finish_step]))
        self.initial_dialog_id = "signInSteps"

    async def check_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        turn = Turn.of(step.context)
        try:
            token = await self.tokens.get_token(step.context)
        except Exception as exc:  # the token service failing must not crash the turn
            log.warning("token service unavailable: %s", type(exc).__name__)
            self.events.sign_in("failure")
            await turn.reply(strings.ERR_TRY_LATER)
            return await step.end_dialog(False)
        if token:
            return await step.end_dialog(True)
        if not self.tokens.interactive:
            self.events.sign_in("failure")
            await turn.reply(strings.SIGN_IN_FAILED)
            return await step.end_dialog(False)
        if not turn.is_personal:  # never a sign-in card where others can see it (flows run privately anyway)
            log.warning("refused to show a sign-in card in a %s conversation", turn.conversation_kind)
            return await step.end_dialog(False)
        self.events.sign_in("card")  # Teams exchanges it silently where SSO is set up (then silent_sso follows)
        return await step.begin_dialog(self.PROMPT)

    async def finish_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        if isinstance(step.result, TokenResponse) and step.result.token:
            return await step.end_dialog(True)
        self.events.sign_in("failure")
        await Turn.of(step.context).reply(strings.SIGN_IN_FAILED)
        return await step.end_dialog(False)


async def signed_in_without_a_flow(context: TurnContext, tokens: TokenSource) -> None:
    """Answer a sign-in invoke that no flow was waiting for: the private sign-in chat, or after the prompt timed
    out. The SSO middleware has already exchanged a `signin/tokenExchange` token; `signin/verifyState` carries the
    magic code in `state`."""
    turn = Turn.of(context)
    if context.activity.name == SignInConstants.token_exchange_operation_name:
        token = turn_token(context)
        status = HTTPStatus.OK if token else HTTPStatus.PRECONDITION_FAILED
        await context.send_activity(
            exchange_response(int(status), tokens.connection_name, turn.values.get("id"), None)
        )
    else:
        try:
            token = await tokens.get_token(context, turn.value("state") or None)
        except Exception as exc:
            log.warning("token service failed on verifyState: %s", type(exc).__name__)
            token = None
        status = HTTPStatus.OK if token else HTTPStatus.NOT_FOUND
        await context.send_activity(
            Activity(type=ActivityTypes.invoke_response, value=InvokeResponse(status=int(status)))
        )
    if token:
        await turn.reply(strings.SIGNED_IN_NEXT)


@dataclass(frozen=True, slots=True)
class SignInNeeded:
    """A messaging-extension invoke cannot go on without a token: ask Teams to sign the user in with `link` (an
    `auth` answer, as Teams documents for action commands), or (`link` None) answer 412 because the SSO token Teams
    sent could not be exchanged."""

    link: str | None


class SignInUnavailable(Exception):
    """The token service failed or ran out of time: try again later."""


async def invoke_sign_in(
    turn: Turn, tokens: TokenSource, deadline: float, events: Events | None = None
) -> SignInNeeded | None:
    """None when the user of a messaging-extension invoke has a Graph token (now in the turn's memory); otherwise
    what gets one: the SSO token Teams sent is exchanged (412 if that fails, so Teams falls back to consent or the
    sign-in link), the magic code in `state` is redeemed, or Teams is asked to sign the user in."""
    if not tokens.interactive:
        return None  # every user is signed in already (local mode)
    context = turn.context
    authentication = turn.values.get("authentication")
    sso_token = authentication.get("token") if isinstance(authentication, dict) else None
    state = turn.value("state") or None
    events = events or NoEvents()
    try:
        if sso_token:
            token = await within(tokens.exchange(context, str(sso_token)), deadline)
            events.sign_in("silent_sso" if token else "consent_needed")
            return None if token else SignInNeeded(None)
        if await within(tokens.get_token(context, state), deadline):
            return None
        resource = await within(tokens.sign_in_resource(context), deadline)
    except Exception as exc:  # TimeoutError included
        log.warning("token service failed: %s", type(exc).__name__)
        events.sign_in("failure")
        raise SignInUnavailable from None
    events.sign_in("card")
    return SignInNeeded(str(resource.sign_in_link))


async def sign_out(turn: Turn, tokens: TokenSource) -> None:
    """`sign out`: sign the user out of the OAuth connection and say so; a token-service failure is said plainly."""
    try:
        await tokens.sign_out(turn.context)
    except Exception as exc:
        log.warning("sign-out failed: %s", type(exc).__name__)
        await turn.say_here(strings.ERR_TRY_LATER)
        return
    await turn.say_here(strings.SIGNED_OUT)  # nothing private: fine in any chat


async def sign_out_quietly(turn: Turn, tokens: TokenSource, *, deadline: float | None = None) -> None:
    """Graph refused the token: drop it so the next attempt signs in afresh. Says nothing: the caller shows why."""
    try:
        if deadline is None:
            await tokens.sign_out(turn.context)
        else:
            await within(tokens.sign_out(turn.context), deadline)
    except Exception as exc:
        log.warning("sign-out after a refused token failed: %s", type(exc).__name__)


async def sign_in_again(turn: Turn, tokens: TokenSource) -> None:
    """Graph refused the token in chat: say so, and drop the token so the next `get link` signs in afresh."""
    await turn.reply(strings.ERR_SIGN_IN_AGAIN)
    await sign_out_quietly(turn, tokens)
