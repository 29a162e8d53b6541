"""Reliability and hostile input, end to end (issue 10): tenant allow-list, request limits, log injection, pacing,
and Graph / token service / connector / Entra faults.

Every fault test checks the same three things: another user is still served promptly, the affected user keeps their
place in the flow, and what they are told is one plain sentence.
"""

from __future__ import annotations

import asyncio
import copy
import io
import json
import logging
import time
from collections.abc import Iterator
from typing import Any

import pytest

from bot.logsafe import RedactingFilter
from dialogs.cards import actions, strings
from tests.e2e_support import card_text, running_bot
from tests.test_e2e_conversation import Chat, finish_without_client, meeting_for, result_url

pytestmark = pytest.mark.e2e

MAX_BODY = 256 * 1024
HOSTILE = "x\r\n2026-01-01 00:00:00,000 ERROR bot.errors: forged line\x1b[2J\x1b[31m\x00"


@pytest.fixture
def signed_in(cloud, sim):
    for user in ("alice", "bob"):
        cloud.token_service.give_token(user)


class _Lines(logging.Handler):
    """Formats a copy of every record through the app's redacting filter, as production logging does."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.redactor = RedactingFilter()
        self.stream = io.StringIO()
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        record = copy.copy(record)
        if self.redactor.filter(record):
            self.stream.write(self.format(record) + "\n")

    @property
    def lines(self) -> list[str]:
        return self.stream.getvalue().splitlines()


@pytest.fixture
def app_log() -> Iterator[_Lines]:
    handler = _Lines()
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


async def timed_help(bot: Any, user: str = "bob") -> float:
    """Seconds until `user`'s help card is delivered."""
    chat = Chat(bot, user)
    started = time.monotonic()
    await chat.say("help")
    assert strings.HELP_TITLE in card_text(await chat.reply())
    return time.monotonic() - started


# --- tenant allow-list -----------------------------------------------------------------------------------------


async def test_other_tenants_get_one_polite_refusal_and_reach_nothing(cloud, sim, signed_in, caplog):
    caplog.set_level(logging.WARNING, logger="bot.tenants")
    meeting = meeting_for(cloud, sim)
    outsider = {"tenant_id": "0badc0de-0000-4000-8000-000000000000"}
    async with running_bot(cloud, sim, AllowedTenantIds=f"{cloud.tenant_id}, another-tenant") as bot:
        chat = Chat(bot, **outsider)
        await chat.say(f"get link {meeting.id}")
        assert (await chat.reply())["text"] == strings.ERR_TENANT_NOT_ALLOWED
        await chat.submit(actions.SKIP)
        assert (await chat.reply())["text"] == strings.ERR_TENANT_NOT_ALLOWED
        await chat.quiet()  # one refusal per activity, nothing more

        fetch = cloud.invoke("composeExtension/fetchTask", {"commandId": "getAppointmentLink"}, **outsider)
        status, body = await bot.post(fetch)
        assert status == 200 and body["composeExtension"]["text"] == strings.ERR_TENANT_NOT_ALLOWED
        exchange = {"id": "x-1", "connectionName": "GraphConnection", "token": cloud.entra.sso_token("alice")}
        assert (await bot.post(cloud.invoke("signin/tokenExchange", exchange, **outsider)))[0] == 412
        assert (await bot.post(cloud.invoke("some/unknownInvoke", {}, **outsider)))[0] == 200
        assert sim.requests == [] and cloud.token_service.calls == []  # nothing reached Graph or sign-in

        allowed = Chat(bot, "bob")  # the directory's own tenant is on the list
        await allowed.say(f"get link {meeting_for(cloud, sim, 'bob').id}")
        assert strings.ASK_CLIENT_DETAILS in card_text(await allowed.reply())
    refusals = [r for r in caplog.records if "tenant not allowed" in r.getMessage()]
    assert len(refusals) == 5 and all("0badc0de" in r.getMessage() for r in refusals)


# --- request limits and hostile input ----------------------------------------------------------------------------


async def _raw_post(bot: Any, body: bytes, auth: str) -> int:
    headers = {"Content-Type": "application/json", "Authorization": auth}
    async with bot.session.post(bot.url + "api/messages", data=body, headers=headers) as response:
        return response.status


async def test_bodies_over_256_kib_get_413_and_smaller_ones_are_served(cloud):
    async with running_bot(cloud) as bot:
        big = cloud.activity("help", extra={"padding": "x" * MAX_BODY})
        assert await _raw_post(bot, json.dumps(big).encode(), cloud.auth_header()) == 413
        fits = cloud.activity("help", extra={"padding": "x" * (MAX_BODY - 4096)})
        assert await _raw_post(bot, json.dumps(fits).encode(), cloud.auth_header()) == 201
        assert len(await cloud.connector.await_activities(1)) == 1


@pytest.mark.parametrize(
    "mutation",
    [
        {"drop": "type"},
        {"drop": "serviceUrl"},
        {"drop": "conversation"},
        {"drop": "from"},
        {"drop": "channelId"},
        {"set": ("conversation", {"conversationType": "personal"})},
        {"set": ("from", {"name": "no id"})},
        {"set": ("conversation", "a string")},
        {"set": ("from", ["a", "list"])},
        {"set": ("id", "1\r\nforged")},
    ],
    ids=lambda m: json.dumps(m)[:40],
)
async def test_activities_missing_required_fields_get_400_and_run_no_turn(cloud, mutation, caplog):
    caplog.set_level(logging.ERROR)
    async with running_bot(cloud) as bot:
        activity = cloud.activity("help")
        if "drop" in mutation:
            del activity[mutation["drop"]]
        else:
            key, value = mutation["set"]
            activity[key] = value
        status, _ = await bot.post(activity)
        assert status == 400
        await asyncio.sleep(0.05)
        assert cloud.connector.requests == []
    assert not [r for r in caplog.records if r.getMessage().startswith("turn failed")]


@pytest.mark.parametrize("name", ["", "nope", "task/fetch", "composeExtension/query", "actionableMessage/x", "a\nb"])
async def test_unknown_invokes_get_a_well_formed_answer(cloud, name):
    async with running_bot(cloud) as bot:
        status, body = await bot.post(cloud.invoke(name, {"anything": [1, {"x": None}]}))
        assert 200 <= status < 300
        assert body is None or isinstance(body, dict)


async def test_hostile_text_names_and_ids_never_forge_a_log_line(cloud, sim, app_log):
    async with running_bot(cloud, sim, AllowedTenantIds=cloud.tenant_id) as bot:
        message = cloud.activity(f"help {HOSTILE}", extra={"from": {"id": "29:" + HOSTILE, "name": HOSTILE}})
        assert (await bot.post(message))[0] in (201, 400)
        assert (await bot.post(cloud.activity(HOSTILE)))[0] == 201
        assert (await bot.post(cloud.invoke(HOSTILE, {"x": HOSTILE})))[0] == 200
        assert (await bot.post(cloud.invoke("signin/failure", {"code": HOSTILE, "message": HOSTILE})))[0] == 200
        refused = cloud.activity("hi", tenant_id=HOSTILE)  # the refused tenant's id is logged
        assert (await bot.post(refused))[0] == 201
    reached = [line for line in app_log.lines if "forged line" in line]
    assert len(reached) >= 3  # the hostile strings did reach the log (escaped), so this test can fail
    for line in app_log.lines:
        assert not any(c in line for c in "\r\x1b\x00"), line
        assert "forged line" not in line or ("\\r\\n" in line and not line.startswith("2026-01-01")), line


# --- outgoing pacing ---------------------------------------------------------------------------------------------


def most_in_one_second(times: list[float], slack: float = 0.02) -> int:
    """The most sends the connector saw in any window of 1 s (less `slack` for loopback arrival jitter)."""
    times = sorted(times)
    most, start = 0, 0
    for end, t in enumerate(times):
        while t - times[start] >= 1.0 - slack:
            start += 1
        most = max(most, end - start + 1)
    return most


async def test_twenty_concurrent_turns_in_one_conversation_are_paced_under_seven_a_second(cloud):
    async with running_bot(cloud) as bot:
        statuses = await asyncio.gather(*(bot.say("help") for _ in range(20)))
        assert [s for s, _ in statuses] == [201] * 20
        delivered = await cloud.connector.await_activities(20)
        assert len(delivered) == 20
        sends = [r["at"] for r in cloud.connector.requests if r["method"] == "POST"]
        assert len(sends) == 20
        assert most_in_one_second(sends) <= 7
        assert max(sends) - min(sends) >= 2.0  # 20 sends at 7 a second take at least two windows


async def test_connector_429s_are_retried_after_retry_after_and_nothing_is_dropped(cloud):
    async with running_bot(cloud) as bot:
        cloud.connector.fail_next(429, times=3, retry_after="0.4")
        started = time.monotonic()
        statuses = await asyncio.gather(*(bot.say("help", user=f"user{i}") for i in range(5)))
        assert [s for s, _ in statuses] == [201] * 5
        posts = [r for r in cloud.connector.requests if r["method"] == "POST"]
        assert sorted(r["status"] for r in posts) == [200] * 5 + [429] * 3
        assert len(cloud.connector.activities) == 5  # each user's reply exactly once
        assert time.monotonic() - started >= 0.4
        for throttled in (r for r in posts if r["status"] == 429):
            retried = [r for r in posts if r["path"] == throttled["path"] and r["at"] > throttled["at"]]
            assert retried and retried[0]["at"] - throttled["at"] >= 0.35  # Retry-After honoured


# --- Graph faults ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "told"),
    [
        ({"latency": 1.5}, None),  # slow, inside the deadline: the link, late
        ({"status": 429, "retry_after": "0.3"}, None),  # throttled once: retried transparently
        ({"status": 429, "retry_after": "0", "times": 20}, strings.ERR_THROTTLED),
        ({"status": 503, "times": 20}, strings.ERR_TRY_LATER),
        ({"status": 500, "times": 20}, strings.ERR_TRY_LATER),
        ({"drop": True, "times": 20}, strings.ERR_TRY_LATER),
    ],
    ids=["slow", "throttled-once", "throttled", "unavailable", "failing", "dropped"],
)
async def test_graph_faults_keep_other_users_served_and_the_users_place(cloud, sim, signed_in, fault, told):
    meeting = meeting_for(cloud, sim)
    async with running_bot(cloud, sim) as bot:
        alice = Chat(bot)
        await alice.say(f"get link {meeting.id}")
        assert strings.ASK_CLIENT_DETAILS in card_text(await alice.reply())
        sim.inject("getVirtualAppointmentJoinWebUrl", **fault)
        alices_turn = asyncio.create_task(alice.submit(actions.SKIP))
        await asyncio.sleep(0.1)  # alice's Graph call is under way
        assert await timed_help(bot) < 0.5  # bob is served meanwhile
        await alices_turn
        answer = await alice.reply()
        if told is None:
            assert result_url(answer) == meeting.virtual_appointment_url
            return
        assert told in card_text(answer) and "Traceback" not in card_text(answer)
        assert meeting.virtual_appointment_url not in card_text(answer)
        sim.clear_faults()
        await alice.submit(actions.RETRY)  # her place was kept: Try again finishes the same request
        assert result_url(await alice.reply()) == meeting.virtual_appointment_url


# --- token service, connector and Entra faults ------------------------------------------------------------------


async def test_token_service_failing_on_get_token_is_try_later_and_keeps_the_place(cloud, sim, signed_in):
    meeting = meeting_for(cloud, sim)
    async with running_bot(cloud, sim) as bot:
        alice = Chat(bot)
        await alice.say(f"get link {meeting.id}")
        await alice.reply()
        cloud.token_service.fail_next(503, times=10, path_contains="GetToken")
        alices_turn = asyncio.create_task(alice.submit(actions.SKIP))  # the SDK retries for ~5 s, then gives up
        await asyncio.sleep(0.1)
        assert await timed_help(bot) < 0.5
        await alices_turn
        answer = await alice.reply()
        assert strings.ERR_TRY_LATER in card_text(answer) and "503" not in card_text(answer)
        assert sim.count("getVirtualAppointmentJoinWebUrl") == 0  # no token, no Graph call
        cloud.token_service.clear_faults()
        await alice.submit(actions.RETRY)
        assert result_url(await alice.reply()) == meeting.virtual_appointment_url


async def test_token_service_failing_at_sign_in_is_said_plainly(cloud, sim):
    async with running_bot(cloud, sim) as bot:
        alice = Chat(bot)
        cloud.token_service.fail_next(503, times=10)
        alices_turn = asyncio.create_task(alice.say("get link"))
        await asyncio.sleep(0.1)
        assert await timed_help(bot) < 0.5
        await alices_turn
        assert (await alice.reply())["text"] == strings.ERR_TRY_LATER
        cloud.token_service.clear_faults()
        await alice.say("get link")
        oauth = await alice.reply()
        assert oauth["attachments"][0]["contentType"] == "application/vnd.microsoft.card.oauth"


async def test_token_exchange_failing_answers_412_and_a_second_exchange_continues(cloud, sim):
    async with running_bot(cloud, sim) as bot:
        alice = Chat(bot)
        await alice.say("get link")
        await alice.reply()  # the sign-in card
        value = {"id": "exchange-1", "connectionName": "GraphConnection", "token": cloud.entra.sso_token("alice")}
        cloud.token_service.fail_next(502, path_contains="exchange")
        status, _ = await bot.post(cloud.invoke("signin/tokenExchange", value))
        assert status == 412  # Teams falls back to the sign-in card; never a 5xx
        value["id"] = "exchange-2"
        status, _ = await bot.post(cloud.invoke("signin/tokenExchange", value))
        assert status == 200
        assert strings.ASK_MEETING_NO_UPCOMING in card_text(await alice.reply())  # still at the sign-in step


async def test_connector_failing_three_times_fails_the_turn_but_keeps_the_place(cloud, sim, signed_in, caplog):
    meeting = meeting_for(cloud, sim)
    async with running_bot(cloud, sim) as bot:
        alice = Chat(bot)
        await alice.say(f"get link {meeting.id}")
        await alice.reply()
        cloud.connector.fail_next(503, times=3, path_contains=alice.conversation)
        await alice.submit(actions.SKIP)  # the result's reply fails three times: the turn fails
        sorry = await alice.reply()  # ...and the error handler's apology gets through
        assert sorry["text"] == strings.ERR_GENERIC
        failed = [r["status"] for r in cloud.connector.requests if r["method"] == "POST"]
        assert failed[-4:] == [503, 503, 503, 200]
        assert any(r.getMessage().startswith("turn failed") for r in caplog.records)
        assert await timed_help(bot) < 0.5
        await alice.say("skip")  # the same step continues: still at the client details
        assert result_url(await alice.reply()) == meeting.virtual_appointment_url


async def test_entra_failing_at_start_then_recovering(cloud, sim, signed_in):
    cloud.entra.fail_next(503, times=3, retry_after=0)
    async with running_bot(cloud, sim) as bot:  # start-up survives
        statuses = []
        for _ in range(6):
            status, _ = await bot.say("help", user="carol")
            statuses.append(status)
            if status == 201:
                break
        assert statuses[-1] == 201 and set(statuses) <= {201, 503}, statuses
        assert strings.HELP_TITLE in card_text((await cloud.connector.await_activities(1))[0])
        meeting = meeting_for(cloud, sim)
        chat = Chat(bot, "bob")
        await chat.say(f"get link {meeting_for(cloud, sim, 'bob').id}")
        assert strings.ASK_CLIENT_DETAILS in card_text(await chat.reply())
        alice = Chat(bot)
        await alice.say(f"get link {meeting.id}")
        assert result_url(await finish_without_client(alice)) == meeting.virtual_appointment_url
    assert cloud.entra.token_requests >= 4
