"""BlobStorage and BlobExchangeDedupe against Azurite: the botbuilder Storage contract, ETag concurrency, dialog
state that resumes on another client, and cross-instance SSO de-duplication."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime

import pytest
from aiohttp import web
from azure.storage.blob.aio import BlobServiceClient
from botbuilder.core import ConversationState, TurnContext
from botbuilder.core.adapters import TestAdapter
from botbuilder.dialogs import DialogSet, DialogTurnStatus, OAuthPrompt, OAuthPromptSettings, PromptOptions
from botbuilder.schema import Activity, ActivityTypes, ChannelAccount, ConversationAccount

from bot.private_chat import PersonalChat, PersonalChats
from bot.storage.blob import (
    BLOB_CLIENTS,
    BlobExchangeDedupe,
    BlobStorage,
    EtagConflictError,
    StorageStartError,
    blob_name,
)
from bot.storage.dedupe import MemoryExchangeDedupe
from bot.storage.state import JsonMemoryStorage, create_dedupe, create_storage, storage_context
from config import ConfigError, Settings
from tests.azurite import ACCOUNT_KEY, Azurite


def container_name() -> str:
    return f"t-{uuid.uuid4().hex[:20]}"


@pytest.fixture
async def storage(azurite: Azurite) -> AsyncIterator[BlobStorage]:
    store = BlobStorage(azurite.connection_string, container_name())
    await store.open()
    try:
        yield store
    finally:
        await store.close()


@pytest.fixture
async def second_client(azurite: Azurite, storage: BlobStorage) -> AsyncIterator[BlobStorage]:
    """Another instance: its own client on the same container, sharing nothing in memory."""
    store = BlobStorage(azurite.connection_string, storage.container.container_name)
    await store.open()
    try:
        yield store
    finally:
        await store.close()


# --- the Storage contract --------------------------------------------------------------------------------------------

async def test_read_omits_missing_and_returns_fresh_etag(storage: BlobStorage) -> None:
    assert await storage.read(["nope"]) == {}
    await storage.write({"a": {"count": 1}})
    items = await storage.read(["a", "nope"])
    assert list(items) == ["a"]
    assert items["a"]["count"] == 1
    assert items["a"]["e_tag"]
    await storage.write({"a": {"count": 2}})
    assert (await storage.read(["a"]))["a"]["e_tag"] != items["a"]["e_tag"]


async def test_update_with_current_etag_then_stale_etag_is_rejected(storage: BlobStorage) -> None:
    await storage.write({"k": {"v": "first"}})
    first = (await storage.read(["k"]))["k"]
    await storage.write({"k": {"v": "second", "e_tag": first["e_tag"]}})
    with pytest.raises(EtagConflictError, match="Etag conflict"):
        await storage.write({"k": {"v": "stale", "e_tag": first["e_tag"]}})
    assert (await storage.read(["k"]))["k"]["v"] == "second"


async def test_star_and_none_overwrite_unconditionally(storage: BlobStorage) -> None:
    await storage.write({"k": {"v": 1}})
    await storage.write({"k": {"v": 2, "e_tag": "*"}})
    assert (await storage.read(["k"]))["k"]["v"] == 2
    await storage.write({"k": {"v": 3}})
    assert (await storage.read(["k"]))["k"]["v"] == 3


async def test_empty_etag_is_an_error(storage: BlobStorage) -> None:
    with pytest.raises(ValueError, match="empty e_tag"):
        await storage.write({"k": {"v": 1, "e_tag": ""}})


async def test_first_insert_with_made_up_etag_succeeds_once(storage: BlobStorage) -> None:
    """As MemoryStorage (and botbuilder's SSO middleware relies on it): a made-up ETag creates a missing item,
    atomically, so of concurrent creators exactly one wins."""
    results = await asyncio.gather(
        *(storage.write({"x": {"n": n, "e_tag": "made-up"}}) for n in range(6)), return_exceptions=True
    )
    assert sum(r is None for r in results) == 1
    assert all(isinstance(r, EtagConflictError) for r in results if r is not None)


async def test_concurrent_writers_with_same_etag_exactly_one_wins(
    storage: BlobStorage, second_client: BlobStorage
) -> None:
    await storage.write({"k": {"v": "base"}})
    etag = (await storage.read(["k"]))["k"]["e_tag"]
    stores = [storage, second_client] * 5
    results = await asyncio.gather(
        *(s.write({"k": {"v": f"w{n}", "e_tag": etag}}) for n, s in enumerate(stores)), return_exceptions=True
    )
    winners = [n for n, r in enumerate(results) if r is None]
    assert len(winners) == 1, results
    assert all(isinstance(r, EtagConflictError) for r in results if r is not None)
    assert (await second_client.read(["k"]))["k"]["v"] == f"w{winners[0]}"


async def test_write_updates_the_callers_etag(storage: BlobStorage) -> None:
    """BotState saves the dict it read; after a save the same dict can be saved again in the same turn."""
    await storage.write({"k": {"v": 1}})
    item = (await storage.read(["k"]))["k"]
    item["v"] = 2
    await storage.write({"k": item})
    item["v"] = 3
    await storage.write({"k": item})
    assert (await storage.read(["k"]))["k"] == item


async def test_delete_ignores_missing_keys(storage: BlobStorage) -> None:
    await storage.write({"a": {"v": 1}, "b": {"v": 2}})
    await storage.delete(["a", "missing"])
    assert list(await storage.read(["a", "b"])) == ["b"]


async def test_state_items_and_awkward_keys_round_trip(storage: BlobStorage) -> None:
    keys = ["msteams/conversations/a:1Xy_Z.../", "msteams/users/29:1AbC", "msteams/users/29:1abc", "ü/..", "x."]
    await storage.write({key: {"key": key, "when": [2025, 1, 2.5, None, True]} for key in keys})
    items = await storage.read(keys)
    assert sorted(items) == sorted(keys)
    for key in keys:
        assert items[key]["key"] == key
        assert items[key]["when"] == [2025, 1, 2.5, None, True]
    names = [b.name async for b in storage.container.list_blobs()]
    assert len(names) == len(keys)
    assert all("/" not in n and "." not in n for n in names)


async def test_blob_clients_are_kept_per_name_and_bounded(storage: BlobStorage) -> None:
    """A turn's read and write of one key go through one kept client (the SDK's client costs more CPU to build than
    its request); at most BLOB_CLIENTS are kept, and a key whose client was dropped reads and writes as before."""
    kept = storage.blob(blob_name("k"))
    await storage.write({"k": {"v": 1}})
    item = (await storage.read(["k"]))["k"]
    assert storage.blob(blob_name("k")) is kept
    others = [storage.blob(f"other-{n}") for n in range(BLOB_CLIENTS)]
    assert storage.blob("other-0") is others[0]  # the most recently used stay
    assert storage.blob(blob_name("k")) is not kept  # the least recently used was dropped
    item["v"] = 2
    await storage.write({"k": item})  # the ETag it read still holds for the new client
    assert (await storage.read(["k"]))["k"]["v"] == 2


def test_blob_names_are_injective_and_bounded() -> None:
    keys = ["a/b", "a%2Fb", "A/b", "a.b", "a_b", "a-b", "x" * 2000, "x" * 2001]
    names = [blob_name(k) for k in keys]
    assert len(set(names)) == len(keys)
    assert all(len(n) <= 1024 for n in names)


# --- real dialog state ------------------------------------------------------------------------------------------------

def oauth_bot(stores: list[BlobStorage]) -> tuple[Callable[[TurnContext], Awaitable[None]], list[str]]:
    """A bot whose every turn is served by "the next instance": a fresh ConversationState on `stores[turn % 2]`.
    Collects the state key, then the token the prompt completes with."""
    results: list[str] = []
    turn = 0

    async def logic(context: TurnContext) -> None:
        nonlocal turn
        state = ConversationState(stores[turn % 2])
        turn += 1
        if not results:
            results.append(state.get_storage_key(context))
        dialogs = DialogSet(state.create_property("DialogState"))
        dialogs.add(OAuthPrompt("signin", OAuthPromptSettings("GraphConnection", "Sign in", "Please sign in", 60000)))
        dc = await dialogs.create_context(context)
        result = await dc.continue_dialog()
        if result.status == DialogTurnStatus.Empty:
            await dc.prompt("signin", PromptOptions(prompt=Activity(type=ActivityTypes.message, text="Sign in?")))
        elif result.status == DialogTurnStatus.Complete:
            results.append(result.result.token)
        await state.save_changes(context)

    return logic, results


async def test_oauth_prompt_begun_on_one_instance_completes_on_another(
    storage: BlobStorage, second_client: BlobStorage
) -> None:
    logic, results = oauth_bot([storage, second_client])
    adapter = TestAdapter(logic)
    await adapter.send("get link")  # instance 1: the prompt starts and sends its OAuthCard
    card = adapter.get_next_activity()
    assert card.attachments[0].content_type == "application/vnd.microsoft.card.oauth"
    stored = await second_client.read(results)
    prompt_state = stored[results[0]]["DialogState"].dialog_stack[0].state
    assert isinstance(prompt_state["expires"], datetime)
    assert isinstance(prompt_state["options"], PromptOptions)
    assert prompt_state["options"].prompt.text == "Sign in?"
    adapter.add_user_token("GraphConnection", "test", "User1", "graph-token", "123456")
    await adapter.send("123456")  # instance 2: the magic code completes the prompt begun on instance 1
    assert results[1:] == ["graph-token"]


# --- SSO exchange de-duplication -------------------------------------------------------------------------------------

async def test_dedupe_first_claim_wins_across_instances(storage: BlobStorage, second_client: BlobStorage) -> None:
    one, two = BlobExchangeDedupe(storage), BlobExchangeDedupe(second_client)
    claims = await asyncio.gather(*((one if n % 2 else two).claim("msteams/c/u/ex-1") for n in range(10)))
    assert claims.count(True) == 1
    assert await one.claim("msteams/c/u/ex-2") is True
    assert await two.claim("msteams/c/u/ex-2") is False


async def test_dedupe_expired_entry_is_reclaimed_by_exactly_one(
    storage: BlobStorage, second_client: BlobStorage
) -> None:
    # A TTL long enough that the winner's fresh claim outlives the race below on a loaded machine.
    one, two = BlobExchangeDedupe(storage, ttl_s=1.5), BlobExchangeDedupe(second_client, 1.5)
    assert await one.claim("k") is True
    assert await two.claim("k") is False
    await asyncio.sleep(1.6)
    claims = await asyncio.gather(*((one if n % 2 else two).claim("k") for n in range(8)))
    assert claims.count(True) == 1
    assert await one.claim("k") is False


# --- wiring -----------------------------------------------------------------------------------------------------------

def blob_settings(connection_string: str, container: str) -> Settings:
    return Settings.from_mapping(
        {"BotStorage": "blob", "BlobConnectionString": connection_string, "BlobContainer": container}
    )


def test_memory_is_the_default() -> None:
    storage = create_storage(Settings.from_mapping({}))
    assert isinstance(storage, JsonMemoryStorage)
    assert isinstance(create_dedupe(Settings.from_mapping({}), storage), MemoryExchangeDedupe)


def test_bad_blob_settings_fail_at_start_naming_the_setting() -> None:
    with pytest.raises(ConfigError, match="BlobContainer"):
        create_storage(blob_settings("UseDevelopmentStorage=true", "Bad_Name"))
    with pytest.raises(ConfigError, match="BlobConnectionString") as caught:
        create_storage(blob_settings("AccountKey=s3cret-value", "state"))
    assert "s3cret" not in str(caught.value)


async def test_storage_context_creates_the_container_and_closes_the_client(azurite: Azurite) -> None:
    name = container_name()
    settings = blob_settings(azurite.connection_string, name)
    storage = create_storage(settings)
    assert isinstance(storage, BlobStorage)
    assert isinstance(create_dedupe(settings, storage), BlobExchangeDedupe)
    context = storage_context(storage)(web.Application())
    await anext(context)
    async with BlobServiceClient.from_connection_string(azurite.connection_string) as probe:
        assert await probe.get_container_client(name).exists()
    with pytest.raises(StopAsyncIteration):
        await anext(context)


async def test_wrong_account_key_fails_open_without_the_key(azurite: Azurite) -> None:
    wrong = azurite.connection_string.replace(ACCOUNT_KEY, "V3Jvbmcga2V5IGZvciB0aGUgdGVzdA==")
    storage = BlobStorage(wrong, container_name())
    try:
        with pytest.raises(StorageStartError, match="BlobContainer") as caught:
            await storage.open()
    finally:
        await storage.close()
    assert "V3Jvbmc" not in str(caught.value)


# --- the one-to-one chat reference (issue 15) --------------------------------------------------------------------

def _personal_turn(conversation_type: str = "personal") -> TurnContext:
    activity = Activity(
        type=ActivityTypes.message, channel_id="msteams", service_url="https://smba.trafficmanager.net/emea/",
        from_property=ChannelAccount(id="29:1alice"), recipient=ChannelAccount(id="28:bot"),
        conversation=ConversationAccount(id="a:1alice-and-bot", conversation_type=conversation_type),
        channel_data={"tenant": {"id": "tenant-1"}},
    )
    return TurnContext(TestAdapter(), activity)


async def test_a_kept_personal_chat_is_found_by_another_instance(storage: BlobStorage, second_client: BlobStorage):
    await PersonalChats(storage).remember(_personal_turn())
    found = await PersonalChats(second_client).find(_personal_turn("groupChat"))  # asked from a shared chat
    assert found == PersonalChat("a:1alice-and-bot", "https://smba.trafficmanager.net/emea/", "tenant-1")
    await PersonalChats(second_client).forget(_personal_turn())
    assert await PersonalChats(storage).find(_personal_turn()) is None
