"""Commands routed once: one table from command to what it does, run the same way whether a flow is under way (an
interruption, at any step) or not (the root dialog's route step), in personal and shared chats alike.

A command's handler answers with a dialog it began, a request to continue in the one-to-one chat (`dialogs.handoff`,
only from a shared chat), or None when it has answered. What differs in a shared chat is the turn's to say
(`Turn.is_personal`), not a second router; and no flow is ever under way there (bot/ ends any before the turn).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeAlias

from botbuilder.dialogs import ComponentDialog, DialogContext, DialogTurnResult, DialogTurnStatus

from dialogs.handoff import PrivateRequest
from dialogs.services import DialogServices
from dialogs.turn import Turn

Answer: TypeAlias = DialogTurnResult | PrivateRequest | None
Handler: TypeAlias = Callable[[DialogContext, Turn, bool], Awaitable[Answer]]  # (dc, turn, a flow was under way)


@dataclass(frozen=True, slots=True)
class Command:
    """What a command does; `keeps_flow`: answered without ending the flow under way (its question still stands)."""

    run: Handler
    keeps_flow: bool = False


class InterruptibleDialog(ComponentDialog):
    """Base for the root dialog: `commands` are taken before any step of a flow sees the message."""

    def __init__(self, dialog_id: str, services: DialogServices) -> None:
        super().__init__(dialog_id)
        self.services = services
        self.commands: dict[str, Command] = {}

    async def on_continue_dialog(self, inner_dc: DialogContext) -> DialogTurnResult:
        interrupted = await self.interrupt(inner_dc)
        if interrupted is not None:
            return interrupted
        result: DialogTurnResult = await super().on_continue_dialog(inner_dc)
        return result

    async def interrupt(self, inner_dc: DialogContext) -> DialogTurnResult | None:
        """A command in the middle of a flow: help leaves it waiting; any other ends it, then runs."""
        turn = Turn.of(inner_dc.context)
        command = self.commands.get(turn.command) if turn.command else None
        if command is None:
            return None
        if command.keeps_flow:
            await command.run(inner_dc, turn, True)
            return DialogTurnResult(DialogTurnStatus.Waiting)
        await inner_dc.cancel_all_dialogs()
        answer = await command.run(inner_dc, turn, True)
        return answer if isinstance(answer, DialogTurnResult) else DialogTurnResult(DialogTurnStatus.Cancelled)
