"""Diagnostics downloads of a site and of a charger, through HA's diagnostics API.

A real OCPP 1.6J charger (the `ocpp` library's client) boots with a serial number,
reports a secret configuration key and runs a session; the download keeps what
helps to debug (versions, states, energy) and redacts what identifies or unlocks.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from ocpp.v16 import call
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
    get_diagnostics_for_device,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from custom_components.energy_coordinator.const import DOMAIN
from custom_components.energy_coordinator.identifiers import charger_device_id
from tests.fake_charge_point import V16, FakeChargePoint, wait_until

from .conftest import SetupSite, ocpp_url

PASSWORD = "s3cret-pw"
REDACTED = "**REDACTED**"


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_diagnostics_redact_secrets(
    hass: HomeAssistant, setup_site: SetupSite, hass_client: ClientSessionGenerator
) -> None:
    """Entry and charger diagnostics: settings, states, a session; no secrets."""
    entry = await setup_site(charger_password=PASSWORD)
    system = entry.runtime_data.system
    auth = base64.b64encode(f"CP1:{PASSWORD}".encode()).decode()
    async with connect(
        ocpp_url(entry, "CP1"),
        subprotocols=["ocpp1.6"],
        additional_headers={"Authorization": f"Basic {auth}"},
    ) as ws:
        charger = FakeChargePoint("CP1", ws, V16)
        charger.config["AuthorizationKey"] = "00112233aabbccdd"
        task = asyncio.create_task(charger.start())
        try:
            await charger.boot()
            await charger.send(
                call.StatusNotification(
                    connector_id=1, error_code="NoError", status="Charging"
                )
            )
            transaction_id = await charger.start_tx(1, 1000, id_tag="TAG-SECRET")
            await charger.meter(
                1,
                transaction_id,
                {"value": "1500", "measurand": "Energy.Active.Import.Register"},
            )
            await wait_until(
                lambda: "AuthorizationKey" in system.chargers["CP1"].configuration
            )
            await hass.async_block_till_done()

            diagnostics = await get_diagnostics_for_config_entry(
                hass, hass_client, entry
            )
            registry = dr.async_get(hass)
            device = registry.async_get_device(
                {charger_device_id(entry.entry_id, "CP1")}
            )
            assert device is not None
            device_diagnostics = await get_diagnostics_for_device(
                hass, hass_client, entry, device
            )
            site_id = (DOMAIN, f"{entry.entry_id}_site")
            site_device = registry.async_get_device({site_id})
            assert site_device is not None
            site_diagnostics = await get_diagnostics_for_device(
                hass, hass_client, entry, site_device
            )
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, ConnectionClosed):
                await task

    text = json.dumps([diagnostics, device_diagnostics])
    for secret in (PASSWORD, "00112233aabbccdd", "SN-1", "TAG-SECRET"):
        assert secret not in text

    assert diagnostics["entry"]["data"]["charger_password"] == REDACTED
    assert diagnostics["entry"]["data"]["ocpp_port"] == system.port
    assert diagnostics["id_tags"] == len(system.tags)
    cp1 = diagnostics["chargers"]["CP1"]
    assert cp1["ocpp_version"] == "ocpp1.6"
    assert cp1["connected"] is True
    assert cp1["registration"] == "Accepted"
    assert cp1["info"]["vendor"] == "Acme"
    assert cp1["info"]["firmware_version"] == "1.2.3"
    assert cp1["info"]["serial_number"] == REDACTED
    assert cp1["configuration"]["AuthorizationKey"] == REDACTED
    assert cp1["configuration"]["HeartbeatInterval"] == "60"
    session = cp1["connectors"]["1"]["transaction"]
    assert session["transaction_id"] == str(transaction_id)
    assert session["energy_wh"] == 500
    assert session["start_time"].endswith("+00:00")
    assert cp1["connectors"]["1"]["status"] == "charging"

    # A charger's device gives that charger; the site's own device has none.
    assert device_diagnostics == cp1
    assert site_diagnostics == {}
