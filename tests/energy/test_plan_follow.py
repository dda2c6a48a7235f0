"""The real-time controller following the horizon plan's slot (`SlotTargets`).

Charge mode `plan` (and `pv` / `minpv` where the plan covers the loadpoint) charges
at the planned power in planned slots and takes extra solar on top; the battery
follows the slot's mode; deferrable loads switch at the edges of their runs. The
real-time limits (grid limit, manual caps, target SoC, refusing chargers, missing
readings) always win.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from custom_components.energy_coordinator.energy import (
    BatteryMode,
    ChargeMode,
    ControllerState,
    Decision,
    LoadpointState,
    LoadState,
    PhaseSetting,
    SlotTargets,
    decide,
)
from custom_components.energy_coordinator.energy.horizon import targets_at
from custom_components.energy_coordinator.energy.plan_model import (
    EvGoal,
    PlanningProblem,
)
from custom_components.energy_coordinator.energy.planner import solve

from .builders import VOLTS, battery, ev, load, site, with_surplus

T0 = datetime(2026, 1, 12, 0, 0, tzinfo=UTC)
NOW = T0 + timedelta(minutes=5)


def slot(**values: Any) -> SlotTargets:
    """The slot 00:00-00:15 with the given targets."""
    return SlotTargets(start=T0, end=T0 + timedelta(minutes=15), **values)


def planned(kw: float, lp_id: str = "garage", **values: Any) -> SlotTargets:
    return slot(ev_kw={lp_id: kw}, import_price=0.11, **values)


def choose(
    snapshot: Any,
    targets: SlotTargets | None,
    state: ControllerState | None = None,
    when: datetime = NOW,
) -> Decision:
    return decide(snapshot, state, when, targets=targets)


# --- EVs ---------------------------------------------------------------------------


def test_plan_mode_charges_at_the_planned_power_without_surplus() -> None:
    """7.4 kW planned on three phases at 230 V: floor(7400 / 690) A, at once."""
    snapshot = with_surplus(site(ev(mode=ChargeMode.PLAN, phases_setting="3")), 0)
    decision = choose(snapshot, planned(7.4))
    action = decision.actions.vehicles["garage"]
    assert action.phases == 3
    assert action.current_a == pytest.approx(10.7)
    assert decision.codes("garage")[0] == "ev.plan.charge"
    (reason,) = [r for r in decision.explanation if r.code == "ev.plan.charge"]
    assert reason.message == (
        "'garage' charges as planned: 7.40 kW in this slot; 10.7 A on 3 phases."
    )


def test_more_solar_than_planned_is_taken_on_top() -> None:
    snapshot = with_surplus(site(ev(mode=ChargeMode.PLAN, phases_setting="3")), 9000)
    decision = choose(snapshot, planned(4.2))
    action = decision.actions.vehicles["garage"]
    assert action.current_a == pytest.approx(13.0)  # floor(9000 / 690)
    (reason,) = [r for r in decision.explanation if r.code == "ev.plan.charge"]
    assert "9.00 kW of solar surplus" in reason.message


def test_unplanned_slot_in_plan_mode_takes_solar_only() -> None:
    lp = ev(mode=ChargeMode.PLAN, phases_setting="3")
    running = ControllerState.create({"garage": LoadpointState(enabled=True)})
    night = choose(with_surplus(site(lp), 0), planned(0.0))
    assert night.actions.vehicles["garage"].current_a == 0
    assert night.codes("garage")[0] == "ev.plan.idle"
    sunny = choose(with_surplus(site(lp), 6900), planned(0.0), running)
    assert sunny.actions.vehicles["garage"].current_a == pytest.approx(10)
    assert "ev.pv.follow" in sunny.codes("garage")


def test_plan_mode_without_a_plan_says_so_and_behaves_as_pv() -> None:
    decision = choose(with_surplus(site(ev(mode=ChargeMode.PLAN)), 0), None)
    assert decision.actions.vehicles["garage"].current_a == 0
    assert decision.codes("garage")[:2] == ["ev.plan.none", "ev.pv.no_surplus"]


@pytest.mark.parametrize("mode", [ChargeMode.PV, ChargeMode.MIN_PV])
def test_pv_modes_follow_the_plan_where_it_covers_them(mode: ChargeMode) -> None:
    """A target time puts a pv / minpv loadpoint into the plan."""
    snapshot = with_surplus(site(ev(mode=mode, phases_setting="3")), 0)
    decision = choose(snapshot, planned(11.04))
    assert decision.actions.vehicles["garage"].current_a == pytest.approx(16)
    assert "ev.plan.charge" in decision.codes("garage")


@pytest.mark.parametrize("mode", [ChargeMode.OFF, ChargeMode.NOW])
def test_off_and_now_ignore_the_plan(mode: ChargeMode) -> None:
    snapshot = with_surplus(site(ev(mode=mode, phases_setting="3")), 0)
    decision = choose(snapshot, planned(4.2))
    expected = 0 if mode is ChargeMode.OFF else 16
    assert decision.actions.vehicles["garage"].current_a == expected
    assert "ev.plan.charge" not in decision.codes("garage")


def test_planned_power_on_one_phase_when_below_the_three_phase_minimum() -> None:
    """Automatic phases, not charging yet: 3.0 kW starts on one phase."""
    snapshot = with_surplus(site(ev(mode=ChargeMode.PLAN, active_phases=None)), 0)
    decision = choose(snapshot, planned(3.0))
    action = decision.actions.vehicles["garage"]
    assert action.phases == 1
    assert action.current_a == pytest.approx(13.0)  # floor(3000 / 230)


@pytest.mark.parametrize(
    ("overrides", "current", "code"),
    [
        pytest.param({"manual_cap_a": 8.0}, 8.0, "ev.manual.cap", id="manual-cap"),
        pytest.param({"manual_cap_a": 4.0}, 0.0, "ev.manual.pause", id="cap-pause"),
        pytest.param(
            {"vehicle_soc_pct": 81.0, "target_soc_pct": 80.0},
            0.0,
            "ev.target_soc",
            id="target-soc",
        ),
        pytest.param({"controllable": False}, 0.0, "ev.uncontrollable", id="refuses"),
        pytest.param({"online": False}, 0.0, "ev.offline", id="offline"),
        pytest.param({"connected": False}, 0.0, "ev.disconnected", id="unplugged"),
    ],
)
def test_real_time_limits_win_over_the_plan(
    overrides: dict[str, Any], current: float, code: str
) -> None:
    lp = ev(mode=ChargeMode.PLAN, phases_setting="3", **overrides)
    decision = choose(with_surplus(site(lp), 0), planned(11.04))
    assert decision.actions.vehicles["garage"].current_a == current
    assert code in decision.codes("garage")


def test_grid_limit_cuts_the_planned_power() -> None:
    """16 A limit, 2 kW house on any line: 16 - 8.7 = 7.3 A left for the EV."""
    snapshot = site(
        ev(mode=ChargeMode.PLAN, phases_setting="3"),
        pv_power_w=0.0,
        grid_power_w=2000.0,
        house_power_w=2000.0,
        grid_limit_a=16.0,
    )
    decision = choose(snapshot, planned(11.04))
    action = decision.actions.vehicles["garage"]
    assert action.current_a == pytest.approx(7.3)
    assert "ev.grid_limit.reduced" in decision.codes("garage")


def test_planned_charging_goes_on_without_the_grid_meter() -> None:
    """Planned power does not depend on the surplus: no fallback."""
    snapshot = site(ev(mode=ChargeMode.PLAN, phases_setting="3"), grid_power_w=None)
    decision = choose(snapshot, planned(6.9))
    assert decision.actions.vehicles["garage"].current_a == pytest.approx(10)
    assert "ev.fallback" not in decision.codes("garage")


def test_a_slot_that_is_over_is_not_followed() -> None:
    snapshot = with_surplus(site(ev(mode=ChargeMode.PLAN, phases_setting="3")), 0)
    later = T0 + timedelta(minutes=20)
    decision = choose(snapshot, planned(11.04), when=later)
    assert decision.actions.vehicles["garage"].current_a == 0
    assert decision.codes("garage")[0] == "ev.plan.none"


def test_following_a_solved_plan_slot_by_slot() -> None:
    """The planner's targets, handed to the controller, charge 22 kWh in the two
    cheapest hours and nothing in the others."""
    prices = (0.30,) * 4 + (0.10,) * 8 + (0.35,) * 4
    problem = PlanningProblem(
        start=T0,
        import_price=prices,
        export_price=(0.0,) * 16,
        pv_kw=(0.0,) * 16,
        load_kw=(0.0,) * 16,
        evs=(EvGoal(id="garage", need_kwh=22.0, max_power_kw=11.04),),
    )
    plan = solve(problem)
    lp = ev(mode=ChargeMode.PLAN, phases_setting="3")
    delivered = 0.0
    state = None
    for step in range(16):
        when = T0 + timedelta(minutes=15 * step + 1)
        targets = targets_at(plan, when)
        decision = decide(with_surplus(site(lp), 0), state, when, targets=targets)
        state = decision.new_state
        action = decision.actions.vehicles["garage"]
        delivered += action.power_w / 1000 * 0.25
        assert (action.current_a > 0) == (4 <= step < 12), step
    assert delivered == pytest.approx(22.0, abs=0.6)


# --- battery -----------------------------------------------------------------------


def _with_battery(**battery_overrides: Any) -> Any:
    return with_surplus(
        site(battery=battery(**battery_overrides), house_power_w=500.0), -500
    )


@pytest.mark.parametrize(
    ("mode", "kw", "expected_mode", "expected_w"),
    [
        (BatteryMode.CHARGE, 2.5, "charge", 2500.0),
        (BatteryMode.CHARGE, 5.0, "charge", 3000.0),  # its 3 kW charge limit
        (BatteryMode.DISCHARGE, -2.0, "discharge", -2000.0),
        (BatteryMode.DISCHARGE, -9.0, "discharge", -3000.0),
        (BatteryMode.HOLD, 0.0, "hold", 0.0),
        (BatteryMode.AUTO, 0.0, "auto", 0.0),
    ],
)
def test_battery_follows_the_slots_mode(
    mode: BatteryMode, kw: float, expected_mode: str, expected_w: float
) -> None:
    decision = choose(_with_battery(), slot(battery_mode=mode, battery_kw=kw))
    action = decision.actions.battery
    assert action is not None
    assert (action.mode.value, action.power_w) == (expected_mode, expected_w)
    assert any(c.startswith("battery.plan") for c in decision.codes("battery"))


def test_grid_charging_stays_under_the_grid_limit() -> None:
    """25 A on three lines, 2 kW house on any line (8.7 A): 16.3 A x 230 V x 1
    phase is what a one-phase battery inverter may add."""
    snapshot = site(
        battery=battery(max_charge_w=10000.0),
        pv_power_w=0.0,
        grid_power_w=2000.0,
        house_power_w=2000.0,
        grid_limit_a=25.0,
    )
    decision = choose(snapshot, slot(battery_mode=BatteryMode.CHARGE, battery_kw=8.0))
    action = decision.actions.battery
    assert action is not None and action.mode is BatteryMode.CHARGE
    assert action.power_w == pytest.approx((25 - 2000 / VOLTS) * VOLTS, abs=1)
    assert "battery.plan.limited" in decision.codes("battery")


def test_battery_held_without_readings_whatever_the_plan() -> None:
    snapshot = with_surplus(site(battery=battery(soc_pct=None)), 0)
    decision = choose(snapshot, slot(battery_mode=BatteryMode.DISCHARGE, battery_kw=-3))
    assert decision.actions.battery is not None
    assert decision.actions.battery.mode is BatteryMode.HOLD
    assert decision.codes("battery")[-1] == "battery.hold.fallback"


def test_planned_ev_may_draw_from_the_battery_in_an_auto_slot() -> None:
    """Without a plan a fast-charging EV holds the battery; in an `auto` slot the
    plan expects the battery to cover part of the planned charging."""
    snapshot = with_surplus(
        site(ev(mode=ChargeMode.PLAN, phases_setting="3"), battery=battery()), 0
    )
    targets = planned(7.0, battery_mode=BatteryMode.AUTO, battery_kw=-3.0)
    decision = choose(snapshot, targets)
    assert decision.actions.battery is not None
    assert decision.actions.battery.mode is BatteryMode.AUTO
    now_mode = with_surplus(
        site(ev(mode=ChargeMode.NOW, phases_setting="3"), battery=battery()), 0
    )
    held = choose(now_mode, slot(battery_mode=BatteryMode.AUTO))
    assert held.actions.battery is not None
    assert held.actions.battery.mode is BatteryMode.HOLD


# --- deferrable loads --------------------------------------------------------------


def _loads(*loads: Any, **overrides: Any) -> Any:
    return with_surplus(site(loads=loads, house_power_w=500.0, **overrides), 0)


def _roundtrip(state: ControllerState) -> ControllerState:
    return ControllerState.from_dict(json.loads(json.dumps(state.to_dict())))


def test_deferrable_load_switches_on_and_off_at_the_edges_of_its_run() -> None:
    boiler = "switch.boiler"
    off = load(boiler, 2000.0, is_on=False)
    start = choose(_loads(off), slot(loads_on={boiler: True}))
    assert start.actions.loads.plan_on == (boiler,)
    assert start.codes(boiler) == ["load.plan.on"]
    state = _roundtrip(start.new_state)
    assert state.load(boiler) == LoadState(planned=True)

    on = load(boiler, 2000.0, is_on=True)
    running = choose(_loads(on), slot(loads_on={boiler: True}), state)
    assert running.actions.loads.plan_on == ()
    assert running.actions.loads.plan_off == ()
    # A person switches it off during the run: the plan does not fight that.
    by_hand = choose(_loads(off), slot(loads_on={boiler: True}), state)
    assert by_hand.actions.loads.plan_on == ()

    over = choose(_loads(on), slot(loads_on={boiler: False}), state)
    assert over.actions.loads.plan_off == (boiler,)
    assert over.new_state.load(boiler) == LoadState()
    # Switched on by hand outside its run: left alone.
    untouched = choose(_loads(on), slot(loads_on={boiler: False}))
    assert untouched.actions.loads.plan_off == ()


def test_deferrable_load_waits_for_room_under_the_grid_limit() -> None:
    """16 A, 3.2 kW house on any line: 2.1 A are left, a 2 kW load needs 9.6 A."""
    boiler = "switch.boiler"
    snapshot = site(
        loads=(load(boiler, 2000.0, is_on=False),),
        pv_power_w=0.0,
        grid_power_w=3200.0,
        house_power_w=3200.0,
        grid_limit_a=16.0,
    )
    decision = choose(snapshot, slot(loads_on={boiler: True}))
    assert decision.actions.loads.plan_on == ()
    assert decision.codes(boiler) == ["load.plan.held"]
    assert decision.new_state.load(boiler) == LoadState()


def test_load_switched_on_for_its_run_counts_against_the_evs_headroom() -> None:
    """25 A, 1 kW house (4.35 A on any line): the EV gets its 16 A maximum; the
    2.3 kW boiler switched on now takes 10 A of the 20.65 A left."""
    boiler = "switch.boiler"
    snapshot = site(
        ev(mode=ChargeMode.NOW, phases_setting=PhaseSetting.THREE),
        loads=(load(boiler, 2300.0, is_on=False),),
        pv_power_w=0.0,
        grid_power_w=1000.0,
        house_power_w=1000.0,
        grid_limit_a=25.0,
    )
    assert choose(snapshot, None).actions.vehicles["garage"].current_a == 16
    decision = choose(snapshot, slot(loads_on={boiler: True}))
    assert decision.actions.loads.plan_on == (boiler,)
    assert decision.actions.vehicles["garage"].current_a == pytest.approx(10.6)
