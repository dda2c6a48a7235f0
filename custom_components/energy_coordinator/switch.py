"""Switch entities of connectors: charge, and availability.

Charge: on starts a transaction remotely with the site's remote id tag, off stops
the running one; it is on while a transaction runs (as the charger reports it, not
optimistically). On a loadpoint the site coordinates, it goes through the site's
`ChargerCommands` like the actions do: off also sets the charge mode to off, on
sets a loadpoint that is off to now. Availability: makes the connector operative
or inoperative.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

from homeassistant.components.switch import SwitchEntity, SwitchEntityDescription
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .command_errors import command_errors
from .csms.model import ChargerState, ConnectorState
from .entity import ChargerEntity
from .entity_tracker import async_setup_tracked_entities
from .runtime import EnergyCoordinatorConfigEntry
from .site.commands import ChargerCommands

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class ConnectorSwitchEntityDescription(SwitchEntityDescription):
    """A switch of one connector."""

    is_on_fn: Callable[[ConnectorState], bool]
    #: Sends the command: (entity, on) -> awaitable.
    set_fn: Callable[[ConnectorSwitchEntity, bool], Awaitable[Any]]


def _set_charging(entity: ConnectorSwitchEntity, on: bool) -> Awaitable[Any]:
    charger_id, connector_id = entity.charger.charger_id, entity.connector_number
    if on:
        return entity.commands.start(
            charger_id, connector_id, entity.system.config.remote_id_tag
        )
    return entity.commands.stop(charger_id, connector_id)


def _set_availability(entity: ConnectorSwitchEntity, on: bool) -> Awaitable[None]:
    link = entity.system.link(entity.charger.charger_id)
    return link.set_availability(entity.connector_number, on)


CONNECTOR_SWITCHES: tuple[ConnectorSwitchEntityDescription, ...] = (
    ConnectorSwitchEntityDescription(
        key="charge",
        translation_key="charge",
        is_on_fn=lambda conn: conn.transaction is not None,
        set_fn=_set_charging,
    ),
    ConnectorSwitchEntityDescription(
        key="availability",
        entity_registry_enabled_default=False,
        translation_key="availability",
        entity_category=EntityCategory.CONFIG,
        is_on_fn=lambda conn: conn.available,
        set_fn=_set_availability,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: EnergyCoordinatorConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the switches of every connector, now and later."""
    commands = entry.runtime_data.site.commands

    def connector_switches(
        charger: ChargerState, connector_id: int
    ) -> Iterable[ChargerEntity]:
        return [
            ConnectorSwitchEntity(entry, charger, description, connector_id, commands)
            for description in CONNECTOR_SWITCHES
        ]

    async_setup_tracked_entities(
        hass, entry, async_add_entities, connector_entities=connector_switches
    )


class ConnectorSwitchEntity(ChargerEntity, SwitchEntity):
    """A switch of one connector."""

    entity_description: ConnectorSwitchEntityDescription

    def __init__(
        self,
        entry: EnergyCoordinatorConfigEntry,
        charger: ChargerState,
        description: ConnectorSwitchEntityDescription,
        connector_id: int,
        commands: ChargerCommands,
    ) -> None:
        """Bind the switch to its connector and the site's commands."""
        super().__init__(entry, charger, description, connector_id)
        self.commands = commands
        self.connector_number = connector_id

    @property
    def is_on(self) -> bool:
        """The connector's state."""
        return self.entity_description.is_on_fn(self.connector)

    def shown(self) -> Any:
        """The state."""
        return self.is_on

    async def _async_set(self, on: bool) -> None:
        with command_errors():
            await self.entity_description.set_fn(self, on)
        self._charger_changed()

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Start charging / make the connector operative."""
        await self._async_set(True)

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Stop charging / make the connector inoperative."""
        await self._async_set(False)
