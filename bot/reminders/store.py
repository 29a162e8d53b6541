"""Where subscriptions and announcement claims live, and who may poll: the contract, and the one-process store.

Every instance shares the store (Blob: bot/reminders/blob_store.py); the `memory` store serves one process, with the
same semantics, so the scheduler is the same code either way.

At most once: right before the send (the meeting looked up, the subscription re-read, the lease still held), the
poller *claims* the occurrence's key with an atomic create (`pending`); after the send it marks it `sent` (retried
without sending again), or releases it when Teams answered that nothing was posted, so a later check tries again.
A pending claim is never taken over: its holder may have died mid-send, and then that reminder is missed rather than
sent twice. No instance's clock is compared with another's: claims do not expire.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from bot.reminders.records import Claim, Subscription, UnreadableRecord
from graph.models import parse_datetime

log = logging.getLogger(__name__)

KEEP_CLAIMS_S = 2 * 86400.0  # a claim is needed until its meeting has started; kept a while longer, then dropped
_SWEEP_ABOVE = 4096  # the memory store drops old claims once it holds this many


@dataclass(frozen=True, slots=True)
class Stored:
    """A subscription as read, with the store's ETag for a conditional update."""

    subscription: Subscription
    etag: str


@dataclass(frozen=True, slots=True)
class ClaimTicket:
    """A won claim: its key and the ETag of the pending record we wrote."""

    key: str
    etag: str


class PollerLease(Protocol):
    """At most one holder at a time across every instance sharing the store."""

    duration_s: float

    async def acquire(self) -> bool:
        """Take the lease if it is free (or lapsed); False when another instance holds it."""
        ...

    async def renew(self) -> bool:
        """Keep it; False when it was lost (the caller must stop polling at once)."""
        ...

    async def release(self) -> None:
        """Hand it back now (SIGTERM), so another instance takes over without waiting for it to lapse."""
        ...


class ReminderStore(Protocol):
    async def get(self, user_key: str) -> Stored | None:
        """The user's subscription; None when there is none or it is unreadable (logged, treated as absent)."""
        ...

    async def put(self, subscription: Subscription, *, etag: str | None = None) -> bool:
        """Write it; with `etag`, only if it is still the stored one (False otherwise)."""
        ...

    async def delete(self, user_key: str) -> None: ...

    async def list(self) -> list[Stored]:
        """Every readable subscription (unreadable ones are logged and skipped)."""
        ...

    async def announced(self, key: str) -> bool:
        """A claim for `key` exists (sent, or being sent or lost mid-send): nothing to look up for it."""
        ...

    async def claim(self, key: str, now: datetime, start: datetime) -> ClaimTicket | None:
        """Win the right to announce `key` (None: a claim exists; `now` only dates the memory store's sweep)."""
        ...

    async def mark_sent(self, ticket: ClaimTicket) -> None:
        """Record the send; raises when the store failed (the caller retries, never resends)."""
        ...

    async def release(self, ticket: ClaimTicket) -> None:
        """Give a claim up (the send failed) so a later check announces it."""
        ...

    def lease(self) -> PollerLease:
        """The poller lease that goes with this store."""
        ...


class MemoryLease:
    """One process: a lock with a holder, so the same scheduler code runs with the memory store."""

    duration_s = 15.0

    def __init__(self, owner: list[object]) -> None:
        self._owner = owner  # shared by the leases of one store: [holder] or []
        self._me = object()

    async def acquire(self) -> bool:
        if self._owner and self._owner[0] is not self._me:
            return False
        self._owner[:] = [self._me]
        return True

    async def renew(self) -> bool:
        return bool(self._owner) and self._owner[0] is self._me

    async def release(self) -> None:
        if self._owner and self._owner[0] is self._me:
            self._owner.clear()


class MemoryReminderStore:
    """The store for `BotStorage=memory`: documents kept as their JSON bytes, so they round-trip like Blob's."""

    def __init__(self) -> None:
        self._subscriptions: dict[str, tuple[bytes, str]] = {}
        self._claims: dict[str, tuple[bytes, str]] = {}
        self._etags = itertools.count(1)
        self._holder: list[object] = []
        self._sweep_above = _SWEEP_ABOVE

    def _etag(self) -> str:
        return str(next(self._etags))

    async def get(self, user_key: str) -> Stored | None:
        found = self._subscriptions.get(user_key)
        return None if found is None else _stored(*found)

    async def put(self, subscription: Subscription, *, etag: str | None = None) -> bool:
        current = self._subscriptions.get(subscription.user_key)
        if etag is not None and (current is None or current[1] != etag):
            return False
        self._subscriptions[subscription.user_key] = (subscription.to_json(), self._etag())
        await asyncio.sleep(0)
        return True

    async def delete(self, user_key: str) -> None:
        self._subscriptions.pop(user_key, None)

    async def list(self) -> list[Stored]:
        found = (_stored(body, etag) for body, etag in list(self._subscriptions.values()))
        return [stored for stored in found if stored is not None]

    async def announced(self, key: str) -> bool:
        return key in self._claims

    async def claim(self, key: str, now: datetime, start: datetime) -> ClaimTicket | None:
        if len(self._claims) > self._sweep_above:
            self._sweep(now)
        if key in self._claims:
            return None
        etag = self._etag()
        self._claims[key] = (Claim(version=1, state="pending", start=start.isoformat()).to_json(), etag)
        return ClaimTicket(key, etag)

    async def mark_sent(self, ticket: ClaimTicket) -> None:
        current = self._claims.get(ticket.key)
        if current is not None and current[1] == ticket.etag:
            claim = Claim.from_json(current[0])
            self._claims[ticket.key] = (Claim(version=1, state="sent", start=claim.start).to_json(), self._etag())

    async def release(self, ticket: ClaimTicket) -> None:
        current = self._claims.get(ticket.key)
        if current is not None and current[1] == ticket.etag:
            del self._claims[ticket.key]

    def _sweep(self, now: datetime) -> None:
        """Drop the claims of meetings that started long ago (Blob relies on a lifecycle rule instead)."""
        cutoff = now - timedelta(seconds=KEEP_CLAIMS_S)
        self._claims = {
            key: (body, etag) for key, (body, etag) in self._claims.items()
            if (parse_datetime(Claim.from_json(body).start) or now) > cutoff
        }
        self._sweep_above = max(_SWEEP_ABOVE, 2 * len(self._claims))  # amortised: never a sweep per claim

    def lease(self) -> PollerLease:
        return MemoryLease(self._holder)


def _stored(body: bytes, etag: str) -> Stored | None:
    """A subscription as stored; an unreadable one (written by an older or foreign version) is logged and skipped, so
    one bad record never stops the poller."""
    try:
        return Stored(Subscription.from_json(body), etag)
    except UnreadableRecord as exc:
        log.warning("skipped an unreadable reminder subscription (%s)", exc)
        return None
