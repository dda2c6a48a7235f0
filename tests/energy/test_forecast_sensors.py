"""PV forecast sensors' attributes and combined forecasts on the planner's grid."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest

from custom_components.energy_coordinator.energy.forecast import (
    SlotSeries,
    combined,
    pv_attribute_series,
)
from custom_components.energy_coordinator.energy.horizon import targets_at
from custom_components.energy_coordinator.energy.plan_model import (
    BatteryModel,
    Plan,
    PlanningProblem,
)
from custom_components.energy_coordinator.energy.planner import solve

NOON = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def test_wh_hours_attribute() -> None:
    series = pv_attribute_series(
        {"wh_hours": {"2026-06-01T12:00:00+00:00": 2000, "2026-06-01T13:00:00Z": 1000}}
    )
    assert series is not None
    assert series.start == NOON
    assert series.values == (2.0,) * 4 + (1.0,) * 4


def test_watts_attribute_is_mean_power() -> None:
    later = NOON + timedelta(minutes=30)
    series = pv_attribute_series({"watts": {NOON.isoformat(): 3000, later: 0}})
    assert series is not None
    assert series.values == (3.0, 3.0, 0.0, 0.0)


def test_solcast_detailed_forecast_in_kw() -> None:
    """Half-hourly periods of kW (Solcast's `detailedForecast`)."""
    attributes = {
        "detailedForecast": [
            {"period_start": NOON + timedelta(minutes=30 * i), "pv_estimate": kw}
            for i, kw in enumerate((4.0, 3.0, 1.5))
        ]
    }
    series = pv_attribute_series(attributes)
    assert series is not None
    assert series.start == NOON
    assert series.values == (4.0, 4.0, 3.0, 3.0, 1.5, 1.5)


@pytest.mark.parametrize(
    "attributes",
    [
        {},
        {"friendly_name": "Solar"},
        {"wh_hours": {}},
        {"wh_hours": {"not a time": 5}},
        {"detailedForecast": [{"period_start": "2026-06-01T12:00:00"}]},  # naive
        {"detailedForecast": "nonsense"},
    ],
)
def test_nothing_usable_is_none(attributes: dict[str, object]) -> None:
    assert pv_attribute_series(attributes) is None


def test_combined_adds_where_any_is_known() -> None:
    today = SlotSeries(NOON, (1.0, 2.0))
    tomorrow = SlotSeries(NOON + timedelta(minutes=15), (5.0, 6.0, math.nan))
    total = combined([today, tomorrow])
    assert total is not None
    assert total.start == NOON
    assert total.values[:3] == (1.0, 7.0, 6.0)
    assert math.isnan(total.values[3])
    assert combined([]) is None


def _plan(battery: bool) -> Plan:
    n = 4
    return solve(
        PlanningProblem(
            start=NOON,
            import_price=(0.3,) * n,
            export_price=(0.0,) * n,
            pv_kw=(0.0,) * n,
            load_kw=(0.5,) * n,
            battery=BatteryModel(
                capacity_kwh=5, soc_kwh=2, max_charge_kw=2, max_discharge_kw=2
            )
            if battery
            else None,
        )
    )


def test_targets_say_whether_the_plan_has_a_battery() -> None:
    without = targets_at(_plan(battery=False), NOON)
    assert without is not None and without.battery_mode is None
    with_battery = targets_at(_plan(battery=True), NOON)
    assert with_battery is not None and with_battery.battery_mode is not None
