"""MeetingDialog: which meeting. A pasted reference, one of the user's upcoming meetings or Bookings appointments,
"this meeting", or `new`.

The lookup itself is `dialogs.lookup.find_meeting`, shared with the messaging extension. An unusable reference is
asked again with the reason, the pasted text kept in the box. A Graph failure is asked again the same way, so the
user keeps their place and can simply tap the button again.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from botbuilder.dialogs import ComponentDialog, Dialog, WaterfallDialog, WaterfallStepContext
from botbuilder.dialogs.dialog_turn_result import DialogTurnResult

from dialogs.cards import actions, meeting_choice_card, strings
from dialogs.graph_errors import GraphCall, consent_sentence, is_consent_refusal
from dialogs.lookup import LinkFailure, bookings_user, find_meeting, is_this_meeting, parse
from dialogs.new_meeting import NewMeetingDialog
from dialogs.services import DialogServices
from dialogs.signin.flow import sign_in_again
from dialogs.turn import Turn
from graph.bookings import BookingsResult, BookingsStatus
from graph.choices import merge_choices
from graph.errors import GraphError
from graph.references import MeetingReference, ReferenceKind

log = logging.getLogger(__name__)

CHOICE_WINDOW = timedelta(hours=48)


@dataclass(frozen=True, slots=True)
class MeetingQuestion:
    """The dialog's options: a reference given up front, or why the question is asked again and what was typed."""

    reference: str = ""
    reason: str | None = None
    typed: str = ""
    asked: bool = False  # asked once already: in a meeting chat, do not fall back to "this meeting" again

    def to_state(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_state(cls, data: Any) -> MeetingQuestion:
        state = data if isinstance(data, dict) else {}
        reason = state.get("reason")
        return cls(
            reference=str(state.get("reference") or ""),
            reason=reason if isinstance(reason, str) else None,
            typed=str(state.get("typed") or ""),
            asked=state.get("asked") is True,
        )


def typed_reference(turn: Turn) -> str | None:
    """What the user gave as the meeting: a chosen meeting, the paste box, `New meeting`, or typed text."""
    if turn.action in (actions.CHOOSE_MEETING, actions.MEETING_REF):
        return turn.value(actions.INPUT_MEETING_REF)
    if turn.action == actions.NEW_MEETING:
        return "new"
    return turn.text or None


class MeetingDialog(ComponentDialog):
    """Ends with the `Meeting` (a result goes to the parent in the same turn, never into stored state), or None
    when the user has to sign in again."""

    ID = "meeting"

    def __init__(self, services: DialogServices) -> None:
        super().__init__(self.ID)
        self.services = services
        self.add_dialog(NewMeetingDialog(services))
        self.add_dialog(WaterfallDialog("meetingSteps", [self.ask_step, self.resolve_step, self.done_step]))
        self.initial_dialog_id = "meetingSteps"

    async def ask_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        question = MeetingQuestion.from_state(step.options)
        turn = Turn.of(step.context)
        if question.reference:
            step.values["given"] = question.reference
            return await step.next(None)
        if not question.asked and turn.in_meeting_chat:
            step.values["given"] = strings.THIS_MEETING
            return await step.next(None)
        card = await self.choice_card(turn, question)
        await turn.reply(card)
        return Dialog.end_of_turn

    async def choice_card(self, turn: Turn, question: MeetingQuestion) -> dict[str, Any]:
        """The choices: calendar meetings the user organises and their own online Bookings appointments, read in
        parallel; Bookings gets `bookings_budget_s` at most and the card shows what was ready (and says so)."""
        graph = self.services.graph(turn.context)
        deadline = self.services.deadline(turn.context)
        now = datetime.now(UTC)
        calendar, bookings = await asyncio.gather(
            graph.upcoming_meetings(time_zone=turn.time_zone or "UTC", deadline=deadline),
            self.services.bookings.appointments(
                graph,
                bookings_user(turn),
                start=now,
                end=now + CHOICE_WINDOW,
                deadline=self.services.bookings_deadline(deadline),
            ),
            return_exceptions=True,
        )
        reason = question.reason
        if isinstance(calendar, BaseException):
            if not isinstance(calendar, GraphError):
                raise calendar
            log.info("upcoming meetings unavailable: %s", type(calendar).__name__)
            refused = is_consent_refusal(calendar)  # the permission named, else "paste the link"
            reason = reason or (consent_sentence(GraphCall.CALENDAR) if refused else strings.ERR_CALENDAR)
            calendar = []
        if isinstance(bookings, BaseException):
            if not isinstance(bookings, GraphError):
                raise bookings
            log.info("Bookings unavailable: %s", type(bookings).__name__)  # a refused token: calendar says so
            bookings = BookingsResult((), BookingsStatus.FAILED)
        me = bookings.me
        choices = merge_choices(calendar, bookings.appointments, user_id=me.id if me else None)
        return meeting_choice_card(
            choices,
            tz_name=turn.time_zone,
            now=now,
            meeting_ref=question.typed,
            reason=reason,
            note=strings.BOOKINGS_INCOMPLETE if bookings.incomplete else None,
        )

    async def resolve_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        turn = Turn.of(step.context)
        text = step.values.get("given") or typed_reference(turn) or ""
        given = parse(text, turn)
        if isinstance(given, MeetingReference) and given.kind is ReferenceKind.NEW:
            return await step.begin_dialog(NewMeetingDialog.ID)  # the chat asks for subject and time first
        try:
            if isinstance(given, LinkFailure):
                raise given
            meeting = await find_meeting(self.services, turn, given, deadline=self.services.deadline(turn.context))
        except LinkFailure as failure:
            if failure.token_refused:
                await sign_in_again(turn, self.services.tokens)
                return await step.end_dialog(None)
            return await self.ask_again(step, failure.sentence, "" if is_this_meeting(text) else text)
        return await step.end_dialog(meeting)

    async def done_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        """A new meeting was set up (or not: None)."""
        return await step.end_dialog(step.result)

    async def ask_again(self, step: WaterfallStepContext, reason: str, typed: str) -> DialogTurnResult:
        return await step.replace_dialog(self.ID, MeetingQuestion(reason=reason, typed=typed, asked=True).to_state())
