"""SDK fixes whose defect a count alone cannot see (DESIGN.md section 7, items 5 to 7): each test measures what the
defect does (the event loop held up by a blocking call; msrest clients rebuilt every turn) through the real app.

`python -m tests.fixcheck` disables each fix in turn and shows these tests fail without it."""

from __future__ import annotations

import requests
from botbuilder.core import CardFactory, MessageFactory, TurnContext
from botbuilder.core.adapters import TestAdapter
from botbuilder.schema import Activity, ChannelAccount, ConversationAccount
from jsonpickle.pickler import Pickler
from msrest.configuration import Configuration
from msrest.serialization import Deserializer, Serializer
from msrest.universal_http.requests import ClientRetryPolicy

from app import create_app
from config import Settings
from tests.e2e_support import running_bot
from tests.loopwatch import watch_loop
from tests.test_e2e_conversation import Chat, finish_without_client, meeting_for, result_url, signed_in

__all__ = ["signed_in"]  # the fixture, shared with the conversation tests

SLOW_S = 0.3  # how slowly the cloud answers: a blocking call would hold the loop at least this long
HELD_LIMIT_S = SLOW_S / 2  # with the fix, nothing holds the loop anywhere near that long


async def test_a_slow_entra_never_holds_the_event_loop(cloud):
    # 7.5: stock credentials fetch the bot's token synchronously inside the turn (MSAL discovery + token request);
    # ours fetch it in a worker thread (at start-up, and before expiry) and reuse it.
    cloud.entra.latency_s = SLOW_S
    async with running_bot(cloud) as bot, watch_loop() as watch:
        for _ in range(5):
            assert (await bot.say("help"))[0] == 201
        await cloud.connector.await_activities(5)
    assert watch.worst_s < HELD_LIMIT_S, f"the event loop was held {watch.worst_s * 1000:.0f} ms"
    assert cloud.entra.token_requests == 1


async def test_turns_reuse_the_sdk_clients(cloud, monkeypatch):
    # 7.5/7.6 (cost): stock CloudAdapter builds a ConnectorClient and a TokenApiClient (each an msrest
    # Configuration, retry policy, pipeline and requests Session) on every turn; ours are built once.
    built: list[str] = []
    original = Configuration.__init__

    def counting(self, *args, **kwargs):
        built.append(type(self).__name__)
        original(self, *args, **kwargs)

    monkeypatch.setattr(Configuration, "__init__", counting)
    async with running_bot(cloud) as bot:
        for _ in range(10):
            assert (await bot.say("help"))[0] == 201
        await cloud.connector.await_activities(10)
    assert len(built) <= 2, f"msrest clients built for 10 turns: {built}"


async def test_turns_send_through_the_app_session_not_requests(cloud, sim, signed_in, monkeypatch):
    # 7.6 (cost): the stock connector and token-service clients send each call with `requests` in the default
    # thread pool (a thread hop, requests, urllib3 per call); ours send through the app's aiohttp session.
    meeting = meeting_for(cloud, sim)
    sent: list[str] = []
    original = requests.Session.send
    clients_hosts = (cloud.connector.base_url, cloud.token_service.base_url)

    def counting(self, request, **kwargs):
        if request.url.startswith(clients_hosts):  # not MSAL's or the OpenID metadata's (not per turn)
            sent.append(f"{request.method} {request.path_url.split('?')[0]}")
        return original(self, request, **kwargs)

    async with running_bot(cloud, sim) as bot:
        monkeypatch.setattr(requests.Session, "send", counting)
        chat = Chat(bot)
        await chat.say(f"get link {meeting.join_web_url}")
        result = await finish_without_client(chat)
    assert result_url(result) == meeting.virtual_appointment_url
    assert len(cloud.token_service.calls) >= 2 and len(cloud.connector.activities) == 2  # both clients were used
    assert sent == [], f"sent with requests during the turns: {sent}"


async def test_turns_never_hash_state_with_jsonpickle(cloud, sim, signed_in, monkeypatch):
    # Cost: the stock BotState compares a jsonpickle flatten of the whole state at load and at save (~0.9 ms each,
    # three a turn) to decide whether to write it; ours compares pickled bytes. The flow still carries over turns.
    meeting = meeting_for(cloud, sim)
    flattened: list[int] = []
    original = Pickler.flatten

    def counting(self, obj, *args, **kwargs):
        flattened.append(1)
        return original(self, obj, *args, **kwargs)

    monkeypatch.setattr(Pickler, "flatten", counting)
    async with running_bot(cloud, sim) as bot:
        chat = Chat(bot)
        await chat.say(f"get link {meeting.join_web_url}")
        result = await finish_without_client(chat)  # the form's answer continues the saved dialog
    assert result_url(result) == meeting.virtual_appointment_url
    assert flattened == [], f"{len(flattened)} jsonpickle flattens for a two-turn interaction"


async def test_card_json_skips_msrest_per_value_converters(cloud, sim, signed_in, monkeypatch):
    # Cost: msrest walks an activity's free-form JSON (the cards) value by value, three times to send it; ours copies
    # plain JSON in one pass (bot/sdk/fast_msrest.py), with the same result (tests/test_fast_msrest.py).
    meeting = meeting_for(cloud, sim)
    walked: list[str] = []
    for cls, name in ((Serializer, "serialize_object"), (Deserializer, "deserialize_object")):
        original = getattr(cls, name)

        def counting(self, attr, *args, _original=original, _name=name, **kwargs):
            walked.append(_name)
            return _original(self, attr, *args, **kwargs)

        monkeypatch.setattr(cls, name, counting)
    async with running_bot(cloud, sim) as bot:
        chat = Chat(bot)
        await chat.say(f"get link {meeting.join_web_url}")
        result = await finish_without_client(chat)
    assert result_url(result) == meeting.virtual_appointment_url
    assert walked == [], f"{len(walked)} msrest per-value conversions for one interaction"


async def test_slow_meeting_info_never_holds_the_event_loop(cloud, sim, signed_in):
    # 7.7: stock `TeamsInfo.get_meeting_info` is a synchronous HTTP call on the event loop.
    meeting = meeting_for(cloud, sim, subject="Quarterly review")
    cloud.add_meeting("m1", organizer="alice", title="Quarterly review", graph_id=meeting.id)
    async with running_bot(cloud, sim) as bot:
        chat = Chat(bot, conversation_type="groupChat", meeting_id="m1", mention=True)
        private = Chat(bot)  # issue 15: the flow runs in the one-to-one chat; the meeting is looked up in the group
        cloud.connector.latency_s = SLOW_S
        async with watch_loop() as watch:
            await chat.say("get link")
            await private.reply()  # "we'll carry on here"
            result = await finish_without_client(private)
    assert result_url(result) == meeting.virtual_appointment_url
    assert watch.worst_s < HELD_LIMIT_S, f"the event loop was held {watch.worst_s * 1000:.0f} ms"


def test_create_app_makes_the_msrest_retry_policy_cheap(cloud):
    # 7.6 (cost): msrest's ClientRetryPolicy tests 999 codes against a 500-item list per client (~4 ms CPU);
    # create_app turns it into a set, giving the identical status list.
    statuses = ClientRetryPolicy().policy.status_forcelist
    create_app(Settings.from_mapping(cloud.settings_env()))
    assert isinstance(ClientRetryPolicy.safe_codes, frozenset | set)
    assert ClientRetryPolicy().policy.status_forcelist == statuses


async def test_replies_are_stamped_on_a_shallow_copy_leaving_the_callers_activity_as_it_was(cloud):
    # Cost: stock TurnContext deep-copies every reply, card and all; create_app makes that copy shallow.
    create_app(Settings.from_mapping(cloud.settings_env()))
    adapter = TestAdapter()
    incoming = Activity(type="message", id="in-1", channel_id="msteams", service_url="http://127.0.0.1:1",
                        from_property=ChannelAccount(id="29:alice"), recipient=ChannelAccount(id="28:bot"),
                        conversation=ConversationAccount(id="c1"))
    card = {"type": "AdaptiveCard", "version": "1.5", "body": [{"type": "TextBlock", "text": "hi"}]}
    reply = MessageFactory.attachment(CardFactory.adaptive_card(card))
    await TurnContext(adapter, incoming).send_activity(reply)
    [sent] = adapter.activity_buffer
    assert sent is not reply and sent.attachments[0].content is card  # the card is not deep-copied
    assert (sent.reply_to_id, sent.conversation.id, sent.recipient.id) == ("in-1", "c1", "29:alice")
    assert reply.reply_to_id is None and reply.conversation is None and reply.recipient is None  # caller's untouched


async def test_one_channel_token_is_validated_once_not_per_activity(cloud, monkeypatch):
    # Cost: botbuilder validates the inbound token on every request (JWT parses, an RSA signature check, the
    # endorsement lookup), though the Bot Connector signs an hour of activities with one token; ours, once per token.
    from botframework.connector.auth.jwt_token_extractor import JwtTokenExtractor

    validated: list[str] = []
    original = JwtTokenExtractor.get_identity

    async def counting(self, *args, **kwargs):
        validated.append("token")
        return await original(self, *args, **kwargs)

    monkeypatch.setattr(JwtTokenExtractor, "get_identity", counting)
    async with running_bot(cloud) as bot:
        first = cloud.activity("help")
        token = cloud.channel_token(service_url=first["serviceUrl"])
        for _ in range(10):
            assert (await bot.post(cloud.activity("help"), auth=token))[0] == 201
        await cloud.connector.await_activities(10)
        other = cloud.channel_token(service_url=first["serviceUrl"], expires_in=1800)
        assert (await bot.post(cloud.activity("help"), auth=other))[0] == 201  # another token: validated in full
        await cloud.connector.await_activities(11)
    assert len(validated) == 2, f"validations for 10 activities with one token, then one with another: {validated}"
