"""The background event loop every fake is served from, and the fault queue the fakes share.

The Bot Framework SDK makes blocking `requests` calls on the bot's event loop (OpenID metadata, MSAL, TeamsInfo).
A fake served from that same loop could never answer them, so all fakes live on their own loop in a daemon thread.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import threading
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

from aiohttp import web

T = TypeVar("T")


class LoopThread:
    """An asyncio loop running in its own thread, serving aiohttp apps on 127.0.0.1 ephemeral ports."""

    def __init__(self, name: str = "loopback-cloud") -> None:
        self._name = name
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runners: list[web.AppRunner] = []

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._thread = threading.Thread(target=loop.run_forever, name=self._name, daemon=True)
        self._thread.start()

    def call(self, coro: Coroutine[Any, Any, T], timeout: float = 10.0) -> T:
        """Run `coro` on the cloud's loop and wait for its result from the calling thread."""
        if self._loop is None:
            coro.close()
            raise RuntimeError("the loopback cloud is not started")
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    def serve(self, app: web.Application, ssl_context: ssl.SSLContext | None = None) -> int:
        """Serve `app` on 127.0.0.1 and return the port the OS picked."""
        return self.call(self._serve(app, ssl_context))

    async def _serve(self, app: web.Application, ssl_context: ssl.SSLContext | None) -> int:
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        await web.SockSite(runner, sock, ssl_context=ssl_context).start()
        self._runners.append(runner)
        port: int = sock.getsockname()[1]
        return port

    def stop(self) -> None:
        """Close every server, stop the loop and join the thread; safe to call twice."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        try:
            self.call(self._cleanup())
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=10)
            loop.close()
            self._loop = self._thread = None

    async def _cleanup(self) -> None:
        runners, self._runners = self._runners, []
        for runner in runners:
            await runner.cleanup()


@dataclass
class Fault:
    """One injected failure: answer `status` to the next `remaining` matching requests."""

    status: int
    remaining: int
    retry_after: float | str | None = None
    path_contains: str | None = None

    def headers(self) -> dict[str, str]:
        if self.retry_after is None:
            return {}
        value = self.retry_after
        return {"Retry-After": str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)}


class Faults:
    """A thread-safe queue of injected failures, consumed first-in first-out by matching requests."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: list[Fault] = []

    def add(self, status: int, times: int = 1, retry_after: float | str | None = None,
            path_contains: str | None = None) -> None:
        if times < 1:
            raise ValueError("times must be at least 1")
        with self._lock:
            self._items.append(Fault(status, times, retry_after, path_contains))

    def take(self, path: str) -> Fault | None:
        """The fault this request must get, if any (uses one of its `remaining`)."""
        with self._lock:
            for fault in self._items:
                if fault.path_contains is None or fault.path_contains in path:
                    fault.remaining -= 1
                    if fault.remaining == 0:
                        self._items.remove(fault)
                    return fault
        return None

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


def bearer(header: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, or None."""
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None
