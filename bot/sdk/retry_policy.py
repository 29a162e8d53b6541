"""Defect 7.6 (cost): msrest's ClientRetryPolicy construction is quadratic in a list of status codes."""

from __future__ import annotations

from msrest.universal_http import requests as msrest_requests


def install_fast_msrest_retry_policy() -> None:
    """Defect 7.6 (cost): msrest's `ClientRetryPolicy.__init__` tests 999 codes against a 500-item *list*
    (~4 ms CPU, twice a turn). The same codes as a frozenset give the identical status list in ~0.05 ms.
    Idempotent; touches only this class attribute."""
    codes = msrest_requests.ClientRetryPolicy.safe_codes
    if not isinstance(codes, frozenset):
        msrest_requests.ClientRetryPolicy.safe_codes = frozenset(codes)  # type: ignore[assignment]
