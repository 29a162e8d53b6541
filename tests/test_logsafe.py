"""The redacting log filter: no token, JWT, email, phone or secret survives; one line per event."""

import io
import logging

import pytest

from bot.logsafe import ARG_MAX, LINE_MAX, RedactingFilter, redact, shorten
from graph.client import path_shape
from tests.linear import assert_costs_like_a_scan

JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJlLXNpZ25hdHVyZQ"


def test_redacts_each_kind():
    text = f"Authorization: Bearer abc.def-ghi token={JWT} mail alex@example.com call +1 (206) 555-0100 secret=s3cr3t!"
    out = redact(text, ["s3cr3t!"])
    for leaked in ("abc.def-ghi", JWT, "alex@example.com", "555-0100", "s3cr3t!"):
        assert leaked not in out
    assert "[email]" in out and "[phone]" in out and "[secret]" in out


def test_leaves_ordinary_ids_alone():
    text = "conversation=a:1xyz activity=f:123 status=429 took 0.25 s request-id=9b2c6f1e-0c1d-4e7a-8f00-1a2b3c4d5e6f"
    assert redact(text) == text


def test_control_characters_are_escaped_so_lines_cannot_be_forged():
    assert redact("hi\nINFO fake line\x1b[31m") == "hi\\nINFO fake line\\x1b[31m"


def test_filter_covers_arguments_and_tracebacks():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter(["topsecret"]))
    logger = logging.getLogger("test.logsafe")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        try:
            raise ValueError(f"bad token Bearer {JWT} from bob@example.org")
        except ValueError:
            logger.exception("failed for %s with %s", "carol@example.net", "topsecret")
    finally:
        logger.removeHandler(handler)
    output = stream.getvalue()
    for leaked in (JWT, "bob@example.org", "carol@example.net", "topsecret"):
        assert leaked not in output
    assert output.count("\n") == 1  # the traceback is folded into the one line


# --- hostile size (issue 16) ---------------------------------------------------------------------------------------

WORST_CASES = {
    "one word": lambda n: "a" * n,
    "digits": lambda n: "1" * n,
    "spaced digits": lambda n: "1 " * (n // 2),
    "dots": lambda n: "." * n,
    "at signs": lambda n: "@" * n,
    "word-dot": lambda n: "a." * (n // 2),
    "word-at": lambda n: "a@" * (n // 2),
    "email-ish": lambda n: "a@a." * (n // 4),
    "jwt prefixes": lambda n: "eyJ-" * (n // 4),
    "jwt segments": lambda n: "eyJaaaaa." * (n // 9),
    "bearers": lambda n: "bearer " * (n // 7),
    "bearer then spaces": lambda n: "bearer" + " " * n,
    "mixed": lambda n: "x-eyJ_-.@.+(" * (n // 12),
    "encoded at signs": lambda n: "%40" * (n // 3),
    "word, encoded at": lambda n: "a%40" * (n // 4),
    "twice-encoded email-ish": lambda n: "a%2540a." * (n // 8),
    "escapes in a local part": lambda n: "%2B" * (n // 3),
    "JSON-escaped at signs": lambda n: "a\\u0040" * (n // 7),
}


@pytest.mark.parametrize("shape", WORST_CASES)
def test_redaction_is_linear_up_to_a_megabyte(shape: str) -> None:
    """At 16 KB, 128 KB and 1 MB, redacting costs at most 2000x `str.replace` on the same text (measured ~100-250x;
    the quadratic patterns this replaced cost ~30,000x at 16 KB and never finish at 1 MB)."""
    assert_costs_like_a_scan(redact, WORST_CASES[shape], size=1 << 20, ratio=2000)


def test_redaction_still_finds_tokens_glued_into_runs():
    assert redact(f"x-{JWT}") == "x-[jwt]"
    assert redact(f"abc-eyJnope-{JWT} end") == "abc-[jwt] end"
    assert redact("bob.smith+tag@example.co.uk, a@b") == "[email], a@b"


def test_user_text_in_arguments_is_cut_to_a_short_prefix_before_redaction():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter())
    logger = logging.getLogger("test.logsafe.long")
    logger.addHandler(handler)
    logger.propagate = False
    user_text = "get link " + "x" * 60 + " mail alex.longname@example.com" + " tail" * 10_000
    try:
        logger.warning("unrecognised text: %s (%s)", user_text, "ok")
        logger.warning("message " * 5_000)  # a long line with no argument is capped as a whole
    finally:
        logger.removeHandler(handler)
    first, second = stream.getvalue().splitlines()
    assert first.startswith("unrecognised text: get link xxx") and first.endswith("more] (ok)")
    assert "alex" not in first and "example" not in first  # the cut address is dropped, not left half-visible
    assert len(first) < ARG_MAX + 60
    assert LINE_MAX - 20 < len(second) < LINE_MAX + 30


def test_shorten_drops_a_cut_number_and_word():
    assert shorten("call +1 (206) 555-0100 now", 18) == "call...[22 more]"
    assert shorten("short", 10) == "short"


def test_a_cut_path_keeps_its_shape_up_to_the_cut_segment():
    path = "/me/onlineMeetings/" + "MSpkYzE3Njc0Yy04MWQ5" * 8
    assert shorten(f"graph GET {path}", ARG_MAX) == f"graph GET /me/onlineMeetings/...[{len(path) - 19} more]"
    assert shorten("token=" + JWT, 40) == "token=...[" + str(len(JWT)) + " more]"


def test_encoded_addresses_are_redacted_and_the_path_shape_keeps_no_id():
    """Issue 28, hole 5: a Bookings business id and a staff mailbox reach URL paths percent-encoded."""
    assert redact("GET /solutions/bookingBusinesses/Clinic%40contoso.example/staffMembers") == (
        "GET /solutions/bookingBusinesses/[email]/staffMembers"
    )
    assert redact('{"to": "alex\\u0040example.com"} a%2540b.example') == '{"to": "[email]"} [email]'
    assert redact("100%40 of them, 50%40off") == "100%40 of them, 50%40off"  # no domain: not an address
    assert path_shape("/solutions/bookingBusinesses/Clinic%40contoso.example/calendarView") == (
        "/solutions/bookingBusinesses/{id}/calendarView"
    )
    assert path_shape("/users/a%40b.example/onlineMeetings/MSo1Kg/getVirtualAppointmentJoinWebUrl?x=1") == (
        "/users/{id}/onlineMeetings/{id}/getVirtualAppointmentJoinWebUrl?..."
    )
