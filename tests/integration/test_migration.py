"""Config entries stored by older releases are migrated before the site starts.

Versions 1.1 and 1.2 stored the grid limit unit as "A" or "kW"; 1.3 stores the
translation keys "ampere" and "kilowatt". An entry of a newer major version is
refused.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import ATTR_UNIT_OF_MEASUREMENT
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.energy_coordinator.const import DOMAIN

from .conftest import free_port

pytestmark = pytest.mark.usefixtures("socket_enabled")


def _old_entry(
    hass: HomeAssistant,
    tmp_path: Path,
    data: dict[str, Any],
    options: dict[str, Any] | None = None,
    **versions: int,
) -> MockConfigEntry:
    hass.config.config_dir = str(tmp_path)
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Home",
        data={
            "site_name": "Home",
            "ocpp_port": free_port(),
            "charger_policy": "accept",
            "grid_limit": 11,
            **data,
        },
        options=options or {},
        version=versions.get("version", 1),
        minor_version=versions.get("minor_version", 1),
    )
    entry.add_to_hass(hass)
    return entry


def _grid_limit_unit(hass: HomeAssistant, entry: MockConfigEntry) -> str:
    entity_id = er.async_get(hass).async_get_entity_id(
        "number", DOMAIN, f"{entry.entry_id}_grid_limit"
    )
    assert entity_id is not None
    state = hass.states.get(entity_id)
    assert state is not None
    return str(state.attributes[ATTR_UNIT_OF_MEASUREMENT])


@pytest.mark.parametrize(
    ("data", "options", "stored", "unit"),
    [
        ({"grid_limit_unit": "kW"}, {}, ("kilowatt", None), "kW"),
        ({"grid_limit_unit": "A"}, {}, ("ampere", None), "A"),
        # The options override the entry data; both are migrated.
        (
            {"grid_limit_unit": "kW"},
            {"grid_limit_unit": "A"},
            ("kilowatt", "ampere"),
            "A",
        ),
        # Set up before the unit existed: nothing to migrate, amperes as before.
        ({}, {}, (None, None), "A"),
    ],
    ids=["kW", "A", "options", "unset"],
)
@pytest.mark.parametrize("minor_version", [1, 2])
async def test_grid_limit_unit_is_migrated(
    hass: HomeAssistant,
    tmp_path: Path,
    data: dict[str, Any],
    options: dict[str, Any],
    stored: tuple[str | None, str | None],
    unit: str,
    minor_version: int,
) -> None:
    """The stored unit becomes its key; the site keeps the limit in the same unit."""
    entry = _old_entry(hass, tmp_path, data, options, minor_version=minor_version)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert (entry.version, entry.minor_version) == (1, 3)
    assert (
        entry.data.get("grid_limit_unit"),
        entry.options.get("grid_limit_unit"),
    ) == stored
    assert entry.data["ocpp_port"] == entry.runtime_data.system.port
    assert entry.runtime_data.site.grid_limit_unit == unit
    assert _grid_limit_unit(hass, entry) == unit

    # The options form offers the migrated key as the current choice.
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": "limits"}
    )
    assert result["type"] is FlowResultType.FORM
    field = next(k for k in result["data_schema"].schema if k == "grid_limit_unit")
    assert field.default() == (stored[1] or stored[0] or "ampere")
    await hass.config_entries.async_unload(entry.entry_id)


async def test_current_entry_is_left_alone(hass: HomeAssistant, tmp_path: Path) -> None:
    """A 1.3 entry is not rewritten (a key is never converted twice)."""
    entry = _old_entry(hass, tmp_path, {"grid_limit_unit": "kilowatt"}, minor_version=3)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.data["grid_limit_unit"] == "kilowatt"
    assert _grid_limit_unit(hass, entry) == "kW"
    await hass.config_entries.async_unload(entry.entry_id)


async def test_entry_of_a_newer_release_is_refused(
    hass: HomeAssistant, tmp_path: Path
) -> None:
    """Version 2 (a downgrade) fails migration and starts no OCPP server."""
    entry = _old_entry(hass, tmp_path, {"grid_limit_unit": "kW"}, version=2)
    assert not await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.MIGRATION_ERROR
    assert entry.data["grid_limit_unit"] == "kW"
