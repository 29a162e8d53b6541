"""The Teams app package: build it from Settings, validate it offline, and prove each seeded defect is caught."""

from __future__ import annotations

import copy
import io
import json
import os
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from config import Settings
from dialogs.commands import MENU, menu_commands
from manifest.builder import PACKAGE_FILES, BuildError, PackageOptions, bot_host, build_package, render_manifest
from manifest.validator import Problem, package_problems, validate_package

REPO_ROOT = Path(__file__).resolve().parent.parent
APP_ID = "4b1c6c3e-2f64-4a2e-9a8e-1a2b3c4d5e6f"
OTHER_ID = "9d3a0b7e-5c1f-4e2a-8b6d-0f1e2d3c4b5a"
BOT_DOMAIN = "linkbot.example.com"
TENANT_ID = "9a8e1a2b-3c4d-4e5f-8b1c-6c3e2f644a2e"


@pytest.fixture(scope="module")
def settings() -> Settings:
    return Settings.from_mapping(
        {"MicrosoftAppId": APP_ID, "MicrosoftAppPassword": "not-a-secret", "MicrosoftAppTenantId": TENANT_ID,
         "BotDomain": BOT_DOMAIN}
    )


@pytest.fixture(scope="module")
def package(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_package(settings, tmp_path_factory.mktemp("pkg") / "appPackage.zip")


@pytest.fixture(scope="module")
def files(package: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(package) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


@pytest.fixture
def manifest(files: dict[str, bytes]) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(files["manifest.json"])
    return loaded


def _png(mode: str, size: tuple[int, int], color: Any) -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size, color).save(buffer, format="PNG")
    return buffer.getvalue()


def _with_manifest(files: dict[str, bytes], manifest: dict[str, Any]) -> dict[str, bytes]:
    return {**files, "manifest.json": json.dumps(manifest).encode()}


def _findings(problems: list[Problem]) -> list[str]:
    return [str(problem) for problem in problems]


# --- the built package ----------------------------------------------------------------------------------------------


def test_built_package_validates_clean(package: Path) -> None:
    assert validate_package(package) == []


def test_zip_holds_manifest_icons_and_a_file_per_language_at_its_root(package: Path) -> None:
    with zipfile.ZipFile(package) as archive:
        names = [info.filename for info in archive.infolist()]
    assert sorted(names) == sorted(PACKAGE_FILES)
    assert not any("/" in name for name in names)


def test_icons_have_the_sizes_and_modes_teams_wants(files: dict[str, bytes]) -> None:
    color = Image.open(io.BytesIO(files["color.png"]))
    outline = Image.open(io.BytesIO(files["outline.png"]))
    assert (color.format, color.size) == ("PNG", (192, 192))
    assert len(color.convert("RGB").getcolors(maxcolors=192 * 192) or []) > 2  # a drawn glyph, not a flat square
    assert (outline.format, outline.size, outline.mode) == ("PNG", (32, 32), "RGBA")
    assert outline.getchannel("A").getextrema() == (0, 255)
    assert [outline.getchannel(band).getextrema() for band in "RGB"] == [(255, 255)] * 3


def test_manifest_declares_bot_extension_sso_and_rsc(manifest: dict[str, Any]) -> None:
    assert manifest["manifestVersion"] == "1.25"
    assert manifest["$schema"].endswith("/teams/v1.25/MicrosoftTeams.schema.json")
    assert "packageName" not in manifest
    assert manifest["id"] == APP_ID
    (bot,) = manifest["bots"]
    assert bot["botId"] == APP_ID
    assert set(bot["scopes"]) == {"personal", "groupChat", "team"}
    menu = [{"title": title, "description": text} for title, text in menu_commands()]
    assert {scope for entry in bot["commandLists"] for scope in entry["scopes"]} == set(bot["scopes"])
    assert all(entry["commands"] == menu for entry in bot["commandLists"])
    (extension,) = manifest["composeExtensions"]
    assert extension["botId"] == APP_ID
    (command,) = extension["commands"]
    assert command["id"] == "getAppointmentLink"
    assert (command["type"], command["fetchTask"]) == ("action", True)
    assert command["context"] == ["compose", "commandBox", "message"]
    assert manifest["webApplicationInfo"] == {"id": APP_ID, "resource": f"api://botid-{APP_ID}"}
    assert manifest["validDomains"] == ["token.botframework.com", BOT_DOMAIN]
    assert manifest["authorization"]["permissions"]["resourceSpecific"] == [
        {"name": "OnlineMeeting.ReadBasic.Chat", "type": "Application"}
    ]
    assert manifest["developer"]["websiteUrl"] == f"https://{BOT_DOMAIN}/"


def test_version_and_explicit_app_id_are_used(tmp_path: Path) -> None:
    local = Settings.from_mapping({})
    options = PackageOptions(version="2.3.4", website_url="https://example.org/")
    built = render_manifest(local, options, app_id=OTHER_ID.upper())
    assert (built["version"], built["id"], built["bots"][0]["botId"]) == ("2.3.4", OTHER_ID, OTHER_ID)
    assert built["validDomains"] == ["token.botframework.com"]  # no BotDomain: no second domain
    assert validate_package(build_package(local, tmp_path / "p.zip", options, app_id=OTHER_ID)) == []


@pytest.mark.parametrize(
    ("mapping", "kwargs", "expected"),
    [
        ({}, {}, "MicrosoftAppId is empty (local mode)"),
        ({}, {"app_id": "not-a-guid"}, "a GUID"),
        ({}, {"app_id": "00000000-0000-0000-0000-000000000000"}, "a GUID"),
        ({"BotDomain": BOT_DOMAIN}, {"app_id": APP_ID, "options": PackageOptions(version="1.0")}, "semver"),
        ({}, {"app_id": APP_ID}, "--website-url"),
    ],
)
def test_build_refuses_with_one_clear_line(mapping: dict[str, str], kwargs: dict[str, Any], expected: str) -> None:
    with pytest.raises(BuildError) as raised:
        render_manifest(Settings.from_mapping(mapping), **kwargs)
    assert expected in str(raised.value)
    assert "\n" not in str(raised.value)


def test_bot_domain_given_as_url_becomes_a_host() -> None:
    assert bot_host(" https://LinkBot.example.com/api/messages ") == "linkbot.example.com"
    assert bot_host("linkbot.example.com") == "linkbot.example.com"


# --- seeded defects -------------------------------------------------------------------------------------------------


def _drop_help_from_personal(m: dict[str, Any]) -> None:
    personal = next(e for e in m["bots"][0]["commandLists"] if e["scopes"] == ["personal"])
    personal["commands"] = [c for c in personal["commands"] if c["title"] != "help"]


MANIFEST_DEFECTS: dict[str, tuple[Callable[[dict[str, Any]], None], str]] = {
    "token domain missing": (
        lambda m: m["validDomains"].remove("token.botframework.com"),
        "manifest.json#/validDomains: must include token.botframework.com",
    ),
    "url in validDomains": (
        lambda m: m["validDomains"].append("https://other.example.com"),
        "manifest.json#/validDomains/2: must be a host name",
    ),
    "unhandled command": (
        lambda m: m["bots"][0]["commandLists"][0]["commands"].append({"title": "dance", "description": "x"}),
        f"manifest.json#/bots/0/commandLists/0/commands/{len(MENU)}/title: the bot does not handle 'dance'",
    ),
    "menu command missing": (
        _drop_help_from_personal,
        "manifest.json#/bots/0/commandLists: menu command(s) ['help'] not declared for scope 'personal'",
    ),
    "toolkit placeholder": (
        lambda m: m["developer"].update(name="${{DEVELOPER_NAME}}"),
        "manifest.json#/developer/name: unfilled placeholder '${{DEVELOPER_NAME}}'",
    ),
    "sample placeholder": (
        lambda m: m["webApplicationInfo"].update(resource="api://botid-<app id>"),
        "manifest.json#/webApplicationInfo/resource: unfilled placeholder '<app id>'",
    ),
    "zero guid": (
        lambda m: m["bots"][0].update(botId="00000000-0000-0000-0000-000000000000"),
        "manifest.json#/bots/0/botId: the all-zero GUID is a placeholder",
    ),
    "packageName": (
        lambda m: m.update(packageName="com.example.linkbot"),
        "manifest.json#/packageName: removed in manifest 1.17",
    ),
    "webApplicationInfo id": (
        lambda m: m["webApplicationInfo"].update(id=OTHER_ID),
        f"manifest.json#/webApplicationInfo/id: must equal the bot id {APP_ID}",
    ),
    "webApplicationInfo resource": (
        lambda m: m["webApplicationInfo"].update(resource=f"api://{APP_ID}"),
        f"manifest.json#/webApplicationInfo/resource: must be 'api://botid-{APP_ID}'",
    ),
    "extension for another bot": (
        lambda m: m["composeExtensions"][0].update(botId=OTHER_ID),
        "manifest.json#/composeExtensions/0/botId: must equal the bot id",
    ),
    "unknown action": (
        lambda m: m["composeExtensions"][0]["commands"][0].update(id="getVaLink"),
        "manifest.json#/composeExtensions: action command 'getAppointmentLink' the bot handles is not declared",
    ),
    "action without fetchTask": (
        lambda m: m["composeExtensions"][0]["commands"][0].update(fetchTask=False),
        "manifest.json#/composeExtensions/0/commands/0: 'getAppointmentLink' must be type 'action' with fetchTask",
    ),
    "no meeting scope": (
        lambda m: m["bots"][0]["scopes"].remove("groupChat"),
        "manifest.json#/bots/0/scopes: must include 'groupChat'",
    ),
    "rsc missing": (
        lambda m: m.pop("authorization"),
        "manifest.json#/authorization/permissions/resourceSpecific: must grant OnlineMeeting.ReadBasic.Chat",
    ),
    "schema: meeting context on a command": (
        lambda m: m["composeExtensions"][0]["commands"][0]["context"].append("meetingSidePanel"),
        "manifest.json#/composeExtensions/0/commands/0/context",
    ),
    "wrong manifestVersion": (
        lambda m: m.update(manifestVersion="1.19"),
        "manifest.json#/manifestVersion: must be '1.25'",
    ),
}


@pytest.mark.parametrize("defect", MANIFEST_DEFECTS)
def test_each_manifest_defect_is_reported(defect: str, files: dict[str, bytes], manifest: dict[str, Any]) -> None:
    seed, expected = MANIFEST_DEFECTS[defect]
    broken = copy.deepcopy(manifest)
    seed(broken)
    findings = _findings(package_problems(_with_manifest(files, broken)))
    assert any(line.startswith(expected) for line in findings), findings


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("color.png", _png("RGB", (100, 100), "#2F5FAF"), "color.png: color icon must be 192x192, not 100x100"),
        ("outline.png", _png("RGBA", (48, 48), (255, 255, 255, 0)), "outline.png: outline icon must be 32x32"),
        ("outline.png", _png("RGB", (32, 32), "white"), "outline.png: outline icon must have an alpha channel"),
        ("outline.png", _png("RGBA", (32, 32), (255, 255, 255, 255)), "outline.png: outline icon must have a transp"),
        ("outline.png", _png("RGBA", (32, 32), (0, 0, 0, 0)), "outline.png: outline icon is fully transparent"),
        ("color.png", b"GIF89a not really", "color.png: not a readable image"),
    ],
    ids=["color-size", "outline-size", "outline-no-alpha", "outline-opaque", "outline-empty", "not-an-image"],
)
def test_each_icon_defect_is_reported(files: dict[str, bytes], name: str, content: bytes, expected: str) -> None:
    findings = _findings(package_problems({**files, name: content}))
    assert any(line.startswith(expected) for line in findings), findings


def test_coloured_pixels_in_the_outline_are_reported(files: dict[str, bytes]) -> None:
    outline = Image.open(io.BytesIO(files["outline.png"])).convert("RGBA")
    outline.putpixel((16, 16), (255, 0, 0, 255))
    buffer = io.BytesIO()
    outline.save(buffer, format="PNG")
    findings = _findings(package_problems({**files, "outline.png": buffer.getvalue()}))
    assert findings == ["outline.png: outline icon must be white or transparent only"]


def _zip(path: Path, entries: dict[str, bytes], folders: tuple[str, ...] = ()) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for folder in folders:
            archive.writestr(folder, b"")
        for name, content in entries.items():
            archive.writestr(name, content)
    return path


def test_files_in_sub_folders_are_reported(tmp_path: Path, files: dict[str, bytes]) -> None:
    entries = {name: content for name, content in files.items() if name != "color.png"}
    entries["icons/color.png"] = files["color.png"]
    findings = _findings(validate_package(_zip(tmp_path / "sub.zip", entries, folders=("icons/",))))
    assert "icons/: folders are not allowed: every file must be at the package root" in findings
    assert "icons/color.png: in a sub-folder: Teams only reads files at the package root" in findings
    assert "manifest.json#/icons/color: 'color.png' is not at the package root" in findings


def test_package_zipped_with_its_folder_is_reported(tmp_path: Path, files: dict[str, bytes]) -> None:
    entries = {f"appPackage/{name}": content for name, content in files.items()}
    findings = _findings(validate_package(_zip(tmp_path / "nested.zip", entries)))
    assert "manifest.json: missing at the package root" in findings


def test_an_unpacked_folder_validates_like_the_zip(tmp_path: Path, files: dict[str, bytes]) -> None:
    for name, content in files.items():
        (tmp_path / name).write_bytes(content)
    assert validate_package(tmp_path) == []
    (tmp_path / "extra").mkdir()
    (tmp_path / "extra" / "notes.txt").write_text("x")
    assert _findings(validate_package(tmp_path)) == [
        "extra/notes.txt: in a sub-folder: Teams only reads files at the package root"
    ]


# --- the command line -----------------------------------------------------------------------------------------------


def _cli(*args: str, cwd: Path, **settings: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MicrosoftApp") and k != "BotDomain"}
    env.update(settings, PYTHONPATH=str(REPO_ROOT))
    return subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "manifest", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=60
    )


def test_cli_exit_codes(tmp_path: Path, package: Path, files: dict[str, bytes], manifest: dict[str, Any]) -> None:
    clean = _cli("validate", str(package), cwd=tmp_path)
    assert (clean.returncode, clean.stdout.strip()) == (0, f"{package}: ok")

    manifest["packageName"] = "com.example.linkbot"
    manifest["validDomains"] = [BOT_DOMAIN]
    broken = _zip(tmp_path / "broken.zip", _with_manifest(files, manifest))
    dirty = _cli("validate", str(broken), cwd=tmp_path)
    lines = dirty.stdout.splitlines()
    assert dirty.returncode == 1
    assert any(line.startswith("manifest.json#/packageName: ") for line in lines)
    assert any(line.startswith("manifest.json#/validDomains: must include token.botframework.com") for line in lines)
    assert all(": " in line for line in lines)

    local = _cli("build", "--out", str(tmp_path / "local.zip"), cwd=tmp_path)
    assert local.returncode == 1
    assert local.stderr.count("\n") == 1 and "MicrosoftAppId is empty" in local.stderr
    assert not (tmp_path / "local.zip").exists()

    built = _cli(
        "build",
        "--out",
        str(tmp_path / "real.zip"),
        "--version",
        "1.2.3",
        cwd=tmp_path,
        MicrosoftAppId=APP_ID,
        MicrosoftAppPassword="not-a-secret",
        MicrosoftAppTenantId=TENANT_ID,
        BotDomain=BOT_DOMAIN,
    )
    assert built.returncode == 0, built.stderr
    assert validate_package(tmp_path / "real.zip") == []


# --- languages (localizationInfo and one localization file per shipped language) ------------------------------------


def test_every_shipped_language_has_a_translated_localization_file(
    files: dict[str, bytes], manifest: dict[str, Any]
) -> None:
    declared = manifest["localizationInfo"]
    assert declared["defaultLanguageTag"] == "en-us"
    assert [(e["languageTag"], e["file"]) for e in declared["additionalLanguages"]] == [
        ("es", "es.json"), ("fr", "fr.json"), ("de", "de.json"), ("pt-br", "pt-br.json"), ("ja", "ja.json")
    ]
    spanish = json.loads(files["es.json"])
    assert spanish["$schema"].endswith("/teams/v1.25/MicrosoftTeams.Localization.schema.json")
    assert (spanish["name.short"], spanish["name.full"]) == ("Enlace de cita", "Enlace de cita virtual")
    assert "obtener enlace" in spanish["description.full"]
    for index in range(3):
        titles = [spanish[f"bots[0].commandLists[{index}].commands[{n}].title"] for n in range(3)]
        assert titles == ["obtener enlace", "ayuda", "cerrar sesión"]
    assert spanish["composeExtensions[0].commands[0].title"] == "Obtener enlace de cita"
    japanese = json.loads(files["ja.json"])
    assert japanese["bots[0].commandLists[0].commands[0].title"] == "リンクを取得"
    english = {json.dumps(manifest["name"]), manifest["description"]["short"]}
    for name in ("es.json", "fr.json", "de.json", "pt-br.json", "ja.json"):
        content = json.loads(files[name])
        assert not english & {json.dumps({"short": content["name.short"], "full": content["name.full"]}),
                              content["description.short"]}


def test_chosen_app_names_are_kept_in_every_language(settings: Settings, tmp_path: Path) -> None:
    options = PackageOptions(short_name="Contoso Link", full_name="Contoso Appointment Link")
    package = build_package(settings, tmp_path / "p.zip", options)
    assert validate_package(package) == []
    with zipfile.ZipFile(package) as archive:
        german = json.loads(archive.read("de.json"))
    assert (german["name.short"], german["name.full"]) == ("Contoso Link", "Contoso Appointment Link")
    assert german["description.short"].startswith("Rufen Sie")


def _edit_json(files: dict[str, bytes], name: str, change: Callable[[dict[str, Any]], Any]) -> dict[str, bytes]:
    content = json.loads(files[name])
    change(content)
    return {**files, name: json.dumps(content).encode()}


LOCALIZATION_DEFECTS: dict[str, tuple[Callable[[dict[str, bytes]], dict[str, bytes]], str]] = {
    "file missing": (
        lambda f: {k: v for k, v in f.items() if k != "fr.json"},
        "manifest.json#/localizationInfo/additionalLanguages/1: 'fr.json' is not at the package root",
    ),
    "name too long for Teams": (
        lambda f: _edit_json(f, "de.json", lambda c: c.update({"name.short": "Ein sehr langer Name für eine App"})),
        "de.json#/name.short: longer than Teams allows (33 > 30 characters)",
    ),
    "required text missing": (
        lambda f: _edit_json(f, "ja.json", lambda c: c.pop("description.full")),
        "ja.json#/: schema: 'description.full' is a required property",
    ),
    "key naming nothing": (
        lambda f: _edit_json(f, "es.json", lambda c: c.update({"bots[0].commandLists[2].commands[5].title": "x"})),
        "es.json#/bots[0].commandLists[2].commands[5].title: names nothing in manifest.json",
    ),
    "command the bot does not understand in that language": (
        lambda f: _edit_json(f, "es.json", lambda c: c.update({"bots[0].commandLists[1].commands[1].title": "aide"})),
        "es.json#/bots[0].commandLists[1].commands[1].title: the bot does not understand 'aide' in es",
    ),
    "text left untranslated": (
        lambda f: _edit_json(f, "pt-br.json", lambda c: c.pop("composeExtensions[0].commands[0].title")),
        "pt-br.json#/composeExtensions[0].commands[0].title: not translated",
    ),
    "another manifest version's schema": (
        lambda f: _edit_json(f, "fr.json", lambda c: c.update({"$schema": c["$schema"].replace("v1.25", "v1.19")})),
        "fr.json#/$schema: must be https://developer.microsoft.com/en-us/json-schemas/teams/v1.25/",
    ),
    "language declared twice": (
        lambda f: _with_manifest(f, _declare_twice(json.loads(f["manifest.json"]))),
        "manifest.json#/localizationInfo/additionalLanguages/5: language 'es' is declared twice",
    ),
}


def _declare_twice(manifest: dict[str, Any]) -> dict[str, Any]:
    manifest["localizationInfo"]["additionalLanguages"].append({"languageTag": "es", "file": "es.json"})
    return manifest


@pytest.mark.parametrize("defect", LOCALIZATION_DEFECTS)
def test_each_localization_defect_is_reported(defect: str, files: dict[str, bytes]) -> None:
    seed, expected = LOCALIZATION_DEFECTS[defect]
    findings = _findings(package_problems(seed(files)))
    assert any(line.startswith(expected) for line in findings), findings


def test_the_carried_schemas_are_unmodified_copies() -> None:
    import hashlib

    schema_dir = REPO_ROOT / "manifest" / "schema"
    notice = (schema_dir / "NOTICE.md").read_text(encoding="utf-8")
    for name in ("teams-manifest-v1.25.schema.json", "teams-localization-v1.25.schema.json"):
        digest = hashlib.sha256((schema_dir / name).read_bytes()).hexdigest()
        assert f"{name}: {digest}" in notice
