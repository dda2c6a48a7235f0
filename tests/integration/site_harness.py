"""A whole site in a real Home Assistant core, for the coordination tests.

Owns the `site_harness` fixture and `SiteHarness`: measurement sources made of
real helpers (`input_number` knobs behind `template` power sensors, one of them
switchable to unavailable), flexible loads (an `input_boolean` and a template
`switch`), a battery script that records what it is told, the shipped blueprint
as an automation, simulated chargers on 127.0.0.1, and the clock.

Time is frozen (`freezer`) and only moves when a test moves it: the controller's
delays, HA's time triggers, the simulators' meter reports and the central
system's liveness watch all run on that one clock. Waiting for network frames
therefore never sleeps on the event loop's clock; it yields to the loop while a
worker thread sleeps in real time (`wait`).

The grid meter is a template: house + battery + what the chargers draw - PV, so
what a simulated EV takes from a profile shows up at the grid as it would on a
real site.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import SOURCE_USER
from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.core import HomeAssistant, ServiceCall, callback
from homeassistant.helpers import entity_registry as er
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from custom_components.energy_coordinator.const import DOMAIN
from custom_components.energy_coordinator.runtime import EnergyCoordinatorConfigEntry
from custom_components.energy_coordinator.site import SiteCoordinator
from simulator import EV, ChargePoint16, SimulatedChargePoint

from .conftest import SetupSite, charger_uid

#: A sunny Sunday at 10:00 UTC, on a whole second.
START = datetime(2026, 6, 21, 10, 0, 0, tzinfo=UTC)
#: Seconds between the simulators' meter reports (on the frozen clock).
METER_INTERVAL = 1.0

PV = "sensor.pv_power"  # kW, from input_number.pv_w
GRID = "sensor.grid_power"  # W, house + battery + chargers - PV; can be unavailable
HOUSE = "sensor.house_power"  # W, from input_number.house_w
BATTERY_SOC = "sensor.battery_soc"
BATTERY_POWER = "sensor.battery_power"  # W, charging positive
METER_OK = "input_boolean.meter_ok"
BOILER = "input_boolean.boiler"  # a flexible load
POOL_PUMP = "switch.pool_pump"  # a flexible load: a template switch
BATTERY_SCRIPT = "script.battery_command"

#: Chargers whose power sensors the grid template adds up.
CHARGER_IDS = ("SIM1", "SIM2")

SOURCES = {
    "pv_power_entity": PV,
    "grid_power_entity": GRID,
    "house_power_entity": HOUSE,
}


def _grid_template() -> str:
    chargers = " + ".join(
        f"states('sensor.{cid.lower()}_power') | float(0)" for cid in CHARGER_IDS
    )
    return (
        "{{ (states('input_number.house_w') | float(0)"
        " + states('input_number.battery_w') | float(0)"
        f" + {chargers}"
        " - states('input_number.pv_w') | float(0)) | round(1) }}"
    )


async def setup_sources(hass: HomeAssistant) -> None:
    """The helpers, template sensors and switch every coordination test uses."""
    watts = {"min": -30000, "max": 30000, "step": 0.1, "unit_of_measurement": "W"}
    assert await async_setup_component(
        hass,
        "input_number",
        {
            "input_number": {
                "pv_w": {**watts, "initial": 0},
                "house_w": {**watts, "initial": 500},
                "battery_w": {**watts, "initial": 0},
                "battery_soc": {
                    "min": 0,
                    "max": 100,
                    "step": 0.1,
                    "initial": 50,
                    "unit_of_measurement": "%",
                },
            }
        },
    )
    assert await async_setup_component(
        hass,
        "input_boolean",
        {
            "input_boolean": {
                "meter_ok": {"initial": True},
                "boiler": {"initial": True},
                "pool_pump": {"initial": True},
            }
        },
    )
    power = {"device_class": "power", "state_class": "measurement"}
    pump = {"target": {"entity_id": "input_boolean.pool_pump"}}
    assert await async_setup_component(
        hass,
        "template",
        {
            "template": [
                {
                    "sensor": [
                        {
                            "name": "PV power",
                            "unique_id": "test_pv_power",
                            "state": "{{ states('input_number.pv_w') | float(0)"
                            " / 1000 }}",
                            "unit_of_measurement": "kW",
                            **power,
                        },
                        {
                            "name": "Grid power",
                            "unique_id": "test_grid_power",
                            "state": _grid_template(),
                            "availability": f"{{{{ is_state('{METER_OK}', 'on') }}}}",
                            "unit_of_measurement": "W",
                            **power,
                        },
                        {
                            "name": "House power",
                            "unique_id": "test_house_power",
                            "state": "{{ states('input_number.house_w') }}",
                            "unit_of_measurement": "W",
                            **power,
                        },
                        {
                            "name": "Battery SoC",
                            "unique_id": "test_battery_soc",
                            "state": "{{ states('input_number.battery_soc') }}",
                            "unit_of_measurement": "%",
                            "device_class": "battery",
                        },
                        {
                            "name": "Battery power",
                            "unique_id": "test_battery_power",
                            "state": "{{ states('input_number.battery_w') }}",
                            "unit_of_measurement": "W",
                            **power,
                        },
                    ],
                    "switch": [
                        {
                            "name": "Pool pump",
                            "unique_id": "test_pool_pump",
                            "state": "{{ is_state('input_boolean.pool_pump', 'on') }}",
                            "turn_on": [{"action": "input_boolean.turn_on", **pump}],
                            "turn_off": [{"action": "input_boolean.turn_off", **pump}],
                        }
                    ],
                }
            ]
        },
    )
    await hass.async_block_till_done()
    for entity_id in (PV, GRID, HOUSE, BATTERY_SOC, BATTERY_POWER, POOL_PUMP):
        assert hass.states.get(entity_id) is not None, entity_id


@dataclass
class Frames:
    """The SetChargingProfile (and other) CALLs a simulator got since a mark."""

    sim: SimulatedChargePoint
    start: int = -1  # -1: from now on

    def __post_init__(self) -> None:
        if self.start < 0:
            self.start = len(self.sim.received)

    def of(self, action: str) -> list[dict[str, Any]]:
        """Payloads of `action` since the mark."""
        return [p for a, p in self.sim.received[self.start :] if a == action]

    def profiles(self) -> list[dict[str, Any]]:
        """The charging profiles sent since the mark (1.6 and 2.0.1 shapes)."""
        result = []
        for payload in self.of("SetChargingProfile"):
            profile = payload.get("csChargingProfiles") or payload["chargingProfile"]
            result.append(profile)
        return result

    def limits(self) -> list[tuple[str, float]]:
        """(purpose, first period's limit) of every profile since the mark."""
        result = []
        for profile in self.profiles():
            schedule = profile["chargingSchedule"]
            if isinstance(schedule, list):
                schedule = schedule[0]
            period = schedule["chargingSchedulePeriod"][0]
            result.append((profile["chargingProfilePurpose"], float(period["limit"])))
        return result


@dataclass
class SiteHarness:
    """One site, its sources, chargers and clock."""

    hass: HomeAssistant
    freezer: FrozenDateTimeFactory
    setup_site: SetupSite
    config_dir: Path
    entry: EnergyCoordinatorConfigEntry | None = None
    sims: list[SimulatedChargePoint] = field(default_factory=list)
    battery_calls: list[dict[str, Any]] = field(default_factory=list)

    # Site ------------------------------------------------------------------------

    @property
    def site(self) -> SiteCoordinator:
        """The entry's coordinator."""
        assert self.entry is not None
        return self.entry.runtime_data.site

    async def start(
        self,
        sources: dict[str, Any] | None = None,
        limits: dict[str, Any] | None = None,
        actuators: dict[str, Any] | None = None,
        loads: Iterable[tuple[str, float, int]] = (),
    ) -> EnergyCoordinatorConfigEntry:
        """Set the site up through the config flow, then add its loads."""
        self.entry = await self.setup_site(
            site={
                "sources": {
                    key: value
                    for key, value in {
                        **SOURCES,
                        "battery_power_sign": "charging_positive",
                        **(sources or {}),
                    }.items()
                    if value is not None  # None: leave that source out
                },
                "limits": limits or {},
                "actuators": actuators or {},
            }
        )
        for entity_id, power_w, priority in loads:
            await self.add_load(entity_id, power_w, priority)
        return self.entry

    async def add_load(self, entity_id: str, power_w: float, priority: int) -> None:
        """A flexible load (a subentry; the entry reloads)."""
        assert self.entry is not None
        flows = self.hass.config_entries.subentries
        result = await flows.async_init(
            (self.entry.entry_id, "flexible_load"), context={"source": SOURCE_USER}
        )
        result = await flows.async_configure(
            result["flow_id"],
            {"entity_id": entity_id, "power_w": power_w, "priority": priority},
        )
        assert result["type"] == "create_entry", result
        await self.settle()
        assert any(load["entity_id"] == entity_id for load in self.site.loads)

    async def battery_script(self) -> None:
        """A script that records the battery commands it is run with."""

        @callback
        def record(call: ServiceCall) -> None:
            self.battery_calls.append(dict(call.data))

        self.hass.services.async_register("test", "battery", record)
        assert await async_setup_component(
            self.hass,
            "script",
            {
                "script": {
                    "battery_command": {
                        "fields": {"mode": {}, "power_w": {}},
                        "sequence": [
                            {
                                "action": "test.battery",
                                "data": {
                                    "mode": "{{ mode }}",
                                    "power_w": "{{ power_w }}",
                                },
                            }
                        ],
                    }
                }
            },
        )

    async def blueprint_automation(
        self,
        run_every: str = "/10",
        sources: list[str] | None = None,
        config_entry: str | None = None,
    ) -> None:
        """The shipped blueprint as an automation, like the owner would add it."""
        target = self.config_dir / "blueprints/automation/energy_coordinator"
        assert (target / "coordinate_energy.yaml").is_file()
        assert await async_setup_component(
            self.hass,
            "automation",
            {
                "automation": {
                    "alias": "Coordinate energy",
                    "use_blueprint": {
                        "path": "energy_coordinator/coordinate_energy.yaml",
                        "input": {
                            "run_every": run_every,
                            "source_entities": sources or [],
                            **({"config_entry": config_entry} if config_entry else {}),
                        },
                    },
                }
            },
        )
        await self.settle()
        state = self.hass.states.get("automation.coordinate_energy")
        assert state is not None
        assert state.state == "on"

    # Sources ---------------------------------------------------------------------

    async def set_number(self, name: str, value: float) -> None:
        """Set `input_number.<name>` (the templates follow)."""
        await self.hass.services.async_call(
            "input_number",
            "set_value",
            {ATTR_ENTITY_ID: f"input_number.{name}", "value": value},
            blocking=True,
        )
        await self.settle()

    async def switch(self, entity_id: str, on: bool) -> None:
        """Turn an input_boolean on or off."""
        await self.hass.services.async_call(
            "input_boolean",
            "turn_on" if on else "turn_off",
            {ATTR_ENTITY_ID: entity_id},
            blocking=True,
        )
        await self.settle()

    def grid_w(self) -> float:
        """What the grid meter shows now."""
        state = self.hass.states.get(GRID)
        assert state is not None
        return float(state.state)

    # Chargers --------------------------------------------------------------------

    async def charger(
        self,
        charger_id: str = "SIM1",
        cls: type[SimulatedChargePoint] = ChargePoint16,
        *,
        session: bool = True,
        ev: EV | None = None,
        **options: Any,
    ) -> SimulatedChargePoint:
        """A simulated charger on the site, with a vehicle charging if `session`."""
        assert self.entry is not None
        system = self.entry.runtime_data.system
        sim = cls(
            charger_id,
            f"ws://127.0.0.1:{system.port}",
            **{
                "reconnect": False,
                # Its calls must not time out while a test moves the clock.
                "response_timeout": 3600,
                "meter_interval": METER_INTERVAL,
                "heartbeat_interval": 3600,
                "step_delay": 0,
                "seed": 1,
                **options,
            },
        )
        self.sims.append(sim)
        await sim.start()
        await sim.wait_booted()
        await self.wait(
            lambda: charger_id in system.chargers
            and system.chargers[charger_id].online
            and bool(system.chargers[charger_id].connectors),
            f"{charger_id} known and online",
        )
        await self.settle()
        power = er.async_get(self.hass).async_get_entity_id(
            "sensor", DOMAIN, charger_uid(self.hass, f"{charger_id}_1_power")
        )
        assert power == f"sensor.{charger_id.lower()}_power"
        if session:
            await sim.plug_in(1, ev)
            await sim.authorize_and_start(1)
            conn = system.chargers[charger_id].connectors[1]
            await self.wait(lambda: conn.transaction is not None, "transaction")
            await self.meters()
        return sim

    async def meters(self) -> None:
        """Let the simulators report their meters until the site is quiet.

        Moves the clock by one meter interval at a time until the central
        system and HA's power sensors show what each simulator draws and offers
        and no run sent a new profile meanwhile (a report sent just before a
        profile took effect is stale; a report can trigger a run).
        """
        for _ in range(8):
            sent = self._profiles_sent()
            await self.tick(METER_INTERVAL)
            agree = await self.wait(self._meters_agree, "meters", 0.5, fail=False)
            await self.settle()
            if agree and self._meters_agree() and self._profiles_sent() == sent:
                return
        raise AssertionError(f"meters never agree: {self._debug()}")

    def _profiles_sent(self) -> int:
        return sum(
            1
            for sim in self.sims
            for action, _ in sim.received
            if action == "SetChargingProfile"
        )

    def _meters_agree(self) -> bool:
        assert self.entry is not None
        system = self.entry.runtime_data.system
        for sim in self.sims:
            charger = system.chargers[sim.charger_id]
            for number, sim_conn in sim.connectors.items():
                if sim_conn.transaction_id is None:
                    continue
                meter = charger.connectors[number].meter
                if (
                    meter.power_w is None
                    or abs(meter.power_w - sim_conn.power_w) > 0.2
                    or meter.current_offered_a is None
                    or abs(meter.current_offered_a - sim_conn.offered_current_a) > 0.02
                ):
                    return False
            state = self.hass.states.get(f"sensor.{sim.charger_id.lower()}_power")
            drawn = sum(c.power_w for c in sim.connectors.values())
            try:
                shown = float(state.state) if state is not None else None
            except ValueError:
                shown = None
            if shown is None or abs(shown - drawn) > 0.2:
                return False
        return True

    # Time ------------------------------------------------------------------------

    async def tick(self, seconds: float) -> None:
        """Move the clock and run what falls due."""
        self.freezer.tick(timedelta(seconds=seconds))
        async_fire_time_changed(self.hass)
        await self.settle()

    async def advance(self, seconds: float, step: float = 10.0) -> None:
        """Move the clock in steps, the meters reporting after each."""
        left = seconds
        while left > 1e-9:
            await self.meters_after(min(step, left))
            left -= min(step, left)

    async def meters_after(self, seconds: float) -> None:
        """Move the clock by `seconds` (the last of them with a meter report)."""
        if seconds > METER_INTERVAL:
            await self.tick(seconds - METER_INTERVAL)
        await self.meters()

    async def next_run(self, every: int = 10) -> None:
        """Move the clock just past the next `/every` second of the time trigger."""
        now = dt_util.utcnow()
        base = now.replace(microsecond=0) - timedelta(seconds=now.second % every)
        target = base + timedelta(seconds=every, milliseconds=600)
        await self.tick((target - now).total_seconds())

    async def settle(self) -> None:
        """Run what HA has queued, including work that queues more work."""
        for _ in range(4):
            await asyncio.sleep(0)
            await self.hass.async_block_till_done(wait_background_tasks=True)

    async def runs_until(
        self, predicate: Callable[[], bool], limit_s: float, every: int = 10
    ) -> float:
        """Let the time trigger run until `predicate` holds; the seconds taken."""
        began = dt_util.utcnow()
        while (elapsed := (dt_util.utcnow() - began).total_seconds()) < limit_s:
            await self.next_run(every)
            await self.meters()
            if predicate():
                return (dt_util.utcnow() - began).total_seconds()
        raise AssertionError(f"not reached in {elapsed:.0f} s: {self._debug()}")

    async def wait(
        self,
        predicate: Callable[[], bool],
        what: str,
        seconds: float = 5.0,
        fail: bool = True,
    ) -> bool:
        """Wait (real time) for frames to arrive until `predicate` holds."""
        for _ in range(int(seconds / 0.002)):
            if predicate():
                return True
            await self.hass.async_add_executor_job(time.sleep, 0.002)
        if predicate():
            return True
        if fail:
            raise AssertionError(f"timed out waiting for {what}: {self._debug()}")
        return False

    def _debug(self) -> str:
        assert self.entry is not None
        system = self.entry.runtime_data.system
        parts = []
        for sim in self.sims:
            charger = system.chargers.get(sim.charger_id)
            for number, sim_conn in sim.connectors.items():
                meter = charger.connectors[number].meter if charger else None
                parts.append(
                    f"{sim.charger_id}/{number}: sim {sim_conn.power_w} W "
                    f"offered {sim_conn.offered_current_a} A; csms {meter}; "
                    f"received {sim.received[-3:]}"
                )
        return "; ".join(parts)

    async def close(self) -> None:
        """Stop the simulators and the automations' timers."""
        for sim in self.sims:
            await sim.stop()
        if self.hass.services.has_service("automation", "turn_off"):
            await self.hass.services.async_call(
                "automation", "turn_off", {ATTR_ENTITY_ID: "all"}, blocking=True
            )


@pytest.fixture
async def site_harness(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    setup_site: SetupSite,
    tmp_path: Path,
) -> AsyncIterator[SiteHarness]:
    """A harness on a frozen clock, with its own config folder and sources."""
    freezer.move_to(START)
    # Moving the clock inside a step is not a slow step.
    hass.loop.slow_callback_duration = 3600
    hass.config.config_dir = str(tmp_path)
    await setup_sources(hass)
    harness = SiteHarness(hass, freezer, setup_site, tmp_path)
    yield harness
    await harness.close()
