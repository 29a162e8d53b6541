"""The root dialog: routes each new message, runs the get-link flow, and takes interruptions at any step.

get link [reference] -> sign in -> which meeting -> client details -> the result card.
"""

from __future__ import annotations

from typing import Any

from botbuilder.dialogs import DialogContext, WaterfallDialog, WaterfallStepContext
from botbuilder.dialogs.dialog_turn_result import DialogTurnResult

from dialogs.base import InterruptibleDialog, command_of, send_card, sign_out
from dialogs.cards import actions, help_card, strings
from dialogs.client import ClientDialog
from dialogs.commands import GET_LINK
from dialogs.link import LinkDialog, TextLinkDialog
from dialogs.meeting import MeetingDialog
from dialogs.services import DialogServices, submitted, submitted_action
from dialogs.signin import SignInDialog
from graph.references import MeetingReference, parse_meeting_reference

GET_LINK_FLOW = "getLinkFlow"


class MainDialog(InterruptibleDialog):
    ID = "main"

    def __init__(self, services: DialogServices) -> None:
        super().__init__(self.ID, services)
        self.add_dialog(SignInDialog(services.tokens))
        self.add_dialog(MeetingDialog(services))
        self.add_dialog(ClientDialog())
        self.add_dialog(LinkDialog(services))
        self.add_dialog(TextLinkDialog(services))
        self.add_dialog(WaterfallDialog("route", [self.route_step]))
        self.add_dialog(
            WaterfallDialog(
                GET_LINK_FLOW, [self.sign_in_step, self.meeting_step, self.client_step, self.link_step, self.done_step]
            )
        )
        self.initial_dialog_id = "route"

    # --- routing a message that arrives with no flow under way ---------------------------------------------------

    async def route_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        context = step.context
        command, rest = command_of(context)
        action = submitted_action(context)
        if command == GET_LINK:
            return await step.begin_dialog(GET_LINK_FLOW, {"reference": rest})
        if action == actions.TEXT_LINK:
            return await step.begin_dialog(TextLinkDialog.ID)
        if action == actions.CHOOSE_MEETING:  # a meeting picked on an older card still means "this one"
            return await step.begin_dialog(GET_LINK_FLOW, {"reference": submitted(context).get("meetingRef", "")})
        if command == "help":
            await send_card(context, help_card())
        elif command == "sign out":
            await sign_out(context, self.services)
        elif command == "cancel":
            await context.send_activity(strings.NOTHING_TO_CANCEL)
        elif action is not None:
            await context.send_activity(strings.ERR_EXPIRED_CARD)
        elif rest and isinstance(parse_meeting_reference(rest), MeetingReference):
            # Someone pasted a join link without saying "get link": that is what they want.
            return await step.begin_dialog(GET_LINK_FLOW, {"reference": rest})
        elif rest or context.activity.text:
            await context.send_activity(strings.UNKNOWN_COMMAND)
        return await step.end_dialog()

    async def restart(self, inner_dc: DialogContext, reference: str) -> DialogTurnResult:
        return await inner_dc.begin_dialog(GET_LINK_FLOW, {"reference": reference})

    # --- get link ----------------------------------------------------------------------------------------------

    async def sign_in_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        return await step.begin_dialog(SignInDialog.ID)

    async def meeting_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        if step.result is not True:
            return await step.end_dialog()
        options: dict[str, Any] = step.options or {}
        return await step.begin_dialog(MeetingDialog.ID, {"reference": options.get("reference") or None})

    async def client_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        if not step.result:
            return await step.end_dialog()
        step.values["meeting"] = step.result
        return await step.begin_dialog(ClientDialog.ID, {"subject": step.result.get("subject")})

    async def link_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        return await step.begin_dialog(LinkDialog.ID, {"meeting": step.values["meeting"], "client": step.result or {}})

    async def done_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        return await step.end_dialog(step.result)
