"""Fixtures for tests that run the integration in a real Home Assistant core."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any
from unittest.mock import PropertyMock, patch

import pytest
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType

from custom_components.energy_coordinator.const import DOMAIN
from custom_components.energy_coordinator.runtime import EnergyCoordinatorConfigEntry


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Let HA load the integration from custom_components/."""


def free_port() -> int:
    """A TCP port that is free right now on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


type SetupSite = Callable[..., Coroutine[Any, Any, EnergyCoordinatorConfigEntry]]


@pytest.fixture
def entity_registry_enabled_by_default() -> Iterator[None]:
    """Every entity enabled, also those disabled by default (to test them)."""
    with patch(
        "homeassistant.helpers.entity.Entity.entity_registry_enabled_default",
        new_callable=PropertyMock,
        return_value=True,
    ):
        yield


@pytest.fixture
async def setup_site(
    hass: HomeAssistant, socket_enabled: None, tmp_path: Path
) -> AsyncIterator[SetupSite]:
    """Add a site through the config flow; returns its loaded entry.

    Keyword arguments are fields of the first form (charger_policy, ...);
    `site=` maps the later steps (sources, limits, actuators) to their fields;
    `options=` sets central-system options afterwards through the options flow.
    """

    # Session databases and the blueprint go to this test's own folder.
    hass.config.config_dir = str(tmp_path)

    async def setup(
        options: dict[str, Any] | None = None,
        site: dict[str, dict[str, Any]] | None = None,
        **fields: Any,
    ) -> Any:
        result = await hass.config_entries.flow.async_init(
            DOMAIN, context={"source": "user"}
        )
        site = site or {}
        data = {
            "site_name": "Home",
            "ocpp_port": free_port(),
            "charger_policy": "accept",
            **fields,
        }
        result = await hass.config_entries.flow.async_configure(result["flow_id"], data)
        for step in ("sources", "limits", "actuators"):
            assert result["type"] is FlowResultType.FORM, result
            assert result["step_id"] == step
            result = await hass.config_entries.flow.async_configure(
                result["flow_id"], site.get(step, {})
            )
        assert result["type"] is FlowResultType.CREATE_ENTRY, result
        entry = result["result"]
        await hass.async_block_till_done()
        assert entry.state is ConfigEntryState.LOADED
        if options:
            flow = await hass.config_entries.options.async_init(entry.entry_id)
            flow = await hass.config_entries.options.async_configure(
                flow["flow_id"], {"next_step_id": "central_system"}
            )
            current = {**entry.data, **entry.options}
            merged = {
                k: current[k] for k in ("ocpp_port", "charger_policy") if k in current
            }
            merged |= {
                "tag_policy": "accept",
                "remote_id_tag": "energy-coordinator",
                "heartbeat_interval": 60,
                **options,
            }
            result = await hass.config_entries.options.async_configure(
                flow["flow_id"], merged
            )
            assert result["type"] is FlowResultType.CREATE_ENTRY, result
            await hass.async_block_till_done()
            assert entry.state is ConfigEntryState.LOADED
        return entry

    yield setup
    for entry in hass.config_entries.async_entries(DOMAIN):
        if entry.state is ConfigEntryState.LOADED:
            await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()


def ocpp_url(entry: EnergyCoordinatorConfigEntry, charger_id: str) -> str:
    """The URL a charger of this site connects to."""
    return f"ws://127.0.0.1:{entry.runtime_data.system.port}/{charger_id}"


def site_entry_id(hass: HomeAssistant) -> str:
    """The entry id of the only loaded site."""
    (entry,) = hass.config_entries.async_loaded_entries(DOMAIN)
    return entry.entry_id


def charger_uid(hass: HomeAssistant, name: str) -> str:
    """The unique id of a charger entity of the only site, e.g. `CP1_1_power`.

    Names that already carry the site's entry id (site and loadpoint entities) are
    returned as they are.
    """
    entry_id = site_entry_id(hass)
    if name.startswith(f"{entry_id}_"):
        return name
    return f"{entry_id}_charger_{name}"


def charger_ident(hass: HomeAssistant, name: str) -> tuple[str, str]:
    """The device identifier of a charger (`CP1`), connector (`CP1/2`) or
    loadpoint (`loadpoint_CP1_2`) of the only site."""
    entry_id = site_entry_id(hass)
    if name.startswith("loadpoint_"):
        return (DOMAIN, f"{entry_id}_{name}")
    return (DOMAIN, f"{entry_id}_charger_{name}")
