"""`remind me [n minutes before]` and `stop reminders`: turning reminders before appointments on and off.

Turning them on signs the user in first (the poller reads their meetings with the same sign-in), then keeps their
1:1 chat as where reminders go. The store and the poller are bot/'s (bot/reminders/); the dialogs reach them through
the `ReminderControl` (dialogs/services.py) that `DialogServices` carries. `sign out` turns reminders off too, and
a sign-in resumes reminders that were paused because the sign-in had expired.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.dialogs import ComponentDialog, WaterfallDialog, WaterfallStepContext
from botbuilder.dialogs.dialog_turn_result import DialogTurnResult

from dialogs.cards import strings
from dialogs.commands import DEFAULT_LEAD_MINUTES, MAX_LEAD_MINUTES, MIN_LEAD_MINUTES
from dialogs.events import Events
from dialogs.services import ReminderControl
from dialogs.signin.flow import SignInDialog
from dialogs.signin.tokens import TokenSource
from dialogs.turn import Turn

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ReminderRequest:
    """The options of `ReminderDialog`: how long before, and the user's time zone and locale (a shared chat's turn
    knows them, the 1:1 turn it starts does not)."""

    lead_minutes: int = DEFAULT_LEAD_MINUTES
    time_zone: str | None = None
    locale: str | None = None

    def to_state(self) -> dict[str, Any]:
        return {"lead": self.lead_minutes, "timeZone": self.time_zone, "locale": self.locale}

    @classmethod
    def from_state(cls, data: Any) -> ReminderRequest:
        state = data if isinstance(data, dict) else {}
        lead, zone, locale = state.get("lead"), state.get("timeZone"), state.get("locale")
        # Range-checked here too: a stored lead outside 5-60 would be confirmed, then make a subscription the
        # store cannot read back (reminders silently never sent).
        if not (isinstance(lead, int) and not isinstance(lead, bool) and MIN_LEAD_MINUTES <= lead <= MAX_LEAD_MINUTES):
            lead = DEFAULT_LEAD_MINUTES
        return cls(
            lead,
            zone if isinstance(zone, str) and zone else None,
            locale if isinstance(locale, str) and locale else None,
        )


class ReminderDialog(ComponentDialog):
    """Sign in, then turn reminders on and confirm."""

    ID = "reminders"

    def __init__(self, tokens: TokenSource, control: ReminderControl, events: Events | None = None) -> None:
        super().__init__(self.ID)
        self.control = control
        self.add_dialog(SignInDialog(tokens, events))
        self.add_dialog(WaterfallDialog("reminderSteps", [self.sign_in_step, self.turn_on_step]))
        self.initial_dialog_id = "reminderSteps"

    async def sign_in_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        step.values["request"] = ReminderRequest.from_state(step.options).to_state()
        return await step.begin_dialog(SignInDialog.ID)

    async def turn_on_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        if step.result is not True:
            return await step.end_dialog(False)
        turn = Turn.of(step.context)
        request = ReminderRequest.from_state(step.values["request"])
        try:
            await self.control.turn_on(
                step.context,
                request.lead_minutes,
                time_zone=request.time_zone or turn.time_zone,
                locale=request.locale or turn.locale,
            )
        except Exception as exc:
            log.warning("could not turn reminders on: %s", type(exc).__name__)
            await turn.reply(strings.ERR_REMINDERS_UNAVAILABLE)
            return await step.end_dialog(False)
        await turn.reply(strings.reminders_on(request.lead_minutes))
        return await step.end_dialog(True)


async def stop_reminders(turn: Turn, control: ReminderControl | None) -> None:
    """`stop reminders`: off, and say so."""
    if control is None:
        await turn.reply(strings.REMINDERS_WERE_OFF)
        return
    try:
        were_on = await control.turn_off(turn.context)
    except Exception as exc:
        log.warning("could not turn reminders off: %s", type(exc).__name__)
        await turn.reply(strings.ERR_REMINDERS_UNAVAILABLE)
        return
    await turn.reply(strings.REMINDERS_OFF if were_on else strings.REMINDERS_WERE_OFF)


async def reminders_off_quietly(context: TurnContext, control: ReminderControl | None) -> None:
    """`sign out` turns reminders off; saying so is the sign-out sentence's job."""
    if control is not None:
        await _quietly(control.turn_off(context), "turn reminders off at sign-out")


async def resume_reminders(context: TurnContext, control: ReminderControl | None) -> None:
    """After a successful sign-in: paused reminders go on. A failure costs nothing but the resume."""
    if control is not None:
        await _quietly(control.resume(context), "resume reminders")


async def _quietly(call: Awaitable[object], what: str) -> None:
    """A side effect of another command: its failure is logged, never shown (the command itself succeeded)."""
    try:
        await call
    except Exception as exc:
        log.warning("could not %s: %s", what, type(exc).__name__)
