"""The anchor: a stock botbuilder 4.17.1 echo bot, as the samples write it, with none of this project's fixes.

CloudAdapter + ConfigurationBotFrameworkAuthentication with default settings (authentication on when
MicrosoftAppId is set), a TeamsActivityHandler replying `Echo: <text>`. Only the bench's lag probe and /healthz
are added. Run: `python -m bench.stock_echo` with the loopback cloud's settings in the environment.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from aiohttp import web
from botbuilder.core import MessageFactory, TurnContext
from botbuilder.core.teams import TeamsActivityHandler
from botbuilder.integration.aiohttp import CloudAdapter, ConfigurationBotFrameworkAuthentication

from bench.botproc import install_lag_probe, serve
from config import SDK_PASSTHROUGH


class EchoConfig:
    """The configuration object the SDK reads with getattr."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self.APP_ID = env.get("MicrosoftAppId", "")
        self.APP_PASSWORD = env.get("MicrosoftAppPassword", "")
        self.APP_TYPE = env.get("MicrosoftAppType", "MultiTenant")
        self.APP_TENANTID = env.get("MicrosoftAppTenantId", "")
        for name, attribute in SDK_PASSTHROUGH.items():  # the same names the samples' config.py maps
            if env.get(name):
                setattr(self, attribute, env[name])


class EchoBot(TeamsActivityHandler):
    async def on_message_activity(self, turn_context: TurnContext) -> None:
        await turn_context.send_activity(MessageFactory.text(f"Echo: {turn_context.activity.text}"))


def create_app(env: Mapping[str, str]) -> web.Application:
    adapter = CloudAdapter(ConfigurationBotFrameworkAuthentication(EchoConfig(env)))
    bot = EchoBot()

    async def messages(request: web.Request) -> web.StreamResponse:
        return await adapter.process(request, bot)

    async def healthz(_request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    app = web.Application()
    app.router.add_post("/api/messages", messages)
    app.router.add_get("/healthz", healthz)
    install_lag_probe(app)
    return app


def main() -> None:
    serve(create_app(os.environ))


if __name__ == "__main__":
    main()
