"""Load generator, run in its own process so its CPU is not the bot's: `python -m bench.loadgen`.

Protocol on stdin/stdout, one JSON line each way, so the bench can read the bot's CPU counters exactly around
the measured part: read the spec; warm up; print `ready`; wait for `go`; run; print the result.

Spec: {"url", "workers": [{"activity", "authorization", "conversations"}], "max_turns", "max_seconds",
"timeout_s"}. Concurrency is the number of workers; each posts its own activity (a fresh id per post) one turn
at a time, taking its conversation ids in turn, until `max_turns` have been started in all or `max_seconds`
have passed. The warm-up posts once to each of a worker's conversations. Several conversations per worker keep
each one under Teams' 7 sends per second, which the bot paces (bot/pacing.py) and would otherwise wait for.
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

    latencies_ms: list[float] = field(default_factory=list)
    ok_by_conversation: Counter[str] = field(default_factory=Counter)
    failures: Counter[str] = field(default_factory=Counter)


class Poster:
    """Posts one worker's activity with a unique id each time, to its conversations in turn."""

    def __init__(self, session: aiohttp.ClientSession, url: str, worker: dict[str, Any], index: int) -> None:
        self._session = session
        self._url = url
        self._activity = worker["activity"]
        self._headers = {"Authorization": worker["authorization"], "Content-Type": "application/json"}
        self.conversations: list[str] = worker["conversations"]
        self._ids = itertools.count()
        self._prefix = f"bench-{index}-"

    async def post(self) -> tuple[str, str | None]:
        """One turn: (its conversation id, None when it got a 2xx, else what went wrong)."""
        n = next(self._ids)
        conversation = self.conversations[n % len(self.conversations)]
        activity = dict(self._activity, id=f"{self._prefix}{n}",
                        conversation=dict(self._activity["conversation"], id=conversation))
        return conversation, await self._send(activity)

    async def _send(self, activity: dict[str, Any]) -> str | None:
        try:
            async with self._session.post(self._url, data=json.dumps(activity), headers=self._headers) as resp:
                await resp.read()
                return None if 200 <= resp.status < 300 else f"HTTP {resp.status}"
        except (aiohttp.ClientError, TimeoutError) as exc:
            return type(exc).__name__


async def _warm_up(posters: list[Poster]) -> int:
    async def one(poster: Poster) -> int:
        return sum([(await poster.post())[1] is None for _ in poster.conversations])

    return sum(await asyncio.gather(*(one(p) for p in posters)))


async def _measure(posters: list[Poster], max_turns: int, max_seconds: float) -> tuple[Tally, float]:
    tally = Tally()
    started_turns = itertools.count()
    start = time.perf_counter()
    deadline = start + max_seconds

    async def worker(poster: Poster) -> None:
        while next(started_turns) < max_turns and time.perf_counter() < deadline:
            sent = time.perf_counter()
            conversation, failure = await poster.post()
            if failure is None:
                tally.latencies_ms.append((time.perf_counter() - sent) * 1000)
                tally.ok_by_conversation[conversation] += 1
            else:
                tally.failures[failure] += 1

    await asyncio.gather(*(worker(p) for p in posters))
    return tally, time.perf_counter() - start


async def run(spec: dict[str, Any]) -> dict[str, Any]:
    workers = spec["workers"]
    connector = aiohttp.TCPConnector(limit=len(workers), force_close=False)
    timeout = aiohttp.ClientTimeout(total=spec.get("timeout_s", 30))
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        posters = [Poster(session, spec["url"], w, i) for i, w in enumerate(workers)]
        warm_ok = await _warm_up(posters)
        print("ready", flush=True)
        if (await asyncio.to_thread(sys.stdin.readline)).strip() != "go":
            raise SystemExit("loadgen: expected 'go'")
        tally, elapsed = await _measure(posters, spec["max_turns"], spec["max_seconds"])
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
    }


def main() -> None:
    spec = json.loads(sys.stdin.readline())
    print(json.dumps(asyncio.run(run(spec))), flush=True)


if __name__ == "__main__":
    main()
