"""The message `POST /me/sendMail` sends (Graph's `message` resource, JSON form): an HTML body, recipients and file
attachments (`#microsoft.graph.fileAttachment`, content in base64). Pure data; `GraphClient.send_mail` sends it."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

# Exchange answers these for a user who has no Exchange Online mailbox to send from (no licence, on-premises).
NO_MAILBOX_CODES = frozenset({"MailboxNotEnabledForRESTAPI", "MailboxNotSupportedForRESTAPI"})
# The mailbox exists but may not send this message (send-as refused, account blocked from sending).
SEND_REFUSED_CODES = frozenset({"ErrorSendAsDenied", "ErrorMessageSubmissionBlocked", "ErrorAccountSuspend"})


@dataclass(frozen=True, slots=True)
class FileAttachment:
    """A small file sent inline with the message (Graph takes up to 3 MB this way)."""

    name: str
    content_type: str
    content: bytes

    def to_json(self) -> dict[str, Any]:
        return {
            "@odata.type": "#microsoft.graph.fileAttachment",
            "name": self.name,
            "contentType": self.content_type,
            "contentBytes": base64.b64encode(self.content).decode("ascii"),
        }


@dataclass(frozen=True, slots=True)
class MailMessage:
    """One HTML message to the addresses in `to`, with its attachments."""

    subject: str
    html: str
    to: Sequence[str]
    attachments: Sequence[FileAttachment] = field(default_factory=tuple)

    def to_json(self, *, save_to_sent_items: bool = True) -> dict[str, Any]:
        """The sendMail request body."""
        message: dict[str, Any] = {
            "subject": self.subject,
            "body": {"contentType": "HTML", "content": self.html},
            "toRecipients": [{"emailAddress": {"address": address}} for address in self.to],
        }
        if self.attachments:
            message["attachments"] = [attachment.to_json() for attachment in self.attachments]
        return {"message": message, "saveToSentItems": save_to_sent_items}
