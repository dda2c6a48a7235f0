"""Switching flexible loads off when the site needs it, and back on later.

Owns `LoadShedder` and `LoadPlan`. Loads are shed, lowest priority first (then
by id), until the shed nominal power covers the deficit:

* grid: the non-EV load bound on the worst line exceeds the import limit (EVs
  are already at 0 then; they give way before any load is shed);
* battery: the battery is below its priority SoC and discharges for something
  other than the EVs (the EV part is stopped by holding the battery).

Shedding is immediate. A shed load is restored, highest priority first, only
after the headroom has stayed at or above its power plus
`load_restore_margin_w` for `load_restore_delay_s`: grid headroom on the worst
line (a restored load may land on it), and, while the battery is below its
priority SoC, PV surplus. Nothing is restored while anything must be shed or
while the headroom is unknown. The grid limiter does not count on a shed load
being off until the meters show it.

Deferrable loads with a horizon plan (`targets.SlotTargets.loads_on`) are
switched on when a planned run starts, if the grid limit has room for them
(their power plus the restore margin on the worst line, nothing to shed), and
off when it ends. Only these edges are acted on, so a person who switches a
load by hand in between is not overruled; a planned load can still be shed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from .battery import BatteryZone
from .explanation import Code, Reason, kw, secs
from .model import FlexibleLoadSnapshot
from .phases import since
from .readings import SiteReadings, finite, priority_of
from .settings import ControllerSettings
from .site_load import PhaseLoad
from .state import ControllerState, LoadState
from .targets import SlotTargets

REASON_GRID = "grid"
REASON_BATTERY = "battery"


@dataclass(frozen=True, slots=True)
class LoadPlan:
    """Which loads are held off, which come back, and the loads' new state."""

    shed_ids: tuple[str, ...]  # every load the coordinator holds off
    newly_shed_ids: tuple[str, ...]
    restore_ids: tuple[str, ...]
    shed_w: float
    restored_w: float  # of every load this decision switches on
    states: dict[str, LoadState]
    reasons: tuple[Reason, ...]
    plan_on_ids: tuple[str, ...] = ()  # switched on: a planned run starts
    plan_off_ids: tuple[str, ...] = ()  # switched off: a planned run is over


class LoadShedder:
    """Decides load shedding and restoring with hysteresis."""

    def __init__(self, settings: ControllerSettings) -> None:
        self._settings = settings

    def grid_headroom_w(
        self, readings: SiteReadings, phase_load: PhaseLoad | None
    ) -> float | None:
        """Power that can still be added on the worst line (inf: no limit)."""
        if readings.limit_a is None:
            return math.inf
        if phase_load is None:
            return None
        limit = readings.limit_a - self._settings.grid_margin_a
        return (limit - phase_load.worst_a) * readings.voltage_v

    def plan(
        self,
        loads: Sequence[FlexibleLoadSnapshot],
        readings: SiteReadings,
        phase_load: PhaseLoad | None,
        zone: BatteryZone,
        state: ControllerState,
        now: float,
        targets: SlotTargets | None = None,
    ) -> LoadPlan:
        """Shed or restore loads for this decision (and follow the plan's
        deferrable loads in `targets`)."""
        settings = self._settings
        unique: dict[str, FlexibleLoadSnapshot] = {}
        for load in loads:
            unique.setdefault(load.id, load)
        powers = {
            load_id: max(0.0, finite(load.power_w) or 0.0)
            for load_id, load in unique.items()
        }
        states = {load_id: state.load(load_id) for load_id in unique}
        reasons: list[Reason] = []

        headroom = self.grid_headroom_w(readings, phase_load)
        grid_deficit = max(0.0, -headroom) if headroom is not None else 0.0
        battery_deficit = 0.0
        battery_w = readings.battery_w
        if zone == BatteryZone.PRIORITY and battery_w is not None and battery_w < 0:
            battery_deficit = max(0.0, -battery_w - readings.ev_known_w)

        candidates = sorted(
            (
                load
                for load in unique.values()
                if not states[load.id].shed
                and load.is_on is not False
                and powers[load.id] > 0
            ),
            key=lambda load: (priority_of(load.priority), load.id),
        )
        newly: list[str] = []
        shed_now = 0.0
        for deficit, why in (
            (grid_deficit, REASON_GRID),
            (battery_deficit, REASON_BATTERY),
        ):
            while shed_now < deficit and candidates:
                load = candidates.pop(0)
                shed_now += powers[load.id]
                newly.append(load.id)
                states[load.id] = LoadState(
                    True, why, now, None, states[load.id].planned
                )
                reasons.append(
                    self._shed_reason(load.id, why, powers[load.id], deficit)
                )

        restored: list[str] = []
        must_shed = grid_deficit > 0 or battery_deficit > 0
        surplus = readings.raw_surplus_w
        restoring_w = 0.0
        held = sorted(
            (
                load
                for load in unique.values()
                if states[load.id].shed and load.id not in newly
            ),
            key=lambda load: (-priority_of(load.priority), load.id),
        )
        for load in held:
            load_state = states[load.id]
            need = powers[load.id] + settings.load_restore_margin_w
            room = self._room(headroom, surplus, zone, load_state, must_shed)
            if room is None or room - restoring_w < need:
                states[load.id] = LoadState(
                    True,
                    load_state.reason,
                    load_state.shed_at,
                    planned=load_state.planned,
                )
                reasons.append(
                    Reason(
                        Code.LOAD_HELD,
                        load.id,
                        f"Load '{load.id}' stays off ({self._why(load_state.reason)}).",
                    )
                )
                continue
            started = since(load_state.restore_since, now)
            if now - started >= settings.load_restore_delay_s:
                restored.append(load.id)
                restoring_w += powers[load.id]
                states[load.id] = LoadState(planned=load_state.planned)
                reasons.append(
                    Reason(
                        Code.LOAD_RESTORED,
                        load.id,
                        f"Load '{load.id}' is switched back on: {kw(room)} of headroom "
                        f"for its {kw(powers[load.id])} for {secs(now - started)}.",
                    )
                )
            else:
                states[load.id] = LoadState(
                    True,
                    load_state.reason,
                    load_state.shed_at,
                    started,
                    load_state.planned,
                )
                reasons.append(
                    Reason(
                        Code.LOAD_RESTORE_WAIT,
                        load.id,
                        f"Load '{load.id}' comes back on in "
                        f"{secs(settings.load_restore_delay_s - (now - started))} if "
                        f"the headroom stays at least {kw(need)}.",
                    )
                )

        plan_on: list[str] = []
        plan_off: list[str] = []
        if targets is not None:
            room = None if must_shed else headroom
            for load_id, on in sorted(targets.loads_on.items()):
                planned_load = unique.get(load_id)
                if planned_load is None:
                    continue
                load_state = states[load_id]
                if on and not load_state.planned and not load_state.shed:
                    need = powers[load_id] + settings.load_restore_margin_w
                    if planned_load.is_on is not True and (
                        room is None or room - restoring_w < need
                    ):
                        reasons.append(
                            Reason(
                                Code.LOAD_PLAN_HELD,
                                load_id,
                                f"Load '{load_id}' waits to start its planned run: "
                                f"the grid limit has no room for its "
                                f"{kw(powers[load_id])} yet.",
                            )
                        )
                        continue
                    states[load_id] = LoadState(planned=True)
                    if planned_load.is_on is not True:
                        plan_on.append(load_id)
                        restoring_w += powers[load_id]
                    reasons.append(
                        Reason(
                            Code.LOAD_PLAN_ON,
                            load_id,
                            f"Load '{load_id}' is switched on: its planned run starts.",
                        )
                    )
                elif not on and load_state.planned:
                    if planned_load.is_on is not False and not load_state.shed:
                        plan_off.append(load_id)
                    states[load_id] = LoadState()
                    reasons.append(
                        Reason(
                            Code.LOAD_PLAN_OFF,
                            load_id,
                            f"Load '{load_id}' is switched off: its planned run is "
                            f"over.",
                        )
                    )

        shed_ids = tuple(sorted(i for i, s in states.items() if s.shed))
        return LoadPlan(
            shed_ids=shed_ids,
            newly_shed_ids=tuple(newly),
            restore_ids=tuple(restored),
            shed_w=sum(powers[i] for i in shed_ids),
            restored_w=restoring_w,
            states={i: s for i, s in states.items() if s != LoadState()},
            reasons=tuple(reasons),
            plan_on_ids=tuple(plan_on),
            plan_off_ids=tuple(plan_off),
        )

    @staticmethod
    def _room(
        headroom: float | None,
        surplus: float | None,
        zone: BatteryZone,
        load_state: LoadState,
        must_shed: bool,
    ) -> float | None:
        """Headroom a shed load may use; `None` when it must stay off."""
        if must_shed or headroom is None:
            return None
        room = headroom
        battery_bound = zone == BatteryZone.PRIORITY or (
            zone == BatteryZone.UNKNOWN and load_state.reason == REASON_BATTERY
        )
        if battery_bound:
            if surplus is None or zone == BatteryZone.UNKNOWN:
                return None
            room = min(room, surplus)
        return room

    @staticmethod
    def _why(reason: str | None) -> str:
        if reason == REASON_BATTERY:
            return "the battery is below its priority SoC"
        return "the grid limit has no room for it yet"

    @staticmethod
    def _shed_reason(load_id: str, why: str, power: float, deficit: float) -> Reason:
        if why == REASON_GRID:
            return Reason(
                Code.LOAD_SHED_GRID,
                load_id,
                f"Load '{load_id}' ({kw(power)}) is switched off: the house alone "
                f"would exceed the grid limit by {kw(deficit)}.",
            )
        return Reason(
            Code.LOAD_SHED_BATTERY,
            load_id,
            f"Load '{load_id}' ({kw(power)}) is switched off: the battery is below its "
            f"priority SoC and discharging {kw(deficit)} for the house.",
        )
