"""The one meeting lookup: from what the user gave as "the meeting" to a `Meeting`, and from a meeting to its
client join link, as plain async functions.

A Bookings appointment (its id, a Bookings link, or a choice) becomes a `Meeting` whose link is the appointment's
`anonymousJoinWebUrl`; when the user organises its online meeting, it also gets the meeting's id (for the join-link
function and texting). `new` puts a meeting on the user's calendar, or, without calendar consent, makes a
standalone one (`Meeting.on_calendar` False).

Used by the chat dialogs and the messaging extension alike, so both accept the same references and fail with the
same sentences. Every call takes the caller's absolute deadline (`graph.client.deadline_in`): an invoke has
5 seconds in all, so nothing here may wait beyond it. Failures are one `LinkFailure` carrying the sentence to show.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from dialogs.cards import strings
from dialogs.commands import is_word
from dialogs.graph_errors import GraphCall, is_transient, sentence_for
from dialogs.services import DialogServices
from dialogs.turn import Turn
from graph.choices import from_booking
from graph.client import GraphClient, within
from graph.errors import Forbidden, GraphError, Unauthorized
from graph.models import BookingAppointment, Meeting
from graph.references import (
    MeetingReference,
    ReferenceKind,
    Rejected,
    RejectReason,
    join_url_thread,
    parse_meeting_reference,
)

log = logging.getLogger(__name__)

NEW_MEETING_MINUTES = 30
# A pasted Teams join link of a Bookings appointment is looked for among the user's appointments in this window.
BOOKING_LOOKBACK = timedelta(hours=1)
BOOKING_LOOKAHEAD = timedelta(days=7)


def bookings_user(turn: Turn) -> str:
    """The key Bookings facts are cached under for this user."""
    return f"{turn.tenant_id or ''}|{turn.user_id}"


class LinkFailure(Exception):
    """Why there is no meeting or link, as the one sentence to show; `token_refused` when Graph rejected the user's
    token (the caller signs the user out so the next attempt signs in afresh); `transient` when the same request may
    well work in a moment (offer "Try again")."""

    def __init__(self, sentence: str, *, token_refused: bool = False, transient: bool = False) -> None:
        super().__init__(sentence)
        self.sentence = sentence
        self.token_refused = token_refused
        self.transient = transient


@dataclass(frozen=True, slots=True)
class NewMeeting:
    """What `new` creates: a calendar event (or, without calendar consent, `createOrGet`) under `key`, so a retried
    request gets the same meeting, not a second."""

    key: str
    subject: str
    start: datetime
    end: datetime

    @classmethod
    def starting_soon(cls, key: str, now: datetime) -> NewMeeting:
        start = next_quarter_hour(now)
        return cls(key, strings.NEW_MEETING_SUBJECT, start, start + timedelta(minutes=NEW_MEETING_MINUTES))


Given = str | MeetingReference | NewMeeting  # typed text, a parsed reference, or a new meeting to set up


def is_this_meeting(text: str) -> bool:
    """"this meeting" (or "this one", "here"), in the user's language or English."""
    return is_word(text, "THIS_MEETING") or is_word(text, "CMD_THIS_MEETING")


def rejection_sentence(rejected: Rejected) -> str:
    """Why a reference was refused, in the user's language (read now, not at import, so it is translated)."""
    sentences = {
        RejectReason.EMPTY: strings.REF_EMPTY,
        RejectReason.CHAT_THREAD_ID: strings.REF_CHAT_ID,
        RejectReason.CONTEXT_MEETING_ID: strings.REF_CHAT_ID,
        RejectReason.FOREIGN_HOST: strings.REF_NOT_TEAMS_LINK,
        RejectReason.PERSONAL_TEAMS: strings.REF_PERSONAL_TEAMS,
        RejectReason.NATIONAL_CLOUD: strings.REF_NATIONAL_CLOUD,
        RejectReason.NOT_A_JOIN_LINK: strings.REF_NOT_A_JOIN_LINK,
        RejectReason.BOOKING_WITHOUT_ID: strings.REF_BOOKING_WITHOUT_ID,
    }
    return sentences.get(rejected.reason, strings.REF_UNRECOGNISED)


def parse_reference(text: str) -> MeetingReference | Rejected:
    """`parse_meeting_reference`, with the word for a new meeting understood in the user's language too."""
    return parse_meeting_reference("new" if is_word(text, "CMD_NEW") else text)


def parse(text: str, turn: Turn) -> MeetingReference | str | LinkFailure:
    """Decide without any I/O what `text` names: "this meeting" (returned as the text), a reference, or why it
    cannot name a meeting."""
    if is_this_meeting(text):
        return text if turn.in_meeting_chat else LinkFailure(strings.REF_NOT_IN_MEETING)
    parsed = parse_reference(text)
    return LinkFailure(rejection_sentence(parsed)) if isinstance(parsed, Rejected) else parsed


def next_quarter_hour(now: datetime) -> datetime:
    """The next :00, :15, :30 or :45 at least five minutes away: a sensible start for a meeting set up now."""
    base = now.replace(second=0, microsecond=0)
    start = base + timedelta(minutes=15 - base.minute % 15)
    return start if start - now >= timedelta(minutes=5) else start + timedelta(minutes=15)


def link_kind(meeting: Meeting) -> str:
    """Where the meeting came from, for the links-issued metric: a Bookings appointment, `new`, or the calendar."""
    if meeting.booking_id:
        return "bookings"
    return "new" if meeting.on_calendar is not None else "calendar"


def failure_reason(failure: LinkFailure) -> str:
    """A link failure as one word for telemetry."""
    if failure.token_refused:
        return "token_refused"
    return "transient" if failure.transient else "refused"


def graph_failure(exc: GraphError, call: GraphCall) -> LinkFailure:
    """A Graph error as the failure to show; `call` names the permission a consent refusal is about."""
    log.info("%s failed: %s %s", call.name.lower(), type(exc).__name__, exc.status)
    refused = isinstance(exc, Unauthorized)
    return LinkFailure(sentence_for(exc, call), token_refused=refused, transient=is_transient(exc))


async def find_meeting(
    services: DialogServices, turn: Turn, given: Given, *, deadline: float, new_meeting_key: str | None = None
) -> Meeting:
    """The meeting `given` names: "this meeting" (Teams' meeting info, never `channelData.meeting.id`), a join URL,
    a meeting ID, a Graph id, a Bookings appointment, or a new meeting (`NewMeeting`, or the text `new` with
    `new_meeting_key`)."""
    if isinstance(given, str):
        parsed = parse(given, turn)
        if isinstance(parsed, LinkFailure):
            raise parsed
        if isinstance(parsed, str):
            return await _this_meeting(services, turn, deadline)
        given = parsed
    if isinstance(given, MeetingReference) and given.kind is ReferenceKind.NEW:
        if new_meeting_key is None:
            raise ValueError("`new` needs a new_meeting_key or a NewMeeting")
        given = NewMeeting.starting_soon(new_meeting_key, datetime.now(UTC))
    graph = services.graph(turn.context)
    try:
        if isinstance(given, NewMeeting):
            made = await graph.schedule_meeting(
                given.key, subject=given.subject, start=given.start, end=given.end, deadline=deadline
            )
            return replace(made.meeting.as_meeting(), on_calendar=made.on_calendar)
        if given.kind is ReferenceKind.BOOKING:
            return await _booking(services, turn, graph, given.value, deadline)
        try:
            return (await graph.resolve_meeting(given, deadline=deadline)).as_meeting()
        except Forbidden:
            if given.kind is not ReferenceKind.JOIN_URL:
                raise
            booked = await _booking_by_join_url(services, turn, graph, given.value, deadline)
            if booked is None:
                raise
            return booked
    except GraphError as exc:
        raise graph_failure(exc, _call_of(given)) from None


def _call_of(given: MeetingReference | NewMeeting) -> GraphCall:
    """Which kind of call a lookup of `given` made, for the permission a consent refusal names."""
    if isinstance(given, NewMeeting):
        return GraphCall.CREATE_MEETING  # on the calendar first, else createOrGet: the last refusal is the latter's
    return GraphCall.BOOKINGS if given.kind is ReferenceKind.BOOKING else GraphCall.LOOKUP


async def _booking_by_join_url(
    services: DialogServices, turn: Turn, graph: GraphClient, join_url: str, deadline: float
) -> Meeting | None:
    """The user's own Bookings appointment with this Teams join URL (its mailbox organises the meeting, so Graph
    refused the lookup), looked for from an hour ago to a week ahead; None when there is none."""
    thread = join_url_thread(join_url)
    if thread is None:
        return None
    now = datetime.now(UTC)
    found = await services.bookings.appointments(
        graph, bookings_user(turn), start=now - BOOKING_LOOKBACK, end=now + BOOKING_LOOKAHEAD, deadline=deadline
    )
    me = found.me
    for appointment in found.appointments:
        if appointment.join_web_url and join_url_thread(appointment.join_web_url) == thread:
            return await booking_meeting(graph, appointment, user_id=me.id if me else None, deadline=deadline)
    return None


async def _booking(
    services: DialogServices, turn: Turn, graph: GraphClient, appointment_id: str, deadline: float
) -> Meeting:
    """A Bookings appointment the user can see (in a business where they are staff), as a Meeting."""
    user = bookings_user(turn)
    appointment = await services.bookings.find_appointment(graph, user, appointment_id, deadline=deadline)
    if appointment is None:
        raise LinkFailure(strings.REF_BOOKING_NOT_FOUND)
    membership = services.bookings.cached(user)
    me = membership.me if membership else None
    return await booking_meeting(graph, appointment, user_id=me.id if me else None, deadline=deadline)


async def booking_meeting(
    graph: GraphClient, appointment: BookingAppointment, *, user_id: str | None, deadline: float
) -> Meeting:
    """The Meeting of an appointment: its anonymous link as the client link; its onlineMeeting id only when the
    user organises it (normally the booking mailbox does, and Graph refuses anyone else the lookup)."""
    meeting_id = ""
    choice = from_booking(appointment, user_id=user_id)
    if choice.user_organises and appointment.join_web_url:
        try:
            meeting_id = (await graph.find_meeting_by_join_url(appointment.join_web_url, deadline=deadline)).id
        except Forbidden:
            meeting_id = ""
    if not meeting_id and not appointment.anonymous_join_web_url:
        raise LinkFailure(strings.ERR_BOOKING_NO_LINK)
    return Meeting(
        meeting_id,
        appointment.service_name,
        appointment.start,
        appointment.end,
        client_url=appointment.anonymous_join_web_url,
        booking_id=appointment.id,
        customer=appointment.customer,
    )


async def _this_meeting(services: DialogServices, turn: Turn, deadline: float) -> Meeting:
    try:
        this = await within(services.this_meeting(turn.context), deadline)
    except TimeoutError:
        raise LinkFailure(strings.ERR_TRY_LATER, transient=True) from None
    if this is None:
        raise LinkFailure(strings.ERR_MEETING_INFO)
    return this


async def client_link(services: DialogServices, turn: Turn, meeting: Meeting, *, deadline: float) -> str:
    """The meeting's client link: the one Bookings gave with the appointment, else the join-link function's."""
    if meeting.client_url:
        return meeting.client_url
    if not meeting.id:
        raise LinkFailure(strings.ERR_BOOKING_NO_LINK)
    return await join_link(services, turn, meeting.id, deadline=deadline)


async def join_link(services: DialogServices, turn: Turn, meeting_id: str, *, deadline: float) -> str:
    """The client join link, exactly as Graph returned it."""
    try:
        return await services.graph(turn.context).get_join_link(meeting_id, deadline=deadline)
    except GraphError as exc:
        raise graph_failure(exc, GraphCall.JOIN_LINK) from None
