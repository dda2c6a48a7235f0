"""Set-up and unload of a site, and what stops it from starting."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import sqlite3
from contextlib import closing
from pathlib import Path

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import EVENT_HOMEASSISTANT_STOP
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.typing import WebSocketGenerator
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from custom_components.energy_coordinator import session_db_path
from custom_components.energy_coordinator.csms.sessions import SCHEMA_VERSION
from custom_components.energy_coordinator.identifiers import charger_device_id
from tests.fake_charge_point import V16, FakeChargePoint, fake_charger, wait_until

from .conftest import SetupSite, ocpp_url
from .test_config_flow import _self_signed


def _listening(port: int) -> bool:
    """Whether something listens on the port on every interface."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("0.0.0.0", port))
        except OSError:
            return True
    return False


async def test_setup_and_unload(hass: HomeAssistant, setup_site: SetupSite) -> None:
    """The site starts its OCPP server and stops it on unload."""
    entry = await setup_site()
    system = entry.runtime_data.system
    assert system.port == entry.data["ocpp_port"]
    assert _listening(system.port)
    assert await hass.config_entries.async_unload(entry.entry_id)
    assert entry.state is ConfigEntryState.NOT_LOADED
    assert not _listening(entry.data["ocpp_port"])


async def test_port_taken_at_start_is_retried(
    hass: HomeAssistant, setup_site: SetupSite
) -> None:
    """A port taken by something else leaves the site retrying, with the reason."""
    entry = await setup_site()
    port = entry.runtime_data.system.port
    assert await hass.config_entries.async_unload(entry.entry_id)
    with socket.socket() as busy:
        busy.bind(("0.0.0.0", port))
        busy.listen()
        assert not await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
        assert entry.state is ConfigEntryState.SETUP_RETRY
        assert entry.reason is not None
        assert f"The OCPP port {port} is already in use" in entry.reason
        assert await hass.config_entries.async_unload(entry.entry_id)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert entry.runtime_data.system.port == port


async def test_certificate_gone_at_start_is_retried(
    hass: HomeAssistant, setup_site: SetupSite, tmp_path: Path
) -> None:
    """A certificate that no longer loads keeps the site from starting in plain ws."""
    certfile, keyfile = _self_signed(tmp_path)
    entry = await setup_site(ssl_certfile=certfile, ssl_keyfile=keyfile)
    port = entry.runtime_data.system.port
    assert await hass.config_entries.async_unload(entry.entry_id)
    Path(keyfile).write_text("no longer a key")
    assert not await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.SETUP_RETRY
    assert entry.reason is not None
    assert entry.reason.startswith("The TLS certificate could not be loaded:")
    assert not _listening(port)
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_home_assistant_stop_closes_the_server(
    hass: HomeAssistant, setup_site: SetupSite
) -> None:
    """At HA's stop the OCPP server and the session store close (no hang)."""
    entry = await setup_site()
    port = entry.runtime_data.system.port
    hass.bus.async_fire(EVENT_HOMEASSISTANT_STOP)
    await hass.async_block_till_done()
    assert not _listening(port)


async def test_deleting_a_charger_device(
    hass: HomeAssistant, setup_site: SetupSite, hass_ws_client: WebSocketGenerator
) -> None:
    """The owner deletes a charger: it is disconnected and must ask again."""
    entry = await setup_site(charger_policy="ask")
    system = entry.runtime_data.system
    device_id = charger_device_id(entry.entry_id, "CP1")
    async with fake_charger(system, "CP1") as charger:
        assert (await charger.boot()).status == "Pending"
        await system.approve("CP1")
        assert (await charger.boot()).status == "Accepted"
        await hass.async_block_till_done()
        device = dr.async_get(hass).async_get_device({device_id})
        assert device is not None

        assert await async_setup_component(hass, "config", {})
        client = await hass_ws_client(hass)
        await client.send_json_auto_id(
            {
                "type": "config/device_registry/remove_config_entry",
                "config_entry_id": entry.entry_id,
                "device_id": device.id,
            }
        )
        response = await client.receive_json()
        assert response["success"], response
        await wait_until(lambda: charger.ws.close_code is not None)
    assert "CP1" not in system.chargers
    assert dr.async_get(hass).async_get_device({device_id}) is None

    # Back again, it waits for the owner like any unknown charger.
    async with connect(ocpp_url(entry, "CP1"), subprotocols=["ocpp1.6"]) as ws:
        again = FakeChargePoint("CP1", ws, V16)
        task = asyncio.create_task(again.start())
        try:
            assert (await again.boot()).status == "Pending"
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, ConnectionClosed):
                await task


async def test_database_of_a_newer_release(
    hass: HomeAssistant, setup_site: SetupSite
) -> None:
    """A session database from a newer release: a setup error saying so."""
    entry = await setup_site()
    path = session_db_path(hass, entry.entry_id)
    assert await hass.config_entries.async_unload(entry.entry_id)
    with closing(sqlite3.connect(path)) as db:
        db.execute(f"PRAGMA user_version={SCHEMA_VERSION + 1}")

    assert not await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.SETUP_ERROR
    assert entry.reason is not None
    assert f"schema {SCHEMA_VERSION + 1}" in entry.reason
    with closing(sqlite3.connect(path)) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION + 1
