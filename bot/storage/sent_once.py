"""`dialogs.services.SendOnce` on the bot's stores: one email per card and recipient, across every instance.

A claim is created once and never taken over: unlike an SSO exchange (whose duplicates arrive within seconds), an
email must not go twice however late the second tap comes, so there is no expiry to reclaim. It is given back only
by `release`, when the send certainly failed. Memory keeps claims for one process (bounded: the oldest go first).
Blob Storage keeps them as small blobs under `mail-sent/`, claimed with the one conditional claim of
`bot/storage/claims.py` (If-None-Match: *; a record of ours always stands, so none is taken over); a lifecycle rule on
that prefix may delete them after some weeks, when no card that old is still tapped. Keys are digests made by the
dialogs (no address in a blob name). The Blob one is `bot.storage.blob.BlobSendOnce`, so only instances that use
Blob Storage load the Azure SDK.
"""

from __future__ import annotations

import time
from collections import OrderedDict

MEMORY_LIMIT = 50_000  # claims one process keeps; the oldest are forgotten first


class MemorySendOnce:
    """One process: an insertion-ordered set. `claim` has no await inside, so it is atomic on the event loop."""

    def __init__(self, limit: int = MEMORY_LIMIT) -> None:
        self.limit = limit
        self._claims: OrderedDict[str, float] = OrderedDict()

    async def claim(self, key: str) -> bool:
        if key in self._claims:
            return False
        self._claims[key] = time.time()
        while len(self._claims) > self.limit:
            self._claims.popitem(last=False)
        return True

    async def release(self, key: str) -> None:
        self._claims.pop(key, None)
