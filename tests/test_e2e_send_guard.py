"""End to end: a stored conversation reference never makes the bot a sender for someone else (issue 28, hole 1).

Someone with write access to the storage plants a reference: another host's service URL, a group chat's id, or
another user's personal chat. The real app (authentication on, loopback cloud, Graph simulator; memory and Blob on
Azurite) must never send its Bearer token to that host, never post the private flow or a reminder to that chat, drop
the reference and (for the 1:1 hand-off) open the user's own chat afresh. A second recorder on loopback stands in for
the attacker's host and records whatever reaches it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
import pytest
from aiohttp import web

from app import BOT, REMINDERS
from bot.reminders.clock import ManualClock
from bot.send_guard import SendGuard, is_personal_conversation_id
from dialogs.cards import strings
from tests.azurite import Azurite
from tests.cloud import LoopbackCloud
from tests.cloud._runtime import LoopThread
from tests.e2e_support import RunningBot, card_text, running_bot
from tests.test_e2e_private import GROUP, SOON, chats

pytestmark = pytest.mark.e2e

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


class Recorder:
    """The attacker's host: answers everything 201 and records each request (path, whether it carried a token)."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, bool]] = []
        self._thread = LoopThread("attacker")
        self.url = ""

    async def _handle(self, request: web.Request) -> web.Response:
        self.requests.append((request.method, request.path, "Authorization" in request.headers))
        return web.json_response({"id": "1"}, status=201)

    def start(self) -> Recorder:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._thread.start()
        self.url = f"http://127.0.0.1:{self._thread.serve(app)}/"
        return self

    def stop(self) -> None:
        self._thread.stop()


@pytest.fixture
def attacker() -> Iterator[Recorder]:
    recorder = Recorder().start()
    try:
        yield recorder
    finally:
        recorder.stop()


def blob_env(azurite: Azurite) -> dict[str, str]:
    return {"BotStorage": "blob", "BlobConnectionString": azurite.connection_string,
            "BlobContainer": f"guard-{uuid.uuid4().hex[:12]}"}


@pytest.fixture(params=["memory", "blob"])
def storage_env(request: pytest.FixtureRequest) -> dict[str, str]:
    if request.param == "memory":
        return {}
    return blob_env(request.getfixturevalue("azurite"))


def plants(cloud: LoopbackCloud, attacker: Recorder) -> dict[str, tuple[str, str]]:
    """(service URL, conversation id) a storage writer might plant in alice's reference."""
    group_id = cloud.activity("x", **GROUP)["conversation"]["id"]
    real = cloud.connector.service_url
    return {
        "other host, group id": (attacker.url, group_id),
        "other host, alice's own chat id": (attacker.url, cloud.connector.personal_conversation("alice")),
        "Teams' host, group id": (real, group_id),
        "Teams' host, bob's personal chat": (real, cloud.connector.personal_conversation("bob")),
    }


async def plant_personal_chat(bot: RunningBot, service_url: str, conversation_id: str) -> str:
    user = bot.cloud.user_ids("alice")[0]
    key = f"msteams/personalChats/{user}"
    doc = {"version": 1, "conversationId": conversation_id, "serviceUrl": service_url,
           "tenantId": bot.cloud.tenant_id, "e_tag": "*"}
    await bot.app[BOT].personal_chats.storage.write({key: doc})
    return key


@pytest.mark.parametrize("plant", ["other host, group id", "other host, alice's own chat id",
                                   "Teams' host, group id", "Teams' host, bob's personal chat"])
async def test_a_planted_personal_chat_reference_is_dropped_and_alices_own_chat_opened(
    cloud: LoopbackCloud, sim: Any, attacker: Recorder, storage_env: dict[str, str], plant: str
) -> None:
    cloud.token_service.give_token("alice")
    cloud.activity("x", user="bob")  # bob has a personal chat with the bot
    meeting = sim.add_meeting(cloud.user("alice").aad_object_id, "Mortgage review", SOON)
    service_url, conversation_id = plants(cloud, attacker)[plant]
    async with running_bot(cloud, sim, **storage_env) as bot:
        key = await plant_personal_chat(bot, service_url, conversation_id)
        group, private = chats(bot, **GROUP)
        await group.say(f"get link {meeting.id}")
        assert (await group.reply())["text"] == strings.PRIVATE_FLOW_STARTED
        await private.reply()  # the intro, in alice's own chat
        assert "Skip" in card_text(await private.reply())  # her flow goes on there: the client form
        kept = (await bot.app[BOT].personal_chats.storage.read([key]))[key]

    assert attacker.requests == []  # no Bearer token, no request at all went to the planted host
    assert [c["members"] for c in cloud.connector.created_conversations] == [[cloud.user_ids("alice")[0]]]
    assert cloud.connector.activities_in(cloud.connector.personal_conversation("bob")) == []
    assert [a["text"] for a in group.sent] == [strings.PRIVATE_FLOW_STARTED]  # the group got its one sentence
    assert kept["conversationId"] == private.id and kept["serviceUrl"] == cloud.connector.service_url


@pytest.mark.parametrize("plant", ["other host, group id", "Teams' host, group id",
                                   "Teams' host, bob's personal chat"])
async def test_a_planted_reminder_reference_never_sends(
    cloud: LoopbackCloud, sim: Any, attacker: Recorder, storage_env: dict[str, str], plant: str
) -> None:
    cloud.token_service.give_token("alice")
    cloud.activity("x", user="bob")
    me = cloud.user_ids("alice")[1]
    sim.add_event(me, "Mortgage review", T0 + timedelta(minutes=30))
    service_url, conversation_id = plants(cloud, attacker)[plant]
    clock = ManualClock(T0)
    async with running_bot(cloud, sim, clock=clock, **storage_env) as bot:
        status, _ = await bot.say("remind me")
        assert status in (200, 201)
        await cloud.connector.await_activities(1)
        store = bot.app[REMINDERS].store
        [stored] = await store.list()
        forged = msgspec.structs.replace(stored.subscription, conversation=msgspec.structs.replace(
            stored.subscription.conversation, service_url=service_url, conversation_id=conversation_id))
        await store.put(forged)
        before = len(cloud.connector.activities)
        while clock.now() < T0 + timedelta(minutes=20):
            await clock.idle()
            clock.advance(10)
        await clock.idle()
        remaining = await store.list()

    assert attacker.requests == []
    assert cloud.connector.activities[before:] == []  # nothing to the group, nothing to bob
    if service_url == cloud.connector.service_url:  # a chat that is not hers: the subscription is dropped
        assert remaining == []
    else:  # a host this instance does not trust (another instance might): kept, the reminder waits, never sent
        assert [s.subscription.conversation.service_url for s in remaining] == [attacker.url]


async def test_an_origin_seen_on_an_authenticated_activity_is_trusted_without_configuration(
    cloud: LoopbackCloud, sim: Any
) -> None:
    """With no `TrustedServiceUrls`, the loopback connector is trusted because Teams' JWT vouched for it."""
    cloud.token_service.give_token("alice")
    meeting = sim.add_meeting(cloud.user("alice").aad_object_id, "Mortgage review", SOON)
    async with running_bot(cloud, sim, TrustedServiceUrls="") as bot:
        group, private = chats(bot, **GROUP)
        await group.say(f"get link {meeting.id}")
        assert (await group.reply())["text"] == strings.PRIVATE_FLOW_STARTED
        await private.reply()
        assert "Skip" in card_text(await private.reply())


def test_the_guard_trusts_whole_origins_only() -> None:
    guard = SendGuard(["http://127.0.0.1:8080"])
    assert guard.trusts("https://smba.trafficmanager.net/teams/")
    assert guard.trusts("https://smba.infra.gov.teams.microsoft.us/teams")
    assert guard.trusts("http://127.0.0.1:8080/")
    for url in ("http://smba.trafficmanager.net/teams/", "https://smba.trafficmanager.net:8443/",
                "https://smba.trafficmanager.net.evil.example/", "https://evil.example/smba.trafficmanager.net/",
                "https://x@smba.trafficmanager.net/", "http://127.0.0.1:8081/", "javascript:alert(1)", ""):
        assert not guard.trusts(url), url
    guard.saw("https://emea.example.net/teams/")
    assert guard.trusts("https://emea.example.net/other/") and not guard.trusts("http://emea.example.net/")
    assert is_personal_conversation_id("a:1p0iicaJlVi-_KIYKDDvLi4c2pMZ")
    for conversation in ("19:abc@thread.v2", "19:abc@thread.tacv2", "19:meeting_x@thread.v2", "a:", "a:1/../x",
                         "a:1;messageid=1", None, 5):
        assert not is_personal_conversation_id(conversation)
