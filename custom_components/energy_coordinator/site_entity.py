"""Base classes and devices of the site entities.

The site shows as devices under its config entry: the **site** itself (grid, limit,
coordinator), **solar**, **home battery** and **house load** (all via the site), and
one **EV loadpoint** per charger connector (via its charger's device). Solar and
battery devices exist only while their sources are configured.

Site entities are pushed: each follows `SiteCoordinator.add_listener` (after every
coordination or site settings change) and, for mirrored measurements, the state
changes of its source entities. A loadpoint entity follows only its own loadpoint
(its settings) and its charger, so a coordination of a thousand loadpoints wakes
none of them. An entity writes its state only when what it shows changed. Readings
come from the site's one readings adapter (`site.readings.SourceReader`).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from homeassistant.core import (
    Event,
    EventStateChangedData,
    HomeAssistant,
    callback,
)
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.entity import Entity, EntityDescription
from homeassistant.helpers.event import async_track_state_change_event

from .const import (
    CONF_BATTERY_POWER,
    CONF_BATTERY_SOC,
    CONF_PV_POWER,
    CONF_SITE_NAME,
    DEFAULT_SITE_NAME,
    DOMAIN,
)
from .csms.model import ChargerState, ConnectorState
from .entity_index import EntityIndex
from .identifiers import (
    charger_device_id,
    is_loadpoint_device,
    loadpoint_device_id,
)
from .runtime import EnergyCoordinatorConfigEntry
from .site import SiteCoordinator, loadpoint_id

SITE = "site"
SOLAR = "solar"
BATTERY = "battery"
HOUSE = "house"

# Devices ----------------------------------------------------------------------


#: The site's own devices are made by the integration (shown in the device list).
MANUFACTURER = "Energy Coordinator"
PART_MODELS = {SOLAR: "PV system", BATTERY: "Home battery", HOUSE: "House load"}


def site_device_id(entry_id: str, part: str = SITE) -> tuple[str, str]:
    """The identifier of the site device or one of its parts."""
    return (DOMAIN, f"{entry_id}_{part}")


def has_solar(site: SiteCoordinator) -> bool:
    """Whether a PV power source is configured."""
    return bool(site.options.get(CONF_PV_POWER))


def has_battery(site: SiteCoordinator) -> bool:
    """Whether a battery SoC or power source is configured."""
    return bool(
        site.options.get(CONF_BATTERY_SOC) or site.options.get(CONF_BATTERY_POWER)
    )


def site_device_info(site: SiteCoordinator, part: str = SITE) -> DeviceInfo:
    """The site device (named after the site) or one of its parts."""
    if part == SITE:
        return DeviceInfo(
            identifiers={site_device_id(site.entry_id)},
            name=str(site.options.get(CONF_SITE_NAME) or DEFAULT_SITE_NAME),
            manufacturer=MANUFACTURER,
            model="Site",
        )
    return DeviceInfo(
        identifiers={site_device_id(site.entry_id, part)},
        translation_key=part,
        manufacturer=MANUFACTURER,
        model=PART_MODELS[part],
        via_device=site_device_id(site.entry_id),
    )


@cache
def loadpoint_device_info(
    entry_id: str, charger_id: str, connector_id: int
) -> DeviceInfo:
    """The EV loadpoint of one charger connector, via the charger's device.

    One shared dict per loadpoint (HA only reads it when an entity is added).
    """
    name = charger_id if connector_id == 1 else f"{charger_id}/{connector_id}"
    return DeviceInfo(
        identifiers={loadpoint_device_id(entry_id, charger_id, connector_id)},
        translation_key="loadpoint",
        translation_placeholders={"loadpoint": name},
        manufacturer=MANUFACTURER,
        model="EV loadpoint",
        via_device=charger_device_id(entry_id, charger_id),
    )


@callback
def async_ensure_site_devices(
    hass: HomeAssistant, entry: EnergyCoordinatorConfigEntry
) -> list[str]:
    """Create the site's devices (site first) and drop parts no longer configured.

    Returns the parts that exist (the site always). Idempotent: every site platform
    calls it.
    """
    site = entry.runtime_data.site
    devices = dr.async_get(hass)
    devices.async_get_or_create(
        config_entry_id=entry.entry_id, **site_device_info(site)
    )
    parts = {SOLAR: has_solar(site), BATTERY: has_battery(site), HOUSE: True}
    present = [SITE]
    for part, configured in parts.items():
        if configured:
            devices.async_get_or_create(
                config_entry_id=entry.entry_id, **site_device_info(site, part)
            )
            present.append(part)
        elif device := devices.async_get_device({site_device_id(entry.entry_id, part)}):
            devices.async_update_device(
                device.id, remove_config_entry_id=entry.entry_id
            )
    return present


@callback
def async_remove_unused_loadpoint_devices(
    hass: HomeAssistant, entry: EnergyCoordinatorConfigEntry
) -> None:
    """Drop the EV devices of a site that no longer measures grid or PV power."""
    if entry.runtime_data.site.coordinates_evs:
        return
    devices = dr.async_get(hass)
    for device in dr.async_entries_for_config_entry(devices, entry.entry_id):
        if any(
            domain == DOMAIN and is_loadpoint_device(entry.entry_id, identifier)
            for domain, identifier in device.identifiers
        ):
            devices.async_update_device(
                device.id, remove_config_entry_id=entry.entry_id
            )


# Entities ---------------------------------------------------------------------


class SiteEntity(Entity):
    """An entity of the site: follows the coordinator and its source entities."""

    _attr_has_entity_name = True
    _attr_should_poll = False

    def __init__(
        self,
        site: SiteCoordinator,
        description: EntityDescription,
        device_info: DeviceInfo,
        unique_id: str,
        part: str = SITE,
    ) -> None:
        """Bind the entity to the site (`part`: the device it is on)."""
        self.entity_description = description
        self.site = site
        self.part = part
        self._attr_device_info = device_info
        self._attr_unique_id = unique_id
        self._last_shown: Any = None

    def shown(self) -> Any:
        """What the entity shows; a change triggers a state write."""
        return None

    def source_entity_ids(self) -> list[str]:
        """Entities whose state changes this entity follows."""
        return []

    def _follow_site(self) -> Callable[[], None]:
        return self.site.add_listener(self._refresh)

    def _index(self, index: EntityIndex) -> Callable[[], None]:
        return index.add_site(self.part, self.entity_description.key, self.entity_id)

    async def async_added_to_hass(self) -> None:
        """Follow the coordinator and the source entities."""
        await super().async_added_to_hass()
        self._last_shown = (self.available, self.shown())
        self.async_on_remove(self._follow_site())
        if (entry := self.platform.config_entry) is not None:
            self.async_on_remove(self._index(entry.runtime_data.entities))
        if sources := self.source_entity_ids():
            self.async_on_remove(
                async_track_state_change_event(self.hass, sources, self._source_changed)
            )

    @callback
    def _source_changed(self, event: Event[EventStateChangedData]) -> None:
        self._refresh()

    @callback
    def _refresh(self) -> None:
        current = (self.available, self.shown())
        if current != self._last_shown:
            self._last_shown = current
            self.async_write_ha_state()


class LoadpointEntity(SiteEntity):
    """An entity of one EV loadpoint (a charger connector)."""

    #: Settings stay available while the charger is offline; measurements do not.
    _follows_charger_availability = False
    #: Whether what it shows comes from the charger (settings do not: they never
    #: wake on a meter report).
    _follows_charger = False

    def __init__(
        self,
        site: SiteCoordinator,
        charger: ChargerState,
        connector_id: int,
        description: EntityDescription,
    ) -> None:
        """Bind the entity to its loadpoint."""
        super().__init__(
            site,
            description,
            loadpoint_device_info(site.entry_id, charger.charger_id, connector_id),
            f"{site.entry_id}_loadpoint_{charger.charger_id}_{connector_id}_"
            f"{description.key}",
        )
        self.charger = charger
        self.connector_id = connector_id
        self.lp_id = loadpoint_id(charger.charger_id, connector_id)

    @property
    def connector(self) -> ConnectorState:
        """The connector of this loadpoint."""
        return self.charger.connector(self.connector_id)

    @property
    def available(self) -> bool:
        """Settings always; measurements while the charger is heard from."""
        return not self._follows_charger_availability or self.charger.online

    def reported(self) -> bool:
        """Whether the loadpoint needs this entity yet.

        Entities for charging to a target (target time, target SoC, the vehicle's
        SoC) are created only when the loadpoint uses them: a garage of cars in
        *now* mode does without thousands of them. The entity tracker adds an
        entity that is not needed yet once it is (or at once when it was
        registered before).
        """
        return True

    def _follow_site(self) -> Callable[[], None]:
        return self.site.add_listener(self._refresh, self.lp_id)

    def _index(self, index: EntityIndex) -> Callable[[], None]:
        return index.add_loadpoint(
            self.lp_id, self.entity_description.key, self.entity_id
        )

    async def async_added_to_hass(self) -> None:
        """Follow the charger too, when it shows what the charger reports."""
        await super().async_added_to_hass()
        if self._follows_charger or self._follows_charger_availability:
            self.async_on_remove(self.charger.add_listener(self._refresh))
