"""Defect 7.6 (replies): the connector client never retries a reply on 429/412/5xx, which Teams requires."""

from __future__ import annotations

import asyncio
import logging
import random
from typing import Any

from graph.retry import parse_retry_after

log = logging.getLogger(__name__)

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
    """Retry-After of a failed connector call (seconds, fractional allowed, or an HTTP date), parsed as Graph's is."""
    headers = getattr(getattr(exc, "response", None), "headers", None) or {}
    value = headers.get("Retry-After") if hasattr(headers, "get") else None
    return parse_retry_after(value) if isinstance(value, str) else None


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
