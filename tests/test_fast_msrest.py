"""bot/sdk/fast_msrest.py gives exactly what msrest gives: every reply our bot builds serialises to the same JSON, every
inbound Teams activity deserialises to the same activity, and what the fast paths do not cover falls back to msrest.
"""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from botbuilder.core import CardFactory, MessageFactory, TurnContext
from botbuilder.schema import (
    Activity,
    CardAction,
    ChannelAccount,
    ConversationAccount,
    Entity,
    Mention,
    SuggestedActions,
)
from botframework.connector.aio import ConnectorClient
from botframework.connector.auth import MicrosoftAppCredentials
from hypothesis import given, settings
from hypothesis import strategies as st
from msrest.serialization import Deserializer, Serializer

from bot.sdk.fast_msrest import FastSerializer, _well_typed, activity_from_json, use_fast_serializer
from dialogs.cards.samples import sample_cards
from tests.cloud import LoopbackCloud

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=30,
)
CLOUD = LoopbackCloud()  # not started: only its activity factory is used
MODELS = Activity._infer_class_models()


def _incoming() -> list[dict[str, Any]]:
    return [
        CLOUD.activity("get link https://teams.microsoft.com/l/meetup-join/19%3a1%40thread.v2/0"),
        CLOUD.activity(None, value={"action": "skip", "clientName": "Alex", "n": [1, 2.5, True, None]}),
        CLOUD.activity("get link", conversation_type="groupChat", meeting_id="m1", mention=True),
        CLOUD.invoke("composeExtension/submitAction", {"commandId": "getAppointmentLink", "data": {"x": {}}}),
        CLOUD.invoke("signin/tokenExchange", {"id": "abc", "connectionName": "c", "token": "t"}),
        CLOUD.activity("hi", extra={"timestamp": "2026-12-01T10:00:00.123Z",
                                    "localTimestamp": "2026-12-01T11:00:00+01:00", "someNewField": {"x": 1},
                                    "from": {"id": "29:1", "aadObjectId": "a", "role": "user", "extra": True}}),
    ]


def _replies() -> list[Activity]:
    incoming = Activity().deserialize(_incoming()[2])
    reference = TurnContext.get_conversation_reference(incoming)
    replies = [MessageFactory.attachment(CardFactory.adaptive_card(build())) for build in sample_cards().values()]
    replies.append(MessageFactory.text("plain text", input_hint="acceptingInput"))
    plus_one = datetime.timezone(datetime.timedelta(hours=1))
    replies.append(Activity(  # every attribute type a well-typed activity holds: datetimes, entities, actions, ints
        type="message", text="t", timestamp=datetime.datetime(2026, 12, 1, 10, 0, 0, 5000, datetime.UTC),
        local_timestamp=datetime.datetime(2026, 12, 1, 11, 0, tzinfo=plus_one), entities=[Entity(type="clientInfo")],
        suggested_actions=SuggestedActions(to=["29:1"], actions=[CardAction(type="imBack", title="x", value={"a": 1})]),
        channel_data={"notification": {"alert": True}}, importance="high", expiration=None,
    ))
    mention = Activity(type="message", text="<at>Alex</at> hi",
                       entities=[Mention(mentioned=ChannelAccount(id="29:1", name="Alex"), text="<at>Alex</at>")])
    sloppy = Activity(type="message", text="x", from_property={"id": "28:bot", "name": "Bot"},  # a dict, not a model
                      conversation=ConversationAccount(id="a:1"), timestamp=datetime.datetime(2026, 12, 1, 10, 0, 0,
                                                                                                123000, datetime.UTC))
    replies += [mention, sloppy]
    return [TurnContext.apply_conversation_reference(reply, reference) for reply in replies[:-2]] + replies[-2:]


@pytest.mark.parametrize("reply", _replies(), ids=lambda a: (a.text or "card")[:12])
def test_replies_serialise_as_msrest_serialises_them(reply):
    assert FastSerializer(MODELS).body(reply, "Activity") == Serializer(MODELS).body(reply, "Activity")


def test_the_bots_replies_take_the_fast_path_and_odd_ones_do_not():
    *ours, mention, sloppy = _replies()
    assert all(_well_typed(reply, "Activity", MODELS) for reply in ours)
    assert not _well_typed(mention, "Activity", MODELS)  # an Entity subclass: msrest's own way
    assert not _well_typed(sloppy, "Activity", MODELS)  # a dict where a model belongs: msrest rebuilds it


@pytest.mark.parametrize("body", _incoming(), ids=lambda a: a.get("name") or a.get("text") or "submit")
def test_inbound_activities_deserialise_as_msrest_does(body):
    ours, stock = activity_from_json(body), Activity().deserialize(body)
    assert type(ours) is Activity
    assert ours.serialize() == stock.serialize()
    assert ours.value == stock.value and ours.channel_data == stock.channel_data
    assert ours.additional_properties == stock.additional_properties
    assert ours.from_property.additional_properties == stock.from_property.additional_properties


@settings(max_examples=60, deadline=None)
@given(value=JSON, channel_data=JSON)
def test_any_json_payload_round_trips_as_msrest(value, channel_data):
    body = {**_incoming()[1], "value": value, "channelData": channel_data}
    ours, stock = activity_from_json(body), Activity().deserialize(body)
    assert ours.value == stock.value and ours.channel_data == stock.channel_data
    assert FastSerializer(MODELS).body(ours, "Activity") == Serializer(MODELS).body(stock, "Activity")


def test_malformed_bodies_fail_as_msrest_fails():
    for body in ({"type": "message", "timestamp": "not a date"}, {"type": "message", "entities": "nope"}):
        with pytest.raises(Exception) as stock:
            Deserializer(MODELS)("Activity", body)
        with pytest.raises(type(stock.value)):
            activity_from_json(body)


def test_a_connector_client_gets_the_fast_serialisers_in_every_operation_group():
    client = use_fast_serializer(ConnectorClient(MicrosoftAppCredentials("", ""), base_url="http://127.0.0.1:1"))
    assert isinstance(client.conversations._serialize, FastSerializer)
    assert client.conversations._deserialize is client.attachments._deserialize
