"""End to end: reminders at most once, `stop reminders` at once, and records that cannot stall the poller (issue 28,
holes 3, 4 and 8). The real app over the loopback cloud and the Graph simulator, its poller on a hand-moved clock."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest

from app import REMINDERS
from bot.reminders.clock import ManualClock
from bot.reminders.store import ClaimTicket
from dialogs.cards import strings
from tests.cloud import LoopbackCloud
from tests.e2e_support import running_bot
from tests.test_e2e_reminders import MIN, T0, Reminded, aad
from tests.test_e2e_send_guard import blob_env

pytestmark = pytest.mark.e2e


def failing_first(calls: int, real: Callable[[ClaimTicket], Awaitable[None]]) -> Callable[..., Awaitable[None]]:
    """The store's `mark_sent`, failing its first `calls` calls as a storage outage would."""
    failed = 0

    async def mark_sent(ticket: ClaimTicket) -> None:
        nonlocal failed
        if failed < calls:
            failed += 1
            raise ConnectionError("storage unreachable")
        await real(ticket)

    return mark_sent


@pytest.mark.parametrize("failures", [1, 100], ids=["fails-once", "keeps-failing"])
async def test_a_reminder_whose_marking_fails_is_never_sent_twice(
    cloud: LoopbackCloud, sim: Any, alice: Reminded, failures: int
) -> None:
    sim.add_event(aad(cloud, "alice"), "Mortgage review", T0 + 30 * MIN)
    await alice.say("remind me")
    store = alice.bot.app[REMINDERS].store
    store.mark_sent = failing_first(failures, store.mark_sent)  # type: ignore[method-assign]
    await alice.until(T0 + 29 * MIN, step_s=30)
    assert len(alice.reminders()) == 1


async def test_stop_reminders_stops_the_very_next_reminder(cloud: LoopbackCloud, sim: Any, alice: Reminded) -> None:
    """Said 5 s before a reminder falls due, between two reads of the subscription list (every 20 s)."""
    sim.add_event(aad(cloud, "alice"), "Mortgage review", T0 + 30 * MIN + timedelta(seconds=10))
    await alice.say("remind me")
    await alice.until(T0 + 15 * MIN + timedelta(seconds=5), step_s=5)
    assert alice.reminders() == []
    assert (await alice.say("stop reminders"))["text"] == strings.REMINDERS_OFF
    await alice.until(T0 + 31 * MIN, step_s=5)
    assert alice.reminders() == []


async def test_a_record_that_would_not_read_back_is_refused_and_never_stalls_the_poller(
    cloud: LoopbackCloud, sim: Any
) -> None:
    """A `remind me` whose record breaks a constraint (a 300-character tenant id) is refused with the plain sentence
    and nothing is stored, so the poller keeps serving everyone else (before: stored, then the memory store's list
    failed on it and nobody's reminders came)."""
    for user in ("alice", "bob"):
        cloud.token_service.give_token(user)
    sim.add_event(aad(cloud, "bob"), "Pension advice", T0 + 30 * MIN)
    clock = ManualClock(T0)
    async with running_bot(cloud, sim, clock=clock) as bot:
        reminded = Reminded(bot, clock)
        odd_tenant = {"channelData": {"tenant": {"id": "t" * 300}}}
        answer = await reminded.say("remind me", user="alice", extra=odd_tenant)
        assert answer["text"] == strings.ERR_REMINDERS_UNAVAILABLE
        assert (await reminded.say("remind me", user="bob"))["text"] == strings.reminders_on(15)
        await reminded.until(T0 + 20 * MIN)
        assert [s.subscription.user_key for s in await bot.app[REMINDERS].store.list()] == [cloud.user_ids("bob")[0]]
    [(at, _)] = reminded.reminders()
    assert at == T0 + 15 * MIN


@pytest.fixture(params=["memory", "blob"])
async def alice(request: pytest.FixtureRequest, cloud: LoopbackCloud, sim: Any) -> Any:
    cloud.token_service.give_token("alice")
    clock = ManualClock(T0)
    env = {} if request.param == "memory" else blob_env(request.getfixturevalue("azurite"))
    async with running_bot(cloud, sim, clock=clock, **env) as bot:
        yield Reminded(bot, clock)
