"""The receding horizon: what is known now -> a planning problem -> a plan -> targets.

Owns `SiteModel` (what does not change between plans), `World` (what is known at
`now`: price series, histories, forecasts, battery SoC, goals),
`build_problem()`, `replan()` (re-plan every 15 minutes, or on a change, passing
the last plan for its warm start) and `targets_at()` (the `targets.SlotTargets`
the real-time controller follows in the slot that contains a moment).

The horizon runs from `now` to the end of the known prices (import, and export
when given), at most `SiteModel.max_hours`. PV comes from a forecast platform's
series where it has one, else from persistence of the production history; load
from its own forecast series where given, else from the history (same weekday
and time, EV charging excluded), else a flat estimate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from datetime import datetime, tzinfo

from .forecast import (
    DEFAULT_FLAT_LOAD_KW,
    SlotSeries,
    forecast_values,
    load_forecast,
    pv_persistence_forecast,
)
from .plan_model import (
    BatteryModel,
    DeferrableLoad,
    EvGoal,
    GridConnection,
    Plan,
    PlanningProblem,
)
from .planner import SolveMode, solve
from .prices import PriceSeries
from .targets import SlotTargets


@dataclass(frozen=True, slots=True, kw_only=True)
class SiteModel:
    """The site as the planner sees it between plans.

    `battery.soc_kwh` is ignored (the `World` brings the SoC of the moment).
    """

    tz: tzinfo
    grid: GridConnection = field(default_factory=GridConnection)
    battery: BatteryModel | None = None
    pv_curtailable: bool = False
    max_hours: float = 48.0
    load_weeks: int = 4
    pv_days: int = 3
    flat_load_kw: float = DEFAULT_FLAT_LOAD_KW


@dataclass(frozen=True, slots=True, kw_only=True)
class World:
    """What is known at `now`.

    `export_prices` None means exports earn nothing. `ev_history` (the chargers'
    power) is taken out of `load_history`. `load_forecast` / `pv_forecast`,
    when given, win over forecasts from history where they have values.
    """

    now: datetime
    import_prices: PriceSeries
    export_prices: PriceSeries | None = None
    battery_soc_kwh: float | None = None
    load_history: SlotSeries | None = None
    ev_history: SlotSeries | None = None
    pv_history: SlotSeries | None = None
    load_forecast: SlotSeries | None = None
    pv_forecast: SlotSeries | None = None
    evs: tuple[EvGoal, ...] = ()
    loads: tuple[DeferrableLoad, ...] = ()


def horizon_slots(site: SiteModel, world: World) -> int:
    """How many planner slots from `now` the known prices cover (at most
    `max_hours`; 0 when the prices do not cover `now`)."""
    return len(_prices(site, world)[0])


def _prices(
    site: SiteModel, world: World
) -> tuple[tuple[float, ...], tuple[float, ...]]:
    longest = math.ceil(site.max_hours * 4 - 1e-9)
    imp = world.import_prices.slot_prices(world.now, longest)
    if world.export_prices is None:
        return imp, (0.0,) * len(imp)
    exp = world.export_prices.slot_prices(world.now, len(imp))
    return imp[: len(exp)], exp


def build_problem(site: SiteModel, world: World) -> PlanningProblem | None:
    """The planning problem for `world`, or None when no price covers `now`."""
    now = world.now
    import_price, export_price = _prices(site, world)
    n = len(import_price)
    if n == 0:
        return None
    load = load_forecast(
        world.load_history,
        now,
        n,
        site.tz,
        weeks=site.load_weeks,
        exclude=world.ev_history,
        flat_kw=site.flat_load_kw,
    )
    if world.load_forecast is not None:
        load = forecast_values(world.load_forecast, now, n, load)
    if world.pv_forecast is not None:
        pv = forecast_values(world.pv_forecast, now, n, (0.0,) * n)
    else:
        pv = pv_persistence_forecast(
            world.pv_history, now, n, site.tz, days=site.pv_days
        )
    battery = site.battery
    if battery is not None:
        soc = (
            battery.soc_kwh if world.battery_soc_kwh is None else world.battery_soc_kwh
        )
        battery = replace(battery, soc_kwh=max(0.0, soc))
    return PlanningProblem(
        start=now,
        import_price=import_price,
        export_price=export_price,
        pv_kw=pv,
        load_kw=load,
        grid=site.grid,
        battery=battery,
        evs=world.evs,
        loads=world.loads,
        pv_curtailable=site.pv_curtailable,
    )


def replan(
    site: SiteModel,
    world: World,
    previous: Plan | None = None,
    mode: SolveMode = SolveMode.ROUNDED,
) -> Plan | None:
    """A new plan for `world` (None when no price covers `now`).

    `previous` is the last plan: its basis warm-starts the solver.
    """
    problem = build_problem(site, world)
    if problem is None:
        return None
    warm = previous.warm_start if previous is not None else None
    return solve(problem, warm_start=warm, mode=mode)


def targets_at(plan: Plan, when: datetime) -> SlotTargets | None:
    """The targets for the slot containing `when`, or None beyond the plan.

    `battery_mode` is None when the plan has no battery.
    """
    index = plan.slot_index(when)
    if index is None:
        return None
    return SlotTargets(
        start=plan.slot_start(index),
        end=plan.slot_start(index + 1),
        battery_mode=plan.battery_mode[index] if plan.battery_soc_kwh else None,
        battery_kw=plan.battery_kw[index],
        ev_kw={ev.id: plan.ev_kw[k][index] for k, ev in enumerate(plan.evs)},
        loads_on={load.id: plan.load_on[j][index] for j, load in enumerate(plan.loads)},
        import_price=plan.import_price[index],
        export_price=plan.export_price[index],
    )
