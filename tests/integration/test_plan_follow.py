"""The coordination follows the plan: deferrable loads run in their planned slots,
the home battery takes the plan's mode, and a flexible load gets its run time
and window through its subentry form.

A real HA core with a time-of-use schedule as the price source (the owner's
options form), the harness's sources, a boiler (`input_boolean`) as a deferrable
load and a battery script that records its commands. Home in Berlin; the frozen
clock starts on a Sunday at noon.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from homeassistant.config_entries import SOURCE_USER
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util

from custom_components.energy_coordinator.const import DOMAIN

from .plan_setup import configure_planning, explain_plan, get_plan, local_hm
from .site_harness import (
    BATTERY_POWER,
    BATTERY_SCRIPT,
    BATTERY_SOC,
    BOILER,
    SiteHarness,
    site_harness,
)

__all__ = ["site_harness"]

TZ = "Europe/Berlin"
#: Dear all day but 13:00-15:00.
SCHEDULE = "00:00 0.30\n13:00 0.10\n15:00 0.30"


async def _coordinate(h: SiteHarness) -> dict[str, Any]:
    """Coordinate with fresh meters (after a jump of the clock they are stale)."""
    house = h.hass.states.get("input_number.house_w")
    assert house is not None
    await h.set_number("house_w", 501 if float(house.state) == 500 else 500)
    response = await h.hass.services.async_call(
        DOMAIN, "coordinate", {}, blocking=True, return_response=True
    )
    await h.settle()
    assert isinstance(response, dict)
    return response


async def _add_boiler(h: SiteHarness, **fields: Any) -> dict[str, Any]:
    assert h.entry is not None
    flows = h.hass.config_entries.subentries
    result = await flows.async_init(
        (h.entry.entry_id, "flexible_load"), context={"source": SOURCE_USER}
    )
    result = await flows.async_configure(
        result["flow_id"],
        {"entity_id": BOILER, "power_w": 2000, "priority": 0, **fields},
    )
    await h.settle()
    return dict(result)


async def test_a_deferrable_load_runs_in_its_cheapest_slots(
    site_harness: SiteHarness, hass: HomeAssistant
) -> None:
    h = site_harness
    await hass.config.async_set_time_zone(TZ)
    await h.start()
    result = await _add_boiler(
        h,
        run_hours=1.0,
        window_start="12:00:00",
        window_end="18:00:00",
        contiguous=True,
    )
    assert result["type"] == "create_entry"
    await configure_planning(
        hass,
        h.entry,
        {"price_time_of_use": SCHEDULE},
        price_source="time_of_use",
    )
    await h.switch(BOILER, False)

    plan = await get_plan(hass)
    (goal,) = plan["goals"]
    assert goal["kind"] == "load" and goal["id"] == BOILER and goal["met"]
    on = [local_hm(s["start"]) for s in plan["slots"] if BOILER in s["loads_on"]]
    assert on == ["13:00", "13:15", "13:30", "13:45"]
    explained = await explain_plan(hass)
    (run,) = [r for r in explained["reasons"] if r["code"] == "load_run"]
    assert run["message"].startswith("boiler: running 13:00\u201314:00, 0.100 ")

    # Noon: not its slot; it stays off.
    response = await _coordinate(h)
    assert response["actions"]["loads"]["plan_on"] == []
    assert hass.states.get(BOILER).state == "off"
    # 13:00: its planned run starts: switched on.
    await h.tick((_local(13) - dt_util.utcnow()).total_seconds() + 1)
    response = await _coordinate(h)
    assert response["actions"]["loads"]["plan_on"] == [BOILER]
    assert hass.states.get(BOILER).state == "on"
    assert [r["code"] for r in response["explanation"] if r["subject"] == BOILER] == [
        "load.plan.on"
    ]
    # 13:30: still running, nothing sent; the plan counts the half hour run.
    await h.tick(30 * 60)
    response = await _coordinate(h)
    assert response["actions"]["loads"]["plan_on"] == []
    assert response["actions"]["loads"]["plan_off"] == []
    (goal,) = (await get_plan(hass))["goals"]
    assert goal["done_hours"] == pytest.approx(0.5, abs=0.02)
    # 14:00: the run is over: switched off.
    await h.tick(30 * 60)
    response = await _coordinate(h)
    assert response["actions"]["loads"]["plan_off"] == [BOILER]
    assert hass.states.get(BOILER).state == "off"
    (goal,) = (await get_plan(hass))["goals"]
    assert goal["done_hours"] == pytest.approx(1.0, abs=0.02)
    assert goal["planned_hours"] == 0.0


def _local(hour: int) -> Any:
    today = dt_util.as_local(dt_util.utcnow()).date()
    midnight = dt_util.start_of_local_day(today)
    return midnight + timedelta(hours=hour)


async def test_a_run_that_does_not_fit_its_window_is_refused(
    site_harness: SiteHarness,
) -> None:
    h = site_harness
    await h.start()
    result = await _add_boiler(
        h, run_hours=3.0, window_start="13:00:00", window_end="15:00:00"
    )
    assert result["type"] == "form"
    assert result["errors"] == {"run_hours": "window_too_short"}


async def test_the_battery_charges_from_the_grid_when_the_plan_says_so(
    site_harness: SiteHarness, hass: HomeAssistant
) -> None:
    """Cheap for the next quarter hour, dear after: the plan charges the battery
    now at its limit; the coordination runs the battery script with that."""
    h = site_harness
    await hass.config.async_set_time_zone(TZ)
    await h.battery_script()
    await h.start(
        sources={
            "battery_soc_entity": BATTERY_SOC,
            "battery_power_entity": BATTERY_POWER,
        },
        limits={
            "battery_capacity_kwh": 10,
            "battery_max_charge_w": 3000,
            "battery_max_discharge_w": 3000,
        },
        actuators={"battery_script": BATTERY_SCRIPT},
    )
    await configure_planning(
        hass,
        h.entry,
        {"price_time_of_use": "00:00 0.40\n12:00 0.10\n12:15 0.40"},
        price_source="time_of_use",
        plan_hours=12,
        flat_load_kw=1.0,
    )

    plan = await get_plan(hass)
    first = plan["slots"][0]
    assert first["battery_mode"] == "charge"
    assert first["battery_kw"] == pytest.approx(3.0)
    assert first["battery_soc_pct"] > 50.0

    response = await _coordinate(h)
    assert response["actions"]["battery"] == {"mode": "charge", "power_kw": 3.0}
    codes = [r["code"] for r in response["explanation"] if r["subject"] == "battery"]
    assert codes == ["battery.plan"]
    assert h.battery_calls[-1] == {"mode": "charge", "power_w": 3000}
    explained = await explain_plan(hass)
    assert "battery_charge" in [r["code"] for r in explained["reasons"]]


async def test_a_run_that_no_longer_fits_raises_a_repair(
    site_harness: SiteHarness, hass: HomeAssistant
) -> None:
    """2 h by 13:00, asked at noon with nothing run yet: 1 h is planned; a longer
    window clears the issue."""
    h = site_harness
    await hass.config.async_set_time_zone(TZ)
    await h.start()
    await _add_boiler(h, run_hours=2.0, window_start="08:00:00", window_end="13:00:00")
    await h.switch(BOILER, False)
    await h.settle()

    registry = ir.async_get(hass)
    issue_id = f"{h.entry.entry_id}_input_boolean_boiler_goal"
    issue = registry.async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.translation_key == "load_goal_unreachable"
    assert issue.translation_placeholders == {
        "load": "boiler",
        "hours": "2",
        "time": "13:00",
        "planned": "1",
    }
    (goal,) = (await get_plan(hass))["goals"]
    assert goal["met"] is False and goal["planned_hours"] == 1.0

    subentry = next(iter(h.entry.subentries.values()))
    flows = hass.config_entries.subentries
    result = await flows.async_init(
        (h.entry.entry_id, "flexible_load"),
        context={"source": "reconfigure", "subentry_id": subentry.subentry_id},
    )
    result = await flows.async_configure(
        result["flow_id"],
        {
            "entity_id": BOILER,
            "power_w": 2000,
            "priority": 0,
            "run_hours": 2.0,
            "window_start": "08:00:00",
            "window_end": "18:00:00",
        },
    )
    assert result["type"] == "abort"
    await h.settle()
    assert registry.async_get_issue(DOMAIN, issue_id) is None
