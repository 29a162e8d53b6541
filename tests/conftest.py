"""Shared pytest fixtures."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from graph.simulator import GraphSimulator, run_in_thread
from tests.cloud import LoopbackCloud, opaque_token

pytest_plugins = ["tests.azurite"]  # one Azurite for the whole session, started only by tests that ask for it


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


@pytest.fixture
def sim(cloud: LoopbackCloud) -> Iterator[GraphSimulator]:
    """A fresh Graph simulator on its own thread, wired so the fake token service hands out tokens it accepts."""
    simulator = GraphSimulator(seed=False)
    handle = run_in_thread(simulator)
    simulator.base_url = handle.base_url  # type: ignore[attr-defined]
    cloud.token_service.token_minter = lambda _teams_id, aad_id: simulator.issue_token(aad_id)
    try:
        yield simulator
    finally:
        cloud.token_service.token_minter = opaque_token
        handle.stop()
