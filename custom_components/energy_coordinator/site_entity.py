"""Base classes, devices and readings of the site entities.

The site shows as devices under its config entry: the **site** itself (grid, limit,
coordinator), **solar**, **home battery** and **house load** (all via the site), and
one **EV loadpoint** per charger connector (via its charger's device). Solar and
battery devices exist only while their sources are configured.

Site entities are pushed: each follows `SiteCoordinator.add_listener` (after every
coordination or settings change) and, for mirrored measurements, the state changes of
its source entities; loadpoint entities also follow their charger. An entity writes
its state only when what it shows changed.

The readings here turn source entity states into the site's units and signs: power
in W (kW and other power units converted), battery power positive when charging.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from functools import cache
from typing import Any

from homeassistant.const import ATTR_UNIT_OF_MEASUREMENT, UnitOfPower
from homeassistant.core import (
    Event,
    EventStateChangedData,
    HomeAssistant,
    State,
    callback,
)
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.entity import Entity, EntityDescription
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.event import async_track_state_change_event
from homeassistant.util.unit_conversion import PowerConverter

from .const import (
    BATTERY_SIGN_DISCHARGING_POSITIVE,
    CONF_BATTERY_POWER,
    CONF_BATTERY_POWER_SIGN,
    CONF_BATTERY_SOC,
    CONF_GRID_POWER,
    CONF_HOUSE_POWER,
    CONF_PV_POWER,
    CONF_SITE_NAME,
    DEFAULT_SITE_NAME,
    DOMAIN,
    SIGNAL_NEW_CHARGER,
)
from .csms.model import ChargerState, ConnectorState
from .entity import charger_device_info
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
            manufacturer="Energy Coordinator",
            model="Site",
        )
    return DeviceInfo(
        identifiers={site_device_id(site.entry_id, part)},
        translation_key=part,
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


# Readings ---------------------------------------------------------------------


def number(state: State | None) -> float | None:
    """A state's finite numeric value, else None."""
    if state is None:
        return None
    try:
        value = float(state.state)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def power_w(state: State | None) -> float | None:
    """A power state in W (kW, MW, ... converted; no unit means W)."""
    value = number(state)
    if value is None or state is None:
        return None
    unit = state.attributes.get(ATTR_UNIT_OF_MEASUREMENT)
    if unit in PowerConverter.VALID_UNITS and unit != UnitOfPower.WATT:
        return PowerConverter.convert(value, unit, UnitOfPower.WATT)
    return value


def source(site: SiteCoordinator, key: str) -> State | None:
    """The state of a configured source entity."""
    entity_id = site.options.get(key)
    return site.hass.states.get(entity_id) if entity_id else None


def pv_w(site: SiteCoordinator) -> float | None:
    """PV production in W."""
    return power_w(source(site, CONF_PV_POWER))


def grid_w(site: SiteCoordinator) -> float | None:
    """Grid power in W, positive when importing."""
    return power_w(source(site, CONF_GRID_POWER))


def battery_soc(site: SiteCoordinator) -> float | None:
    """Home battery state of charge in %."""
    return number(source(site, CONF_BATTERY_SOC))


def battery_w(site: SiteCoordinator) -> float | None:
    """Home battery power in W, positive when charging."""
    value = power_w(source(site, CONF_BATTERY_POWER))
    if value is not None and (
        site.options.get(CONF_BATTERY_POWER_SIGN) == BATTERY_SIGN_DISCHARGING_POSITIVE
    ):
        return -value
    return value


def loadpoint_power_w(charger: ChargerState, conn: ConnectorState) -> float:
    """What a loadpoint draws: the meter's power during a session, else 0."""
    if not charger.online or conn.transaction is None:
        return 0.0
    return conn.meter.power_w or 0.0


def ev_w(site: SiteCoordinator) -> float:
    """What all loadpoints draw now, in W."""
    return sum(
        loadpoint_power_w(charger, conn)
        for _, charger, conn in site.loadpoint_connectors()
    )


def house_w(site: SiteCoordinator) -> tuple[float | None, bool]:
    """House consumption in W and whether it was derived.

    Measured when a house source is configured and readable; else derived as
    PV + grid - battery charging - EV power (at least 0), which needs PV and grid
    (and the battery power when a battery is configured).
    """
    measured = power_w(source(site, CONF_HOUSE_POWER))
    if measured is not None:
        return measured, False
    pv, grid = pv_w(site), grid_w(site)
    battery = battery_w(site) if site.options.get(CONF_BATTERY_POWER) else 0.0
    if pv is None or grid is None or battery is None:
        return None, False
    return max(0.0, pv + grid - battery - ev_w(site)), True


def surplus_w(site: SiteCoordinator) -> float | None:
    """What the site could still use without importing, in W.

    Export plus what the EVs and the battery draw now (a discharging battery counts
    negative): PV minus house consumption, as the coordinator sees it.
    """
    grid = grid_w(site)
    if grid is None:
        return None
    battery = battery_w(site) or 0.0
    return -grid + ev_w(site) + battery


def rounded(value: float | None, digits: int = 1) -> float | None:
    """`value` rounded for display, None stays None."""
    return None if value is None else round(value, digits)


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
    ) -> None:
        """Bind the entity to the site."""
        self.entity_description = description
        self.site = site
        self._attr_device_info = device_info
        self._attr_unique_id = unique_id
        self._last_shown: Any = None

    def shown(self) -> Any:
        """What the entity shows; a change triggers a state write."""
        return None

    def source_entity_ids(self) -> list[str]:
        """Entities whose state changes this entity follows."""
        return []

    async def async_added_to_hass(self) -> None:
        """Follow the coordinator and the source entities."""
        await super().async_added_to_hass()
        self._last_shown = (self.available, self.shown())
        self.async_on_remove(self.site.add_listener(self._refresh))
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

    async def async_added_to_hass(self) -> None:
        """Follow the charger too."""
        await super().async_added_to_hass()
        self.async_on_remove(self.charger.add_listener(self._refresh))


type LoadpointFactory = Callable[
    [SiteCoordinator, ChargerState, int], Iterable[LoadpointEntity]
]


@callback
def async_setup_loadpoints(
    hass: HomeAssistant,
    entry: EnergyCoordinatorConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
    factory: LoadpointFactory,
) -> None:
    """Add the platform's loadpoint entities for every connector, now and later.

    Like the charger platforms: chargers approved at load, chargers added later
    (`SIGNAL_NEW_CHARGER`) and connectors a charger reports later all get theirs.
    """
    site = entry.runtime_data.site
    system = site.system
    devices = dr.async_get(hass)
    if not site.coordinates_evs:
        return
    # charger id -> (charger object, connectors done, remove connector listener)
    tracked: dict[str, tuple[ChargerState, set[int], Callable[[], None]]] = {}

    @callback
    def add_connector(charger: ChargerState, done: set[int], connector_id: int) -> None:
        if connector_id < 1 or connector_id in done:
            return
        done.add(connector_id)
        # The charger device must exist before the loadpoint points to it.
        devices.async_get_or_create(
            config_entry_id=entry.entry_id,
            **charger_device_info(entry.entry_id, charger),
        )
        async_add_entities(list(factory(site, charger, connector_id)))

    @callback
    def add_charger(charger_id: str) -> None:
        charger = system.chargers.get(charger_id)
        if charger is None or not system.is_approved(charger_id):
            return
        known = tracked.get(charger_id)
        if known is not None:
            if known[0] is charger:
                return
            known[2]()  # removed and added again
        done: set[int] = set()
        remove = charger.add_connector_listener(
            lambda connector_id: add_connector(charger, done, connector_id)
        )
        tracked[charger_id] = (charger, done, remove)
        for connector_id in sorted(charger.connectors):
            add_connector(charger, done, connector_id)

    @callback
    def remove_listeners() -> None:
        for _, _, remove in tracked.values():
            remove()

    for charger_id in list(system.chargers):
        add_charger(charger_id)
    entry.async_on_unload(remove_listeners)
    entry.async_on_unload(
        async_dispatcher_connect(
            hass, SIGNAL_NEW_CHARGER.format(entry.entry_id), add_charger
        )
    )
