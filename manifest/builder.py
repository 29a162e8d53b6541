"""Build the Teams app package (manifest.json and two icons at the zip's root) from the bot's Settings.

The manifest lives in `manifest.template.json` with `${{NAME}}` placeholders, the syntax Teams developers know
from the Agents Toolkit. Placeholders are filled in the parsed JSON, so a value never needs JSON escaping and a
placeholder that is a whole value (the command list, validDomains) can become a list.
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
from dialogs.commands import MENU_COMMANDS
from manifest import icons

TEMPLATE_PATH = Path(__file__).with_name("manifest.template.json")
SIGNIN_DOMAIN = "token.botframework.com"
ZERO_GUID = "00000000-0000-0000-0000-000000000000"
GUID_RE = re.compile(r"^[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
SEMVER_RE = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$")
PLACEHOLDER_RE = re.compile(r"\$\{\{\s*([A-Za-z0-9_.]+)\s*\}\}")
# The files of the package, all at the zip's root: Teams rejects a package whose files sit in a folder.
PACKAGE_FILES = ("manifest.json", "color.png", "outline.png")


class BuildError(ValueError):
    """The package cannot be built from this configuration; the message is one line that says why."""


@dataclass(frozen=True)
class PackageOptions:
    """What the package needs beyond Settings. Empty URLs default to the bot's own domain."""

    version: str = "1.0.0"
    short_name: str = "Appointment Link"
    full_name: str = "Virtual Appointment Link"
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
        "APP_ID": bot_id,
        "VERSION": options.version,
        "SHORT_NAME": options.short_name,
        "FULL_NAME": options.full_name,
        "DEVELOPER_NAME": options.developer_name,
        "WEBSITE_URL": website,
        "PRIVACY_URL": options.privacy_url or website,
        "TERMS_URL": options.terms_url or website,
        "ACCENT_COLOR": options.accent_color,
        "VALID_DOMAINS": domains,
        "MENU_COMMANDS": [{"title": title, "description": text} for title, text in MENU_COMMANDS],
    }


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
    filled: dict[str, Any] = _fill(template, _values(settings, options or PackageOptions(), app_id))
    return filled


def package_files(manifest: dict[str, Any], accent_color: str = icons.ACCENT_COLOR) -> dict[str, bytes]:
    """Zip entry name -> content, in the order Teams tooling writes them."""
    return {
        "manifest.json": (json.dumps(manifest, indent=2, ensure_ascii=False) + "\n").encode("utf-8"),
        "color.png": icons.color_icon(accent_color),
        "outline.png": icons.outline_icon(),
    }


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
    return write_zip(package_files(manifest, options.accent_color), out)
