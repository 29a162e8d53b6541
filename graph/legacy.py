"""The deprecated beta `virtualAppointment` resource (stopped returning data 2023-06-30).

Kept apart from the client so nothing new depends on it by accident; every call warns. Use
`GraphClient.get_join_link` instead. PATCH is conditional (`If-Match`); a stale ETag is a 412
(`PreconditionFailed`), which is never retried: re-read, then decide.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from graph.client import GraphClient, meeting_path

_DEPRECATION = "the virtualAppointment resource is deprecated (2023-06-30); use GraphClient.get_join_link"


@dataclass(frozen=True, slots=True)
class VirtualAppointment:
    """The resource as Graph returned it, with the ETag to send in If-Match."""

    etag: str | None
    data: Mapping[str, Any]

    @property
    def client_join_web_url(self) -> str | None:
        value = self.data.get("appointmentClientJoinWebUrl")
        return value if isinstance(value, str) else None


class LegacyVirtualAppointments:
    """PUT/GET/PATCH on `.../onlineMeetings/{id}/virtualAppointment`, always on beta."""

    def __init__(self, client: GraphClient) -> None:
        self._client = client.with_version("beta")

    async def create(
        self,
        meeting_id: str,
        appointment: Mapping[str, Any],
        *,
        user_id: str | None = None,
        deadline: float | None = None,
    ) -> VirtualAppointment:
        """PUT the resource: 201 and the object; its ETag comes from the response header."""
        warnings.warn(_DEPRECATION, DeprecationWarning, stacklevel=2)
        response = await self._client.request(
            "PUT",
            meeting_path(meeting_id, user_id, "/virtualAppointment"),
            json_body=dict(appointment),
            deadline=deadline,
        )
        data = response.value if isinstance(response.value, dict) else {}
        return VirtualAppointment(response.headers.get("ETag") or data.get("@odata.etag"), data)

    async def get(
        self,
        meeting_id: str,
        *,
        user_id: str | None = None,
        deadline: float | None = None,
    ) -> VirtualAppointment:
        warnings.warn(_DEPRECATION, DeprecationWarning, stacklevel=2)
        response = await self._client.request(
            "GET", meeting_path(meeting_id, user_id, "/virtualAppointment"), deadline=deadline
        )
        data = response.value if isinstance(response.value, dict) else {}
        return VirtualAppointment(response.headers.get("ETag") or data.get("@odata.etag"), data)

    async def update(
        self,
        meeting_id: str,
        changes: Mapping[str, Any],
        *,
        etag: str,
        user_id: str | None = None,
        deadline: float | None = None,
    ) -> str | None:
        """PATCH with `If-Match: <etag>`: 204 and the new ETag (if Graph sends one); 412 when `etag` is stale."""
        warnings.warn(_DEPRECATION, DeprecationWarning, stacklevel=2)
        response = await self._client.request(
            "PATCH",
            meeting_path(meeting_id, user_id, "/virtualAppointment"),
            json_body=dict(changes),
            headers={"If-Match": etag},
            idempotent=False,
            deadline=deadline,
        )
        return response.headers.get("ETag")
