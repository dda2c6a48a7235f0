"""Binary sensor entities of chargers and their connectors.

Charger: connected (the charger has an open connection and was heard from within
three heartbeat intervals; available even while the charger is offline, since being
offline is what it shows), with the OCPP version it speaks as an attribute.
Connector: cable plugged (whether it charges is the connector status).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from homeassistant.components.binary_sensor import (
    BinarySensorDeviceClass,
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .csms.model import ChargerState, ConnectorState, ConnectorStatus, OcppVersion
from .entity import ChargerEntity
from .entity_tracker import async_setup_tracked_entities
from .runtime import EnergyCoordinatorConfigEntry

PARALLEL_UPDATES = 0

#: The OCPP version as owners know it (the websocket subprotocol names it otherwise).
OCPP_VERSIONS = {OcppVersion.V16: "1.6", OcppVersion.V201: "2.0.1"}


def _known(conn: ConnectorState, value: bool) -> bool | None:
    """The value, or None while the connector's status was never reported."""
    if conn.status == ConnectorStatus.UNKNOWN and conn.transaction is None:
        return None
    return value


@dataclass(frozen=True, kw_only=True)
class ChargerBinarySensorEntityDescription(BinarySensorEntityDescription):
    """A binary sensor of a whole charger."""

    is_on_fn: Callable[[ChargerState], bool | None]
    attributes_fn: Callable[[ChargerState], dict[str, Any]] | None = None


@dataclass(frozen=True, kw_only=True)
class ConnectorBinarySensorEntityDescription(BinarySensorEntityDescription):
    """A binary sensor of one connector."""

    is_on_fn: Callable[[ConnectorState], bool | None]


CHARGER_BINARY_SENSORS: tuple[ChargerBinarySensorEntityDescription, ...] = (
    ChargerBinarySensorEntityDescription(
        key="connected",
        translation_key="connected",
        device_class=BinarySensorDeviceClass.CONNECTIVITY,
        entity_category=EntityCategory.DIAGNOSTIC,
        is_on_fn=lambda charger: charger.connected and charger.online,
        attributes_fn=lambda charger: {
            "ocpp_version": OCPP_VERSIONS[charger.ocpp_version]
            if charger.ocpp_version
            else None
        },
    ),
)

CONNECTOR_BINARY_SENSORS: tuple[ConnectorBinarySensorEntityDescription, ...] = (
    ConnectorBinarySensorEntityDescription(
        key="plugged",
        translation_key="plugged",
        device_class=BinarySensorDeviceClass.PLUG,
        is_on_fn=lambda conn: _known(conn, conn.plugged),
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: EnergyCoordinatorConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the binary sensors of every charger and connector, now and later."""

    def charger_sensors(charger: ChargerState) -> Iterable[ChargerEntity]:
        return [
            ChargerBinarySensorEntity(entry, charger, description)
            for description in CHARGER_BINARY_SENSORS
        ]

    def connector_sensors(
        charger: ChargerState, connector_id: int
    ) -> Iterable[ChargerEntity]:
        return [
            ConnectorBinarySensorEntity(entry, charger, description, connector_id)
            for description in CONNECTOR_BINARY_SENSORS
        ]

    async_setup_tracked_entities(
        hass, entry, async_add_entities, charger_sensors, connector_sensors
    )


class ChargerBinarySensorEntity(ChargerEntity, BinarySensorEntity):
    """A binary sensor of a whole charger; always available."""

    entity_description: ChargerBinarySensorEntityDescription

    @property
    def available(self) -> bool:
        """Connectivity is known while the charger is offline: it is off."""
        return True

    @property
    def is_on(self) -> bool | None:
        """The charger's value."""
        return self.entity_description.is_on_fn(self.charger)

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """Facts about the charger, e.g. the OCPP version it speaks."""
        attributes_fn = self.entity_description.attributes_fn
        return None if attributes_fn is None else attributes_fn(self.charger)

    def shown(self) -> Any:
        """The value and attributes."""
        return (self.is_on, self.extra_state_attributes)


class ConnectorBinarySensorEntity(ChargerEntity, BinarySensorEntity):
    """A binary sensor of one connector."""

    entity_description: ConnectorBinarySensorEntityDescription

    @property
    def is_on(self) -> bool | None:
        """The connector's value."""
        return self.entity_description.is_on_fn(self.connector)

    def shown(self) -> Any:
        """The value."""
        return self.is_on
