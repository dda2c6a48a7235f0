"""Story 2, morning sun: two cars in solar mode share the surplus under the grid limit.

A real `hass` (with the automation editor's API), the site added through its
config flow with the household's sensors, the shipped *Coordinate energy*
blueprint as an automation (every 5 s and on a grid meter change), one OCPP 1.6J
and one OCPP 2.0.1 simulated charger over real websockets, each with a car
plugged in and a session started in the default `pv` mode, and the household
feed (`simulator.household`) writing PV, house and grid (house + what the
chargers draw - PV) from 06:45 on, at 180x speed, with a 20 kW array (its
clouds and appliances from a fixed seed). The site's grid connection is 3 x 16 A;
the chargers may give 32 A each.

What the owner relies on, checked on the chargers' side of the cable (what the
simulated cars draw, as their MeterValues report it) and in Home Assistant:
- at dawn nothing charges (no surplus) and the status says why;
- a car starts only after the surplus has covered its minimum power for the
  enable delay (the options' *timing* step sets it to 10 s where the site has
  one; otherwise the default 60 s applies);
- both cars end up charging and share the surplus fairly: their currents within
  one current step of each other;
- the grid limit holds all along: on every line the two chargers' currents sum
  to no more than 16 A, and the limit, not the surplus, decides at the end (the
  coordinator's status says `ev.grid_limit.reduced`);
- Home Assistant shows the power the chargers report; the automation ran.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import aiohttp
import pytest
from hass_process import DOMAIN, HassProcess, free_port

from simulator import EV, ChargePoint16, ChargePoint201, SimulatedChargePoint
from simulator.household import Household, HouseholdFeed

from .conftest import MakeHass
from .observe import number, wait_for
from .stories import (
    blueprint_automation,
    loadpoint_entities,
    options_menu,
    options_step,
)

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]

GRID_LIMIT_A = 16.0
CHARGER_MAX_A = 32.0
VOLTAGE = 230.0
#: The simulators' current step (the coordinator's default for a charger).
STEP_A = 0.1
ENABLE_DELAY_S = 10.0
DEFAULT_ENABLE_DELAY_S = 60.0
SOURCES = {
    "pv_power_entity": "sensor.demo_pv_power",
    "grid_power_entity": "sensor.demo_grid_power",
    "house_power_entity": "sensor.demo_house_power",
}


@dataclass(frozen=True)
class Moment:
    """The two chargers' currents per line (what their cars draw) at one time."""

    at: float
    pv_w: float
    house_w: float
    lines: tuple[tuple[float, float, float], tuple[float, float, float]]
    limits: tuple[float | None, float | None]

    @property
    def currents(self) -> tuple[float, float]:
        return (max(self.lines[0]), max(self.lines[1]))

    @property
    def both_charging(self) -> bool:
        return all(current > 0 for current in self.currents)


def _lines(cp: SimulatedChargePoint) -> tuple[float, float, float]:
    connector = cp.connector(1)
    return tuple(  # type: ignore[return-value]
        connector.current_a if n <= connector.phases_in_use else 0.0 for n in (1, 2, 3)
    )


async def _sample(
    chargers: tuple[SimulatedChargePoint, SimulatedChargePoint],
    home: Household,
    moments: list[Moment],
) -> None:
    while True:
        moments.append(
            Moment(
                time.monotonic(),
                home.pv_w,
                home.house_w,
                (_lines(chargers[0]), _lines(chargers[1])),
                (chargers[0].connector(1).limit_a, chargers[1].connector(1).limit_a),
            )
        )
        await asyncio.sleep(0.1)


async def test_morning_sun_two_cars_share_the_surplus(make_hass: MakeHass) -> None:
    begun = time.monotonic()
    ha: HassProcess = await make_hass(ui=True)
    print(f"hass up after {time.monotonic() - begun:.1f} s")
    assert ha.token is not None
    # Seed 91 at 180x has no appliance spike in the first 90 steps: PV rises
    # from 0.3 kW (06:48) past 2.3 kW (07:30) to 13 kW (11:00) with clouds.
    home = Household(pv_peak_w=20_000, battery_max_w=0, seed=91)
    dawn = datetime.now().replace(hour=6, minute=45, second=0, microsecond=0)
    feed = HouseholdFeed(ha.url, ha.token, home, speed=180, start=dawn, interval_s=1)
    ocpp_port = free_port()
    async with aiohttp.ClientSession() as session:
        await feed.write_states(session)
    entry = await ha.add_integration(
        site_name="Morning",
        ocpp_port=ocpp_port,
        ocpp_host="127.0.0.1",
        charger_policy="accept",
        steps={
            "sources": SOURCES,
            "limits": {
                "grid_limit": GRID_LIMIT_A,
                "grid_limit_unit": "ampere",
                "site_phases": "3",
            },
            # The blueprint's automation runs the coordination, not the site.
            "actuators": {"loop_interval": 0},
        },
    )
    entry_id = entry["entry_id"]
    enable_delay = DEFAULT_ENABLE_DELAY_S
    if "timing" in await options_menu(ha, entry_id):
        await options_step(ha, entry_id, "timing", {"enable_delay": ENABLE_DELAY_S})
        enable_delay = ENABLE_DELAY_S
        await wait_for(
            lambda: _loaded(ha, entry_id), 30, "the site to load its new options"
        )
    automation = await blueprint_automation(
        ha,
        "morning_sun",
        {
            "run_every": "/5",
            "source_entities": [SOURCES["grid_power_entity"]],
            "config_entry": entry_id,
        },
    )

    url = f"ws://127.0.0.1:{ocpp_port}"
    common: dict[str, Any] = {"meter_interval": 1.0, "reconnect": False}
    chargers = (
        ChargePoint16("morning-16", url, **common),
        ChargePoint201("morning-201", url, **common),
    )
    moments: list[Moment] = []
    codes_seen: list[tuple[float, list[str]]] = []
    stop = asyncio.Event()
    tasks: list[asyncio.Task[Any]] = []
    try:
        for cp in chargers:
            await cp.start()
            await cp.wait_booted(15)
            assert cp.registration_status == "Accepted"
        entities = [
            await wait_for(
                lambda cid=cp.charger_id: _with_mode(ha, entry_id, cid),
                20,
                f"{cp.charger_id}'s loadpoint entities",
            )
            for cp in chargers
        ]
        # Solar only (the default, chosen anyway), and the chargers' full 32 A,
        # so two cars could take twice what the connection allows.
        modes = [e["charge_mode"] for e in entities]
        await ha.call_service(
            "select", "select_option", {"entity_id": modes, "option": "pv"}
        )
        maxima = [e["max_current"] for e in entities]
        await ha.call_service(
            "number", "set_value", {"entity_id": maxima, "value": CHARGER_MAX_A}
        )
        feed.ev_power_entities = [e["charger_power"] for e in entities]
        # Dawn: the feed starts, the cars arrive.
        tasks.append(asyncio.create_task(feed.run(stop)))
        for cp in chargers:
            await cp.plug_in(1, EV(capacity_kwh=60, soc=30, target_soc=100))
            assert await cp.authorize_and_start(1, "MORNING1") is not None

        # No surplus yet: nothing charges, and the status says why.
        async def waiting() -> dict[str, Any] | None:
            status = await _status(ha, entry_id)
            idle = all(cp.connector(1).current_a == 0 for cp in chargers)
            codes = status["attributes"].get("codes") or []
            return status if idle and "ev.pv.no_surplus" in codes else None

        await wait_for(waiting, 10, "both cars waiting for surplus")
        tasks.append(asyncio.create_task(_sample(chargers, home, moments)))
        tasks.append(asyncio.create_task(_watch_codes(ha, entry_id, codes_seen)))
        started = time.monotonic()
        print(f"sampling from {started - begun:.1f} s")

        def story_told() -> bool:
            recent = [m for m in moments if m.at >= time.monotonic() - 8]
            both = len(recent) > 40 and all(m.both_charging for m in recent)
            limited = any(
                "ev.grid_limit.reduced" in codes for at, codes in codes_seen[-3:]
            )
            return both and limited

        await wait_for(story_told, 120, "both cars charging under the grid limit")

        # Home Assistant shows the power the chargers report.
        async def shown() -> bool:
            states = {s["entity_id"]: s for s in await ha.states("sensor.")}
            return all(
                number(states[ents["charger_power"]]["state"])
                == pytest.approx(cp.connector(1).power_w, abs=1.0)
                for cp, ents in zip(chargers, entities, strict=True)
            )

        await wait_for(shown, 5, "HA to show the chargers' power")
    finally:
        stop.set()
        for task in tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for cp in chargers:
            await cp.stop()
        print(_timeline(moments, started, codes_seen))
    # The grid limit held on every line, all along.
    over = [
        (round(m.at - started, 1), line + 1, m.lines[0][line] + m.lines[1][line])
        for m in moments
        for line in range(3)
        if m.lines[0][line] + m.lines[1][line] > GRID_LIMIT_A + 0.01
    ]
    assert not over, over[:10]

    # Each car started only after the surplus had covered its minimum (6 A on
    # one phase) for the enable delay: the surplus the site saw can only lag
    # the household's, never lead it.
    covered = next(m for m in moments if m.pv_w - m.house_w >= 6 * VOLTAGE)
    for index, cp in enumerate(chargers):
        first = next(m for m in moments if m.currents[index] > 0)
        assert first.at - covered.at >= enable_delay - 1.0, (cp.charger_id, first)

    # Fair sharing: while both charge, their currents (each settled for a
    # second) are within one current step of each other.
    both = [m for m in moments if m.both_charging]
    settled = [
        m
        for m in both
        if all(
            p.limits == m.limits and p.lines == m.lines
            for p in moments
            if m.at - 1.0 <= p.at <= m.at
        )
    ]
    assert len(settled) > 20, len(settled)
    unfair = [
        m.currents
        for m in settled
        if abs(m.currents[0] - m.currents[1]) > STEP_A + 0.011
    ]
    assert not unfair, unfair[:10]
    # At the end the limit decides, not the chargers' 32 A: each at least its
    # minimum, together exactly what the line the house may load leaves.
    final = settled[-1]
    assert all(6.0 - 0.01 <= current < CHARGER_MAX_A for current in final.currents)

    states = {s["entity_id"]: s for s in await ha.states()}
    assert states[automation]["attributes"].get("last_triggered")


async def _watch_codes(
    ha: HassProcess, entry_id: str, seen: list[tuple[float, list[str]]]
) -> None:
    while True:
        with contextlib.suppress(Exception):
            status = await _status(ha, entry_id)
            seen.append((time.monotonic(), list(status["attributes"]["codes"])))
        await asyncio.sleep(1)


def _timeline(
    moments: list[Moment],
    started: float,
    codes_seen: list[tuple[float, list[str]]],
) -> str:
    """Every second: PV, house and the two cars' currents (printed on failure)."""
    lines, last = [], -1
    for m in moments:
        second = int(m.at - started)
        if second != last:
            last = second
            lines.append(
                f"{second:4d} s PV {m.pv_w:6.0f} W house {m.house_w:5.0f} W "
                f"cars {m.lines[0]} {m.lines[1]} limits {m.limits} "
                + " ".join(next((c for at, c in codes_seen if at >= m.at), []))
            )
    return "\n".join(lines)


async def _loaded(ha: HassProcess, entry_id: str) -> bool:
    entry = await ha.config_entry(entry_id)
    return entry is not None and entry["state"] == "loaded"


async def _with_mode(
    ha: HassProcess, entry_id: str, charger_id: str
) -> dict[str, str] | None:
    found = await loadpoint_entities(ha, entry_id, charger_id)
    return found if "charge_mode" in found and "charger_power" in found else None


async def _status(ha: HassProcess, entry_id: str) -> dict[str, Any]:
    entities = await ha.ws_command("config/entity_registry/list")
    (entity_id,) = [
        e["entity_id"]
        for e in entities
        if e["platform"] == DOMAIN
        and e["unique_id"] == f"{entry_id}_coordinator_status"
    ]
    return dict(await ha.get(f"/api/states/{entity_id}"))
