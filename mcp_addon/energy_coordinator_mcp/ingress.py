"""The ingress status page: how to connect, the token, and rotating it.

Owns the small HTML page the owner opens from the add-on's panel in Home Assistant:
the MCP URL and bearer token, the secret-path URLs for clients that cannot send
headers (HA's own `mcp` integration uses the SSE one), whether HA is connected,
read-only mode, pending confirmations and the last audit lines; and `POST rotate`,
which replaces the token and the secret path; `GET status` says the same as JSON.
Links are relative, so the page works under the ingress prefix.
"""

from __future__ import annotations

import html
import json
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from . import __version__

if TYPE_CHECKING:
    from .context import AddonContext

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Energy Coordinator MCP</title>
<style>
body{{font-family:system-ui,sans-serif;margin:1.5rem;max-width:60rem;color:#222}}
code{{background:#f3f3f3;padding:.15rem .35rem;border-radius:4px;word-break:break-all}}
table{{border-collapse:collapse;width:100%}}td,th{{text-align:left;padding:.25rem .5rem;
border-bottom:1px solid #ddd;font-size:.9rem}}.ok{{color:#1a7f37}}.bad{{color:#c62828}}
button{{padding:.4rem .9rem}}
</style></head><body>
<h1>Energy Coordinator MCP <small>{version}</small></h1>
<p>Home Assistant: <b class="{ha_class}">{ha_state}</b> &middot; {entities} entities
&middot; tools: {tools}{read_only}</p>
<h2>Connect an MCP client</h2>
<p>Streamable HTTP URL: <code id="url">{url}</code></p>
<p>Bearer token (header <code>Authorization: Bearer …</code>):
<code id="token">{token}</code></p>
<p>Clients that only take a URL: <code>{secret_base}/mcp</code><br>
Home Assistant's <i>Model Context Protocol</i> integration (SSE):
<code>{secret_sse_url}</code></p>
<p>Claude Code: <code>claude mcp add --transport http energy {url}
--header "Authorization: Bearer {token}"</code></p>
<form method="post" action="rotate"
 onsubmit="return confirm('Disconnect every client and create a new token?')">
<button type="submit">Rotate token and secret path</button></form>
<h2>Waiting for confirmation</h2>{pending}
<h2>Recent tool calls</h2>{audit}
</body></html>"""


def _audit_table(ctx: AddonContext) -> str:
    rows = ctx.audit.tail(15)
    if not rows:
        return "<p>None yet.</p>"
    body = "".join(
        "<tr>"
        + "".join(
            f"<td>{html.escape(str(v))}</td>"
            for v in (
                row.get("time", "")[11:19],
                row.get("caller"),
                row.get("tool"),
                json.dumps(row.get("arguments"), ensure_ascii=False)[:120],
                row.get("outcome"),
                f"{row.get('duration_ms')} ms",
            )
        )
        + "</tr>"
        for row in reversed(rows)
    )
    head = "".join(
        f"<th>{h}</th>"
        for h in ("time", "caller", "tool", "arguments", "outcome", "duration")
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def render_page(ctx: AddonContext) -> str:
    """The status page's HTML."""
    pending = ctx.gate.pending()
    pending_html = (
        "<ul>"
        + "".join(
            f"<li>{html.escape(p.summary)} ({html.escape(p.caller)})</li>"
            for p in pending
        )
        + "</ul>"
        if pending
        else "<p>Nothing.</p>"
    )
    connected = ctx.ha.connected.is_set()
    return PAGE.format(
        version=__version__,
        ha_class="ok" if connected else "bad",
        ha_state="connected"
        if connected
        else html.escape(f"not connected ({ctx.ha.last_error or 'starting'})"),
        entities=len(ctx.ha.states),
        tools=len(ctx.registry.specs(read_only=False)),
        read_only=" &middot; <b>read-only</b>"
        if ctx.settings.options.read_only
        else "",
        url=html.escape(ctx.mcp_url),
        token=html.escape(ctx.credentials.token),
        secret_base=html.escape(ctx.secret_base),
        secret_sse_url=html.escape(ctx.secret_sse_url),
        pending=pending_html,
        audit=_audit_table(ctx),
    )


def routes(ctx: AddonContext) -> list[BaseRoute]:
    """The status page's routes."""

    async def page(request: Request) -> Response:
        return HTMLResponse(
            render_page(ctx),
            headers={"Cache-Control": "no-store", "X-Frame-Options": "SAMEORIGIN"},
        )

    async def rotate(request: Request) -> Response:
        ctx.credentials.rotate()
        return RedirectResponse("./", status_code=303)

    async def status(request: Request) -> Response:
        return JSONResponse(
            {
                "version": __version__,
                "ha_connected": ctx.ha.connected.is_set(),
                "mcp_url": ctx.mcp_url,
                "mcp_secret_url": ctx.secret_sse_url,
                "read_only": ctx.settings.options.read_only,
                "tools": [s.name for s in ctx.registry.specs(read_only=False)],
            }
        )

    return [
        Route("/", page, methods=["GET"]),
        Route("/rotate", rotate, methods=["POST"]),
        Route("/status", status, methods=["GET"]),
    ]
