"""Hostile size over the wire (issue 16): a body declared too big is refused before it is read; a message longer than
Teams allows is cut to `TEXT_MAX_CHARS` before any dialog looks at it, and is answered while other users are served.
"""

from __future__ import annotations

import asyncio
import json
from urllib.parse import urlsplit

import pytest

from bot.adapter import MAX_BODY_BYTES
from dialogs.cards import strings
from dialogs.commands import TEXT_MAX_CHARS
from tests.e2e_support import card_text, running_bot
from tests.test_e2e_conversation import Chat, meeting_for, signed_in  # noqa: F401  (fixture)
from tests.test_reliability import timed_help

pytestmark = pytest.mark.e2e


async def test_a_body_declared_over_the_limit_gets_413_before_it_is_sent(cloud):
    """Only the headers go out: the answer comes back without the bot waiting for (or reading) a single body byte."""
    async with running_bot(cloud) as bot:
        url = urlsplit(bot.url)
        reader, writer = await asyncio.open_connection(url.hostname, url.port)
        try:
            writer.write(
                f"POST /api/messages HTTP/1.1\r\nHost: {url.netloc}\r\nContent-Type: application/json\r\n"
                f"Authorization: {cloud.auth_header()}\r\nContent-Length: {MAX_BODY_BYTES + 1}\r\n\r\n".encode()
            )
            await writer.drain()
            status_line = await asyncio.wait_for(reader.readline(), 5)
        finally:
            writer.close()
        assert status_line.split()[1] == b"413"


async def test_the_dialogs_never_see_text_beyond_the_cap(cloud, sim, signed_in):  # noqa: F811
    """A valid meeting id past the cap is not found (it would be without the cap); one inside it is."""
    meeting = meeting_for(cloud, sim)
    padding = "x " * (TEXT_MAX_CHARS // 2)
    async with running_bot(cloud, sim) as bot:
        alice = Chat(bot)
        await alice.say(f"get link {padding}{meeting.id}")
        asked = card_text(await alice.reply())
        assert strings.ASK_CLIENT_DETAILS not in asked
        await alice.say("cancel")
        await alice.reply()
        await alice.say(f"get link {meeting.id} {padding}{padding}")
        assert strings.ASK_CLIENT_DETAILS in card_text(await alice.reply())


@pytest.mark.parametrize("shape", ["x", "a.", "<at>", "1 ", "@."])
async def test_a_100_kb_message_is_answered_and_other_users_are_served(cloud, sim, signed_in, shape):  # noqa: F811
    text = "get link " + shape * (100_000 // len(shape))
    async with running_bot(cloud, sim) as bot:
        alice = Chat(bot)
        body = json.dumps(cloud.activity(text, user="alice"))
        assert len(body) > 100_000
        long_turn = asyncio.create_task(alice.say(text))
        assert await timed_help(bot) < 0.5  # bob, meanwhile
        await long_turn
        assert card_text(await alice.reply())
