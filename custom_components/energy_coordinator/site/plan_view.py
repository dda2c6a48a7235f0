"""The plan as people and cards see it: the sensor, `get_plan` and `explain_plan`.

Owns the JSON shapes made from a `planning.PlanResult`:

* `segments()`: runs of slots in which nothing the site does changes;
* `plan_response()`: the `get_plan` action's response (status, totals, every
  goal's outcome, the segments and, unless left out, every slot);
* `sensor_state()` / `sensor_attributes()`: the plan sensor (the next change;
  totals, goals, the segments and the slots in columns, compact);
* `explain()`: `explain_plan`'s short plain-language reasons, built from the
  `common` translation strings (placeholders filled in) in HA's language.

Times are ISO 8601 (UTC) in the data and HH:MM in the home's time zone in the
sentences; powers in kW, energy in kWh, prices per kWh in the home's currency.

Shapes (the plan card and the MCP add-on read them):

    get_plan: {status: optimal|time_limit|unavailable,
               reason: null|pending|no_prices|price_shape|solver_failed,
               planned_at, start, end, price_source, currency|null,
               expected_cost|null, expected_import_kwh, expected_export_kwh,
               expected_pv_kwh, expected_self_consumption_kwh,
               expected_self_consumption_pct|null,
               goals: [ev: {id, kind: "ev", name, mode, met, soc_pct, soc_source
                            (entity|charger|estimate|assumed), target_soc_pct,
                            planned_soc_pct, deadline, need_kwh, planned_kwh,
                            deferred_kwh, shortfall_kwh, first_charge,
                            last_charge_end}
                       | load: {id, kind: "load", name, met, run_hours,
                            done_hours, planned_hours, deferred_hours,
                            shortfall_hours, window_start, window_end, first_on,
                            last_on_end}],
               segments: [{start, end, ev_kw: {id: kw}, ev_kw_total,
                           battery_mode|null, battery_kw, loads_on: [id]}],
               slots: [{start, end, import_price, export_price, pv_kw, load_kw,
                        grid_import_kw, grid_export_kw, battery_kw,
                        battery_mode|null, battery_soc_pct|null, ev_kw: {id: kw},
                        loads_on: [id]}]}          (no slots with slots: false)
    sensor state: the next segment's start (timestamp) or unknown;
    sensor attributes: status, reason, planned_at, end, the totals above,
               goals_total, goals_missed, goals (first 20, compact),
               next_change (a segment), segments (20 EVs named), slots:
               {start, first_end, step_minutes: 15, import_price: [..],
                export_price, pv_kw, load_kw, grid_kw (import - export),
                battery_kw, battery_soc_pct, ev_kw: {id: [..]} (20 EVs),
                ev_kw_total: [..], loads_on: {id: [0|1, ..]}}
    explain_plan: {language, summary, reasons: [{code, subject, message}]}
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers.translation import async_get_translations
from homeassistant.util import dt as dt_util

from ..const import CONF_PRICE_SOURCE, DOMAIN, PRICE_NONE
from ..energy import BatteryMode
from ..energy.plan_model import Plan
from .planning import PlanResult, format_deadline

#: Below this a planned power is nothing (kW), and energy is none (kWh).
KW_EPS = 0.01
KWH_EPS = 0.05
#: Charging periods a sentence names before "and N more".
MAX_PERIODS = 3


# Segments ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Segment:
    """Consecutive slots [first, last] in which the site does the same."""

    first: int
    last: int
    ev_kw: tuple[float, ...]
    battery_mode: str | None
    battery_kw: float
    loads_on: tuple[bool, ...]


def segments(plan: Plan) -> list[Segment]:
    """The plan's slots merged where EVs, battery and loads stay the same."""
    has_battery = bool(plan.battery_soc_kwh)
    result: list[Segment] = []
    for i in range(plan.slot_count):
        ev = tuple(_kw(series[i]) for series in plan.ev_kw)
        mode = plan.battery_mode[i].value if has_battery else None
        setpoint = (
            _kw(plan.battery_kw[i])
            if mode in (BatteryMode.CHARGE, BatteryMode.DISCHARGE)
            else 0.0
        )
        loads = tuple(series[i] for series in plan.load_on)
        last = result[-1] if result else None
        if (
            last is not None
            and (last.ev_kw, last.battery_mode, last.loads_on) == (ev, mode, loads)
            and abs(last.battery_kw - setpoint) < 0.05
        ):
            result[-1] = Segment(last.first, i, ev, mode, last.battery_kw, loads)
            continue
        result.append(Segment(i, i, ev, mode, setpoint, loads))
    return result


def _kw(value: float) -> float:
    return 0.0 if abs(value) < KW_EPS else round(value, 2)


def _segment_dict(
    plan: Plan, segment: Segment, evs: int | None = None
) -> dict[str, Any]:
    """One segment; `evs`: name at most that many EVs (their total always)."""
    shown = plan.evs if evs is None else plan.evs[:evs]
    return {
        "start": plan.slot_start(segment.first).isoformat(),
        "end": plan.slot_start(segment.last + 1).isoformat(),
        "ev_kw": {outcome.id: segment.ev_kw[k] for k, outcome in enumerate(shown)},
        "ev_kw_total": round(sum(segment.ev_kw), 2),
        "battery_mode": segment.battery_mode,
        "battery_kw": segment.battery_kw,
        "loads_on": [
            outcome.id for j, outcome in enumerate(plan.loads) if segment.loads_on[j]
        ],
    }


# get_plan --------------------------------------------------------------------------


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _round(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)


def goals(result: PlanResult) -> list[dict[str, Any]]:
    """Every goal and what the plan does for it (the plan's order: EVs, loads)."""
    plan = result.plan
    out: list[dict[str, Any]] = []
    outcomes = {o.id: o for o in plan.evs} if plan is not None else {}
    for lp_id, info in result.evs.items():
        outcome = outcomes.get(lp_id)
        planned = (
            outcome.planned_kwh + outcome.deferred_kwh if outcome is not None else 0.0
        )
        out.append(
            {
                "id": lp_id,
                "kind": "ev",
                "name": info.name,
                "mode": info.mode,
                "met": outcome.met if outcome is not None else None,
                "soc_pct": round(info.soc_pct, 1),
                "soc_source": info.soc_source,
                "target_soc_pct": round(info.target_soc_pct, 1),
                "planned_soc_pct": round(info.soc_from_kwh(planned), 1),
                "deadline": _iso(info.deadline),
                "need_kwh": _round(outcome.need_kwh if outcome else None),
                "planned_kwh": _round(outcome.planned_kwh if outcome else None),
                "deferred_kwh": _round(outcome.deferred_kwh if outcome else None),
                "shortfall_kwh": _round(outcome.shortfall_kwh if outcome else None),
                "first_charge": _iso(outcome.first_charge if outcome else None),
                "last_charge_end": _iso(outcome.last_charge_end if outcome else None),
            }
        )
    load_outcomes = {o.id: o for o in plan.loads} if plan is not None else {}
    for load_id, load in result.loads.items():
        lo = load_outcomes.get(load_id)
        out.append(
            {
                "id": load_id,
                "kind": "load",
                "name": load.name,
                "met": lo.met if lo is not None else None,
                "run_hours": round(load.run_hours, 2),
                "done_hours": round(load.done_hours, 2),
                "planned_hours": _round(lo.planned_hours if lo else None),
                "deferred_hours": _round(lo.deferred_hours if lo else None),
                "shortfall_hours": _round(lo.shortfall_hours if lo else None),
                "window_start": load.window_start.isoformat(),
                "window_end": load.window_end.isoformat(),
                "first_on": _iso(lo.first_on if lo else None),
                "last_on_end": _iso(lo.last_on_end if lo else None),
            }
        )
    return out


def _totals(result: PlanResult, currency: str | None) -> dict[str, Any]:
    plan = result.plan
    if plan is None:
        return {
            "currency": None,
            "expected_cost": None,
            "expected_import_kwh": None,
            "expected_export_kwh": None,
            "expected_pv_kwh": None,
            "expected_self_consumption_kwh": None,
            "expected_self_consumption_pct": None,
        }
    priced = not result.nominal_prices
    share = (
        round(100 * plan.self_consumption_kwh / plan.pv_kwh, 1)
        if plan.pv_kwh > KWH_EPS
        else None
    )
    return {
        "currency": currency if priced else None,
        "expected_cost": round(plan.cost, 2) if priced else None,
        "expected_import_kwh": round(plan.import_kwh, 2),
        "expected_export_kwh": round(plan.export_kwh, 2),
        "expected_pv_kwh": round(plan.pv_kwh, 2),
        "expected_self_consumption_kwh": round(plan.self_consumption_kwh, 2),
        "expected_self_consumption_pct": share,
    }


def plan_response(
    result: PlanResult | None,
    options: Mapping[str, Any],
    currency: str | None,
    *,
    with_slots: bool = True,
) -> dict[str, Any]:
    """The `get_plan` response (see the module docstring of `site_services`)."""
    if result is None:
        return {
            "status": "unavailable",
            "reason": "pending",
            "planned_at": None,
            "start": None,
            "end": None,
            "price_source": options.get(CONF_PRICE_SOURCE) or PRICE_NONE,
            **_totals(PlanResult(dt_util.utcnow(), None), currency),
            "goals": [],
            "segments": [],
            **({"slots": []} if with_slots else {}),
        }
    plan = result.plan
    data: dict[str, Any] = {
        "status": plan.status.value if plan is not None else "unavailable",
        "reason": result.reason,
        "planned_at": result.planned_at.isoformat(),
        "start": _iso(plan.start) if plan else None,
        "end": _iso(plan.end) if plan else None,
        "price_source": options.get(CONF_PRICE_SOURCE) or PRICE_NONE,
        **_totals(result, currency),
        "goals": goals(result),
        "segments": ([_segment_dict(plan, s) for s in segments(plan)] if plan else []),
    }
    if with_slots:
        data["slots"] = _slot_rows(result) if plan else []
    return data


def _soc_pct(plan: Plan, capacity: float | None, i: int) -> float | None:
    if not plan.battery_soc_kwh or not capacity:
        return None
    return round(100 * plan.battery_soc_kwh[i] / capacity, 1)


def _slot_rows(result: PlanResult) -> list[dict[str, Any]]:
    plan = result.plan
    assert plan is not None
    capacity = result.battery_capacity_kwh
    rows = []
    for i in range(plan.slot_count):
        rows.append(
            {
                "start": plan.slot_start(i).isoformat(),
                "end": plan.slot_start(i + 1).isoformat(),
                "import_price": round(plan.import_price[i], 4),
                "export_price": round(plan.export_price[i], 4),
                "pv_kw": round(plan.pv_kw[i], 2),
                "load_kw": round(plan.load_kw[i], 2),
                "grid_import_kw": round(plan.grid_import_kw[i], 2),
                "grid_export_kw": round(plan.grid_export_kw[i], 2),
                "battery_kw": round(plan.battery_kw[i], 2),
                "battery_mode": (
                    plan.battery_mode[i].value if plan.battery_soc_kwh else None
                ),
                "battery_soc_pct": _soc_pct(plan, capacity, i),
                "ev_kw": {o.id: _kw(plan.ev_kw[k][i]) for k, o in enumerate(plan.evs)},
                "loads_on": [
                    o.id for j, o in enumerate(plan.loads) if plan.load_on[j][i]
                ],
            }
        )
    return rows


# The sensor ------------------------------------------------------------------------


def next_change(result: PlanResult | None, now: datetime) -> Segment | None:
    """The first segment that starts after `now` (what changes next)."""
    plan = result.plan if result is not None else None
    if plan is None:
        return None
    for segment in segments(plan):
        if plan.slot_start(segment.first) > now:
            return segment
    return None


def sensor_state(result: PlanResult | None, now: datetime) -> datetime | None:
    """When the plan next changes what the site does (None: not in the plan)."""
    segment = next_change(result, now)
    if segment is None or result is None or result.plan is None:
        return None
    return result.plan.slot_start(segment.first)


#: Goals (EVs, loads) the sensor names one by one; a garage's thousand are in
#: `get_plan` (the sensor has their count and the EVs' total power).
SENSOR_GOALS = 20
#: Attributes too large for the recorder (they change with every plan).
UNRECORDED = frozenset({"segments", "slots", "goals", "next_change"})


def sensor_attributes(
    result: PlanResult | None,
    options: Mapping[str, Any],
    currency: str | None,
    now: datetime,
) -> dict[str, Any]:
    """The plan sensor's attributes (see `UNRECORDED` for the large ones)."""
    if result is None:
        return {"status": "unavailable", "reason": "pending"}
    plan = result.plan
    every = goals(result)
    attributes: dict[str, Any] = {
        "status": plan.status.value if plan is not None else "unavailable",
        "reason": result.reason,
        "planned_at": result.planned_at.isoformat(),
        "end": _iso(plan.end) if plan else None,
        **_totals(result, currency),
        "goals_total": len(every),
        "goals_missed": sum(1 for g in every if g["met"] is False),
        "goals": [_compact_goal(g) for g in every[:SENSOR_GOALS]],
    }
    if plan is None:
        return attributes
    change = next_change(result, now)
    attributes["next_change"] = (
        _segment_dict(plan, change, SENSOR_GOALS) if change else None
    )
    attributes["segments"] = [
        _segment_dict(plan, s, SENSOR_GOALS) for s in segments(plan)
    ]
    attributes["slots"] = _columns(result)
    return attributes


def _compact_goal(goal: Mapping[str, Any]) -> dict[str, Any]:
    keys = (
        ("id", "kind", "met", "target_soc_pct", "planned_soc_pct", "deadline")
        if goal["kind"] == "ev"
        else ("id", "kind", "met", "run_hours", "planned_hours", "window_end")
    )
    return {key: goal[key] for key in keys}


def _columns(result: PlanResult) -> dict[str, Any]:
    """Every slot, one list per quantity (compact for the state machine)."""
    plan = result.plan
    assert plan is not None
    n = plan.slot_count
    capacity = result.battery_capacity_kwh
    return {
        "start": plan.start.isoformat(),
        "first_end": plan.slot_start(1).isoformat() if n else None,
        "step_minutes": 15,
        "import_price": [round(v, 4) for v in plan.import_price],
        "export_price": [round(v, 4) for v in plan.export_price],
        "pv_kw": [round(v, 2) for v in plan.pv_kw],
        "load_kw": [round(v, 2) for v in plan.load_kw],
        "grid_kw": [
            round(a - b, 2)
            for a, b in zip(plan.grid_import_kw, plan.grid_export_kw, strict=True)
        ],
        "battery_kw": [round(v, 2) for v in plan.battery_kw]
        if plan.battery_soc_kwh
        else [],
        "battery_soc_pct": [_soc_pct(plan, capacity, i) for i in range(n)]
        if plan.battery_soc_kwh and capacity
        else [],
        "ev_kw": {
            o.id: [_kw(v) for v in plan.ev_kw[k]]
            for k, o in enumerate(plan.evs[:SENSOR_GOALS])
        },
        "ev_kw_total": [_kw(sum(series[i] for series in plan.ev_kw)) for i in range(n)],
        "loads_on": {
            o.id: [int(v) for v in plan.load_on[j]] for j, o in enumerate(plan.loads)
        },
    }


# explain_plan ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Sentence:
    """One reason: a code (its translation key), who it is about, its words."""

    code: str
    subject: str
    message: str

    def as_dict(self) -> dict[str, str]:
        """JSON-able form."""
        return {"code": self.code, "subject": self.subject, "message": self.message}


class _Words:
    """The `common` strings of HA's language, with placeholders filled in."""

    def __init__(self, strings: Mapping[str, str]) -> None:
        self._strings = strings

    def __call__(self, key: str, **values: object) -> str:
        text = self._strings.get(f"component.{DOMAIN}.common.{key}", key)
        try:
            return text.format(**{k: str(v) for k, v in values.items()})
        except (KeyError, IndexError, ValueError):
            return text


async def async_explain(
    hass: HomeAssistant, result: PlanResult | None, currency: str | None
) -> dict[str, Any]:
    """The `explain_plan` response: `summary` and `reasons` in HA's language."""
    strings = await async_get_translations(
        hass, hass.config.language, "common", [DOMAIN]
    )
    sentences = explain(_Words(strings), result, currency or "", dt_util.utcnow())
    return {
        "language": hass.config.language,
        "summary": sentences[0].message,
        "reasons": [s.as_dict() for s in sentences],
    }


def explain(
    words: Any, result: PlanResult | None, currency: str, now: datetime
) -> list[Sentence]:
    """The sentences: the summary first, then each goal, the battery, loads."""
    if result is None:
        return [Sentence("plan_pending", "site", words("plan_pending"))]
    plan = result.plan
    if plan is None:
        key = {
            "price_shape": "plan_unavailable_price_shape",
            "solver_failed": "plan_unavailable_solver",
        }.get(result.reason or "", "plan_unavailable_no_prices")
        entity = result.price_entity or "-"
        return [Sentence(key, "site", words(key, entity_id=entity))]
    priced = not result.nominal_prices
    end = format_deadline(plan.end, now)
    solar = _fmt(plan.self_consumption_kwh, 1)
    if priced:
        summary = Sentence(
            "plan_summary",
            "site",
            words(
                "plan_summary",
                cost=_fmt(plan.cost, 2),
                currency=currency,
                end=end,
                solar=solar,
            ),
        )
    else:
        summary = Sentence(
            "plan_summary_no_price",
            "site",
            words("plan_summary_no_price", end=end, solar=solar),
        )
    sentences = [summary]
    for k in range(len(plan.evs)):
        sentences.extend(_ev_sentences(words, result, plan, k, currency, now))
    sentences.extend(_battery_sentences(words, plan, currency, now))
    for j in range(len(plan.loads)):
        sentences.extend(_load_sentences(words, result, plan, j, currency, now))
    return sentences


def _fmt(value: float, digits: int) -> str:
    return f"{value:.{digits}f}"


def _blocks(on: Sequence[bool]) -> list[tuple[int, int]]:
    """Runs of True: (first, last) slot indices."""
    runs: list[tuple[int, int]] = []
    for i, value in enumerate(on):
        if not value:
            continue
        if runs and runs[-1][1] == i - 1:
            runs[-1] = (runs[-1][0], i)
        else:
            runs.append((i, i))
    return runs


def _slots(blocks: Sequence[tuple[int, int]]) -> list[int]:
    return [i for first, last in blocks for i in range(first, last + 1)]


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else math.nan


def _periods(
    words: Any,
    plan: Plan,
    blocks: Sequence[tuple[int, int]],
    now: datetime,
    power: Sequence[float] | None = None,
) -> str:
    parts = []
    for first, last in blocks[:MAX_PERIODS]:
        start = format_deadline(plan.slot_start(first), now)
        end = format_deadline(plan.slot_start(last + 1), now)
        if power is None:
            parts.append(words("period", start=start, end=end))
            continue
        values = [abs(power[i]) for i in range(first, last + 1)]
        top = max(values)
        # The last slot of a run may be partly used: it does not make "up to".
        steady = values[:-1] if len(values) > 1 else values
        key = (
            "period_power" if top - min(steady) < 0.05 * top + 0.05 else "period_up_to"
        )
        parts.append(words(key, start=start, end=end, power=_fmt(top, 1)))
    text = ", ".join(parts)
    if len(blocks) > MAX_PERIODS:
        text = words("periods_more", periods=text, count=len(blocks) - MAX_PERIODS)
    return text


def _mean_price(plan: Plan, energy: Sequence[float], prices: Sequence[float]) -> float:
    total = sum(energy)
    if total <= 0:
        return math.nan
    return sum(e * p for e, p in zip(energy, prices, strict=True)) / total


def _ev_sentences(
    words: Any,
    result: PlanResult,
    plan: Plan,
    k: int,
    currency: str,
    now: datetime,
) -> list[Sentence]:
    outcome = plan.evs[k]
    info = result.evs.get(outcome.id)
    if info is None:
        return []
    name = info.name
    out: list[Sentence] = []

    def say(code: str, **values: object) -> None:
        out.append(Sentence(code, outcome.id, words(code, vehicle=name, **values)))

    if info.soc_source == "assumed":
        say("ev_soc_assumed", soc=_fmt(info.soc_pct, 0))
    power = plan.ev_kw[k]
    hours = [
        (plan.slot_start(i + 1) - plan.slot_start(i)).total_seconds() / 3600
        for i in range(plan.slot_count)
    ]
    energy = [p * h for p, h in zip(power, hours, strict=True)]
    blocks = _blocks([p > KW_EPS for p in power])
    target = _fmt(info.target_soc_pct, 0)
    deadline_at = outcome.deadline or plan.end
    deadline = format_deadline(deadline_at, now)
    if outcome.need_kwh <= KWH_EPS and not blocks:
        say("ev_reached", target=target)
        return out
    if blocks:
        # Solar: what PV beyond the house load covers of each slot's charging.
        solar = [
            min(e, max(0.0, plan.pv_kw[i] - plan.load_kw[i]) * hours[i])
            for i, e in enumerate(energy)
        ]
        solar_kwh = sum(solar)
        grid = [e - s for e, s in zip(energy, solar, strict=True)]
        periods = _periods(words, plan, blocks, now, power)
        if sum(grid) <= KWH_EPS:
            say("ev_charge_solar", periods=periods)
        elif result.nominal_prices:
            say("ev_charge_no_price", periods=periods, solar=_fmt(solar_kwh, 1))
        elif solar_kwh <= KWH_EPS and _cheapest(plan, power, deadline_at):
            count = sum(1 for p in power if p > KW_EPS)
            say(
                "ev_charge_cheapest",
                periods=periods,
                count=count,
                deadline=deadline,
                price=_fmt(_mean_price(plan, grid, plan.import_price), 3),
                currency=currency,
            )
        else:
            say(
                "ev_charge_mixed",
                periods=periods,
                solar=_fmt(solar_kwh, 1),
                price=_fmt(_mean_price(plan, grid, plan.import_price), 3),
                currency=currency,
            )
    if not outcome.met:
        planned = outcome.planned_kwh + outcome.deferred_kwh
        say(
            "ev_unreachable",
            target=target,
            time=deadline,
            planned=f"{math.floor(info.soc_from_kwh(planned)):.0f}",
        )
    elif outcome.deferred_kwh > KWH_EPS:
        say(
            "ev_deferred",
            energy=_fmt(outcome.deferred_kwh, 1),
            end=format_deadline(plan.end, now),
        )
    elif outcome.need_kwh > KWH_EPS:
        say("ev_planned", target=target, time=deadline)
    return out


def _cheapest(plan: Plan, power: Sequence[float], deadline: datetime) -> bool:
    """Whether the charging slots are the cheapest ones before the deadline."""
    usable = [i for i in range(plan.slot_count) if plan.slot_start(i + 1) <= deadline]
    chosen = [i for i in usable if power[i] > KW_EPS]
    if not chosen or any(
        power[i] > KW_EPS for i in range(plan.slot_count) if i not in usable
    ):
        return False
    prices = sorted(plan.import_price[i] for i in usable)
    bar = prices[len(chosen) - 1]
    return all(plan.import_price[i] <= bar + 1e-9 for i in chosen)


def _battery_sentences(
    words: Any, plan: Plan, currency: str, now: datetime
) -> list[Sentence]:
    if not plan.battery_soc_kwh:
        return []
    modes = plan.battery_mode
    out: list[Sentence] = []
    charge = _blocks(
        [
            m is BatteryMode.CHARGE and plan.battery_kw[i] > KW_EPS
            for i, m in enumerate(modes)
        ]
    )
    discharge_slots = [
        i for i in range(plan.slot_count) if plan.battery_kw[i] < -KW_EPS
    ]
    hold = _blocks([m is BatteryMode.HOLD for m in modes])
    if charge:
        grid = [
            plan.grid_import_kw[i] if modes[i] is BatteryMode.CHARGE else 0.0
            for i in range(plan.slot_count)
        ]
        price = _mean_price(plan, grid, plan.import_price)
        later = [plan.import_price[i] for i in discharge_slots if i > charge[0][1]]
        periods = _periods(words, plan, charge, now, plan.battery_kw)
        if later and not math.isnan(price):
            out.append(
                Sentence(
                    "battery_charge",
                    "battery",
                    words(
                        "battery_charge",
                        periods=periods,
                        price=_fmt(price, 3),
                        later=_fmt(sum(later) / len(later), 3),
                        currency=currency,
                    ),
                )
            )
        else:
            out.append(
                Sentence(
                    "battery_charge_plain",
                    "battery",
                    words("battery_charge_plain", periods=periods),
                )
            )
    discharge = _blocks([m is BatteryMode.DISCHARGE for m in modes])
    if discharge:
        out.append(
            Sentence(
                "battery_discharge",
                "battery",
                words(
                    "battery_discharge",
                    periods=_periods(words, plan, discharge, now, plan.battery_kw),
                    price=_fmt(
                        _mean([plan.import_price[i] for i in _slots(discharge)]), 3
                    ),
                    currency=currency,
                ),
            )
        )
    if hold:
        out.append(
            Sentence(
                "battery_hold",
                "battery",
                words("battery_hold", periods=_periods(words, plan, hold, now)),
            )
        )
    if not out:
        out.append(Sentence("battery_auto", "battery", words("battery_auto")))
    return out


def _load_sentences(
    words: Any,
    result: PlanResult,
    plan: Plan,
    j: int,
    currency: str,
    now: datetime,
) -> list[Sentence]:
    outcome = plan.loads[j]
    info = result.loads.get(outcome.id)
    if info is None:
        return []
    out: list[Sentence] = []

    def say(code: str, **values: object) -> None:
        out.append(Sentence(code, outcome.id, words(code, load=info.name, **values)))

    blocks = _blocks(list(plan.load_on[j]))
    if blocks:
        periods = _periods(words, plan, blocks, now)
        if result.nominal_prices:
            say("load_run_no_price", periods=periods)
        else:
            price = _mean([plan.import_price[i] for i in _slots(blocks)])
            say("load_run", periods=periods, price=_fmt(price, 3), currency=currency)
    elif outcome.run_hours <= 1e-6:
        say("load_done", hours=_fmt(info.run_hours, 1))
    if not outcome.met:
        planned = info.done_hours + outcome.planned_hours + outcome.deferred_hours
        say(
            "load_unreachable",
            hours=_fmt(info.run_hours, 1),
            time=format_deadline(info.window_end, now),
            planned=_fmt(planned, 1),
        )
    return out
