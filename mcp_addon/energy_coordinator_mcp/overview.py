"""The whole home in one short answer: a per-area overview for a language model.

Owns `home_overview`, which reduces every visible entity to what an owner asks about
first, area by area: lights and switches on, covers open, each thermostat's mode and
temperatures, the temperature sensors' range, open doors and windows, alarms that
are on, device batteries below 20 % (by name, capped) and unavailable entities
(count and a few names), plus whole-home totals and the energy line. Names drop
their area's prefix ("Kitchen Door sensor battery" is "Door sensor" under Kitchen)
and every list is capped, so a home of hundreds of entities fits in a few thousand
tokens at most (about 1,100 for the benchmark's 500 entities in 12 areas).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .charger_index import DOMAIN
from .ha_client import EntityState, HAClient

#: A device battery below this level (%) is reported as low.
LOW_BATTERY_PCT = 20.0
#: Names shown per list and area before "+N more".
MAX_NAMES = 3
NO_AREA = "no area"
OPENINGS = frozenset({"door", "window", "opening", "garage_door"})
ALARMS = frozenset(
    {"smoke", "moisture", "gas", "carbon_monoxide", "safety", "problem", "tamper"}
)
OPEN_COVER_STATES = frozenset({"open", "opening"})


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _fmt(value: float) -> str:
    return f"{value:.1f}".removesuffix(".0")


def _capped(names: list[str]) -> list[str]:
    if len(names) <= MAX_NAMES:
        return names
    return [*names[:MAX_NAMES], f"+{len(names) - MAX_NAMES} more"]


@dataclass(slots=True)
class _Area:
    """What one area holds, counted while the states stream past."""

    name: str
    lights: list[int] = field(default_factory=lambda: [0, 0])  # on, total
    switches: list[int] = field(default_factory=lambda: [0, 0])
    covers: list[int] = field(default_factory=lambda: [0, 0])
    climate: list[str] = field(default_factory=list)
    temperatures: list[float] = field(default_factory=list)
    temperature_unit: str = ""
    low_batteries: list[tuple[float, str]] = field(default_factory=list)
    open: list[str] = field(default_factory=list)
    alarms: list[str] = field(default_factory=list)
    unavailable: list[str] = field(default_factory=list)

    def short(self, name: str) -> str:
        """A name without its area's prefix."""
        if self.name != NO_AREA and name.lower().startswith(self.name.lower() + " "):
            rest = name[len(self.name) + 1 :].strip()
            if rest:
                return rest[0].upper() + rest[1:]
        return name

    def summary(self) -> dict[str, Any]:
        """The area's non-empty facts."""
        out: dict[str, Any] = {}
        for key, (on, total), word in (
            ("lights", self.lights, "on"),
            ("switches", self.switches, "on"),
            ("covers", self.covers, "open"),
        ):
            if total:
                out[key] = f"{on}/{total} {word}"
        if self.climate:
            out["climate"] = self.climate
        if self.temperatures:
            low, high = min(self.temperatures), max(self.temperatures)
            unit = f" {self.temperature_unit}" if self.temperature_unit else ""
            span = _fmt(low) if low == high else f"{_fmt(low)}-{_fmt(high)}"
            many = len(self.temperatures)
            out["temperature"] = f"{span}{unit}" + (f" ({many})" if many > 1 else "")
        if self.open:
            out["open"] = _capped(sorted(self.open))
        if self.alarms:
            out["alarm"] = _capped(sorted(self.alarms))
        if self.low_batteries:
            out["low_battery"] = _capped(
                [name for _, name in sorted(self.low_batteries)]
            )
        if self.unavailable:
            out["unavailable"] = _capped(sorted(self.unavailable))
        return out


def _battery_name(area: _Area, state: EntityState) -> str:
    name = area.short(state.name)
    for suffix in (" battery level", " battery"):
        if name.lower().endswith(suffix) and len(name) > len(suffix):
            name = name[: -len(suffix)]
            break
    return name


def _climate_text(area: _Area, state: EntityState, unit: str) -> str:
    attrs = state.attributes
    text = state.state
    action = attrs.get("hvac_action")
    if action and action != state.state:
        text += f" ({action})"
    current = _number(attrs.get("current_temperature"))
    if current is not None:
        text += f" {_fmt(current)} {unit}".rstrip()
    target = _number(attrs.get("temperature"))
    if target is not None and state.state != "off":
        text += f", set {_fmt(target)} {unit}".rstrip()
    return f"{area.short(state.name)}: {text}"


def home_overview(
    ha: HAClient,
    states: Iterable[EntityState],
    *,
    energy: str,
    home_battery_soc: float | None = None,
) -> dict[str, Any]:
    """Every visible entity, summarised per area, with whole-home totals.

    `home_battery_soc` is the integration's home battery level: a battery sensor
    with that value is its source and not a device battery.
    """
    unit = str((ha.config.get("unit_system") or {}).get("temperature") or "")
    ours = {str(e["entity_id"]) for e in ha.platform_entities(DOMAIN)}
    areas: dict[str, _Area] = {}
    counted = 0
    for state in states:
        entry: Mapping[str, Any] = ha.entities.get(state.entity_id) or {}
        if entry.get("hidden_by"):
            continue
        counted += 1
        area_name = ha.area_name(ha.area_of(state.entity_id)) or NO_AREA
        area = areas.get(area_name)
        if area is None:
            area = areas[area_name] = _Area(area_name)
        _count(area, state, unit, state.entity_id in ours, home_battery_soc)
    ordered = sorted(areas.values(), key=lambda a: (a.name == NO_AREA, a.name.lower()))
    summaries = {a.name: s for a in ordered if (s := a.summary())}

    def total(key: str) -> tuple[int, int]:
        on = sum(getattr(a, key)[0] for a in ordered)
        return on, sum(getattr(a, key)[1] for a in ordered)

    lights, switches, covers = total("lights"), total("switches"), total("covers")
    low = sum(len(a.low_batteries) for a in ordered)
    named = sum(1 for a in ordered if a.name != NO_AREA)
    unavailable = sum(len(a.unavailable) for a in ordered)
    return {
        "energy": energy,
        "home": (
            f"{counted} entities, {named} areas; lights on "
            f"{lights[0]}/{lights[1]}, switches on {switches[0]}/{switches[1]}, "
            f"covers open {covers[0]}/{covers[1]}, low batteries (<"
            f"{LOW_BATTERY_PCT:g} %) {low}, unavailable {unavailable}"
        ),
        "areas": summaries,
        "more": "search_entities area=<area> lists an area's entities",
    }


def _count(
    area: _Area,
    state: EntityState,
    unit: str,
    ours: bool,
    home_battery_soc: float | None,
) -> None:
    if state.state == "unavailable":
        area.unavailable.append(area.short(state.name))
        return
    domain = state.domain
    device_class = str(state.attributes.get("device_class") or "")
    if domain in ("light", "switch", "cover"):
        key = {"light": "lights", "switch": "switches", "cover": "covers"}[domain]
        counts: list[int] = getattr(area, key)
        counts[1] += 1
        on = (
            state.state in OPEN_COVER_STATES
            if domain == "cover"
            else (state.state == "on")
        )
        counts[0] += int(on)
    elif domain == "climate":
        area.climate.append(_climate_text(area, state, unit))
    elif domain == "sensor" and device_class == "temperature":
        value = _number(state.state)
        if value is not None:
            area.temperatures.append(value)
            area.temperature_unit = str(
                state.attributes.get("unit_of_measurement") or unit
            )
    elif domain == "sensor" and device_class == "battery" and not ours:
        value = _number(state.state)
        is_home_battery = (
            home_battery_soc is not None
            and value is not None
            and round(value, 1) == round(home_battery_soc, 1)
        )
        if value is not None and value < LOW_BATTERY_PCT and not is_home_battery:
            area.low_batteries.append(
                (value, f"{_battery_name(area, state)} {_fmt(value)} %")
            )
    elif domain == "binary_sensor" and state.state == "on":
        if device_class == "battery" and not ours:
            area.low_batteries.append((0.0, f"{_battery_name(area, state)} low"))
        elif device_class in OPENINGS:
            area.open.append(area.short(state.name))
        elif device_class in ALARMS:
            area.alarms.append(area.short(state.name))


__all__ = ["LOW_BATTERY_PCT", "home_overview"]
