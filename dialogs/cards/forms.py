"""Forms: the client-details card in chat and the messaging-extension task-module form.

Both re-render with the values that were valid and a red reason under each field that was not, so the user fixes
one thing instead of retyping everything. Validation itself lives in ``dialogs.client_details``; ``errors`` maps
its field names (``name``, ``email``, ``phone``, plus ``meeting`` on the task form) to reasons from ``strings``.
"""

from collections.abc import Mapping

from . import actions, strings
from .elements import Card, Element, adaptive_card, error_text, submit, text, text_input
from .language import SHIPPED, default_client_catalog, language_name, shipped_catalog

NAME_MAX_LENGTH = 100
DURATION_MINUTES = (15, 30, 45, 60, 90)


def _field(element: Element, error: str | None) -> list[Element]:
    """An input followed by its error, if any, so the reason sits right under the field it is about."""
    return [element, error_text(error)] if error else [element]


def language_choice(language: str = "") -> Element:
    """The language the client is emailed in: the shipped languages, each named in itself; the user's by default."""
    return {
        "type": "Input.ChoiceSet",
        "id": actions.INPUT_CLIENT_LANGUAGE,
        "label": strings.LABEL_EMAIL_LANGUAGE,
        "style": "compact",
        "value": shipped_catalog(language) or default_client_catalog(),
        "choices": [{"title": language_name(catalog), "value": catalog} for catalog in SHIPPED],
    }


def _client_fields(
    name: str, email: str, phone: str, errors: Mapping[str, str], language: str = ""
) -> list[Element]:
    fields = [
        (
            text_input(
                actions.INPUT_CLIENT_NAME,
                label=strings.LABEL_NAME,
                value=name,
                placeholder=strings.PLACEHOLDER_NAME,
                max_length=NAME_MAX_LENGTH,
            ),
            errors.get(actions.FIELD_NAME),
        ),
        (
            text_input(
                actions.INPUT_CLIENT_EMAIL,
                label=strings.LABEL_EMAIL,
                value=email,
                placeholder=strings.PLACEHOLDER_EMAIL,
                style="email",
            ),
            errors.get(actions.FIELD_EMAIL),
        ),
        (language_choice(language), None),
        (
            text_input(
                actions.INPUT_CLIENT_PHONE,
                label=strings.LABEL_PHONE,
                value=phone,
                placeholder=strings.PLACEHOLDER_PHONE,
                style="tel",
            ),
            errors.get(actions.FIELD_PHONE),
        ),
    ]
    return [element for field, error in fields for element in _field(field, error)]


def client_form_card(
    *,
    name: str = "",
    email: str = "",
    phone: str = "",
    errors: Mapping[str, str] | None = None,
    meeting_subject: str | None = None,
    language: str = "",
) -> Card:
    """One optional form for the client's name, email and mobile number (and the language to email them in),
    with Continue and Skip."""
    body: list[Element] = [text(strings.ASK_CLIENT_DETAILS, weight="bolder")]
    if meeting_subject:
        body.append(text(strings.client_details_for(meeting_subject), subtle=True, spacing="none"))
    body.extend(_client_fields(name, email, phone, errors or {}, language))
    body.append(text(strings.SKIP_HINT, subtle=True, size="small"))
    buttons = [
        submit(strings.BUTTON_CONTINUE, actions.CLIENT_DETAILS, primary=True),
        submit(strings.BUTTON_SKIP, actions.SKIP, inputs=False),
    ]
    return adaptive_card(body, buttons)


def task_form_card(
    *,
    meeting_ref: str = "",
    name: str = "",
    email: str = "",
    phone: str = "",
    errors: Mapping[str, str] | None = None,
    in_meeting: bool = False,
    meeting_subject: str | None = None,
    language: str = "",
) -> Card:
    """The messaging-extension form: meeting (prefilled with "this meeting" inside a meeting) and client details.

    ``meeting_subject`` names the meeting "this meeting" stands for, so staff see which one they are about to use."""
    errs = errors or {}
    ref = meeting_ref or (strings.THIS_MEETING if in_meeting else "")
    body: list[Element] = [text(strings.TASK_INTRO)]
    body.extend(
        _field(
            text_input(
                actions.INPUT_MEETING_REF,
                label=strings.LABEL_MEETING,
                value=ref,
                placeholder=strings.PLACEHOLDER_MEETING,
            ),
            errs.get(actions.FIELD_MEETING),
        )
    )
    if meeting_subject:
        body.append(text(strings.client_details_for(meeting_subject), subtle=True, spacing="none"))
    body.extend(_client_fields(name, email, phone, errs, language))
    body.append(text(strings.OPTIONAL_HINT, subtle=True, size="small"))
    get = submit(strings.BUTTON_GET_CLIENT_LINK, actions.SUBMIT_TASK, primary=True)
    return adaptive_card(body, [get], full_width=False)


def new_meeting_card(
    *,
    subject: str,
    start_date: str,
    start_time: str,
    duration: str = "30",
    error: str | None = None,
) -> Card:
    """Set up a new meeting: subject, date and time (in the user's time zone) and length, all prefilled."""
    durations = [{"title": strings.duration(minutes), "value": str(minutes)} for minutes in DURATION_MINUTES]
    body: list[Element] = [
        text(strings.NEW_MEETING_TITLE, weight="bolder"),
        text(strings.NEW_MEETING_HINT, subtle=True, spacing="none"),
        text_input(actions.INPUT_SUBJECT, label=strings.LABEL_SUBJECT, value=subject, max_length=NAME_MAX_LENGTH),
        {"type": "Input.Date", "id": actions.INPUT_START_DATE, "label": strings.LABEL_DATE, "value": start_date},
        {"type": "Input.Time", "id": actions.INPUT_START_TIME, "label": strings.LABEL_TIME, "value": start_time},
        {
            "type": "Input.ChoiceSet",
            "id": actions.INPUT_DURATION,
            "label": strings.LABEL_DURATION,
            "style": "compact",
            "value": duration,
            "choices": durations,
        },
    ]
    if error:
        body.append(error_text(error))
    buttons = [
        submit(strings.BUTTON_CREATE, actions.CREATE_MEETING, primary=True),
        submit(strings.BUTTON_CANCEL, actions.CANCEL, inputs=False),
    ]
    return adaptive_card(body, buttons)
