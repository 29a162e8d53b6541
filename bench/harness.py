"""What every bot under test carries, in the standard library only (so the Teams SDK anchor, in a venv of its own
without aiohttp, carries the same): the event-loop meters and the loopback listening socket.

The probe sleeps 10 ms at a time and records how late it wakes: how long anything scheduled on the loop waits,
which under saturation includes queueing behind every other ready turn. The stall meter times each callback the
loop runs (asyncio's own `slow_callback_duration` check, without debug mode's cost) and keeps those over 1 ms:
how long one piece of code held the loop. `read_out()` returns both (ms) since the last read and starts afresh,
so each load phase is read alone.

What a 10 ms timer waits for, on one event loop: asyncio runs, per iteration, every callback that was ready when the
iteration began (I/O, due timers, task steps), in order; a timer that falls due meanwhile runs in the next iteration,
after that iteration's earlier ready callbacks. So its lateness is bounded by how long iterations' ready batches
take. The batch meter sums the callbacks each `_run_once` ran (its select wait excluded) and keeps every batch over
1 ms, wall and CPU, with the number of iterations: the distribution that bounds timer lateness.

On a shared machine a wall-clock figure includes the time the bot process waited for a CPU (preempted inside a
callback, or before a timer). Beside each slow callback's wall time the meter keeps the CPU time its thread spent
in it (`time.thread_time`), and `gc.callbacks` times every garbage collection (generation, wall and CPU ms,
objects collected): what is attributable to the bot process itself, reported next to the wall-clock figures.
"""

from __future__ import annotations

import asyncio
import gc
import socket
import time
from collections import deque
from typing import Any

PROBE_INTERVAL_S = 0.010
SLOW_CALLBACK_S = 0.001
MAX_SAMPLES = 200_000
LAG_SAMPLES: deque[float] = deque(maxlen=MAX_SAMPLES)
SLOW_CALLBACKS: deque[float] = deque(maxlen=MAX_SAMPLES)
SLOW_CALLBACKS_CPU: deque[float] = deque(maxlen=MAX_SAMPLES)  # the same callbacks' thread CPU time (ms)
GC_PAUSES: deque[tuple[int, float, float, int]] = deque(maxlen=MAX_SAMPLES)  # generation, wall ms, CPU ms, collected
CALLBACKS = [0]  # every callback timed since the last read-out (the denominator of the stall percentiles)
BATCHES: deque[tuple[float, float, int]] = deque(maxlen=MAX_SAMPLES)  # iterations over 1 ms: wall ms, CPU ms, callbacks
ITERATIONS = [0]
_BATCH = [0.0, 0.0, 0]  # the running iteration: wall s, CPU s, callbacks


def install_stall_meter() -> None:
    """Time every `Handle._run` (task steps, I/O and timer callbacks); record those over SLOW_CALLBACK_S."""
    original = asyncio.events.Handle._run
    if getattr(original, "bench_stall_meter", False):
        return
    clock, cpu_clock = time.perf_counter, time.thread_time

    def timed_run(handle: asyncio.events.Handle) -> None:
        started, cpu_started = clock(), cpu_clock()
        original(handle)
        took, cpu = clock() - started, cpu_clock() - cpu_started
        CALLBACKS[0] += 1
        _BATCH[0] += took
        _BATCH[1] += cpu
        _BATCH[2] += 1
        if took > SLOW_CALLBACK_S:
            SLOW_CALLBACKS.append(took * 1000)
            SLOW_CALLBACKS_CPU.append(cpu * 1000)

    timed_run.bench_stall_meter = True  # type: ignore[attr-defined]
    asyncio.events.Handle._run = timed_run  # type: ignore[method-assign,assignment]
    install_batch_meter()
    install_gc_meter()


def install_batch_meter() -> None:
    """Sum the callbacks of each event-loop iteration (`BaseEventLoop._run_once`; needs the stall meter's timing)."""
    original = asyncio.base_events.BaseEventLoop._run_once  # type: ignore[attr-defined]

    def timed_run_once(loop: asyncio.base_events.BaseEventLoop) -> None:
        _BATCH[0], _BATCH[1], _BATCH[2] = 0.0, 0.0, 0
        original(loop)
        ITERATIONS[0] += 1
        if _BATCH[0] > SLOW_CALLBACK_S:
            BATCHES.append((_BATCH[0] * 1000, _BATCH[1] * 1000, _BATCH[2]))

    asyncio.base_events.BaseEventLoop._run_once = timed_run_once  # type: ignore[attr-defined]


def install_gc_meter() -> None:
    """Time every garbage collection of the process (any thread) through `gc.callbacks`."""
    if any(getattr(cb, "bench_gc_meter", False) for cb in gc.callbacks):
        return
    started = [0.0, 0.0]
    clock, cpu_clock = time.perf_counter, time.thread_time

    def on_gc(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started[0], started[1] = clock(), cpu_clock()
        else:
            GC_PAUSES.append((info["generation"], (clock() - started[0]) * 1000, (cpu_clock() - started[1]) * 1000,
                              info["collected"]))

    on_gc.bench_gc_meter = True  # type: ignore[attr-defined]
    gc.callbacks.append(on_gc)


async def sample_lag() -> None:
    """Run for the server's lifetime (as a task): how late each 10 ms timer fires."""
    loop = asyncio.get_running_loop()
    while True:
        started = loop.time()
        await asyncio.sleep(PROBE_INTERVAL_S)
        LAG_SAMPLES.append(max(0.0, loop.time() - started - PROBE_INTERVAL_S) * 1000)


def _copy(samples: deque[Any]) -> list[Any]:
    """A copy of `samples`, which another thread may append to meanwhile: garbage collections are timed in whatever
    thread runs them (the Teams SDK anchor has several), and iterating a deque that grows raises RuntimeError, which
    made that bot's `/bench/lag` answer 500 now and then."""
    while True:
        try:
            return list(samples)
        except RuntimeError:
            continue


def read_out() -> dict[str, Any]:
    """The `GET /bench/lag` answer: lag samples, callbacks over 1 ms (wall and CPU), callbacks in all, garbage
    collections, and the objects a full collection walks (tracked, not frozen) now; then start afresh."""
    taken, slow, slow_cpu, count = _copy(LAG_SAMPLES), _copy(SLOW_CALLBACKS), _copy(SLOW_CALLBACKS_CPU), CALLBACKS[0]
    pauses = [list(p) for p in _copy(GC_PAUSES)]
    batches, iterations = [list(b) for b in _copy(BATCHES)], ITERATIONS[0]
    for samples in (LAG_SAMPLES, SLOW_CALLBACKS, SLOW_CALLBACKS_CPU, GC_PAUSES, BATCHES):
        samples.clear()
    CALLBACKS[0] = ITERATIONS[0] = 0
    return {"samples_ms": taken, "slow_callbacks_ms": slow, "slow_callbacks_cpu_ms": slow_cpu, "callbacks": count,
            "batches": batches, "iterations": iterations,
            "gc_pauses": pauses, "gc_tracked": len(gc.get_objects()), "gc_frozen": gc.get_freeze_count()}


def listening_socket() -> socket.socket:
    """A socket listening on 127.0.0.1:<ephemeral>, its port printed as `PORT <n>` for the bench.

    The socket listens before the app starts, so a /healthz probe waits in the backlog instead of being refused
    and the measured start-up time is when the app really answers.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(256)
    print(f"PORT {sock.getsockname()[1]}", flush=True)
    return sock
