"""What the poller reads and sends: the user's meetings (the same choices as `get link`: online meetings they
organise and their own online Bookings appointments, merged), and, when one is due, the result card with its client
link in the user's 1:1 chat.

Everything runs outside any turn of the user's: their Graph token comes from the token service (`UserTokens`), the
card goes out as a proactive message (`ProactiveSender`). Graph's answers map onto what the scheduler understands:
no token, or a token Graph refuses, is `NoToken` / `Outcome.NO_TOKEN` (pause and ask to sign in again); throttling
beyond a short wait is `Throttled` with Graph's Retry-After; anything else is a failure that a later check retries.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime

from botbuilder.core import CardFactory, MessageFactory, TurnContext

from bot.reminders.proactive import ProactiveSender, UserTokens
from bot.reminders.records import Subscription
from bot.reminders.schedule import Occurrence
from bot.reminders.scheduler import Commit, NoToken, Outcome, Throttled
from bot.telemetry import record
from dialogs.cards import strings
from dialogs.client_details import ClientDetails, region_from_locale, validate_client_details
from dialogs.link import link_card
from dialogs.lookup import LinkFailure, booking_meeting, link_kind
from graph.bookings import BookingsDirectory, BookingsResult, BookingsStatus
from graph.choices import MeetingChoice, merge_choices
from graph.client import GraphClient
from graph.errors import GraphError, Unauthorized
from graph.errors import Throttled as GraphThrottled
from graph.models import Meeting, UpcomingMeeting

log = logging.getLogger(__name__)

TokenProvider = Callable[[], Awaitable[str]]
CHECK_DEADLINE_S = 10.0  # one check's Graph calls; a Retry-After beyond it is the scheduler's to honour
MAX_MEETINGS = 50  # a window of about 80 minutes never holds more for one person


def bookings_key(subscription: Subscription) -> str:
    """The key the Bookings directory caches a user under (the same as `dialogs.lookup.bookings_user`)."""
    ref = subscription.conversation
    return f"{ref.tenant_id or ''}|{ref.user_id}"


class GraphMeetingSource:
    """The user's upcoming choices in a window, as occurrences keyed by meeting (stable across a reschedule)."""

    def __init__(
        self,
        tokens: UserTokens,
        graph_factory: Callable[[TokenProvider], GraphClient],
        bookings: BookingsDirectory,
    ) -> None:
        self.tokens = tokens
        self.graph_factory = graph_factory
        self.bookings = bookings

    async def graph_for(self, subscription: Subscription) -> GraphClient:
        """A Graph client with the user's token now (NoToken when there is none)."""
        token = await self.tokens.token(subscription)
        if not token:
            raise NoToken()

        async def provider() -> str:
            return token

        return self.graph_factory(provider)

    async def upcoming(self, subscription: Subscription, start: datetime, end: datetime) -> list[Occurrence]:
        graph = await self.graph_for(subscription)
        deadline = asyncio.get_running_loop().time() + CHECK_DEADLINE_S
        calendar, bookings = await asyncio.gather(
            graph.upcoming_meetings(start=start, end=end, want=MAX_MEETINGS, deadline=deadline),
            self.bookings.appointments(graph, bookings_key(subscription), start=start, end=end, deadline=deadline),
            return_exceptions=True,
        )
        if isinstance(calendar, Unauthorized) or isinstance(bookings, Unauthorized):
            raise NoToken()
        if isinstance(calendar, GraphThrottled):
            raise Throttled(calendar.retry_after)
        if isinstance(calendar, BaseException):
            raise calendar
        if isinstance(bookings, BaseException):  # Bookings down: the calendar still counts; the next check retries
            log.info("Bookings unavailable for a reminder check: %s", type(bookings).__name__)
            bookings = BookingsResult((), BookingsStatus.FAILED)
        return occurrences(calendar, bookings)


def occurrences(calendar: list[UpcomingMeeting], bookings: BookingsResult) -> list[Occurrence]:
    """The merged choices (each meeting once, Bookings first) with a known start, as occurrences."""
    me = bookings.me
    choices = merge_choices(calendar, bookings.appointments, user_id=me.id if me else None, limit=MAX_MEETINGS)
    found = []
    for choice in choices:
        if choice.start is None or not choice.key:
            continue
        start = choice.start if choice.start.tzinfo else choice.start.replace(tzinfo=UTC)
        found.append(Occurrence(choice.key, start, choice))
    return found


def client_of(meeting: Meeting, locale: str | None) -> ClientDetails:
    """What the bot knows of the client: a Bookings appointment's customer (only what validates)."""
    customer = meeting.customer
    if customer is None:
        return ClientDetails()
    details, _ = validate_client_details(
        customer.name, customer.email, customer.phone, default_region=region_from_locale(locale)
    )
    return details


class CardAnnouncer:
    """Looks the meeting up, gets its client link and sends the result card to the user's 1:1 chat."""

    def __init__(self, source: GraphMeetingSource, sender: ProactiveSender, now: Callable[[], datetime]) -> None:
        self.source = source
        self.sender = sender
        self.now = now

    async def announce(self, subscription: Subscription, occurrence: Occurrence, commit: Commit) -> Outcome:
        choice = occurrence.item
        if not isinstance(choice, MeetingChoice):
            raise TypeError("a reminder occurrence carries a MeetingChoice")
        try:
            graph = await self.source.graph_for(subscription)
        except NoToken:
            return Outcome.NO_TOKEN
        deadline = asyncio.get_running_loop().time() + CHECK_DEADLINE_S
        try:
            meeting = await self.meeting_of(graph, subscription, choice, deadline)
            url = meeting.client_url or await graph.get_join_link(
                meeting.id, locale=subscription.locale, deadline=deadline
            )
        except Unauthorized:
            return Outcome.NO_TOKEN
        except (GraphError, LinkFailure) as exc:
            log.info("no link for a reminder yet: %s", type(exc).__name__)
            return Outcome.FAILED
        client, now = client_of(meeting, subscription.locale), self.now()

        async def deliver(context: TurnContext) -> None:
            # Built in the proactive turn, which speaks the user's language (the sender sees to it).
            card = link_card(
                url, meeting, client, subscription.time_zone, texting=True, now=now, title=strings.REMINDER_TITLE
            )
            await context.send_activity(MessageFactory.attachment(CardFactory.adaptive_card(card)))

        if not await commit():  # claimed right before the send, after every lookup
            return Outcome.SKIPPED
        outcome = await self.sender.send(subscription, deliver)
        if outcome is Outcome.SENT:
            record.link_issued("reminder", link_kind(meeting))
        return outcome

    async def meeting_of(
        self, graph: GraphClient, subscription: Subscription, choice: MeetingChoice, deadline: float
    ) -> Meeting:
        """The one meeting shape: a Bookings appointment through the shared lookup, a calendar meeting by its join
        URL (the choice's subject and times kept: they are the calendar's)."""
        if choice.appointment is not None:
            membership = self.source.bookings.cached(bookings_key(subscription))
            me = membership.me if membership else None
            return await booking_meeting(graph, choice.appointment, user_id=me.id if me else None, deadline=deadline)
        if not choice.join_url:
            raise LinkFailure(strings.ERR_BOOKING_NO_LINK)
        found = (await graph.find_meeting_by_join_url(choice.join_url, deadline=deadline)).as_meeting()
        return replace(found, subject=choice.subject or found.subject, start=choice.start, end=choice.end)

    async def ask_to_sign_in(self, subscription: Subscription) -> Outcome:
        async def deliver(context: TurnContext) -> None:
            await context.send_activity(strings.REMINDERS_SIGN_IN_AGAIN)

        return await self.sender.send(subscription, deliver)
