"""What is due, and when to look again: pure functions of the clock, a user and their meetings. No I/O.

Rules (DESIGN.md section 10): a meeting is announced once `start - lead <= now < start`, so one already inside the
lead time when reminders are turned on (and not yet started) is announced at the first check. The first check for a
user comes within `FIRST_CHECK_S` of opting in (or of a poller starting), spread by a hash of the user; then checks
follow a per-user phase on a `POLL_INTERVAL_S` grid (at most that far apart, spread evenly over the interval), and
one more at the moment the next meeting's reminder falls due, so the reminder is on time and a meeting moved since
the last look is seen at its new time. The announcement key includes the start, so a moved meeting is announced again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

FIRST_CHECK_S = 60.0  # a new (or changed) subscription is looked at within this, and so is everyone after a restart
POLL_INTERVAL_S = 300.0  # "at least every 5 minutes"
DISCOVERY_S = 20.0  # how often the poller re-reads the subscription list (an opt-in on any instance is seen in this)
RETRY_AFTER_FAILURE_S = 60.0  # Graph or the token service failed without saying when to come back
MIN_THROTTLE_S = 60.0  # throttled: never sooner than this, longer when Graph's Retry-After says so
WINDOW_MARGIN_S = 300.0  # look this far past the furthest reminder that can fall due before the next regular check
_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Occurrence:
    """One upcoming meeting occurrence: a key stable across reschedules (calendar event id, booking id), its start
    (aware), and whatever the announcer needs to build the card (opaque here)."""

    meeting_key: str
    start: datetime
    item: object = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class CheckPlan:
    """The outcome of one check: the occurrences to announce now (soonest first) and when to check next."""

    due: tuple[Occurrence, ...]
    next_check: datetime


def _fraction(*parts: str) -> float:
    """A stable number in [0, 1) from the parts: spreads users over time without any shared state."""
    digest = hashlib.sha256("\x1f".join(parts).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def announcement_key(user_key: str, meeting_key: str, start: datetime) -> str:
    """The at-most-once key of one announcement: user, meeting and start (UTC, to the second)."""
    moment = start.astimezone(UTC).replace(microsecond=0).isoformat()
    return hashlib.sha256("\x1f".join((user_key, meeting_key, moment)).encode()).hexdigest()


def first_check(now: datetime, user_key: str, *, within_s: float = FIRST_CHECK_S - DISCOVERY_S) -> datetime:
    """When to look first at a user just seen (opted in, changed, or the poller just started): within `within_s`,
    so that with the discovery delay the first check comes within `FIRST_CHECK_S` of opting in."""
    return now + timedelta(seconds=_fraction("first", user_key) * within_s)


def next_regular_check(now: datetime, user_key: str, *, interval_s: float = POLL_INTERVAL_S) -> datetime:
    """The user's next slot on their own phase of the `interval_s` grid: strictly after `now`, at most `interval_s`
    away, and different users' slots spread evenly over the interval."""
    phase = _fraction("phase", user_key) * interval_s
    elapsed = (now - _EPOCH).total_seconds() - phase
    slots = elapsed // interval_s + 1
    return _EPOCH + timedelta(seconds=phase + slots * interval_s)


def poll_window(now: datetime, lead_minutes: int, *, interval_s: float = POLL_INTERVAL_S) -> tuple[datetime, datetime]:
    """The calendar range a check reads: every meeting whose reminder can fall due before the next regular check
    (plus a margin), and nothing beyond, so a check reads one short page."""
    span = timedelta(minutes=lead_minutes, seconds=interval_s + WINDOW_MARGIN_S)
    return now, now + span


def plan_check(
    now: datetime,
    user_key: str,
    lead_minutes: int,
    occurrences: Iterable[Occurrence],
    *,
    interval_s: float = POLL_INTERVAL_S,
) -> CheckPlan:
    """What to announce now, and when to look again (the next regular slot, or the moment the next reminder falls
    due, whichever is sooner). Duplicates (the same meeting from two sources) count once."""
    lead = timedelta(minutes=lead_minutes)
    unique = {(o.meeting_key, o.start): o for o in occurrences}
    due = sorted(
        (o for o in unique.values() if o.start - lead <= now < o.start), key=lambda o: (o.start, o.meeting_key)
    )
    regular = next_regular_check(now, user_key, interval_s=interval_s)
    alerts = [o.start - lead for o in unique.values() if o.start - lead > now]
    return CheckPlan(tuple(due), min([regular, *alerts]))


def after_throttling(now: datetime, retry_after_s: float | None) -> datetime:
    """When to look again after Graph throttled this user: Retry-After when given, never sooner than a minute."""
    return now + timedelta(seconds=max(retry_after_s or 0.0, MIN_THROTTLE_S))


def after_failure(now: datetime) -> datetime:
    """When to look again after a transient failure (Graph unavailable, token service down)."""
    return now + timedelta(seconds=RETRY_AFTER_FAILURE_S)
