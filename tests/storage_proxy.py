"""A fault-injecting HTTP proxy in front of Azurite, on 127.0.0.1, in a thread and event loop of its own (like
tests/cloud), so the bot's loop under test never runs it.

It forwards every request unchanged (the SharedKey signature covers the headers, so they pass as sent) and counts
what the bot asked for and what came back: requests by method and path, response body bytes, and the most
requests in flight at once. Faults are switched while it runs: `delay_s` holds every request before forwarding it
(a slow account), `status` answers every request with that status instead (503 ServerBusy, 500 InternalError).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import aiohttp
from aiohttp import web
from multidict import CIMultiDict

_HOP = frozenset({"host", "content-length", "transfer-encoding", "connection", "keep-alive"})
_ERROR_CODES = {503: "ServerBusy", 500: "InternalError"}


@dataclass(frozen=True)
class Seen:
    method: str
    path: str  # path and query, the account prefix included


class StorageProxy:
    """`with StorageProxy(azurite.blob_endpoint) as proxy:`; give the bot `proxy.connection_string(azurite)`."""

    def __init__(self, upstream_endpoint: str) -> None:
        self.upstream = upstream_endpoint.rsplit("/", 1)[0]  # http://127.0.0.1:port (the account is in the path)
        self.account = upstream_endpoint.rsplit("/", 1)[1]
        self.delay_s = 0.0
        self.status: int | None = None
        self.seen: list[Seen] = []
        self.durations_ms: list[float] = []  # each forwarded request's round trip to Azurite
        self.body_bytes = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self.port = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None

    def connection_string(self, connection_string: str) -> str:
        """The same account, its blob endpoint through this proxy."""
        parts = [p for p in connection_string.split(";") if p and not p.startswith("BlobEndpoint=")]
        return ";".join([*parts, f"BlobEndpoint=http://127.0.0.1:{self.port}/{self.account}", ""])

    def reset_counts(self) -> None:
        self.seen, self.body_bytes, self.max_in_flight = [], 0, self.in_flight

    def requests(self, method: str | None = None, contains: str = "") -> list[Seen]:
        return [s for s in self.seen if (method is None or s.method == method) and contains in s.path]

    def __enter__(self) -> StorageProxy:
        self._thread = threading.Thread(target=self._run, daemon=True, name="storage-proxy")
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the storage proxy did not start")
        return self

    def __exit__(self, *_exc: object) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _run(self) -> None:
        asyncio.run(self._serve())

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        async with aiohttp.ClientSession(auto_decompress=False) as session:
            self._session = session
            app = web.Application(client_max_size=64 * 1024 * 1024)
            app.router.add_route("*", "/{tail:.*}", self._forward)
            runner = web.AppRunner(app, access_log=None)
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            self.port = runner.addresses[0][1]
            self._ready.set()
            await self._stop.wait()
            await runner.cleanup()

    async def _forward(self, request: web.Request) -> web.Response:
        self.seen.append(Seen(request.method, request.path_qs))
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.delay_s:
                await asyncio.sleep(self.delay_s)
            if self.status is not None:
                code = _ERROR_CODES.get(self.status, "InternalError")
                return web.Response(status=self.status, headers={"x-ms-error-code": code}, text=code)
            body = await request.read()
            began = time.perf_counter()
            headers = CIMultiDict((k, v) for k, v in request.headers.items() if k.lower() not in _HOP)
            async with self._session.request(
                request.method, self.upstream + request.path_qs, headers=headers, data=body or None,
                allow_redirects=False, skip_auto_headers=("Content-Type", "User-Agent", "Accept", "Accept-Encoding"),
            ) as answer:
                data = await answer.read()
                self.durations_ms.append((time.perf_counter() - began) * 1000)
                self.body_bytes += len(data)
                back = CIMultiDict((k, v) for k, v in answer.headers.items() if k.lower() not in _HOP)
                return web.Response(status=answer.status, headers=back, body=data)
        finally:
            self.in_flight -= 1


@contextmanager
def proxied(connection_string: str, endpoint: str) -> Iterator[tuple[StorageProxy, str]]:
    """A running proxy and the connection string that goes through it."""
    with StorageProxy(endpoint) as proxy:
        yield proxy, proxy.connection_string(connection_string)
