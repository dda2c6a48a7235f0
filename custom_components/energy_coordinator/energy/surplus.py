"""What each loadpoint asks for, from its mode and the solar surplus.

Owns `SurplusController` and `LoadpointPlan`. Mode semantics:

* `off`: 0 A (a pause, not a remote stop);
* `now`: maximum current on every allowed phase;
* `minpv`: at least the minimum current, more when the surplus allows;
* `pv`: follows the surplus; starts after the surplus has covered the minimum
  power for `enable_delay_s`, stops after the site has imported at minimum
  current for `disable_delay_s`;
* `plan`: the horizon plan's power in the slots it plans (see below), `pv`
  in the others;
* a vehicle below its minimum SoC charges as in `now` (PV modes only); one at
  or above its target SoC pauses;
* with a missing input (grid power, the charger's power or plug state) `minpv`
  falls back to its minimum and `pv` to `ControllerSettings.fallback`; `now`
  carries on. A charger that is offline or has no vehicle gets 0 A.

Fast chargers (`now`, minimum SoC) and fallbacks are served first, from the
same pool, so the PV-mode vehicles only see what is left. That is shared by
priority (higher first); within one priority, under `SharingPolicy.FAIR`, as
many vehicles as the surplus covers the minimum of charge and split it max-min
fairly, and when it covers fewer than want to charge, turns rotate (a vehicle
that has waited `share_rotate_s` replaces one that has charged that long).
Under `SharingPolicy.PRIORITY` the surplus goes to one vehicle after another
in priority order (then id). A PV-mode vehicle that is already charging (and
every `minpv` one) may also use the battery's support budget. The plan is a
request: the grid limiter may still cut it.

Following the horizon plan (`targets.SlotTargets`): a loadpoint the plan covers
(mode `plan`, or `pv` / `minpv` with a target time) charges in a slot with
planned power at that power, or at the solar surplus left for it when that is
more (it is served with the fixed plans, so no start delay), without the grid
limit, manual caps, offline or refusing chargers and target SoC ever giving way.
In the other slots it follows its mode (`plan` as `pv`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace

from .battery import SurplusBudget
from .explanation import Code, Reason, amps, kw, secs
from .model import ChargeMode
from .phases import PhaseDecision, PhaseSwitcher, since
from .readings import (
    CHECKPOINT_EVERY,
    LoadpointReadings,
    SiteReadings,
    no_checkpoint,
)
from .settings import ControllerSettings, FallbackPolicy, SharingPolicy
from .state import ControllerState, LoadpointState
from .targets import SlotTargets

#: Modes that follow a plan in the slots it plans for them.
PLAN_FOLLOWING = frozenset({ChargeMode.PLAN, ChargeMode.PV, ChargeMode.MIN_PV})


@dataclass(frozen=True, slots=True)
class LoadpointPlan:
    """One loadpoint's request before the grid limit."""

    readings: LoadpointReadings
    current_a: float  # 0 = paused
    phases: int
    fast: bool  # charges regardless of surplus
    state: LoadpointState
    reasons: tuple[Reason, ...]
    planned: bool = False  # charges at the horizon plan's power


def _priority_groups(
    loadpoints: list[LoadpointReadings],
) -> list[list[LoadpointReadings]]:
    """Loadpoints grouped by priority, highest first (they arrive sorted)."""
    groups: list[list[LoadpointReadings]] = []
    for lp in loadpoints:
        if groups and groups[-1][0].priority == lp.priority:
            groups[-1].append(lp)
        else:
            groups.append([lp])
    return groups


def _water_fill(
    pool: float, bounds: dict[str, tuple[float, float]]
) -> dict[str, float]:
    """Max-min fair shares of `pool`, each within its (floor, cap).

    Every share is at least its floor (even when the pool does not cover them)
    and at most its cap; what is above the floors goes to the smallest shares
    first, so no share can grow without a smaller one shrinking.
    """
    shares = {key: low for key, (low, _) in bounds.items()}
    left = pool - sum(shares.values())
    open_keys = [key for key, (low, high) in bounds.items() if high > low]
    while left > 1e-9 and open_keys:
        level = min(shares[key] for key in open_keys)
        at_level = [key for key in open_keys if shares[key] <= level + 1e-9]
        higher = [shares[key] for key in open_keys if shares[key] > level + 1e-9]
        ceiling = min(
            [bounds[key][1] for key in at_level] + ([min(higher)] if higher else [])
        )
        raise_by = min(ceiling - level, left / len(at_level))
        for key in at_level:
            shares[key] += raise_by
        left -= raise_by * len(at_level)
        open_keys = [key for key in open_keys if shares[key] < bounds[key][1] - 1e-9]
    return shares


def floor_current(current: float, lp: LoadpointReadings) -> float:
    """Round a current down to the charger's step, within [min, max]."""
    current = min(lp.max_a, max(lp.min_a, current))
    floored = math.floor(current / lp.step_a + 1e-9) * lp.step_a
    return round(max(lp.min_a, min(current, floored)), 6)


def _phase_label(phases: int) -> str:
    return "1 phase" if phases == 1 else f"{phases} phases"


_MISSING_LABELS = {
    "charging_power": "its charging power",
    "connected": "its plug state",
}


class SurplusController:
    """Turns modes and surplus into per-loadpoint current requests."""

    def __init__(self, settings: ControllerSettings) -> None:
        self._settings = settings
        self._phases = PhaseSwitcher(settings)

    def plan(
        self,
        readings: SiteReadings,
        budget: SurplusBudget,
        state: ControllerState,
        now: float,
        targets: SlotTargets | None = None,
        checkpoint: Callable[[], None] = no_checkpoint,
    ) -> list[LoadpointPlan]:
        """Plans for every loadpoint, highest priority first (`targets`: the
        horizon plan's slot, followed by the loadpoints it covers; `checkpoint`
        is called every `CHECKPOINT_EVERY` loadpoints)."""
        plans: dict[str, LoadpointPlan] = {}
        remaining = budget.pool_w
        volts = readings.voltage_v
        surplus_driven: list[LoadpointReadings] = []
        for index, lp in enumerate(readings.loadpoints, 1):
            if index % CHECKPOINT_EVERY == 0:
                checkpoint()
            lp_state = state.loadpoint(lp.id)
            planned_w = targets.planned_ev_w(lp.id) if targets else None
            plan = self._plan_fixed(
                lp, lp_state, budget, now, volts, planned_w, remaining
            )
            if plan is None:
                surplus_driven.append(lp)
                continue
            plans[lp.id] = plan
            if remaining is not None and plan.current_a > 0:
                remaining -= self._expected_draw(plan, volts)
        if surplus_driven:
            assert remaining is not None  # fixed plans cover an unknown pool
            if self._settings.sharing == SharingPolicy.FAIR:
                for group in _priority_groups(surplus_driven):
                    remaining = self._share(
                        group, state, remaining, budget.support_w, now, volts, plans
                    )
            else:
                for lp in surplus_driven:
                    plan = self._plan_surplus(
                        lp,
                        state.loadpoint(lp.id),
                        remaining,
                        budget.support_w,
                        now,
                        volts,
                    )
                    plans[lp.id] = plan
                    remaining -= plan.current_a * volts * plan.phases
        return [
            self._plan_mode_reason(plans[lp.id], targets) for lp in readings.loadpoints
        ]

    @staticmethod
    def _plan_mode_reason(
        plan: LoadpointPlan, targets: SlotTargets | None
    ) -> LoadpointPlan:
        """Say why a `plan`-mode vehicle does not charge at a planned power."""
        lp = plan.readings
        if lp.mode != ChargeMode.PLAN or plan.planned:
            return plan
        name = f"'{lp.id}'"
        if targets is None or lp.id not in targets.ev_kw:
            reason = Reason(
                Code.EV_PLAN_NONE,
                lp.id,
                f"{name} has no plan yet: it charges from solar surplus only.",
            )
        else:
            reason = Reason(
                Code.EV_PLAN_IDLE,
                lp.id,
                f"{name}: no charging is planned in this slot; it takes solar "
                f"surplus only.",
            )
        return replace(plan, reasons=(reason, *plan.reasons))

    def _plan_charge(
        self,
        lp: LoadpointReadings,
        state: LoadpointState,
        planned_w: float,
        remaining_w: float | None,
        now: float,
        volts: float,
    ) -> LoadpointPlan:
        """A slot with planned power: that power, or the solar left if more."""
        solar = max(0.0, remaining_w) if remaining_w is not None else 0.0
        available = max(planned_w, solar)
        phase = self._phases.for_surplus(
            lp, state, available, bool(lp.power_w), now, volts
        )
        current = floor_current(available / (volts * phase.phases), lp)
        extra = (
            f", taking the {kw(solar)} of solar surplus (more than planned)"
            if solar > planned_w + 1.0
            else ""
        )
        reason = Reason(
            Code.EV_PLAN_CHARGE,
            lp.id,
            f"'{lp.id}' charges as planned: {kw(planned_w)} in this slot{extra}; "
            f"{amps(current)} on {_phase_label(phase.phases)}.",
        )
        new_state = LoadpointState(
            enabled=state.enabled,
            phases=phase.phases,
            phase_since=phase.phase_since,
            phase_target=phase.phase_target,
            last_switch_at=phase.last_switch_at,
            served_since=state.served_since,
            waiting_since=state.waiting_since,
        )
        return LoadpointPlan(
            lp,
            current,
            phase.phases,
            True,
            new_state,
            (reason, *phase.reasons),
            planned=True,
        )

    def _fair_order(
        self, group: list[LoadpointReadings], state: ControllerState, now: float
    ) -> list[LoadpointReadings]:
        """Who gets a share first: min+pv, running ones in their turn, then those
        that have waited a whole turn (longest first), then running ones past
        their turn, then the others waiting (longest first)."""
        turn = self._settings.share_rotate_s

        def key(lp: LoadpointReadings) -> tuple[int, float, str]:
            if lp.mode == ChargeMode.MIN_PV:
                return (0, 0.0, lp.id)
            lp_state = state.loadpoint(lp.id)
            if lp_state.enabled:
                served = now - since(lp_state.served_since, now)
                return (1 if served < turn else 3, served, lp.id)
            waited = now - since(lp_state.waiting_since, now)
            return (2 if waited >= turn else 4, -waited, lp.id)

        return sorted(group, key=key)

    def _share(
        self,
        group: list[LoadpointReadings],
        state: ControllerState,
        remaining_w: float,
        support_w: float,
        now: float,
        volts: float,
        plans: dict[str, LoadpointPlan],
    ) -> float:
        """Share the surplus fairly among PV-mode vehicles of one priority.

        As many vehicles as the surplus covers the minimum power of are admitted
        (in `_fair_order`); they split the surplus max-min fairly, each within its
        minimum and maximum power. The others see what is left. Returns what is
        left for lower priorities.
        """
        threshold = self._settings.enable_threshold_w
        admitted: list[LoadpointReadings] = []
        floors: dict[str, float] = {}
        needed = 0.0
        running_admitted = False
        for lp in self._fair_order(group, state, now):
            running = state.loadpoint(lp.id).enabled or lp.mode == ChargeMode.MIN_PV
            floor = lp.min_a * volts * min(lp.allowed_phases)
            room = remaining_w + (support_w if running else 0.0)
            extra = 0.0 if running else threshold
            if lp.mode == ChargeMode.MIN_PV or needed + floor + extra <= room:
                admitted.append(lp)
                floors[lp.id] = floor
                needed += floor
                running_admitted = running_admitted or running
        pool = remaining_w + (support_w if running_admitted else 0.0)
        shares = _water_fill(
            pool,
            {
                lp.id: (floors[lp.id], lp.max_a * volts * max(lp.allowed_phases))
                for lp in admitted
            },
        )
        drawn = 0.0
        for lp in admitted:
            plan = self._plan_surplus(
                lp, state.loadpoint(lp.id), shares[lp.id], 0.0, now, volts
            )
            plans[lp.id] = plan
            drawn += plan.current_a * volts * plan.phases
        left = remaining_w - drawn
        waiting = [lp for lp in group if lp.id not in plans]
        for lp in waiting:
            plan = self._plan_surplus(
                lp, state.loadpoint(lp.id), left, support_w, now, volts
            )
            floor = lp.min_a * volts * min(lp.allowed_phases)
            if plan.current_a == 0 and remaining_w >= floor + threshold:
                others = ", ".join(f"'{a.id}'" for a in admitted) or "-"
                plan = replace(
                    plan,
                    reasons=(
                        Reason(
                            Code.EV_PV_SHARE_WAIT,
                            lp.id,
                            f"'{lp.id}' waits its turn: the {kw(remaining_w)} of "
                            f"surplus is shared with {others}; turns change every "
                            f"{secs(self._settings.share_rotate_s)}.",
                        ),
                        *plan.reasons,
                    ),
                )
            plans[lp.id] = plan
            left -= plan.current_a * volts * plan.phases
        return left

    @staticmethod
    def _expected_draw(plan: LoadpointPlan, volts: float) -> float:
        """What a fixed plan will take from the surplus.

        A vehicle that already gets its maximum but draws less (its own limit or
        taper) is counted at what it draws.
        """
        planned = plan.current_a * volts * plan.phases
        lp = plan.readings
        if (
            plan.fast
            and lp.power_w
            and lp.current_a is not None
            and lp.current_a >= plan.current_a - 0.5
        ):
            return min(planned, lp.power_w)
        return planned

    def _paused(
        self,
        lp: LoadpointReadings,
        state: LoadpointState,
        now: float,
        code: Code,
        message: str,
    ) -> LoadpointPlan:
        phases = self._phases.keep(lp, state, now)
        new_state = LoadpointState(
            enabled=False, phases=phases.phases, last_switch_at=phases.last_switch_at
        )
        return LoadpointPlan(
            lp,
            0.0,
            phases.phases,
            False,
            new_state,
            (Reason(code, lp.id, message), *phases.reasons),
        )

    def _plan_fixed(
        self,
        lp: LoadpointReadings,
        state: LoadpointState,
        budget: SurplusBudget,
        now: float,
        volts: float,
        planned_w: float | None = None,
        remaining_w: float | None = None,
    ) -> LoadpointPlan | None:
        """Plans that do not depend on the surplus; `None` for the rest.

        `planned_w`: the horizon plan's power for it in this slot;
        `remaining_w`: the surplus left by the plans before it.
        """
        name = f"'{lp.id}'"
        snap = lp.snapshot
        if not snap.online:
            return self._paused(
                lp, state, now, Code.EV_OFFLINE, f"{name}: the charger is offline."
            )
        if lp.connected is False:
            return self._paused(
                lp, state, now, Code.EV_DISCONNECTED, f"{name}: no vehicle plugged in."
            )
        if not snap.controllable:
            return self._paused(
                lp,
                state,
                now,
                Code.EV_UNCONTROLLABLE,
                f"{name}: the charger does not accept charging limits, so none are "
                f"sent; it charges as it decides.",
            )
        if lp.mode == ChargeMode.OFF:
            return self._paused(
                lp, state, now, Code.EV_OFF, f"{name} is off: paused at 0 A."
            )
        if lp.cap_a is not None and lp.cap_a < lp.min_a:
            return self._paused(
                lp,
                state,
                now,
                Code.EV_MANUAL_PAUSE,
                f"{name} is paused by a manual limit of {amps(lp.cap_a)} (below its "
                f"{amps(lp.min_a)} minimum).",
            )
        soc = lp.vehicle_soc_pct
        target = snap.target_soc_pct
        if soc is not None and target is not None and soc >= target:
            return self._paused(
                lp,
                state,
                now,
                Code.EV_TARGET_SOC,
                f"{name} reached its {target:.0f}% target SoC ({soc:.0f}%): paused.",
            )
        minimum = snap.min_soc_pct
        below_min_soc = soc is not None and minimum is not None and soc < minimum
        if lp.mode == ChargeMode.NOW or below_min_soc:
            phases = self._phases.for_max(lp, state, now)
            current = floor_current(lp.max_a, lp)
            if lp.mode == ChargeMode.NOW:
                reason = Reason(
                    Code.EV_NOW,
                    lp.id,
                    f"{name} charges now at {amps(current)} on "
                    f"{_phase_label(phases.phases)} "
                    f"({kw(current * volts * phases.phases)}).",
                )
            else:
                reason = Reason(
                    Code.EV_MIN_SOC,
                    lp.id,
                    f"{name} charges at full speed until the vehicle reaches its "
                    f"{minimum:.0f}% minimum SoC (now {soc:.0f}%).",
                )
            return self._charging(lp, state, phases, current, True, (reason,))
        if planned_w and lp.mode in PLAN_FOLLOWING:
            return self._plan_charge(lp, state, planned_w, remaining_w, now, volts)
        missing = [_MISSING_LABELS.get(m.rsplit(".", 1)[-1], m) for m in lp.missing]
        if budget.pool_w is None:
            missing.insert(0, "grid power")
        if not missing:
            return None
        why = " and ".join(missing)
        phases = self._phases.keep(lp, state, now)
        if lp.mode == ChargeMode.MIN_PV or self._settings.fallback == (
            FallbackPolicy.MINIMUM
        ):
            current = floor_current(lp.min_a, lp)
            reason = Reason(
                Code.EV_FALLBACK,
                lp.id,
                f"{name} falls back to its minimum current ({amps(current)}) "
                f"because {why} {'is' if len(missing) == 1 else 'are'} unavailable.",
            )
            return self._charging(lp, state, phases, current, False, (reason,))
        plan = self._paused(
            lp,
            state,
            now,
            Code.EV_FALLBACK,
            f"{name} is paused because {why} "
            f"{'is' if len(missing) == 1 else 'are'} unavailable.",
        )
        return replace(plan, state=replace(plan.state, enabled=state.enabled))

    @staticmethod
    def _charging(
        lp: LoadpointReadings,
        state: LoadpointState,
        phases: PhaseDecision,
        current: float,
        fast: bool,
        reasons: tuple[Reason, ...],
    ) -> LoadpointPlan:
        new_state = LoadpointState(
            enabled=True if fast else state.enabled,
            phases=phases.phases,
            phase_since=phases.phase_since,
            phase_target=phases.phase_target,
            last_switch_at=phases.last_switch_at,
        )
        return LoadpointPlan(
            lp, current, phases.phases, fast, new_state, (*reasons, *phases.reasons)
        )

    def _plan_surplus(
        self,
        lp: LoadpointReadings,
        state: LoadpointState,
        remaining_w: float,
        support_w: float,
        now: float,
        volts: float,
    ) -> LoadpointPlan:
        """`pv` and `minpv` with every input present."""
        settings = self._settings
        name = f"'{lp.id}'"
        minpv = lp.mode == ChargeMode.MIN_PV
        enabled = state.enabled or minpv
        available = remaining_w + (support_w if enabled else 0.0)
        phase = self._phases.for_surplus(lp, state, available, enabled, now, volts)
        phases = phase.phases
        min_power = lp.min_a * volts * phases
        enable_since = disable_since = None
        reasons: list[Reason] = []
        if not minpv and not enabled:
            needed = min_power + settings.enable_threshold_w
            if available >= needed:
                started = since(state.enable_since, now)
                waited = now - started
                if waited >= settings.enable_delay_s:
                    enabled = True
                    reasons.append(
                        Reason(
                            Code.EV_PV_ENABLED,
                            lp.id,
                            f"{name} starts: the surplus has covered its minimum "
                            f"power ({kw(min_power)}) for {secs(waited)}.",
                        )
                    )
                else:
                    enable_since = started
                    reasons.append(
                        Reason(
                            Code.EV_PV_ENABLE_WAIT,
                            lp.id,
                            f"{name} starts in {secs(settings.enable_delay_s - waited)}"
                            f" if the surplus stays above {kw(needed)} "
                            f"(now {kw(available)}).",
                        )
                    )
            else:
                reasons.append(
                    Reason(
                        Code.EV_PV_NO_SURPLUS,
                        lp.id,
                        f"{name} waits for surplus: {kw(available)} available, "
                        f"{kw(needed)} needed to start on {_phase_label(phases)}.",
                    )
                )
        elif not minpv:
            floor_w = min_power - settings.disable_threshold_w
            if available < floor_w:
                if phase.settling:
                    reasons.append(
                        Reason(
                            Code.EV_PV_SETTLING,
                            lp.id,
                            f"{name} keeps its minimum current: the stop timer waits "
                            f"for the phase switch to settle.",
                        )
                    )
                else:
                    started = since(state.disable_since, now)
                    waited = now - started
                    if waited >= settings.disable_delay_s:
                        enabled = False
                        reasons.append(
                            Reason(
                                Code.EV_PV_DISABLED,
                                lp.id,
                                f"{name} stops: the site has imported at minimum "
                                f"current for {secs(waited)}.",
                            )
                        )
                    else:
                        disable_since = started
                        reasons.append(
                            Reason(
                                Code.EV_PV_DISABLE_WAIT,
                                lp.id,
                                f"{name} stops in "
                                f"{secs(settings.disable_delay_s - waited)} unless the "
                                f"surplus recovers: {kw(available)} available, "
                                f"{kw(min_power)} needed at minimum current.",
                            )
                        )
        current = 0.0
        if enabled:
            current = floor_current(available / (volts * phases), lp)
            at_min = available < min_power
            if minpv:
                detail = (
                    f"at its {amps(current)} minimum although the surplus is only "
                    f"{kw(available)}"
                    if at_min
                    else f"at {amps(current)} from {kw(available)} of surplus"
                )
                reasons.insert(
                    0,
                    Reason(
                        Code.EV_MINPV,
                        lp.id,
                        f"{name} charges {detail} on {_phase_label(phases)} (min+pv).",
                    ),
                )
            else:
                detail = (
                    f"charges at its {amps(current)} minimum on "
                    f"{_phase_label(phases)}: only {kw(available)} of surplus"
                    if at_min
                    else f"follows the surplus: {amps(current)} on "
                    f"{_phase_label(phases)} ({kw(available)} available)"
                )
                reasons.insert(0, Reason(Code.EV_PV_FOLLOW, lp.id, f"{name} {detail}."))
        served_since = waiting_since = None
        if enabled:
            served_since = since(state.served_since, now) if state.enabled else now
        else:
            waiting_since = since(state.waiting_since, now)
        new_state = LoadpointState(
            enabled=enabled,
            phases=phases,
            enable_since=enable_since,
            disable_since=disable_since,
            phase_since=phase.phase_since,
            phase_target=phase.phase_target,
            last_switch_at=phase.last_switch_at,
            served_since=served_since,
            waiting_since=waiting_since,
        )
        return LoadpointPlan(
            lp, current, phases, False, new_state, (*reasons, *phase.reasons)
        )
