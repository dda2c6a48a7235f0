"""Set-up and unload of a site."""

from __future__ import annotations

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant

from .conftest import SetupSite


async def test_setup_and_unload(hass: HomeAssistant, setup_site: SetupSite) -> None:
    """The site starts its OCPP server and stops it on unload."""
    entry = await setup_site()
    system = entry.runtime_data.system
    assert system.port == entry.data["ocpp_port"]
    assert await hass.config_entries.async_unload(entry.entry_id)
    assert entry.state is ConfigEntryState.NOT_LOADED
