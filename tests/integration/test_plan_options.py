"""The options step *Planning*: where prices and forecasts come from.

The first form chooses the sources and the battery's economics; a second form
asks for the fixed price, schedule, price entity or forecast sensors chosen, and
refuses what the planner could not use, with the field's error. A change keeps
the chargers connected (a coordination option) and re-plans with it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType

from custom_components import energy_coordinator
from custom_components.energy_coordinator.plan_flow import (
    PLANNING_KEYS,
    SOURCE_KEYS,
)

from .conftest import SetupSite
from .plan_setup import PLANNING_DEFAULTS, PRICE, configure_planning, get_plan

SOURCES = {"site": {"sources": {"grid_power_entity": "sensor.grid"}}}


@pytest.fixture
async def entry(hass: HomeAssistant, setup_site: SetupSite) -> Any:
    hass.states.async_set("sensor.grid", "100", {"unit_of_measurement": "W"})
    return await setup_site(**SOURCES)


async def _second_form(
    hass: HomeAssistant, entry: Any, **planning: Any
) -> dict[str, Any]:
    flow = await hass.config_entries.options.async_init(entry.entry_id)
    flow = await hass.config_entries.options.async_configure(
        flow["flow_id"], {"next_step_id": "planning"}
    )
    result = await hass.config_entries.options.async_configure(
        flow["flow_id"], {**PLANNING_DEFAULTS, **planning}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "planning_sources"
    return dict(result)


async def test_no_price_source_needs_no_second_form(
    hass: HomeAssistant, entry: Any
) -> None:
    result = await configure_planning(
        hass, entry, battery_efficiency=92, battery_cycle_cost=0.02
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    options = entry.options
    assert options["price_source"] == "none"
    assert options["battery_efficiency"] == 92
    assert options["battery_cycle_cost"] == 0.02
    assert options["plan_hours"] == 48
    plan = await get_plan(hass)
    assert plan["status"] == "optimal"
    assert plan["price_source"] == "none"
    # No prices: no cost, no currency; the plan still weighs solar.
    assert plan["expected_cost"] is None and plan["currency"] is None


async def test_fixed_prices_then_back_to_none_clears_them(
    hass: HomeAssistant, entry: Any
) -> None:
    result = await configure_planning(
        hass,
        entry,
        {"price_fixed": 0.31, "export_price_fixed": 0.08},
        price_source="fixed",
        export_price_source="fixed",
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options["price_fixed"] == 0.31
    plan = await get_plan(hass)
    assert {s["import_price"] for s in plan["slots"]} == {0.31}
    assert {s["export_price"] for s in plan["slots"]} == {0.08}
    assert plan["expected_cost"] is not None

    await configure_planning(hass, entry)
    assert entry.options["price_fixed"] is None
    assert entry.options["export_price_fixed"] is None


async def test_a_schedule_that_does_not_read_is_refused(
    hass: HomeAssistant, entry: Any
) -> None:
    form = await _second_form(hass, entry, price_source="time_of_use")
    assert set(form["data_schema"].schema) == {"price_time_of_use"}
    result = await hass.config_entries.options.async_configure(
        form["flow_id"], {"price_time_of_use": "00:00 0.20\nseven 0.35"}
    )
    assert result["errors"] == {"price_time_of_use": "time_of_use_invalid"}
    result = await hass.config_entries.options.async_configure(
        form["flow_id"],
        {"price_time_of_use": "00:00 0.20\nmon-fri 07:00 0.35; sat,sun 00:00 0,15"},
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    plan = await get_plan(hass)
    assert plan["status"] == "optimal"


async def test_price_entities_must_exist_and_carry_a_forecast(
    hass: HomeAssistant, entry: Any
) -> None:
    form = await _second_form(hass, entry, price_source="entity")
    result = await hass.config_entries.options.async_configure(
        form["flow_id"], {"price_entity": "sensor.nope"}
    )
    assert result["errors"] == {"price_entity": "entity_not_found"}
    hass.states.async_set(PRICE, "0.2", {"unit_of_measurement": "EUR/kWh"})
    result = await hass.config_entries.options.async_configure(
        form["flow_id"], {"price_entity": PRICE}
    )
    assert result["errors"] == {"price_entity": "price_shape_unknown"}
    hass.states.async_set(
        PRICE,
        "0.2",
        {
            "unit_of_measurement": "EUR/kWh",
            "prices": [{"time": "2026-01-01T00:00:00+00:00", "price": 0.2}],
        },
    )
    result = await hass.config_entries.options.async_configure(
        form["flow_id"], {"price_entity": PRICE}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_pv_forecast_sensors_must_carry_a_forecast(
    hass: HomeAssistant, entry: Any
) -> None:
    form = await _second_form(hass, entry, pv_forecast="entity")
    assert set(form["data_schema"].schema) == {"pv_forecast_entities"}
    hass.states.async_set("sensor.solar_today", "12.3", {})
    result = await hass.config_entries.options.async_configure(
        form["flow_id"], {"pv_forecast_entities": ["sensor.solar_today"]}
    )
    assert result["errors"] == {"pv_forecast_entities": "pv_forecast_unreadable"}
    hass.states.async_set(
        "sensor.solar_today",
        "12.3",
        {"wh_hours": {"2026-01-01T12:00:00+00:00": 1000}},
    )
    result = await hass.config_entries.options.async_configure(
        form["flow_id"], {"pv_forecast_entities": ["sensor.solar_today"]}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY


def test_every_planning_field_is_described() -> None:
    """Each new field has a label and a description, in every language."""
    folder = Path(energy_coordinator.__file__).parent / "translations"
    for language in ("en", "pt-BR", "zh-Hans"):
        strings = json.loads((folder / f"{language}.json").read_text("utf-8"))
        steps = strings["options"]["step"]
        fields = {
            "planning": PLANNING_KEYS,
            "planning_sources": SOURCE_KEYS,
        }
        for step, keys in fields.items():
            assert set(steps[step]["data"]) == set(keys), (language, step)
            assert set(steps[step]["data_description"]) == set(keys), (language, step)
        load = strings["config_subentries"]["flexible_load"]["step"]
        for step in ("user", "reconfigure"):
            described = load[step]["data_description"]
            for key in ("run_hours", "window_start", "window_end", "contiguous"):
                assert key in load[step]["data"] and key in described
