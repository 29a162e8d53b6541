"""`python -m dialogs.i18n extract | update | compile | check | init LANG`: the message catalogs, kept with Babel.

- extract: scan the code for marked messages (`N_`, `_`, `ngettext`) into `locales/messages.pot`.
- update:  extract, then merge the template into every catalog (new messages arrive untranslated, changed ones
           fuzzy); the English catalog copies its msgids and the pseudo-locale is regenerated.
- compile: write each catalog's `messages.mo` next to its `.po` (the bot reads only the `.mo` files, which are
           committed so a fresh clone runs without this step).
- check:   what CI runs: the template matches the code, every shipped catalog translates every message (nothing
           missing, nothing fuzzy, the same `{placeholders}`), and each `.mo` is exactly what its `.po` compiles to.
- init:    start a catalog for a new language (then translate it and add it to `language.SHIPPED`).
"""

from __future__ import annotations

import argparse
import copy
import io
import re
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path
from typing import Any

from babel import Locale
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

from dialogs.cards import strings
from dialogs.cards.language import DOMAIN, LOCALES_DIR, PSEUDO, SHIPPED, SOURCE

ROOT = LOCALES_DIR.parent
SCANNED = ("dialogs", "bot")  # where marked messages may be
TEMPLATE = LOCALES_DIR / f"{DOMAIN}.pot"
KEYWORDS: dict[str, Any] = {"N_": None, "_": None, "ngettext": (1, 2)}
COMMENT_TAGS = ("Translators:",)
PROJECT = "va-link-bot"
HEADER = """\
# Messages of the Virtual Appointment link bot (the msgids are in dialogs/cards/strings.py).
# Kept with: python -m dialogs.i18n update, then compile; CI runs python -m dialogs.i18n check.
#"""
CATALOG_HEADERS: dict[str, Any] = {
    "project": PROJECT,
    "version": "1.0",
    "charset": "utf-8",
    "fuzzy": False,
    "msgid_bugs_address": "",
    "last_translator": "va-link-bot developers",
    "language_team": "va-link-bot developers",
}
_PLACEHOLDER = re.compile(r"\{[A-Za-z_][A-Za-z0-9_]*\}")


# --- the template -------------------------------------------------------------------------------------------------


def extract() -> Catalog:
    """Every marked message in the code, each with the names it has in `strings` as a note for translators."""
    template = Catalog(header_comment=HEADER, **CATALOG_HEADERS)
    names = _names_by_msgid()
    for folder in SCANNED:
        extracted = extract_from_dir(
            ROOT / folder,
            method_map=[("**.py", "python")],
            keywords=KEYWORDS,
            comment_tags=COMMENT_TAGS,
            strip_comment_tags=True,
        )
        for filename, lineno, message, comments, context in extracted:
            location = (f"{folder}/{filename}", lineno)
            notes = [*comments, *names.get(message if isinstance(message, str) else message[0], [])]
            template.add(message, None, [location], auto_comments=notes, context=context)
    return template


def _names_by_msgid() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for name, message in strings.msgids().items():
        for msgid in _flatten(message):
            found.setdefault(msgid, []).append(name)
    return found


def _flatten(message: Any) -> Iterator[str]:
    if isinstance(message, str):
        yield message
    else:
        for item in message:
            yield from _flatten(item)


def _key(message: Message) -> tuple[str, str | None]:
    msgid = message.id if isinstance(message.id, str) else message.id[0]
    return msgid, message.context


def keys(catalog: Catalog) -> set[tuple[str, str | None]]:
    """The (msgid, context) of every live message."""
    return {_key(message) for message in catalog if message.id}


# --- files ------------------------------------------------------------------------------------------------------


def po_path(name: str, directory: Path = LOCALES_DIR) -> Path:
    return directory / name / "LC_MESSAGES" / f"{DOMAIN}.po"


def read_catalog(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle, locale=locale)


def po_bytes(catalog: Catalog) -> bytes:
    out = io.BytesIO()
    write_po(out, catalog, width=116, include_lineno=False)
    return out.getvalue()


def mo_bytes(catalog: Catalog) -> bytes:
    out = io.BytesIO()
    write_mo(out, catalog, use_fuzzy=False)
    return out.getvalue()


def _write(path: Path, content: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_bytes() != content:
        path.write_bytes(content)


def write_template(directory: Path = LOCALES_DIR) -> Catalog:
    """Extract and write the template, unless only its date would change."""
    template = extract()
    path = directory / f"{DOMAIN}.pot"
    if path.exists() and keys(read_catalog(path)) == keys(template) and _comments(read_catalog(path)) == _comments(
        template
    ):
        kept = read_catalog(path)
        # The date read back carries Babel's FixedOffsetTimezone, which `update` cannot deep-copy: the same instant
        # in UTC, so updating twice in a row (or with nothing new) works.
        kept.creation_date = kept.creation_date.astimezone(UTC)
        return kept
    _write(path, po_bytes(template))
    return template


def _comments(catalog: Catalog) -> dict[tuple[str, str | None], list[str]]:
    return {_key(m): list(m.auto_comments) for m in catalog if m.id}


# --- pseudo-locale ------------------------------------------------------------------------------------------------

_ACCENTED = str.maketrans(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
    "àƀçðéƒĝĥîĵķļɱñöþǫŕšţûṽŵẋýžÀƁÇÐÉƑĜĤÎĴĶĻṀÑÖÞǪŔŠŢÛṼŴẊÝŽ",
)
_VOWELS = frozenset("aeiouAEIOU")
_PROTECTED = re.compile(r"\{[A-Za-z_][A-Za-z0-9_]*\}|https?://\S+|\*\*|\|")


PSEUDO_GROWTH = 1.4  # German and French sentences run up to 40% longer than English ones


def pseudo(text: str) -> str:
    """Accented and 40% longer: every letter swapped for an accented one (so bare English shows), every vowel
    doubled and the rest padded with "·" (so layouts meet longer languages). `{placeholders}`, links, markup and
    the "|" between command words are kept as they are."""
    out: list[str] = []
    position = 0
    for match in _PROTECTED.finditer(text):
        out.append(_pseudo_run(text[position : match.start()]))
        out.append(match.group(0))
        position = match.end()
    out.append(_pseudo_run(text[position:]))
    grown = "".join(out)
    return grown + "·" * max(0, round(len(text) * PSEUDO_GROWTH) - len(grown))


def _pseudo_run(run: str) -> str:
    return "".join((char + char if char in _VOWELS else char).translate(_ACCENTED) for char in run)


def pseudo_catalog(template: Catalog) -> Catalog:
    catalog = Catalog(locale="en", header_comment=HEADER, **CATALOG_HEADERS)
    catalog.creation_date = template.creation_date
    catalog.revision_date = template.creation_date
    for message in template:
        if not message.id:
            continue
        if isinstance(message.id, str):
            translated: str | tuple[str, ...] = pseudo(message.id)
        else:
            translated = tuple(pseudo(form) for form in message.id)
        catalog.add(message.id, translated, list(message.locations), auto_comments=message.auto_comments,
                    context=message.context)
    return catalog


# --- update, init, compile ------------------------------------------------------------------------------------------


def _fill_source(catalog: Catalog) -> None:
    """English is the msgids' own language: its translations are the msgids."""
    for message in catalog:
        if message.id:
            message.string = message.id if isinstance(message.id, str) else tuple(message.id)
            message.flags.discard("fuzzy")


def update(directory: Path = LOCALES_DIR) -> list[Path]:
    template = write_template(directory)
    written = []
    for name in SHIPPED:
        path = po_path(name, directory)
        catalog = read_catalog(path, locale=name) if path.exists() else _new_catalog(name, template)
        # Each catalog gets its own copy: `update` adopts the template's message objects for new messages.
        catalog.update(copy.deepcopy(template), no_fuzzy_matching=False)
        if name == SOURCE:
            _fill_source(catalog)
        _write(path, po_bytes(catalog))
        written.append(path)
    pseudo_path = po_path(PSEUDO, directory)
    _write(pseudo_path, po_bytes(pseudo_catalog(template)))
    written.append(pseudo_path)
    return written


def _new_catalog(name: str, template: Catalog) -> Catalog:
    catalog = Catalog(locale=Locale.parse(name), header_comment=HEADER, **CATALOG_HEADERS)
    catalog.update(template)
    return catalog


def init(name: str, directory: Path = LOCALES_DIR) -> Path:
    path = po_path(name, directory)
    if path.exists():
        raise SystemExit(f"{path} exists already; use update")
    _write(path, po_bytes(_new_catalog(name, read_catalog(directory / f"{DOMAIN}.pot"))))
    return path


def catalog_names(directory: Path = LOCALES_DIR) -> list[str]:
    return sorted(path.parent.parent.name for path in directory.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))


def compile_all(directory: Path = LOCALES_DIR) -> list[Path]:
    written = []
    for name in catalog_names(directory):
        catalog = read_catalog(po_path(name, directory), locale=None if name == PSEUDO else name)
        path = po_path(name, directory).with_suffix(".mo")
        _write(path, mo_bytes(catalog))
        written.append(path)
    return written


# --- check ----------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class Problem:
    where: str
    what: str

    def __str__(self) -> str:
        return f"{self.where}: {self.what}"


def _translated(message: Message) -> bool:
    forms = [message.string] if isinstance(message.string, str) else list(message.string or ())
    return bool(forms) and all(form.strip() for form in forms)


def _forms(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value or ())


def message_problems(name: str, message: Message) -> Iterator[Problem]:
    """A shipped catalog's message: translated, not fuzzy, same placeholders, commands well formed."""
    msgid = _key(message)[0]
    where = f"{name}: {msgid[:60]!r}"
    if "fuzzy" in message.flags:
        yield Problem(where, "fuzzy (check the translation, then remove the fuzzy flag)")
    if not _translated(message):
        yield Problem(where, "not translated")
        return
    if name != SOURCE and " " in msgid and _forms(message.string) == _forms(message.id)[:1] * len(
        _forms(message.string)
    ):
        # One word may rightly stay the same (a brand, "Date" in French); a sentence may not.
        yield Problem(where, "still English (the translation is the original)")
    wanted = set(_PLACEHOLDER.findall(" ".join(_forms(message.id))))
    for form in _forms(message.string):
        got = set(_PLACEHOLDER.findall(form))
        if got != wanted:
            yield Problem(where, f"placeholders {sorted(got)} differ from the original's {sorted(wanted)}")
        if "|" in msgid and any(not word.strip() for word in form.split("|")):
            yield Problem(where, "an empty alternative between '|'")


def check(directory: Path = LOCALES_DIR, shipped: Sequence[str] = SHIPPED) -> list[Problem]:
    """Everything CI requires of the catalogs; an empty list means they are complete and compiled."""
    problems: list[Problem] = []
    template_path = directory / f"{DOMAIN}.pot"
    code = extract()
    if not template_path.exists():
        return [Problem(str(template_path), "missing: run python -m dialogs.i18n update")]
    template = read_catalog(template_path)
    wanted = keys(template)
    if wanted != keys(code):
        changed = sorted(m for m, _ in wanted ^ keys(code))[:5]
        problems.append(Problem(str(template_path), f"out of date with the code ({changed}): run update"))
    marked = {msgid for msgid, _ in keys(code)}
    for name, message in strings.msgids().items():
        for msgid in _flatten(message):
            if msgid not in marked:
                problems.append(Problem(f"strings.{name}", "not marked for translation: wrap its text in N_()"))
    for name in shipped:
        problems += _catalog_problems(name, directory, wanted, shipped_language=True)
    if po_path(PSEUDO, directory).exists():
        problems += _catalog_problems(PSEUDO, directory, wanted, shipped_language=False)
        shipped_pseudo = {_key(m): m.string for m in read_catalog(po_path(PSEUDO, directory)) if m.id}
        if shipped_pseudo != {_key(m): m.string for m in pseudo_catalog(template) if m.id}:
            problems.append(Problem(PSEUDO, "out of date with the template: run update"))
    return sorted(problems)


def _catalog_problems(
    name: str, directory: Path, wanted: set[tuple[str, str | None]], *, shipped_language: bool
) -> list[Problem]:
    path = po_path(name, directory)
    if not path.exists():
        return [Problem(str(path), "missing: run python -m dialogs.i18n init " + name)]
    catalog = read_catalog(path, locale=None if name == PSEUDO else name)
    problems: list[Problem] = []
    have = keys(catalog)
    for msgid, _ in sorted(wanted - have, key=str)[:10]:
        problems.append(Problem(f"{name}: {msgid[:60]!r}", "missing: run update, then translate it"))
    if shipped_language:
        for message in catalog:
            if message.id and _key(message) in wanted:
                problems += message_problems(name, message)
    mo = path.with_suffix(".mo")
    if not mo.exists() or mo.read_bytes() != mo_bytes(catalog):
        problems.append(Problem(str(mo), "not what the .po compiles to: run python -m dialogs.i18n compile"))
    return problems


# --- the command line -----------------------------------------------------------------------------------------------


def _print(paths: Iterable[Path]) -> None:
    for path in paths:
        print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dialogs.i18n", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("extract", help="write locales/messages.pot from the code")
    commands.add_parser("update", help="extract and merge into every catalog")
    commands.add_parser("compile", help="compile every catalog to .mo")
    commands.add_parser("check", help="fail unless every shipped catalog is complete and compiled")
    start = commands.add_parser("init", help="start the catalog of a new language")
    start.add_argument("language", help="a catalog name such as it or zh_Hans")
    args = parser.parse_args(argv)
    if args.command == "extract":
        write_template()
        _print([TEMPLATE])
    elif args.command == "update":
        _print(update())
    elif args.command == "compile":
        _print(compile_all())
    elif args.command == "init":
        _print([init(args.language)])
    else:
        problems = check()
        for problem in problems:
            print(problem, file=sys.stderr)
        if problems:
            return 1
        print(f"catalogs complete: {', '.join(SHIPPED)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
