"""The home in general: find entities, read states and history, call an action.

Owns `HomeTools`: `search_entities`, `get_states`, `get_history` (downsampled) and
`call_service`, which reaches only the owner's allowed domains and needs the
confirmation when its domain is one the owner wants confirmed, when it is this
integration's own, or when it would reach anything of the integration (targets.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from energy_coordinator_mcp.charger_index import DOMAIN
from energy_coordinator_mcp.home_view import downsample, lean_state, search, value_text

from .access import HomeAccess
from .spec import (
    ACT,
    CONFIRM,
    PAGE,
    READ,
    Planned,
    Tool,
    ToolError,
    ToolSpec,
    id_list,
    integer,
    page,
    schema,
    string,
    strings,
)
from .targets import resolve_target

SEARCH_ENTITIES = ToolSpec(
    "search_entities",
    "Find Home Assistant entities by words (name, area, device), domain, "
    "area or device_class; ids with states.",
    schema(
        {
            "query": string(),
            "domain": string(),
            "area": string(),
            "device_class": string(),
            **PAGE,
        }
    ),
    READ,
)
GET_STATES = ToolSpec(
    "get_states",
    "Current states of entities; fields adds attributes (['*'] for all).",
    schema(
        {
            "entity_ids": {"type": "array", "items": string()},
            "fields": {"type": "array", "items": string()},
        },
        ("entity_ids",),
    ),
    READ,
)
GET_HISTORY = ToolSpec(
    "get_history",
    "An entity's history over recent hours (default 24): points buckets "
    "(mean/min/max) or state changes.",
    schema(
        {
            "entity_id": string(),
            "hours": integer(minimum=1, maximum=720),
            "points": integer(minimum=1, maximum=200),
        },
        ("entity_id",),
    ),
    READ,
)
CALL_SERVICE = ToolSpec(
    "call_service",
    "Call a Home Assistant action (domain.service) on entities, a device or an "
    "area. Only allowed domains; some need confirmation.",
    schema(
        {
            "domain": string(),
            "service": string(),
            "entity_id": strings(),
            "device_id": string(),
            "area_id": string(),
            "data": {"type": "object", "additionalProperties": True},
            **CONFIRM,
        },
        ("domain", "service"),
    ),
    ACT,
)


class HomeTools:
    """Entities, states, history and actions anywhere in the home."""

    def __init__(self, access: HomeAccess) -> None:
        """Read and act through `access`."""
        self.access = access
        self.ha = access.ha

    def tools(self) -> list[Tool]:
        """The tools, in the order clients see them."""
        return [
            Tool(SEARCH_ENTITIES, read=self.search_entities),
            Tool(GET_STATES, read=self.get_states),
            Tool(GET_HISTORY, read=self.get_history),
            Tool(CALL_SERVICE, act=self.call_service),
        ]

    async def search_entities(self, args: dict[str, Any]) -> Any:
        """Visible entities by words and filters, one page."""
        found = search(
            self.ha,
            await self.access.visible_states(),
            query=str(args.get("query") or ""),
            domain=args.get("domain"),
            area=args.get("area"),
            device_class=args.get("device_class"),
        )
        result = page(found, args, 20)
        result["items"] = [
            {
                "id": s.entity_id,
                "name": s.name,
                "state": value_text(s),
                **(
                    {"area": area}
                    if (area := self.ha.area_name(self.ha.area_of(s.entity_id)))
                    else {}
                ),
            }
            for s in result["items"]
        ]
        return result

    async def get_states(self, args: dict[str, Any]) -> Any:
        """Lean states of some entities (unknown ones listed apart)."""
        if not args["entity_ids"]:
            raise ToolError("entity_ids: give at least one entity id")
        fields = [str(f) for f in args.get("fields") or []]
        out = []
        missing = []
        for entity_id in args["entity_ids"]:
            try:
                state = await self.access.visible(str(entity_id))
            except ToolError:
                missing.append(entity_id)
                continue
            out.append(
                lean_state(
                    self.ha, state, self.access.zone, self.access.redactor, fields
                )
            )
        result: dict[str, Any] = {"states": out}
        if missing:
            result["unknown"] = missing
        return result

    async def get_history(self, args: dict[str, Any]) -> Any:
        """One entity's recorded history, downsampled."""
        zone = self.access.zone
        state = await self.access.visible(str(args["entity_id"]))
        hours = int(args.get("hours") or 24)
        points = int(args.get("points") or 24)
        end = datetime.now(UTC)
        start = end - timedelta(hours=hours)
        history = await self.ha.history([state.entity_id], start, end)
        rows = history.get(state.entity_id) or []
        result = downsample(rows, start, end, points, zone)
        unit = state.attributes.get("unit_of_measurement")
        return {
            "entity_id": state.entity_id,
            "unit": unit,
            "from": start.astimezone(zone).isoformat(timespec="minutes"),
            "hours": hours,
            **result,
        }

    async def call_service(self, args: dict[str, Any]) -> Planned:
        """Any allowed action; consequential ones wait for the confirmation."""
        options = self.access.options
        domain = str(args["domain"]).strip().lower()
        service = str(args["service"]).strip().lower()
        if domain not in options.allowed_domains:
            raise ToolError(
                f"domain {domain!r} is not allowed (allowed_domains: "
                f"{', '.join(options.allowed_domains) or 'none'})"
            )
        services = await self.ha.services()
        description = (services.get(domain) or {}).get(service)
        if description is None:
            raise ToolError(f"Home Assistant has no action {domain}.{service}")
        data = dict(args.get("data") or {})
        target = await resolve_target(
            self.access,
            entity_ids=id_list(args.get("entity_id")),
            device_ids=id_list(args.get("device_id")),
            area_ids=id_list(args.get("area_id")),
            data=data,
        )
        wants_response = isinstance(description, Mapping) and "response" in description
        entity_ids = target.entity_ids

        async def run() -> Any:
            response = await self.ha.call_service(
                domain, service, data, wants_response, target=target.as_target()
            )
            out: dict[str, Any] = {"done": f"{domain}.{service}"}
            if wants_response:
                out["response"] = response
            await asyncio.sleep(0.05)  # let the state mirror catch up
            if entity_ids:
                out["states"] = {
                    e: self.access.state_text(e)
                    for e in entity_ids
                    if e in self.ha.states
                }
            return out

        with_data = f" with {data}" if data else ""
        touched = target.touched_text(domain)
        summary = f"Call {domain}.{service}{target.text()}{with_data}{touched}"
        consequential = (
            domain in options.confirm_domains
            or domain == DOMAIN
            or bool(target.touched)
        )
        return Planned(summary if consequential else None, run)
