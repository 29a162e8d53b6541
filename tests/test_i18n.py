"""Languages (DESIGN.md section 11): catalogs complete and compiled, the per-turn language, commands in every shipped
language and in English, dates and lists in the locale's format, and the pseudo-locale. Unit tests; the e2e tests
are in test_e2e_languages.py."""

from __future__ import annotations

import ast
import re
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from dialogs import i18n
from dialogs.cards import client_form_card, help_card, strings
from dialogs.cards.language import LOCALES_DIR, PSEUDO, SHIPPED, SOURCE, Catalogs, current, english, speaking
from dialogs.cards.timefmt import format_when
from dialogs.commands import CANCEL, GET_LINK, HELP, SIGN_OUT, is_word, parse_command
from dialogs.lookup import is_this_meeting, parse_reference
from graph.references import ReferenceKind

CATALOGS = Catalogs.load()
TAGS = {"es": "es-ES", "fr": "fr-FR", "de": "de-DE", "pt_BR": "pt-BR", "ja": "ja-JP"}
TRANSLATED = list(TAGS)
NOW = datetime(2025, 1, 13, 9, 0, tzinfo=UTC)  # Monday
# Words that are the same in English and the language, correctly (loanwords and cognates).
BRANDS = {"Bookings"}
SAME_AS_ENGLISH = {
    "fr": {"Client", "Date", "Commandes", "Email", *BRANDS},
    "de": {"Client", *BRANDS},
    "pt_BR": {"Email", *BRANDS},
    "es": {*BRANDS},
    "ja": {*BRANDS},
}
PLACEHOLDER = re.compile(r"\{[a-z_]+\}")


def messages() -> dict[str, str]:
    """Every single message in strings: name (with an index for the tuples) -> msgid."""
    found: dict[str, str] = {}
    for name, message in strings.msgids().items():
        if isinstance(message, str):
            found[name] = message
        else:
            found.update({f"{name}[{index}]": item for index, item in enumerate(message)})
    return found


# --- catalogs ---------------------------------------------------------------------------------------------------


def test_the_shipped_catalogs_are_complete_and_compiled() -> None:
    """What CI checks (`python -m dialogs.i18n check`): nothing missing, fuzzy or stale in any shipped language."""
    assert i18n.check() == []


@pytest.fixture
def locales(tmp_path: Path) -> Iterator[Path]:
    copy = tmp_path / "locales"
    shutil.copytree(LOCALES_DIR, copy)
    yield copy


def _edit_po(locales: Path, name: str, old: str, new: str) -> None:
    path = i18n.po_path(name, locales)
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_check_reports_an_untranslated_message(locales: Path) -> None:
    _edit_po(locales, "es", 'msgstr "Cómo usarme"', 'msgstr ""')
    i18n.compile_all(locales)
    assert [str(p) for p in i18n.check(locales)] == ["es: 'How to use me': not translated"]


def test_check_reports_a_sentence_left_in_english(locales: Path) -> None:
    _edit_po(locales, "pt_BR", 'msgstr "Como me usar"', 'msgstr "How to use me"')
    i18n.compile_all(locales)
    problems = [str(p) for p in i18n.check(locales)]
    assert problems == ["pt_BR: 'How to use me': still English (the translation is the original)"]


def test_check_reports_a_fuzzy_translation(locales: Path) -> None:
    _edit_po(locales, "de", 'msgid "How to use me"', '#, fuzzy\nmsgid "How to use me"')
    i18n.compile_all(locales)
    assert any("fuzzy" in str(p) and p.where.startswith("de:") for p in i18n.check(locales))


def test_check_reports_a_broken_placeholder(locales: Path) -> None:
    _edit_po(locales, "fr", "{limit} caractères", "{limite} caractères")
    i18n.compile_all(locales)
    assert any("placeholders" in str(p) and p.where.startswith("fr:") for p in i18n.check(locales))


def test_check_reports_a_stale_compiled_catalog(locales: Path) -> None:
    _edit_po(locales, "ja", 'msgstr "使い方"', 'msgstr "使いかた"')
    problems = [str(p) for p in i18n.check(locales)]
    assert problems == [f"{i18n.po_path('ja', locales).with_suffix('.mo')}: not what the .po compiles to: run "
                        "python -m dialogs.i18n compile"]


def test_check_reports_a_missing_catalog_and_a_message_the_catalog_lacks(locales: Path) -> None:
    shutil.rmtree(locales / "pt_BR")
    path = i18n.po_path("es", locales)
    text = path.read_text(encoding="utf-8")
    start = text.index('msgid "How to use me"')
    path.write_text(text[:start] + text[text.index("\n\n", start) + 2 :], encoding="utf-8")
    i18n.compile_all(locales)
    problems = [str(p) for p in i18n.check(locales)]
    assert any("pt_BR" in p and "missing" in p for p in problems)
    assert any(p.startswith("es: 'How to use me'") and "missing" in p for p in problems)


def test_check_reports_a_template_behind_the_code(locales: Path) -> None:
    path = locales / "messages.pot"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace('msgid "How to use me"', 'msgid "How to use this bot"'), encoding="utf-8")
    assert any("out of date with the code" in str(p) for p in i18n.check(locales))


def test_no_english_left_in_a_shipped_language() -> None:
    for name in TRANSLATED:
        catalog = read_po(i18n.po_path(name).open("rb"), locale=name)
        same = {
            message.id
            for message in catalog
            if message.id and message.string == message.id and message.id not in SAME_AS_ENGLISH[name]
        }
        assert same == set(), f"{name}: untranslated {sorted(same)[:5]}"


def test_every_sentence_is_read_in_the_current_language() -> None:
    """Every message of strings (errors included) reads differently in each translated language, through the same
    `strings.NAME` the code uses."""
    for name in TRANSLATED:
        with speaking(CATALOGS.language(TAGS[name])):
            for key, msgid in messages().items():
                attribute, _, index = key.partition("[")
                value = getattr(strings, attribute)
                shown = value[int(index[:-1])] if index else value
                assert isinstance(shown, str) and shown
                if msgid not in SAME_AS_ENGLISH[name]:
                    assert shown != msgid, f"{name}: {key} is English"
                assert set(PLACEHOLDER.findall(shown)) <= {"{limit}", "{subject}", "{phone}", "{count}", "{names}"}


def _frozen_reads(tree: ast.AST) -> list[int]:
    """Lines where `strings.NAME` is read once, at import: module or class level, or as a default argument."""

    def reads(node: ast.AST | None) -> list[int]:
        if node is None:
            return []
        return [
            n.lineno
            for n in ast.walk(node)
            if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id == "strings"
        ]

    found: list[int] = []
    bodies = [tree.body] if isinstance(tree, ast.Module) else []
    while bodies:
        for statement in bodies.pop():
            if isinstance(statement, ast.ClassDef):
                bodies.append(statement.body)
            elif isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef):
                for default in [*statement.args.defaults, *statement.args.kw_defaults]:
                    found += reads(default)
            elif isinstance(statement, ast.Assign | ast.AnnAssign | ast.Expr):
                found += reads(statement.value)
    return found


def test_no_sentence_is_read_at_import_time() -> None:
    """`strings.NAME` is translated when read, so a copy made at import (a module-level table, a default argument)
    would stay in English whatever the user's language."""
    with speaking(CATALOGS.language("es")):
        assert strings.ERR_GENERIC == "Lo sentimos, algo ha fallado por nuestra parte. Inténtalo de nuevo."
    assert strings.ERR_GENERIC == "Sorry, something went wrong on our side. Please try again."
    root = Path(__file__).resolve().parent.parent
    for path in [*root.glob("bot/*.py"), *root.glob("dialogs/**/*.py"), root / "app.py"]:
        lines = _frozen_reads(ast.parse(path.read_text(encoding="utf-8")))
        assert lines == [], f"{path} reads strings at import time on lines {lines}"
    seeded = "TABLE = {\n    1: strings.REF_EMPTY,\n}\n\ndef f(message: str = strings.ERR_GENERIC) -> None: ...\n"
    assert _frozen_reads(ast.parse(seeded)) == [2, 5]


def test_every_constant_of_strings_is_translated_when_read() -> None:
    """A constant left in the module's namespace (say, one added below the table) would be read untranslated."""
    left = [n for n, v in vars(strings).items() if n.isupper() and not n.startswith("_") and isinstance(v, str | tuple)]
    assert left == []
    assert "ERR_GENERIC" in strings.msgids() and len(strings.msgids()) > 100


def test_unknown_names_are_attribute_errors() -> None:
    with pytest.raises(AttributeError):
        _ = strings.NO_SUCH_SENTENCE


# --- choosing the language --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tag", "catalog", "locale", "accept_language"),
    [
        ("es-MX", "es", "es_MX", "es-MX"),
        ("es", "es", "es", "es"),
        ("fr-CA", "fr", "fr_CA", "fr-CA"),
        ("de-AT", "de", "de_AT", "de-AT"),
        ("pt-BR", "pt_BR", "pt_BR", "pt-BR"),
        ("pt-PT", "pt_BR", "pt_PT", "pt-PT"),  # the Portuguese catalog, Portugal's date formats
        ("ja-JP", "ja", "ja_JP", "ja-JP"),
        ("en-GB", "en", "en_GB", "en-GB"),
        ("en_GB", "en", "en_GB", "en-GB"),
        ("EN-us", "en", "en_US", "en-US"),
        ("zh-CN", "en", "en_US", "en-US"),  # not shipped: English throughout, dates included
        ("", "en", "en_US", "en-US"),
        (None, "en", "en_US", "en-US"),
        ("xx", "en", "en_US", "en-US"),
        ("zz-ZZ-ZZ", "en", "en_US", "en-US"),
        ("\u202e", "en", "en_US", "en-US"),
        ("en-US" + "-x" * 40, "en", "en_US", "en-US"),
        ("qps-ploc", PSEUDO, "en_US", "qps-ploc"),
    ],
)
def test_the_language_of_a_locale(tag: str | None, catalog: str, locale: str, accept_language: str) -> None:
    language = CATALOGS.language(tag)
    assert (language.catalog, str(language.locale), language.tag) == (catalog, locale, accept_language)


def test_outside_a_turn_the_language_is_english_and_a_turn_restores_it() -> None:
    assert current() is english()
    with speaking(CATALOGS.language("de-DE")) as german:
        assert current() is german
        with speaking(CATALOGS.language("ja")):
            assert current().catalog == "ja"
        assert current() is german
    assert current() is english()


def test_no_catalogs_means_english() -> None:
    assert Catalogs({}).language("es-ES").catalog == SOURCE
    assert Catalogs.load(Path("/nonexistent")).names == frozenset()


def test_every_shipped_catalog_is_loaded() -> None:
    assert CATALOGS.names == {*SHIPPED, PSEUDO}


# --- commands -----------------------------------------------------------------------------------------------------

COMMANDS = {
    "es": {"obtener enlace": GET_LINK, "Ayuda": HELP, "cerrar sesion": SIGN_OUT, "CANCELAR": CANCEL},
    "fr": {"Obtenir le lien": GET_LINK, "aide": HELP, "se déconnecter": SIGN_OUT, "annuler": CANCEL},
    "de": {"Link abrufen": GET_LINK, "hilfe": HELP, "Abmelden": SIGN_OUT, "abbrechen": CANCEL},
    "pt_BR": {"obter link": GET_LINK, "AJUDA": HELP, "sair": SIGN_OUT, "cancelar": CANCEL},
    "ja": {"リンクを取得": GET_LINK, "ヘルプ": HELP, "サインアウト": SIGN_OUT, "キャンセル": CANCEL},
}
SKIP = {"es": "Omitir", "fr": "passer", "de": "Überspringen", "pt_BR": "pular", "ja": "スキップ"}
NEW = {"es": "nueva", "fr": "nouvelle", "de": "neu", "pt_BR": "nova", "ja": "新規"}
THIS = {
    "es": "esta reunión",
    "fr": "cette réunion",
    "de": "diese Besprechung",
    "pt_BR": "esta reunião",
    "ja": "この会議",
}


@pytest.mark.parametrize("name", TRANSLATED)
def test_commands_in_the_language_and_in_english(name: str) -> None:
    with speaking(CATALOGS.language(TAGS[name])):
        for typed, command in COMMANDS[name].items():
            assert parse_command(typed) == (command, ""), typed
            assert parse_command(f"{typed}.") == (command, ""), typed
        for typed, command in {"get link": GET_LINK, "HELP": HELP, "logout": SIGN_OUT, "cancel": CANCEL}.items():
            assert parse_command(typed) == (command, ""), typed
        get_link = next(t for t, c in COMMANDS[name].items() if c == GET_LINK)
        assert parse_command(f"{get_link.upper()}  https://teams.microsoft.com/meet/123?p=Ab") == (
            GET_LINK,
            "https://teams.microsoft.com/meet/123?p=Ab",
        )
        assert is_word(SKIP[name], "CMD_SKIP") and is_word("skip", "CMD_SKIP")
        assert parse_reference(NEW[name]).kind is ReferenceKind.NEW  # type: ignore[union-attr]
        assert is_this_meeting(THIS[name]) and is_this_meeting(strings.THIS_MEETING) and is_this_meeting("here")
        # Another language's words are not this language's commands.
        others = [t for other, table in COMMANDS.items() if other != name for t in table if t.casefold() != "hilfe"]
        assert parse_command(others[0])[0] is None


def test_a_command_needs_the_whole_word() -> None:
    with speaking(CATALOGS.language("es")):
        assert parse_command("obtener enlaces") == (None, "obtener enlaces")
        assert parse_command("ayudame") == (None, "ayudame")
    with speaking(CATALOGS.language("ja")):
        assert parse_command("リンクを取得する")[0] is None


def test_full_width_and_accents_are_forgiven() -> None:
    assert parse_command("ｈｅｌｐ") == (HELP, "")
    with speaking(CATALOGS.language("fr")):
        assert parse_command("Se deconnecter") == (SIGN_OUT, "")
        assert parse_command("OBTENIR LE LIEN: 123 456 789 012") == (GET_LINK, "123 456 789 012")


@pytest.mark.parametrize("name", TRANSLATED)
def test_the_help_card_lists_the_words_the_parser_understands(name: str) -> None:
    with speaking(CATALOGS.language(TAGS[name])):
        card = help_card()
        facts = [f["title"] for e in card["body"] if e["type"] == "FactSet" for f in e["facts"]]
        understood = [parse_command(title.split(" [")[0].split(" ［")[0])[0] for title in facts]
        assert understood[:5] == [GET_LINK, GET_LINK, HELP, SIGN_OUT, CANCEL]
        assert is_word(facts[5], "CMD_SKIP")
        assert strings.HELP_ENGLISH_TOO in str(card)
        # Sentences name commands with the words the parser understands.
        assert strings.command("CMD_GET_LINK") in strings.CANCELLED
        assert parse_command(strings.command("CMD_GET_LINK"))[0] == GET_LINK


def test_command_parsing_is_linear() -> None:
    with speaking(CATALOGS.language("de")):
        for size in (10_000, 100_000):
            text = "Link " + " " * size + "x"
            assert parse_command(text)[0] is None


# --- dates, times, lists ------------------------------------------------------------------------------------------

WHEN = {
    "en-US": ("Today, 3:00 PM – 3:30 PM", "Mon, Mar 3, 2025, 3:00 PM"),
    "en-GB": ("Today, 15:00 – 15:30", "Mon, 3 Mar 2025, 15:00"),
    "es-ES": ("Hoy 15:00–15:30", "lun., 3 mar. 2025 15:00"),
    "fr-FR": ("Aujourd’hui 15:00 – 15:30", "lun. 3 mars 2025 15:00"),
    "de-DE": ("Heute, 15:00 – 15:30", "Mo., 3. März 2025, 15:00"),
    "pt-BR": ("Hoje 15:00 - 15:30", "seg., 3 de mar. de 2025 15:00"),
    "ja-JP": ("今日 15:00～15:30", "2025年3月3日(月) 15:00"),
}


@pytest.mark.parametrize("tag", list(WHEN))
def test_dates_and_times_in_the_locale_format(tag: str) -> None:
    start = datetime(2025, 1, 13, 14, 0, tzinfo=UTC)
    later = datetime(2025, 3, 3, 14, 0, tzinfo=UTC)
    with speaking(CATALOGS.language(tag)):
        assert format_when(start, start + timedelta(minutes=30), tz_name="Europe/Paris", now=NOW) == WHEN[tag][0]
        assert format_when(later, None, tz_name="Europe/Paris") == WHEN[tag][1]


def test_attendees_and_lengths_in_the_locale() -> None:
    names = ["Ana", "Ben", "Cy", "Dee", "Eve"]
    expected = {
        "en-US": ("With Ana, Ben, Cy, and 2 more", "With Ana and Ben", "90 minutes", "1 hour"),
        "es": ("Con Ana, Ben, Cy y 2 más", "Con Ana y Ben", "90 minutos", "1 hora"),
        "fr": ("Avec Ana, Ben, Cy et 2 autres", "Avec Ana et Ben", "90 minutes", "1\xa0heure"),
        "de": ("Mit Ana, Ben, Cy und 2 weiteren", "Mit Ana und Ben", "90 Minuten", "1 Stunde"),
        "pt-BR": ("Com Ana, Ben, Cy e mais 2", "Com Ana e Ben", "90 minutos", "1 hora"),
        "ja": ("参加者: Ana、Ben、Cy、他 2 名", "参加者: Ana、Ben", "90 分", "1 時間"),
    }
    for tag, (many, two, ninety, sixty) in expected.items():
        with speaking(CATALOGS.language(tag)):
            assert strings.attendee_line(names) == many
            assert strings.attendee_line(names[:2]) == two
            assert (strings.duration(90), strings.duration(60)) == (ninety, sixty)
    with speaking(CATALOGS.language("fr")):
        assert strings.attendee_line(names[:4]) == "Avec Ana, Ben, Cy et 1 autre"


# --- the pseudo-locale ----------------------------------------------------------------------------------------------


def test_pseudo_text_is_accented_longer_and_keeps_placeholders_links_and_markup() -> None:
    text = "Type **{get_link}** at https://teams.microsoft.com/x, or help|?"
    shown = i18n.pseudo(text)
    assert "{get_link}" in shown and "https://teams.microsoft.com/x," in shown and "**" in shown and "|" in shown
    assert not re.search(r"[A-Za-z]", shown.replace("{get_link}", "").replace("https://teams.microsoft.com/x,", ""))
    assert len(shown) >= round(len(text) * 1.4)


def test_pseudo_cards_are_accented_and_still_well_formed() -> None:
    with speaking(CATALOGS.language("qps-ploc")):
        card = client_form_card(errors={"email": strings.INVALID_EMAIL})
    shown = str(card)
    assert "Çļîîééñţ" in shown and "Client" not in shown


def test_the_locale_falls_back_to_the_client_info_entity() -> None:
    from botbuilder.schema import Activity, Entity

    from dialogs.turn import activity_locale

    client_info = Entity.deserialize({"type": "clientInfo", "locale": "de-DE", "timezone": "Europe/Berlin"})
    assert activity_locale(Activity(type="message", locale="es-MX", entities=[client_info])) == "es-MX"
    assert activity_locale(Activity(type="message", entities=[client_info])) == "de-DE"
    assert activity_locale(Activity(type="message")) is None


def test_update_twice_in_a_row_keeps_the_catalogs(locales: Path) -> None:
    """`make translations` after `update` (or with no message changed) reuses the template it finds on disk; that
    second update must work and leave every catalog as the first one wrote it."""
    i18n.update(locales)
    first = {path: path.read_bytes() for path in locales.rglob("*.po")}
    i18n.update(locales)
    assert {path: path.read_bytes() for path in locales.rglob("*.po")} == first


def test_the_readme_command_table_is_what_the_parser_understands() -> None:
    """Every word in README's table of commands per language is that command, in that language."""
    readme = (LOCALES_DIR.parent / "README.md").read_text(encoding="utf-8")
    header = "| | es | fr | de | pt-BR | ja |"
    rows = readme[readme.index(header):].split("\n\n")[0].splitlines()[2:]
    tags = ["es-ES", "fr-FR", "de-DE", "pt-BR", "ja-JP"]
    form_words = {"skip"}  # typed inside the client form: a word, not a chat command
    seen = set()
    for row in rows:
        command, *cells = [cell.strip() for cell in row.strip("|").split("|")]
        seen.add(command)
        for tag, cell in zip(tags, cells, strict=True):
            with speaking(CATALOGS.language(tag)):
                if command in form_words:
                    assert is_word(cell, "CMD_SKIP"), (tag, cell)
                else:
                    assert parse_command(cell) == (command, ""), (tag, cell)
    assert {"get link", "help", "sign out", "cancel", "skip", "remind me", "stop reminders"} <= seen
