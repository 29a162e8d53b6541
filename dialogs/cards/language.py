"""The language of the turn: which catalog translates the bot's sentences and which locale formats its dates.

The edge of the bot (the adapter) picks a `Language` from the activity's locale once per turn and runs the turn
inside `speaking(language)`; `strings` and `timefmt` read `current()` when a card or sentence is built, so card
functions stay pure and need no language parameter. A context variable keeps concurrent turns apart: each aiohttp
request runs in its own task, and tasks started inside a turn inherit its language.

Catalogs are gettext `.mo` files compiled by Babel from `locales/<catalog>/LC_MESSAGES/messages.po`
(`python -m dialogs.i18n`); `Catalogs.load()` reads them once at start-up. Outside a turn (unit tests, the samples
command) the language is English (en-US).
"""

from __future__ import annotations

import gettext
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from babel import Locale, UnknownLocaleError

LOCALES_DIR = Path(__file__).resolve().parents[2] / "locales"
DOMAIN = "messages"
SOURCE = "en"  # the language of the msgids in strings.py
SHIPPED: tuple[str, ...] = ("en", "es", "fr", "de", "pt_BR", "ja")
PSEUDO = "qps_ploc"  # Microsoft's pseudo-locale tag (qps-ploc): accented, lengthened English, for testing layouts
FALLBACK_TAG = "en-US"
_MAX_TAG = 35  # longer than any real BCP 47 tag a Teams client sends
_TAG = re.compile(r"[A-Za-z]{2,8}(?:-[A-Za-z0-9]{1,8}){0,6}")
_CACHE_LIMIT = 1024


@dataclass(frozen=True, slots=True, eq=False)
class Language:
    """One user's language: `tag` (BCP 47, also sent to Graph as Accept-Language), the `catalog` that translates,
    and the Babel `locale` that formats dates, times, durations and lists."""

    tag: str
    catalog: str
    locale: Locale
    translations: gettext.NullTranslations

    def gettext(self, message: str) -> str:
        return self.translations.gettext(message)

    def ngettext(self, singular: str, plural: str, count: int) -> str:
        return self.translations.ngettext(singular, plural, count)


@cache
def english() -> Language:
    """The source language with no catalog: what every msgid already says. Built on first use, not at import."""
    return Language(FALLBACK_TAG, SOURCE, Locale.parse("en_US"), gettext.NullTranslations())


_current: ContextVar[Language | None] = ContextVar("language", default=None)


def current() -> Language:
    """The language of the turn being handled (English outside a turn)."""
    return _current.get() or english()


@contextmanager
def speaking(language: Language) -> Iterator[Language]:
    """Run the enclosed code (a turn, a proactive message) in `language`."""
    token = _current.set(language)
    try:
        yield language
    finally:
        _current.reset(token)


def _babel_locale(tag: str) -> Locale | None:
    """The Babel locale of a well-formed tag (es-MX, pt-BR, ja-JP, en_GB), or None when CLDR does not know it."""
    try:
        return Locale.parse(tag.replace("-", "_"))
    except (ValueError, TypeError, UnknownLocaleError):
        pass
    try:
        return Locale.parse(tag.replace("_", "-").split("-")[0])
    except (ValueError, TypeError, UnknownLocaleError):
        return None


def language_name(catalog: str) -> str:
    """A shipped language named in itself ("Español", "日本語"): how a client's language is offered and confirmed."""
    try:
        locale = Locale.parse(catalog)
    except (ValueError, TypeError, UnknownLocaleError):
        return catalog
    name = str(locale.get_display_name(locale) or catalog)
    return name[:1].upper() + name[1:]


def shipped_catalog(value: object) -> str | None:
    """`value` when it names a shipped catalog (from a form or a button's data), else None."""
    return value if isinstance(value, str) and value in SHIPPED else None


def default_client_catalog() -> str:
    """The client's language when none was chosen: the user's own, if shipped (not the pseudo-locale)."""
    return shipped_catalog(current().catalog) or SOURCE


class Catalogs:
    """The compiled catalogs, and the choice of one for a locale: exact (pt_BR), then the language (es for es-MX),
    then another region of the language (pt_BR for pt-PT), then English."""

    def __init__(self, translations: Mapping[str, gettext.NullTranslations]) -> None:
        self._translations = dict(translations)
        self._chosen: dict[str, Language] = {}

    @classmethod
    def load(cls, directory: Path = LOCALES_DIR) -> Catalogs:
        """Read every `<catalog>/LC_MESSAGES/messages.mo` under `directory` (a missing one is simply not offered)."""
        found: dict[str, gettext.NullTranslations] = {}
        for mo in sorted(directory.glob(f"*/LC_MESSAGES/{DOMAIN}.mo")):
            with mo.open("rb") as handle:
                found[mo.parent.parent.name] = gettext.GNUTranslations(handle)
        return cls(found)

    @property
    def names(self) -> frozenset[str]:
        return frozenset(self._translations)

    def language(self, tag: str | None) -> Language:
        """The language for a Teams locale (`activity.locale`); anything unusable gives English (en-US)."""
        key = (tag or "").strip()[: _MAX_TAG + 1]
        chosen = self._chosen.get(key)
        if chosen is None:
            chosen = self._choose(key)
            if len(self._chosen) >= _CACHE_LIMIT:
                self._chosen.clear()  # locales are few in practice; this only bounds a flood of odd ones
            self._chosen[key] = chosen
        return chosen

    def _choose(self, tag: str) -> Language:
        if len(tag) > _MAX_TAG or not _TAG.fullmatch(tag.replace("_", "-")):
            return self._english()
        tag = tag.replace("_", "-")
        if tag.lower().startswith("qps") and PSEUDO in self._translations:
            return Language(tag, PSEUDO, english().locale, self._translations[PSEUDO])
        locale = _babel_locale(tag)
        if locale is None:
            return self._english()
        catalog = self._catalog_for(locale)
        if catalog is None:
            return self._english()
        return Language(str(locale).replace("_", "-"), catalog, locale, self._translations[catalog])

    def _catalog_for(self, locale: Locale) -> str | None:
        exact = f"{locale.language}_{locale.territory}" if locale.territory else None
        if exact in self._translations:
            return exact
        if locale.language in self._translations:
            return str(locale.language)
        regional = sorted(name for name in self._translations if name.startswith(f"{locale.language}_"))
        return regional[0] if regional else None

    def _english(self) -> Language:
        english_catalog = self._translations.get(SOURCE)
        if english_catalog is None:
            return english()
        return Language(FALLBACK_TAG, SOURCE, english().locale, english_catalog)
