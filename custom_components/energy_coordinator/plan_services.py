"""The horizon plan's actions: `get_plan` and `explain_plan` (both return data).

`get_plan` answers with the plan as `site.plan_view.plan_response` builds it:
status and reason, the horizon, the price source, expected cost, import, export,
PV and self-consumption, every goal's outcome, the segments and (unless
`slots: false`) every slot. `explain_plan` answers with `summary` and `reasons`
(code, subject, message) in HA's language. Both wait for a plan being made, so
an answer right after a change already reflects it. A site that does not
coordinate (no grid or PV measurement) has no planner: a translated
`ServiceValidationError`.
"""

from __future__ import annotations

from typing import cast

import voluptuous as vol
from homeassistant.core import (
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
    callback,
)
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import config_validation as cv
from homeassistant.util.json import JsonObjectType

from .const import DOMAIN
from .runtime import EnergyCoordinatorConfigEntry
from .services import ATTR_CONFIG_ENTRY_ID, _site
from .site.plan_view import async_explain, plan_response
from .site.planning import SitePlanner

SERVICE_GET_PLAN = "get_plan"
SERVICE_EXPLAIN_PLAN = "explain_plan"
ATTR_SLOTS = "slots"

GET_PLAN_SCHEMA = vol.Schema(
    {
        vol.Optional(ATTR_CONFIG_ENTRY_ID): cv.string,
        vol.Optional(ATTR_SLOTS, default=True): cv.boolean,
    }
)
EXPLAIN_PLAN_SCHEMA = vol.Schema({vol.Optional(ATTR_CONFIG_ENTRY_ID): cv.string})


def _planner(call: ServiceCall) -> tuple[EnergyCoordinatorConfigEntry, SitePlanner]:
    entry = _site(call.hass, call.data.get(ATTR_CONFIG_ENTRY_ID))
    planner = entry.runtime_data.planner
    if planner is None:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="planning_unavailable",
            translation_placeholders={"site": entry.title},
        )
    return entry, planner


async def _get_plan(call: ServiceCall) -> ServiceResponse:
    entry, planner = _planner(call)
    result = await planner.async_fresh()
    return cast(
        JsonObjectType,
        plan_response(
            result,
            planner.options,
            call.hass.config.currency,
            with_slots=call.data[ATTR_SLOTS],
        ),
    )


async def _explain_plan(call: ServiceCall) -> ServiceResponse:
    _, planner = _planner(call)
    result = await planner.async_fresh()
    return cast(
        JsonObjectType,
        await async_explain(call.hass, result, call.hass.config.currency),
    )


@callback
def async_setup_plan_services(hass: HomeAssistant) -> None:
    """Register `get_plan` and `explain_plan`."""
    hass.services.async_register(
        DOMAIN,
        SERVICE_GET_PLAN,
        _get_plan,
        schema=GET_PLAN_SCHEMA,
        supports_response=SupportsResponse.ONLY,
    )
    hass.services.async_register(
        DOMAIN,
        SERVICE_EXPLAIN_PLAN,
        _explain_plan,
        schema=EXPLAIN_PLAN_SCHEMA,
        supports_response=SupportsResponse.ONLY,
    )
