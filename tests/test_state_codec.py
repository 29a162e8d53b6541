"""The state codec (bot/storage/codec.py): stored state is plain, versioned JSON; nothing in it is ever imported or
called; anything the codec cannot write is refused at write time, and anything it did not write is refused at read
time with `UnreadableStateError` and nothing else."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from botbuilder.core import StoreItem
from botbuilder.dialogs import DialogInstance, DialogState
from botbuilder.dialogs.choices import Choice, ListStyle
from botbuilder.dialogs.prompts import PromptOptions
from botbuilder.dialogs.prompts.oauth_prompt import CallerInfo
from botbuilder.schema import Activity, Attachment, CardAction
from botframework.connector.token_api.models import TokenResponse
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.storage.codec import (
    UnreadableStateError,
    UnstorableStateError,
    claim_expires,
    decode_state,
    encode_claim,
    encode_state,
)
from bot.storage.errors import EtagConflictError
from bot.storage.state import JsonMemoryStorage

EXPIRES = datetime(2030, 1, 2, 3, 4, 5, 678000)


def sign_in_prompt() -> DialogInstance:
    """What OAuthPrompt keeps while it waits (botbuilder-dialogs 4.17): options with an OAuthCard, naive expiry."""
    card = Attachment(content_type="application/vnd.microsoft.card.oauth",
                      content={"text": "Sign in", "connectionName": "GraphConnection", "buttons": []})
    options = PromptOptions(
        prompt=Activity(type="message", text="Please sign in", attachments=[card], input_hint="acceptingInput"),
        retry_prompt=Activity(type="message", text="Try again"),
        choices=[Choice("new", CardAction(type="imBack", title="New", value="new"), ["create"])],
        style=ListStyle.hero_card,
        number_of_attempts=2,
    )
    return DialogInstance("TeamsSsoPrompt", {"state": {"attemptCount": 1}, "options": options, "expires": EXPIRES,
                                             "caller": None})


def dialog_item() -> dict[str, Any]:
    """A main ComponentDialog whose waterfall is inside a sign-in prompt, plus plain data and the store's ETag."""
    inner = DialogState([
        DialogInstance("SignIn", {"options": {"reference": "x"}, "values": {"given": "this meeting"},
                                  "instanceId": "5b1f", "stepIndex": 0}),
        sign_in_prompt(),
    ])
    main = DialogInstance("MainDialog", {"dialogs": inner, "options": None, "values": {}, "instanceId": "a1",
                                         "stepIndex": 1})
    return {"DialogState": DialogState([main]), "LastLink": {"url": "https://x.example/a", "n": [1, 2.5, None, True]},
            "e_tag": "7"}


def test_dialog_state_round_trips_with_the_sdk_types() -> None:
    body = encode_state(dialog_item())
    item = decode_state("k", body)
    assert "e_tag" not in json.loads(body)["data"] and item["LastLink"] == dialog_item()["LastLink"]
    [main] = item["DialogState"].dialog_stack
    waterfall, prompt = main.state["dialogs"].dialog_stack
    assert waterfall.state == {"options": {"reference": "x"}, "values": {"given": "this meeting"},
                               "instanceId": "5b1f", "stepIndex": 0}
    assert prompt.state["expires"] == EXPIRES and prompt.state["expires"].tzinfo is None
    options = prompt.state["options"]
    assert isinstance(options, PromptOptions) and isinstance(options.prompt, Activity)
    assert options.prompt.attachments[0].content["connectionName"] == "GraphConnection"
    assert options.retry_prompt.text == "Try again"
    assert (options.style, options.number_of_attempts) == (ListStyle.hero_card, 2)
    assert options.choices[0].action.value == "new" and options.choices[0].synonyms == ["create"]
    assert encode_state(item) == body  # read back, it is written again byte for byte


def test_documents_name_no_python_type() -> None:
    body = encode_state({**dialog_item(), "x": {"caller": None}}).decode()
    assert json.loads(body)["version"] == 1
    for word in ("py/", "botbuilder", "DialogInstance", "PromptOptions", "datetime", "Activity"):
        assert word not in body


def test_caller_info_round_trips() -> None:
    prompt = DialogInstance("p", {"caller": CallerInfo("https://smba.example", "app-id")})
    item = decode_state("k", encode_state({"D": DialogState([prompt])}))
    caller = item["D"].dialog_stack[0].state["caller"]
    assert (caller.caller_service_url, caller.scope) == ("https://smba.example", "app-id")


@pytest.mark.parametrize(
    ("value", "where"),
    [
        (datetime(2030, 1, 1), "state.D[0].values.when"),  # a datetime outside the SDK's "expires"
        (TokenResponse(token="t"), "state.D[0].values.when"),  # an SDK model a dialog might keep by mistake
        (StoreItem(a=1), "state.D[0].values.when"),
        ({1, 2}, "state.D[0].values.when"),
        ((1, 2), "state.D[0].values.when"),
        ({1: "int key"}, "state.D[0].values.when"),
        (float("nan"), "state.D[0].values.when"),
        (b"bytes", "state.D[0].values.when"),
        (ListStyle.none, "state.D[0].values.when"),
    ],
)
def test_anything_but_plain_json_and_the_sdk_shapes_is_refused_at_write_time(value: Any, where: str) -> None:
    """The guard against a new type slipping into storage: the write fails, naming where, and stores nothing."""
    item = {"D": DialogState([DialogInstance("w", {"values": {"when": value}})])}
    with pytest.raises(UnstorableStateError, match=where.replace("[", r"\[").replace("]", r"\]")):
        encode_state(item)


@pytest.mark.parametrize(
    "item",
    [
        StoreItem(a=1),
        {"LastLink": datetime(2030, 1, 1)},
        {"D": DialogState([DialogInstance("p", {"expires": datetime(2030, 1, 1, tzinfo=UTC)})])},
        {"D": DialogState([DialogInstance("p", {"options": PromptOptions(prompt="text, not an Activity")})])},
        {"D": DialogState([DialogInstance("p", {"state": DialogState()})])},  # a stack where the SDK keeps none
        {"D": DialogState(["not an instance"])},
        {"deep": json.loads("[" * 80 + "]" * 80)},
    ],
)
def test_other_unstorable_items_are_refused(item: Any) -> None:
    with pytest.raises(UnstorableStateError):
        encode_state(item)


async def test_memory_storage_refuses_before_writing_anything() -> None:
    storage = JsonMemoryStorage()
    with pytest.raises(UnstorableStateError):
        await storage.write({"a": {"ok": 1}, "b": {"bad": {1, 2}}})
    assert storage.memory == {}


async def test_memory_storage_etags_follow_the_blob_rules() -> None:
    storage = JsonMemoryStorage()
    first = {"n": 1}
    await storage.write({"k": first})
    read = (await storage.read(["k", "missing"]))["k"]
    assert read == {"n": 1, "e_tag": first["e_tag"]} and read is not first
    read["n"] = 2
    await storage.write({"k": read})
    with pytest.raises(EtagConflictError, match="Etag conflict"):
        await storage.write({"k": first})  # stale
    await storage.write({"k": {"n": 3, "e_tag": "*"}})
    with pytest.raises(ValueError, match="empty e_tag"):
        await storage.write({"k": {"n": 4, "e_tag": ""}})
    await storage.delete(["k", "missing"])
    assert await storage.read(["k"]) == {}


# --- hostile documents --------------------------------------------------------------------------------------------


def jsonpickle_payloads(marker: Path) -> list[Any]:
    """What made the jsonpickle store run code, through module paths the bot imports (issue 14)."""
    shell = f"touch {marker}"
    return [
        {"py/reduce": [{"py/function": "dialogs.signin.tokens.logging.os.system"}, {"py/tuple": [shell]}]},
        {"py/reduce": [{"py/function": "os.system"}, {"py/tuple": [shell]}]},
        {"py/reduce": [{"py/type": "subprocess.Popen"}, {"py/tuple": [["touch", str(marker)]]}]},
        {"py/object": "subprocess.Popen", "args": ["touch", str(marker)]},
        {"py/object": "botbuilder.core.bot_state.os.system", "py/newargs": {"py/tuple": [shell]}},
        {"py/repr": f"os/os.system({shell!r})"},
        {"py/type": "builtins.eval"},
        {"py/mod": "dialogs.signin.tokens.logging.os"},
        {"py/function": "builtins.exec"},
    ]


def json_paths(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every position in a JSON document: the root, each dict value and each list element."""
    yield path
    if isinstance(node, dict):
        for key, value in node.items():
            yield from json_paths(value, (*path, key))
    elif isinstance(node, list):
        for n, value in enumerate(node):
            yield from json_paths(value, (*path, n))


def replaced(document: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    copy = json.loads(json.dumps(document))
    node = copy
    for step in path[:-1]:
        node = node.setdefault(step, {}) if isinstance(node, dict) else node[step]
    node[path[-1]] = value
    return copy


def read_as_data_or_reset(body: bytes) -> dict[str, Any] | None:
    """The property: a document is read as data (which can be written back) or is unreadable; nothing else."""
    try:
        item = decode_state("k", body)
    except UnreadableStateError as error:
        assert body.decode(errors="replace")[:40] not in str(error) or len(body) < 4  # no content in the message
        return None
    encode_state(item)
    return item


def test_jsonpickle_payloads_anywhere_never_run_or_import(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    valid = json.loads(encode_state(dialog_item()))
    modules = set(sys.modules)
    outcomes = {"data": 0, "reset": 0}
    for payload in jsonpickle_payloads(marker):
        for path in json_paths(valid):
            item = read_as_data_or_reset(json.dumps(replaced(valid, path, payload)).encode())
            outcomes["reset" if item is None else "data"] += 1
        item = read_as_data_or_reset(json.dumps({"version": 1, "data": {"LastLink": payload}}).encode())
        assert item == {"LastLink": payload}  # plain data where plain data belongs: a dict, never interpreted
    assert not marker.exists()
    assert set(sys.modules) == modules  # reading imported nothing
    assert outcomes["data"] and outcomes["reset"]  # both kinds of position were tried


@pytest.mark.parametrize(
    "body",
    [b"", b"\x00\xff\xfe garbage", b"{", b"null", b"[]", b'"text"', b"{}", b'{"version": 2}', b'{"version": "1"}',
     b'{"version": 1, "extra": 1}', b'{"version": 1, "data": []}', b'{"version": 1, "dialogs": {"D": {"stack": 5}}}',
     b'{"version": 1, "dialogs": {"D": {}}, "data": {"D": 1}}',
     b'{"version": 1, "dialogs": {"D": {"stack": [{"id": "p", "expires": "2030-01-01T00:00:00Z"}]}}}',
     b'{"version": 1, "dialogs": {"D": {"stack": [{"id": "p", "data": {"options": 1},'
     b' "prompt_options": {}}]}}}',
     b'{"version": 1, "dialogs": {"D": {"stack": [{"id": "p", "prompt_options": {"style": "__class__"}}]}}}',
     b'{"version": 1, "dialogs": {"D": {"stack": [{"id": "main", "dialogs": {}}]}}}',  # a component, no inner dialog
     b'{"version": 1, "data": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
     b'{"version": 1, "data": {"x": "' + b"a" * (1 << 20) + b'"}}'],
)
def test_what_the_codec_did_not_write_is_unreadable(body: bytes) -> None:
    with pytest.raises(UnreadableStateError) as caught:
        decode_state("msteams/conversations/c/users/u", body)
    assert caught.value.key == "msteams/conversations/c/users/u"
    assert "\n" not in str(caught.value) and len(str(caught.value)) < 100


VALID = json.loads(encode_state(dialog_item()))
PATHS = list(json_paths(VALID))
ANY_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=400, deadline=None)
@given(path=st.sampled_from(PATHS), value=ANY_JSON | st.sampled_from(jsonpickle_payloads(Path("/nonexistent/x"))))
def test_any_json_value_at_any_position_is_read_as_data_or_reset(path: tuple[Any, ...], value: Any) -> None:
    read_as_data_or_reset(json.dumps(replaced(VALID, path, value)).encode())


@settings(max_examples=200, deadline=None)
@given(body=st.binary(max_size=200) | ANY_JSON.map(lambda v: json.dumps(v).encode()))
def test_any_bytes_are_read_as_data_or_reset(body: bytes) -> None:
    read_as_data_or_reset(body)


def test_dedupe_records_that_are_unreadable_or_overlong_count_as_lapsed() -> None:
    assert claim_expires(encode_claim(100.0), latest=200.0) == 100.0
    for body in (b"", b"garbage", b'{"version": 1, "expires": "100"}', b'{"version": 2, "expires": 1}',
                 encode_claim(1e300), b'{"version": 1, "expires": 1e999}', b"x" * 1000):
        assert claim_expires(body, latest=200.0) == 0.0
