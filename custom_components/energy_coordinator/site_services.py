"""The site's actions: `coordinate` (decide and act) and `get_status`.

Owns their schemas (measurement overrides in the shape the site uses) and the
checks that turn bad input into a translated `ServiceValidationError`.
"""

from __future__ import annotations

from typing import Any, cast

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
from .services import ATTR_CONFIG_ENTRY_ID, _site

SERVICE_COORDINATE = "coordinate"
SERVICE_GET_STATUS = "get_status"

_KW = vol.All(vol.Coerce(float), vol.Range(min=0, max=10000))
_SIGNED_KW = vol.All(vol.Coerce(float), vol.Range(min=-10000, max=10000))
_PCT = vol.All(vol.Coerce(float), vol.Range(min=0, max=100))
_KWH = vol.All(vol.Coerce(float), vol.Range(min=0, max=10000))

VEHICLE_SCHEMA = vol.Schema(
    {
        vol.Optional("connected"): cv.boolean,
        vol.Optional("state_of_charge_kwh"): _KWH,
        vol.Optional("state_of_charge_pct"): _PCT,
        vol.Optional("charging_power_kw"): _KW,
        vol.Optional("mode"): vol.In(["off", "now", "minpv", "pv"]),
    }
)

COORDINATE_SCHEMA = vol.Schema(
    {
        vol.Optional("dry_run", default=False): cv.boolean,
        vol.Optional(ATTR_CONFIG_ENTRY_ID): cv.string,
        vol.Optional("solar"): vol.Schema({vol.Optional("production_kw"): _KW}),
        vol.Optional("grid"): vol.Schema({vol.Optional("power_kw"): _SIGNED_KW}),
        vol.Optional("load"): vol.Schema(
            {
                vol.Optional("critical_load_kw"): _KW,
                vol.Optional("flexible_load_kw"): _KW,
            }
        ),
        vol.Optional("battery"): vol.Schema(
            {
                vol.Optional("state_of_charge_kwh"): _KWH,
                vol.Optional("state_of_charge_pct"): _PCT,
                vol.Optional("power_kw"): _SIGNED_KW,
            }
        ),
        vol.Optional("vehicle"): VEHICLE_SCHEMA,
        vol.Optional("vehicles"): vol.Schema({cv.string: VEHICLE_SCHEMA}),
    }
)

STATUS_SCHEMA = vol.Schema({vol.Optional(ATTR_CONFIG_ENTRY_ID): cv.string})


def _invalid(key: str, **placeholders: str) -> ServiceValidationError:
    return ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key=key,
        translation_placeholders=placeholders,
    )


async def _coordinate(call: ServiceCall) -> ServiceResponse:
    entry = _site(call.hass, call.data.get(ATTR_CONFIG_ENTRY_ID))
    site = entry.runtime_data.site
    overrides: dict[str, Any] = {
        key: call.data[key]
        for key in ("solar", "grid", "load", "battery", "vehicle", "vehicles")
        if key in call.data
    }
    known = {lp_id for lp_id, _, _ in site.loadpoint_connectors()}
    for lp_id in overrides.get("vehicles", {}):
        if lp_id not in known:
            raise _invalid(
                "unknown_loadpoint",
                loadpoint=lp_id,
                known=", ".join(sorted(known)) or "-",
            )
    battery = overrides.get("battery") or {}
    if "state_of_charge_kwh" in battery and not site.options.get(
        "battery_capacity_kwh"
    ):
        raise _invalid("battery_capacity_unknown")
    result = await site.async_coordinate(overrides, dry_run=call.data["dry_run"])
    return cast(JsonObjectType, result.as_dict())


async def _get_status(call: ServiceCall) -> ServiceResponse:
    entry = _site(call.hass, call.data.get(ATTR_CONFIG_ENTRY_ID))
    return cast(JsonObjectType, entry.runtime_data.site.status())


@callback
def async_setup_site_services(hass: HomeAssistant) -> None:
    """Register `coordinate` and `get_status`."""
    hass.services.async_register(
        DOMAIN,
        SERVICE_COORDINATE,
        _coordinate,
        schema=COORDINATE_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )
    hass.services.async_register(
        DOMAIN,
        SERVICE_GET_STATUS,
        _get_status,
        schema=STATUS_SCHEMA,
        supports_response=SupportsResponse.ONLY,
    )
