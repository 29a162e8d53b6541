""" "Text the link": confirm, then `sendVirtualAppointmentSms` to the client's (US) number; and the shape every
confirmed text shares (`ConfirmedTextDialog`, also behind "Text a reminder 15 minutes before").

What is texted is what the button carries (meeting id and number), so a button on an older card texts that card's
meeting. A button that carries none (a card from before buttons carried it) is answered as an expired card: texting
"the latest link" instead would text another meeting's link (issue 15), so nothing "last" is kept. `text_the_link`
is the same text for the messaging extension, whose task-module buttons carry the same data.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from botbuilder.dialogs import ComponentDialog, Dialog, WaterfallDialog, WaterfallStepContext
from botbuilder.dialogs.dialog_turn_result import DialogTurnResult

from dialogs.cards import actions, confirm_text_card, strings
from dialogs.client_details import ClientDetails, is_us_number
from dialogs.graph_errors import GraphCall, is_consent_refusal, is_transient, sentence_for
from dialogs.link import LastLink
from dialogs.lookup import LinkFailure
from dialogs.services import DialogServices
from dialogs.signin.flow import sign_in_again
from dialogs.turn import Turn
from graph.client import GraphClient
from graph.errors import Forbidden, GraphError, Unauthorized
from graph.models import SmsAttendee

log = logging.getLogger(__name__)


def text_failure_sentence(
    exc: GraphError, *, premium: str | None = None, failed: str | None = None
) -> str:
    """403 on texting is a missing Teams Premium licence, unless the app lacks the permission itself (named). The
    sentences default to the text-the-link ones, read now in the user's language."""
    if isinstance(exc, Forbidden):
        return sentence_for(exc, GraphCall.TEXT) if is_consent_refusal(exc) else premium or strings.TEXT_NEEDS_PREMIUM
    return failed or strings.ERR_TEXT_FAILED


class ConfirmedTextDialog(ComponentDialog):
    """Confirm, then send one text about a meeting to the client's number. Subclasses say which text."""

    ID = ""
    CONFIRM = ""  # the action of the confirmation's Send button
    # Names of sentences in `strings`, read when said so they are in the user's language.
    CANCELLED = ""
    PREMIUM = ""
    FAILED = ""

    def __init__(self, services: DialogServices) -> None:
        super().__init__(self.ID)
        self.services = services
        self.add_dialog(WaterfallDialog(f"{self.ID}Steps", [self.confirm_step, self.send_step]))
        self.initial_dialog_id = f"{self.ID}Steps"

    def refusal(self, target: LastLink, now: datetime) -> str | None:
        """Why this text cannot be sent now, if it cannot."""
        return None

    def confirm_card(self, target: LastLink, phone_display: str) -> dict[str, Any]:
        raise NotImplementedError

    async def send(self, graph: GraphClient, target: LastLink, deadline: float) -> None:
        raise NotImplementedError

    def sent(self, phone_display: str) -> str:
        raise NotImplementedError

    async def confirm_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        turn = Turn.of(step.context)
        target = LastLink.from_button(turn) or LastLink.from_state(step.options)
        if target is None or not target.phone:
            await turn.reply(strings.ERR_EXPIRED_CARD)
            return await step.end_dialog(False)
        if not is_us_number(target.phone):
            await turn.reply(strings.TEXT_US_ONLY)
            return await step.end_dialog(False)
        if (refused := self.refusal(target, datetime.now(UTC))) is not None:
            await turn.reply(refused)
            return await step.end_dialog(False)
        step.values["target"] = target.to_state()
        await turn.reply(self.confirm_card(target, ClientDetails(phone=target.phone).phone_display))
        return Dialog.end_of_turn

    async def send_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        turn = Turn.of(step.context)
        asked = LastLink.from_state(step.values.get("target"))
        if turn.action == actions.CANCEL_TEXT:
            await turn.reply(getattr(strings, self.CANCELLED))
            return await step.end_dialog(False)
        if turn.action != self.CONFIRM or asked is None:
            return await step.replace_dialog(self.ID, asked.to_state() if asked else None)
        target = LastLink.from_button(turn) or asked  # the Send button carries what it confirms
        if (refused := self.refusal(target, datetime.now(UTC))) is not None:
            await turn.reply(refused)
            return await step.end_dialog(False)
        try:
            await self.send(self.services.graph(step.context), target, self.services.deadline(step.context))
        except Unauthorized:
            await sign_in_again(turn, self.services.tokens)
            return await step.end_dialog(False)
        except GraphError as exc:
            log.info("%s failed: %s %s", self.ID, type(exc).__name__, exc.status)
            if is_transient(exc):
                await turn.reply(sentence_for(exc, GraphCall.TEXT))
                return await step.replace_dialog(self.ID, target.to_state())
            premium, failed = getattr(strings, self.PREMIUM), getattr(strings, self.FAILED)
            await turn.reply(text_failure_sentence(exc, premium=premium, failed=failed))
            return await step.end_dialog(False)
        await turn.reply(self.sent(ClientDetails(phone=target.phone).phone_display))
        return await step.end_dialog(True)


class TextLinkDialog(ConfirmedTextDialog):
    """Confirm, then `sendVirtualAppointmentSms` (a confirmation text with the join link)."""

    ID = "textLink"
    CONFIRM = actions.CONFIRM_TEXT
    CANCELLED = "TEXT_CANCELLED"
    PREMIUM = "TEXT_NEEDS_PREMIUM"
    FAILED = "ERR_TEXT_FAILED"

    def confirm_card(self, target: LastLink, phone_display: str) -> dict[str, Any]:
        return confirm_text_card(phone_display=phone_display, carry=target.carry())

    async def send(self, graph: GraphClient, target: LastLink, deadline: float) -> None:
        await graph.send_sms(target.meeting_id, [SmsAttendee(target.phone, target.time_zone)], deadline=deadline)

    def sent(self, phone_display: str) -> str:
        return strings.text_sent(phone_display)


def phone_display(e164: str) -> str:
    """The number as the confirmation and the "texted" sentence show it."""
    return ClientDetails(phone=e164).phone_display


def confirm_card(target: LastLink, reason: str | None = None) -> dict[str, Any]:
    """The "Text the link" confirmation for `target`, whose Send carries it; `reason`: why it is asked again."""
    return confirm_text_card(phone_display=phone_display(target.phone), carry=target.carry(), reason=reason)


async def text_the_link(services: DialogServices, turn: Turn, target: LastLink, *, deadline: float) -> str:
    """Text the link of `target`'s meeting to its (US) number; the sentence to show. LinkFailure when it cannot be
    sent (`transient`: worth asking again; `token_refused`: sign in again)."""
    if not is_us_number(target.phone):
        raise LinkFailure(strings.TEXT_US_ONLY)
    try:
        attendees = [SmsAttendee(target.phone, target.time_zone)]
        await services.graph(turn.context).send_sms(target.meeting_id, attendees, deadline=deadline)
    except GraphError as exc:
        log.info("text failed: %s %s", type(exc).__name__, exc.status)
        sentence = sentence_for(exc, GraphCall.TEXT) if is_transient(exc) else text_failure_sentence(exc)
        raise LinkFailure(sentence, token_refused=isinstance(exc, Unauthorized), transient=is_transient(exc)) from None
    return strings.text_sent(phone_display(target.phone))
