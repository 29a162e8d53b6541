"""From what the user gave as "the meeting" to the client join link, as plain async functions.

Shared by the chat dialogs and the messaging extension, so both accept the same references and fail with the same
sentences. Every call takes the caller's absolute deadline (`graph.client.deadline_in`): an invoke has 5 seconds in
all, so nothing here may wait beyond it. Failures are one `LinkFailure` carrying the sentence to show.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from botbuilder.core import TurnContext

from dialogs.cards import strings
from dialogs.graph_errors import is_transient, sentence_for
from dialogs.services import DialogServices, ThisMeeting, turn_locale
from graph.errors import GraphError, Unauthorized
from graph.models import OnlineMeeting
from graph.references import ReferenceKind, Rejected, RejectReason, parse_meeting_reference

log = logging.getLogger(__name__)

T = TypeVar("T")

THIS_MEETING_WORDS = frozenset({"this meeting", "this one", "here"})
NEW_MEETING_MINUTES = 30

REJECTION_SENTENCES: dict[RejectReason, str] = {
    RejectReason.EMPTY: strings.REF_EMPTY,
    RejectReason.CHAT_THREAD_ID: strings.REF_CHAT_ID,
    RejectReason.CONTEXT_MEETING_ID: strings.REF_CHAT_ID,
    RejectReason.FOREIGN_HOST: strings.REF_NOT_TEAMS_LINK,
    RejectReason.UNRECOGNISED: strings.REF_UNRECOGNISED,
}


@dataclass(frozen=True)
class Meeting:
    """The meeting a link is for: its Graph id and what the result card shows about it."""

    id: str
    subject: str | None = None
    start: datetime | None = None
    end: datetime | None = None

    @classmethod
    def of(cls, meeting: OnlineMeeting | ThisMeeting) -> Meeting:
        graph_id = meeting.id if isinstance(meeting, OnlineMeeting) else meeting.graph_id
        return cls(graph_id, meeting.subject, meeting.start, meeting.end)


class LinkFailure(Exception):
    """Why there is no link, as the one sentence to show; `token_refused` when Graph rejected the user's token
    (the caller should sign the user out so the next attempt signs in afresh)."""

    def __init__(self, sentence: str, *, token_refused: bool = False, transient: bool = False) -> None:
        super().__init__(sentence)
        self.sentence = sentence
        self.token_refused = token_refused
        self.transient = transient  # the same request may well work in a moment: offer "Try again"


def rejection_sentence(rejected: Rejected) -> str:
    return REJECTION_SENTENCES.get(rejected.reason, rejected.message)


def is_this_meeting(text: str) -> bool:
    return text.strip().lower() in THIS_MEETING_WORDS


def teams_meeting_id(context: TurnContext) -> str | None:
    """`channelData.meeting.id`: the Teams meeting id, for the meeting info API only (Graph rejects it)."""
    data = context.activity.channel_data
    meeting = data.get("meeting") if isinstance(data, dict) else None
    meeting_id = meeting.get("id") if isinstance(meeting, dict) else None
    return meeting_id if isinstance(meeting_id, str) and meeting_id else None


def in_meeting_chat(context: TurnContext) -> bool:
    """True in a meeting's chat (or the meeting itself): Teams then sends `channelData.meeting.id`."""
    return teams_meeting_id(context) is not None


def reference_problem(text: str, *, in_meeting: bool) -> str | None:
    """Why `text` cannot name a meeting, decided without any I/O; None when it can."""
    if is_this_meeting(text):
        return None if in_meeting else strings.REF_NOT_IN_MEETING
    parsed = parse_meeting_reference(text)
    return rejection_sentence(parsed) if isinstance(parsed, Rejected) else None


async def within(awaitable: Awaitable[T], deadline: float) -> T:
    """Await something that does not take a deadline itself (meeting info, the token service) until `deadline`;
    TimeoutError after it."""
    async with asyncio.timeout_at(deadline):
        return await awaitable


def _graph_failure(exc: GraphError, what: str) -> LinkFailure:
    log.info("%s failed: %s %s", what, type(exc).__name__, exc.status)
    return LinkFailure(sentence_for(exc), token_refused=isinstance(exc, Unauthorized), transient=is_transient(exc))


def next_quarter_hour(now: datetime) -> datetime:
    """The next :00, :15, :30 or :45 at least five minutes away: a sensible start for a meeting set up now."""
    base = now.replace(second=0, microsecond=0)
    start = base + timedelta(minutes=15 - base.minute % 15)
    return start if start - now >= timedelta(minutes=5) else start + timedelta(minutes=15)


async def find_meeting(
    services: DialogServices, context: TurnContext, text: str, *, deadline: float, new_meeting_key: str
) -> Meeting:
    """The meeting `text` names: "this meeting" (Teams' meeting info, never `channelData.meeting.id`), a join
    URL, a meeting ID, a Graph id, or `new` (created with `createOrGet` under `new_meeting_key`, so a retried
    request gets the same meeting rather than a second one)."""
    if is_this_meeting(text):
        if not in_meeting_chat(context):
            raise LinkFailure(strings.REF_NOT_IN_MEETING)
        try:
            this = await within(services.this_meeting(context), deadline)
        except TimeoutError:
            raise LinkFailure(strings.ERR_TRY_LATER) from None
        if this is None:
            raise LinkFailure(strings.ERR_MEETING_INFO)
        return Meeting.of(this)
    parsed = parse_meeting_reference(text)
    if isinstance(parsed, Rejected):
        raise LinkFailure(rejection_sentence(parsed))
    graph = services.graph(context)
    try:
        if parsed.kind is ReferenceKind.NEW:
            start = next_quarter_hour(datetime.now(UTC))
            created = await graph.create_or_get_meeting(
                new_meeting_key,
                subject=strings.NEW_MEETING_SUBJECT,
                start=start,
                end=start + timedelta(minutes=NEW_MEETING_MINUTES),
                deadline=deadline,
            )
            return Meeting.of(created.meeting)
        return Meeting.of(await graph.resolve_meeting(parsed, deadline=deadline))
    except GraphError as exc:
        raise _graph_failure(exc, "meeting lookup") from None


async def join_link(services: DialogServices, context: TurnContext, meeting_id: str, *, deadline: float) -> str:
    """The client join link, exactly as Graph returned it."""
    try:
        return await services.graph(context).get_join_link(meeting_id, locale=turn_locale(context), deadline=deadline)
    except GraphError as exc:
        raise _graph_failure(exc, "join link") from None
