"""The result card (the join link) and the confirmation before texting it.

The URL is placed exactly as Graph returned it, never rebuilt, re-encoded or wrapped in markdown link syntax: in the
``Action.OpenUrl``, as a bare (selectable) TextBlock, and as the value of a text box that is the easiest thing to
copy from on desktop and mobile alike. The buttons send no inputs, so the copy box never travels with a submit.
"""

from datetime import datetime
from typing import Protocol

from . import actions, strings
from .elements import Card, Element, adaptive_card, container, fact_set, heading, open_url, submit, text, text_input
from .timefmt import format_when


class ClientLike(Protocol):
    """What the card shows of the client; ``dialogs.client_details.ClientDetails`` fits."""

    @property
    def name(self) -> str: ...
    @property
    def email(self) -> str: ...
    @property
    def phone_display(self) -> str: ...


def result_card(
    *,
    join_url: str,
    subject: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    tz_name: str | None = None,
    client: ClientLike | None = None,
    can_text: bool = False,
    now: datetime | None = None,
) -> Card:
    """The client join link, the meeting it belongs to, and the client details it was made for."""
    body: list[Element] = [heading(strings.RESULT_TITLE)]
    when = format_when(start, end, tz_name=tz_name, now=now) if start is not None else ""
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
    body.append(text(strings.RESULT_HINT, subtle=True, size="small"))
    buttons = [open_url(strings.BUTTON_OPEN_LINK, join_url)]
    if can_text:
        buttons.append(submit(strings.BUTTON_TEXT_LINK, actions.TEXT_LINK, inputs=False))
    buttons.append(submit(strings.BUTTON_ANOTHER_LINK, actions.GET_LINK, inputs=False))
    return adaptive_card(body, buttons, fallback_text=join_url)


def confirm_text_card(*, phone_display: str) -> Card:
    """Asked before a text is sent, because a text to the wrong number cannot be taken back."""
    body = [text(strings.text_link_question(phone_display), weight="bolder"), text(strings.TEXT_CONFIRM_NOTE)]
    buttons = [
        submit(strings.BUTTON_SEND, actions.CONFIRM_TEXT, inputs=False, primary=True),
        submit(strings.BUTTON_CANCEL, actions.CANCEL_TEXT, inputs=False),
    ]
    return adaptive_card(body, buttons, full_width=False)
