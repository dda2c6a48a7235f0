"""The running add-on: its parts wired together, its HTTP servers and transports.

Owns the two HTTP servers of an `AddonContext` (context.py):

- the MCP port: Streamable HTTP at `/mcp` (bearer token) and, under the secret
  path, `/<secret>/mcp` plus the legacy HTTP+SSE transport (`/<secret>/sse` and
  its messages endpoint) for clients that can only be given a URL (HA's own `mcp`
  integration). `Guard` checks every request first: a browser Origin not in the
  allow-list gets 403, a missing or wrong credential 401;
- the ingress port: the status page (connection URL, token, rotate) and whatever
  routes the assistant adds (`assistant_entry.routes(ctx)`), reachable only from
  the Supervisor's ingress proxy (and loopback, for development); a state-changing
  request from a page of another site gets 403 (`security.cross_origin`).

Also the stdio transport, for MCP clients that start the add-on as a process.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import uvicorn
from mcp.server.sse import SseServerTransport
from mcp.server.stdio import stdio_server
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecuritySettings
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from .context import AddonContext
from .ingress import routes as status_routes
from .security import bearer, cross_origin, origin_allowed
from .server import CALLER_SCOPE_KEY

_LOGGER = logging.getLogger(__name__)

#: The Supervisor's ingress proxy; the only client the ingress port serves.
INGRESS_CLIENTS = frozenset({"172.30.32.2", "127.0.0.1", "::1"})
#: Paths served without credentials (no data in them).
OPEN_PATHS = frozenset({"/health"})


# MCP port ---------------------------------------------------------------------


def _plain(status: int, text: str, headers: dict[str, str] | None = None) -> Response:
    return PlainTextResponse(text, status_code=status, headers=headers)


class Guard:
    """Origin check (403) and authentication (401) in front of every MCP route.

    A request whose first path segment is the secret path is authenticated by it;
    the segment moves into `root_path` so the routes below see `/mcp`, `/sse`,
    `/messages/`. Any other request needs `Authorization: Bearer <token>`. The
    SSE routes are only served under the secret path or with the token.
    """

    def __init__(self, app: ASGIApp, ctx: AddonContext) -> None:
        """Protect `app` with the context's credentials and allowed origins."""
        self.app = app
        self.ctx = ctx

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check, then pass on or answer 401/403."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {
            k.decode("latin-1").lower(): v.decode("latin-1")
            for k, v in scope["headers"]
        }
        if not origin_allowed(
            headers.get("origin"), self.ctx.settings.options.allowed_origins
        ):
            _LOGGER.warning("Refused a request from origin %s", headers.get("origin"))
            await _plain(403, "Origin not allowed")(scope, receive, send)
            return
        path: str = scope["path"]
        if path in OPEN_PATHS:
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        who = f"@{client[0]}" if client else ""
        first, slash, rest = path.lstrip("/").partition("/")
        if slash and self.ctx.credentials.check_secret_path(first):
            scope = dict(scope)
            scope["root_path"] = scope.get("root_path", "") + "/" + first
            scope["path"] = "/" + rest
            scope["raw_path"] = scope["path"].encode()
            scope[CALLER_SCOPE_KEY] = f"mcp:secret-path{who}"
            await self.app(scope, receive, send)
            return
        if self.ctx.credentials.check_token(bearer(headers.get("authorization"))):
            scope = dict(scope)
            scope[CALLER_SCOPE_KEY] = f"mcp:token{who}"
            await self.app(scope, receive, send)
            return
        await _plain(
            401,
            "Missing or invalid bearer token",
            {"WWW-Authenticate": 'Bearer realm="energy-coordinator-mcp"'},
        )(scope, receive, send)


def build_mcp_app(ctx: AddonContext) -> ASGIApp:
    """The MCP port's ASGI app (guarded)."""
    # Origins are checked by Guard against the owner's explicit allow-list (the
    # server binds 0.0.0.0, so a Host allow-list cannot be known in advance); the
    # SDK's own header check is therefore configured off, explicitly.
    security = TransportSecuritySettings(enable_dns_rebinding_protection=False)
    manager = StreamableHTTPSessionManager(
        app=ctx.server,
        security_settings=security,
        json_response=False,
        stateless=False,
    )
    sse = SseServerTransport("/messages/", security_settings=security)

    class StreamableEndpoint:
        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
            await manager.handle_request(scope, receive, send)

    async def sse_endpoint(request: Request) -> Response:
        async with sse.connect_sse(request.scope, request.receive, request._send) as (
            read_stream,
            write_stream,
        ):
            await ctx.server.run(
                read_stream, write_stream, ctx.server.create_initialization_options()
            )
        return Response()

    class MessagesEndpoint:
        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
            await sse.handle_post_message(scope, receive, send)

    async def health(request: Request) -> Response:
        return JSONResponse({"ok": True, "ha_connected": ctx.ha.connected.is_set()})

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with manager.run():
            yield

    app = Starlette(
        routes=[
            Route("/mcp", StreamableEndpoint(), methods=["GET", "POST", "DELETE"]),
            Route("/sse", sse_endpoint, methods=["GET"]),
            Route("/messages/", MessagesEndpoint(), methods=["POST"]),
            Route("/health", health, methods=["GET"]),
        ],
        lifespan=lifespan,
    )
    return Guard(app, ctx)


# Ingress port -----------------------------------------------------------------


class IngressOnly:
    """Serve only the Supervisor's ingress proxy (and loopback), same-origin only.

    A request from any other address gets 403; so does a state-changing request
    (rotate, ask) that a page of another site sent through the owner's browser.
    """

    def __init__(self, app: ASGIApp, allowed_origins: tuple[str, ...] = ()) -> None:
        """Protect `app`."""
        self.app = app
        self.allowed_origins = allowed_origins

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """403 for anyone else."""
        if scope["type"] == "http":
            client = scope.get("client")
            if client is None or client[0] not in INGRESS_CLIENTS:
                await _plain(403, "Ingress only")(scope, receive, send)
                return
            headers = {
                k.decode("latin-1").lower(): v.decode("latin-1")
                for k, v in scope["headers"]
            }
            if cross_origin(scope["method"], headers, self.allowed_origins):
                _LOGGER.warning(
                    "Refused a cross-origin %s %s from origin %s",
                    scope["method"],
                    scope["path"],
                    headers.get("origin") or headers.get("sec-fetch-site"),
                )
                await _plain(403, "Cross-origin request refused")(scope, receive, send)
                return
        await self.app(scope, receive, send)


def assistant_hooks() -> Any:
    """The assistant's entry points, when it is installed (routes, jobs, `ask`)."""
    try:
        from . import assistant_entry  # type: ignore[attr-defined,unused-ignore]
    except ImportError:
        return None
    return assistant_entry


def build_ingress_app(ctx: AddonContext) -> ASGIApp:
    """The status page (and the assistant's routes)."""
    routes: list[BaseRoute] = list(status_routes(ctx))
    hooks = assistant_hooks()
    if hooks is not None and hasattr(hooks, "routes"):
        routes.extend(hooks.routes(ctx))
    return IngressOnly(Starlette(routes=routes), ctx.settings.options.allowed_origins)


# Serving ----------------------------------------------------------------------


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling (the add-on handles signals)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def uvicorn_server(app: ASGIApp, host: str, port: int, log_level: str) -> _Server:
    """A uvicorn server for one app."""
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level=log_level,
        access_log=log_level == "debug",
        lifespan="on",
        log_config=None,  # the root logger's handlers, with secret redaction
        proxy_headers=False,
        server_header=False,
    )
    return _Server(config)


async def serve_http(
    ctx: AddonContext,
    stop: asyncio.Event,
    *,
    started: Callable[[], Awaitable[None]] | None = None,
) -> None:
    """Run the MCP port (and the ingress port) until `stop` is set."""
    level = ctx.settings.options.log_level
    servers = [
        uvicorn_server(build_mcp_app(ctx), ctx.settings.host, ctx.settings.port, level)
    ]
    if ctx.settings.ingress_port:
        servers.append(
            uvicorn_server(
                build_ingress_app(ctx),
                ctx.settings.host,
                ctx.settings.ingress_port,
                level,
            )
        )
    tasks = [asyncio.create_task(s.serve(), name="uvicorn") for s in servers]
    try:
        while not all(s.started for s in servers):
            if any(t.done() for t in tasks):
                for t in tasks:
                    if t.done() and t.exception():
                        raise RuntimeError(f"HTTP server failed: {t.exception()}")
                raise RuntimeError("HTTP server stopped while starting")
            await asyncio.sleep(0.02)
        if started is not None:
            await started()
        stop_task = asyncio.create_task(stop.wait())
        await asyncio.wait([stop_task, *tasks], return_when=asyncio.FIRST_COMPLETED)
        stop_task.cancel()
    finally:
        for s in servers:
            s.should_exit = True
        await asyncio.gather(*tasks, return_exceptions=True)


async def serve_stdio(ctx: AddonContext) -> None:
    """Serve one MCP client over stdin/stdout."""
    async with stdio_server() as (read_stream, write_stream):
        await ctx.server.run(
            read_stream, write_stream, ctx.server.create_initialization_options()
        )


async def start_background(ctx: AddonContext) -> None:
    """Start the assistant's background jobs, if it has any."""
    hooks = assistant_hooks()
    if hooks is not None and hasattr(hooks, "run_background"):
        ctx.background.append(
            asyncio.create_task(hooks.run_background(ctx), name="assistant-jobs")
        )


async def stop_background(ctx: AddonContext) -> None:
    """Cancel the background jobs."""
    for task in ctx.background:
        task.cancel()
    for task in ctx.background:
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
    ctx.background.clear()
