"""End to end over the loopback cloud with authentication on: the service foundation (issue 2).

Real aiohttp app, real Teams activity JSON to /api/messages, fakes for connector, Entra ID and OpenID metadata.
"""

from __future__ import annotations

import asyncio

import pytest

from tests.e2e_support import running_bot

pytestmark = pytest.mark.e2e


def _card(activity):
    attachments = activity.get("attachments") or []
    assert attachments, activity
    assert attachments[0]["contentType"] == "application/vnd.microsoft.card.adaptive"
    return attachments[0]["content"]


async def test_signed_message_gets_its_reply_at_the_connector(cloud):
    async with running_bot(cloud) as bot:
        status, _ = await bot.say("help")
        assert status == 201
        [reply] = await cloud.connector.await_activities(1)
        assert _card(reply)["type"] == "AdaptiveCard"
        sent = [r for r in cloud.connector.requests if r["method"] == "POST"]
        assert sent and all(r["authorized"] for r in sent)  # the bot's own Entra token, not just any header


async def test_install_sends_the_welcome_card(cloud):
    async with running_bot(cloud) as bot:
        status, _ = await bot.post(cloud.activity(None, type="installationUpdate", extra={"action": "add"}))
        assert status == 201
        [reply] = await cloud.connector.await_activities(1)
        assert "get link" in str(_card(reply)).lower()


@pytest.mark.parametrize(
    "bad",
    [
        "missing",
        "expired",
        "wrong_signature",
        "unknown_kid",
        "wrong_audience",
        "wrong_serviceurl",
        "not_endorsed",
        "not_a_jwt",
    ],
)
async def test_every_bad_inbound_token_gets_401(cloud, bad):
    tokens = {
        "missing": None,
        "expired": cloud.auth_header(expires_in=-600),
        "wrong_signature": cloud.auth_header(sign_with_unknown_key=True),
        "unknown_kid": cloud.auth_header(kid="nope"),
        "wrong_audience": cloud.auth_header(audience="someone-else"),
        "wrong_serviceurl": cloud.auth_header(service_url="http://127.0.0.1:9/other/"),
        "not_endorsed": cloud.auth_header(endorse_msteams=False),
        "not_a_jwt": "Bearer not.a.jwt",
    }
    async with running_bot(cloud) as bot:
        status, _ = await bot.post(cloud.activity("help"), auth=tokens[bad])
        assert status == 401
        await asyncio.sleep(0.05)
        assert cloud.connector.activities == []  # nothing reached the bot's logic


async def test_invoke_answer_is_serialised_once_and_returns_200(cloud):
    # SDK defect 7.1: without the fix, CloudAdapter serialises the (already serialised) body again and answers 500.
    cloud.token_service.give_token("alice")
    async with running_bot(cloud) as bot:
        value = {"commandId": "getAppointmentLink", "commandContext": "compose"}
        invoke = cloud.invoke("composeExtension/fetchTask", value)
        status, body = await bot.post(invoke)
        assert status == 200
        assert body["task"]["type"] == "continue"
        card = body["task"]["value"]["card"]
        assert card["contentType"] == "application/vnd.microsoft.card.adaptive"
        assert card["content"]["type"] == "AdaptiveCard"


async def test_hundred_turns_cost_one_entra_token_request(cloud):
    # SDK defect 7.5: stock botbuilder makes an Entra token request (and a discovery) per outgoing call.
    async with running_bot(cloud) as bot:
        for _ in range(100):
            status, _ = await bot.say("help")
            assert status == 201
        await cloud.connector.await_activities(100)
        assert cloud.entra.token_requests == 1


async def test_connector_429_then_201_delivers_the_reply_exactly_once(cloud):
    # SDK defect 7.6: stock botbuilder never retries a reply; Teams asks for a retry honouring Retry-After.
    async with running_bot(cloud) as bot:
        cloud.connector.fail_next(429, retry_after="0.2")
        status, _ = await bot.say("help")
        assert status == 201
        [reply] = await cloud.connector.await_activities(1)
        sends = [r for r in cloud.connector.requests if r["method"] == "POST"]
        assert [r["status"] for r in sends] == [429, 200]
        assert _card(reply)["type"] == "AdaptiveCard"


@pytest.mark.parametrize(
    ("content_type", "body", "status"),
    [
        ("text/plain", "hello", 415),
        ("application/json", "{not json", 400),
        ("application/json", "[]", 400),
        ("application/json", '{"text": "no type"}', 400),
    ],
)
async def test_malformed_requests_are_rejected_before_authentication(cloud, content_type, body, status):
    headers = {"Content-Type": content_type, "Authorization": cloud.auth_header()}
    async with running_bot(cloud) as bot:
        status_seen, _ = await _raw_post(bot, body, headers)
        assert status_seen == status


async def _raw_post(bot, body, headers):
    async with bot.session.post(bot.url + "api/messages", data=body, headers=headers) as response:
        return response.status, await response.text()


async def test_healthz(cloud):
    async with running_bot(cloud) as bot, bot.session.get(bot.url + "healthz") as response:
        assert response.status == 200
        assert (await response.json())["status"] == "ok"


async def test_sdk_clients_are_built_once_not_every_turn(cloud, monkeypatch):
    # The SDK builds a ConnectorClient and a TokenApiClient (msrest Configuration, pipeline, Session) per turn.
    from botframework.connector.aio import ConnectorClient
    from botframework.connector.token_api.aio import TokenApiClient

    built = {"connector": 0, "token": 0}
    for name, cls in (("connector", ConnectorClient), ("token", TokenApiClient)):
        original = cls.__init__

        def counting(self, *args, _name=name, _original=original, **kwargs):
            built[_name] += 1
            _original(self, *args, **kwargs)

        monkeypatch.setattr(cls, "__init__", counting)
    async with running_bot(cloud) as bot:
        for _ in range(10):
            assert (await bot.say("help"))[0] == 201
        await cloud.connector.await_activities(10)
    assert built == {"connector": 1, "token": 1}


async def test_a_remembered_token_is_still_checked_against_each_activity(cloud):
    # Validation results are cached per (token, channel, serviceUrl): the same token for another service URL,
    # or one that has expired, is checked in full again.
    token = cloud.auth_header()
    async with running_bot(cloud) as bot:
        assert (await bot.post(cloud.activity("help"), auth=token))[0] == 201
        assert (await bot.post(cloud.activity("help"), auth=token))[0] == 201
        elsewhere = cloud.activity("help")
        elsewhere["serviceUrl"] = "http://127.0.0.1:9/elsewhere/"
        assert (await bot.post(elsewhere, auth=token))[0] == 401
        await cloud.connector.await_activities(2)
