"""The energy site's read tools: status, chargers, plan, decision, sessions.

Owns `SiteTools`: `get_site_status` (the site in one answer, or with scope=home
the whole home by area), `list_chargers` (all, one in detail, or the free ones),
`get_plan` (the horizon plan: the integration's `get_plan` and `explain_plan`),
`explain_decision` and `get_sessions`, each answered from the integration's
response actions and HA's state mirror in short sentences with units.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from energy_coordinator_mcp.charger_index import DOMAIN, ChargerInfo, SiteError
from energy_coordinator_mcp.ha_client import HAError
from energy_coordinator_mcp.overview import home_overview
from energy_coordinator_mcp.plan_view import plan_summary
from energy_coordinator_mcp.site_view import (
    FREE_STATES,
    energy_line,
    ev_summary,
    loadpoint_power_kw,
    local_time,
    site_summary,
)

from .access import HomeAccess
from .spec import (
    BOOLEAN,
    CHARGER,
    MAX_PAGE,
    PAGE,
    READ,
    Tool,
    ToolError,
    ToolSpec,
    schema,
    string,
)
from .values import parse_time

#: get_site_status scopes: the energy site (default) or the whole home.
SCOPES = ("energy", "home")
#: Error-code states that mean "no error".
NO_ERROR = frozenset({"noerror", "unknown", "unavailable", ""})

GET_SITE_STATUS = ToolSpec(
    "get_site_status",
    "Start here for energy questions: solar, grid, house, home battery and "
    "every EV now (with units), and the coordinator's last decision. "
    "scope=home: the whole home by area (lights, switches, covers, climate, "
    "temperatures, open windows, low batteries, unavailable) and energy.",
    schema({"scope": string(enum=list(SCOPES))}),
    READ,
)
LIST_CHARGERS = ToolSpec(
    "list_chargers",
    "EV chargers and connectors: status, power, limit, session. charger=id: "
    "full detail (errors, firmware, last seen); available_only=true: free "
    "connectors with their max power.",
    schema({"charger": CHARGER, "available_only": BOOLEAN}),
    READ,
)
GET_PLAN = ToolSpec(
    "get_plan",
    "The plan for the coming hours: when each EV charges and why, battery, "
    "loads, cost.",
    schema({"loadpoint": string()}),
    READ,
)
EXPLAIN_DECISION = ToolSpec(
    "explain_decision",
    "Why the coordinator decided what it did (last run); now=true decides "
    "afresh without acting.",
    schema({"loadpoint": string(), "now": BOOLEAN}),
    READ,
)
GET_SESSIONS = ToolSpec(
    "get_sessions",
    "Charging sessions, newest first, with energy totals. id_tag: one "
    "driver's sessions. since/until: ISO dates.",
    schema(
        {
            "charger": CHARGER,
            "id_tag": string(),
            "since": string(),
            "until": string(),
            **PAGE,
        }
    ),
    READ,
)


def vehicle_action_text(action: Mapping[str, Any]) -> str:
    """What the coordinator does with one EV, in a few words."""
    if not action.get("charging"):
        return f"paused (mode {action.get('mode')})"
    return (
        f"charging at {action.get('current_a')} A on {action.get('phases')} "
        f"phase(s) ≈ {action.get('power_kw')} kW (mode {action.get('mode')})"
    )


class SiteTools:
    """The site's read tools."""

    def __init__(self, access: HomeAccess) -> None:
        """Read through `access`."""
        self.access = access
        self.ha = access.ha
        self.index = access.index

    def tools(self) -> list[Tool]:
        """The tools, in the order clients see them."""
        return [
            Tool(GET_SITE_STATUS, read=self.get_site_status),
            Tool(LIST_CHARGERS, read=self.list_chargers),
            Tool(GET_PLAN, read=self.get_plan),
            Tool(EXPLAIN_DECISION, read=self.explain_decision),
            Tool(GET_SESSIONS, read=self.get_sessions),
        ]

    async def get_site_status(self, args: dict[str, Any]) -> Any:
        """The site now, or the whole home (scope=home)."""
        access = self.access
        if args.get("scope") != "home":
            status = await access.status()
            return site_summary(status, access.zone, await access.connector_states())
        # The home overview works without the integration too.
        try:
            status = await access.status()
            connectors = await access.connector_states()
        except (ToolError, SiteError, HAError) as err:
            energy = f"unknown (Energy Coordinator status unavailable: {err})"
            soc = None
        else:
            summary = site_summary(status, access.zone, connectors)
            energy = energy_line(summary)
            soc = (status.get("status") or {}).get("battery_soc_pct")
        return home_overview(
            self.ha,
            await access.visible_states(),
            energy=energy,
            home_battery_soc=float(soc) if isinstance(soc, int | float) else None,
        )

    async def list_chargers(self, args: dict[str, Any]) -> Any:
        """Every charger, one in detail, or the free connectors."""
        if args.get("charger"):
            return await self._charger_detail(str(args["charger"]))
        chargers = await self.index.chargers()
        status = await self.access.status()
        loadpoints: dict[str, Any] = status.get("loadpoints") or {}
        if args.get("available_only"):
            return self._available(chargers, loadpoints)
        state = self.access.state_text
        out = []
        for charger in chargers.values():
            connectors = []
            for number, conn in charger.connectors.items():
                e = conn.entities
                item: dict[str, Any] = {
                    "connector": number,
                    "status": state(e.get("connector_status")),
                    "power": state(e.get("power")),
                    "limit": state(e.get("max_current")),
                }
                error = state(e.get("error_code"))
                if error and error.lower().replace("_", "") not in NO_ERROR:
                    item["error"] = error
                session = state(e.get("session_energy"))
                if session:
                    item["session"] = session
                lp = loadpoints.get(conn.loadpoint or "")
                if lp:
                    item["mode"] = lp.get("mode")
                connectors.append({k: v for k, v in item.items() if v is not None})
            out.append(
                {
                    "charger": charger.charger_id,
                    "online": self.access.online(charger),
                    "model": " ".join(
                        p for p in (charger.manufacturer, charger.model) if p
                    )
                    or None,
                    "connectors": connectors,
                }
            )
        return {"chargers": out, "total": len(out)}

    def _available(
        self, chargers: Mapping[str, ChargerInfo], loadpoints: Mapping[str, Any]
    ) -> dict[str, Any]:
        free = []
        for charger in chargers.values():
            if not self.access.online(charger):
                continue
            for number, conn in charger.connectors.items():
                state = self.ha.states.get(conn.entities.get("connector_status", ""))
                if state is None or state.state not in FREE_STATES:
                    continue
                lp = loadpoints.get(conn.loadpoint or "") or {}
                power = loadpoint_power_kw(lp, charger.site)
                free.append(
                    {
                        "charger": charger.charger_id,
                        "connector": number,
                        "max_power": f"{power:.1f} kW" if power else "unknown",
                    }
                )
        return {"available": free, "total_chargers": len(chargers)}

    async def _charger_detail(self, charger_id: str) -> Any:
        charger = await self.index.charger(charger_id)
        status = await self.access.status()
        loadpoints: dict[str, Any] = status.get("loadpoints") or {}
        detail: dict[str, Any] = {
            "charger": charger.charger_id,
            "online": self.access.online(charger),
            "manufacturer": charger.manufacturer,
            "model": charger.model,
            "firmware": charger.firmware,
            "device_id": charger.device_id,
        }
        for key in ("status", "last_seen", "firmware_status"):
            value = self.access.state_text(charger.entities.get(key))
            if value is not None:
                detail[key] = value
        connected = self.ha.states.get(charger.entities.get("connected", ""))
        if connected is not None and connected.attributes.get("ocpp_version"):
            detail["ocpp_version"] = connected.attributes["ocpp_version"]
        elif charger.ocpp_version:
            detail["ocpp_version"] = charger.ocpp_version.removeprefix("ocpp")
        connectors = []
        for number, conn in charger.connectors.items():
            item: dict[str, Any] = {"connector": number}
            for key, entity_id in sorted(conn.entities.items()):
                value = self.access.state_text(entity_id)
                if value is not None and key not in ("unlock",):
                    item[key] = value
            lp = loadpoints.get(conn.loadpoint or "")
            if conn.loadpoint and lp:
                power = loadpoint_power_kw(lp, charger.site)
                item["loadpoint"] = ev_summary(conn.loadpoint, lp, self.access.zone) | {
                    "min_current": f"{lp.get('min_current_a')} A",
                    "max_current": f"{lp.get('max_current_a')} A",
                    "phases": lp.get("phases"),
                    "max_power": f"{power:.1f} kW" if power else "unknown",
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
        status = await self.access.status()
        last = status.get("last_decision")
        return last if isinstance(last, dict) else None

    async def _resolve_loadpoint(self, value: Any) -> str | None:
        if not value:
            return None
        return (await self.index.loadpoint(str(value))).loadpoint_id

    async def explain_decision(self, args: dict[str, Any]) -> Any:
        """The last (or a fresh dry-run) decision and its reasons."""
        zone = self.access.zone
        lp_id = await self._resolve_loadpoint(args.get("loadpoint"))
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
            "at": local_time(decision.get("time"), zone, seconds=True),
            "fresh_dry_run": now,
            "evs": {
                k: vehicle_action_text(v)
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

    async def get_plan(self, args: dict[str, Any]) -> Any:
        """The horizon plan (`get_plan` and `explain_plan`) per EV and for the
        battery and loads."""
        lp_id = await self._resolve_loadpoint(args.get("loadpoint"))
        status = await self.access.status()
        plan = await self.ha.call_service(
            DOMAIN, "get_plan", {"slots": False}, return_response=True
        )
        explained = await self.ha.call_service(
            DOMAIN, "explain_plan", {}, return_response=True
        )
        if not isinstance(plan, dict) or not isinstance(explained, dict):
            raise ToolError("the integration returned no plan")
        return plan_summary(plan, explained, status, self.access.zone, lp_id)

    async def get_sessions(self, args: dict[str, Any]) -> Any:
        """Sessions from the integration's ledger, with totals."""
        zone = self.access.zone
        data: dict[str, Any] = {
            "limit": min(int(args.get("limit") or 20), MAX_PAGE),
            "offset": int(args.get("offset") or 0),
        }
        if args.get("charger"):
            data["device_id"] = (
                await self.index.charger(str(args["charger"]))
            ).device_id
        if args.get("id_tag"):
            data["id_tag"] = str(args["id_tag"])
        for key, target in (("since", "start"), ("until", "end")):
            if args.get(key):
                data[target] = parse_time(str(args[key]), zone).isoformat()
        response = await self.ha.call_service(
            DOMAIN, "get_sessions", data, return_response=True
        )
        response = response if isinstance(response, dict) else {}
        sessions = []
        for s in response.get("sessions") or []:
            item = {
                "charger": f"{s.get('charger_id')}/{s.get('connector_id')}",
                "id_tag": s.get("id_tag"),
                "start": local_time(s.get("start_time"), zone),
                "stop": local_time(s.get("stop_time"), zone)
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
