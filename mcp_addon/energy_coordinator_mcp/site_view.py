"""The coordinator's site and chargers, as lean answers for a language model.

Owns turning the integration's `get_status` response into short sentences with
units: solar, grid, house, the home battery (the one the integration is configured
with, never a device battery) and every EV loadpoint. Which chargers and entities
there are comes from `charger_index` (the integration's own `get_chargers`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .charger_index import SiteInfo
from .ha_client import HAClient

#: Connector status values in which a connector can take a new car.
FREE_STATES = frozenset({"available"})


# Formatting -------------------------------------------------------------------


def local_zone(ha: HAClient) -> tzinfo:
    """HA's configured time zone (UTC when unknown)."""
    name = ha.config.get("time_zone")
    if isinstance(name, str):
        try:
            return ZoneInfo(name)
        except ZoneInfoNotFoundError:
            pass
    return UTC


def kw(value: Any) -> str | None:
    """`4.2` (kW) -> `"4.2 kW"`; None stays None."""
    if not isinstance(value, int | float):
        return None
    return f"{value:.2f} kW"


def local_time(value: Any, zone: tzinfo, *, seconds: bool = False) -> str | None:
    """An ISO timestamp in HA's time zone, `HH:MM` today or `YYYY-MM-DD HH:MM`."""
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(zone)
    fmt = "%H:%M:%S" if seconds else "%H:%M"
    if moment.date() != datetime.now(zone).date():
        fmt = "%Y-%m-%d " + fmt
    return moment.strftime(fmt)


def grid_text(status: Mapping[str, Any]) -> str:
    """`"importing 1.20 kW (limit 25 A/phase)"`."""
    value = status.get("grid_kw")
    if not isinstance(value, int | float):
        text = "unknown (no grid meter configured or unavailable)"
    elif value > 0.005:
        text = f"importing {value:.2f} kW"
    elif value < -0.005:
        text = f"exporting {-value:.2f} kW"
    else:
        text = "balanced (0.00 kW)"
    limit = status.get("grid_limit_a")
    if isinstance(limit, int | float):
        text += f" (limit {limit:g} A/phase)"
    return text


def battery_text(status: Mapping[str, Any]) -> str:
    """`"63.0 % SoC, charging at 1.20 kW"` for the integration's home battery."""
    zone = status.get("battery_zone")
    soc = status.get("battery_soc_pct")
    power = status.get("battery_kw")
    if zone == "none" and soc is None and power is None:
        return "none configured"
    parts = []
    if isinstance(soc, int | float):
        parts.append(f"{soc:.1f} % SoC")
    if isinstance(status.get("battery_kwh"), int | float):
        parts.append(f"{status['battery_kwh']:.1f} kWh stored")
    if isinstance(power, int | float):
        if power > 0.005:
            parts.append(f"charging at {power:.2f} kW")
        elif power < -0.005:
            parts.append(f"discharging at {-power:.2f} kW")
        else:
            parts.append("idle (0.00 kW)")
    return ", ".join(parts) or "unavailable"


def _ev_state(lp: Mapping[str, Any], connector_status: str | None) -> str:
    if not lp.get("online"):
        return "charger offline"
    power = lp.get("charging_power_kw") or 0.0
    limit = lp.get("current_limit_a")
    limit_text = f" at {limit:g} A limit" if isinstance(limit, int | float) else ""
    if isinstance(power, int | float) and power > 0.01:
        return f"charging {power:.2f} kW{limit_text}"
    if lp.get("plugged"):
        status = (connector_status or "").replace("_", " ")
        detail = f" ({status})" if status and status != "charging" else ""
        paused = "paused" if limit == 0 else "not charging"
        return f"plugged in, {paused}{detail}"
    return "no car plugged in"


def _target_text(lp: Mapping[str, Any], zone: tzinfo) -> str | None:
    soc = lp.get("target_soc_pct")
    when = local_time(lp.get("target_time"), zone)
    if soc is None and when is None:
        return None
    text = f"{soc:g} %" if isinstance(soc, int | float) else "full"
    return f"{text} by {when}" if when else text


def ev_summary(
    lp_id: str,
    lp: Mapping[str, Any],
    zone: tzinfo,
    connector_status: str | None = None,
) -> dict[str, Any]:
    """One loadpoint in a few words with units."""
    out: dict[str, Any] = {
        "loadpoint": lp_id,
        "state": _ev_state(lp, connector_status),
        "mode": lp.get("mode"),
    }
    energy = lp.get("session_energy_kwh")
    if isinstance(energy, int | float) and (energy > 0 or lp.get("plugged")):
        out["session"] = f"{energy:.2f} kWh"
    soc = lp.get("vehicle_soc_pct")
    if isinstance(soc, int | float):
        out["vehicle_soc"] = f"{soc:.0f} %"
    target = _target_text(lp, zone)
    if target:
        out["target"] = target
    return out


def decision_summary(
    decision: Mapping[str, Any] | None, zone: tzinfo, *, limit: int = 4
) -> dict[str, Any] | None:
    """The last decision: when, what it did, and its first reasons."""
    if not decision:
        return None
    reasons = [
        str(r.get("message"))
        for r in decision.get("explanation") or []
        if isinstance(r, Mapping)
    ]
    out: dict[str, Any] = {"at": local_time(decision.get("time"), zone, seconds=True)}
    executed = decision.get("executed") or []
    out["did"] = list(executed)[:limit] or ["nothing needed changing"]
    out["why"] = reasons[:limit]
    if errors := decision.get("errors"):
        out["errors"] = list(errors)[:limit]
    return out


def site_summary(
    status_response: Mapping[str, Any],
    zone: tzinfo,
    connector_states: Mapping[str, str | None] | None = None,
) -> dict[str, Any]:
    """The whole site in one compact answer (solar, grid, house, battery, EVs)."""
    status = status_response.get("status") or {}
    loadpoints = status_response.get("loadpoints") or {}
    connector_states = connector_states or {}
    solar = kw(status.get("pv_kw"))
    house = kw(status.get("house_kw"))
    if house and status.get("house_derived"):
        house += " (derived)"
    summary: dict[str, Any] = {
        "time": datetime.now(zone).strftime("%H:%M:%S"),
        "solar": solar or "unknown (no PV meter configured or unavailable)",
        "grid": grid_text(status),
        "house": house or "unknown",
        "home_battery": battery_text(status),
        "evs": [
            ev_summary(lp_id, lp, zone, connector_states.get(lp_id))
            for lp_id, lp in sorted(loadpoints.items())
        ]
        or "no EV chargers connected yet",
    }
    surplus = status.get("surplus_kw")
    if isinstance(surplus, int | float):
        summary["solar_surplus"] = f"{max(surplus, 0.0):.2f} kW"
    command = status_response.get("battery_command") or {}
    if command and command.get("mode") not in (None, "auto"):
        summary["battery_command"] = (
            f"{command['mode']} {float(command.get('power_w') or 0) / 1000:.2f} kW"
        )
    if missing := status.get("missing_inputs"):
        summary["missing_inputs"] = list(missing)
    decision = decision_summary(status_response.get("last_decision"), zone)
    summary["coordinator"] = decision or "has not run yet"
    return summary


def energy_line(summary: Mapping[str, Any]) -> str:
    """A `site_summary` as one sentence: solar, grid, house, battery, each EV."""
    parts = [
        f"solar {summary.get('solar')}",
        f"grid {summary.get('grid')}",
        f"house {summary.get('house')}",
        f"home battery {summary.get('home_battery')}",
    ]
    evs = summary.get("evs")
    if isinstance(evs, list):
        parts.append(
            "EVs: "
            + ", ".join(
                f"{ev.get('loadpoint')} {ev.get('state')} (mode {ev.get('mode')})"
                for ev in evs
                if isinstance(ev, Mapping)
            )
        )
    elif evs:
        parts.append(f"EVs: {evs}")
    return "; ".join(parts)


def loadpoint_power_kw(lp: Mapping[str, Any], site: SiteInfo) -> float | None:
    """The most a loadpoint may draw with its maximum current, in kW.

    At the site's voltage, on the phases its phase setting and the site allow.
    """
    current = lp.get("max_current_a")
    if not isinstance(current, int | float):
        return None
    return round(site.power_kw(current, site.max_phases(lp.get("phases"))), 1)
