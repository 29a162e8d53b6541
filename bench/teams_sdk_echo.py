"""The second anchor: the Teams SDK for Python (`microsoft-teams-apps`) quick-start echo bot, authentication on.

Runs in the venv `bench/teams_sdk.py` builds (never the project's: the SDK brings FastAPI, uvicorn, httpx and
pydantic), as `<that venv>/bin/python -m bench.teams_sdk_echo` with the loopback cloud's settings in the
environment. It imports nothing from the project but the standard-library bench harness.

The bot is the quick-start's: `App(...)` and one `@app.on_message` handler sending one reply (`Echo: <text>`, the
stock echo's text, so both anchors send one reply and the bench checks both the same way; the quick-start's extra
typing indicator is left out). Inbound JWT validation stays on (credentials set), and replies carry the bot's
Entra token (MSAL client credentials, cached by MSAL). Only what points it at the loopback cloud is added:
- `cloud=with_overrides(PUBLIC, ...)`: OpenID metadata (its keys URL is derived from it), token issuer, login
  endpoint and tenant (the fake Entra is an `adfs`-style authority, as for the other two bots), bot scope and
  token service.
- MSAL validates any authority host it does not know by asking the public login host (instance discovery) and the
  SDK has no switch for it, so the fake Entra's host joins MSAL's well-known hosts: nothing leaves 127.0.0.1 even if
  the SDK builds a tenant authority.
- uvicorn serves on the bench's 127.0.0.1 socket (the SDK's default binds 0.0.0.0:3978) with its access log off,
  as aiohttp's is for the other two bots; plus `/healthz` and the event-loop meters at `/bench/lag`.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
from collections.abc import AsyncIterator, Mapping
from typing import Any
from urllib.parse import urlsplit

import msal.authority
import uvicorn
from fastapi import FastAPI
from microsoft_teams.api import MessageActivity
from microsoft_teams.api.auth.cloud_environment import PUBLIC, CloudEnvironment, with_overrides
from microsoft_teams.apps import ActivityContext, App
from microsoft_teams.apps.http import FastAPIAdapter

from bench.harness import install_stall_meter, listening_socket, read_out, sample_lag


def loopback_cloud(env: Mapping[str, str]) -> CloudEnvironment:
    """The SDK's cloud environment from the same settings the other two bots read (config.SDK_PASSTHROUGH names)."""
    login = urlsplit(env["ToChannelFromBotLoginUrl"])  # https://127.0.0.1:<port>/adfs
    return with_overrides(
        PUBLIC,
        login_endpoint=f"{login.scheme}://{login.netloc}",
        login_tenant=login.path.strip("/"),
        bot_scope=env["ToChannelFromBotOAuthScope"].rstrip("/") + "/.default",
        openid_metadata_url=env["ToBotFromChannelOpenIdMetadataUrl"],
        token_issuer=env["ToBotFromChannelTokenIssuer"],
        token_service_url=env["OAuthUrl"],
    )


def trust_authority_host(login_endpoint: str) -> None:
    """Add the fake Entra's host to MSAL's known authority hosts, so MSAL never runs instance discovery against
    the public login host for it (MSAL reads this module global each time it builds an authority)."""
    host = urlsplit(login_endpoint).hostname or ""
    msal.authority.WELL_KNOWN_AUTHORITY_HOSTS = msal.authority.WELL_KNOWN_AUTHORITY_HOSTS | {host}


class BoundServer(uvicorn.Server):
    """uvicorn on an already-listening socket (the SDK's adapter calls `serve()` with none)."""

    def __init__(self, config: uvicorn.Config, sock: socket.socket) -> None:
        super().__init__(config)
        self._sock = sock

    async def serve(self, sockets: list[socket.socket] | None = None) -> None:
        await super().serve(sockets=[self._sock])


@contextlib.asynccontextmanager
async def _lag_probe(_app: Any) -> AsyncIterator[None]:
    task = asyncio.create_task(sample_lag())
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def create_app(env: Mapping[str, str], sock: socket.socket) -> App:
    cloud = loopback_cloud(env)
    trust_authority_host(cloud.login_endpoint)
    fastapi = FastAPI()

    @fastapi.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @fastapi.get("/bench/lag")
    async def lag() -> dict[str, Any]:
        return read_out()

    host, port = sock.getsockname()
    config = uvicorn.Config(fastapi, host=host, port=port, log_level="warning", access_log=False, lifespan="on")
    adapter = FastAPIAdapter(app=fastapi, server_factory=lambda app: BoundServer(config, sock))
    adapter.lifespans.append(_lag_probe)
    app = App(client_id=env["MicrosoftAppId"], client_secret=env["MicrosoftAppPassword"], cloud=cloud,
              http_server_adapter=adapter)

    @app.on_message
    async def handle_message(ctx: ActivityContext[MessageActivity]) -> None:
        await ctx.send(f"Echo: {ctx.activity.text}")

    return app


def main() -> None:
    install_stall_meter()
    sock = listening_socket()
    app = create_app(os.environ, sock)
    asyncio.run(app.start(sock.getsockname()[1]))


if __name__ == "__main__":
    main()
