"""Shared pytest fixtures."""

from __future__ import annotations

import copy
import io
import logging
import re
from collections.abc import Iterator
from typing import ClassVar
from urllib.parse import unquote

import pytest

from bot.logsafe import configure_logging
from graph.simulator import GraphSimulator, run_in_thread
from tests.cloud import LoopbackCloud, opaque_token

# tests.azurite: one Azurite for the whole session, started only by tests that ask for it;
# tests.fixcheck: `--without-fix NAME` puts one SDK defect back (python -m tests.fixcheck)
pytest_plugins = ["tests.azurite", "tests.fixcheck"]


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


_JSON_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")


def decodings(line: str) -> list[str]:
    """`line` percent-decoded once and twice, and with JSON `\\uXXXX` escapes decoded."""
    once = unquote(line)
    return [once, unquote(once), _JSON_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), line)]


class LeakScan:
    """Every log line the app's own logging wrote during the session, and independent detectors for leaks.

    The detectors are written apart from bot/logsafe.py on purpose: they check its output, not its rules.
    """

    DETECTORS: ClassVar[dict[str, re.Pattern[str]]] = {
        "bearer token": re.compile(r"(?i)\bbearer\s+(?!\[token\])[\w.~+/-]{8,}"),
        "JWT": re.compile(r"eyJ[\w-]{8,}\.eyJ[\w-]{8,}\.[\w-]*"),
        "email address": re.compile(r"[\w.%+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}\b"),
        "phone number": re.compile(
            r"(?<![\w.:/-])\+\d[\d ().-]{7,17}\d(?!\w)|\(\d{3}\)\s?\d{3}[-. ]\d{4}\b|(?<![\w-])\d{3}-\d{3}-\d{4}\b"
        ),
    }

    def __init__(self, secrets: list[str]) -> None:
        self.buffer = io.StringIO()
        self.secrets = [s for s in secrets if s]

    def lines(self) -> list[str]:
        return self.buffer.getvalue().splitlines()

    def leaks(self, lines: list[str]) -> list[tuple[str, str]]:
        """(kind, line) for every line a detector or a known secret matches, as written or decoded (percent-encoding,
        once or twice, and JSON `\\uXXXX` escapes: an address in a URL path or a JSON body is still an address)."""
        found = []
        for line in lines:
            forms = {line, *decodings(line)}
            for kind, pattern in self.DETECTORS.items():
                if any(pattern.search(form) for form in forms):
                    found.append((kind, line))
            found += [("secret", line) for secret in self.secrets if any(secret in form for form in forms)]
        return found


class _CopyingHandler(logging.Handler):
    """Hands a copy of each record to the app's handler, so the redaction cannot change what other handlers
    (pytest's caplog) see."""

    def __init__(self, inner: logging.Handler) -> None:
        super().__init__(logging.NOTSET)
        self.inner = inner

    def emit(self, record: logging.LogRecord) -> None:
        self.inner.handle(copy.copy(record))


@pytest.fixture(scope="session", autouse=True)
def log_leak_scan(request: pytest.FixtureRequest, loopback_cloud: LoopbackCloud) -> Iterator[LeakScan]:
    """Installs the app's own logging (`configure_logging("DEBUG", ...)`) into memory for the whole session, and at
    the end fails the session if any line carries a token, JWT, the cloud's client secret, an email or a phone."""
    scan = LeakScan([loopback_cloud.app_password])
    root = logging.getLogger()
    saved_level = root.level
    noisy = {name: logging.getLogger(name).level for name in ("msrest", "urllib3", "msal", "azure")}
    app_handler = configure_logging("DEBUG", secrets=[loopback_cloud.app_password])
    root.removeHandler(app_handler)
    app_handler.setStream(scan.buffer)  # type: ignore[attr-defined]
    tee = _CopyingHandler(app_handler)
    root.addHandler(tee)
    yield scan
    root.removeHandler(tee)
    root.setLevel(saved_level)
    for name, level in noisy.items():
        logging.getLogger(name).setLevel(level)
    lines = scan.lines()
    leaks = scan.leaks(lines)
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is not None and capture is not None:
        with capture.global_and_fixture_disabled():
            reporter.write_line(f"\nlog-leak scan: {len(lines)} log lines scanned, {len(leaks)} leaks")
    assert not leaks, "log lines leak: " + "; ".join(f"{kind}: {line[:200]}" for kind, line in leaks[:5])
