"""NewMeetingDialog: `new` in chat. The user confirms subject, start and length, then the one meeting lookup sets
the meeting up (`createOrGet`); the externalId is fixed once per request, so a retry after a failure returns the
same meeting instead of a second one."""

from __future__ import annotations

import logging
import uuid
from dataclasses import asdict, dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from botbuilder.dialogs import ComponentDialog, Dialog, WaterfallDialog, WaterfallStepContext
from botbuilder.dialogs.dialog_turn_result import DialogTurnResult

from dialogs.cards import actions, new_meeting_card, strings
from dialogs.cards.timefmt import resolve_zone
from dialogs.lookup import LinkFailure, NewMeeting, find_meeting, next_quarter_hour
from dialogs.services import DialogServices
from dialogs.signin.flow import sign_in_again
from dialogs.turn import Turn

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class NewMeetingForm:
    """The form as last shown (the dialog's options and step values)."""

    external_id: str
    subject: str
    date: str  # YYYY-MM-DD in the user's zone
    time: str  # HH:MM
    duration: str  # minutes, as typed
    error: str | None = None

    def to_state(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_state(cls, data: Any, turn: Turn) -> NewMeetingForm:
        """The stored form, or a fresh one starting at the next quarter hour in the user's zone."""
        state = data if isinstance(data, dict) else {}
        zone = resolve_zone(turn.time_zone)
        start = next_quarter_hour(datetime.now(zone or UTC))

        def text(name: str, default: str) -> str:
            value = state.get(name)
            return value if isinstance(value, str) and value else default

        error = state.get("error")
        return cls(
            external_id=text("external_id", str(uuid.uuid4())),
            subject=text("subject", strings.NEW_MEETING_SUBJECT),
            date=text("date", start.date().isoformat()),
            time=text("time", start.strftime("%H:%M")),
            duration=text("duration", "30"),
            error=error if isinstance(error, str) else None,
        )


def parse_start(day: Any, clock: Any, zone: ZoneInfo | None) -> datetime | None:
    """The form's date (YYYY-MM-DD) and time (HH:MM) in the user's zone, as an aware datetime."""
    try:
        when = datetime.combine(date.fromisoformat(str(day)), time.fromisoformat(str(clock)[:5]))
    except ValueError:
        return None
    return when.replace(tzinfo=zone or UTC)


class NewMeetingDialog(ComponentDialog):
    """Ends with the new `Meeting` (handed to the parent, never stored), or None when the user has to sign in
    again."""

    ID = "newMeeting"

    def __init__(self, services: DialogServices) -> None:
        super().__init__(self.ID)
        self.services = services
        self.add_dialog(WaterfallDialog("newMeetingSteps", [self.form_step, self.create_step]))
        self.initial_dialog_id = "newMeetingSteps"

    async def form_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        turn = Turn.of(step.context)
        form = NewMeetingForm.from_state(step.options, turn)
        step.values["form"] = form.to_state()
        card = new_meeting_card(
            subject=form.subject, start_date=form.date, start_time=form.time, duration=form.duration, error=form.error
        )
        await turn.reply(card)
        return Dialog.end_of_turn

    async def create_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        turn = Turn.of(step.context)
        form = NewMeetingForm.from_state(step.values["form"], turn)
        if turn.action != actions.CREATE_MEETING:
            return await step.replace_dialog(self.ID, replace(form, error=None).to_state())
        values = turn.values
        form = replace(
            form,
            subject=str(values.get(actions.INPUT_SUBJECT) or "").strip()[:100] or strings.NEW_MEETING_SUBJECT,
            date=str(values.get(actions.INPUT_START_DATE) or form.date),
            time=str(values.get(actions.INPUT_START_TIME) or form.time),
            duration=str(values.get(actions.INPUT_DURATION) or form.duration),
        )
        zone = resolve_zone(turn.time_zone)
        start = parse_start(form.date, form.time, zone if isinstance(zone, ZoneInfo) else None)
        minutes = int(form.duration) if form.duration.isdigit() else 30
        if start is None or start < datetime.now(UTC) - timedelta(minutes=5) or not 5 <= minutes <= 480:
            return await step.replace_dialog(self.ID, replace(form, error=strings.INVALID_START).to_state())
        new = NewMeeting(form.external_id, form.subject, start, start + timedelta(minutes=minutes))
        try:
            meeting = await find_meeting(self.services, turn, new, deadline=self.services.deadline(turn.context))
        except LinkFailure as failure:
            if failure.token_refused:
                await sign_in_again(turn, self.services.tokens)
                return await step.end_dialog(None)
            return await step.replace_dialog(self.ID, replace(form, error=failure.sentence).to_state())
        return await step.end_dialog(meeting)
