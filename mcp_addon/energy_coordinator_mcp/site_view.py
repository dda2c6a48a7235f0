"""The coordinator's site and chargers, as lean answers for a language model.

Owns reading the integration's devices and entities out of HA's registries
(`ChargerIndex`: chargers, their connectors and the entities of each, loadpoints and
their setting entities, found by device identifiers and unique-id patterns, which
the integration scopes by its config entry: `<entry>_charger_<id>[/<connector>]`,
`<entry>_loadpoint_<id>_<connector>`), and
turning the integration's `get_status` response into short sentences with units:
solar, grid, house, the home battery (the one the integration is configured with,
never a device battery) and every EV loadpoint.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .ha_client import HAClient

DOMAIN = "energy_coordinator"
#: Connector status values in which a connector can take a new car.
FREE_STATES = frozenset({"available"})
#: Loadpoint setting keys the add-on changes (select / number / datetime entities).
SETTING_KEYS: dict[str, tuple[str, tuple[str, ...]]] = {
    "mode": ("select", ("charge_mode", "mode")),
    "target_soc": ("number", ("target_soc",)),
    "target_time": ("datetime", ("target_time", "departure_time")),
    "min_soc": ("number", ("min_soc",)),
    "clear_target_time": ("button", ("clear_target_time",)),
}
_CONNECTOR_KEY = re.compile(r"^(\d+)_(.+)$")


class SiteError(Exception):
    """The request names a charger or loadpoint that does not exist, or similar."""


@dataclass(slots=True)
class ConnectorInfo:
    """One connector of a charger and its entities (key -> entity id)."""

    connector_id: int
    device_id: str | None
    entities: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class ChargerInfo:
    """One charger device and its entities."""

    charger_id: str
    device_id: str
    name: str
    manufacturer: str | None
    model: str | None
    firmware: str | None
    entities: dict[str, str] = field(default_factory=dict)
    connectors: dict[int, ConnectorInfo] = field(default_factory=dict)


@dataclass(slots=True)
class LoadpointInfo:
    """One loadpoint (charger connector) and its setting entities."""

    loadpoint_id: str
    charger_id: str
    connector_id: int
    entities: dict[str, str] = field(default_factory=dict)


class ChargerIndex:
    """The integration's chargers and loadpoints, from HA's registries."""

    def __init__(self, ha: HAClient) -> None:
        """Read from this client's registries (rebuilt on every access)."""
        self.ha = ha

    def _ours(self) -> Iterable[tuple[str, dict[str, Any]]]:
        for device_id, device in self.ha.devices.items():
            for domain, identifier in device.get("identifiers") or []:
                if domain == DOMAIN:
                    yield str(identifier), device | {"id": device_id}

    @staticmethod
    def _scoped(identifier: str, device: Mapping[str, Any], kind: str) -> str | None:
        """The part after `<entry>_<kind>_` of one of our site-scoped identifiers."""
        for entry in device.get("config_entries") or []:
            prefix = f"{entry}_{kind}_"
            if identifier.startswith(prefix):
                return identifier.removeprefix(prefix)
        return None

    def chargers(self) -> dict[str, ChargerInfo]:
        """Every charger by id (sorted), with connectors and entities."""
        chargers: dict[str, ChargerInfo] = {}
        connector_devices: dict[str, tuple[str, int]] = {}
        prefixes: dict[str, str] = {}  # charger id -> its unique-id prefix
        for identifier, device in self._ours():
            name = self._scoped(identifier, device, "charger")
            if name is None:
                continue
            charger_id, slash, connector = name.rpartition("/")
            if slash and connector.isdigit():
                connector_devices[device["id"]] = (charger_id, int(connector))
                continue
            prefixes[name] = identifier.removesuffix(name)
            chargers[name] = ChargerInfo(
                charger_id=name,
                device_id=device["id"],
                name=str(device.get("name_by_user") or device.get("name") or name),
                manufacturer=device.get("manufacturer"),
                model=device.get("model"),
                firmware=device.get("sw_version"),
            )
        by_device = {c.device_id: c for c in chargers.values()}
        for entry in self.ha.platform_entities(DOMAIN):
            unique_id = str(entry.get("unique_id") or "")
            device_id = entry.get("device_id") or ""
            entity_id = str(entry["entity_id"])
            if entry.get("disabled_by"):
                continue
            if device_id in by_device:
                charger = by_device[device_id]
                prefix = prefixes[charger.charger_id] + charger.charger_id
                key = unique_id.removeprefix(f"{prefix}_")
                match = _CONNECTOR_KEY.match(key)
                if match:
                    conn = _connector(charger, int(match.group(1)), device_id)
                    conn.entities[match.group(2)] = entity_id
                else:
                    charger.entities[key] = entity_id
            elif device_id in connector_devices:
                charger_id, number = connector_devices[device_id]
                parent = chargers.get(charger_id)
                if parent is None:
                    continue
                prefix = prefixes[charger_id] + charger_id
                key = unique_id.removeprefix(f"{prefix}_{number}_")
                _connector(parent, number, device_id).entities[key] = entity_id
        return dict(sorted(chargers.items()))

    def loadpoints(self) -> dict[str, LoadpointInfo]:
        """Every loadpoint by id (`charger/connector`) with its setting entities."""
        loadpoints: dict[str, LoadpointInfo] = {}
        devices: dict[str, LoadpointInfo] = {}
        for identifier, device in self._ours():
            name = self._scoped(identifier, device, "loadpoint")
            if name is None:
                continue
            charger_id, _, number = name.rpartition("_")
            if not number.isdigit():
                continue
            info = LoadpointInfo(f"{charger_id}/{number}", charger_id, int(number))
            loadpoints[info.loadpoint_id] = info
            devices[device["id"]] = info
        for entry in self.ha.platform_entities(DOMAIN):
            info_or_none = devices.get(entry.get("device_id") or "")
            if info_or_none is None:
                continue
            info = info_or_none
            unique_id = str(entry.get("unique_id") or "")
            marker = f"_loadpoint_{info.charger_id}_{info.connector_id}_"
            key = unique_id.split(marker, 1)[1] if marker in unique_id else ""
            key = key or str(entry.get("translation_key") or "")
            if key:
                info.entities[f"{entry['entity_id'].split('.', 1)[0]}:{key}"] = str(
                    entry["entity_id"]
                )
        return dict(sorted(loadpoints.items()))

    def setting_entity(self, loadpoint: LoadpointInfo, setting: str) -> str | None:
        """The entity that holds one setting of a loadpoint (None if missing)."""
        domain, keys = SETTING_KEYS[setting]
        for key in keys:
            entity_id = loadpoint.entities.get(f"{domain}:{key}")
            if entity_id:
                return entity_id
        return None

    def charger(self, charger_id: str) -> ChargerInfo:
        """One charger by id or name (case-insensitive)."""
        chargers = self.chargers()
        wanted = charger_id.strip()
        if wanted in chargers:
            return chargers[wanted]
        for charger in chargers.values():
            if wanted.lower() in (charger.charger_id.lower(), charger.name.lower()):
                return charger
        known = ", ".join(chargers) or "none"
        raise SiteError(f"unknown charger {charger_id!r}; chargers: {known}")

    def loadpoint(self, loadpoint_id: str) -> LoadpointInfo:
        """A loadpoint by `charger/connector`, or by charger id (its connector 1)."""
        loadpoints = self.loadpoints()
        wanted = loadpoint_id.strip()
        if wanted in loadpoints:
            return loadpoints[wanted]
        for candidate in (f"{wanted}/1",):
            if candidate in loadpoints:
                return loadpoints[candidate]
        lowered = {k.lower(): v for k, v in loadpoints.items()}
        for candidate in (wanted.lower(), f"{wanted.lower()}/1"):
            if candidate in lowered:
                return lowered[candidate]
        known = ", ".join(loadpoints) or "none"
        raise SiteError(f"unknown loadpoint {loadpoint_id!r}; loadpoints: {known}")


def _connector(charger: ChargerInfo, number: int, device_id: str) -> ConnectorInfo:
    conn = charger.connectors.get(number)
    if conn is None:
        conn = charger.connectors[number] = ConnectorInfo(number, device_id)
        charger.connectors = dict(sorted(charger.connectors.items()))
    return conn


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


def loadpoint_power_kw(lp: Mapping[str, Any], voltage: float = 230.0) -> float | None:
    """The most a loadpoint may draw with its maximum current, in kW."""
    current = lp.get("max_current_a")
    if not isinstance(current, int | float):
        return None
    phases = 1 if str(lp.get("phases")) == "1" else 3
    return round(current * voltage * phases / 1000, 1)
