"""Interruptions in one place: `help`, `cancel`, `sign out`, `remind me`, `stop reminders` and a fresh `get link`
work at any step."""

from __future__ import annotations

from botbuilder.dialogs import ComponentDialog, DialogContext, DialogTurnResult, DialogTurnStatus

from dialogs.cards import help_card, strings
from dialogs.commands import GET_LINK, REMIND_ME, STOP_REMINDERS
from dialogs.reminders import reminders_off_quietly
from dialogs.services import DialogServices
from dialogs.signin.flow import sign_out
from dialogs.turn import Turn


class InterruptibleDialog(ComponentDialog):
    """Base for the root dialog: handles the interruptions before any step sees the message."""

    def __init__(self, dialog_id: str, services: DialogServices) -> None:
        super().__init__(dialog_id)
        self.services = services

    async def on_continue_dialog(self, inner_dc: DialogContext) -> DialogTurnResult:
        interrupted = await self.interrupt(inner_dc)
        if interrupted is not None:
            return interrupted
        result: DialogTurnResult = await super().on_continue_dialog(inner_dc)
        return result

    async def interrupt(self, inner_dc: DialogContext) -> DialogTurnResult | None:
        turn = Turn.of(inner_dc.context)
        if turn.command == "help":
            await turn.reply(help_card())
            return DialogTurnResult(DialogTurnStatus.Waiting)  # the question before help still stands
        if turn.command == "cancel":
            await inner_dc.cancel_all_dialogs()
            await turn.reply(strings.CANCELLED)
            return DialogTurnResult(DialogTurnStatus.Cancelled)
        if turn.command == "sign out":
            await inner_dc.cancel_all_dialogs()
            await sign_out(turn, self.services.tokens)
            await reminders_off_quietly(turn.context, self.services.reminders)
            return DialogTurnResult(DialogTurnStatus.Cancelled)
        if turn.command in (REMIND_ME, STOP_REMINDERS):  # leaves the flow under way, like a fresh `get link`
            await inner_dc.cancel_all_dialogs()
            result: DialogTurnResult = await inner_dc.begin_dialog(self.initial_dialog_id)
            return result
        if turn.command == GET_LINK:
            await inner_dc.cancel_all_dialogs()
            return await self.restart(inner_dc, turn.rest)
        return None

    async def restart(self, inner_dc: DialogContext, reference: str) -> DialogTurnResult:
        """Start the get-link flow afresh (a new `get link` in the middle of another)."""
        raise NotImplementedError
