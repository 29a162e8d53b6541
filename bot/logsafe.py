"""Logging: one line per event, and nothing secret or personal in any line.

The filter sits on the root handler, so it also covers botbuilder, msrest, MSAL and aiohttp records. It redacts
bearer tokens, JWT-shaped strings, email addresses (also percent-encoded or JSON-escaped, as they appear in a URL path
or a JSON body), phone numbers and the configured secrets, and escapes control characters so text from an activity
cannot forge or split log lines. Graph paths are logged by their shape (`graph.client.path_shape`), ids left out.

Every pattern is linear in its input (issue 16): a match may only start where its run of characters starts (a
lookbehind), and runs are consumed possessively, so no start rescans the run of the start before it. Each string
argument is cut to a short prefix, and the whole line to `LINE_MAX` characters, before redaction: logs need the
shape of user text, not its content.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable, Mapping

ARG_MAX = 80  # characters kept of each string argument (user text reaches logs only as arguments)
LINE_MAX = 8192  # characters kept of a whole line, traceback included

_BEARER = re.compile(r"(?i)\bbearer\s++[A-Za-z0-9\-._~+/]++=*+")
# A JWT-shaped run: the match starts where the run of base64url characters starts and takes its first `eyJ` at a
# word boundary (atomically: a later `eyJ` in the same run is covered by the first one's match anyway).
_JWT = re.compile(
    r"(?<![A-Za-z0-9_-])(?>([A-Za-z0-9_-]*?)\beyJ)[A-Za-z0-9_-]{5,}+\.[A-Za-z0-9_-]{5,}+\.[A-Za-z0-9_-]*+"
)
# An email address as written or encoded: the `@` plain, percent-encoded (`%40`, twice: `%2540`) or as a JSON escape
# (`\u0040`); the local part may carry percent escapes of other characters (`%2B` for `+`), never of the `@` itself,
# so the possessive local part cannot swallow an encoded `@`.
_AT = r"(?:@|%(?:25)?40|\\[uU]0040)"
_LOCAL_CHAR = r"(?:[A-Za-z0-9._+-]|%(?!(?:25)?40)[0-9A-Fa-f]{2})"
_EMAIL = re.compile(rf"(?<![A-Za-z0-9._%+-]){_LOCAL_CHAR}++{_AT}[A-Za-z0-9.-]+\.[A-Za-z]{{2,}}")
_PHONE = re.compile(r"(?<![\w.:/-])\+?\d(?:[ ().-]{0,2}\d){8,14}(?![\w.-])")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    return {"\n": "\\n", "\r": "\\r", "\t": "\\t"}.get(char, f"\\x{ord(char):02x}")


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """Text with secrets, tokens and personal data replaced, and control characters escaped."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "[secret]")
    text = _BEARER.sub("Bearer [token]", text)
    text = _JWT.sub(r"\1[jwt]", text)
    text = _EMAIL.sub("[email]", text)
    text = _PHONE.sub("[phone]", text)
    return _CONTROL.sub(_escape, text)


def shorten(text: str, limit: int) -> str:
    """`text` cut to about `limit` characters, with the count of characters left out. The part of a word the cut
    went through is dropped, back to a space or a separator such as `/` or `=` (a cut email, token or number would
    no longer look like one to `redact`), and so are digits and number punctuation just before it."""
    if len(text) <= limit:
        return text
    end = limit
    while end > 0 and not (text[end - 1].isspace() or text[end - 1] in _SEPARATORS):
        end -= 1
    while end > 0 and (text[end - 1].isspace() or text[end - 1] in _NUMBER_CHARS):
        end -= 1
    return f"{text[:end]}...[{len(text) - end} more]"


_SEPARATORS = frozenset("/?&=,;|\"'()[]<>")
_NUMBER_CHARS = frozenset("0123456789+().-")


_Args = tuple[object, ...] | Mapping[str, object] | None


def _short_args(args: _Args) -> _Args:
    if not isinstance(args, tuple):
        return args
    return tuple(shorten(arg, ARG_MAX) if isinstance(arg, str) else arg for arg in args)


class RedactingFilter(logging.Filter):
    """Rewrites each record's message, traceback folded in, through `redact` before any handler formats it."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = tuple(s for s in secrets if s)
        self._formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        record.args = _short_args(record.args)
        message = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            message = f"{message} | {record.exc_text}"  # the traceback joins the event's one line
        record.msg = redact(shorten(message, LINE_MAX), self.secrets)
        record.args = None
        record.exc_info = None
        record.exc_text = None
        return True


def configure_logging(level: str, secrets: Iterable[str] = (), *, trace_ids: bool = False) -> logging.Handler:
    """Install one stderr handler on the root logger with the redacting filter; returns the handler. `trace_ids`
    (telemetry on): each line made inside a span also names its trace and span (bot/telemetry/logs.py)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    if trace_ids:
        from bot.telemetry.logs import TraceIdsFilter

        handler.addFilter(TraceIdsFilter())
    handler.addFilter(RedactingFilter(secrets))
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "_link_bot", False)]:
        root.removeHandler(old)
    handler._link_bot = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    # The SDK's HTTP stack logs request details at DEBUG; keep it quiet unless asked.
    for noisy in ("msrest", "urllib3", "msal", "azure"):
        logging.getLogger(noisy).setLevel(max(logging.getLevelName(level), logging.WARNING))
    return handler
