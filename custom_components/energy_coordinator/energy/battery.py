"""The home battery's claim on the surplus, and what the battery is told to do.

Owns `BatteryZone`, `surplus_budget()` (how much surplus the EVs may share,
given the battery's SoC thresholds) and `battery_action()`:

* below the priority SoC the battery gets the surplus first: the EVs only get
  what exceeds the battery's charge limit (or, without a limit, what it does not
  take now);
* between the priority and buffer SoC the battery's charging power is
  available to the EVs, but it does not discharge for them;
* above the buffer SoC it may also discharge, up to its discharge limit, to
  keep a vehicle charging in a PV mode (it does not start one);
* with its SoC or power unknown, or no grid reading, the battery is held.

Below the priority SoC, with surplus left after the EVs, the command is
`charge` at the power the battery is expected to take (the surplus, within its
charge limit), so the decision says where the surplus goes. Otherwise the
controller emits `auto` or `hold`; `discharge` exists for the planner. `hold`
means neither charge nor discharge; it is also used to stop
the battery from discharging into an EV that draws more than the surplus when
that is not allowed (any "now" charging, or below the buffer SoC).

`planned_battery_action()` follows the horizon plan's mode for the slot instead:
`charge` and `discharge` at the planned power (within the battery's power limits
and, when charging, what the grid limit leaves after the EVs), `hold`, or
`auto` (the logic above, where vehicles charging at their planned power may draw
from the battery as the plan expects). With the SoC, battery power or grid
power unknown the battery is held, plan or not.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from .explanation import Code, Reason, kw
from .readings import SiteReadings


class BatteryZone(enum.StrEnum):
    """Where the battery's SoC sits relative to its thresholds."""

    NONE = "none"  # no battery
    UNKNOWN = "unknown"  # SoC or power unavailable
    PRIORITY = "priority"  # below the priority SoC: battery first
    NORMAL = "normal"
    BUFFER = "buffer"  # above the buffer SoC: may support PV charging


class BatteryMode(enum.StrEnum):
    """What the battery inverter is told to do."""

    AUTO = "auto"  # its own self-consumption logic
    CHARGE = "charge"
    DISCHARGE = "discharge"
    HOLD = "hold"  # neither charge nor discharge


@dataclass(frozen=True, slots=True)
class BatteryAction:
    """The battery command.

    `power_w` is the setpoint for `charge`/`discharge` (positive = charge); it is
    0 for `hold` and for `auto` (no setpoint: the inverter decides).
    """

    mode: BatteryMode
    power_w: float = 0.0


@dataclass(frozen=True, slots=True)
class SurplusBudget:
    """What the EVs may use: `pool_w` of surplus (`None`: unknown) and, for a
    vehicle already charging in a PV mode, `support_w` of battery discharge."""

    zone: BatteryZone
    pool_w: float | None
    support_w: float
    reasons: tuple[Reason, ...]


def battery_zone(readings: SiteReadings) -> BatteryZone:
    """Classify the battery's state of charge."""
    if not readings.has_battery:
        return BatteryZone.NONE
    soc = readings.battery_soc_pct
    if soc is None or readings.battery_w is None:
        return BatteryZone.UNKNOWN
    priority = readings.priority_soc_pct
    if priority is not None and soc < priority:
        return BatteryZone.PRIORITY
    buffer = readings.buffer_soc_pct
    if buffer is not None and soc > buffer:
        return BatteryZone.BUFFER
    return BatteryZone.NORMAL


def surplus_budget(readings: SiteReadings) -> SurplusBudget:
    """Split the surplus between the battery and the EVs."""
    zone = battery_zone(readings)
    surplus = readings.raw_surplus_w
    reasons: list[Reason] = []
    support = 0.0
    pool = surplus
    soc = readings.battery_soc_pct
    if zone == BatteryZone.PRIORITY and surplus is not None:
        battery_w = readings.battery_w or 0.0
        reserve = (
            readings.charge_limit_w
            if readings.charge_limit_w is not None
            else max(battery_w, 0.0)
        )
        pool = surplus - reserve
        reasons.append(
            Reason(
                Code.BATTERY_PRIORITY,
                "battery",
                f"Battery at {soc:.0f}% is below its {readings.priority_soc_pct:.0f}% "
                f"priority SoC: it gets the first {kw(reserve)} of surplus.",
            )
        )
    elif zone == BatteryZone.BUFFER:
        support = readings.discharge_limit_w or 0.0
        if support > 0:
            reasons.append(
                Reason(
                    Code.BATTERY_SUPPORT,
                    "battery",
                    f"Battery at {soc:.0f}% is above its "
                    f"{readings.buffer_soc_pct:.0f}% buffer SoC: it may discharge up "
                    f"to {kw(support)} to keep PV charging going.",
                )
            )
    if surplus is not None:
        reasons.append(
            Reason(
                Code.SITE_SURPLUS,
                "site",
                f"Surplus available to the EVs: {kw(pool or 0.0)} "
                f"(PV minus house: {kw(surplus)}).",
            )
        )
    return SurplusBudget(zone, pool, support, tuple(reasons))


def battery_action(
    readings: SiteReadings,
    budget: SurplusBudget,
    ev_draw_w: float,
    fast_charging: bool,
    threshold_w: float,
) -> tuple[BatteryAction | None, tuple[Reason, ...]]:
    """The battery command, given what the EVs will draw after the grid limit.

    `fast_charging`: a vehicle charges regardless of surplus ("now" mode, or up
    to its minimum SoC). `None` when there is no battery.
    """
    if budget.zone == BatteryZone.NONE:
        return None, ()
    hold = BatteryAction(BatteryMode.HOLD, 0.0)
    if budget.zone == BatteryZone.UNKNOWN or readings.grid_w is None:
        missing = [
            label
            for label, value in (
                ("battery SoC", readings.battery_soc_pct),
                ("battery power", readings.battery_w),
                ("grid power", readings.grid_w),
            )
            if value is None
        ]
        return hold, (
            Reason(
                Code.BATTERY_HOLD_FALLBACK,
                "battery",
                f"Battery held because {' and '.join(missing)} "
                f"{'is' if len(missing) == 1 else 'are'} unavailable.",
            ),
        )
    surplus = readings.raw_surplus_w or 0.0
    deficit = ev_draw_w - max(surplus, 0.0)
    supported = budget.zone == BatteryZone.BUFFER and not fast_charging
    if deficit > threshold_w and not supported:
        why = (
            "a vehicle is charging regardless of surplus"
            if fast_charging
            else "the battery is not above its buffer SoC"
        )
        return hold, (
            Reason(
                Code.BATTERY_HOLD_EV,
                "battery",
                f"Battery held so it does not discharge into the EVs, which draw "
                f"{kw(deficit)} more than the surplus ({why}).",
            ),
        )
    if budget.zone == BatteryZone.PRIORITY:
        intake = max(surplus, 0.0) - ev_draw_w
        if readings.charge_limit_w is not None:
            intake = min(intake, readings.charge_limit_w)
        if intake > threshold_w:
            return BatteryAction(BatteryMode.CHARGE, intake), (
                Reason(
                    Code.BATTERY_PRIORITY_CHARGE,
                    "battery",
                    f"Battery charges with {kw(intake)} of surplus: at "
                    f"{readings.battery_soc_pct:.0f}% it is below its "
                    f"{readings.priority_soc_pct:.0f}% priority SoC.",
                ),
            )
    return BatteryAction(BatteryMode.AUTO, 0.0), (
        Reason(Code.BATTERY_AUTO, "battery", "Battery runs on its own (auto)."),
    )


def planned_battery_action(
    readings: SiteReadings,
    budget: SurplusBudget,
    mode: BatteryMode,
    planned_w: float,
    grid_room_w: float | None,
    unplanned_draw_w: float,
    fast_unplanned: bool,
    threshold_w: float,
) -> tuple[BatteryAction | None, tuple[Reason, ...]]:
    """The battery command when a horizon plan covers the battery.

    `planned_w` is the plan's power (positive = charging), `grid_room_w` the
    import the grid limit still allows for charging (None: no limit), and
    `unplanned_draw_w` / `fast_unplanned` what the EVs that do not charge at a
    planned power draw (for `auto`, as in `battery_action`).
    """
    if (
        budget.zone in (BatteryZone.NONE, BatteryZone.UNKNOWN)
        or readings.grid_w is None
    ):
        return battery_action(readings, budget, unplanned_draw_w, True, threshold_w)
    if mode is BatteryMode.AUTO:
        action, reasons = battery_action(
            readings, budget, unplanned_draw_w, fast_unplanned, threshold_w
        )
        if action is not None and action.mode is BatteryMode.AUTO:
            reasons = (
                Reason(
                    Code.BATTERY_PLAN,
                    "battery",
                    "Battery runs on its own (auto), as planned for this slot.",
                ),
            )
        return action, reasons
    if mode is BatteryMode.HOLD:
        return BatteryAction(BatteryMode.HOLD, 0.0), (
            Reason(
                Code.BATTERY_PLAN,
                "battery",
                "Battery held as planned: its energy is worth more in a later slot.",
            ),
        )
    if mode is BatteryMode.DISCHARGE:
        power = max(0.0, -planned_w)
        limit = readings.discharge_limit_w
        if limit is not None:
            power = min(power, limit)
        return BatteryAction(BatteryMode.DISCHARGE, -power), (
            Reason(
                Code.BATTERY_PLAN,
                "battery",
                f"Battery discharges {kw(power)} as planned for this slot.",
            ),
        )
    power = max(0.0, planned_w)
    cuts: list[str] = []
    if readings.charge_limit_w is not None and power > readings.charge_limit_w:
        power = readings.charge_limit_w
        cuts.append("its charge limit")
    if grid_room_w is not None and power > max(0.0, grid_room_w):
        power = max(0.0, grid_room_w)
        cuts.append("the grid limit")
    if power <= threshold_w:
        return BatteryAction(BatteryMode.AUTO, 0.0), (
            Reason(
                Code.BATTERY_PLAN_LIMITED,
                "battery",
                f"Battery cannot charge the planned {kw(planned_w)} "
                f"({' and '.join(cuts) or 'too little'} leaves no room): it runs "
                f"on its own (auto).",
            ),
        )
    if cuts:
        return BatteryAction(BatteryMode.CHARGE, power), (
            Reason(
                Code.BATTERY_PLAN_LIMITED,
                "battery",
                f"Battery charges {kw(power)} instead of the planned "
                f"{kw(planned_w)}: {' and '.join(cuts)} leaves no more.",
            ),
        )
    return BatteryAction(BatteryMode.CHARGE, power), (
        Reason(
            Code.BATTERY_PLAN,
            "battery",
            f"Battery charges {kw(power)} as planned for this slot.",
        ),
    )
