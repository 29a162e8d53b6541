"""Graceful shutdown (bot/shutdown.py): on SIGTERM the bot stops accepting requests, finishes the turn in flight,
delivers its reply and exits 0, within a bound. Scale-out depends on it: every deploy restarts every instance."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import requests
from aiohttp import web

from bot.shutdown import serve
from tests.cloud import LoopbackCloud

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- the runner, in-process ------------------------------------------------------------------------------------------

class SlowApp:
    """An app whose one route takes `delay` seconds; records what finished and when cleanup ran."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.events: list[str] = []
        self.started = asyncio.Event()
        self.app = web.Application()
        self.app.router.add_get("/slow", self._slow)
        self.app.cleanup_ctx.append(self._resources)

    async def _slow(self, _request: web.Request) -> web.Response:
        self.started.set()
        await asyncio.sleep(self.delay)
        self.events.append("turn finished")
        return web.Response(text="done")

    async def _resources(self, _app: web.Application) -> AsyncIterator[None]:
        yield
        self.events.append("cleanup")


@pytest.fixture
async def client() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def start(slow: SlowApp, timeout: float) -> tuple[asyncio.Task[None], asyncio.Event, int]:
    stop, bound = asyncio.Event(), asyncio.get_running_loop().create_future()
    task = asyncio.create_task(serve(slow.app, "127.0.0.1", 0, shutdown_timeout=timeout, stop=stop,
                                     on_listening=lambda _host, port: bound.set_result(port)))
    return task, stop, await asyncio.wait_for(bound, 5)


async def test_in_flight_request_finishes_before_cleanup(client: aiohttp.ClientSession) -> None:
    slow = SlowApp(delay=0.5)
    server, stop, port = await start(slow, timeout=5)
    request = asyncio.create_task(client.get(f"http://127.0.0.1:{port}/slow"))
    await asyncio.wait_for(slow.started.wait(), 5)
    stop.set()
    await asyncio.sleep(0.1)
    with pytest.raises(aiohttp.ClientConnectionError):  # no longer accepting
        await client.get(f"http://127.0.0.1:{port}/slow", timeout=aiohttp.ClientTimeout(total=2))
    response = await request
    assert response.status == 200
    assert await response.text() == "done"
    await asyncio.wait_for(server, 5)
    assert slow.events == ["turn finished", "cleanup"]


async def test_a_turn_longer_than_the_bound_is_cut_off(client: aiohttp.ClientSession) -> None:
    slow = SlowApp(delay=30)
    server, stop, port = await start(slow, timeout=0.3)
    request = asyncio.create_task(client.get(f"http://127.0.0.1:{port}/slow"))
    await asyncio.wait_for(slow.started.wait(), 5)
    began = time.monotonic()
    stop.set()
    await asyncio.wait_for(server, 5)
    assert time.monotonic() - began < 2
    assert slow.events == ["cleanup"]
    with pytest.raises(aiohttp.ClientError):
        await request


# --- the real process ------------------------------------------------------------------------------------------------

@pytest.fixture
def local_bot(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], int]]:
    """`python app.py` in local mode on a fresh port, in an empty folder (no .env)."""
    port = free_port()
    env = {"PATH": os.environ.get("PATH", ""), "PORT": str(port), "LOG_LEVEL": "INFO"}
    process = subprocess.Popen(  # noqa: S603 - our own entry point
        [sys.executable, str(ROOT / "app.py")], cwd=tmp_path, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        deadline = time.monotonic() + 20
        while process.poll() is None and time.monotonic() < deadline:
            try:
                if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).ok:
                    break
            except requests.ConnectionError:
                time.sleep(0.05)
        else:
            pytest.fail(f"the bot did not start: {process.stdout.read() if process.stdout else ''}")
        yield process, port
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=10)


def test_sigterm_during_a_slow_turn_still_delivers_the_reply(
    local_bot: tuple[subprocess.Popen[str], int], cloud: LoopbackCloud
) -> None:
    process, port = local_bot
    cloud.connector.require_auth = False  # local mode sends no token
    cloud.connector.latency_s = 1.5  # the reply takes 1.5 s to deliver
    answer: dict[str, Any] = {}

    def post() -> None:
        response = requests.post(f"http://127.0.0.1:{port}/api/messages", json=cloud.activity("help"), timeout=15)
        answer["status"] = response.status_code

    turn = threading.Thread(target=post)
    turn.start()
    time.sleep(0.5)  # the turn is waiting on the slow connector
    began = time.monotonic()
    process.send_signal(signal.SIGTERM)
    time.sleep(0.3)
    with pytest.raises(requests.ConnectionError):  # stopped accepting at once
        requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
    turn.join(timeout=15)
    assert process.wait(timeout=12) == 0
    assert time.monotonic() - began < 10
    assert answer["status"] in (200, 201)
    [reply] = cloud.connector.activities
    assert reply["attachments"][0]["content"]["type"] == "AdaptiveCard"
