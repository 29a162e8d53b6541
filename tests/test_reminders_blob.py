"""Reminders across instances on Azurite: the Blob store's claims and conditional writes, the poller lease, and two
pollers that announce each meeting at most once, also when the lease holder dies mid-run."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from azure.core.exceptions import ResourceNotFoundError
from azure.storage.blob.aio import BlobServiceClient

from bot.reminders.blob_store import LEASE_S, POLLER, SUBSCRIPTIONS, BlobPollerLease, BlobReminderStore
from bot.reminders.clock import ManualClock
from bot.reminders.scheduler import ReminderScheduler, ReminderService
from bot.storage.blob import BlobStorage
from tests.azurite import Azurite
from tests.cloud import LoopbackCloud
from tests.reminder_fakes import Calendar, Outbox, subscription
from tests.test_blob_shutdown import ROOT, free_port

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)


@pytest.fixture
async def instances(azurite: Azurite) -> AsyncIterator[list[BlobStorage]]:
    """Two instances' storage clients on one fresh container (nothing shared in memory)."""
    name = f"r-{uuid.uuid4().hex[:20]}"
    stores = [BlobStorage(azurite.connection_string, name) for _ in range(2)]
    for store in stores:
        await store.open()
    try:
        yield stores
    finally:
        for store in stores:
            await store.close()


async def test_subscriptions_round_trip_with_conditional_updates(instances: list[BlobStorage]) -> None:
    a, b = (BlobReminderStore(s) for s in instances)
    assert await a.get("29:alice") is None
    assert await a.put(subscription("29:alice"))
    seen = await b.get("29:alice")
    assert seen is not None and seen.subscription == subscription("29:alice")
    assert await a.put(subscription("29:alice", lead=30))  # changed meanwhile on instance a
    assert not await b.put(subscription("29:alice", revision="x"), etag=seen.etag)  # b's write is stale
    assert [s.subscription.lead_minutes for s in await b.list()] == [30]
    await b.delete("29:alice")
    await b.delete("29:alice")  # absent: fine
    assert await a.list() == []


async def test_an_unreadable_subscription_is_skipped_not_fatal(instances: list[BlobStorage]) -> None:
    store = BlobReminderStore(instances[0])
    await store.put(subscription("29:alice"))
    hostile = b'{"py/object": "os.system", "version": 1}'
    await instances[0].container.upload_blob(SUBSCRIPTIONS + "evil", hostile)
    await instances[0].container.upload_blob(SUBSCRIPTIONS + "huge", b"{" * 100_000)
    assert [s.subscription.user_key for s in await store.list()] == ["29:alice"]


async def test_a_claim_is_won_once_and_never_taken_over(instances: list[BlobStorage]) -> None:
    """At most once (issue 28, hole 3): a pending claim whose holder died mid-send is never taken over, however late
    (no instance's wall clock decides), and a sent one is final."""
    a, b = (BlobReminderStore(s) for s in instances)
    first = await asyncio.gather(*(store.claim("k", T0, T0 + MIN) for store in (a, b, a, b)))
    [ticket] = [t for t in first if t is not None]
    assert await a.announced("k") and not await a.announced("other")
    assert await b.claim("k", T0 + timedelta(days=1), T0 + MIN) is None  # its holder died mid-send: still never
    await a.mark_sent(ticket)
    assert await b.claim("k", T0 + timedelta(days=2), T0 + MIN) is None  # sent is final


async def test_a_released_claim_can_be_claimed_again(instances: list[BlobStorage]) -> None:
    store = BlobReminderStore(instances[0])
    ticket = await store.claim("k", T0, T0)
    assert ticket is not None
    await store.release(ticket)
    assert await store.claim("k", T0, T0) is not None


async def test_the_lease_has_one_holder_and_is_handed_back(instances: list[BlobStorage]) -> None:
    a, b = (BlobPollerLease(s) for s in instances)
    assert await a.acquire()
    assert not await b.acquire()
    assert await a.renew()
    await a.release()
    assert await b.acquire()
    assert not await a.renew()  # lost to b
    await b.release()


class Instance:
    def __init__(self, storage: BlobStorage, clock: ManualClock, calendar: Calendar, outbox: Outbox) -> None:
        self.store = BlobReminderStore(storage)
        self.service = ReminderService(
            self.store.lease(),
            lambda: ReminderScheduler(self.store, calendar, outbox, clock),
            retry_every_s=0.5,
        )


async def wait_for_leader(instances: list[Instance], timeout: float) -> Instance:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        leaders = [i for i in instances if i.service.leader]
        if leaders:
            assert len(leaders) == 1
            return leaders[0]
        await asyncio.sleep(0.05)
    raise AssertionError(f"no poller within {timeout} s")


async def drive(clock: ManualClock, until: datetime, step_s: float = 10) -> None:
    """Advance the shared clock, letting the polling instance finish what each step made due."""
    while clock.now() < until:
        await asyncio.wait_for(clock.idle(), 10)
        clock.advance(min(step_s, (until - clock.now()).total_seconds()))
    await asyncio.wait_for(clock.idle(), 10)


async def test_two_instances_announce_each_meeting_once_and_survive_the_holder_dying(
    instances: list[BlobStorage],
) -> None:
    clock, calendar = ManualClock(T0), Calendar()
    outbox = Outbox(clock)
    pair = [Instance(s, clock, calendar, outbox) for s in instances]
    calendar.meetings = {
        "29:alice": {"a1": T0 + 20 * MIN, "a2": T0 + 40 * MIN, "a3": T0 + 70 * MIN},
        "29:bob": {"b1": T0 + 30 * MIN, "b2": T0 + 55 * MIN},
    }
    await pair[0].store.put(subscription("29:alice"))
    await pair[1].store.put(subscription("29:bob", lead=5))
    for instance in pair:
        instance.service.start()
    try:
        holder = await wait_for_leader(pair, 10)
        await drive(clock, T0 + 20 * MIN)  # a1 at :05
        assert [m for _, m, *_ in outbox.sent] == ["a1"]

        await holder.service.stop(release=False)  # killed: it neither renews nor hands the lease back
        killed = time.monotonic()
        clock.advance(6 * 60)  # a2 and b1 fall due at :25 while nobody polls
        other = await wait_for_leader([i for i in pair if i is not holder], LEASE_S + 5)
        took_over_s = time.monotonic() - killed
        assert other is not holder
        assert took_over_s <= LEASE_S + 1.5, took_over_s

        await drive(clock, T0 + 80 * MIN)
        sent = sorted((m, when) for _, m, _, when in outbox.sent)
        assert [m for m, _ in sent] == ["a1", "a2", "a3", "b1", "b2"]  # each exactly once, none missed
        on_time = {m: when for m, when in sent}
        assert on_time["a3"] == T0 + 55 * MIN and on_time["b2"] == T0 + 50 * MIN
        for late in ("a2", "b1"):  # announced at the new poller's first check, before the meeting starts
            assert T0 + 26 * MIN <= on_time[late] <= T0 + 27 * MIN
    finally:
        for instance in pair:
            await instance.service.stop()


async def test_even_two_pollers_at_once_announce_each_meeting_once(instances: list[BlobStorage]) -> None:
    """Split brain (a holder that stalled past its lease and woke up polling): the claims alone keep it at most once."""
    clock, calendar = ManualClock(T0), Calendar()
    outbox = Outbox(clock)
    stores = [BlobReminderStore(s) for s in instances]
    calendar.meetings = {f"29:user{i}": {f"m{i}-{j}": T0 + (10 + 7 * j) * MIN for j in range(4)} for i in range(5)}
    for user in calendar.meetings:
        await stores[0].put(subscription(user))
    pollers = [asyncio.create_task(ReminderScheduler(s, calendar, outbox, clock).run()) for s in stores]
    try:
        while clock.now() < T0 + 40 * MIN:
            await asyncio.wait_for(clock.idle(sleepers=2), 10)
            clock.advance(10)
        await asyncio.wait_for(clock.idle(sleepers=2), 10)
    finally:
        for task in pollers:
            task.cancel()
        await asyncio.gather(*pollers, return_exceptions=True)
    announced = [m for _, m, *_ in outbox.sent]
    assert sorted(announced) == sorted(m for meetings in calendar.meetings.values() for m in meetings)
    assert len(calendar.reads) > 2 * len(calendar.meetings)  # both pollers really did check everyone


async def test_a_clean_stop_hands_the_lease_over_at_once(instances: list[BlobStorage]) -> None:
    clock, calendar = ManualClock(T0), Calendar()
    pair = [Instance(s, clock, calendar, Outbox(clock)) for s in instances]
    for instance in pair:
        instance.service.start()
    try:
        holder = await wait_for_leader(pair, 10)
        await holder.service.stop(release=True)
        began = time.monotonic()
        await wait_for_leader([i for i in pair if i is not holder], 3)
        assert time.monotonic() - began < LEASE_S / 3  # not the lapse of a dead holder's lease
    finally:
        for instance in pair:
            await instance.service.stop()


@contextlib.asynccontextmanager
async def app_polling_on_blob(
    azurite: Azurite, tmp_path: Path, prefix: str
) -> AsyncIterator[tuple[subprocess.Popen[str], Any, Any, int]]:
    """`python app.py` on Blob storage, once it holds the poller lease: (its process, the lease blob's client, its
    container's client, its port). Killed afterwards if a test left it running."""
    container = f"{prefix}-{uuid.uuid4().hex[:20]}"
    port = free_port()
    env = {"PATH": os.environ.get("PATH", ""), "PORT": str(port), "LOG_LEVEL": "INFO", "BotStorage": "blob",
           "BlobConnectionString": azurite.connection_string, "BlobContainer": container}
    process = subprocess.Popen(  # noqa: S603 - our own entry point
        [sys.executable, str(ROOT / "app.py")], cwd=tmp_path, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    service = BlobServiceClient.from_connection_string(azurite.connection_string)
    try:
        poller = service.get_blob_client(container, POLLER)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and process.poll() is None:
            with contextlib.suppress(ResourceNotFoundError):
                if (await poller.get_blob_properties()).lease.state == "leased":
                    break
            await asyncio.sleep(0.1)
        else:
            pytest.fail("the app never took the poller lease")
        yield process, poller, service.get_container_client(container), port
    finally:
        if process.poll() is None:
            process.kill()
        await asyncio.to_thread(process.communicate, None, 10)
        await service.close()


async def test_sigterm_hands_the_poller_lease_back(azurite: Azurite, tmp_path: Path) -> None:
    """`python app.py` on Blob storage polls for reminders (holds the lease); SIGTERM ends it cleanly and leaves the
    lease free for the next instance at once, instead of after the lease time."""
    async with app_polling_on_blob(azurite, tmp_path, "r") as (process, poller, _container, _port):
        process.send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(process.wait, 12) == 0
        assert (await poller.get_blob_properties()).lease.state == "available"


async def test_sigterm_drains_the_turn_in_flight_refuses_new_ones_and_hands_the_lease_back(
    azurite: Azurite, cloud: LoopbackCloud, tmp_path: Path
) -> None:
    """The whole drain, as App Service's SIGTERM runs it on `python app.py` with Blob storage: a turn in flight (its
    reply slowed to 1.5 s) finishes, delivers its reply and saves its state; a new connection is refused at once (a
    refused connection is what Teams retries, on another instance); the poller lease is free when it exits 0."""
    async with app_polling_on_blob(azurite, tmp_path, "d") as (process, poller, container, port):
        url = f"http://127.0.0.1:{port}"
        cloud.connector.require_auth = False  # local mode sends no token
        cloud.connector.latency_s = 1.5
        in_flight = asyncio.create_task(asyncio.to_thread(
            requests.post, f"{url}/api/messages", json=cloud.activity("get link"), timeout=15))
        await asyncio.sleep(0.5)  # the turn is waiting on the slow connector
        process.send_signal(signal.SIGTERM)
        await asyncio.sleep(0.3)
        with pytest.raises(requests.ConnectionError):
            await asyncio.to_thread(requests.get, f"{url}/healthz", timeout=2)
        assert (await in_flight).status_code in (200, 201)
        assert await asyncio.to_thread(process.wait, 12) == 0
        assert len(cloud.connector.activities) == 1  # the in-flight turn's reply was delivered
        names = [b.name async for b in container.list_blobs()]
        assert [n for n in names if "%2Fconversations%2F" in n], names  # ... and its dialog state was saved
        assert (await poller.get_blob_properties()).lease.state == "available"
