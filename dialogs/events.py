"""What the dialogs report as they go, for telemetry: bot/ injects the recorder, the dialogs never import it."""

from __future__ import annotations

from typing import Protocol


class Events(Protocol):
    """What the dialogs report for telemetry (bot/telemetry/record.py); words of a fixed set only, never data."""

    def link_issued(self, source: str, kind: str) -> None:
        """source: chat | messaging_extension | reminder; kind: calendar | bookings | new."""
        ...

    def link_failed(self, source: str, reason: str) -> None:
        """reason: token_refused | transient | refused."""
        ...

    def sign_in(self, outcome: str) -> None:
        """outcome: silent_sso | card | consent_needed | failure."""
        ...


class NoEvents:
    """Events nobody records (tests that build dialogs without a bot)."""

    def link_issued(self, source: str, kind: str) -> None:
        return None

    def link_failed(self, source: str, reason: str) -> None:
        return None

    def sign_in(self, outcome: str) -> None:
        return None
