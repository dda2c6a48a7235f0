"""Diagnostics download: settings, chargers, the plan and the heap freeze, secrets
redacted."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr

from .const import CONF_CHARGER_PASSWORD, DOMAIN
from .csms.model import ChargerState
from .heap import HEAP
from .identifiers import charger_of_device
from .runtime import EnergyCoordinatorConfigEntry
from .site.plan_view import plan_response

TO_REDACT = {
    CONF_CHARGER_PASSWORD,
    "serial_number",
    "meter_serial_number",
    "iccid",
    "imsi",
    "id_tag",
    "last_session_id_tag",
}
#: Configuration keys whose values are secrets (1.6 keys and 2.0.1 variables).
SECRET_KEY_PARTS = ("password", "authorizationkey", "basicauth", "secret", "token")


def _redact_configuration(configuration: dict[str, str]) -> dict[str, str]:
    return {
        key: "**REDACTED**"
        if any(part in key.lower() for part in SECRET_KEY_PARTS)
        else value
        for key, value in configuration.items()
    }


def _charger(charger: ChargerState) -> dict[str, Any]:
    connectors = {}
    for connector_id, conn in sorted(charger.connectors.items()):
        data = asdict(conn)
        if conn.transaction is not None:
            data["transaction"] = {
                "transaction_id": conn.transaction.transaction_id,
                "start_time": conn.transaction.start_time.isoformat(),
                "energy_wh": conn.transaction.energy_wh,
            }
        connectors[str(connector_id)] = data
    return async_redact_data(
        {
            "charger_id": charger.charger_id,
            "ocpp_version": charger.ocpp_version,
            "connected": charger.connected,
            "online": charger.online,
            "registration": charger.registration,
            "status": charger.status,
            "error_code": charger.error_code,
            "info": asdict(charger.info),
            "last_seen": charger.last_seen,
            "last_boot": charger.last_boot,
            "firmware_status": charger.firmware_status,
            "diagnostics_status": charger.diagnostics_status,
            "supports_local_list": charger.supports_local_list,
            "supports_smart_charging": charger.supports_smart_charging,
            "limits_refused": charger.limits_refused,
            "link_epoch": charger.link_epoch,
            "configuration": _redact_configuration(charger.configuration),
            "connectors": connectors,
        },
        TO_REDACT,
    )


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: EnergyCoordinatorConfigEntry
) -> dict[str, Any]:
    """Settings, every charger of the site and the horizon plan (no slots)."""
    system = entry.runtime_data.system
    planner = entry.runtime_data.planner
    return {
        "entry": {
            "data": async_redact_data(dict(entry.data), TO_REDACT),
            "options": async_redact_data(dict(entry.options), TO_REDACT),
        },
        "id_tags": len(system.tags),
        "chargers": {cid: _charger(c) for cid, c in sorted(system.chargers.items())},
        "plan": None
        if planner is None
        else plan_response(
            planner.result, planner.options, hass.config.currency, with_slots=False
        ),
        "heap_freeze": hass.data[HEAP].as_dict(),
    }


async def async_get_device_diagnostics(
    hass: HomeAssistant, entry: EnergyCoordinatorConfigEntry, device: dr.DeviceEntry
) -> dict[str, Any]:
    """One charger."""
    system = entry.runtime_data.system
    for domain, identifier in device.identifiers:
        found = charger_of_device(entry.entry_id, identifier)
        if domain == DOMAIN and found is not None and found[0] in system.chargers:
            return _charger(system.chargers[found[0]])
    return {}
