"""Switch entities of connectors: charge, and availability.

Charge: on starts a transaction remotely with the site's remote id tag, off stops
the running one; it is on while a transaction runs (as the charger reports it, not
optimistically). Availability: makes the connector operative or inoperative.
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
from .csms.link import ChargePointLink
from .csms.model import ChargerState, ConnectorState
from .csms.server import CentralSystem
from .entity import ChargerEntity
from .platform_setup import async_setup_charger_platform
from .runtime import EnergyCoordinatorConfigEntry

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class ConnectorSwitchEntityDescription(SwitchEntityDescription):
    """A switch of one connector."""

    is_on_fn: Callable[[ConnectorState], bool]
    #: Sends the command: (system, link, connector id, on) -> awaitable.
    set_fn: Callable[[CentralSystem, ChargePointLink, int, bool], Awaitable[None]]


def _set_charging(
    system: CentralSystem, link: ChargePointLink, connector_id: int, on: bool
) -> Awaitable[None]:
    if on:
        return link.start_charging(connector_id, system.config.remote_id_tag)
    return link.stop_charging(connector_id)


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
        set_fn=lambda _system, link, connector_id, on: link.set_availability(
            connector_id, on
        ),
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: EnergyCoordinatorConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the switches of every connector, now and later."""

    def connector_switches(
        charger: ChargerState, connector_id: int
    ) -> Iterable[ChargerEntity]:
        return [
            ConnectorSwitchEntity(entry, charger, description, connector_id)
            for description in CONNECTOR_SWITCHES
        ]

    async_setup_charger_platform(
        hass, entry, async_add_entities, connector_entities=connector_switches
    )


class ConnectorSwitchEntity(ChargerEntity, SwitchEntity):
    """A switch of one connector."""

    entity_description: ConnectorSwitchEntityDescription

    @property
    def is_on(self) -> bool:
        """The connector's state."""
        return self.entity_description.is_on_fn(self.connector)

    def shown(self) -> Any:
        """The state."""
        return self.is_on

    async def _async_set(self, on: bool) -> None:
        assert self.connector_id is not None
        with command_errors():
            link = self.system.link(self.charger.charger_id)
            await self.entity_description.set_fn(
                self.system, link, self.connector_id, on
            )
        self._charger_changed()

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Start charging / make the connector operative."""
        await self._async_set(True)

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Stop charging / make the connector inoperative."""
        await self._async_set(False)
