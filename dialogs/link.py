"""LinkDialog: the client join link Graph returns, on the result card; "Try again" after a transient failure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botbuilder.dialogs import ComponentDialog, Dialog, WaterfallDialog, WaterfallStepContext
from botbuilder.dialogs.dialog_turn_result import DialogTurnResult

from dialogs.cards import actions, error_card, result_card, strings
from dialogs.client_details import ClientDetails, is_us_number
from dialogs.lookup import LinkFailure, join_link
from dialogs.services import DialogServices
from dialogs.signin.flow import sign_in_again
from dialogs.turn import Turn
from graph.models import Meeting

RETRY_WORDS = frozenset({"try again", "retry", "again"})


@dataclass(frozen=True, slots=True)
class LinkRequest:
    """The dialog's options: the meeting and the client details the link is for."""

    meeting: Meeting
    client: ClientDetails

    def to_state(self) -> dict[str, Any]:
        return {"meeting": self.meeting.to_state(), "client": self.client.to_state()}

    @classmethod
    def from_state(cls, data: Any) -> LinkRequest:
        state = data if isinstance(data, dict) else {}
        return cls(Meeting.from_state(state.get("meeting")), ClientDetails.from_state(state.get("client")))


@dataclass(frozen=True, slots=True)
class LastLink:
    """The last result in this conversation (private conversation state), for "Text the link"."""

    meeting_id: str
    phone: str
    time_zone: str = "UTC"

    def to_state(self) -> dict[str, Any]:
        return {"meetingId": self.meeting_id, "phone": self.phone, "timeZone": self.time_zone}

    @classmethod
    def from_state(cls, data: Any) -> LastLink | None:
        state = data if isinstance(data, dict) else {}
        meeting_id, phone, zone = state.get("meetingId"), state.get("phone"), state.get("timeZone")
        if not (isinstance(meeting_id, str) and meeting_id and isinstance(phone, str)):
            return None
        return cls(meeting_id, phone, zone if isinstance(zone, str) and zone else "UTC")


def link_card(
    url: str,
    meeting: Meeting,
    client: ClientDetails,
    turn: Turn,
    *,
    can_text: bool = False,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The result card for `url` (exactly as Graph returned it), in chat and in the messaging extension alike."""
    return result_card(
        join_url=url,
        subject=meeting.subject,
        start=meeting.start,
        end=meeting.end,
        tz_name=turn.time_zone,
        client=None if client.is_empty else client,
        can_text=can_text,
        now=now,
    )


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
        turn = Turn.of(step.context)
        request = LinkRequest.from_state(step.options)
        meeting, client = request.meeting, request.client
        try:
            url = await join_link(self.services, turn, meeting.id, deadline=self.services.deadline())
        except LinkFailure as failure:
            if failure.token_refused:
                await sign_in_again(turn, self.services.tokens)
                return await step.end_dialog(False)
            if not failure.transient:
                await turn.reply(failure.sentence)
                return await step.end_dialog(False)
            await turn.reply(error_card(failure.sentence, retry_action=actions.RETRY))
            return Dialog.end_of_turn
        can_text = bool(client.phone) and is_us_number(client.phone)
        card = link_card(url, meeting, client, turn, can_text=can_text, now=datetime.now(UTC))
        await turn.reply(card)
        last = LastLink(meeting.id, client.phone, turn.time_zone or "UTC")
        await self.services.last_link.set(step.context, last.to_state())
        return await step.end_dialog(True)

    async def retry_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        turn = Turn.of(step.context)
        if turn.action == actions.RETRY or turn.text.lower() in RETRY_WORDS:
            return await step.replace_dialog(self.ID, step.options)
        await turn.reply(error_card(strings.TRY_AGAIN_HINT, retry_action=actions.RETRY))
        return Dialog.end_of_turn
