"""The Energy Coordinator integration: OCPP central system and site coordination.

Owns the config entry lifecycle: the central system (`central_system`, kept running
across a reload that changed only coordination options), the site and its horizon
planner, forwarding the entity platforms, and registering the actions and (once per
HA run) the Lovelace cards (`cards`) and the heap freeze of a large site (`heap`).
"""

from __future__ import annotations

import datetime as dt  # not `from datetime import datetime`: `.datetime` is a platform
import logging
from collections.abc import Mapping
from typing import Any

from homeassistant.const import EVENT_HOMEASSISTANT_STOP, Platform
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.event import async_track_time_interval
from homeassistant.helpers.typing import ConfigType

from .blueprint import async_install_blueprint
from .cards import async_setup_cards
from .central_system import (
    async_keep_running,
    async_setup_parking,
    async_start_central_system,
    async_stop_central_system,
    central_system_settings,
    session_db_path,
)
from .const import (
    CONF_GRID_LIMIT_UNIT,
    DOMAIN,
    GRID_LIMIT_UNIT_AMPERE,
    GRID_LIMIT_UNIT_KILOWATT,
    SIGNAL_NEW_CHARGER,
    SUBENTRY_FLEXIBLE_LOAD,
)
from .heap import HEAP, TICK_S, HeapFreeze
from .identifiers import async_migrate_registries, charger_of_device
from .plan_services import async_setup_plan_services
from .runtime import EnergyCoordinatorConfigEntry, RuntimeData
from .services import async_setup_services
from .site import SiteCoordinator, site_store
from .site.planning import SitePlanner
from .site_entity import async_remove_unused_loadpoint_devices
from .site_services import async_setup_site_services

_LOGGER = logging.getLogger(__name__)

PLATFORMS: list[Platform] = [
    Platform.BINARY_SENSOR,
    Platform.BUTTON,
    Platform.DATETIME,
    Platform.NUMBER,
    Platform.SELECT,
    Platform.SENSOR,
    Platform.SWITCH,
]

CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the integration's actions and its Lovelace cards."""
    async_setup_parking(hass)
    _async_setup_heap(hass)
    async_setup_cards(hass)
    async_setup_services(hass)
    async_setup_site_services(hass)
    async_setup_plan_services(hass)
    return True


@callback
def _async_setup_heap(hass: HomeAssistant) -> None:
    """Once per HA run: the heap freeze, renewed when due, lifted at stop."""
    heap = hass.data[HEAP] = HeapFreeze(hass.loop.call_later)
    heap.start()

    @callback
    def tick(now: dt.datetime) -> None:
        heap.tick()

    cancel = async_track_time_interval(
        hass, tick, dt.timedelta(seconds=TICK_S), name="energy_coordinator heap"
    )

    @callback
    def stop(event: Event) -> None:
        cancel()
        heap.stop()

    hass.bus.async_listen_once(EVENT_HOMEASSISTANT_STOP, stop)


@callback
def _async_watch_heap(hass: HomeAssistant, entry: EnergyCoordinatorConfigEntry) -> None:
    """The entry's chargers count towards the heap freeze until it unloads."""
    heap = hass.data[HEAP]
    system = entry.runtime_data.system
    heap.watch(
        entry.entry_id,
        chargers=lambda: len(system.chargers),
        opened=lambda: system.connections_opened,
        closed=lambda: system.connections_closed,
    )

    @callback
    def charger_added(charger_id: str) -> None:
        heap.update()

    entry.async_on_unload(
        async_dispatcher_connect(
            hass, SIGNAL_NEW_CHARGER.format(entry.entry_id), charger_added
        )
    )
    entry.async_on_unload(lambda: heap.unwatch(entry.entry_id))


async def async_setup_entry(
    hass: HomeAssistant, entry: EnergyCoordinatorConfigEntry
) -> bool:
    """Start (or take back) the central system, then the site and its entities."""
    options = {**entry.data, **entry.options}
    running = await async_start_central_system(hass, entry.entry_id, options)
    system, store = running.system, running.store
    loads = [
        dict(subentry.data)
        for subentry in entry.subentries.values()
        if subentry.subentry_type == SUBENTRY_FLEXIBLE_LOAD
    ]
    site = SiteCoordinator(hass, entry.entry_id, options, loads, system)
    await site.async_load()
    entry.runtime_data = RuntimeData(
        system=system, store=store, site=site, central=running
    )
    planner = None
    if site.coordinates_evs:
        planner = SitePlanner(hass, site, entry.runtime_data.entities)
        entry.runtime_data.planner = planner
        site.plan_targets = planner.targets_at
    _async_watch_heap(hass, entry)
    async_remove_unused_loadpoint_devices(hass, entry)
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    entry.async_on_unload(site.async_shutdown)
    if planner is not None:
        entry.async_on_unload(planner.async_shutdown)
        planner.async_start()
    site.async_start_loop()

    async def _on_stop(event: Event) -> None:
        # HA does not unload entries at stop; close the store so its worker
        # thread does not hold up shutdown.
        await running.close()

    entry.async_on_unload(
        hass.bus.async_listen_once(EVENT_HOMEASSISTANT_STOP, _on_stop)
    )
    entry.async_on_unload(entry.add_update_listener(_async_options_updated))
    await async_install_blueprint(hass)
    return True


async def _async_options_updated(
    hass: HomeAssistant, entry: EnergyCoordinatorConfigEntry
) -> None:
    """Reload with the new options; the OCPP server only restarts for its own.

    A change of the site's coordination options keeps the chargers connected
    and their sessions open across the reload.
    """
    options = {**entry.data, **entry.options}
    if central_system_settings(options) == entry.runtime_data.central.settings:
        async_keep_running(hass, entry.entry_id)
    await hass.config_entries.async_reload(entry.entry_id)


async def async_unload_entry(
    hass: HomeAssistant, entry: EnergyCoordinatorConfigEntry
) -> bool:
    """Stop the central system and close the store."""
    unloaded = await hass.config_entries.async_unload_platforms(entry, PLATFORMS)
    if unloaded:
        entry.runtime_data.site.repairs.clear_all()
        await async_stop_central_system(
            hass, entry.entry_id, entry.runtime_data.central
        )
    return unloaded


async def async_remove_entry(
    hass: HomeAssistant, entry: EnergyCoordinatorConfigEntry
) -> None:
    """A deleted site takes its session database and stored settings with it."""
    database = session_db_path(hass, entry.entry_id)

    def remove_database() -> None:
        for suffix in ("", "-wal", "-shm"):
            database.with_name(database.name + suffix).unlink(missing_ok=True)

    await hass.async_add_executor_job(remove_database)
    await site_store(hass, entry.entry_id).async_remove()


async def async_remove_config_entry_device(
    hass: HomeAssistant,
    entry: EnergyCoordinatorConfigEntry,
    device_entry: dr.DeviceEntry,
) -> bool:
    """Let the owner delete a charger device; it must ask again to be added."""
    system = entry.runtime_data.system
    for domain, identifier in device_entry.identifiers:
        found = charger_of_device(entry.entry_id, identifier)
        if domain != DOMAIN or found is None:
            continue
        charger_id, connector_id = found
        if connector_id is None and charger_id in system.chargers:
            await system.forget(charger_id)
            # Its entities' cycles may be frozen: the next full collection frees them.
            heap = hass.data[HEAP]
            heap.update()
            heap.reclaim()
    return True


#: Stored grid limit units before config entry version 1.3.
_LEGACY_GRID_LIMIT_UNITS = {"A": GRID_LIMIT_UNIT_AMPERE, "kW": GRID_LIMIT_UNIT_KILOWATT}


def _migrate_grid_limit_unit(values: Mapping[str, Any]) -> dict[str, Any]:
    migrated = dict(values)
    unit = migrated.get(CONF_GRID_LIMIT_UNIT)
    if isinstance(unit, str) and unit in _LEGACY_GRID_LIMIT_UNITS:
        migrated[CONF_GRID_LIMIT_UNIT] = _LEGACY_GRID_LIMIT_UNITS[unit]
    return migrated


async def async_migrate_entry(
    hass: HomeAssistant, entry: EnergyCoordinatorConfigEntry
) -> bool:
    """Bring an entry of an older release up to the current version.

    1.1 -> 1.2: charger entities and devices are scoped by the entry (two sites
    may accept chargers of the same id).
    1.2 -> 1.3: the grid limit unit is stored as its translation key ("ampere",
    "kilowatt"; it was "A", "kW").
    """
    if entry.version > 1:
        return False  # a newer release's entry
    if entry.minor_version < 2:
        async_migrate_registries(hass, entry.entry_id)
        hass.config_entries.async_update_entry(entry, minor_version=2)
        _LOGGER.info("Scoped the charger devices and entities of %s", entry.title)
    if entry.minor_version < 3:
        hass.config_entries.async_update_entry(
            entry,
            data=_migrate_grid_limit_unit(entry.data),
            options=_migrate_grid_limit_unit(entry.options),
            minor_version=3,
        )
        _LOGGER.debug("Stored the grid limit unit of %s as its key", entry.title)
    return True
