"""Graph failures as one plain sentence each (DESIGN.md section 3), from one table.

A 403 is either the app lacking a permission (the admin must consent) or the user lacking the meeting. The consent
sentence names the permission the refused call needs, so every caller says which kind of call it made (`GraphCall`).
"""

from __future__ import annotations

from enum import Enum

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


class GraphCall(Enum):
    """The kinds of Graph call the bot makes, each with the least delegated permission it needs (DESIGN.md 5)."""

    JOIN_LINK = "VirtualAppointment.Read"
    LOOKUP = "OnlineMeetings.Read"
    CALENDAR = "Calendars.Read"
    CREATE_EVENT = "Calendars.ReadWrite"
    CREATE_MEETING = "OnlineMeetings.ReadWrite"
    TEXT = "VirtualAppointmentNotification.Send"
    BOOKINGS = "Bookings.Read.All"
    MAIL = "Mail.Send"

    @property
    def permission(self) -> str:
        return self.value


# What the user was trying to have done, in the words of the consent sentence: names in `strings`, read per turn in
# the user's language.
_CONSENT_WHAT: dict[GraphCall, str] = {
    GraphCall.JOIN_LINK: "CONSENT_JOIN_LINK",
    GraphCall.LOOKUP: "CONSENT_LOOKUP",
    GraphCall.CALENDAR: "CONSENT_CALENDAR",
    GraphCall.CREATE_EVENT: "CONSENT_CREATE_EVENT",
    GraphCall.CREATE_MEETING: "CONSENT_CREATE_MEETING",
    GraphCall.TEXT: "CONSENT_TEXT",
    GraphCall.BOOKINGS: "CONSENT_BOOKINGS",
    GraphCall.MAIL: "CONSENT_MAIL",
}

# Error class -> the `strings` name of what the member of staff should do (read per turn, in the user's language).
# Forbidden is split below: consent vs. not the organizer.
SENTENCES: dict[type[GraphError], str] = {
    Unauthorized: "ERR_SIGN_IN_AGAIN",
    Forbidden: "ERR_NOT_ORGANIZER",
    NotFound: "ERR_MEETING_NOT_FOUND",
    BadRequest: "ERR_BAD_REQUEST",
    Conflict: "ERR_TRY_LATER",
    PreconditionFailed: "ERR_TRY_LATER",
    Throttled: "ERR_THROTTLED",
    Unavailable: "ERR_TRY_LATER",
    GraphTimeout: "ERR_TRY_LATER",
}

# Codes and words Graph uses when the app lacks a permission rather than the user lacking the meeting.
_CONSENT_MARKERS = ("consent", "scope", "permission", "authorization_requestdenied", "accessdenied", "insufficient")

TRANSIENT: tuple[type[GraphError], ...] = (Throttled, Unavailable, GraphTimeout, Conflict, PreconditionFailed)


def is_consent_refusal(error: GraphError) -> bool:
    """A 403 because the app lacks a permission (an admin can fix it), not because the user lacks the meeting."""
    if not isinstance(error, Forbidden):
        return False
    text = f"{error.code or ''} {error.message}".lower()
    return any(marker in text for marker in _CONSENT_MARKERS)


def consent_sentence(call: GraphCall) -> str:
    """Ask the admin for the permission `call` needs, saying what it is for."""
    return strings.admin_consent(getattr(strings, _CONSENT_WHAT[call]), call.permission)


def sentence_for(error: GraphError, call: GraphCall) -> str:
    """The one sentence to show when Graph refused `call`."""
    if is_consent_refusal(error):
        return consent_sentence(call)
    for kind, name in SENTENCES.items():
        if isinstance(error, kind):
            return str(getattr(strings, name))
    return strings.ERR_GENERIC


def is_transient(error: GraphError) -> bool:
    """Worth a "Try again" button: the same request may well work in a moment."""
    return isinstance(error, TRANSIENT)
