"""One conditional claim on Azure Blob Storage, shared by SSO de-duplication and reminder announcements.

A claim is a small record blob: whoever creates it (If-None-Match: *) wins; while it stands every later claimer
loses; once it has lapsed, the next claimer takes it over with a write conditional on the ETag it read, so two
claimers racing for a lapsed record cannot both win. What "lapsed" means is the caller's (an expiry time, a state):
the helper only reads the record and asks.

Edge cases, decided once for both callers:
- a record too large to be one of ours counts as lapsed (taken over) after a ranged read of at most `max_bytes + 1`
  bytes (never downloaded whole), as does one the caller cannot decode: no stored bytes can block a claim for
  longer than the caller's own records would;
- a record that vanishes between our steps (released, or deleted by a lifecycle rule) means nobody holds it: the
  claim starts over, a bounded number of times, rather than giving up a claim nobody else has. A lost conditional
  write also starts over, because Azure answers "changed" and "gone" alike (412): the next look finds the
  winner's record standing and loses then;
- every request goes through the caller's `StorageCalls` (bot/storage/calls.py): within its deadline, or
  `StorageUnavailableError`, which fails the claim closed (the caller runs nothing); a create that reached the
  account anyway leaves a record nobody holds, which `held` judges like any other (an SSO claim expires; a
  reminder claim stands: at most once);
- the winner gets the ETag of the record it wrote (from the write itself, not a re-read), so it can later update
  or release exactly that record.
"""

from __future__ import annotations

from collections.abc import Callable

from azure.core import MatchConditions
from azure.core.exceptions import ResourceExistsError, ResourceModifiedError, ResourceNotFoundError
from azure.storage.blob import ContentSettings
from azure.storage.blob.aio import BlobClient

from bot.storage.calls import StorageCalls, read_bounded

JSON = ContentSettings(content_type="application/json")
ATTEMPTS = 3  # each lost attempt means the record vanished under us; more than that is not worth a turn's time


async def claim_blob(
    calls: StorageCalls, blob: BlobClient, record: bytes, *, max_bytes: int, held: Callable[[bytes], bool]
) -> str | None:
    """Create `record` if absent, else take over a lapsed record with an ETag-conditional write. Returns the ETag of
    the record written (the claim is ours), or None (another claimer holds it, or took it over first). `held(body)`
    says whether a stored record still stands; bodies over `max_bytes` are never passed to it (they count as lapsed).
    """
    for _ in range(ATTEMPTS):
        try:
            created = await calls(blob.upload_blob(record, overwrite=False, content_settings=JSON))
            return str(created["etag"])
        except ResourceExistsError:
            pass
        found = await read_bounded(calls, blob, max_bytes)
        if found is None:
            continue  # released between our create and read: create it again
        body, etag = found
        if body is not None and held(body):
            return None
        try:
            taken = await calls(blob.upload_blob(
                record, overwrite=True, etag=etag,
                match_condition=MatchConditions.IfNotModified, content_settings=JSON,
            ))
        except (ResourceModifiedError, ResourceNotFoundError):
            continue  # taken over first by another claimer, or released (Azure answers both with 412): look again
        return str(taken["etag"])
    return None
