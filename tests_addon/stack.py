"""A real Home Assistant with the integration, sources and simulated chargers.

One `hass` process (scripts/hass_process.py, run with the HA venv's Python) with:
template power sensors fed by `input_number`s for PV, grid, home battery SoC and
power and house consumption (the integration's configured sources), decoy device
batteries (phones, sensors) that must never be taken for the home battery, lights,
switches, a cover, a thermostat, room sensors (one unavailable) and a window in
areas (for the home overview), two scenes (one of them switches a charger), the
recorder for history, `llm_probe` (HA's LLM API as actions, for the tests of HA's
own `mcp` integration), the integration added through its config flow (a 240 V
three-phase site), and the simulator (`python -m simulator`, also the HA venv) with
one OCPP 1.6J and one 2.0.1 charger running sessions by themselves.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

from hass_process import HassProcess, free_port  # noqa: E402

HA_PYTHON = ROOT / ".venv" / "bin" / "python"
Simulator = subprocess.Popen[bytes]
DOMAIN = "energy_coordinator"
#: The site's nominal phase voltage: not 230 V, so a constant would show.
SITE_VOLTAGE = 240
#: The test-only integration that calls HA's LLM API (tests_addon/llm_probe).
LLM_PROBE = "llm_probe"

SOURCES = {
    "pv_power": ("PV power", "W", "power", 0, 20000, 4200),
    "grid_power": ("Grid power", "W", "power", -20000, 20000, -1100),
    "battery_soc": ("Home battery level", "%", "battery", 0, 100, 63),
    "battery_power": ("Home battery power", "W", "power", -10000, 10000, 1200),
    "house_power": ("House consumption", "W", "power", 0, 20000, 1900),
}
#: The charge switch the integration gives the simulated charger t-001.
CHARGE_SWITCH = "switch.t_001_charge"
#: Device batteries that are not the home battery.
DECOYS = {
    "phone_battery": ("Alice phone battery", 87),
    "door_sensor_battery": ("Front door sensor battery", 12),
    "remote_battery": ("Living room remote battery", 55),
}

#: Room sensors for the home overview: name, state, extra YAML lines.
ROOM_SENSORS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    (
        "Living room temperature",
        "21.5",
        ("unit_of_measurement: '°C'", "device_class: temperature"),
    ),
    (
        "Living room floor temperature",
        "19.0",
        ("unit_of_measurement: '°C'", "device_class: temperature"),
    ),
    (
        "Bedroom temperature",
        "18.0",
        ("unit_of_measurement: '°C'", "device_class: temperature"),
    ),
    (
        "Garage humidity",
        "50",
        (
            "unit_of_measurement: '%'",
            "device_class: humidity",
            "availability: '{{ false }}'",
        ),
    ),
)


def extra_config() -> str:
    """configuration.yaml additions: sources, decoys, lights, recorder."""
    lines = ["recorder:", "  commit_interval: 1", "history:", "llm_probe:"]
    lines += ["input_number:"]
    for key, (name, unit, _, low, high, initial) in SOURCES.items():
        lines += [
            f"  {key}:",
            f"    name: {name} input",
            f"    min: {low}",
            f"    max: {high}",
            f"    initial: {initial}",
            "    mode: box",
            f"    unit_of_measurement: '{unit}'",
        ]
    lines += ["input_text:", "  note:", "    name: Note", "    max: 255"]
    lines += ["input_boolean:"]
    for key, name in (
        ("kitchen_light", "Kitchen light"),
        ("garage_heater", "Garage heater"),
        ("living_room_heater", "Living room heater"),
    ):
        lines += [f"  {key}:", f"    name: {name}"]
    lines += ["template:", "  - sensor:"]
    for key, (name, unit, device_class, *_rest) in SOURCES.items():
        lines += [
            f"      - name: {name}",
            f"        unique_id: test_{key}",
            f"        unit_of_measurement: '{unit}'",
            f"        device_class: {device_class}",
            "        state_class: measurement",
            f"        state: \"{{{{ states('input_number.{key}') }}}}\"",
        ]
    for key, (name, value) in DECOYS.items():
        lines += [
            f"      - name: {name}",
            f"        unique_id: test_{key}",
            "        unit_of_measurement: '%'",
            "        device_class: battery",
            f"        state: '{value}'",
        ]
    for name, value, extra in ROOM_SENSORS:
        lines += [
            f"      - name: {name}",
            f"        unique_id: test_{name.lower().replace(' ', '_')}",
            f"        state: '{value}'",
            *(f"        {line}" for line in extra),
        ]
    lines += [
        "      - name: Doorbell camera",
        "        unique_id: test_doorbell",
        "        state: idle",
        "        attributes:",
        "          access_token: 'cam-secret-8b1f2e9d'",
        "          entity_picture: "
        "'/api/camera_proxy/camera.door?token=cam-secret-8b1f2e9d'",
        "          model: Doorbell 2",
        "  - switch:",
        "      - name: Garage socket",
        "        unique_id: test_garage_socket",
        "        state: \"{{ is_state('input_boolean.garage_heater', 'on') }}\"",
        "        turn_on:",
        "          action: input_boolean.turn_on",
        "          target: {entity_id: input_boolean.garage_heater}",
        "        turn_off:",
        "          action: input_boolean.turn_off",
        "          target: {entity_id: input_boolean.garage_heater}",
        "  - light:",
        "      - name: Living room lamp",
        "        unique_id: test_living_room_lamp",
        "        state: '{{ true }}'",
        "        turn_on: []",
        "        turn_off: []",
        "      - name: Living room spots",
        "        unique_id: test_living_room_spots",
        "        state: '{{ false }}'",
        "        turn_on: []",
        "        turn_off: []",
        "  - binary_sensor:",
        "      - name: Bedroom window",
        "        unique_id: test_bedroom_window",
        "        device_class: window",
        "        state: 'on'",
        # Scenes: one of the home only, one that also switches a charger
        # (whose charge switch the integration creates once t-001 boots).
        "scene:",
        "  - name: Garage off",
        "    entities:",
        "      switch.garage_socket: 'off'",
        "  - name: Garage night",
        "    entities:",
        "      switch.garage_socket: 'off'",
        f"      {CHARGE_SWITCH}: 'off'",
        "cover:",
        "  - platform: template",
        "    covers:",
        "      living_room_blind:",
        "        unique_id: test_living_room_blind",
        "        friendly_name: Living room blind",
        "        position_template: '70'",
        "        open_cover: []",
        "        close_cover: []",
        "climate:",
        "  - platform: generic_thermostat",
        "    name: Living room thermostat",
        "    unique_id: test_living_room_thermostat",
        "    heater: input_boolean.living_room_heater",
        "    target_sensor: sensor.living_room_temperature",
        "    target_temp: 20",
        "    initial_hvac_mode: heat",
    ]
    return "\n".join(lines) + "\n"


@dataclass
class Stack:
    """The running stack."""

    ha: HassProcess
    entry_id: str
    ocpp_port: int
    simulator: Simulator
    charger_ids: list[str]

    @property
    def url(self) -> str:
        """HA's base URL."""
        return self.ha.url

    @property
    def token(self) -> str:
        """A long-lived token."""
        assert self.ha.token is not None
        return self.ha.token


async def _set_areas(ha: HassProcess) -> None:
    # Onboarding creates Living room, Kitchen and Bedroom.
    await ha.ws_command("config/area_registry/create", name="Garage")
    assignments = {
        "sensor.alice_phone_battery": "living_room",
        "sensor.living_room_remote_battery": "living_room",
        "switch.garage_socket": "garage",
        "sensor.pv_power": "garage",
        "sensor.garage_humidity": "garage",
        "sensor.living_room_temperature": "living_room",
        "sensor.living_room_floor_temperature": "living_room",
        "light.living_room_lamp": "living_room",
        "light.living_room_spots": "living_room",
        "cover.living_room_blind": "living_room",
        "climate.living_room_thermostat": "living_room",
        "sensor.bedroom_temperature": "bedroom",
        "binary_sensor.bedroom_window": "bedroom",
    }
    for entity_id, area in assignments.items():
        await ha.ws_command(
            "config/entity_registry/update", entity_id=entity_id, area_id=area
        )


async def site_chargers(ha: HassProcess) -> dict[str, Any]:
    """The integration's own `get_chargers` answer."""
    answer = await ha.call_service(DOMAIN, "get_chargers", return_response=True)
    return dict(answer["service_response"])


async def _wait_chargers(ha: HassProcess, count: int, within: float) -> list[str]:
    deadline = time.monotonic() + within
    while True:
        chargers = (await site_chargers(ha))["chargers"]
        online = sorted(cid for cid, c in chargers.items() if c["online"])
        if len(online) >= count:
            return online
        if time.monotonic() > deadline:
            raise RuntimeError(f"chargers did not come up: {online}\n{ha.log_tail()}")
        await asyncio.sleep(0.3)


@asynccontextmanager
async def running_stack(config_dir: Path) -> AsyncIterator[Stack]:
    """Start everything; stop it all on exit."""
    ha = HassProcess(
        config_dir,
        python=str(HA_PYTHON),
        username="addon",
        name="Add-on test",
        extra_config=extra_config(),
        log_level="warning",
        custom_integrations={LLM_PROBE: ROOT / "tests_addon" / LLM_PROBE},
    )
    simulator: Simulator | None = None
    await ha.start(within=60)
    try:
        await ha.onboard()
        await _set_areas(ha)
        ocpp_port = free_port()
        entry = await ha.add_integration(
            site_name="Test Home",
            ocpp_port=ocpp_port,
            charger_policy="accept",
            steps={
                "sources": {
                    "pv_power_entity": "sensor.pv_power",
                    "grid_power_entity": "sensor.grid_power",
                    "battery_soc_entity": "sensor.home_battery_level",
                    "battery_power_entity": "sensor.home_battery_power",
                    "house_power_entity": "sensor.house_consumption",
                },
                "limits": {"site_voltage": SITE_VOLTAGE},
            },
        )
        simulator = start_simulator(
            ocpp_port,
            config_dir / "simulator.log",
            "--chargers",
            "2",
            "--versions",
            "1.6,2.0.1",
            "--id-prefix",
            "t",
            "--auto-session",
            "--session-pause",
            "2",
            "--meter-interval",
            "1",
            "--stagger",
            "0.2",
            "--seed",
            "7",
        )
        chargers = await _wait_chargers(ha, 2, within=45)
        yield Stack(ha, entry["entry_id"], ocpp_port, simulator, chargers)
    finally:
        if simulator is not None:
            await stop_simulator(simulator)
        await ha.stop()


def start_simulator(ocpp_port: int, log_path: Path, *args: str) -> Simulator:
    """`python -m simulator` (the HA venv) against the central system."""
    with log_path.open("wb") as log:
        return subprocess.Popen(
            [
                str(HA_PYTHON),
                "-m",
                "simulator",
                "--url",
                f"ws://127.0.0.1:{ocpp_port}",
                *args,
            ],
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            start_new_session=True,
        )


async def stop_simulator(simulator: Simulator) -> None:
    """SIGTERM, then SIGKILL after 5 s."""
    if simulator.poll() is None:
        simulator.send_signal(signal.SIGTERM)
        for _ in range(50):
            if simulator.poll() is not None:
                break
            await asyncio.sleep(0.1)
        if simulator.poll() is None:
            simulator.kill()


async def set_input(ha: HassProcess, key: str, value: float) -> None:
    """Change one source's input_number."""
    await ha.call_service(
        "input_number",
        "set_value",
        {"entity_id": f"input_number.{key}", "value": value},
    )


def entity_ids(states: list[dict[str, Any]], prefix: str) -> list[str]:
    """Entity ids with a prefix."""
    return sorted(s["entity_id"] for s in states if s["entity_id"].startswith(prefix))
