"""The one turn error handler: log it for us, say one plain sentence to the user, never a trace or token."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from botbuilder.core import InvokeResponse, TurnContext
from botbuilder.schema import Activity, ActivityTypes

from dialogs.cards import strings

log = logging.getLogger(__name__)


def invoke_error_body(name: str | None) -> tuple[int, Any]:
    """A well-formed failure answer for an invoke, in the shape its Teams surface expects."""
    name = name or ""
    if name.startswith("composeExtension/"):
        return 200, {"composeExtension": {"type": "message", "text": strings.ERR_GENERIC}}
    if name.startswith("task/"):
        return 200, {"task": {"type": "message", "value": strings.ERR_GENERIC}}
    if name == "adaptiveCard/action":
        return 200, {
            "statusCode": 500,
            "type": "application/vnd.microsoft.error",
            "value": {"code": "InternalError", "message": strings.ERR_GENERIC},
        }
    if name == "signin/tokenExchange":
        # 412 makes Teams fall back to the sign-in card instead of showing an error.
        return 412, None
    return 200, None


def make_on_turn_error(clear_state: Callable[[TurnContext], Awaitable[None]]) -> Callable[..., Awaitable[None]]:
    """Build the adapter's `on_turn_error`; `clear_state` drops the conversation's (possibly broken) state."""

    async def on_turn_error(context: TurnContext, error: Exception) -> None:
        activity = context.activity
        log.error(
            "turn failed: conversation=%s activity=%s type=%s name=%s error=%s",
            getattr(activity.conversation, "id", None),
            activity.id,
            activity.type,
            activity.name,
            type(error).__name__,
            exc_info=error,
        )
        try:
            if activity.type == ActivityTypes.invoke:
                status, body = invoke_error_body(activity.name)
                await context.send_activity(
                    Activity(type=ActivityTypes.invoke_response, value=InvokeResponse(status=status, body=body))
                )
            inline_answer = (activity.name or "").startswith(("composeExtension/", "task/"))
            if activity.type == ActivityTypes.message or (activity.type == ActivityTypes.invoke and not inline_answer):
                await context.send_activity(strings.ERR_GENERIC)
        except Exception as send_error:  # the connector itself may be what failed
            log.warning("could not tell the user about the failure: %s", type(send_error).__name__)
        try:
            await clear_state(context)
        except Exception as state_error:
            log.warning("could not clear conversation state: %s", type(state_error).__name__)

    return on_turn_error
