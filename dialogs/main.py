"""MainDialog, the root: routes each new message, runs the get-link flow, and takes commands at any step.

get link [reference] -> sign in -> which meeting -> client details -> the result card.

Shared chats are never shown private data (DESIGN.md section 3). In a group, channel or meeting chat no flow runs:
the root dialog ends with a request to continue privately (`dialogs.handoff`) and bot/ begins the root dialog with it
in the user's one-to-one chat. In a meeting chat the request carries that meeting (Teams' meeting info, which only
the meeting chat's turn can ask for), so it stays the default there.
"""

from __future__ import annotations

from botbuilder.dialogs import DialogContext, DialogTurnStatus, WaterfallDialog, WaterfallStepContext
from botbuilder.dialogs.dialog_turn_result import DialogTurnResult

from dialogs.base import Answer, Command, InterruptibleDialog
from dialogs.cards import actions, help_card, strings
from dialogs.client_details import ClientDetails
from dialogs.client_form import ClientDialog, ClientForm
from dialogs.commands import CANCEL, GET_LINK, HELP, REMIND_ME, SIGN_OUT, STOP_REMINDERS, reminder_lead
from dialogs.email_link import EMAIL_ACTIONS, email_in_chat
from dialogs.handoff import (
    EmailContact,
    GetLink,
    PrivateRequest,
    RemindersOff,
    RemindersOn,
    TextContact,
    decode,
    encode,
)
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
THIS_MEETING_BUDGET_S = 3.0
TEXT_DIALOGS = {actions.TEXT_LINK: TextLinkDialog.ID, actions.TEXT_REMINDER: TextReminderDialog.ID}


class MainDialog(InterruptibleDialog):
    ID = "main"

    def __init__(self, services: DialogServices) -> None:
        super().__init__(self.ID, services)
        self.add_dialog(SignInDialog(services.tokens, services.events))
        self.add_dialog(MeetingDialog(services))
        self.add_dialog(ClientDialog())
        self.add_dialog(LinkDialog(services))
        self.add_dialog(TextLinkDialog(services))
        if services.reminders is not None:
            self.add_dialog(ReminderDialog(services.tokens, services.reminders, services.events))
        self.add_dialog(TextReminderDialog(services))
        self.add_dialog(WaterfallDialog("route", [self.route_step]))
        self.add_dialog(
            WaterfallDialog(
                GET_LINK_FLOW, [self.sign_in_step, self.meeting_step, self.client_step, self.link_step, self.done_step]
            )
        )
        self.initial_dialog_id = "route"
        self.commands = {
            GET_LINK: Command(self.get_link_command),
            HELP: Command(self.help, keeps_flow=True),
            CANCEL: Command(self.cancel),
            SIGN_OUT: Command(self.sign_out),
            REMIND_ME: Command(self.remind_me),
            STOP_REMINDERS: Command(self.stop_reminders),
        }

    # --- routing a message that arrives with no flow under way ---------------------------------------------------

    async def route_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        turn = Turn.of(step.context)
        private = decode(step.options)
        if private is not None:  # the turn in the one-to-one chat that a shared chat started
            return await self.begin_private(step, private)
        command, action = turn.command, turn.action
        if command in self.commands:
            return await self.finish(step, await self.commands[command].run(step, turn, False))
        if action in TEXT_DIALOGS:  # the button carries its meeting and number
            if not turn.is_personal:  # a card from before flows went private: confirm it in the one-to-one chat
                return await self.finish(step, TextContact(TEXT_DIALOGS[action], LastLink.from_button(turn)))
            return await step.begin_dialog(TEXT_DIALOGS[action])
        if action in EMAIL_ACTIONS:  # stateless: the button carries everything the email says
            if not turn.is_personal:  # confirmed in the one-to-one chat first
                data = {k: v for k, v in turn.values.items() if isinstance(v, str)}
                return await self.finish(step, EmailContact(data))
            await email_in_chat(self.services, turn, turn.values)
            return await step.end_dialog()
        if action == actions.CHOOSE_MEETING:  # a meeting picked on an older card still means "this one"
            return await self.finish(step, await self.get_link(step, turn, turn.value(actions.INPUT_MEETING_REF)))
        if action is not None:
            await turn.say_here(strings.ERR_EXPIRED_CARD)
        elif turn.rest and isinstance(parse_meeting_reference(turn.rest), MeetingReference):
            # Someone pasted a join link without saying "get link": that is what they want.
            return await self.finish(step, await self.get_link(step, turn, turn.rest))
        elif turn.rest or turn.text:
            await turn.say_here(strings.UNKNOWN_COMMAND)
        return await step.end_dialog()

    @staticmethod
    async def finish(step: WaterfallStepContext, answer: Answer) -> DialogTurnResult:
        """The route step's end: a dialog begun goes on; a request for the one-to-one chat is the root's result."""
        if isinstance(answer, DialogTurnResult):
            return answer
        return await step.end_dialog(None if answer is None else encode(answer))

    async def begin_private(self, step: WaterfallStepContext, request: PrivateRequest) -> DialogTurnResult:
        """What a shared chat asked for, begun here in the one-to-one chat."""
        turn = Turn.of(step.context)
        match request:
            case TextContact(dialog=dialog, target=target) if dialog in TEXT_DIALOGS.values():
                # a texting button tapped on a card in a shared chat: asked here (confirmed before anything is sent)
                return await step.begin_dialog(dialog, target.to_state() if target else {})
            case EmailContact(data=data):  # an email button tapped on a card in a shared chat: asked here first
                await email_in_chat(self.services, turn, {**data, "action": actions.EMAIL_LINK})
                return await step.end_dialog()
            case RemindersOn(request=reminders):
                return await self.finish(step, await self.remind(step, turn, reminders))
            case RemindersOff():
                await stop_reminders(turn, self.services.reminders)
                return await step.end_dialog()
            case GetLink():
                return await step.begin_dialog(GET_LINK_FLOW, request.to_state())
        return await step.begin_dialog(GET_LINK_FLOW, GetLink().to_state())

    async def interrupt(self, inner_dc: DialogContext) -> DialogTurnResult | None:
        """An email button on a result card, tapped while another request waits: it carries all it needs, so it is
        answered here and the question before it still stands."""
        turn = Turn.of(inner_dc.context)
        if turn.action in EMAIL_ACTIONS and turn.is_personal:
            await email_in_chat(self.services, turn, turn.values)
            return DialogTurnResult(DialogTurnStatus.Waiting)
        return await super().interrupt(inner_dc)

    # --- the commands (one table: `self.commands`) -----------------------------------------------------------------

    async def help(self, dc: DialogContext, turn: Turn, under_way: bool) -> Answer:
        await turn.say_here(help_card())
        return None

    async def cancel(self, dc: DialogContext, turn: Turn, under_way: bool) -> Answer:
        """A shared chat's request runs in the one-to-one chat: that is where to cancel it."""
        if under_way:
            await turn.say_here(strings.CANCELLED)
        else:
            await turn.say_here(strings.NOTHING_TO_CANCEL if turn.is_personal else strings.NOTHING_TO_CANCEL_SHARED)
        return None

    async def sign_out(self, dc: DialogContext, turn: Turn, under_way: bool) -> Answer:
        await sign_out(turn, self.services.tokens)
        await reminders_off_quietly(turn.context, self.services.reminders)
        return None

    async def stop_reminders(self, dc: DialogContext, turn: Turn, under_way: bool) -> Answer:
        """In the one-to-one chat only: whether reminders were on is private."""
        if not turn.is_personal:
            return RemindersOff()
        await stop_reminders(turn, self.services.reminders)
        return None

    async def get_link_command(self, dc: DialogContext, turn: Turn, under_way: bool) -> Answer:
        return await self.get_link(dc, turn, turn.rest)

    async def get_link(self, dc: DialogContext, turn: Turn, reference: str) -> Answer:
        """The flow, here in a personal chat; in a shared one, the request to run it in the one-to-one chat."""
        if turn.is_personal:
            result: DialogTurnResult = await dc.begin_dialog(GET_LINK_FLOW, GetLink(reference).to_state())
            return result
        return await self.private_get_link(turn, reference)

    async def private_get_link(self, turn: Turn, reference: str) -> GetLink:
        """The request for the one-to-one chat: the reference typed, or this meeting chat's meeting (also when
        typed as "this meeting": those words mean nothing in the one-to-one chat, which is in no meeting)."""
        if turn.in_meeting_chat and is_this_meeting(reference):
            reference = ""
        if reference or not turn.in_meeting_chat:
            return GetLink(reference)
        try:
            this = await within(self.services.this_meeting(turn.context), deadline_in(THIS_MEETING_BUDGET_S))
        except TimeoutError:
            this = None
        if this is None:  # no meeting info (no RSC consent, say): the private flow asks, saying why
            return GetLink(reason=strings.ERR_MEETING_INFO)
        return GetLink(meeting=this)

    async def remind_me(self, dc: DialogContext, turn: Turn, under_way: bool) -> Answer:
        """`remind me [n minutes before]`: sign in, then reminders on, confirmed in the 1:1 chat (a shared chat
        hands the request to it, like `get link`)."""
        lead = reminder_lead(turn.rest)
        if lead is None:
            await turn.say_here(strings.REMINDERS_BAD_LEAD)
            return None
        request = ReminderRequest(lead, turn.time_zone, turn.locale)
        if not turn.is_personal and self.services.reminders is not None:
            return RemindersOn(request)
        return await self.remind(dc, turn, request)

    async def remind(self, dc: DialogContext, turn: Turn, request: ReminderRequest) -> Answer:
        if self.services.reminders is None:
            await turn.say_here(strings.ERR_REMINDERS_UNAVAILABLE)
            return None
        result: DialogTurnResult = await dc.begin_dialog(ReminderDialog.ID, request.to_state())
        return result

    # --- get link ----------------------------------------------------------------------------------------------

    async def sign_in_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        return await step.begin_dialog(SignInDialog.ID)

    async def meeting_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        if step.result is not True:
            return await step.end_dialog()
        await resume_reminders(step.context, self.services.reminders)  # signed in: paused reminders go on
        request = GetLink.from_state(step.options)
        if request.meeting is not None:  # a meeting chat's own meeting, carried into the private chat
            return await step.next(request.meeting)
        question = MeetingQuestion(reference=request.reference, reason=request.reason)
        return await step.begin_dialog(MeetingDialog.ID, question.to_state())

    async def client_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        meeting = step.result  # a Meeting: results go from dialog to dialog in the turn, never into stored state
        if not isinstance(meeting, Meeting):
            return await step.end_dialog()
        step.values["meeting"] = meeting.to_state()  # kept while the form waits for the user
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
