"""End to end: OpenTelemetry traces and metrics of real turns, exported over OTLP/HTTP to a loopback receiver
(issue 29). The receiver decodes every export with opentelemetry-proto, so the checks read what a collector reads;
the privacy check walks every string of every decoded export and also searches the raw bytes.
"""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from app import TELEMETRY
from bot.logsafe import configure_logging
from bot.reminders.clock import ManualClock
from bot.telemetry import record
from dialogs.cards import actions
from tests.cloud.otlp import OtlpReceiver, attributes
from tests.e2e_support import running_bot
from tests.test_e2e_conversation import Chat, button_data, meeting_for, result_url
from tests.test_e2e_reminders import MIN, T0, Reminded
from tests.test_e2e_signin import exchange_invoke

pytestmark = pytest.mark.e2e

CLIENT = {"clientName": "Alex Morgan", "clientEmail": "alex.morgan@example.com", "clientPhone": "(206) 555-0100"}


@pytest.fixture(scope="module")
def receiver() -> Iterator[OtlpReceiver]:
    with OtlpReceiver() as otlp:
        yield otlp


@pytest.fixture
def otlp(receiver: OtlpReceiver) -> Iterator[OtlpReceiver]:
    receiver.clear()
    yield receiver
    _forget_global_providers()


def _forget_global_providers() -> None:
    """The OpenTelemetry API lets a process set its providers once; each test here starts an app of its own."""
    from opentelemetry import metrics, trace
    from opentelemetry.metrics import _internal as metrics_internal
    from opentelemetry.util._once import Once

    trace._TRACER_PROVIDER_SET_ONCE = Once()
    trace._TRACER_PROVIDER = None
    metrics_internal._METER_PROVIDER_SET_ONCE = Once()
    metrics_internal._METER_PROVIDER = None
    assert metrics.get_meter_provider() is not None


@pytest.fixture
def signed_in(cloud, sim):
    return cloud.token_service.give_token("alice")


def on(otlp: OtlpReceiver) -> dict[str, str]:
    return {"OTEL_EXPORTER_OTLP_ENDPOINT": otlp.url, "OTEL_SERVICE_NAME": "linkbot-test",
            "OTEL_RESOURCE_ATTRIBUTES": "deployment.environment=test"}


async def get_link_with_client_details_and_text(bot: Any, meeting: Any) -> str:
    """The whole flow: get link, client details, result, text the link, confirm. Returns the link."""
    chat = Chat(bot, locale="en-US")
    await chat.say(f"get link {meeting.join_web_url}")
    await chat.reply()
    await chat.submit(actions.CLIENT_DETAILS, **CLIENT)
    result = await chat.reply()
    url = result_url(result)
    await chat.press(button_data(result, actions.TEXT_LINK))
    confirm = await chat.reply()
    await chat.press(button_data(confirm, actions.CONFIRM_TEXT))
    await chat.reply()
    return url


async def test_a_get_link_flow_is_traced_and_measured_and_nothing_private_is_exported(cloud, sim, signed_in, otlp):
    meeting = meeting_for(cloud, sim, subject="Mortgage review for Alex Morgan")
    log_lines = io.StringIO()
    async with running_bot(cloud, sim, **on(otlp)) as bot:
        assert record.active() and TELEMETRY in bot.app
        url = await get_link_with_client_details_and_text(bot, meeting)
        root = logging.getLogger()
        saved_level = root.level
        handler = configure_logging("DEBUG", trace_ids=True)  # the app's own logging, as `python app.py` sets it
        handler.setStream(log_lines)  # type: ignore[attr-defined]
        try:
            with record.span("test"):
                logging.getLogger("test").warning("seen %s", CLIENT["clientEmail"])
        finally:
            root.removeHandler(handler)
            root.setLevel(saved_level)
    assert not record.active()  # shut down with the app: flushed, exporter threads stopped

    spans = otlp.spans()
    by_id = {span.span_id: span for span in spans}
    turns = [s for s in spans if s.name == "POST /api/messages"]
    assert len(turns) == 4  # one server span per activity posted
    first = attributes(turns[0])
    assert first["linkbot.activity.type"] == "message" and first["linkbot.conversation.kind"] == "personal"
    assert first["linkbot.outcome"] == "ok" and first["linkbot.locale"] == "en-US"
    assert first["linkbot.activity.id"] and first["http.response.status_code"] == 201

    # The result turn: one trace holding the Graph call (its HTTP attempt and the token look-up it needs inside it)
    # and the reply.
    [join] = [s for s in spans if s.name.startswith("Graph GET") and "getVirtualAppointmentJoinWebUrl" in s.name]
    assert join.name == "Graph GET /me/onlineMeetings/{id}/getVirtualAppointmentJoinWebUrl"  # issue 28's path shape
    graph = attributes(join)
    assert graph["http.response.status_code"] == 200 and graph["linkbot.graph.retries"] == 0
    assert graph["linkbot.graph.request_id"]
    turn = join
    while turn.parent_span_id:
        turn = by_id[turn.parent_span_id]
    assert turn.name == "POST /api/messages" and attributes(turn)["linkbot.link.kind"] == "calendar"
    in_turn = [s for s in spans if s.trace_id == turn.trace_id]
    # Inside the Graph call: the user's token from the token service, an event of the Graph span with its status;
    # the Graph attempt itself is the Graph span's (no span of its own).
    assert not [s for s in in_turn if s.parent_span_id == join.span_id]
    [lookup] = [e for e in join.events if e.name.startswith("GET ")]
    assert lookup.name == "GET /api/usertoken/GetToken"  # no query string: it holds the user's id
    assert attributes(lookup)["http.response.status_code"] == 200 and attributes(lookup)["duration_ms"] >= 0
    # The reply, via the connector: an event of the turn's span.
    replies = [e for e in turn.events if e.name.startswith("POST /v3/conversations/{conversation}/activities")]
    assert replies and all(attributes(e)["http.response.status_code"] < 300 for e in replies)

    # The SMS is sent once: a POST the client never retries.
    [sms] = [s for s in spans if s.name.startswith("Graph POST") and "sms" in s.name.lower()]
    assert attributes(sms)["http.response.status_code"] in (200, 201, 202, 204)

    metrics = otlp.metrics()
    [links] = metrics["linkbot.links.issued"]
    assert attributes(links) == {"linkbot.link.source": "chat", "linkbot.link.kind": "calendar"}
    assert links.as_int == 1
    assert {attributes(p)["http.response.status_code"] for p in metrics["linkbot.graph.calls"]} >= {"200"}
    assert sum(p.count for p in metrics["linkbot.turn.duration"]) == 4
    assert {attributes(p)["linkbot.outcome"] for p in metrics["linkbot.turn.duration"]} == {"ok"}
    # One turn latency (ours, by outcome): the server instrumentation's per-request duplicates are not recorded.
    assert not [name for name in metrics if name.startswith("http.")]
    resource = {kv.key: kv.value.string_value for kv in otlp.traces[0].resource_spans[0].resource.attributes}
    assert resource["service.name"] == "linkbot-test" and resource["deployment.environment"] == "test"

    # Nothing private: not in any decoded string, not in the raw bytes either.
    alice = cloud.user("alice")
    private = [
        CLIENT["clientName"], CLIENT["clientEmail"], "(206)", "206-555", "555-0100", "5550100", "Mortgage review",
        url, meeting.join_web_url, meeting.id, meeting.join_meeting_id, signed_in, cloud.app_password, alice.upn,
        alice.display_name, alice.aad_object_id, alice.teams_id, "contoso.example",
    ]
    everything = list(otlp.strings())
    assert len(everything) > 100
    for value in everything:
        assert "@" not in value, value  # no address of any kind
        for secret in private:
            assert secret.lower() not in value.lower(), (secret, value)
    raw = b"".join(body for _, body in otlp.raw)
    for secret in private:
        assert secret.encode() not in raw, secret

    line = log_lines.getvalue()
    test_span = next(s for s in spans if s.name == "test")
    assert f"trace_id={test_span.trace_id.hex()} span_id={test_span.span_id.hex()}" in line
    assert CLIENT["clientEmail"] not in line and "[email]" in line


async def test_a_throttled_graph_call_records_its_retry_and_wait(cloud, sim, signed_in, otlp):
    meeting = meeting_for(cloud, sim)
    async with running_bot(cloud, sim, **on(otlp)) as bot:
        sim.inject("/getVirtualAppointmentJoinWebUrl", status=429, times=1, retry_after=0.2)
        chat = Chat(bot)
        await chat.say(f"get link {meeting.join_web_url}")
        await chat.reply()
        await chat.submit(actions.SKIP)
        await chat.reply()
    [join] = [s for s in otlp.spans() if "getVirtualAppointmentJoinWebUrl" in s.name]
    assert attributes(join)["linkbot.graph.retries"] == 1 and attributes(join)["http.response.status_code"] == 200
    [wait_event] = [e for e in join.events if not e.name.startswith("GET /api/usertoken/")]  # the token look-up's
    assert wait_event.name == "retry wait"
    assert attributes(wait_event) == {"seconds": 0.2, "http.response.status_code": "429"}
    metrics = otlp.metrics()
    [wait] = metrics["linkbot.graph.throttle.wait"]
    assert wait.count == 1 and attributes(wait) == {"http.response.status_code": "429"}
    assert {attributes(p)["http.response.status_code"] for p in metrics["linkbot.graph.calls"]} >= {"429", "200"}


async def test_a_failed_turn_is_marked_for_the_operator(cloud, sim, signed_in, otlp):
    meeting = meeting_for(cloud, sim)
    async with running_bot(cloud, sim, **on(otlp)) as bot:
        sim.inject("/getVirtualAppointmentJoinWebUrl", status=403, times=1)
        chat = Chat(bot)
        await chat.say(f"get link {meeting.join_web_url}")
        await chat.reply()
        await chat.submit(actions.SKIP)
        await chat.reply()
    [failed] = [s for s in otlp.spans() if attributes(s).get("linkbot.outcome") == "link_failed"]
    assert attributes(failed)["linkbot.link.failure"]
    outcomes = {attributes(p)["linkbot.outcome"] for p in otlp.metrics()["linkbot.turn.duration"]}
    assert outcomes == {"ok", "link_failed"}


async def test_nothing_is_exported_or_loaded_when_nothing_is_configured(cloud, sim, signed_in, otlp):
    meeting = meeting_for(cloud, sim)
    async with running_bot(cloud, sim) as bot:
        assert not record.active() and TELEMETRY not in bot.app
        await get_link_with_client_details_and_text(bot, meeting)
    assert otlp.raw == []
    assert not [t.name for t in threading.enumerate() if "Otel" in t.name or "Export" in t.name]
    # In a fresh interpreter, building the app without telemetry loads no OpenTelemetry module at all.
    code = (
        "import sys, app\nfrom config import Settings\napp.create_app(Settings.from_mapping({}))\n"
        "print(sorted(m for m in sys.modules if m.startswith(('opentelemetry', 'azure.monitor', 'google.protobuf'))))"
    )
    loaded = subprocess.run(  # noqa: S603 - this interpreter, fixed code
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert json.loads(loaded.stdout.replace("'", '"')) == []


async def test_sign_in_outcomes_are_counted(cloud, sim, otlp):
    """A sign-in card sent, a refused SSO exchange (consent needed), then a silent SSO exchange."""
    async with running_bot(cloud, sim, **on(otlp)) as bot:
        await bot.say("get link")
        await cloud.connector.await_activities(1)
        cloud.token_service.exchange_mode = "consent_required"
        assert (await bot.post(exchange_invoke(cloud, exchange_id="exchange-1")))[0] == 412
        cloud.token_service.exchange_mode = "ok"
        assert (await bot.post(exchange_invoke(cloud, exchange_id="exchange-2")))[0] == 200
        await cloud.connector.await_activities(2)
    counted = {attributes(p)["linkbot.signin.outcome"]: p.as_int for p in otlp.metrics()["linkbot.signin.outcomes"]}
    assert counted == {"card": 1, "consent_needed": 1, "silent_sso": 1}
    spans = [attributes(s) for s in otlp.spans()]
    exchanges = [a for a in spans if a.get("linkbot.invoke.name") == "signin/tokenExchange"]
    assert [a["linkbot.signin.outcome"] for a in exchanges] == ["consent_needed", "silent_sso"]
    assert [a["linkbot.outcome"] for a in exchanges] == ["ok", "ok"]


async def test_a_reminder_check_and_its_send_are_a_trace_of_their_own(cloud, sim, signed_in, otlp):
    clock = ManualClock(T0)
    event = sim.add_event(cloud.user_ids("alice")[1], "Mortgage review for Alex Morgan", T0 + 30 * MIN)
    async with running_bot(cloud, sim, clock=clock, **on(otlp)) as bot:
        alice = Reminded(bot, clock)
        await alice.say("remind me")
        await alice.until(T0 + 20 * MIN)
        assert len(alice.reminders()) == 1
    spans = otlp.spans()
    sends = [s for s in spans if s.name == "reminders send"]
    assert len(sends) == 1
    [check] = [s for s in spans if s.span_id == sends[0].parent_span_id]
    assert check.name == "reminders check" and not check.parent_span_id  # a root: no user's turn around it
    in_check = [s for s in spans if s.trace_id == check.trace_id]
    assert any(s.name.startswith("Graph GET") for s in in_check)
    assert any(e.name.startswith("POST /v3/conversations/{conversation}/activities") for e in sends[0].events)
    metrics = otlp.metrics()
    assert {attributes(p)["linkbot.reminder.outcome"]: p.as_int for p in metrics["linkbot.reminders"]} == {"sent": 1}
    [links] = metrics["linkbot.links.issued"]
    assert attributes(links) == {"linkbot.link.source": "reminder", "linkbot.link.kind": "calendar"}
    everything = " ".join(otlp.strings())
    for private in ("Mortgage review", "Alex Morgan", event.meeting.virtual_appointment_url, "@"):
        assert private not in everything


@pytest.fixture
def blob_env(azurite: Any) -> dict[str, str]:
    return {"BotStorage": "blob", "BlobConnectionString": azurite.connection_string,
            "BlobContainer": f"telemetry-{uuid.uuid4().hex[:16]}"}


async def test_blob_storage_requests_are_events_of_the_turn_they_serve(cloud, sim, signed_in, otlp, blob_env):
    """With `BotStorage=blob` every request goes through bot/storage/calls.py, which records it on the current span."""
    meeting = meeting_for(cloud, sim)
    async with running_bot(cloud, sim, **blob_env, **on(otlp)) as bot:
        chat = Chat(bot)
        await chat.say(f"get link {meeting.join_web_url}")
        await chat.reply()
    [turn] = [s for s in otlp.spans() if s.name == "POST /api/messages"]
    storage = [attributes(e) | {"name": e.name} for e in turn.events if e.name.startswith("storage ")]
    names = {e["name"] for e in storage}
    assert any("download_blob" in n for n in names) and any("upload_blob" in n for n in names), names
    assert all(e["db.system.name"] == "blob" and e["duration_ms"] >= 0 for e in storage)
    assert blob_env["BlobContainer"] not in " ".join(otlp.strings())  # nor any blob's name (they hold user ids)


async def test_a_turn_storage_could_not_serve_has_its_own_outcome(cloud, sim, signed_in, otlp, azurite):
    """An operator tells a storage outage from a bug: the turn's outcome is `storage_unavailable`, not `error`, and the
    storage failure is counted."""
    from tests.storage_proxy import proxied

    meeting = meeting_for(cloud, sim)
    with proxied(azurite.connection_string, azurite.blob_endpoint) as (proxy, connection_string):
        env = {"BotStorage": "blob", "BlobConnectionString": connection_string,
               "BlobContainer": f"telemetry-{uuid.uuid4().hex[:16]}"}
        async with running_bot(cloud, sim, **env, **on(otlp)) as bot:
            chat = Chat(bot)
            proxy.status = 503
            await chat.say(f"get link {meeting.join_web_url}")
            await chat.reply()
            proxy.status = None
    outcomes = [attributes(s).get("linkbot.outcome") for s in otlp.spans() if s.name == "POST /api/messages"]
    assert outcomes == ["storage_unavailable"], outcomes
    assert sum(p.as_int for p in otlp.metrics()["linkbot.storage.failures"]) >= 1
