"""Hysteresis timers driven by explicit `now` steps.

Defaults: start after 60 s of surplus, stop after 180 s of import at minimum
current, to 1 phase after 60 s below the 3-phase minimum, to 3 phases after
120 s above it, 60 s settle after each switch. With 6 A at 230 V the minimum
power is 1.38 kW on one phase and 4.14 kW on three.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from custom_components.energy_coordinator.energy import (
    ChargeMode,
    ControllerSettings,
    ControllerState,
    Decision,
    LoadpointState,
    PhaseSetting,
    decide,
)

from .builders import drive, ev, site, with_surplus

STEPS = [float(t) for t in range(0, 601, 10)]


type Decisions = dict[float, Decision]


def charging(decisions: Decisions, t: float) -> bool:
    return decisions[t].actions.vehicles["garage"].charging


def phases(decisions: Decisions, t: float) -> int:
    return decisions[t].actions.vehicles["garage"].phases


def enabled(phases_now: int) -> ControllerState:
    return ControllerState.create(
        {"garage": LoadpointState(enabled=True, phases=phases_now)}
    )


def first_time(decisions: Decisions, predicate: Callable[[float], bool]) -> float:
    return min(t for t in decisions if predicate(t))


def test_starts_after_enable_delay() -> None:
    d = drive(ev(phases_setting=PhaseSetting.THREE), lambda t: 5000, STEPS)
    assert not any(charging(d, t) for t in STEPS if t < 60)
    assert all(charging(d, t) for t in STEPS if t >= 60)
    assert "ev.pv.enable_wait" in d[50.0].codes("garage")
    assert "ev.pv.enabled" in d[60.0].codes("garage")


def test_enable_timer_restarts_when_surplus_dips() -> None:
    d = drive(
        ev(phases_setting=PhaseSetting.THREE),
        lambda t: 1000 if t == 30 else 5000,
        STEPS,
    )
    assert first_time(d, lambda t: charging(d, t)) == 100  # 40 + 60
    assert "ev.pv.no_surplus" in d[30.0].codes("garage")


def test_custom_enable_delay() -> None:
    d = drive(
        ev(phases_setting=PhaseSetting.THREE),
        lambda t: 5000,
        STEPS,
        settings=ControllerSettings(enable_delay_s=30),
    )
    assert first_time(d, lambda t: charging(d, t)) == 30


def test_stops_after_disable_delay_at_min_current() -> None:
    d = drive(
        ev(phases_setting=PhaseSetting.THREE), lambda t: 2000, STEPS, state=enabled(3)
    )
    for t in STEPS:
        if t < 180:
            assert charging(d, t)
            assert d[t].actions.vehicles["garage"].current_a == pytest.approx(6.0)
    assert not charging(d, 180.0)
    assert "ev.pv.disable_wait" in d[170.0].codes("garage")
    assert "ev.pv.disabled" in d[180.0].codes("garage")
    # Stopped, it does not restart without a new enable delay.
    assert not any(charging(d, t) for t in STEPS if t >= 180)


def test_disable_timer_restarts_when_surplus_recovers() -> None:
    d = drive(
        ev(phases_setting=PhaseSetting.THREE),
        lambda t: 5000 if t == 100 else 2000,
        STEPS,
        state=enabled(3),
    )
    assert first_time(d, lambda t: not charging(d, t)) == 290  # 110 + 180


def test_disable_threshold_tolerates_some_import() -> None:
    d = drive(
        ev(phases_setting=PhaseSetting.THREE),
        lambda t: 3800,  # 340 W short of the 4.14 kW minimum
        STEPS,
        state=enabled(3),
        settings=ControllerSettings(disable_threshold_w=500),
    )
    assert all(charging(d, t) for t in STEPS)


def test_idle_vehicle_starts_on_the_phases_the_surplus_covers() -> None:
    three = drive(ev(), lambda t: 5000, STEPS[:8])
    one = drive(ev(), lambda t: 2000, STEPS[:8])
    assert phases(three, 60.0) == 3 and charging(three, 60.0)
    assert phases(one, 0.0) == 1  # switched at once while idle
    assert phases(one, 60.0) == 1 and charging(one, 60.0)


def test_switches_to_one_phase_after_delay() -> None:
    d = drive(ev(), lambda t: 3000, STEPS, state=enabled(3))
    assert all(phases(d, t) == 3 for t in STEPS if t < 60)
    assert "ev.phase.wait" in d[50.0].codes("garage")
    assert phases(d, 60.0) == 1
    assert "ev.phase.switch" in d[60.0].codes("garage")
    assert d[60.0].actions.vehicles["garage"].current_a == pytest.approx(13.0)
    assert all(charging(d, t) for t in STEPS)  # 3 kW covers the 1-phase minimum


def test_switches_to_three_phases_after_delay() -> None:
    d = drive(ev(), lambda t: 6000, STEPS, state=enabled(1))
    assert all(phases(d, t) == 1 for t in STEPS if t < 120)
    assert phases(d, 120.0) == 3
    assert d[120.0].actions.vehicles["garage"].current_a == pytest.approx(8.6)


def test_no_switch_back_within_settle_time() -> None:
    # Down to 1 phase at 60 s, then the surplus jumps above the 3-phase minimum.
    d = drive(ev(), lambda t: 3000 if t <= 60 else 6000, STEPS, state=enabled(3))
    assert phases(d, 60.0) == 1
    for t in (70.0, 110.0):
        assert phases(d, t) == 1
        assert "ev.phase.settling" in d[t].codes("garage")
    # Settled at 120 s: the 120 s to-3-phase timer starts then.
    assert first_time(d, lambda t: t > 60 and phases(d, t) == 3) == 240


def test_stop_timer_waits_for_the_switch_to_settle() -> None:
    # 1 kW: below the 1-phase minimum too. Switch at 60 s, settle to 120 s, then
    # 180 s of import at minimum current: stop at 300 s.
    d = drive(ev(), lambda t: 1000, STEPS, state=enabled(3))
    assert phases(d, 60.0) == 1
    assert "ev.pv.settling" in d[100.0].codes("garage")
    assert charging(d, 290.0)
    assert not charging(d, 300.0)


def test_custom_phase_delays() -> None:
    d = drive(
        ev(),
        lambda t: 3000,
        STEPS,
        state=enabled(3),
        settings=ControllerSettings(phase_to_1p_delay_s=20),
    )
    assert phases(d, 10.0) == 3 and phases(d, 20.0) == 1


def test_now_mode_switches_to_three_phases_at_once() -> None:
    d = drive(ev(mode=ChargeMode.NOW, active_phases=1), lambda t: 0, STEPS[:2])
    assert phases(d, 0.0) == 3


def test_datetime_and_float_times_agree() -> None:
    start = datetime(2026, 6, 1, 12, tzinfo=UTC)
    snapshot = with_surplus(site(ev(phases_setting=PhaseSetting.THREE)), 5000)
    state = None
    for step in range(7):
        decision = decide(snapshot, state, start + timedelta(seconds=10 * step))
        state = decision.new_state
    assert decision.actions.vehicles["garage"].charging


def test_clock_going_backwards_restarts_timers_without_error() -> None:
    d = drive(
        ev(phases_setting=PhaseSetting.THREE),
        lambda t: 5000,
        [0.0, 30.0, 10.0, 40.0, 70.0],
    )
    assert not charging(d, 40.0)  # timer restarted at 10 s
    assert charging(d, 70.0)


def test_same_inputs_same_decision() -> None:
    first = drive(ev(), lambda t: 3000 + 10 * t, STEPS)
    second = drive(ev(), lambda t: 3000 + 10 * t, STEPS)
    for t in STEPS:
        assert first[t].as_dict() == second[t].as_dict()
        assert first[t].new_state == second[t].new_state
