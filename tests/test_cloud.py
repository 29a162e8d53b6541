"""Tests of the loopback test cloud itself, checked against the real SDK, MSAL and PyJWT."""

from __future__ import annotations

import asyncio
import base64
import os
import re
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp
import jwt
import msal
import pytest
import requests
from aiohttp import web
from botbuilder.core import ActivityHandler, TurnContext
from botbuilder.core.teams.teams_activity_extensions import teams_get_meeting_info
from botbuilder.integration.aiohttp import CloudAdapter, ConfigurationBotFrameworkAuthentication
from botbuilder.schema import Activity
from botframework.connector.auth import PasswordServiceClientCredentialFactory
from botframework.connector.auth._user_token_client_impl import _UserTokenClientImpl
from botframework.connector.token_api.models import ErrorResponse, TokenExchangeRequest

from config import Settings
from tests.cloud import LoopbackCloud

SCOPES = ["https://api.botframework.com/.default"]


def _msal_app(cloud: LoopbackCloud, secret: str | None = None) -> msal.ConfidentialClientApplication:
    return msal.ConfidentialClientApplication(
        cloud.app_id, client_credential=secret or cloud.app_password, authority=cloud.entra.authority
    )


def _bot_headers(cloud: LoopbackCloud) -> dict[str, str]:
    return {"Authorization": "Bearer " + cloud.entra.app_token()}


# --- Entra ID --------------------------------------------------------------------------------------------------------

def test_msal_gets_client_credentials_token_over_tls(cloud: LoopbackCloud) -> None:
    assert os.environ["REQUESTS_CA_BUNDLE"] == cloud.ca_bundle

    result = _msal_app(cloud).acquire_token_for_client(SCOPES)

    assert result.get("token_type") == "Bearer", result
    assert cloud.entra.verify_app_token("Bearer " + result["access_token"])
    assert (cloud.entra.discovery_requests, cloud.entra.token_requests) == (1, 1)
    refused = _msal_app(cloud, "wrong-secret").acquire_token_for_client(SCOPES)
    assert refused["error"] == "invalid_client"
    assert cloud.entra.token_requests == 2


def test_entra_failing_then_recovering(cloud: LoopbackCloud) -> None:
    cloud.entra.fail_next(503, retry_after=0)
    app = _msal_app(cloud)

    with pytest.raises(msal.exceptions.MsalServiceError):
        app.acquire_token_for_client(SCOPES)
    assert "access_token" in app.acquire_token_for_client(SCOPES)
    assert cloud.entra.token_requests == 2


def test_untrusted_ca_is_refused(cloud: LoopbackCloud, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REQUESTS_CA_BUNDLE")
    with pytest.raises(requests.exceptions.SSLError):
        _msal_app(cloud).acquire_token_for_client(SCOPES)


def test_sso_token_carries_the_user_and_bot_audience(cloud: LoopbackCloud) -> None:
    token = cloud.entra.sso_token("bob")
    claims = cloud.entra.verify_sso_token(token, f"api://botid-{cloud.app_id}")

    assert claims is not None
    expected = (cloud.user_ids("bob")[1], cloud.tenant_id, "access_as_user")
    assert (claims["oid"], claims["tid"], claims["scp"]) == expected
    assert claims["upn"] == claims["preferred_username"] == "bob@contoso.example"
    assert cloud.entra.verify_sso_token(cloud.entra.sso_token("bob", audience="api://other"),
                                        f"api://botid-{cloud.app_id}") is None


# --- inbound channel tokens ------------------------------------------------------------------------------------------

BAD_TOKENS: dict[str, tuple[dict[str, Any], type[Exception]]] = {
    "expired": ({"expires_in": -600}, jwt.ExpiredSignatureError),
    "not_yet_valid": ({"not_before_offset": 900}, jwt.ImmatureSignatureError),
    "wrong_signature": ({"sign_with_unknown_key": True}, jwt.InvalidSignatureError),
    "unknown_kid": ({"kid": "no-such-key"}, IndexError),
    "wrong_audience": ({"audience": "00000000-0000-0000-0000-000000000000"}, PermissionError),
    "wrong_serviceurl": ({"service_url": "https://smba.trafficmanager.net/emea/"}, PermissionError),
    "wrong_issuer": ({"issuer": "https://issuer.example"}, PermissionError),
    "not_endorsed_for_msteams": ({"endorse_msteams": False}, Exception),
}


def _sdk_auth(cloud: LoopbackCloud) -> ConfigurationBotFrameworkAuthentication:
    return ConfigurationBotFrameworkAuthentication(Settings.from_mapping(cloud.settings_env()).sdk_config())


async def test_channel_token_passes_the_sdk_validation(cloud: LoopbackCloud) -> None:
    activity = Activity().deserialize(cloud.activity())

    result = await _sdk_auth(cloud).authenticate_request(activity, cloud.auth_header())

    claims = result.claims_identity.claims
    assert result.claims_identity.is_authenticated
    assert (claims["aud"], claims["serviceurl"]) == (cloud.app_id, activity.service_url)


@pytest.mark.parametrize("case", sorted(BAD_TOKENS))
async def test_bad_channel_tokens_fail_the_sdk_validation(cloud: LoopbackCloud, case: str) -> None:
    options, error = BAD_TOKENS[case]
    activity = Activity().deserialize(cloud.activity())

    with pytest.raises(error) as raised:
        await _sdk_auth(cloud).authenticate_request(activity, cloud.auth_header(**options))
    if case == "not_endorsed_for_msteams":
        assert "endorsement" in str(raised.value)


def test_jwks_publishes_endorsed_keys(cloud: LoopbackCloud) -> None:
    metadata = requests.get(cloud.openid.metadata_url, timeout=5).json()
    keys = requests.get(metadata["jwks_uri"], timeout=5).json()["keys"]

    by_kid = {key["kid"]: key for key in keys}
    assert "msteams" in by_kid["bf-key-1"]["endorsements"]
    assert "msteams" not in by_kid["bf-key-webchat"]["endorsements"]
    public = jwt.PyJWK(by_kid["bf-key-1"]).key
    claims = jwt.decode(cloud.channel_token(), public, algorithms=["RS256"], audience=cloud.app_id)
    assert claims["iss"] == metadata["issuer"]
    assert cloud.openid.requests == 1


# --- activities ------------------------------------------------------------------------------------------------------

def test_activities_have_the_teams_shape_and_stable_ids(cloud: LoopbackCloud) -> None:
    personal = Activity().deserialize(cloud.activity("get link", user="carol"))
    again = cloud.activity(user="carol")
    meeting = cloud.activity("get link", meeting_id="m1", mention=True)

    teams_id, aad_id = cloud.user_ids("carol")
    assert (personal.from_property.id, personal.from_property.aad_object_id) == (teams_id, aad_id)
    assert teams_id.startswith("29:") and personal.recipient.id == f"28:{cloud.app_id}"
    assert personal.conversation.id == again["conversation"]["id"] and personal.conversation.id.startswith("a:")
    assert personal.channel_data["tenant"]["id"] == again["conversation"]["tenantId"] == cloud.tenant_id
    assert personal.conversation.tenant_id is None  # Teams sends "tenantId"; the SDK model maps "tenantID"
    assert personal.service_url == cloud.connector.service_url and personal.service_url.endswith("/")
    assert personal.entities[0].type == "clientInfo" and personal.id != again["id"]
    chat_id = meeting["conversation"]["id"]
    assert chat_id.startswith("19:meeting_") and chat_id.endswith("@thread.v2")
    meeting_id = teams_get_meeting_info(Activity().deserialize(meeting)).id
    assert base64.b64decode(meeting_id).decode() == f"0#{chat_id}#0" == f"0#{cloud.meeting_ids('m1')[0]}#0"
    assert meeting["text"] == "<at>Bot</at> get link" and meeting["entities"][1]["type"] == "mention"
    invoke = cloud.invoke("signin/tokenExchange", {"id": "x", "token": "t"})
    assert (invoke["type"], invoke["name"], "text" in invoke) == ("invoke", "signin/tokenExchange", False)


# --- connector -------------------------------------------------------------------------------------------------------

def test_connector_records_activities_and_honours_429(cloud: LoopbackCloud) -> None:
    url = f"{cloud.connector.base_url}/v3/conversations/{quote('a:1xyz')}/activities/123"
    cloud.connector.fail_next(429, retry_after=2, path_contains="/activities")

    throttled = requests.post(url, json={"type": "message", "text": "one"}, headers=_bot_headers(cloud), timeout=5)
    sent = requests.post(url, json={"type": "message", "text": "one"}, headers=_bot_headers(cloud), timeout=5)

    assert (throttled.status_code, throttled.headers["Retry-After"]) == (429, "2")
    assert sent.status_code == 200 and sent.json()["id"]
    assert [a["text"] for a in cloud.connector.wait_for_activities(1)] == ["one"]
    assert [(r["path"], r["status"], r["authorized"]) for r in cloud.connector.requests] == [
        ("/v3/conversations/a:1xyz/activities/123", 429, True),
        ("/v3/conversations/a:1xyz/activities/123", 200, True),
    ]


def test_connector_refuses_missing_or_foreign_tokens(cloud: LoopbackCloud) -> None:
    url = f"{cloud.connector.base_url}/v3/conversations/c1/activities"
    foreign = "Bearer " + cloud.entra.sso_token("alice")

    missing = requests.post(url, json={"type": "message"}, timeout=5)
    wrong = requests.post(url, json={"type": "message"}, headers={"Authorization": foreign}, timeout=5)

    assert (missing.status_code, wrong.status_code) == (401, 401)
    assert cloud.connector.activities == []
    recorded = [(r["has_authorization"], r["authorized"]) for r in cloud.connector.requests]
    assert recorded == [(False, False), (True, False)]
    with pytest.raises(AssertionError, match="expected 1 activities"):
        cloud.connector.wait_for_activities(1, timeout=0.05)


def test_connector_answers_members_and_meetings(cloud: LoopbackCloud) -> None:
    activity = cloud.activity(meeting_id="weekly", user="dave")
    conversation = quote(activity["conversation"]["id"], safe="")
    info = cloud.add_meeting("weekly", organizer="dave", title="Mortgage review")
    meeting_id = quote(activity["channelData"]["meeting"]["id"], safe="")
    base, headers = cloud.connector.base_url, _bot_headers(cloud)

    member = requests.get(f"{base}/v3/conversations/{conversation}/members/{quote(activity['from']['id'])}",
                          headers=headers, timeout=5).json()
    paged = requests.get(f"{base}/v3/conversations/{conversation}/pagedmembers", headers=headers, timeout=5).json()
    meeting = requests.get(f"{base}/v1/meetings/{meeting_id}", headers=headers, timeout=5)
    participant = requests.get(f"{base}/v1/meetings/{meeting_id}/participants/{member['aadObjectId']}",
                               params={"tenantId": cloud.tenant_id}, headers=headers, timeout=5).json()
    unknown = requests.get(f"{base}/v1/meetings/{quote('bm9wZQ==', safe='')}", headers=headers, timeout=5)

    assert (member["aadObjectId"], member["userPrincipalName"], member["tenantId"]) == (
        cloud.user_ids("dave")[1], "dave@contoso.example", cloud.tenant_id)
    assert [m["id"] for m in paged["members"]] == [member["id"]]
    assert meeting.status_code == 200 and meeting.json() == info
    assert info["details"]["title"] == "Mortgage review" and info["details"]["joinUrl"].startswith("https://teams.")
    assert participant["meeting"]["role"] == "Organizer"
    assert unknown.status_code == 404


def _open_chat(cloud: LoopbackCloud, body: dict[str, Any]) -> requests.Response:
    return requests.post(f"{cloud.connector.base_url}/v3/conversations", json=body, headers=_bot_headers(cloud),
                         timeout=5)


def test_connector_opens_one_to_one_chats_like_teams(cloud: LoopbackCloud) -> None:
    erin = cloud.user("erin")
    bot = {"id": f"28:{cloud.app_id}"}
    by_teams_id = _open_chat(cloud, {"bot": bot, "isGroup": False, "members": [{"id": erin.teams_id}],
                                     "tenantId": cloud.tenant_id})
    by_aad_id = _open_chat(cloud, {"bot": bot, "members": [{"id": erin.aad_object_id}],
                                   "channelData": {"tenant": {"id": cloud.tenant_id}}})

    personal = cloud.activity(user="erin")["conversation"]["id"]  # what erin's own messages carry
    assert by_teams_id.status_code == by_aad_id.status_code == 201
    assert by_teams_id.json()["id"] == by_aad_id.json()["id"] == personal
    assert cloud.connector.personal_conversation("erin") == personal
    assert by_teams_id.json()["serviceUrl"] == cloud.connector.service_url
    assert cloud.connector.created_conversations == [
        {"id": personal, "members": [erin.teams_id], "isGroup": False, "tenantId": cloud.tenant_id, "bot": bot},
        {"id": personal, "members": [erin.aad_object_id], "isGroup": None, "tenantId": cloud.tenant_id, "bot": bot},
    ]


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ({"isGroup": True}, 400),
        ({"members": []}, 400),
        ({"members": [{"id": "erin"}, {"id": "frank"}]}, 400),
        ({"tenantId": "another-tenant"}, 400),
        ({"tenantId": None}, 400),
        ({"members": [{"id": "29:1nobody"}]}, 404),
    ],
)
def test_connector_refuses_what_teams_refuses(cloud: LoopbackCloud, change: dict[str, Any], status: int) -> None:
    cloud.user("frank")
    body = {"bot": {"id": f"28:{cloud.app_id}"}, "isGroup": False, "members": [{"id": cloud.user("erin").teams_id}],
            "tenantId": cloud.tenant_id, **change}
    assert _open_chat(cloud, body).status_code == status
    assert cloud.connector.created_conversations == []


def test_connector_refuses_personal_chats_on_demand(cloud: LoopbackCloud) -> None:
    erin, frank = cloud.user("erin"), cloud.user("frank")

    def open_for(user: Any) -> requests.Response:
        return _open_chat(cloud, {"isGroup": False, "members": [{"id": user.teams_id}], "tenantId": cloud.tenant_id})

    cloud.connector.refuse_personal_chat(403, user="frank")
    refused, allowed = open_for(frank), open_for(erin)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "BotNotInConversationRoster"
    assert allowed.status_code == 201
    cloud.connector.refuse_personal_chat(404)
    assert open_for(erin).status_code == 404
    assert [c["members"] for c in cloud.connector.created_conversations] == [[erin.teams_id]]
    with pytest.raises(ValueError):
        cloud.connector.refuse_personal_chat(500)
    cloud.connector.reset()
    assert open_for(frank).status_code == 201


def test_connector_keeps_activities_per_conversation(cloud: LoopbackCloud) -> None:
    base, headers = cloud.connector.base_url, _bot_headers(cloud)
    for conversation, text in (("19:group@thread.v2", "one"), ("a:1me", "two"), ("19:group@thread.v2", "three")):
        url = f"{base}/v3/conversations/{quote(conversation, safe='')}/activities"
        assert requests.post(url, json={"type": "message", "text": text}, headers=headers, timeout=5).ok
    reply = f"{base}/v3/conversations/{quote('a:1me', safe='')}/activities/123"
    assert requests.post(reply, json={"type": "message", "text": "four"}, headers=headers, timeout=5).ok

    assert [a["text"] for a in cloud.connector.activities_in("19:group@thread.v2")] == ["one", "three"]
    assert [a["text"] for a in cloud.connector.activities_in("a:1me")] == ["two", "four"]
    assert cloud.connector.activities_in("nowhere") == []


async def test_await_activities_does_not_block_the_callers_loop(cloud: LoopbackCloud) -> None:
    url = f"{cloud.connector.base_url}/v3/conversations/c1/activities"
    waiting = asyncio.create_task(cloud.connector.await_activities(1, timeout=2.0))
    await asyncio.sleep(0.02)
    async with aiohttp.ClientSession() as session, session.post(
        url, json={"type": "message", "text": "late"}, headers=_bot_headers(cloud)
    ) as response:
        assert response.status == 201

    assert [a["text"] for a in await waiting] == ["late"]


# --- token service ---------------------------------------------------------------------------------------------------

def _user_token_client(cloud: LoopbackCloud) -> _UserTokenClientImpl:
    factory = PasswordServiceClientCredentialFactory(cloud.app_id, cloud.app_password)
    credentials = asyncio.run(factory.create_credentials(cloud.app_id, SCOPES[0].removesuffix("/.default"),
                                                          cloud.entra.authority, True))
    return _UserTokenClientImpl(cloud.app_id, credentials, cloud.token_service.base_url)


async def test_token_service_sso_round_trip_through_the_sdk(cloud: LoopbackCloud) -> None:
    cloud.token_service.token_minter = lambda teams_id, aad_id: f"graph-for-{aad_id}"
    client = await asyncio.to_thread(_user_token_client, cloud)
    activity = Activity().deserialize(cloud.activity("get link"))
    user, connection = activity.from_property.id, "GraphConnection"

    assert await client.get_user_token(user, connection, "msteams", None) is None
    resource = await client.get_sign_in_resource(connection, activity, None)
    assert resource.token_exchange_resource.uri == f"api://botid-{cloud.app_id}"
    assert resource.sign_in_link.startswith(cloud.token_service.base_url + "/signin?state=")
    exchanged = await client.exchange_token(user, connection, "msteams",
                                            TokenExchangeRequest(token=cloud.entra.sso_token("alice")))
    assert exchanged.token == f"graph-for-{cloud.user_ids('alice')[1]}"
    assert (await client.get_user_token(user, connection, "msteams", None)).token == exchanged.token
    await client.sign_out_user(user, connection, "msteams")

    assert not cloud.token_service.has_token("alice")
    page = await asyncio.to_thread(requests.get, resource.sign_in_link, timeout=5)
    code = re.search(r'id="code">(\d{6})<', page.text)
    assert code is not None, page.text
    assert (await client.get_user_token(user, connection, "msteams", code.group(1))).token.startswith("graph-for-")
    assert cloud.token_service.call_names() == [
        "GetToken", "GetSignInResource", "exchange", "GetToken", "SignOut", "GetToken"]
    assert cloud.entra.token_requests == 1


async def test_token_service_exchange_modes_and_magic_code(cloud: LoopbackCloud) -> None:
    client = await asyncio.to_thread(_user_token_client, cloud)
    user = cloud.user_ids("erin")[0]
    sso = TokenExchangeRequest(token=cloud.entra.sso_token("erin"))

    cloud.token_service.exchange_mode = "consent_required"
    refused = await client.exchange_token(user, "GraphConnection", "msteams", sso)
    cloud.token_service.exchange_mode = "ok"
    someone_else = await client.exchange_token(
        user, "GraphConnection", "msteams", TokenExchangeRequest(token=cloud.entra.sso_token("frank")))
    code = cloud.token_service.complete_sign_in("erin")
    wrong_code = await client.get_user_token(user, "GraphConnection", "msteams", "000000" if code != "000000" else "1")
    signed_in = await client.get_user_token(user, "GraphConnection", "msteams", code)

    assert isinstance(refused, ErrorResponse) and refused.error.code == "consent_required"
    assert isinstance(someone_else, ErrorResponse)
    assert wrong_code is None
    assert signed_in.token == cloud.token_service.token_of("erin")


def test_token_service_sign_in_page_and_auth(cloud: LoopbackCloud) -> None:
    base = cloud.token_service.base_url
    params = {"userId": cloud.user_ids("gina")[0], "connectionName": "GraphConnection", "channelId": "msteams"}
    assert requests.get(f"{base}/api/usertoken/GetToken", params=params, timeout=5).status_code == 401
    token = cloud.token_service.give_token("gina")

    got = requests.get(f"{base}/api/usertoken/GetToken", params=params, headers=_bot_headers(cloud), timeout=5)

    assert got.status_code == 200 and got.json()["token"] == token
    assert got.json()["connectionName"] == "GraphConnection"


# --- lifecycle and end to end ----------------------------------------------------------------------------------------

def test_start_and_stop_leave_nothing_behind() -> None:
    before = threading.active_count()
    with LoopbackCloud() as cloud:
        ca = Path(cloud.ca_bundle)
        url = cloud.openid.metadata_url
        assert ca.is_file() and requests.get(url, timeout=5).status_code == 200
        assert threading.active_count() == before + 1
    assert threading.active_count() == before and not ca.exists()
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(url, timeout=5)


class _EchoBot(ActivityHandler):
    async def on_message_activity(self, turn_context: TurnContext) -> None:
        await turn_context.send_activity(f"Echo: {turn_context.activity.text}")


@pytest.fixture
async def echo_bot(cloud: LoopbackCloud) -> AsyncIterator[str]:
    """A stock CloudAdapter echo bot, authentication on, served on 127.0.0.1 from the test's loop."""
    adapter = CloudAdapter(_sdk_auth(cloud))
    bot = _EchoBot()

    async def messages(request: web.Request) -> web.StreamResponse:
        return await adapter.process(request, bot)

    app = web.Application()
    app.router.add_post("/api/messages", messages)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    yield f"http://{host}:{port}"
    await runner.cleanup()


async def test_echo_bot_end_to_end_with_authentication(cloud: LoopbackCloud, echo_bot: str) -> None:
    activity = cloud.activity("hello there")

    async with aiohttp.ClientSession() as session:
        status, _ = await cloud.apost(session, echo_bot, activity)
        refused, _ = await cloud.apost(session, echo_bot, cloud.activity("x"),
                                       auth=cloud.channel_token(audience="someone-else"))
    blocking_status, _ = await asyncio.to_thread(cloud.post, echo_bot, cloud.activity("again"))

    replies = await cloud.connector.await_activities(2)
    assert (status, refused, blocking_status) == (201, 401, 201)
    assert [r["text"] for r in replies] == ["Echo: hello there", "Echo: again"]
    assert replies[0]["replyToId"] == activity["id"]
    assert all(r["authorized"] for r in cloud.connector.requests)
    assert cloud.connector.requests[0]["path"] == f"/v3/conversations/{activity['conversation']['id']}" \
        f"/activities/{activity['id']}"
    assert cloud.entra.token_requests == 2  # stock SDK: a new MSAL app and token request per turn
