"""Stored state is data, never code: one versioned JSON document per state key, the same for memory and blob.

A state item (what `BotState` saves: property name -> value) holds plain JSON, except the Bot Framework dialog stack,
whose SDK objects are written here explicitly, field by field, at the positions the SDK keeps them: `DialogState` as
a property, and inside each `DialogInstance.state` a ComponentDialog's inner stack ("dialogs"), a prompt's
`PromptOptions` with its `Activity`s ("options"), OAuthPrompt's expiry `datetime` ("expires") and skill caller
("caller"). Anything else that is not plain JSON is refused when written (`UnstorableStateError`, naming where), so a
new type cannot slip into storage unnoticed. Reading is strict msgspec decoding into the Structs below: no class
names in the document, nothing imported or called because of its content; bytes that are not this document
(`UnreadableStateError`) make the caller reset that one conversation.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from botbuilder.dialogs import DialogInstance, DialogState
from botbuilder.dialogs.choices import Choice, ListStyle
from botbuilder.dialogs.prompts import PromptOptions
from botbuilder.dialogs.prompts.oauth_prompt import CallerInfo
from botbuilder.schema import Activity, CardAction

VERSION: Literal[1] = 1  # the document version this code writes and reads; any other is unreadable
MAX_DOCUMENT_BYTES = 1 << 20  # our documents are a few KiB; a bigger blob is not ours and is not read into memory
MAX_DEPTH = 64  # plain JSON nesting we write (and so read); deeper is refused on write and on read

# The DialogInstance.state keys at which the SDK keeps its own objects (botbuilder-dialogs 4.17).
_STACK_KEY, _OPTIONS_KEY, _EXPIRES_KEY, _CALLER_KEY = "dialogs", "options", "expires", "caller"
_E_TAG = "e_tag"  # the storage's ETag on a read item: never stored in the body


class UnstorableStateError(TypeError):
    """A state value that is not plain JSON nor one of the SDK shapes this codec writes: a bug in the bot."""


class UnreadableStateError(ValueError):
    """A stored document that is not one this codec wrote (bad JSON, wrong shape or version, wrong types).
    Carries the state key and a short reason, never the content."""

    def __init__(self, key: str, reason: str) -> None:
        super().__init__(f"stored state for one conversation is unreadable ({reason})")
        self.key = key
        self.reason = reason


class _Doc(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """Strict: unknown fields are an error, so a document this version did not write is not half-read."""


class ChoiceDoc(_Doc):
    value: str | None = None
    action: dict[str, Any] | None = None  # a CardAction on the wire (camelCase), as Bot Framework sends it
    synonyms: list[str] | None = None


class PromptOptionsDoc(_Doc):
    prompt: dict[str, Any] | None = None  # an Activity on the wire (camelCase)
    retry_prompt: dict[str, Any] | None = None
    choices: list[ChoiceDoc] | None = None
    style: str | None = None  # a ListStyle member's name
    validations: Any = None
    number_of_attempts: int = 0


class CallerDoc(_Doc):
    caller_service_url: str | None = None
    scope: str | None = None


class InstanceDoc(_Doc):
    """One DialogInstance: its id, the plain JSON of its state, and the SDK objects at their SDK keys."""

    id: str
    data: dict[str, Any] = {}
    dialogs: StackDoc | None = None
    prompt_options: PromptOptionsDoc | None = None
    expires: Annotated[datetime, msgspec.Meta(tz=False)] | None = None  # OAuthPrompt compares with datetime.now()
    caller: CallerDoc | None = None


class StackDoc(_Doc):
    stack: list[InstanceDoc] = []


class StateDoc(_Doc):
    """A stored state item: dialog stacks by property name, and every other property as plain JSON."""

    version: Literal[1]
    dialogs: dict[str, StackDoc] = {}
    data: dict[str, Any] = {}


class ClaimDoc(_Doc):
    """An SSO exchange de-dup record (bot/storage/blob.py): when the claim lapses, in wall-clock seconds."""

    version: Literal[1]
    expires: float


_DECODER = msgspec.json.Decoder(StateDoc)
_CLAIM_DECODER = msgspec.json.Decoder(ClaimDoc)
_ENCODER = msgspec.json.Encoder()


def item_etag(item: Any) -> str | None:
    """The `e_tag` a caller's state item carries (None: write unconditionally)."""
    value = item.get(_E_TAG) if isinstance(item, dict) else None
    return None if value is None else str(value)


# --- writing --------------------------------------------------------------------------------------------------------

def encode_state(item: Any) -> bytes:
    """The stored body of a state item (its `e_tag` left out: the store's ETag is the truth)."""
    if not isinstance(item, dict):
        raise UnstorableStateError(f"state: a state item must be a dict, not {type(item).__name__}")
    doc = StateDoc(version=VERSION)
    for name, value in item.items():
        if name == _E_TAG:
            continue
        _check_key(name, "state")
        if isinstance(value, DialogState):
            doc.dialogs[name] = _stack_doc(value, f"state.{name}")
        else:
            doc.data[name] = _plain(value, f"state.{name}")
    return _ENCODER.encode(doc)


def _stack_doc(state: DialogState, path: str) -> StackDoc:
    return StackDoc(stack=[_instance_doc(inst, f"{path}[{n}]") for n, inst in enumerate(state.dialog_stack)])


def _instance_doc(inst: Any, path: str) -> InstanceDoc:
    if type(inst) is not DialogInstance or type(inst.id) is not str or not isinstance(inst.state, dict):
        raise UnstorableStateError(f"{path}: not a DialogInstance with a str id and a dict state")
    doc = InstanceDoc(id=inst.id)
    for key, value in inst.state.items():
        _check_key(key, path)
        where = f"{path}.{key}"
        if key == _STACK_KEY and isinstance(value, DialogState):
            doc.dialogs = _stack_doc(value, where)
        elif key == _OPTIONS_KEY and isinstance(value, PromptOptions):
            doc.prompt_options = _options_doc(value, where)
        elif key == _EXPIRES_KEY and type(value) is datetime:
            if value.tzinfo is not None:
                raise UnstorableStateError(f"{where}: the SDK's expiry is a naive datetime")
            doc.expires = value
        elif key == _CALLER_KEY and isinstance(value, CallerInfo):
            doc.caller = CallerDoc(
                caller_service_url=_plain_str(value.caller_service_url, where),
                scope=_plain_str(value.scope, where),
            )
        else:
            doc.data[key] = _plain(value, where)
    return doc


def _options_doc(options: PromptOptions, path: str) -> PromptOptionsDoc:
    style = options.style
    if style is not None and not isinstance(style, ListStyle):
        raise UnstorableStateError(f"{path}.style: not a ListStyle")
    choices = None
    if options.choices is not None:
        choices = [_choice_doc(c, f"{path}.choices[{n}]") for n, c in enumerate(options.choices)]
    if type(options.number_of_attempts) is not int:
        raise UnstorableStateError(f"{path}.number_of_attempts: not an int")
    return PromptOptionsDoc(
        prompt=_activity_json(options.prompt, f"{path}.prompt"),
        retry_prompt=_activity_json(options.retry_prompt, f"{path}.retry_prompt"),
        choices=choices,
        style=None if style is None else style.name,
        validations=_plain(options.validations, f"{path}.validations"),
        number_of_attempts=options.number_of_attempts,
    )


def _choice_doc(choice: Any, path: str) -> ChoiceDoc:
    if type(choice) is not Choice:
        raise UnstorableStateError(f"{path}: not a Choice")
    action = None
    if choice.action is not None:
        if not isinstance(choice.action, CardAction):
            raise UnstorableStateError(f"{path}.action: not a CardAction")
        action = _plain(choice.action.serialize(), f"{path}.action")
    synonyms = _plain(choice.synonyms, f"{path}.synonyms")
    if synonyms is not None and not all(type(s) is str for s in synonyms):
        raise UnstorableStateError(f"{path}.synonyms: not a list of str")
    return ChoiceDoc(value=_plain_str(choice.value, path), action=action, synonyms=synonyms)


def _activity_json(activity: Any, path: str) -> dict[str, Any] | None:
    if activity is None:
        return None
    if not isinstance(activity, Activity):
        raise UnstorableStateError(f"{path}: not an Activity")
    wire: dict[str, Any] = _plain(activity.serialize(), path)
    return wire


def _plain_str(value: Any, path: str) -> str | None:
    if value is not None and type(value) is not str:
        raise UnstorableStateError(f"{path}: not a str")
    return value


def _check_key(key: Any, path: str) -> None:
    if type(key) is not str:
        raise UnstorableStateError(f"{path}: key {type(key).__name__} is not a str")


def _plain(value: Any, path: str, depth: int = 0) -> Any:
    """`value` itself if it is plain JSON (None, bool, int, finite float, str, list, dict with str keys)."""
    if depth > MAX_DEPTH:
        raise UnstorableStateError(f"{path}: nested deeper than {MAX_DEPTH}")
    kind = type(value)
    if value is None or kind in (bool, int, str):
        return value
    if kind is float:
        if not math.isfinite(value):
            raise UnstorableStateError(f"{path}: a float that JSON cannot hold")
        return value
    if kind is list:
        for n, element in enumerate(value):
            _plain(element, f"{path}[{n}]", depth + 1)
        return value
    if kind is dict:
        for key, element in value.items():
            _check_key(key, path)
            _plain(element, f"{path}.{key}", depth + 1)
        return value
    raise UnstorableStateError(f"{path}: {kind.__name__} is not plain JSON state (store data, not objects)")


# --- reading --------------------------------------------------------------------------------------------------------

def decode_state(key: str, body: bytes) -> dict[str, Any]:
    """The state item stored as `body`, with fresh SDK objects; `UnreadableStateError` for anything else."""
    if len(body) > MAX_DOCUMENT_BYTES:
        raise UnreadableStateError(key, "too large")
    try:
        doc = _DECODER.decode(body)
    except msgspec.ValidationError:  # a JSON document, but not ours: wrong shape, version or value types
        raise UnreadableStateError(key, "wrong shape or version") from None
    except (msgspec.DecodeError, RecursionError):
        raise UnreadableStateError(key, "not JSON") from None
    try:
        _check_depth(doc.data)
        item: dict[str, Any] = {}
        for name, stack in doc.dialogs.items():
            item[name] = _dialog_state(stack)
        for name, value in doc.data.items():
            if name in item or name == _E_TAG:
                raise ValueError("a property stored twice")
            item[name] = value
        return item
    except Exception:  # building SDK objects from data that passed the schema: any failure means unreadable
        raise UnreadableStateError(key, "wrong shape") from None


def _dialog_state(stack: StackDoc) -> DialogState:
    return DialogState([_instance(doc) for doc in stack.stack])


def _instance(doc: InstanceDoc) -> DialogInstance:
    _check_depth(doc.data)
    if doc.dialogs is not None and not doc.dialogs.stack:
        # A ComponentDialog is popped when its inner stack empties, so a stored one never has an empty stack; read
        # as if it had, the turn would end the flow silently and the user would get no answer at all.
        raise ValueError("a component dialog without an inner dialog")
    state: dict[str, Any] = dict(doc.data)
    typed = {
        _STACK_KEY: None if doc.dialogs is None else _dialog_state(doc.dialogs),
        _OPTIONS_KEY: None if doc.prompt_options is None else _options(doc.prompt_options),
        _EXPIRES_KEY: doc.expires,
        _CALLER_KEY: None if doc.caller is None else CallerInfo(doc.caller.caller_service_url, doc.caller.scope),
    }
    for key, value in typed.items():
        if value is not None:
            if key in state:
                raise ValueError("a dialog state key stored twice")
            state[key] = value
    return DialogInstance(doc.id, state)


def _options(doc: PromptOptionsDoc) -> PromptOptions:
    _check_depth(doc.validations)
    return PromptOptions(
        prompt=_activity(doc.prompt),
        retry_prompt=_activity(doc.retry_prompt),
        choices=None if doc.choices is None else [_choice(c) for c in doc.choices],
        style=None if doc.style is None else ListStyle[doc.style],
        validations=doc.validations,
        number_of_attempts=doc.number_of_attempts,
    )


def _choice(doc: ChoiceDoc) -> Choice:
    action = None if doc.action is None else CardAction.deserialize(doc.action)
    return Choice(value=doc.value, action=action, synonyms=doc.synonyms)


def _activity(wire: dict[str, Any] | None) -> Activity | None:
    """msrest builds an Activity from its fixed attribute map (a closed set of schema classes), as for inbound JSON."""
    if wire is None:
        return None
    _check_depth(wire)
    activity = Activity.deserialize(wire)
    if not isinstance(activity, Activity):
        raise ValueError("not an activity")
    return activity


def _check_depth(value: Any, depth: int = 0) -> None:
    """Stored plain JSON no deeper than we write it, so later code that walks it (hashing, copying) cannot recurse
    out of the interpreter's stack."""
    if depth > MAX_DEPTH:
        raise ValueError("nested too deep")
    if isinstance(value, list):
        for element in value:
            _check_depth(element, depth + 1)
    elif isinstance(value, dict):
        for element in value.values():
            _check_depth(element, depth + 1)


# --- de-dup records -------------------------------------------------------------------------------------------------

CLAIM_MAX_BYTES = 256  # a record we write is a few dozen bytes; anything longer is not ours


def encode_claim(expires: float) -> bytes:
    return _ENCODER.encode(ClaimDoc(version=VERSION, expires=expires))


def claim_expires(body: bytes, latest: float) -> float:
    """When a stored claim lapses; 0 (already lapsed) for a record that is unreadable, not finite or later than
    `latest` (no claim we write outlives its TTL), so no stored bytes can block an exchange for longer."""
    if len(body) > CLAIM_MAX_BYTES:
        return 0.0
    try:
        expires = _CLAIM_DECODER.decode(body).expires
    except msgspec.DecodeError:
        return 0.0
    return expires if math.isfinite(expires) and expires <= latest else 0.0
