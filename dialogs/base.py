"""Interruptions in one place: `help`, `cancel`, `sign out` and a fresh `get link` work at any step."""

from __future__ import annotations

import logging
from typing import Any

from botbuilder.core import CardFactory, MessageFactory, TurnContext
from botbuilder.dialogs import ComponentDialog, DialogContext, DialogTurnResult, DialogTurnStatus
from botbuilder.schema import ActivityTypes

from dialogs.cards import actions, help_card, strings
from dialogs.commands import GET_LINK, parse_command
from dialogs.services import DialogServices, submitted_action

log = logging.getLogger(__name__)


async def send_card(context: TurnContext, card: dict[str, Any]) -> None:
    await context.send_activity(MessageFactory.attachment(CardFactory.adaptive_card(card)))


def command_of(context: TurnContext) -> tuple[str | None, str]:
    """(command, rest) from typed text or a card button's `action`."""
    action = submitted_action(context)
    if action == actions.GET_LINK:
        return GET_LINK, ""
    if action == actions.HELP:
        return "help", ""
    if action == actions.CANCEL:
        return "cancel", ""
    if context.activity.type != ActivityTypes.message:
        return None, ""
    return parse_command(context.activity.text)


class InterruptibleDialog(ComponentDialog):
    """Base for the root dialog: handles the interruptions before any step sees the message."""

    def __init__(self, dialog_id: str, services: DialogServices) -> None:
        super().__init__(dialog_id)
        self.services = services

    async def on_continue_dialog(self, inner_dc: DialogContext) -> DialogTurnResult:
        interrupted = await self.interrupt(inner_dc)
        if interrupted is not None:
            return interrupted
        return await super().on_continue_dialog(inner_dc)

    async def interrupt(self, inner_dc: DialogContext) -> DialogTurnResult | None:
        context = inner_dc.context
        command, rest = command_of(context)
        if command == "help":
            await send_card(context, help_card())
            return DialogTurnResult(DialogTurnStatus.Waiting)  # the question before help still stands
        if command == "cancel":
            await inner_dc.cancel_all_dialogs()
            await context.send_activity(strings.CANCELLED)
            return DialogTurnResult(DialogTurnStatus.Cancelled)
        if command == "sign out":
            await inner_dc.cancel_all_dialogs()
            await sign_out(context, self.services)
            return DialogTurnResult(DialogTurnStatus.Cancelled)
        if command == GET_LINK:
            await inner_dc.cancel_all_dialogs()
            return await self.restart(inner_dc, rest)
        return None

    async def restart(self, inner_dc: DialogContext, reference: str) -> DialogTurnResult:
        """Start the get-link flow afresh (a new `get link` in the middle of another)."""
        raise NotImplementedError


async def sign_out(context: TurnContext, services: DialogServices) -> None:
    """Sign the user out of the OAuth connection and say so; a token-service failure is said plainly too."""
    try:
        await services.tokens.sign_out(context)
    except Exception as exc:
        log.warning("sign-out failed: %s", type(exc).__name__)
        await context.send_activity(strings.ERR_TRY_LATER)
        return
    await context.send_activity(strings.SIGNED_OUT)
