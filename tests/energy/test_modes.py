"""Charge-mode semantics: off, now, min+pv, pv; plug, SoC and priority rules."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from custom_components.energy_coordinator.energy import (
    ChargeMode,
    ControllerState,
    LoadpointSnapshot,
    LoadpointState,
    PhaseSetting,
    decide,
)

from .builders import VOLTS, ev, site, with_surplus

CHARGING_PV = ControllerState.create({"garage": LoadpointState(enabled=True, phases=3)})


@pytest.mark.parametrize(
    ("lp", "surplus_w", "state", "current", "phases", "code"),
    [
        pytest.param(ev(mode=ChargeMode.OFF), 9000, None, 0, 3, "ev.off", id="off"),
        pytest.param(ev(mode=ChargeMode.NOW), -5000, None, 16, 3, "ev.now", id="now"),
        pytest.param(
            ev(mode=ChargeMode.NOW, phases_setting=PhaseSetting.ONE, max_current_a=32),
            0,
            None,
            32,
            1,
            "ev.now",
            id="now-one-phase-setting",
        ),
        pytest.param(
            ev(mode=ChargeMode.MIN_PV, active_phases=1),
            0,
            None,
            6,
            1,
            "ev.minpv",
            id="minpv-no-surplus-min",
        ),
        pytest.param(
            ev(mode=ChargeMode.MIN_PV),
            6900,
            None,
            10,
            3,
            "ev.minpv",
            id="minpv-follows-surplus",
        ),
        pytest.param(
            ev(mode=ChargeMode.PV), 6900, CHARGING_PV, 10, 3, "ev.pv.follow", id="pv"
        ),
        pytest.param(
            ev(mode=ChargeMode.PV),
            20000,
            CHARGING_PV,
            16,
            3,
            "ev.pv.follow",
            id="pv-capped-at-max",
        ),
        pytest.param(
            ev(mode=ChargeMode.PV, active_phases=1),
            1000,
            None,
            0,
            1,
            "ev.pv.no_surplus",
            id="pv-no-surplus",
        ),
        pytest.param(
            ev(mode=ChargeMode.NOW, connected=False),
            0,
            None,
            0,
            3,
            "ev.disconnected",
            id="unplugged",
        ),
        pytest.param(
            ev(mode=ChargeMode.NOW, online=False),
            0,
            None,
            0,
            3,
            "ev.offline",
            id="offline",
        ),
        pytest.param(
            ev(mode=ChargeMode.NOW, vehicle_soc_pct=80, target_soc_pct=80),
            0,
            None,
            0,
            3,
            "ev.target_soc",
            id="target-soc-reached",
        ),
        pytest.param(
            ev(mode=ChargeMode.PV, vehicle_soc_pct=10, min_soc_pct=20),
            0,
            None,
            16,
            3,
            "ev.min_soc",
            id="below-min-soc-charges-fast",
        ),
    ],
)
def test_mode_table(
    lp: LoadpointSnapshot,
    surplus_w: float,
    state: ControllerState | None,
    current: float,
    phases: int,
    code: str,
) -> None:
    decision = decide(with_surplus(site(lp), surplus_w), state, 0.0)
    action = decision.actions.vehicles["garage"]
    assert action.current_a == pytest.approx(current)
    assert action.phases == phases
    assert code in decision.codes("garage")
    assert action.power_w == pytest.approx(current * VOLTS * phases)


def test_off_is_a_pause_not_a_stop() -> None:
    decision = decide(site(ev(mode=ChargeMode.OFF)), None, 0.0)
    action = decision.as_dict()["actions"]["vehicles"]["garage"]
    assert action == {
        "mode": "off",
        "charging": False,
        "current_a": 0.0,
        "phases": 3,
        "power_kw": 0.0,
    }


@settings(max_examples=150, deadline=None)
@given(
    mode=st.sampled_from(ChargeMode),
    surplus_w=st.floats(-20000, 30000),
    min_a=st.floats(5, 10),
    max_a=st.floats(10, 32),
    enabled=st.booleans(),
    phases=st.sampled_from([1, 3]),
)
def test_mode_properties_without_limit(
    mode: ChargeMode,
    surplus_w: float,
    min_a: float,
    max_a: float,
    enabled: bool,
    phases: int,
) -> None:
    lp = ev(
        mode=mode,
        min_current_a=min_a,
        max_current_a=max_a,
        phases_setting=PhaseSetting.ONE if phases == 1 else PhaseSetting.THREE,
        active_phases=phases,
    )
    state = ControllerState.create(
        {"garage": LoadpointState(enabled=enabled, phases=phases)}
    )
    decision = decide(with_surplus(site(lp), surplus_w), state, 0.0)
    current = decision.actions.vehicles["garage"].current_a
    assert current == 0 or min_a - 1e-6 <= current <= max_a + 1e-6
    if mode == ChargeMode.OFF:
        assert current == 0
    elif mode == ChargeMode.NOW:
        assert current == pytest.approx(max_a, abs=0.1)
    elif mode == ChargeMode.MIN_PV:
        assert current >= min_a - 1e-6
        target = min(max_a, max(min_a, surplus_w / (VOLTS * phases)))
        assert current == pytest.approx(target, abs=0.1)
    elif enabled and surplus_w >= min_a * VOLTS * phases:
        # PV, charging: follows the surplus (rounded down to 0.1 A).
        target = min(max_a, surplus_w / (VOLTS * phases))
        assert target - 0.1 - 1e-6 <= current <= target + 1e-6
    elif not enabled:
        assert current == 0  # never starts without the enable delay


def test_surplus_goes_to_higher_priority_first() -> None:
    snapshot = with_surplus(
        site(
            ev("low", priority=0, active_phases=1, phases_setting=PhaseSetting.ONE),
            ev("high", priority=1, active_phases=1, phases_setting=PhaseSetting.ONE),
        ),
        4000,
    )
    state = ControllerState.create(
        {
            "low": LoadpointState(enabled=True, phases=1),
            "high": LoadpointState(enabled=True, phases=1),
        }
    )
    vehicles = decide(snapshot, state, 0.0).actions.vehicles
    assert vehicles["high"].current_a == pytest.approx(16.0)  # 3.68 kW
    assert vehicles["low"].current_a == pytest.approx(6.0)  # at min, importing


def test_now_vehicle_is_served_before_pv_vehicles() -> None:
    snapshot = with_surplus(
        site(
            ev("fast", mode=ChargeMode.NOW, priority=0),
            ev("solar", priority=5, phases_setting=PhaseSetting.THREE),
        ),
        12000,
    )
    state = ControllerState.create({"solar": LoadpointState(enabled=True, phases=3)})
    vehicles = decide(snapshot, state, 0.0).actions.vehicles
    assert vehicles["fast"].current_a == pytest.approx(16)
    # 12 kW - 11.04 kW for the fast one = 0.96 kW: below 3-phase minimum.
    assert vehicles["solar"].current_a == pytest.approx(6)
