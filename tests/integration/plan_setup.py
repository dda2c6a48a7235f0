"""Helpers for the planning tests: the options step, price entities, the plan.

`configure_planning` goes through the options flow's *Planning* step (and its
second form) as the owner would; `nord_pool_attributes` builds a price entity's
attributes in the Nord Pool custom component's shape from local hourly prices;
`get_plan` / `explain_plan` call the actions.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.util import dt as dt_util

from custom_components.energy_coordinator.const import DOMAIN
from custom_components.energy_coordinator.runtime import EnergyCoordinatorConfigEntry

PRICE = "sensor.electricity_price"

PLANNING_DEFAULTS: dict[str, Any] = {
    "price_source": "none",
    "export_price_source": "none",
    "pv_forecast": "history",
    "load_forecast": "flat",
    "flat_load_kw": 0.5,
    "battery_efficiency": 90,
    "battery_cycle_cost": 0.0,
    "battery_min_soc": 10,
    "plan_hours": 48,
}


async def configure_planning(
    hass: HomeAssistant,
    entry: EnergyCoordinatorConfigEntry,
    sources: dict[str, Any] | None = None,
    **planning: Any,
) -> dict[str, Any]:
    """Set the Planning options (the entry reloads); the flow's last result."""
    flow = await hass.config_entries.options.async_init(entry.entry_id)
    flow = await hass.config_entries.options.async_configure(
        flow["flow_id"], {"next_step_id": "planning"}
    )
    assert flow["type"] is FlowResultType.FORM and flow["step_id"] == "planning"
    result = await hass.config_entries.options.async_configure(
        flow["flow_id"], {**PLANNING_DEFAULTS, **planning}
    )
    if result["type"] is FlowResultType.FORM:
        assert result["step_id"] == "planning_sources", result
        result = await hass.config_entries.options.async_configure(
            flow["flow_id"], sources or {}
        )
    await hass.async_block_till_done(wait_background_tasks=True)
    return dict(result)


def local_midnight(day: date) -> datetime:
    """Midnight of a local day (the home's time zone)."""
    return datetime.combine(day, time(), dt_util.get_default_time_zone())


def nord_pool_attributes(
    today: date, prices: Sequence[float], unit: str = "c/kWh"
) -> dict[str, Any]:
    """`raw_today` / `raw_tomorrow` from hourly prices starting at local midnight
    of `today` (24 for today, the rest for tomorrow), as the Nord Pool custom
    component publishes them."""
    start = local_midnight(today)
    entries = [
        {
            "start": (start + timedelta(hours=h)).isoformat(),
            "end": (start + timedelta(hours=h + 1)).isoformat(),
            "value": price,
        }
        for h, price in enumerate(prices)
    ]
    return {
        "unit_of_measurement": unit,
        "currency": "EUR",
        "raw_today": entries[:24],
        "raw_tomorrow": entries[24:],
    }


async def get_plan(hass: HomeAssistant, **data: Any) -> dict[str, Any]:
    """The `get_plan` response."""
    response = await hass.services.async_call(
        DOMAIN, "get_plan", data, blocking=True, return_response=True
    )
    assert isinstance(response, dict)
    return response


async def explain_plan(hass: HomeAssistant, **data: Any) -> dict[str, Any]:
    """The `explain_plan` response."""
    response = await hass.services.async_call(
        DOMAIN, "explain_plan", data, blocking=True, return_response=True
    )
    assert isinstance(response, dict)
    return response


def local_hm(value: str) -> str:
    """HH:MM in the home's time zone of an ISO 8601 time."""
    moment = dt_util.parse_datetime(value)
    assert moment is not None
    return dt_util.as_local(moment).strftime("%H:%M")
