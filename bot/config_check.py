"""`python app.py --check`: the bot's credentials and its OAuth connection, tried against the real tenant.

Each problem is one line that starts with the setting to fix. Nothing printed contains the secret: Entra's own
`error_description` is never echoed (only its AADSTS number), and the lines name settings and ids, not values.
The authority is the one the running bot uses (`CachingCredentialsFactory.authority`), so a check that passes means
the bot's own token request will too.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import msal
import requests
from aiohttp import ClientError, ClientSession, ClientTimeout
from botframework.connector.auth import AuthenticationConstants

from bot.sdk.credentials import MSAL_TIMEOUT_S, CachingCredentialsFactory
from config import Settings

CHECK_USER_ID = "va-link-bot-configuration-check"  # a user with no token: the token service still lists connections
TOKEN_SERVICE_TIMEOUT_S = 10.0

# AADSTS number -> the setting that fixes it (Microsoft Entra authentication and authorization error codes).
SECRET_CODES = {7000215: "is not a valid secret of this app (AADSTS7000215: use the secret's Value, not its ID)",
                7000222: "has expired (AADSTS7000222): create a new secret",
                7000216: "is missing (AADSTS7000216)"}
APP_CODES = {700016, 700038, 90038}
TENANT_CODES = {90002, 90013, 900023, 50059, 90072}


@dataclass(frozen=True)
class Token:
    """The bot's access token for the channel/token service, or nothing (and the problems say why)."""

    value: str | None
    problems: list[str]


def authority_tenant(authority: str) -> str:
    """The tenant an authority URL names: its first path segment."""
    return urlsplit(authority).path.strip("/").split("/")[0]


def credential_problem(settings: Settings, authority: str, result: dict[str, Any]) -> str:
    """One line naming the setting behind an Entra refusal of the client-credentials request."""
    codes = [int(code) for code in result.get("error_codes") or [] if str(code).isdigit()]
    code = codes[0] if codes else None
    tenant = authority_tenant(authority)
    if code in SECRET_CODES:
        return f"MicrosoftAppPassword {SECRET_CODES[code]}"
    if code in APP_CODES:
        return (f"MicrosoftAppId: Entra ID has no app {settings.app_id} in tenant {tenant} (AADSTS{code}); check the "
                "app id, and that MicrosoftAppTenantId is the tenant it is registered in")
    if code in TENANT_CODES:
        return tenant_problem(settings, tenant, f"AADSTS{code}")
    label = f"AADSTS{code}" if code else str(result.get("error") or "unknown error")
    return (f"MicrosoftAppId/MicrosoftAppPassword/MicrosoftAppTenantId: Entra ID refused the bot's credentials "
            f"({label})")


def tenant_problem(settings: Settings, tenant: str, why: str) -> str:
    """Name MicrosoftAppTenantId when the authority's tenant came from it, else the login URL that named it."""
    overridden = "TO_CHANNEL_FROM_BOT_LOGIN_URL" in settings.sdk_overrides
    if tenant.lower() == settings.app_tenant_id.lower() or not overridden:
        return f"MicrosoftAppTenantId: Entra ID has no tenant {tenant!r} ({why})"
    return f"ToChannelFromBotLoginUrl: Entra ID has no tenant {tenant!r} ({why})"


def acquire_bot_token(settings: Settings) -> Token:
    """Client credentials, blocking (run it in a thread): the same authority and scope the bot uses."""
    overrides, defaults = settings.sdk_overrides, AuthenticationConstants
    login = overrides.get("TO_CHANNEL_FROM_BOT_LOGIN_URL", defaults.TO_CHANNEL_FROM_BOT_LOGIN_URL)
    scope = overrides.get("TO_CHANNEL_FROM_BOT_OAUTH_SCOPE", defaults.TO_CHANNEL_FROM_BOT_OAUTH_SCOPE)
    authority = CachingCredentialsFactory(settings.sdk_config()).authority(login)
    host = urlsplit(authority).netloc
    try:
        # instance_discovery=False: hosts Microsoft knows need none, and a check must not ask a third host about
        # a private authority; the tenant's own OpenID discovery still runs (an unknown tenant fails there).
        app = msal.ConfidentialClientApplication(
            settings.app_id, client_credential=settings.app_password, authority=authority,
            timeout=MSAL_TIMEOUT_S, instance_discovery=False,
        )
        result: dict[str, Any] = app.acquire_token_for_client(scopes=[scope.rstrip("/") + "/.default"])
    except ValueError:  # MSAL: OpenID discovery of the authority answered 4xx (an unknown tenant)
        return Token(None, [tenant_problem(settings, authority_tenant(authority), "OpenID discovery refused it")])
    except (requests.RequestException, OSError) as exc:
        return Token(None, [f"ToChannelFromBotLoginUrl: could not reach Entra ID at {host} ({type(exc).__name__})"])
    if "access_token" in result:
        return Token(str(result["access_token"]), [])
    return Token(None, [credential_problem(settings, authority, result)])


def connection_problems(settings: Settings, statuses: Any) -> list[str]:
    """`ConnectionName` must be one of the bot's configured OAuth connections (GetTokenStatus lists them all)."""
    if not isinstance(statuses, list):
        return ["OAuthUrl: the token service's GetTokenStatus answer is not a list of connections"]
    names = []
    for status in statuses:
        if isinstance(status, dict):
            lowered = {str(key).lower(): value for key, value in status.items()}
            names.append(str(lowered.get("connectionname") or ""))
    if settings.connection_name in names:
        return []
    have = ", ".join(sorted(n for n in names if n)) or "none"
    return [f"ConnectionName: the Azure Bot has no OAuth connection named {settings.connection_name!r} "
            f"(it has: {have})"]


async def check_connection(settings: Settings, session: ClientSession, token: str) -> list[str]:
    """Ask the token service which OAuth connections the bot has; a user without a token is no problem."""
    base = settings.sdk_overrides.get("OAUTH_URL", AuthenticationConstants.OAUTH_URL).rstrip("/")
    url = f"{base}/api/usertoken/GetTokenStatus"
    params = {"userId": CHECK_USER_ID, "channelId": "msteams"}
    try:
        async with session.get(url, params=params, headers={"Authorization": f"Bearer {token}"},
                               timeout=ClientTimeout(total=TOKEN_SERVICE_TIMEOUT_S)) as response:
            if response.status in (401, 403):
                return [f"MicrosoftAppId: the token service refused the bot's token ({response.status}); the Azure "
                        "Bot must use this app id, and its type (MicrosoftAppType) must match"]
            if response.status != 200:
                return [f"OAuthUrl: the token service answered {response.status} to GetTokenStatus"]
            statuses = await response.json(content_type=None)
    except (ClientError, TimeoutError, ValueError) as exc:
        return [f"OAuthUrl: could not reach the token service at {urlsplit(base).netloc} ({type(exc).__name__})"]
    return connection_problems(settings, statuses)


async def check_tenant(settings: Settings, session: ClientSession) -> list[str]:
    """Everything that needs the tenant: a bot token first, then the OAuth connection with it."""
    if settings.local_mode:
        return ["MicrosoftAppId is empty (local mode): there is no tenant configuration to check"]
    if settings.app_type == "UserAssignedMSI":
        return ["MicrosoftAppType: UserAssignedMSI gets its token from the managed identity, which exists only "
                "inside Azure; run --check there"]
    token = await asyncio.to_thread(acquire_bot_token, settings)
    if token.value is None:
        return token.problems
    return await check_connection(settings, session, token.value)
