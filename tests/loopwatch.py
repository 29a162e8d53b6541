"""How long the test's event loop (which runs the bot) was held up: a timer that should fire every 5 ms records
how late it fired. A blocking call inside a turn shows up as one long late wake-up, whatever the counts say."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

TICK_S = 0.005


@dataclass
class LoopWatch:
    lateness_s: list[float] = field(default_factory=list)

    @property
    def worst_s(self) -> float:
        return max(self.lateness_s, default=0.0)


@contextlib.asynccontextmanager
async def watch_loop() -> AsyncIterator[LoopWatch]:
    """Sample the running loop's timer lateness for the duration of the block."""
    watch = LoopWatch()
    loop = asyncio.get_running_loop()

    async def tick() -> None:
        while True:
            started = loop.time()
            await asyncio.sleep(TICK_S)
            watch.lateness_s.append(max(0.0, loop.time() - started - TICK_S))

    task = asyncio.create_task(tick())
    await asyncio.sleep(0)
    try:
        yield watch
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
