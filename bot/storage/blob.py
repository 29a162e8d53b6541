"""Bot state and SSO exchange de-duplication on Azure Blob Storage, shared by every instance of the bot.

Why not botbuilder-azure's `BlobStorage`: it pins azure-storage-blob 12.7.0 (2020) and its conditional write omits
`overwrite=True`, so every write with an ETag fails with "blob already exists" (the SDK's SSO de-dup write among
them). This module uses the maintained async SDK (`azure.storage.blob.aio`, on aiohttp) with the `Storage` contract's
optimistic concurrency: one blob per state key, the blob's own ETag as the item's `e_tag`.

Every call goes through one `StorageCalls` wrapper: a deadline from the turn's storage budget (bot/storage/deadline.py),
a bound on how many calls run at once, and the SDK's failures turned into `StorageUnavailableError` (a 404, 409 or
412 stays what it is: an answer about the item). The client's own connect/read timeouts and retries are set to fit
inside those deadlines, and it sends on the app's one aiohttp session (bot/sdk/blob_transport.py). Reads are ranged:
the first request asks for at most one byte more than a document may have, so an oversized blob is refused after
that many bytes, never downloaded whole.

Bodies are the versioned JSON documents of `bot.storage.codec`, the same as memory storage keeps: plain data, so
whoever can write the container can at worst reset a conversation, never make the bot import or run anything.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import time
from collections import OrderedDict
from typing import Any

from azure.core import MatchConditions
from azure.core.exceptions import (
    AzureError,
    HttpResponseError,
    ResourceExistsError,
    ResourceModifiedError,
    ResourceNotFoundError,
)
from azure.storage.blob.aio import BlobClient, BlobServiceClient, ContainerClient
from azure.storage.blob.aio import LinearRetry as _LinearRetry
from botbuilder.core import Storage

from bot.sdk.blob_transport import SessionSource, SharedSessionTransport
from bot.storage.calls import StorageCalls, read_bounded
from bot.storage.claims import JSON as _JSON
from bot.storage.claims import claim_blob
from bot.storage.codec import (
    CLAIM_MAX_BYTES,
    MAX_DOCUMENT_BYTES,
    UnreadableStateError,
    claim_expires,
    decode_state,
    encode_claim,
    encode_state,
    item_etag,
)
from bot.storage.dedupe import DEFAULT_TTL_S
from bot.storage.errors import EtagConflictError, StorageUnavailableError

_UNSAFE_RUN = re.compile(r"[^A-Za-z0-9_-]+")
_CONTAINER_NAME = re.compile(r"^(?=.{3,63}$)[a-z0-9]+(-[a-z0-9]+)*$")
_MAX_BLOB_NAME = 1024
DEDUPE_PREFIX = "sso-exchange/"  # state blob names never contain "/", so the two can never collide
SENT_PREFIX = "mail-sent/"  # email claims (bot/storage/sent_once.py): one per card and recipient
BLOB_CLIENTS = 64  # blob clients kept for the names used most recently (state keys, reminder subscriptions)


class StorageStartError(RuntimeError):
    """The container could not be opened or created at start (message names the setting, never the secret)."""


def blob_name(key: str) -> str:
    """A reversible, collision-free blob name for a state key: every byte outside [A-Za-z0-9_-] is %XX-escaped,
    so '/', '.', ':' and unicode in Teams ids cannot make virtual folders or trailing dots. Over-long names
    (beyond Azure's 1024) fall back to a SHA-256 digest."""
    name = _UNSAFE_RUN.sub(lambda run: "".join(f"%{b:02X}" for b in run[0].encode()), key)
    if len(name) > _MAX_BLOB_NAME:
        return "sha256-" + hashlib.sha256(key.encode()).hexdigest()
    return name


def is_valid_container_name(name: str) -> bool:
    """Azure's rule: 3-63 characters, lower-case letters, digits and single inner hyphens."""
    return bool(_CONTAINER_NAME.match(name))


def _set_etag(item: Any, etag: str) -> None:
    if isinstance(item, dict):
        item["e_tag"] = etag


class BlobStorage(Storage):  # botbuilder is untyped: Storage is Any
    """The botbuilder `Storage` contract on one Azure Blob container, one blob per key.

    Writes follow MemoryStorage's rules: `e_tag` None or "*" overwrites; "" is an error; any other value must be the
    stored blob's ETag (a missing blob is created atomically, as MemoryStorage accepts a first insert with any ETag),
    else `EtagConflictError`. After a write the caller's item carries the new ETag, so a second save in the same turn
    is not a false conflict. Open with `open()` at start (creates the container) and `close()` at shutdown.
    """

    def __init__(
        self, connection_string: str, container_name: str, *, session: SessionSource | None = None
    ) -> None:
        super().__init__()
        # The SDK's own timeouts and retries fit inside a call's deadline (StorageCalls): one quick retry of a
        # dropped connection or a 5xx, never its default 15 s backoff; the deadline cuts whatever is left.
        transport = {"transport": SharedSessionTransport(session)} if session is not None else {}
        self.service = BlobServiceClient.from_connection_string(
            connection_string,
            # Typed int, used as float seconds (random.uniform around `backoff`).
            retry_policy=_LinearRetry(backoff=0.2, random_jitter_range=0.1, retry_total=1),  # type: ignore[arg-type]
            connection_timeout=1,
            read_timeout=2,
            **transport,
        )
        self.container: ContainerClient = self.service.get_container_client(container_name)
        self.calls = StorageCalls()
        self._blobs: OrderedDict[str, BlobClient] = OrderedDict()

    def blob(self, name: str) -> BlobClient:
        """The client of one blob, kept for the most recently used names. The SDK builds a generated client with
        its own configuration and (de)serialisers for every `BlobClient`, which costs more CPU than the request it
        then sends, and a user's turns come back to the same few names (their state, their subscription). Clients
        hold no per-request state and share the container's pipeline, so one is safe for calls at once."""
        client = self._blobs.get(name)
        if client is None:
            client = self._blobs[name] = self.container.get_blob_client(name)
            if len(self._blobs) > BLOB_CLIENTS:
                self._blobs.popitem(last=False)
        else:
            self._blobs.move_to_end(name)
        return client

    async def open(self) -> None:
        """Create the container if it is missing; fail at start, not at the first turn."""
        try:
            await self.container.create_container(timeout=5)
        except ResourceExistsError:
            return
        except AzureError as exc:
            code = getattr(exc, "error_code", None) or ""
            reason = f"HTTP {exc.status_code} {code}".strip() if isinstance(exc, HttpResponseError) else "unreachable"
            raise StorageStartError(
                f"BlobContainer {self.container.container_name!r}: cannot open or create it ({reason})"
            ) from None

    async def reachable(self) -> bool:
        """One cheap request (the container's properties) within a call's deadline: True when it answered."""
        try:
            await self.calls(self.container.get_container_properties())
        except (StorageUnavailableError, AzureError):
            return False
        return True

    async def close(self) -> None:
        """Close the client (and its own HTTP session, when it was not given the app's, which the app closes)."""
        await self.service.close()

    async def read(self, keys: list[str]) -> dict[str, Any]:
        found = await asyncio.gather(*(self._read_one(key) for key in dict.fromkeys(keys or ())))
        return {key: item for key, item in found if item is not None}

    async def _read_one(self, key: str) -> tuple[str, Any]:
        found = await read_bounded(self.calls, self.blob(blob_name(key)), MAX_DOCUMENT_BYTES)
        if found is None:
            return key, None
        body, etag = found
        if body is None:  # not one of ours: at most its first MAX_DOCUMENT_BYTES + 1 bytes were fetched
            raise UnreadableStateError(key, "too large")
        item = decode_state(key, body)
        _set_etag(item, etag)
        return key, item

    async def write(self, changes: dict[str, Any]) -> None:
        if changes is None:
            raise ValueError("BlobStorage.write: changes are required")
        await asyncio.gather(*(self._write_one(key, item) for key, item in changes.items()))

    async def _write_one(self, key: str, item: Any) -> None:
        etag = item_etag(item)
        if etag == "":
            raise ValueError(f"BlobStorage.write: empty e_tag for key {key!r}")
        blob = self.blob(blob_name(key))
        body = encode_state(item)
        if etag in (None, "*"):
            result = await self.calls(blob.upload_blob(body, overwrite=True, content_settings=_JSON))
        else:
            try:
                result = await self.calls(blob.upload_blob(
                    body, overwrite=True, etag=etag, match_condition=MatchConditions.IfNotModified,
                    content_settings=_JSON,
                ))
            except (ResourceModifiedError, ResourceNotFoundError):
                # Either the blob changed, or it does not exist yet: only an atomic create can tell them apart.
                try:
                    result = await self.calls(blob.upload_blob(body, overwrite=False, content_settings=_JSON))
                except ResourceExistsError:
                    raise EtagConflictError(f"Etag conflict for key {key!r}: the stored item has changed") from None
        _set_etag(item, str(result["etag"]))

    async def delete(self, keys: list[str]) -> None:
        await asyncio.gather(*(self._delete_one(key) for key in dict.fromkeys(keys or ())))

    async def _delete_one(self, key: str) -> None:
        try:
            await self.calls(self.blob(blob_name(key)).delete_blob())
        except ResourceNotFoundError:
            return


class BlobExchangeDedupe:
    """`ExchangeDedupe` across instances: a claim blob per key (bot/storage/claims.py), its expiry in the body.

    The first `claim` creates the blob and wins; later ones find it and lose while it is fresh; an expired entry is
    taken over by exactly one claimer. Expired blobs are only overwritten, never swept: a lifecycle rule on the
    `sso-exchange/` prefix can delete them (README). Times are wall-clock seconds because instances on different
    machines compare them. The body is a `bot.storage.codec` claim record; one that is unreadable or claims more
    than the TTL counts as expired.
    """

    def __init__(self, storage: BlobStorage, ttl_s: float = DEFAULT_TTL_S) -> None:
        self.container = storage.container
        self.calls = storage.calls
        self.ttl_s = ttl_s

    async def claim(self, key: str) -> bool:
        blob = self.container.get_blob_client(DEDUPE_PREFIX + blob_name(key))

        def held(body: bytes) -> bool:
            now = time.time()
            return claim_expires(body, latest=now + self.ttl_s) > now

        return await claim_blob(self.calls, blob, encode_claim(time.time() + self.ttl_s), max_bytes=CLAIM_MAX_BYTES,
                                held=held) is not None


class BlobSendOnce:
    """`dialogs.services.SendOnce` across instances (see bot/storage/sent_once.py): the first `claim` creates
    `mail-sent/<key>` (If-None-Match: *) and wins; every later one finds it. Never taken over: see that module."""

    def __init__(self, storage: BlobStorage) -> None:
        self.container = storage.container
        self.calls = storage.calls

    async def claim(self, key: str) -> bool:
        blob = self.container.get_blob_client(SENT_PREFIX + blob_name(key))
        record = json.dumps({"v": 1, "claimed": int(time.time())}).encode()
        # A record of ours always stands (an email is never sent twice however late the tap); one too large to be
        # ours counts as lapsed, as for every claim (bot/storage/claims.py).
        won = await claim_blob(self.calls, blob, record, max_bytes=CLAIM_MAX_BYTES, held=lambda _body: True)
        return won is not None

    async def release(self, key: str) -> None:
        try:
            await self.calls(self.container.delete_blob(SENT_PREFIX + blob_name(key)))
        except ResourceNotFoundError:
            return
