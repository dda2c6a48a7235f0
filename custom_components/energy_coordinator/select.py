"""Select entities of the home battery and the EV loadpoints.

Home battery: the battery command (auto, charge, discharge, hold), showing what the
coordinator commanded last. Choosing one publishes it as the command at once: the
command entities show it and the configured battery script runs with it (charge and
discharge at the battery's configured maximum power, when set). It is a one-off
command, not a lasting override: the next coordination decides again and, when it
decides differently, replaces it.

EV loadpoint: the charge mode (off, now, min + PV, PV) and the phases it may use
(automatic, 1 or 3), stored with the loadpoint's settings.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any

from homeassistant.components.select import SelectEntity, SelectEntityDescription
from homeassistant.const import ATTR_ENTITY_ID, EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import (
    CONF_BATTERY_MAX_CHARGE,
    CONF_BATTERY_MAX_DISCHARGE,
    CONF_BATTERY_SCRIPT,
)
from .csms.model import ChargerState
from .energy import BatteryMode, ChargeMode, PhaseSetting
from .entity_tracker import async_setup_tracked_entities
from .runtime import EnergyCoordinatorConfigEntry
from .site import LoadpointSettings, SiteCoordinator
from .site_entity import (
    BATTERY,
    LoadpointEntity,
    SiteEntity,
    async_ensure_site_devices,
    site_device_info,
)

PARALLEL_UPDATES = 0

BATTERY_COMMAND = SelectEntityDescription(
    key="battery_command",
    translation_key="battery_command",
    options=[mode.value for mode in BatteryMode],
)


@dataclass(frozen=True, kw_only=True)
class LoadpointSelectEntityDescription(SelectEntityDescription):
    """A setting of one EV loadpoint chosen from a list."""

    current_fn: Callable[[LoadpointSettings], str]
    #: The `LoadpointSettings` field it sets.
    field: str


LOADPOINT_SELECTS: tuple[LoadpointSelectEntityDescription, ...] = (
    LoadpointSelectEntityDescription(
        key="charge_mode",
        translation_key="charge_mode",
        options=[mode.value for mode in ChargeMode],
        field="mode",
        current_fn=lambda settings: settings.mode,
    ),
    LoadpointSelectEntityDescription(
        key="phases",
        translation_key="phases",
        # Set once per charger; hidden until enabled (lean for a garage).
        entity_registry_enabled_default=False,
        options=[phases.value for phases in PhaseSetting],
        entity_category=EntityCategory.CONFIG,
        field="phases",
        current_fn=lambda settings: settings.phases,
    ),
)

#: Every description of this platform (for the translation checks).
DESCRIPTIONS: tuple[SelectEntityDescription, ...] = (
    BATTERY_COMMAND,
    *LOADPOINT_SELECTS,
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: EnergyCoordinatorConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the battery command and every loadpoint's selects, now and later."""
    site = entry.runtime_data.site
    if BATTERY in async_ensure_site_devices(hass, entry):
        async_add_entities([BatteryCommandSelect(site, BATTERY_COMMAND)])

    def loadpoint_selects(
        site: SiteCoordinator, charger: ChargerState, connector_id: int
    ) -> Iterable[LoadpointEntity]:
        return [
            LoadpointSelectEntity(site, charger, connector_id, description)
            for description in LOADPOINT_SELECTS
        ]

    async_setup_tracked_entities(
        hass, entry, async_add_entities, loadpoint_entities=loadpoint_selects
    )


class BatteryCommandSelect(SiteEntity, SelectEntity):
    """The battery command; choosing one sends it as a one-off command."""

    def __init__(
        self, site: SiteCoordinator, description: SelectEntityDescription
    ) -> None:
        """Bind the select to the battery device."""
        super().__init__(
            site,
            description,
            site_device_info(site, BATTERY),
            f"{site.entry_id}_{description.key}",
            BATTERY,
        )

    @property
    def current_option(self) -> str | None:
        """The command in force."""
        return self.site.battery_command.mode

    def shown(self) -> Any:
        """The option."""
        return self.current_option

    async def async_select_option(self, option: str) -> None:
        """Publish the command and run the battery script with it."""
        site = self.site
        options = site.options
        power = 0.0
        if option == BatteryMode.CHARGE:
            power = float(options.get(CONF_BATTERY_MAX_CHARGE) or 0)
        elif option == BatteryMode.DISCHARGE:
            power = -float(options.get(CONF_BATTERY_MAX_DISCHARGE) or 0)
        command = replace(site.battery_command, mode=option, power_w=round(power))
        if script := options.get(CONF_BATTERY_SCRIPT):
            await self.hass.services.async_call(
                "script",
                "turn_on",
                {
                    ATTR_ENTITY_ID: script,
                    "variables": {"mode": command.mode, "power_w": command.power_w},
                },
                blocking=True,
            )
        site.set_battery_command(command)


class LoadpointSelectEntity(LoadpointEntity, SelectEntity):
    """A setting of one EV loadpoint chosen from a list."""

    entity_description: LoadpointSelectEntityDescription

    @property
    def current_option(self) -> str | None:
        """The stored setting."""
        return self.entity_description.current_fn(self.site.settings(self.lp_id))

    def shown(self) -> Any:
        """The option."""
        return self.current_option

    async def async_select_option(self, option: str) -> None:
        """Store the setting."""
        self.site.update_settings(self.lp_id, **{self.entity_description.field: option})
