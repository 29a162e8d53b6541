"""`AllowedTenantIds`: activities from other tenants get one polite refusal, are logged, and reach nothing else."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from botbuilder.core import InvokeResponse, Middleware, TurnContext
from botbuilder.schema import Activity, ActivityTypes

from bot.errors import invoke_error_body
from dialogs.cards import strings
from dialogs.turn import activity_tenant

log = logging.getLogger(__name__)


class TenantAllowListMiddleware(Middleware):
    """Stops the turn before any dialog, token or Graph call when the tenant is not on the list."""

    def __init__(self, allowed: tuple[str, ...]) -> None:
        self.allowed = frozenset(t.lower() for t in allowed)

    async def on_turn(self, context: TurnContext, logic: Callable[[], Awaitable[None]]) -> None:
        # Read from the activity, not through Turn.of: that would keep this turn's reading before a proactive turn's
        # callback completes its activity (the private flow's time zone and locale, bot/private_chat.py).
        tenant = (activity_tenant(context.activity) or "").lower()
        if tenant in self.allowed:
            await logic()
            return
        activity = context.activity
        log.warning("refused an activity from a tenant not allowed: tenant=%s type=%s", tenant or "-", activity.type)
        if activity.type == ActivityTypes.invoke:
            status, body = invoke_error_body(activity.name, strings.ERR_TENANT_NOT_ALLOWED)
            await context.send_activity(
                Activity(type=ActivityTypes.invoke_response, value=InvokeResponse(status=status, body=body))
            )
        elif activity.type == ActivityTypes.message:
            await context.send_activity(strings.ERR_TENANT_NOT_ALLOWED)
