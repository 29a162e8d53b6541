"""What every aiohttp bot process under test shares: the event-loop meters (bench/harness.py) behind
`GET /bench/lag`, and serving on an ephemeral loopback port."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from aiohttp import web

from bench.harness import install_stall_meter, listening_socket, read_out, sample_lag


def install_lag_probe(app: web.Application) -> None:
    """Add the sampler (running for the app's lifetime), the stall meter and the read-out route to an app."""
    install_stall_meter()
    app.cleanup_ctx.append(_sampler)
    app.router.add_get("/bench/lag", _read_lag)


async def _sampler(app: web.Application) -> AsyncIterator[None]:
    task = asyncio.create_task(sample_lag())
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def _read_lag(request: web.Request) -> web.Response:
    return web.json_response(read_out())


def serve(app: web.Application) -> None:
    """Serve `app` on a `listening_socket()` until SIGTERM/SIGINT."""
    web.run_app(app, sock=listening_socket(), print=None, access_log=None, handle_signals=True)
