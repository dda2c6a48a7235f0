"""The benchmark's home: the site's meters and 500 ordinary entities in 12 areas.

Owns the `configuration.yaml` additions of `bench/mcp.py`: the site's sources (PV,
grid, home battery SoC and power, house consumption) as template sensors, and a
deterministic household of extra entities spread over 12 areas, made only of Home
Assistant core integrations (modern `template:` lights, switches, sensors and binary
sensors, legacy template covers, `generic_thermostat` climates): lights, switches,
covers, thermostats, room sensors (temperature, humidity, light, power, energy, CO2)
and many device batteries (motion, door, window and smoke sensors, remotes, locks,
valves), the kind that make "the battery" ambiguous. Every entity has a unique id,
so `assign_areas()` can put it in its area through the entity registry.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

#: Areas onboarding creates, then the ones the benchmark adds.
ONBOARDING_AREAS = ("Living Room", "Kitchen", "Bedroom")
EXTRA_AREAS = (
    "Bathroom",
    "Hallway",
    "Office",
    "Kids Room",
    "Guest Room",
    "Garage",
    "Garden",
    "Basement",
    "Laundry",
)
#: The site's meters (configured as the integration's sources).
SOURCES: dict[str, tuple[str, str, str, float]] = {
    "pv_power": ("Solar power", "W", "power", 4200),
    "grid_power": ("Grid power", "W", "power", -1100),
    "battery_soc": ("Home battery", "%", "battery", 63),
    "battery_power": ("Home battery power", "W", "power", 1200),
    "house_power": ("House consumption", "W", "power", 1900),
}
SOURCE_OPTIONS = {
    "pv_power_entity": "sensor.solar_power",
    "grid_power_entity": "sensor.grid_power",
    "battery_soc_entity": "sensor.home_battery",
    "battery_power_entity": "sensor.home_battery_power",
    "house_power_entity": "sensor.house_consumption",
}

LIGHTS = ("Ceiling", "Spots", "Floor lamp", "Desk lamp", "Strip", "Wall", "Pendant")
SWITCHES = ("Heating", "Socket", "Fan", "Dehumidifier")
COVERS = ("Blind", "Curtain")
ROOM_SENSORS: tuple[tuple[str, str, str | None, float, float], ...] = (
    ("Temperature", "°C", "temperature", 17.0, 24.0),
    ("Humidity", "%", "humidity", 35.0, 65.0),
    ("Illuminance", "lx", "illuminance", 0.0, 800.0),
    ("Power", "W", "power", 0.0, 600.0),
    ("Energy", "kWh", "energy", 10.0, 900.0),
    ("CO2", "ppm", "carbon_dioxide", 400.0, 1200.0),
    ("PM2.5", "µg/m³", "pm25", 1.0, 30.0),
    ("Signal", "dBm", "signal_strength", -90.0, -40.0),
)
BATTERY_DEVICES = (
    "Motion sensor",
    "Door sensor",
    "Window sensor left",
    "Window sensor right",
    "Smoke detector",
    "Remote",
    "Radiator valve",
    "Button",
    "Leak sensor",
    "Thermometer",
    "Door lock",
    "Vibration sensor",
)
BINARY_SENSORS: tuple[tuple[str, str], ...] = (
    ("Motion", "motion"),
    ("Door", "door"),
    ("Window left", "window"),
    ("Window right", "window"),
    ("Smoke", "smoke"),
    ("Leak", "moisture"),
    ("Occupancy", "occupancy"),
    ("Vibration", "vibration"),
)


@dataclass(frozen=True, slots=True)
class Extra:
    """One extra entity: where it lives and how it is configured."""

    domain: str
    unique_id: str
    name: str
    area: str
    config: dict[str, Any]


def slug(text: str) -> str:
    """Home Assistant's object-id form of a name (ASCII subset)."""
    out = "".join(c.lower() if c.isalnum() else "_" for c in text)
    while "__" in out:
        out = out.replace("__", "_")
    return out.strip("_")


def _area_entities(area: str, rng: random.Random, binaries: int) -> Iterator[Extra]:
    key = slug(area)
    for name in LIGHTS:
        yield Extra(
            "light", f"bench_{key}_{slug(name)}_light", f"{area} {name}", area, {}
        )
    for name in SWITCHES:
        yield Extra("switch", f"bench_{key}_{slug(name)}", f"{area} {name}", area, {})
    for name in COVERS:
        yield Extra(
            "cover",
            f"bench_{key}_{slug(name)}",
            f"{area} {name}",
            area,
            {"position": rng.choice((0, 30, 70, 100))},
        )
    yield Extra("climate", f"bench_{key}_thermostat", f"{area} Thermostat", area, {})
    for name, unit, device_class, low, high in ROOM_SENSORS:
        yield Extra(
            "sensor",
            f"bench_{key}_{slug(name)}",
            f"{area} {name}",
            area,
            {
                "unit": unit,
                "device_class": device_class,
                "state": round(rng.uniform(low, high), 1),
            },
        )
    for name in BATTERY_DEVICES:
        yield Extra(
            "sensor",
            f"bench_{key}_{slug(name)}_battery",
            f"{area} {name} battery",
            area,
            {"unit": "%", "device_class": "battery", "state": rng.randint(3, 100)},
        )
    for name, device_class in BINARY_SENSORS[:binaries]:
        yield Extra(
            "binary_sensor",
            f"bench_{key}_{slug(name)}",
            f"{area} {name}",
            area,
            {"device_class": device_class, "on": rng.random() < 0.2},
        )


def household(count: int = 500, seed: int = 7) -> list[Extra]:
    """`count` extra entities over the 12 areas (42 or 41 each for 500)."""
    rng = random.Random(seed)
    areas = (*ONBOARDING_AREAS, *EXTRA_AREAS)
    full = (
        len(LIGHTS)
        + len(SWITCHES)
        + len(COVERS)
        + 1
        + len(ROOM_SENSORS)
        + len(BATTERY_DEVICES)
        + len(BINARY_SENSORS)
    )
    if not len(areas) * (full - len(BINARY_SENSORS)) <= count <= len(areas) * full:
        raise ValueError(f"count must be within the areas' capacity (<= {full * 12})")
    short = len(areas) * full - count  # areas that get one binary sensor fewer
    extras: list[Extra] = []
    for index, area in enumerate(areas):
        binaries = len(BINARY_SENSORS) - (
            (short // len(areas))
            + (1 if index >= len(areas) - short % len(areas) else 0)
        )
        extras.extend(_area_entities(area, rng, binaries))
    assert len(extras) == count, len(extras)
    return extras


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def configuration(extras: list[Extra]) -> str:
    """The `configuration.yaml` additions (recorder, sources and the household)."""
    lines = [
        "recorder:",
        "  commit_interval: 1",
        "history:",
        "template:",
        "  - sensor:",
    ]
    for key, (name, unit, device_class, value) in SOURCES.items():
        lines += [
            f"      - name: {_quote(name)}",
            f"        unique_id: bench_source_{key}",
            f"        unit_of_measurement: {_quote(unit)}",
            f"        device_class: {device_class}",
            "        state_class: measurement",
            f"        state: {_quote(str(value))}",
        ]
    for extra in (e for e in extras if e.domain == "sensor"):
        lines += [
            f"      - name: {_quote(extra.name)}",
            f"        unique_id: {extra.unique_id}",
            f"        unit_of_measurement: {_quote(extra.config['unit'])}",
            f"        device_class: {extra.config['device_class']}",
            "        state_class: "
            + (
                "total_increasing"
                if extra.config["device_class"] == "energy"
                else "measurement"
            ),
            f"        state: {_quote(str(extra.config['state']))}",
        ]
    lines.append("  - binary_sensor:")
    for extra in (e for e in extras if e.domain == "binary_sensor"):
        lines += [
            f"      - name: {_quote(extra.name)}",
            f"        unique_id: {extra.unique_id}",
            f"        device_class: {extra.config['device_class']}",
            f"        state: {_quote('on' if extra.config['on'] else 'off')}",
        ]
    lines.append("  - light:")
    for extra in (e for e in extras if e.domain == "light"):
        lines += [
            f"      - name: {_quote(extra.name)}",
            f"        unique_id: {extra.unique_id}",
            "        turn_on: []",
            "        turn_off: []",
        ]
    lines.append("  - switch:")
    for extra in (e for e in extras if e.domain == "switch"):
        lines += [
            f"      - name: {_quote(extra.name)}",
            f"        unique_id: {extra.unique_id}",
            "        turn_on: []",
            "        turn_off: []",
        ]
    lines += ["cover:", "  - platform: template", "    covers:"]
    for extra in (e for e in extras if e.domain == "cover"):
        lines += [
            f"      {extra.unique_id}:",
            f"        unique_id: {extra.unique_id}",
            f"        friendly_name: {_quote(extra.name)}",
            "        device_class: blind",
            f"        position_template: '{extra.config['position']}'",
            "        open_cover: []",
            "        close_cover: []",
            "        stop_cover: []",
        ]
    lines += ["climate:"]
    for extra in (e for e in extras if e.domain == "climate"):
        key = slug(extra.area)
        lines += [
            "  - platform: generic_thermostat",
            f"    name: {_quote(extra.name)}",
            f"    unique_id: {extra.unique_id}",
            f"    heater: switch.{key}_heating",
            f"    target_sensor: sensor.{key}_temperature",
            "    target_temp: 20",
            "    initial_hvac_mode: heat",
        ]
    return "\n".join(lines) + "\n"


async def assign_areas(ws_command: Any, extras: list[Extra]) -> dict[str, int]:
    """Create the areas and put every extra entity in its area.

    `ws_command(type, **payload)` sends one WebSocket command and returns its
    result (one connection for all of them). Returns entities per area.
    """
    existing = {
        a["name"]: a["area_id"] for a in await ws_command("config/area_registry/list")
    }
    for name in (*ONBOARDING_AREAS, *EXTRA_AREAS):
        if name not in existing:
            created = await ws_command("config/area_registry/create", name=name)
            existing[name] = created["area_id"]
    by_unique = {
        e["unique_id"]: e["entity_id"]
        for e in await ws_command("config/entity_registry/list")
        if str(e.get("unique_id", "")).startswith("bench_")
    }
    missing = [e.unique_id for e in extras if e.unique_id not in by_unique]
    if missing:
        raise RuntimeError(
            f"{len(missing)} extra entities not registered: {missing[:5]}"
        )
    counts: dict[str, int] = {}
    for extra in extras:
        await ws_command(
            "config/entity_registry/update",
            entity_id=by_unique[extra.unique_id],
            area_id=existing[extra.area],
        )
        counts[extra.area] = counts.get(extra.area, 0) + 1
    return counts
