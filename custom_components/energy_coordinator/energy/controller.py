"""The real-time controller: one snapshot in, one decision out.

Owns `decide()`, the function the HA layer calls on every update. It is pure
and deterministic: the time is passed in, the memory between calls travels in
`ControllerState` (returned as `Decision.new_state`), and bad or missing inputs
lead to a safe fallback named in the explanation, never to an exception.

Order of work: validate the inputs (`readings`), bound the non-EV load per line
(`site_load`), split the surplus with the battery (`battery`), shed or restore
loads (`shedding`), plan every loadpoint from its mode and the surplus
(`surplus`, `phases`), cut the plans to the grid limit (`grid_limit`), then pick
the battery command from what the EVs will really draw. Loads restored by this
decision count against the EVs' headroom at once (on any line), since the
measurements cannot show them yet.

With a horizon plan (`targets`, the plan's slot that contains `now`), the
loadpoints it covers charge at their planned power in its slots (solar surplus
on top), the battery follows the slot's mode (`battery.planned_battery_action`)
and deferrable loads are switched at the start and end of their planned runs;
all of it passes the same real-time limits as the rest.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from .battery import battery_action, planned_battery_action, surplus_budget
from .decision import Actions, Decision, LoadActions, LoadpointAction, SiteStatus
from .explanation import Code, Reason, amps
from .grid_limit import CurrentGrant, CurrentRequest, GridLimiter
from .model import SiteSnapshot
from .readings import CHECKPOINT_EVERY, SiteReadings, no_checkpoint, read_site
from .settings import DEFAULT_SETTINGS, ControllerSettings
from .shedding import LoadShedder
from .site_load import PhaseLoad, estimate_non_ev_load
from .state import ControllerState
from .surplus import LoadpointPlan, SurplusController
from .targets import SlotTargets

ALL_LINES = frozenset({0, 1, 2})


def timestamp(now: datetime | float) -> float:
    """POSIX seconds of `now` (a naive datetime is taken as UTC)."""
    if isinstance(now, datetime):
        return (now if now.tzinfo else now.replace(tzinfo=UTC)).timestamp()
    return float(now)


def _lines_of(phases: set[int | None], line: int | None, lines: int) -> frozenset[int]:
    """Lines a charger's current may flow on, for any of the given phase counts."""
    if lines == 1:
        return frozenset({0})
    used: set[int] = set()
    for count in phases:
        if count is None:
            continue
        if count == 3 or line is None:
            return ALL_LINES
        used.add(line)
    return frozenset(used) or ALL_LINES


def _lines(
    plan: LoadpointPlan, previous_phases: int | None, lines: int
) -> frozenset[int]:
    """Lines an EV's current may flow on, during a phase switch too.

    With its active phases unknown, a charger may still be on three phases.
    """
    lp = plan.readings
    active = lp.active_phases if lp.active_phases is not None else 3
    return _lines_of({plan.phases, active, previous_phases}, lp.line, lines)


def _offline_reserve(readings: SiteReadings) -> tuple[list[float], list[Reason]]:
    """Current to keep free for chargers we cannot command.

    An offline charger might draw its maximum; an online one that refuses limits
    draws what it is measured to draw (its maximum while that is unknown).
    """
    reserve = [0.0] * readings.lines
    reasons: list[Reason] = []
    for lp in readings.loadpoints:
        snap = lp.snapshot
        if lp.connected is False or (snap.online and snap.controllable):
            continue
        if snap.online:
            kept = lp.measured_a if lp.measured_a is not None else lp.max_a
            message = (
                f"'{lp.id}' does not accept charging limits: what it draws "
                f"({amps(kept)}) is kept free under the grid limit."
            )
        else:
            kept = lp.max_a
            message = (
                f"'{lp.id}' is offline and might still charge: its maximum current "
                f"({amps(kept)}) is kept free under the grid limit."
            )
        for line in _lines_of({lp.active_phases}, lp.line, readings.lines):
            reserve[line] += kept
        reasons.append(Reason(Code.GRID_OFFLINE_RESERVE, lp.id, message))
    return reserve, reasons


def _headroom(
    readings: SiteReadings, phase_load: PhaseLoad | None, margin_a: float
) -> tuple[tuple[float, ...] | None, list[Reason]]:
    if readings.limit_a is None:
        return None, []
    limit = readings.limit_a - margin_a
    if phase_load is None:
        return (-1.0,) * readings.lines, [
            Reason(
                Code.GRID_LIMIT_UNKNOWN,
                "grid",
                f"The {amps(readings.limit_a)} grid limit cannot be checked because "
                f"the house load is unknown: EVs are paused.",
            )
        ]
    reserve, reasons = _offline_reserve(readings)
    headroom = tuple(
        limit - load - kept
        for load, kept in zip(phase_load.currents_a, reserve, strict=True)
    )
    if max(phase_load.currents_a) > limit:
        reasons.append(
            Reason(
                Code.GRID_OVER_LIMIT,
                "grid",
                f"Without the EVs the site already draws up to "
                f"{amps(phase_load.worst_a)} on a line ({phase_load.method}), over "
                f"the {amps(limit)} limit.",
            )
        )
    return headroom, reasons


def _limit_reason(
    grant: CurrentGrant, readings: SiteReadings, phase_load: PhaseLoad | None
) -> Reason | None:
    name = f"'{grant.id}'"
    limit = amps(readings.limit_a or 0.0)
    load = (
        f" (non-EV load up to {amps(phase_load.worst_a)} per line, {phase_load.method})"
        if phase_load is not None
        else ""
    )
    if grant.paused_by_limit:
        return Reason(
            Code.EV_GRID_PAUSED,
            grant.id,
            f"{name} is paused: the {limit} grid limit leaves no room for its minimum "
            f"current{load}.",
        )
    if grant.reduced:
        return Reason(
            Code.EV_GRID_REDUCED,
            grant.id,
            f"{name} is cut from {amps(grant.requested_a)} to {amps(grant.current_a)} "
            f"by the {limit} grid limit{load}.",
        )
    return None


def _battery_room_w(
    readings: SiteReadings,
    headroom: tuple[float, ...] | None,
    ev_line_a: list[float],
) -> float | None:
    """How much the battery may charge from the grid under the limit (W).

    What the worst line has left after the EVs' grants, on the battery's
    phases; its charging now is already in the non-EV load bound, so it is
    credited back. None: no grid limit.
    """
    if headroom is None:
        return None
    phases = readings.battery_phases
    left = min(room - ev for room, ev in zip(headroom, ev_line_a, strict=True))
    charging_a = max(0.0, readings.battery_w or 0.0) / (readings.voltage_v * phases)
    return max(0.0, (left + charging_a) * readings.voltage_v * phases)


def decide(
    snapshot: SiteSnapshot,
    state: ControllerState | None,
    now: datetime | float,
    settings: ControllerSettings = DEFAULT_SETTINGS,
    targets: SlotTargets | None = None,
    checkpoint: Callable[[], None] = no_checkpoint,
) -> Decision:
    """Decide what the battery, the chargers and the flexible loads do now
    (following `targets`, the horizon plan's slot, where it has one).

    `checkpoint` is called every `CHECKPOINT_EVERY` loadpoints: a caller that
    decides a large site in a worker thread uses it to give the GIL to the event
    loop's thread (a garage's decision takes tens of milliseconds of pure Python,
    and the loop would otherwise wait up to the interpreter's switch interval
    each time it wants to run). It must not change anything the decision reads.
    """
    t = timestamp(now)
    if targets is not None and not (
        targets.start.timestamp() - 1e-6 <= t < targets.end.timestamp()
    ):
        targets = None  # a slot that is over (or not yet begun) is no plan
    state = state or ControllerState()
    readings = read_site(snapshot, checkpoint)
    phase_load = estimate_non_ev_load(readings, settings.house_load_split)
    budget = surplus_budget(readings)

    load_plan = LoadShedder(settings).plan(
        snapshot.loads, readings, phase_load, budget.zone, state, t, targets
    )
    plans = SurplusController(settings).plan(
        readings, budget, state, t, targets, checkpoint
    )

    headroom, grid_reasons = _headroom(readings, phase_load, settings.grid_margin_a)
    if headroom is not None and (load_plan.restore_ids or load_plan.plan_on_ids):
        # Loads switched on now are not in the measurements yet; each may
        # land on any line.
        restored_a = load_plan.restored_w / readings.voltage_v
        headroom = tuple(room - restored_a for room in headroom)
    requests = [
        CurrentRequest(
            id=plan.readings.id,
            priority=plan.readings.priority,
            lines=_lines(
                plan, state.loadpoint(plan.readings.id).phases, readings.lines
            ),
            min_a=plan.readings.min_a,
            request_a=plan.current_a,
            step_a=plan.readings.step_a,
            charging_now=bool(plan.readings.power_w),
            applied_a=plan.readings.current_a,
        )
        for plan in plans
    ]
    grants = GridLimiter(settings.sharing, settings.limit_hold_a).allocate(
        requests, headroom
    )

    volts = readings.voltage_v
    vehicles: dict[str, LoadpointAction] = {}
    ev_reasons: list[Reason] = []
    ev_draw = 0.0
    unplanned_draw = 0.0
    fast_charging = False
    fast_unplanned = False
    ev_line_a = [0.0] * readings.lines
    for index, (plan, request) in enumerate(zip(plans, requests, strict=True), 1):
        if index % CHECKPOINT_EVERY == 0:
            checkpoint()
        grant = grants[plan.readings.id]
        action = LoadpointAction(
            mode=plan.readings.mode,
            current_a=grant.current_a,
            phases=plan.phases,
            power_w=grant.current_a * volts * plan.phases,
        )
        vehicles[plan.readings.id] = action
        ev_draw += action.power_w
        fast_charging = fast_charging or (plan.fast and action.charging)
        if not plan.planned:
            unplanned_draw += action.power_w
            fast_unplanned = fast_unplanned or (plan.fast and action.charging)
        for line in request.lines:
            ev_line_a[line] += grant.current_a
        ev_reasons.extend(plan.reasons)
        limit_reason = _limit_reason(grant, readings, phase_load)
        if limit_reason is not None:
            ev_reasons.append(limit_reason)
        cap = plan.readings.cap_a
        if cap is not None and action.current_a >= plan.readings.max_a - 1e-6 > 0:
            ev_reasons.append(
                Reason(
                    Code.EV_MANUAL_CAP,
                    plan.readings.id,
                    f"'{plan.readings.id}' is capped at {amps(cap)} by a manual limit.",
                )
            )

    if targets is not None and targets.battery_mode is not None:
        battery, battery_reasons = planned_battery_action(
            readings,
            budget,
            targets.battery_mode,
            targets.battery_kw * 1000.0,
            _battery_room_w(readings, headroom, ev_line_a),
            unplanned_draw,
            fast_unplanned,
            settings.battery_hold_threshold_w,
        )
    else:
        battery, battery_reasons = battery_action(
            readings, budget, ev_draw, fast_charging, settings.battery_hold_threshold_w
        )
    status = SiteStatus(
        pv_w=readings.pv_w,
        grid_w=readings.grid_w,
        house_w=readings.house_w,
        house_derived=readings.house_derived,
        battery_soc_pct=readings.battery_soc_pct,
        battery_kwh=readings.battery_kwh,
        battery_w=readings.battery_w if readings.has_battery else None,
        battery_zone=budget.zone,
        ev_w=readings.ev_known_w,
        surplus_w=readings.raw_surplus_w,
        ev_surplus_w=budget.pool_w,
        grid_limit_a=readings.limit_a,
        non_ev_load_a=phase_load.currents_a if phase_load else None,
        load_estimate=phase_load.method if phase_load else None,
        missing=readings.missing,
    )
    return Decision(
        actions=Actions(
            battery=battery,
            vehicles=vehicles,
            loads=LoadActions(
                shed_w=load_plan.shed_w,
                shed=load_plan.shed_ids,
                newly_shed=load_plan.newly_shed_ids,
                restore=load_plan.restore_ids,
                plan_on=load_plan.plan_on_ids,
                plan_off=load_plan.plan_off_ids,
            ),
        ),
        status=status,
        explanation=(
            *readings.reasons,
            *grid_reasons,
            *budget.reasons,
            *battery_reasons,
            *ev_reasons,
            *load_plan.reasons,
        ),
        new_state=ControllerState.create(
            {plan.readings.id: plan.state for plan in plans}, load_plan.states
        ),
    )
