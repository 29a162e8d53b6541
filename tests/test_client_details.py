"""Pure validation of the optional client details: email, phone (E.164), name, locale region, US detection."""

import contextlib

import phonenumbers
import pytest
from email_validator import EmailNotValidError, validate_email
from hypothesis import given, settings
from hypothesis import strategies as st

from dialogs.cards import actions, strings
from dialogs.cards.forms import NAME_MAX_LENGTH
from dialogs.client_details import (
    ClientDetails,
    clean_name,
    is_us_number,
    region_from_locale,
    validate_client_details,
)
from tests.linear import assert_growth_is_linear


def check(
    name: str = "", email: str = "", phone: str = "", region: str | None = "US"
) -> tuple[ClientDetails, dict[str, str]]:
    return validate_client_details(name, email, phone, default_region=region)


def test_all_empty_is_a_valid_skip() -> None:
    details, errors = check()
    assert details == ClientDetails() and details.is_empty and errors == {}
    details, errors = validate_client_details(None, None, None, default_region=None)
    assert details.is_empty and errors == {}
    details, errors = check("  ", " \t", "   ")
    assert details.is_empty and errors == {}


def test_everything_valid_is_normalised() -> None:
    details, errors = check(" Alex  Morgan ", " Alex.Morgan@EXAMPLE.com ", "(206) 555-0100")
    assert errors == {}
    assert details == ClientDetails(name="Alex Morgan", email="Alex.Morgan@example.com", phone="+12065550100")
    assert details.phone_display == "+1 206-555-0100"
    assert not details.is_empty


@pytest.mark.parametrize(
    "email",
    ["a@example.com", "first.last+tag@sub.example.co.uk", "ä@bücher.de", "x@b.co"],
)
def test_valid_emails_kept(email: str) -> None:
    details, errors = check(email=email)
    assert errors == {}
    assert details.email == validate_email(email, check_deliverability=False).normalized


@pytest.mark.parametrize(
    "email",
    ["alex", "alex@", "@example.com", "a@localhost", "a b@example.com", "Alex <a@example.com>", "a@@b.com", "a@b..com"],
)
def test_invalid_emails_get_a_reason_and_are_dropped(email: str) -> None:
    details, errors = check(name="Alex", email=email, phone="+1 206 555 0100")
    assert errors == {"email": strings.INVALID_EMAIL}
    assert details.email == ""
    assert details.name == "Alex" and details.phone == "+12065550100", "valid fields are kept"


@pytest.mark.parametrize(
    ("phone", "region", "e164"),
    [
        ("+1 206 555 0100", None, "+12065550100"),
        ("(206) 555-0100", "US", "+12065550100"),
        ("206.555.0100", "US", "+12065550100"),
        ("020 7946 0958", "GB", "+442079460958"),
        ("+44 20 7946 0958", "US", "+442079460958"),
        ("0044 20 7946 0958", "GB", "+442079460958"),
        ("06 12 34 56 78", "FR", "+33612345678"),
        ("+16135550199", None, "+16135550199"),
    ],
)
def test_valid_phones_become_e164(phone: str, region: str | None, e164: str) -> None:
    details, errors = check(phone=phone, region=region)
    assert errors == {}
    assert details.phone == e164
    assert phonenumbers.is_valid_number(phonenumbers.parse(details.phone, None))


@pytest.mark.parametrize(
    ("phone", "region", "reason"),
    [
        ("12345", "US", strings.INVALID_PHONE),
        ("+1 000 000 0000", "US", strings.INVALID_PHONE),
        ("call me", "US", strings.INVALID_PHONE),
        ("020 7946 0958", "US", strings.INVALID_PHONE),
        ("020 7946 0958", None, strings.PHONE_NEEDS_COUNTRY_CODE),
        ("+" + "1" * 80, "US", strings.INVALID_PHONE),
    ],
)
def test_invalid_phones_get_a_reason(phone: str, region: str | None, reason: str) -> None:
    details, errors = check(email="a@example.com", phone=phone, region=region)
    assert errors == {"phone": reason}
    assert details.phone == "" and details.email == "a@example.com"


def test_unknown_region_is_ignored() -> None:
    _, errors = check(phone="020 7946 0958", region="ZZ")
    assert errors == {"phone": strings.PHONE_NEEDS_COUNTRY_CODE}
    details, errors = check(phone="020 7946 0958", region="gb")
    assert errors == {} and details.phone == "+442079460958"


def test_names_are_cleaned_and_limited() -> None:
    assert clean_name("  Ana\n\tLópez\x00\u202e ") == "Ana López"
    assert clean_name("Zo\u200bë") == "Zoë"
    assert (
        clean_name("\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645")
        == "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645"
    )
    details, errors = check(name="x" * 100)
    assert errors == {} and details.name == "x" * 100
    details, errors = check(name="x" * 101, email="a@example.com")
    assert errors == {"name": strings.name_too_long(100)}
    assert details == ClientDetails(email="a@example.com")


@pytest.mark.parametrize(
    ("locale", "region"),
    [
        ("en-GB", "GB"),
        ("en-US", "US"),
        ("en_us", "US"),
        ("fr-CA", "CA"),
        ("zh-Hant-TW", "TW"),
        ("de", None),
        ("es-419", None),
        ("", None),
        (None, None),
        ("en-XX", None),
    ],
)
def test_region_from_locale(locale: str | None, region: str | None) -> None:
    assert region_from_locale(locale) == region


@pytest.mark.parametrize(
    ("number", "us"),
    [
        ("+12065550100", True),
        ("+12015550123", True),
        ("+16135550199", False),  # Canada shares +1 but Graph texts only US numbers
        ("+442079460958", False),
        ("+1206555", False),
        ("", False),
        ("not a number", False),
    ],
)
def test_is_us_number(number: str, us: bool) -> None:
    assert is_us_number(number) is us


def test_phone_display() -> None:
    assert ClientDetails(phone="+442079460958").phone_display == "+44 20 7946 0958"
    assert ClientDetails().phone_display == ""
    assert ClientDetails(phone="garbage").phone_display == "garbage"


@settings(max_examples=300, deadline=None)
@given(
    st.text(max_size=300),
    st.text(max_size=300) | st.emails(),
    st.text(max_size=300) | st.text(alphabet="+0123456789 ()-.x", max_size=30),
    st.sampled_from([None, "US", "GB", "FR", "ZZ", ""]),
)
def test_arbitrary_text_never_raises(name: str, email: str, phone: str, region: str | None) -> None:
    details, errors = validate_client_details(name, email, phone, default_region=region)
    assert set(errors) <= {"name", "email", "phone"}
    for field in errors:
        assert getattr(details, field) == "", "an invalid field is never kept"
    assert len(details.name) <= 100
    assert all(c.isprintable() or c in "\u200c\u200d" for c in details.name)
    if details.phone:
        assert details.phone.startswith("+") and details.phone[1:].isdigit()
        assert phonenumbers.is_valid_number(phonenumbers.parse(details.phone, None))
    if details.email:
        assert "@" in details.email


# --- hostile size (issue 16) -------------------------------------------------------------------------------------

HOSTILE = {
    "one word": lambda n: "a" * n,
    "at signs": lambda n: "@" * n,
    "word-at": lambda n: "a@" * (n // 2),
    "dotted domain": lambda n: "a@" + "a." * (n // 2) + "com",
    "quoted local part": lambda n: '"' + "a" * n + '"@example.com',
    "digits": lambda n: "1" * n,
    "phone punctuation": lambda n: "+1 (" * (n // 4),
    "zero-width and rtl": lambda n: "\u200b\u202e\u200d" * (n // 3),
    "invalid surrogates": lambda n: "\ud800a" * (n // 2),
}


@pytest.mark.parametrize("shape", HOSTILE)
def test_each_field_parser_is_linear_below_its_cap(shape: str) -> None:
    """The parsers themselves, uncapped: name cleaning, email_validator and phonenumbers grow linearly."""
    make = HOSTILE[shape]
    assert_growth_is_linear(clean_name, make, n=2_000)
    assert_growth_is_linear(_safe_email, make, n=2_000)
    assert_growth_is_linear(_safe_phone, make, n=2_000)


def _safe_email(text: str) -> None:
    with contextlib.suppress(EmailNotValidError):
        validate_email(text, check_deliverability=False)


def _safe_phone(text: str) -> None:
    with contextlib.suppress(phonenumbers.NumberParseException):
        phonenumbers.parse(text, "US")


@pytest.mark.parametrize("shape", HOSTILE)
def test_oversized_fields_are_refused_with_a_reason(shape: str) -> None:
    text = HOSTILE[shape](50_000)
    details, errors = validate_client_details(text, text, text, default_region="US")
    assert details.is_empty
    assert errors[actions.FIELD_NAME] == strings.name_too_long(NAME_MAX_LENGTH)
    assert errors[actions.FIELD_EMAIL] == strings.INVALID_EMAIL
    assert errors[actions.FIELD_PHONE] == strings.INVALID_PHONE
