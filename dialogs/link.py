"""The result: the client join link Graph returns, on a card; and "Text the link" after a confirmation."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from botbuilder.dialogs import ComponentDialog, Dialog, WaterfallDialog, WaterfallStepContext
from botbuilder.dialogs.dialog_turn_result import DialogTurnResult

from dialogs.base import send_card
from dialogs.cards import actions, confirm_text_card, error_card, result_card, strings
from dialogs.client_details import ClientDetails, is_us_number
from dialogs.commands import clean_text
from dialogs.graph_errors import is_transient, sentence_for
from dialogs.linking import LinkFailure, join_link
from dialogs.meeting import sign_out_quietly
from dialogs.services import DialogServices, submitted_action, turn_time_zone
from graph.errors import Forbidden, GraphError, Unauthorized
from graph.models import SmsAttendee

log = logging.getLogger(__name__)

RETRY_WORDS = frozenset({"try again", "retry", "again"})


def _when(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else None


def wants_retry(step: WaterfallStepContext) -> bool:
    typed = clean_text(step.context.activity.text).lower()
    return submitted_action(step.context) == actions.RETRY or typed in RETRY_WORDS


def text_failure_sentence(exc: GraphError) -> str:
    """403 on texting is a missing Teams Premium licence, unless the app lacks the permission itself."""
    if isinstance(exc, Forbidden):
        sentence = sentence_for(exc)
        return sentence if sentence == strings.ERR_ADMIN_CONSENT else strings.TEXT_NEEDS_PREMIUM
    return strings.ERR_TEXT_FAILED


class LinkDialog(ComponentDialog):
    """Gets the join link and shows the result card. A transient Graph failure offers "Try again" and keeps the
    user here; nothing they entered is lost."""

    ID = "link"

    def __init__(self, services: DialogServices) -> None:
        super().__init__(self.ID)
        self.services = services
        self.add_dialog(WaterfallDialog("linkSteps", [self.fetch_step, self.retry_step]))
        self.initial_dialog_id = "linkSteps"

    async def fetch_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        context = step.context
        meeting: dict[str, Any] = step.options["meeting"]
        client = ClientDetails(**(step.options.get("client") or {}))
        try:
            url = await join_link(self.services, context, meeting["id"], deadline=self.services.deadline())
        except LinkFailure as failure:
            if failure.token_refused:
                await sign_out_quietly(step, self.services)
                return await step.end_dialog(False)
            if not failure.transient:
                await context.send_activity(failure.sentence)
                return await step.end_dialog(False)
            await send_card(context, error_card(failure.sentence, retry_action=actions.RETRY))
            return Dialog.end_of_turn
        tz_name = turn_time_zone(context)
        can_text = bool(client.phone) and is_us_number(client.phone)
        card = result_card(
            join_url=url,
            subject=meeting.get("subject"),
            start=_when(meeting.get("start")),
            end=_when(meeting.get("end")),
            tz_name=tz_name,
            client=None if client.is_empty else client,
            can_text=can_text,
            now=datetime.now(UTC),
        )
        await send_card(context, card)
        await self.services.last_link.set(
            context, {"meetingId": meeting["id"], "phone": client.phone, "timeZone": tz_name or "UTC"}
        )
        return await step.end_dialog(True)

    async def retry_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        if wants_retry(step):
            return await step.replace_dialog(self.ID, step.options)
        await send_card(step.context, error_card(strings.TRY_AGAIN_HINT, retry_action=actions.RETRY))
        return Dialog.end_of_turn


class TextLinkDialog(ComponentDialog):
    """"Text the link": confirm, then `sendVirtualAppointmentSms` to the client's (US) number."""

    ID = "textLink"

    def __init__(self, services: DialogServices) -> None:
        super().__init__(self.ID)
        self.services = services
        self.add_dialog(WaterfallDialog("textSteps", [self.confirm_step, self.send_step]))
        self.initial_dialog_id = "textSteps"

    async def confirm_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        last = await self.services.last_link.get(step.context)
        phone = (last or {}).get("phone")
        if not phone:
            await step.context.send_activity(strings.ERR_EXPIRED_CARD)
            return await step.end_dialog(False)
        if not is_us_number(phone):
            await step.context.send_activity(strings.TEXT_US_ONLY)
            return await step.end_dialog(False)
        await send_card(step.context, confirm_text_card(phone_display=ClientDetails(phone=phone).phone_display))
        return Dialog.end_of_turn

    async def send_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        context = step.context
        action = submitted_action(context)
        if action == actions.CANCEL_TEXT:
            await context.send_activity(strings.TEXT_CANCELLED)
            return await step.end_dialog(False)
        if action != actions.CONFIRM_TEXT:
            return await step.replace_dialog(self.ID)
        last = await self.services.last_link.get(context) or {}
        phone = ClientDetails(phone=last["phone"]).phone_display
        try:
            await self.services.graph(context).send_sms(
                last["meetingId"],
                [SmsAttendee(last["phone"], last.get("timeZone") or "UTC")],
                deadline=self.services.deadline(),
            )
        except Unauthorized:
            await sign_out_quietly(step, self.services)
            return await step.end_dialog(False)
        except GraphError as exc:
            log.info("text failed: %s %s", type(exc).__name__, exc.status)
            if is_transient(exc):
                await context.send_activity(sentence_for(exc))
                return await step.replace_dialog(self.ID)
            await context.send_activity(text_failure_sentence(exc))
            return await step.end_dialog(False)
        await context.send_activity(strings.text_sent(phone))
        return await step.end_dialog(True)
