"""Client-side CPU per join-link call: GraphClient against a plain aiohttp GET of the same endpoint.

The simulator runs on its own thread; `time.thread_time()` on the calling thread counts only the client's CPU
(request building, retries bookkeeping, parsing), not the server's. Both loops share one session and
connection pool, are interleaved over several rounds, and the median per-call figure is reported.

Run: python -m bench.graph_client [--calls 2000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from collections.abc import Awaitable, Callable

import aiohttp

from graph.client import GraphClient
from graph.simulator import ADELE, GraphSimulator, run_in_thread


async def _cpu_per_call(call: Callable[[], Awaitable[str]], calls: int) -> float:
    """Client CPU (thread time) per call, in microseconds."""
    started = time.thread_time()
    for _ in range(calls):
        await call()
    return (time.thread_time() - started) / calls * 1e6


async def _run(calls: int, rounds: int) -> tuple[float, float]:
    sim = GraphSimulator()
    token = sim.issue_token(ADELE)
    meeting = sim.meetings_of(ADELE)[0]
    handle = run_in_thread(sim)
    try:
        async with aiohttp.ClientSession() as session:

            async def provider() -> str:
                return token

            client = GraphClient(session, provider, base_url=handle.base_url)
            url = f"{handle.base_url}/v1.0/me/onlineMeetings/{meeting.id}/getVirtualAppointmentJoinWebUrl"
            headers = {"Authorization": f"Bearer {token}"}

            async def plain() -> str:
                async with session.get(url, headers=headers) as resp:
                    value: str = json.loads(await resp.read())["value"]
                    return value

            async def graph() -> str:
                return await client.get_join_link(meeting.id)

            assert await plain() == await graph() == meeting.virtual_appointment_url
            for call in (plain, graph):  # warm up the pool and the code paths
                await _cpu_per_call(call, calls // 10 or 1)
            plain_us, graph_us = [], []
            for _ in range(rounds):
                plain_us.append(await _cpu_per_call(plain, calls))
                graph_us.append(await _cpu_per_call(graph, calls))
            return statistics.median(plain_us), statistics.median(graph_us)
    finally:
        handle.stop()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.graph_client", description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    plain_us, graph_us = asyncio.run(_run(args.calls, args.rounds))
    print(f"client CPU per join-link call, median of {args.rounds} rounds x {args.calls} calls")
    print(f"  plain aiohttp GET : {plain_us:8.1f} us")
    print(f"  GraphClient       : {graph_us:8.1f} us")
    print(f"  ratio             : {graph_us / plain_us:8.2f}x")


if __name__ == "__main__":
    main()
