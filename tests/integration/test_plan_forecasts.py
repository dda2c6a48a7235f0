"""The planner's forecasts from Home Assistant: the recorder's statistics (house
load by weekday and time, PV production by time of day), the Energy dashboard's
solar forecast platforms, and forecast sensors' attributes.

A real HA core with the recorder (in memory) and, for the Energy dashboard, the
real `energy` integration with a solar forecast platform of a test integration
(the shape Forecast.Solar and Solcast return: `{"wh_hours": {start: Wh}}`).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from unittest.mock import AsyncMock, Mock

import pytest
from homeassistant.components.energy.data import async_get_manager
from homeassistant.components.recorder import Recorder
from homeassistant.components.recorder.models import StatisticMeanType
from homeassistant.components.recorder.statistics import async_import_statistics
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    MockModule,
    mock_integration,
    mock_platform,
)
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)

from .plan_setup import configure_planning, get_plan
from .site_harness import BOILER, GRID, HOUSE, PV, SiteHarness, site_harness

__all__ = ["site_harness"]

TZ = "Europe/Berlin"


@pytest.fixture
def mock_recorder_before_hass(async_test_recorder: Any) -> None:
    """The recorder is set up before hass (HA's own recorder tests do this)."""


def _hours_back(now: datetime, days: int) -> Iterator[datetime]:
    start = now.replace(minute=0, second=0, microsecond=0) - timedelta(days=days)
    hour = start
    while hour < now.replace(minute=0, second=0, microsecond=0):
        yield hour
        hour += timedelta(hours=1)


def _import(hass: HomeAssistant, entity_id: str, unit: str, means: Any) -> None:
    """Hourly mean statistics of a power sensor (as the recorder keeps them)."""
    rows = [
        {"start": hour, "mean": value, "min": value, "max": value}
        for hour, value in means
    ]
    async_import_statistics(
        hass,
        {
            "mean_type": StatisticMeanType.ARITHMETIC,
            "has_sum": False,
            "name": None,
            "source": "recorder",
            "statistic_id": entity_id,
            "unit_of_measurement": unit,
        },
        rows,
    )


def _house_w(hour: datetime) -> float:
    """2.4 kW on weekday evenings 18-21 local, 0.3 kW else."""
    local = dt_util.as_local(hour)
    evening = 18 <= local.hour < 21 and local.weekday() < 5
    return 2400.0 if evening else 300.0


def _pv_kw(hour: datetime) -> float:
    """5 kW between 10:00 and 14:00 local, nothing else."""
    return 5.0 if 10 <= dt_util.as_local(hour).hour < 14 else 0.0


async def test_load_and_pv_from_the_recorders_statistics(
    recorder_mock: Recorder, site_harness: SiteHarness, hass: HomeAssistant
) -> None:
    h = site_harness
    await hass.config.async_set_time_zone(TZ)
    await h.start()
    now = dt_util.utcnow()
    _import(hass, HOUSE, "W", [(t, _house_w(t)) for t in _hours_back(now, 21)])
    _import(hass, PV, "kW", [(t, _pv_kw(t)) for t in _hours_back(now, 4)])
    await async_wait_recording_done(hass)

    await configure_planning(
        hass, h.entry, load_forecast="history", pv_forecast="history"
    )
    plan = await get_plan(hass)

    by_local = {
        dt_util.as_local(dt_util.parse_datetime(s["start"])): s  # type: ignore[arg-type]
        for s in plan["slots"]
    }
    # Sunday noon now: Monday evening is a weekday evening, Sunday's is not.
    monday_evening = next(
        s for t, s in by_local.items() if t.weekday() == 0 and t.hour == 19
    )
    sunday_evening = next(
        s for t, s in by_local.items() if t.weekday() == 6 and t.hour == 19
    )
    assert monday_evening["load_kw"] == pytest.approx(2.4)
    assert sunday_evening["load_kw"] == pytest.approx(0.3)
    # PV: the same time of day over the last days.
    monday_noon = next(
        s for t, s in by_local.items() if t.weekday() == 0 and t.hour == 12
    )
    monday_night = next(
        s for t, s in by_local.items() if t.weekday() == 0 and t.hour == 2
    )
    assert monday_noon["pv_kw"] == pytest.approx(5.0)
    assert monday_night["pv_kw"] == 0.0
    assert plan["expected_pv_kwh"] > 0


async def test_flat_load_without_history(
    recorder_mock: Recorder, site_harness: SiteHarness, hass: HomeAssistant
) -> None:
    h = site_harness
    await h.start()
    await configure_planning(hass, h.entry, load_forecast="flat", flat_load_kw=0.8)
    plan = await get_plan(hass)
    assert {s["load_kw"] for s in plan["slots"]} == {0.8}


async def test_the_energy_dashboards_solar_forecast(
    recorder_mock: Recorder, site_harness: SiteHarness, hass: HomeAssistant
) -> None:
    """What `energy/solar_forecast` shows is the plan's PV."""
    h = site_harness
    now = dt_util.utcnow()
    noon = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    forecast = {
        "wh_hours": {
            (noon + timedelta(hours=i)).isoformat(): wh
            for i, wh in enumerate((3000, 6000, 4000))
        }
    }
    mock_integration(hass, MockModule("test_solar"))
    platform = Mock(async_get_solar_forecast=AsyncMock(return_value=forecast))
    mock_platform(hass, "test_solar.energy", platform)
    assert await async_setup_component(hass, "test_solar", {})
    solar_entry = MockConfigEntry(domain="test_solar")
    solar_entry.add_to_hass(hass)
    assert await async_setup_component(hass, "energy", {})
    manager = await async_get_manager(hass)
    await manager.async_update(
        {
            "energy_sources": [
                {
                    "type": "solar",
                    "stat_energy_from": "sensor.solar_energy",
                    "config_entry_solar_forecast": [solar_entry.entry_id],
                }
            ]
        }
    )
    await h.start()
    await configure_planning(hass, h.entry, pv_forecast="energy")

    plan = await get_plan(hass)

    platform.async_get_solar_forecast.assert_awaited_with(hass, solar_entry.entry_id)
    pv = {dt_util.parse_datetime(s["start"]): s["pv_kw"] for s in plan["slots"]}
    assert pv[noon] == pytest.approx(3.0)
    assert pv[noon + timedelta(hours=1, minutes=30)] == pytest.approx(6.0)
    assert pv[noon + timedelta(hours=2, minutes=45)] == pytest.approx(4.0)
    assert pv[noon + timedelta(hours=3)] == 0.0  # beyond the forecast: no history


async def test_forecast_sensors_are_added_up(
    site_harness: SiteHarness, hass: HomeAssistant
) -> None:
    h = site_harness
    now = dt_util.utcnow()
    hour = now.replace(minute=0, second=0, microsecond=0)
    east = {
        "wh_hours": {
            hour.isoformat(): 2000,
            (hour + timedelta(hours=1)).isoformat(): 1000,
        }
    }
    west = {
        "detailedForecast": [
            {"period_start": hour + timedelta(minutes=30 * i), "pv_estimate": 1.5}
            for i in range(4)
        ]
    }
    hass.states.async_set("sensor.solar_east", "3", east)
    hass.states.async_set("sensor.solar_west", "3", west)
    await h.start()
    await configure_planning(
        hass,
        h.entry,
        {"pv_forecast_entities": ["sensor.solar_east", "sensor.solar_west"]},
        pv_forecast="entity",
    )
    plan = await get_plan(hass)
    pv = [s["pv_kw"] for s in plan["slots"][:9]]
    assert pv == [3.5] * 4 + [2.5] * 4 + [0.0]

    # A new forecast re-plans at once.
    east["wh_hours"][hour.isoformat()] = 4000
    hass.states.async_set("sensor.solar_east", "4", east)
    await h.settle()
    plan = await get_plan(hass)
    assert plan["slots"][0]["pv_kw"] == pytest.approx(5.5)


async def test_derived_house_load_leaves_ev_charging_out(
    recorder_mock: Recorder, site_harness: SiteHarness, hass: HomeAssistant
) -> None:
    """No house sensor: the load is grid + PV (no battery) less what the chargers
    drew, so last week's evening charging is not tomorrow's house load."""
    h = site_harness
    await hass.config.async_set_time_zone(TZ)
    await h.start(sources={"house_power_entity": None})
    await h.charger(session=False)
    await hass.async_block_till_done()  # the charger's entities are added
    now = dt_util.utcnow()
    hours = list(_hours_back(now, 21))

    def ev_w(hour: datetime) -> float:
        return 7000.0 if _house_w(hour) > 1000 else 0.0

    # The grid meter saw a flat 300 W house plus the car on weekday evenings.
    _import(hass, GRID, "W", [(t, 300.0 + ev_w(t)) for t in hours])
    _import(hass, PV, "kW", [(t, 0.0) for t in hours])
    _import(hass, "sensor.sim1_power", "W", [(t, ev_w(t)) for t in hours])
    await async_wait_recording_done(hass)
    await configure_planning(hass, h.entry, load_forecast="history")

    plan = await get_plan(hass)
    evening = [
        s
        for s in plan["slots"]
        if dt_util.as_local(dt_util.parse_datetime(s["start"])).hour == 19  # type: ignore[arg-type]
    ]
    assert evening
    assert [s["load_kw"] for s in evening] == pytest.approx([0.3] * len(evening))


async def test_a_deferrable_loads_run_so_far_comes_from_the_recorder(
    recorder_mock: Recorder, site_harness: SiteHarness, hass: HomeAssistant
) -> None:
    """It ran 45 minutes of its 2 hours (switched by hand): five more slots are
    planned (the first, running now, is only partly left)."""
    h = site_harness
    await hass.config.async_set_time_zone(TZ)
    await h.start()
    flows = hass.config_entries.subentries
    result = await flows.async_init(
        (h.entry.entry_id, "flexible_load"), context={"source": "user"}
    )
    await flows.async_configure(
        result["flow_id"],
        {
            "entity_id": BOILER,
            "power_w": 2000,
            "priority": 0,
            "run_hours": 2.0,
            "window_start": "08:00:00",
            "window_end": "20:00:00",
        },
    )
    await h.settle()
    await h.switch(BOILER, False)
    await h.tick(60)
    await h.switch(BOILER, True)
    await h.tick(45 * 60)
    await h.switch(BOILER, False)
    await async_wait_recording_done(hass)
    await h.tick(60)
    planner = h.entry.runtime_data.planner
    assert planner is not None
    planner.async_request_replan()
    await h.settle()

    (goal,) = (await get_plan(hass))["goals"]
    assert goal["done_hours"] == pytest.approx(0.75)
    assert goal["met"] is True
    on = [s for s in (await get_plan(hass))["slots"] if BOILER in s["loads_on"]]
    assert len(on) == 5
