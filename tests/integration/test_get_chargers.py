"""`get_chargers`: chargers, connectors and loadpoints with device and entity ids.

A client (the MCP add-on) acts through these ids and never parses the
integration's unique-id or device-identifier formats.
"""

from __future__ import annotations

from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er

from custom_components.energy_coordinator.const import DOMAIN
from simulator import ChargePoint16, ChargePoint201

from .site_harness import SiteHarness, site_harness

__all__ = ["site_harness"]


async def test_get_chargers_gives_device_and_entity_ids(
    site_harness: SiteHarness,
) -> None:
    h = site_harness
    await h.start(limits={"site_voltage": 240})
    await h.charger("SIM1", ChargePoint16)
    await h.charger("SIM2", ChargePoint201, session=False)

    response = await h.hass.services.async_call(
        DOMAIN, "get_chargers", {}, blocking=True, return_response=True
    )

    assert isinstance(response, dict)
    assert response["site"]["voltage_v"] == 240
    assert response["site"]["phases"] == 3
    assert response["site"]["coordinates_evs"] is True
    assert response["site"]["entities"]["site"]["coordinator_status"] == (
        "sensor.home_coordinator_status"
    )
    assert set(response["chargers"]) == {"SIM1", "SIM2"}
    sim1 = response["chargers"]["SIM1"]
    assert sim1["online"] is True
    assert sim1["ocpp_version"] == "ocpp1.6"
    connector = sim1["connectors"]["1"]
    assert connector["loadpoint"] == "SIM1/1"
    assert connector["entities"]["power"] == "sensor.sim1_power"
    assert connector["entities"]["charge"] == "switch.sim1_charge"
    assert sim1["entities"]["connected"] == "binary_sensor.sim1_connected"

    devices = dr.async_get(h.hass)
    registry = er.async_get(h.hass)
    device = devices.async_get(sim1["device_id"])
    assert device is not None
    assert registry.async_get("sensor.sim1_power").device_id == device.id  # type: ignore[union-attr]

    loadpoint = response["loadpoints"]["SIM1/1"]
    assert loadpoint["charger_id"] == "SIM1"
    assert loadpoint["connector_id"] == 1
    mode = loadpoint["entities"]["charge_mode"]
    assert registry.async_get(mode).device_id == loadpoint["device_id"]  # type: ignore[union-attr]
    # The ids are the ones to act with.
    await h.hass.services.async_call(
        "select",
        "select_option",
        {ATTR_ENTITY_ID: mode, "option": "now"},
        blocking=True,
    )
    assert h.site.settings("SIM1/1").mode == "now"

    # A renamed entity is found under its new id.
    registry.async_update_entity(mode, new_entity_id="select.garage_mode")
    await h.hass.async_block_till_done()
    response = await h.hass.services.async_call(
        DOMAIN, "get_chargers", {}, blocking=True, return_response=True
    )
    assert isinstance(response, dict)
    assert response["loadpoints"]["SIM1/1"]["entities"]["charge_mode"] == (
        "select.garage_mode"
    )
