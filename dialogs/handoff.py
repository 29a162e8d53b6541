"""The hand-off from a shared chat to the user's one-to-one chat: what was asked, as a typed value.

In a group, channel or meeting chat no flow runs (DESIGN.md section 3): the root dialog ends with a request to
continue privately, bot/ opens the user's one-to-one chat and begins the root dialog there with it. A dialog's result
and options are plain data, so the request crosses as a dict: `encode` is the one place that writes it, `decode` the
one place that reads it; everything else holds one of the typed requests below.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeAlias

from dialogs.cards import strings
from dialogs.link import LastLink
from dialogs.reminders import ReminderRequest
from graph.models import Meeting

_PRIVATELY = "privately"  # the one key of an encoded request
_ASK = "ask"


@dataclass(frozen=True, slots=True)
class GetLink:
    """`get link`: the reference typed, or the meeting chat's own meeting (Teams' meeting info, which only the
    meeting chat's turn can ask for), or why the one-to-one chat has to ask which meeting. Also the get-link flow's
    options (`to_state`/`from_state`)."""

    reference: str = ""
    meeting: Meeting | None = None
    reason: str | None = None

    def to_state(self) -> dict[str, Any]:
        state: dict[str, Any] = {"reference": self.reference}
        if self.meeting is not None:
            state["meeting"] = self.meeting.to_state()
        if self.reason is not None:
            state["reason"] = self.reason
        return state

    @classmethod
    def from_state(cls, data: Any) -> GetLink:
        state = data if isinstance(data, dict) else {}
        reference, meeting, reason = state.get("reference"), state.get("meeting"), state.get("reason")
        return cls(
            reference if isinstance(reference, str) else "",
            Meeting.from_state(meeting) if isinstance(meeting, dict) else None,
            reason if isinstance(reason, str) else None,
        )


@dataclass(frozen=True, slots=True)
class TextContact:
    """A texting button tapped on a card in a shared chat: that texting dialog, on the meeting and number the button
    carries (confirmed in the one-to-one chat before anything is sent)."""

    dialog: str
    target: LastLink | None


@dataclass(frozen=True, slots=True)
class EmailContact:
    """An "Email the link" button (or its Send) tapped on a card in a shared chat: what the button carries, asked
    again in the one-to-one chat (confirmed there before anything is sent)."""

    data: dict[str, str]


@dataclass(frozen=True, slots=True)
class RemindersOn:
    """`remind me [n minutes before]`, with the shared chat's time zone and locale."""

    request: ReminderRequest


@dataclass(frozen=True, slots=True)
class RemindersOff:
    """`stop reminders`: whether they were on is the user's own business, answered in the one-to-one chat."""


PrivateRequest: TypeAlias = GetLink | TextContact | EmailContact | RemindersOn | RemindersOff


def encode(request: PrivateRequest) -> dict[str, Any]:
    """The request as plain data: the root dialog's result in the shared chat, its options in the one-to-one chat."""
    match request:
        case GetLink():
            body = {_ASK: "getLink", **request.to_state()}
        case TextContact(dialog=dialog, target=target):
            body = {_ASK: "text", "dialog": dialog, "target": target.to_state() if target else {}}
        case EmailContact(data=data):
            body = {_ASK: "email", "data": dict(data)}
        case RemindersOn(request=reminders):
            body = {_ASK: "remindersOn", "request": reminders.to_state()}
        case RemindersOff():
            body = {_ASK: "remindersOff"}
    return {_PRIVATELY: body}


def decode(value: Any) -> PrivateRequest | None:
    """The request `encode` wrote, or None when `value` is not one (any other dialog result or options)."""
    body = value.get(_PRIVATELY) if isinstance(value, dict) else None
    if not isinstance(body, dict):
        return None
    ask = body.get(_ASK)
    if ask == "getLink":
        return GetLink.from_state(body)
    if ask == "text" and isinstance(body.get("dialog"), str):
        return TextContact(body["dialog"], LastLink.from_state(body.get("target")))
    if ask == "email" and isinstance(body.get("data"), dict):
        return EmailContact({str(k): v for k, v in body["data"].items() if isinstance(v, str)})
    if ask == "remindersOn":
        return RemindersOn(ReminderRequest.from_state(body.get("request")))
    if ask == "remindersOff":
        return RemindersOff()
    return None


def sentences(request: PrivateRequest) -> tuple[str, str]:
    """What the request is called in the two sentences about it: the first one in the one-to-one chat, and the one
    in the shared chat when that chat cannot be opened (which command to type there), so a `remind me` is not
    answered as if it were `get link`."""
    match request:
        case RemindersOn():
            return strings.PRIVATE_REMINDERS_ON_INTRO, strings.PRIVATE_REMINDERS_UNAVAILABLE
        case RemindersOff():
            return strings.PRIVATE_REMINDERS_OFF_INTRO, strings.PRIVATE_STOP_REMINDERS_UNAVAILABLE
        case TextContact():
            return strings.PRIVATE_TEXT_INTRO, strings.PRIVATE_FLOW_UNAVAILABLE
        case EmailContact():
            return strings.PRIVATE_EMAIL_INTRO, strings.PRIVATE_FLOW_UNAVAILABLE
        case GetLink():
            return strings.PRIVATE_FLOW_INTRO, strings.PRIVATE_FLOW_UNAVAILABLE
