"""Serving the app with a graceful, bounded shutdown (replaces `web.run_app` in `main()`).

App Service and every rolling deploy stop the bot with SIGTERM. Then: stop accepting connections at once (the load
balancer sends new turns to another instance), let in-flight turns finish and deliver their replies for at most
`shutdown_timeout` seconds, run the app's cleanup (HTTP session, storage client) and exit 0. A turn cut off by the
bound loses only that turn; the user's place is in shared storage.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import socket
from collections.abc import Callable

from aiohttp import web

log = logging.getLogger(__name__)

DEFAULT_SHUTDOWN_TIMEOUT_S = 10.0  # Azure App Service waits 30 s after SIGTERM before it kills the process
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


async def serve(
    app: web.Application,
    host: str,
    port: int,
    *,
    shutdown_timeout: float = DEFAULT_SHUTDOWN_TIMEOUT_S,
    on_listening: Callable[[str, int], None] | None = None,
    stop: asyncio.Event | None = None,
) -> None:
    """Serve `app` on host:port until SIGTERM/SIGINT (or `stop` is set), then shut down gracefully.

    `on_listening(host, port)` receives the bound address (the real port when `port` is 0).
    """
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=shutdown_timeout, handle_signals=False)
    await runner.setup()  # runs on_startup and cleanup contexts: a bad configuration fails here, before listening
    for signum in STOP_SIGNALS:
        loop.add_signal_handler(signum, stop.set)
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
        bound = _bound_port(site, port)
        log.info("listening on %s:%d", host, bound)
        if on_listening is not None:
            on_listening(host, bound)
        await stop.wait()
        log.info("stopping: no new requests; finishing in-flight turns (at most %.0f s)", shutdown_timeout)
    finally:
        for signum in STOP_SIGNALS:
            loop.remove_signal_handler(signum)
        # Closes the listening socket, then idle keep-alive connections, waits for running handlers up to the
        # timeout, and only then runs on_shutdown/on_cleanup, so replies still have their HTTP session.
        await runner.cleanup()
        log.info("stopped")


def run(
    app: web.Application,
    host: str,
    port: int,
    *,
    shutdown_timeout: float = DEFAULT_SHUTDOWN_TIMEOUT_S,
    on_listening: Callable[[str, int], None] | None = None,
) -> int:
    """Blocking entry point for `main()`: serve until stopped; 0 after a graceful stop."""
    asyncio.run(serve(app, host, port, shutdown_timeout=shutdown_timeout, on_listening=on_listening))
    return 0


def _bound_port(site: web.TCPSite, requested: int) -> int:
    server = site._server  # aiohttp exposes no public accessor for the bound socket
    sockets: list[socket.socket] = list(getattr(server, "sockets", None) or [])
    return int(sockets[0].getsockname()[1]) if sockets else requested
