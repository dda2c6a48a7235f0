"""The site's actions: `coordinate` (decide and act), `get_status` and
`get_chargers` (the chargers, connectors and loadpoints with their device and
entity ids).

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
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.util.json import JsonObjectType

from .const import DOMAIN
from .energy import ChargeMode
from .entity import charger_device_info, connector_device_info
from .services import ATTR_CONFIG_ENTRY_ID, _site
from .site import loadpoint_id
from .site_entity import loadpoint_device_info

SERVICE_COORDINATE = "coordinate"
SERVICE_GET_STATUS = "get_status"
SERVICE_GET_CHARGERS = "get_chargers"

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
        vol.Optional("mode"): vol.In([mode.value for mode in ChargeMode]),
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


def _device_id(hass: HomeAssistant, info: DeviceInfo) -> str | None:
    device = dr.async_get(hass).async_get_device(identifiers=info["identifiers"])
    return device.id if device is not None else None


async def _get_chargers(call: ServiceCall) -> ServiceResponse:
    """The site's chargers, connectors and loadpoints with their device and
    entity ids: what a client needs to act, without parsing any id format."""
    hass = call.hass
    entry = _site(hass, call.data.get(ATTR_CONFIG_ENTRY_ID))
    runtime = entry.runtime_data
    site, system, index = runtime.site, runtime.system, runtime.entities
    chargers: dict[str, Any] = {}
    for charger_id, charger in sorted(system.chargers.items()):
        if not system.is_approved(charger_id):
            continue
        charger_device = _device_id(hass, charger_device_info(entry.entry_id, charger))
        entities = index.chargers.get(charger_id, {})
        split = len(charger.connectors) > 1
        connectors = {
            str(number): {
                "device_id": _device_id(
                    hass, connector_device_info(entry.entry_id, charger, number)
                )
                if split
                else charger_device,
                "status": conn.status.value,
                "plugged": conn.plugged,
                "loadpoint": loadpoint_id(charger_id, number)
                if site.is_loadpoint(charger_id, number)
                else None,
                "entities": dict(sorted(entities.get(number, {}).items())),
            }
            for number, conn in sorted(charger.connectors.items())
            if number > 0
        }
        chargers[charger_id] = {
            "device_id": charger_device,
            "online": charger.online,
            "ocpp_version": (
                charger.ocpp_version.value if charger.ocpp_version else None
            ),
            "vendor": charger.info.vendor,
            "model": charger.info.model,
            "firmware": charger.info.firmware_version,
            "entities": dict(sorted(entities.get(0, {}).items())),
            "connectors": connectors,
        }
    loadpoints = {
        lp_id: {
            "charger_id": charger.charger_id,
            "connector_id": conn.connector_id,
            "device_id": _device_id(
                hass,
                loadpoint_device_info(
                    entry.entry_id, charger.charger_id, conn.connector_id
                ),
            ),
            "entities": dict(sorted(index.loadpoints.get(lp_id, {}).items())),
        }
        for lp_id, charger, conn in site.loadpoint_connectors()
    }
    return cast(
        JsonObjectType,
        {
            "site": {
                "config_entry_id": entry.entry_id,
                "name": entry.title,
                "voltage_v": site.voltage_v,
                "phases": site.snapshots.phases,
                "coordinates_evs": site.coordinates_evs,
                "entities": {
                    part: dict(sorted(keys.items()))
                    for part, keys in sorted(index.site.items())
                },
            },
            "chargers": chargers,
            "loadpoints": loadpoints,
        },
    )


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
    hass.services.async_register(
        DOMAIN,
        SERVICE_GET_CHARGERS,
        _get_chargers,
        schema=STATUS_SCHEMA,
        supports_response=SupportsResponse.ONLY,
    )
