"""Load and PV forecasts from history, on the planner's quarter-hour grid.

Owns `SlotSeries` (mean kW per quarter hour from a UTC quarter hour on, NaN for
missing), `slot_series()` (recorder samples -> `SlotSeries`),
`load_forecast()` (same weekday and time of day over the last weeks, EV charging
excluded; none -> the history's mean; no history -> a flat estimate),
`pv_persistence_forecast()` (the same time of day over the last days) and
`forecast_values()` (a forecast platform's series -> per-slot values),
`solar_forecast_series()` (the Energy dashboard's solar forecast, `wh_hours`, as
Forecast.Solar and Solcast provide it -> `SlotSeries`), `pv_attribute_series()`
(a PV forecast sensor's attributes -> `SlotSeries`) and `combined()` (the sum of
several forecasts, e.g. one per array or per day).

"Same time" is local wall-clock time (`tz`), so a week across a DST change still
compares 18:00 with 18:00.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from itertools import pairwise
from typing import cast

import numpy as np
import numpy.typing as npt

from .plan_model import STEP
from .prices import slot_edges

FloatArray = npt.NDArray[np.float64]
STEP_SECONDS = STEP.total_seconds()
DEFAULT_FLAT_LOAD_KW = 0.45  # about 4,000 kWh a year


@dataclass(frozen=True, slots=True)
class SlotSeries:
    """Mean power (kW) per quarter hour from `start` (a UTC quarter hour) on."""

    start: datetime
    values: tuple[float, ...]

    def __post_init__(self) -> None:
        if self.start.tzinfo is None:
            raise ValueError("start must be timezone-aware")
        if (
            abs(
                self.start.timestamp() / STEP_SECONDS
                - round(self.start.timestamp() / STEP_SECONDS)
            )
            > 1e-9
        ):
            raise ValueError("start must be on a quarter hour")

    @property
    def end(self) -> datetime:
        return self.start + STEP * len(self.values)

    def array(self) -> FloatArray:
        return np.asarray(self.values, dtype=np.float64)

    def minus(self, other: SlotSeries) -> SlotSeries:
        """This series less `other` where both are known (never below 0)."""
        mine = self.array()
        offset = round((other.start - self.start) / STEP)
        theirs = np.zeros(len(mine))
        lo, hi = max(0, offset), min(len(mine), offset + len(other.values))
        if hi > lo:
            part = other.array()[lo - offset : hi - offset]
            theirs[lo:hi] = np.nan_to_num(part, nan=0.0)
        return SlotSeries(self.start, _floats(np.maximum(0.0, mine - theirs)))


def slot_series(
    samples: Sequence[tuple[datetime, float | None]], start: datetime, end: datetime
) -> SlotSeries:
    """Recorder samples (a value holds until the next sample) -> quarter-hour means.

    `start` is rounded down to a quarter hour. Quarter hours without any sample
    in force (before the first, or after a None) are NaN.
    """
    first = _quarter_floor(start)
    n = max(0, math.ceil((end - first) / STEP - 1e-9))
    out = np.full(n, np.nan)
    if n == 0 or not samples:
        return SlotSeries(first, ())
    edges = first.timestamp() + STEP_SECONDS * np.arange(n + 1)
    ordered = sorted(samples, key=lambda sample: sample[0])
    times = np.array([t.timestamp() for t, _ in ordered] + [edges[-1]])
    values = np.array([math.nan if v is None else float(v) for _, v in ordered])
    times = np.maximum(times, edges[0])
    energy = np.zeros(n)
    known = np.zeros(n)
    for i in range(len(values)):
        lo, hi, value = times[i], times[i + 1], values[i]
        if hi <= lo or not math.isfinite(value):
            continue
        overlap = np.clip(
            np.minimum(edges[1:], hi) - np.maximum(edges[:-1], lo), 0.0, None
        )
        energy += overlap * value
        known += overlap
    has = known > 0
    out[has] = energy[has] / known[has]
    return SlotSeries(first, _floats(out))


def solar_forecast_series(
    wh_hours: Mapping[str | datetime, float],
) -> SlotSeries | None:
    """The Energy dashboard's solar forecast (`{"wh_hours": {start: Wh}}`'s inner
    mapping: energy per period from each ISO 8601 start to the next, usually an
    hour) as mean kW per quarter hour; None when it has no usable entry."""
    points: list[tuple[float, float]] = []
    for key, value in wh_hours.items():
        moment = key if isinstance(key, datetime) else _parse(key)
        if (
            moment is None
            or moment.tzinfo is None
            or not isinstance(value, int | float)
        ):
            continue
        if math.isfinite(value):
            points.append((moment.timestamp(), max(0.0, float(value))))
    if not points:
        return None
    points.sort()
    starts = [t for t, _ in points]
    steps = [b - a for a, b in pairwise(starts) if b > a]
    period = min(steps) if steps else 3600.0
    first = math.floor(starts[0] / STEP_SECONDS + 1e-9) * STEP_SECONDS
    end = starts[-1] + period
    n = max(1, math.ceil((end - first) / STEP_SECONDS - 1e-9))
    out = np.full(n, np.nan)
    for i, (t, wh) in enumerate(points):
        until = starts[i + 1] if i + 1 < len(points) else t + period
        until = min(until, t + period)
        kw = wh / 1000.0 / ((until - t) / 3600.0)
        lo = round((t - first) / STEP_SECONDS)
        hi = round((until - first) / STEP_SECONDS)
        out[max(lo, 0) : max(hi, 0)] = kw
    return SlotSeries(datetime.fromtimestamp(first, UTC), _floats(out))


#: Attributes of PV forecast sensors that map a start time to energy (Wh per
#: period) or mean power (W).
_WH_KEYS = ("wh_hours", "wh_period", "wh_days_hours")
_W_KEYS = ("watts", "w_period")
#: Attributes that list periods ({period_start, pv_estimate in kW}, Solcast).
_LIST_KEYS = ("detailedForecast", "detailedHourly", "forecast", "forecasts")
_LIST_START = ("period_start", "start", "datetime", "time")
_LIST_KW = ("pv_estimate", "power_kw", "kw")


def pv_attribute_series(attributes: Mapping[str, object]) -> SlotSeries | None:
    """A PV forecast sensor's attributes as mean kW per quarter hour.

    Understands a mapping of start -> Wh (`wh_hours`, `wh_period`: the Energy
    dashboard's shape), of start -> W (`watts`), or a list of
    `{"period_start", "pv_estimate"}` in kW (Solcast's `detailedForecast`,
    `detailedHourly`). None when none of them has a usable entry.
    """
    for key in _WH_KEYS:
        value = attributes.get(key)
        if isinstance(value, Mapping) and (series := solar_forecast_series(value)):
            return series
    for key in _W_KEYS:
        value = attributes.get(key)
        if isinstance(value, Mapping):
            series = _power_points([(_moment(k), _finite(v)) for k, v in value.items()])
            if series is not None:
                return series
    for key in _LIST_KEYS:
        value = attributes.get(key)
        if not isinstance(value, list | tuple):
            continue
        points: list[tuple[datetime | None, float | None]] = []
        for item in value:
            if not isinstance(item, Mapping):
                continue
            start = next((item[k] for k in _LIST_START if k in item), None)
            kw = next((item[k] for k in _LIST_KW if k in item), None)
            power = _finite(kw)
            points.append((_moment(start), None if power is None else power * 1000))
        series = _power_points(points)
        if series is not None:
            return series
    return None


def _moment(value: object) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else None
    if isinstance(value, str):
        moment = _parse(value)
        return moment if moment is not None and moment.tzinfo is not None else None
    return None


def _finite(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _power_points(
    points: Sequence[tuple[datetime | None, float | None]],
) -> SlotSeries | None:
    """(start, W) points, each holding until the next (the last for the
    typical period) -> mean kW per quarter hour."""
    usable = sorted(
        (moment.timestamp(), max(0.0, watts))
        for moment, watts in points
        if moment is not None and watts is not None
    )
    if not usable:
        return None
    starts = [t for t, _ in usable]
    steps = [b - a for a, b in pairwise(starts) if b > a]
    period = min(steps) if steps else 3600.0
    # Energy per period, so periods shorter than a quarter hour average out.
    wh: dict[str | datetime, float] = {
        datetime.fromtimestamp(t, UTC): w * (min(period, nxt - t) / 3600.0)
        for (t, w), nxt in zip(usable, [*starts[1:], starts[-1] + period], strict=True)
        if nxt > t
    }
    return solar_forecast_series(wh)


def combined(series: Sequence[SlotSeries]) -> SlotSeries | None:
    """The sum of several forecasts where any of them is known (None: none)."""
    if not series:
        return None
    start = min(s.start for s in series)
    end = max(s.end for s in series)
    n = round((end - start) / STEP)
    total = np.zeros(n)
    known = np.zeros(n, dtype=bool)
    for item in series:
        offset = round((item.start - start) / STEP)
        data = item.array()
        has = ~np.isnan(data)
        window = slice(offset, offset + len(data))
        total[window] += np.where(has, data, 0.0)
        known[window] |= has
    return SlotSeries(start, _floats(np.where(known, total, np.nan)))


def _parse(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def load_forecast(
    history: SlotSeries | None,
    start: datetime,
    slots: int,
    tz: tzinfo,
    *,
    weeks: int = 4,
    exclude: SlotSeries | None = None,
    flat_kw: float = DEFAULT_FLAT_LOAD_KW,
) -> tuple[float, ...]:
    """House load per planner slot from `start`: the mean of the same weekday and
    time over the last `weeks` weeks; where none is known, the same time on the
    last 7 days; then the history's mean; without history `flat_kw`.

    `exclude` (the EV chargers' power history) is subtracted first, so charging
    sessions do not become tomorrow's base load.
    """
    if history is not None and exclude is not None:
        history = history.minus(exclude)
    if history is None or not history.values:
        return (flat_kw,) * slots
    data = history.array()
    weekly = _lookback(data, history.start, start, slots, tz, 7, weeks)
    daily = _lookback(data, history.start, start, slots, tz, 1, 7)
    result = np.where(np.isnan(weekly), daily, weekly)
    mean = float(np.nanmean(data)) if np.any(~np.isnan(data)) else flat_kw
    return _floats(np.where(np.isnan(result), mean, np.maximum(result, 0.0)))


def pv_persistence_forecast(
    history: SlotSeries | None,
    start: datetime,
    slots: int,
    tz: tzinfo,
    *,
    days: int = 3,
) -> tuple[float, ...]:
    """PV per planner slot from `start`: the mean of the same time of day over the
    last `days` days of production (0 where nothing is known)."""
    if history is None or not history.values:
        return (0.0,) * slots
    result = _lookback(history.array(), history.start, start, slots, tz, 1, days)
    return _floats(np.maximum(np.nan_to_num(result, nan=0.0), 0.0))


def forecast_values(
    forecast: SlotSeries, start: datetime, slots: int, fallback: Sequence[float]
) -> tuple[float, ...]:
    """A forecast platform's series on the planner's slots; `fallback` where it is
    missing (beyond its end, or NaN)."""
    edges = slot_edges(start, slots)[:-1]
    data = forecast.array()
    index = np.floor((edges - forecast.start.timestamp()) / STEP_SECONDS + 1e-9)
    index = index.astype(np.int64)
    inside = (index >= 0) & (index < len(data))
    values = np.full(slots, np.nan)
    values[inside] = data[index[inside]]
    out = np.where(np.isnan(values), np.asarray(fallback, dtype=np.float64), values)
    return _floats(np.maximum(out, 0.0))


def _lookback(
    data: FloatArray,
    origin: datetime,
    start: datetime,
    slots: int,
    tz: tzinfo,
    period_days: int,
    count: int,
) -> FloatArray:
    """Mean over k = 1..count of the value `k * period_days` local days earlier."""
    edges = slot_edges(start, slots)[:-1]
    # Each slot by its quarter hour (a partial first slot counts as its quarter).
    quarters = np.floor(edges / STEP_SECONDS + 1e-9) * STEP_SECONDS
    offsets = _offsets(quarters, tz)
    total = np.zeros(slots)
    hits = np.zeros(slots)
    base = origin.timestamp()
    for k in range(1, count + 1):
        back = quarters - k * period_days * 86_400.0
        # Same local wall-clock time: correct for a UTC offset that changed.
        back_offsets = _offsets(back, tz)
        back = back + (offsets - back_offsets)
        index = np.rint((back - base) / STEP_SECONDS).astype(np.int64)
        inside = (index >= 0) & (index < len(data)) & (back < quarters[0])
        values = np.full(slots, np.nan)
        values[inside] = data[index[inside]]
        known = ~np.isnan(values)
        total[known] += values[known]
        hits[known] += 1
    out = np.full(slots, np.nan)
    has = hits > 0
    out[has] = total[has] / hits[has]
    return out


def _offsets(timestamps: FloatArray, tz: tzinfo) -> FloatArray:
    """UTC offsets (seconds) of `tz` at each timestamp (looked up once per hour)."""
    hours = np.floor(timestamps / 3600.0).astype(np.int64)
    unique, inverse = np.unique(hours, return_inverse=True)
    looked_up = np.array([_offset(float(h) * 3600.0, tz) for h in unique.tolist()])
    return looked_up[inverse] if len(unique) else np.zeros(len(timestamps))


def _offset(timestamp: float, tz: tzinfo) -> float:
    moment = datetime.fromtimestamp(timestamp, tz=UTC).astimezone(tz)
    offset = moment.utcoffset()
    return offset.total_seconds() if offset is not None else 0.0


def _quarter_floor(when: datetime) -> datetime:
    seconds = when.astimezone(UTC).timestamp()
    return datetime.fromtimestamp(
        math.floor(seconds / STEP_SECONDS + 1e-9) * STEP_SECONDS, tz=UTC
    )


def _floats(values: FloatArray) -> tuple[float, ...]:
    return tuple(cast(list[float], values.tolist()))


__all__ = [
    "DEFAULT_FLAT_LOAD_KW",
    "SlotSeries",
    "combined",
    "forecast_values",
    "load_forecast",
    "pv_attribute_series",
    "pv_persistence_forecast",
    "slot_series",
    "solar_forecast_series",
]
