"""Scale-out end to end: two instances of the real app (authentication on, loopback cloud, Graph simulator) share
one Azurite account. A dialog begun on one instance finishes on the other, a restart mid-dialog loses nothing, and
duplicate SSO exchanges sent to both instances continue the dialog exactly once.

Two `create_app` instances in one test process rather than two `python app.py` processes: each has its own storage
client, state objects, dedupe, adapter and HTTP server, and the app keeps no module-level state (asserted below), so
only the storage account connects them; in-process they start in milliseconds and the test can restart one
mid-dialog deterministically. The real process is exercised by the SIGTERM test in test_blob_shutdown.py.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest

from app import BOT
from bot.storage.blob import BlobStorage
from dialogs.cards import actions, strings
from tests.azurite import Azurite
from tests.cloud import LoopbackCloud
from tests.e2e_support import adaptive_cards, card_text, running_bot

pytestmark = pytest.mark.e2e

OAUTH = "application/vnd.microsoft.card.oauth"


@pytest.fixture
def blob_env(azurite: Azurite) -> dict[str, str]:
    """Settings for instances sharing one fresh container (created by the app at start)."""
    return {"BotStorage": "blob", "BlobConnectionString": azurite.connection_string,
            "BlobContainer": f"bot-{uuid.uuid4().hex[:16]}"}


def exchange_invoke(cloud: LoopbackCloud, exchange_id: str = "exchange-1") -> dict[str, Any]:
    value = {"id": exchange_id, "connectionName": "GraphConnection", "token": cloud.entra.sso_token("alice")}
    return cloud.invoke("signin/tokenExchange", value)


def submitted_defaults(activity: dict[str, Any]) -> dict[str, Any]:
    """What tapping the card's submit button sends: every input's prefilled value."""
    [card] = adaptive_cards(activity)
    return {e["id"]: e["value"] for e in card["body"] if e["type"].startswith("Input.") and "value" in e}


def texts(cloud: LoopbackCloud) -> list[str]:
    return [card_text(a) or a.get("text") or "" for a in cloud.connector.activities]


async def start_sign_in(bot: Any, cloud: LoopbackCloud) -> None:
    """`get link` with no token: the bot answers with the OAuthCard and waits in the sign-in prompt."""
    assert (await bot.say("get link"))[0] in (200, 201)
    [prompt] = await cloud.connector.await_activities(1)
    assert [a["contentType"] for a in prompt["attachments"]] == [OAUTH]


async def test_dialog_begun_on_one_instance_finishes_on_the_other_across_a_restart(
    cloud: LoopbackCloud, sim: Any, blob_env: dict[str, str]
) -> None:
    async with running_bot(cloud, sim, **blob_env) as a:
        assert isinstance(a.app[BOT].states.storage, BlobStorage)
        await start_sign_in(a, cloud)
    # Instance A is gone (a deploy); B gets the SSO exchange and must find the sign-in prompt A began.
    async with running_bot(cloud, sim, **blob_env) as b:
        status, body = await b.post(exchange_invoke(cloud))
        assert (status, body) == (200, {"id": "exchange-1", "connectionName": "GraphConnection"})
        await cloud.connector.await_activities(2)
        assert strings.ASK_MEETING_NO_UPCOMING in texts(cloud)[1]  # the dialog went on, on B
        async with running_bot(cloud, sim, **blob_env) as a_again:  # A is back, with a new process's objects
            assert a_again.app[BOT].states is not b.app[BOT].states
            await a_again.say("new")  # answers the meeting question B asked
            await cloud.connector.await_activities(3)
            assert strings.NEW_MEETING_HINT in texts(cloud)[2]
            form = submitted_defaults(cloud.connector.activities[2])
            await b.post(cloud.activity(None, value={"action": actions.CREATE_MEETING, **form}))
            await cloud.connector.await_activities(4)
            assert strings.ASK_CLIENT_DETAILS in texts(cloud)[3]
            await a_again.say("skip")
            await cloud.connector.await_activities(5)
            assert strings.RESULT_TITLE in texts(cloud)[4]
    [meeting] = sim.meetings_of(cloud.user_ids("alice")[1])  # created once, although three instances took part
    assert meeting.subject == form["subject"]


async def test_without_shared_storage_the_other_instance_cannot_continue(cloud: LoopbackCloud, sim: Any) -> None:
    """The control: with memory storage, B knows nothing of A's prompt, so this is what the test above rules out."""
    async with running_bot(cloud, sim) as a, running_bot(cloud, sim) as b:
        await start_sign_in(a, cloud)
        assert (await b.post(exchange_invoke(cloud)))[0] == 200
        await cloud.connector.await_activities(2)
        assert strings.ASK_MEETING_NO_UPCOMING not in texts(cloud)[1]


async def test_duplicate_exchanges_on_both_instances_continue_exactly_once(
    cloud: LoopbackCloud, sim: Any, blob_env: dict[str, str]
) -> None:
    async with running_bot(cloud, sim, **blob_env) as a, running_bot(cloud, sim, **blob_env) as b:
        await start_sign_in(a, cloud)
        invoke = exchange_invoke(cloud, exchange_id="same-id")
        results = await asyncio.gather(*(bot.post(dict(invoke)) for bot in (a, b, a, b)))
        assert [status for status, _ in results] == [200, 200, 200, 200]
        await asyncio.sleep(0.5)  # let any (wrong) second continuation arrive
        assert len(cloud.connector.activities) == 2, texts(cloud)
        assert strings.ASK_MEETING_NO_UPCOMING in texts(cloud)[1]
