"""Inbound token checks, once per token rather than once per activity.

The Bot Connector signs an hour of activities with the same token, and botbuilder re-validates it on every request:
three JWT parses (PyJWT checks each base64 character in Python), an RSA signature check and the endorsement lookup
(their cost: README, SDK-defect table). A token that passed for a given channel and service URL (both checked
against its claims) is remembered until it expires, at most an hour; anything else is validated in full, as before.
"""

from __future__ import annotations

import time
from collections import OrderedDict

from botbuilder.schema import Activity
from botframework.connector.auth import AuthenticateRequestResult

MAX_ENTRIES = 1024
MAX_AGE_S = 3600.0


class AuthenticationCache:
    """(Authorization header, channel, service URL) -> the SDK's result, until the token's `exp`."""

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[tuple[str, str, str], tuple[float, AuthenticateRequestResult]] = OrderedDict()

    @staticmethod
    def _key(auth_header: str, activity: Activity) -> tuple[str, str, str]:
        return auth_header, activity.channel_id or "", activity.service_url or ""

    def get(self, auth_header: str, activity: Activity) -> AuthenticateRequestResult | None:
        key = self._key(auth_header, activity)
        entry = self._entries.get(key)
        if entry is None:
            return None
        expires, result = entry
        if time.time() >= expires:
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return result

    def put(self, auth_header: str, activity: Activity, result: AuthenticateRequestResult) -> None:
        claims = getattr(result.claims_identity, "claims", None) or {}
        exp = claims.get("exp")
        if not auth_header or not isinstance(exp, int | float):
            return  # anonymous (local mode) or no expiry: nothing worth remembering
        expires = min(float(exp), time.time() + MAX_AGE_S)
        self._entries[self._key(auth_header, activity)] = (expires, result)
        if len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)
