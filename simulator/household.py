"""A household for the demo: PV with clouds, a house load profile and a home battery.

Owns `Household`, a deterministic model of one day (time passed in): PV power follows
a bell curve between sunrise and sunset with passing clouds, the house load follows
a typical daily profile with a few appliance spikes, and the home battery charges
from surplus and covers deficits (or follows a command: hold, charge, discharge).
Grid power closes the balance: house + EV chargers + battery charging - PV.

Like a real home's meters, it also counts energy: grid import and export, solar
production, battery charge and discharge, each a register in Wh that only grows by
the power shown times the simulated time that power lasted.

`HouseholdFeed` drives Home Assistant with it: it writes the source entities (power
and energy meters) over HA's REST API on an accelerated clock, reads the chargers'
power and the coordinator's battery command back, and keeps going until stopped.
Its clock is the demo's one clock: simulated time = real time elapsed x `speed`,
measured (not counted in steps), so the household's energy, the chargers' simulated
energy (the simulator's `--speed`) and the site's delays (scaled by the demo) all
run on it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import random
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import aiohttp

_LOGGER = logging.getLogger(__name__)

#: Source entities the feed writes, with their HA attributes.
ENTITIES: dict[str, dict[str, Any]] = {
    "sensor.demo_pv_power": {
        "friendly_name": "Demo PV power",
        "unit_of_measurement": "W",
        "device_class": "power",
        "state_class": "measurement",
    },
    "sensor.demo_grid_power": {
        "friendly_name": "Demo grid power",
        "unit_of_measurement": "W",
        "device_class": "power",
        "state_class": "measurement",
    },
    "sensor.demo_house_power": {
        "friendly_name": "Demo house consumption",
        "unit_of_measurement": "W",
        "device_class": "power",
        "state_class": "measurement",
    },
    "sensor.demo_battery_soc": {
        "friendly_name": "Demo battery state of charge",
        "unit_of_measurement": "%",
        "device_class": "battery",
        "state_class": "measurement",
    },
    "sensor.demo_battery_power": {
        "friendly_name": "Demo battery power",
        "unit_of_measurement": "W",
        "device_class": "power",
        "state_class": "measurement",
    },
}


def _energy(name: str) -> dict[str, Any]:
    return {
        "friendly_name": name,
        "unit_of_measurement": "kWh",
        "device_class": "energy",
        "state_class": "total_increasing",
    }


#: The household's energy meters (kWh, never decreasing), by `Household` register.
ENERGY_ENTITIES: dict[str, tuple[str, dict[str, Any]]] = {
    "grid_import_wh": (
        "sensor.demo_grid_import_energy",
        _energy("Demo grid import energy"),
    ),
    "grid_export_wh": (
        "sensor.demo_grid_export_energy",
        _energy("Demo grid export energy"),
    ),
    "pv_wh": ("sensor.demo_solar_energy", _energy("Demo solar production")),
    "battery_charge_wh": (
        "sensor.demo_battery_charge_energy",
        _energy("Demo battery energy charged"),
    ),
    "battery_discharge_wh": (
        "sensor.demo_battery_discharge_energy",
        _energy("Demo battery energy discharged"),
    ),
}
ENTITIES |= dict(ENERGY_ENTITIES.values())

#: Config-flow answers that point the site at the entities above.
SOURCES = {
    "pv_power_entity": "sensor.demo_pv_power",
    "pv_energy_entity": "sensor.demo_solar_energy",
    "grid_power_entity": "sensor.demo_grid_power",
    "house_power_entity": "sensor.demo_house_power",
    "battery_soc_entity": "sensor.demo_battery_soc",
    "battery_power_entity": "sensor.demo_battery_power",
    "battery_power_sign": "charging_positive",
}

# Typical household load (W) per hour of the day, before appliance spikes.
_LOAD_PROFILE = [
    250, 220, 200, 200, 210, 260, 450, 650, 520, 400, 380, 420,
    520, 450, 380, 400, 520, 800, 1100, 950, 800, 650, 450, 320,
]  # fmt: skip


@dataclass
class Household:
    """One simulated home. All powers in W, energy in kWh."""

    pv_peak_w: float = 9000.0
    sunrise_h: float = 6.5
    sunset_h: float = 20.5
    battery_capacity_kwh: float = 10.0
    battery_max_w: float = 5000.0
    battery_soc_pct: float = 45.0
    seed: int = 7
    pv_w: float = 0.0
    house_w: float = 0.0
    battery_w: float = 0.0  # positive = charging
    grid_w: float = 0.0  # positive = import
    # Energy registers (Wh): each step adds its powers times its duration.
    grid_import_wh: float = 0.0
    grid_export_wh: float = 0.0
    pv_wh: float = 0.0
    battery_charge_wh: float = 0.0
    battery_discharge_wh: float = 0.0
    _rng: random.Random = field(init=False)
    _cloud: float = field(init=False, default=1.0)
    _spike_until: float = field(init=False, default=-1.0)
    _spike_w: float = field(init=False, default=0.0)

    def __post_init__(self) -> None:
        """Seed the weather and appliances."""
        self._rng = random.Random(self.seed)

    def pv_clear_sky(self, hour: float) -> float:
        """PV power without clouds at an hour of the day."""
        if not self.sunrise_h < hour < self.sunset_h:
            return 0.0
        x = (hour - self.sunrise_h) / (self.sunset_h - self.sunrise_h)
        return float(self.pv_peak_w * math.sin(math.pi * x) ** 1.5)

    def step(
        self,
        when: datetime,
        dt_s: float,
        ev_w: float,
        battery_mode: str = "auto",
        battery_command_w: float = 0.0,
    ) -> None:
        """Advance by `dt_s` seconds of simulated time ending at `when`.

        The powers computed are those of the step; the energy registers (and the
        battery's SoC) grow by them times `dt_s`.
        """
        hour = when.hour + when.minute / 60 + when.second / 3600
        # Clouds drift: a slow random walk of the clear-sky share.
        self._cloud += self._rng.gauss(0, 0.04) * math.sqrt(max(dt_s, 1) / 60)
        self._cloud = min(1.0, max(0.25, self._cloud + 0.01 * (0.85 - self._cloud)))
        self.pv_w = round(self.pv_clear_sky(hour) * self._cloud)
        # House: the profile, a little noise, and sometimes an appliance.
        base = _LOAD_PROFILE[int(hour) % 24]
        if hour > self._spike_until and self._rng.random() < dt_s / 3600 * 1.5:
            self._spike_w = self._rng.choice([1200.0, 2000.0, 2500.0])
            self._spike_until = hour + self._rng.uniform(0.2, 1.0)
        spike = self._spike_w if hour <= self._spike_until else 0.0
        self.house_w = round(base * self._rng.uniform(0.9, 1.1) + spike)
        self.battery_w = self._battery_power(ev_w, battery_mode, battery_command_w)
        energy_kwh = self.battery_w * dt_s / 3_600_000
        self.battery_soc_pct = min(
            100.0,
            max(
                0.0, self.battery_soc_pct + 100 * energy_kwh / self.battery_capacity_kwh
            ),
        )
        self.grid_w = round(self.house_w + ev_w + self.battery_w - self.pv_w)
        hours = max(dt_s, 0.0) / 3600
        self.grid_import_wh += max(self.grid_w, 0) * hours
        self.grid_export_wh += max(-self.grid_w, 0) * hours
        self.pv_wh += self.pv_w * hours
        self.battery_charge_wh += max(self.battery_w, 0) * hours
        self.battery_discharge_wh += max(-self.battery_w, 0) * hours

    def _battery_power(self, ev_w: float, mode: str, command_w: float) -> float:
        if mode == "hold":
            wanted = 0.0
        elif mode == "charge":
            wanted = abs(command_w) or self.battery_max_w
        elif mode == "discharge":
            wanted = -(abs(command_w) or self.battery_max_w)
        else:  # auto: self-consumption
            wanted = self.pv_w - self.house_w - ev_w
        wanted = max(-self.battery_max_w, min(self.battery_max_w, wanted))
        if wanted > 0 and self.battery_soc_pct >= 100:
            return 0.0
        if wanted < 0 and self.battery_soc_pct <= 5:
            return 0.0
        return float(round(wanted))


class HouseholdFeed:
    """Writes a `Household` into HA over REST on an accelerated clock."""

    def __init__(
        self,
        ha_url: str,
        token: str,
        household: Household | None = None,
        speed: float = 60.0,
        start: datetime | None = None,
        interval_s: float = 2.0,
    ) -> None:
        """`speed` simulated seconds pass per real second."""
        self.ha_url = ha_url.rstrip("/")
        self.household = household or Household()
        self.speed = speed
        self.clock = start or datetime.now().replace(
            hour=9, minute=0, second=0, microsecond=0
        )
        self.interval_s = interval_s
        self._headers = {"Authorization": f"Bearer {token}"}
        #: Entities the demo finds in HA's registry after the site is set up.
        self.ev_power_entities: list[str] = []
        self.battery_command_entity: str | None = None
        self.battery_command_power_entity: str | None = None

    async def write_states(self, session: aiohttp.ClientSession) -> None:
        """Publish the current values of every source entity."""
        home = self.household
        values = {
            "sensor.demo_pv_power": home.pv_w,
            "sensor.demo_grid_power": home.grid_w,
            "sensor.demo_house_power": home.house_w,
            "sensor.demo_battery_soc": round(home.battery_soc_pct, 1),
            "sensor.demo_battery_power": home.battery_w,
        } | {
            entity_id: round(getattr(home, register) / 1000, 3)
            for register, (entity_id, _) in ENERGY_ENTITIES.items()
        }
        for entity_id, value in values.items():
            async with session.post(
                f"{self.ha_url}/api/states/{entity_id}",
                json={"state": str(value), "attributes": ENTITIES[entity_id]},
                headers=self._headers,
            ) as resp:
                resp.raise_for_status()

    async def _ev_power_and_command(
        self, session: aiohttp.ClientSession
    ) -> tuple[float, str, float]:
        """What the chargers draw now and the battery command, read from HA."""
        async with session.get(
            f"{self.ha_url}/api/states", headers=self._headers
        ) as resp:
            resp.raise_for_status()
            states = {s["entity_id"]: s for s in await resp.json()}
        ev_w = 0.0
        for entity_id in self.ev_power_entities:
            state = states.get(entity_id)
            if state is not None:
                value = as_number(state["state"])
                unit = state["attributes"].get("unit_of_measurement")
                ev_w += value * 1000 if unit == "kW" else value
        mode, command_w = "auto", 0.0
        if self.battery_command_entity in states:
            mode = states[self.battery_command_entity]["state"]
        if self.battery_command_power_entity in states:
            command_w = as_number(states[self.battery_command_power_entity]["state"])
        return ev_w, mode, command_w

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Step the household and publish it until `stop` is set."""
        stop = stop or asyncio.Event()
        timeout = aiohttp.ClientTimeout(total=10)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            await self.write_states(session)
            last = time.monotonic()
            while not stop.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.interval_s)
                now = time.monotonic()
                dt_s, last = (now - last) * self.speed, now
                self.clock += timedelta(seconds=dt_s)
                try:
                    ev_w, mode, command_w = await self._ev_power_and_command(session)
                    self.household.step(self.clock, dt_s, ev_w, mode, command_w)
                    await self.write_states(session)
                except (aiohttp.ClientError, TimeoutError) as err:
                    _LOGGER.info("Household feed: %s", err)


def as_number(value: Any) -> float:
    """A state as a number; 0 when it is not one (unknown, unavailable)."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0
