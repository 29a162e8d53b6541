"""Which meeting: a pasted reference, one of the user's upcoming meetings, "this meeting", or a new one.

An unusable reference is asked again with the reason, the pasted text kept in the box. A Graph failure is asked
again the same way, so the user keeps their place and can simply tap the button again.
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from botbuilder.dialogs import ComponentDialog, Dialog, WaterfallDialog, WaterfallStepContext
from botbuilder.dialogs.dialog_turn_result import DialogTurnResult
from botbuilder.schema import ActivityTypes

from dialogs.base import send_card
from dialogs.cards import actions, meeting_choice_card, new_meeting_card, strings
from dialogs.cards.timefmt import resolve_zone
from dialogs.commands import clean_text
from dialogs.graph_errors import sentence_for
from dialogs.linking import Meeting, in_meeting_chat, is_this_meeting, next_quarter_hour, rejection_sentence
from dialogs.services import DialogServices, ThisMeeting, submitted, turn_time_zone
from graph.errors import GraphError, Unauthorized
from graph.models import OnlineMeeting
from graph.references import MeetingReference, ReferenceKind, Rejected, parse_meeting_reference

log = logging.getLogger(__name__)

def meeting_dict(meeting: OnlineMeeting | ThisMeeting) -> dict[str, Any]:
    """What the flow keeps about the meeting in dialog state: ids and display data only."""
    found = Meeting.of(meeting)
    return {
        "id": found.id,
        "subject": found.subject,
        "start": found.start.isoformat() if found.start else None,
        "end": found.end.isoformat() if found.end else None,
    }


def typed_reference(step: WaterfallStepContext) -> str | None:
    """What the user gave as the meeting: a chosen meeting, the paste box, `New meeting`, or typed text."""
    value = submitted(step.context)
    action = value.get("action")
    if action in (actions.CHOOSE_MEETING, actions.MEETING_REF):
        ref = value.get(actions.INPUT_MEETING_REF)
        return ref if isinstance(ref, str) else ""
    if action == actions.NEW_MEETING:
        return "new"
    if step.context.activity.type == ActivityTypes.message and step.context.activity.text:
        return clean_text(step.context.activity.text)
    return None


class MeetingDialog(ComponentDialog):
    """Ends with the meeting (a dict of `meeting_dict`), or None when the user has to sign in again."""

    ID = "meeting"

    def __init__(self, services: DialogServices) -> None:
        super().__init__(self.ID)
        self.services = services
        self.add_dialog(NewMeetingDialog(services))
        self.add_dialog(WaterfallDialog("meetingSteps", [self.ask_step, self.resolve_step, self.done_step]))
        self.initial_dialog_id = "meetingSteps"

    async def ask_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        options = step.options or {}
        if options.get("reference"):
            step.values["given"] = options["reference"]
            return await step.next(None)
        if not options.get("asked") and in_meeting_chat(step.context):
            step.values["given"] = strings.THIS_MEETING
            return await step.next(None)
        context = step.context
        tz_name = turn_time_zone(context)
        meetings: list[Any] = []
        reason = options.get("reason")
        try:
            meetings = await self.services.graph(context).upcoming_meetings(
                time_zone=tz_name or "UTC", deadline=self.services.deadline()
            )
        except GraphError as exc:
            log.info("upcoming meetings unavailable: %s", type(exc).__name__)
            reason = reason or strings.ERR_CALENDAR
        card = meeting_choice_card(
            meetings, tz_name=tz_name, now=datetime.now(UTC), meeting_ref=options.get("typed", ""), reason=reason
        )
        await send_card(context, card)
        return Dialog.end_of_turn

    async def resolve_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        text = step.values.get("given") or typed_reference(step) or ""
        if is_this_meeting(text):
            meeting = await self.services.this_meeting(step.context)
            if meeting is None:
                return await self.ask_again(step, strings.REF_NOT_IN_MEETING, "")
            return await step.end_dialog(meeting_dict(meeting))
        parsed = parse_meeting_reference(text)
        if isinstance(parsed, Rejected):
            return await self.ask_again(step, rejection_sentence(parsed), text)
        if parsed.kind is ReferenceKind.NEW:
            return await step.begin_dialog(NewMeetingDialog.ID)
        return await self.look_up(step, parsed, text)

    async def look_up(self, step: WaterfallStepContext, reference: MeetingReference, text: str) -> DialogTurnResult:
        try:
            meeting = await self.services.graph(step.context).resolve_meeting(
                reference, deadline=self.services.deadline()
            )
        except Unauthorized:
            await sign_out_quietly(step, self.services)
            return await step.end_dialog(None)
        except GraphError as exc:
            log.info("meeting lookup failed: %s %s", type(exc).__name__, exc.status)
            return await self.ask_again(step, sentence_for(exc), text)
        return await step.end_dialog(meeting_dict(meeting))

    async def done_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        """A new meeting was set up (or not: None)."""
        return await step.end_dialog(step.result)

    async def ask_again(self, step: WaterfallStepContext, reason: str, typed: str) -> DialogTurnResult:
        return await step.replace_dialog(self.ID, {"reason": reason, "typed": typed, "asked": True})


async def sign_out_quietly(step: WaterfallStepContext, services: DialogServices) -> None:
    """Graph refused the token: drop it so the next `get link` signs in afresh, and say so."""
    await step.context.send_activity(strings.ERR_SIGN_IN_AGAIN)
    try:
        await services.tokens.sign_out(step.context)
    except Exception as exc:
        log.warning("sign-out after a refused token failed: %s", type(exc).__name__)


def parse_start(day: Any, clock: Any, zone: ZoneInfo | None) -> datetime | None:
    """The form's date (YYYY-MM-DD) and time (HH:MM) in the user's zone, as an aware datetime."""
    try:
        when = datetime.combine(date.fromisoformat(str(day)), time.fromisoformat(str(clock)[:5]))
    except ValueError:
        return None
    return when.replace(tzinfo=zone or UTC)


class NewMeetingDialog(ComponentDialog):
    """`new`: set up a Teams meeting with `createOrGet`; the externalId is fixed once per request, so a retry after
    a failure returns the same meeting instead of a second one."""

    ID = "newMeeting"

    def __init__(self, services: DialogServices) -> None:
        super().__init__(self.ID)
        self.services = services
        self.add_dialog(WaterfallDialog("newMeetingSteps", [self.form_step, self.create_step]))
        self.initial_dialog_id = "newMeetingSteps"

    async def form_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        options = dict(step.options or {})
        zone = resolve_zone(turn_time_zone(step.context))
        start = next_quarter_hour(datetime.now(zone or UTC))
        options.setdefault("externalId", str(uuid.uuid4()))
        options.setdefault("subject", strings.NEW_MEETING_SUBJECT)
        options.setdefault("date", start.date().isoformat())
        options.setdefault("time", start.strftime("%H:%M"))
        options.setdefault("duration", "30")
        step.values["form"] = options
        card = new_meeting_card(
            subject=options["subject"],
            start_date=options["date"],
            start_time=options["time"],
            duration=options["duration"],
            error=options.get("error"),
        )
        await send_card(step.context, card)
        return Dialog.end_of_turn

    async def create_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        form = dict(step.values["form"])
        value = submitted(step.context)
        if value.get("action") != actions.CREATE_MEETING:
            return await step.replace_dialog(self.ID, {**form, "error": None})
        form.update(
            subject=str(value.get(actions.INPUT_SUBJECT) or "").strip()[:100] or strings.NEW_MEETING_SUBJECT,
            date=str(value.get(actions.INPUT_START_DATE) or form["date"]),
            time=str(value.get(actions.INPUT_START_TIME) or form["time"]),
            duration=str(value.get(actions.INPUT_DURATION) or form["duration"]),
        )
        zone = resolve_zone(turn_time_zone(step.context))
        start = parse_start(form["date"], form["time"], zone if isinstance(zone, ZoneInfo) else None)
        minutes = int(form["duration"]) if form["duration"].isdigit() else 30
        if start is None or start < datetime.now(UTC) - timedelta(minutes=5) or not 5 <= minutes <= 480:
            return await step.replace_dialog(self.ID, {**form, "error": strings.INVALID_START})
        try:
            created = await self.services.graph(step.context).create_or_get_meeting(
                form["externalId"],
                subject=form["subject"],
                start=start,
                end=start + timedelta(minutes=minutes),
                deadline=self.services.deadline(),
            )
        except Unauthorized:
            await sign_out_quietly(step, self.services)
            return await step.end_dialog(None)
        except GraphError as exc:
            log.info("createOrGet failed: %s %s", type(exc).__name__, exc.status)
            return await step.replace_dialog(self.ID, {**form, "error": sentence_for(exc)})
        return await step.end_dialog(meeting_dict(created.meeting))
