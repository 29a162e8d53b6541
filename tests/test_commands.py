"""Command parsing (dialogs/commands.py): mentions, aliases, the text cap, and linear time on hostile shapes."""

from __future__ import annotations

import pytest

from dialogs.commands import GET_LINK, TEXT_MAX_CHARS, cap_text, clean_text, parse_command
from tests.linear import assert_growth_is_linear


def test_mentions_are_removed_each_to_its_first_closing_tag():
    assert clean_text("<at>Link Bot</at> get   link") == "get link"
    assert clean_text("<AT>a</At> x <at>b</at>y") == "x y"
    assert clean_text("<at>a <at>b</at> c</at>") == "c</at>"  # as the lazy regex did: the first closing tag ends it
    assert clean_text("<at>unclosed get link") == "<at>unclosed get link"
    assert parse_command("<at>Bot</at> Get Link: https://x") == (GET_LINK, "https://x")


def test_the_cap_keeps_a_prefix_of_teams_size():
    assert cap_text("a" * (TEXT_MAX_CHARS + 10)) == "a" * TEXT_MAX_CHARS
    assert cap_text("short") == "short"


HOSTILE = {
    "unclosed mentions": lambda n: "<at>" * (n // 4),
    "closing tags": lambda n: "</at>" * (n // 5),
    "spaces": lambda n: "get" + " " * n + "x",
    "one word": lambda n: "a" * n,
    "punctuation": lambda n: "help" + "?!." * (n // 3) + "x",
    "zero-width and rtl": lambda n: "\u200b\u202e" * (n // 2),
}


@pytest.mark.parametrize("shape", HOSTILE)
def test_command_parsing_is_linear(shape: str) -> None:
    assert_growth_is_linear(parse_command, HOSTILE[shape], n=4_000)
