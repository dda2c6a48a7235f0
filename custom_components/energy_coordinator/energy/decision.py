"""What one decision says: actions, site status, explanation, next state.

Owns `Decision` and its parts (`Actions`, `LoadpointAction`, `LoadActions`,
`SiteStatus`) and their JSON-able `as_dict()`:

    {"actions": {"battery": {"mode", "power_kw"} | null,
                 "vehicles": {<loadpoint id>: {"mode", "charging", "current_a",
                                               "phases", "power_kw"}},
                 "loads": {"shed_kw", "shed": [...], "newly_shed": [...],
                           "restore": [...], "plan_on": [...],
                           "plan_off": [...]}},
     "status": {...site snapshot as the controller saw it...},
     "explanation": [{"code", "subject", "message"}, ...]}
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .battery import BatteryAction, BatteryZone
from .explanation import Reason
from .model import ChargeMode
from .state import ControllerState


def _kw(watts: float | None) -> float | None:
    return None if watts is None else round(watts / 1000.0, 3)


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


@dataclass(frozen=True, slots=True)
class LoadpointAction:
    """The command for one loadpoint: offer `current_a` per phase on `phases`."""

    mode: ChargeMode
    current_a: float  # 0 = paused (not a remote stop)
    phases: int
    power_w: float  # expected power at that current

    @property
    def charging(self) -> bool:
        """Whether the loadpoint is allowed to draw power."""
        return self.current_a > 0

    def as_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return {
            "mode": self.mode.value,
            "charging": self.charging,
            "current_a": round(self.current_a, 2),
            "phases": self.phases,
            "power_kw": _kw(self.power_w),
        }


@dataclass(frozen=True, slots=True)
class LoadActions:
    """Flexible loads: all held off (`shed`), the new ones, those to restore, and
    the deferrable loads whose planned run starts (`plan_on`) or ends
    (`plan_off`)."""

    shed_w: float = 0.0
    shed: tuple[str, ...] = ()
    newly_shed: tuple[str, ...] = ()
    restore: tuple[str, ...] = ()
    plan_on: tuple[str, ...] = ()
    plan_off: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return {
            "shed_kw": _kw(self.shed_w),
            "shed": list(self.shed),
            "newly_shed": list(self.newly_shed),
            "restore": list(self.restore),
            "plan_on": list(self.plan_on),
            "plan_off": list(self.plan_off),
        }


@dataclass(frozen=True, slots=True)
class Actions:
    """Everything to actuate. `battery` is `None` when the site has none."""

    battery: BatteryAction | None
    vehicles: Mapping[str, LoadpointAction]
    loads: LoadActions

    def battery_dict(self) -> dict[str, Any] | None:
        """The battery's action, JSON-able (`None`: the site has no battery)."""
        if self.battery is None:
            return None
        return {"mode": self.battery.mode.value, "power_kw": _kw(self.battery.power_w)}

    def as_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return {
            "battery": self.battery_dict(),
            "vehicles": {k: v.as_dict() for k, v in self.vehicles.items()},
            "loads": self.loads.as_dict(),
        }


@dataclass(frozen=True, slots=True)
class SiteStatus:
    """The site as the controller saw it (after validation and estimates)."""

    pv_w: float | None
    grid_w: float | None
    house_w: float | None
    house_derived: bool
    battery_soc_pct: float | None
    battery_kwh: float | None
    battery_w: float | None
    battery_zone: BatteryZone
    ev_w: float
    surplus_w: float | None  # PV minus house
    ev_surplus_w: float | None  # what the EVs were offered
    grid_limit_a: float | None
    non_ev_load_a: tuple[float, ...] | None  # bound per line
    load_estimate: str | None  # how the per-line bound was found
    missing: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return {
            "pv_kw": _kw(self.pv_w),
            "grid_kw": _kw(self.grid_w),
            "house_kw": _kw(self.house_w),
            "house_derived": self.house_derived,
            "battery_soc_pct": _round(self.battery_soc_pct, 1),
            "battery_kwh": _round(self.battery_kwh, 3),
            "battery_kw": _kw(self.battery_w),
            "battery_zone": self.battery_zone.value,
            "ev_kw": _kw(self.ev_w),
            "surplus_kw": _kw(self.surplus_w),
            "ev_surplus_kw": _kw(self.ev_surplus_w),
            "grid_limit_a": _round(self.grid_limit_a, 2),
            "non_ev_load_a": (
                None
                if self.non_ev_load_a is None
                else [round(a, 2) for a in self.non_ev_load_a]
            ),
            "load_estimate": self.load_estimate,
            "missing_inputs": list(self.missing),
        }


@dataclass(frozen=True, slots=True)
class Decision:
    """The controller's output: actions, why, and the state for next time."""

    actions: Actions
    status: SiteStatus
    explanation: tuple[Reason, ...]
    new_state: ControllerState

    def codes(self, subject: str | None = None) -> list[str]:
        """The explanation's codes, optionally for one subject only."""
        return [
            r.code.value
            for r in self.explanation
            if subject is None or r.subject == subject
        ]

    def as_dict(self) -> dict[str, Any]:
        """JSON-able form (the shape documented in the module docstring)."""
        return {
            "actions": self.actions.as_dict(),
            "status": self.status.as_dict(),
            "explanation": [r.as_dict() for r in self.explanation],
        }
