"""Outgoing pacing: Teams allows a bot 7 sends per second in one conversation (then 429s). We stay under it.

Teams counts sends as they *arrive*, and an arrival can lag its start by a thread-pool hop and a network round trip.
So sends to one conversation go one at a time, and a send starts only once a full second has passed since the
*completion* of the seventh send before it: arrivals then can never be seven to a second, however late each lands.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict, deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

PER_SECOND = 7
MAX_CONVERSATIONS = 10_000  # bounded memory: the least recently used idle conversation is forgotten


class _Conversation:
    __slots__ = ("done", "lock")

    def __init__(self, per_second: int) -> None:
        self.lock = asyncio.Lock()
        self.done: deque[float] = deque(maxlen=per_second)  # completion times of the last sends


class ConversationPacer:
    """`async with pacer.slot(conversation_id):` around each send to that conversation."""

    def __init__(self, per_second: int = PER_SECOND, window_s: float = 1.0) -> None:
        self.per_second = per_second
        self.window_s = window_s
        self._conversations: OrderedDict[str, _Conversation] = OrderedDict()

    def _get(self, conversation_id: str) -> _Conversation:
        state = self._conversations.get(conversation_id)
        if state is None:
            state = self._conversations[conversation_id] = _Conversation(self.per_second)
            if len(self._conversations) > MAX_CONVERSATIONS:
                oldest, idle = next(iter(self._conversations.items()))
                if not idle.lock.locked():
                    del self._conversations[oldest]
        self._conversations.move_to_end(conversation_id)
        return state

    @asynccontextmanager
    async def slot(self, conversation_id: str) -> AsyncIterator[None]:
        state = self._get(conversation_id)
        async with state.lock:
            if len(state.done) == self.per_second:
                wait = state.done[0] + self.window_s - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
            try:
                yield
            finally:
                state.done.append(time.monotonic())
