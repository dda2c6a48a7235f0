"""The MCP server: the tool registry, resources and prompts on the SDK's low-level
`Server`.

Owns the mapping of `ToolRegistry` specs/results onto MCP types (compact JSON text,
`isError`), the resources (`energy://…`, `ha://…`) and their update notifications
(`resources/subscribe` for handshake-era clients, `subscriptions/listen` for current
ones), the prompts, and the server instructions. Which caller made a request comes
from the HTTP layer (`CALLER_SCOPE_KEY` in the ASGI scope); stdio calls are
`mcp:stdio`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any

import mcp_types as types
from mcp.server import Server, ServerRequestContext
from mcp.server.session import ServerSession
from mcp.server.subscriptions import (
    InMemorySubscriptionBus,
    ListenHandler,
    ResourceUpdated,
)
from mcp.shared.exceptions import MCPError

from . import __version__
from .ha_client import HAError
from .prompts import PROMPTS, PromptError, render
from .site_view import DOMAIN, SiteError
from .tools import ToolError, ToolRegistry

_LOGGER = logging.getLogger(__name__)

CALLER_SCOPE_KEY = "energy_coordinator_mcp.caller"
#: Minimum seconds between two update notifications of one resource.
NOTIFY_INTERVAL = 5.0

INSTRUCTIONS = (
    "Energy Coordinator for Home Assistant. For any energy question call "
    "get_site_status first: one call answers solar, grid, home battery and every "
    "EV; with scope=home it gives an overview of the whole home by area. Acting "
    "tools first return a confirmation request: tell the user what will happen "
    "and, only if they agree, call again with the same arguments and "
    "confirm=<code> (valid 2 minutes)."
)

STATIC_RESOURCES: dict[str, tuple[str, str, str, dict[str, Any]]] = {
    "energy://site": (
        "site",
        "Solar, grid, battery, house and EVs now",
        "get_site_status",
        {},
    ),
    "energy://chargers": (
        "chargers",
        "EV chargers and connectors",
        "list_chargers",
        {},
    ),
    "energy://plan": (
        "plan",
        "The plan for the next hours: EVs, battery, loads, cost",
        "get_plan",
        {},
    ),
    "energy://sessions/recent": (
        "recent sessions",
        "The last 20 charging sessions",
        "get_sessions",
        {"limit": 20},
    ),
}
TEMPLATES = (
    ("energy://chargers/{id}", "charger", "One charger in detail"),
    ("ha://entity/{entity_id}", "entity", "One entity with its attributes"),
    ("ha://area/{area}", "area", "The entities of one area"),
)


def dumps(content: Any) -> str:
    """Compact JSON (strings pass through)."""
    if isinstance(content, str):
        return content
    return json.dumps(content, separators=(",", ":"), ensure_ascii=False, default=str)


def caller_of(ctx: ServerRequestContext[Any, Any]) -> str:
    """Who made this request (set by the HTTP layer), else stdio."""
    request = ctx.request
    scope = getattr(request, "scope", None)
    if isinstance(scope, dict) and scope.get(CALLER_SCOPE_KEY):
        return str(scope[CALLER_SCOPE_KEY])
    return "mcp:stdio"


class ResourceNotifier:
    """Tells subscribed clients when a resource's data changed (throttled)."""

    def __init__(self, registry: ToolRegistry, bus: InMemorySubscriptionBus) -> None:
        """Watch HA's state mirror for changes that touch resources."""
        self.registry = registry
        self.bus = bus
        # Strong references: the session object a handler sees may be the only
        # one; a session that fails a send is dropped.
        self.sessions: dict[str, set[ServerSession]] = {}
        self._last: dict[str, float] = {}
        self._pending: set[str] = set()
        self._task: asyncio.Task[None] | None = None
        self._ours_for: object = None
        self._ours_ids: set[str] = set()
        self._remove = registry.ha.add_state_listener(self._changed)

    def subscribe(self, uri: str, session: ServerSession) -> None:
        """A handshake-era session subscribed to `uri`."""
        self.sessions.setdefault(uri, set()).add(session)

    def unsubscribe(self, uri: str, session: ServerSession) -> None:
        """It no longer wants updates."""
        if uri in self.sessions:
            self.sessions[uri].discard(session)

    def close(self) -> None:
        """Stop watching."""
        self._remove()
        if self._task is not None:
            self._task.cancel()

    def _ours(self) -> set[str]:
        ha = self.registry.ha
        if self._ours_for is not ha.entities:
            self._ours_for = ha.entities
            self._ours_ids = {e["entity_id"] for e in ha.platform_entities(DOMAIN)}
        return self._ours_ids

    def _uris_for(self, entity_ids: set[str]) -> set[str]:
        ha = self.registry.ha
        uris: set[str] = set()
        if entity_ids & self._ours():
            uris |= {"energy://site", "energy://chargers", "energy://plan"}
            uris |= {u for u in self.sessions if u.startswith("energy://chargers/")}
        for entity_id in entity_ids:
            uris.add(f"ha://entity/{entity_id}")
            area = ha.area_of(entity_id)
            if area:
                uris.add(f"ha://area/{area}")
        return uris

    def _changed(self, entity_ids: set[str]) -> None:
        self._pending |= self._uris_for(entity_ids)
        if self._pending and (self._task is None or self._task.done()):
            self._task = asyncio.get_running_loop().create_task(self._flush())

    async def _flush(self) -> None:
        while self._pending:
            await asyncio.sleep(0.2)
            now = time.monotonic()
            due = {
                u
                for u in self._pending
                if now - self._last.get(u, 0.0) >= NOTIFY_INTERVAL
            }
            self._pending -= due
            for uri in sorted(due):
                self._last[uri] = now
                await self.bus.publish(ResourceUpdated(uri=uri))
                for session in list(self.sessions.get(uri, ())):
                    try:
                        await session.send_resource_updated(uri)
                    except Exception as err:  # a gone client must not stop others
                        _LOGGER.debug("resource update to a session failed: %r", err)
                        self.sessions[uri].discard(session)
            if self._pending:
                wait = min(
                    NOTIFY_INTERVAL - (now - self._last.get(u, 0.0))
                    for u in self._pending
                )
                await asyncio.sleep(max(wait, 0.2))


def build_server(registry: ToolRegistry, *, read_only: bool = False) -> Server[Any]:
    """The MCP server for one registry (tools, resources, prompts)."""
    bus = InMemorySubscriptionBus()
    notifier: ResourceNotifier | None = None

    def get_notifier() -> ResourceNotifier:
        nonlocal notifier
        if notifier is None:
            notifier = ResourceNotifier(registry, bus)
        return notifier

    async def list_tools(
        ctx: ServerRequestContext[Any, Any], params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        return types.ListToolsResult(
            tools=[
                types.Tool(
                    name=spec.name,
                    description=spec.description,
                    input_schema=spec.input_schema,
                    annotations=types.ToolAnnotations(
                        read_only_hint=spec.annotations.get("readOnlyHint"),
                        destructive_hint=spec.annotations.get("destructiveHint"),
                    ),
                )
                for spec in registry.specs(read_only)
            ]
        )

    async def call_tool(
        ctx: ServerRequestContext[Any, Any], params: types.CallToolRequestParams
    ) -> types.CallToolResult:
        visible = {s.name for s in registry.specs(read_only)}
        if params.name not in visible and registry.spec(params.name) is not None:
            text = dumps({"error": f"{params.name} is disabled in read-only mode"})
            return types.CallToolResult(
                content=[types.TextContent(text=text)], is_error=True
            )
        result = await registry.call(
            params.name, dict(params.arguments or {}), caller_of(ctx)
        )
        return types.CallToolResult(
            content=[types.TextContent(text=dumps(result.content))],
            is_error=result.is_error,
        )

    async def list_resources(
        ctx: ServerRequestContext[Any, Any], params: types.PaginatedRequestParams | None
    ) -> types.ListResourcesResult:
        return types.ListResourcesResult(
            resources=[
                types.Resource(
                    uri=uri,
                    name=name,
                    description=description,
                    mime_type="application/json",
                )
                for uri, (name, description, _, _) in STATIC_RESOURCES.items()
            ]
        )

    async def list_templates(
        ctx: ServerRequestContext[Any, Any], params: types.PaginatedRequestParams | None
    ) -> types.ListResourceTemplatesResult:
        return types.ListResourceTemplatesResult(
            resource_templates=[
                types.ResourceTemplate(
                    uri_template=template,
                    name=name,
                    description=description,
                    mime_type="application/json",
                )
                for template, name, description in TEMPLATES
            ]
        )

    async def read_resource(
        ctx: ServerRequestContext[Any, Any], params: types.ReadResourceRequestParams
    ) -> types.ReadResourceResult:
        uri = str(params.uri)
        try:
            content = await read_uri(registry, uri)
        except (ToolError, SiteError, HAError) as err:
            raise MCPError(types.INVALID_PARAMS, str(err)) from None
        return types.ReadResourceResult(
            contents=[
                types.TextResourceContents(
                    uri=uri, mime_type="application/json", text=dumps(content)
                )
            ]
        )

    async def subscribe(
        ctx: ServerRequestContext[Any, Any], params: types.SubscribeRequestParams
    ) -> types.EmptyResult:
        get_notifier().subscribe(str(params.uri), ctx.session)
        return types.EmptyResult()

    async def unsubscribe(
        ctx: ServerRequestContext[Any, Any], params: types.UnsubscribeRequestParams
    ) -> types.EmptyResult:
        get_notifier().unsubscribe(str(params.uri), ctx.session)
        return types.EmptyResult()

    listen = ListenHandler(bus)

    async def subscriptions_listen(
        ctx: ServerRequestContext[Any, Any],
        params: types.SubscriptionsListenRequestParams,
    ) -> types.SubscriptionsListenResult:
        get_notifier()
        return await listen(ctx, params)

    async def list_prompts(
        ctx: ServerRequestContext[Any, Any], params: types.PaginatedRequestParams | None
    ) -> types.ListPromptsResult:
        return types.ListPromptsResult(
            prompts=[
                types.Prompt(
                    name=p.name,
                    description=p.description,
                    arguments=[
                        types.PromptArgument(
                            name=a.name, description=a.description, required=a.required
                        )
                        for a in p.arguments
                    ],
                )
                for p in PROMPTS.values()
            ]
        )

    async def get_prompt(
        ctx: ServerRequestContext[Any, Any], params: types.GetPromptRequestParams
    ) -> types.GetPromptResult:
        try:
            text = render(params.name, params.arguments or {})
        except PromptError as err:
            raise MCPError(types.INVALID_PARAMS, str(err)) from None
        return types.GetPromptResult(
            description=PROMPTS[params.name].description,
            messages=[
                types.PromptMessage(role="user", content=types.TextContent(text=text))
            ],
        )

    server: Server[Any] = Server(
        "energy-coordinator",
        version=__version__,
        title="Energy Coordinator",
        instructions=INSTRUCTIONS,
        on_list_tools=list_tools,
        on_call_tool=call_tool,
        on_list_resources=list_resources,
        on_list_resource_templates=list_templates,
        on_read_resource=read_resource,
        on_subscribe_resource=subscribe,
        on_unsubscribe_resource=unsubscribe,
        on_subscriptions_listen=subscriptions_listen,
        on_list_prompts=list_prompts,
        on_get_prompt=get_prompt,
    )
    return server


async def read_uri(registry: ToolRegistry, uri: str) -> Any:
    """The data behind one resource URI."""
    if uri in STATIC_RESOURCES:
        _, _, tool, args = STATIC_RESOURCES[uri]
        return await registry.read(tool, args)
    if uri.startswith("energy://chargers/"):
        return await registry.read("list_chargers", {"charger": uri.rsplit("/", 1)[1]})
    if uri.startswith("ha://entity/"):
        return await registry.entity(uri.removeprefix("ha://entity/"))
    if uri.startswith("ha://area/"):
        return await registry.area_states(uri.removeprefix("ha://area/"))
    raise ToolError(f"unknown resource {uri}")
