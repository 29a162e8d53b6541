"""Retry policy pieces: parsing `Retry-After`, jittered backoff, and the deadline arithmetic.

Kept pure (time and randomness are passed in) so the rules are unit-tested without sleeping.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

# Graph's RetryHandler retries these (throttled, unavailable, gateway timeout); never 412.
RETRY_STATUSES: frozenset[int] = frozenset({429, 503, 504})


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How hard to try. Small numbers on purpose: a Teams invoke has 5 s in all."""

    max_attempts: int = 4
    backoff_base: float = 0.2
    backoff_cap: float = 2.0
    connect_timeout: float = 2.0
    max_retry_after: float = 60.0


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a `Retry-After` value: integer or fractional seconds (Graph sends `2.128`), or an
    HTTP date. None when absent or unparseable, so the caller falls back to backoff."""
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        seconds = math.nan
    if not math.isnan(seconds):
        return max(0.0, seconds) if math.isfinite(seconds) else None
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    reference = now or datetime.now(UTC)
    return max(0.0, (when - reference).total_seconds())


def backoff_delay(attempt: int, policy: RetryPolicy, rng: random.Random | None = None) -> float:
    """Full-jitter exponential backoff for retry number `attempt` (1-based)."""
    ceiling = min(policy.backoff_cap, policy.backoff_base * (2 ** (attempt - 1)))
    return (rng or random).uniform(ceiling / 2, ceiling)
