"""The result card (the join link), the confirmations before texting, and the card for the compose box.

The URL is placed exactly as Graph returned it, never rebuilt, re-encoded or wrapped in markdown link syntax: in the
``Action.OpenUrl``, as a bare (selectable) TextBlock, and as the value of a text box that is the easiest thing to
copy from on desktop and mobile alike. The buttons send no inputs, so the copy box never travels with a submit.

"Email the link" carries everything its email says (the link, the client's address and name, the language, the
meeting's subject and times, the card's own id) and so does the Send of its confirmation: the email is written from
the button, never from what came last, and the card id makes it one email per card and recipient.

"Text the link" and "Text a reminder 15 minutes before" carry what they act on (meeting id, number, start) in
their data, and so do the Send buttons of their confirmations: a button on an older card acts on that card's
meeting, never on whatever came last. In the messaging extension's task module, "Insert into message" carries the link
and what the compose card shows; the compose card is sent on by the user to others, so it takes the client's name only:
it has no parameter through which an email address or phone number could reach it.
"""

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Protocol

from . import actions, strings
from .elements import (
    Card,
    Element,
    adaptive_card,
    container,
    error_text,
    fact_set,
    heading,
    open_url,
    submit,
    text,
    text_input,
)
from .timefmt import format_when


class ClientLike(Protocol):
    """What the card shows of the client; ``dialogs.client_details.ClientDetails`` fits."""

    @property
    def name(self) -> str: ...
    @property
    def email(self) -> str: ...
    @property
    def phone_display(self) -> str: ...


def _when(start: datetime | None, end: datetime | None, tz_name: str | None, now: datetime | None) -> str:
    return format_when(start, end, tz_name=tz_name, now=now) if start is not None else ""


def _insert_data(
    join_url: str, subject: str | None, start: datetime | None, end: datetime | None, client_name: str
) -> dict[str, str]:
    """What "Insert into message" carries: exactly what the compose card shows."""
    data = {
        actions.DATA_LINK: join_url,
        actions.DATA_SUBJECT: subject or "",
        actions.DATA_START: start.isoformat() if start is not None else "",
        actions.DATA_END: end.isoformat() if end is not None else "",
        actions.DATA_CLIENT_NAME: client_name,
    }
    return _given(data)


def result_card(
    *,
    join_url: str,
    subject: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    tz_name: str | None = None,
    client: ClientLike | None = None,
    can_text: bool = False,
    can_remind: bool = False,
    meeting_id: str | None = None,
    phone: str | None = None,
    notes: Sequence[str] = (),
    now: datetime | None = None,
    insert: bool = False,
    title: str | None = None,
    email: Mapping[str, str] | None = None,
    emailed_to: str | None = None,
) -> Card:
    """The client join link, the meeting it belongs to, and the client details it was made for.

    ``email`` offers "Email the link", carrying that data; ``emailed_to`` (a masked address) shows it was sent.

    ``can_text``/``can_remind`` offer the texting buttons, which carry ``meeting_id`` and ``phone`` (E.164) and, for
    the reminder, ``start``; ``notes`` are short sentences shown above the hint (e.g. not on the calendar).
    ``insert`` makes the messaging extension's version (shown privately in its task module): "Insert into message"
    instead of "Get another link". ``title`` replaces the heading (a reminder says the appointment starts soon)."""
    body: list[Element] = [heading(title or strings.RESULT_TITLE)]
    when = _when(start, end, tz_name, now)
    meeting_facts = fact_set([(strings.FACT_MEETING, subject or ""), (strings.FACT_WHEN, when)])
    if meeting_facts["facts"]:
        body.append(meeting_facts)
    body.append(container([text(join_url, size="small")], style="emphasis", spacing="medium"))
    body.append(text_input(actions.INPUT_JOIN_URL, label=strings.RESULT_COPY_LABEL, value=join_url))
    if client is not None:
        client_facts = fact_set(
            [
                (strings.FACT_CLIENT, client.name),
                (strings.FACT_EMAIL, client.email),
                (strings.FACT_PHONE, client.phone_display),
            ]
        )
        if client_facts["facts"]:
            body.append(client_facts)
    body.extend(text(note, size="small") for note in notes)
    if emailed_to:
        body.append(text(f"✓ {strings.emailed_to(emailed_to)}", size="small", color="good"))
    body.append(text(strings.RESULT_HINT, subtle=True, size="small"))
    buttons = [open_url(strings.BUTTON_OPEN_LINK, join_url)]
    if email and not emailed_to:
        buttons.append(submit(strings.BUTTON_EMAIL_LINK, actions.EMAIL_LINK, extra=_given(email), inputs=False))
    target = {actions.DATA_MEETING_ID: meeting_id or "", actions.DATA_PHONE: phone or ""}
    if can_text:
        buttons.append(submit(strings.BUTTON_TEXT_LINK, actions.TEXT_LINK, extra=_given(target), inputs=False))
    if can_remind and start is not None:
        reminder = {**target, actions.DATA_START: start.isoformat()}
        buttons.append(submit(strings.BUTTON_TEXT_REMINDER, actions.TEXT_REMINDER, extra=reminder, inputs=False))
    if insert:
        data = _insert_data(join_url, subject, start, end, client.name if client is not None else "")
        buttons.append(submit(strings.BUTTON_INSERT, actions.INSERT_LINK, extra=data, inputs=False, primary=True))
    else:
        buttons.append(submit(strings.BUTTON_ANOTHER_LINK, actions.GET_LINK, inputs=False))
    return adaptive_card(body, buttons, fallback_text=join_url)


def _given(data: Mapping[str, str]) -> dict[str, str]:
    """The non-empty entries: a card built without a target keeps its plain data."""
    return {key: value for key, value in data.items() if value}


def confirm_text_card(
    *, phone_display: str, carry: Mapping[str, str] | None = None, reason: str | None = None
) -> Card:
    """Asked before a text is sent, because a text to the wrong number cannot be taken back. ``carry`` (what the
    text acts on) travels in both buttons' data; ``reason`` says why it is asked again (a failed attempt)."""
    body = [text(strings.text_link_question(phone_display), weight="bolder"), text(strings.TEXT_CONFIRM_NOTE)]
    if reason:
        body.insert(0, error_text(reason))
    buttons = [
        submit(strings.BUTTON_SEND, actions.CONFIRM_TEXT, extra=_given(carry or {}), inputs=False, primary=True),
        submit(strings.BUTTON_CANCEL, actions.CANCEL_TEXT, inputs=False),
    ]
    return adaptive_card(body, buttons, full_width=False)


def confirm_email_card(
    *, address: str, language: str, carry: Mapping[str, str], reason: str | None = None
) -> Card:
    """Asked before the link is emailed (an email cannot be taken back): to whom, in which language (named in
    itself). ``carry`` (everything the email says) travels in Send's data; ``reason``: why it is asked again."""
    body = [text(strings.email_question(address, language), weight="bolder"), text(strings.EMAIL_CONFIRM_NOTE)]
    if reason:
        body.insert(0, error_text(reason))
    buttons = [
        submit(strings.BUTTON_SEND, actions.CONFIRM_EMAIL, extra=_given(carry), inputs=False, primary=True),
        submit(strings.BUTTON_CANCEL, actions.CANCEL_EMAIL, inputs=False),
    ]
    return adaptive_card(body, buttons, full_width=False)


def email_sent_card(masked_address: str) -> Card:
    """What the confirmation becomes once the email is sent: no button left to tap."""
    sentence = strings.email_sent(masked_address)
    return adaptive_card([text(f"✓ {sentence}", color="good")], full_width=False, fallback_text=sentence)


def confirm_reminder_card(*, phone_display: str, carry: Mapping[str, str]) -> Card:
    """Asked before a reminder text is scheduled, like "Text the link"."""
    body = [text(strings.reminder_question(phone_display), weight="bolder"), text(strings.REMINDER_CONFIRM_NOTE)]
    buttons = [
        submit(strings.BUTTON_SEND, actions.CONFIRM_REMINDER, extra=_given(carry), inputs=False, primary=True),
        submit(strings.BUTTON_CANCEL, actions.CANCEL_TEXT, inputs=False),
    ]
    return adaptive_card(body, buttons, full_width=False)


def compose_card(
    *,
    join_url: str,
    subject: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    tz_name: str | None = None,
    client_name: str = "",
) -> Card:
    """What "Insert into message" puts into the compose box, for the user to send on: the link, the meeting's
    subject and time (an absolute date, since the message stays in the chat) and the client's name if given."""
    body: list[Element] = [heading(strings.COMPOSE_TITLE)]
    facts = fact_set(
        [
            (strings.FACT_MEETING, subject or ""),
            (strings.FACT_WHEN, _when(start, end, tz_name, None)),
            (strings.COMPOSE_FOR, client_name),
        ]
    )
    if facts["facts"]:
        body.append(facts)
    body.append(container([text(join_url, size="small")], style="emphasis", spacing="medium"))
    body.append(text(strings.COMPOSE_HINT, subtle=True, size="small"))
    return adaptive_card(body, [open_url(strings.BUTTON_JOIN, join_url)], fallback_text=join_url)
