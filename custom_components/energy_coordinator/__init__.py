"""The Energy Coordinator integration: OCPP central system and site coordination.

Owns the config entry lifecycle: migrating stored settings, opening the session
store, starting and stopping the central system, forwarding the entity platforms, and
registering the actions.
"""

from __future__ import annotations

import logging
import ssl
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from homeassistant.const import EVENT_HOMEASSISTANT_STOP, Platform
from homeassistant.core import Event, HomeAssistant
from homeassistant.exceptions import ConfigEntryNotReady
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.typing import ConfigType

from .blueprint import async_install_blueprint
from .const import (
    CONF_CHARGER_PASSWORD,
    CONF_CHARGER_POLICY,
    CONF_GRID_LIMIT_UNIT,
    CONF_HEARTBEAT_INTERVAL,
    CONF_OCPP_HOST,
    CONF_OCPP_PORT,
    CONF_REMOTE_ID_TAG,
    CONF_SSL_CERTFILE,
    CONF_SSL_KEYFILE,
    CONF_TAG_POLICY,
    DEFAULT_HEARTBEAT_INTERVAL,
    DEFAULT_OCPP_PORT,
    DEFAULT_REMOTE_ID_TAG,
    DOMAIN,
    GRID_LIMIT_UNIT_AMPERE,
    GRID_LIMIT_UNIT_KILOWATT,
    OCPP_HOST,
    RESPONSE_TIMEOUT,
    SUBENTRY_FLEXIBLE_LOAD,
)
from .csms.server import CentralSystem, CentralSystemConfig, ChargerPolicy, TagPolicy
from .csms.sessions import SessionStore
from .runtime import EnergyCoordinatorConfigEntry, HassHooks, RuntimeData
from .services import async_setup_services
from .site import SiteCoordinator, site_store
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
    """Register the integration's actions."""
    async_setup_services(hass)
    async_setup_site_services(hass)
    return True


def build_ssl_context(certfile: str, keyfile: str) -> ssl.SSLContext:
    """TLS context for wss:// (security profile 2); blocking, run in an executor."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(certfile, keyfile)
    return context


def central_system_config(
    options: Mapping[str, Any], ssl_context: ssl.SSLContext | None
) -> CentralSystemConfig:
    """The central system settings of an entry."""
    return CentralSystemConfig(
        host=str(options.get(CONF_OCPP_HOST) or OCPP_HOST),
        port=int(options.get(CONF_OCPP_PORT, DEFAULT_OCPP_PORT)),
        ssl_context=ssl_context,
        password=str(options.get(CONF_CHARGER_PASSWORD) or "") or None,
        charger_policy=ChargerPolicy(options.get(CONF_CHARGER_POLICY, "ask")),
        tag_policy=TagPolicy(options.get(CONF_TAG_POLICY, "accept")),
        heartbeat_interval=int(
            options.get(CONF_HEARTBEAT_INTERVAL, DEFAULT_HEARTBEAT_INTERVAL)
        ),
        response_timeout=RESPONSE_TIMEOUT,
        remote_id_tag=str(options.get(CONF_REMOTE_ID_TAG) or DEFAULT_REMOTE_ID_TAG),
    )


#: Stored grid limit units before config entry minor version 2.
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
    """Bring an entry stored by an older release to the current version."""
    if entry.version > 1:
        # Written by a newer release: refuse rather than misread it.
        return False
    if entry.minor_version < 2:
        hass.config_entries.async_update_entry(
            entry,
            data=_migrate_grid_limit_unit(entry.data),
            options=_migrate_grid_limit_unit(entry.options),
            minor_version=2,
        )
        _LOGGER.debug("Migrated %s to version 1.2", entry.title)
    return True


async def async_setup_entry(
    hass: HomeAssistant, entry: EnergyCoordinatorConfigEntry
) -> bool:
    """Open the session store and start the central system."""
    options = {**entry.data, **entry.options}
    ssl_context: ssl.SSLContext | None = None
    if options.get(CONF_SSL_CERTFILE) and options.get(CONF_SSL_KEYFILE):
        try:
            ssl_context = await hass.async_add_executor_job(
                build_ssl_context,
                str(options[CONF_SSL_CERTFILE]),
                str(options[CONF_SSL_KEYFILE]),
            )
        except (OSError, ssl.SSLError) as err:
            raise ConfigEntryNotReady(
                translation_domain=DOMAIN,
                translation_key="invalid_certificate",
                translation_placeholders={"error": str(err)},
            ) from err

    store = SessionStore(session_db_path(hass, entry.entry_id))
    await store.open()
    system = CentralSystem(
        central_system_config(options, ssl_context),
        store,
        HassHooks(hass, entry.entry_id),
    )
    try:
        await system.load()
        await system.start()
    except OSError as err:
        await system.stop()
        await store.close()
        raise ConfigEntryNotReady(
            translation_domain=DOMAIN,
            translation_key="port_in_use",
            translation_placeholders={"port": str(system.config.port)},
        ) from err
    loads = [
        dict(subentry.data)
        for subentry in entry.subentries.values()
        if subentry.subentry_type == SUBENTRY_FLEXIBLE_LOAD
    ]
    site = SiteCoordinator(hass, entry.entry_id, options, loads, system)
    await site.async_load()
    entry.runtime_data = RuntimeData(system=system, store=store, site=site)
    async_remove_unused_loadpoint_devices(hass, entry)
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    entry.async_on_unload(site.async_shutdown)
    site.async_start_loop()

    async def _on_stop(event: Event) -> None:
        # HA does not unload entries at stop; close the store so its worker
        # thread does not hold up shutdown.
        await system.stop()
        await store.close()

    entry.async_on_unload(
        hass.bus.async_listen_once(EVENT_HOMEASSISTANT_STOP, _on_stop)
    )
    entry.async_on_unload(entry.add_update_listener(_async_options_updated))
    await async_install_blueprint(hass)
    return True


async def _async_options_updated(
    hass: HomeAssistant, entry: EnergyCoordinatorConfigEntry
) -> None:
    """Restart the central system with the new settings."""
    await hass.config_entries.async_reload(entry.entry_id)


async def async_unload_entry(
    hass: HomeAssistant, entry: EnergyCoordinatorConfigEntry
) -> bool:
    """Stop the central system and close the store."""
    unloaded = await hass.config_entries.async_unload_platforms(entry, PLATFORMS)
    if unloaded:
        await entry.runtime_data.system.stop()
        await entry.runtime_data.store.close()
    return unloaded


def session_db_path(hass: HomeAssistant, entry_id: str) -> Path:
    """Where a site keeps its sessions, chargers and tags."""
    return Path(hass.config.path(DOMAIN, f"{entry_id}.db"))


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
        if domain == DOMAIN and identifier in system.chargers:
            await system.forget(identifier)
    return True
