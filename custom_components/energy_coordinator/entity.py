"""Base class of every charger entity, and the devices chargers appear as.

A charger is one device; when it has several connectors, each connector is a device
too (via the charger). Their identifiers and the entities' unique ids are scoped by
the site's config entry (see `identifiers`). Entities listen to their own charger's
`ChargerState` only and write their state when what they show changed, so a frame
from one charger never wakes another charger's entities and a repeated value writes
nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING, Any

from homeassistant.core import callback
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.entity import Entity, EntityDescription

from .csms.model import ChargerState, ConnectorState
from .csms.server import CentralSystem
from .entity_index import EntityIndex
from .identifiers import charger_device_id, charger_unique_id, connector_device_id

if TYPE_CHECKING:
    from .runtime import EnergyCoordinatorConfigEntry


def charger_device_info(entry_id: str, charger: ChargerState) -> DeviceInfo:
    """The device of a charger of a site, with vendor, model and firmware."""
    info = charger.info
    return _charger_device(
        entry_id,
        charger.charger_id,
        info.vendor,
        info.model,
        info.serial_number,
        info.firmware_version,
    )


def connector_device_info(
    entry_id: str, charger: ChargerState, connector_id: int
) -> DeviceInfo:
    """The device of one connector of a multi-connector charger."""
    info = charger.info
    return _connector_device(
        entry_id, charger.charger_id, connector_id, info.vendor, info.model
    )


# Every entity of a device shares one DeviceInfo (HA only reads it when an entity
# is added): with thousands of chargers, a copy per entity is megabytes. Cached by
# everything the info holds, so a charger with new firmware gets a new one.


@cache
def _charger_device(
    entry_id: str,
    charger_id: str,
    vendor: str | None,
    model: str | None,
    serial_number: str | None,
    firmware_version: str | None,
) -> DeviceInfo:
    return DeviceInfo(
        identifiers={charger_device_id(entry_id, charger_id)},
        name=charger_id,
        manufacturer=vendor,
        model=model,
        serial_number=serial_number,
        sw_version=firmware_version,
    )


@cache
def _connector_device(
    entry_id: str,
    charger_id: str,
    connector_id: int,
    vendor: str | None,
    model: str | None,
) -> DeviceInfo:
    return DeviceInfo(
        identifiers={connector_device_id(entry_id, charger_id, connector_id)},
        name=f"{charger_id} connector {connector_id}",
        manufacturer=vendor,
        model=model,
        via_device=charger_device_id(entry_id, charger_id),
    )


class ChargerEntity(Entity):
    """An entity of one charger, or of one of its connectors."""

    _attr_has_entity_name = True
    _attr_should_poll = False

    def __init__(
        self,
        entry: EnergyCoordinatorConfigEntry,
        charger: ChargerState,
        description: EntityDescription,
        connector_id: int | None = None,
    ) -> None:
        """Bind the entity to its site's charger (and connector)."""
        self.entity_description = description
        self.system: CentralSystem = entry.runtime_data.system
        self.charger = charger
        self.connector_id = connector_id
        self._attr_unique_id = charger_unique_id(
            entry.entry_id, charger.charger_id, connector_id, description.key
        )
        if connector_id is None or len(charger.connectors) <= 1:
            self._attr_device_info = charger_device_info(entry.entry_id, charger)
        else:
            self._attr_device_info = connector_device_info(
                entry.entry_id, charger, connector_id
            )
        self._last_shown: Any = None

    @property
    def connector(self) -> ConnectorState:
        """The connector this entity shows (connector 1 for charger entities)."""
        return self.charger.connector(self.connector_id or 1)

    @property
    def available(self) -> bool:
        """Available while the charger is heard from."""
        return self.charger.online

    def reported(self) -> bool:
        """Whether the charger has reported what this entity shows.

        Entities of optional measurands (SoC, temperature, ...) are only created
        once their charger reports them.
        """
        return True

    def shown(self) -> Any:
        """What the entity currently shows; a change triggers a state write.

        Subclasses return their value (and attributes) here.
        """
        return None

    async def async_added_to_hass(self) -> None:
        """Follow this charger's changes."""
        await super().async_added_to_hass()
        self._last_shown = (self.available, self.shown())
        remove: Callable[[], None] = self.charger.add_listener(self._charger_changed)
        self.async_on_remove(remove)
        if (entry := self.platform.config_entry) is not None:
            index: EntityIndex = entry.runtime_data.entities
            self.async_on_remove(
                index.add_charger(
                    self.charger.charger_id,
                    self.connector_id or 0,
                    self.entity_description.key,
                    self.entity_id,
                )
            )

    @callback
    def _charger_changed(self) -> None:
        current = (self.available, self.shown())
        if current != self._last_shown:
            self._last_shown = current
            self.async_write_ha_state()
