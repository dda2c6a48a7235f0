"""Button entities of chargers, connectors and EV loadpoints.

Charger: reset (soft: the charger reboots when idle) and hard reset (immediate,
disabled by default). Connector: unlock the cable. EV loadpoint: clear the target
time (a date/time entity has no empty value; after this it shows unknown and the
vehicle has no deadline).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

from homeassistant.components.button import (
    ButtonDeviceClass,
    ButtonEntity,
    ButtonEntityDescription,
)
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .command_errors import command_errors
from .csms.commands import ResetKind
from .csms.link import ChargePointLink
from .csms.model import ChargerState
from .entity import ChargerEntity
from .entity_tracker import async_setup_tracked_entities
from .runtime import EnergyCoordinatorConfigEntry
from .site import SiteCoordinator
from .site_entity import LoadpointEntity

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class ChargerButtonEntityDescription(ButtonEntityDescription):
    """A button of a whole charger."""

    press_fn: Callable[[ChargePointLink], Awaitable[None]]


@dataclass(frozen=True, kw_only=True)
class ConnectorButtonEntityDescription(ButtonEntityDescription):
    """A button of one connector."""

    press_fn: Callable[[ChargePointLink, int], Awaitable[None]]


CHARGER_BUTTONS: tuple[ChargerButtonEntityDescription, ...] = (
    ChargerButtonEntityDescription(
        key="reset",
        device_class=ButtonDeviceClass.RESTART,
        entity_category=EntityCategory.CONFIG,
        press_fn=lambda link: link.reset(ResetKind.SOFT),
    ),
    ChargerButtonEntityDescription(
        key="hard_reset",
        translation_key="hard_reset",
        device_class=ButtonDeviceClass.RESTART,
        entity_category=EntityCategory.CONFIG,
        entity_registry_enabled_default=False,
        press_fn=lambda link: link.reset(ResetKind.HARD),
    ),
)

CONNECTOR_BUTTONS: tuple[ConnectorButtonEntityDescription, ...] = (
    ConnectorButtonEntityDescription(
        key="unlock",
        translation_key="unlock",
        press_fn=lambda link, connector_id: link.unlock(connector_id),
    ),
)

CLEAR_TARGET_TIME = ButtonEntityDescription(
    key="clear_target_time", translation_key="clear_target_time"
)
LOADPOINT_BUTTONS: tuple[ButtonEntityDescription, ...] = (CLEAR_TARGET_TIME,)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: EnergyCoordinatorConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the buttons of every charger and connector, now and later."""

    def charger_buttons(charger: ChargerState) -> Iterable[ChargerEntity]:
        return [
            ChargerButtonEntity(entry, charger, description)
            for description in CHARGER_BUTTONS
        ]

    def connector_buttons(
        charger: ChargerState, connector_id: int
    ) -> Iterable[ChargerEntity]:
        return [
            ConnectorButtonEntity(entry, charger, description, connector_id)
            for description in CONNECTOR_BUTTONS
        ]

    def loadpoint_buttons(
        site: SiteCoordinator, charger: ChargerState, connector_id: int
    ) -> Iterable[LoadpointEntity]:
        return [ClearTargetTimeButton(site, charger, connector_id, CLEAR_TARGET_TIME)]

    async_setup_tracked_entities(
        hass,
        entry,
        async_add_entities,
        charger_buttons,
        connector_buttons,
        loadpoint_buttons,
    )


class ChargerButtonEntity(ChargerEntity, ButtonEntity):
    """A button of a whole charger."""

    entity_description: ChargerButtonEntityDescription

    def shown(self) -> Any:
        """A button shows only when it was last pressed (written by HA)."""
        return None

    async def async_press(self) -> None:
        """Send the command."""
        with command_errors():
            link = self.system.link(self.charger.charger_id)
            await self.entity_description.press_fn(link)


class ConnectorButtonEntity(ChargerEntity, ButtonEntity):
    """A button of one connector."""

    entity_description: ConnectorButtonEntityDescription

    def shown(self) -> Any:
        """A button shows only when it was last pressed (written by HA)."""
        return None

    async def async_press(self) -> None:
        """Send the command."""
        assert self.connector_id is not None
        with command_errors():
            link = self.system.link(self.charger.charger_id)
            await self.entity_description.press_fn(link, self.connector_id)


class ClearTargetTimeButton(LoadpointEntity, ButtonEntity):
    """Removes the loadpoint's target time: no deadline until one is set."""

    def shown(self) -> Any:
        """A button shows only when it was last pressed (written by HA)."""
        return None

    def reported(self) -> bool:
        """Once the loadpoint charges to a target."""
        return self.site.plans_for(self.lp_id)

    async def async_press(self) -> None:
        """Clear the stored target time."""
        self.site.update_settings(self.lp_id, target_time=None)
