"""The `getAppointmentLink` messaging-extension action as product logic (DESIGN.md section 4): what fetchTask and
submitAction answer, decided here; how the answer travels (invoke shapes, Teams' retries, the 5-second guard) is
`bot/messaging_extension.py`.

fetchTask answers the form (prefilled with "this meeting" in a meeting chat, or with a join link found in the
selected message) or, without a Graph token, a sign-in request; submitAction validates the form and answers the
result card privately, in the task module, or the form again with the reasons next to the fields and everything
typed kept. It uses the same sign-in, meeting lookup and join link as the chat.

The result card's buttons come back as submitActions: "Insert into message" answers the compose card (the link, the
meeting's subject and time, the client's name; never their email or phone) for the user to send; "Text the link"
answers the confirmation of the number that card carries, and "Send" texts that card's meeting link to it; "Email
the link" answers the confirmation of the address, and "Send" emails it (once per card and address).
"""

from __future__ import annotations

import html
import re
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Any

from dialogs.button_data import MAX_SUBJECT_LENGTH, data_link, data_moment, data_text
from dialogs.cards import actions, compose_card, notice_card, strings
from dialogs.cards.forms import NAME_MAX_LENGTH
from dialogs.client_details import is_us_number, region_from_locale, validate_client_details
from dialogs.email_link import confirm_card as confirm_email
from dialogs.email_link import email_the_link
from dialogs.email_target import EmailTarget
from dialogs.link import LastLink, link_card
from dialogs.lookup import LinkFailure, client_link, failure_reason, find_meeting, link_kind, parse
from dialogs.services import DialogServices
from dialogs.signin.flow import SignInNeeded, SignInUnavailable, invoke_sign_in, sign_out_quietly
from dialogs.text_link import confirm_card, text_the_link
from dialogs.turn import Turn
from graph.client import within
from graph.references import MeetingReference, ReferenceKind, parse_meeting_reference

FORM_INPUTS = (
    actions.INPUT_MEETING_REF,
    actions.INPUT_CLIENT_NAME,
    actions.INPUT_CLIENT_EMAIL,
    actions.INPUT_CLIENT_PHONE,
    actions.INPUT_CLIENT_LANGUAGE,
)
SIGN_OUT_GRACE_S = 0.25  # a refused token is forgotten within this much past the invoke's deadline
_TEAMS_LINK = re.compile(r"https://teams\.microsoft\.com/[^\s\"'<>]+", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Form:
    """Show the form (again): the meeting box, the client fields as typed, reasons by field name."""

    meeting_ref: str = ""
    fields: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    in_meeting: bool = False
    meeting_subject: str | None = None


@dataclass(frozen=True, slots=True)
class Result:
    """A card shown privately in the task module: the result with the link, the texting confirmation, a notice."""

    card: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Compose:
    """The card "Insert into message" puts into the compose box, for the user to send on."""

    card: dict[str, Any]


Answer = Form | Result | Compose | SignInNeeded


def submitted_data(turn: Turn) -> dict[str, Any]:
    """A submitAction's `value.data`: the form's inputs, or the data of a result-card button."""
    data = turn.values.get("data")
    return data if isinstance(data, dict) else {}


def submitted_fields(turn: Turn) -> dict[str, str]:
    """The form's inputs from a submitAction (`value.data`), as strings."""
    data = submitted_data(turn)
    return {name: data[name] for name in FORM_INPUTS if isinstance(data.get(name), str)}


def compose_from(data: dict[str, Any], time_zone: str | None) -> dict[str, Any] | None:
    """The compose card from an "Insert into message" button's data; None when it carries no usable link.

    The data came back through the Teams client, so it is checked like any input (a forged submit may carry any
    link, which the card would brand as ours): a join link on a host Graph gives client links on
    (`dialogs.button_data.data_link`), short plain strings, times with an offset. Only the fields the compose card
    shows are read: there is nothing through which an email address or phone number could reach it."""
    link = data_link(data.get(actions.DATA_LINK))
    if link is None:
        return None
    return compose_card(
        join_url=link,
        subject=data_text(data.get(actions.DATA_SUBJECT), MAX_SUBJECT_LENGTH) or None,
        start=data_moment(data.get(actions.DATA_START)),
        end=data_moment(data.get(actions.DATA_END)),
        tz_name=time_zone,
        client_name=data_text(data.get(actions.DATA_CLIENT_NAME), NAME_MAX_LENGTH),
    )


def join_link_in_message(turn: Turn) -> str | None:
    """The first Teams join link in the selected message (`messagePayload.body.content`, usually HTML)."""
    payload = turn.values.get("messagePayload")
    body = payload.get("body") if isinstance(payload, dict) else None
    content = body.get("content") if isinstance(body, dict) else None
    if not isinstance(content, str):
        return None
    for match in _TEAMS_LINK.finditer(html.unescape(content)):
        parsed = parse_meeting_reference(match.group(0))
        if isinstance(parsed, MeetingReference) and parsed.kind in (ReferenceKind.JOIN_URL, ReferenceKind.SHORT_URL):
            return parsed.value
    return None


def new_meeting_key(turn: Turn) -> str:
    """The key of `new` (the calendar event's transactionId, or createOrGet's externalId): the same for Teams' retries
    of one submit."""
    seed = f"{turn.user_id}|{turn.context.activity.id or uuid.uuid4()}"
    return str(uuid.uuid5(uuid.NAMESPACE_URL, seed))


def form_again(turn: Turn, sentence: str) -> Form:
    """The submitted form again with one sentence by the meeting box (a failure or an overrun)."""
    fields = submitted_fields(turn)
    return Form(fields.get(actions.INPUT_MEETING_REF, ""), fields, {actions.FIELD_MEETING: sentence})


class AppointmentLinkAction:
    """fetchTask and submitAction of `getAppointmentLink`, each within the invoke's absolute deadline."""

    def __init__(self, services: DialogServices) -> None:
        self.services = services

    async def _sign_in(self, turn: Turn, deadline: float) -> SignInNeeded | None:
        return await invoke_sign_in(turn, self.services.tokens, deadline, self.services.events)

    async def fetch(self, turn: Turn, deadline: float) -> Answer:
        try:
            if (sign_in := await self._sign_in(turn, deadline)) is not None:
                return sign_in
        except SignInUnavailable:
            return Form(errors={actions.FIELD_MEETING: strings.ERR_TRY_LATER})
        from_message = join_link_in_message(turn) if turn.values.get("commandContext") == "message" else None
        if from_message:
            return Form(meeting_ref=from_message)
        if not turn.in_meeting_chat:
            return Form()
        try:
            this = await within(self.services.this_meeting(turn.context), deadline)
        except TimeoutError:
            this = None
        if this is None:  # no meeting info (no RSC consent, say): let the user paste the link
            return Form()
        return Form(in_meeting=True, meeting_subject=this.subject)

    async def submit(self, turn: Turn, deadline: float) -> Answer:
        """The form, or one of the result card's buttons (by the `action` its data carries)."""
        action = submitted_data(turn).get("action")
        if action == actions.INSERT_LINK:
            card = compose_from(submitted_data(turn), turn.time_zone)
            return Compose(card) if card is not None else Result(notice_card(strings.ERR_EXPIRED_CARD))
        if action == actions.CANCEL_TEXT:
            return Result(notice_card(strings.TEXT_CANCELLED))
        if action in (actions.TEXT_LINK, actions.CONFIRM_TEXT):
            return await self.text(turn, deadline)
        if action == actions.CANCEL_EMAIL:
            return Result(notice_card(strings.EMAIL_CANCELLED))
        if action in (actions.EMAIL_LINK, actions.CONFIRM_EMAIL):
            return await self.email(turn, deadline)
        return await self.link(turn, deadline)

    async def email(self, turn: Turn, deadline: float) -> Answer:
        """"Email the link": the confirmation of the address the card carries; "Send": email it, once per card."""
        data = submitted_data(turn)
        target = EmailTarget.from_data(data)
        if target is None:
            return Result(notice_card(strings.ERR_EXPIRED_CARD))
        if data.get("action") == actions.EMAIL_LINK:
            return Result(confirm_email(target))
        return await self._send_confirmed(
            turn, deadline, lambda: self._email(turn, target, deadline), partial(confirm_email, target)
        )

    async def _email(self, turn: Turn, target: EmailTarget, deadline: float) -> str:
        return (await email_the_link(self.services, turn, target, deadline=deadline)).sentence

    async def text(self, turn: Turn, deadline: float) -> Answer:
        """"Text the link": the confirmation of the number the card carries; "Send": text it, for that meeting."""
        data = submitted_data(turn)
        target = LastLink.from_data(data, turn.time_zone)
        if target is None:
            return Result(notice_card(strings.ERR_EXPIRED_CARD))
        if not is_us_number(target.phone):
            return Result(notice_card(strings.TEXT_US_ONLY))
        if data.get("action") == actions.TEXT_LINK:
            return Result(confirm_card(target))
        return await self._send_confirmed(
            turn, deadline, lambda: text_the_link(self.services, turn, target, deadline=deadline),
            partial(confirm_card, target),
        )

    async def _send_confirmed(
        self, turn: Turn, deadline: float, send: Callable[[], Awaitable[str]],
        confirm: Callable[[str | None], dict[str, Any]],
    ) -> Answer:
        """Send what a confirmation card carries (a text, an email) and say how it went; on a failure that may well
        pass in a moment, the same confirmation again with the reason, so Send can be tapped once more."""
        try:
            if (sign_in := await self._sign_in(turn, deadline)) is not None:
                return sign_in
            sentence = await send()
        except SignInUnavailable:
            return Result(confirm(strings.ERR_TRY_LATER))
        except LinkFailure as failure:
            if failure.token_refused:
                await sign_out_quietly(turn, self.services.tokens, deadline=deadline + SIGN_OUT_GRACE_S)
            if failure.transient:
                return Result(confirm(failure.sentence))
            return Result(notice_card(failure.sentence))
        return Result(notice_card(sentence))

    async def link(self, turn: Turn, deadline: float) -> Answer:
        """The submitted form: the result card privately in the task module, or the form again with reasons."""
        fields = submitted_fields(turn)
        reference = fields.get(actions.INPUT_MEETING_REF, "").strip()
        details, errors = validate_client_details(
            fields.get(actions.INPUT_CLIENT_NAME),
            fields.get(actions.INPUT_CLIENT_EMAIL),
            fields.get(actions.INPUT_CLIENT_PHONE),
            default_region=region_from_locale(turn.locale),
            language=fields.get(actions.INPUT_CLIENT_LANGUAGE),
        )
        given = parse(reference, turn)  # parsed once, here; the lookup takes the result
        if isinstance(given, LinkFailure):
            errors[actions.FIELD_MEETING] = given.sentence
        if errors or isinstance(given, LinkFailure):
            return Form(reference, fields, errors)
        try:
            if (sign_in := await self._sign_in(turn, deadline)) is not None:
                return sign_in
            meeting = await find_meeting(
                self.services, turn, given, deadline=deadline, new_meeting_key=new_meeting_key(turn)
            )
            url = await client_link(self.services, turn, meeting, deadline=deadline)
        except SignInUnavailable:
            return Form(reference, fields, {actions.FIELD_MEETING: strings.ERR_TRY_LATER})
        except LinkFailure as failure:
            self.services.events.link_failed("messaging_extension", failure_reason(failure))
            if failure.token_refused:
                await sign_out_quietly(turn, self.services.tokens, deadline=deadline + SIGN_OUT_GRACE_S)
            return Form(reference, fields, {actions.FIELD_MEETING: failure.sentence})
        self.services.events.link_issued("messaging_extension", link_kind(meeting))
        return Result(
            link_card(url, meeting, details, turn.time_zone, texting=True, now=datetime.now(UTC), insert=True)
        )
