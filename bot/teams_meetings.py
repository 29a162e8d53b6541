"""SDK defect 7.7: `TeamsInfo.get_meeting_info` makes a *synchronous* HTTP call on the event loop.

The meeting's Graph id comes from Teams' meeting info, `details["msGraphResourceId"]` (a plain dict in the SDK's
model), never from `channelData.meeting.id`, which is the Teams id that Graph rejects ("Meeting Id is corrupted").
The blocking call runs in a worker thread with a time limit; any failure (no RSC consent: 403, not a meeting) is
None, and the dialog then simply asks which meeting.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.core.teams import TeamsInfo

from dialogs.linking import teams_meeting_id
from dialogs.services import ThisMeeting

log = logging.getLogger(__name__)

MEETING_INFO_TIMEOUT_S = 3.0


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


async def fetch_meeting_off_loop(client: Any, meeting_id: str) -> Any:
    """The SDK's blocking `teams.fetch_meeting` in a worker thread, with a time limit (the fix for 7.7)."""
    return await asyncio.wait_for(asyncio.to_thread(client.teams.fetch_meeting, meeting_id), MEETING_INFO_TIMEOUT_S)


async def this_meeting(context: TurnContext) -> ThisMeeting | None:
    """The Graph id, subject and times of the meeting whose chat this is; None outside a meeting or on failure."""
    meeting_id = teams_meeting_id(context)
    if meeting_id is None:
        return None
    try:
        client = await TeamsInfo.get_teams_connector_client(context)
        info = await fetch_meeting_off_loop(client, meeting_id)
    except Exception as exc:
        log.info("meeting info unavailable: %s", type(exc).__name__)
        return None
    details = info.details if isinstance(getattr(info, "details", None), dict) else {}
    graph_id = details.get("msGraphResourceId")
    if not isinstance(graph_id, str) or not graph_id:
        return None
    return ThisMeeting(
        graph_id=graph_id,
        subject=details.get("title"),
        start=_time(details.get("scheduledStartTime")),
        end=_time(details.get("scheduledEndTime")),
    )
