"""The acting tools for chargers and EVs: start, stop, limit, mode, targets, run.

Owns `ChargingTools`. Each resolves its charger (or loadpoint) and connector, says
in one sentence what it will do (the confirmation summary), and runs through the
integration's own actions (`start_charging`, `stop_charging`, `set_current_limit`,
`coordinate`) or the loadpoint's select/number/datetime entities, so no coordinator
logic is duplicated here. All of them need confirmation.
"""

from __future__ import annotations

from typing import Any

from energy_coordinator_mcp.site_view import DOMAIN, ChargerInfo, decision_summary

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

START_CHARGING = ToolSpec(
    "start_charging",
    "Start a charging session (remote start). Needs confirmation.",
    schema(
        {"charger": CHARGER, "connector": CONNECTOR, "id_tag": string(), **CONFIRM},
        ("charger",),
    ),
    ACT,
)
STOP_CHARGING = ToolSpec(
    "stop_charging",
    "Stop the running session (remote stop). Needs confirmation.",
    schema({"charger": CHARGER, "connector": CONNECTOR, **CONFIRM}, ("charger",)),
    ACT,
)
SET_CHARGE_MODE = ToolSpec(
    "set_charge_mode",
    "Set an EV's charge mode: off (pause), now (full speed), minpv "
    "(minimum + solar), pv (solar only), plan (cheap/solar hours before the "
    "target). Needs confirmation.",
    schema(
        {"loadpoint": LOADPOINT, "mode": string(enum=list(MODES)), **CONFIRM},
        ("loadpoint", "mode"),
    ),
    ACT,
)
SET_CHARGE_TARGET = ToolSpec(
    "set_charge_target",
    "Set an EV's target SoC (%) and/or ready-by time (HH:MM, ISO, or none to "
    "clear). Needs confirmation.",
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
    "Limit a charger's current (A, or W with unit). Needs confirmation.",
    schema(
        {
            "charger": CHARGER,
            "limit": number(minimum=0),
            "unit": string(enum=["A", "W"]),
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
    "Run the coordinator now and carry out its decision. Needs confirmation.",
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
        charger = self.index.charger(str(args["charger"]))
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
        charger = self.index.charger(str(args["charger"]))
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

    async def set_current_limit(self, args: dict[str, Any]) -> Planned:
        """A current (or power) limit on one connector, optionally for a while."""
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
            response = await self.ha.call_service(
                DOMAIN, "set_current_limit", data, return_response=True
            )
            done: dict[str, Any] = {
                "done": f"{charger.charger_id}/{connector} limited to {limit:g} {unit}"
                + during
            }
            if isinstance(response, dict) and response.get("coordinated"):
                # The site coordinates it: the limit became its cap.
                done["cap_a"] = response.get("cap_a")
                done["note"] = response.get("message")
            return done

        return Planned(
            f"Limit {charger.charger_id} connector {connector} to {limit:g} {unit}"
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

    def _setting(self, loadpoint: str, setting: str, label: str) -> tuple[str, str]:
        info = self.index.loadpoint(loadpoint)
        entity_id = self.index.setting_entity(info, setting)
        if entity_id is None:
            raise ToolError(
                f"loadpoint {info.loadpoint_id} has no {label} entity in Home "
                "Assistant (is the integration up to date?); nothing was changed"
            )
        return info.loadpoint_id, entity_id

    async def set_charge_mode(self, args: dict[str, Any]) -> Planned:
        """The loadpoint's charge-mode select."""
        lp_id, entity_id = self._setting(str(args["loadpoint"]), "mode", "charge mode")
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
        lp_id = self.index.loadpoint(str(args["loadpoint"])).loadpoint_id
        if args.get("soc") is not None:
            _, entity_id = self._setting(lp_id, "target_soc", "target SoC")
            soc = float(args["soc"])
            changes.append(
                ("number", entity_id, {"value": soc}, f"target SoC {soc:g} %")
            )
        if str(args.get("time") or "").strip().lower() in CLEAR_WORDS:
            _, entity_id = self._setting(
                lp_id, "clear_target_time", "clear-target-time button"
            )
            changes.append(("button", entity_id, {}, "no target time"))
        elif args.get("time"):
            _, entity_id = self._setting(lp_id, "target_time", "target time")
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
