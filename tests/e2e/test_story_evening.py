"""Story 3, evening plan: a car plugged in at 22:00 with 80 % by 07:00 charges in the
cheap hours of the price curve and reaches its target, on an accelerated clock.

Everything runs on one fake clock (libfaketime, `stories.SharedFakeClock`): a
real `hass` and a simulated OCPP 1.6J charger in its own process
(`story_charger.py`) both start at 20:30 local time (Europe/Amsterdam) on
3 December and run at 200x, so the night passes in about a minute and the
charger's energy, its timestamps and the profiles' schedules follow the clock
Home Assistant plans on. The household feed writes the grid meter (house + what
the charger draws) on that clock's pace.

The owner's steps, over Home Assistant's public APIs: a price entity with
Nord Pool style attributes (`raw_today` / `raw_tomorrow`: 35 c/kWh 22-23 h,
9 c/kWh 23-02 h, 21 c/kWh 02-07 h, 30 c/kWh otherwise), the site added through
its config flow (its own loop every minute), the *Planning* options pointing at
the price entity, and on the charger's loadpoint: charge mode `plan`, 80 %,
07:00 tomorrow. At 22:00 a 60 kWh car at 50 % plugs in (on a slow machine the
set-up may take longer than the 1 h 30 min of fake time it has; the car then
plugs in when the site is ready, which must still be in the dear hour before
23:00).

Checked: the plan (`get_plan`) meets the goal by 07:00, every slot it charges
in is a cheap one and it expects 80 %; `explain_plan` says why; the car draws
power only in the cheap hours (apart from the moments between plugging in and
the site's first decision, when a charger without a limit gives the car all it
has); it reaches 80 % (and stops there) before 07:00; the session's energy in
Home Assistant is what the car took.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from hass_process import DOMAIN, HassProcess, free_port

from custom_components.energy_coordinator.site.planning import (
    EV_CHARGE_EFFICIENCY,
)
from simulator.household import SOURCES as HOUSEHOLD_SOURCES
from simulator.household import Household, HouseholdFeed

from .observe import number, wait_for
from .stories import ha_now, hass_on_fake_clock, loadpoint_entities, options_step

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]

TZ = ZoneInfo("Europe/Amsterdam")
DAY = datetime(2026, 12, 3, tzinfo=TZ)  # a Thursday (CET, UTC+1)
START = datetime(2026, 12, 3, 19, 30, tzinfo=UTC)  # 20:30 local
RATE = 200
PLUG_AT = DAY.replace(hour=22)
DEADLINE = DAY.replace(hour=7) + timedelta(days=1)
CHEAP = (DAY.replace(hour=23), DAY.replace(hour=2) + timedelta(days=1))
#: c/kWh per local hour from midnight of DAY, for two days.
PRICES = [30.0] * 22 + [35.0] + [9.0] * 3 + [21.0] * 5 + [30.0] * 17
PRICE = "sensor.electricity_price"
CHARGER_ID = "evening-16"
LP = f"{CHARGER_ID}/1"
SOC_START, CAPACITY_KWH, TARGET = 50.0, 60.0, 80.0
#: Where the charger draws before the site first limits it (a minute or two).
FIRST_DECISION = timedelta(minutes=3)


def nord_pool_attributes() -> dict[str, Any]:
    """`raw_today` / `raw_tomorrow` as the Nord Pool custom component has them."""
    entries = [
        {
            "start": (DAY + timedelta(hours=h)).isoformat(),
            "end": (DAY + timedelta(hours=h + 1)).isoformat(),
            "value": price,
        }
        for h, price in enumerate(PRICES)
    ]
    return {
        "unit_of_measurement": "c/kWh",
        "currency": "EUR",
        "friendly_name": "Electricity price",
        "raw_today": entries[:24],
        "raw_tomorrow": entries[24:],
    }


def price_at(moment: datetime) -> float:
    return PRICES[int((moment - DAY).total_seconds() // 3600)]


class ChargerProcess:
    """`story_charger.py` on the fake clock; its JSON lines as they come."""

    def __init__(self, url: str, env: dict[str, str]) -> None:
        script = Path(__file__).with_name("story_charger.py")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                str(script),
                url,
                CHARGER_ID,
                PLUG_AT.isoformat(),
                str(SOC_START),
                str(CAPACITY_KWH),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, **env, "PYTHONUNBUFFERED": "1"},
        )
        self.lines: list[dict[str, Any]] = []
        self._task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.proc.stdout is not None
        while True:
            line = await asyncio.to_thread(self.proc.stdout.readline)
            if not line:
                return
            with contextlib.suppress(json.JSONDecodeError):
                self.lines.append(json.loads(line))

    def first(self, kind: str) -> dict[str, Any] | None:
        return next((line for line in self.lines if line["kind"] == kind), None)

    def states(self) -> list[dict[str, Any]]:
        return [line for line in self.lines if line["kind"] == "state"]

    def send(self, text: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(text + "\n")
        self.proc.stdin.flush()

    async def close(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(OSError):
                self.send("stop")
                assert self.proc.stdin is not None
                self.proc.stdin.close()
            for _ in range(50):
                if self.proc.poll() is not None:
                    break
                await asyncio.sleep(0.1)
            else:
                self.proc.kill()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(self._task, 5)


async def test_evening_plan_charges_in_the_cheap_hours(
    tmp_path: Path, socket_enabled: None
) -> None:
    async with hass_on_fake_clock(tmp_path, START, RATE) as (ha, clock):
        assert ha.token is not None
        await ha.post(
            f"/api/states/{PRICE}",
            json={"state": "30.0", "attributes": nord_pool_attributes()},
        )
        # The household at night, on the fake clock's pace (no sun, no battery).
        feed = HouseholdFeed(
            ha.url,
            ha.token,
            Household(battery_max_w=0, seed=5),
            speed=RATE,
            start=(await ha_now(ha)).replace(tzinfo=None),
            interval_s=0.5,
        )
        async with aiohttp.ClientSession() as session:
            await feed.write_states(session)
        ocpp_port = free_port()
        entry = await ha.add_integration(
            site_name="Evening",
            ocpp_port=ocpp_port,
            ocpp_host="127.0.0.1",
            charger_policy="accept",
            steps={
                "sources": {
                    key: HOUSEHOLD_SOURCES[key]
                    for key in (
                        "pv_power_entity",
                        "grid_power_entity",
                        "house_power_entity",
                    )
                },
                "limits": {
                    "grid_limit": 25,
                    "grid_limit_unit": "ampere",
                    "site_phases": "3",
                },
                "actuators": {"loop_interval": 60},
            },
        )
        entry_id = entry["entry_id"]
        await options_step(
            ha,
            entry_id,
            "planning",
            {
                "price_source": "entity",
                "price_entity": PRICE,
                "load_forecast": "flat",
                "flat_load_kw": 0.5,
            },
        )
        stop = asyncio.Event()
        feed_task = asyncio.create_task(feed.run(stop))
        charger = ChargerProcess(f"ws://127.0.0.1:{ocpp_port}", clock.env)
        try:
            await wait_for(lambda: charger.first("booted"), 30, "the charger to boot")
            entities = await wait_for(
                lambda: _loadpoint(ha, entry_id, ("charge_mode", "charger_power")),
                20,
                "the loadpoint's entities",
            )
            feed.ev_power_entities = [entities["charger_power"]]
            await ha.call_service(
                "select",
                "select_option",
                {"entity_id": entities["charge_mode"], "option": "plan"},
            )
            # What charging to a target needs comes with the plan mode.
            entities = await wait_for(
                lambda: _loadpoint(ha, entry_id, ("target_soc", "target_time")),
                20,
                "the loadpoint's target entities",
            )
            await ha.call_service(
                "number",
                "set_value",
                {"entity_id": entities["target_soc"], "value": TARGET},
            )
            await ha.call_service(
                "datetime",
                "set_value",
                {
                    "entity_id": entities["target_time"],
                    "datetime": DEADLINE.strftime("%Y-%m-%d %H:%M:%S"),
                },
            )
            ready_at = await ha_now(ha)
            print(f"site set up at {ready_at:%H:%M} on the fake clock")
            charger.send("go")
            plugged = await wait_for(lambda: charger.first("plugged"), 30, "22:00")
            plugged_at = datetime.fromisoformat(plugged["at"])
            latest = CHEAP[0] - timedelta(minutes=15)
            assert PLUG_AT - timedelta(minutes=1) <= plugged_at < latest, (
                f"plugged in at {plugged_at}"
            )

            # The plan once the car is in (a re-plan on plug-in, SoC known).
            async def plan_with_goal() -> dict[str, Any] | None:
                plan = await _service(ha, "get_plan", {"config_entry_id": entry_id})
                goals = [g for g in plan.get("goals", []) if g["id"] == LP]
                if goals and goals[0]["soc_source"] == "charger" and goals[0]["met"]:
                    return plan
                return None

            plan = await wait_for(plan_with_goal, 20, "a plan for the car")
            plan_seen_at = await ha_now(ha)
            why = await _service(ha, "explain_plan", {"config_entry_id": entry_id})

            # The night.
            def done() -> bool:
                """02:00 (the cheap hours are over), or half an hour at 80 %."""
                states = charger.states()
                if not states:
                    return False
                at = datetime.fromisoformat(states[-1]["at"])
                full = next((s for s in states if s["soc"] >= TARGET - 0.01), None)
                if full is not None:
                    since = at - datetime.fromisoformat(full["at"])
                    if since >= timedelta(minutes=30):
                        return True
                return at >= CHEAP[1]

            await wait_for(done, 120, "the night to pass")
            states_ha = {s["entity_id"]: s for s in await ha.states("sensor.")}
            session_kwh = number(states_ha[entities["charger_session_energy"]]["state"])
        finally:
            stop.set()
            feed_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await feed_task
            await charger.close()

    night = charger.states()
    print(_timeline(night))
    print(json.dumps(plan["goals"]), json.dumps(why))

    # The plan: 80 % by 07:00, charging only in the cheap hours.
    (goal,) = [g for g in plan["goals"] if g["id"] == LP]
    assert goal["met"] is True
    assert datetime.fromisoformat(goal["deadline"]) == DEADLINE
    assert goal["planned_soc_pct"] >= TARGET - 0.5
    # AC energy: what the battery needs, over the charging efficiency.
    battery_kwh = (TARGET - SOC_START) / 100 * CAPACITY_KWH
    expected_need = battery_kwh / EV_CHARGE_EFFICIENCY
    assert goal["need_kwh"] == pytest.approx(expected_need, abs=0.2)
    charging = [
        s
        for s in plan["segments"]
        if s["ev_kw"].get(LP, 0) > 0 and datetime.fromisoformat(s["end"]) > plan_seen_at
    ]
    assert charging, plan["segments"]
    for segment in charging:
        start = max(datetime.fromisoformat(segment["start"]), plan_seen_at)
        end = datetime.fromisoformat(segment["end"])
        assert CHEAP[0] <= start and end <= CHEAP[1], segment
    codes = [r["code"] for r in why["reasons"]]
    assert "ev_charge_cheapest" in codes, why

    # What the car drew, minute by minute on the charger's clock.
    drew = [s for s in night if s["power_w"] > 0]
    assert drew, "the car never charged"
    outside = [
        s
        for s in drew
        if not CHEAP[0] <= datetime.fromisoformat(s["at"]) < CHEAP[1]
        and datetime.fromisoformat(s["at"]) - plugged_at > FIRST_DECISION
    ]
    assert not outside, outside[:5]
    assert any(price_at(datetime.fromisoformat(s["at"])) == 9.0 for s in drew)
    # 80 % well before 07:00, and no more than that.
    reached = next(s for s in night if s["soc"] >= TARGET - 0.01)
    assert datetime.fromisoformat(reached["at"]) < DEADLINE
    assert night[-1]["soc"] <= TARGET + 1.0
    assert night[-1]["power_w"] == 0
    # Home Assistant counted the session's energy as the car took it.
    assert session_kwh is not None
    assert session_kwh == pytest.approx(night[-1]["session_wh"] / 1000, abs=0.1)


async def _loadpoint(
    ha: HassProcess, entry_id: str, wanted: tuple[str, ...]
) -> dict[str, str] | None:
    found = await loadpoint_entities(ha, entry_id, CHARGER_ID)
    return found if all(key in found for key in wanted) else None


async def _service(
    ha: HassProcess, service: str, data: dict[str, Any]
) -> dict[str, Any]:
    response = await ha.call_service(DOMAIN, service, data, return_response=True)
    return dict(response["service_response"])


def _timeline(states: list[dict[str, Any]]) -> str:
    """Every quarter of an hour on the charger's clock (printed on failure)."""
    lines, last = [], None
    for s in states:
        at = datetime.fromisoformat(s["at"]).astimezone(TZ)
        quarter = (at.hour, at.minute // 15)
        if quarter != last:
            last = quarter
            lines.append(
                f"{at:%H:%M} SoC {s['soc']:5.1f} % power {s['power_w']:7.0f} W "
                f"limit {s['limit_a']} session {s['session_wh']:.0f} Wh"
            )
    return "\n".join(lines)
