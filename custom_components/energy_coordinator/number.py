"""Number entities of connectors: the maximum charging current.

Setting it sends a charging profile with a current limit for the connector (0 pauses
charging without ending the session); it shows the limit the charger last accepted.
On a loadpoint the site coordinates, the value becomes the loadpoint's cap (through
the site's `ChargerCommands`, as `set_current_limit` does).
The site's numbers (grid limit, EV loadpoint settings) are in `site_number`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from homeassistant.components.number import (
    NumberDeviceClass,
    NumberEntity,
    NumberEntityDescription,
    NumberMode,
)
from homeassistant.const import UnitOfElectricCurrent
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .command_errors import command_errors
from .csms.commands import ChargingLimit, LimitUnit
from .csms.model import ChargerState, ConnectorState
from .entity import ChargerEntity
from .entity_tracker import async_setup_tracked_entities
from .runtime import EnergyCoordinatorConfigEntry
from .site.commands import ChargerCommands
from .site_number import async_setup_site_numbers, loadpoint_numbers

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class ConnectorNumberEntityDescription(NumberEntityDescription):
    """A number of one connector."""

    value_fn: Callable[[ConnectorState], float | None]
    limit_unit: LimitUnit


CONNECTOR_NUMBERS: tuple[ConnectorNumberEntityDescription, ...] = (
    ConnectorNumberEntityDescription(
        key="max_current",
        translation_key="max_current",
        device_class=NumberDeviceClass.CURRENT,
        native_unit_of_measurement=UnitOfElectricCurrent.AMPERE,
        native_min_value=0,
        native_max_value=32,
        # The site writes limits in tenths of an ampere.
        native_step=0.1,
        mode=NumberMode.BOX,
        limit_unit=LimitUnit.AMPERE,
        value_fn=lambda conn: conn.current_limit_a,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: EnergyCoordinatorConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the numbers of every connector, and of the site."""

    commands = entry.runtime_data.site.commands

    def connector_numbers(
        charger: ChargerState, connector_id: int
    ) -> Iterable[ChargerEntity]:
        return [
            ConnectorNumberEntity(entry, charger, description, connector_id, commands)
            for description in CONNECTOR_NUMBERS
        ]

    async_setup_tracked_entities(
        hass,
        entry,
        async_add_entities,
        connector_entities=connector_numbers,
        loadpoint_entities=loadpoint_numbers,
    )
    async_setup_site_numbers(hass, entry, async_add_entities)


class ConnectorNumberEntity(ChargerEntity, NumberEntity):
    """A number of one connector."""

    entity_description: ConnectorNumberEntityDescription

    def __init__(
        self,
        entry: EnergyCoordinatorConfigEntry,
        charger: ChargerState,
        description: ConnectorNumberEntityDescription,
        connector_id: int,
        commands: ChargerCommands,
    ) -> None:
        """Bind the number to its connector and the site's commands."""
        super().__init__(entry, charger, description, connector_id)
        self.commands = commands
        self.connector_number = connector_id

    @property
    def native_value(self) -> float | None:
        """The limit the charger accepted last."""
        return self.entity_description.value_fn(self.connector)

    def shown(self) -> Any:
        """The value."""
        return self.native_value

    async def async_set_native_value(self, value: float) -> None:
        """Send the limit to the charger."""
        limit = ChargingLimit(
            value, self.entity_description.limit_unit, self.connector_number
        )
        with command_errors():
            await self.commands.set_limit(self.charger.charger_id, limit)
        self._charger_changed()
