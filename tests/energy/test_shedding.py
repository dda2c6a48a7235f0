"""Flexible loads: shedding order and restore hysteresis.

A one-phase 25 A site (5.75 kW) with three loads; the house meter includes them.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any

import pytest

from custom_components.energy_coordinator.energy import (
    ControllerSettings,
    ControllerState,
    Decision,
    FlexibleLoadSnapshot,
    SiteSnapshot,
    decide,
)

from .builders import battery, load

LOADS = {"heater": (2000.0, 0), "pool": (1000.0, 1), "dryer": (2500.0, 2)}


def snapshot(
    base_w: float, off: Collection[str] = (), pv_w: float = 0.0, **overrides: Any
) -> SiteSnapshot:
    """House = base + loads that are on; grid = house - PV (+ battery)."""
    on = [i for i in LOADS if i not in off]
    house = base_w + sum(LOADS[i][0] for i in on)
    battery_snapshot = overrides.pop("battery", None)
    battery_w = battery_snapshot.power_w if battery_snapshot else 0.0
    return SiteSnapshot(
        pv_power_w=pv_w,
        grid_power_w=house - pv_w + (battery_w or 0.0),
        house_power_w=house,
        battery=battery_snapshot,
        loads=tuple(
            load(i, power, priority, is_on=i not in off)
            for i, (power, priority) in LOADS.items()
        ),
        phases=1,
        grid_limit_a=25.0,
        **overrides,
    )


def simulate(
    base_at: Callable[[float], float],
    times: list[float],
    state: ControllerState | None = None,
    **overrides: Any,
) -> dict[float, Decision]:
    """Loads follow the decisions: shed ones go off, restored ones come back."""
    off = {i for i, s in state.loads.items() if s.shed} if state else set()
    decisions = {}
    for t in times:
        decision = decide(snapshot(base_at(t), off, **overrides), state, t)
        state = decision.new_state
        off = set(decision.actions.loads.shed)
        decisions[t] = decision
    return decisions


@pytest.mark.parametrize(
    ("base_w", "shed"),
    [
        (0.0, ()),  # 5.5 kW: under the 5.75 kW limit
        (500.0, ("heater",)),  # 6.0 kW: 250 W over, the lowest priority goes
        (2000.0, ("heater",)),  # 7.5 kW: 1.75 kW over: the 2 kW heater covers it
        (2500.0, ("heater", "pool")),  # 8 kW: 2.25 kW over
        (3500.0, ("dryer", "heater", "pool")),  # 9 kW: 3.25 kW over
    ],
)
def test_sheds_lowest_priority_first_and_only_what_is_needed(
    base_w: float, shed: tuple[str, ...]
) -> None:
    decision = decide(snapshot(base_w), None, 0.0)
    assert decision.actions.loads.shed == shed
    assert decision.actions.loads.newly_shed == tuple(
        i for i in ("heater", "pool", "dryer") if i in shed
    )
    assert decision.actions.loads.shed_w == pytest.approx(
        sum(LOADS[i][0] for i in shed)
    )
    if shed:
        assert "grid.over_limit" in decision.codes("grid")
        assert "load.shed.grid" in decision.codes("heater")


def test_loads_that_are_off_are_not_shed() -> None:
    decision = decide(snapshot(2000.0, off={"heater"}), None, 0.0)
    # 2 + 1 + 2.5 = 5.5 kW: fits; the heater is off anyway.
    assert decision.actions.loads.shed == ()


def test_restore_waits_for_headroom_and_delay() -> None:
    times = [float(t) for t in range(0, 601, 10)]
    # 6 kW at first: the heater is shed. The base then drops to 300 W from 100 s:
    # with the heater back on, 300 + 5.5 kW = 5.8 kW: no room (needs 2.2 kW).
    # From 200 s the base is 0: 3.5 kW + 2.2 kW = 5.7 <= 5.75 kW: room.
    d = simulate(lambda t: 500 if t < 100 else 300 if t < 200 else 0, times)
    assert d[0.0].actions.loads.shed == ("heater",)
    for t in (10.0, 150.0, 190.0):
        assert d[t].actions.loads.shed == ("heater",)
        assert "load.held" in d[t].codes("heater")
    assert "load.restore_wait" in d[200.0].codes("heater")
    assert d[310.0].actions.loads.shed == ("heater",)
    assert d[320.0].actions.loads.restore == ("heater",)  # 200 s + 120 s
    assert d[320.0].actions.loads.shed == ()
    assert "load.restored" in d[320.0].codes("heater")


def test_restore_timer_restarts_when_headroom_dips() -> None:
    times = [float(t) for t in range(0, 601, 10)]
    d = simulate(lambda t: 500 if t in {0, 100} else 0, times)
    restored = min(t for t in times if d[t].actions.loads.restore)
    assert restored == 230  # timer restarted at 110 s


def test_highest_priority_restored_first() -> None:
    state = decide(snapshot(2500.0), None, 0.0).new_state  # heater and pool shed
    assert set(state.loads) == {"heater", "pool"}
    # 500 W base: 3 kW with the dryer: 2.75 kW of room: the pool (1.2 kW) fits,
    # then only 1.75 kW is left for the heater (2.2 kW).
    d = simulate(lambda t: 500.0, [10.0, 70.0, 130.0, 190.0], state=state)
    assert d[130.0].actions.loads.restore == ("pool",)
    assert d[190.0].actions.loads.shed == ("heater",)


def test_battery_protection_sheds_loads() -> None:
    protected = battery(soc_pct=20, priority_soc_pct=50, power_w=-3000.0)
    decision = decide(snapshot(0.0, battery=protected), None, 0.0)
    assert decision.actions.loads.shed == ("heater", "pool")
    assert "load.shed.battery" in decision.codes("pool")


def test_battery_protection_restores_only_with_pv_surplus() -> None:
    settings = ControllerSettings(load_restore_delay_s=0)
    state = ControllerState.from_dict(
        {
            "version": 1,
            "loads": {"heater": {"shed": True, "reason": "battery", "shed_at": 0}},
        }
    )
    idle = battery(soc_pct=20, priority_soc_pct=50, power_w=0.0)
    dark = snapshot(500.0, off={"heater"}, battery=idle)
    assert decide(dark, state, 10.0, settings).actions.loads.restore == ()
    # 3.5 kW of PV for a 3.5 kW house (with pool and dryer) plus 2.2 kW: not yet.
    sunny = snapshot(500.0, off={"heater"}, battery=idle, pv_w=7000.0)
    assert decide(sunny, state, 10.0, settings).actions.loads.restore == ("heater",)
    full = battery(soc_pct=60, priority_soc_pct=50, power_w=0.0)
    also = snapshot(0.0, off={"heater"}, battery=full)
    assert decide(also, state, 10.0, settings).actions.loads.restore == ("heater",)


def test_unknown_grid_load_keeps_shed_loads_off() -> None:
    state = ControllerState.from_dict(
        {"version": 1, "loads": {"heater": {"shed": True, "reason": "grid"}}}
    )
    blind = SiteSnapshot(
        pv_power_w=None,
        grid_power_w=None,
        phases=1,
        grid_limit_a=25.0,
        loads=(FlexibleLoadSnapshot(id="heater", power_w=2000, is_on=False),),
    )
    decision = decide(blind, state, 1000.0, ControllerSettings(load_restore_delay_s=0))
    assert decision.actions.loads.shed == ("heater",)


def test_removed_loads_are_forgotten() -> None:
    state = decide(snapshot(2500.0), None, 0.0).new_state
    empty = SiteSnapshot(pv_power_w=0, grid_power_w=0, phases=1, grid_limit_a=25)
    assert decide(empty, state, 10.0).new_state.loads == {}
