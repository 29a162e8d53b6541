"""Azure SDK cost and bound: the Blob client opens an aiohttp session of its own, with its own connection pool.

`azure.storage.blob.aio` makes one `AioHttpTransport` per client, which creates a `ClientSession` on first use and
owns it. `SharedSessionTransport` sends the Blob client's requests through the app's one session instead (the
session is made in an aiohttp cleanup context, so it is taken when the client first opens, not when it is built),
and never closes it: the app does. Two things the SDK's own session guaranteed are kept per request: no
decompression (a stored blob that claims `Content-Encoding: gzip` arrives as the bytes stored, so a size check bounds
what is held in memory, and it fails to decode as ours) and the SDK's own per-try connect and read timeouts.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import aiohttp
from azure.core.pipeline.transport import AioHttpTransport

SessionSource = Callable[[], aiohttp.ClientSession]


class SharedSessionTransport(AioHttpTransport):
    """An `AioHttpTransport` on a session the app owns."""

    def __init__(self, session: SessionSource, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.session: aiohttp.ClientSession | None = None
        self._source = session
        self._session_owner = False

    async def open(self) -> None:
        if self.session is None:
            self.session = self._source()
        self._has_been_opened = True

    async def close(self) -> None:
        """The app closes its session; a client closing must not."""

    async def send(self, request: Any, **config: Any) -> Any:
        config.setdefault("auto_decompress", False)
        return await super().send(request, **config)
