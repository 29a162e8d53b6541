"""Stand-ins for the scheduler's two collaborators (the meeting source and the announcer), for the scheduler's own
tests: a calendar per user that the test edits, and a record of every announcement."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from bot.reminders.records import ConversationRef, Subscription
from bot.reminders.schedule import Occurrence
from bot.reminders.scheduler import Commit, NoToken, Outcome, Throttled


def subscription(user: str, lead: int = 15, revision: str = "1") -> Subscription:
    ref = ConversationRef(service_url="https://smba.example/", conversation_id=f"a:{user}", user_id=user,
                          bot_id="28:bot")
    return Subscription(version=1, user_key=user, conversation=ref, lead_minutes=lead, revision=revision)


@dataclass
class Calendar:
    """meetings: user -> {meeting key: start}; `no_token`/`throttled` users fail their reads."""

    meetings: dict[str, dict[str, datetime]] = field(default_factory=dict)
    no_token: set[str] = field(default_factory=set)
    throttled: dict[str, float] = field(default_factory=dict)
    reads: list[tuple[str, datetime]] = field(default_factory=list)

    async def upcoming(self, subscription: Subscription, start: datetime, end: datetime) -> list[Occurrence]:
        user = subscription.user_key
        self.reads.append((user, start))
        if user in self.no_token:
            raise NoToken()
        if user in self.throttled:
            raise Throttled(self.throttled[user])
        return [Occurrence(key, at) for key, at in self.meetings.get(user, {}).items() if start <= at < end]


@dataclass
class Outbox:
    """Every announcement as (user, meeting key, start, clock time); `outcome` per user overrides SENT."""

    clock: object
    sent: list[tuple[str, str, datetime, datetime]] = field(default_factory=list)
    sign_in_asks: list[str] = field(default_factory=list)
    outcome: dict[str, Outcome] = field(default_factory=dict)

    async def announce(self, subscription: Subscription, occurrence: Occurrence, commit: Commit) -> Outcome:
        outcome = self.outcome.get(subscription.user_key, Outcome.SENT)
        if outcome in (Outcome.NO_TOKEN, Outcome.FAILED):  # before the send: the lookups failed
            return outcome
        if not await commit():
            return Outcome.SKIPPED
        if outcome is Outcome.SENT:
            now = self.clock.now()  # type: ignore[attr-defined]
            self.sent.append((subscription.user_key, occurrence.meeting_key, occurrence.start, now))
        return outcome

    async def ask_to_sign_in(self, subscription: Subscription) -> Outcome:
        self.sign_in_asks.append(subscription.user_key)
        return Outcome.SENT
