"""Load and PV forecasts from history, and the receding-horizon driver."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from custom_components.energy_coordinator.energy.battery import BatteryMode
from custom_components.energy_coordinator.energy.forecast import (
    DEFAULT_FLAT_LOAD_KW,
    SlotSeries,
    forecast_values,
    load_forecast,
    pv_persistence_forecast,
    slot_series,
    solar_forecast_series,
)
from custom_components.energy_coordinator.energy.horizon import (
    SiteModel,
    World,
    build_problem,
    replan,
    targets_at,
)
from custom_components.energy_coordinator.energy.plan_model import (
    BatteryModel,
    EvGoal,
    GridConnection,
)
from custom_components.energy_coordinator.energy.prices import (
    PriceInterval,
    PriceSeries,
    fixed_price,
)

AMS = ZoneInfo("Europe/Amsterdam")
Q = timedelta(minutes=15)


def weekly_history(start: datetime, weeks: int) -> SlotSeries:
    """kW = weekday + hour / 100 (local), so every slot says where it came from."""
    values = []
    for i in range(weeks * 7 * 96):
        local = (start + Q * i).astimezone(AMS)
        values.append(local.weekday() + local.hour / 100)
    return SlotSeries(start, tuple(values))


def test_load_same_weekday_and_time() -> None:
    start = datetime(2025, 2, 3, tzinfo=UTC)
    history = weekly_history(start, 4)
    now = history.end
    forecast = load_forecast(history, now, 96, AMS)
    for i, value in enumerate(forecast):
        local = (now + Q * i).astimezone(AMS)
        assert value == pytest.approx(local.weekday() + local.hour / 100)


def test_load_across_a_dst_change_compares_wall_clock_time() -> None:
    """The week before 30 March 2025 was CET; 18:00 CEST is still 18:00."""
    start = datetime(2025, 3, 3, tzinfo=UTC)
    history = weekly_history(start, 4)
    now = datetime(2025, 3, 31, 16, 0, tzinfo=UTC)  # 18:00 CEST, a Monday
    assert history.end <= now
    history = SlotSeries(
        start, history.values + (float("nan"),) * round((now - history.end) / Q)
    )
    value = load_forecast(history, now, 1, AMS)[0]
    assert value == pytest.approx(0 + 18 / 100)


def test_ev_charging_is_excluded_and_gaps_fall_back() -> None:
    start = datetime(2025, 2, 3, tzinfo=UTC)
    n = 14 * 96
    house = SlotSeries(start, (0.5,) * n)
    ev = SlotSeries(start + Q * 10, (11.0,) * 8)
    house_with_ev = SlotSeries(
        start, tuple(0.5 + (11.0 if 10 <= i < 18 else 0.0) for i in range(n))
    )
    now = start + 14 * timedelta(days=1)
    forecast = load_forecast(house_with_ev, now, 96, AMS, exclude=ev)
    assert forecast == pytest.approx((0.5,) * 96)
    # No history at all: the flat estimate; history with holes: its mean.
    assert load_forecast(None, now, 4, AMS) == (DEFAULT_FLAT_LOAD_KW,) * 4
    short = SlotSeries(now - Q * 4, (1.0, 2.0, 3.0, 2.0))
    assert load_forecast(short, now, 96 * 3, AMS)[-1] == pytest.approx(2.0)
    del house


def test_pv_persistence_from_production_history() -> None:
    start = datetime(2025, 6, 1, tzinfo=UTC)
    days = [1.0, 2.0, 3.0]
    values = tuple(
        days[i // 96] * (1.0 if 40 <= i % 96 < 60 else 0.0) for i in range(3 * 96)
    )
    history = SlotSeries(start, values)
    now = history.end
    forecast = pv_persistence_forecast(history, now, 96, AMS)
    assert forecast[45] == pytest.approx(2.0)  # mean of the three days
    assert forecast[10] == 0.0
    assert pv_persistence_forecast(None, now, 3, AMS) == (0.0, 0.0, 0.0)


def test_slot_series_from_recorder_samples() -> None:
    t = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)
    samples = [
        (t - timedelta(minutes=5), 1.0),  # holds into the first quarter
        (t + timedelta(minutes=5), 4.0),
        (t + timedelta(minutes=20), None),  # unavailable from here
        (t + timedelta(minutes=40), 2.0),
    ]
    series = slot_series(samples, t, t + timedelta(hours=1))
    assert series.start == t
    assert series.values[0] == pytest.approx((5 * 1.0 + 10 * 4.0) / 15)
    assert series.values[1] == pytest.approx(4.0)  # known 5 of 15 minutes
    assert series.values[2] == pytest.approx(2.0)
    assert series.values[3] == pytest.approx(2.0)


def test_solar_forecast_platform_wh_hours() -> None:
    """Forecast.Solar's `wh_hours`: Wh per hour from each start -> kW per quarter."""
    wh_hours = {
        "2025-06-02T05:00:00+02:00": 120,
        "2025-06-02T06:00:00+02:00": 800,
        "2025-06-02T07:00:00+02:00": 2100,
        "bad": 5,
    }
    series = solar_forecast_series(wh_hours)
    assert series is not None
    assert series.start == datetime(2025, 6, 2, 3, 0, tzinfo=UTC)
    assert series.values == pytest.approx((0.12,) * 4 + (0.8,) * 4 + (2.1,) * 4)
    assert solar_forecast_series({}) is None
    now = datetime(2025, 6, 2, 4, 30, tzinfo=UTC)
    assert forecast_values(series, now, 8, (0.0,) * 8) == pytest.approx(
        (0.8, 0.8, 2.1, 2.1, 2.1, 2.1, 0.0, 0.0)
    )


def test_slot_series_must_start_on_a_quarter() -> None:
    with pytest.raises(ValueError, match="quarter"):
        SlotSeries(datetime(2025, 1, 1, 0, 5, tzinfo=UTC), (1.0,))


# --- the receding horizon --------------------------------------------------------


def site() -> SiteModel:
    return SiteModel(
        tz=AMS,
        grid=GridConnection(import_limit_kw=17, export_limit_kw=17),
        battery=BatteryModel(
            capacity_kwh=10, soc_kwh=0, max_charge_kw=5, max_discharge_kw=5
        ),
    )


def test_horizon_ends_with_the_known_prices() -> None:
    now = datetime(2025, 3, 12, 21, 5, tzinfo=AMS)
    prices = PriceSeries(
        tuple(
            PriceInterval(
                datetime(2025, 3, 12, tzinfo=AMS) + timedelta(hours=h),
                datetime(2025, 3, 12, tzinfo=AMS) + timedelta(hours=h + 1),
                0.30 if h < 24 else 0.10,
            )
            for h in range(48)
        )
    )
    problem = build_problem(
        site(), World(now=now, import_prices=prices, battery_soc_kwh=3)
    )
    assert problem is not None
    # 21:05 to midnight tomorrow: a 10-minute slot, then 26 h 45 min of quarters.
    assert problem.slots == 1 + 107
    assert problem.export_price == (0.0,) * problem.slots
    assert problem.battery is not None and problem.battery.soc_kwh == 3
    assert problem.load_kw == (DEFAULT_FLAT_LOAD_KW,) * problem.slots
    late = World(now=datetime(2025, 3, 15, tzinfo=AMS), import_prices=prices)
    assert build_problem(site(), late) is None
    assert replan(site(), late) is None


def test_replan_every_quarter_and_follow_the_first_slot() -> None:
    """A car plugged in at 22:00 that needs 22 kWh (2 h at 11 kW) by 07:00 charges
    in the two cheapest night hours, and every re-plan (warm-started) keeps it
    on course."""
    now = datetime(2025, 3, 12, 22, 0, tzinfo=AMS)
    night = [
        PriceInterval(now + timedelta(hours=h), now + timedelta(hours=h + 1), price)
        for h, price in enumerate(
            [0.30, 0.25, 0.12, 0.10, 0.11, 0.20, 0.28, 0.35, 0.40]
        )
    ]
    prices = PriceSeries(tuple(night))
    deadline = datetime(2025, 3, 13, 7, 0, tzinfo=AMS)
    delivered = 0.0
    previous = None
    for step in range(9 * 4):
        moment = now + Q * step
        goal = EvGoal(
            id="car", need_kwh=22.0 - delivered, max_power_kw=11.0, deadline=deadline
        )
        world = World(
            now=moment, import_prices=prices, battery_soc_kwh=0.0, evs=(goal,)
        )
        plan = replan(site(), world, previous)
        assert plan is not None
        targets = targets_at(plan, moment)
        assert targets is not None and targets.start == moment
        delivered += targets.ev_kw["car"] * 0.25
        previous = plan
        cheapest = moment.hour in (1, 2)  # 0.10 and 0.11
        assert targets.ev_kw["car"] == pytest.approx(11.0 if cheapest else 0.0)
    assert delivered == pytest.approx(22.0, abs=1e-4)
    assert targets_at(plan, moment + timedelta(days=1)) is None


def test_fixed_price_with_pv_persistence_plans_the_battery() -> None:
    now = datetime(2025, 6, 2, 0, 0, tzinfo=UTC)
    pv = SlotSeries(
        now - timedelta(days=1), tuple(4.0 if 32 <= i < 64 else 0.0 for i in range(96))
    )
    world = World(
        now=now,
        import_prices=fixed_price(0.3, now, 48),
        pv_history=pv,
        battery_soc_kwh=0.0,
    )
    plan = replan(site(), world)
    assert plan is not None and plan.slot_count == 192
    assert max(plan.pv_kw) == pytest.approx(4.0)
    assert BatteryMode.AUTO in plan.battery_mode
    assert max(plan.battery_soc_kwh) > 5  # it stores the midday surplus


def test_new_modules_import_without_home_assistant() -> None:
    """Loaded on its own (as the bench does), the planner brings no HA, no I/O."""
    core = (
        Path(__file__).resolve().parents[2]
        / "custom_components"
        / "energy_coordinator"
        / "energy"
    )
    code = (
        "import importlib, importlib.util, sys\n"
        "spec = importlib.util.spec_from_file_location(\n"
        "    'energy', sys.argv[1] + '/__init__.py',\n"
        "    submodule_search_locations=[sys.argv[1]])\n"
        "module = importlib.util.module_from_spec(spec)\n"
        "sys.modules['energy'] = module\n"
        "spec.loader.exec_module(module)\n"
        "for name in ('planner', 'plan_lp', 'plan_model', 'prices', 'forecast',\n"
        "             'horizon'):\n"
        "    importlib.import_module('energy.' + name)\n"
        "print(' '.join(sorted({m.split('.')[0] for m in sys.modules})))\n"
    )
    # Without pytest-cov's variables: its measuring in subprocesses imports more.
    env = {k: v for k, v in os.environ.items() if not k.startswith("COV_CORE_")}
    result = subprocess.run(
        [sys.executable, "-c", code, str(core)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        env=env,
    )
    loaded = set(result.stdout.split())
    assert {"energy", "highspy", "numpy"} <= loaded
    assert not loaded & {
        "homeassistant",
        "asyncio",
        "socket",
        "ssl",
        "sqlite3",
        "aiohttp",
    }
