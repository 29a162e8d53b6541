"""Storage faults end to end (issue 26): the real app on `BotStorage=blob`, an Azurite of this module's own (never
the session's, which other tests share) frozen, killed and restarted, slowed or answering 5xx through a proxy.

What must hold: a user hears one sentence in bounded time (a message turn well inside Teams' 15 s, an invoke inside
5 s), never silence or storage error text; what was saved before the fault is still there after it and the flow goes
on; /readyz says whether storage answers while /healthz stays a liveness answer. Outages last seconds.

Below the app, the Blob store itself: reads are ranged and bounded in size and in number at once, and the reminder
poller reads its subscription list a page at a time, downloading only what changed.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from app import READINESS
from bot.reminders.blob_store import LIST_PAGE, SUBSCRIPTIONS, BlobReminderStore
from bot.storage.blob import BlobExchangeDedupe, BlobStorage, blob_name
from bot.storage.calls import MAX_CONCURRENT_CALLS
from bot.storage.codec import MAX_DOCUMENT_BYTES
from bot.storage.errors import StorageUnavailableError
from dialogs.cards import actions, strings
from tests.azurite import Azurite
from tests.azurite import running as azurite_running
from tests.cloud import LoopbackCloud
from tests.e2e_support import RunningBot, card_text, running_bot
from tests.reminder_fakes import subscription
from tests.storage_proxy import StorageProxy, proxied
from tests.test_e2e_conversation import Chat, meeting_for, result_url

pytestmark = pytest.mark.e2e

MESSAGE_ANSWER_S = 8.0  # a message turn that met an outage has answered by then (Teams waits 15 s)
INVOKE_ANSWER_S = 4.5  # an invoke, with room for the loopback's own latency (Teams waits 5 s)


@pytest.fixture(scope="module")
def own_azurite() -> Iterator[Azurite]:
    """An Azurite for this module alone: these tests freeze and kill it."""
    yield from azurite_running()


@pytest.fixture
def signed_in(cloud: LoopbackCloud, sim: Any) -> None:
    for user in ("alice", "bob"):
        cloud.token_service.give_token(user)


def blob_env(connection_string: str, container: str | None = None) -> dict[str, str]:
    return {"BotStorage": "blob", "BlobConnectionString": connection_string,
            "BlobContainer": container or f"f-{uuid.uuid4().hex[:16]}"}


async def at_client_details(bot: RunningBot, meeting: Any) -> Chat:
    """Alice asks for a link and reaches the client-details form: her flow is saved in storage."""
    alice = Chat(bot)
    await alice.say(f"get link {meeting.join_web_url}")
    assert strings.ASK_CLIENT_DETAILS in card_text(await alice.reply())
    return alice


async def finishes(alice: Chat, meeting: Any) -> None:
    """The saved flow goes on: skipping the details gives the meeting's link."""
    await alice.submit(actions.SKIP)
    assert result_url(await alice.reply()) == meeting.virtual_appointment_url


async def outage_answer(bot: RunningBot, user: str = "bob") -> dict[str, Any]:
    """`get link` during the outage: answered in time, with the storage sentence and nothing else."""
    chat = Chat(bot, user)
    began = time.monotonic()
    status, _ = await bot.say("get link", user=user)
    took = time.monotonic() - began
    assert status == 201, status
    assert took < MESSAGE_ANSWER_S, took
    reply = await chat.reply()
    assert reply["text"] == strings.STORAGE_UNAVAILABLE
    await chat.quiet()
    return reply


async def exchange_answer(bot: RunningBot, cloud: LoopbackCloud) -> int:
    """A sign-in token exchange during the outage: answered inside Teams' 5 s; its status."""
    value = {"id": uuid.uuid4().hex, "connectionName": "GraphConnection", "token": cloud.entra.sso_token("bob")}
    began = time.monotonic()
    status, _ = await bot.post(cloud.invoke("signin/tokenExchange", value, user="bob"))
    assert time.monotonic() - began < INVOKE_ANSWER_S
    return status


async def probe(bot: RunningBot, path: str) -> int:
    async with bot.session.get(bot.url.rstrip("/") + path) as response:
        return response.status


async def test_frozen_storage_gets_a_sentence_in_time_and_the_saved_flow_goes_on(
    cloud: LoopbackCloud, sim: Any, signed_in: None, own_azurite: Azurite
) -> None:
    meeting = meeting_for(cloud, sim)
    async with running_bot(cloud, sim, **blob_env(own_azurite.connection_string)) as bot:
        bot.app[READINESS].ttl_s = 0  # probe on every request here
        alice = await at_client_details(bot, meeting)
        assert await probe(bot, "/readyz") == 200
        own_azurite.freeze()
        try:
            await outage_answer(bot)
            assert await exchange_answer(bot, cloud) == 412  # Teams falls back to the sign-in card
            assert await probe(bot, "/healthz") == 200  # alive
            assert await probe(bot, "/readyz") == 503  # but not ready
        finally:
            own_azurite.thaw()
        assert await probe(bot, "/readyz") == 200
        await finishes(alice, meeting)


async def test_killed_and_restarted_storage_keeps_what_was_saved(
    cloud: LoopbackCloud, sim: Any, signed_in: None, own_azurite: Azurite
) -> None:
    meeting = meeting_for(cloud, sim)
    async with running_bot(cloud, sim, **blob_env(own_azurite.connection_string)) as bot:
        alice = await at_client_details(bot, meeting)
        own_azurite.kill()
        try:
            await outage_answer(bot)
        finally:
            own_azurite.restart()
        await finishes(alice, meeting)


@pytest.mark.parametrize("status", [503, 500])
async def test_storage_answering_5xx_gets_a_sentence_and_loses_nothing(
    cloud: LoopbackCloud, sim: Any, signed_in: None, own_azurite: Azurite, status: int
) -> None:
    meeting = meeting_for(cloud, sim)
    with proxied(own_azurite.connection_string, own_azurite.blob_endpoint) as (proxy, connection_string):
        async with running_bot(cloud, sim, **blob_env(connection_string)) as bot:
            alice = await at_client_details(bot, meeting)
            proxy.status = status
            await outage_answer(bot)
            await alice.say("skip")  # alice's own turn in the outage: the sentence, and her place is kept
            assert (await alice.reply())["text"] == strings.STORAGE_UNAVAILABLE
            assert await exchange_answer(bot, cloud) == 412
            proxy.status = None
            await finishes(alice, meeting)
            assert not proxy.requests("DELETE")  # nobody's state was reset


async def test_slow_storage_within_the_deadline_works_and_beyond_it_gets_a_sentence(
    cloud: LoopbackCloud, sim: Any, signed_in: None, own_azurite: Azurite
) -> None:
    meeting = meeting_for(cloud, sim)
    with proxied(own_azurite.connection_string, own_azurite.blob_endpoint) as (proxy, connection_string):
        async with running_bot(cloud, sim, **blob_env(connection_string)) as bot:
            proxy.delay_s = 0.15  # slow, but every call inside its deadline
            alice = await at_client_details(bot, meeting)
            proxy.delay_s = 4.0  # beyond a call's deadline
            await outage_answer(bot)
            proxy.delay_s = 0.0
            await finishes(alice, meeting)


async def test_two_instances_saving_the_same_user_at_once_lose_neither_place(
    cloud: LoopbackCloud, sim: Any, signed_in: None, own_azurite: Azurite
) -> None:
    """Alice's two submits reach two instances at once (same state key, two writers): one saves, the other meets
    an ETag conflict and says the generic sentence without resetting anything; Bob's flow, on the other instance,
    is untouched; afterwards both go on."""
    meeting = meeting_for(cloud, sim)
    bob_meeting = meeting_for(cloud, sim, "bob", "Bob's review")
    env = blob_env(own_azurite.connection_string)
    async with running_bot(cloud, sim, **env) as a, running_bot(cloud, sim, **env) as b:
        alice = await at_client_details(a, meeting)
        bob = Chat(b, "bob")
        await bob.say(f"get link {bob_meeting.join_web_url}")
        assert strings.ASK_CLIENT_DETAILS in card_text(await bob.reply())
        submit = cloud.activity(None, value={"action": actions.SKIP})
        results = await asyncio.gather(a.post(dict(submit)), b.post(dict(submit)))
        assert [status for status, _ in results] == [201, 201]
        await asyncio.sleep(0.5)
        said = [card_text(x) for x in cloud.connector.activities if x["conversation"]["id"] == alice.conversation]
        assert not any(strings.STATE_RESET in text for text in said)
        await finishes(bob, bob_meeting)  # the other user's place, on the other instance, is intact
        alice.seen = len(said)
        await alice.say(f"get link {meeting.join_web_url}")  # alice's stored state is readable and usable
        assert strings.ASK_CLIENT_DETAILS in card_text(await alice.reply())


# --- the Blob store below the app -------------------------------------------------------------------------------


@pytest.fixture
async def through_proxy(own_azurite: Azurite) -> AsyncIterator[tuple[BlobStorage, StorageProxy]]:
    with proxied(own_azurite.connection_string, own_azurite.blob_endpoint) as (proxy, connection_string):
        storage = BlobStorage(connection_string, f"s-{uuid.uuid4().hex[:16]}")
        await storage.open()
        try:
            yield storage, proxy
        finally:
            await storage.close()


async def test_an_oversized_blob_is_refused_after_a_bounded_read(
    through_proxy: tuple[BlobStorage, StorageProxy],
) -> None:
    storage, proxy = through_proxy
    await storage.container.upload_blob(blob_name("big"), b"{" * (4 * MAX_DOCUMENT_BYTES))
    claim = BlobExchangeDedupe(storage).container.get_blob_client("sso-exchange/" + blob_name("k"))
    await claim.upload_blob(b" " * MAX_DOCUMENT_BYTES)  # a claim record is a few bytes; this one is not ours
    proxy.reset_counts()
    with pytest.raises(Exception, match="too large"):
        await storage.read(["big"])
    assert proxy.body_bytes <= MAX_DOCUMENT_BYTES + 1  # not the 4 MiB stored
    proxy.reset_counts()
    assert await BlobExchangeDedupe(storage, ttl_s=60).claim("k")  # unreadable counts as expired: reclaimed
    assert proxy.body_bytes <= 1024


async def test_reads_at_once_are_bounded(through_proxy: tuple[BlobStorage, StorageProxy]) -> None:
    storage, proxy = through_proxy
    keys = [f"user-{i}" for i in range(3 * MAX_CONCURRENT_CALLS)]
    await storage.write({key: {"n": 1} for key in keys})
    proxy.reset_counts()
    proxy.delay_s = 0.05  # long enough for every read to be in flight together if nothing bounds them
    found = await storage.read(keys)
    assert len(found) == len(keys)
    assert proxy.max_in_flight <= MAX_CONCURRENT_CALLS, proxy.max_in_flight


async def test_the_poller_lists_subscriptions_by_page_and_downloads_only_changes(
    through_proxy: tuple[BlobStorage, StorageProxy],
) -> None:
    storage, proxy = through_proxy
    store = BlobReminderStore(storage)
    users = [f"29:user-{i}" for i in range(LIST_PAGE + 20)]
    await asyncio.gather(*(store.put(subscription(u)) for u in users))
    proxy.reset_counts()
    first = await store.list()
    assert len(first) == len(users)
    assert len(proxy.requests("GET", "comp=list")) == 2  # two pages
    assert len(proxy.requests("GET", "/" + SUBSCRIPTIONS)) == len(users)
    changed = subscription(users[0], lead=30)
    assert await store.put(changed)
    proxy.reset_counts()
    second = await store.list()
    assert {s.subscription.user_key: s.subscription.lead_minutes for s in second}[users[0]] == 30
    assert len(proxy.requests("GET", "/" + SUBSCRIPTIONS)) == 1  # only the changed one downloaded again


async def test_a_claim_fails_closed_in_bounded_time_while_storage_is_away(own_azurite: Azurite) -> None:
    """Fail closed: while storage does not answer, a reminder claim (and an SSO exchange claim) raises within the
    deadline instead of hanging or answering "won". The request may still reach the account when it wakes (a frozen
    process reads its socket afterwards), leaving a claim nobody holds: that reminder is then never announced (at
    most once, issue 28) and that exchange never continues; either way, at most one later claim wins."""

    storage = BlobStorage(own_azurite.connection_string, f"c-{uuid.uuid4().hex[:16]}")
    await storage.open()
    store, dedupe = BlobReminderStore(storage), BlobExchangeDedupe(storage)
    now = datetime.now(UTC)
    try:
        own_azurite.freeze()
        try:
            for attempt in (store.claim("k", now, now), dedupe.claim("x")):
                began = time.monotonic()
                with pytest.raises(StorageUnavailableError):
                    await attempt
                assert time.monotonic() - began < 4
        finally:
            own_azurite.thaw()
        later = now + timedelta(days=1)
        assert [await store.claim("k", later, now) for _ in range(2)].count(None) >= 1
        assert [await dedupe.claim("x"), await dedupe.claim("x")].count(True) <= 1
        assert await store.claim("after", now, now) is not None  # claims work again
    finally:
        await storage.close()
