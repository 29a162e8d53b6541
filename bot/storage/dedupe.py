"""SDK defect 7.3: duplicate `signin/tokenExchange` invokes are not de-duplicated.

Teams sends one `signin/tokenExchange` per signed-in client, all with the same `value.id`; exactly one may continue
the dialog. The SDK's middleware relies on `MemoryStorage` rejecting a write with a made-up ETag, which Python's
`MemoryStorage` accepts on first insert (and `BlobStorage` fails every such write). What is needed is an atomic
insert-if-absent keyed by the exchange id: the first caller wins, every later one within the TTL loses.
"""

from __future__ import annotations

import time
from typing import Protocol

DEFAULT_TTL_S = 300.0  # Teams' duplicates arrive within seconds; five minutes is ample and bounds memory


class ExchangeDedupe(Protocol):
    """An atomic first-writer-wins claim on a key, shared by every instance that shares the store."""

    async def claim(self, key: str) -> bool:
        """True for exactly one caller per key within the TTL; False for every duplicate."""
        ...


class MemoryExchangeDedupe:
    """One process: a dict of claim expiry times. `claim` has no await inside, so it is atomic on the event loop."""

    def __init__(self, ttl_s: float = DEFAULT_TTL_S) -> None:
        self.ttl_s = ttl_s
        self._claims: dict[str, float] = {}

    async def claim(self, key: str) -> bool:
        now = time.monotonic()
        if len(self._claims) > 1024:
            self._claims = {k: t for k, t in self._claims.items() if t > now}
        expires = self._claims.get(key)
        if expires is not None and expires > now:
            return False
        self._claims[key] = now + self.ttl_s
        return True
