"""Unit tests of the SDK fixes that are pure functions (DESIGN.md section 7, items 1 and 6)."""

import email.utils
import time

import pytest
from botbuilder.core.bot_state import CachedBotState
from botbuilder.dialogs import DialogInstance, DialogState
from botbuilder.schema.teams import MessagingExtensionResponse, MessagingExtensionResult
from msrest.universal_http import requests as msrest_requests

from bot.sdk.invoke_once import serialise_invoke_body_once
from bot.sdk.registry import install
from bot.sdk.reply_retry import reply_retry_delay, retry_after_seconds, send_with_retry


class _Response:
    def __init__(self, status, headers=None):
        self.status_code = status
        self.headers = headers or {}


class _HttpError(Exception):
    def __init__(self, status, headers=None):
        super().__init__(f"HTTP {status}")
        self.response = _Response(status, headers)


def test_invoke_body_already_serialised_passes_through_and_models_are_serialised_once():
    model = MessagingExtensionResponse(compose_extension=MessagingExtensionResult(type="message", text="hi"))
    as_dict = serialise_invoke_body_once(model)
    assert as_dict == {"composeExtension": {"type": "message", "text": "hi"}}
    # What ActivityHandler._create_invoke_response hands the adapter: a dict. The SDK's second
    # serializer_helper call raises AttributeError on it; ours returns it unchanged.
    assert serialise_invoke_body_once(as_dict) is as_dict


def test_msrest_retry_policy_is_cheap_and_unchanged():
    before = msrest_requests.ClientRetryPolicy().policy.status_forcelist
    install("retry-policy")
    assert isinstance(msrest_requests.ClientRetryPolicy.safe_codes, frozenset)
    assert msrest_requests.ClientRetryPolicy().policy.status_forcelist == before


def _dialog_state() -> dict:
    stack = [DialogInstance(id=name, state={"stepIndex": 1, "values": {"reference": "https://x/y", "n": [1, 2]}})
             for name in ("MainDialog", "LinkDialog")]
    return {"DialogState": DialogState(stack), "LastLink": {"url": "https://x/link"}}


def test_fast_state_hash_sees_every_change_and_no_change():
    install("state-hash")
    install("state-hash")  # idempotent
    cached = CachedBotState(_dialog_state())
    assert not cached.is_changed
    cached.state["DialogState"].dialog_stack[1].state["values"]["n"].append(3)  # deep inside a dialog's values
    assert cached.is_changed
    cached.hash = cached.compute_hash(cached.state)
    cached.state["DialogState"].dialog_stack[0].state["stepIndex"] = 2
    assert cached.is_changed
    cached.hash = cached.compute_hash(cached.state)
    cached.state["LastLink"] = {"url": "https://x/link"}  # replaced by an equal value: nothing to write
    assert not cached.is_changed


def test_fast_state_hash_falls_back_to_the_sdk_for_what_pickle_cannot_write():
    install("state-hash")
    cached = CachedBotState({"odd": lambda: None, "n": 1})
    assert isinstance(cached.hash, str) and not cached.is_changed  # the SDK's jsonpickle text
    cached.state["n"] = 2
    assert cached.is_changed


@pytest.mark.parametrize("status", [412, 429, 502, 503, 504])
def test_retryable_statuses(status):
    assert reply_retry_delay(_HttpError(status), 1) is not None
    assert reply_retry_delay(_HttpError(status), 3) is None  # at most 3 attempts in all


@pytest.mark.parametrize("status", [400, 401, 403, 404, 500])
def test_non_retryable_statuses(status):
    assert reply_retry_delay(_HttpError(status), 1) is None


def test_retry_after_seconds_fractional_and_http_date():
    assert retry_after_seconds(_HttpError(429, {"Retry-After": "1.5"})) == 1.5
    date = email.utils.formatdate(time.time() + 3, usegmt=True)
    assert 1.0 < retry_after_seconds(_HttpError(429, {"Retry-After": date})) <= 3.0
    assert retry_after_seconds(_HttpError(429, {"Retry-After": "soon"})) is None


async def test_send_with_retry_delivers_once_after_429():
    calls = []

    async def send(x):
        calls.append(x)
        if len(calls) == 1:
            raise _HttpError(429, {"Retry-After": "0.05"})
        return "sent"

    started = time.monotonic()
    assert await send_with_retry(send, "a") == "sent"
    assert calls == ["a", "a"]
    assert time.monotonic() - started >= 0.05


async def test_send_with_retry_gives_up_after_three_attempts():
    calls = []

    async def send():
        calls.append(1)
        raise _HttpError(503, {"Retry-After": "0"})

    with pytest.raises(_HttpError):
        await send_with_retry(send)
    assert len(calls) == 3
