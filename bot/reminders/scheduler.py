"""The poller: one instance at a time (the lease holder) checks every subscribed user's meetings and announces
what `schedule.plan_check` says is due, each occurrence at most once (a claim in the shared store, made right before
the send, after re-reading the subscription and checking the lease is still held).

`ReminderService` is the lifecycle: try for the lease, poll while holding it (renewing it), stop the moment it is
lost (a renewal that fails, raises or hangs), and hand it back on shutdown (SIGTERM runs the app's cleanup, after
in-flight turns drain). Between renewals the scheduler checks `holding()` (the lease's own time, on this instance's
monotonic clock) before every claim and send. `ReminderScheduler` is one polling session: it
starts with every user's first check within a minute (a restart, or a takeover, misses nothing that is still due),
re-reads the subscription list every `DISCOVERY_S`, and bounds Graph traffic: at most `concurrency` users at once,
each on their own phase, throttled users not before Graph's Retry-After.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

import msgspec
from aiohttp import web

from bot.reminders import schedule
from bot.reminders.clock import Clock
from bot.reminders.records import Subscription
from bot.reminders.schedule import Occurrence
from bot.reminders.store import ClaimTicket, PollerLease, ReminderStore, Stored
from bot.telemetry import record

log = logging.getLogger(__name__)

DEFAULT_CONCURRENCY = 8
MARK_ATTEMPTS = 3  # marking a sent claim is retried (never the send); a claim left pending is never resent
LEASE_MARGIN_S = 2.0  # stop claiming and sending this long before the lease could lapse

Commit = Callable[[], Awaitable[bool]]


class NoToken(Exception):
    """The token service has no token for the user any more (signed out, consent revoked, token expired)."""


class Throttled(Exception):
    """Graph throttled this user's check beyond the client's retries; come back after `retry_after` seconds."""

    def __init__(self, retry_after: float | None) -> None:
        super().__init__("throttled")
        self.retry_after = retry_after


class Outcome(enum.Enum):
    SENT = "sent"
    NO_TOKEN = "no token"  # noqa: S105 - ask the user to sign in again, then pause
    GONE = "gone"  # the connector says the chat is gone (403/404: app uninstalled): remove the subscription
    FAILED = "failed"  # nothing was sent (Graph failed, or Teams answered an error): try again at the next check
    UNCERTAIN = "uncertain"  # the send got no answer (timeout, connection lost): maybe posted, so never resent
    SKIPPED = "skipped"  # `commit` said no (claimed elsewhere, stopped, the lease lost): nothing sent


class MeetingSource(Protocol):
    async def upcoming(self, subscription: Subscription, start: datetime, end: datetime) -> list[Occurrence]:
        """The user's occurrences starting in [start, end). Raises NoToken, Throttled, or anything for "later"."""
        ...


class Announcer(Protocol):
    async def announce(self, subscription: Subscription, occurrence: Occurrence, commit: Commit) -> Outcome:
        """Look the meeting up, then, only if `commit()` says yes (it claims the occurrence), send the reminder card
        to the user's 1:1 chat; SKIPPED when it said no."""
        ...

    async def ask_to_sign_in(self, subscription: Subscription) -> Outcome:
        """Tell the user, once, that reminders stopped until they sign in again."""
        ...


@dataclass
class _User:
    stored: Stored
    next_check: datetime


class ReminderScheduler:
    """One polling session; run it only while holding the poller lease."""

    def __init__(
        self,
        store: ReminderStore,
        source: MeetingSource,
        announcer: Announcer,
        clock: Clock,
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        holding: Callable[[], bool] = lambda: True,
    ) -> None:
        self.holding = holding  # the poller lease is still ours (ReminderService sets it)
        self.store = store
        self.source = source
        self.announcer = announcer
        self.clock = clock
        self._limit = asyncio.Semaphore(concurrency)
        self._users: dict[str, _User] = {}
        self._next_discovery = clock.now()

    async def run(self) -> None:
        while True:
            await self.step()
            wake = min([self._next_discovery, *(u.next_check for u in self._users.values())])
            await self.clock.sleep_until(wake)

    async def step(self) -> None:
        """Everything due at the clock's current time: re-read the subscriptions if it is time, then check every
        user whose next check has come (at most `concurrency` at once)."""
        now = self.clock.now()
        if now >= self._next_discovery:
            await self.discover(now)
        due = [key for key, user in self._users.items() if user.next_check <= now]
        if due:
            await asyncio.gather(*(self._check_bounded(key) for key in due))

    async def discover(self, now: datetime) -> None:
        """Follow the subscription list: new or changed users get a first check within a minute; removed and paused
        users are dropped. A store failure keeps the list we have and tries again at the next discovery."""
        self._next_discovery = now + timedelta(seconds=schedule.DISCOVERY_S)
        try:
            listed = await self.store.list()
        except Exception as exc:
            log.warning("could not list reminder subscriptions: %s", type(exc).__name__)
            return
        seen: dict[str, _User] = {}
        for stored in listed:
            sub = stored.subscription
            if sub.paused:
                continue
            known = self._users.get(sub.user_key)
            if known is not None and known.stored.subscription.revision == sub.revision:
                known.stored = stored
                seen[sub.user_key] = known
            else:
                seen[sub.user_key] = _User(stored, schedule.first_check(now, sub.user_key))
        self._users = seen

    async def _check_bounded(self, key: str) -> None:
        async with self._limit:
            try:
                await self.check(key)
            except Exception as exc:  # never let one user's failure stop the others
                log.warning("reminder check failed: %s", type(exc).__name__)
                user = self._users.get(key)
                if user is not None:
                    user.next_check = schedule.after_failure(self.clock.now())

    async def check(self, key: str) -> None:
        """One user's check: read their meetings, announce what is due, plan the next check. A trace of its own."""
        user = self._users.get(key)
        if user is None:
            return
        with record.span("reminders check"):
            await self._check(user, key)

    async def _check(self, user: _User, key: str) -> None:
        sub = user.stored.subscription
        start, end = schedule.poll_window(self.clock.now(), sub.lead_minutes)
        try:
            occurrences = await self.source.upcoming(sub, start, end)
        except NoToken:
            await self._pause(user)
            return
        except Throttled as exc:
            user.next_check = schedule.after_throttling(self.clock.now(), exc.retry_after)
            log.info("reminder check throttled; next in at least %.0f s", exc.retry_after or schedule.MIN_THROTTLE_S)
            return
        except Exception as exc:
            log.info("reminder check failed: %s", type(exc).__name__)
            user.next_check = schedule.after_failure(self.clock.now())
            return
        plan = schedule.plan_check(self.clock.now(), key, sub.lead_minutes, occurrences)
        for occurrence in plan.due:
            if not await self._announce_once(user, occurrence):
                return
        user.next_check = plan.next_check

    async def _announce_once(self, user: _User, occurrence: Occurrence) -> bool:
        """Look up, claim, send, record; at most once. False when the user is gone, stopped or paused (stop checking
        them). The claim comes last before the send: the subscription re-read (so `stop reminders` stops at once),
        the lease still held; and a sent claim is marked with retries, never by sending again."""
        sub = user.stored.subscription
        key = schedule.announcement_key(sub.user_key, occurrence.meeting_key, occurrence.start)
        if not self.holding() or await self.store.announced(key):
            return True  # announced (or lost mid-send: never twice); or not ours to send any more
        ticket: ClaimTicket | None = None
        stopped = False

        async def commit() -> bool:
            nonlocal ticket, stopped
            current = await self.store.get(sub.user_key)
            if current is None or current.subscription.paused or current.subscription.revision != sub.revision:
                stopped = current is None or current.subscription.paused
                return False  # stopped, paused, or opted in again since (the next discovery looks afresh)
            if not self.holding():
                return False
            ticket = await self.store.claim(key, self.clock.now(), occurrence.start)
            if ticket is not None and not self.holding():  # lost while claiming: give it back, send nothing
                await self.store.release(ticket)
                ticket = None
            return ticket is not None

        try:
            with record.span("reminders send"):
                outcome = await self.announcer.announce(sub, occurrence, commit)
        except Exception as exc:
            log.warning("reminder send failed: %s", type(exc).__name__)
            outcome = Outcome.UNCERTAIN if ticket is not None else Outcome.FAILED
        record.reminder(outcome.name.lower())
        if stopped:
            self._users.pop(sub.user_key, None)
            return False
        if ticket is not None:
            if outcome is Outcome.SENT or outcome is Outcome.UNCERTAIN:
                if outcome is Outcome.SENT:
                    await self._mark_sent(ticket)
                return True  # UNCERTAIN: left pending, so never sent again
            await self.store.release(ticket)  # Teams said nothing was posted (or nothing was tried)
        if outcome is Outcome.GONE:
            log.info("reminders removed: the user's chat with the bot is gone")
            await self.store.delete(sub.user_key)
            self._users.pop(sub.user_key, None)
            return False
        if outcome is Outcome.NO_TOKEN:
            await self._pause(user)
            return False
        return True  # FAILED or SKIPPED: the next check (at most a few minutes away) looks again

    async def _mark_sent(self, ticket: ClaimTicket) -> None:
        for attempt in range(1, MARK_ATTEMPTS + 1):
            try:
                await self.store.mark_sent(ticket)
                return
            except Exception as exc:
                log.warning("could not mark a reminder sent (attempt %d): %s", attempt, type(exc).__name__)
                await asyncio.sleep(0.2 * attempt)
        # Left pending: claims never lapse, so it is still never sent again.

    async def _pause(self, user: _User) -> None:
        """No token: pause the subscription (a conditional write, so across instances only one poller wins and the
        user hears it once), then say so once. It stays paused until the user signs in or opts in again."""
        sub = user.stored.subscription
        self._users.pop(sub.user_key, None)
        paused = msgspec.structs.replace(sub, paused=True)
        if not await self.store.put(paused, etag=user.stored.etag):
            return  # changed meanwhile (opted in again, stopped, or paused by another poller)
        log.info("reminders paused: the user's sign-in is gone")
        try:
            await self.announcer.ask_to_sign_in(paused)
        except Exception as exc:
            log.warning("could not tell the user to sign in again: %s", type(exc).__name__)


class ReminderService:
    """Runs a `ReminderScheduler` whenever this instance holds the poller lease."""

    def __init__(
        self,
        lease: PollerLease,
        make_scheduler: Callable[[], ReminderScheduler],
        *,
        renew_every_s: float | None = None,
        retry_every_s: float = 3.0,
    ) -> None:
        self.lease = lease
        self.make_scheduler = make_scheduler
        self.renew_every_s = renew_every_s if renew_every_s is not None else lease.duration_s / 3
        self.retry_every_s = retry_every_s
        self.leader = False
        self._held_until = 0.0
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="reminder-poller")

    def holding(self) -> bool:
        """The lease is ours for at least `LEASE_MARGIN_S` more, by the time of the last acquire or renewal request
        (sent before the store started its duration): this instance's monotonic clock only."""
        return self.leader and asyncio.get_running_loop().time() < self._held_until

    async def stop(self, *, release: bool = True) -> None:
        """Stop polling; `release` hands the lease back (a clean shutdown). `release=False` is a crash."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if release:
            try:
                await self.lease.release()
            except Exception as exc:  # it lapses by itself
                log.info("could not hand the reminder lease back: %s", type(exc).__name__)

    async def _run(self) -> None:
        """Forever: try for the lease, lead while it is held. Survives anything the lease or the scheduler raises."""
        while True:
            try:
                asked = asyncio.get_running_loop().time()
                if await self.lease.acquire():
                    await self._lead(asked)
            except Exception as exc:  # the store unreachable, a lease call failing: try again later
                log.warning("reminder poller lease: %s", type(exc).__name__)
            await asyncio.sleep(self.retry_every_s)

    async def _lead(self, asked: float) -> None:
        loop = asyncio.get_running_loop()
        self._held_until = asked + self.lease.duration_s - LEASE_MARGIN_S
        self.leader = True
        log.info("this instance polls for reminders")
        scheduler = self.make_scheduler()
        scheduler.holding = self.holding
        session = asyncio.create_task(scheduler.run(), name="reminder-scheduler")
        try:
            while True:
                done, _ = await asyncio.wait({session}, timeout=self.renew_every_s)
                if done:
                    error = session.exception()
                    log.error("reminder scheduler stopped: %s", type(error).__name__ if error else "-")
                    await self.lease.release()
                    return
                asked = loop.time()
                try:  # a renewal that hangs past the next one is as good as lost
                    renewed = await asyncio.wait_for(self.lease.renew(), self.renew_every_s)
                except Exception as exc:
                    log.warning("reminder poller lease renewal failed: %s", type(exc).__name__)
                    renewed = False
                if not renewed:
                    return  # lost: stop at once; whoever holds it now announces, claims keep it at most once
                self._held_until = asked + self.lease.duration_s - LEASE_MARGIN_S
        finally:
            self.leader = False
            session.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await session


def reminders_context(service: ReminderService) -> Callable[[web.Application], AsyncIterator[None]]:
    """An aiohttp cleanup context: start polling (for the lease) with the app; stop and hand the lease back when
    the app shuts down (SIGTERM), after the last in-flight turn."""

    async def context(_app: web.Application) -> AsyncIterator[None]:
        service.start()
        try:
            yield
        finally:
            await service.stop(release=True)

    return context
