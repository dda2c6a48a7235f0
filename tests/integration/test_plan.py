"""The horizon plan in a real HA core: prices from a price entity, the plan sensor,
`get_plan` and `explain_plan`, the repairs, and the re-plan triggers.

A site with PV, grid and house sources, a simulated OCPP 1.6 charger with an EV
that reports its SoC, and a price entity in the Nord Pool custom component's
shape (c/kWh). The home is in Berlin; the frozen clock starts on a Sunday noon.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util

from custom_components.energy_coordinator.const import DOMAIN
from custom_components.energy_coordinator.diagnostics import (
    async_get_config_entry_diagnostics,
)
from simulator import EV

from .plan_setup import (
    PRICE,
    configure_planning,
    explain_plan,
    get_plan,
    local_hm,
    local_midnight,
    nord_pool_attributes,
)
from .site_harness import BATTERY_SOC, SiteHarness, site_harness

__all__ = ["site_harness"]

LP = "SIM1/1"
TZ = "Europe/Berlin"
#: c/kWh from local midnight today: 30 in the morning, 35 this afternoon and
#: evening, 10 from 01:00 to 05:00 tomorrow, 30 after.
PRICES = [30.0] * 12 + [35.0] * 12 + [30.0] + [10.0] * 4 + [30.0] * 19


def _today() -> Any:
    return dt_util.as_local(dt_util.utcnow()).date()


def _tomorrow_at(hour: int) -> Any:
    return local_midnight(_today()) + timedelta(days=1, hours=hour)


async def _priced_site(h: SiteHarness, hass: HomeAssistant) -> None:
    await hass.config.async_set_time_zone(TZ)
    hass.states.async_set(PRICE, "35.0", nord_pool_attributes(_today(), PRICES))
    await h.start()
    await configure_planning(
        hass, h.entry, {"price_entity": PRICE}, price_source="entity"
    )
    assert h.entry.runtime_data.planner is not None


async def _plugged_ev(h: SiteHarness, **settings: Any) -> None:
    h.site.update_settings(
        LP,
        mode="plan",
        phases="3",
        target_soc_pct=80.0,
        target_time=_tomorrow_at(7).isoformat(),
        vehicle_capacity_kwh=60.0,
        **settings,
    )
    await h.charger(ev=EV(capacity_kwh=60.0, soc=20.0, target_soc=100.0))
    await h.settle()


async def test_prices_from_a_price_entity_plan_the_cheap_night(
    site_harness: SiteHarness, hass: HomeAssistant
) -> None:
    h = site_harness
    await _priced_site(h, hass)
    await _plugged_ev(h)

    plan = await get_plan(hass)

    assert plan["status"] == "optimal"
    assert plan["reason"] is None
    assert plan["price_source"] == "entity"
    assert plan["currency"] == hass.config.currency
    # c/kWh became currency per kWh; the horizon ends with tomorrow's prices.
    assert plan["slots"][0]["import_price"] == pytest.approx(0.35)
    end = dt_util.parse_datetime(plan["end"])
    assert end == local_midnight(_today() + timedelta(days=2))
    prices = {local_hm(s["start"]): s["import_price"] for s in plan["slots"]}
    assert prices["01:00"] == pytest.approx(0.10)
    # 60 % of 60 kWh through a 90 % efficient charger: 40 kWh, at 11.04 kW.
    (goal,) = plan["goals"]
    assert goal["id"] == LP and goal["kind"] == "ev" and goal["met"] is True
    assert goal["soc_source"] == "charger"
    assert goal["need_kwh"] == pytest.approx(40.0, abs=0.1)
    assert goal["planned_soc_pct"] == pytest.approx(80.0, abs=0.1)
    charging = [s for s in plan["slots"] if s["ev_kw"][LP] > 0]
    assert {local_hm(s["start"])[:2] for s in charging} <= {"01", "02", "03", "04"}
    assert sum(s["ev_kw"][LP] * 0.25 for s in charging) == pytest.approx(40.0, abs=0.1)
    assert plan["expected_cost"] == pytest.approx(
        40.0 * 0.10
        + sum(s["load_kw"] * 0.25 * s["import_price"] for s in plan["slots"])
        - sum(
            min(s["pv_kw"], s["load_kw"]) * 0.25 * s["import_price"]
            for s in plan["slots"]
        ),
        abs=0.05,
    )
    # One segment starts the charging at 01:00 tomorrow: the sensor's state.
    state = hass.states.get("sensor.home_plan")
    assert state is not None
    assert dt_util.parse_datetime(state.state) == _tomorrow_at(1)
    attributes = state.attributes
    assert attributes["status"] == "optimal"
    assert attributes["next_change"]["ev_kw"][LP] == pytest.approx(11.04, abs=0.01)
    assert attributes["slots"]["import_price"][0] == pytest.approx(0.35)
    assert len(attributes["slots"]["ev_kw"][LP]) == len(plan["slots"])
    assert attributes["goals"] == [
        {
            "id": LP,
            "kind": "ev",
            "met": True,
            "target_soc_pct": 80.0,
            "planned_soc_pct": goal["planned_soc_pct"],
            "deadline": goal["deadline"],
        }
    ]
    # Without slots the response is small: totals, goals and segments.
    short = await get_plan(hass, slots=False)
    assert "slots" not in short
    assert short["segments"] == plan["segments"]
    # The diagnostics download carries the same (without slots).
    diagnostics = await async_get_config_entry_diagnostics(hass, h.entry)
    assert diagnostics["plan"] == short


async def test_explain_plan_in_plain_words(
    site_harness: SiteHarness, hass: HomeAssistant
) -> None:
    h = site_harness
    await _priced_site(h, hass)
    await _plugged_ev(h)

    answer = await explain_plan(hass)

    codes = [reason["code"] for reason in answer["reasons"]]
    assert codes[0] == "plan_summary"
    assert "ev_charge_cheapest" in codes
    (charge,) = [r for r in answer["reasons"] if r["code"] == "ev_charge_cheapest"]
    assert charge["subject"] == LP
    assert charge["message"] == (
        "SIM1: charging 01:00\u201304:45 at 11.0 kW: the 15 cheapest slots before "
        f"07:00, 0.100 {hass.config.currency}/kWh on average."
    )
    assert answer["summary"] == answer["reasons"][0]["message"]
    assert answer["summary"].startswith("Expected cost ")

    hass.config.language = "pt-BR"
    answer = await explain_plan(hass)
    (charge,) = [r for r in answer["reasons"] if r["code"] == "ev_charge_cheapest"]
    assert charge["message"].startswith("SIM1: carregando 01:00\u201304:45 a 11.0 kW: ")
    assert answer["language"] == "pt-BR"


async def test_a_goal_that_will_be_missed_raises_a_repair_until_reachable(
    site_harness: SiteHarness, hass: HomeAssistant
) -> None:
    """80 % in 2 hours at 11.04 kW: 22.1 kWh AC, 19.9 kWh stored: 53 %; a later
    time clears the issue."""
    h = site_harness
    await _priced_site(h, hass)
    soon = dt_util.utcnow() + timedelta(hours=2)
    await _plugged_ev(h)
    h.site.update_settings(LP, target_time=soon.isoformat())
    await h.settle()

    registry = ir.async_get(hass)
    issue_id = f"{h.entry.entry_id}_sim1_1_goal"
    issue = registry.async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.translation_key == "ev_goal_unreachable"
    assert issue.translation_placeholders == {
        "vehicle": "SIM1",
        "target": "80",
        "time": dt_util.as_local(soon).strftime("%H:%M"),
        "planned": "53",
    }
    plan = await get_plan(hass)
    assert plan["goals"][0]["met"] is False
    explained = await explain_plan(hass)
    (missed,) = [r for r in explained["reasons"] if r["code"] == "ev_unreachable"]
    assert missed["message"] == (
        f"SIM1: 80 % by {issue.translation_placeholders['time']} is not reachable: "
        "planning 53 %."
    )

    h.site.update_settings(LP, target_time=_tomorrow_at(7).isoformat())
    await h.settle()
    assert registry.async_get_issue(DOMAIN, issue_id) is None


async def test_an_unknown_price_shape_raises_a_repair_naming_the_entity(
    site_harness: SiteHarness, hass: HomeAssistant
) -> None:
    h = site_harness
    await _priced_site(h, hass)
    hass.states.async_set(PRICE, "35.0", {"unit_of_measurement": "c/kWh", "x": 1})
    await h.settle()

    registry = ir.async_get(hass)
    issue = registry.async_get_issue(DOMAIN, f"{h.entry.entry_id}_import_price_shape")
    assert issue is not None
    assert issue.translation_key == "price_shape_unknown"
    assert issue.translation_placeholders == {
        "entity_id": PRICE,
        "attributes": "unit_of_measurement, x",
    }
    plan = await get_plan(hass)
    assert (plan["status"], plan["reason"]) == ("unavailable", "price_shape")
    explained = await explain_plan(hass)
    assert explained["summary"] == (
        f"No plan: {PRICE} has no price forecast the planner reads."
    )
    state = hass.states.get("sensor.home_plan")
    assert state is not None and state.attributes["reason"] == "price_shape"

    hass.states.async_set(PRICE, "35.0", nord_pool_attributes(_today(), PRICES))
    await h.settle()
    assert (
        registry.async_get_issue(DOMAIN, f"{h.entry.entry_id}_import_price_shape")
        is None
    )
    assert (await get_plan(hass))["status"] == "optimal"


async def test_replans_on_target_plug_and_every_quarter(
    site_harness: SiteHarness, hass: HomeAssistant
) -> None:
    h = site_harness
    await _priced_site(h, hass)
    planner = h.entry.runtime_data.planner
    assert planner is not None and planner.result is not None
    first = planner.result.planned_at
    assert first == dt_util.utcnow()

    await _plugged_ev(h)
    assert planner.result.evs.keys() == {LP}  # plugged in: a goal now

    await h.tick(60)
    h.site.update_settings(LP, target_soc_pct=60.0)
    await h.settle()
    assert planner.result.planned_at == dt_util.utcnow()
    (goal,) = (await get_plan(hass))["goals"]
    assert goal["target_soc_pct"] == 60.0

    # The next quarter hour re-plans on its own.
    now = dt_util.utcnow()
    quarter = now.replace(second=0, microsecond=0) + timedelta(
        minutes=15 - now.minute % 15
    )
    await h.tick((quarter - now).total_seconds())
    assert planner.result.planned_at == quarter

    # Unplugged: the goal is gone.
    await h.sims[0].unplug(1)
    await h.wait(
        lambda: not h.entry.runtime_data.system.chargers["SIM1"].connectors[1].plugged,
        "unplugged",
    )
    await h.settle()
    assert planner.result.evs == {}


async def test_the_target_time_can_be_cleared(
    site_harness: SiteHarness, hass: HomeAssistant
) -> None:
    h = site_harness
    await _priced_site(h, hass)
    await _plugged_ev(h)
    target = hass.states.get("datetime.ev_sim1_target_time")
    assert target is not None
    assert dt_util.parse_datetime(target.state) == _tomorrow_at(7)

    await hass.services.async_call(
        "button",
        "press",
        {"entity_id": "button.ev_sim1_clear_target_time"},
        blocking=True,
    )
    await h.settle()

    assert h.site.settings(LP).target_time is None
    state = hass.states.get("datetime.ev_sim1_target_time")
    assert state is not None and state.state == "unknown"
    (goal,) = (await get_plan(hass))["goals"]
    assert goal["deadline"] is None  # plan mode: the target within the horizon


async def test_a_battery_soc_that_strays_from_the_plan_replans(
    site_harness: SiteHarness, hass: HomeAssistant
) -> None:
    h = site_harness
    await hass.config.async_set_time_zone(TZ)
    hass.states.async_set(PRICE, "35.0", nord_pool_attributes(_today(), PRICES))
    await h.start(
        sources={"battery_soc_entity": BATTERY_SOC},
        limits={"battery_capacity_kwh": 10},
    )
    await configure_planning(
        hass, h.entry, {"price_entity": PRICE}, price_source="entity"
    )
    planner = h.entry.runtime_data.planner
    assert planner is not None and planner.result is not None
    assert planner.result.plan is not None and planner.result.plan.battery_soc_kwh
    generation = planner.generation
    await h.set_number("battery_soc", 52)  # within what the plan expects
    assert planner.generation == generation
    await h.set_number("battery_soc", 75)
    assert planner.generation == generation + 1
    (first, *_) = (await get_plan(hass))["slots"]
    assert first["battery_soc_pct"] is not None


async def test_vehicle_soc_entity_and_manual_cap_shape_the_goal(
    site_harness: SiteHarness, hass: HomeAssistant
) -> None:
    h = site_harness
    await _priced_site(h, hass)
    hass.states.async_set("sensor.car_soc", "50", {"unit_of_measurement": "%"})
    await _plugged_ev(h, vehicle_soc_entity="sensor.car_soc", manual_cap_a=10.0)
    (goal,) = (await get_plan(hass))["goals"]
    assert (goal["soc_pct"], goal["soc_source"]) == (50.0, "entity")
    assert goal["need_kwh"] == pytest.approx(20.0, abs=0.1)  # 30 % of 60 / 0.9
    charging = [
        s["ev_kw"][LP] for s in (await get_plan(hass))["slots"] if s["ev_kw"][LP]
    ]
    assert max(charging) == pytest.approx(10 * 230 * 3 / 1000, abs=0.01)


async def test_a_price_entity_without_a_forecast_yet_prices_the_hour(
    site_harness: SiteHarness, hass: HomeAssistant
) -> None:
    """Nord Pool before its first fetch: its state prices the rest of the hour."""
    h = site_harness
    await _priced_site(h, hass)
    hass.states.async_set(
        PRICE,
        "20.0",
        {"unit_of_measurement": "c/kWh", "raw_today": [], "raw_tomorrow": []},
    )
    await h.settle()
    plan = await get_plan(hass)
    assert plan["status"] == "optimal"
    assert [s["import_price"] for s in plan["slots"]] == [pytest.approx(0.2)] * 4
    hass.states.async_set(
        PRICE,
        "unavailable",
        {"unit_of_measurement": "c/kWh", "raw_today": [], "raw_tomorrow": []},
    )
    await h.settle()
    assert (await get_plan(hass))["reason"] == "no_prices"


async def test_time_of_use_export_prices(
    site_harness: SiteHarness, hass: HomeAssistant
) -> None:
    h = site_harness
    await hass.config.async_set_time_zone(TZ)
    await h.start()
    await configure_planning(
        hass,
        h.entry,
        {
            "price_fixed": 0.3,
            "export_price_time_of_use": "00:00 0.05\n12:30 0.12",
        },
        price_source="fixed",
        export_price_source="time_of_use",
    )
    slots = (await get_plan(hass))["slots"]
    assert [s["export_price"] for s in slots[:3]] == [0.05, 0.05, 0.12]
