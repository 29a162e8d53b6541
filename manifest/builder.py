"""Build the Teams app package (manifest.json, two icons and a localization file per language, all at the zip's
root) from the bot's Settings.

The manifest lives in `manifest.template.json` with `${{NAME}}` placeholders, the syntax Teams developers know
from the Agents Toolkit. Placeholders are filled in the parsed JSON, so a value never needs JSON escaping and a
placeholder that is a whole value (the command list, validDomains) can become a list. The texts (name,
descriptions, command titles) come from the bot's catalogs: English in manifest.json, every other shipped language
in `<language>.json`, declared in `localizationInfo`, so Teams shows the app and its commands in the user's language
and a command picked from the menu arrives in words the bot understands in that language.
"""

from __future__ import annotations

import json
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from config import Settings
from dialogs.cards import strings
from dialogs.cards.language import SHIPPED, SOURCE, Catalogs, english, speaking
from dialogs.commands import menu_commands
from manifest import icons

TEMPLATE_PATH = Path(__file__).with_name("manifest.template.json")
SIGNIN_DOMAIN = "token.botframework.com"
ZERO_GUID = "00000000-0000-0000-0000-000000000000"
GUID_RE = re.compile(r"^[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
SEMVER_RE = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$")
PLACEHOLDER_RE = re.compile(r"\$\{\{\s*([A-Za-z0-9_.]+)\s*\}\}")
DEFAULT_LANGUAGE = "en-us"
LOCALIZATION_SCHEMA_URL = (
    "https://developer.microsoft.com/en-us/json-schemas/teams/v1.25/MicrosoftTeams.Localization.schema.json"
)


def language_tag(catalog: str) -> str:
    """The manifest's tag for a catalog: `pt_BR` -> `pt-br` (Teams matches fr-ca to fr, then to the default)."""
    return catalog.replace("_", "-").lower()


def localization_file(catalog: str) -> str:
    return f"{language_tag(catalog)}.json"


# The files of the package, all at the zip's root: Teams rejects a package whose files sit in a folder.
PACKAGE_FILES = (
    "manifest.json",
    "color.png",
    "outline.png",
    *(localization_file(name) for name in SHIPPED if name != SOURCE),
)


class BuildError(ValueError):
    """The package cannot be built from this configuration; the message is one line that says why."""


@dataclass(frozen=True)
class PackageOptions:
    """What the package needs beyond Settings. Empty URLs default to the bot's own domain."""

    version: str = "1.0.0"
    short_name: str = "Appointment Link"  # strings.APP_NAME_SHORT: translated unless another name is given
    full_name: str = "Virtual Appointment Link"  # strings.APP_NAME_FULL: likewise
    developer_name: str = "Virtual Appointment Link"
    website_url: str = ""
    privacy_url: str = ""
    terms_url: str = ""
    accent_color: str = icons.ACCENT_COLOR


def bot_host(bot_domain: str) -> str:
    """`BotDomain` as validDomains wants it: a bare host name, even when someone configured a URL."""
    domain = bot_domain.strip()
    if "://" in domain:
        domain = urlsplit(domain).netloc
    return domain.strip("/").lower()


def _app_id(settings: Settings, app_id: str | None) -> str:
    """The explicit id wins; without either, the package would be unusable, so refuse to build it."""
    chosen = (app_id or settings.app_id).strip()
    if not chosen:
        raise BuildError(
            "MicrosoftAppId is empty (local mode): the app package needs the bot's real Entra app id; "
            "set MicrosoftAppId or pass --app-id"
        )
    if not GUID_RE.match(chosen) or chosen == ZERO_GUID:
        raise BuildError(f"the app id must be the bot's Entra application (client) id, a GUID, not {chosen!r}")
    return chosen.lower()


def _values(settings: Settings, options: PackageOptions, app_id: str | None) -> dict[str, Any]:
    """Every placeholder's value; raises BuildError for the options Teams would reject."""
    bot_id = _app_id(settings, app_id)
    if not SEMVER_RE.match(options.version):
        raise BuildError(f"--version must be MAJOR.MINOR.PATCH (Teams requires semver), not {options.version!r}")
    host = bot_host(settings.bot_domain)
    website = options.website_url or (f"https://{host}/" if host else "")
    if not website:
        raise BuildError("the manifest needs the developer's website: set BotDomain or pass --website-url")
    domains = [SIGNIN_DOMAIN] + ([host] if host and host != SIGNIN_DOMAIN else [])
    return {
        **_texts(options),
        "APP_ID": bot_id,
        "VERSION": options.version,
        "DEVELOPER_NAME": options.developer_name,
        "WEBSITE_URL": website,
        "PRIVACY_URL": options.privacy_url or website,
        "TERMS_URL": options.terms_url or website,
        "ACCENT_COLOR": options.accent_color,
        "VALID_DOMAINS": domains,
        "DEFAULT_LANGUAGE": DEFAULT_LANGUAGE,
        "ADDITIONAL_LANGUAGES": [
            {"languageTag": language_tag(name), "file": localization_file(name)} for name in SHIPPED if name != SOURCE
        ],
    }


def _name(given: str, default: str, translated: str) -> str:
    """A name left at its default is translated; a name someone chose is kept in every language."""
    return translated if given == default else given


def _texts(options: PackageOptions) -> dict[str, Any]:
    """The user-facing texts of the manifest, in the current language."""
    return {
        "SHORT_NAME": _name(options.short_name, PackageOptions.short_name, strings.APP_NAME_SHORT),
        "FULL_NAME": _name(options.full_name, PackageOptions.full_name, strings.APP_NAME_FULL),
        "DESCRIPTION_SHORT": strings.APP_DESCRIPTION_SHORT,
        "DESCRIPTION_FULL": strings.APP_DESCRIPTION_FULL,
        "MENU_COMMANDS": [{"title": title, "description": text} for title, text in menu_commands()],
        "ACTION_TITLE": strings.ME_COMMAND_TITLE,
        "ACTION_DESCRIPTION": strings.ME_COMMAND_DESCRIPTION,
    }


def localization(manifest: dict[str, Any], texts: dict[str, Any]) -> dict[str, Any]:
    """One language's localization file: the manifest's texts by their keys (`bots[0].commandLists[1]...`)."""
    content: dict[str, Any] = {
        "$schema": LOCALIZATION_SCHEMA_URL,
        "name.short": texts["SHORT_NAME"],
        "name.full": texts["FULL_NAME"],
        "description.short": texts["DESCRIPTION_SHORT"],
        "description.full": texts["DESCRIPTION_FULL"],
    }
    for list_index, command_list in enumerate(manifest["bots"][0]["commandLists"]):
        for index, _ in enumerate(command_list["commands"]):
            command = texts["MENU_COMMANDS"][index]
            key = f"bots[0].commandLists[{list_index}].commands[{index}]"
            content[f"{key}.title"] = command["title"]
            content[f"{key}.description"] = command["description"]
    for index, _ in enumerate(manifest["composeExtensions"][0]["commands"]):
        content[f"composeExtensions[0].commands[{index}].title"] = texts["ACTION_TITLE"]
        content[f"composeExtensions[0].commands[{index}].description"] = texts["ACTION_DESCRIPTION"]
    return content


def render_localizations(
    manifest: dict[str, Any], options: PackageOptions | None = None, catalogs: Catalogs | None = None
) -> dict[str, dict[str, Any]]:
    """File name -> localization file, for every shipped language but English (the manifest's own)."""
    catalogs = catalogs or Catalogs.load()
    files = {}
    for name in SHIPPED:
        if name == SOURCE:
            continue
        with speaking(catalogs.language(name.replace("_", "-"))):
            files[localization_file(name)] = localization(manifest, _texts(options or PackageOptions()))
    return files


def _fill(node: Any, values: dict[str, Any]) -> Any:
    """Replace placeholders throughout a parsed JSON tree; a string that is one placeholder takes its value."""
    if isinstance(node, dict):
        return {key: _fill(child, values) for key, child in node.items()}
    if isinstance(node, list):
        return [_fill(child, values) for child in node]
    if not isinstance(node, str):
        return node
    whole = PLACEHOLDER_RE.fullmatch(node)
    if whole:
        return _lookup(whole.group(1), values)
    return PLACEHOLDER_RE.sub(lambda match: str(_lookup(match.group(1), values)), node)


def _lookup(name: str, values: dict[str, Any]) -> Any:
    if name not in values:
        raise BuildError(f"manifest.template.json uses ${{{{{name}}}}}, which the builder does not know")
    return values[name]


def render_manifest(
    settings: Settings, options: PackageOptions | None = None, app_id: str | None = None
) -> dict[str, Any]:
    """The manifest as a dict: the template filled from the settings, the options and the bot's command list."""
    template = json.loads(TEMPLATE_PATH.read_text(encoding="utf-8"))
    with speaking(english()):
        filled: dict[str, Any] = _fill(template, _values(settings, options or PackageOptions(), app_id))
    return filled


def _json(content: dict[str, Any]) -> bytes:
    return (json.dumps(content, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def package_files(
    manifest: dict[str, Any], accent_color: str = icons.ACCENT_COLOR, options: PackageOptions | None = None
) -> dict[str, bytes]:
    """Zip entry name -> content, in the order Teams tooling writes them: manifest, icons, localization files."""
    files = {
        "manifest.json": _json(manifest),
        "color.png": icons.color_icon(accent_color),
        "outline.png": icons.outline_icon(),
    }
    files.update({name: _json(content) for name, content in render_localizations(manifest, options).items()})
    return files


def write_zip(files: dict[str, bytes], out: Path) -> Path:
    """Write the entries flat at the zip's root, creating the parent folder."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return out


def build_package(
    settings: Settings, out: Path, options: PackageOptions | None = None, app_id: str | None = None
) -> Path:
    """Render the manifest, draw the icons and write the zip to `out`; returns `out`."""
    options = options or PackageOptions()
    manifest = render_manifest(settings, options, app_id)
    return write_zip(package_files(manifest, options.accent_color, options), out)
