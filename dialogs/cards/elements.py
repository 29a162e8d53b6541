"""Small constructors for Adaptive Card 1.5 elements, limited to what Teams renders.

They keep the card builders short and make the easy mistakes impossible: every card gets the same envelope, every
``Action.Submit`` gets ``data["action"]``, and text is always wrapped (Teams otherwise truncates to one line).
"""

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

Card = dict[str, Any]
Element = dict[str, Any]

CARD_SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
CARD_VERSION = "1.5"
ATTACHMENT_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"


def adaptive_card(
    body: Sequence[Element],
    actions: Sequence[Element] = (),
    *,
    full_width: bool = True,
    fallback_text: str | None = None,
) -> Card:
    """The card envelope; full width in Teams so links and facts are not squeezed into a narrow bubble."""
    card: Card = {
        "type": "AdaptiveCard",
        "$schema": CARD_SCHEMA,
        "version": CARD_VERSION,
        "body": list(body),
    }
    if actions:
        card["actions"] = list(actions)
    if full_width:
        card["msteams"] = {"width": "Full"}
    if fallback_text:
        card["fallbackText"] = fallback_text
    return card


def attachment(card: Card) -> dict[str, Any]:
    """Wrap a card as a Bot Framework attachment dict (what ``Activity.attachments`` holds)."""
    return {"contentType": ATTACHMENT_CONTENT_TYPE, "content": card}


def text(
    value: str,
    *,
    size: str | None = None,
    weight: str | None = None,
    color: str | None = None,
    subtle: bool = False,
    spacing: str | None = None,
    font_type: str | None = None,
    element_id: str | None = None,
) -> Element:
    """A wrapped TextBlock; only the properties given are emitted, keeping the JSON small and readable."""
    block: Element = {"type": "TextBlock", "text": value, "wrap": True}
    optional = {
        "id": element_id,
        "size": size,
        "weight": weight,
        "color": color,
        "spacing": spacing,
        "fontType": font_type,
    }
    block.update({k: v for k, v in optional.items() if v is not None})
    if subtle:
        block["isSubtle"] = True
    return block


def heading(value: str) -> Element:
    """The card's title line."""
    return text(value, size="medium", weight="bolder")


def error_text(value: str) -> Element:
    """A red sentence placed right under the input it is about."""
    return text(value, color="attention", spacing="small", size="small")


def fact_set(facts: Iterable[tuple[str, str]]) -> Element:
    """A FactSet of (title, value) pairs, skipping empty values."""
    return {"type": "FactSet", "facts": [{"title": t, "value": v} for t, v in facts if v]}


def container(items: Sequence[Element], **props: Any) -> Element:
    """A Container; ``props`` go through unchanged (style, separator, spacing, selectAction...)."""
    return {"type": "Container", "items": list(items), **props}


def column_set(columns: Sequence[Element], **props: Any) -> Element:
    """A ColumnSet of ``column`` elements."""
    return {"type": "ColumnSet", "columns": list(columns), **props}


def column(items: Sequence[Element], *, width: str = "stretch", **props: Any) -> Element:
    """A Column; ``width`` is ``stretch``, ``auto`` or a weight."""
    return {"type": "Column", "width": width, "items": list(items), **props}


def action_set(actions: Sequence[Element], **props: Any) -> Element:
    """Buttons placed inside the body (next to the thing they act on)."""
    return {"type": "ActionSet", "actions": list(actions), **props}


def submit(
    title: str,
    action: str,
    *,
    extra: Mapping[str, str] | None = None,
    inputs: bool = True,
    primary: bool = False,
) -> Element:
    """An Action.Submit whose ``data`` always names the ``action`` the bot routes on.

    ``inputs=False`` sets ``associatedInputs: none``: buttons that do not need the card's inputs must not send them,
    otherwise a half-typed text box would travel with (and, in the Adaptive Cards renderer, overwrite same-named keys
    of) a button's own data.
    """
    data: dict[str, str] = {"action": action}
    if extra:
        data.update(extra)
    element: Element = {"type": "Action.Submit", "title": title, "data": data}
    if not inputs:
        element["associatedInputs"] = "none"
    if primary:
        element["style"] = "positive"
    return element


def open_url(title: str, url: str) -> Element:
    """An Action.OpenUrl carrying ``url`` exactly as given."""
    return {"type": "Action.OpenUrl", "title": title, "url": url}


def text_input(
    input_id: str,
    *,
    label: str,
    value: str = "",
    placeholder: str = "",
    style: str | None = None,
    max_length: int | None = None,
) -> Element:
    """An Input.Text with a visible label (screen readers and Teams mobile rely on it)."""
    element: Element = {"type": "Input.Text", "id": input_id, "label": label}
    if placeholder:
        element["placeholder"] = placeholder
    if value:
        element["value"] = value
    if style:
        element["style"] = style
    if max_length:
        element["maxLength"] = max_length
    return element
