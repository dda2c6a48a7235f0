"""The explanation the controller gives for every decision.

Owns `Code` (stable machine-friendly codes) and `Reason` (one code, the subject
it is about and one short plain-English sentence), plus the number formatting
the sentences share. The HA layer and the assistant show the sentences; tests
and automations match on the codes.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Code(enum.StrEnum):
    """What a sentence of the explanation reports."""

    INPUT_UNAVAILABLE = "input.unavailable"
    INPUT_STALE = "input.stale"
    HOUSE_DERIVED = "site.house_derived"
    SITE_SURPLUS = "site.surplus"
    GRID_LIMIT_UNKNOWN = "grid.limit_unknown"
    GRID_OVER_LIMIT = "grid.over_limit"
    GRID_OFFLINE_RESERVE = "grid.offline_reserve"

    BATTERY_AUTO = "battery.auto"
    BATTERY_HOLD_FALLBACK = "battery.hold.fallback"
    BATTERY_HOLD_EV = "battery.hold.ev"
    BATTERY_PRIORITY = "battery.priority"
    BATTERY_SUPPORT = "battery.support"
    BATTERY_PRIORITY_CHARGE = "battery.charge.priority"
    BATTERY_PLAN = "battery.plan"
    BATTERY_PLAN_LIMITED = "battery.plan.limited"

    EV_OFF = "ev.off"
    EV_OFFLINE = "ev.offline"
    EV_DISCONNECTED = "ev.disconnected"
    EV_TARGET_SOC = "ev.target_soc"
    EV_MIN_SOC = "ev.min_soc"
    EV_NOW = "ev.now"
    EV_MINPV = "ev.minpv"
    EV_PV_FOLLOW = "ev.pv.follow"
    EV_PV_NO_SURPLUS = "ev.pv.no_surplus"
    EV_PV_ENABLE_WAIT = "ev.pv.enable_wait"
    EV_PV_ENABLED = "ev.pv.enabled"
    EV_PV_DISABLE_WAIT = "ev.pv.disable_wait"
    EV_PV_DISABLED = "ev.pv.disabled"
    EV_PV_SETTLING = "ev.pv.settling"
    EV_FALLBACK = "ev.fallback"
    EV_PHASE_SWITCH = "ev.phase.switch"
    EV_PHASE_WAIT = "ev.phase.wait"
    EV_PHASE_SETTLING = "ev.phase.settling"
    EV_GRID_REDUCED = "ev.grid_limit.reduced"
    EV_GRID_PAUSED = "ev.grid_limit.paused"
    EV_MANUAL_CAP = "ev.manual.cap"
    EV_MANUAL_PAUSE = "ev.manual.pause"
    EV_UNCONTROLLABLE = "ev.uncontrollable"
    EV_PV_SHARE_WAIT = "ev.pv.share_wait"
    EV_PLAN_CHARGE = "ev.plan.charge"
    EV_PLAN_IDLE = "ev.plan.idle"
    EV_PLAN_NONE = "ev.plan.none"

    LOAD_SHED_GRID = "load.shed.grid"
    LOAD_SHED_BATTERY = "load.shed.battery"
    LOAD_HELD = "load.held"
    LOAD_RESTORE_WAIT = "load.restore_wait"
    LOAD_RESTORED = "load.restored"
    LOAD_PLAN_ON = "load.plan.on"
    LOAD_PLAN_OFF = "load.plan.off"
    LOAD_PLAN_HELD = "load.plan.held"


@dataclass(frozen=True, slots=True)
class Reason:
    """One sentence of the explanation."""

    code: Code
    subject: str  # "site", "battery", "grid", a loadpoint id or a load id
    message: str

    def as_dict(self) -> dict[str, str]:
        """JSON-able form."""
        return {
            "code": self.code.value,
            "subject": self.subject,
            "message": self.message,
        }


def kw(watts: float) -> str:
    """`1234.5` -> `"1.23 kW"`."""
    return f"{watts / 1000:.2f} kW"


def price(value: float | None) -> str:
    """`0.1134` -> `"0.113/kWh"` (the plan's prices carry no currency here)."""
    return "an unknown price" if value is None else f"{value:.3f}/kWh"


def amps(current: float) -> str:
    """`9.34` -> `"9.3 A"`."""
    return f"{current:.1f} A"


def secs(seconds: float) -> str:
    """`59.6` -> `"60 s"`."""
    return f"{max(0.0, seconds):.0f} s"
