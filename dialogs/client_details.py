"""Client details (name, email, mobile number): pure validation of what staff typed into the form.

Every field is optional. Valid fields are kept in a normalised form (email as ``email_validator`` normalises it, the
phone number as E.164, which Graph's texting API expects); an invalid field is dropped and gets a reason from
``strings`` so the form can be shown again with the reason under that field and the valid values still filled in.
"""

import unicodedata
from dataclasses import dataclass
from typing import Any

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from dialogs.cards import actions, strings
from dialogs.cards.forms import NAME_MAX_LENGTH
from dialogs.cards.language import shipped_catalog

# A phone box never needs more; bounding the input also bounds the parser's work (each parser is linear anyway).
PHONE_MAX_INPUT = 64
# An address has at most 254 characters (RFC 5321 path limit), and a name is cut to NAME_MAX_LENGTH after cleaning;
# the form's maxLength is only a hint to the client, so a hostile submit is refused before any per-character work.
EMAIL_MAX_INPUT = 320
NAME_MAX_INPUT = 4 * NAME_MAX_LENGTH
# Controls, lone surrogates, private-use and unassigned code points: nothing a real name contains.
_DROPPED_CATEGORIES = frozenset({"Cc", "Cs", "Co", "Cn"})
# Zero-width (non-)joiners are format characters that some scripts and emoji need inside names.
_KEEP_FORMAT_CHARS = frozenset({"\u200c", "\u200d"})


@dataclass(frozen=True, slots=True)
class ClientDetails:
    """What the staff member told us about the client; empty strings mean "not given"."""

    name: str = ""
    email: str = ""
    phone: str = ""  # E.164, e.g. +12065550100
    language: str = ""  # the shipped catalog to email the client in; "" means the user's own

    @property
    def phone_display(self) -> str:
        """The number as people read it (international format), for cards and confirmations."""
        if not self.phone:
            return ""
        try:
            number = phonenumbers.parse(self.phone, None)
        except phonenumbers.NumberParseException:
            return self.phone
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)

    @property
    def is_empty(self) -> bool:
        """True when nothing was given (the user skipped or left every field blank)."""
        return not (self.name or self.email or self.phone)

    def to_state(self) -> dict[str, str]:
        """Plain JSON data for dialog state."""
        return {"name": self.name, "email": self.email, "phone": self.phone, "language": self.language}

    @classmethod
    def from_state(cls, data: Any) -> "ClientDetails":
        """The inverse of `to_state`; anything missing or not text is "not given"."""
        state = data if isinstance(data, dict) else {}
        fields = ("name", "email", "phone")
        given = {name: value for name in fields if isinstance(value := state.get(name), str)}
        return cls(**given, language=shipped_catalog(state.get("language")) or "")


def region_from_locale(locale: str | None) -> str | None:
    """The phone-number region of a BCP 47 locale: ``en-GB`` -> ``GB``; None when it names no known country.

    The region is the first two-letter subtag after the language (``zh-Hant-TW`` -> ``TW``); numeric UN regions
    such as ``es-419`` name no single country, so they give None.
    """
    if not locale:
        return None
    for subtag in locale.replace("_", "-").split("-")[1:]:
        if len(subtag) == 2 and subtag.isascii() and subtag.isalpha():
            region = subtag.upper()
            return region if region in phonenumbers.SUPPORTED_REGIONS else None
    return None


def is_us_number(e164: str) -> bool:
    """True for a valid US number: Graph texts the link only to those, so only they get "Text the link"."""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.is_valid_number(number) and phonenumbers.region_code_for_number(number) == "US"


def clean_name(raw: str) -> str:
    """Drop control, invisible format (bidi overrides) and unassigned characters, and collapse whitespace.

    A name is shown on cards and may be logged; stray control characters would break layout or disguise text.
    """
    kept = []
    for char in raw:
        category = unicodedata.category(char)
        if char.isspace():
            kept.append(" ")
        elif category in _DROPPED_CATEGORIES or (category == "Cf" and char not in _KEEP_FORMAT_CHARS):
            continue
        else:
            kept.append(char)
    return " ".join("".join(kept).split())


def _check_name(raw: str) -> tuple[str, str | None]:
    if len(raw) > NAME_MAX_INPUT:
        return "", strings.name_too_long(NAME_MAX_LENGTH)
    name = clean_name(raw)
    if len(name) > NAME_MAX_LENGTH:
        return "", strings.name_too_long(NAME_MAX_LENGTH)
    return name, None


def _check_email(raw: str) -> tuple[str, str | None]:
    value = raw.strip()
    if not value:
        return "", None
    if len(value) > EMAIL_MAX_INPUT:
        return "", strings.INVALID_EMAIL
    try:
        return validate_email(value, check_deliverability=False).normalized, None
    except EmailNotValidError:
        return "", strings.INVALID_EMAIL


def _check_phone(raw: str, region: str | None) -> tuple[str, str | None]:
    value = raw.strip()
    if not value:
        return "", None
    if len(value) > PHONE_MAX_INPUT:
        return "", strings.INVALID_PHONE
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException as exc:
        if region is None and exc.error_type == phonenumbers.NumberParseException.INVALID_COUNTRY_CODE:
            return "", strings.PHONE_NEEDS_COUNTRY_CODE
        return "", strings.INVALID_PHONE
    if not phonenumbers.is_valid_number(number):
        return "", strings.INVALID_PHONE
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164), None


def validate_client_details(
    name: str | None,
    email: str | None,
    phone: str | None,
    *,
    default_region: str | None,
    language: object = None,
) -> tuple[ClientDetails, dict[str, str]]:
    """Validate the form's three optional fields.

    ``default_region`` (from ``region_from_locale(activity.locale)``) lets staff type a national number such as
    ``(206) 555-0100``; without it a number must start with its country code. Returns the valid, normalised details
    and a reason for each invalid field, keyed ``name``/``email``/``phone``; all-empty input is valid and empty.
    ``language`` (the form's choice) is kept when it names a shipped catalog, else left to the user's own.
    """
    region = default_region.upper() if default_region else None
    if region not in phonenumbers.SUPPORTED_REGIONS:
        region = None
    checked = {
        actions.FIELD_NAME: _check_name(name or ""),
        actions.FIELD_EMAIL: _check_email(email or ""),
        actions.FIELD_PHONE: _check_phone(phone or "", region),
    }
    errors = {field: reason for field, (_, reason) in checked.items() if reason}
    details = ClientDetails(
        name=checked[actions.FIELD_NAME][0],
        email=checked[actions.FIELD_EMAIL][0],
        phone=checked[actions.FIELD_PHONE][0],
        language=shipped_catalog(language) or "",
    )
    return details, errors
