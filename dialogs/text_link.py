""""Text the link": confirm, then `sendVirtualAppointmentSms` to the client's (US) number of the last result."""

from __future__ import annotations

import logging

from botbuilder.dialogs import ComponentDialog, Dialog, WaterfallDialog, WaterfallStepContext
from botbuilder.dialogs.dialog_turn_result import DialogTurnResult

from dialogs.cards import actions, confirm_text_card, strings
from dialogs.client_details import ClientDetails, is_us_number
from dialogs.graph_errors import is_transient, sentence_for
from dialogs.link import LastLink
from dialogs.services import DialogServices
from dialogs.signin.flow import sign_in_again
from dialogs.turn import Turn
from graph.errors import Forbidden, GraphError, Unauthorized
from graph.models import SmsAttendee

log = logging.getLogger(__name__)


def text_failure_sentence(exc: GraphError) -> str:
    """403 on texting is a missing Teams Premium licence, unless the app lacks the permission itself."""
    if isinstance(exc, Forbidden):
        sentence = sentence_for(exc)
        return sentence if sentence == strings.ERR_ADMIN_CONSENT else strings.TEXT_NEEDS_PREMIUM
    return strings.ERR_TEXT_FAILED


class TextLinkDialog(ComponentDialog):
    """Confirm, then text the link of the last result; "Text the link" on an older card needs the last one."""

    ID = "textLink"

    def __init__(self, services: DialogServices) -> None:
        super().__init__(self.ID)
        self.services = services
        self.add_dialog(WaterfallDialog("textSteps", [self.confirm_step, self.send_step]))
        self.initial_dialog_id = "textSteps"

    async def confirm_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        turn = Turn.of(step.context)
        last = LastLink.from_state(await self.services.last_link.get(step.context))
        if last is None or not last.phone:
            await turn.reply(strings.ERR_EXPIRED_CARD)
            return await step.end_dialog(False)
        if not is_us_number(last.phone):
            await turn.reply(strings.TEXT_US_ONLY)
            return await step.end_dialog(False)
        await turn.reply(confirm_text_card(phone_display=ClientDetails(phone=last.phone).phone_display))
        return Dialog.end_of_turn

    async def send_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        turn = Turn.of(step.context)
        if turn.action == actions.CANCEL_TEXT:
            await turn.reply(strings.TEXT_CANCELLED)
            return await step.end_dialog(False)
        if turn.action != actions.CONFIRM_TEXT:
            return await step.replace_dialog(self.ID)
        last = LastLink.from_state(await self.services.last_link.get(step.context))
        if last is None:
            await turn.reply(strings.ERR_EXPIRED_CARD)
            return await step.end_dialog(False)
        try:
            await self.services.graph(step.context).send_sms(
                last.meeting_id, [SmsAttendee(last.phone, last.time_zone)], deadline=self.services.deadline()
            )
        except Unauthorized:
            await sign_in_again(turn, self.services.tokens)
            return await step.end_dialog(False)
        except GraphError as exc:
            log.info("text failed: %s %s", type(exc).__name__, exc.status)
            if is_transient(exc):
                await turn.reply(sentence_for(exc))
                return await step.replace_dialog(self.ID)
            await turn.reply(text_failure_sentence(exc))
            return await step.end_dialog(False)
        await turn.reply(strings.text_sent(ClientDetails(phone=last.phone).phone_display))
        return await step.end_dialog(True)
