"""Local mode (DESIGN.md section 6): `python app.py` with no settings answers on 127.0.0.1 and nowhere else."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from config import Settings

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _listening_addresses(port: int) -> set[str]:
    """Local addresses of LISTEN sockets on `port`, read from /proc (no traffic to any address)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        if not os.path.exists(table):
            continue
        with open(table) as f:
            next(f)
            for line in f:
                local, state = line.split()[1], line.split()[3]
                address, hex_port = local.split(":")
                if state == "0A" and int(hex_port, 16) == port:
                    found.add(address)
    return found


@pytest.fixture
def local_bot(tmp_path):
    """`python app.py` as a newcomer runs it: empty environment, no .env, a fresh port."""
    port = _free_port()
    env = {"PATH": os.environ.get("PATH", ""), "PORT": str(port), "HOST": "0.0.0.0"}
    proc = subprocess.Popen(  # noqa: S603 - our own entry point
        [sys.executable, str(ROOT / "app.py")], cwd=tmp_path, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        banner = proc.stdout.readline()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).ok:
                    break
            except requests.ConnectionError:
                time.sleep(0.1)
        else:
            pytest.fail("local bot did not start")
        yield port, banner
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_local_mode_answers_on_loopback_only(local_bot, cloud):
    port, banner = local_bot
    assert "LOCAL MODE" in banner and "127.0.0.1" in banner
    cloud.connector.require_auth = False  # local mode sends no token, like the Agents Playground expects
    activity = cloud.activity("help")
    response = requests.post(f"http://127.0.0.1:{port}/api/messages", json=activity, timeout=10)
    assert response.status_code == 201
    [reply] = cloud.connector.wait_for_activities(1)
    assert reply["attachments"][0]["content"]["type"] == "AdaptiveCard"
    assert _listening_addresses(port) == {"0100007F"}  # 127.0.0.1 only, although HOST said 0.0.0.0


def test_local_mode_refuses_a_non_loopback_service_url(local_bot, cloud):
    port, _ = local_bot
    activity = cloud.activity("help")
    activity["serviceUrl"] = "https://smba.trafficmanager.net/amer/"
    response = requests.post(f"http://127.0.0.1:{port}/api/messages", json=activity, timeout=10)
    assert response.status_code == 400


def test_local_mode_refuses_to_start_with_a_partly_set_app_id(tmp_path):
    env = {"PATH": os.environ.get("PATH", ""), "MicrosoftAppPassword": "x", "PORT": str(_free_port())}
    done = subprocess.run(  # noqa: S603
        [sys.executable, str(ROOT / "app.py")], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and "MicrosoftAppId" in done.stderr


def test_local_mode_never_when_an_app_id_is_set():
    app = {"MicrosoftAppId": "11111111-1111-1111-1111-111111111111", "MicrosoftAppPassword": "p",
           "MicrosoftAppTenantId": "22222222-2222-2222-2222-222222222222"}
    settings = Settings.from_mapping(app)
    assert not settings.local_mode and settings.listen_host == "0.0.0.0"


def test_an_app_id_without_its_tenant_stops_the_start_naming_it(tmp_path):
    """SingleTenant is the default: `python app.py` with an app id and secret but no tenant exits with one line."""
    env = {"PATH": os.environ.get("PATH", ""), "MicrosoftAppId": "11111111-1111-1111-1111-111111111111",
           "MicrosoftAppPassword": "x", "PORT": str(_free_port())}
    done = subprocess.run(  # noqa: S603
        [sys.executable, str(ROOT / "app.py")], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and "MicrosoftAppTenantId" in done.stderr


def test_local_mode_runs_a_group_chats_flow_in_the_playgrounds_one_to_one_chat(local_bot, cloud):
    """The Agents Playground names its 1:1 chats itself (`<guid>@test.user`, not Teams' `a:...`): in local mode the
    send guard takes them as personal (the member check still decides), so `get link` in a group chat goes on
    privately instead of failing; a group id is still never taken for a 1:1 chat."""
    port, _ = local_bot
    cloud.connector.require_auth = False
    playground_chat = "3f2b7c1e-5d4a-4b8e-9c0f-1a2b3c4d5e6f@test.user"
    teams_ids = cloud.connector._personal_conversation
    cloud.connector._personal_conversation = lambda user: playground_chat
    try:
        activity = cloud.activity("get link", conversation_type="groupChat", mention=True)
        response = requests.post(f"http://127.0.0.1:{port}/api/messages", json=activity, timeout=10)
        assert response.status_code in (200, 201)
        private = cloud.connector.activities_in(playground_chat)
        deadline = time.monotonic() + 10
        while not private and time.monotonic() < deadline:
            time.sleep(0.05)
            private = cloud.connector.activities_in(playground_chat)
        assert private, "nothing reached the playground's 1:1 chat"
    finally:
        cloud.connector._personal_conversation = teams_ids
        cloud.connector.reset()


def test_a_playground_style_id_is_personal_only_in_local_mode():
    from bot.send_guard import SendGuard

    local, real = SendGuard(local_mode=True), SendGuard()
    assert local.is_personal("3f2b7c1e-5d4a-4b8e-9c0f-1a2b3c4d5e6f@test.user")
    assert local.is_personal("a:1abc") and real.is_personal("a:1abc")
    assert not real.is_personal("3f2b7c1e-5d4a-4b8e-9c0f-1a2b3c4d5e6f@test.user")
    for shared in ("19:abc@thread.v2", "19:abc@thread.tacv2", "5d4a@test.group", "x" * 201, "a b", ""):
        assert not local.is_personal(shared), shared
