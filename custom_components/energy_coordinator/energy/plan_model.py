"""What the horizon planner is asked, and what it answers: plain frozen dataclasses.

Owns the planner's input, `PlanningProblem` (per-slot prices and forecasts, the
grid connection, the home battery, the EV goals and the deferrable loads), and
its output, `Plan` (one `PlanSlot` per step with the prices it was planned on,
one `EvOutcome` / `LoadOutcome` per goal, and the expected totals).

Time: a problem starts at `start` (timezone-aware). Slot boundaries are the
quarter hours: the first slot runs from `start` to the next quarter hour (a
whole quarter when `start` is on one), every later slot is 15 minutes. The
per-slot tuples (`import_price`, `export_price`, `pv_kw`, `load_kw`) all have one
value per slot; their length is the horizon.

Units and signs: kW (mean power over the slot), kWh, hours, currency per kWh.
Battery power is positive when charging and measured on the AC side; the
efficiencies are one way (AC to stored energy, stored energy to AC). `load_kw`
is the house without the EVs and without the deferrable loads planned here.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from .battery import BatteryMode

if TYPE_CHECKING:
    from .plan_lp import WarmStart

STEP = timedelta(minutes=15)
STEP_HOURS = 0.25


@dataclass(frozen=True, slots=True, kw_only=True)
class GridConnection:
    """Import and export limits of the grid connection (`None`: unlimited)."""

    import_limit_kw: float | None = None
    export_limit_kw: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class BatteryModel:
    """The home battery as the planner sees it.

    `soc_kwh` is the stored energy now. It may sit outside the SoC limits (then
    the planner only moves it towards them). `cycle_cost_per_kwh` is a wear cost
    per kWh discharged (AC side). `terminal_value_per_kwh` is what a kWh still
    stored at the end of the horizon is worth; `None` derives it from the prices
    (see `planner.default_terminal_value`), so the plan does not empty the battery
    just because the horizon ends.
    """

    capacity_kwh: float
    soc_kwh: float
    max_charge_kw: float
    max_discharge_kw: float
    min_soc_kwh: float = 0.0
    max_soc_kwh: float | None = None  # None: capacity_kwh
    charge_efficiency: float = 0.95
    discharge_efficiency: float = 0.95
    cycle_cost_per_kwh: float = 0.0
    terminal_value_per_kwh: float | None = None

    @property
    def upper_soc_kwh(self) -> float:
        """The highest stored energy the plan may reach."""
        return self.capacity_kwh if self.max_soc_kwh is None else self.max_soc_kwh


@dataclass(frozen=True, slots=True, kw_only=True)
class EvGoal:
    """One vehicle's charging goal: `need_kwh` (AC) delivered by `deadline`.

    The vehicle can charge from `available_from` (`None`: now) until
    `available_until` (`None`: the end of the horizon); only slots wholly inside
    that window are used. `deadline` `None` means the end of the window. Energy
    beyond the need, up to `max_kwh` (`None`: the need), is taken only where it
    pays. A charger cannot charge below its minimum current, so with
    `min_power_kw` > 0 the power in a slot is either 0 or between `min_power_kw`
    and `max_power_kw`; only the slot that ends a charge may plan less (the
    charger runs at its minimum for part of the slot), when what is left to
    reach `max_kwh` is less than a slot at the minimum. A goal whose deadline
    lies beyond the horizon is only planned as far as it must be (what could not
    be charged after the horizon); the rest is `deferred_kwh` in the outcome. A
    goal that cannot be met is met as far as possible; its `shortfall_kwh` says
    by how much.
    """

    id: str
    need_kwh: float
    max_power_kw: float
    min_power_kw: float = 0.0
    deadline: datetime | None = None
    max_kwh: float | None = None
    available_from: datetime | None = None
    available_until: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class DeferrableLoad:
    """A switchable load that must run `run_hours` more within its window.

    It runs whole slots at `power_kw` (a partial first slot counts as a slot), in
    the slots wholly inside [`earliest_start`, `latest_end`) (`None`: now / the
    end of the horizon). `contiguous` loads (a washing machine's programme) run in
    one block; `running` says a contiguous load has started and must go on now.
    A window that ends beyond the horizon lets part of the run wait (`deferred`
    in the outcome); a run that cannot fit is a shortfall.
    """

    id: str
    power_kw: float
    run_hours: float
    earliest_start: datetime | None = None
    latest_end: datetime | None = None
    contiguous: bool = False
    running: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class PlanningProblem:
    """Everything the planner needs for one plan.

    `shortfall_penalty_per_kwh` (`None`: derived from the prices, far above any
    price) is what a missed kWh of a goal costs in the objective: goals are soft,
    so a problem is never infeasible. PV that cannot be used or exported is
    curtailed; with `pv_curtailable` False curtailing costs that penalty too, so
    PV is only curtailed where there is nowhere for it to go.
    """

    start: datetime
    import_price: tuple[float, ...]
    export_price: tuple[float, ...]
    pv_kw: tuple[float, ...]
    load_kw: tuple[float, ...]
    grid: GridConnection = field(default_factory=GridConnection)
    battery: BatteryModel | None = None
    evs: tuple[EvGoal, ...] = ()
    loads: tuple[DeferrableLoad, ...] = ()
    pv_curtailable: bool = False
    shortfall_penalty_per_kwh: float | None = None

    @property
    def slots(self) -> int:
        """The number of slots in the horizon."""
        return len(self.import_price)


class PlanStatus(enum.StrEnum):
    """How good the plan is."""

    OPTIMAL = "optimal"
    # The mixed-integer search hit its time limit: the best plan found, feasible.
    TIME_LIMIT = "time_limit"


@dataclass(frozen=True, slots=True, kw_only=True)
class PlanSlot:
    """One step of the plan, with the prices and forecasts it was planned on.

    `battery_kw` is the battery's planned AC power (positive = charging) and
    `battery_mode` how a controller follows it: `auto` (self-consumption gives
    exactly this power), `charge`/`discharge` (a setpoint of `battery_kw`) or
    `hold` (stay idle although self-consumption would move it). `ev_kw` and
    `load_on` follow the order of the problem's `evs` and `loads`.
    """

    start: datetime
    end: datetime
    import_price: float
    export_price: float
    pv_kw: float
    load_kw: float
    grid_import_kw: float
    grid_export_kw: float
    pv_curtailed_kw: float
    unserved_kw: float
    battery_kw: float
    battery_soc_kwh: float | None
    battery_mode: BatteryMode
    ev_kw: tuple[float, ...]
    load_on: tuple[bool, ...]

    @property
    def hours(self) -> float:
        """The slot's length in hours."""
        return (self.end - self.start).total_seconds() / 3600.0


@dataclass(frozen=True, slots=True, kw_only=True)
class EvOutcome:
    """What the plan does for one EV goal.

    `planned_kwh` is delivered by the deadline (or by the horizon's end when the
    deadline is later), `deferred_kwh` is left for after the horizon (it can
    still be charged then), `shortfall_kwh` cannot be delivered in time at all.
    `planned_total_kwh` includes energy planned after the deadline.
    """

    id: str
    need_kwh: float
    planned_kwh: float
    deferred_kwh: float
    shortfall_kwh: float
    planned_total_kwh: float
    deadline: datetime | None
    first_charge: datetime | None
    last_charge_end: datetime | None

    @property
    def met(self) -> bool:
        """Whether the need is (or still can be) delivered in time."""
        return self.shortfall_kwh <= 1e-3


@dataclass(frozen=True, slots=True, kw_only=True)
class LoadOutcome:
    """What the plan does for one deferrable load (run times in hours)."""

    id: str
    run_hours: float
    planned_hours: float
    deferred_hours: float
    shortfall_hours: float
    first_on: datetime | None
    last_on_end: datetime | None

    @property
    def met(self) -> bool:
        """Whether the run time is (or still can be) completed in its window."""
        return self.shortfall_hours <= 1e-6


@dataclass(frozen=True, slots=True, kw_only=True)
class Plan:
    """The planner's answer, one series per quantity (`slot(i)` / `slots` for rows).

    Every per-slot tuple has one value per slot; `ev_kw[k]` and `load_on[j]`
    follow the problem's `evs` and `loads`, as do the outcomes `evs` and `loads`.
    Slot times are UTC: the first slot starts at `start`, the others on the
    quarter hours. `battery_soc_kwh` is the stored energy at each slot's end
    (empty without a battery).

    `cost` is the expected energy cost over the horizon (imports minus exports,
    in the prices' currency), `cycle_cost` the battery wear, `terminal_value`
    what the energy left in the battery is worth. `self_consumption_kwh` is PV
    used on site (PV minus export minus curtailment). `mixed_integer` says the
    solver needed integer variables (to rule out simultaneous import/export or
    charge/discharge, or in `exact` mode); `solve_seconds` is HiGHS's own time.
    """

    status: PlanStatus
    start: datetime
    import_price: tuple[float, ...]
    export_price: tuple[float, ...]
    pv_kw: tuple[float, ...]
    load_kw: tuple[float, ...]
    grid_import_kw: tuple[float, ...]
    grid_export_kw: tuple[float, ...]
    pv_curtailed_kw: tuple[float, ...]
    unserved_kw: tuple[float, ...]
    battery_kw: tuple[float, ...]
    battery_soc_kwh: tuple[float, ...]
    battery_mode: tuple[BatteryMode, ...]
    ev_kw: tuple[tuple[float, ...], ...]
    load_on: tuple[tuple[bool, ...], ...]
    evs: tuple[EvOutcome, ...]
    loads: tuple[LoadOutcome, ...]
    cost: float
    cycle_cost: float
    terminal_value: float
    import_kwh: float
    export_kwh: float
    pv_kwh: float
    self_consumption_kwh: float
    curtailed_kwh: float
    unserved_kwh: float
    mixed_integer: bool
    solve_seconds: float = field(default=0.0, compare=False)
    # The final basis, for the next plan (`planner.solve(..., warm_start=)`).
    warm_start: WarmStart | None = field(default=None, compare=False, repr=False)

    @property
    def slot_count(self) -> int:
        """The number of slots."""
        return len(self.import_price)

    def slot_start(self, index: int) -> datetime:
        """When slot `index` starts (`slot_count` gives the horizon's end)."""
        if index == 0:
            return self.start
        first = _next_quarter(self.start)
        return first + STEP * (index - 1)

    @property
    def end(self) -> datetime:
        """When the plan's horizon ends."""
        return self.slot_start(self.slot_count)

    def slot(self, index: int) -> PlanSlot:
        """Slot `index` as one row."""
        i = index
        return PlanSlot(
            start=self.slot_start(i),
            end=self.slot_start(i + 1),
            import_price=self.import_price[i],
            export_price=self.export_price[i],
            pv_kw=self.pv_kw[i],
            load_kw=self.load_kw[i],
            grid_import_kw=self.grid_import_kw[i],
            grid_export_kw=self.grid_export_kw[i],
            pv_curtailed_kw=self.pv_curtailed_kw[i],
            unserved_kw=self.unserved_kw[i],
            battery_kw=self.battery_kw[i],
            battery_soc_kwh=self.battery_soc_kwh[i] if self.battery_soc_kwh else None,
            battery_mode=self.battery_mode[i],
            ev_kw=tuple(series[i] for series in self.ev_kw),
            load_on=tuple(series[i] for series in self.load_on),
        )

    @property
    def slots(self) -> tuple[PlanSlot, ...]:
        """Every slot as a row."""
        return tuple(self.slot(i) for i in range(self.slot_count))

    def slot_index(self, when: datetime) -> int | None:
        """The index of the slot that contains `when`, if the plan covers it."""
        if when < self.start or when >= self.end:
            return None
        if when < self.slot_start(1):
            return 0
        return 1 + int((when - self.slot_start(1)) / STEP)

    def slot_at(self, when: datetime) -> PlanSlot | None:
        """The slot that contains `when`, if the plan covers it."""
        index = self.slot_index(when)
        return None if index is None else self.slot(index)


def _next_quarter(when: datetime) -> datetime:
    """The first quarter hour after `when` (UTC)."""
    utc = when.astimezone(UTC)
    seconds = utc.timestamp()
    quarter = math.floor(seconds / STEP.total_seconds() + 1e-9)
    return datetime.fromtimestamp((quarter + 1) * STEP.total_seconds(), tz=UTC)
