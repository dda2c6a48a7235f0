"""The acting tools for chargers and EVs: start, stop, limit, mode, targets, run.

Owns `ChargingTools`. Each resolves its charger (or loadpoint) and connector, says
in one sentence what it will do (the confirmation summary), and runs through the
integration's own actions (`start_charging`, `stop_charging`, `set_current_limit`,
`coordinate`) or the loadpoint's select/number/datetime entities, so no coordinator
logic is duplicated here. All of them need confirmation.
"""

from __future__ import annotations

from typing import Any

from energy_coordinator_mcp.charger_index import DOMAIN, ChargerInfo, LoadpointInfo
from energy_coordinator_mcp.site_view import decision_summary

from .access import HomeAccess
from .spec import (
    ACT,
    CHARGER,
    CONFIRM,
    CONNECTOR,
    LOADPOINT,
    Planned,
    Tool,
    ToolError,
    ToolSpec,
    integer,
    number,
    schema,
    string,
)
from .values import match_option, next_time

MODES = ("off", "now", "minpv", "pv", "plan")
#: `time` values of set_charge_target that remove the target time.
CLEAR_WORDS = frozenset({"none", "clear", "no", "off"})
#: Units of `set_current_limit`: amperes per phase, or a power.
UNITS = ("A", "W", "kW")

START_CHARGING = ToolSpec(
    "start_charging",
    "Start a session (remote start). Needs confirmation.",
    schema(
        {"charger": CHARGER, "connector": CONNECTOR, "id_tag": string(), **CONFIRM},
        ("charger",),
    ),
    ACT,
)
STOP_CHARGING = ToolSpec(
    "stop_charging",
    "Stop the running session. Needs confirmation.",
    schema({"charger": CHARGER, "connector": CONNECTOR, **CONFIRM}, ("charger",)),
    ACT,
)
SET_CHARGE_MODE = ToolSpec(
    "set_charge_mode",
    "Set an EV's charge mode: off, now (full speed), minpv (min + solar), pv "
    "(solar only), plan (cheap/solar hours before target). Needs confirmation.",
    schema(
        {"loadpoint": LOADPOINT, "mode": string(enum=list(MODES)), **CONFIRM},
        ("loadpoint", "mode"),
    ),
    ACT,
)
SET_CHARGE_TARGET = ToolSpec(
    "set_charge_target",
    "Set an EV's target SoC (%) and/or ready-by time (HH:MM, ISO; none "
    "clears). Needs confirmation.",
    schema(
        {
            "loadpoint": LOADPOINT,
            "soc": integer(minimum=0, maximum=100),
            "time": string(),
            **CONFIRM,
        },
        ("loadpoint",),
    ),
    ACT,
)
SET_CURRENT_LIMIT = ToolSpec(
    "set_current_limit",
    "Limit a charger's current (A, or W/kW by unit). Needs confirmation.",
    schema(
        {
            "charger": CHARGER,
            "limit": number(minimum=0),
            "unit": string(enum=list(UNITS)),
            "phases": integer(minimum=1, maximum=3),
            "connector": CONNECTOR,
            "duration_s": integer(minimum=1),
            **CONFIRM,
        },
        ("charger", "limit"),
    ),
    ACT,
)
RUN_COORDINATION = ToolSpec(
    "run_coordination",
    "Run the coordinator now and act on its decision. Needs confirmation.",
    schema(dict(CONFIRM)),
    ACT,
)


class ChargingTools:
    """Acting on chargers and on the EVs' settings."""

    def __init__(self, access: HomeAccess) -> None:
        """Act through `access`."""
        self.access = access
        self.ha = access.ha
        self.index = access.index

    def tools(self) -> list[Tool]:
        """The tools, in the order clients see them."""
        return [
            Tool(START_CHARGING, act=self.start_charging),
            Tool(STOP_CHARGING, act=self.stop_charging),
            Tool(SET_CHARGE_MODE, act=self.set_charge_mode),
            Tool(SET_CHARGE_TARGET, act=self.set_charge_target),
            Tool(SET_CURRENT_LIMIT, act=self.set_current_limit),
            Tool(RUN_COORDINATION, act=self.run_coordination),
        ]

    @staticmethod
    def _connector_id(charger: ChargerInfo, requested: int | None) -> int:
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

    # Chargers -------------------------------------------------------------------

    async def start_charging(self, args: dict[str, Any]) -> Planned:
        """Remote start on one connector."""
        charger = await self.index.charger(str(args["charger"]))
        connector = self._connector_id(charger, args.get("connector"))
        data: dict[str, Any] = {
            "device_id": charger.device_id,
            "connector_id": connector,
        }
        if args.get("id_tag"):
            data["id_tag"] = args["id_tag"]

        async def run() -> Any:
            response = await self.ha.call_service(
                DOMAIN, "start_charging", data, return_response=True
            )
            return {
                "done": f"start requested on {charger.charger_id}/{connector}"
                + _mode_note(response)
            }

        return Planned(
            f"Start charging on {charger.charger_id} connector {connector}", run
        )

    async def stop_charging(self, args: dict[str, Any]) -> Planned:
        """Remote stop on one connector."""
        charger = await self.index.charger(str(args["charger"]))
        connector = self._connector_id(charger, args.get("connector"))
        data = {"device_id": charger.device_id, "connector_id": connector}

        async def run() -> Any:
            response = await self.ha.call_service(
                DOMAIN, "stop_charging", data, return_response=True
            )
            return {
                "done": f"stop requested on {charger.charger_id}/{connector}"
                + _mode_note(response)
            }

        return Planned(
            f"Stop the charging session on {charger.charger_id} connector {connector}",
            run,
        )

    async def _phases(
        self, charger: ChargerInfo, connector: int, requested: int | None
    ) -> tuple[int, bool]:
        """The phases a power limit is converted with, and whether they are fixed.

        Asked for (1 or 3), else one when the site or the loadpoint's phase
        setting allows only one, else three (fixed when the setting says so; on
        `auto` the integration keeps the phases the charger is using).
        """
        if requested is not None:
            if requested not in (1, 3):
                raise ToolError("phases must be 1 or 3")
            if requested == 3 and charger.site.phases == 1:
                raise ToolError(
                    f"{charger.charger_id} is on a single-phase site; phases=3 "
                    "is not possible"
                )
            return requested, True
        setting: Any = None
        conn = charger.connectors.get(connector)
        if conn is not None and conn.loadpoint is not None:
            status = await self.access.status()
            lp = (status.get("loadpoints") or {}).get(conn.loadpoint)
            setting = lp.get("phases") if isinstance(lp, dict) else None
        phases = charger.site.max_phases(setting)
        return phases, phases == 1 or str(setting) == "3"

    async def set_current_limit(self, args: dict[str, Any]) -> Planned:
        """A current (or power) limit on one connector, optionally for a while.

        A power is sent as watts; the confirmation and the answer say the
        current per phase it means at the site's voltage.
        """
        charger = await self.index.charger(str(args["charger"]))
        connector = self._connector_id(charger, args.get("connector"))
        unit = str(args.get("unit") or "A")
        limit = float(args["limit"])
        data: dict[str, Any] = {
            "device_id": charger.device_id,
            "connector_id": connector,
            "limit": limit * 1000 if unit == "kW" else limit,
            "unit": "A" if unit == "A" else "W",
        }
        meaning = ""
        if unit == "A":
            if args.get("phases") is not None:
                phases, _ = await self._phases(charger, connector, args["phases"])
                data["phases"] = phases
        else:
            phases, fixed = await self._phases(charger, connector, args.get("phases"))
            if fixed:
                data["phases"] = phases
            site = charger.site
            amps = site.current_a(float(data["limit"]), phases)
            meaning = (
                f" (≈ {amps:.1f} A per phase on {phases} "
                f"phase{'s' if phases > 1 else ''} at {site.voltage_v:g} V)"
            )
        if args.get("duration_s"):
            data["duration"] = int(args["duration_s"])
        during = f" for {data['duration']} s" if "duration" in data else ""
        what = f"{limit:g} {unit}{meaning}"

        async def run() -> Any:
            response = await self.ha.call_service(
                DOMAIN, "set_current_limit", data, return_response=True
            )
            done: dict[str, Any] = {
                "done": f"{charger.charger_id}/{connector} limited to {what}" + during
            }
            if isinstance(response, dict) and response.get("coordinated"):
                # The site coordinates it: the limit became its cap.
                done["cap_a"] = response.get("cap_a")
                done["note"] = response.get("message")
            return done

        return Planned(
            f"Limit {charger.charger_id} connector {connector} to {what}"
            + during
            + (" (0 pauses charging)" if limit == 0 else ""),
            run,
        )

    async def run_coordination(self, args: dict[str, Any]) -> Planned:
        """The coordinator, now, carried out."""
        zone = self.access.zone

        async def run() -> Any:
            response = await self.ha.call_service(
                DOMAIN, "coordinate", {}, return_response=True
            )
            decision = response if isinstance(response, dict) else {}
            return decision_summary(decision, zone) or {"done": True}

        return Planned(
            "Run the coordinator now and apply its decision to chargers, battery "
            "and loads",
            run,
        )

    # Loadpoint settings -----------------------------------------------------------

    async def _setting(
        self, loadpoint: str | LoadpointInfo, setting: str, label: str
    ) -> tuple[str, str]:
        info = (
            loadpoint
            if isinstance(loadpoint, LoadpointInfo)
            else await self.index.loadpoint(loadpoint)
        )
        entity_id = self.index.setting_entity(info, setting)
        if entity_id is None:
            raise ToolError(
                f"loadpoint {info.loadpoint_id} has no {label} entity in Home "
                "Assistant (is the integration up to date?); nothing was changed"
            )
        return info.loadpoint_id, entity_id

    async def set_charge_mode(self, args: dict[str, Any]) -> Planned:
        """The loadpoint's charge-mode select."""
        lp_id, entity_id = await self._setting(
            str(args["loadpoint"]), "mode", "charge mode"
        )
        mode = str(args["mode"])
        state = self.ha.states.get(entity_id)
        options = (
            [str(o) for o in (state.attributes.get("options") or [])] if state else []
        )
        option = match_option(mode, options)
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

    async def set_charge_target(self, args: dict[str, Any]) -> Planned:
        """The loadpoint's target SoC number and/or target-time datetime."""
        if args.get("soc") is None and not args.get("time"):
            raise ToolError("give soc and/or time")
        changes: list[tuple[str, str, dict[str, Any], str]] = []
        info = await self.index.loadpoint(str(args["loadpoint"]))
        lp_id = info.loadpoint_id
        if args.get("soc") is not None:
            _, entity_id = await self._setting(info, "target_soc", "target SoC")
            soc = float(args["soc"])
            changes.append(
                ("number", entity_id, {"value": soc}, f"target SoC {soc:g} %")
            )
        if str(args.get("time") or "").strip().lower() in CLEAR_WORDS:
            _, entity_id = await self._setting(
                info, "clear_target_time", "clear-target-time button"
            )
            changes.append(("button", entity_id, {}, "no target time"))
        elif args.get("time"):
            _, entity_id = await self._setting(info, "target_time", "target time")
            when = next_time(str(args["time"]), self.access.zone)
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
                service = "press" if domain == "button" else "set_value"
                await self.ha.call_service(
                    domain, service, data, target={"entity_id": entity_id}
                )
            return {"done": f"{lp_id}: " + ", ".join(c[3] for c in changes)}

        return Planned(f"Set {lp_id} " + " and ".join(c[3] for c in changes), run)


def _mode_note(response: Any) -> str:
    """What a start/stop did to a coordinated loadpoint's charge mode."""
    if isinstance(response, dict) and response.get("coordinated"):
        return f"; the site coordinates it, its charge mode is now {response['mode']}"
    return ""
