"""Defect 7.8: a missing, expired or wrongly signed inbound token surfaces as HTTP 500 from CloudAdapter.process."""

from __future__ import annotations

import logging

import requests
from aiohttp import web
from botbuilder.schema import Activity
from botframework.connector.auth import AuthenticateRequestResult, BotFrameworkAuthentication

log = logging.getLogger(__name__)


async def authenticate_or_401(
    auth: BotFrameworkAuthentication, activity: Activity, auth_header: str
) -> AuthenticateRequestResult | web.Response:
    """Every failed check is 401 here; only an unreachable OpenID metadata endpoint (our side's problem) is 503."""
    try:
        return await auth.authenticate_request(activity, auth_header)
    except requests.RequestException as exc:
        log.error("inbound token check could not reach the OpenID metadata: %s", type(exc).__name__)
        return web.Response(status=503)
    except Exception as exc:  # every flavour of bad token: expired, unknown key, wrong audience, ...
        log.info("rejected inbound request: %s", type(exc).__name__)
        return web.Response(status=401)
