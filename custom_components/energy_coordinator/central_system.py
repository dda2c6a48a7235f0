"""An entry's central system (OCPP server and session store), across reloads.

Owns building the central system's settings from the entry (TLS context,
policies, heartbeat), opening the session store, starting the server, and
keeping both running across a reload that changed only the site's coordination
options (measurements, limits, actuators, flexible loads): the chargers stay
connected and their transactions open. Only a change of the central-system
options as the server sees them (`central_system_settings`: port, listen
address, TLS, password, policies, heartbeat, remote id tag) restarts the server.
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryError, ConfigEntryNotReady
from homeassistant.util.hass_dict import HassKey

from .const import (
    CONF_CHARGER_PASSWORD,
    CONF_CHARGER_POLICY,
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
    OCPP_HOST,
    RESPONSE_TIMEOUT,
)
from .csms.server import CentralSystem, CentralSystemConfig, ChargerPolicy, TagPolicy
from .csms.sessions import SessionStore, StoreVersionError
from .runtime import HassHooks


def central_system_settings(options: Mapping[str, Any]) -> tuple[Any, ...]:
    """What the running server depends on (a change restarts it).

    Compared as the server sees them: a form saved with the defaults it showed
    (an option stored for the first time) changes nothing.
    """
    return (
        central_system_config(options, None),
        options.get(CONF_SSL_CERTFILE) or None,
        options.get(CONF_SSL_KEYFILE) or None,
    )


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


def session_db_path(hass: HomeAssistant, entry_id: str) -> Path:
    """Where a site keeps its sessions, chargers and tags."""
    return Path(hass.config.path(DOMAIN, f"{entry_id}.db"))


@dataclass(slots=True)
class RunningCentralSystem:
    """A started server and its open store, with the settings it runs with."""

    system: CentralSystem
    store: SessionStore
    settings: tuple[Any, ...]

    async def close(self) -> None:
        """Stop the server and close the store."""
        await self.system.stop()
        await self.store.close()


@dataclass(slots=True)
class _Parking:
    """Servers kept running while their entry reloads."""

    parked: dict[str, RunningCentralSystem] = field(default_factory=dict)
    keep: set[str] = field(default_factory=set)


PARKING: HassKey[_Parking] = HassKey(f"{DOMAIN}_central_systems")


@callback
def async_setup_parking(hass: HomeAssistant) -> None:
    """Once per HA run: a parked server is closed when HA stops."""
    parking = hass.data[PARKING] = _Parking()

    async def close_parked(event: Event) -> None:
        for running in list(parking.parked.values()):
            await running.close()
        parking.parked.clear()

    hass.bus.async_listen_once("homeassistant_stop", close_parked)


async def async_start_central_system(
    hass: HomeAssistant, entry_id: str, options: Mapping[str, Any]
) -> RunningCentralSystem:
    """The entry's server: the one kept across its reload, or a new one."""
    parking = hass.data[PARKING]
    settings = central_system_settings(options)
    parked = parking.parked.pop(entry_id, None)
    if parked is not None:
        if parked.settings == settings:
            return parked
        await parked.close()
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
    store = SessionStore(session_db_path(hass, entry_id))
    try:
        await store.open()
    except StoreVersionError as err:
        await store.close()
        raise ConfigEntryError(
            translation_domain=DOMAIN,
            translation_key="database_too_new",
            translation_placeholders={"path": err.path, "version": str(err.version)},
        ) from err
    system = CentralSystem(
        central_system_config(options, ssl_context),
        store,
        HassHooks(hass, entry_id),
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
    return RunningCentralSystem(system, store, settings)


@callback
def async_keep_running(hass: HomeAssistant, entry_id: str) -> None:
    """The next unload of this entry keeps its server running (a reload follows)."""
    hass.data[PARKING].keep.add(entry_id)


async def async_stop_central_system(
    hass: HomeAssistant, entry_id: str, running: RunningCentralSystem
) -> None:
    """Stop the entry's server, or park it when a reload will pick it up."""
    parking = hass.data[PARKING]
    if entry_id in parking.keep:
        parking.keep.discard(entry_id)
        parking.parked[entry_id] = running
        return
    await running.close()
