"""The forms of the horizon planner's inputs (options step *Planning*).

Owns the two forms and their checks: `planning_schema` (where prices, the PV and
the house load forecast come from, the battery's efficiency, cycle cost and
reserve, the horizon) and `sources_schema` (the fixed prices, time-of-use
schedules, price entities and PV forecast sensors the first form asked for),
`needs_sources`, `validate_sources` (an entity that does not exist, price
attributes in no shape the planner reads, a schedule line that does not read, a
forecast sensor without a forecast) and the deferrable-load fields of a flexible
load (`deferrable_fields`, `validate_deferrable`).
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

import voluptuous as vol
from homeassistant.const import ATTR_UNIT_OF_MEASUREMENT, PERCENTAGE
from homeassistant.core import HomeAssistant
from homeassistant.helpers.selector import (
    BooleanSelector,
    EntitySelector,
    EntitySelectorConfig,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectSelector,
    SelectSelectorConfig,
    TextSelector,
    TextSelectorConfig,
    TimeSelector,
)
from homeassistant.util import dt as dt_util

from .const import (
    CONF_BATTERY_CYCLE_COST,
    CONF_BATTERY_EFFICIENCY,
    CONF_BATTERY_MIN_SOC,
    CONF_EXPORT_ENTITY,
    CONF_EXPORT_FIXED,
    CONF_EXPORT_SOURCE,
    CONF_EXPORT_TOU,
    CONF_FLAT_LOAD,
    CONF_LOAD_CONTIGUOUS,
    CONF_LOAD_FORECAST,
    CONF_LOAD_RUN_HOURS,
    CONF_LOAD_WINDOW_END,
    CONF_LOAD_WINDOW_START,
    CONF_PLAN_HOURS,
    CONF_PRICE_ENTITY,
    CONF_PRICE_FIXED,
    CONF_PRICE_SOURCE,
    CONF_PRICE_TOU,
    CONF_PV_FORECAST,
    CONF_PV_FORECAST_ENTITIES,
    DEFAULT_BATTERY_EFFICIENCY,
    DEFAULT_BATTERY_MIN_SOC,
    DEFAULT_FLAT_LOAD,
    DEFAULT_PLAN_HOURS,
    LOAD_FORECAST_HISTORY,
    LOAD_FORECASTS,
    PRICE_ENTITY,
    PRICE_FIXED,
    PRICE_NONE,
    PRICE_SOURCES,
    PRICE_TOU,
    PV_FORECAST_ENTITY,
    PV_FORECAST_HISTORY,
    PV_FORECASTS,
)
from .energy.forecast import pv_attribute_series
from .energy.prices import UnknownPriceShape, parse_price_attributes, price_unit_scale
from .site.plan_inputs import TimeOfUseError, parse_time_of_use

#: Every option of the two planning forms (a saved form clears the others).
PLANNING_KEYS = (
    CONF_PRICE_SOURCE,
    CONF_EXPORT_SOURCE,
    CONF_PV_FORECAST,
    CONF_LOAD_FORECAST,
    CONF_FLAT_LOAD,
    CONF_BATTERY_EFFICIENCY,
    CONF_BATTERY_CYCLE_COST,
    CONF_BATTERY_MIN_SOC,
    CONF_PLAN_HOURS,
)
SOURCE_KEYS = (
    CONF_PRICE_FIXED,
    CONF_PRICE_TOU,
    CONF_PRICE_ENTITY,
    CONF_EXPORT_FIXED,
    CONF_EXPORT_TOU,
    CONF_EXPORT_ENTITY,
    CONF_PV_FORECAST_ENTITIES,
)
#: (source option, fixed, time of use, entity) for import and export prices.
PRICE_FIELDS = (
    (CONF_PRICE_SOURCE, CONF_PRICE_FIXED, CONF_PRICE_TOU, CONF_PRICE_ENTITY),
    (CONF_EXPORT_SOURCE, CONF_EXPORT_FIXED, CONF_EXPORT_TOU, CONF_EXPORT_ENTITY),
)


def number_box(
    low: float, high: float, step: float, unit: str | None = None
) -> NumberSelector:
    """A number typed in a box (the options forms' numbers), with its unit."""
    config = NumberSelectorConfig(
        min=low, max=high, step=step, mode=NumberSelectorMode.BOX
    )
    if unit is not None:
        config["unit_of_measurement"] = unit
    return NumberSelector(config)


def _select(key: str, options: tuple[str, ...]) -> SelectSelector:
    return SelectSelector(
        SelectSelectorConfig(options=list(options), translation_key=key)
    )


def planning_schema(values: dict[str, Any], currency: str) -> vol.Schema:
    """The first form: where each input comes from, and the battery's economics."""

    def default(key: str, fallback: Any) -> dict[str, Any]:
        value = values.get(key)
        return {"default": fallback if value is None else value}

    return vol.Schema(
        {
            vol.Required(
                CONF_PRICE_SOURCE, **default(CONF_PRICE_SOURCE, PRICE_NONE)
            ): _select(CONF_PRICE_SOURCE, PRICE_SOURCES),
            vol.Required(
                CONF_EXPORT_SOURCE, **default(CONF_EXPORT_SOURCE, PRICE_NONE)
            ): _select(CONF_PRICE_SOURCE, PRICE_SOURCES),
            vol.Required(
                CONF_PV_FORECAST, **default(CONF_PV_FORECAST, PV_FORECAST_HISTORY)
            ): _select(CONF_PV_FORECAST, PV_FORECASTS),
            vol.Required(
                CONF_LOAD_FORECAST, **default(CONF_LOAD_FORECAST, LOAD_FORECAST_HISTORY)
            ): _select(CONF_LOAD_FORECAST, LOAD_FORECASTS),
            vol.Required(
                CONF_FLAT_LOAD, **default(CONF_FLAT_LOAD, DEFAULT_FLAT_LOAD)
            ): number_box(0, 100, 0.01, "kW"),
            vol.Required(
                CONF_BATTERY_EFFICIENCY,
                **default(CONF_BATTERY_EFFICIENCY, DEFAULT_BATTERY_EFFICIENCY),
            ): number_box(50, 100, 1, PERCENTAGE),
            vol.Required(
                CONF_BATTERY_CYCLE_COST, **default(CONF_BATTERY_CYCLE_COST, 0)
            ): number_box(0, 10, 0.001, f"{currency}/kWh"),
            vol.Required(
                CONF_BATTERY_MIN_SOC,
                **default(CONF_BATTERY_MIN_SOC, DEFAULT_BATTERY_MIN_SOC),
            ): number_box(0, 100, 1, PERCENTAGE),
            vol.Required(
                CONF_PLAN_HOURS, **default(CONF_PLAN_HOURS, DEFAULT_PLAN_HOURS)
            ): number_box(1, 48, 1, "h"),
        }
    )


def normalize_planning(user_input: dict[str, Any]) -> None:
    """Numbers as the planner stores them."""
    for key in (CONF_BATTERY_EFFICIENCY, CONF_BATTERY_MIN_SOC, CONF_PLAN_HOURS):
        user_input[key] = int(user_input[key])
    for key in (CONF_FLAT_LOAD, CONF_BATTERY_CYCLE_COST):
        user_input[key] = float(user_input[key])


def needs_sources(choices: dict[str, Any]) -> bool:
    """Whether the chosen sources need a second form (prices, forecast sensors)."""
    priced = any(
        choices.get(source) in (PRICE_FIXED, PRICE_TOU, PRICE_ENTITY)
        for source, *_ in PRICE_FIELDS
    )
    return priced or choices.get(CONF_PV_FORECAST) == PV_FORECAST_ENTITY


def sources_schema(
    choices: dict[str, Any], values: dict[str, Any], currency: str
) -> vol.Schema:
    """The second form: only the fields the chosen sources need."""
    fields: dict[Any, Any] = {}
    for source, fixed, tou, entity in PRICE_FIELDS:
        chosen = choices.get(source)
        if chosen == PRICE_FIXED:
            fields[vol.Required(fixed, default=values.get(fixed, vol.UNDEFINED))] = (
                number_box(-10, 100, 0.001, f"{currency}/kWh")
            )
        elif chosen == PRICE_TOU:
            fields[
                vol.Required(tou, description={"suggested_value": values.get(tou)})
            ] = TextSelector(TextSelectorConfig(multiline=True))
        elif chosen == PRICE_ENTITY:
            fields[
                vol.Required(
                    entity, description={"suggested_value": values.get(entity)}
                )
            ] = EntitySelector(EntitySelectorConfig(domain=["sensor", "input_number"]))
    if choices.get(CONF_PV_FORECAST) == PV_FORECAST_ENTITY:
        fields[
            vol.Required(
                CONF_PV_FORECAST_ENTITIES,
                description={"suggested_value": values.get(CONF_PV_FORECAST_ENTITIES)},
            )
        ] = EntitySelector(EntitySelectorConfig(domain="sensor", multiple=True))
    return vol.Schema(fields)


def validate_sources(hass: HomeAssistant, user_input: dict[str, Any]) -> dict[str, str]:
    """Form errors of the second form (empty when it is valid)."""
    errors: dict[str, str] = {}
    for _, fixed, tou, entity in PRICE_FIELDS:
        if fixed in user_input:
            user_input[fixed] = float(user_input[fixed])
        if tou in user_input:
            try:
                parse_time_of_use(str(user_input[tou]))
            except TimeOfUseError:
                errors[tou] = "time_of_use_invalid"
        if entity in user_input:
            state = hass.states.get(user_input[entity])
            if state is None:
                errors[entity] = "entity_not_found"
                continue
            scale = price_unit_scale(state.attributes.get(ATTR_UNIT_OF_MEASUREMENT))
            parsed = parse_price_attributes(
                state.attributes, now=dt_util.now(), scale=scale or 1.0
            )
            if isinstance(parsed, UnknownPriceShape):
                errors[entity] = "price_shape_unknown"
    for entity_id in user_input.get(CONF_PV_FORECAST_ENTITIES) or ():
        state = hass.states.get(entity_id)
        if state is None:
            errors[CONF_PV_FORECAST_ENTITIES] = "entity_not_found"
        elif pv_attribute_series(state.attributes) is None:
            errors[CONF_PV_FORECAST_ENTITIES] = "pv_forecast_unreadable"
    return errors


# Deferrable loads (fields of a flexible load) ---------------------------------------


def deferrable_fields(values: dict[str, Any]) -> dict[Any, Any]:
    """The optional fields that make a flexible load deferrable."""

    def suggested(key: str) -> dict[str, Any]:
        return {"description": {"suggested_value": values.get(key)}}

    return {
        vol.Optional(CONF_LOAD_RUN_HOURS, **suggested(CONF_LOAD_RUN_HOURS)): number_box(
            0, 24, 0.25, "h"
        ),
        vol.Optional(
            CONF_LOAD_WINDOW_START, **suggested(CONF_LOAD_WINDOW_START)
        ): TimeSelector(),
        vol.Optional(
            CONF_LOAD_WINDOW_END, **suggested(CONF_LOAD_WINDOW_END)
        ): TimeSelector(),
        vol.Required(
            CONF_LOAD_CONTIGUOUS, default=bool(values.get(CONF_LOAD_CONTIGUOUS, False))
        ): BooleanSelector(),
    }


def validate_deferrable(user_input: dict[str, Any]) -> dict[str, str]:
    """The run time must fit in its daily window (no run time: a plain
    flexible load, stored without the deferrable fields)."""
    raw: Any = user_input.get(CONF_LOAD_RUN_HOURS)
    run = float(raw or 0.0)
    if run <= 0:
        for key in (
            CONF_LOAD_RUN_HOURS,
            CONF_LOAD_WINDOW_START,
            CONF_LOAD_WINDOW_END,
            CONF_LOAD_CONTIGUOUS,
        ):
            user_input.pop(key, None)
        return {}
    user_input[CONF_LOAD_RUN_HOURS] = run
    start = dt_util.parse_time(str(user_input.get(CONF_LOAD_WINDOW_START) or "00:00"))
    end = dt_util.parse_time(str(user_input.get(CONF_LOAD_WINDOW_END) or "00:00"))
    if start is None or end is None:
        return {CONF_LOAD_WINDOW_START: "window_invalid"}
    if _window_hours(start, end) < run:
        return {CONF_LOAD_RUN_HOURS: "window_too_short"}
    return {}


def _window_hours(start: time, end: time) -> float:
    day = datetime(2000, 1, 1)
    opens = datetime.combine(day, start)
    closes = datetime.combine(day, end)
    if closes <= opens:
        closes += timedelta(days=1)
    return (closes - opens).total_seconds() / 3600
