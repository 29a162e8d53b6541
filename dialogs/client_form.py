"""ClientDialog: one optional form (name, email, mobile); Skip or typing `skip` goes on without them.

Invalid fields are asked again with the reason next to them; everything typed stays in the form.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any

from botbuilder.dialogs import ComponentDialog, Dialog, WaterfallDialog, WaterfallStepContext
from botbuilder.dialogs.dialog_turn_result import DialogTurnResult

from dialogs.cards import actions, client_form_card
from dialogs.client_details import region_from_locale, validate_client_details
from dialogs.commands import is_word
from dialogs.turn import Turn


@dataclass(frozen=True, slots=True)
class ClientForm:
    """The form as last shown (the dialog's options): what was typed, the reasons, the meeting's subject."""

    name: str = ""
    email: str = ""
    phone: str = ""
    errors: dict[str, str] = field(default_factory=dict)
    subject: str | None = None
    language: str = ""

    def to_state(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_state(cls, data: Any) -> ClientForm:
        state = data if isinstance(data, dict) else {}
        errors = state.get("errors")
        return cls(
            name=str(state.get("name") or ""),
            email=str(state.get("email") or ""),
            phone=str(state.get("phone") or ""),
            errors={str(k): str(v) for k, v in errors.items()} if isinstance(errors, dict) else {},
            subject=state.get("subject") if isinstance(state.get("subject"), str) else None,
            language=str(state.get("language") or ""),
        )


class ClientDialog(ComponentDialog):
    """Ends with the validated details (`ClientDetails.to_state()`; empty when skipped)."""

    ID = "client"

    def __init__(self) -> None:
        super().__init__(self.ID)
        self.add_dialog(WaterfallDialog("clientSteps", [self.form_step, self.check_step]))
        self.initial_dialog_id = "clientSteps"

    async def form_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        form = ClientForm.from_state(step.options)
        card = client_form_card(
            name=form.name,
            email=form.email,
            phone=form.phone,
            errors=form.errors or None,
            meeting_subject=form.subject,
            language=form.language,
        )
        await Turn.of(step.context).reply(card)
        return Dialog.end_of_turn

    async def check_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        form = ClientForm.from_state(step.options)
        turn = Turn.of(step.context)
        if turn.action == actions.SKIP or is_word(turn.text, "CMD_SKIP"):
            return await step.end_dialog({})
        if turn.action != actions.CLIENT_DETAILS:
            return await step.replace_dialog(self.ID, replace(form, errors={}).to_state())
        raw = {
            "name": str(turn.values.get(actions.INPUT_CLIENT_NAME) or ""),
            "email": str(turn.values.get(actions.INPUT_CLIENT_EMAIL) or ""),
            "phone": str(turn.values.get(actions.INPUT_CLIENT_PHONE) or ""),
        }
        language = turn.value(actions.INPUT_CLIENT_LANGUAGE)
        details, errors = validate_client_details(
            raw["name"], raw["email"], raw["phone"], default_region=region_from_locale(turn.locale), language=language
        )
        if errors:
            # Keep everything: valid fields normalised, invalid ones as typed so a typo is a one-key fix.
            kept = {name: raw[name] if name in errors else (getattr(details, name) and raw[name].strip())
                    for name in raw}
            again = ClientForm(kept["name"], kept["email"], kept["phone"], errors, form.subject, language)
            return await step.replace_dialog(self.ID, again.to_state())
        return await step.end_dialog(details.to_state())
