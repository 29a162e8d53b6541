"""Offline validation of a Teams app package: the official schema plus the checks no schema makes.

Teams only tells you a package is wrong at upload time, often with a vague message, and some mistakes
(a Token Exchange resource that does not match the bot, a missing token.botframework.com) are never reported at
all; they surface as a broken sign-in. This catches them before anyone sideloads. Nothing here uses the network.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft4Validator
from PIL import Image, ImageChops, UnidentifiedImageError

from dialogs.cards.language import Catalogs, Language, english, speaking
from dialogs.commands import ACTION_COMMANDS, chat_commands, fold, menu_commands
from manifest.builder import LOCALIZATION_SCHEMA_URL, SEMVER_RE, SIGNIN_DOMAIN, ZERO_GUID

SCHEMA_PATH = Path(__file__).parent / "schema" / "teams-manifest-v1.25.schema.json"
LOCALIZATION_SCHEMA_PATH = Path(__file__).parent / "schema" / "teams-localization-v1.25.schema.json"
MANIFEST_VERSION = "1.25"
SCHEMA_URL = "https://developer.microsoft.com/en-us/json-schemas/teams/v1.25/MicrosoftTeams.schema.json"
RSC_MEETING_INFO = {"name": "OnlineMeeting.ReadBasic.Chat", "type": "Application"}
MEETING_SCOPE = "groupChat"
# Leftovers of templates: Agents Toolkit `${{X}}`, mustache `{{X}}`, sample-style `<app id>` / `<<App-Id>>`.
PLACEHOLDER_RES = (
    re.compile(r"\$\{\{[^}]*\}\}"),
    re.compile(r"\{\{[^}]*\}\}"),
    re.compile(r"<<?[A-Za-z][\w .-]*>>?"),
)
ICON_SIZES = {"color": (192, 192), "outline": (32, 32), "color32x32": (32, 32)}
_MESSAGE_LIMIT = 200
_WHITE_MIN = 250  # anti-aliasing tools leave near-white edges; Teams tints the icon anyway


@dataclass(frozen=True, order=True)
class Problem:
    """One finding: where (a file, or `manifest.json#/json/pointer`) and what is wrong."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


def _at(*parts: object) -> str:
    return "manifest.json#/" + "/".join(str(part) for part in parts)


@cache
def _schema_validator() -> Draft4Validator:
    """Draft 4, as the schema's `$schema` says; every `$ref` in it is local, so nothing is ever fetched."""
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return Draft4Validator(schema, format_checker=Draft4Validator.FORMAT_CHECKER)


@cache
def _localization_validator() -> Draft4Validator:
    """The official v1.25 localization-file schema (Draft 4, local references only)."""
    schema = json.loads(LOCALIZATION_SCHEMA_PATH.read_text(encoding="utf-8"))
    return Draft4Validator(schema, format_checker=Draft4Validator.FORMAT_CHECKER)


def schema_problems(manifest: Any) -> list[Problem]:
    """The official v1.25 schema's verdict, one Problem per error, messages cut to a readable length."""
    problems = []
    for error in _schema_validator().iter_errors(manifest):
        message = error.message if len(error.message) <= _MESSAGE_LIMIT else error.message[:_MESSAGE_LIMIT] + "..."
        problems.append(Problem(_at(*error.absolute_path), f"schema: {message}"))
    return sorted(problems)


def _strings(node: Any, path: tuple[object, ...] = ()) -> Iterator[tuple[tuple[object, ...], str]]:
    if isinstance(node, dict):
        for key, child in node.items():
            yield from _strings(child, (*path, key))
    elif isinstance(node, list):
        for index, child in enumerate(node):
            yield from _strings(child, (*path, index))
    elif isinstance(node, str):
        yield path, node


def _placeholder_problems(manifest: Any) -> Iterator[Problem]:
    for path, text in _strings(manifest):
        if path == ("$schema",):
            continue
        found = next((m.group(0) for pattern in PLACEHOLDER_RES for m in [pattern.search(text)] if m), None)
        if found:
            yield Problem(_at(*path), f"unfilled placeholder {found!r}")
        elif ZERO_GUID in text:
            yield Problem(_at(*path), "the all-zero GUID is a placeholder, not an app id")


def _list(value: Any) -> list[Any]:
    """The value if it is a list, else empty, so cross-checks survive shapes the schema already reports as wrong."""
    return value if isinstance(value, list) else []


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [item for item in _list(value) if isinstance(item, dict)]


def _identity_problems(manifest: Mapping[str, Any], bot_id: str) -> Iterator[Problem]:
    """SSO only works when webApplicationInfo names the bot's own app and its `api://botid-` App ID URI."""
    info = manifest.get("webApplicationInfo")
    if not isinstance(info, dict):
        yield Problem(_at("webApplicationInfo"), "missing: Teams SSO needs the bot's app id and App ID URI here")
        return
    if str(info.get("id", "")).lower() != bot_id.lower():
        yield Problem(_at("webApplicationInfo", "id"), f"must equal the bot id {bot_id}, not {info.get('id')!r}")
    expected = f"api://botid-{bot_id}"
    if str(info.get("resource", "")).lower() != expected.lower():
        yield Problem(_at("webApplicationInfo", "resource"), f"must be {expected!r}, not {info.get('resource')!r}")
    for index, extension in enumerate(_dicts(manifest.get("composeExtensions"))):
        if str(extension.get("botId", "")).lower() != bot_id.lower():
            yield Problem(_at("composeExtensions", index, "botId"), f"must equal the bot id {bot_id}")


def _domain_problems(manifest: Mapping[str, Any]) -> Iterator[Problem]:
    domains = _list(manifest.get("validDomains"))
    if SIGNIN_DOMAIN not in domains:
        yield Problem(_at("validDomains"), f"must include {SIGNIN_DOMAIN} (the sign-in popup is blank)")
    for index, domain in enumerate(domains):
        if isinstance(domain, str) and ("://" in domain or "/" in domain):
            yield Problem(_at("validDomains", index), f"must be a host name without scheme or path, not {domain!r}")


def _command_problems(bot: Mapping[str, Any]) -> Iterator[Problem]:
    """Declared commands must be ones the bot handles; the bot's menu must be declared in every scope it has."""
    with speaking(english()):
        menu = [fold(title) for title, _ in menu_commands()]
        handled = chat_commands()
    declared: dict[str, set[str]] = {}
    for list_index, command_list in enumerate(_dicts(bot.get("commandLists"))):
        titles = set()
        for index, command in enumerate(_dicts(command_list.get("commands"))):
            title = str(command.get("title", ""))
            titles.add(fold(title))
            if fold(title) not in handled:
                yield Problem(
                    _at("bots", 0, "commandLists", list_index, "commands", index, "title"),
                    f"the bot does not handle {title!r} (it handles: {', '.join(sorted(handled))})",
                )
        for scope in _list(command_list.get("scopes")):
            declared.setdefault(str(scope), set()).update(titles)
    for scope in _list(bot.get("scopes")):
        missing = [title for title in menu if title not in declared.get(str(scope), set())]
        if missing:
            yield Problem(_at("bots", 0, "commandLists"), f"menu command(s) {missing} not declared for scope {scope!r}")


def _bot_problems(manifest: Mapping[str, Any]) -> Iterator[Problem]:
    bots = _dicts(manifest.get("bots"))
    if not bots:
        yield Problem(_at("bots"), "missing: the package must declare the bot")
        return
    bot = bots[0]
    bot_id = str(bot.get("botId", ""))
    if MEETING_SCOPE not in _list(bot.get("scopes")):
        yield Problem(_at("bots", 0, "scopes"), f"must include {MEETING_SCOPE!r}: apps in meetings need it")
    yield from _command_problems(bot)
    yield from _identity_problems(manifest, bot_id)


def _action_problems(manifest: Mapping[str, Any]) -> Iterator[Problem]:
    """Each action command is one the bot answers, with fetchTask (the bot builds the form); and all are declared."""
    declared = set()
    for ext_index, extension in enumerate(_dicts(manifest.get("composeExtensions"))):
        for index, command in enumerate(_dicts(extension.get("commands"))):
            at = ("composeExtensions", ext_index, "commands", index)
            command_id = str(command.get("id", ""))
            declared.add(command_id)
            if command_id not in ACTION_COMMANDS:
                yield Problem(_at(*at, "id"), f"the bot does not handle command {command_id!r}")
            elif command.get("type") != "action" or command.get("fetchTask") is not True:
                yield Problem(_at(*at), f"{command_id!r} must be type 'action' with fetchTask true")
    for missing in sorted(ACTION_COMMANDS - declared):
        yield Problem(_at("composeExtensions"), f"action command {missing!r} the bot handles is not declared")


def _permission_problems(manifest: Mapping[str, Any]) -> Iterator[Problem]:
    authorization = manifest.get("authorization")
    permissions = authorization.get("permissions") if isinstance(authorization, dict) else None
    rsc = permissions.get("resourceSpecific") if isinstance(permissions, dict) else None
    if not isinstance(rsc, list) or RSC_MEETING_INFO not in rsc:
        yield Problem(
            _at("authorization", "permissions", "resourceSpecific"),
            "must grant OnlineMeeting.ReadBasic.Chat (Application): meeting info is 403 without it",
        )


def _header_problems(manifest: Mapping[str, Any]) -> Iterator[Problem]:
    """What the Draft 4 schema cannot say (it ignores `const`) and what Teams checks at upload."""
    if manifest.get("manifestVersion") != MANIFEST_VERSION:
        yield Problem(_at("manifestVersion"), f"must be {MANIFEST_VERSION!r}, the schema this validator carries")
    if "$schema" in manifest and manifest["$schema"] != SCHEMA_URL:
        yield Problem(_at("$schema"), f"must be {SCHEMA_URL}")
    if "packageName" in manifest:
        yield Problem(_at("packageName"), "removed in manifest 1.17: Teams rejects the upload")
    if not SEMVER_RE.match(str(manifest.get("version", ""))):
        yield Problem(_at("version"), "must be MAJOR.MINOR.PATCH (semver)")


_INDEXED = re.compile(r"\[(\d+)\]")


def _resolve(manifest: Any, key: str) -> bool:
    """Whether a localization key (`bots[0].commandLists[1].commands[2].title`) names a string in the manifest."""
    node = manifest
    for part in key.split("."):
        name, _, rest = part.partition("[")
        if name:
            if not isinstance(node, dict) or name not in node:
                return False
            node = node[name]
        for index in _INDEXED.findall("[" + rest if rest else ""):
            if not isinstance(node, list) or int(index) >= len(node):
                return False
            node = node[int(index)]
    return isinstance(node, str)


def localization_file_problems(
    name: str, content: Any, manifest: Mapping[str, Any], language: Language
) -> list[Problem]:
    """One localization file: the official schema, keys that exist in the manifest, command titles the bot
    understands in that language, and every text of the manifest translated."""
    if not isinstance(content, dict):
        return [Problem(name, "must be a JSON object")]
    problems = []
    for error in _localization_validator().iter_errors(content):
        message = error.message if len(error.message) <= _MESSAGE_LIMIT else error.message[:_MESSAGE_LIMIT] + "..."
        where = "/".join(str(part) for part in error.absolute_path)
        problems.append(Problem(f"{name}#/{where}", f"schema: {message}"))
    problems += _length_problems(name, content)
    if content.get("$schema") != LOCALIZATION_SCHEMA_URL:
        problems.append(Problem(f"{name}#/$schema", f"must be {LOCALIZATION_SCHEMA_URL} (the manifest's version)"))
    for key, value in content.items():
        if key == "$schema" or "." not in key or key.startswith(("name.", "description.")):
            continue
        if not _resolve(manifest, key):
            problems.append(Problem(f"{name}#/{key}", "names nothing in manifest.json"))
        elif key.startswith("bots[") and key.endswith(".title"):
            with speaking(language):
                handled = chat_commands()
            if fold(str(value)) not in handled:
                problems.append(Problem(f"{name}#/{key}", f"the bot does not understand {value!r} in {language.tag}"))
    for path, _ in _strings(manifest):
        if _is_translatable(path):
            key = _key(path)
            if key not in content:
                problems.append(Problem(f"{name}#/{key}", "not translated"))
    return problems


def _length_problems(name: str, content: dict[str, Any]) -> Iterator[Problem]:
    """The schema's `maxLength` beside a `$ref` (names, descriptions), which Draft 4 ignores but Teams enforces."""
    schema = json.loads(LOCALIZATION_SCHEMA_PATH.read_text(encoding="utf-8"))
    for key, rules in schema["properties"].items():
        limit = rules.get("maxLength") if "$ref" in rules else None
        value = content.get(key)
        if isinstance(limit, int) and isinstance(value, str) and len(value) > limit:
            yield Problem(f"{name}#/{key}", f"longer than Teams allows ({len(value)} > {limit} characters)")


def _is_translatable(path: tuple[object, ...]) -> bool:
    """The manifest texts a user reads that we translate: names, descriptions and command titles/descriptions."""
    if path[:1] in (("name",), ("description",)):
        return True
    leaf = path[-1] if path else None
    return leaf in ("title", "description") and path[:1] in (("bots",), ("composeExtensions",))


def _key(path: tuple[object, ...]) -> str:
    """A manifest path as a localization key: ('bots', 0, 'commandLists', 1, ...) -> bots[0].commandLists[1]..."""
    key = ""
    for part in path:
        key += f"[{part}]" if isinstance(part, int) else (f".{part}" if key else str(part))
    return key


def localization_problems(
    manifest: Mapping[str, Any], files: Mapping[str, bytes], catalogs: Catalogs | None = None
) -> list[Problem]:
    """`localizationInfo`: each declared language once, its file at the package root and valid."""
    info = manifest.get("localizationInfo")
    if info is None:
        return []
    if not isinstance(info, dict):
        return []  # the schema reports the shape
    catalogs = catalogs or Catalogs.load()
    problems = []
    default = str(info.get("defaultLanguageTag", "")).lower()
    seen = {default}
    for index, entry in enumerate(_dicts(info.get("additionalLanguages"))):
        at = _at("localizationInfo", "additionalLanguages", index)
        tag, file = str(entry.get("languageTag", "")), str(entry.get("file", ""))
        if tag.lower() in seen:
            problems.append(Problem(at, f"language {tag!r} is declared twice (or is the default language)"))
        seen.add(tag.lower())
        if file not in files:
            problems.append(Problem(at, f"{file!r} is not at the package root"))
            continue
        try:
            content = json.loads(files[file].decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            problems.append(Problem(file, f"not valid UTF-8 JSON ({error})"))
            continue
        problems += localization_file_problems(file, content, manifest, catalogs.language(tag))
    return problems


def manifest_problems(manifest: Any) -> list[Problem]:
    """Schema and cross-checks for a parsed manifest (no files)."""
    if not isinstance(manifest, dict):
        return [Problem("manifest.json", "must be a JSON object")]
    problems = schema_problems(manifest)
    for check in (
        _header_problems,
        _placeholder_problems,
        _bot_problems,
        _action_problems,
        _domain_problems,
        _permission_problems,
    ):
        problems.extend(check(manifest))
    return problems


def icon_problems(role: str, name: str, content: bytes) -> list[Problem]:
    """Size and format for every icon; the outline must be white on transparent, or Teams shows a white square."""
    try:
        image = Image.open(io.BytesIO(content))
        image.load()
    except (UnidentifiedImageError, OSError):
        return [Problem(name, "not a readable image")]
    problems = []
    if image.format != "PNG":
        problems.append(Problem(name, f"must be a PNG, not {image.format}"))
    expected = ICON_SIZES[role]
    if image.size != expected:
        problems.append(
            Problem(name, f"{role} icon must be {expected[0]}x{expected[1]}, not {image.width}x{image.height}")
        )
    if role == "outline":
        problems.extend(_outline_problems(name, image))
    return problems


def _outline_problems(name: str, image: Image.Image) -> list[Problem]:
    if "A" not in image.getbands() and "transparency" not in image.info:
        return [Problem(name, "outline icon must have an alpha channel (white on transparent)")]
    rgba = image.convert("RGBA")
    alpha = rgba.getchannel("A")
    lowest, highest = alpha.getextrema()
    problems = []
    if lowest != 0:
        problems.append(Problem(name, "outline icon must have a transparent background"))
    if highest == 0:
        problems.append(Problem(name, "outline icon is fully transparent"))
    visible = alpha.point(lambda value: 255 if value else 0)
    for band in rgba.getchannel("R"), rgba.getchannel("G"), rgba.getchannel("B"):
        not_white = band.point(lambda value: 255 if value < _WHITE_MIN else 0)
        if ImageChops.multiply(not_white, visible).getbbox() is not None:
            problems.append(Problem(name, "outline icon must be white or transparent only"))
            break
    return problems


def _icon_entries(manifest: Any, files: Mapping[str, bytes]) -> Iterator[Problem]:
    icons = manifest.get("icons") if isinstance(manifest, dict) else None
    if not isinstance(icons, dict):
        return
    for role in ICON_SIZES:
        name = icons.get(role)
        if not isinstance(name, str):
            continue
        if name not in files:
            yield Problem(_at("icons", role), f"{name!r} is not at the package root")
        else:
            yield from icon_problems(role, name, files[name])


def package_problems(files: Mapping[str, bytes], folders: tuple[str, ...] = ()) -> list[Problem]:
    """Everything about a package given as entry name -> bytes (zip entry names, `/`-separated)."""
    problems = [
        Problem(folder, "folders are not allowed: every file must be at the package root") for folder in folders
    ]
    problems += [
        Problem(name, "in a sub-folder: Teams only reads files at the package root") for name in files if "/" in name
    ]
    if "manifest.json" not in files:
        return [*problems, Problem("manifest.json", "missing at the package root")]
    try:
        manifest = json.loads(files["manifest.json"].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        return [*problems, Problem("manifest.json", f"not valid UTF-8 JSON ({error})")]
    problems += manifest_problems(manifest)
    if isinstance(manifest, dict):
        problems += localization_problems(manifest, files)
    problems += _icon_entries(manifest, files)
    return problems


def _read_zip(path: Path) -> tuple[dict[str, bytes], tuple[str, ...]]:
    with zipfile.ZipFile(path) as archive:
        infos = archive.infolist()
        files = {info.filename: archive.read(info) for info in infos if not info.is_dir()}
        folders = tuple(info.filename for info in infos if info.is_dir())
    return files, folders


def _read_folder(path: Path) -> tuple[dict[str, bytes], tuple[str, ...]]:
    files = {
        entry.relative_to(path).as_posix(): entry.read_bytes() for entry in sorted(path.rglob("*")) if entry.is_file()
    }
    return files, ()


def validate_package(path: Path) -> list[Problem]:
    """Validate a package zip or an unpacked package folder; an empty list means Teams should accept it."""
    if path.is_dir():
        files, folders = _read_folder(path)
    elif zipfile.is_zipfile(path):
        files, folders = _read_zip(path)
    elif path.exists():
        return [Problem(str(path), "neither a zip file nor a folder")]
    else:
        return [Problem(str(path), "does not exist")]
    return package_problems(files, folders)
