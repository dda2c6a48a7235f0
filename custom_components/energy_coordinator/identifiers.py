"""The registry names of chargers, connectors and loadpoints, scoped by site.

Owns every format of the device identifiers and entity unique ids that belong to a
charger, and their migration. Each is prefixed with the config entry id, so two
sites that both accept a charger called `CP1` have two devices and two sets of
entities:

- charger device ``<entry>_charger_<charger>``, connector device
  ``<entry>_charger_<charger>/<connector>``;
- charger entity ``<entry>_charger_<charger>_<key>``, connector entity
  ``<entry>_charger_<charger>_<connector>_<key>``;
- loadpoint (EV) device ``<entry>_loadpoint_<charger>_<connector>``.

Before (config entry version 1.1) they carried no entry id: ``CP1``, ``CP1/2``,
``CP1_power``, ``CP1_2_power``, ``loadpoint_CP1_2``.
`async_migrate_registries` renames a site's registry entries in place (entity ids,
history and device ids stay).
"""

from __future__ import annotations

import logging

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er

from .const import DOMAIN

_LOGGER = logging.getLogger(__name__)


def charger_device_id(entry_id: str, charger_id: str) -> tuple[str, str]:
    """The identifier of a charger's device."""
    return (DOMAIN, f"{entry_id}_charger_{charger_id}")


def connector_device_id(
    entry_id: str, charger_id: str, connector_id: int
) -> tuple[str, str]:
    """The identifier of one connector's device (multi-connector chargers)."""
    return (DOMAIN, f"{entry_id}_charger_{charger_id}/{connector_id}")


def loadpoint_device_id(
    entry_id: str, charger_id: str, connector_id: int
) -> tuple[str, str]:
    """The identifier of the EV loadpoint of one charger connector."""
    return (DOMAIN, f"{entry_id}_loadpoint_{charger_id}_{connector_id}")


def charger_unique_id(
    entry_id: str, charger_id: str, connector_id: int | None, key: str
) -> str:
    """The unique id of a charger's entity (or of one of its connectors)."""
    scope = "" if connector_id is None else f"_{connector_id}"
    return f"{entry_id}_charger_{charger_id}{scope}_{key}"


def charger_of_device(entry_id: str, identifier: str) -> tuple[str, int | None] | None:
    """(charger id, connector id or None) of one of the site's charger devices."""
    prefix = f"{entry_id}_charger_"
    if not identifier.startswith(prefix):
        return None
    name = identifier.removeprefix(prefix)
    charger_id, slash, connector = name.rpartition("/")
    if slash and connector.isdigit():
        return charger_id, int(connector)
    return name, None


def is_loadpoint_device(entry_id: str, identifier: str) -> bool:
    """Whether an identifier is one of the site's loadpoint devices."""
    return identifier.startswith(f"{entry_id}_loadpoint_")


# Migration from 1.1 ---------------------------------------------------------------


def _legacy_device_identifier(entry_id: str, identifier: str) -> str | None:
    """The scoped form of an unscoped charger, connector or loadpoint identifier."""
    if identifier.startswith(f"{entry_id}_"):
        return None  # a site device, or already scoped
    if identifier.startswith("loadpoint_"):
        return f"{entry_id}_{identifier}"
    return f"{entry_id}_charger_{identifier}"


@callback
def async_migrate_registries(hass: HomeAssistant, entry_id: str) -> None:
    """Scope the site's charger entities and devices by its entry id.

    Entities of a charger keep their entity id (and so their history); devices
    keep their id, name, area and the entities on them. A device that two sites
    shared (both accepted the same charger id) stays with this site; the other
    site gets its own device when it loads.
    """
    entities = er.async_get(hass)
    for entity in er.async_entries_for_config_entry(entities, entry_id):
        if entity.platform != DOMAIN or entity.unique_id.startswith(f"{entry_id}_"):
            continue
        new_unique_id = f"{entry_id}_charger_{entity.unique_id}"
        if entities.async_get_entity_id(entity.domain, DOMAIN, new_unique_id):
            _LOGGER.warning(
                "Not migrating %s: %s exists", entity.entity_id, new_unique_id
            )
            continue
        entities.async_update_entity(entity.entity_id, new_unique_id=new_unique_id)

    devices = dr.async_get(hass)
    for device in dr.async_entries_for_config_entry(devices, entry_id):
        renamed = {
            (domain, _legacy_device_identifier(entry_id, ident) or ident)
            if domain == DOMAIN
            else (domain, ident)
            for domain, ident in device.identifiers
        }
        if renamed == device.identifiers:
            continue
        for other in device.config_entries - {entry_id}:
            devices.async_update_device(device.id, remove_config_entry_id=other)
        try:
            devices.async_update_device(device.id, new_identifiers=renamed)
        except dr.DeviceIdentifierCollisionError:
            _LOGGER.warning("Not migrating device %s: identifiers taken", device.name)
