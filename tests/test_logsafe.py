"""The redacting log filter: no token, JWT, email, phone or secret survives; one line per event."""

import io
import logging

from bot.logsafe import RedactingFilter, redact

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
