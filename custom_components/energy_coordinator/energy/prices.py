"""Price forecasts: the attribute shapes of HA's price integrations -> a price series.

Owns `PriceSeries` (sorted, non-overlapping intervals with a price per kWh),
`parse_price_attributes()` (a price entity's attributes -> `ParsedPrices`, or
`UnknownPriceShape` naming what was there, for the HA layer's repair issue),
`fixed_price()`, `time_of_use()` with `TouPeriod`, `price_unit_scale()` and
`PriceSeries.slot_prices()` (the per-slot prices a `PlanningProblem` takes).

Shapes understood (values per kWh in the entity's unit; pass `scale` to convert):

* Nord Pool (custom component): `raw_today` / `raw_tomorrow`, lists of
  `{"start", "end", "value"}` (datetimes or ISO strings; `value` may be None);
  failing those, `today` / `tomorrow` as plain lists of numbers, one per hour or
  quarter hour of the local day.
* ENTSO-e: `prices` (or `prices_today` / `prices_tomorrow`), lists of
  `{"time", "price"}`.
* Tibber style: `today` / `tomorrow`, lists of `{"startsAt", "total"}`.
* A plain list of `{start, price}` under `prices`, `forecast`, `forecasts`,
  `data` or `rates` (keys: start / startsAt / start_time / time / from /
  valid_from; price / value / total / value_inc_vat / per_kwh; an optional end /
  endsAt / end_time / to / valid_to).

An interval without an end lasts until the next one starts (the last one as long
as the one before it, or an hour). Entries with a missing or non-numeric price
are skipped; duplicates keep the first.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from itertools import pairwise
from typing import Any, cast

import numpy as np
import numpy.typing as npt

from .plan_model import STEP

FloatArray = npt.NDArray[np.float64]

_START_KEYS = (
    "start",
    "startsAt",
    "starts_at",
    "start_time",
    "time",
    "from",
    "valid_from",
)
_END_KEYS = ("end", "endsAt", "ends_at", "end_time", "to", "till", "valid_to")
_PRICE_KEYS = ("price", "value", "total", "value_inc_vat", "per_kwh")
_LIST_KEYS = ("prices", "forecast", "forecasts", "data", "rates")


@dataclass(frozen=True, slots=True)
class PriceInterval:
    """A price (per kWh) that holds over [start, end)."""

    start: datetime
    end: datetime
    price: float


@dataclass(frozen=True, slots=True)
class PriceSeries:
    """Prices over time: sorted, non-overlapping intervals (gaps allowed)."""

    intervals: tuple[PriceInterval, ...] = ()
    # Start, end (POSIX seconds) and price arrays, for the vectorised look-ups.
    _arrays: tuple[FloatArray, FloatArray, FloatArray] = field(
        init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        starts = np.array(
            [i.start.timestamp() for i in self.intervals], dtype=np.float64
        )
        ends = np.array([i.end.timestamp() for i in self.intervals], dtype=np.float64)
        prices = np.array([i.price for i in self.intervals], dtype=np.float64)
        if np.any(ends < starts) or np.any(starts[1:] < ends[:-1] - 1e-6):
            raise ValueError("price intervals must be sorted and must not overlap")
        object.__setattr__(self, "_arrays", (starts, ends, prices))

    @property
    def start(self) -> datetime | None:
        return self.intervals[0].start if self.intervals else None

    @property
    def end(self) -> datetime | None:
        return self.intervals[-1].end if self.intervals else None

    def price_at(self, when: datetime) -> float | None:
        """The price at `when`, or None outside the series."""
        starts, ends, prices = self._arrays
        ts = when.timestamp()
        k = int(np.searchsorted(starts, ts, side="right")) - 1
        if k >= 0 and ts < ends[k]:
            return float(prices[k])
        return None

    def slot_prices(self, start: datetime, slots: int) -> tuple[float, ...]:
        """Prices for up to `slots` planner slots from `start`, as far as covered.

        Slots follow the planner's grid (the first ends at the next quarter hour);
        a slot's price is the time-weighted mean of the intervals it overlaps. The
        result stops at the first slot the series does not cover.
        """
        if not self.intervals or slots <= 0:
            return ()
        edges = slot_edges(start, slots)
        starts, ends, prices = self._arrays
        money = _integral(edges, starts, ends, prices)
        time_ = _integral(edges, starts, ends, np.ones(len(prices)))
        length = np.diff(edges)
        covered = np.diff(time_) >= length - 1e-6
        count = len(covered) if covered.all() else int(np.argmin(covered))
        values = np.round(np.diff(money)[:count] / length[:count], 9)  # no float dust
        return tuple(cast(list[float], values.tolist()))


def _integral(
    at: FloatArray, starts: FloatArray, ends: FloatArray, values: FloatArray
) -> FloatArray:
    """The integral of a piecewise-constant function from -inf to each of `at`."""
    widths = ends - starts
    cumulative = np.concatenate(([0.0], np.cumsum(values * widths)))
    k = np.searchsorted(starts, at, side="right")  # intervals starting at or before
    last = np.maximum(k - 1, 0)
    partial = np.where(
        k > 0, values[last] * np.clip(at - starts[last], 0.0, widths[last]), 0.0
    )
    return np.asarray(cumulative[last] * (k > 0) + partial, dtype=np.float64)


def slot_edges(start: datetime, slots: int) -> FloatArray:
    """The planner's slot boundaries from `start` as POSIX seconds (`slots` + 1)."""
    ts = start.timestamp()
    step = STEP.total_seconds()
    edges = np.empty(slots + 1)
    edges[0] = ts
    edges[1:] = (math.floor(ts / step + 1e-9) + 1 + np.arange(slots)) * step
    return edges


def slot_bounds(start: datetime, slots: int) -> list[datetime]:
    """The planner's slot boundaries from `start` (UTC): `slots` + 1 of them."""
    return [
        datetime.fromtimestamp(ts, UTC)
        for ts in cast(list[float], slot_edges(start, slots).tolist())
    ]


class PriceShape(enum.StrEnum):
    """Which integration's attribute layout the prices came in."""

    NORD_POOL = "nord_pool"  # raw_today / raw_tomorrow
    DAILY_VALUES = "daily_values"  # today / tomorrow as plain numbers
    ENTSO_E = "entso_e"  # prices: [{time, price}]
    TIBBER = "tibber"  # today / tomorrow: [{startsAt, total}]
    LIST = "list"  # a plain list of {start, price}


@dataclass(frozen=True, slots=True)
class ParsedPrices:
    """Prices read from an entity; `series` is empty when none are published yet."""

    shape: PriceShape
    series: PriceSeries


@dataclass(frozen=True, slots=True)
class UnknownPriceShape:
    """No supported layout was found; `attributes` lists what the entity had."""

    attributes: tuple[str, ...]

    @property
    def reason(self) -> str:
        names = ", ".join(self.attributes) or "none"
        return f"no price forecast in a known shape (attributes: {names})"


def parse_price_attributes(
    attributes: Mapping[str, Any], *, now: datetime, scale: float = 1.0
) -> ParsedPrices | UnknownPriceShape:
    """Read a price forecast from a price entity's state attributes.

    `now` (timezone-aware, in the home's time zone) places plain daily lists on
    the local day. `scale` multiplies every price (see `price_unit_scale`).
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    raw = [attributes.get("raw_today"), attributes.get("raw_tomorrow")]
    if _is_entry_list(raw[0]) or _is_entry_list(raw[1]):
        return ParsedPrices(PriceShape.NORD_POOL, _series(_entries(raw), scale))
    if _is_entry_list(attributes.get("prices")) and _keyed(
        attributes["prices"], "time"
    ):
        return ParsedPrices(
            PriceShape.ENTSO_E, _series(_entries([attributes["prices"]]), scale)
        )
    days = [attributes.get("prices_today"), attributes.get("prices_tomorrow")]
    if _is_entry_list(days[0]) or _is_entry_list(days[1]):
        return ParsedPrices(PriceShape.ENTSO_E, _series(_entries(days), scale))
    days = [attributes.get("today"), attributes.get("tomorrow")]
    if _is_entry_list(days[0]) or _is_entry_list(days[1]):
        return ParsedPrices(PriceShape.TIBBER, _series(_entries(days), scale))
    if _is_number_list(days[0]):
        return ParsedPrices(PriceShape.DAILY_VALUES, _daily(days, now, scale))
    for key in _LIST_KEYS:
        if _is_entry_list(attributes.get(key)):
            return ParsedPrices(
                PriceShape.LIST, _series(_entries([attributes[key]]), scale)
            )
    if "raw_today" in attributes and raw[0] in (None, []):
        # Nord Pool before its first fetch: the shape is known, the data not yet.
        return ParsedPrices(PriceShape.NORD_POOL, PriceSeries())
    return UnknownPriceShape(tuple(sorted(str(key) for key in attributes)))


def price_unit_scale(unit: str | None) -> float | None:
    """The factor from a price unit to currency per kWh (None: not a price unit).

    "EUR/kWh", "€/kWh", "SEK/kWh" -> 1; "c/kWh", "ct/kWh", "öre/kWh", "p/kWh" ->
    0.01; "EUR/MWh" -> 0.001; "EUR/Wh" -> 1000.
    """
    if not unit or "/" not in unit:
        return None
    money, _, energy = unit.strip().rpartition("/")
    energy_scale = {"wh": 1000.0, "kwh": 1.0, "mwh": 0.001}.get(energy.strip().lower())
    if energy_scale is None or not money.strip():
        return None
    minor = money.strip().lower() in {
        "c",
        "ct",
        "cent",
        "cents",
        "öre",
        "øre",
        "ore",
        "p",
        "snt",
    }
    return energy_scale * (0.01 if minor else 1.0)


def fixed_price(price: float, start: datetime, hours: float) -> PriceSeries:
    """One price from `start` for `hours`."""
    return PriceSeries(
        (PriceInterval(start, start + timedelta(hours=hours), float(price)),)
    )


@dataclass(frozen=True, slots=True)
class TouPeriod:
    """From `start` (local time of day) until the next period, `price` applies.

    `weekdays` (Monday = 0) makes it one of those days' own periods; empty means
    every day that has no periods of its own.
    """

    start: time
    price: float
    weekdays: frozenset[int] = frozenset()


def time_of_use(
    periods: Sequence[TouPeriod], start: datetime, hours: float, tz: tzinfo
) -> PriceSeries:
    """A time-of-use schedule laid out from `start` for `hours` (quarter-hour grid).

    A day uses the periods made for its weekday if there are any, else those
    for every day; at each moment the one with the latest start at or before the
    local time of day applies, and before a day's first start the last period of
    the day before goes on.
    """
    if not periods:
        return PriceSeries()
    bounds = slot_bounds(start, max(1, math.ceil(hours * 4)))
    bounds[0] = start
    prices = [_tou_price(periods, lo.astimezone(tz)) for lo in bounds[:-1]]
    intervals: list[PriceInterval] = []
    for lo, hi, price in zip(bounds, bounds[1:], prices, strict=False):
        if intervals and intervals[-1].price == price and intervals[-1].end == lo:
            intervals[-1] = PriceInterval(intervals[-1].start, hi, price)
        else:
            intervals.append(PriceInterval(lo, hi, price))
    return PriceSeries(tuple(intervals))


def _tou_price(periods: Sequence[TouPeriod], local: datetime) -> float:
    def of_day(day: date) -> list[TouPeriod]:
        own = [p for p in periods if day.weekday() in p.weekdays]
        return own or [p for p in periods if not p.weekdays]

    today = [p for p in of_day(local.date()) if p.start <= local.time()]
    if today:
        return max(today, key=lambda p: p.start).price
    for back in range(1, 8):
        earlier = of_day(local.date() - timedelta(days=back))
        if earlier:
            return max(earlier, key=lambda p: p.start).price
    return periods[0].price


# --- parsing helpers ---------------------------------------------------------


def _is_entry_list(value: object) -> bool:
    return (
        isinstance(value, list | tuple)
        and len(value) > 0
        and all(isinstance(item, Mapping) for item in value)
        and any(_first(item, _START_KEYS) is not None for item in value)
        and any(_first(item, _PRICE_KEYS) is not None for item in value)
    )


def _keyed(items: Iterable[Mapping[str, Any]], key: str) -> bool:
    return any(key in item for item in items)


def _is_number_list(value: object) -> bool:
    return (
        isinstance(value, list | tuple)
        and len(value) > 0
        and all(item is None or _number(item) is not None for item in value)
    )


def _first(item: Mapping[str, Any], keys: tuple[str, ...]) -> Any:
    for key in keys:
        if item.get(key) is not None:
            return item[key]
    return None


def _number(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


def _when(value: object) -> datetime | None:
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            return None
    else:
        return None
    return moment.astimezone(UTC) if moment.tzinfo is not None else None


_Entry = tuple[datetime, datetime | None, float]


def _entries(lists: Iterable[object]) -> list[_Entry]:
    out: list[_Entry] = []
    for items in lists:
        if not isinstance(items, list | tuple):
            continue
        for item in items:
            if not isinstance(item, Mapping):
                continue
            start = _when(_first(item, _START_KEYS))
            price = _number(_first(item, _PRICE_KEYS))
            if start is None or price is None:
                continue
            out.append((start, _when(_first(item, _END_KEYS)), price))
    return out


def _series(entries: list[_Entry], scale: float) -> PriceSeries:
    entries.sort(key=lambda entry: entry[0])
    starts = [entry[0] for entry in entries]
    steps = [b - a for a, b in pairwise(starts) if b > a]
    typical = min(steps) if steps else timedelta(hours=1)
    intervals: list[PriceInterval] = []
    for i, (start, given_end, price) in enumerate(entries):
        if intervals and start < intervals[-1].end:
            continue  # overlaps (or repeats) the one before
        following = next((s for s in starts[i + 1 :] if s > start), None)
        end = given_end
        if end is None or end <= start:
            near = following is not None and following - start <= 2 * typical
            end = following if near and following is not None else start + typical
        if following is not None and end > following:
            end = following
        intervals.append(PriceInterval(start, end, price * scale))
    return PriceSeries(tuple(intervals))


def _daily(days: list[object], now: datetime, scale: float) -> PriceSeries:
    tz = now.tzinfo
    assert tz is not None
    entries: list[_Entry] = []
    day = now.astimezone(tz).date()
    for offset, values in enumerate(days):
        if not _is_number_list(values):
            continue
        assert isinstance(values, list | tuple)
        midnight = datetime.combine(
            day + timedelta(days=offset), time(), tz
        ).astimezone(UTC)
        next_midnight = datetime.combine(
            day + timedelta(days=offset + 1), time(), tz
        ).astimezone(UTC)
        length = (next_midnight - midnight) / len(values)
        for i, value in enumerate(values):
            price = _number(value)
            if price is not None:
                start = midnight + length * i
                entries.append((start, start + length, price))
    return _series(entries, scale)
