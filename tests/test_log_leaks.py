"""The session-wide log-leak scan (tests/conftest.py `log_leak_scan`) can fail, and really sees the bot's records.

The scan itself runs at the end of the session over every line the app's logging wrote during the whole suite.
"""

from __future__ import annotations

import io
import logging

import pytest

from bot.logsafe import RedactingFilter
from tests.conftest import LeakScan
from tests.e2e_support import running_bot
from tests.test_e2e_conversation import Chat, finish_without_client, meeting_for

JWT = "eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.eyJvaWQiOiIxMjM0NTY3OC1hYmNkIn0.c2lnbmF0dXJl"


def planted(secret: str) -> dict[str, str]:
    return {
        "bearer token": "calling Graph with Authorization: Bearer graph-Zm9vYmFyYmF6cXV4",
        "JWT": f"sso token={JWT}",
        "email address": "client details: alex.morgan@example.com",
        "phone number": "texting +1 206-555-0100 now",
        "secret": f"client_secret={secret}",
    }


def _through(handler_filter: logging.Filter | None, messages: list[str]) -> list[str]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    if handler_filter is not None:
        handler.addFilter(handler_filter)
    logger = logging.getLogger("tests.planted")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        for message in messages:
            logger.warning("%s", message)
    finally:
        logger.removeHandler(handler)
    return stream.getvalue().splitlines()


def test_each_detector_finds_its_planted_leak_without_the_filter(log_leak_scan: LeakScan, loopback_cloud):
    leaks = planted(loopback_cloud.app_password)
    for kind, message in leaks.items():
        lines = _through(None, [message])
        assert kind in {k for k, _ in log_leak_scan.leaks(lines)}, kind


def test_the_apps_filter_leaves_nothing_for_the_detectors(log_leak_scan: LeakScan, loopback_cloud):
    secret = loopback_cloud.app_password
    lines = _through(RedactingFilter([secret]), list(planted(secret).values()))
    assert len(lines) == 5 and log_leak_scan.leaks(lines) == []


ENCODED = {  # an address as it reaches a log inside a URL path or a JSON body (issue 28, hole 5)
    "percent-encoded": "graph GET /solutions/bookingBusinesses/Contoso%40contoso.example/calendarView -> 200",
    "percent-encoded twice": "next link /users/staff%2540contoso.example/onlineMeetings",
    "lower-case escape, + encoded": "GET /users/a%2Bb%40contoso.example",
    "JSON escape": 'body {"emailAddress": "alex.morgan\\u0040example.com"}',
}


@pytest.mark.parametrize("form", ENCODED)
def test_the_detector_and_the_filter_know_every_encoding_of_an_address(log_leak_scan: LeakScan, form: str):
    message = ENCODED[form]
    assert [k for k, _ in log_leak_scan.leaks(_through(None, [message]))] == ["email address"]
    assert log_leak_scan.leaks(_through(RedactingFilter([]), [message])) == []


def test_ordinary_ids_are_not_mistaken_for_leaks(log_leak_scan: LeakScan):
    lines = [
        "turn failed: conversation=19:meeting_NjQ0ZDQ2YjItOTQ2ZS00@thread.v2 activity=f:1732000000000",
        "graph GET /me/onlineMeetings/MSpkYzE3Njc0 -> 200 request-id=9b2c6f1e-0c1d-4e7a-8f00-1a2b3c4d5e6f",
        "listening on 127.0.0.1:3978 took 12.5 ms",
    ]
    assert log_leak_scan.leaks(lines) == []


@pytest.mark.e2e
async def test_the_session_scan_captures_the_bots_debug_records(cloud, sim, log_leak_scan: LeakScan):
    cloud.token_service.give_token("alice")
    meeting = meeting_for(cloud, sim)
    before = len(log_leak_scan.lines())
    async with running_bot(cloud, sim) as bot:
        chat = Chat(bot)
        await chat.say(f"get link {meeting.id}")
        await finish_without_client(chat)
        logging.getLogger("bot.planted").debug("leak? Authorization: Bearer %s", cloud.token_service.token_of("alice"))
    new = log_leak_scan.lines()[before:]
    assert any(" DEBUG graph.client: graph GET" in line for line in new), new[:5]
    assert any(" DEBUG bot.sdk.credentials: " in line for line in new), new[:5]
    [planted_line] = [line for line in new if "bot.planted" in line]
    assert "Bearer [token]" in planted_line  # the app's filter is what wrote the buffer
    assert log_leak_scan.leaks(new) == []
