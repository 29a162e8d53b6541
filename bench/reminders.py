"""Reminder polling cost per subscribed user per hour (DESIGN.md section 10): Graph calls and the poller's CPU.

N simulated users (default 1,000) have subscribed; each has three meetings they organise in the hour and one they
were only invited to (never announced). The real poller (bot/reminders: scheduler, Graph meeting source with
Bookings, the announcer's lookups and card) runs one simulated hour on a hand-driven clock against the Graph simulator
(a process of its own); the proactive send itself is counted, not sent. CPU is the poller thread's own
(`time.thread_time`), so the simulator's work is not counted.
The anchor, measured in the same run: the client CPU of one plain aiohttp GET of the same calendarView URL.

Run: python -m bench reminders [--users 1000] [--hours 1]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import random
import statistics
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from multiprocessing.connection import Connection
from typing import Any

import aiohttp

from bot.reminders.announce import CardAnnouncer, GraphMeetingSource, TokenProvider
from bot.reminders.clock import ManualClock
from bot.reminders.proactive import LocalUserTokens
from bot.reminders.records import ConversationRef, Subscription
from bot.reminders.scheduler import Outcome, ReminderScheduler
from bot.reminders.setup import BOOKINGS_MEMBERSHIP_TTL_S
from bot.reminders.store import MemoryReminderStore
from graph.bookings import BookingsDirectory
from graph.client import GraphClient
from graph.simulator import GraphSimulator, run_in_thread

T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
STEP_S = 5.0


class CountingSender:
    """The proactive send, counted instead of sent (the connector is not what is measured here)."""

    def __init__(self) -> None:
        self.sent: Counter[str] = Counter()

    async def send(self, subscription: Subscription, deliver: Callable[[Any], Awaitable[Any]]) -> Outcome:
        self.sent[subscription.user_key] += 1
        return Outcome.SENT


def _subscription(user: str) -> Subscription:
    ref = ConversationRef(service_url="https://smba.example/", conversation_id=f"a:{user}", user_id=user,
                          bot_id="28:bot")
    return Subscription(version=1, user_key=user, conversation=ref, lead_minutes=15, revision="1")


async def _plain_get_cpu_us(session: aiohttp.ClientSession, base_url: str, token: str, calls: int) -> float:
    """The anchor: client CPU of one plain aiohttp GET of a calendarView URL (median of 5 rounds)."""
    url = (f"{base_url}/v1.0/me/calendarView?startDateTime=2026-12-01T08:00:00Z&endDateTime=2026-12-01T09:20:00Z"
           "&$select=subject,start,end&$top=50")
    headers = {"Authorization": f"Bearer {token}", "Prefer": 'outlook.timezone="UTC"'}
    rounds = []
    for _ in range(5):
        started = time.thread_time()
        for _ in range(calls):
            async with session.get(url, headers=headers) as resp:
                json.loads(await resp.read())
        rounds.append((time.thread_time() - started) / calls * 1e6)
    return statistics.median(rounds)


def _simulate(users: int, hours: float, seed: int, pipe: Connection) -> None:
    """The child process: the simulator with every user's meetings, served until told; then its request counts.
    A process of its own, so serving 25,000 requests does not compete with the poller for the GIL."""
    rng = random.Random(seed)
    sim = GraphSimulator(seed=False)
    tokens: dict[str, str] = {}
    meetings = 0
    for i in range(users):
        user = f"user-{i:05d}"
        tokens[user] = sim.issue_token(user)
        for _ in range(3):
            sim.add_event(user, "Appointment", T0 + timedelta(minutes=rng.randrange(10, int(hours * 60) + 10)))
            meetings += 1
        sim.add_event(user, "Team sync", T0 + timedelta(minutes=30), organizer_id="someone-else")
    handle = run_in_thread(sim)
    try:
        pipe.send((handle.base_url, tokens, meetings))
        before = pipe.recv()  # the anchor's requests are not the poller's
        before = len(sim.requests) if before == "start" else 0
        pipe.recv()  # done
        pipe.send(dict(Counter(_kind(r.path) for r in sim.requests[before:])))
    finally:
        handle.stop()


async def run(users: int, hours: float, seed: int = 20) -> dict[str, Any]:
    store = MemoryReminderStore()
    for i in range(users):
        await store.put(_subscription(f"user-{i:05d}"))
    mine, theirs = multiprocessing.get_context("spawn").Pipe()
    child = multiprocessing.get_context("spawn").Process(target=_simulate, args=(users, hours, seed, theirs))
    child.start()
    try:
        base_url, tokens, meetings = await asyncio.to_thread(mine.recv)
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=100)) as session:
            anchor_us = await _plain_get_cpu_us(session, base_url, next(iter(tokens.values())), 200)

            def factory(provider: TokenProvider) -> GraphClient:
                return GraphClient(session, provider, base_url=base_url)

            clock = ManualClock(T0)
            # as create_reminders builds it, its cache ageing with the simulated hour
            bookings = BookingsDirectory(ttl=BOOKINGS_MEMBERSHIP_TTL_S, clock=lambda: clock.now().timestamp())
            source = GraphMeetingSource(LocalUserTokens(tokens.__getitem__), factory, bookings)
            sender = CountingSender()
            announcer = CardAnnouncer(source, sender, clock.now)  # type: ignore[arg-type]
            scheduler = ReminderScheduler(store, source, announcer, clock)
            mine.send("start")
            cpu_started, wall_started = time.thread_time(), time.monotonic()
            end = T0 + timedelta(hours=hours)
            while clock.now() < end:
                await scheduler.step()
                clock.advance(STEP_S)
            cpu_s, wall_s = time.thread_time() - cpu_started, time.monotonic() - wall_started
        mine.send("done")
        by_kind: dict[str, int] = await asyncio.to_thread(mine.recv)
    finally:
        child.join(30)
        if child.is_alive():
            child.kill()
    calls = sum(by_kind.values())
    user_hours = users * hours
    return {
        "users": users,
        "hours": hours,
        "meetings": meetings,
        "reminders_sent": sum(sender.sent.values()),
        "graph_calls_per_user_hour": calls / user_hours,
        "graph_calls_by_kind_per_user_hour": {k: v / user_hours for k, v in sorted(by_kind.items())},
        "cpu_ms_per_user_hour": cpu_s * 1000 / user_hours,
        "cpu_us_per_graph_call": cpu_s * 1e6 / max(calls, 1),
        "anchor_plain_get_cpu_us": anchor_us,
        "cpu_per_call_vs_anchor": cpu_s * 1e6 / max(calls, 1) / anchor_us,
        "wall_s": wall_s,
    }


def _kind(path: str) -> str:
    if "bookingBusinesses" in path or path.endswith("/me"):
        return "bookings"
    if "calendarView" in path:
        return "calendarView"
    if "JoinWebUrl" in path:
        return "join link"
    return "meeting lookup" if "onlineMeetings" in path else "other"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench reminders", description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--hours", type=float, default=1.0)
    args = parser.parse_args(argv)
    result = asyncio.run(run(args.users, args.hours))
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
