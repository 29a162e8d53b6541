""""Email the link": confirm, then `POST /me/sendMail` from the user's own mailbox to the client, in the client's
language, with an `.ics` invitation; once per card and recipient.

Stateless like the card it answers: the button carries everything the email says (`EmailTarget`), so an older
card's button emails that card's link, and nothing waits in dialog state. "Once" is a claim in the store shared by
every instance (`DialogServices.send_once`), keyed by the card's own id and the address, taken before Graph is
called: a second tap, or Teams redelivering the submit to another instance, finds it taken and sends nothing. The
claim is given back when the send certainly failed (Graph refused it, or throttled past the deadline), so the
same button may try again; when the outcome is unknown (the connection dropped, a 5xx after Graph may have acted)
it is kept, and the user is asked to look in Sent Items: never two emails.

The chat answers in the user's 1:1 chat only (`Turn.reply`); a button tapped in a shared chat is handed to it
first, like the texting buttons (`dialogs.main`). The messaging extension answers in its private task module.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from dialogs.cards import actions, strings
from dialogs.cards.language import language_name, speaking
from dialogs.cards.mail import ICS_NAME, ICS_TYPE, Appointment, html_body, invitation_ics, subject_line
from dialogs.cards.result import confirm_email_card, email_sent_card
from dialogs.email_target import EmailTarget, mask
from dialogs.graph_errors import GraphCall, is_consent_refusal, is_transient, sentence_for
from dialogs.lookup import LinkFailure
from dialogs.services import DialogServices
from dialogs.signin.flow import sign_in_again
from dialogs.turn import Turn
from graph.client import deadline_in, within
from graph.errors import BadRequest, Forbidden, GraphError, GraphTimeout, NotFound, Unauthorized, Unavailable
from graph.mail import NO_MAILBOX_CODES, SEND_REFUSED_CODES, FileAttachment, MailMessage

log = logging.getLogger(__name__)

EMAIL_ACTIONS = frozenset({actions.EMAIL_LINK, actions.CONFIRM_EMAIL, actions.CANCEL_EMAIL})
def confirm_card(target: EmailTarget, reason: str | None = None) -> dict[str, Any]:
    """The confirmation before the email goes: to whom and in which language; Send carries the target."""
    return confirm_email_card(
        address=target.email, language=language_name(target.language), carry=target.carry(), reason=reason
    )


def compose(services: DialogServices, target: EmailTarget, host: str, now: datetime) -> MailMessage:
    """The email, written in the client's language (the user's turn speaks theirs: switched for this only)."""
    appointment = Appointment(
        link=target.link,
        key=target.meeting_id or target.link,
        client_name=target.client_name,
        host=host,
        subject=target.subject,
        start=target.start,
        end=target.end,
        tz_name=target.time_zone,
    )
    with speaking(services.catalogs.language(target.language.replace("_", "-"))):
        subject, body = subject_line(appointment), html_body(appointment)
        ics = invitation_ics(appointment, now=now)
    attachments = [FileAttachment(ICS_NAME, ICS_TYPE, ics)] if ics is not None else []
    return MailMessage(subject=subject, html=body, to=[target.email], attachments=attachments)


def failure_sentence(exc: GraphError) -> str:
    """Why the email did not go, in one sentence: consent for Mail.Send (named), a mailbox that cannot send, an
    address Outlook refused, busy, or unsure whether it went."""
    if isinstance(exc, Forbidden | NotFound) and exc.code in NO_MAILBOX_CODES | SEND_REFUSED_CODES:
        return strings.ERR_EMAIL_NO_MAILBOX
    if is_consent_refusal(exc):
        return sentence_for(exc, GraphCall.MAIL)
    if is_outcome_unknown(exc):
        return strings.ERR_EMAIL_UNSURE
    if is_transient(exc):
        return sentence_for(exc, GraphCall.MAIL)
    if isinstance(exc, BadRequest) and exc.code == "ErrorInvalidRecipients":
        return strings.ERR_EMAIL_ADDRESS
    return strings.ERR_EMAIL_FAILED


def is_outcome_unknown(exc: GraphError) -> bool:
    """Graph may have sent it: the answer was lost (timeout, dropped connection) or a server error came after."""
    return isinstance(exc, GraphTimeout | Unavailable)


@dataclass(frozen=True, slots=True)
class Emailed:
    """The outcome of a send that did not fail: `sentence` to show; `again` when this card's email went before."""

    sentence: str
    again: bool = False


async def email_the_link(
    services: DialogServices, turn: Turn, target: EmailTarget, *, deadline: float
) -> Emailed:
    """Send the email once per card and recipient. LinkFailure when it cannot be sent (`transient`: worth asking
    again; `token_refused`: sign in again)."""
    once = services.send_once
    if once is None:
        raise LinkFailure(strings.ERR_EMAIL_STORAGE)
    key = target.claim_key
    try:
        claimed = await within(once.claim(key), min(deadline, deadline_in(services.storage_budget_s)))
    except Exception as exc:  # the store is down or slow: fail closed, send nothing
        log.warning("email claim failed: %s", type(exc).__name__)
        raise LinkFailure(strings.ERR_EMAIL_STORAGE, transient=True) from None
    if not claimed:
        return Emailed(strings.email_already_sent(mask(target.email)), again=True)
    message = compose(services, target, turn.user_name, datetime.now(UTC))
    try:
        await services.graph(turn.context).send_mail(message, deadline=deadline)
    except GraphError as exc:
        log.info("email failed: %s %s %s", type(exc).__name__, exc.status, exc.code)
        if not is_outcome_unknown(exc):
            await _release(services, key, deadline)
        raise LinkFailure(
            failure_sentence(exc),
            token_refused=isinstance(exc, Unauthorized),
            transient=is_transient(exc) and not is_outcome_unknown(exc),
        ) from None
    return Emailed(strings.email_sent(mask(target.email)))


async def _release(services: DialogServices, key: str, deadline: float) -> None:
    """Give the claim back; if the store fails now, the button stays spent (never two emails)."""
    if services.send_once is None:
        return
    try:
        await within(services.send_once.release(key), min(deadline, deadline_in(services.storage_budget_s)))
    except Exception as exc:
        log.warning("email claim not released: %s", type(exc).__name__)


async def email_in_chat(services: DialogServices, turn: Turn, data: dict[str, Any]) -> None:
    """An "Email the link" button, its confirmation's Send or Cancel, tapped in the user's 1:1 chat."""
    action = data.get("action")
    if action == actions.CANCEL_EMAIL:
        await turn.reply(strings.EMAIL_CANCELLED)
        return
    target = EmailTarget.from_data(data)
    if target is None:
        await turn.reply(strings.ERR_EXPIRED_CARD)
        return
    if action == actions.EMAIL_LINK:
        await turn.reply(confirm_card(target))
        return
    try:
        outcome = await email_the_link(services, turn, target, deadline=services.deadline(turn.context))
    except LinkFailure as failure:
        if failure.token_refused:
            await sign_in_again(turn, services.tokens)
        elif failure.transient:  # the same confirmation again, saying why: Send may well work in a moment
            await turn.reply(confirm_card(target, failure.sentence))
        else:
            await turn.reply(failure.sentence)
        return
    if not await _mark_sent(turn, target):
        await turn.reply(email_sent_card(mask(target.email)))
    await turn.reply(outcome.sentence)


async def _mark_sent(turn: Turn, target: EmailTarget) -> bool:
    """Turn the confirmation that was tapped (`replyToId`) into its sent state, so no Send is left on it. False
    when that is not possible (no id, or Teams refused the update)."""
    activity_id = turn.context.activity.reply_to_id
    if not activity_id:
        return False
    try:
        await turn.replace(activity_id, email_sent_card(mask(target.email)))
    except Exception as exc:  # an update is a courtesy: the chat still says it was sent
        log.info("could not update the confirmation card: %s", type(exc).__name__)
        return False
    return True
