"""The reminder scheduler's time: the wall clock in production, a hand-driven one in tests and benchmarks.

Only the scheduling decisions use it (what is due, when to look again, claim expiry). The poller lease renews on
the event loop's real time, because the store expires leases in real time.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, aware (UTC)."""
        ...

    async def sleep_until(self, when: datetime) -> None:
        """Return once `now() >= when` (at once if it is already)."""
        ...


class SystemClock:
    """Wall-clock time."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    async def sleep_until(self, when: datetime) -> None:
        delay = (when - self.now()).total_seconds()
        if delay > 0:
            await asyncio.sleep(delay)


class ManualClock:
    """A clock that only moves when told (`advance`, `set`), waking whoever sleeps until then. Use it from the
    event loop that runs the sleepers. `idle()` waits until `sleepers` tasks are all asleep again, so a test can
    advance time, let the scheduler finish what became due, and only then look at the result."""

    def __init__(self, start: datetime) -> None:
        self._now = start
        self._waiters: list[tuple[datetime, asyncio.Future[None]]] = []
        self._changed: asyncio.Event | None = None

    def now(self) -> datetime:
        return self._now

    def set(self, when: datetime) -> None:
        self._now = max(self._now, when)
        still = []
        for at, future in self._waiters:
            if at <= self._now:
                if not future.done():
                    future.set_result(None)
            else:
                still.append((at, future))
        self._waiters = still
        self._notify()

    def advance(self, seconds: float) -> None:
        self.set(self._now + timedelta(seconds=seconds))

    async def sleep_until(self, when: datetime) -> None:
        if when <= self._now:
            await asyncio.sleep(0)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append((when, future))
        self._notify()
        try:
            await future
        finally:
            self._waiters = [(at, f) for at, f in self._waiters if f is not future]

    def _notify(self) -> None:
        if self._changed is not None:
            self._changed.set()

    def sleeping(self) -> int:
        """How many tasks are asleep on this clock right now."""
        return sum(1 for _, f in self._waiters if not f.done())

    async def idle(self, sleepers: int = 1) -> None:
        """Wait until `sleepers` tasks sleep on this clock (they have done all that was due); bound it with
        `asyncio.timeout`."""
        while self.sleeping() < sleepers:
            self._changed = asyncio.Event()
            await self._changed.wait()
        await asyncio.sleep(0)
