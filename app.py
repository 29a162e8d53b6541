"""The bot's web service: `create_app(settings)` builds everything; `python app.py` runs it.

Nothing happens at import time. Production (Azure App Service, Linux, Python 3.11): startup command
`python app.py`, with the settings of README.md in the App Service's application settings (infra/azure.bicep).
`python app.py --check [--package ZIP]` checks those settings against the tenant and exits.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import sys
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

from aiohttp import ClientSession, ClientTimeout, TCPConnector, web
from botbuilder.integration.aiohttp import ConfigurationBotFrameworkAuthentication

from bot.adapter import MAX_BODY_BYTES, LinkBotAdapter
from bot.errors import make_on_turn_error
from bot.handler import LinkBot
from bot.local import LocalGraph
from bot.logsafe import configure_logging
from bot.messaging_extension import MessagingExtension
from bot.outbox import add_outbox
from bot.private_chat import PersonalChats
from bot.reminders.clock import Clock
from bot.reminders.setup import Reminders, create_reminders
from bot.sdk import registry as sdk_fixes
from bot.sdk.client_cache import CachingBotFrameworkAuthentication
from bot.sdk.credentials import CachingCredentialsFactory
from bot.sdk.meeting_info import this_meeting
from bot.sdk.sso_exchange import TeamsSsoExchangeMiddleware
from bot.send_guard import SendGuard
from bot.shutdown import run
from bot.storage.state import (
    BotStates,
    Readiness,
    create_dedupe,
    create_send_once,
    create_storage,
    storage_context,
)
from bot.telemetry import record
from bot.telemetry.setup import Telemetry
from bot.telemetry.setup import start as start_telemetry
from bot.tenants import TenantAllowListMiddleware
from config import ConfigError, Settings
from dialogs.cards.language import Catalogs
from dialogs.main import MainDialog
from dialogs.services import DialogServices, TokenProvider
from dialogs.signin.tokens import LocalTokens, TokenServiceTokens, TokenSource
from graph.client import GraphClient
from graph.simulator import serve as serve_simulator

log = logging.getLogger("app")

SETTINGS = web.AppKey("settings", Settings)
ADAPTER = web.AppKey("adapter", LinkBotAdapter)
BOT = web.AppKey("bot", LinkBot)
HTTP = web.AppKey("http", ClientSession)
CREDENTIALS = web.AppKey("credentials", CachingCredentialsFactory)
GRAPH_URL = web.AppKey("graph_url", list)  # [base URL]: the simulator's port is only known once it listens
LOCAL_GRAPH = web.AppKey("local_graph", LocalGraph)
REMINDERS = web.AppKey("reminders", Reminders)
TELEMETRY = web.AppKey("telemetry", Telemetry)
READINESS = web.AppKey("readiness", Readiness)


def create_app(settings: Settings, *, clock: Clock | None = None) -> web.Application:
    """Build the aiohttp application: adapter, bot, state, reminders, routes and the one shared HTTP session.
    `clock` drives the reminder poller's decisions (tests inject one they move by hand)."""
    sdk_fixes.install()  # the SDK patches of bot/sdk/registry.py; the wired fixes are the classes used below
    sdk_config = settings.sdk_config()
    credentials = CachingCredentialsFactory(sdk_config)
    telemetry = start_telemetry(settings.telemetry)  # None unless configured: then nothing is loaded or exported
    app = telemetry.application(client_max_size=MAX_BODY_BYTES) if telemetry else web.Application(
        client_max_size=MAX_BODY_BYTES
    )
    send_guard = SendGuard(settings.trusted_service_urls, local_mode=settings.local_mode)
    if telemetry is not None:
        app[TELEMETRY] = telemetry
        app.cleanup_ctx.append(telemetry.context)  # first in, last out: flushed after the last turn and reminder
    auth = CachingBotFrameworkAuthentication(
        ConfigurationBotFrameworkAuthentication(sdk_config, credentials_factory=credentials), session=lambda: app[HTTP],
        guard=send_guard,
    )
    catalogs = Catalogs.load()
    adapter = LinkBotAdapter(auth, local_mode=settings.local_mode, catalogs=catalogs, send_guard=send_guard)
    storage = create_storage(settings, session=lambda: app[HTTP])
    states = BotStates(storage)
    app.cleanup_ctx.append(_http_session)  # first in, last out: closed after the storage client and the last turn
    app.cleanup_ctx.append(storage_context(storage))  # opens on the HTTP session; closed after the last turn
    graph_url = [settings.graph_endpoint]
    app[GRAPH_URL] = graph_url

    if settings.allowed_tenant_ids:
        adapter.use(TenantAllowListMiddleware(settings.allowed_tenant_ids))
    tokens: TokenSource
    local_token = None
    if settings.local_mode:
        local_graph = LocalGraph()
        app[LOCAL_GRAPH] = local_graph
        app.cleanup_ctx.append(_local_graph_simulator)
        local_tokens = LocalTokens(local_graph.issue_token, local_graph.revoke_token)
        tokens, local_token = local_tokens, local_tokens.token_for
    else:
        service_tokens = TokenServiceTokens(settings.connection_name)
        adapter.use(TeamsSsoExchangeMiddleware(service_tokens, create_dedupe(settings, storage)))
        tokens = service_tokens

    graph_telemetry = record.graph_telemetry()

    def graph_factory(provider: TokenProvider) -> GraphClient:
        return GraphClient(app[HTTP], provider, base_url=graph_url[0], telemetry=graph_telemetry)

    reminders = create_reminders(settings, storage, adapter, graph_factory=graph_factory, local_token=local_token,
                                 clock=clock)
    services = DialogServices(
        tokens=tokens,
        graph_factory=graph_factory,
        this_meeting=this_meeting,
        reminders=reminders.control,
        send_once=create_send_once(settings, storage),
        catalogs=catalogs,
        events=record.DialogEvents(),
    )
    bot = LinkBot(
        states,
        MainDialog(services),
        tokens,
        messaging_extension=MessagingExtension(services),
        personal_chats=PersonalChats(storage, send_guard),
    )
    adapter.on_turn_error = make_on_turn_error(states.reset)

    app[SETTINGS] = settings
    app[ADAPTER] = adapter
    app[BOT] = bot
    app[CREDENTIALS] = credentials
    app[REMINDERS] = reminders
    app[READINESS] = Readiness(storage)
    app.cleanup_ctx.append(reminders.context())  # after the HTTP session: at shutdown it stops (lease back) first
    app.on_startup.append(_warm_up)
    app.on_startup.append(_freeze_startup_objects)
    app.router.add_post("/api/messages", _messages)
    app.router.add_get("/healthz", _healthz)
    app.router.add_get("/readyz", _readyz)
    if settings.local_mode:  # what the bot emailed, as the client gets it (this machine only)
        add_outbox(app, lambda: app[LOCAL_GRAPH].simulator.mail_sent)
    return app


async def _messages(request: web.Request) -> web.StreamResponse:
    app = request.app
    return await app[ADAPTER].process(request, app[BOT])


async def _healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok", "local": request.app[SETTINGS].local_mode})


async def _readyz(request: web.Request) -> web.Response:
    """Readiness: 200 while storage answers, 503 while it does not (a cached probe, not a call per request)."""
    if await request.app[READINESS].ready():
        return web.json_response({"status": "ready"})
    return web.json_response({"status": "storage unreachable"}, status=503)


async def _http_session(app: web.Application) -> AsyncIterator[None]:
    """One aiohttp session per process for Graph and everything else we call ourselves."""
    session = ClientSession(
        connector=TCPConnector(limit=100, ttl_dns_cache=300),
        timeout=ClientTimeout(total=30, connect=5),
    )
    app[HTTP] = session
    yield
    await session.close()


async def _local_graph_simulator(app: web.Application) -> AsyncIterator[None]:
    """Local mode: the Graph simulator in-process, on a loopback port of its own."""
    async with serve_simulator(app[LOCAL_GRAPH].simulator) as url:
        app[GRAPH_URL][0] = url
        yield


async def _freeze_startup_objects(app: web.Application) -> None:
    """Move everything built at start-up (SDK, models, cards) out of the collector's reach: a full collection then
    walks only what turns create, which keeps its pauses of the event loop short. The thresholds stay Python's:
    with turns leaving no cycles (bot/sdk/turn_cycles.py) a full collection is short and rare, and raising the
    oldest threshold only swapped them for younger collections as long in the same measurement (README,
    Benchmarks), while leaving any cyclic garbage that does reach the old generation uncollected for longer."""
    gc.collect()
    gc.freeze()


async def _warm_up(app: web.Application) -> None:
    """Fetch the bot's own Entra token before the first turn, off the event loop. A failure is not fatal:
    the first turn tries again."""
    settings = app[SETTINGS]
    if settings.local_mode:
        return
    scope = settings.sdk_overrides.get("TO_CHANNEL_FROM_BOT_OAUTH_SCOPE", "https://api.botframework.com")
    login = settings.sdk_overrides.get("TO_CHANNEL_FROM_BOT_LOGIN_URL", "")
    try:
        await asyncio.wait_for(app[CREDENTIALS].warm_up(scope, login), timeout=15)
    except Exception as exc:
        log.warning("could not fetch the bot's token at start (%s); will retry on the first turn", type(exc).__name__)


async def _check_tenant(settings: Settings) -> list[str]:
    from bot.config_check import check_tenant  # --check only: the server never loads it

    async with ClientSession(timeout=ClientTimeout(total=30, connect=5)) as session:
        return await check_tenant(settings, session)


def check(settings: Settings, package: Path | None = None) -> int:
    """`--check`: one line per problem, each naming the setting to fix; 0 when everything holds."""
    from manifest.agreement import check_package  # --check only: the package builder (Pillow, schemas) stays unloaded

    problems = asyncio.run(_check_tenant(settings))
    if not settings.local_mode:  # without an app id there is nothing for a package to agree with
        problems += check_package(settings, package)
    for problem in problems:
        print(problem, flush=True)
    if problems:
        print(f"configuration check: {len(problems)} problem(s)", file=sys.stderr)
        return 1
    print("configuration check: the credentials get a token, the OAuth connection exists and the app package "
          "agrees with the settings")
    return 0


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python app.py", description="Run the bot, or check its configuration.")
    parser.add_argument("--check", action="store_true",
                        help="check the settings against the tenant (token, OAuth connection, app package) and exit")
    parser.add_argument("--package", type=Path, help="with --check: the app package (zip or folder) to compare")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the service on HOST:PORT (127.0.0.1 only in local mode), or `--check` the configuration."""
    args = _arguments(argv)
    try:
        settings = Settings.from_env()
        if args.check:
            configure_logging(settings.log_level, secrets=[settings.app_password, settings.blob_connection_string])
            return check(settings, args.package)
        app = create_app(settings)
    except ConfigError as exc:
        print(f"Configuration error: {exc}", file=sys.stderr)
        return 2
    configure_logging(
        settings.log_level,
        secrets=[settings.app_password, settings.blob_connection_string, *settings.telemetry.secrets],
        trace_ids=settings.telemetry.enabled,
    )
    host = settings.listen_host
    if settings.local_mode:
        print(
            f"LOCAL MODE: no MicrosoftAppId, unauthenticated, listening on http://{host}:{settings.port}/api/messages "
            "(this machine only)",
            flush=True,
        )
    return run(app, host, settings.port)


if __name__ == "__main__":
    sys.exit(main())
