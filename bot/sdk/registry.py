"""Every fix this bot makes to botbuilder 4.17.1 and msrest, in one list: what to delete when the SDK is fixed.

A row names the fix as `pytest --without-fix NAME` and `python -m tests.fixcheck` know it, says the defect in one
sentence, where the fix lives, how it is installed, how a test switches it off (the stock SDK behaviour put back for
that test only) and the test that fails without it. A fix is installed in one of three ways:

- `patches`: it changes the SDK's own classes or modules. `install()` applies every row's patches, once per process
  (`create_app` calls it); bot/sdk/patch.py is the only code that assigns to an SDK attribute.
- wired: one of our classes or functions is used where the SDK's would be (app.py builds it, bot/adapter.py or
  bot/handler.py calls it). `stock` puts the SDK's behaviour back into that seam for one test.
- a prompt fix in dialogs/signin/ (dialogs never import bot/, so it stays a subclass there; its row is here).

Production code never switches a fix off: only `switch_off`, which tests.fixcheck's `--without-fix` calls with
pytest's monkeypatch. The `stock` functions import what they reach into when called, so importing this module loads
nothing beyond bot/sdk/.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from bot.sdk import reply_copy, retry_policy, state_hash, turn_cycles
from bot.sdk.patch import Patch, Patcher, apply, restore

FOUNDATION = "tests/test_e2e_foundation.py"
SIGNIN = "tests/test_e2e_signin.py"
E2E_FIXES = "tests/test_sdk_fixes_e2e.py"


@dataclass(frozen=True)
class Fix:
    defect: str  # one sentence, with its DESIGN.md section 7 number when it has one
    place: str  # where the fix lives
    installed: str  # how it takes effect
    tests: tuple[str, ...]  # pytest ids that pass with the fix and fail without it
    patches: tuple[Patch, ...] = ()
    stock: Callable[[Patcher], None] | None = None  # the SDK's behaviour back in our seam, for one test


# --- switching the wired fixes off (tests only) ------------------------------------------------------------------

def _stock_invoke_body(p: Patcher) -> None:
    from botbuilder.core import serializer_helper

    import bot.adapter

    p.setattr(bot.adapter, "serialise_invoke_body_once", serializer_helper)


def _stock_sso_middleware(p: Patcher) -> None:
    from botbuilder.core import MemoryStorage
    from botbuilder.core.teams import TeamsSSOTokenExchangeMiddleware

    from bot.sdk.sso_exchange import TeamsSsoExchangeMiddleware

    async def on_turn(self: TeamsSsoExchangeMiddleware, context: Any, logic: Any) -> None:
        stock = self.__dict__.setdefault(
            "stock", TeamsSSOTokenExchangeMiddleware(MemoryStorage(), self.tokens.connection_name)
        )
        await stock.on_turn(context, logic)

    p.setattr(TeamsSsoExchangeMiddleware, "on_turn", on_turn)


def _no_dedupe(p: Patcher) -> None:
    from bot.storage.dedupe import MemoryExchangeDedupe

    async def accept_all(self: MemoryExchangeDedupe, key: str) -> bool:  # Python MemoryStorage accepts duplicates
        return True

    p.setattr(MemoryExchangeDedupe, "claim", accept_all)


def _stock_signin_invokes(p: Patcher) -> None:
    from botbuilder.core.teams import TeamsActivityHandler

    from bot.handler import LinkBot

    for name in ("on_teams_signin_verify_state", "on_teams_signin_token_exchange"):
        p.setattr(LinkBot, name, getattr(TeamsActivityHandler, name))


def _stock_credentials(p: Patcher) -> None:
    from bot.sdk.credentials import CachingCredentialsFactory

    async def create_credentials(self: CachingCredentialsFactory, app_id: str, oauth_scope: str,
                                 login_endpoint: str, validate_authority: bool) -> Any:
        """The SDK's factory: new MicrosoftAppCredentials per call, token fetched synchronously when sending."""
        return await self._sdk.create_credentials(app_id, oauth_scope, login_endpoint, validate_authority)

    async def warm_up(self: CachingCredentialsFactory, oauth_scope: str, login_endpoint: str) -> None:
        return None

    p.setattr(CachingCredentialsFactory, "create_credentials", create_credentials)
    p.setattr(CachingCredentialsFactory, "warm_up", warm_up)


def _stock_clients(p: Patcher) -> None:
    from bot.sdk.client_cache import CachingBotFrameworkAuthentication, CachingConnectorFactory

    async def create(self: CachingConnectorFactory, service_url: str, audience: str | None = None) -> Any:
        return await self._inner.create(service_url, audience)

    async def create_user_token_client(self: CachingBotFrameworkAuthentication, claims_identity: Any) -> Any:
        return await self._inner.create_user_token_client(claims_identity)

    p.setattr(CachingConnectorFactory, "create", create)
    p.setattr(CachingBotFrameworkAuthentication, "create_user_token_client", create_user_token_client)


def _requests_transport(p: Patcher) -> None:
    import bot.sdk.client_cache

    p.setattr(bot.sdk.client_cache, "use_aiohttp", lambda client, _session: client)


def _msrest_walks(p: Patcher) -> None:
    from botbuilder.schema import Activity

    import bot.adapter
    import bot.sdk.client_cache

    p.setattr(bot.sdk.client_cache, "use_fast_serializer", lambda client: client)
    p.setattr(bot.adapter, "activity_from_json", lambda body: Activity().deserialize(body))


def _cyclic_turn_state(p: Patcher) -> None:
    import bot.adapter

    p.setattr(bot.adapter, "end_turn", lambda context: None)


def _no_reply_retry(p: Patcher) -> None:
    import bot.adapter

    p.setattr(bot.adapter, "send_with_retry", lambda send, *args: send(*args))


def _blocking_meeting_info(p: Patcher) -> None:
    import bot.sdk.meeting_info

    async def on_the_loop(client: Any, meeting_id: str) -> Any:  # what TeamsInfo.get_meeting_info does
        return client.teams.fetch_meeting(meeting_id)

    p.setattr(bot.sdk.meeting_info, "fetch_meeting_off_loop", on_the_loop)


def _stock_auth_errors(p: Patcher) -> None:
    from aiohttp import web

    import bot.adapter

    async def stock(auth: Any, activity: Any, auth_header: str) -> Any:  # CloudAdapter.process's handling
        try:
            return await auth.authenticate_request(activity, auth_header)
        except PermissionError:
            raise web.HTTPUnauthorized from None

    p.setattr(bot.adapter, "authenticate_or_401", stock)


def _validate_every_request(p: Patcher) -> None:
    from bot.sdk.auth_cache import AuthenticationCache

    p.setattr(AuthenticationCache, "get", lambda self, auth_header, activity: None)


def _snake_case_oauth_card(p: Patcher) -> None:
    from botbuilder.core import CardFactory
    from botbuilder.schema import CardAction, OAuthCard

    import dialogs.signin.prompt

    def stock(text: str, title: str, connection_name: str, resource: Any) -> Any:  # as OAuthPrompt builds it
        exchange, post = resource.token_exchange_resource, resource.token_post_resource
        return CardFactory.oauth_card(OAuthCard(
            text=text, connection_name=connection_name,
            buttons=[CardAction(title=title, text=text, type="signin", value=resource.sign_in_link)],
            token_exchange_resource=exchange.as_dict() if exchange else None,
            token_post_resource=post.as_dict() if post else None,
        ))

    p.setattr(dialogs.signin.prompt, "oauth_card", stock)


FIXES: dict[str, Fix] = {
    "invoke-once": Fix(
        "7.1 invoke bodies serialised twice by CloudAdapter (every invoke answer HTTP 500)",
        "bot/sdk/invoke_once.py::serialise_invoke_body_once", "called by bot/adapter.py for every invoke answer",
        (f"{FOUNDATION}::test_invoke_answer_is_serialised_once_and_returns_200",), stock=_stock_invoke_body),
    "sso-412": Fix(
        "7.2 a consent-required token exchange crashes the SDK's middleware and prompt (501, not 412)",
        "bot/sdk/sso_exchange.py, dialogs/signin/prompt.py::TeamsSsoPrompt",
        "app.py uses TeamsSsoExchangeMiddleware in place of TeamsSSOTokenExchangeMiddleware",
        (f"{SIGNIN}::test_consent_required_answers_412_then_the_magic_code_finishes",), stock=_stock_sso_middleware),
    "dedupe": Fix(
        "7.3 duplicate signin/tokenExchange invokes not de-duplicated (Python MemoryStorage accepts them)",
        "bot/storage/dedupe.py, bot/storage/blob.py::BlobExchangeDedupe (claims: bot/storage/claims.py)",
        "bot/storage/state.py::create_dedupe, given to the SSO middleware by app.py",
        (f"{SIGNIN}::test_duplicate_exchanges_continue_exactly_once",), stock=_no_dedupe),
    "signin-invokes": Fix(
        "7.4 sign-in invokes answered 501 by TeamsActivityHandler",
        "bot/handler.py (on_teams_signin_*), dialogs/signin/flow.py::signed_in_without_a_flow",
        "LinkBot overrides the two handlers", (f"{SIGNIN}::test_silent_sso_in_personal_chat",),
        stock=_stock_signin_invokes),
    "credentials": Fix(
        "7.5 the bot's Entra token fetched per outgoing call, synchronously on the event loop",
        "bot/sdk/credentials.py", "app.py gives CachingCredentialsFactory to the SDK's authentication",
        (f"{E2E_FIXES}::test_a_slow_entra_never_holds_the_event_loop",), stock=_stock_credentials),
    "client-cache": Fix(
        "7.5/7.6 a new ConnectorClient and TokenApiClient (msrest configuration, pipeline, session) every turn",
        "bot/sdk/client_cache.py", "app.py wraps the SDK's authentication in CachingBotFrameworkAuthentication",
        (f"{E2E_FIXES}::test_turns_reuse_the_sdk_clients",), stock=_stock_clients),
    "aiohttp-transport": Fix(
        "7.6 the connector and token clients send every call with requests in a thread pool",
        "bot/sdk/aiohttp_transport.py", "applied by bot/sdk/client_cache.py to the clients it caches",
        (f"{E2E_FIXES}::test_turns_send_through_the_app_session_not_requests",), stock=_requests_transport),
    "state-hash": Fix(
        "BotState hashes the whole state with jsonpickle three times a turn to see whether it changed",
        "bot/sdk/state_hash.py", "patch: CachedBotState.compute_hash",
        (f"{E2E_FIXES}::test_turns_never_hash_state_with_jsonpickle",), patches=state_hash.PATCHES),
    "turn-cycles": Fix(
        "each turn's dialog contexts, step contexts and TurnContext left in reference cycles for the collector",
        "bot/sdk/turn_cycles.py",
        "patch: DialogContext.__init__ and .state, TurnContext._emit; end_turn called by bot/adapter.py",
        ("tests/test_turn_cycles.py::test_warm_turns_leave_no_cyclic_garbage",),
        patches=turn_cycles.PATCHES, stock=_cyclic_turn_state),
    "fast-msrest": Fix(
        "msrest converts card JSON value by value, and walks a reply three times to send it",
        "bot/sdk/fast_msrest.py", "used by bot/sdk/client_cache.py (outgoing) and bot/adapter.py (incoming)",
        (f"{E2E_FIXES}::test_card_json_skips_msrest_per_value_converters",), stock=_msrest_walks),
    "reply-copy": Fix(
        "every reply deep-copied, card and all, before it is sent",
        "bot/sdk/reply_copy.py", "patch: botbuilder.core.turn_context.deepcopy",
        (f"{E2E_FIXES}::test_replies_are_stamped_on_a_shallow_copy_leaving_the_callers_activity_as_it_was",),
        patches=reply_copy.PATCHES),
    "retry-policy": Fix(
        "7.6 msrest's retry policy tests every status code against a list each time a client is built",
        "bot/sdk/retry_policy.py", "patch: msrest ClientRetryPolicy.safe_codes",
        (f"{E2E_FIXES}::test_create_app_makes_the_msrest_retry_policy_cheap",), patches=retry_policy.PATCHES),
    "reply-retry": Fix(
        "7.6 replies never retried on 429/412/5xx",
        "bot/sdk/reply_retry.py::send_with_retry", "called by bot/adapter.py for every reply",
        (f"{FOUNDATION}::test_connector_429_then_201_delivers_the_reply_exactly_once",), stock=_no_reply_retry),
    "meeting-info": Fix(
        "7.7 TeamsInfo.get_meeting_info makes a blocking HTTP call on the event loop",
        "bot/sdk/meeting_info.py::fetch_meeting_off_loop", "app.py gives this_meeting to the dialogs",
        (f"{E2E_FIXES}::test_slow_meeting_info_never_holds_the_event_loop",), stock=_blocking_meeting_info),
    "auth-401": Fix(
        "7.8 bad inbound tokens get 500",
        "bot/sdk/auth_errors.py::authenticate_or_401", "called by bot/adapter.py for every inbound request",
        (f"{FOUNDATION}::test_every_bad_inbound_token_gets_401",), stock=_stock_auth_errors),
    "auth-cache": Fix(
        "every inbound request's token validated in full, though the Bot Connector signs an hour of activities with it",
        "bot/sdk/auth_cache.py", "consulted by bot/adapter.py before the SDK's authentication",
        (f"{E2E_FIXES}::test_one_channel_token_is_validated_once_not_per_activity",), stock=_validate_every_request),
    "oauth-card": Fix(
        "7.9 OAuthCard resources in snake_case, so Teams cannot try SSO silently",
        "dialogs/signin/prompt.py::oauth_card", "TeamsSsoPrompt sends it in place of OAuthPrompt's card",
        (f"{SIGNIN}::test_silent_sso_in_personal_chat",), stock=_snake_case_oauth_card),
}


def install(*names: str) -> None:
    """Apply the patches of the named fixes (default: all); idempotent, so every `create_app` may call it."""
    for name in names or tuple(FIXES):
        for patch in FIXES[name].patches:
            apply(patch)


def switch_off(name: str, patcher: Patcher) -> None:
    """Tests only: the stock SDK behaviour instead of fix `name` until `patcher` is undone (the test's end)."""
    fix = FIXES[name]
    for patch in fix.patches:
        restore(patch, patcher)
    patcher.setitem(FIXES, name, replace(fix, patches=()))  # a create_app during the test does not re-install it
    if fix.stock is not None:
        fix.stock(patcher)

