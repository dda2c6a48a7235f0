"""Unavailable or stale inputs: a safe fallback, named in the explanation."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from custom_components.energy_coordinator.energy import (
    BatteryMode,
    BatterySnapshot,
    ChargeMode,
    ControllerSettings,
    ControllerState,
    FallbackPolicy,
    FlexibleLoadSnapshot,
    LoadpointSnapshot,
    LoadpointState,
    PhaseSetting,
    SiteSnapshot,
    decide,
)

from .builders import battery, ev, site, with_surplus

CHARGING = ControllerState.create({"garage": LoadpointState(enabled=True, phases=3)})
MINIMUM = ControllerSettings(fallback=FallbackPolicy.MINIMUM)


def healthy(mode: ChargeMode = ChargeMode.PV) -> SiteSnapshot:
    return with_surplus(
        site(ev(mode=mode, charging_power_w=6900.0), battery=battery()), 6900
    )


def messages(decision: Any) -> str:
    return " ".join(r.message for r in decision.explanation)


@pytest.mark.parametrize(
    ("broken", "fallback", "mode", "current", "named"),
    [
        pytest.param(
            lambda s: replace(s, grid_power_w=None),
            None,
            ChargeMode.PV,
            0,
            "Grid power is unavailable",
            id="grid-missing-pv-pauses",
        ),
        pytest.param(
            lambda s: replace(s, stale=frozenset({"grid_power"})),
            None,
            ChargeMode.PV,
            0,
            "Grid power is stale",
            id="grid-stale-pv-pauses",
        ),
        pytest.param(
            lambda s: replace(s, grid_power_w=math.nan),
            None,
            ChargeMode.PV,
            0,
            "Grid power is unavailable",
            id="grid-nan",
        ),
        pytest.param(
            lambda s: replace(s, grid_power_w=None),
            MINIMUM,
            ChargeMode.PV,
            6,
            "grid power is unavailable",
            id="grid-missing-pv-minimum-policy",
        ),
        pytest.param(
            lambda s: replace(s, grid_power_w=None),
            None,
            ChargeMode.MIN_PV,
            6,
            "grid power is unavailable",
            id="grid-missing-minpv-minimum",
        ),
        pytest.param(
            lambda s: replace(s, grid_power_w=None),
            None,
            ChargeMode.NOW,
            16,
            "Grid power is unavailable",
            id="grid-missing-now-carries-on",
        ),
        pytest.param(
            lambda s: replace(
                s, loadpoints=(replace(s.loadpoints[0], charging_power_w=None),)
            ),
            None,
            ChargeMode.PV,
            0,
            "Loadpoint 'garage' charging power is unavailable",
            id="ev-power-missing",
        ),
        pytest.param(
            lambda s: replace(
                s,
                loadpoints=(
                    replace(s.loadpoints[0], stale=frozenset({"charging_power"})),
                ),
            ),
            MINIMUM,
            ChargeMode.PV,
            6,
            "its charging power is unavailable",
            id="ev-power-stale-minimum",
        ),
        pytest.param(
            lambda s: replace(
                s, loadpoints=(replace(s.loadpoints[0], connected=None),)
            ),
            None,
            ChargeMode.PV,
            0,
            "whether a vehicle is plugged in is unavailable",
            id="plug-state-missing",
        ),
    ],
)
def test_missing_input_fallbacks(
    broken: Any,
    fallback: ControllerSettings | None,
    mode: ChargeMode,
    current: float,
    named: str,
) -> None:
    snapshot = broken(healthy(mode))
    decision = decide(snapshot, CHARGING, 0.0, fallback or ControllerSettings())
    action = decision.actions.vehicles["garage"]
    assert action.current_a == pytest.approx(current)
    assert named in messages(decision)
    if mode != ChargeMode.NOW:
        assert "ev.fallback" in decision.codes("garage")


def test_missing_grid_power_holds_the_battery() -> None:
    decision = decide(replace(healthy(), grid_power_w=None), CHARGING, 0.0)
    assert decision.actions.battery is not None
    assert decision.actions.battery.mode == BatteryMode.HOLD
    assert "battery.hold.fallback" in decision.codes("battery")
    assert "grid_power" in decision.status.missing


@pytest.mark.parametrize(
    ("battery_snapshot", "named"),
    [
        (battery(soc_pct=None), "battery SoC"),
        (battery(power_w=None), "battery power"),
        (battery(stale=frozenset({"soc"})), "battery SoC"),
    ],
)
def test_missing_battery_input_holds_the_battery(
    battery_snapshot: BatterySnapshot, named: str
) -> None:
    snapshot = replace(healthy(), battery=battery_snapshot)
    decision = decide(snapshot, CHARGING, 0.0)
    assert decision.actions.battery is not None
    assert decision.actions.battery.mode == BatteryMode.HOLD
    battery_text = " ".join(
        r.message for r in decision.explanation if r.subject == "battery"
    )
    assert named in battery_text
    # The EV still follows the surplus (the battery is out of the way).
    assert decision.actions.vehicles["garage"].charging


def test_missing_pv_is_named_and_otherwise_harmless() -> None:
    decision = decide(replace(healthy(), pv_power_w=None), CHARGING, 0.0)
    assert "PV power is unavailable." in messages(decision)
    assert decision.actions.vehicles["garage"].current_a == pytest.approx(10.0)
    assert decision.status.pv_w is None


def test_house_power_derived_when_missing() -> None:
    # PV 8 kW, 6.9 kW of surplus: the house uses 1.1 kW.
    decision = decide(replace(healthy(), pv_power_w=8000.0), CHARGING, 0.0)
    assert decision.status.house_derived
    assert decision.status.house_w == pytest.approx(1100)
    assert "site.house_derived" in decision.codes("site")


# --- Nothing the inputs can say raises ---------------------------------------

WILD = (
    st.none()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.integers(-(10**20), 10**20)
)


@st.composite
def wild_snapshots(draw: st.DrawFn) -> SiteSnapshot:
    loadpoints = tuple(
        LoadpointSnapshot(
            id=f"lp{i}",
            mode=draw(st.sampled_from(ChargeMode)),
            min_current_a=draw(WILD),  # type: ignore[arg-type]
            max_current_a=draw(WILD),  # type: ignore[arg-type]
            phases_setting=draw(st.sampled_from(PhaseSetting)),
            active_phases=draw(WILD),  # type: ignore[arg-type]
            connected=draw(st.none() | st.booleans()),
            online=draw(st.booleans()),
            charging_power_w=draw(WILD),
            current_a=draw(WILD),
            min_soc_pct=draw(WILD),
            target_soc_pct=draw(WILD),
            vehicle_soc_pct=draw(WILD),
            priority=draw(st.integers(-5, 5)),
            line=draw(WILD),  # type: ignore[arg-type]
            current_step_a=draw(WILD),  # type: ignore[arg-type]
            stale=frozenset(draw(st.sets(st.sampled_from(["connected", "current"])))),
        )
        for i in range(draw(st.integers(0, 3)))
    )
    return SiteSnapshot(
        pv_power_w=draw(WILD),
        grid_power_w=draw(WILD),
        house_power_w=draw(WILD),
        grid_phase_currents_a=draw(st.none() | st.lists(WILD, max_size=4).map(tuple)),  # type: ignore[arg-type]
        battery=draw(
            st.none()
            | st.builds(
                BatterySnapshot,
                soc_pct=WILD,
                power_w=WILD,
                capacity_kwh=WILD,
                max_charge_w=WILD,
                max_discharge_w=WILD,
                priority_soc_pct=WILD,
                buffer_soc_pct=WILD,
                phases=st.integers(-3, 5),
            )
        ),
        loadpoints=loadpoints,
        loads=tuple(
            FlexibleLoadSnapshot(
                id=f"load{i}",
                power_w=draw(WILD),  # type: ignore[arg-type]
                priority=draw(st.integers(-3, 3)),
                is_on=draw(st.none() | st.booleans()),
            )
            for i in range(draw(st.integers(0, 3)))
        ),
        phases=draw(st.integers(-1, 5)),
        voltage_v=draw(WILD),  # type: ignore[arg-type]
        grid_limit_a=draw(WILD),
        grid_limit_kw=draw(WILD),
        pv_phases=draw(st.integers(-1, 5)),
    )


@settings(max_examples=150, deadline=None)
@given(
    snapshot=wild_snapshots(),
    raw_state=st.recursive(
        st.none() | st.booleans() | st.floats() | st.text(max_size=5),
        lambda inner: st.lists(inner, max_size=3)
        | st.dictionaries(st.text(max_size=8), inner, max_size=4),
        max_leaves=10,
    ),
    now=st.floats(-1e10, 1e10),
)
def test_any_input_gives_a_json_decision(
    snapshot: SiteSnapshot, raw_state: Any, now: float
) -> None:
    state = ControllerState.from_dict(raw_state)
    decision = decide(snapshot, state, now)
    text = json.dumps(decision.as_dict(), allow_nan=False)
    assert json.loads(text)["actions"]["vehicles"].keys() == {
        lp.id for lp in snapshot.loadpoints
    }
    json.dumps(decision.new_state.to_dict(), allow_nan=False)
    for action in decision.actions.vehicles.values():
        assert action.current_a >= 0
