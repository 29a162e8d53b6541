"""The Agents Toolkit project and its Bicep, checked offline (nothing here reaches Azure).

checkov 3.3.30 and pycep-parser 0.7.1 live in their own venv (`make infra-tools`, .venv-infra/) because their pins
clash with the bot's. `make test` sets INFRA_TOOLS, and then a missing tool fails these tests instead of skipping.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from config import Settings
from manifest.builder import PackageOptions, render_manifest

ROOT = Path(__file__).resolve().parent.parent
INFRA = ROOT / "infra"
BICEP_FILES = sorted(INFRA.rglob("*.bicep"))
TEAMS_CLIENTS = {"1fec8e78-bce4-4aaf-ab1b-5451cc387264", "5e3ce6c0-2b1f-4285-8d4b-75ee78787346"}
SSO_REDIRECT = "https://token.botframework.com/.auth/web/redirect"
# Every delegated Graph permission the README names, plus Mail.Send ("Email the link", DESIGN 5).
GRAPH_SCOPES = {
    "VirtualAppointment.Read", "OnlineMeetings.Read", "Calendars.ReadWrite", "OnlineMeetings.ReadWrite",
    "Bookings.Read.All", "VirtualAppointmentNotification.Send", "Mail.Send",
}
SIGN_IN_SCOPES = {"openid", "profile", "offline_access"}
PLACEHOLDER = re.compile(r"\$\{\{([A-Z][A-Z0-9_]*)\}\}")
# Values the toolkit itself provides to every project (not written by any action).
TOOLKIT_BUILT_INS = {"TEAMSFX_ENV", "AZURE_SUBSCRIPTION_ID", "AZURE_RESOURCE_GROUP_NAME"}

PARSE_SCRIPT = """
import json, sys
from pathlib import Path
from pycep import BicepParser
parser = BicepParser()
print(json.dumps({name: parser.parse(file_path=Path(name)) for name in sys.argv[1:]}, default=str))
"""


def _tool(name: str) -> Path:
    folder = ROOT / (os.environ.get("INFRA_TOOLS") or ".venv-infra/bin")  # relative to the repository
    path = folder / name
    if not path.exists():
        message = f"{path} is missing: run `make infra-tools`"
        if os.environ.get("INFRA_TOOLS"):
            pytest.fail(message)
        pytest.skip(message)
    return path


def _run(args: list[str], cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    # Prisma Cloud downloads and version checks off: checkov runs with no network at all.
    env = {**os.environ, "BC_SKIP_MAPPING": "TRUE", "CHECKOV_SKIP_VERSION_CHECK": "true", "PYTHONWARNINGS": "ignore"}
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False)  # noqa: S603


@pytest.fixture(scope="module")
def bicep() -> dict[str, Any]:
    """Every .bicep file, parsed by pycep-parser 0.7.1 (a file it cannot parse fails here)."""
    names = [str(path.relative_to(ROOT)) for path in BICEP_FILES]
    done = _run([str(_tool("python")), "-c", PARSE_SCRIPT, *names])
    assert done.returncode == 0, done.stderr[-2000:]
    parsed: dict[str, Any] = json.loads(done.stdout)
    return parsed


def run_checkov(directory: Path) -> dict[str, Any]:
    done = _run([str(_tool("checkov")), "-d", str(directory), "--framework", "bicep", "--skip-download",
                 "--output", "json"], cwd=directory)
    assert done.stdout.strip(), done.stderr[-2000:]
    report = json.loads(done.stdout)
    report = report[0] if isinstance(report, list) else report
    assert isinstance(report, dict)
    return report


def test_every_bicep_file_parses(bicep):
    assert {"infra/azure.bicep", "infra/botRegistration/azurebot.bicep"} <= set(bicep)
    for name, parsed in bicep.items():
        assert parsed.get("resources"), f"{name} has no resources"


def test_checkov_reports_no_failed_check_and_every_skip_gives_a_reason():
    report = run_checkov(INFRA)
    failed = [(c["check_id"], c["resource"]) for c in report["results"]["failed_checks"]]
    assert failed == [], failed
    assert report["summary"]["passed"] >= 20 and report["summary"]["parsing_errors"] == 0
    for check in report["results"]["skipped_checks"]:
        reason = check["check_result"].get("suppress_comment", "")
        assert len(reason.split()) >= 5, f"{check['check_id']} skipped without a real reason: {reason!r}"


def test_checkov_fails_an_insecure_web_app(tmp_path):
    """The check can fail: the same Bicep without `httpsOnly` and with FTPS allowed is reported."""
    target = tmp_path / "infra"
    (target / "botRegistration").mkdir(parents=True)
    for path in BICEP_FILES:
        (target / path.relative_to(INFRA)).write_text(path.read_text())
    main = target / "azure.bicep"
    text = main.read_text()
    assert "httpsOnly: true" in text and "ftpsState: 'Disabled'" in text
    main.write_text(text.replace("httpsOnly: true", "httpsOnly: false").replace("'Disabled'", "'AllAllowed'"))
    failed = {c["check_id"] for c in run_checkov(target)["results"]["failed_checks"]}
    assert {"CKV_AZURE_14", "CKV_AZURE_78"} <= failed


def _resource(bicep: dict[str, Any], name: str, file: str = "infra/azure.bicep") -> dict[str, Any]:
    config: dict[str, Any] = bicep[file]["resources"][name]["config"]
    return config


def test_web_app_runs_the_tested_python_with_an_explicit_startup_command(bicep):
    main = bicep["infra/azure.bicep"]
    site = _resource(bicep, "webApp")["properties"]
    config = site["siteConfig"]
    assert site["httpsOnly"] is True
    assert config["appCommandLine"] == "startupCommand"
    assert main["variables"]["startupCommand"]["value"] == "python app.py"
    assert (config["healthCheckPath"], config["minTlsVersion"], config["ftpsState"], config["alwaysOn"]) == (
        "/healthz", "1.2", "Disabled", True
    )
    # The Python the project targets and CI runs (pyproject's mypy target; README: 3.11), not whichever interpreter a
    # developer happens to run the tests with.
    target = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mypy"]["python_version"]
    python = f"PYTHON|{target}"
    assert main["parameters"]["linuxFxVersion"]["default"] == python
    parameters = json.loads((INFRA / "azure.parameters.json").read_text())["parameters"]
    assert parameters["linuxFxVersion"]["value"] == python


def test_app_settings_cover_the_configuration_a_deployment_needs(bicep):
    settings = _resource(bicep, "appSettings")["properties"]
    needed = {"MicrosoftAppId", "MicrosoftAppPassword", "MicrosoftAppType", "MicrosoftAppTenantId", "ConnectionName",
              "BotDomain", "AllowedTenantIds", "BotStorage", "BlobConnectionString", "BlobContainer", "PORT",
              "LOG_LEVEL", "APPLICATIONINSIGHTS_CONNECTION_STRING"}
    assert needed <= set(settings)
    assert (settings["MicrosoftAppType"], settings["BotStorage"]) == ("SingleTenant", "blob")
    env = {name: value if isinstance(value, str) else "x" for name, value in settings.items()}
    # Expressions (resource properties, parameters) stand for what Azure fills in at deployment: values of that shape.
    env.update(MicrosoftAppId="00000000-0000-0000-0000-000000000001", MicrosoftAppTenantId="t", BlobContainer="c",
               APPLICATIONINSIGHTS_CONNECTION_STRING="InstrumentationKey=00000000-0000-0000-0000-000000000002;"
               "IngestionEndpoint=https://example.invalid/")
    assert not isinstance(settings["APPLICATIONINSIGHTS_CONNECTION_STRING"], str)  # from the resource, not a literal
    assert Settings.from_mapping(env).bot_storage == "blob"  # the values the Bicep sets are accepted by config.py
    insights = _resource(bicep, "insights")["properties"]
    assert "WorkspaceResourceId" in insights  # workspace-based Application Insights


def test_secrets_are_secure_parameters_and_never_outputs(bicep):
    for name, parsed in bicep.items():
        for param, spec in parsed["parameters"].items():
            if "Secret" in param or "Password" in param:
                assert {"type": "secure"} in spec["decorators"], f"{name}: {param} is not @secure()"
                assert spec.get("default") is None
        outputs = json.dumps(parsed.get("outputs", {}))
        assert "Secret" not in outputs and "listKeys" not in outputs and "ConnectionString" not in outputs


def test_storage_is_private_tls12_with_lifecycle_rules(bicep):
    storage = _resource(bicep, "storage")["properties"]
    assert (storage["minimumTlsVersion"], storage["allowBlobPublicAccess"]) == ("TLS1_2", False)
    rules = {
        rule["definition"]["filters"]["prefixMatch"][0]: rule["definition"]["actions"]["baseBlob"]["delete"]
        for rule in _resource(bicep, "lifecycle")["properties"]["policy"]["rules"]
    }
    assert rules == {
        "${stateContainerName}/sso-exchange/": {"daysAfterModificationGreaterThan": 1},
        "${stateContainerName}/reminders/sent/": {"daysAfterModificationGreaterThan": 2},
        "${stateContainerName}/mail-sent/": {"daysAfterModificationGreaterThan": 30},
    }
    from bot.reminders.blob_store import SENT
    from bot.storage.blob import DEDUPE_PREFIX, SENT_PREFIX

    # the prefixes the bot writes
    assert {DEDUPE_PREFIX, SENT, SENT_PREFIX} == {"sso-exchange/", "reminders/sent/", "mail-sent/"}


def test_bot_is_single_tenant_with_teams_and_the_sso_connection(bicep):
    file = "infra/botRegistration/azurebot.bicep"
    bot = _resource(bicep, "botService", file)["properties"]
    assert (bot["msaAppType"], bot["msaAppId"], bot["endpoint"]) == (
        "SingleTenant", "botAadAppClientId", "https://${botAppDomain}/api/messages"
    )
    assert _resource(bicep, "teamsChannel", file)["properties"]["channelName"] == "MsTeamsChannel"
    connection = _resource(bicep, "ssoConnection", file)["properties"]
    assert connection["serviceProviderDisplayName"] == "Azure Active Directory v2"
    parameters = {p["key"]: p["value"] for p in connection["parameters"]}
    assert parameters == {"tenantID": "botTenantId", "tokenExchangeUrl": "api://botid-${botAadAppClientId}"}
    scopes = set(bicep[file]["variables"]["graphScopes"]["value"].split())
    assert scopes == GRAPH_SCOPES | SIGN_IN_SCOPES
    assert connection["clientId"] == "botAadAppClientId"


def test_parameters_file_names_only_declared_parameters(bicep):
    declared = bicep["infra/azure.bicep"]["parameters"]
    given = json.loads((INFRA / "azure.parameters.json").read_text())["parameters"]
    assert set(given) <= set(declared)
    required = {name for name, spec in declared.items() if "default" not in spec or spec["default"] is None}
    assert required <= set(given)
    module = bicep["infra/azure.bicep"]["modules"]["azureBotRegistration"]["config"]["params"]
    assert set(module) <= set(bicep["infra/botRegistration/azurebot.bicep"]["parameters"])


def test_entra_manifest_bicep_and_teams_manifest_agree_on_ids():
    aad = json.loads((ROOT / "aad.manifest.json").read_text())
    assert aad["appId"] == "${{BOT_ID}}" and aad["signInAudience"] == "AzureADMyOrg"
    assert aad["identifierUris"] == ["api://botid-${{BOT_ID}}"]
    scope = aad["api"]["oauth2PermissionScopes"][0]
    assert scope["value"] == "access_as_user" and scope["isEnabled"] is True
    pre = {app["appId"]: app["delegatedPermissionIds"] for app in aad["api"]["preAuthorizedApplications"]}
    assert set(pre) == TEAMS_CLIENTS and all(ids == [scope["id"]] for ids in pre.values())
    assert aad["web"]["redirectUris"] == [SSO_REDIRECT]
    (graph,) = aad["requiredResourceAccess"]
    assert graph["resourceAppId"] == "Microsoft Graph"
    assert {a["id"] for a in graph["resourceAccess"] if a["type"] == "Scope"} == GRAPH_SCOPES | SIGN_IN_SCOPES
    # The Teams manifest built for an app id names the same resource the Entra app exposes.
    app_id = "4b1c6c3e-2f64-4a2e-9a8e-1a2b3c4d5e6f"
    settings = Settings.from_mapping({"MicrosoftAppId": app_id, "MicrosoftAppPassword": "x",
                                      "MicrosoftAppTenantId": "t", "BotDomain": "bot.example.net"})
    manifest = render_manifest(settings, PackageOptions())
    expected = aad["identifierUris"][0].replace("${{BOT_ID}}", app_id)
    assert manifest["webApplicationInfo"] == {"id": app_id, "resource": expected}
    assert manifest["bots"][0]["botId"] == app_id


def test_toolkit_project_defines_every_value_it_uses():
    """Each ${{NAME}} in the project is written by an earlier action, a Bicep output, an env template or the
    toolkit itself, so provision never runs with an empty id."""
    project = yaml.safe_load((ROOT / "m365agents.yml").read_text())
    assert project["version"] == "v1.9" and project["environmentFolderPath"] == "./env"
    template = (ROOT / "env" / ".env.dev").read_text()
    assert "SECRET" not in template.replace("# SECRET", "")  # secrets live in the ignored .user file
    from_env = {line.split("=", 1)[0] for line in template.splitlines() if "=" in line and not line.startswith("#")}
    outputs = set(re.findall(r"^output (\w+)", (INFRA / "azure.bicep").read_text(), re.M))
    defined = TOOLKIT_BUILT_INS | from_env | outputs | {"AAD_APP_ACCESS_AS_USER_PERMISSION_ID"}  # aadApp/update
    for stage in ("provision", "deploy", "publish"):
        for step in project[stage]:
            defined |= set((step.get("writeToEnvironmentFile") or {}).values())
    used = set(PLACEHOLDER.findall((ROOT / "m365agents.yml").read_text()))
    used |= set(PLACEHOLDER.findall((INFRA / "azure.parameters.json").read_text()))
    used |= set(PLACEHOLDER.findall((ROOT / "aad.manifest.json").read_text()))
    assert used - defined == set()
    uses = [step["uses"] for step in project["provision"]]
    assert uses[:3] == ["aadApp/create", "arm/deploy", "aadApp/update"]
    assert "teamsApp/validateAppPackage" in uses and uses[-1] == "teamsApp/update"
    build = next(step for step in project["provision"] if step["uses"] == "script")
    assert build["with"]["run"].startswith("python -m manifest build --app-id ${{BOT_ID}}")
    assert "SECRET" not in json.dumps(build)  # building the package needs no secret
    (deploy,) = project["deploy"]
    assert deploy["uses"] == "azureAppService/zipDeploy" and deploy["with"]["ignoreFile"] == ".webappignore"


def test_web_app_zip_leaves_out_what_production_does_not_run():
    ignored = {line.strip().rstrip("/") for line in (ROOT / ".webappignore").read_text().splitlines()
               if line.strip() and not line.startswith("#")}
    assert {"tests", "bench", "node_modules", ".venv", ".venv-infra", ".env", "requirements-dev.txt"} <= ignored
    assert not {"bot", "dialogs", "graph", "manifest", "locales", "app.py", "config.py", "requirements.txt"} & ignored


def test_runtime_requirements_carry_no_test_or_lint_tool():
    runtime = (ROOT / "requirements.txt").read_text().lower()
    for tool in ("pytest", "hypothesis", "trustme", "ruff", "mypy", "types-", "checkov", "pycep"):
        assert tool not in runtime, tool
    dev = (ROOT / "requirements-dev.txt").read_text().splitlines()
    assert "-r requirements.txt" in dev
