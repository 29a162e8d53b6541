"""The one turn error handler: log it for us, say one plain sentence to the user, never a trace or token."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import requests
from botbuilder.core import InvokeResponse, TurnContext
from botbuilder.schema import Activity, ActivityTypes
from msrest.exceptions import ClientRequestError, HttpOperationError

from bot.storage.codec import UnreadableStateError
from bot.storage.errors import EtagConflictError, StorageUnavailableError
from bot.telemetry import record
from dialogs.cards import strings

log = logging.getLogger(__name__)

CONTINUE_CONVERSATION = "ContinueConversation"  # the event of a proactive turn (bot/private_chat.py's private flow)


def invoke_error_body(name: str | None, message: str | None = None) -> tuple[int, Any]:
    """A well-formed failure answer for an invoke, in the shape its Teams surface expects (by default the generic
    sentence, in the user's language)."""
    name = name or ""
    message = message or strings.ERR_GENERIC
    if name.startswith("composeExtension/"):
        return 200, {"composeExtension": {"type": "message", "text": message}}
    if name.startswith("task/"):
        return 200, {"task": {"type": "message", "value": message}}
    if name == "adaptiveCard/action":
        return 200, {
            "statusCode": 500,
            "type": "application/vnd.microsoft.error",
            "value": {"code": "InternalError", "message": message},
        }
    if name == "signin/tokenExchange":
        # 412 makes Teams fall back to the sign-in card instead of showing an error.
        return 412, None
    return 200, None


def is_transport_failure(error: BaseException) -> bool:
    """A failed call to Teams, the token service or storage (msrest / requests / aiohttp), as opposed to a bug."""
    transport = (HttpOperationError, ClientRequestError, requests.RequestException, aiohttp.ClientError)
    # An ETag conflict means another instance saved this conversation meanwhile: its state is the good one. Storage
    # that did not answer has lost nothing the user saved: their place is what was last stored.
    return isinstance(error, (*transport, EtagConflictError, StorageUnavailableError))


def make_on_turn_error(clear_state: Callable[[TurnContext], Awaitable[None]]) -> Callable[..., Awaitable[None]]:
    """Build the adapter's `on_turn_error`; `clear_state` drops this user's state in the conversation (possibly
    broken, possibly never loaded)."""

    async def on_turn_error(context: TurnContext, error: Exception) -> None:
        activity = context.activity
        record.turn_outcome(
            "state_reset" if isinstance(error, UnreadableStateError)
            else "storage_unavailable" if isinstance(error, StorageUnavailableError)
            else "error"
        )
        conversation = getattr(activity.conversation, "id", None)
        message = strings.ERR_GENERIC
        if isinstance(error, UnreadableStateError):
            # Not a bug of ours: stored bytes we did not write. Once, without the content; the user starts again.
            log.warning("stored state unreadable (%s); reset it: conversation=%s", error.reason, conversation)
            message = strings.STATE_RESET
        elif isinstance(error, StorageUnavailableError):
            # The account is slow, throttling or away: one line for us (no SDK text), one sentence for the user.
            log.warning("storage unavailable (%s): conversation=%s activity=%s name=%s", error, conversation,
                        activity.id, activity.name)
            message = strings.STORAGE_UNAVAILABLE
        else:
            log.error(
                "turn failed: conversation=%s activity=%s type=%s name=%s error=%s",
                conversation,
                activity.id,
                activity.type,
                activity.name,
                type(error).__name__,
                exc_info=error,
            )
        try:
            if activity.type == ActivityTypes.invoke:
                status, body = invoke_error_body(activity.name, message)
                await context.send_activity(
                    Activity(type=ActivityTypes.invoke_response, value=InvokeResponse(status=status, body=body))
                )
            inline_answer = (activity.name or "").startswith(("composeExtension/", "task/"))
            private_turn = activity.type == ActivityTypes.event and activity.name == CONTINUE_CONVERSATION
            if activity.type == ActivityTypes.message or private_turn or (
                activity.type == ActivityTypes.invoke and not inline_answer
            ):
                await context.send_activity(message)
        except Exception as send_error:  # the connector itself may be what failed
            log.warning("could not tell the user about the failure: %s", type(send_error).__name__)
        if is_transport_failure(error):
            return  # Teams or the network failed, not the flow: keep the user's place; they can send it again
        try:
            await clear_state(context)
        except Exception as state_error:
            log.warning("could not clear conversation state: %s", type(state_error).__name__)

    return on_turn_error
