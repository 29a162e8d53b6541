"""Does an app package agree with the bot's settings? (`python app.py --check`.)

Teams installs a package whose ids disagree with the bot without complaint; the bot then never answers, or SSO
falls back to the sign-in card. Each problem is one line that starts with the setting to fix.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

from config import Settings
from manifest.builder import SIGNIN_DOMAIN, BuildError, PackageOptions, bot_host, render_manifest


def package_disagreements(settings: Settings, manifest: dict[str, Any], source: str) -> list[str]:
    """Compare `botId`, `webApplicationInfo` and `validDomains` with MicrosoftAppId and BotDomain."""
    app_id = settings.app_id.lower()
    problems = []
    bots = [bot for bot in manifest.get("bots") or [] if isinstance(bot, dict)]
    bot_ids = sorted({str(bot.get("botId", "")).lower() for bot in bots})
    if bot_ids != [app_id]:
        problems.append(f"MicrosoftAppId: {source} has botId {', '.join(bot_ids) or 'none'}, not {app_id}")
    info = manifest.get("webApplicationInfo")
    info = info if isinstance(info, dict) else {}
    if str(info.get("id", "")).lower() != app_id:
        problems.append(f"MicrosoftAppId: {source} has webApplicationInfo.id {info.get('id')!r}, not {app_id}")
    if str(info.get("resource", "")).lower() != f"api://botid-{app_id}":
        problems.append(f"MicrosoftAppId: {source} has webApplicationInfo.resource {info.get('resource')!r}; "
                        f"Teams SSO needs api://botid-{app_id}")
    domains = [str(domain).lower() for domain in manifest.get("validDomains") or []]
    host = bot_host(settings.bot_domain)
    if not host:
        problems.append(f"BotDomain is empty: {source}'s validDomains cannot name the bot's host")
    elif host not in domains:
        problems.append(f"BotDomain: {source}'s validDomains do not include {host}")
    if SIGNIN_DOMAIN not in domains:
        problems.append(f"app package: {source}'s validDomains lack {SIGNIN_DOMAIN} (the sign-in popup stays blank)")
    return problems


def read_manifest(path: Path) -> dict[str, Any]:
    """manifest.json of a package zip or folder; raises ValueError with a sentence when there is none."""
    try:
        if path.is_dir():
            text = (path / "manifest.json").read_text(encoding="utf-8")
        else:
            with zipfile.ZipFile(path) as package:
                text = package.read("manifest.json").decode("utf-8")
        manifest = json.loads(text)
    except (OSError, KeyError, zipfile.BadZipFile, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path} has no readable manifest.json ({type(exc).__name__})") from exc
    if not isinstance(manifest, dict):
        raise ValueError(f"{path}: manifest.json is not a JSON object")
    return manifest


def check_package(settings: Settings, package: Path | None = None) -> list[str]:
    """The given package, or the one `python -m manifest build` would make from these settings."""
    if package is not None:
        try:
            return package_disagreements(settings, read_manifest(package), package.name)
        except ValueError as error:
            return [f"app package: {error}"]
    if not bot_host(settings.bot_domain):
        return ["BotDomain is empty: the app package's validDomains and website need the bot's host name"]
    try:
        manifest = render_manifest(settings, PackageOptions())
    except BuildError as error:
        return [str(error)]
    return package_disagreements(settings, manifest, "the app package built from these settings")
