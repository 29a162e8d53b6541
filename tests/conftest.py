"""Shared pytest fixtures."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.cloud import LoopbackCloud


@pytest.fixture(scope="session")
def loopback_cloud() -> Iterator[LoopbackCloud]:
    """The loopback test cloud, started once per session (for session/module-scoped fixtures; not reset).

    Sets `REQUESTS_CA_BUNDLE` to the cloud's throw-away CA for the whole session, because MSAL reaches the fake
    Entra ID through `requests`; the previous value is restored at teardown.
    """
    cloud = LoopbackCloud().start()
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("REQUESTS_CA_BUNDLE", cloud.ca_bundle)
            yield cloud
    finally:
        cloud.stop()


@pytest.fixture
def cloud(loopback_cloud: LoopbackCloud) -> LoopbackCloud:
    """The session's loopback cloud, reset for this test (records, faults, tokens, meetings, modes)."""
    loopback_cloud.reset()
    return loopback_cloud
