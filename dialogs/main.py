"""MainDialog, the root: routes each new message, runs the get-link flow, and takes interruptions at any step.

get link [reference] -> sign in -> which meeting -> client details -> the result card.
"""

from __future__ import annotations

from typing import Any

from botbuilder.dialogs import DialogContext, WaterfallDialog, WaterfallStepContext
from botbuilder.dialogs.dialog_turn_result import DialogTurnResult

from dialogs.base import InterruptibleDialog
from dialogs.cards import actions, help_card, strings
from dialogs.client_details import ClientDetails
from dialogs.client_form import ClientDialog, ClientForm
from dialogs.commands import GET_LINK
from dialogs.link import LinkDialog, LinkRequest
from dialogs.meeting import MeetingDialog, MeetingQuestion
from dialogs.services import DialogServices
from dialogs.signin.flow import SignInDialog, sign_out
from dialogs.text_link import TextLinkDialog
from dialogs.text_reminder import TextReminderDialog
from dialogs.turn import Turn
from graph.models import Meeting
from graph.references import MeetingReference, parse_meeting_reference

GET_LINK_FLOW = "getLinkFlow"


def _flow(reference: str) -> dict[str, Any]:
    """The get-link flow's options (plain data): the reference given with `get link`, if any."""
    return {"reference": reference}


class MainDialog(InterruptibleDialog):
    ID = "main"

    def __init__(self, services: DialogServices) -> None:
        super().__init__(self.ID, services)
        self.add_dialog(SignInDialog(services.tokens))
        self.add_dialog(MeetingDialog(services))
        self.add_dialog(ClientDialog())
        self.add_dialog(LinkDialog(services))
        self.add_dialog(TextLinkDialog(services))
        self.add_dialog(TextReminderDialog(services))
        self.add_dialog(WaterfallDialog("route", [self.route_step]))
        self.add_dialog(
            WaterfallDialog(
                GET_LINK_FLOW, [self.sign_in_step, self.meeting_step, self.client_step, self.link_step, self.done_step]
            )
        )
        self.initial_dialog_id = "route"

    # --- routing a message that arrives with no flow under way ---------------------------------------------------

    async def route_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        turn = Turn.of(step.context)
        command, action = turn.command, turn.action
        if command == GET_LINK:
            return await step.begin_dialog(GET_LINK_FLOW, _flow(turn.rest))
        if action == actions.TEXT_LINK:
            return await step.begin_dialog(TextLinkDialog.ID)
        if action == actions.TEXT_REMINDER:
            return await step.begin_dialog(TextReminderDialog.ID)
        if action == actions.CHOOSE_MEETING:  # a meeting picked on an older card still means "this one"
            return await step.begin_dialog(GET_LINK_FLOW, _flow(turn.value(actions.INPUT_MEETING_REF)))
        if command == "help":
            await turn.reply(help_card())
        elif command == "sign out":
            await sign_out(turn, self.services.tokens)
        elif command == "cancel":
            await turn.reply(strings.NOTHING_TO_CANCEL)
        elif action is not None:
            await turn.reply(strings.ERR_EXPIRED_CARD)
        elif turn.rest and isinstance(parse_meeting_reference(turn.rest), MeetingReference):
            # Someone pasted a join link without saying "get link": that is what they want.
            return await step.begin_dialog(GET_LINK_FLOW, _flow(turn.rest))
        elif turn.rest or turn.text:
            await turn.reply(strings.UNKNOWN_COMMAND)
        return await step.end_dialog()

    async def restart(self, inner_dc: DialogContext, reference: str) -> DialogTurnResult:
        result: DialogTurnResult = await inner_dc.begin_dialog(GET_LINK_FLOW, _flow(reference))
        return result

    # --- get link ----------------------------------------------------------------------------------------------

    async def sign_in_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        return await step.begin_dialog(SignInDialog.ID)

    async def meeting_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        if step.result is not True:
            return await step.end_dialog()
        options = step.options if isinstance(step.options, dict) else {}
        question = MeetingQuestion(reference=str(options.get("reference") or ""))
        return await step.begin_dialog(MeetingDialog.ID, question.to_state())

    async def client_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        if not step.result:
            return await step.end_dialog()
        meeting = Meeting.from_state(step.result)
        step.values["meeting"] = meeting.to_state()
        customer = meeting.customer  # a Bookings appointment's customer prefills the form; the user may change it
        form = ClientForm(
            name=(customer.name or "") if customer else "",
            email=(customer.email or "") if customer else "",
            phone=(customer.phone or "") if customer else "",
            subject=meeting.subject,
        )
        return await step.begin_dialog(ClientDialog.ID, form.to_state())

    async def link_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        request = LinkRequest(Meeting.from_state(step.values["meeting"]), ClientDetails.from_state(step.result))
        return await step.begin_dialog(LinkDialog.ID, request.to_state())

    async def done_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        return await step.end_dialog(step.result)
