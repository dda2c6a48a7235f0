"""The horizon planner: one linear program over the next hours, solved by HiGHS.

Owns `solve(problem, warm_start=None, mode=SolveMode.ROUNDED) -> Plan`,
`default_terminal_value()`, `SolveMode` and `PlanningError`.

The model, per slot t of length dt (hours), all powers in kW:

* balance: import - export - curtailed + discharge - charge + unserved
  - sum(EV power) - sum(deferrable load power) = load - PV;
* grid: 0 <= import <= import limit, 0 <= export <= export limit;
* battery: soc[t] = soc[t-1] + dt * (eta_c * charge - discharge / eta_d), SoC
  and power limits, a wear cost per kWh discharged, and a terminal value for the
  energy left at the end (so the horizon's end is no reason to empty it);
* EVs: power only in the slots of the plug window, 0 or between the minimum and
  the maximum power, energy by the deadline + shortfall >= need, total <= the
  energy to full;
* deferrable loads: whole slots on or off, or one contiguous block; slots run +
  shortfall >= the run time;
* shortfalls, unserved load and (unless curtailable) curtailed PV cost a penalty
  far above any price: the problem is never infeasible, and a goal that cannot be
  met is met as far as possible.

Integers. The on/off decisions (minimum charging power, whole-slot loads) are
taken by relaxing, rounding and solving again with them fixed (`ROUNDED`, the
default: a few warm LP solves, milliseconds), or exactly by HiGHS's branch and
bound (`EXACT`, seconds with many decisions).

One direction per slot. Import and export in one slot only pay where the export
price is at least the import price; charging and discharging at once only where
energy is worth less than nothing (paid to import, or PV with nowhere to go at a
negative export price). Where prices are equal the two are netted afterwards
(which changes neither cost nor balance). Elsewhere `ROUNDED` closes the smaller
flow of every slot where the LP has both (for the battery, over the whole run
of negative prices, or the LP just moves the dumping to the next slot) and
solves again, until no slot has both; if that does not settle, or is infeasible,
the plan comes from `EXACT`, which puts a binary per slot where exporting pays
more and adds binaries where the battery does both, until none does. So with
ordinary prices the model is a pure LP. `RELAXED` skips all of this: a lower
bound on the cost (the benchmark's perfect-foresight bound).

Speed. The model is built as numpy arrays and passed to HiGHS in one call, and
every per-slot block keeps its layout from one plan to the next: passing the
previous plan's `warm_start` lets HiGHS start from its basis shifted by the
slots that have passed, so a re-plan 15 minutes later takes a few iterations.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import cast

import numpy as np
import numpy.typing as npt

from .battery import BatteryMode
from .plan_lp import (
    CONTINUOUS,
    INF,
    INTEGER,
    SEMI_CONTINUOUS,
    FloatArray,
    IntArray,
    Lp,
    LpBuilder,
    LpSession,
    SolverError,
    WarmStart,
)
from .plan_model import (
    STEP,
    STEP_HOURS,
    BatteryModel,
    DeferrableLoad,
    EvGoal,
    EvOutcome,
    LoadOutcome,
    Plan,
    PlanningProblem,
    PlanStatus,
)

STEP_SECONDS = STEP.total_seconds()
# Tie-breakers, far below any price difference that matters: charge EVs and run
# loads in the earliest of equally priced slots, and do not cycle the battery
# for nothing.
EARLY_WEIGHT = 1e-5  # per kWh and slot index
THROUGHPUT_COST = 1e-4  # per kWh through the battery, each way
# Goal energy that may wait until after the horizon is worth this share of the
# mean import price when it is delivered now instead: cheap slots now are used,
# middling ones are left for the prices still to come.
DEFERRED_VALUE_SHARE = 0.9
# A charger is assumed to manage this share of its maximum power after the
# horizon, which sets how much of a later deadline's need may wait.
DEFERRABLE_POWER_SHARE = 0.9
CLEAN = 1e-7  # values below this are noise
SIMULTANEOUS = 1e-6  # both flows above this in one slot count as simultaneous
MAX_ROUNDS = 4  # MIP rounds adding binaries where charge and discharge met
MAX_REPAIRS = 24  # LP rounds fixing one direction where two flows met
MIP_TIME_LIMIT_S = 10.0
MIP_REL_GAP = 1e-5
TOL = 1e-6


_Fix = tuple[IntArray, FloatArray, FloatArray]  # columns, lower and upper bounds


class PlanningError(Exception):
    """The problem is malformed, or the solver failed (a bug, not a user error)."""


class SolveMode(enum.StrEnum):
    """How integer decisions are taken."""

    ROUNDED = "rounded"  # relax, round, fix, solve again (fast; the default)
    EXACT = "exact"  # branch and bound (slow with many on/off decisions)
    RELAXED = "relaxed"  # the LP relaxation: a lower bound on the cost


def default_terminal_value(problem: PlanningProblem) -> float:
    """What a stored kWh left at the horizon's end is worth, from the prices.

    What it would cost to buy it back, after the round trip's losses: the mean
    import price over the horizon's last 24 hours x charge x discharge
    efficiency. Lower and the plan would empty the battery because the horizon
    ends; higher and it would fill it from the grid for no reason but that
    (measured on the benchmark's reference year, where the mean price x the
    discharge efficiency cost a third of the savings in summer). Set
    `BatteryModel.terminal_value_per_kwh` to override it.
    """
    battery = problem.battery
    if battery is None or not problem.import_price:
        return 0.0
    tail = problem.import_price[-96:]
    round_trip = battery.charge_efficiency * battery.discharge_efficiency
    return max(0.0, float(np.mean(tail)) * round_trip)


def solve(
    problem: PlanningProblem,
    warm_start: WarmStart | None = None,
    mode: SolveMode = SolveMode.ROUNDED,
) -> Plan:
    """The cheapest plan for `problem`; deterministic for the same arguments.

    `warm_start` is the previous plan's `Plan.warm_start` (any plan of the same
    site: a basis that no longer fits is repaired or ignored). Raises
    `PlanningError` for a malformed problem (lengths that disagree, negative
    powers, efficiencies outside (0, 1], a naive `start`).
    """
    _validate(problem)
    model = _Model(problem, _Horizon.of(problem))
    if mode is SolveMode.EXACT:
        return _solve_exact(model)
    try:
        session = LpSession(model.build(set(), set(), False))
        session.warm_start(warm_start, model.horizon.quarter)
        x = session.run()
        if mode is SolveMode.ROUNDED:
            if model.has_on_off:
                for cols, lower, upper in model.rounding(x):
                    session.set_bounds(cols, lower, upper)
                x = session.run()
            # One direction per slot where the LP both imports and exports (or
            # charges and discharges): the larger net flow's, then solve again.
            for _ in range(MAX_REPAIRS):
                repairs = model.one_way(x)
                if not repairs:
                    break
                for cols, lower, upper in repairs:
                    session.set_bounds(cols, lower, upper)
                try:
                    x = session.run()
                except SolverError:
                    return _solve_exact(model)
            else:
                return _solve_exact(model)
    except SolverError as err:
        raise PlanningError(str(err)) from err
    basis = session.basis(model.horizon.quarter, model.horizon.n)
    return model.plan(x, PlanStatus.OPTIMAL, session.seconds, False, basis)


def _solve_exact(model: _Model) -> Plan:
    """Branch and bound: binaries where import/export or charge/discharge could
    meet (added where the LP has them, until none does), exact on/off decisions."""
    grid_bins = model.grid_binary_slots()
    bat_bins: set[int] = set()
    seconds = 0.0
    try:
        for round_ in range(MAX_ROUNDS + 1):
            session = LpSession(
                model.build(grid_bins, bat_bins, True),
                time_limit=MIP_TIME_LIMIT_S,
                mip_rel_gap=MIP_REL_GAP,
            )
            x = session.run()
            seconds += session.seconds
            both = model.simultaneous_battery(x) - bat_bins
            if not both:
                break
            last = round_ + 1 == MAX_ROUNDS
            bat_bins = set(range(model.horizon.n)) if last else bat_bins | both
    except SolverError as err:
        raise PlanningError(str(err)) from err
    status = PlanStatus.TIME_LIMIT if session.hit_time_limit else PlanStatus.OPTIMAL
    mixed = bool(grid_bins or bat_bins or model.has_on_off)
    return model.plan(x, status, seconds, mixed, None)


# --- validation and time -----------------------------------------------------


def _validate(problem: PlanningProblem) -> None:
    n = problem.slots
    if n == 0:
        raise PlanningError("the horizon has no slots")
    if problem.start.tzinfo is None:
        raise PlanningError("start must be timezone-aware")
    for name in ("import_price", "export_price", "pv_kw", "load_kw"):
        values = getattr(problem, name)
        if len(values) != n:
            raise PlanningError(f"{name} has {len(values)} values, not {n}")
        if not np.isfinite(np.asarray(values, dtype=np.float64)).all():
            raise PlanningError(f"{name} has a value that is not a finite number")
    if min(problem.pv_kw) < 0 or min(problem.load_kw) < 0:
        raise PlanningError("PV and load forecasts must not be negative")
    for limit in (problem.grid.import_limit_kw, problem.grid.export_limit_kw):
        if limit is not None and not limit >= 0:
            raise PlanningError("grid limits must not be negative")
    if problem.battery is not None:
        _validate_battery(problem.battery)
    ids = [ev.id for ev in problem.evs] + [load.id for load in problem.loads]
    if len(set(ids)) != len(ids):
        raise PlanningError("EV and load ids must be unique")
    for ev in problem.evs:
        powers = (ev.need_kwh, ev.max_power_kw, ev.min_power_kw)
        if not all(math.isfinite(v) and v >= 0 for v in powers):
            raise PlanningError(f"EV {ev.id}: need and powers must be finite and >= 0")
        if ev.min_power_kw > ev.max_power_kw:
            raise PlanningError(f"EV {ev.id}: minimum power above the maximum")
        if ev.max_kwh is not None and not ev.max_kwh >= 0:
            raise PlanningError(f"EV {ev.id}: max_kwh must not be negative")
    for load in problem.loads:
        if not all(
            math.isfinite(v) and v >= 0 for v in (load.power_kw, load.run_hours)
        ):
            raise PlanningError(
                f"load {load.id}: power and run time must be finite and >= 0"
            )
    penalty = problem.shortfall_penalty_per_kwh
    if penalty is not None and not (math.isfinite(penalty) and penalty > 0):
        raise PlanningError("the shortfall penalty must be positive")


def _validate_battery(battery: BatteryModel) -> None:
    values = (
        battery.capacity_kwh,
        battery.soc_kwh,
        battery.max_charge_kw,
        battery.max_discharge_kw,
        battery.min_soc_kwh,
        battery.upper_soc_kwh,
        battery.cycle_cost_per_kwh,
    )
    if not all(math.isfinite(v) and v >= 0 for v in values):
        raise PlanningError("battery sizes, limits and costs must be finite and >= 0")
    if battery.min_soc_kwh > battery.upper_soc_kwh:
        raise PlanningError("battery: the SoC minimum is above the maximum")
    for efficiency in (battery.charge_efficiency, battery.discharge_efficiency):
        if not 0 < efficiency <= 1:
            raise PlanningError("battery efficiencies must be in (0, 1]")
    value = battery.terminal_value_per_kwh
    if value is not None and not math.isfinite(value):
        raise PlanningError("battery: the terminal value must be a finite number")


@dataclass(frozen=True, slots=True)
class _Horizon:
    """Slot boundaries (POSIX seconds) and lengths (hours)."""

    bounds: FloatArray  # n + 1 boundaries
    hours: FloatArray  # n lengths
    start: datetime  # UTC
    quarter: int  # the first slot's quarter hour since the epoch

    @property
    def n(self) -> int:
        return len(self.hours)

    @property
    def end_ts(self) -> float:
        return float(self.bounds[-1])

    @classmethod
    def of(cls, problem: PlanningProblem) -> _Horizon:
        start = problem.start.astimezone(UTC)
        start_ts = start.timestamp()
        quarter = math.floor(start_ts / STEP_SECONDS + 1e-9)
        n = problem.slots
        bounds = np.empty(n + 1)
        bounds[0] = start_ts
        bounds[1:] = (quarter + 1 + np.arange(n)) * STEP_SECONDS
        return cls(bounds, np.diff(bounds) / 3600.0, start, quarter)

    def slots_within(self, begin: datetime | None, end: datetime | None) -> IntArray:
        """Indices of the slots wholly inside [begin, end)."""
        lo = -math.inf if begin is None else begin.timestamp()
        hi = math.inf if end is None else end.timestamp()
        inside = (self.bounds[:-1] >= lo - TOL) & (self.bounds[1:] <= hi + TOL)
        return np.flatnonzero(inside).astype(np.int64)

    def hours_after(self, until: datetime | None) -> float:
        """Hours from the horizon's end to `until` (0 when it is not later)."""
        if until is None:
            return 0.0
        return max(0.0, (until.timestamp() - self.end_ts) / 3600.0)


# --- the model ---------------------------------------------------------------


@dataclass(slots=True)
class _EvBlock:
    goal: EvGoal
    slots: IntArray  # usable slots (wholly inside the plug window)
    counted: IntArray  # usable slots that end by the deadline
    total: float  # energy cap (to full)
    deferrable: float  # need that may wait until after the horizon
    cols: IntArray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    hard_col: int = -1
    soft_col: int = -1


@dataclass(slots=True)
class _LoadBlock:
    load: DeferrableLoad
    need: int  # slots still to run
    # Non-contiguous: the slots it may run in. Contiguous: the slots it may start
    # in (it then runs `need` slots). Running: the slots it runs in (fixed).
    slots: IntArray
    deferrable: int  # slots (or, contiguous, 1 run) that may wait
    cols: IntArray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    hard_col: int = -1
    soft_col: int = -1

    @property
    def fixed(self) -> bool:
        return self.load.running and self.load.contiguous


class _Model:
    """Builds the LP for one problem and reads a solution back into a `Plan`."""

    def __init__(self, problem: PlanningProblem, horizon: _Horizon) -> None:
        self.problem = problem
        self.horizon = horizon
        n = horizon.n
        self.dt = horizon.hours
        self.p_imp = np.asarray(problem.import_price, dtype=np.float64)
        self.p_exp = np.asarray(problem.export_price, dtype=np.float64)
        # A microwatt is noise (and below HiGHS's tolerances): 0.
        pv = np.asarray(problem.pv_kw, dtype=np.float64)
        load = np.asarray(problem.load_kw, dtype=np.float64)
        self.pv = np.where(pv < TOL, 0.0, pv)
        self.load = np.where(load < TOL, 0.0, load)
        self.fixed_load = np.zeros(n)
        scale = max(
            1.0, float(np.max(np.abs(self.p_imp))), float(np.max(np.abs(self.p_exp)))
        )
        penalty = problem.shortfall_penalty_per_kwh
        self.penalty = 20.0 * scale if penalty is None else penalty
        self.future_price = max(0.0, float(np.mean(self.p_imp)))
        battery = problem.battery
        if battery is None:
            self.terminal_value = 0.0
        elif battery.terminal_value_per_kwh is not None:
            self.terminal_value = battery.terminal_value_per_kwh
        else:
            self.terminal_value = default_terminal_value(problem)
        self.evs = [self._ev_block(ev) for ev in problem.evs]
        self.loads = [self._load_block(load) for load in problem.loads]
        self.has_on_off = any(ev.goal.min_power_kw > 0 for ev in self.evs) or any(
            not block.fixed and block.need > 0 for block in self.loads
        )
        # An upper bound on any flow in a slot (big-M for the binaries).
        self.flow_bound = (
            self.load
            + self.fixed_load
            + self.pv
            + sum((ev.goal.max_power_kw for ev in self.evs), 0.0)
            + sum((block.load.power_kw for block in self.loads), 0.0)
            + (
                0.0
                if battery is None
                else battery.max_charge_kw + battery.max_discharge_kw
            )
            + 1.0
        )
        self.cols: dict[str, IntArray] = {}

    # -- goals --

    def _ev_block(self, goal: EvGoal) -> _EvBlock:
        horizon = self.horizon
        slots = horizon.slots_within(goal.available_from, goal.available_until)
        deadline = goal.deadline if goal.deadline is not None else goal.available_until
        limit = math.inf if deadline is None else deadline.timestamp()
        counted = slots[horizon.bounds[1:][slots] <= limit + TOL]
        leave = goal.available_until
        charge_until = (
            deadline if leave is None or (deadline and deadline < leave) else leave
        )
        after = horizon.hours_after(charge_until)
        deferrable = min(
            goal.need_kwh, DEFERRABLE_POWER_SHARE * goal.max_power_kw * after
        )
        total = (
            goal.need_kwh if goal.max_kwh is None else max(goal.max_kwh, goal.need_kwh)
        )
        return _EvBlock(goal, slots, counted, total, deferrable)

    def _load_block(self, load: DeferrableLoad) -> _LoadBlock:
        n = self.horizon.n
        need = (
            math.ceil(load.run_hours / STEP_HOURS - 1e-9) if load.run_hours > 0 else 0
        )
        if load.running and load.contiguous:
            on = np.arange(min(need, n), dtype=np.int64)
            self.fixed_load[on] += load.power_kw
            return _LoadBlock(load, need, on, 0)
        slots = self.horizon.slots_within(load.earliest_start, load.latest_end)
        after = self.horizon.hours_after(load.latest_end)
        if not load.contiguous:
            deferrable = min(need, math.floor(after / STEP_HOURS + 1e-9))
            return _LoadBlock(load, need, slots, deferrable)
        # Starts from which `need` consecutive slots stay inside the window.
        allowed = np.zeros(n, dtype=np.int64)
        allowed[slots] = 1
        window = max(need, 1)
        if n >= window:
            runs = np.convolve(allowed, np.ones(window, dtype=np.int64), "valid")
            starts = np.flatnonzero(runs == window).astype(np.int64)
        else:
            starts = np.empty(0, dtype=np.int64)
        deferrable = 1 if after >= need * STEP_HOURS - TOL else 0
        return _LoadBlock(load, need, starts, deferrable)

    def grid_binary_slots(self) -> set[int]:
        """Slots where exporting pays at least as much as importing costs."""
        return {int(i) for i in np.flatnonzero(self.p_exp > self.p_imp + 1e-12)}

    # -- building --

    def build(self, grid_bins: set[int], bat_bins: set[int], exact: bool) -> Lp:
        problem, n, dt = self.problem, self.horizon.n, self.dt
        b = LpBuilder(n)
        grid = problem.grid
        # No flow exceeds `flow_bound`: a finite bound keeps the LP bounded where
        # exporting would pay more than importing costs.
        imp_ub = np.minimum(
            self.flow_bound,
            INF if grid.import_limit_kw is None else grid.import_limit_kw,
        )
        exp_ub = np.minimum(
            self.flow_bound,
            INF if grid.export_limit_kw is None else grid.export_limit_kw,
        )
        demand = self.load + self.fixed_load
        cols: dict[str, IntArray] = {}
        cols["imp"] = imp = b.add_cols("imp", 0.0, imp_ub, self.p_imp * dt)
        cols["exp"] = exp = b.add_cols("exp", 0.0, exp_ub, -self.p_exp * dt)
        balance = b.add_rows("balance", demand - self.pv, demand - self.pv)
        b.add_entries(balance, imp, 1.0)
        b.add_entries(balance, exp, -1.0)
        # Curtailment and unserved load keep every model feasible, whatever the
        # limits and the one-way repairs close (both at a penalty, curtailment
        # free where PV may be curtailed).
        if np.any(self.pv > 0):
            cost = 0.0 if problem.pv_curtailable else self.penalty
            cols["curt"] = curt = b.add_cols("curt", 0.0, self.pv, cost * dt)
            b.add_entries(balance, curt, -1.0)
        if np.any(demand > 0):
            cols["unserved"] = unserved = b.add_cols(
                "unserved", 0.0, demand, 10.0 * self.penalty * dt
            )
            b.add_entries(balance, unserved, 1.0)
        if problem.battery is not None:
            self._build_battery(b, problem.battery, balance, bat_bins, cols)
        if grid_bins:
            on = np.array(sorted(grid_bins), dtype=np.int64)
            z = b.add_cols(
                "grid_bin", 0.0, 1.0, 0.0, count=len(on), first_slot=-1, kind=INTEGER
            )
            big = self.flow_bound[on]
            r1 = b.add_rows("grid_bin_imp", -INF, 0.0, count=len(on))  # imp <= M z
            b.add_entries(r1, imp[on], 1.0)
            b.add_entries(r1, z, -big)
            r2 = b.add_rows(
                "grid_bin_exp", -INF, big, count=len(on)
            )  # exp <= M (1 - z)
            b.add_entries(r2, exp[on], 1.0)
            b.add_entries(r2, z, big)
        for ev in self.evs:
            self._build_ev(b, ev, balance, exact)
        for block in self.loads:
            self._build_load(b, block, balance, exact)
        self.cols = cols
        return b.finish()

    def _build_battery(
        self,
        b: LpBuilder,
        battery: BatteryModel,
        balance: IntArray,
        bat_bins: set[int],
        cols: dict[str, IntArray],
    ) -> None:
        n, dt = self.horizon.n, self.dt
        ch = b.add_cols("ch", 0.0, battery.max_charge_kw, THROUGHPUT_COST * dt)
        dis = b.add_cols(
            "dis",
            0.0,
            battery.max_discharge_kw,
            (battery.cycle_cost_per_kwh + THROUGHPUT_COST) * dt,
        )
        soc_cost = np.zeros(n)
        soc_cost[-1] = -self.terminal_value
        lo = min(battery.min_soc_kwh, battery.soc_kwh)
        hi = max(battery.upper_soc_kwh, battery.soc_kwh)
        soc = b.add_cols("soc", lo, hi, soc_cost)
        b.add_entries(balance, dis, 1.0)
        b.add_entries(balance, ch, -1.0)
        rhs = np.zeros(n)
        rhs[0] = battery.soc_kwh
        dyn = b.add_rows("dyn", rhs, rhs)
        b.add_entries(dyn, soc, 1.0)
        b.add_entries(dyn[1:], soc[:-1], -1.0)
        b.add_entries(dyn, ch, dt * -battery.charge_efficiency)
        b.add_entries(dyn, dis, dt * (1.0 / battery.discharge_efficiency))
        cols["ch"], cols["dis"], cols["soc"] = ch, dis, soc
        if bat_bins:
            on = np.array(sorted(bat_bins), dtype=np.int64)
            w = b.add_cols(
                "bat_bin", 0.0, 1.0, 0.0, count=len(on), first_slot=-1, kind=INTEGER
            )
            r1 = b.add_rows("bat_bin_ch", -INF, 0.0, count=len(on))  # ch <= Pc w
            b.add_entries(r1, ch[on], 1.0)
            b.add_entries(r1, w, -battery.max_charge_kw)
            r2 = b.add_rows(
                "bat_bin_dis", -INF, battery.max_discharge_kw, count=len(on)
            )
            b.add_entries(r2, dis[on], 1.0)  # dis <= Pd (1 - w)
            b.add_entries(r2, w, battery.max_discharge_kw)

    def _build_ev(
        self, b: LpBuilder, ev: _EvBlock, balance: IntArray, exact: bool
    ) -> None:
        goal, dt, slots = ev.goal, self.dt, ev.slots
        name = f"ev:{goal.id}"
        width = len(slots) if ev.total > 0 and goal.max_power_kw > 0 else 0
        slots = ev.slots = slots[:width]
        semi = exact and goal.min_power_kw > 0
        first = int(slots[0]) if width else 0
        ev.cols = power = b.add_cols(
            name,
            goal.min_power_kw if semi else 0.0,
            goal.max_power_kw,
            EARLY_WEIGHT * slots * dt[slots],
            count=width,
            first_slot=first,
            kind=SEMI_CONTINUOUS if semi else CONTINUOUS,
        )
        b.add_entries(balance[slots], power, -1.0)
        cap = b.add_rows(f"{name}:cap", 0.0, ev.total, count=1)
        b.add_entries(cap, power, dt[slots])
        hard = b.add_cols(
            f"{name}:hard", 0.0, goal.need_kwh, self.penalty, count=1, first_slot=-1
        )
        soft = b.add_cols(
            f"{name}:soft",
            0.0,
            ev.deferrable,
            DEFERRED_VALUE_SHARE * self.future_price,
            count=1,
            first_slot=-1,
        )
        need = b.add_rows(f"{name}:need", goal.need_kwh, INF, count=1)
        counted = ev.counted[ev.counted <= (slots[-1] if width else -1)]
        ev.counted = counted
        b.add_entries(need, power[counted - first], dt[counted])
        b.add_entries(need, hard, 1.0)
        b.add_entries(need, soft, 1.0)
        ev.hard_col, ev.soft_col = int(hard[0]), int(soft[0])

    def _build_load(
        self, b: LpBuilder, block: _LoadBlock, balance: IntArray, exact: bool
    ) -> None:
        load, need = block.load, block.need
        if block.fixed:
            return
        name = f"load:{load.id}"
        contiguous = load.contiguous
        if need == 0:
            block.slots = block.slots[:0]
        slots = block.slots
        per_slot = load.power_kw * STEP_HOURS
        runs = (1.0 if need > 0 else 0.0) if contiguous else float(need)
        unit = per_slot * (need if contiguous else 1)  # energy of one slack unit
        block.cols = x = b.add_cols(
            name,
            0.0,
            1.0,
            EARLY_WEIGHT * slots * per_slot,
            count=len(slots),
            first_slot=int(slots[0]) if len(slots) else 0,
            kind=INTEGER if exact else CONTINUOUS,
        )
        if contiguous:
            # Start s runs slots s .. s + need - 1.
            offsets = np.arange(need, dtype=np.int64)
            rows = slots[:, None] + offsets[None, :]
            b.add_entries(balance[rows], np.repeat(x, need), -load.power_kw)
        else:
            b.add_entries(balance[slots], x, -load.power_kw)
        cap = b.add_rows(f"{name}:cap", 0.0, runs, count=1)
        b.add_entries(cap, x, 1.0)
        hard = b.add_cols(
            f"{name}:hard", 0.0, runs, self.penalty * unit, count=1, first_slot=-1
        )
        soft = b.add_cols(
            f"{name}:soft",
            0.0,
            float(block.deferrable),
            DEFERRED_VALUE_SHARE * self.future_price * unit,
            count=1,
            first_slot=-1,
        )
        row = b.add_rows(f"{name}:need", runs, INF, count=1)
        b.add_entries(row, x, 1.0)
        b.add_entries(row, hard, 1.0)
        b.add_entries(row, soft, 1.0)
        block.hard_col, block.soft_col = int(hard[0]), int(soft[0])

    # -- integer decisions --

    def rounding(self, x: FloatArray) -> list[_Fix]:
        """Bounds that fix the relaxed on/off decisions (then solved again)."""
        fixes: list[_Fix] = []
        dt = self.dt
        for ev in self.evs:
            pmin = ev.goal.min_power_kw
            if pmin <= 0 or len(ev.slots) == 0 or ev.total <= 0:
                continue
            p = x[ev.cols]
            on = p >= pmin - TOL
            frac = np.flatnonzero((p > TOL) & ~on)
            energy = float(np.sum(p[frac] * dt[ev.slots[frac]]))
            wanted = math.ceil(energy / (pmin * STEP_HOURS) - 1e-6) if energy > 0 else 0
            order = frac[np.lexsort((frac, -p[frac]))]
            chosen = list(order[:wanted])
            base = float(np.sum(pmin * dt[ev.slots[on]]))
            dropped = []
            while (
                chosen
                and base + pmin * float(np.sum(dt[ev.slots[chosen]])) > ev.total + TOL
            ):
                dropped.append(chosen.pop())
            on[chosen] = True
            lower = np.where(on, pmin, 0.0)
            upper = np.where(on, ev.goal.max_power_kw, 0.0)
            if dropped:
                # Less than a slot at the minimum is left: the charge ends with
                # the minimum for part of one slot (a mean below the minimum).
                upper[dropped[-1]] = pmin
            fixes.append((ev.cols, lower, upper))
        for block in self.loads:
            if block.fixed or block.need == 0 or len(block.slots) == 0:
                continue
            v = x[block.cols]
            if block.load.contiguous:
                count = 1 if float(np.sum(v)) >= 0.5 - TOL else 0
            else:
                count = min(block.need, round(float(np.sum(v)) + 1e-6))
            order = np.lexsort((block.slots, -v))[:count]
            pick = np.zeros(len(block.slots))
            pick[order] = 1.0
            fixes.append((block.cols, pick, pick.copy()))
        return fixes

    def one_way(self, x: FloatArray) -> list[_Fix]:
        """Bounds closing the smaller of two opposed flows in each slot that has both
        (import/export where exporting pays at least as much, charge/discharge).

        A battery that charges and discharges at once is dumping energy worth less
        than nothing; the LP would only move the dumping to the next such slot, so
        every slot of the same run of negative prices gets one direction too (its
        net flow's)."""
        fixes: list[_Fix] = []
        imp, exp = self.cols["imp"], self.cols["exp"]
        both = np.flatnonzero((x[imp] > SIMULTANEOUS) & (x[exp] > SIMULTANEOUS))
        both = both[self.p_exp[both] > self.p_imp[both] + 1e-12]  # equal: netted
        if len(both):
            close = np.where(x[imp[both]] >= x[exp[both]], exp[both], imp[both])
            fixes.append(_closed(close))
        if self.problem.battery is None:
            return fixes
        ch, dis = self.cols["ch"], self.cols["dis"]
        meet = (x[ch] > SIMULTANEOUS) & (x[dis] > SIMULTANEOUS)
        if not np.any(meet):
            return fixes
        negative = (self.p_exp < 0) | (self.p_imp < 0)
        run_id = np.cumsum(~negative)  # slots of one negative run share an id
        runs = np.unique(run_id[meet & negative])
        slots = meet | (negative & np.isin(run_id, runs))
        idx = np.flatnonzero(slots)
        close = np.where(x[ch[idx]] >= x[dis[idx]], dis[idx], ch[idx])
        fixes.append(_closed(close))
        return fixes

    def simultaneous_battery(self, x: FloatArray) -> set[int]:
        if self.problem.battery is None:
            return set()
        ch, dis = x[self.cols["ch"]], x[self.cols["dis"]]
        return {
            int(i) for i in np.flatnonzero((ch > SIMULTANEOUS) & (dis > SIMULTANEOUS))
        }

    # -- reading --

    def plan(
        self,
        x: FloatArray,
        status: PlanStatus,
        seconds: float,
        mixed: bool,
        warm: WarmStart | None,
    ) -> Plan:
        problem, n, dt, cols = self.problem, self.horizon.n, self.dt, self.cols
        x = np.where(np.abs(x) < CLEAN, 0.0, x)
        imp, exp = x[cols["imp"]], x[cols["exp"]]
        # Netting where the prices are equal changes neither cost nor balance.
        both = np.where(
            np.abs(self.p_exp - self.p_imp) <= 1e-12, np.minimum(imp, exp), 0
        )
        imp, exp = imp - both, exp - both
        curt = x[cols["curt"]] if "curt" in cols else np.zeros(n)
        unserved = x[cols["unserved"]] if "unserved" in cols else np.zeros(n)
        battery = problem.battery
        if battery is not None:
            dis, soc = x[cols["dis"]], x[cols["soc"]]
            net = x[cols["ch"]] - dis
        else:
            dis, soc, net = np.zeros(n), np.zeros(n), np.zeros(n)
        ev_kw = np.zeros((len(self.evs), n))
        for k, ev in enumerate(self.evs):
            ev_kw[k, ev.slots] = x[ev.cols]
        load_on = np.zeros((len(self.loads), n), dtype=bool)
        for j, block in enumerate(self.loads):
            load_on[j] = self._load_slots(block, x)
        powers = np.array([block.load.power_kw for block in self.loads]).reshape(-1, 1)
        # Running contiguous loads are in `fixed_load`: count them once.
        fixed = np.array([block.fixed for block in self.loads]).reshape(-1, 1)
        flexible = (
            (load_on * powers * ~fixed).sum(axis=0) if self.loads else np.zeros(n)
        )
        consumers = ev_kw.sum(axis=0) + flexible + self.fixed_load
        modes = self._battery_modes(net, soc, consumers, curt)
        export_kwh = float(np.sum(exp * dt))
        curtailed = float(np.sum(curt * dt))
        pv_kwh = float(np.sum(self.pv * dt))
        return Plan(
            status=status,
            start=self.horizon.start,
            import_price=_floats(self.p_imp),
            export_price=_floats(self.p_exp),
            pv_kw=_floats(self.pv),
            load_kw=_floats(self.load + self.fixed_load),
            grid_import_kw=_floats(imp),
            grid_export_kw=_floats(exp),
            pv_curtailed_kw=_floats(curt),
            unserved_kw=_floats(unserved),
            battery_kw=_floats(net),
            battery_soc_kwh=_floats(soc) if battery is not None else (),
            battery_mode=modes,
            ev_kw=tuple(_floats(row) for row in ev_kw),
            load_on=tuple(_bools(row) for row in load_on),
            evs=tuple(
                self._ev_outcome(ev, ev_kw[k], x) for k, ev in enumerate(self.evs)
            ),
            loads=tuple(
                self._load_outcome(block, load_on[j], x)
                for j, block in enumerate(self.loads)
            ),
            cost=float(np.sum((self.p_imp * imp - self.p_exp * exp) * dt)),
            cycle_cost=(
                float(np.sum(dis * dt)) * battery.cycle_cost_per_kwh if battery else 0.0
            ),
            terminal_value=float(soc[-1]) * self.terminal_value if battery else 0.0,
            import_kwh=float(np.sum(imp * dt)),
            export_kwh=export_kwh,
            pv_kwh=pv_kwh,
            self_consumption_kwh=max(0.0, pv_kwh - export_kwh - curtailed),
            curtailed_kwh=curtailed,
            unserved_kwh=float(np.sum(unserved * dt)),
            mixed_integer=mixed,
            solve_seconds=seconds,
            warm_start=warm,
        )

    def _battery_modes(
        self, net: FloatArray, soc: FloatArray, consumers: FloatArray, curt: FloatArray
    ) -> tuple[BatteryMode, ...]:
        battery, n = self.problem.battery, self.horizon.n
        if battery is None:
            return (BatteryMode.AUTO,) * n
        surplus = self.pv - curt - self.load - consumers
        prev = np.concatenate(([battery.soc_kwh], soc[:-1]))
        room = np.maximum(0.0, battery.upper_soc_kwh - prev) / (
            battery.charge_efficiency * self.dt
        )
        avail = (
            np.maximum(0.0, prev - battery.min_soc_kwh)
            * battery.discharge_efficiency
            / self.dt
        )
        auto = np.clip(
            surplus,
            -np.minimum(battery.max_discharge_kw, avail),
            np.minimum(battery.max_charge_kw, room),
        )
        code = np.select(
            [np.abs(net - auto) <= 1e-3, np.abs(net) <= TOL, net > 0],
            [0, 1, 2],
            default=3,
        )
        return tuple(_MODES[c] for c in cast(list[int], code.tolist()))

    def _ev_outcome(self, ev: _EvBlock, power: FloatArray, x: FloatArray) -> EvOutcome:
        energy = power * self.dt
        planned = float(np.sum(energy[ev.counted]))
        charging = np.flatnonzero(power > TOL)
        bounds = self.horizon.bounds
        goal = ev.goal
        return EvOutcome(
            id=goal.id,
            need_kwh=goal.need_kwh,
            planned_kwh=min(planned, goal.need_kwh),
            deferred_kwh=float(x[ev.soft_col]),
            shortfall_kwh=float(x[ev.hard_col]),
            planned_total_kwh=float(np.sum(energy)),
            deadline=goal.deadline
            if goal.deadline is not None
            else goal.available_until,
            first_charge=_utc(bounds[charging[0]]) if len(charging) else None,
            last_charge_end=_utc(bounds[charging[-1] + 1]) if len(charging) else None,
        )

    def _load_slots(self, block: _LoadBlock, x: FloatArray) -> npt.NDArray[np.bool_]:
        on = np.zeros(self.horizon.n, dtype=bool)
        if block.fixed:
            on[block.slots] = True
        elif len(block.cols):
            chosen = block.slots[x[block.cols] > 0.5]
            if block.load.contiguous:
                for s in cast(list[int], chosen.tolist()):
                    on[s : s + block.need] = True
            else:
                on[chosen] = True
        return on

    def _load_outcome(
        self, block: _LoadBlock, on: npt.NDArray[np.bool_], x: FloatArray
    ) -> LoadOutcome:
        run = block.load.run_hours
        planned = min(run, float(np.sum(self.dt[on])))
        unit = block.need * STEP_HOURS if block.load.contiguous else STEP_HOURS
        hard = float(x[block.hard_col]) if block.hard_col >= 0 else 0.0
        soft = float(x[block.soft_col]) if block.soft_col >= 0 else 0.0
        idx = np.flatnonzero(on)
        bounds = self.horizon.bounds
        return LoadOutcome(
            id=block.load.id,
            run_hours=run,
            planned_hours=planned,
            deferred_hours=min(run, soft * unit),
            shortfall_hours=min(run, hard * unit) if hard > TOL else 0.0,
            first_on=_utc(bounds[idx[0]]) if len(idx) else None,
            last_on_end=_utc(bounds[idx[-1] + 1]) if len(idx) else None,
        )


_MODES = (BatteryMode.AUTO, BatteryMode.HOLD, BatteryMode.CHARGE, BatteryMode.DISCHARGE)


def _closed(cols: npt.NDArray[np.int64]) -> _Fix:
    """Bounds that hold these columns at 0."""
    zeros = np.zeros(len(cols))
    return cols.astype(np.int64), zeros, zeros.copy()


def _floats(values: FloatArray) -> tuple[float, ...]:
    return tuple(cast(list[float], values.tolist()))


def _bools(values: npt.NDArray[np.bool_]) -> tuple[bool, ...]:
    return tuple(cast(list[bool], values.tolist()))


def _utc(ts: float) -> datetime:
    return datetime.fromtimestamp(round(float(ts), 6), tz=UTC)


__all__ = [
    "PlanningError",
    "SolveMode",
    "WarmStart",
    "default_terminal_value",
    "solve",
]
