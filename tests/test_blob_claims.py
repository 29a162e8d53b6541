"""The one conditional claim (bot/storage/claims.py) against Azurite, edge cases included: what SSO de-duplication
and reminder announcements both rely on."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from azure.core.exceptions import ResourceExistsError
from azure.storage.blob.aio import BlobClient, BlobServiceClient, ContainerClient

from bot.storage.calls import StorageCalls
from bot.storage.claims import claim_blob
from tests.azurite import Azurite

RECORD = b'{"mine": true}'
CALLS = StorageCalls()


@pytest.fixture
async def container(azurite: Azurite) -> AsyncIterator[ContainerClient]:
    service = BlobServiceClient.from_connection_string(azurite.connection_string)
    client = service.get_container_client(f"c-{uuid.uuid4().hex[:20]}")
    await client.create_container()
    try:
        yield client
    finally:
        await service.close()


def standing(body: bytes) -> bool:
    return body != b"lapsed"


async def stored_etag(blob: BlobClient) -> str:
    return str((await blob.get_blob_properties()).etag)


async def test_the_first_claim_creates_and_returns_the_etag_of_what_it_wrote(container: ContainerClient) -> None:
    blob = container.get_blob_client("k")
    etag = await claim_blob(CALLS, blob, RECORD, max_bytes=64, held=standing)
    assert etag is not None and etag == await stored_etag(blob)
    assert await (await blob.download_blob()).readall() == RECORD
    assert await claim_blob(CALLS, blob, b"other", max_bytes=64, held=standing) is None  # it stands: nothing written
    assert await (await blob.download_blob()).readall() == RECORD


async def test_concurrent_claimers_of_a_lapsed_record_win_exactly_once(container: ContainerClient) -> None:
    blob = container.get_blob_client("k")
    assert await claim_blob(CALLS, blob, b"lapsed", max_bytes=64, held=standing) is not None
    results = await asyncio.gather(*(
        claim_blob(CALLS, container.get_blob_client("k"), f"claimer {n}".encode(), max_bytes=64, held=standing)
        for n in range(8)
    ))
    winners = [n for n, etag in enumerate(results) if etag is not None]
    assert len(winners) == 1
    assert results[winners[0]] == await stored_etag(blob)
    assert await (await blob.download_blob()).readall() == f"claimer {winners[0]}".encode()


async def test_an_oversize_record_is_taken_over_unread(container: ContainerClient) -> None:
    blob = container.get_blob_client("k")
    await blob.upload_blob(b"x" * 1000)

    def never_asked(body: bytes) -> bool:
        raise AssertionError("an oversize record must not be read")

    etag = await claim_blob(CALLS, blob, RECORD, max_bytes=64, held=never_asked)
    assert etag == await stored_etag(blob)
    assert await (await blob.download_blob()).readall() == RECORD


class VanishingBlob:
    """The real blob client, except that the record is deleted (a release, a lifecycle rule) just after one step."""

    def __init__(self, blob: BlobClient, after: str) -> None:
        self.blob, self.after, self.deleted = blob, after, False

    async def _vanish(self, step: str) -> None:
        if step == self.after and not self.deleted:
            self.deleted = True
            await self.blob.delete_blob()

    async def upload_blob(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return await self.blob.upload_blob(*args, **kwargs)
        except ResourceExistsError:
            await self._vanish("exists")
            raise

    async def download_blob(self, **kwargs: Any) -> Any:
        download = await self.blob.download_blob(**kwargs)
        await self._vanish("read")
        return download


@pytest.mark.parametrize("after", ["exists", "read"])
async def test_a_record_that_vanishes_midway_is_claimed_not_given_up(container: ContainerClient, after: str) -> None:
    blob = container.get_blob_client("k")
    await blob.upload_blob(b"lapsed")
    vanishing = VanishingBlob(blob, after)
    etag = await claim_blob(CALLS, vanishing, RECORD, max_bytes=64, held=standing)  # type: ignore[arg-type]
    assert vanishing.deleted
    assert etag is not None and etag == await stored_etag(blob)
    assert await (await blob.download_blob()).readall() == RECORD
