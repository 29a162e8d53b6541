"""Hostile state documents written straight into the bot's Azurite container (issue 14): jsonpickle payloads that
ran code under the old store, nested or whole, garbage bytes and wrong shapes. None runs anything; the affected user
is told once and starts again; another user's flow in flight finishes with their own link.

The first test drives the real app with `running_bot`; the property test runs it on its own thread (`BotThread`, as
tests/test_fuzz.py) so that synchronous Hypothesis examples can post to it and overwrite blobs between turns.
"""

from __future__ import annotations

import itertools
import json
import logging
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from azure.storage.blob import BlobServiceClient, ContainerClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.storage.blob import blob_name
from dialogs.cards import actions, strings
from tests.azurite import Azurite
from tests.cloud import LoopbackCloud, opaque_token
from tests.e2e_support import card_text, running_bot
from tests.test_e2e_conversation import Chat, finish_without_client, result_url
from tests.test_fuzz import BotThread
from tests.test_state_codec import ANY_JSON, json_paths, jsonpickle_payloads, replaced

pytestmark = pytest.mark.e2e

SOON = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(hours=2)


def state_key(cloud: LoopbackCloud, user: str) -> str:
    """PrivateConversationState's key for `user` in their personal chat with the bot."""
    activity = cloud.activity("x", user=user)
    return f"{activity['channelId']}/conversations/{activity['conversation']['id']}/users/{activity['from']['id']}/"


class Marker:
    """Counts records of the turn error handler, by kind."""

    def __init__(self) -> None:
        self.records: list[str] = []

    def __enter__(self) -> Marker:
        self.handler = logging.Handler(logging.WARNING)
        self.handler.emit = lambda record: self.records.append(record.getMessage())  # type: ignore[method-assign]
        logging.getLogger("bot.errors").addHandler(self.handler)
        return self

    def __exit__(self, *_: object) -> None:
        logging.getLogger("bot.errors").removeHandler(self.handler)

    def count(self, prefix: str) -> int:
        return sum(r.startswith(prefix) for r in self.records)


def hostile_bodies(valid: dict[str, Any], marker: Path) -> list[tuple[str, bytes, bool]]:
    """(label, body, read as data?) — whole payloads, payloads nested at typed and at plain-data positions,
    garbage bytes and wrong shapes."""
    stack = ("dialogs", "DialogState", "stack")
    bodies: list[tuple[str, bytes, bool]] = []
    for n, payload in enumerate(jsonpickle_payloads(marker)):
        bodies.append((f"payload {n} whole", json.dumps(payload).encode(), False))
        bodies.append((f"payload {n} as the stack", json.dumps(replaced(valid, stack, [payload])).encode(), False))
        bodies.append((f"payload {n} as a dialog id",
                       json.dumps(replaced(valid, (*stack, 0, "id"), payload)).encode(), False))
    nested = replaced(valid, (*stack, 0, "data", "extra"), jsonpickle_payloads(marker)[0])
    bodies.append(("payload as plain data", json.dumps(nested).encode(), True))
    bodies += [
        ("garbage", b"\x00\xff\xfe\x80 not json", False),
        ("truncated", json.dumps(valid).encode()[:-7], False),
        ("a list", b"[]", False),
        ("unknown version", json.dumps({**valid, "version": 2}).encode(), False),
        ("wrong type", json.dumps(replaced(valid, (*stack, 0, "id"), 7)).encode(), False),
        ("unknown field", json.dumps({**valid, "py/object": "x"}).encode(), False),
    ]
    return bodies


async def test_hostile_documents_never_run_and_only_their_user_starts_again(
    cloud: LoopbackCloud, sim: Any, azurite: Azurite, tmp_path: Path
) -> None:
    marker = tmp_path / "ran"
    container_name = f"bot-{uuid.uuid4().hex[:16]}"
    env = {"BotStorage": "blob", "BlobConnectionString": azurite.connection_string, "BlobContainer": container_name}
    service = BlobServiceClient.from_connection_string(azurite.connection_string)
    container = service.get_container_client(container_name)
    bob_meeting = sim.add_meeting(cloud.user_ids("bob")[1], "Bob's", SOON, SOON + timedelta(minutes=30))
    cloud.token_service.give_token("bob")
    async with running_bot(cloud, sim, **env) as bot:
        bob = Chat(bot, "bob")
        await bob.say(f"get link {bob_meeting.join_web_url}")  # bob's flow stays in flight throughout
        assert strings.ASK_CLIENT_DETAILS in card_text(await bob.reply())
        with Marker() as logs:
            for n in itertools.count():
                user = f"victim{n}"
                cloud.token_service.give_token(user)
                meeting = sim.add_meeting(cloud.user_ids(user)[1], f"Of {user}", SOON, SOON + timedelta(minutes=30))
                chat = Chat(bot, user)
                await chat.say(f"get link {meeting.join_web_url}")
                assert strings.ASK_CLIENT_DETAILS in card_text(await chat.reply())
                blob = container.get_blob_client(blob_name(state_key(cloud, user)))
                # Built from this user's own document: a plain-data case must go on with their own meeting.
                bodies = hostile_bodies(json.loads(blob.download_blob().readall()), marker)
                if n == len(bodies):
                    break
                label, body, as_data = bodies[n]
                blob.upload_blob(body, overwrite=True)
                resets_before = logs.count("stored state unreadable")

                await chat.submit(actions.SKIP)
                first = await chat.reply()
                if as_data:  # plain data where plain data belongs: the flow simply goes on
                    assert result_url(first) == meeting.virtual_appointment_url, label
                    continue
                assert first["text"] == strings.STATE_RESET, label
                await chat.quiet(0.05)  # told once
                assert logs.count("stored state unreadable") == resets_before + 1, label
                assert not blob.exists(), label  # that conversation's state is empty
                await chat.say(f"get link {meeting.join_web_url}")  # and the user can start again
                assert result_url(await finish_without_client(chat)) == meeting.virtual_appointment_url, label
        assert logs.count("turn failed") == 0
        assert not any(word in " ".join(logs.records) for word in ("py/", "touch", "Popen"))  # no content logged
        await bob.submit(actions.SKIP)
        assert result_url(await bob.reply()) == bob_meeting.virtual_appointment_url
    assert not marker.exists()
    service.close()


# --- the property, turn by turn -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def served_blob(loopback_cloud: LoopbackCloud, azurite: Azurite) -> Iterator[tuple[Any, Any, ContainerClient]]:
    from graph.simulator import GraphSimulator, run_in_thread

    cloud = loopback_cloud
    cloud.reset()
    sim = GraphSimulator(seed=False)
    handle = run_in_thread(sim)
    sim.base_url = handle.base_url  # type: ignore[attr-defined]
    cloud.token_service.token_minter = lambda _teams_id, aad_id: sim.issue_token(aad_id)
    container_name = f"bot-{uuid.uuid4().hex[:16]}"
    env = {"BotStorage": "blob", "BlobConnectionString": azurite.connection_string, "BlobContainer": container_name}
    service = BlobServiceClient.from_connection_string(azurite.connection_string)
    try:
        with BotThread(cloud, sim, **env) as bot:
            yield bot, sim, service.get_container_client(container_name)
    finally:
        service.close()
        cloud.token_service.token_minter = opaque_token
        handle.stop()
        cloud.reset()


PROPERTY = settings(max_examples=25, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
SERIAL = itertools.count()


class Session:
    """One user of the blob-backed bot: their meeting, what they post, what they were answered, their state blob."""

    def __init__(self, served: tuple[Any, Any, ContainerClient], cloud: LoopbackCloud, prefix: str) -> None:
        self.bot, sim, self.container = served
        self.cloud, self.user = cloud, f"{prefix}{next(SERIAL)}"
        cloud.token_service.give_token(self.user)
        self.meeting = sim.add_meeting(cloud.user_ids(self.user)[1], f"Of {self.user}", SOON,
                                       SOON + timedelta(minutes=30))
        self.conversation = cloud.activity("x", user=self.user)["conversation"]["id"]

    def post(self, text: str | None, value: Any = None) -> int:
        return self.cloud.post(self.bot.url, self.cloud.activity(text, user=self.user, value=value), timeout=15)[0]

    def replies(self) -> list[dict[str, Any]]:
        return [a for a in self.cloud.connector.activities
                if (a.get("conversation") or {}).get("id") == self.conversation]

    def blob(self) -> Any:
        return self.container.get_blob_client(blob_name(state_key(self.cloud, self.user)))

    def wait_for_answer(self, before: int) -> None:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and len(self.replies()) == before:
            time.sleep(0.01)

    def wait_for_result(self, settled: int) -> None:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not any(
            strings.RESULT_TITLE in card_text(a) for a in self.replies()[settled:]
        ):
            time.sleep(0.01)  # replies are paced per conversation: they may trail the HTTP answer


@PROPERTY
@given(data=st.data())
def test_any_json_at_any_position_of_a_stored_document_is_data_or_a_reset(
    served_blob: tuple[Any, Any, ContainerClient], loopback_cloud: LoopbackCloud, data: st.DataObject
) -> None:
    session = Session(served_blob, loopback_cloud, "prop")
    post, replies, meeting = session.post, session.replies, session.meeting
    step: Callable[[], int] = data.draw(st.sampled_from([
        lambda: post("get link"), lambda: post(f"get link {meeting.join_web_url}"), lambda: post("get link new"),
    ]), "step")
    assert step() == 201
    blob = session.blob()
    valid = json.loads(blob.download_blob().readall())
    path = data.draw(st.sampled_from(list(json_paths(valid))), "path")
    value = data.draw(ANY_JSON | st.sampled_from(jsonpickle_payloads(Path("/nonexistent/x"))), "value")
    blob.upload_blob(json.dumps(replaced(valid, path, value)).encode(), overwrite=True)

    before = len(replies())
    status = post("skip")  # an answer at every step: skips the client details, is a bad meeting reference elsewhere
    assert 200 <= status < 300
    session.wait_for_answer(before)
    assert len(replies()) > before  # answered: the flow went on, or the user was told
    # Whatever happened, the user can start again and gets their own link. A value that passed as plain data but
    # breaks the dialog reading it (the SDK's own "stepIndex" removed, say) ends that turn in the error handler,
    # which resets the state too: "Please try again", and the next try works.
    for attempt in range(2):
        settled = len(replies())
        assert post(f"get link {meeting.join_web_url}") == 201
        if any(a.get("text") == strings.ERR_GENERIC for a in replies()[settled:]) and attempt == 0:
            continue
        assert post(None, {"action": actions.SKIP}) == 201
        break
    session.wait_for_result(settled)
    assert result_url(replies()[-1]) == meeting.virtual_appointment_url, [card_text(a)[:60] for a in replies()]


@pytest.mark.parametrize("step", ["get link", "get link {url}", "get link new"])
@pytest.mark.parametrize("index", [True, 99])
def test_a_step_index_the_dialogs_cannot_use_gets_a_sentence_not_silence(
    served_blob: tuple[Any, Any, ContainerClient], loopback_cloud: LoopbackCloud, step: str, index: Any
) -> None:
    """Plain data of the right shape that steers a waterfall past its last step (or to a step chosen by a bool) ended
    the user's flow with no answer at all (found by the property above). Every message gets one: here the reset
    sentence, and the next `get link` works."""
    session = Session(served_blob, loopback_cloud, "step")
    post, replies, meeting = session.post, session.replies, session.meeting
    assert post(step.format(url=meeting.join_web_url)) == 201
    blob = session.blob()
    document = json.loads(blob.download_blob().readall())
    paths = [path for path in json_paths(document) if path and path[-1] == "stepIndex"]
    assert paths
    for path in paths:
        document = replaced(document, path, index)
    blob.upload_blob(json.dumps(document).encode(), overwrite=True)

    before = len(replies())
    assert post("skip") == 201
    session.wait_for_answer(before)
    assert len(replies()) > before, "no answer"
    settled = len(replies())
    assert post(f"get link {meeting.join_web_url}") == 201
    assert post(None, {"action": actions.SKIP}) == 201
    session.wait_for_result(settled)
    assert result_url(replies()[-1]) == meeting.virtual_appointment_url
