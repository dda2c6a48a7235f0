"""The plan in words and data (`site.plan_view`), and the planner's text inputs.

Plans solved by the real planner for small hand-made problems; the sentences are
checked with the English strings of strings.json (as `explain_plan` fills them
in). No Home Assistant core is needed.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from homeassistant.util import dt as dt_util

from custom_components import energy_coordinator
from custom_components.energy_coordinator.energy.plan_model import (
    BatteryModel,
    DeferrableLoad,
    EvGoal,
    PlanningProblem,
)
from custom_components.energy_coordinator.energy.planner import solve
from custom_components.energy_coordinator.energy.prices import TouPeriod
from custom_components.energy_coordinator.site.plan_inputs import (
    TimeOfUseError,
    parse_time_of_use,
)
from custom_components.energy_coordinator.site.plan_view import (
    _Words,
    explain,
    plan_response,
    segments,
    sensor_attributes,
    sensor_state,
)
from custom_components.energy_coordinator.site.planning import (
    EvInfo,
    LoadInfo,
    PlanResult,
    _window,
    format_deadline,
)

T0 = datetime(2026, 1, 12, 0, 0, tzinfo=UTC)  # a Monday, midnight UTC


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """Override the package's autouse fixture: these tests need no hass."""


@pytest.fixture(autouse=True)
def utc_home() -> Any:
    """Sentences in UTC (the home's zone) for readable times."""
    previous = dt_util.get_default_time_zone()
    dt_util.set_default_time_zone(UTC)
    yield
    dt_util.set_default_time_zone(previous)


def _words() -> _Words:
    strings = json.loads(
        (Path(energy_coordinator.__file__).parent / "strings.json").read_text()
    )
    common = strings["common"]
    return _Words(
        {f"component.energy_coordinator.common.{k}": v for k, v in common.items()}
    )


def _problem(n: int = 16, **values: Any) -> PlanningProblem:
    base: dict[str, Any] = {
        "start": T0,
        "import_price": (0.30,) * n,
        "export_price": (0.0,) * n,
        "pv_kw": (0.0,) * n,
        "load_kw": (0.0,) * n,
    }
    return PlanningProblem(**(base | values))


def _ev(soc: float = 20.0, source: str = "charger") -> EvInfo:
    return EvInfo(
        id="car",
        name="Car",
        mode="plan",
        soc_pct=soc,
        soc_source=source,
        target_soc_pct=80.0,
        capacity_kwh=60.0,
        deadline=None,
    )


def _sentences(result: PlanResult) -> dict[str, str]:
    return {s.code: s.message for s in explain(_words(), result, "EUR", T0)}


# EVs ------------------------------------------------------------------------------


def test_cheapest_slots_before_the_deadline() -> None:
    prices = (0.30,) * 4 + (0.10,) * 8 + (0.35,) * 4
    deadline = T0 + timedelta(hours=3)
    plan = solve(
        _problem(
            import_price=prices,
            evs=(
                EvGoal(id="car", need_kwh=22.0, max_power_kw=11.0, deadline=deadline),
            ),
        )
    )
    result = PlanResult(T0, plan, evs={"car": _ev()})
    said = _sentences(result)
    assert said["ev_charge_cheapest"] == (
        "Car: charging 01:00\u201303:00 at 11.0 kW: the 8 cheapest slots before "
        "03:00, 0.100 EUR/kWh on average."
    )
    assert said["ev_planned"] == "Car: 80 % by 03:00 is planned."
    assert said["plan_summary"] == (
        "Expected cost 2.20 EUR until 04:00, with 0.0 kWh of solar used at home."
    )


def test_solar_and_mixed_charging_and_no_prices() -> None:
    pv = (0.0,) * 8 + (6.0,) * 8
    problem = _problem(
        pv_kw=pv,
        evs=(EvGoal(id="car", need_kwh=10.0, max_power_kw=11.0),),
    )
    plan = solve(problem)
    said = _sentences(PlanResult(T0, plan, evs={"car": _ev()}))
    assert said["ev_charge_solar"].startswith("Car: charging 02:00\u2013")
    more = solve(
        _problem(pv_kw=pv, evs=(EvGoal(id="car", need_kwh=20.0, max_power_kw=11.0),))
    )
    mixed = _sentences(PlanResult(T0, more, evs={"car": _ev()}))
    assert "kWh from solar, the rest at 0.300 EUR/kWh" in mixed["ev_charge_mixed"]
    nominal = _sentences(PlanResult(T0, more, nominal_prices=True, evs={"car": _ev()}))
    assert "kWh of it from solar" in nominal["ev_charge_no_price"]
    assert nominal["plan_summary_no_price"].startswith("No prices: the plan uses")


def test_reached_assumed_deferred_and_unreachable() -> None:
    done = solve(_problem(evs=(EvGoal(id="car", need_kwh=0.0, max_power_kw=11.0),)))
    said = _sentences(PlanResult(T0, done, evs={"car": _ev(80.0, "assumed")}))
    assert said["ev_reached"] == "Car: already at its 80 % target."
    assert said["ev_soc_assumed"] == (
        "Car: its state of charge is unknown, so the plan assumes 80 %."
    )
    later = T0 + timedelta(hours=10)
    deferred = solve(
        _problem(
            evs=(EvGoal(id="car", need_kwh=40.0, max_power_kw=11.0, deadline=later),),
        )
    )
    said = _sentences(PlanResult(T0, deferred, evs={"car": _ev()}))
    assert said["ev_deferred"].startswith("Car: ")
    assert said["ev_deferred"].endswith(" kWh wait for the prices after 04:00.")
    short = solve(
        _problem(
            evs=(
                EvGoal(
                    id="car",
                    need_kwh=40.0,
                    max_power_kw=11.0,
                    deadline=T0 + timedelta(hours=2),
                ),
            ),
        )
    )
    said = _sentences(PlanResult(T0, short, evs={"car": _ev()}))
    assert said["ev_unreachable"] == (
        "Car: 80 % by 02:00 is not reachable: planning 53 %."
    )


def test_long_runs_are_cut_with_and_more() -> None:
    prices = tuple(0.10 if i % 2 == 0 else 0.40 for i in range(16))
    plan = solve(
        _problem(
            import_price=prices,
            evs=(EvGoal(id="car", need_kwh=11.0, max_power_kw=5.5),),
        )
    )
    message = _sentences(PlanResult(T0, plan, evs={"car": _ev()}))["ev_charge_cheapest"]
    assert message.startswith(
        "Car: charging 00:00\u201300:15 at 5.5 kW, 00:30\u201300:45 at 5.5 kW, "
        "01:00\u201301:15 at 5.5 kW and 5 more: the 8 cheapest slots"
    )


# Battery and loads ------------------------------------------------------------


def _battery(**values: Any) -> BatteryModel:
    base: dict[str, Any] = {
        "capacity_kwh": 10.0,
        "soc_kwh": 5.0,
        "max_charge_kw": 4.0,
        "max_discharge_kw": 4.0,
        "min_soc_kwh": 1.0,
    }
    return BatteryModel(**(base | values))


def test_battery_charges_cheap_and_discharges_dear() -> None:
    prices = (0.10,) * 8 + (0.40,) * 8
    plan = solve(
        _problem(
            import_price=prices,
            export_price=(0.30,) * 16,
            load_kw=(0.5,) * 16,
            battery=_battery(),
        )
    )
    result = PlanResult(T0, plan, battery_capacity_kwh=10.0)
    said = _sentences(result)
    assert said["battery_charge"].startswith("Home battery: charging from the grid ")
    assert "to use when it costs 0.400 EUR/kWh" in said["battery_charge"]
    assert said["battery_discharge"].startswith("Home battery: discharging ")
    attributes = sensor_attributes(result, {}, "EUR", T0)
    soc = attributes["slots"]["battery_soc_pct"]
    assert len(soc) == 16 and max(soc) > 50.0
    assert attributes["slots"]["battery_kw"][0] > 0


def test_battery_holds_and_runs_on_its_own() -> None:
    held = solve(
        _problem(
            import_price=(0.10,) * 8 + (0.50,) * 8,
            load_kw=(1.0,) * 16,
            battery=_battery(soc_kwh=4.0, max_charge_kw=0.0),
        )
    )
    said = _sentences(PlanResult(T0, held, battery_capacity_kwh=10.0))
    assert said["battery_hold"].startswith("Home battery: holding its charge ")
    flat = solve(_problem(load_kw=(0.0,) * 16, battery=_battery(soc_kwh=1.0)))
    assert _sentences(PlanResult(T0, flat))["battery_auto"] == (
        "Home battery: self-consumption all along."
    )


def _load_info(run: float = 1.0, done: float = 0.0) -> LoadInfo:
    return LoadInfo(
        id="boiler",
        name="Boiler",
        power_kw=2.0,
        run_hours=run,
        done_hours=done,
        window_start=T0,
        window_end=T0 + timedelta(hours=4),
    )


def test_load_sentences() -> None:
    prices = (0.30,) * 4 + (0.10,) * 4 + (0.30,) * 8
    plan = solve(
        _problem(
            import_price=prices,
            loads=(DeferrableLoad(id="boiler", power_kw=2.0, run_hours=1.0),),
        )
    )
    said = _sentences(PlanResult(T0, plan, loads={"boiler": _load_info()}))
    assert said["load_run"] == (
        "Boiler: running 01:00\u201302:00, 0.100 EUR/kWh on average."
    )
    nominal = _sentences(
        PlanResult(T0, plan, nominal_prices=True, loads={"boiler": _load_info()})
    )
    assert nominal["load_run_no_price"] == "Boiler: running 01:00\u201302:00."
    done = solve(
        _problem(loads=(DeferrableLoad(id="boiler", power_kw=2.0, run_hours=0.0),))
    )
    said = _sentences(PlanResult(T0, done, loads={"boiler": _load_info(1.0, 1.0)}))
    assert said["load_done"] == "Boiler: its 1.0 h have run in this window."


# No plan, and the data shapes -------------------------------------------------


def test_no_plan_sentences_and_responses() -> None:
    words = _words()
    assert explain(words, None, "EUR", T0)[0].code == "plan_pending"
    for reason, code in (
        ("no_prices", "plan_unavailable_no_prices"),
        ("price_shape", "plan_unavailable_price_shape"),
        ("solver_failed", "plan_unavailable_solver"),
    ):
        (sentence,) = explain(
            words, PlanResult(T0, None, reason, price_entity="sensor.p"), "EUR", T0
        )
        assert sentence.code == code
    pending = plan_response(None, {}, "EUR")
    assert (pending["status"], pending["reason"], pending["slots"]) == (
        "unavailable",
        "pending",
        [],
    )
    failed = plan_response(PlanResult(T0, None, "solver_failed"), {}, "EUR")
    assert failed["goals"] == [] and failed["expected_cost"] is None
    assert sensor_state(None, T0) is None
    assert sensor_attributes(None, {}, "EUR", T0) == {
        "status": "unavailable",
        "reason": "pending",
    }


def test_segments_merge_equal_slots() -> None:
    prices = (0.30,) * 4 + (0.10,) * 8 + (0.35,) * 4
    plan = solve(
        _problem(
            import_price=prices,
            evs=(EvGoal(id="car", need_kwh=22.0, max_power_kw=11.0),),
        )
    )
    found = [(s.first, s.last, s.ev_kw) for s in segments(plan)]
    assert found == [(0, 3, (0.0,)), (4, 11, (11.0,)), (12, 15, (0.0,))]
    result = PlanResult(T0, plan, evs={"car": _ev()})
    assert sensor_state(result, T0) == T0 + timedelta(hours=1)
    assert sensor_state(result, T0 + timedelta(hours=3, minutes=1)) is None


# Text inputs ------------------------------------------------------------------


def test_time_of_use_text() -> None:
    periods = parse_time_of_use(
        "00:00 0.20\nmon-fri 07:00 0.35; sat,sun 00:00 0,15\nfri-mon 22:00 0.1"
    )
    assert periods[0] == TouPeriod(time(0, 0), 0.20)
    assert periods[1] == TouPeriod(time(7, 0), 0.35, frozenset(range(5)))
    assert periods[2] == TouPeriod(time(0, 0), 0.15, frozenset({5, 6}))
    assert periods[3].weekdays == frozenset({4, 5, 6, 0})
    for bad in ("", "07:00", "25:00 0.1", "7:60 0.2", "someday 07:00 0.3"):
        with pytest.raises(TimeOfUseError):
            parse_time_of_use(bad)


def test_daily_windows_and_deadlines() -> None:
    noon = T0 + timedelta(hours=12)
    assert _window(noon, time(8), time(18)) == (
        T0 + timedelta(hours=8),
        T0 + timedelta(hours=18),
    )
    # After today's window: tomorrow's. Across midnight: from yesterday's evening.
    assert _window(noon, time(6), time(10))[0] == T0 + timedelta(days=1, hours=6)
    assert _window(T0 + timedelta(hours=2), time(22), time(6)) == (
        T0 - timedelta(hours=2),
        T0 + timedelta(hours=6),
    )
    # No times: the whole day from midnight.
    assert _window(noon, None, None) == (T0, T0 + timedelta(days=1))
    assert format_deadline(T0 + timedelta(hours=7), T0) == "07:00"
    assert format_deadline(T0 + timedelta(days=2), T0) == "2026-01-14 00:00"


def test_the_sensor_names_twenty_goals_and_counts_all() -> None:
    """A garage's plan: the sensor stays small; `get_plan` has every EV."""
    evs = tuple(
        EvGoal(id=f"cp{i:02d}/1", need_kwh=2.0, max_power_kw=11.0) for i in range(25)
    )
    plan = solve(_problem(n=8, evs=evs))
    infos = {goal.id: replace(_ev(), id=goal.id, name=goal.id) for goal in evs}
    result = PlanResult(T0, plan, evs=infos)
    attributes = sensor_attributes(result, {}, "EUR", T0)
    assert attributes["goals_total"] == 25 and attributes["goals_missed"] == 0
    assert len(attributes["goals"]) == 20
    assert len(attributes["slots"]["ev_kw"]) == 20
    assert sum(attributes["slots"]["ev_kw_total"]) * 0.25 == pytest.approx(50.0)
    assert all(len(s["ev_kw"]) == 20 for s in attributes["segments"])
    response = plan_response(result, {}, "EUR")
    assert len(response["goals"]) == 25
    assert len(response["slots"][0]["ev_kw"]) == 25
