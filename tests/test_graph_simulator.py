"""The simulator's wire shapes (as Graph documents them), its thread handle, and its command line."""

from __future__ import annotations

import asyncio
import base64
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from graph.simulator import ADELE, MEGAN, GraphSimulator, run_in_thread, serve

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
async def wire() -> AsyncIterator[tuple[GraphSimulator, str, aiohttp.ClientSession]]:
    sim = GraphSimulator(now=datetime.now(UTC))
    async with serve(sim) as base_url, aiohttp.ClientSession() as session:
        yield sim, base_url, session


async def call(
    session: aiohttp.ClientSession,
    method: str,
    url: str,
    token: str | None,
    headers: dict[str, str] | None = None,
    **kwargs: Any,
) -> tuple[int, Any, Any]:
    auth = {"Authorization": f"Bearer {token}"} if token else {}
    async with session.request(method, url, headers={**auth, **(headers or {})}, **kwargs) as resp:
        body = await resp.json() if resp.content_type == "application/json" else await resp.read()
        return resp.status, resp.headers, body


async def test_join_link_body_is_exactly_the_documented_shape(
    wire: tuple[GraphSimulator, str, aiohttp.ClientSession],
) -> None:
    sim, base, session = wire
    meeting = sim.meetings_of(ADELE)[0]
    token = sim.issue_token(ADELE)
    status, headers, body = await call(
        session, "GET", f"{base}/v1.0/me/onlineMeetings/{meeting.id}/getVirtualAppointmentJoinWebUrl", token
    )
    assert status == 200
    assert body == {
        "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#Edm.String",
        "value": f"https://visit.teams.microsoft.com/webrtc-svc/api/route?tid={sim.tenant_id}&convId={meeting.thread_id}",
    }
    assert headers["request-id"]
    assert meeting.thread_id.startswith("19:meeting_") and meeting.thread_id.endswith("@thread.v2")
    decoded = base64.b64decode(meeting.id).decode()
    assert decoded == f"1*{ADELE}*0**{meeting.thread_id}" and meeting.id.startswith("MSo")


async def test_online_meeting_has_the_real_field_names(wire: tuple[GraphSimulator, str, aiohttp.ClientSession]) -> None:
    sim, base, session = wire
    meeting = sim.meetings_of(ADELE)[0]
    _, _, body = await call(session, "GET", f"{base}/beta/me/onlineMeetings/{meeting.id}", sim.issue_token(ADELE))
    assert {"id", "subject", "startDateTime", "endDateTime", "joinWebUrl", "joinMeetingIdSettings", "chatInfo"} <= set(
        body
    )
    assert body["joinMeetingIdSettings"] == {
        "isPasscodeRequired": True,
        "joinMeetingId": meeting.join_meeting_id,
        "passcode": meeting.passcode,
    }
    assert body["participants"]["organizer"]["identity"]["user"]["id"] == ADELE
    assert body["chatInfo"]["threadId"] == meeting.thread_id
    assert body["startDateTime"].endswith("0Z") and len(body["startDateTime"].split(".")[1]) == 8


@pytest.mark.parametrize(("token", "message"), [(None, "Access token is empty."), ("bogus", "validation failure")])
async def test_401_is_graph_shaped(
    wire: tuple[GraphSimulator, str, aiohttp.ClientSession], token: str | None, message: str
) -> None:
    _, base, session = wire
    status, headers, body = await call(session, "GET", f"{base}/v1.0/me/calendarView", token)
    assert status == 401
    assert body["error"]["code"] == "InvalidAuthenticationToken"
    assert message in body["error"]["message"]
    assert body["error"]["innerError"]["request-id"] == headers["request-id"]


async def test_revoked_token_is_refused(wire: tuple[GraphSimulator, str, aiohttp.ClientSession]) -> None:
    sim, base, session = wire
    token = sim.issue_token(MEGAN)
    assert (await call(session, "GET", f"{base}/v1.0/me/calendarView?startDateTime=2030-01-01T00:00:00Z"
                       "&endDateTime=2030-01-02T00:00:00Z", token))[0] == 200  # fmt: skip
    sim.revoke_token(token)
    assert (await call(session, "GET", f"{base}/v1.0/me/calendarView", token))[0] == 401


async def test_calendar_view_needs_a_window_and_echoes_the_zone(
    wire: tuple[GraphSimulator, str, aiohttp.ClientSession],
) -> None:
    sim, base, session = wire
    token = sim.issue_token(ADELE)
    status, _, body = await call(session, "GET", f"{base}/v1.0/me/calendarView", token)
    assert (status, body["error"]["code"]) == (400, "ErrorInvalidParameter")
    url = f"{base}/v1.0/me/calendarView?startDateTime=2000-01-01T00:00:00Z&endDateTime=2100-01-01T00:00:00Z"
    status, headers, body = await call(
        session, "GET", url, token, headers={"Prefer": 'outlook.timezone="Pacific Standard Time"'}
    )
    assert status == 200 and headers["Preference-Applied"] == 'outlook.timezone="Pacific Standard Time"'
    starts = [e["start"]["dateTime"] for e in body["value"]]
    # Adele's five events, the all-hands she is invited to, and her three Bookings appointments (one she organises)
    assert starts == sorted(starts) and len(starts) == 9
    assert {e["start"]["timeZone"] for e in body["value"]} == {"Pacific Standard Time"}
    assert {e["isOnlineMeeting"] for e in body["value"]} == {True, False}
    assert [e["isOrganizer"] for e in body["value"]].count(True) == 6


async def test_sms_validation(wire: tuple[GraphSimulator, str, aiohttp.ClientSession]) -> None:
    sim, base, session = wire
    meeting = sim.meetings_of(ADELE)[0]
    token = sim.issue_token(ADELE)
    url = f"{base}/v1.0/me/onlineMeetings/{meeting.id}/sendVirtualAppointmentSms"
    good = {"attendees": [{"phoneNumber": "+13129224122", "timeZone": "Pacific Standard Time"}]}
    assert (await call(session, "POST", url, token, json={**good, "messageType": "confirmation"}))[0] == 202
    assert (await call(session, "POST", url, token, json={**good, "messageType": "spam"}))[0] == 400
    assert (await call(session, "POST", url, token, json={"attendees": [], "messageType": "confirmation"}))[0] == 400
    assert (await call(session, "POST", url, token, data=b"{not json"))[0] == 400
    reminder = f"{base}/v1.0/me/onlineMeetings/{meeting.id}/sendVirtualAppointmentReminderSms"
    assert (await call(session, "POST", reminder, token, json={**good, "remindBeforeTimeInMinutesType": "mins15"}))[
        0
    ] == 202
    assert (await call(session, "POST", reminder, token, json={**good, "remindBeforeTimeInMinutesType": "day1"}))[
        0
    ] == 400
    assert (await call(session, "POST", reminder, token, json={**good, "remindBeforeTimeInMinutesType": "x"}))[0] == 400


async def test_legacy_resource_is_beta_only_and_patch_needs_if_match(
    wire: tuple[GraphSimulator, str, aiohttp.ClientSession],
) -> None:
    sim, base, session = wire
    meeting = sim.meetings_of(ADELE)[0]
    token = sim.issue_token(ADELE)
    path = f"/me/onlineMeetings/{meeting.id}/virtualAppointment"
    assert (await call(session, "PUT", f"{base}/v1.0{path}", token, json={}))[0] == 400
    status, headers, body = await call(session, "PUT", f"{base}/beta{path}", token, json={"externalAppointmentId": "A"})
    assert status == 201 and headers["ETag"] and body["appointmentClientJoinWebUrl"] == meeting.virtual_appointment_url
    assert (await call(session, "PATCH", f"{base}/beta{path}", token, json={}))[0] == 412  # no If-Match
    status, _, _ = await call(
        session, "PATCH", f"{base}/beta{path}", token, json={}, headers={"If-Match": headers["ETag"]}
    )
    assert status == 204


async def test_unknown_routes_and_versions(wire: tuple[GraphSimulator, str, aiohttp.ClientSession]) -> None:
    sim, base, session = wire
    token = sim.issue_token(ADELE)
    status, _, body = await call(session, "GET", f"{base}/v1.0/me/onlineMeeting/x", token)
    assert status == 400 and "segment" in body["error"]["message"]
    assert (await call(session, "GET", f"{base}/v2.0/me/onlineMeetings/x", token))[0] == 400
    assert (await call(session, "GET", f"{base}/v1.0/me/onlineMeetings?$filter=subject eq 'x'", token))[0] == 400


async def test_injected_fault_with_custom_body_and_latency(
    wire: tuple[GraphSimulator, str, aiohttp.ClientSession],
) -> None:
    sim, base, session = wire
    token = sim.issue_token(ADELE)
    sim.inject("calendarView", status=409, body={"error": {"code": "Provisioning", "message": "wait"}}, retry_after=3)
    status, headers, body = await call(session, "GET", f"{base}/v1.0/me/calendarView", token)
    assert (status, headers["Retry-After"], body["error"]["code"]) == (409, "3", "Provisioning")
    sim.inject(None, latency=0.2, method="GET")
    started = asyncio.get_running_loop().time()
    assert (await call(session, "GET", f"{base}/v1.0/me/calendarView", token))[0] == 400  # latency only
    assert asyncio.get_running_loop().time() - started >= 0.2
    sim.inject("nothing-matches", status=500)
    sim.clear_faults()
    assert (await call(session, "GET", f"{base}/v1.0/me/calendarView", token))[0] == 400


def test_run_in_thread_serves_blocking_callers_and_tokens_from_many_threads() -> None:
    sim = GraphSimulator()
    handle = run_in_thread(sim)
    try:
        assert handle.base_url.startswith("http://127.0.0.1:")
        tokens: list[str] = []
        lock = threading.Lock()

        def issue() -> None:
            for _ in range(50):
                token = sim.issue_token(ADELE)
                with lock:
                    tokens.append(token)

        workers = [threading.Thread(target=issue) for _ in range(4)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        assert len(set(tokens)) == 200
        meeting = sim.meetings_of(ADELE)[0]
        request = urllib.request.Request(
            f"{handle.base_url}/v1.0/me/onlineMeetings/{meeting.id}",
            headers={"Authorization": f"Bearer {tokens[-1]}"},
        )
        with urllib.request.urlopen(request, timeout=5) as resp:  # a blocking client, as the bot SDK is
            assert resp.status == 200 and resp.headers["request-id"]
        with pytest.raises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(f"{handle.base_url}/v1.0/me/onlineMeetings/{meeting.id}", timeout=5)
        assert caught.value.code == 401
        caught.value.close()
    finally:
        handle.stop()
    assert not any(t.name == "graph-simulator" for t in threading.enumerate())


def test_command_line_prints_seed_data_and_binds_loopback() -> None:
    with subprocess.Popen(
        [sys.executable, "-m", "graph.simulator", "--port", "0"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    ) as proc:
        try:
            assert proc.stdout is not None
            first = proc.stdout.readline()
            lines = [proc.stdout.readline() for _ in range(6)]
        finally:
            proc.terminate()
            proc.wait(10)
    assert "http://127.0.0.1:" in first
    assert any("Adele Vance" in line and "token:" in line for line in lines)
    assert any("join URL: https://teams.microsoft.com/l/meetup-join/19%3ameeting_" in line for line in lines)
