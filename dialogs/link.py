"""LinkDialog: the client join link Graph returns, on the result card; "Try again" after a transient failure.

The card offers "Text the link" and "Text a reminder 15 minutes before" only where the bot can send them: a US
mobile number was given and the user organises the meeting (a Bookings appointment run by its mailbox cannot be
texted by the bot; the card says Bookings texts the customer itself); the reminder only while the meeting is more
than 15 minutes away. Each button carries the meeting id and number it acts on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from botbuilder.dialogs import ComponentDialog, Dialog, WaterfallDialog, WaterfallStepContext
from botbuilder.dialogs.dialog_turn_result import DialogTurnResult

from dialogs.cards import actions, error_card, result_card, strings
from dialogs.cards.language import default_client_catalog
from dialogs.client_details import ClientDetails, is_us_number
from dialogs.commands import is_word
from dialogs.email_target import EmailTarget, new_card_id
from dialogs.lookup import LinkFailure, client_link, failure_reason, link_kind
from dialogs.services import DialogServices
from dialogs.signin.flow import sign_in_again
from dialogs.turn import Turn
from graph.models import Meeting, parse_datetime


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


REMINDER_LEAD = timedelta(minutes=15)  # remindBeforeTimeInMinutesType mins15
@dataclass(frozen=True, slots=True)
class LastLink:
    """What a texting button acts on: the meeting and number (and, for the reminder, the start) it carries. Its
    `to_state()` is also a texting dialog's options (asked again, or a button tapped in a shared chat)."""

    meeting_id: str
    phone: str
    time_zone: str = "UTC"
    start: datetime | None = None  # for the reminder: the meeting's start

    def to_state(self) -> dict[str, Any]:
        state = {"meetingId": self.meeting_id, "phone": self.phone, "timeZone": self.time_zone}
        return state | ({"start": self.start.isoformat()} if self.start else {})

    @classmethod
    def from_state(cls, data: Any) -> LastLink | None:
        state = data if isinstance(data, dict) else {}
        meeting_id, phone, zone = state.get("meetingId"), state.get("phone"), state.get("timeZone")
        if not (isinstance(meeting_id, str) and meeting_id and isinstance(phone, str)):
            return None
        return cls(
            meeting_id, phone, zone if isinstance(zone, str) and zone else "UTC", parse_datetime(state.get("start"))
        )

    @classmethod
    def from_button(cls, turn: Turn) -> LastLink | None:
        """The meeting, number (and start) a submitted button carries; None when it carries no meeting or number."""
        return cls.from_data(turn.values, turn.time_zone)

    @classmethod
    def from_data(cls, data: dict[str, Any], time_zone: str | None) -> LastLink | None:
        """As `from_button`, from a button's data dict (the messaging extension's `value.data`)."""
        meeting_id, phone = data.get(actions.DATA_MEETING_ID), data.get(actions.DATA_PHONE)
        if not (isinstance(meeting_id, str) and meeting_id and isinstance(phone, str) and phone):
            return None
        return cls(meeting_id, phone, time_zone or "UTC", parse_datetime(data.get(actions.DATA_START)))

    def carry(self) -> dict[str, str]:
        """What a confirmation button carries so that it acts on the same meeting and number."""
        data = {actions.DATA_MEETING_ID: self.meeting_id, actions.DATA_PHONE: self.phone}
        return data | ({actions.DATA_START: self.start.isoformat()} if self.start else {})


def can_text(meeting: Meeting, client: ClientDetails) -> bool:
    """The bot can text this meeting's link: a US mobile number, and a meeting the user organises (an id)."""
    return bool(meeting.id) and bool(client.phone) and is_us_number(client.phone)


def can_remind(meeting: Meeting, client: ClientDetails, now: datetime) -> bool:
    """As `can_text`, and the meeting starts more than 15 minutes from now."""
    return can_text(meeting, client) and meeting.start is not None and meeting.start - now > REMINDER_LEAD


def result_notes(meeting: Meeting) -> list[str]:
    """What the user should know about this link: not on the calendar; Bookings texts the customer itself."""
    notes = []
    if meeting.on_calendar is False:
        notes.append(strings.NOT_ON_CALENDAR)
    if meeting.booking_id and not meeting.id:
        notes.append(strings.BOOKINGS_TEXTS_NOTE)
    return notes


def email_target(
    url: str, meeting: Meeting, client: ClientDetails, tz_name: str | None, card_id: str
) -> EmailTarget | None:
    """What this card's "Email the link" sends, or None without an address to send to. The client's language is
    the one chosen on the form, else the user's own (the language this card is being written in)."""
    if not client.email:
        return None
    return EmailTarget(
        link=url,
        email=client.email,
        language=client.language or default_client_catalog(),
        card=card_id,
        meeting_id=meeting.id,
        client_name=client.name,
        subject=meeting.subject,
        start=meeting.start,
        end=meeting.end,
        time_zone=tz_name,
    )


def link_card(
    url: str,
    meeting: Meeting,
    client: ClientDetails,
    tz_name: str | None,
    *,
    texting: bool = False,
    now: datetime | None = None,
    insert: bool = False,
    title: str | None = None,
    card_id: str | None = None,
) -> dict[str, Any]:
    """The result card for `url` (exactly as Graph returned it), in chat, in the messaging extension and in a
    reminder alike, times in `tz_name`. `texting` offers the texting buttons where they can work (`can_text`,
    `can_remind`); `insert` makes the messaging extension's version, with "Insert into message" (and no reminder:
    the extension texts the link only, as DESIGN.md section 4 says); `title` replaces the heading. With `texting`
    and a client address, "Email the link" too, keyed by `card_id` (a new one by default)."""
    moment = now or datetime.now(UTC)
    target = email_target(url, meeting, client, tz_name, card_id or new_card_id()) if texting else None
    return result_card(
        join_url=url,
        subject=meeting.subject,
        start=meeting.start,
        end=meeting.end,
        tz_name=tz_name,
        client=None if client.is_empty else client,
        can_text=texting and can_text(meeting, client),
        can_remind=texting and not insert and can_remind(meeting, client, moment),
        meeting_id=meeting.id or None,
        phone=client.phone or None,
        notes=result_notes(meeting),
        now=now,
        insert=insert,
        title=title,
        email=target.carry() if target is not None else None,
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
            url = await client_link(self.services, turn, meeting, deadline=self.services.deadline(turn.context))
        except LinkFailure as failure:
            self.services.events.link_failed("chat", failure_reason(failure))
            if failure.token_refused:
                await sign_in_again(turn, self.services.tokens)
                return await step.end_dialog(False)
            if not failure.transient:
                await turn.reply(failure.sentence)
                return await step.end_dialog(False)
            await turn.reply(error_card(failure.sentence, retry_action=actions.RETRY))
            return Dialog.end_of_turn
        await turn.reply(link_card(url, meeting, client, turn.time_zone, texting=True, now=datetime.now(UTC)))
        self.services.events.link_issued("chat", link_kind(meeting))
        return await step.end_dialog(True)

    async def retry_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        turn = Turn.of(step.context)
        if turn.action == actions.RETRY or is_word(turn.text, "CMD_RETRY"):
            return await step.replace_dialog(self.ID, step.options)
        await turn.reply(error_card(strings.TRY_AGAIN_HINT, retry_action=actions.RETRY))
        return Dialog.end_of_turn
