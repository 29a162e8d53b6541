"""Running the real bot for end-to-end tests: `create_app` on an ephemeral 127.0.0.1 port in the test's loop.

The cloud around it (tests/cloud) runs in its own thread, so the SDK's blocking calls cannot deadlock the test.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer

from app import create_app
from bot.reminders.clock import Clock
from config import Settings
from tests.cloud import LoopbackCloud


@dataclass
class RunningBot:
    """A bot served on loopback, with a client session and its cloud."""

    url: str
    app: web.Application
    session: aiohttp.ClientSession
    cloud: LoopbackCloud

    async def post(self, activity: dict[str, Any], *, auth: str | None = "valid") -> tuple[int, Any]:
        return await self.cloud.apost(self.session, self.url, activity, auth=auth)

    async def say(self, text: str | None, **options: Any) -> tuple[int, Any]:
        """Post a message activity from a user (default alice) and return (status, body)."""
        return await self.post(self.cloud.activity(text, **options))


def adaptive_cards(activity: dict[str, Any]) -> list[dict[str, Any]]:
    """The Adaptive Cards an outgoing activity carries."""
    return [
        a["content"]
        for a in activity.get("attachments") or []
        if a.get("contentType") == "application/vnd.microsoft.card.adaptive"
    ]


def card_text(activity: dict[str, Any]) -> str:
    """Everything an activity shows, as one string: its text and its cards' JSON."""
    return (activity.get("text") or "") + json.dumps(activity.get("attachments") or [])


@asynccontextmanager
async def running_bot(
    cloud: LoopbackCloud, sim: Any = None, *, clock: Clock | None = None, **env: str
) -> AsyncIterator[RunningBot]:
    """The real aiohttp app with authentication on, pointed at the loopback cloud (and the Graph simulator);
    `clock` drives its reminder poller."""
    if sim is not None:
        env.setdefault("GraphEndpoint", sim.base_url)
    settings = Settings.from_mapping(cloud.settings_env(**env))
    app = create_app(settings, clock=clock)
    server = TestServer(app, host="127.0.0.1", port=0)
    await server.start_server()
    try:
        async with aiohttp.ClientSession() as session:
            yield RunningBot(str(server.make_url("/")), app, session, cloud)
    finally:
        await server.close()
