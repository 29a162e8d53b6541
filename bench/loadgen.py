"""Load generator, run in its own process so its CPU is not the bot's: `python -m bench.loadgen`.

Protocol on stdin/stdout, one JSON line each way, so the bench can read the bot's CPU counters exactly around
the measured part: read the spec; warm up; print `ready`; wait for `go`; run; print the result.

Spec: {"url", "workers": [{"steps", "authorization", "conversations", "expect"}], "max_turns", "max_seconds",
"timeout_s", "open_rate"}. An *interaction* is a worker's `steps` (activities) posted in order in one conversation,
each after the previous one's answer: the user's actions up to the result. `expect`, when given, must appear in the
last step's HTTP answer (an invoke answered inline). Closed loop (no `open_rate`): one interaction at a time per
worker, taking its conversation ids in turn, until `max_turns` interactions have started or `max_seconds` passed.
Open loop (`open_rate` interactions per second): interactions start on a fixed schedule whatever the bot's speed,
each in a fresh conversation, workers taking turns; so a slow bot meets a queue, as it would in production.
The warm-up runs one interaction in each of a worker's conversations. Several conversations per worker keep each
one under Teams' 7 sends per second, which the bot paces (bot/pacing.py) and would otherwise wait for.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from bench.procstat import percentile


@dataclass
class Tally:
    """What the measured part saw."""

    latencies_ms: list[float] = field(default_factory=list)  # whole interaction
    last_step_ms: list[float] = field(default_factory=list)  # the user's last action to its answer
    ok_by_conversation: Counter[str] = field(default_factory=Counter)
    failures: Counter[str] = field(default_factory=Counter)


class Poster:
    """Posts one worker's interaction with a unique activity id each time."""

    def __init__(self, session: aiohttp.ClientSession, url: str, worker: dict[str, Any], index: int) -> None:
        self._session = session
        self._url = url
        self._steps: list[dict[str, Any]] = worker["steps"]
        self._expect: str | None = worker.get("expect")
        self._headers = {"Authorization": worker["authorization"], "Content-Type": "application/json"}
        self.conversations: list[str] = worker["conversations"]
        self._ids = itertools.count()
        self._prefix = f"bench-{index}-"
        self._turn = itertools.count()

    def next_conversation(self) -> str:
        return self.conversations[next(self._turn) % len(self.conversations)]

    async def interact(self, conversation: str, tally: Tally | None = None) -> str | None:
        """One interaction in `conversation`: None when every step got a 2xx (and the expected answer)."""
        started = time.perf_counter()
        last_started = started
        for step in self._steps:
            last_started = time.perf_counter()
            activity = dict(step, id=f"{self._prefix}{next(self._ids)}",
                            conversation=dict(step["conversation"], id=conversation))
            failure = await self._send(activity, last=step is self._steps[-1])
            if failure is not None:
                if tally is not None:
                    tally.failures[failure] += 1
                return failure
        if tally is not None:
            now = time.perf_counter()
            tally.latencies_ms.append((now - started) * 1000)
            tally.last_step_ms.append((now - last_started) * 1000)
            tally.ok_by_conversation[conversation] += 1
        return None

    async def _send(self, activity: dict[str, Any], *, last: bool) -> str | None:
        try:
            async with self._session.post(self._url, data=json.dumps(activity), headers=self._headers) as resp:
                body = await resp.text()
                if not 200 <= resp.status < 300:
                    return f"HTTP {resp.status}"
                if last and self._expect is not None and self._expect not in body:
                    return "unexpected answer"
                return None
        except (aiohttp.ClientError, TimeoutError) as exc:
            return type(exc).__name__


async def _warm_up(posters: list[Poster]) -> int:
    async def one(poster: Poster) -> int:
        return sum([await poster.interact(c) is None for c in poster.conversations])

    return sum(await asyncio.gather(*(one(p) for p in posters)))


async def _closed(posters: list[Poster], max_turns: int, max_seconds: float, tally: Tally) -> None:
    started_turns = itertools.count()
    deadline = time.perf_counter() + max_seconds

    async def worker(poster: Poster) -> None:
        while next(started_turns) < max_turns and time.perf_counter() < deadline:
            await poster.interact(poster.next_conversation(), tally)

    await asyncio.gather(*(worker(p) for p in posters))


async def _open(posters: list[Poster], rate: float, max_turns: int, max_seconds: float, tally: Tally) -> None:
    start = time.perf_counter()
    count = min(max_turns, max(1, int(rate * max_seconds)))
    tasks = []
    for n in range(count):
        delay = start + n / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        poster = posters[n % len(posters)]
        tasks.append(asyncio.create_task(poster.interact(f"{poster.conversations[0]}-open-{n}", tally)))
    await asyncio.gather(*tasks)


async def run(spec: dict[str, Any]) -> dict[str, Any]:
    workers = spec["workers"]
    rate = spec.get("open_rate")
    limit = 0 if rate else len(workers)  # open loop: as many connections as the schedule needs
    connector = aiohttp.TCPConnector(limit=limit, force_close=False)
    timeout = aiohttp.ClientTimeout(total=spec.get("timeout_s", 30))
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        posters = [Poster(session, spec["url"], w, i) for i, w in enumerate(workers)]
        warm_ok = await _warm_up(posters)
        print("ready", flush=True)
        if (await asyncio.to_thread(sys.stdin.readline)).strip() != "go":
            raise SystemExit("loadgen: expected 'go'")
        tally = Tally()
        start = time.perf_counter()
        if rate:
            await _open(posters, float(rate), spec["max_turns"], spec["max_seconds"], tally)
        else:
            await _closed(posters, spec["max_turns"], spec["max_seconds"], tally)
        elapsed = time.perf_counter() - start
    turns = len(tally.latencies_ms)
    return {
        "warmup_ok": warm_ok,
        "turns": turns,
        "failures": dict(tally.failures),
        "ok_by_conversation": dict(tally.ok_by_conversation),
        "elapsed_s": elapsed,
        "turns_per_s": turns / elapsed if elapsed > 0 else 0.0,
        "p50_ms": percentile(tally.latencies_ms, 50),
        "p99_ms": percentile(tally.latencies_ms, 99),
        "max_ms": max(tally.latencies_ms, default=float("nan")),
        "last_step_p50_ms": percentile(tally.last_step_ms, 50),
        "last_step_p99_ms": percentile(tally.last_step_ms, 99),
    }


def main() -> None:
    spec = json.loads(sys.stdin.readline())
    print(json.dumps(asyncio.run(run(spec))), flush=True)


if __name__ == "__main__":
    main()
