"""Graph failures as one plain sentence each (DESIGN.md section 3), from one table."""

from __future__ import annotations

from dialogs.cards import strings
from graph.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    GraphError,
    GraphTimeout,
    NotFound,
    PreconditionFailed,
    Throttled,
    Unauthorized,
    Unavailable,
)

# Error class -> what the member of staff should do. Forbidden is split below: consent vs. not the organizer.
SENTENCES: dict[type[GraphError], str] = {
    Unauthorized: strings.ERR_SIGN_IN_AGAIN,
    Forbidden: strings.ERR_NOT_ORGANIZER,
    NotFound: strings.ERR_MEETING_NOT_FOUND,
    BadRequest: strings.ERR_BAD_REQUEST,
    Conflict: strings.ERR_TRY_LATER,
    PreconditionFailed: strings.ERR_TRY_LATER,
    Throttled: strings.ERR_THROTTLED,
    Unavailable: strings.ERR_TRY_LATER,
    GraphTimeout: strings.ERR_TRY_LATER,
}

# Codes and words Graph uses when the app lacks a permission rather than the user lacking the meeting.
_CONSENT_MARKERS = ("consent", "scope", "permission", "authorization_requestdenied", "accessdenied", "insufficient")

TRANSIENT: tuple[type[GraphError], ...] = (Throttled, Unavailable, GraphTimeout, Conflict, PreconditionFailed)


def sentence_for(error: GraphError) -> str:
    """The one sentence to show for a Graph failure."""
    if isinstance(error, Forbidden):
        text = f"{error.code or ''} {error}".lower()
        if any(marker in text for marker in _CONSENT_MARKERS):
            return strings.ERR_ADMIN_CONSENT
    for kind, sentence in SENTENCES.items():
        if isinstance(error, kind):
            return sentence
    return strings.ERR_GENERIC


def is_transient(error: GraphError) -> bool:
    """Worth a "Try again" button: the same request may well work in a moment."""
    return isinstance(error, TRANSIENT)
