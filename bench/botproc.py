"""What every bot process under test shares: an event-loop lag probe and serving on an ephemeral loopback port.

The probe sleeps 10 ms at a time and records how late it wakes: how long anything scheduled on the loop waits,
which under saturation includes queueing behind every other ready turn. The stall meter times each callback the
loop runs (asyncio's own `slow_callback_duration` check, without debug mode's cost) and keeps those over 1 ms:
how long one piece of code held the loop. `GET /bench/lag` returns both (ms) since the last read and starts afresh,
so each load phase is read alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections import deque
from collections.abc import AsyncIterator

from aiohttp import web

PROBE_INTERVAL_S = 0.010
SLOW_CALLBACK_S = 0.001
MAX_SAMPLES = 200_000
LAG_SAMPLES = web.AppKey("bench_lag_samples", deque)
SLOW_CALLBACKS: deque[float] = deque(maxlen=MAX_SAMPLES)
CALLBACKS = [0]  # every callback timed since the last read-out (the denominator of the stall percentiles)


def install_lag_probe(app: web.Application) -> None:
    """Add the sampler (running for the app's lifetime), the stall meter and the read-out route to an app."""
    app[LAG_SAMPLES] = deque(maxlen=MAX_SAMPLES)
    _install_stall_meter()
    app.cleanup_ctx.append(_sampler)
    app.router.add_get("/bench/lag", _read_lag)


def _install_stall_meter() -> None:
    """Time every `Handle._run` (task steps, I/O and timer callbacks); record those over SLOW_CALLBACK_S."""
    original = asyncio.events.Handle._run
    if getattr(original, "bench_stall_meter", False):
        return
    clock = time.perf_counter

    def timed_run(handle: asyncio.events.Handle) -> None:
        started = clock()
        original(handle)
        took = clock() - started
        CALLBACKS[0] += 1
        if took > SLOW_CALLBACK_S:
            SLOW_CALLBACKS.append(took * 1000)

    timed_run.bench_stall_meter = True  # type: ignore[attr-defined]
    asyncio.events.Handle._run = timed_run  # type: ignore[method-assign,assignment]


async def _sampler(app: web.Application) -> AsyncIterator[None]:
    task = asyncio.create_task(_sample(app[LAG_SAMPLES]))
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def _sample(samples: deque[float]) -> None:
    loop = asyncio.get_running_loop()
    while True:
        started = loop.time()
        await asyncio.sleep(PROBE_INTERVAL_S)
        samples.append(max(0.0, loop.time() - started - PROBE_INTERVAL_S) * 1000)


async def _read_lag(request: web.Request) -> web.Response:
    samples = request.app[LAG_SAMPLES]
    taken, slow, count = list(samples), list(SLOW_CALLBACKS), CALLBACKS[0]
    samples.clear()
    SLOW_CALLBACKS.clear()
    CALLBACKS[0] = 0
    return web.json_response({"samples_ms": taken, "slow_callbacks_ms": slow, "callbacks": count})


def serve(app: web.Application) -> None:
    """Listen on 127.0.0.1:<ephemeral>, print `PORT <n>` for the bench, then serve until SIGTERM/SIGINT.

    The socket listens before the app starts, so a /healthz probe waits in the backlog instead of being refused
    and the measured start-up time is when the app really answers.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(256)
    print(f"PORT {sock.getsockname()[1]}", flush=True)
    web.run_app(app, sock=sock, print=None, access_log=None, handle_signals=True)
