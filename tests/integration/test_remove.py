"""Deleting a site: its session database and stored settings go with it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from homeassistant.core import HomeAssistant

from custom_components.energy_coordinator.central_system import session_db_path
from custom_components.energy_coordinator.const import DOMAIN
from tests.fake_charge_point import fake_charger

from .conftest import SetupSite


async def test_deleted_site_leaves_nothing_behind(
    hass: HomeAssistant, setup_site: SetupSite, hass_storage: dict[str, Any]
) -> None:
    """The SQLite files and the site's Store are removed; other sites keep theirs."""
    hass.states.async_set(
        "sensor.grid", "0", {"unit_of_measurement": "W", "device_class": "power"}
    )
    entry = await setup_site(site={"sources": {"grid_power_entity": "sensor.grid"}})
    other = await setup_site()
    async with fake_charger(entry.runtime_data.system, "CP1") as charger:
        await charger.boot()
        tx = await charger.start_tx(1, meter_start=0)
        await charger.stop_tx(tx, 1200)
    site = entry.runtime_data.site
    site.update_settings("CP1/1", mode="now")
    await site.async_save()
    database = session_db_path(hass, entry.entry_id)
    assert database.exists()
    assert f"{DOMAIN}.{entry.entry_id}.site" in hass_storage

    assert await hass.config_entries.async_remove(entry.entry_id)
    await hass.async_block_till_done()

    leftovers = [Path(f"{database}{suffix}") for suffix in ("", "-wal", "-shm")]
    assert not any(path.exists() for path in leftovers)
    assert f"{DOMAIN}.{entry.entry_id}.site" not in hass_storage
    assert session_db_path(hass, other.entry_id).exists()
