"""The reminder documents in the store: small typed shapes, plain versioned JSON, strictly validated on read.

Nothing in a document names a type or a module; unknown fields, a wrong version, out-of-range values or oversized
strings make it unreadable (`UnreadableRecord`), and the caller treats that one record as absent. msgspec checks
constraints when it decodes, not when a Struct is built, so `to_json` decodes what it encoded before anything is
stored: a record that could not be read back is never written (UnreadableRecord at write time).
"""

from __future__ import annotations

from typing import Annotated, Literal, TypeVar

import msgspec

from dialogs.commands import DEFAULT_LEAD_MINUTES, MAX_LEAD_MINUTES, MIN_LEAD_MINUTES

VERSION: Literal[1] = 1
MAX_RECORD_BYTES = 16 * 1024  # a subscription is a few hundred bytes; anything bigger is not ours

Id = Annotated[str, msgspec.Meta(min_length=1, max_length=1024)]
Short = Annotated[str, msgspec.Meta(max_length=256)]
Url = Annotated[str, msgspec.Meta(pattern=r"^https?://[^\s]{1,2000}$")]
Lead = Annotated[int, msgspec.Meta(ge=MIN_LEAD_MINUTES, le=MAX_LEAD_MINUTES)]


T = TypeVar("T")


class UnreadableRecord(ValueError):
    """A stored reminder document this code did not write (bad JSON, wrong shape, version or values)."""


class _Record(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True, frozen=True):
    """Strict: a document with a field this version does not know is refused, not half-read."""


class ConversationRef(_Record, frozen=True):
    """Where the user's 1:1 chat with the bot is: what `continue_conversation` needs, nothing more."""

    service_url: Url
    conversation_id: Id
    user_id: Id  # the Teams user id (29:...), as the token service and the connector know the user
    bot_id: Id
    channel_id: Short = "msteams"
    tenant_id: Short | None = None
    user_aad_id: Short | None = None
    bot_name: Short | None = None


class Subscription(_Record, frozen=True):
    """One user's reminders: the lead time, their 1:1 chat, their locale and zone for the card, and `paused` once
    their sign-in is gone (until they sign in again). `revision` changes on every opt-in, so the poller looks soon."""

    version: Literal[1]
    user_key: Id
    conversation: ConversationRef
    lead_minutes: Lead = DEFAULT_LEAD_MINUTES
    locale: Short | None = None
    time_zone: Short | None = None
    revision: Short = ""
    paused: bool = False

    def to_json(self) -> bytes:
        return _checked(_SUBSCRIPTION, self)

    @classmethod
    def from_json(cls, body: bytes) -> Subscription:
        return _decode(_SUBSCRIPTION, body)


class Claim(_Record, frozen=True):
    """The at-most-once record of one announcement: `pending` from just before the send until it is marked `sent`.
    Never taken over: a pending claim whose holder died mid-send stays, and that reminder is not sent again.
    (`expires` is what the first version wrote; read, never compared: no instance's wall clock decides anything.)"""

    version: Literal[1]
    state: Literal["pending", "sent"]
    expires: float = 0.0
    start: Short = ""  # the occurrence's start (ISO), so old records can be swept

    def to_json(self) -> bytes:
        return _checked(_CLAIM, self)

    @classmethod
    def from_json(cls, body: bytes) -> Claim:
        return _decode(_CLAIM, body)


_ENCODER = msgspec.json.Encoder()
_SUBSCRIPTION = msgspec.json.Decoder(Subscription)
_CLAIM = msgspec.json.Decoder(Claim)


def _checked(decoder: msgspec.json.Decoder[T], record: object) -> bytes:
    """The record's JSON, once it is known to read back (UnreadableRecord otherwise: it is not written)."""
    body = _ENCODER.encode(record)
    _decode(decoder, body)
    return body


def _decode(decoder: msgspec.json.Decoder[T], body: bytes) -> T:
    if len(body) > MAX_RECORD_BYTES:
        raise UnreadableRecord("too large")
    try:
        return decoder.decode(body)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise UnreadableRecord(type(exc).__name__) from None
