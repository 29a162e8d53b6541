"""Local mode's outbox: every email the bot sent through the in-process Graph simulator, as the client gets it.

Someone trying the bot in the Agents Playground taps "Email the link" and opens `http://127.0.0.1:<port>/outbox`
to read the message exactly as sent (the HTML body in a sandboxed frame: no scripts, no requests out) and to
download its `.ics` invitation. Served only in local mode, only to this machine (loopback peers); every value is
escaped, and the page forbids scripts and outside resources.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence

from aiohttp import web

from graph.simulator import SentMail

_LOOPBACK = frozenset({"127.0.0.1", "::1"})
_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-src 'self'",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
}
_PAGE_STYLE = (
    "body{font-family:'Segoe UI',Helvetica,Arial,sans-serif;margin:24px;color:#242424;background:#f5f5f5}"
    "article{background:#fff;border:1px solid #e0e0e0;border-radius:6px;margin:0 0 24px;padding:16px}"
    "dl{display:grid;grid-template-columns:max-content auto;gap:2px 12px;margin:0 0 12px}dt{color:#616161}"
    "iframe{width:100%;height:560px;border:1px solid #e0e0e0;background:#fff}"
)


def _loopback_only(request: web.Request) -> None:
    if request.remote not in _LOOPBACK:
        raise web.HTTPForbidden(text="The outbox is for this machine only.")


def render_outbox(mails: Sequence[SentMail]) -> str:
    """The page: newest first, each message's envelope, its body as the client sees it, and its attachments."""
    esc = html.escape
    articles = []
    for index in reversed(range(len(mails))):
        mail = mails[index]
        files = "".join(
            f'<li><a href="/outbox/{index}/{position}" download="{esc(name, quote=True)}">{esc(name)}</a> '
            f"({esc(kind)}, {len(content)} bytes)</li>"
            for position, (name, kind, content) in enumerate(mail.attachments)
        )
        body = mail.content if mail.content_type.lower() == "html" else f"<pre>{esc(mail.content)}</pre>"
        articles.append(
            f'<article id="mail-{index}"><dl>'
            f"<dt>From</dt><dd>{esc(mail.sender)}</dd>"
            f"<dt>To</dt><dd>{esc(', '.join(mail.to))}</dd>"
            f"<dt>Subject</dt><dd>{esc(mail.subject)}</dd>"
            f"<dt>Sent</dt><dd>{esc(mail.at.isoformat(timespec='seconds'))}</dd></dl>"
            f'<iframe sandbox title="{esc(mail.subject, quote=True)}" srcdoc="{esc(body, quote=True)}"></iframe>'
            + (f"<ul>{files}</ul>" if files else "")
            + "</article>"
        )
    content = "".join(articles) or "<p>No email sent yet: tap <b>Email the link</b> on a result card.</p>"
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Outbox (local mode)</title>'
        f"<style>{_PAGE_STYLE}</style></head><body><h1>Outbox (local mode)</h1>{content}</body></html>"
    )


def add_outbox(app: web.Application, mails: Callable[[], list[SentMail]]) -> None:
    """Serve the outbox of `mails()` on GET /outbox and each attachment on GET /outbox/{mail}/{attachment}."""

    async def page(request: web.Request) -> web.Response:
        _loopback_only(request)
        return web.Response(text=render_outbox(mails()), content_type="text/html", headers=_HEADERS)

    async def attachment(request: web.Request) -> web.Response:
        _loopback_only(request)
        sent = mails()
        try:
            mail = sent[int(request.match_info["mail"])]
            name, kind, content = mail.attachments[int(request.match_info["attachment"])]
        except (ValueError, IndexError):
            raise web.HTTPNotFound() from None
        safe_name = "".join(c for c in name if c.isascii() and (c.isalnum() or c in "._-")) or "attachment"
        headers = {**_HEADERS, "Content-Disposition": f'attachment; filename="{safe_name}"'}
        return web.Response(body=content, content_type=kind.split(";")[0] or "application/octet-stream",
                            headers=headers)

    app.router.add_get("/outbox", page)
    app.router.add_get(r"/outbox/{mail:\d{1,6}}/{attachment:\d{1,3}}", attachment)
