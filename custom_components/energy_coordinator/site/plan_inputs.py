"""What the horizon planner knows, read from Home Assistant.

Owns the planner's HA-side inputs:

* prices (`read_prices`): none (a nominal flat price: the plan then weighs solar
  and the deadlines only), a fixed price, a time-of-use schedule (its text format
  is `parse_time_of_use`), or a price entity whose attributes carry the forecast
  in any shape `energy.prices` reads (an unknown shape is reported for the
  repair issue); the export price the same way (none: exports earn nothing);
* the PV forecast (`async_pv_forecast`): the Energy dashboard's solar forecast
  platforms (Forecast.Solar, Solcast, ...: what its `energy/solar_forecast`
  command shows), or forecast sensors' attributes;
* the recorder's histories (`HistoryReader`): hourly mean statistics of the
  house consumption (or, without a house sensor, grid + PV - battery charging,
  with the chargers' power to take out), of the PV production, read in the
  recorder's executor and kept for `HISTORY_TTL`;
* how long a switch has been on since a moment (`async_on_hours`), from the
  recorder's state history, for the run time a deferrable load still needs.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

import numpy as np
from homeassistant.const import ATTR_UNIT_OF_MEASUREMENT, STATE_ON
from homeassistant.core import HomeAssistant, State
from homeassistant.helpers.recorder import get_instance
from homeassistant.util import dt as dt_util

from ..const import (
    BATTERY_SIGN_DISCHARGING_POSITIVE,
    CONF_BATTERY_POWER,
    CONF_BATTERY_POWER_SIGN,
    CONF_EXPORT_ENTITY,
    CONF_EXPORT_FIXED,
    CONF_EXPORT_SOURCE,
    CONF_EXPORT_TOU,
    CONF_GRID_POWER,
    CONF_HOUSE_POWER,
    CONF_PRICE_ENTITY,
    CONF_PRICE_FIXED,
    CONF_PRICE_SOURCE,
    CONF_PRICE_TOU,
    CONF_PV_FORECAST,
    CONF_PV_FORECAST_ENTITIES,
    CONF_PV_POWER,
    PRICE_ENTITY,
    PRICE_FIXED,
    PRICE_NONE,
    PRICE_TOU,
    PV_FORECAST_ENERGY,
    PV_FORECAST_ENTITY,
)
from ..energy.forecast import (
    STEP_SECONDS,
    SlotSeries,
    combined,
    pv_attribute_series,
    solar_forecast_series,
)
from ..energy.prices import (
    PriceInterval,
    PriceSeries,
    TouPeriod,
    UnknownPriceShape,
    fixed_price,
    parse_price_attributes,
    price_unit_scale,
    time_of_use,
)

_LOGGER = logging.getLogger(__name__)

#: The price the plan uses without a price source: only its being flat matters.
NOMINAL_PRICE = 1.0
#: How long statistics read from the recorder are used before reading again.
HISTORY_TTL = timedelta(hours=6)
#: ... and when it had nothing yet (a new site, statistics still compiling).
EMPTY_HISTORY_TTL = timedelta(hours=1)
#: History the planner looks back on (the load forecast's weeks, PV's days).
LOAD_HISTORY = timedelta(weeks=4)
PV_HISTORY = timedelta(days=3)

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_TOU_LINE = re.compile(
    r"^\s*(?:(?P<days>[a-z,\-\s]+?)\s+)?(?P<h>\d{1,2}):(?P<m>\d{2})\s+"
    r"(?P<price>-?\d+(?:[.,]\d+)?)\s*$",
    re.IGNORECASE,
)


class TimeOfUseError(ValueError):
    """A line of a time-of-use schedule that does not read (`line`)."""

    def __init__(self, line: str) -> None:
        """Name the line."""
        super().__init__(f"cannot read {line!r}")
        self.line = line


def parse_time_of_use(text: str) -> tuple[TouPeriod, ...]:
    """A time-of-use schedule from its text: one period per line (or `;`).

    Each line is `HH:MM price` (from that time of day on, that price per kWh),
    optionally after weekdays (`sat,sun 00:00 0.18`, `mon-fri 07:00 0.35`):
    such a day uses its own lines. Raises `TimeOfUseError` for a line that does
    not read, or for an empty schedule.
    """
    periods: list[TouPeriod] = []
    for raw in re.split(r"[\n;]", text or ""):
        line = raw.strip()
        if not line:
            continue
        match = _TOU_LINE.match(line)
        if match is None:
            raise TimeOfUseError(line)
        hour, minute = int(match["h"]), int(match["m"])
        if hour > 23 or minute > 59:
            raise TimeOfUseError(line)
        days = _weekdays(match["days"], line)
        price = float(match["price"].replace(",", "."))
        periods.append(TouPeriod(time(hour, minute), price, days))
    if not periods:
        raise TimeOfUseError(text or "")
    return tuple(periods)


def _weekdays(spec: str | None, line: str) -> frozenset[int]:
    if not spec:
        return frozenset()
    days: set[int] = set()
    for part in spec.lower().replace(" ", "").split(","):
        if not part:
            continue
        first, _, last = part.partition("-")
        if first not in WEEKDAYS or (last and last not in WEEKDAYS):
            raise TimeOfUseError(line)
        a = WEEKDAYS.index(first)
        b = WEEKDAYS.index(last) if last else a
        days.update(range(a, b + 1) if a <= b else [*range(a, 7), *range(b + 1)])
    return frozenset(days)


@dataclass(frozen=True, slots=True)
class PriceRead:
    """Prices for the plan: `series` (None: none to plan with) and why.

    `nominal`: no price source (a flat stand-in; costs mean nothing).
    `entity_id` / `unknown`: the price entity, and what it had when its
    attributes carry no forecast in a known shape.
    """

    series: PriceSeries | None
    nominal: bool = False
    entity_id: str | None = None
    unknown: UnknownPriceShape | None = None


_KEYS = {
    "import": (CONF_PRICE_SOURCE, CONF_PRICE_FIXED, CONF_PRICE_TOU, CONF_PRICE_ENTITY),
    "export": (
        CONF_EXPORT_SOURCE,
        CONF_EXPORT_FIXED,
        CONF_EXPORT_TOU,
        CONF_EXPORT_ENTITY,
    ),
}


def read_prices(
    hass: HomeAssistant,
    options: Mapping[str, Any],
    which: str,
    now: datetime,
    hours: float,
) -> PriceRead:
    """The import (`which="import"`) or export prices from `now` for `hours`."""
    source_key, fixed_key, tou_key, entity_key = _KEYS[which]
    source = options.get(source_key) or PRICE_NONE
    if source == PRICE_FIXED and options.get(fixed_key) is not None:
        return PriceRead(fixed_price(float(options[fixed_key]), now, hours))
    if source == PRICE_TOU and options.get(tou_key):
        try:
            periods = parse_time_of_use(str(options[tou_key]))
        except TimeOfUseError as err:
            _LOGGER.warning("Time-of-use %s prices: %s", which, err)
            return PriceRead(None)
        return PriceRead(
            time_of_use(periods, now, hours, dt_util.get_default_time_zone())
        )
    if source == PRICE_ENTITY and options.get(entity_key):
        entity_id = str(options[entity_key])
        series, unknown = _entity_prices(hass.states.get(entity_id), now)
        return PriceRead(series, entity_id=entity_id, unknown=unknown)
    if which == "import":
        return PriceRead(fixed_price(NOMINAL_PRICE, now, hours), nominal=True)
    return PriceRead(None)


def _entity_prices(
    state: State | None, now: datetime
) -> tuple[PriceSeries | None, UnknownPriceShape | None]:
    """A price entity's forecast from `now` (None: none yet), or its unknown shape.

    Prices in the entity's unit (c/kWh, EUR/MWh, ...) become currency per kWh.
    When the forecast does not cover `now`, the entity's state (the price of the
    moment) holds until the forecast starts or the hour ends.
    """
    if state is None:
        return None, None
    scale = price_unit_scale(state.attributes.get(ATTR_UNIT_OF_MEASUREMENT)) or 1.0
    parsed = parse_price_attributes(
        state.attributes, now=dt_util.as_local(now), scale=scale
    )
    if isinstance(parsed, UnknownPriceShape):
        return None, parsed
    series = parsed.series
    if series.price_at(now) is not None:
        return series, None
    try:
        current = float(state.state) * scale
    except ValueError:
        return None, None
    end = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    if not math.isfinite(current) or (series.end is not None and series.end <= now):
        return None, None
    if series.start is not None:
        end = min(end, series.start)
    head = PriceInterval(now, end, current)
    return PriceSeries((head, *series.intervals)), None


# PV forecast --------------------------------------------------------------------


async def async_pv_forecast(
    hass: HomeAssistant, options: Mapping[str, Any]
) -> SlotSeries | None:
    """The configured PV forecast (None: use the production history)."""
    source = options.get(CONF_PV_FORECAST)
    if source == PV_FORECAST_ENERGY:
        return await _async_energy_forecast(hass)
    if source == PV_FORECAST_ENTITY:
        found = []
        for entity_id in options.get(CONF_PV_FORECAST_ENTITIES) or ():
            state = hass.states.get(entity_id)
            if state is not None and (series := pv_attribute_series(state.attributes)):
                found.append(series)
        return combined(found)
    return None


async def _async_energy_forecast(hass: HomeAssistant) -> SlotSeries | None:
    """The solar forecast of the Energy dashboard's solar sources.

    The same source as its `energy/solar_forecast` command: each solar source's
    `config_entry_solar_forecast` entries, asked through their integration's
    energy platform (`async_get_solar_forecast` -> `{"wh_hours": ...}`).
    """
    if "energy" not in hass.config.components:
        return None
    from homeassistant.components.energy.data import async_get_manager
    from homeassistant.components.energy.websocket_api import (
        async_get_energy_platforms,
    )

    manager = await async_get_manager(hass)
    if manager.data is None:
        return None
    entry_ids: dict[str, None] = {}
    for source in manager.data["energy_sources"]:
        if source["type"] == "solar":
            for entry_id in source.get("config_entry_solar_forecast") or ():
                entry_ids[entry_id] = None
    if not entry_ids:
        return None
    platforms = await async_get_energy_platforms(hass)
    found = []
    for entry_id in entry_ids:
        entry = hass.config_entries.async_get_entry(entry_id)
        if entry is None or entry.domain not in platforms:
            continue
        forecast: Mapping[str, Any] | None = await platforms[entry.domain](
            hass, entry_id
        )
        wh_hours = (forecast or {}).get("wh_hours")
        if isinstance(wh_hours, Mapping) and (
            series := solar_forecast_series(dict(wh_hours))
        ):
            found.append(series)
    return combined(found)


# History --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Histories:
    """What the recorder knows: house load, the chargers' power, PV production."""

    load: SlotSeries | None = None
    ev: SlotSeries | None = None
    pv: SlotSeries | None = None


class HistoryReader:
    """Hourly mean statistics from the recorder, cached for `HISTORY_TTL`."""

    def __init__(self, hass: HomeAssistant, options: Mapping[str, Any]) -> None:
        """Read the sources configured in `options`."""
        self._hass = hass
        self._options = options
        self._cached: tuple[datetime, frozenset[str], Histories] | None = None

    @property
    def available(self) -> bool:
        """Whether the recorder runs (without it there is no history)."""
        return "recorder" in self._hass.config.components

    async def async_histories(
        self, now: datetime, charger_power: Iterable[str]
    ) -> Histories:
        """The histories up to `now` (`charger_power`: the chargers' power sensors)."""
        chargers = frozenset(charger_power)
        cached = self._cached
        if cached is not None and cached[1] == chargers:
            ttl = HISTORY_TTL if cached[2] != Histories() else EMPTY_HISTORY_TTL
            if now - cached[0] < ttl:
                return cached[2]
        histories = Histories()
        if self.available:
            try:
                histories = await self._async_read(now, chargers)
            except Exception:  # a recorder problem must not stop planning
                _LOGGER.exception("Reading the recorder's statistics failed")
        self._cached = (now, chargers, histories)
        return histories

    async def _async_read(self, now: datetime, chargers: frozenset[str]) -> Histories:
        options = self._options
        house = options.get(CONF_HOUSE_POWER)
        parts: dict[str, float] = {}
        if house:
            parts[str(house)] = 1.0
        else:
            for key in (CONF_GRID_POWER, CONF_PV_POWER):
                if options.get(key):
                    parts[str(options[key])] = 1.0
            if battery := options.get(CONF_BATTERY_POWER):
                discharging = (
                    options.get(CONF_BATTERY_POWER_SIGN)
                    == BATTERY_SIGN_DISCHARGING_POSITIVE
                )
                # house = grid + PV - battery charging
                parts[str(battery)] = 1.0 if discharging else -1.0
        pv = str(options[CONF_PV_POWER]) if options.get(CONF_PV_POWER) else None
        ids = set(parts) | set(chargers) | ({pv} if pv else set())
        if not ids:
            return Histories()
        start = now - LOAD_HISTORY
        rows = await get_instance(self._hass).async_add_executor_job(
            _statistics, self._hass, start, now, ids
        )
        load = _weighted(rows, parts, required=True) if parts else None
        if load is not None and not house and len(parts) < 2:
            load = None  # the grid meter alone is not the house
        ev = _weighted(rows, dict.fromkeys(chargers, 1.0), required=False)
        pv_series = _weighted(rows, {pv: 1.0}, required=True) if pv else None
        return Histories(load=load, ev=None if house else ev, pv=pv_series)


def _statistics(
    hass: HomeAssistant, start: datetime, end: datetime, ids: set[str]
) -> dict[str, dict[float, float]]:
    """Hourly means (kW) per statistic id: {hour start: mean} (executor)."""
    from homeassistant.components.recorder.statistics import statistics_during_period

    found = statistics_during_period(
        hass, start, end, ids, "hour", {"power": "kW"}, {"mean"}
    )
    result: dict[str, dict[float, float]] = {}
    for statistic_id, rows in found.items():
        result[statistic_id] = {
            float(row["start"]): float(mean)
            for row in rows
            if (mean := row.get("mean")) is not None and math.isfinite(mean)
        }
    return result


def _weighted(
    rows: Mapping[str, Mapping[float, float]],
    parts: Mapping[str, float],
    *,
    required: bool,
) -> SlotSeries | None:
    """The weighted sum of hourly series as quarter hours.

    `required`: an hour missing in any part is unknown (NaN); otherwise missing
    parts count 0 (the chargers' power, where a charger may be newer).
    """
    hours = sorted({h for statistic_id in parts for h in rows.get(statistic_id, {})})
    if not hours:
        return None
    first, last = hours[0], hours[-1]
    count = round((last - first) / 3600) + 1
    total = np.zeros(count)
    known = np.ones(count, dtype=bool) if required else np.zeros(count, dtype=bool)
    for statistic_id, weight in parts.items():
        series = rows.get(statistic_id, {})
        has = np.zeros(count, dtype=bool)
        for hour, mean in series.items():
            index = round((hour - first) / 3600)
            total[index] += weight * mean
            has[index] = True
        known = (known & has) if required else (known | has)
    values = np.repeat(np.where(known, total, np.nan), round(3600 / STEP_SECONDS))
    start = datetime.fromtimestamp(first, dt_util.UTC)
    return SlotSeries(start, tuple(float(v) for v in values))


# Deferrable loads ------------------------------------------------------------------


async def async_on_hours(
    hass: HomeAssistant, entity_id: str, since: datetime, now: datetime
) -> float:
    """Hours `entity_id` has been on between `since` and `now`.

    From the recorder's state history when it runs, else from the current state
    (on since its last change).
    """
    state = hass.states.get(entity_id)
    if "recorder" in hass.config.components:
        try:
            return await get_instance(hass).async_add_executor_job(
                _on_hours, hass, entity_id, since, now
            )
        except Exception:  # a recorder problem must not stop planning
            _LOGGER.exception("Reading the history of %s failed", entity_id)
    if state is None or state.state != STATE_ON:
        return 0.0
    return max(0.0, (now - max(since, state.last_changed)).total_seconds() / 3600)


def _on_hours(
    hass: HomeAssistant, entity_id: str, since: datetime, now: datetime
) -> float:
    from homeassistant.components.recorder.history import state_changes_during_period

    states = state_changes_during_period(
        hass, since, now, entity_id, no_attributes=True, include_start_time_state=True
    ).get(entity_id, [])
    seconds = 0.0
    followers: list[State | None] = [*states[1:], None] if states else []
    for state, following in zip(states, followers, strict=True):
        begin = max(since, state.last_changed)
        end = following.last_changed if following is not None else now
        if state.state == STATE_ON and end > begin:
            seconds += (end - begin).total_seconds()
    return seconds / 3600
