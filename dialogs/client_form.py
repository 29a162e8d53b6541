"""Client details: one optional form (name, email, mobile); Skip or typing `skip` goes on without them.

Invalid fields are asked again with the reason next to them; everything typed stays in the form.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from botbuilder.dialogs import ComponentDialog, Dialog, WaterfallDialog, WaterfallStepContext
from botbuilder.dialogs.dialog_turn_result import DialogTurnResult

from dialogs.base import send_card
from dialogs.cards import actions, client_form_card
from dialogs.client_details import region_from_locale, validate_client_details
from dialogs.commands import clean_text
from dialogs.services import submitted, turn_locale


class ClientDialog(ComponentDialog):
    """Ends with the validated details as a dict (`ClientDetails` fields; empty when skipped)."""

    ID = "client"

    def __init__(self) -> None:
        super().__init__(self.ID)
        self.add_dialog(WaterfallDialog("clientSteps", [self.form_step, self.check_step]))
        self.initial_dialog_id = "clientSteps"

    async def form_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        options: dict[str, Any] = step.options or {}
        card = client_form_card(
            name=options.get("name", ""),
            email=options.get("email", ""),
            phone=options.get("phone", ""),
            errors=options.get("errors"),
            meeting_subject=options.get("subject"),
        )
        await send_card(step.context, card)
        return Dialog.end_of_turn

    async def check_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        options: dict[str, Any] = dict(step.options or {})
        value = submitted(step.context)
        action = value.get("action")
        if action == actions.SKIP or clean_text(step.context.activity.text).lower() == "skip":
            return await step.end_dialog({})
        if action != actions.CLIENT_DETAILS:
            return await step.replace_dialog(self.ID, {**options, "errors": None})
        raw = {
            "name": str(value.get(actions.INPUT_CLIENT_NAME) or ""),
            "email": str(value.get(actions.INPUT_CLIENT_EMAIL) or ""),
            "phone": str(value.get(actions.INPUT_CLIENT_PHONE) or ""),
        }
        details, errors = validate_client_details(
            raw["name"], raw["email"], raw["phone"], default_region=region_from_locale(turn_locale(step.context))
        )
        if errors:
            # Keep everything: valid fields normalised, invalid ones as typed so a typo is a one-key fix.
            kept = {field: raw[field] if field in errors else (getattr(details, field) and raw[field].strip())
                    for field in raw}
            return await step.replace_dialog(self.ID, {**options, **kept, "errors": errors})
        return await step.end_dialog(asdict(details))
