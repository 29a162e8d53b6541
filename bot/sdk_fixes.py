"""Small fixes for botbuilder 4.17.1 defects (DESIGN.md section 7), each named for what it fixes.

The adapter (bot/adapter.py) applies them; each has a regression test that fails without it
(tests/test_sdk_fixes.py and the end-to-end tests).
"""

from __future__ import annotations

import asyncio
import copy
import email.utils
import logging
import pickle
import random
import time
from typing import Any

from botbuilder.core import serializer_helper
from botbuilder.core import turn_context as sdk_turn_context
from botbuilder.core.bot_state import CachedBotState
from msrest.serialization import Model
from msrest.universal_http import requests as msrest_requests

log = logging.getLogger(__name__)


def serialise_invoke_body_once(body: Any) -> Any:
    """Defect 7.1: `ActivityHandler._create_invoke_response` already serialises the body to a dict, and
    `CloudAdapter.process` serialises it again (AttributeError -> HTTP 500 for every messaging-extension,
    task-module and card-action response). Serialise models only; pass JSON-ready values through."""
    if isinstance(body, Model):
        return serializer_helper(body)
    if isinstance(body, list):
        return [serialise_invoke_body_once(item) for item in body]
    return body


def install_fast_msrest_retry_policy() -> None:
    """Defect 7.6 (cost): msrest's `ClientRetryPolicy.__init__` tests 999 codes against a 500-item *list*
    (~4 ms CPU, twice a turn). The same codes as a frozenset give the identical status list in ~0.05 ms.
    Idempotent; touches only this class attribute."""
    codes = msrest_requests.ClientRetryPolicy.safe_codes
    if not isinstance(codes, frozenset):
        msrest_requests.ClientRetryPolicy.safe_codes = frozenset(codes)  # type: ignore[assignment]


def install_fast_state_hash() -> None:
    """SDK cost: `BotState` decides whether a turn changed the state by comparing `CachedBotState.compute_hash` of it
    at load and at save (three times a turn), and the SDK's hash is a jsonpickle flatten of the whole state: ~0.9 ms
    for a get-link dialog stack. `pickle.dumps` of the same objects (~0.05 ms) is as exact for that comparison: a
    changed state never gives the same bytes (an unchanged one may, rarely, differ: one write too many). The bytes
    are only compared, never stored or loaded; what pickle cannot write falls back to the SDK's hash. Idempotent."""
    stock = CachedBotState.compute_hash
    if getattr(stock, "fast_state_hash", False):
        return

    def compute_hash(self: CachedBotState, obj: object) -> Any:
        try:
            return pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception:  # not plain data (never ours); the SDK's way still works
            return stock(self, obj)

    compute_hash.fast_state_hash = True  # type: ignore[attr-defined]
    compute_hash.stock = stock  # type: ignore[attr-defined]  # for tests.fixcheck, which puts it back
    CachedBotState.compute_hash = compute_hash


def install_shallow_reply_copy() -> None:
    """SDK cost: `TurnContext.send_activities` deep-copies every outgoing activity, Adaptive Card and all, before
    stamping the conversation reference on it, so that the caller's activity object is left as it was. What it
    stamps (channel, conversation, from, recipient, replyToId, locale, type, inputHint, id) are top-level attribute
    assignments, which a shallow copy keeps off the caller's object just as well; the card is only read after that.
    Ours are built fresh for each reply anyway. The SDK's module uses `deepcopy` for nothing else. Idempotent."""
    sdk_turn_context.deepcopy = copy.copy


# Defect 7.6 (replies): the connector client never retries a POST, whatever the status. Teams asks bots to retry
# 429 (honouring Retry-After) and 412, 502, 503, 504 with backoff and jitter, a bounded number of times.
RETRYABLE_REPLY_STATUSES = frozenset({412, 429, 502, 503, 504})
REPLY_ATTEMPTS = 3
REPLY_BACKOFF_S = 0.25
MAX_RETRY_AFTER_S = 10.0


def reply_status(exc: BaseException) -> int | None:
    """The HTTP status of a failed connector call (msrest's HttpOperationError carries the response)."""
    response = getattr(exc, "response", None)
    status = getattr(response, "status_code", None)
    return status if isinstance(status, int) else None


def retry_after_seconds(exc: BaseException) -> float | None:
    """Retry-After of a failed connector call: seconds (fractional allowed) or an HTTP date."""
    headers = getattr(getattr(exc, "response", None), "headers", None) or {}
    value = headers.get("Retry-After") if hasattr(headers, "get") else None
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def reply_retry_delay(exc: BaseException, attempt: int) -> float | None:
    """Seconds to wait before retrying a failed reply, or None if it must not be retried."""
    status = reply_status(exc)
    if status not in RETRYABLE_REPLY_STATUSES or attempt >= REPLY_ATTEMPTS:
        return None
    hinted = retry_after_seconds(exc)
    if hinted is not None:
        return min(hinted, MAX_RETRY_AFTER_S)
    return REPLY_BACKOFF_S * (2.0 ** (attempt - 1)) * (0.5 + random.random())  # noqa: S311 - jitter, not security


async def send_with_retry(send: Any, *args: Any) -> Any:
    """Call `send(*args)`; retry per `reply_retry_delay`. Exactly one delivery on success, at most 3 attempts."""
    attempt = 1
    while True:
        try:
            return await send(*args)
        except Exception as exc:
            delay = reply_retry_delay(exc, attempt)
            if delay is None:
                raise
            log.warning("connector answered %s; retrying in %.2f s (attempt %d)", reply_status(exc), delay, attempt)
            await asyncio.sleep(delay)
            attempt += 1
