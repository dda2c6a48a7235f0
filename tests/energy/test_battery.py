"""Battery priority, buffer support and the battery command."""

from __future__ import annotations

import pytest

from custom_components.energy_coordinator.energy import (
    BatteryMode,
    ChargeMode,
    ControllerState,
    Decision,
    LoadpointState,
    PhaseSetting,
    decide,
)

from .builders import VOLTS, battery, drive, ev, site, with_surplus

ONE_PHASE_PV = ev(phases_setting=PhaseSetting.ONE, active_phases=1)
STEPS = [float(t) for t in range(0, 301, 10)]


def charging_pv(phases: int = 1) -> ControllerState:
    return ControllerState.create(
        {"garage": LoadpointState(enabled=True, phases=phases)}
    )


def current(decision: Decision) -> float:
    return decision.actions.vehicles["garage"].current_a


def test_below_priority_soc_the_ev_never_starts_on_the_batterys_share() -> None:
    # 3 kW of surplus, all of which the battery (3 kW limit) may take.
    d = drive(
        ONE_PHASE_PV,
        lambda t: 3000,
        STEPS,
        battery=battery(soc_pct=20, priority_soc_pct=50),
    )
    assert not any(x.actions.vehicles["garage"].charging for x in d.values())
    assert "battery.priority" in d[0.0].codes("battery")
    assert d[0.0].status.ev_surplus_w == pytest.approx(0.0)


def test_below_priority_soc_the_ev_gets_what_exceeds_the_battery_limit() -> None:
    snapshot = with_surplus(
        site(ONE_PHASE_PV, battery=battery(soc_pct=20, priority_soc_pct=50)), 6000
    )
    decision = decide(snapshot, charging_pv(), 0.0)
    assert current(decision) == pytest.approx(13.0)  # 3 kW / 230 V


def test_below_priority_soc_without_limit_the_battery_keeps_what_it_takes() -> None:
    snapshot = with_surplus(
        site(
            ONE_PHASE_PV,
            battery=battery(
                soc_pct=20, priority_soc_pct=50, max_charge_w=None, power_w=2000
            ),
        ),
        5000,
    )
    decision = decide(snapshot, charging_pv(), 0.0)
    assert decision.status.ev_surplus_w == pytest.approx(3000)


def test_between_priority_and_buffer_battery_charging_counts_as_surplus() -> None:
    # Nothing exported: the battery soaks up 2 kW. The EV may take it.
    snapshot = site(
        ONE_PHASE_PV,
        grid_power_w=0.0,
        battery=battery(
            soc_pct=60, power_w=2000, priority_soc_pct=50, buffer_soc_pct=80
        ),
    )
    decision = decide(snapshot, charging_pv(), 0.0)
    assert current(decision) == pytest.approx(8.6)


def test_between_thresholds_the_battery_does_not_discharge_for_the_ev() -> None:
    # The battery discharges 1 kW into the charging EV: that is not surplus.
    snapshot = site(
        ev(
            phases_setting=PhaseSetting.ONE,
            active_phases=1,
            charging_power_w=1380.0,
        ),
        grid_power_w=0.0,
        battery=battery(
            soc_pct=60, power_w=-1000, priority_soc_pct=50, buffer_soc_pct=80
        ),
    )
    decision = decide(snapshot, charging_pv(), 0.0)
    assert decision.status.ev_surplus_w == pytest.approx(380)
    assert "ev.pv.disable_wait" in decision.codes("garage")
    assert decision.actions.battery is not None
    assert decision.actions.battery.mode == BatteryMode.HOLD


def test_above_buffer_soc_the_battery_keeps_a_pv_ev_charging() -> None:
    d = drive(
        ONE_PHASE_PV,
        lambda t: 0,
        STEPS,
        state=charging_pv(),
        battery=battery(soc_pct=90, buffer_soc_pct=80, max_discharge_w=2000),
    )
    for decision in d.values():
        assert current(decision) == pytest.approx(8.6)  # 2 kW of support
        assert decision.actions.battery is not None
        assert decision.actions.battery.mode == BatteryMode.AUTO
    assert "battery.support" in d[0.0].codes("battery")


def test_above_buffer_soc_support_does_not_start_an_ev() -> None:
    d = drive(
        ONE_PHASE_PV,
        lambda t: 0,
        STEPS,
        battery=battery(soc_pct=90, buffer_soc_pct=80, max_discharge_w=3000),
    )
    assert not any(x.actions.vehicles["garage"].charging for x in d.values())


def test_at_buffer_soc_no_support() -> None:
    snapshot = with_surplus(
        site(ONE_PHASE_PV, battery=battery(soc_pct=80, buffer_soc_pct=80)), 0
    )
    decision = decide(snapshot, charging_pv(), 0.0)
    assert current(decision) == pytest.approx(6.0)
    assert "ev.pv.disable_wait" in decision.codes("garage")


def test_battery_held_while_a_now_ev_draws_more_than_the_surplus() -> None:
    snapshot = with_surplus(
        site(ev(mode=ChargeMode.NOW), battery=battery(soc_pct=90, buffer_soc_pct=80)),
        2000,
    )
    decision = decide(snapshot, None, 0.0)
    assert decision.actions.battery is not None
    assert decision.actions.battery.mode == BatteryMode.HOLD
    assert decision.actions.battery.power_w == 0
    assert "battery.hold.ev" in decision.codes("battery")


def test_battery_auto_when_the_surplus_covers_the_ev() -> None:
    snapshot = with_surplus(
        site(ev(mode=ChargeMode.NOW), battery=battery()), 16 * VOLTS * 3 + 2000
    )
    decision = decide(snapshot, None, 0.0)
    assert decision.actions.battery is not None
    assert decision.actions.battery.mode == BatteryMode.AUTO
    assert decision.as_dict()["actions"]["battery"] == {
        "mode": "auto",
        "power_kw": 0.0,
    }


def test_no_battery_no_battery_action() -> None:
    decision = decide(site(ev()), None, 0.0)
    assert decision.actions.battery is None
    assert decision.as_dict()["actions"]["battery"] is None


def test_status_reports_battery_energy() -> None:
    decision = decide(
        site(ev(), battery=battery(soc_pct=45, capacity_kwh=13.5)), None, 0
    )
    assert decision.status.battery_kwh == pytest.approx(6.075)
    assert decision.as_dict()["status"]["battery_kwh"] == pytest.approx(6.075)
