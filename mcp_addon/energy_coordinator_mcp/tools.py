"""The tools: one implementation for MCP clients and the in-process assistant.

Owns `ToolSpec` (name, description, JSON schema, annotations), `ToolResult`, and
`ToolRegistry`, which validates arguments, hides and refuses acting tools in
read-only mode, puts consequential calls behind the confirmation gate (a one-time
code valid two minutes), runs the tool, removes secrets from the result and writes
one audit line per call. Every acting tool goes through the integration's own
actions (or the loadpoint's select/number/datetime entities), so no coordinator
logic is duplicated here.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jsonschema

from .audit import AuditLog, Timer
from .config import Options
from .ha_client import EntityState, HAClient, HAError
from .home_view import downsample, lean_state, search, value_text
from .overview import home_overview
from .security import CONFIRMATION_TTL, ConfirmationGate, Redactor
from .site_view import (
    DOMAIN,
    FREE_STATES,
    ChargerIndex,
    ChargerInfo,
    SiteError,
    decision_summary,
    energy_line,
    ev_summary,
    loadpoint_power_kw,
    local_time,
    local_zone,
    site_summary,
)

#: Seconds the Assist exposure list is cached.
EXPOSURE_TTL = 30.0
MODES = ("off", "now", "minpv", "pv")
#: get_site_status scopes: the energy site (default) or the whole home.
SCOPES = ("energy", "home")
#: Error-code states that mean "no error".
NO_ERROR = frozenset({"noerror", "unknown", "unavailable", ""})
#: Largest page any tool returns.
MAX_PAGE = 200


class ToolError(Exception):
    """A tool cannot do what was asked; the message is for the model to read."""


@dataclass(frozen=True, slots=True)
class ToolSpec:
    """A tool as clients see it."""

    name: str
    description: str
    input_schema: dict[str, Any]
    annotations: dict[str, Any]

    @property
    def read_only(self) -> bool:
        """Whether the tool only reads."""
        return bool(self.annotations.get("readOnlyHint"))


@dataclass(slots=True)
class ToolResult:
    """What a call returns: JSON-able content, an error flag, a pending confirmation."""

    content: Any
    is_error: bool = False
    confirmation: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Planned:
    """An acting call, resolved and described, ready to run once confirmed."""

    summary: str | None  # None: nothing consequential, run without a code
    run: Callable[[], Awaitable[Any]]


ReadHandler = Callable[[dict[str, Any]], Awaitable[Any]]
ActHandler = Callable[[dict[str, Any]], Awaitable[Planned]]


@dataclass(slots=True)
class _Tool:
    spec: ToolSpec
    read: ReadHandler | None = None
    act: ActHandler | None = None


def _schema(
    properties: dict[str, Any] | None = None, required: tuple[str, ...] = ()
) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": properties or {}}
    if required:
        schema["required"] = list(required)
    return schema


def _str(description: str | None = None, **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "string", **extra}
    if description:
        out["description"] = description
    return out


def _int(description: str | None = None, **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "integer", **extra}
    if description:
        out["description"] = description
    return out


CONFIRM = {"confirm": _str()}  # the gate's code; see the server instructions
PAGE = {"limit": _int(minimum=1), "offset": _int(minimum=0)}
CHARGER = _str()
CONNECTOR = _int(minimum=1)
LOADPOINT = _str("charger/connector or charger id")

READ = {"readOnlyHint": True, "destructiveHint": False}
ACT = {"readOnlyHint": False, "destructiveHint": True}


def _page(items: list[Any], args: Mapping[str, Any], default: int) -> dict[str, Any]:
    limit = min(int(args.get("limit") or default), MAX_PAGE)
    offset = int(args.get("offset") or 0)
    return {
        "total": len(items),
        "offset": offset,
        "items": items[offset : offset + limit],
    }


class ToolRegistry:
    """The add-on's tools, their gate and their audit log."""

    def __init__(
        self,
        ha: HAClient,
        options: Options,
        *,
        gate: ConfirmationGate,
        audit: AuditLog,
        redactor: Redactor,
    ) -> None:
        """Bind the tools to HA, the owner's options, the gate and the audit log."""
        self.ha = ha
        self.options = options
        self.gate = gate
        self.audit = audit
        self.redactor = redactor
        self.index = ChargerIndex(ha)
        self._exposed: tuple[float, set[str]] | None = None
        self._tools: dict[str, _Tool] = {}
        self._define()

    # Public interface ---------------------------------------------------------

    def specs(self, read_only: bool) -> list[ToolSpec]:
        """The tools a client may see, in a fixed order (acting ones hidden if RO)."""
        return [
            t.spec
            for t in self._tools.values()
            if not (read_only or self.options.read_only) or t.spec.read_only
        ]

    def spec(self, name: str) -> ToolSpec | None:
        """One tool's spec."""
        tool = self._tools.get(name)
        return tool.spec if tool else None

    async def call(
        self, name: str, arguments: dict[str, Any], caller: str
    ) -> ToolResult:
        """Run one tool call through validation, the gate and the audit log."""
        timer = Timer()
        arguments = dict(arguments or {})
        outcome = "ok"
        try:
            result = await self._call(name, arguments, caller)
        except (ToolError, SiteError, HAError) as err:
            result = ToolResult({"error": self.redactor.text(str(err))}, is_error=True)
        except Exception as err:  # a bug must not take the server down
            result = ToolResult(
                {"error": f"internal error: {type(err).__name__}"}, is_error=True
            )
        if result.is_error:
            outcome = "error"
        elif result.confirmation is not None:
            outcome = "confirmation_required"
        result.content = self.redactor.data(result.content)
        self.audit.record(
            caller=caller,
            tool=name,
            arguments=arguments,
            outcome=outcome,
            result=result.content,
            duration_s=timer.elapsed(),
        )
        return result

    async def read(self, name: str, arguments: dict[str, Any]) -> Any:
        """Run a read-only tool without the audit log (resources use this)."""
        tool = self._tools.get(name)
        if tool is None or tool.read is None:
            raise ToolError(f"{name!r} is not a read tool")
        return self.redactor.data(await tool.read(dict(arguments)))

    async def area_states(self, area: str) -> Any:
        """The visible entities of one area (by id or name), lean."""
        wanted = area.strip().lower()
        area_ids = {
            area_id
            for area_id, entry in self.ha.areas.items()
            if wanted in (area_id.lower(), str(entry.get("name") or "").lower())
        }
        if not area_ids:
            known = ", ".join(sorted(self.ha.areas)) or "none"
            raise ToolError(f"unknown area {area!r}; areas: {known}")
        states = [
            s
            for s in await self.visible_states()
            if self.ha.area_of(s.entity_id) in area_ids
        ]
        states.sort(key=lambda s: s.entity_id)
        return {
            "area": self.ha.area_name(next(iter(sorted(area_ids)))),
            "entities": [
                {"id": s.entity_id, "name": s.name, "state": value_text(s)}
                for s in states
            ],
        }

    async def entity(self, entity_id: str) -> Any:
        """One visible entity with all its (redacted) attributes."""
        state = await self._visible(entity_id)
        return lean_state(self.ha, state, self.zone, self.redactor, ["*"])

    async def _call(
        self, name: str, arguments: dict[str, Any], caller: str
    ) -> ToolResult:
        tool = self._tools.get(name)
        if tool is None:
            raise ToolError(f"unknown tool {name!r}")
        schema = tool.spec.input_schema
        unknown = set(arguments) - set(schema.get("properties", {}))
        if unknown:
            raise ToolError(f"unknown argument(s): {', '.join(sorted(unknown))}")
        try:
            jsonschema.validate(arguments, schema)
        except jsonschema.ValidationError as err:
            where = ".".join(str(p) for p in err.absolute_path) or "arguments"
            raise ToolError(f"invalid {where}: {err.message}") from None
        if tool.read is not None:
            return ToolResult(await tool.read(arguments))
        assert tool.act is not None
        if self.options.read_only:
            raise ToolError(
                f"{name} is disabled: the add-on runs in read-only mode "
                "(change the read_only option to allow actions)"
            )
        planned = await tool.act(arguments)
        if planned.summary is not None:
            code = arguments.get("confirm")
            if not code:
                pending = self.gate.request(caller, name, arguments, planned.summary)
                confirmation = {
                    "tool": name,
                    "arguments": {k: v for k, v in arguments.items() if k != "confirm"},
                    "summary": planned.summary,
                    "code": pending.code,
                    "expires_in_s": int(CONFIRMATION_TTL),
                }
                return ToolResult(
                    {
                        "confirmation_required": planned.summary,
                        "confirm": pending.code,
                        "expires_in_s": int(CONFIRMATION_TTL),
                        "next": (
                            "Ask the user. Only if they agree, call "
                            f"{name} again with the same arguments and "
                            f'confirm="{pending.code}".'
                        ),
                    },
                    confirmation=confirmation,
                )
            problem = self.gate.redeem(caller, name, arguments, str(code))
            if problem is not None:
                raise ToolError(problem)
        return ToolResult(await planned.run())

    # Helpers ------------------------------------------------------------------

    @property
    def zone(self) -> Any:
        """HA's time zone."""
        return local_zone(self.ha)

    async def _status(self) -> dict[str, Any]:
        response = await self.ha.call_service(
            DOMAIN, "get_status", {}, return_response=True
        )
        if not isinstance(response, dict):
            raise ToolError("the integration returned no status")
        return response

    async def _exposed_ids(self) -> set[str] | None:
        """None when everything is exposed, else the Assist-exposed entities."""
        if self.options.expose == "all":
            return None
        now = time.monotonic()
        if self._exposed is None or now - self._exposed[0] > EXPOSURE_TTL:
            self._exposed = (now, await self.ha.exposed_entities())
        return self._exposed[1]

    async def visible_states(self) -> list[EntityState]:
        """States the owner lets the model see."""
        exposed = await self._exposed_ids()
        states = self.ha.states.values()
        if exposed is None:
            return list(states)
        return [s for s in states if s.entity_id in exposed]

    async def _visible(self, entity_id: str) -> EntityState:
        state = self.ha.states.get(entity_id)
        exposed = await self._exposed_ids()
        if state is None or (exposed is not None and entity_id not in exposed):
            raise ToolError(
                f"unknown entity {entity_id!r}; use search_entities to find ids"
            )
        return state

    def _state(self, entity_id: str | None) -> str | None:
        if not entity_id:
            return None
        state = self.ha.states.get(entity_id)
        return value_text(state) if state else None

    def _connector_states(self) -> dict[str, str | None]:
        out: dict[str, str | None] = {}
        for charger in self.index.chargers().values():
            for number, conn in charger.connectors.items():
                state = self.ha.states.get(conn.entities.get("connector_status", ""))
                out[f"{charger.charger_id}/{number}"] = state.state if state else None
        return out

    def _online(self, charger: ChargerInfo) -> bool:
        state = self.ha.states.get(charger.entities.get("connected", ""))
        return state is not None and state.state == "on"

    def _connector_id(self, charger: ChargerInfo, requested: int | None) -> int:
        if requested is not None:
            if charger.connectors and requested not in charger.connectors:
                known = ", ".join(str(n) for n in charger.connectors)
                raise ToolError(
                    f"{charger.charger_id} has no connector {requested} (has: {known})"
                )
            return requested
        if len(charger.connectors) > 1:
            known = ", ".join(str(n) for n in charger.connectors)
            raise ToolError(
                f"{charger.charger_id} has several connectors ({known}); give connector"
            )
        return next(iter(charger.connectors), 1)

    # Definitions ----------------------------------------------------------------

    def _add(
        self,
        name: str,
        description: str,
        schema: dict[str, Any],
        annotations: dict[str, Any],
        *,
        read: ReadHandler | None = None,
        act: ActHandler | None = None,
    ) -> None:
        spec = ToolSpec(name, description, schema, dict(annotations))
        self._tools[name] = _Tool(spec, read, act)

    def _define(self) -> None:
        self._add(
            "get_site_status",
            "Start here for energy questions: solar, grid, house, home battery and "
            "every EV right now (with units) and the coordinator's last decision. "
            "scope=home: overview of the whole home instead, per area (lights, "
            "switches, covers, climate, temperatures, open doors/windows, low "
            "batteries, unavailable) plus the energy line.",
            _schema({"scope": _str(enum=list(SCOPES))}),
            READ,
            read=self._get_site_status,
        )
        self._add(
            "list_chargers",
            "EV chargers and connectors: status, power, limit, session. charger=id "
            "for full detail (errors, firmware, last seen); available_only=true for "
            "free connectors and their max power.",
            _schema({"charger": CHARGER, "available_only": {"type": "boolean"}}),
            READ,
            read=self._list_chargers,
        )
        self._add(
            "get_plan",
            "What the coordinator will do per EV: mode, targets, current allocation.",
            _schema({"loadpoint": LOADPOINT}),
            READ,
            read=self._get_plan,
        )
        self._add(
            "explain_decision",
            "Why the coordinator decided what it did (last run); now=true decides "
            "afresh without acting.",
            _schema({"loadpoint": LOADPOINT, "now": {"type": "boolean"}}),
            READ,
            read=self._explain_decision,
        )
        self._add(
            "get_sessions",
            "Charging sessions, newest first, with energy totals. id_tag: one "
            "driver's sessions. since/until: ISO dates.",
            _schema(
                {
                    "charger": CHARGER,
                    "id_tag": _str(),
                    "since": _str(),
                    "until": _str(),
                    **PAGE,
                }
            ),
            READ,
            read=self._get_sessions,
        )
        self._add(
            "start_charging",
            "Start a charging session (remote start). Needs confirmation.",
            _schema(
                {
                    "charger": CHARGER,
                    "connector": CONNECTOR,
                    "id_tag": _str(),
                    **CONFIRM,
                },
                ("charger",),
            ),
            ACT,
            act=self._start_charging,
        )
        self._add(
            "stop_charging",
            "Stop the running session (remote stop). Needs confirmation.",
            _schema(
                {"charger": CHARGER, "connector": CONNECTOR, **CONFIRM}, ("charger",)
            ),
            ACT,
            act=self._stop_charging,
        )
        self._add(
            "set_charge_mode",
            "Set an EV's charge mode: off (pause), now (full speed), minpv "
            "(minimum + solar), pv (solar surplus only). Needs confirmation.",
            _schema(
                {"loadpoint": LOADPOINT, "mode": _str(enum=list(MODES)), **CONFIRM},
                ("loadpoint", "mode"),
            ),
            ACT,
            act=self._set_charge_mode,
        )
        self._add(
            "set_charge_target",
            "Set an EV's target SoC (%) and/or ready-by time (HH:MM or ISO). "
            "Needs confirmation.",
            _schema(
                {
                    "loadpoint": LOADPOINT,
                    "soc": {"type": "number", "minimum": 0, "maximum": 100},
                    "time": _str(),
                    **CONFIRM,
                },
                ("loadpoint",),
            ),
            ACT,
            act=self._set_charge_target,
        )
        self._add(
            "set_current_limit",
            "Limit a charger's current (A, or W with unit). Needs confirmation.",
            _schema(
                {
                    "charger": CHARGER,
                    "limit": {"type": "number", "minimum": 0},
                    "unit": _str(enum=["A", "W"]),
                    "connector": CONNECTOR,
                    "duration_s": _int(minimum=1),
                    **CONFIRM,
                },
                ("charger", "limit"),
            ),
            ACT,
            act=self._set_current_limit,
        )
        self._add(
            "run_coordination",
            "Run the coordinator now and carry out its decision. Needs confirmation.",
            _schema(dict(CONFIRM)),
            ACT,
            act=self._run_coordination,
        )
        self._add(
            "search_entities",
            "Find Home Assistant entities by words (name, area, device), domain, "
            "area or device_class; returns ids with states.",
            _schema(
                {
                    "query": _str(),
                    "domain": _str(),
                    "area": _str(),
                    "device_class": _str(),
                    **PAGE,
                }
            ),
            READ,
            read=self._search_entities,
        )
        self._add(
            "get_states",
            "Current states of entities; fields adds attributes (['*'] for all).",
            _schema(
                {
                    "entity_ids": {"type": "array", "items": _str(), "minItems": 1},
                    "fields": {"type": "array", "items": _str()},
                },
                ("entity_ids",),
            ),
            READ,
            read=self._get_states,
        )
        self._add(
            "get_history",
            "An entity's history over the last hours (default 24), downsampled "
            "to points buckets (mean/min/max) or state changes.",
            _schema(
                {
                    "entity_id": _str(),
                    "hours": {"type": "number", "exclusiveMinimum": 0, "maximum": 720},
                    "points": _int(minimum=1, maximum=200),
                },
                ("entity_id",),
            ),
            READ,
            read=self._get_history,
        )
        self._add(
            "call_service",
            "Call a Home Assistant action (domain.service) on entities. Only allowed "
            "domains; some need confirmation.",
            _schema(
                {
                    "domain": _str(),
                    "service": _str(),
                    "entity_id": {
                        "anyOf": [_str(), {"type": "array", "items": _str()}]
                    },
                    "data": {"type": "object"},
                    **CONFIRM,
                },
                ("domain", "service"),
            ),
            ACT,
            act=self._call_service,
        )

    # Site and energy ------------------------------------------------------------

    async def _get_site_status(self, args: dict[str, Any]) -> Any:
        if args.get("scope") != "home":
            status = await self._status()
            return site_summary(status, self.zone, self._connector_states())
        # The home overview works without the integration too.
        try:
            status = await self._status()
        except (ToolError, HAError) as err:
            energy = f"unknown (Energy Coordinator status unavailable: {err})"
            soc = None
        else:
            summary = site_summary(status, self.zone, self._connector_states())
            energy = energy_line(summary)
            soc = (status.get("status") or {}).get("battery_soc_pct")
        return home_overview(
            self.ha,
            await self.visible_states(),
            energy=energy,
            home_battery_soc=float(soc) if isinstance(soc, int | float) else None,
        )

    async def _list_chargers(self, args: dict[str, Any]) -> Any:
        if args.get("charger"):
            return await self._charger_detail(str(args["charger"]))
        chargers = self.index.chargers()
        status = await self._status()
        loadpoints: dict[str, Any] = status.get("loadpoints") or {}
        if args.get("available_only"):
            free = []
            for charger in chargers.values():
                if not self._online(charger):
                    continue
                for number, conn in charger.connectors.items():
                    state = self.ha.states.get(
                        conn.entities.get("connector_status", "")
                    )
                    if state is None or state.state not in FREE_STATES:
                        continue
                    lp = loadpoints.get(f"{charger.charger_id}/{number}") or {}
                    power = loadpoint_power_kw(lp)
                    free.append(
                        {
                            "charger": charger.charger_id,
                            "connector": number,
                            "max_power": f"{power:.1f} kW" if power else "unknown",
                        }
                    )
            return {"available": free, "total_chargers": len(chargers)}
        out = []
        for charger in chargers.values():
            connectors = []
            for number, conn in charger.connectors.items():
                e = conn.entities
                item: dict[str, Any] = {
                    "connector": number,
                    "status": self._state(e.get("connector_status")),
                    "power": self._state(e.get("power")),
                    "limit": self._state(e.get("max_current")),
                }
                error = self._state(e.get("error_code"))
                if error and error.lower().replace("_", "") not in NO_ERROR:
                    item["error"] = error
                session = self._state(e.get("session_energy"))
                if session:
                    item["session"] = session
                lp = loadpoints.get(f"{charger.charger_id}/{number}")
                if lp:
                    item["mode"] = lp.get("mode")
                connectors.append({k: v for k, v in item.items() if v is not None})
            out.append(
                {
                    "charger": charger.charger_id,
                    "online": self._online(charger),
                    "model": " ".join(
                        p for p in (charger.manufacturer, charger.model) if p
                    )
                    or None,
                    "connectors": connectors,
                }
            )
        return {"chargers": out, "total": len(out)}

    async def _charger_detail(self, charger_id: str) -> Any:
        charger = self.index.charger(charger_id)
        status = await self._status()
        loadpoints: dict[str, Any] = status.get("loadpoints") or {}
        detail: dict[str, Any] = {
            "charger": charger.charger_id,
            "online": self._online(charger),
            "manufacturer": charger.manufacturer,
            "model": charger.model,
            "firmware": charger.firmware,
            "device_id": charger.device_id,
        }
        for key in ("status", "last_seen", "firmware_status"):
            value = self._state(charger.entities.get(key))
            if value is not None:
                detail[key] = value
        connected = self.ha.states.get(charger.entities.get("connected", ""))
        if connected is not None and connected.attributes.get("ocpp_version"):
            detail["ocpp_version"] = connected.attributes["ocpp_version"]
        connectors = []
        for number, conn in charger.connectors.items():
            item: dict[str, Any] = {"connector": number}
            for key, entity_id in sorted(conn.entities.items()):
                value = self._state(entity_id)
                if value is not None and key not in ("unlock",):
                    item[key] = value
            lp = loadpoints.get(f"{charger.charger_id}/{number}")
            if lp:
                item["loadpoint"] = ev_summary(
                    f"{charger.charger_id}/{number}", lp, self.zone
                ) | {
                    "min_current": f"{lp.get('min_current_a')} A",
                    "max_current": f"{lp.get('max_current_a')} A",
                    "phases": lp.get("phases"),
                }
            connectors.append(item)
        detail["connectors"] = connectors
        return {k: v for k, v in detail.items() if v is not None}

    async def _decision(self, now: bool) -> dict[str, Any] | None:
        if now:
            response = await self.ha.call_service(
                DOMAIN, "coordinate", {"dry_run": True}, return_response=True
            )
            return response if isinstance(response, dict) else None
        status = await self._status()
        last = status.get("last_decision")
        return last if isinstance(last, dict) else None

    def _resolve_loadpoint(self, value: Any) -> str | None:
        if not value:
            return None
        return self.index.loadpoint(str(value)).loadpoint_id

    async def _explain_decision(self, args: dict[str, Any]) -> Any:
        lp_id = self._resolve_loadpoint(args.get("loadpoint"))
        now = bool(args.get("now"))
        decision = await self._decision(now)
        if decision is None:
            return {
                "decision": None,
                "note": "the coordinator has not run yet; call with now=true",
            }
        reasons = [
            {"about": r.get("subject"), "why": r.get("message"), "code": r.get("code")}
            for r in decision.get("explanation") or []
            if lp_id is None or r.get("subject") in (lp_id, "site", "grid", "battery")
        ]
        actions = decision.get("actions") or {}
        vehicles = actions.get("vehicles") or {}
        if lp_id is not None:
            vehicles = {k: v for k, v in vehicles.items() if k == lp_id}
        out: dict[str, Any] = {
            "at": local_time(decision.get("time"), self.zone, seconds=True),
            "fresh_dry_run": now,
            "evs": {
                k: _vehicle_action_text(v)
                for k, v in vehicles.items()
                if isinstance(v, Mapping)
            },
            "reasons": reasons,
        }
        if actions.get("battery"):
            battery = actions["battery"]
            out["battery"] = f"{battery.get('mode')} {battery.get('power_kw')} kW"
        loads = actions.get("loads") or {}
        if loads.get("shed"):
            out["loads_shed"] = loads["shed"]
        if decision.get("executed"):
            out["executed"] = decision["executed"]
        if decision.get("errors"):
            out["errors"] = decision["errors"]
        return out

    async def _get_plan(self, args: dict[str, Any]) -> Any:
        lp_id = self._resolve_loadpoint(args.get("loadpoint"))
        if await self.ha.has_service(DOMAIN, "get_plan"):
            data = {"loadpoint": lp_id} if lp_id else {}
            return await self.ha.call_service(
                DOMAIN, "get_plan", data, return_response=True
            )
        status = await self._status()
        decision = await self._decision(now=True) or {}
        vehicles = (decision.get("actions") or {}).get("vehicles") or {}
        plan = []
        for key, lp in sorted((status.get("loadpoints") or {}).items()):
            if lp_id is not None and key != lp_id:
                continue
            item = ev_summary(key, lp, self.zone)
            item["limits"] = f"{lp.get('min_current_a')}-{lp.get('max_current_a')} A"
            if key in vehicles:
                item["now"] = _vehicle_action_text(vehicles[key])
            plan.append(item)
        battery = (decision.get("actions") or {}).get("battery")
        out: dict[str, Any] = {
            "planner": "no horizon planner installed: this is the real-time "
            "controller's current allocation and the targets it works towards",
            "evs": plan,
        }
        if battery:
            out["battery"] = f"{battery.get('mode')} {battery.get('power_kw')} kW"
        reasons = decision_summary(decision, self.zone)
        if reasons:
            out["why"] = reasons["why"]
        return out

    async def _get_sessions(self, args: dict[str, Any]) -> Any:
        data: dict[str, Any] = {
            "limit": min(int(args.get("limit") or 20), MAX_PAGE),
            "offset": int(args.get("offset") or 0),
        }
        if args.get("charger"):
            data["device_id"] = self.index.charger(str(args["charger"])).device_id
        if args.get("id_tag"):
            data["id_tag"] = str(args["id_tag"])
        for key, target in (("since", "start"), ("until", "end")):
            if args.get(key):
                data[target] = _parse_time(str(args[key]), self.zone).isoformat()
        response = await self.ha.call_service(
            DOMAIN, "get_sessions", data, return_response=True
        )
        response = response if isinstance(response, dict) else {}
        sessions = []
        for s in response.get("sessions") or []:
            item = {
                "charger": f"{s.get('charger_id')}/{s.get('connector_id')}",
                "id_tag": s.get("id_tag"),
                "start": local_time(s.get("start_time"), self.zone),
                "stop": local_time(s.get("stop_time"), self.zone)
                if s.get("stop_time")
                else "running",
                "energy": f"{s.get('energy_kwh', 0):.2f} kWh",
            }
            if s.get("stop_reason"):
                item["reason"] = s["stop_reason"]
            sessions.append(item)
        return {
            "total": response.get("total", len(sessions)),
            "total_energy": f"{response.get('total_energy_kwh', 0):.2f} kWh",
            "offset": data["offset"],
            "items": sessions,
        }

    # Acting on chargers -----------------------------------------------------------

    async def _start_charging(self, args: dict[str, Any]) -> Planned:
        charger = self.index.charger(str(args["charger"]))
        connector = self._connector_id(charger, args.get("connector"))
        data: dict[str, Any] = {
            "device_id": charger.device_id,
            "connector_id": connector,
        }
        if args.get("id_tag"):
            data["id_tag"] = args["id_tag"]

        async def run() -> Any:
            await self.ha.call_service(DOMAIN, "start_charging", data)
            return {"done": f"start requested on {charger.charger_id}/{connector}"}

        return Planned(
            f"Start charging on {charger.charger_id} connector {connector}", run
        )

    async def _stop_charging(self, args: dict[str, Any]) -> Planned:
        charger = self.index.charger(str(args["charger"]))
        connector = self._connector_id(charger, args.get("connector"))
        data = {"device_id": charger.device_id, "connector_id": connector}

        async def run() -> Any:
            await self.ha.call_service(DOMAIN, "stop_charging", data)
            return {"done": f"stop requested on {charger.charger_id}/{connector}"}

        return Planned(
            f"Stop the charging session on {charger.charger_id} connector {connector}",
            run,
        )

    async def _set_current_limit(self, args: dict[str, Any]) -> Planned:
        charger = self.index.charger(str(args["charger"]))
        connector = self._connector_id(charger, args.get("connector"))
        unit = str(args.get("unit") or "A")
        limit = float(args["limit"])
        data: dict[str, Any] = {
            "device_id": charger.device_id,
            "connector_id": connector,
            "limit": limit,
            "unit": unit,
        }
        if args.get("duration_s"):
            data["duration"] = int(args["duration_s"])
        during = f" for {data['duration']} s" if "duration" in data else ""

        async def run() -> Any:
            await self.ha.call_service(DOMAIN, "set_current_limit", data)
            return {
                "done": f"{charger.charger_id}/{connector} limited to {limit:g} {unit}"
                + during
            }

        return Planned(
            f"Limit {charger.charger_id} connector {connector} to {limit:g} {unit}"
            + during
            + (" (0 pauses charging)" if limit == 0 else ""),
            run,
        )

    async def _run_coordination(self, args: dict[str, Any]) -> Planned:
        async def run() -> Any:
            response = await self.ha.call_service(
                DOMAIN, "coordinate", {}, return_response=True
            )
            decision = response if isinstance(response, dict) else {}
            return decision_summary(decision, self.zone) or {"done": True}

        return Planned(
            "Run the coordinator now and apply its decision to chargers, battery "
            "and loads",
            run,
        )

    # Loadpoint settings -------------------------------------------------------------

    def _setting(self, loadpoint: str, setting: str, label: str) -> tuple[str, str]:
        info = self.index.loadpoint(loadpoint)
        entity_id = self.index.setting_entity(info, setting)
        if entity_id is None:
            raise ToolError(
                f"loadpoint {info.loadpoint_id} has no {label} entity in Home "
                "Assistant (is the integration up to date?); nothing was changed"
            )
        return info.loadpoint_id, entity_id

    async def _set_charge_mode(self, args: dict[str, Any]) -> Planned:
        lp_id, entity_id = self._setting(str(args["loadpoint"]), "mode", "charge mode")
        mode = str(args["mode"])
        state = self.ha.states.get(entity_id)
        options = (
            [str(o) for o in (state.attributes.get("options") or [])] if state else []
        )
        option = _match_option(mode, options)
        if option is None:
            raise ToolError(
                f"mode {mode!r} is not offered by {entity_id} (options: "
                f"{', '.join(options) or 'none'})"
            )

        async def run() -> Any:
            await self.ha.call_service(
                "select",
                "select_option",
                {"option": option},
                target={"entity_id": entity_id},
            )
            return {"done": f"{lp_id} charge mode set to {option}"}

        current = state.state if state else "unknown"
        return Planned(
            f"Change the charge mode of {lp_id} from {current} to {option}", run
        )

    async def _set_charge_target(self, args: dict[str, Any]) -> Planned:
        if args.get("soc") is None and not args.get("time"):
            raise ToolError("give soc and/or time")
        changes: list[tuple[str, str, dict[str, Any], str]] = []
        lp_id = self.index.loadpoint(str(args["loadpoint"])).loadpoint_id
        if args.get("soc") is not None:
            _, entity_id = self._setting(lp_id, "target_soc", "target SoC")
            soc = float(args["soc"])
            changes.append(
                ("number", entity_id, {"value": soc}, f"target SoC {soc:g} %")
            )
        if args.get("time"):
            _, entity_id = self._setting(lp_id, "target_time", "target time")
            when = _next_time(str(args["time"]), self.zone)
            changes.append(
                (
                    "datetime",
                    entity_id,
                    {"datetime": when.isoformat()},
                    f"ready by {when.strftime('%Y-%m-%d %H:%M')}",
                )
            )

        async def run() -> Any:
            for domain, entity_id, data, _ in changes:
                await self.ha.call_service(
                    domain, "set_value", data, target={"entity_id": entity_id}
                )
            return {"done": f"{lp_id}: " + ", ".join(c[3] for c in changes)}

        return Planned(f"Set {lp_id} " + " and ".join(c[3] for c in changes), run)

    # Home in general ------------------------------------------------------------------

    async def _search_entities(self, args: dict[str, Any]) -> Any:
        found = search(
            self.ha,
            await self.visible_states(),
            query=str(args.get("query") or ""),
            domain=args.get("domain"),
            area=args.get("area"),
            device_class=args.get("device_class"),
        )
        page = _page(found, args, 20)
        page["items"] = [
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
            for s in page["items"]
        ]
        return page

    async def _get_states(self, args: dict[str, Any]) -> Any:
        fields = [str(f) for f in args.get("fields") or []]
        out = []
        missing = []
        for entity_id in args["entity_ids"]:
            try:
                state = await self._visible(str(entity_id))
            except ToolError:
                missing.append(entity_id)
                continue
            out.append(lean_state(self.ha, state, self.zone, self.redactor, fields))
        result: dict[str, Any] = {"states": out}
        if missing:
            result["unknown"] = missing
        return result

    async def _get_history(self, args: dict[str, Any]) -> Any:
        state = await self._visible(str(args["entity_id"]))
        hours = float(args.get("hours") or 24)
        points = int(args.get("points") or 24)
        end = datetime.now(UTC)
        start = end - timedelta(hours=hours)
        history = await self.ha.history([state.entity_id], start, end)
        rows = history.get(state.entity_id) or []
        result = downsample(rows, start, end, points, self.zone)
        unit = state.attributes.get("unit_of_measurement")
        return {
            "entity_id": state.entity_id,
            "unit": unit,
            "from": start.astimezone(self.zone).isoformat(timespec="minutes"),
            "hours": hours,
            **result,
        }

    async def _call_service(self, args: dict[str, Any]) -> Planned:
        domain = str(args["domain"]).strip().lower()
        service = str(args["service"]).strip().lower()
        if domain not in self.options.allowed_domains:
            raise ToolError(
                f"domain {domain!r} is not allowed (allowed_domains: "
                f"{', '.join(self.options.allowed_domains) or 'none'})"
            )
        services = await self.ha.services()
        description = (services.get(domain) or {}).get(service)
        if description is None:
            raise ToolError(f"Home Assistant has no action {domain}.{service}")
        raw_ids = args.get("entity_id") or []
        entity_ids = [raw_ids] if isinstance(raw_ids, str) else list(raw_ids)
        for entity_id in entity_ids:
            await self._visible(str(entity_id))
        data = dict(args.get("data") or {})
        if "entity_id" in data:
            raise ToolError("give entity_id as the tool argument, not inside data")
        wants_response = isinstance(description, Mapping) and "response" in description
        target = {"entity_id": entity_ids} if entity_ids else None

        async def run() -> Any:
            response = await self.ha.call_service(
                domain, service, data, wants_response, target=target
            )
            out: dict[str, Any] = {"done": f"{domain}.{service}"}
            if wants_response:
                out["response"] = response
            await asyncio.sleep(0.05)  # let the state mirror catch up
            if entity_ids:
                out["states"] = {
                    e: self._state(e) for e in entity_ids if e in self.ha.states
                }
            return out

        on = f" on {', '.join(entity_ids)}" if entity_ids else ""
        with_data = f" with {data}" if data else ""
        summary = f"Call {domain}.{service}{on}{with_data}"
        confirm = domain in self.options.confirm_domains
        return Planned(summary if confirm else None, run)


def _vehicle_action_text(action: Mapping[str, Any]) -> str:
    if not action.get("charging"):
        return f"paused (mode {action.get('mode')})"
    return (
        f"charging at {action.get('current_a')} A on {action.get('phases')} "
        f"phase(s) ≈ {action.get('power_kw')} kW (mode {action.get('mode')})"
    )


def _match_option(mode: str, options: list[str]) -> str | None:
    wanted = mode.lower().replace("+", "").replace("_", "").replace(" ", "")
    for option in options:
        if option.lower().replace("+", "").replace("_", "").replace(" ", "") == wanted:
            return option
    return None


def _parse_time(value: str, zone: Any) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ToolError(f"cannot read time {value!r}; use ISO 8601") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment


def _next_time(value: str, zone: Any) -> datetime:
    """`"07:30"` -> the next 07:30 in HA's zone; ISO strings as given."""
    text = value.strip()
    with contextlib.suppress(ValueError):
        hour, minute = (int(p) for p in text.split(":")[:2])
        if len(text) <= 5 and 0 <= hour < 24 and 0 <= minute < 60:
            now = datetime.now(zone)
            moment = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
            if moment <= now:
                moment += timedelta(days=1)
            return moment
    moment = _parse_time(text, zone)
    if moment <= datetime.now(UTC):
        raise ToolError(f"{value!r} is in the past")
    return moment


__all__ = ["Planned", "ToolError", "ToolRegistry", "ToolResult", "ToolSpec"]
