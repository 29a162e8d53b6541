"""Turn: the activity read once per turn (pure reading; the e2e tests cover sending)."""

from __future__ import annotations

from botbuilder.core import TurnContext
from botbuilder.core.adapters import TestAdapter
from botbuilder.schema import Activity, ActivityTypes, ChannelAccount, ConversationAccount, Entity

from dialogs.cards import actions
from dialogs.turn import Turn


def context(**fields: object) -> TurnContext:
    activity = Activity(
        type=fields.pop("type", ActivityTypes.message),
        from_property=ChannelAccount(id="29:alice"),
        conversation=ConversationAccount(id="c1", conversation_type=fields.pop("kind", None)),
        **fields,
    )
    return TurnContext(TestAdapter(), activity)


def test_mentions_are_stripped_and_the_reference_kept_in_case():
    turn = Turn.of(context(text="<at>Link Bot</at>  Get   Link  ABC:def", kind="groupChat"))
    assert (turn.command, turn.rest) == ("get link", "ABC:def")
    assert not turn.is_personal and not turn.in_meeting_chat


def test_a_card_button_is_its_command_and_values_are_read():
    turn = Turn.of(context(value={"action": actions.HELP, "x": 1, "meetingRef": "abc"}))
    assert (turn.command, turn.action) == ("help", actions.HELP)
    assert turn.value("meetingRef") == "abc" and turn.value("x") == ""


def test_meeting_tenant_time_zone_and_locale():
    turn = Turn.of(
        context(
            text="hi",
            locale="en-GB",
            channel_data={"meeting": {"id": "MCMx"}, "tenant": {"id": "t1"}},
            entities=[Entity.deserialize({"type": "clientInfo", "timezone": "Europe/London"})],
        )
    )
    assert (turn.meeting_id, turn.tenant_id, turn.time_zone, turn.locale) == ("MCMx", "t1", "Europe/London", "en-GB")
    assert not turn.is_personal and turn.in_meeting_chat  # no conversationType: a meeting chat is shared


def test_read_once_per_turn():
    ctx = context(text="help")
    assert Turn.of(ctx) is Turn.of(ctx)


def test_invokes_have_no_command():
    turn = Turn.of(context(type=ActivityTypes.invoke, name="composeExtension/fetchTask", value={"commandId": "x"}))
    assert (turn.command, turn.text, turn.values) == (None, "", {"commandId": "x"})


async def test_private_replies_are_withheld_outside_a_personal_chat(caplog):
    """Issue 15: `reply` (the link, the client, the calendar, sign-in) never reaches a shared conversation;
    `say_here` (one plain sentence anyone may read) does."""
    sent: dict[str, list[object]] = {}
    for kind in ("personal", "groupChat", "channel"):
        ctx = context(text="get link", kind=kind)
        ctx.on_send_activities(_recorder(sent.setdefault(kind, [])))
        turn = Turn.of(ctx)
        await turn.reply({"type": "AdaptiveCard", "version": "1.5", "body": [{"type": "TextBlock", "text": "link"}]})
        await turn.reply("private sentence")
        await turn.say_here("for everyone")
    assert [getattr(a, "text", None) for a in sent["personal"]] == [None, "private sentence", "for everyone"]
    assert [a.text for a in sent["groupChat"]] == [a.text for a in sent["channel"]] == ["for everyone"]
    assert "withheld a private reply from a groupChat conversation" in caplog.text


def _recorder(into: list[object]):
    async def record(ctx, activities, next_send):
        into.extend(activities)
        return await next_send()

    return record
