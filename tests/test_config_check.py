"""`python app.py --check` against the loopback cloud: each misconfiguration, answered as Entra ID and the token
service answer it, comes back as one line naming the setting to fix, and the secret is never printed."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from app import check
from bot.config_check import credential_problem
from bot.sdk.credentials import CachingCredentialsFactory
from config import Settings
from manifest.builder import build_package
from tests.cloud import LoopbackCloud

ROOT = Path(__file__).resolve().parent.parent
BOT_DOMAIN = "va-link.example.net"


def single_tenant_env(cloud: LoopbackCloud, **overrides: str) -> dict[str, str]:
    """A SingleTenant bot (the default type) whose authority is the fake Entra's tenant-style one."""
    env = cloud.settings_env(MicrosoftAppType="SingleTenant", MicrosoftAppTenantId=cloud.tenant_id,
                             ToChannelFromBotLoginUrl=cloud.entra.tenant_authority(), BotDomain=BOT_DOMAIN)
    env.update(overrides)
    return env


def run_check(cloud: LoopbackCloud, tmp_path: Path, env: dict[str, str], *args: str) -> tuple[int, list[str], str]:
    """The real entry point, in its own process: (exit status, stdout lines, everything printed)."""
    full = {"PATH": os.environ.get("PATH", ""), "REQUESTS_CA_BUNDLE": cloud.ca_bundle, **env}
    done = subprocess.run(  # noqa: S603
        [sys.executable, str(ROOT / "app.py"), "--check", *args], cwd=tmp_path, env=full, capture_output=True,
        text=True, timeout=60,
    )
    return done.returncode, done.stdout.splitlines(), done.stdout + done.stderr


def check_lines(env: dict[str, str], capsys: pytest.CaptureFixture[str], package: Path | None = None) -> list[str]:
    """The same check in this process (the loopback CA is already trusted here), for the quicker cases."""
    status = check(Settings.from_mapping(env), package)
    lines = capsys.readouterr().out.splitlines()
    assert (status == 0) == (len(lines) == 1 and lines[0].startswith("configuration check:"))
    return lines if status else []


def test_everything_holds(cloud, tmp_path):
    status, lines, printed = run_check(cloud, tmp_path, single_tenant_env(cloud))
    assert status == 0, printed
    assert lines == [lines[0]] and lines[0].startswith("configuration check:")
    assert cloud.token_service.call_names() == ["GetTokenStatus"]  # a user without a token is not a problem
    assert cloud.app_password not in printed


def test_a_wrong_secret_names_the_password(cloud, tmp_path):
    wrong = "wrong-" + uuid.uuid4().hex
    status, lines, printed = run_check(cloud, tmp_path, single_tenant_env(cloud, MicrosoftAppPassword=wrong))
    assert status == 1
    assert len(lines) == 1 and lines[0].startswith("MicrosoftAppPassword") and "AADSTS7000215" in lines[0]
    assert wrong not in printed and cloud.app_password not in printed
    assert cloud.token_service.call_names() == []  # nothing else is tried without a token


def test_an_unknown_tenant_names_the_tenant_id(cloud, tmp_path):
    unknown = str(uuid.uuid4())
    env = single_tenant_env(cloud, MicrosoftAppTenantId=unknown,
                            ToChannelFromBotLoginUrl=cloud.entra.tenant_authority(unknown))
    status, lines, _ = run_check(cloud, tmp_path, env)
    assert status == 1
    assert len(lines) == 1 and lines[0].startswith("MicrosoftAppTenantId") and unknown in lines[0]


def test_a_missing_connection_names_the_connection(cloud, tmp_path):
    status, lines, _ = run_check(cloud, tmp_path, single_tenant_env(cloud, ConnectionName="GraphConection"))
    assert status == 1
    assert lines == ["ConnectionName: the Azure Bot has no OAuth connection named 'GraphConection' "
                     "(it has: GraphConnection)"]


def test_an_unknown_app_names_the_app_id(cloud, capsys):
    other = str(uuid.uuid4())
    lines = check_lines(single_tenant_env(cloud, MicrosoftAppId=other), capsys)
    assert len(lines) >= 1 and lines[0].startswith("MicrosoftAppId:") and "AADSTS700016" in lines[0]


def test_an_expired_secret_names_the_password(cloud, capsys):
    cloud.entra.secret_expired = True
    lines = check_lines(single_tenant_env(cloud), capsys)
    assert len(lines) == 1 and lines[0].startswith("MicrosoftAppPassword") and "AADSTS7000222" in lines[0]


def test_multi_tenant_registrations_check_against_their_authority(cloud, capsys):
    """The loopback cloud's usual MultiTenant set-up (adfs authority) passes, and breaks on a wrong secret."""
    assert check_lines(cloud.settings_env(BotDomain=BOT_DOMAIN), capsys) == []
    lines = check_lines(cloud.settings_env(BotDomain=BOT_DOMAIN, MicrosoftAppPassword="nope"), capsys)
    assert len(lines) == 1 and lines[0].startswith("MicrosoftAppPassword")


def test_an_unreachable_token_service_is_named(cloud, capsys):
    cloud.token_service.fail_next(503, path_contains="GetTokenStatus")
    lines = check_lines(single_tenant_env(cloud), capsys)
    assert lines == ["OAuthUrl: the token service answered 503 to GetTokenStatus"]


def test_a_package_for_another_bot_is_named(cloud, capsys, tmp_path):
    env = single_tenant_env(cloud)
    other_id = str(uuid.uuid4())
    other = Settings.from_mapping({**env, "MicrosoftAppId": other_id, "BotDomain": "elsewhere.example.net"})
    package = build_package(other, tmp_path / "other.zip")
    lines = check_lines(env, capsys, package)
    assert {line.split(":")[0] for line in lines} == {"MicrosoftAppId", "BotDomain"}
    assert any("botId" in line for line in lines) and any("webApplicationInfo.resource" in line for line in lines)
    mine = build_package(Settings.from_mapping(env), tmp_path / "mine.zip")
    assert check_lines(env, capsys, mine) == []


def test_an_empty_bot_domain_is_named(cloud, capsys):
    lines = check_lines(single_tenant_env(cloud, BotDomain=""), capsys)
    assert lines == ["BotDomain is empty: the app package's validDomains and website need the bot's host name"]


def test_local_mode_has_nothing_to_check(capsys):
    lines = check_lines({"BotDomain": BOT_DOMAIN}, capsys)
    assert lines == ["MicrosoftAppId is empty (local mode): there is no tenant configuration to check"]


def test_single_tenant_authority_in_the_public_cloud_is_the_tenant():
    """Without a login URL override, MicrosoftAppTenantId is the authority's tenant (so AADSTS90002 names it)."""
    settings = Settings.from_mapping({"MicrosoftAppId": str(uuid.uuid4()), "MicrosoftAppPassword": "x",
                                      "MicrosoftAppTenantId": "contoso-tenant"})
    factory = CachingCredentialsFactory(settings.sdk_config())
    assert factory.authority("https://login.microsoftonline.com/botframework.com") == (
        "https://login.microsoftonline.com/contoso-tenant"
    )
    line = credential_problem(settings, "https://login.microsoftonline.com/contoso-tenant", {"error_codes": [90002]})
    assert line.startswith("MicrosoftAppTenantId") and "contoso-tenant" in line
    assert credential_problem(settings, "https://x/t", {"error": "invalid_grant"}).startswith("MicrosoftAppId/")
