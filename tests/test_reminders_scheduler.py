"""The reminder poller (bot/reminders/scheduler.py) on the memory store, with a hand-driven clock."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from bot.reminders import schedule
from bot.reminders.clock import ManualClock
from bot.reminders.scheduler import Outcome, ReminderScheduler, ReminderService
from bot.reminders.store import MemoryReminderStore
from tests.reminder_fakes import Calendar, Outbox, subscription

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)


class Rig:
    def __init__(self) -> None:
        self.clock = ManualClock(T0)
        self.store = MemoryReminderStore()
        self.calendar = Calendar()
        self.outbox = Outbox(self.clock)
        self.service = ReminderService(self.store.lease(), self.scheduler, retry_every_s=0.01)

    def scheduler(self) -> ReminderScheduler:
        return ReminderScheduler(self.store, self.calendar, self.outbox, self.clock)

    async def run_for(self, seconds: float, step: float = 10.0) -> None:
        """Advance the clock in steps, letting the poller finish what each step made due."""
        end = self.clock.now() + timedelta(seconds=seconds)
        while self.clock.now() < end:
            await asyncio.wait_for(self.clock.idle(), 5)
            self.clock.advance(min(step, (end - self.clock.now()).total_seconds()))
        await asyncio.wait_for(self.clock.idle(), 5)


@pytest.fixture
async def rig() -> AsyncIterator[Rig]:
    r = Rig()
    r.service.start()
    yield r
    await r.service.stop()


async def test_reminders_arrive_at_start_minus_lead_and_once(rig: Rig) -> None:
    await rig.store.put(subscription("alice", lead=15))
    rig.calendar.meetings["alice"] = {"m1": T0 + 40 * MIN, "m2": T0 + 90 * MIN}
    await rig.run_for(2 * 3600)
    assert [(u, m, when) for u, m, _, when in rig.outbox.sent] == [
        ("alice", "m1", T0 + 25 * MIN),
        ("alice", "m2", T0 + 75 * MIN),
    ]


async def test_a_meeting_already_inside_the_lead_time_is_announced_within_a_minute_of_opting_in(rig: Rig) -> None:
    await rig.run_for(120)  # the poller runs, nobody subscribed
    rig.calendar.meetings["alice"] = {"soon": T0 + 10 * MIN}
    opted_in = rig.clock.now()
    await rig.store.put(subscription("alice"))
    await rig.run_for(90, step=1)
    [(_, meeting, _, when)] = rig.outbox.sent
    assert meeting == "soon"
    assert when - opted_in <= timedelta(seconds=schedule.DISCOVERY_S + schedule.FIRST_CHECK_S)


async def test_a_moved_meeting_is_announced_again_at_its_new_time(rig: Rig) -> None:
    await rig.store.put(subscription("alice", lead=10))
    rig.calendar.meetings["alice"] = {"m": T0 + 20 * MIN}
    await rig.run_for(12 * 60)
    assert [when for *_, when in rig.outbox.sent] == [T0 + 10 * MIN]
    rig.calendar.meetings["alice"]["m"] = T0 + 60 * MIN  # moved later
    await rig.run_for(60 * 60)
    assert [when for *_, when in rig.outbox.sent] == [T0 + 10 * MIN, T0 + 50 * MIN]


async def test_checks_are_at_most_five_minutes_apart_and_bounded(rig: Rig) -> None:
    await rig.store.put(subscription("alice"))
    await rig.run_for(3600)
    reads = [at for user, at in rig.calendar.reads if user == "alice"]
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(reads)]
    assert reads[0] - T0 <= timedelta(seconds=schedule.FIRST_CHECK_S)
    assert max(gaps) <= schedule.POLL_INTERVAL_S
    assert len(reads) <= 3600 / schedule.POLL_INTERVAL_S + 2  # about 12 an hour with no meetings


async def test_throttling_is_honoured(rig: Rig) -> None:
    await rig.store.put(subscription("alice"))
    rig.calendar.throttled["alice"] = 900
    await rig.run_for(1800)
    reads = [at for user, at in rig.calendar.reads if user == "alice"]
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(reads)]
    assert len(reads) >= 2
    assert min(gaps) >= 900


async def test_no_token_asks_once_and_pauses_until_opted_in_again(rig: Rig) -> None:
    await rig.store.put(subscription("alice"))
    rig.calendar.no_token.add("alice")
    await rig.run_for(3600)
    assert rig.outbox.sign_in_asks == ["alice"]
    assert len(rig.calendar.reads) == 1  # no retry storm
    stored = await rig.store.get("alice")
    assert stored is not None and stored.subscription.paused
    rig.calendar.no_token.clear()
    rig.calendar.meetings["alice"] = {"m": rig.clock.now() + 10 * MIN}
    await rig.store.put(subscription("alice", revision="2"))  # signed in / opted in again
    await rig.run_for(120)
    assert [m for _, m, *_ in rig.outbox.sent] == ["m"]


async def test_a_gone_conversation_removes_the_subscription(rig: Rig) -> None:
    await rig.store.put(subscription("alice"))
    rig.calendar.meetings["alice"] = {"m": T0 + 5 * MIN, "n": T0 + 30 * MIN}
    rig.outbox.outcome["alice"] = Outcome.GONE
    await rig.run_for(3600)
    assert await rig.store.get("alice") is None
    assert len(rig.calendar.reads) == 1


async def test_a_failed_send_is_retried_at_a_later_check(rig: Rig) -> None:
    await rig.store.put(subscription("alice"))
    rig.calendar.meetings["alice"] = {"m": T0 + 30 * MIN}
    rig.outbox.outcome["alice"] = Outcome.FAILED
    await rig.run_for(16 * 60)
    assert rig.outbox.sent == []
    del rig.outbox.outcome["alice"]
    await rig.run_for(6 * 60)
    [(_, _, _, when)] = rig.outbox.sent
    assert when <= T0 + 21 * MIN  # the next regular check, still well before the start


async def test_stopped_reminders_stop(rig: Rig) -> None:
    await rig.store.put(subscription("alice"))
    rig.calendar.meetings["alice"] = {"m1": T0 + 20 * MIN, "m2": T0 + 80 * MIN}
    await rig.run_for(10 * 60)
    await rig.store.delete("alice")  # `stop reminders`
    await rig.run_for(2 * 3600)
    assert [m for _, m, *_ in rig.outbox.sent] == ["m1"]


async def test_a_restart_misses_nothing_still_due_and_repeats_nothing(rig: Rig) -> None:
    await rig.store.put(subscription("alice", lead=15))
    rig.calendar.meetings["alice"] = {"m1": T0 + 20 * MIN, "m2": T0 + 30 * MIN}
    await rig.run_for(6 * 60)
    assert [m for _, m, *_ in rig.outbox.sent] == ["m1"]
    await rig.service.stop()  # a deploy: the process ends; m2 falls due while nobody polls
    rig.clock.advance(20 * 60)
    rig.service = ReminderService(rig.store.lease(), rig.scheduler, retry_every_s=0.01)
    rig.service.start()
    await rig.run_for(60, step=5)
    assert [m for _, m, *_ in rig.outbox.sent] == ["m1", "m2"]


async def test_one_poller_per_store(rig: Rig) -> None:
    other = ReminderService(rig.store.lease(), rig.scheduler, retry_every_s=0.01)
    other.start()
    try:
        await rig.store.put(subscription("alice"))
        rig.calendar.meetings["alice"] = {"m": T0 + 5 * MIN}
        await rig.run_for(120)
        assert [rig.service.leader, other.leader] == [True, False]
        assert len(rig.outbox.sent) == 1
    finally:
        await other.stop()


async def test_many_users_are_checked_at_most_eight_at_a_time() -> None:
    rig = Rig()
    in_flight, peak = 0, 0

    async def slow_upcoming(sub: object, start: datetime, end: datetime) -> list[object]:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.001)
        in_flight -= 1
        return []

    rig.calendar.upcoming = slow_upcoming  # type: ignore[method-assign]
    for i in range(100):
        await rig.store.put(subscription(f"user-{i}"))
    scheduler = rig.scheduler()
    await scheduler.step()  # discovers everyone
    rig.clock.advance(schedule.FIRST_CHECK_S)  # everyone's first check is due at once
    await scheduler.step()
    assert 1 < peak <= 8


async def test_the_memory_store_forgets_claims_of_long_past_meetings() -> None:
    store = MemoryReminderStore()
    for i in range(20_000):
        assert await store.claim(f"old-{i}", T0, T0 - timedelta(days=3)) is not None
        assert len(store._claims) <= 4097  # swept: bounded by recent meetings, not by history
    assert await store.claim("new", T0, T0 + MIN) is not None
    assert await store.claim("new", T0, T0 + MIN) is None  # recent claims are kept


class UnreliableLease:
    """A lease whose first renewal raises (`raises`) or never answers (`hangs`); after a hang another instance holds
    it, so acquiring fails from then on."""

    duration_s = 15.0

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.renewals = 0
        self.acquired = 0

    async def acquire(self) -> bool:
        self.acquired += 1
        return self.acquired == 1 or self.mode == "raises"

    async def renew(self) -> bool:
        self.renewals += 1
        if self.renewals == 1 and self.mode == "raises":
            raise RuntimeError("storage unreachable")
        if self.mode == "hangs":
            await asyncio.Event().wait()
        return True

    async def release(self) -> None:
        return None


async def wait_until(condition: object, timeout: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():  # type: ignore[operator]
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.01)


async def test_a_lease_renewal_that_raises_never_ends_polling_for_good() -> None:
    """Issue 28, hole 8: an exception from the renewal used to end the poller task on that instance forever."""
    rig = Rig()
    lease = UnreliableLease("raises")
    rig.service = ReminderService(lease, rig.scheduler, renew_every_s=0.02, retry_every_s=0.01)
    rig.service.start()
    try:
        await wait_until(lambda: lease.renewals >= 1 and lease.acquired >= 2 and rig.service.leader)
        await rig.store.put(subscription("alice"))
        rig.calendar.meetings["alice"] = {"m": T0 + 20 * MIN}
        await rig.run_for(10 * 60)
        assert [m for _, m, *_ in rig.outbox.sent] == ["m"]
    finally:
        await rig.service.stop()


async def test_a_renewal_that_hangs_stops_the_sending_at_once() -> None:
    """Issue 28, hole 3: a holder whose renewal hangs must stop polling before the lease can lapse, not keep sending
    beside the instance that holds the lease now."""
    rig = Rig()
    lease = UnreliableLease("hangs")
    rig.service = ReminderService(lease, rig.scheduler, renew_every_s=0.02, retry_every_s=0.01)
    await rig.store.put(subscription("alice"))
    rig.calendar.meetings["alice"] = {"m": T0 + 20 * MIN}
    rig.service.start()
    try:
        await wait_until(lambda: lease.renewals >= 1)
        await wait_until(lambda: not rig.service.leader)
        rig.clock.advance(10 * 60)
        await asyncio.sleep(0.1)
        assert rig.outbox.sent == []
    finally:
        await rig.service.stop()
