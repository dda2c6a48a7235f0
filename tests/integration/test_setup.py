"""Set-up and unload of a site."""

from __future__ import annotations

import sqlite3
from contextlib import closing

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant

from custom_components.energy_coordinator import session_db_path
from custom_components.energy_coordinator.csms.sessions import SCHEMA_VERSION

from .conftest import SetupSite


async def test_setup_and_unload(hass: HomeAssistant, setup_site: SetupSite) -> None:
    """The site starts its OCPP server and stops it on unload."""
    entry = await setup_site()
    system = entry.runtime_data.system
    assert system.port == entry.data["ocpp_port"]
    assert await hass.config_entries.async_unload(entry.entry_id)
    assert entry.state is ConfigEntryState.NOT_LOADED


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
