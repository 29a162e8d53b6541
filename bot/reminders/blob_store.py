"""The reminder store and poller lease on Azure Blob Storage, shared by every instance (the state container).

Blob names sit under `reminders/`, which no state blob can have (state keys are escaped, "/" included), so the two
never collide:
- `reminders/subscriptions/<user>`: one subscription document per user, updated with ETag conditions;
- `reminders/sent/<key>`: one claim per announced occurrence, created with If-None-Match: * (the at-most-once step);
- `reminders/poller`: an empty blob whose lease decides which instance polls.

Every call goes through the state store's `StorageCalls` (deadline, concurrency bound, failures as
`StorageUnavailableError`), so an unreachable account fails a claim closed (nothing is announced) and the poller's
next check, or its next try for the lease, picks up once the account answers again. The subscription list is read a
page at a time, and only the documents whose ETag changed since the last listing are downloaded again.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import datetime

from azure.core import MatchConditions
from azure.core.exceptions import (
    AzureError,
    HttpResponseError,
    ResourceExistsError,
    ResourceModifiedError,
    ResourceNotFoundError,
)
from azure.storage.blob.aio import BlobClient, BlobLeaseClient

from bot.reminders.records import MAX_RECORD_BYTES, Claim, Subscription, UnreadableRecord
from bot.reminders.store import ClaimTicket, PollerLease, Stored
from bot.storage.blob import BlobStorage, blob_name
from bot.storage.calls import StorageCalls, read_bounded
from bot.storage.claims import JSON as _JSON
from bot.storage.claims import claim_blob
from bot.storage.errors import StorageUnavailableError

log = logging.getLogger(__name__)

PREFIX = "reminders/"
SUBSCRIPTIONS = PREFIX + "subscriptions/"
SENT = PREFIX + "sent/"
POLLER = PREFIX + "poller"
LEASE_S = 15  # Azure's shortest lease: a dead holder is replaced within 15 s
LIST_PAGE = 100  # subscriptions per listing request, and at most this many downloads of changed ones at once


async def _read(calls: StorageCalls, blob: BlobClient) -> tuple[bytes, str] | None:
    """The body and ETag of a small document, or None if absent; an oversized blob reads as unreadable (after at
    most MAX_RECORD_BYTES + 1 bytes)."""
    found = await read_bounded(calls, blob, MAX_RECORD_BYTES)
    if found is None:
        return None
    body, etag = found
    if body is None:
        raise UnreadableRecord("too large")
    return body, etag


class BlobPollerLease:
    """A 15-second Blob lease on `reminders/poller`, renewed by the holder; a holder that stops renewing loses it."""

    duration_s = float(LEASE_S)

    def __init__(self, storage: BlobStorage) -> None:
        self._calls = storage.calls
        self._blob = storage.container.get_blob_client(POLLER)
        self._id = str(uuid.uuid4())  # this instance's lease id, proposed on every acquire
        self._lease = BlobLeaseClient(self._blob, lease_id=self._id)
        self._held = False

    async def acquire(self) -> bool:
        try:
            await self._calls(self._blob.upload_blob(b"", overwrite=False))
        except ResourceExistsError:
            pass  # created before (or leased right now: the upload is refused either way)
        except HttpResponseError as exc:
            if exc.status_code != 412:  # 412: lease present on an existing blob
                raise
        self._lease = BlobLeaseClient(self._blob, lease_id=self._id)
        try:
            await self._calls(self._lease.acquire(lease_duration=LEASE_S))
        except HttpResponseError as exc:
            if exc.status_code == 409:  # LeaseAlreadyPresent: another instance polls
                return False
            raise
        self._held = True
        return True

    async def renew(self) -> bool:
        if not self._held:
            return False
        try:
            await self._calls(self._lease.renew())
        except (AzureError, StorageUnavailableError, ValueError) as exc:
            log.warning("reminder poller lease lost: %s", type(exc).__name__)
            self._held = False
            return False
        return True

    async def release(self) -> None:
        if not self._held:
            return
        self._held = False
        try:
            await self._calls(self._lease.release())
        except (AzureError, StorageUnavailableError) as exc:  # it lapses by itself within LEASE_S
            log.info("could not release the reminder poller lease: %s", type(exc).__name__)


class BlobReminderStore:
    """`ReminderStore` on the state container."""

    def __init__(self, storage: BlobStorage) -> None:
        self._storage = storage
        self.container = storage.container
        self.calls = storage.calls
        self._listed: dict[str, tuple[str, Stored | None]] = {}  # name -> (listed ETag, what its download gave)

    @staticmethod
    def _subscription_name(user_key: str) -> str:
        return SUBSCRIPTIONS + blob_name(user_key)

    async def get(self, user_key: str) -> Stored | None:
        return await self._read_listed(self._subscription_name(user_key))

    async def put(self, subscription: Subscription, *, etag: str | None = None) -> bool:
        blob = self._storage.blob(self._subscription_name(subscription.user_key))
        body = subscription.to_json()
        try:
            if etag is None:
                await self.calls(blob.upload_blob(body, overwrite=True, content_settings=_JSON))
            else:
                await self.calls(blob.upload_blob(body, overwrite=True, content_settings=_JSON, etag=etag,
                                                  match_condition=MatchConditions.IfNotModified))
        except (ResourceModifiedError, ResourceNotFoundError):
            return False
        return True

    async def delete(self, user_key: str) -> None:
        try:
            await self.calls(self._storage.blob(self._subscription_name(user_key)).delete_blob())
        except ResourceNotFoundError:
            return

    async def list(self) -> list[Stored]:
        """A page of names at a time; a document is downloaded only when its listed ETag differs from the last
        listing's (an unchanged ETag is the same bytes), at most a page of downloads at once."""
        pages = self.container.list_blobs(name_starts_with=SUBSCRIPTIONS, results_per_page=LIST_PAGE).by_page()
        listed: dict[str, tuple[str, Stored | None]] = {}
        while True:
            try:
                page = await self.calls(anext(pages))
            except StopAsyncIteration:
                break
            entries = [(blob.name, str(blob.etag)) async for blob in page]
            changed = [(name, etag) for name, etag in entries if self._listed.get(name, ("",))[0] != etag]
            found = await asyncio.gather(*(self._read_listed(name) for name, _ in changed))
            listed.update({name: (etag, stored) for (name, etag), stored in zip(changed, found, strict=True)})
            listed.update({name: self._listed[name] for name, _ in entries if name not in listed})
        self._listed = listed  # names no longer listed are forgotten
        return [stored for _, stored in listed.values() if stored is not None]

    async def _read_listed(self, name: str) -> Stored | None:
        try:
            found = await _read(self.calls, self._storage.blob(name))
            return None if found is None else Stored(Subscription.from_json(found[0]), found[1])
        except UnreadableRecord as exc:
            log.warning("skipped an unreadable reminder subscription (%s)", exc)
            return None

    async def announced(self, key: str) -> bool:
        try:
            await self.calls(self.container.get_blob_client(SENT + key).get_blob_properties())
        except ResourceNotFoundError:
            return False
        return True

    async def claim(self, key: str, now: datetime, start: datetime) -> ClaimTicket | None:
        pending = Claim(version=1, state="pending", start=start.isoformat())

        def held(body: bytes) -> bool:
            try:
                Claim.from_json(body)
            except UnreadableRecord:
                return False  # not ours: taken over (whoever can write the container can delete it anyway)
            return True  # sent, being sent, or lost mid-send: never twice, never lapses

        etag = await claim_blob(self.calls, self.container.get_blob_client(SENT + key), pending.to_json(),
                                max_bytes=MAX_RECORD_BYTES, held=held)
        return None if etag is None else ClaimTicket(key, etag)

    async def mark_sent(self, ticket: ClaimTicket) -> None:
        blob = self.container.get_blob_client(SENT + ticket.key)
        found = await _read(self.calls, blob)
        if found is None or found[1] != ticket.etag:
            return
        claim = Claim.from_json(found[0])
        sent = Claim(version=1, state="sent", start=claim.start)
        try:
            await self.calls(blob.upload_blob(sent.to_json(), overwrite=True, content_settings=_JSON,
                                              etag=ticket.etag, match_condition=MatchConditions.IfNotModified))
        except (ResourceModifiedError, ResourceNotFoundError):
            log.warning("a reminder claim changed while it was being sent")

    async def release(self, ticket: ClaimTicket) -> None:
        try:
            await self.calls(self.container.delete_blob(SENT + ticket.key, etag=ticket.etag,
                                                        match_condition=MatchConditions.IfNotModified))
        except (ResourceModifiedError, ResourceNotFoundError):
            return

    def lease(self) -> PollerLease:
        return BlobPollerLease(self._storage)
