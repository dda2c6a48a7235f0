"""Overnight: a simulated EV plugged in at 22:00 with 80 % by 07:00 charges in the
cheap hours of a scripted price curve and reaches its target.

A real HA core with the site's own loop (every minute), a price entity in the
Nord Pool shape, and an OCPP 1.6 simulator whose 60 kWh EV (20 %) reports its SoC
every minute. The frozen clock runs through the night a minute at a time: the
planner re-plans every quarter hour, the controller follows the plan's slot, and
every SetChargingProfile the charger receives is checked.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util

from simulator import EV

from .plan_setup import (
    PRICE,
    configure_planning,
    explain_plan,
    get_plan,
    local_midnight,
    nord_pool_attributes,
)
from .site_harness import SiteHarness, site_harness

__all__ = ["site_harness"]

LP = "SIM1/1"
TZ = "Europe/Berlin"
DAY = datetime(2026, 3, 10).date()  # a Tuesday, CET (UTC+1)
#: c/kWh by local hour from midnight of DAY: evening 32, 00:00-04:00 tomorrow
#: 9 (cheap), 04:00-07:00 21, the day after 30.
PRICES = [30.0] * 22 + [32.0] * 2 + [9.0] * 4 + [21.0] * 3 + [30.0] * 17


def _at(hour: float, day_offset: int = 0) -> datetime:
    return local_midnight(DAY) + timedelta(days=day_offset, hours=hour)


async def test_ev_charges_in_the_cheap_night_hours_and_reaches_80_by_7(
    site_harness: SiteHarness, hass: HomeAssistant
) -> None:
    h = site_harness
    await hass.config.async_set_time_zone(TZ)
    h.freezer.move_to(_at(22))
    hass.states.async_set(PRICE, "32.0", nord_pool_attributes(DAY, PRICES))
    await h.start(actuators={"loop_interval": 60})
    await configure_planning(
        hass, h.entry, {"price_entity": PRICE}, price_source="entity"
    )
    h.site.update_settings(
        LP,
        mode="plan",
        phases="3",
        target_soc_pct=80.0,
        target_time=_at(7, 1).isoformat(),
        vehicle_capacity_kwh=60.0,
    )
    ev = EV(capacity_kwh=60.0, soc=20.0, target_soc=100.0)
    sim = await h.charger(ev=ev)
    sim.set_meter_interval(60.0)
    assert dt_util.utcnow() - _at(22) < timedelta(seconds=20)

    plan = await get_plan(hass, slots=False)
    (goal,) = plan["goals"]
    assert goal["met"] is True and goal["deadline"] == _at(7, 1).isoformat()
    why = await explain_plan(hass)
    codes = [r["code"] for r in why["reasons"]]
    assert "ev_charge_cheapest" in codes, why

    # The night, a minute at a time: what the charger is told, and draws.
    profiles: list[tuple[datetime, dict[str, Any]]] = []
    drawing: list[tuple[datetime, float]] = []
    seen = 0
    end = _at(7, 1)
    while dt_util.utcnow() < end:
        await h.tick(60)
        await h.wait(lambda: True, "frames", 0.01, fail=False)
        await h.settle()
        for action, payload in sim.received[seen:]:
            if action == "SetChargingProfile":
                profiles.append((dt_util.utcnow(), payload["csChargingProfiles"]))
        seen = len(sim.received)
        drawing.append((dt_util.utcnow(), sim.connectors[1].power_w))

    limits = [
        (at, p["chargingSchedule"]["chargingSchedulePeriod"][0]["limit"])
        for at, p in profiles
    ]
    # Every profile is a TxDefaultProfile in A for three phases.
    for _, profile in profiles:
        assert profile["chargingProfilePurpose"] == "TxDefaultProfile"
        schedule = profile["chargingSchedule"]
        assert schedule["chargingRateUnit"] == "A"
        assert schedule["chargingSchedulePeriod"][0]["numberPhases"] == 3
    # Paused all evening (no surplus at night, no cheap slot yet) ...
    evening = [limit for at, limit in limits if at < _at(0, 1)]
    assert evening and set(evening) == {0.0}
    # ... full current at midnight, the cheapest slots ...
    charging = [at for at, limit in limits if limit > 0]
    assert _at(0, 1) <= charging[0] <= _at(0, 1) + timedelta(minutes=1)
    assert max(limit for _, limit in limits) == pytest.approx(16.0)
    # ... and nothing after 04:00 (dearer) or once the target is reached.
    assert all(_at(0, 1) <= at < _at(4, 1) for at in charging)
    assert limits[-1][1] == 0.0
    drew = [at for at, power in drawing if power > 0]
    assert drew and _at(0, 1) <= drew[0] and drew[-1] < _at(4, 1)

    # 80 % by 07:00, not much more: 36 kWh into the car.
    assert 80.0 <= ev.soc <= 81.0
    conn = h.entry.runtime_data.system.chargers["SIM1"].connectors[1]
    assert conn.last_session_energy_wh / 1000 == pytest.approx(36.0, abs=0.7)
    # Paused at its target since; the plan has nothing left to charge.
    assert "ev.target_soc" in h.site.last.decision.codes(LP)
    final = await get_plan(hass, slots=False)
    (goal,) = final["goals"]
    assert goal["soc_pct"] >= 80.0 and goal["need_kwh"] == 0.0
