"""The adapter's input clean-up: lone UTF-16 surrogates from JSON escapes never reach state or logs."""

from __future__ import annotations

import json

from bot.adapter import without_lone_surrogates


def test_lone_surrogates_become_replacement_characters_at_any_depth() -> None:
    body = json.loads('{"text": "a\\ud800b", "value": {"k\\udfff": ["\\ud83d\\ude00", {"deep": "\\udc00"}]}}')
    cleaned = without_lone_surrogates(body)
    encoded = json.dumps(cleaned, ensure_ascii=False).encode("utf-8")  # would raise on a surrogate
    assert b"\xf0\x9f\x98\x80" in encoded  # a valid pair (an emoji) is kept
    assert cleaned["text"].startswith("a") and cleaned["text"].endswith("b") and "\ufffd" in cleaned["text"]
    (key,) = cleaned["value"]
    assert key.startswith("k\ufffd") and key.strip("k\ufffd") == ""


def test_deep_nesting_costs_no_recursion() -> None:
    body: object = "\ud800"
    for _ in range(50_000):
        body = [body]
    cleaned = without_lone_surrogates(body)
    for _ in range(50_000):
        assert isinstance(cleaned, list)
        cleaned = cleaned[0]
    assert isinstance(cleaned, str) and "\ud800" not in cleaned
