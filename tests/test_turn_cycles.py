"""A warm turn leaves nothing to the cyclic garbage collector (bot/sdk/turn_cycles.py): through the real app on the
loopback cloud, every object a get-link interaction or a help turn creates is freed by reference counting when
the turn ends. Stock botbuilder 4.17.1 leaves about fifty SDK objects a turn in reference cycles (dialog contexts
and their state managers, step contexts, the TurnContext with its activities), which full collections then walk on
the event loop. `python -m tests.fixcheck` shows this test failing without the fix."""

from __future__ import annotations

import gc
from collections import Counter

from tests.e2e_support import running_bot
from tests.test_e2e_conversation import Chat, finish_without_client, meeting_for, result_url, signed_in

__all__ = ["signed_in"]  # the fixture, shared with the conversation tests

OURS_AND_THE_SDKS = ("botbuilder.", "botframework.", "bot.", "dialogs.", "graph.")
INTERACTIONS = 10


def cyclic_garbage_by_type(garbage: list[object]) -> Counter[str]:
    """What `gc.collect()` found unreachable, by type, counting only the bot's and the SDK's classes (the test's
    own client and the loopback cloud, in other threads, may leave cycles of their own)."""
    names = (f"{type(o).__module__}.{type(o).__qualname__}" for o in garbage)
    return Counter(name for name in names if name.startswith(OURS_AND_THE_SDKS))


async def test_warm_turns_leave_no_cyclic_garbage(cloud, sim, signed_in):
    meeting = meeting_for(cloud, sim)
    async with running_bot(cloud, sim) as bot:
        chat = Chat(bot)

        async def interaction() -> None:
            await chat.say(f"get link {meeting.id}")
            assert result_url(await finish_without_client(chat)) == meeting.virtual_appointment_url
            await chat.say("help")
            await chat.reply()

        await interaction()  # warm: token, clients, caches
        gc.collect()
        gc.disable()
        gc.set_debug(gc.DEBUG_SAVEALL)  # keep what the collector finds, to count it
        try:
            for _ in range(INTERACTIONS):
                await interaction()
            gc.collect()
            left = cyclic_garbage_by_type(gc.garbage)
        finally:
            gc.set_debug(0)
            gc.garbage.clear()
            gc.enable()
    turns = INTERACTIONS * 3
    assert sum(left.values()) < turns, f"{turns} warm turns left cycles: {left.most_common(8)}"
