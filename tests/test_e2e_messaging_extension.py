"""End to end: the `getAppointmentLink` messaging-extension action (issue 6; DESIGN.md section 4, 7.1 and 7.7).

Real app, authentication on, the loopback cloud (connector with `/v1/meetings`, token service, Entra ID) and the Graph
simulator. Each POST's wall time is measured where the 5-second rule is at stake.
"""

from __future__ import annotations

import asyncio
import html
import json
import re
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from botbuilder.core import InvokeResponse

from app import create_app
from bot.messaging_extension import InvokeCache
from config import Settings
from dialogs.cards import strings
from tests.e2e_support import running_bot

pytestmark = pytest.mark.e2e

COMMAND = "getAppointmentLink"
ADAPTIVE = "application/vnd.microsoft.card.adaptive"
TEAMS_LIMIT_S = 5.0


# --- helpers ------------------------------------------------------------------------------------------------------


def flat(node: Any) -> list[dict[str, Any]]:
    """Every element of a card, depth first, in reading order."""
    found: list[dict[str, Any]] = []
    if isinstance(node, dict):
        if "type" in node:
            found.append(node)
        for key in ("body", "items", "columns", "actions"):
            found.extend(flat(node.get(key)))
    elif isinstance(node, list):
        for item in node:
            found.extend(flat(item))
    return found


def input_value(card: dict[str, Any], input_id: str) -> str | None:
    [element] = [e for e in flat(card) if e.get("id") == input_id]
    return element.get("value")


def error_after(card: dict[str, Any], input_id: str) -> str | None:
    """The red reason right under an input, if any."""
    items = flat(card)
    index = next(i for i, e in enumerate(items) if e.get("id") == input_id)
    following = items[index + 1] if index + 1 < len(items) else {}
    return following.get("text") if following.get("color") == "attention" else None


def form_of(body: dict[str, Any]) -> dict[str, Any]:
    """The Adaptive Card of a task-module `continue` answer."""
    assert body["task"]["type"] == "continue", body
    card = body["task"]["value"]["card"]
    assert card["contentType"] == ADAPTIVE
    return card["content"]


def task_result_of(body: dict[str, Any]) -> dict[str, Any]:
    """The result card a submit answers privately, in the task module (`task/continue`)."""
    card = form_of(body)
    assert strings.RESULT_TITLE in texts(card), texts(card)
    return card


def button_data(card: dict[str, Any], action: str) -> dict[str, Any]:
    [data] = [e["data"] for e in flat(card) if e.get("type") == "Action.Submit" and e["data"]["action"] == action]
    return dict(data)


def press(cloud: Any, data: dict[str, Any], **options: Any) -> dict[str, Any]:
    """A submitAction carrying a task-module card button's data, as Teams sends it."""
    value = {"commandId": COMMAND, "commandContext": "compose", "data": data}
    return cloud.invoke("composeExtension/submitAction", value, **options)


def result_of(body: dict[str, Any]) -> dict[str, Any]:
    """The Adaptive Card of a `composeExtension` result."""
    extension = body["composeExtension"]
    assert (extension["type"], extension["attachmentLayout"]) == ("result", "list"), body
    [attachment] = extension["attachments"]
    assert attachment["contentType"] == ADAPTIVE
    return attachment["content"]


def open_urls(card: dict[str, Any]) -> list[str]:
    return [e["url"] for e in flat(card) if e.get("type") == "Action.OpenUrl"]


def texts(card: dict[str, Any]) -> str:
    return "\n".join(str(e.get("text", "")) for e in flat(card))


def fetch(cloud: Any, context: str = "compose", **options: Any) -> dict[str, Any]:
    extra_value = options.pop("value", {})
    return cloud.invoke(
        "composeExtension/fetchTask", {"commandId": COMMAND, "commandContext": context, **extra_value}, **options
    )


def submit(cloud: Any, meeting_ref: str, **options: Any) -> dict[str, Any]:
    fields = {k: options.pop(k) for k in ("clientName", "clientEmail", "clientPhone") if k in options}
    data = {"action": "submitTask", "meetingRef": meeting_ref, **fields}
    value = {"commandId": COMMAND, "commandContext": "compose", "data": data}
    return cloud.invoke("composeExtension/submitAction", value, **options)


def alice_meeting(cloud: Any, sim: Any, subject: str = "Mortgage review - Jordan Lee") -> Any:
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=2)
    return sim.add_meeting(cloud.user("alice").aad_object_id, subject, start)


async def timed_post(bot: Any, activity: dict[str, Any]) -> tuple[int, Any, float]:
    started = time.perf_counter()
    status, body = await bot.post(activity)
    return status, body, time.perf_counter() - started


# --- sign-in ------------------------------------------------------------------------------------------------------


async def test_fetch_without_a_token_asks_teams_to_sign_in(cloud, sim):
    async with running_bot(cloud, sim) as bot:
        status, body = await bot.post(fetch(cloud))
    assert status == 200
    extension = body["composeExtension"]
    assert extension["type"] == "auth"  # an action command's sign-in (silentAuth is for search commands)
    [action] = extension["suggestedActions"]["actions"]
    assert action["type"] == "openUrl"
    assert action["value"].startswith(f"{cloud.token_service.base_url}/signin?state=")
    assert cloud.token_service.call_names() == ["GetToken", "GetSignInResource"]
    assert sim.requests == [] and cloud.connector.activities == []  # answered inline, nothing posted


async def test_the_magic_code_in_state_completes_sign_in(cloud, sim):
    async with running_bot(cloud, sim) as bot:
        status, body = await bot.post(fetch(cloud, value={"state": "000000"}))  # a wrong code: ask again
        assert status == 200
        assert body["composeExtension"]["type"] == "auth"
        code = cloud.token_service.complete_sign_in("alice")
        status, body = await bot.post(fetch(cloud, value={"state": code}))
    assert status == 200
    assert input_value(form_of(body), "meetingRef") is None
    assert cloud.token_service.has_token("alice")
    assert ("GetToken", "code") in [(name, key) for name, query in cloud.token_service.calls for key in query]


async def test_the_sso_token_is_exchanged_and_a_refusal_is_412(cloud, sim):
    async with running_bot(cloud, sim) as bot:
        sso = {"authentication": {"token": cloud.entra.sso_token("alice")}}
        status, body = await bot.post(fetch(cloud, value=sso))
        assert status == 200
        form_of(body)
        assert cloud.token_service.has_token("alice")
        assert cloud.token_service.call_names().count("exchange") == 1

        cloud.token_service.reset()
        cloud.token_service.exchange_mode = "consent_required"  # token service 400: SDK defect 7.2's case
        status, body = await bot.post(fetch(cloud, value={"authentication": {"token": cloud.entra.sso_token("alice")}}))
    assert status == 412  # Teams falls back to consent / the sign-in link; never 5xx
    assert not cloud.token_service.has_token("alice")


# --- fetchTask: the form ------------------------------------------------------------------------------------------


async def test_meeting_chat_form_and_link_come_from_the_meeting_info_not_the_teams_id(cloud, sim):
    meeting = alice_meeting(cloud, sim)
    info = cloud.add_meeting("consult", organizer="alice", graph_id=meeting.id, title="Mortgage review - Jordan Lee")
    teams_id = info["details"]["id"]  # what channelData.meeting.id carries; Graph rejects it
    cloud.token_service.give_token("alice")
    async with running_bot(cloud, sim) as bot:
        status, body = await bot.post(fetch(cloud, meeting_id="consult"))
        assert status == 200
        card = form_of(body)
        assert input_value(card, "meetingRef") == strings.THIS_MEETING
        assert strings.client_details_for("Mortgage review - Jordan Lee") in texts(card)

        status, body, elapsed = await timed_post(bot, submit(cloud, "this meeting", meeting_id="consult"))
    assert status == 200 and elapsed < TEAMS_LIMIT_S
    result = task_result_of(body)
    assert open_urls(result) == [meeting.virtual_appointment_url]
    assert "Mortgage review - Jordan Lee" in json.dumps(result)  # the meeting fact
    fetched = [r for r in cloud.connector.requests if r["path"].startswith("/v1/meetings/")]
    assert [r["path"] for r in fetched] == [f"/v1/meetings/{teams_id}"] * 2
    paths = [r.path for r in sim.requests]
    assert paths == [f"/v1.0/me/onlineMeetings/{meeting.id}/getVirtualAppointmentJoinWebUrl"]
    assert not any(teams_id in p for p in paths)


async def test_meeting_chat_without_meeting_info_leaves_the_meeting_blank(cloud, sim):
    cloud.token_service.give_token("alice")
    async with running_bot(cloud, sim) as bot:  # no RSC consent: /v1/meetings answers 404
        status, body = await bot.post(fetch(cloud, meeting_id="unknown"))
        assert status == 200
        assert input_value(form_of(body), "meetingRef") is None
        status, body = await bot.post(submit(cloud, "this meeting", meeting_id="unknown"))
    assert error_after(form_of(body), "meetingRef") == strings.ERR_MEETING_INFO
    assert sim.requests == []


async def test_fetch_from_a_message_prefills_its_join_link(cloud, sim):
    meeting = alice_meeting(cloud, sim)
    cloud.token_service.give_token("alice")
    content = (
        "<p>Here is the invite for Jordan: "
        f'<a href="{html.escape(meeting.join_web_url)}">Join the meeting now</a></p>'
        '<p>Also see <a href="https://example.com/l/meetup-join/19%3ax">this</a>.</p>'
    )
    payload = {"messagePayload": {"id": "1700000000000", "body": {"contentType": "html", "content": content}}}
    async with running_bot(cloud, sim) as bot:
        status, body = await bot.post(fetch(cloud, "message", value=payload))
    assert status == 200
    assert input_value(form_of(body), "meetingRef") == meeting.join_web_url
    assert sim.requests == []  # the form needs no Graph call


# --- submitAction ---------------------------------------------------------------------------------------------


async def test_submit_gives_the_result_card_with_the_exact_url_graph_returned(cloud, sim):
    meeting = alice_meeting(cloud, sim)
    cloud.token_service.give_token("alice")
    async with running_bot(cloud, sim) as bot:
        activity = submit(
            cloud,
            meeting.join_web_url,
            clientName="Jordan Lee",
            clientEmail="Jordan@Example.com",
            clientPhone="+1 206 555 0100",
        )
        status, body, elapsed = await timed_post(bot, activity)
    assert status == 200 and elapsed < TEAMS_LIMIT_S
    card = task_result_of(body)  # privately, in the task module: nothing goes into the conversation by itself
    assert open_urls(card) == [meeting.virtual_appointment_url]
    assert input_value(card, "joinUrl") == meeting.virtual_appointment_url  # the copy box
    shown = json.dumps(card)
    assert "Jordan Lee" in shown and "+1 206-555-0100" in shown
    assert button_data(card, "textLink") == {"action": "textLink", "meetingId": meeting.id, "phone": "+12065550100"}
    assert sim.count("getVirtualAppointmentJoinWebUrl") == 1
    assert cloud.connector.activities == []


async def test_insert_into_message_puts_the_link_subject_time_and_name_but_never_email_or_phone(cloud, sim):
    meeting = alice_meeting(cloud, sim, subject="Mortgage review")
    cloud.token_service.give_token("alice")
    async with running_bot(cloud, sim) as bot:
        client = {"clientName": "Jordan Lee", "clientEmail": "Jordan@Example.com", "clientPhone": "+1 206 555 0100"}
        status, body = await bot.post(submit(cloud, meeting.join_web_url, **client))
        assert status == 200
        insert = button_data(task_result_of(body), "insertLink")
        status, body, elapsed = await timed_post(bot, press(cloud, insert))
    assert status == 200 and elapsed < TEAMS_LIMIT_S
    card = result_of(body)  # into the compose box, for the user to send
    assert open_urls(card) == [meeting.virtual_appointment_url]
    shown = texts(card) + json.dumps(card)
    assert "Mortgage review" in shown and "Jordan Lee" in shown
    assert meeting.start.astimezone(ZoneInfo("Europe/London")).strftime("%H:%M") in shown  # the user's time zone
    assert "jordan@example.com" not in shown.lower()
    assert not re.search(r"\D{0,3}".join("2065550100"), shown), "the client's number is in the compose card"
    assert sim.count("getVirtualAppointmentJoinWebUrl") == 1  # the insert needs no Graph call
    assert cloud.connector.activities == []


@pytest.mark.parametrize("link", [
    "https://evil.example/login",
    "https://teams.microsoft.com.evil.example/l/meetup-join/x",
    "https://visit.teams.microsoft.com@evil.example/webrtc-svc/api/route",
    "https://visit.teams.microsoft.com:8443/webrtc-svc/api/route",
    "http://visit.teams.microsoft.com/webrtc-svc/api/route",
])
async def test_a_forged_insert_with_a_link_graph_never_gives_gets_the_plain_error(cloud, sim, link):
    """Issue 28, hole 7: "Insert into message" brands the link as ours, so only a Teams client link is inserted."""
    meeting = alice_meeting(cloud, sim, subject="Mortgage review")
    cloud.token_service.give_token("alice")
    async with running_bot(cloud, sim) as bot:
        status, body = await bot.post(submit(cloud, meeting.join_web_url))
        insert = button_data(task_result_of(body), "insertLink")
        status, body = await bot.post(press(cloud, {**insert, "link": link}))
    assert status == 200
    assert "composeExtension" not in body and link not in json.dumps(body)
    assert strings.ERR_EXPIRED_CARD in texts(form_of(body))


async def test_text_the_link_from_the_task_module_confirms_that_number_then_sends(cloud, sim):
    meeting = alice_meeting(cloud, sim)
    cloud.token_service.give_token("alice")
    async with running_bot(cloud, sim) as bot:
        status, body = await bot.post(submit(cloud, meeting.id, clientPhone="(206) 555-0100", locale="en-US"))
        text_it = button_data(task_result_of(body), "textLink")
        status, body = await bot.post(press(cloud, text_it))
        confirm = form_of(body)
        assert "Text the link to +1 206-555-0100?" in texts(confirm)
        assert sim.sms_sent == []  # nothing is sent before the confirmation
        status, body = await bot.post(press(cloud, button_data(confirm, "confirmText")))
    assert status == 200
    assert strings.text_sent("+1 206-555-0100") in json.dumps(body)
    [sms] = sim.sms_sent
    assert sms["meeting_id"] == meeting.id
    assert [a["phoneNumber"] for a in sms["body"]["attendees"]] == ["+12065550100"]
    assert cloud.connector.activities == []


async def test_an_invalid_submission_is_shown_again_with_its_reasons_and_inputs(cloud, sim):
    cloud.token_service.give_token("alice")
    async with running_bot(cloud, sim) as bot:
        chat_id = "19:meeting_NDU0ZjAwZDEtOTc@thread.v2"
        status, body = await bot.post(
            submit(cloud, chat_id, clientName="Jordan", clientEmail="jordan@", clientPhone="+1 206 555 0100")
        )
        assert status == 200
        card = form_of(body)
        assert error_after(card, "meetingRef") == strings.REF_CHAT_ID
        assert error_after(card, "clientEmail") == strings.INVALID_EMAIL
        assert error_after(card, "clientName") is None and error_after(card, "clientPhone") is None
        assert [input_value(card, i) for i in ("meetingRef", "clientName", "clientEmail", "clientPhone")] == [
            chat_id,
            "Jordan",
            "jordan@",
            "+1 206 555 0100",
        ]

        status, body = await bot.post(submit(cloud, "this meeting"))  # not in a meeting chat
        assert error_after(form_of(body), "meetingRef") == strings.REF_NOT_IN_MEETING
    assert sim.requests == []  # nothing invalid reaches Graph


async def test_someone_elses_meeting_is_shown_again_with_the_plain_sentence(cloud, sim):
    meeting = sim.add_meeting(cloud.user("bob").aad_object_id, "Bob's", datetime.now(UTC) + timedelta(hours=1))
    cloud.token_service.give_token("alice")
    async with running_bot(cloud, sim) as bot:
        status, body = await bot.post(submit(cloud, meeting.join_web_url, clientName="Jordan"))
    card = form_of(body)
    assert status == 200
    assert error_after(card, "meetingRef") == strings.ERR_NOT_ORGANIZER  # Graph: 403, not the organizer
    assert input_value(card, "clientName") == "Jordan"


# --- the 5-second rule ----------------------------------------------------------------------------------------


async def test_graph_at_3_seconds_is_still_answered_with_the_link(cloud, sim):
    meeting = alice_meeting(cloud, sim)
    cloud.token_service.give_token("alice")
    async with running_bot(cloud, sim) as bot:
        sim.inject("getVirtualAppointmentJoinWebUrl", latency=3.0)
        status, body, elapsed = await timed_post(bot, submit(cloud, meeting.id))
    assert status == 200
    assert 3.0 <= elapsed < TEAMS_LIMIT_S
    assert open_urls(task_result_of(body)) == [meeting.virtual_appointment_url]


@pytest.mark.parametrize(
    "fault",
    [
        {"latency": 3.0, "times": 5},  # every call slow: two of them cannot fit
        {"status": 503, "retry_after": "0.5", "times": 50},  # Graph down: retried until the budget is spent
        {"drop": True, "times": 50},
    ],
    ids=["slow", "failing", "dropping"],
)
async def test_graph_slow_or_failing_is_answered_in_time_with_the_form(cloud, sim, fault):
    meeting = alice_meeting(cloud, sim)
    cloud.token_service.give_token("alice")
    async with running_bot(cloud, sim) as bot:
        sim.inject(None, **fault)
        status, body, elapsed = await timed_post(bot, submit(cloud, meeting.join_web_url, clientName="Jordan"))
    assert status == 200
    assert elapsed < TEAMS_LIMIT_S
    card = form_of(body)
    assert error_after(card, "meetingRef") == strings.ERR_TRY_LATER
    assert input_value(card, "meetingRef") == meeting.join_web_url and input_value(card, "clientName") == "Jordan"


async def test_a_repeated_invoke_calls_graph_once(cloud, sim):
    meeting = alice_meeting(cloud, sim)
    cloud.token_service.give_token("alice")
    async with running_bot(cloud, sim) as bot:
        sim.inject("getVirtualAppointmentJoinWebUrl", latency=0.5)
        activity = submit(cloud, meeting.id)
        first, second = await asyncio.gather(bot.post(dict(activity)), bot.post(dict(activity)))  # concurrent
        third = await bot.post(dict(activity))  # and after the first finished
        other = await bot.post(submit(cloud, meeting.id))  # a new invoke (new id) is not a repeat
    assert first[0] == second[0] == third[0] == 200
    assert first[1] == second[1] == third[1]
    assert open_urls(task_result_of(first[1])) == [meeting.virtual_appointment_url]
    assert other[0] == 200
    assert sim.count("getVirtualAppointmentJoinWebUrl") == 2  # one for the repeated invoke, one for the new one


async def test_local_mode_users_are_always_signed_in(cloud):
    server = TestServer(create_app(Settings.from_mapping({})), host="127.0.0.1", port=0)  # no app id: local mode
    await server.start_server()
    try:
        async with aiohttp.ClientSession() as session:
            status, body = await cloud.apost(session, str(server.make_url("/")), fetch(cloud), auth=None)
    finally:
        await server.close()
    assert status == 200
    form_of(body)  # the form straight away: no token service in local mode
    assert cloud.token_service.calls == []


async def test_invoke_cache_is_bounded_and_forgets_failures():
    cache = InvokeCache(max_entries=2)
    runs: list[str] = []

    def work(name: str, fail: bool = False) -> Any:
        async def run() -> InvokeResponse:
            runs.append(name)
            if fail:
                raise RuntimeError("boom")
            return InvokeResponse(status=200, body={"name": name})

        return run

    with pytest.raises(RuntimeError):
        await cache.run("a", work("a", fail=True))
    assert (await cache.run("a", work("a"))).body == {"name": "a"}  # a failure is not kept: tried afresh
    assert (await cache.run("a", work("a-again"))).body == {"name": "a"}  # a success is
    await cache.run("b", work("b"))
    await cache.run("c", work("c"))
    assert len(cache) == 2  # "a", the oldest, was dropped
    assert (await cache.run("a", work("a3"))).body == {"name": "a3"}
    assert runs == ["a", "a", "b", "c", "a3"]
