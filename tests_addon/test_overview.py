"""The whole-home overview: `get_site_status(scope="home")`, one call.

Against the real Home Assistant of the session (areas with lights, a cover, a
thermostat, temperature sensors, an open window, an unavailable sensor and a low
device battery), with the `expose` option respected; and the token bound on a
synthetic worst-case home of 500 entities in 12 areas (every door open, every alarm
on, every device battery low), which the caps must keep under the issue's 2,500
tokens.
"""

from __future__ import annotations

import json

import bpe_openai
import pytest
from energy_coordinator_mcp.config import Options
from energy_coordinator_mcp.context import AddonContext
from energy_coordinator_mcp.ha_client import EntityState, HAClient, HAError
from energy_coordinator_mcp.overview import home_overview
from energy_coordinator_mcp.security import ConfirmationGate
from energy_coordinator_mcp.tools import ToolRegistry
from helpers import eventually, ok
from mcp import Client
from stack import Stack, set_input

ENCODING = bpe_openai.get_encoding("o200k_base")
OVERVIEW_TOKENS = 2500
LIGHTS = ("Ceiling", "Spots", "Floor lamp", "Desk lamp", "Strip", "Wall", "Pendant")


def tokens(value: object) -> int:
    """o200k tokens of the compact JSON a client hands the model."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return len(ENCODING.encode(text))


async def test_overview_in_one_call(client: Client, ctx: AddonContext) -> None:
    overview = await ok(client, "get_site_status", scope="home")
    print(f"overview: {tokens(overview)} tokens: {json.dumps(overview)}")
    assert tokens(overview) <= 700  # a small home: well under the 2,500 target

    # The energy line: the same facts as the energy answer, in one sentence.
    energy = overview["energy"]
    assert energy.startswith("solar ") and " kW" in energy
    assert "home battery 63.0 % SoC" in energy
    assert "t-001/1" in energy and "t-002/1" in energy

    areas = overview["areas"]
    living = areas["Living Room"]
    assert living["lights"] == "1/2 on"
    assert living["covers"] == "1/1 open"
    (thermostat,) = living["climate"]
    assert thermostat.startswith("Thermostat: heat")
    assert "21.5 °C" in thermostat and "set 20 °C" in thermostat
    assert living["temperature"] == "19-21.5 °C (2)"
    assert "low_battery" not in living  # the phone (87 %) and remote (55 %) are fine

    bedroom = areas["Bedroom"]
    assert bedroom["temperature"] == "18 °C"
    assert bedroom["open"] == ["Window"]

    garage = areas["Garage"]
    assert garage["unavailable"] == ["Humidity"]
    socket_on = ctx.ha.states["switch.garage_socket"].state == "on"
    assert garage["switches"] == f"{int(socket_on)}/1 on"

    # Entities without an area: the low door-sensor battery, by name; never the
    # home battery's source nor the integration's own entities.
    unplaced = areas["no area"]
    assert unplaced["low_battery"] == ["Front door sensor 12 %"]
    assert list(areas)[-1] == "no area"
    assert "Loft" not in areas  # an empty area says nothing

    home = overview["home"]
    assert "lights on 1/2" in home and "covers open 1/1" in home
    assert "low batteries (<20 %) 1" in home and "unavailable " in home

    # The default scope is still the lean energy answer.
    energy_only = await ok(client, "get_site_status")
    assert "areas" not in energy_only and energy_only["solar"].endswith(" kW")
    bad = await client.call_tool("get_site_status", {"scope": "garden"})
    assert bad.is_error


async def test_overview_never_lists_the_home_battery(
    client: Client, ctx: AddonContext, stack: Stack
) -> None:
    """A low home battery is energy (the energy line), not a device to replace."""

    def level(value: float) -> bool:
        state = ctx.ha.states["sensor.home_battery_level"].state
        return float(state) == value

    await set_input(stack.ha, "battery_soc", 15)
    try:
        await eventually(lambda: level(15))
        overview = await ok(client, "get_site_status", scope="home")
    finally:
        await set_input(stack.ha, "battery_soc", 63)
        await eventually(lambda: level(63))
    assert "home battery 15.0 % SoC" in overview["energy"]
    assert overview["areas"]["no area"]["low_battery"] == ["Front door sensor 12 %"]


async def test_overview_respects_expose(ctx: AddonContext, stack: Stack) -> None:
    """With expose=assist only what the owner exposed to Assist is counted."""
    shown = [
        "light.living_room_lamp",
        "climate.living_room_thermostat",
        "sensor.bedroom_temperature",
    ]
    await stack.ha.ws_command(
        "homeassistant/expose_entity",
        assistants=["conversation"],
        entity_ids=shown,
        should_expose=True,
    )
    registry = ToolRegistry(
        ctx.ha,
        Options(expose="assist"),
        gate=ConfirmationGate(),
        audit=ctx.audit,
        redactor=ctx.redactor,
    )
    try:
        result = await registry.call("get_site_status", {"scope": "home"}, "test")
    finally:
        await stack.ha.ws_command(
            "homeassistant/expose_entity",
            assistants=["conversation"],
            entity_ids=shown,
            should_expose=False,
        )
    assert not result.is_error, result.content
    overview = result.content
    assert overview["home"].startswith("3 entities, 2 areas; lights on 1/1")
    assert overview["areas"] == {
        "Bedroom": {"temperature": "18 °C"},
        "Living Room": {
            "lights": "1/1 on",
            "climate": ["Thermostat: heat (idle) 21.5 °C, set 20 °C"],
        },
    }
    assert "low batteries (<20 %) 0" in overview["home"]


async def test_overview_without_the_integration(
    ctx: AddonContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The home part still answers when the integration's status cannot be had."""

    async def no_status() -> dict[str, object]:
        raise HAError("Action energy_coordinator.get_status not found")

    monkeypatch.setattr(ctx.registry.access, "status", no_status)
    result = await ctx.registry.call("get_site_status", {"scope": "home"}, "test")
    assert not result.is_error, result.content
    assert result.content["energy"].startswith("unknown (Energy Coordinator status")
    assert result.content["areas"]["Living Room"]["lights"] == "1/2 on"
    energy_only = await ctx.registry.call("get_site_status", {}, "test")
    assert energy_only.is_error


def _worst_case_home() -> HAClient:
    """500 entities in 12 areas, everything that can be listed is listed."""
    ha = HAClient("http://127.0.0.1:1", "unused")
    ha.config = {"unit_system": {"temperature": "°C"}}
    areas = [
        "Living Room",
        "Kitchen",
        "Bedroom",
        "Bathroom",
        "Hallway",
        "Office",
        "Kids Room",
        "Guest Room",
        "Garage",
        "Garden",
        "Basement",
        "Laundry",
    ]
    count = 0

    def add(area: str, domain: str, name: str, state: str, **attrs: object) -> None:
        nonlocal count
        area_id = area.lower().replace(" ", "_")
        entity_id = f"{domain}.{area_id}_{name.lower().replace(' ', '_')}"
        ha.areas[area_id] = {"area_id": area_id, "name": area}
        ha.entities[entity_id] = {"entity_id": entity_id, "area_id": area_id}
        ha.states[entity_id] = EntityState(
            entity_id, state, {"friendly_name": f"{area} {name}", **attrs}
        )
        count += 1

    for n, area in enumerate(areas):
        for light in LIGHTS:
            add(area, "light", light, "on")
        for switch in ("Heating", "Socket", "Fan", "Dehumidifier"):
            add(area, "switch", switch, "on")
        for cover in ("Blind", "Curtain"):
            add(area, "cover", cover, "open")
        add(
            area,
            "climate",
            "Thermostat",
            "heat",
            current_temperature=19.5,
            temperature=21,
            hvac_action="heating",
        )
        for sensor in ("Temperature", "Floor temperature", "Window temperature"):
            add(
                area,
                "sensor",
                sensor,
                "20.5",
                device_class="temperature",
                unit_of_measurement="°C",
            )
        for device in (
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
        ):
            add(
                area,
                "sensor",
                f"{device} battery",
                "7",
                device_class="battery",
                unit_of_measurement="%",
            )
        for binary, device_class in (
            ("Front door", "door"),
            ("Back door", "door"),
            ("Window left", "window"),
            ("Window right", "window"),
            ("Smoke", "smoke"),
            ("Leak", "moisture"),
            ("Gas", "gas"),
            ("Tamper", "tamper"),
        ):
            add(area, "binary_sensor", binary, "on", device_class=device_class)
        for unavailable in ("Humidity", "CO2", "Illuminance", "Power"):
            add(area, "sensor", unavailable, "unavailable")
        if n < 8:  # 41 or 42 per area, 500 in all
            add(area, "sensor", "Energy", "12.5", unit_of_measurement="kWh")
    assert count == 500, count
    return ha


async def test_overview_of_a_worst_case_home_fits_the_budget() -> None:
    ha = _worst_case_home()
    energy = (
        "solar 4.20 kW; grid exporting 1.10 kW (limit 25 A/phase); house 1.90 kW; "
        "home battery 63.0 % SoC, charging at 1.20 kW; EVs: demo-001/1 charging "
        "7.20 kW at 11 A limit (mode pv), demo-002/1 no car plugged in (mode pv)"
    )
    overview = home_overview(ha, ha.states.values(), energy=energy)
    count = tokens(overview)
    print(f"worst-case overview: {count} tokens")
    assert count <= OVERVIEW_TOKENS
    assert len(overview["areas"]) == 12
    kitchen = overview["areas"]["Kitchen"]
    assert kitchen["lights"] == "7/7 on" and kitchen["covers"] == "2/2 open"
    assert kitchen["climate"] == ["Thermostat: heat (heating) 19.5 °C, set 21 °C"]
    assert kitchen["temperature"] == "20.5 °C (3)"
    # Capped lists: three names, then how many more.
    assert kitchen["low_battery"] == [
        "Button 7 %",
        "Door lock 7 %",
        "Door sensor 7 %",
        "+9 more",
    ]
    assert kitchen["unavailable"] == ["CO2", "Humidity", "Illuminance", "+1 more"]
    assert kitchen["open"] == ["Back door", "Front door", "Window left", "+1 more"]
    assert "low batteries (<20 %) 144" in overview["home"]
    assert "unavailable 48" in overview["home"]
