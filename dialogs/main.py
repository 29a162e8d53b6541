"""MainDialog, the root: routes each new message, runs the get-link flow, and takes interruptions at any step.

get link [reference] -> sign in -> which meeting -> client details -> the result card.

Shared chats are never shown private data (DESIGN.md section 3). In a group, channel or meeting chat no flow runs:
the root dialog ends with `{PRIVATELY: options}` and bot/ starts it in the user's one-to-one chat, where the root
dialog begins again with those options. In a meeting chat the options carry that meeting (Teams' meeting info, which
only the meeting chat's turn can ask for), so it stays the default there.
"""

from __future__ import annotations

from typing import Any

from botbuilder.dialogs import DialogContext, WaterfallDialog, WaterfallStepContext
from botbuilder.dialogs.dialog_turn_result import DialogTurnResult

from dialogs.base import InterruptibleDialog
from dialogs.cards import actions, help_card, strings
from dialogs.client_details import ClientDetails
from dialogs.client_form import ClientDialog, ClientForm
from dialogs.commands import GET_LINK, REMIND_ME, STOP_REMINDERS, reminder_lead
from dialogs.link import LastLink, LinkDialog, LinkRequest
from dialogs.lookup import is_this_meeting
from dialogs.meeting import MeetingDialog, MeetingQuestion
from dialogs.reminders import ReminderDialog, ReminderRequest, reminders_off_quietly, resume_reminders, stop_reminders
from dialogs.services import DialogServices
from dialogs.signin.flow import SignInDialog, sign_out
from dialogs.text_link import TextLinkDialog
from dialogs.text_reminder import TextReminderDialog
from dialogs.turn import Turn
from graph.client import deadline_in, within
from graph.models import Meeting
from graph.references import MeetingReference, parse_meeting_reference

GET_LINK_FLOW = "getLinkFlow"
PRIVATELY = "privately"  # the root dialog's result when its flow must run in the user's one-to-one chat
REMINDERS_OPTION, STOP_REMINDERS_OPTION = "reminders", "stopReminders"  # what a shared chat hands the 1:1 chat
THIS_MEETING_BUDGET_S = 3.0
TEXT_DIALOGS = {actions.TEXT_LINK: TextLinkDialog.ID, actions.TEXT_REMINDER: TextReminderDialog.ID}


def _flow(reference: str) -> dict[str, Any]:
    """The get-link flow's options (plain data): the reference given with `get link`, if any."""
    return {"reference": reference}


def private_sentences(options: dict[str, Any]) -> tuple[str, str]:
    """What the shared chat's request (options as `route_step` hands them over) is called in the two sentences
    about it: the first one in the one-to-one chat, and the one in the shared chat when that chat cannot be
    opened (which command to type there), so a `remind me` is not answered as if it were `get link`."""
    if isinstance(options.get(REMINDERS_OPTION), dict):
        return strings.PRIVATE_REMINDERS_ON_INTRO, strings.PRIVATE_REMINDERS_UNAVAILABLE
    if options.get(STOP_REMINDERS_OPTION) is True:
        return strings.PRIVATE_REMINDERS_OFF_INTRO, strings.PRIVATE_STOP_REMINDERS_UNAVAILABLE
    if isinstance(options.get("text"), dict):
        return strings.PRIVATE_TEXT_INTRO, strings.PRIVATE_FLOW_UNAVAILABLE
    return strings.PRIVATE_FLOW_INTRO, strings.PRIVATE_FLOW_UNAVAILABLE


class MainDialog(InterruptibleDialog):
    ID = "main"

    def __init__(self, services: DialogServices) -> None:
        super().__init__(self.ID, services)
        self.add_dialog(SignInDialog(services.tokens))
        self.add_dialog(MeetingDialog(services))
        self.add_dialog(ClientDialog())
        self.add_dialog(LinkDialog(services))
        self.add_dialog(TextLinkDialog(services))
        if services.reminders is not None:
            self.add_dialog(ReminderDialog(services.tokens, services.reminders))
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
        private = step.options.get(PRIVATELY) if isinstance(step.options, dict) else None
        if isinstance(private, dict):  # the turn in the one-to-one chat that a shared chat started
            return await self.begin_private(step, private)
        command, action = turn.command, turn.action
        if command == GET_LINK:
            return await self.get_link(step, turn.rest)
        if action in TEXT_DIALOGS:  # the button carries its meeting and number
            if not turn.is_personal:  # a card from before flows went private: confirm it in the one-to-one chat
                target = LastLink.from_button(turn)
                text = {"dialog": TEXT_DIALOGS[action], "target": target.to_state() if target else {}}
                return await step.end_dialog({PRIVATELY: {"text": text}})
            return await step.begin_dialog(TEXT_DIALOGS[action])
        if action == actions.CHOOSE_MEETING:  # a meeting picked on an older card still means "this one"
            return await self.get_link(step, turn.value(actions.INPUT_MEETING_REF))
        if command == REMIND_ME:
            return await self.remind_me(step, turn)
        if command == STOP_REMINDERS and not turn.is_personal:  # said in the 1:1 chat: whether they were on is private
            return await step.end_dialog({PRIVATELY: {STOP_REMINDERS_OPTION: True}})
        if command == "help":
            await turn.say_here(help_card())
        elif command == STOP_REMINDERS:
            await stop_reminders(turn, self.services.reminders)
        elif command == "sign out":
            await sign_out(turn, self.services.tokens)
            await reminders_off_quietly(turn.context, self.services.reminders)
        elif command == "cancel":  # a shared chat's request runs in the 1:1 chat: that is where to cancel it
            await turn.say_here(strings.NOTHING_TO_CANCEL if turn.is_personal else strings.NOTHING_TO_CANCEL_SHARED)
        elif action is not None:
            await turn.say_here(strings.ERR_EXPIRED_CARD)
        elif turn.rest and isinstance(parse_meeting_reference(turn.rest), MeetingReference):
            # Someone pasted a join link without saying "get link": that is what they want.
            return await self.get_link(step, turn.rest)
        elif turn.rest or turn.text:
            await turn.say_here(strings.UNKNOWN_COMMAND)
        return await step.end_dialog()

    async def get_link(self, step: WaterfallStepContext, reference: str) -> DialogTurnResult:
        """The flow, here in a personal chat; in a shared one, the options to run it with in the one-to-one chat."""
        turn = Turn.of(step.context)
        if turn.is_personal:
            return await step.begin_dialog(GET_LINK_FLOW, _flow(reference))
        return await step.end_dialog({PRIVATELY: await self.private_options(turn, reference)})

    async def private_options(self, turn: Turn, reference: str) -> dict[str, Any]:
        """The flow's options for the one-to-one chat: the reference typed, or this meeting chat's meeting (also when
        typed as "this meeting": those words mean nothing in the one-to-one chat, which is in no meeting)."""
        if turn.in_meeting_chat and is_this_meeting(reference):
            reference = ""
        options = _flow(reference)
        if not reference and turn.in_meeting_chat:
            try:
                this = await within(self.services.this_meeting(turn.context), deadline_in(THIS_MEETING_BUDGET_S))
            except TimeoutError:
                this = None
            if this is not None:
                options["meeting"] = this.to_state()
            else:  # no meeting info (no RSC consent, say): the private flow asks, saying why
                options["reason"] = strings.ERR_MEETING_INFO
        return options

    async def begin_private(self, step: WaterfallStepContext, options: dict[str, Any]) -> DialogTurnResult:
        text = options.get("text")
        if isinstance(text, dict) and text.get("dialog") in TEXT_DIALOGS.values():
            # a texting button tapped on a card in a shared chat: asked here (confirmed before anything is sent)
            return await step.begin_dialog(str(text["dialog"]), text.get("target"))
        reminders = options.get(REMINDERS_OPTION)
        if isinstance(reminders, dict) and self.services.reminders is not None:  # `remind me` in a shared chat
            return await step.begin_dialog(ReminderDialog.ID, ReminderRequest.from_state(reminders).to_state())
        if options.get(STOP_REMINDERS_OPTION) is True:  # `stop reminders` in a shared chat
            await stop_reminders(Turn.of(step.context), self.services.reminders)
            return await step.end_dialog()
        return await step.begin_dialog(GET_LINK_FLOW, options)

    async def remind_me(self, step: WaterfallStepContext, turn: Turn) -> DialogTurnResult:
        """`remind me [n minutes before]`: sign in, then reminders on, confirmed in the 1:1 chat (a shared chat
        hands the request to it, like `get link`)."""
        lead = reminder_lead(turn.rest)
        if lead is None:
            await turn.say_here(strings.REMINDERS_BAD_LEAD)
            return await step.end_dialog()
        if self.services.reminders is None:
            await turn.say_here(strings.ERR_REMINDERS_UNAVAILABLE)
            return await step.end_dialog()
        request = ReminderRequest(lead, turn.time_zone, turn.locale).to_state()
        if not turn.is_personal:
            return await step.end_dialog({PRIVATELY: {REMINDERS_OPTION: request}})
        return await step.begin_dialog(ReminderDialog.ID, request)

    async def restart(self, inner_dc: DialogContext, reference: str) -> DialogTurnResult:
        """Only in a personal chat: no flow lives in a shared one (bot/ ends any there before a turn)."""
        result: DialogTurnResult = await inner_dc.begin_dialog(GET_LINK_FLOW, _flow(reference))
        return result

    # --- get link ----------------------------------------------------------------------------------------------

    async def sign_in_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        return await step.begin_dialog(SignInDialog.ID)

    async def meeting_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        if step.result is not True:
            return await step.end_dialog()
        await resume_reminders(step.context, self.services.reminders)  # signed in: paused reminders go on
        options = step.options if isinstance(step.options, dict) else {}
        if isinstance(options.get("meeting"), dict):  # a meeting chat's own meeting, carried into the private chat
            return await step.next(Meeting.from_state(options["meeting"]).to_state())
        reason = options.get("reason")
        question = MeetingQuestion(
            reference=str(options.get("reference") or ""), reason=reason if isinstance(reason, str) else None
        )
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
