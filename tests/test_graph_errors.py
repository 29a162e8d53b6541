"""The pure pieces: error mapping from (status, headers, body), Retry-After parsing, backoff bounds."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from graph.client import interpret_response
from graph.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    GraphError,
    GraphTimeout,
    NotFound,
    PreconditionFailed,
    Throttled,
    Unauthorized,
    Unavailable,
    error_from_response,
)
from graph.retry import RetryPolicy, backoff_delay, parse_retry_after

# Shapes as Graph documents and returns them (innerError carries date and request ids).
GRAPH_401 = {
    "error": {
        "code": "InvalidAuthenticationToken",
        "message": "Access token has expired or is not yet valid.",
        "innerError": {
            "date": "2024-05-02T10:11:12",
            "request-id": "4d8a3c1e-1111-2222-3333-444455556666",
            "client-request-id": "9f0e1d2c-aaaa-bbbb-cccc-ddddeeeeffff",
        },
    }
}
GRAPH_400_CHAT_ID = {
    "error": {"code": "BadRequest", "message": "Invalid meeting id 19:meeting_abc@thread.v2.", "innerError": {}}
}
GRAPH_429 = {
    "error": {
        "code": "TooManyRequests",
        "message": "Please retry again later.",
        "innerError": {"code": "429", "date": "2024-05-02T10:11:12", "request-id": "req-429"},
    }
}


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, BadRequest),
        (401, Unauthorized),
        (403, Forbidden),
        (404, NotFound),
        (405, BadRequest),
        (409, Conflict),
        (412, PreconditionFailed),
        (422, BadRequest),
        (429, Throttled),
        (500, Unavailable),
        (502, Unavailable),
        (503, Unavailable),
        (504, Unavailable),
    ],
)
def test_every_status_maps_to_its_class(status: int, cls: type[GraphError]) -> None:
    error = error_from_response(status, {}, b"")
    assert type(error) is cls
    assert isinstance(error, GraphError)
    assert error.status == status
    assert error.message == f"HTTP {status}"


def test_graph_error_body_fields_are_carried() -> None:
    error = error_from_response(401, {}, json.dumps(GRAPH_401).encode())
    assert isinstance(error, Unauthorized)
    assert error.code == "InvalidAuthenticationToken"
    assert error.message == "Access token has expired or is not yet valid."
    assert error.request_id == "4d8a3c1e-1111-2222-3333-444455556666"  # from innerError when no header
    assert error.client_request_id == "9f0e1d2c-aaaa-bbbb-cccc-ddddeeeeffff"


def test_headers_win_over_inner_error_and_our_id_wins_over_the_echo() -> None:
    headers = {"Request-Id": "from-header", "client-request-id": "echoed"}
    error = error_from_response(429, headers, json.dumps(GRAPH_429), client_request_id="ours", retry_after=2.128)
    assert isinstance(error, Throttled)
    assert (error.request_id, error.client_request_id, error.retry_after) == ("from-header", "ours", 2.128)
    assert error.code == "TooManyRequests"


@pytest.mark.parametrize(
    "body",
    [
        b"<html><body>502 Bad Gateway</body></html>",
        b"not json {",
        b'"just a string"',
        b'{"error": "a string, not an object"}',
        b'{"error": {"code": 5, "message": null, "innerError": "x"}}',
        b"\xff\xfe\x00garbage",
        None,
    ],
)
def test_non_graph_bodies_are_tolerated(body: bytes | None) -> None:
    error = error_from_response(502, {"request-id": "r1"}, body)
    assert isinstance(error, Unavailable)
    assert error.code is None
    assert error.message == "HTTP 502"
    assert error.request_id == "r1"


def test_chat_id_error_message_is_kept_for_the_dialog() -> None:
    error = error_from_response(400, {}, json.dumps(GRAPH_400_CHAT_ID))
    assert isinstance(error, BadRequest)
    assert "Invalid meeting id 19:meeting_abc@thread.v2" in str(error)


def test_no_token_in_str_or_repr() -> None:
    token = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.secret-payload.signature"
    headers = {"Authorization": f"Bearer {token}", "WWW-Authenticate": f'Bearer error="{token}"', "request-id": "r"}
    error = error_from_response(401, headers, json.dumps(GRAPH_401))
    for text in (str(error), repr(error), str(error.args), repr(vars(error))):
        assert token not in text
        assert "Bearer" not in text
        assert "Authorization" not in text
    timeout = GraphTimeout("connection failed (ServerDisconnectedError)", client_request_id="c")
    assert "Bearer" not in repr(timeout)


def test_interpret_response_returns_values_and_raises_errors() -> None:
    body = b'{"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#Edm.String", "value": "https://x"}'
    assert interpret_response(200, {}, body)["value"] == "https://x"
    assert interpret_response(202, {}, b"") is None
    assert interpret_response(204, {}, b"  ") is None
    with pytest.raises(NotFound):
        interpret_response(404, {}, b'{"error": {"code": "NotFound", "message": "gone"}}', client_request_id="c")
    with pytest.raises(GraphError, match="not JSON"):
        interpret_response(200, {}, b"<html>")


def test_retry_after_seconds_fractions_and_garbage() -> None:
    assert parse_retry_after("2") == 2.0
    assert parse_retry_after("2.128") == pytest.approx(2.128)
    assert parse_retry_after(" 0.2 ") == pytest.approx(0.2)
    assert parse_retry_after("-5") == 0.0
    for bad in (None, "", "soon", "inf", "nan"):
        assert parse_retry_after(bad) is None


def test_retry_after_http_date() -> None:
    now = datetime(2024, 5, 2, 10, 0, 0, tzinfo=UTC)
    later = format_datetime(now + timedelta(seconds=7), usegmt=True)
    assert parse_retry_after(later, now) == pytest.approx(7.0)
    earlier = format_datetime(now - timedelta(seconds=30), usegmt=True)
    assert parse_retry_after(earlier, now) == 0.0


def test_backoff_is_jittered_exponential_and_capped() -> None:
    policy = RetryPolicy(backoff_base=0.1, backoff_cap=0.5)
    rng = random.Random(7)
    for attempt, ceiling in [(1, 0.1), (2, 0.2), (3, 0.4), (4, 0.5), (9, 0.5)]:
        delays = {backoff_delay(attempt, policy, rng) for _ in range(50)}
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(delays) > 1  # jittered
