"""SDK defect 7.7: `TeamsInfo.get_meeting_info` makes a *synchronous* HTTP call on the event loop.

The meeting's Graph id comes from Teams' meeting info, `details["msGraphResourceId"]` (a plain dict in the SDK's
model), never from `channelData.meeting.id`, which is the Teams id that Graph rejects ("Meeting Id is corrupted").
The blocking call runs in a worker thread with a time limit; any failure (no RSC consent: 403, not a meeting) is
None, and the dialog then simply asks which meeting.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.core.teams import TeamsInfo

from dialogs.turn import Turn
from graph.models import Meeting, parse_datetime

log = logging.getLogger(__name__)

MEETING_INFO_TIMEOUT_S = 3.0


async def fetch_meeting_off_loop(client: Any, meeting_id: str) -> Any:
    """The SDK's blocking `teams.fetch_meeting` in a worker thread, with a time limit (the fix for 7.7)."""
    return await asyncio.wait_for(asyncio.to_thread(client.teams.fetch_meeting, meeting_id), MEETING_INFO_TIMEOUT_S)


async def this_meeting(context: TurnContext) -> Meeting | None:
    """The Graph id, subject and times of the meeting whose chat this is; None outside a meeting or on failure."""
    meeting_id = Turn.of(context).meeting_id
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
    title = details.get("title")
    return Meeting(
        id=graph_id,
        subject=title if isinstance(title, str) and title else None,
        start=parse_datetime(details.get("scheduledStartTime")),
        end=parse_datetime(details.get("scheduledEndTime")),
    )
