"""Disable one SDK fix and watch its test fail: `pytest --without-fix NAME ...`, or `python -m tests.fixcheck`.

Each entry of FIXES puts back the stock botbuilder 4.17.1 behaviour for exactly one fix of the README's SDK-defect
table (DESIGN.md section 7), by monkeypatching the one named place the fix lives in, for the test's duration only.
`python -m tests.fixcheck` runs every row's tests twice, as shipped and with that one fix disabled, and prints a
table: each row must pass with the fix and fail without it. Production code knows nothing of this (no switch, no
environment variable): the tests reach in, as a reviewer would by deleting the fix.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Fix:
    defect: str
    place: str
    tests: tuple[str, ...]
    disable: Callable[[pytest.MonkeyPatch], None]


def _stock_credentials(mp: pytest.MonkeyPatch) -> None:
    import app
    from bot.sdk.credentials import CachingCredentialsFactory

    class StockCredentials(CachingCredentialsFactory):
        """The SDK's factory: new MicrosoftAppCredentials per call, token fetched synchronously when sending."""

        async def create_credentials(self, app_id: str, oauth_scope: str, login_endpoint: str,
                                     validate_authority: bool) -> Any:
            return await self._sdk.create_credentials(app_id, oauth_scope, login_endpoint, validate_authority)

        async def warm_up(self, oauth_scope: str, login_endpoint: str) -> None:
            return None

    mp.setattr(app, "CachingCredentialsFactory", StockCredentials)


def _stock_clients(mp: pytest.MonkeyPatch) -> None:
    import app

    mp.setattr(app, "CachingBotFrameworkAuthentication", lambda inner: inner)


def _requests_transport(mp: pytest.MonkeyPatch) -> None:
    import bot.sdk.client_cache

    mp.setattr(bot.sdk.client_cache, "use_aiohttp", lambda client, _session: client)


def _jsonpickle_state_hash(mp: pytest.MonkeyPatch) -> None:
    from botbuilder.core.bot_state import CachedBotState

    import app

    mp.setattr(app, "install_fast_state_hash", lambda: None)
    hash_ = CachedBotState.compute_hash
    mp.setattr(CachedBotState, "compute_hash", getattr(hash_, "stock", hash_))


def _msrest_walks(mp: pytest.MonkeyPatch) -> None:
    from botbuilder.schema import Activity

    import bot.adapter
    import bot.sdk.client_cache

    mp.setattr(bot.sdk.client_cache, "use_fast_serializer", lambda client: client)
    mp.setattr(bot.adapter, "activity_from_json", lambda body: Activity().deserialize(body))


def _deep_reply_copy(mp: pytest.MonkeyPatch) -> None:
    import copy

    from botbuilder.core import turn_context

    import app

    mp.setattr(app, "install_shallow_reply_copy", lambda: None)
    mp.setattr(turn_context, "deepcopy", copy.deepcopy)


def _cyclic_turns(mp: pytest.MonkeyPatch) -> None:
    from botbuilder.core import TurnContext
    from botbuilder.dialogs import DialogContext

    import app
    import bot.adapter
    import bot.sdk.turn_cycles

    mp.setattr(app, "install_acyclic_turns", lambda: None)
    mp.setattr(bot.adapter, "end_turn", lambda context: None)
    init, emit = bot.sdk.turn_cycles._dialog_context_init, bot.sdk.turn_cycles._emit
    if DialogContext.__init__ is init:
        mp.setattr(DialogContext, "__init__", init.stock)  # type: ignore[attr-defined]
        mp.delattr(DialogContext, "state")
    if TurnContext._emit is emit:
        mp.setattr(TurnContext, "_emit", emit.stock)  # type: ignore[attr-defined]


def _blocking_meeting_info(mp: pytest.MonkeyPatch) -> None:
    import bot.sdk.meeting_info

    async def on_the_loop(client: Any, meeting_id: str) -> Any:  # what TeamsInfo.get_meeting_info does
        return client.teams.fetch_meeting(meeting_id)

    mp.setattr(bot.sdk.meeting_info, "fetch_meeting_off_loop", on_the_loop)


def _slow_retry_policy(mp: pytest.MonkeyPatch) -> None:
    from msrest.universal_http import requests as msrest_requests

    import app

    policy = msrest_requests.ClientRetryPolicy
    mp.setattr(app, "install_fast_msrest_retry_policy", lambda: None)
    mp.setattr(policy, "safe_codes", sorted(policy.safe_codes))  # msrest ships a list


def _no_reply_retry(mp: pytest.MonkeyPatch) -> None:
    import bot.adapter

    mp.setattr(bot.adapter, "send_with_retry", lambda send, *args: send(*args))


def _serialise_twice(mp: pytest.MonkeyPatch) -> None:
    from botbuilder.core import serializer_helper

    import bot.adapter

    mp.setattr(bot.adapter, "serialise_invoke_body_once", serializer_helper)


def _stock_auth_errors(mp: pytest.MonkeyPatch) -> None:
    from aiohttp import web

    from bot.adapter import LinkBotAdapter

    async def stock(self: LinkBotAdapter, activity: Any, auth_header: str) -> Any:  # CloudAdapter.process's handling
        try:
            return await self.bot_framework_authentication.authenticate_request(activity, auth_header)
        except PermissionError:
            raise web.HTTPUnauthorized from None

    mp.setattr(LinkBotAdapter, "authenticate_or_401", stock)


def _stock_sso_middleware(mp: pytest.MonkeyPatch) -> None:
    from botbuilder.core import MemoryStorage
    from botbuilder.core.teams import TeamsSSOTokenExchangeMiddleware

    import app

    mp.setattr(app, "TeamsSsoExchangeMiddleware",
               lambda tokens, _dedupe: TeamsSSOTokenExchangeMiddleware(MemoryStorage(), tokens.connection_name))


def _no_dedupe(mp: pytest.MonkeyPatch) -> None:
    from bot.storage.dedupe import MemoryExchangeDedupe

    async def accept_all(self: MemoryExchangeDedupe, key: str) -> bool:  # Python MemoryStorage accepts duplicates
        return True

    mp.setattr(MemoryExchangeDedupe, "claim", accept_all)


def _stock_signin_invokes(mp: pytest.MonkeyPatch) -> None:
    from botbuilder.core.teams import TeamsActivityHandler

    from bot.handler import LinkBot

    for name in ("on_teams_signin_verify_state", "on_teams_signin_token_exchange"):
        mp.setattr(LinkBot, name, getattr(TeamsActivityHandler, name))


def _snake_case_oauth_card(mp: pytest.MonkeyPatch) -> None:
    from botbuilder.core import CardFactory
    from botbuilder.schema import CardAction, OAuthCard

    import dialogs.signin.flow
    import dialogs.signin.prompt

    def stock(text: str, title: str, connection_name: str, resource: Any) -> Any:  # as OAuthPrompt builds it
        exchange, post = resource.token_exchange_resource, resource.token_post_resource
        return CardFactory.oauth_card(OAuthCard(
            text=text, connection_name=connection_name,
            buttons=[CardAction(title=title, text=text, type="signin", value=resource.sign_in_link)],
            token_exchange_resource=exchange.as_dict() if exchange else None,
            token_post_resource=post.as_dict() if post else None,
        ))

    mp.setattr(dialogs.signin.prompt, "oauth_card", stock)
    mp.setattr(dialogs.signin.flow, "oauth_card", stock)


FOUNDATION, SIGNIN, E2E_FIXES = ("tests/test_e2e_foundation.py", "tests/test_e2e_signin.py",
                                 "tests/test_sdk_fixes_e2e.py")
FIXES: dict[str, Fix] = {
    "invoke-once": Fix("7.1 invoke bodies serialised twice (HTTP 500)",
                       "bot/sdk/invoke_once.py::serialise_invoke_body_once",
                       (f"{FOUNDATION}::test_invoke_answer_is_serialised_once_and_returns_200",), _serialise_twice),
    "sso-412": Fix("7.2 consent-required exchange crashes (501, not 412)", "bot/sdk/sso_exchange.py",
                   (f"{SIGNIN}::test_consent_required_answers_412_then_the_magic_code_finishes",),
                   _stock_sso_middleware),
    "dedupe": Fix("7.3 duplicate signin/tokenExchange not de-duplicated", "bot/storage/dedupe.py",
                  (f"{SIGNIN}::test_duplicate_exchanges_continue_exactly_once",), _no_dedupe),
    "signin-invokes": Fix("7.4 sign-in invokes answered 501", "bot/handler.py (on_teams_signin_*)",
                          (f"{SIGNIN}::test_silent_sso_in_personal_chat",), _stock_signin_invokes),
    "credentials": Fix("7.5 Entra token fetched per outgoing call, on the event loop", "bot/sdk/credentials.py",
                       (f"{E2E_FIXES}::test_a_slow_entra_never_holds_the_event_loop",), _stock_credentials),
    "client-cache": Fix("7.5/7.6 connector and token clients rebuilt every turn", "bot/sdk/client_cache.py",
                        (f"{E2E_FIXES}::test_turns_reuse_the_sdk_clients",), _stock_clients),
    "aiohttp-transport": Fix("7.6 connector and token clients send with requests in a thread pool",
                             "bot/sdk/aiohttp_transport.py",
                             (f"{E2E_FIXES}::test_turns_send_through_the_app_session_not_requests",),
                             _requests_transport),
    "state-hash": Fix("BotState hashes the whole state with jsonpickle three times a turn",
                      "bot/sdk/state_hash.py::install_fast_state_hash",
                      (f"{E2E_FIXES}::test_turns_never_hash_state_with_jsonpickle",), _jsonpickle_state_hash),
    "turn-cycles": Fix("each turn's dialog contexts, step contexts and TurnContext left in reference cycles",
                       "bot/sdk/turn_cycles.py",
                       ("tests/test_turn_cycles.py::test_warm_turns_leave_no_cyclic_garbage",), _cyclic_turns),
    "fast-msrest": Fix("msrest converts card JSON value by value, three walks to send it",
                       "bot/sdk/fast_msrest.py",
                       (f"{E2E_FIXES}::test_card_json_skips_msrest_per_value_converters",), _msrest_walks),
    "reply-copy": Fix("every reply deep-copied (card and all) before it is sent",
                      "bot/sdk/reply_copy.py::install_shallow_reply_copy",
                      (f"{E2E_FIXES}::test_replies_are_stamped_on_a_shallow_copy_leaving_the_callers_activity_as_it_was",),
                      _deep_reply_copy),
    "retry-policy": Fix("7.6 msrest retry policy costs ~4 ms per client", "bot/sdk/retry_policy.py",
                        (f"{E2E_FIXES}::test_create_app_makes_the_msrest_retry_policy_cheap",), _slow_retry_policy),
    "reply-retry": Fix("7.6 replies never retried on 429/412/5xx", "bot/sdk/reply_retry.py::send_with_retry",
                       (f"{FOUNDATION}::test_connector_429_then_201_delivers_the_reply_exactly_once",),
                       _no_reply_retry),
    "meeting-info": Fix("7.7 TeamsInfo.get_meeting_info blocks the event loop", "bot/sdk/meeting_info.py",
                        (f"{E2E_FIXES}::test_slow_meeting_info_never_holds_the_event_loop",),
                        _blocking_meeting_info),
    "auth-401": Fix("7.8 bad inbound tokens get 500", "bot/adapter.py::LinkBotAdapter.authenticate_or_401",
                    (f"{FOUNDATION}::test_every_bad_inbound_token_gets_401",), _stock_auth_errors),
    "oauth-card": Fix("7.9 OAuthCard resources in snake_case", "dialogs/signin/prompt.py::oauth_card",
                      (f"{SIGNIN}::test_silent_sso_in_personal_chat",), _snake_case_oauth_card),
}


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--without-fix", action="append", default=[], choices=sorted(FIXES),
                     help="disable this SDK fix (stock botbuilder behaviour) for every test; see tests/fixcheck.py")


@pytest.fixture(autouse=True)
def _without_fix(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in request.config.getoption("--without-fix"):
        FIXES[name].disable(monkeypatch)


def _passes(tests: tuple[str, ...], without: str | None) -> bool:
    args = [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:randomly", "-p", "no:cacheprovider", *tests]
    if without:
        args += ["--without-fix", without]
    return subprocess.run(args, cwd=ROOT, capture_output=True, text=True, check=False).returncode == 0  # noqa: S603


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.fixcheck", description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", choices=[[], *sorted(FIXES)], help="fixes to check (default: all)")
    names = parser.parse_args(argv).names or list(FIXES)
    print(f"{'fix':<18}{'with it':<9}{'without':<9}  defect / test")
    bad = 0
    for name in names:
        fix = FIXES[name]
        with_it, without = _passes(fix.tests, None), _passes(fix.tests, name)
        ok = with_it and not without
        bad += not ok
        print(f"{name:<18}{'pass' if with_it else 'FAIL':<9}{'pass' if without else 'fails':<9}"
              f"  {'' if ok else '!! '}{fix.defect}\n{'':<38}{', '.join(t.split('::')[-1] for t in fix.tests)}",
              flush=True)
    print("every fix's test fails without it" if not bad else f"{bad} fix(es) NOT proven by their test")
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
