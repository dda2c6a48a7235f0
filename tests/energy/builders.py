"""Small builders for snapshots, and a driver that steps `decide()` in time."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Any

from custom_components.energy_coordinator.energy import (
    BatterySnapshot,
    ChargeMode,
    ControllerSettings,
    ControllerState,
    Decision,
    FlexibleLoadSnapshot,
    LoadpointSnapshot,
    SiteSnapshot,
    decide,
)

VOLTS = 230.0


def ev(lp_id: str = "garage", **overrides: Any) -> LoadpointSnapshot:
    """A plugged-in vehicle, 6-16 A, automatic phases, drawing nothing."""
    values: dict[str, Any] = {
        "id": lp_id,
        "mode": ChargeMode.PV,
        "connected": True,
        "charging_power_w": 0.0,
        "active_phases": 3,
    }
    values.update(overrides)
    return LoadpointSnapshot(**values)


def battery(**overrides: Any) -> BatterySnapshot:
    """A 10 kWh battery at 60 %, idle, 3 kW limits, no thresholds."""
    values: dict[str, Any] = {
        "soc_pct": 60.0,
        "power_w": 0.0,
        "capacity_kwh": 10.0,
        "max_charge_w": 3000.0,
        "max_discharge_w": 3000.0,
    }
    values.update(overrides)
    return BatterySnapshot(**values)


def load(
    load_id: str, power_w: float, priority: int = 0, **overrides: Any
) -> FlexibleLoadSnapshot:
    """A flexible load that is on."""
    return FlexibleLoadSnapshot(
        id=load_id, power_w=power_w, priority=priority, **{"is_on": True, **overrides}
    )


def site(
    *loadpoints: LoadpointSnapshot, export_w: float = 0.0, **overrides: Any
) -> SiteSnapshot:
    """A three-phase 230 V site exporting `export_w`, no battery, no limit."""
    values: dict[str, Any] = {
        "pv_power_w": 5000.0,
        "grid_power_w": -export_w,
        "loadpoints": loadpoints,
    }
    values.update(overrides)
    return SiteSnapshot(**values)


def with_surplus(snapshot: SiteSnapshot, surplus_w: float) -> SiteSnapshot:
    """The same site where PV minus house is `surplus_w`.

    The EVs' and the battery's power are netted in: grid = EVs + battery - surplus.
    """
    ev_w = sum(lp.charging_power_w or 0.0 for lp in snapshot.loadpoints)
    battery_w = (snapshot.battery.power_w or 0.0) if snapshot.battery else 0.0
    return replace(snapshot, grid_power_w=ev_w + battery_w - surplus_w)


def follow(snapshot: SiteSnapshot, decision: Decision) -> SiteSnapshot:
    """Next snapshot: each charger now draws (and reports) what it was given."""
    loadpoints = []
    for lp in snapshot.loadpoints:
        action = decision.actions.vehicles[lp.id]
        loadpoints.append(
            replace(
                lp,
                charging_power_w=action.power_w if lp.connected else 0.0,
                current_a=action.current_a,
                active_phases=action.phases,
            )
        )
    return replace(snapshot, loadpoints=tuple(loadpoints))


def run(
    make: Callable[[float], SiteSnapshot],
    times: Iterable[float],
    state: ControllerState | None = None,
    settings: ControllerSettings | None = None,
) -> list[Decision]:
    """Decide at each time with the snapshot `make(t)`, threading the state."""
    decisions = []
    for t in times:
        if settings is None:
            decision = decide(make(t), state, t)
        else:
            decision = decide(make(t), state, t, settings)
        state = decision.new_state
        decisions.append(decision)
    return decisions


def drive(
    lp: LoadpointSnapshot,
    surplus_at: Callable[[float], float],
    times: Iterable[float],
    state: ControllerState | None = None,
    settings: ControllerSettings | None = None,
    persist: bool = False,
    **site_overrides: Any,
) -> dict[float, Decision]:
    """Step one loadpoint through time; the vehicle draws what it is given.

    `surplus_at(t)` is PV minus house at time t (the EV's own draw is netted in).
    With `persist`, the state goes through JSON between calls (as HA stores it).
    """
    snapshot = site(lp, **site_overrides)
    decisions: dict[float, Decision] = {}
    for t in times:
        current = with_surplus(snapshot, surplus_at(t))
        if settings is None:
            decision = decide(current, state, t)
        else:
            decision = decide(current, state, t, settings)
        state = decision.new_state
        if persist:
            state = ControllerState.from_dict(json.loads(json.dumps(state.to_dict())))
        snapshot = follow(snapshot, decision)
        decisions[t] = decision
    return decisions
