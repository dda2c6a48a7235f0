"""The charger entities in a real HA core, fed by a real OCPP 1.6J client.

A scripted charge point (the `ocpp` library's client ChargePoint) connects over a
websocket on 127.0.0.1; the tests check what HA shows (states, attributes, units,
device classes, devices) and what the charger receives when entities are used.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from unittest.mock import patch

import pytest
from homeassistant.components.sensor import SensorDeviceClass, SensorStateClass
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import (
    ATTR_DEVICE_CLASS,
    ATTR_ENTITY_ID,
    ATTR_UNIT_OF_MEASUREMENT,
    STATE_OFF,
    STATE_ON,
    STATE_UNAVAILABLE,
    STATE_UNKNOWN,
    EntityCategory,
)
from homeassistant.core import Event, HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers import translation
from ocpp.v16 import call

from custom_components import energy_coordinator
from custom_components.energy_coordinator import (
    binary_sensor,
    button,
    datetime,
    number,
    plan_sensor,
    select,
    sensor,
    site_number,
    site_sensor,
    switch,
)
from custom_components.energy_coordinator.central_system import session_db_path
from custom_components.energy_coordinator.const import DOMAIN
from custom_components.energy_coordinator.runtime import EnergyCoordinatorConfigEntry
from tests.fake_charge_point import FakeChargePoint, fake_charger, wait_until

from .conftest import SetupSite, charger_ident, charger_uid

CP = "CP1"


def entity_id(hass: HomeAssistant, platform: str, unique_id: str) -> str:
    """The entity id of one of our entities, by unique id."""
    found = er.async_get(hass).async_get_entity_id(
        platform, DOMAIN, charger_uid(hass, unique_id)
    )
    assert found is not None, f"{platform} {unique_id} not registered"
    return found


def state(hass: HomeAssistant, platform: str, unique_id: str) -> Any:
    """The HA state of one of our entities."""
    current = hass.states.get(entity_id(hass, platform, unique_id))
    assert current is not None, unique_id
    return current


async def status(charger: FakeChargePoint, connector_id: int, value: str) -> None:
    """Send a StatusNotification."""
    await charger.send(
        call.StatusNotification(
            connector_id=connector_id, error_code="NoError", status=value
        )
    )


def sample(measurand: str, value: float, unit: str, phase: str | None = None) -> dict:
    """One sampledValue."""
    item = {"measurand": measurand, "value": str(value), "unit": unit}
    if phase:
        item["phase"] = phase
    return item


async def booted(
    hass: HomeAssistant, charger: FakeChargePoint, *connectors: int
) -> None:
    """Boot the charger and report its connectors as Available."""
    await charger.boot()
    await status(charger, 0, "Available")
    for connector_id in connectors or (1,):
        await status(charger, connector_id, "Available")
    await hass.async_block_till_done()


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_entities_of_a_charger(
    hass: HomeAssistant, setup_site: SetupSite
) -> None:
    """A booted charger shows its status, meter values and diagnostics."""
    entry = await setup_site()
    system = entry.runtime_data.system
    async with fake_charger(system, CP) as charger:
        await booted(hass, charger)
        await status(charger, 1, "Preparing")
        await charger.meter(
            1,
            None,
            sample("Power.Active.Import", 7.2, "kW"),
            sample("Current.Import", 10.1, "A", "L1"),
            sample("Current.Import", 10.2, "A", "L2"),
            sample("Current.Import", 10.3, "A", "L3"),
            sample("Voltage", 230, "V", "L1-N"),
            sample("Energy.Active.Import.Register", 2.5, "kWh"),
        )
        await hass.async_block_till_done()

        # Device of the charger, from the BootNotification.
        device = dr.async_get(hass).async_get_device({charger_ident(hass, CP)})
        assert device is not None
        assert (device.manufacturer, device.model) == ("Acme", "Wallbox X")
        assert (device.serial_number, device.sw_version) == ("SN-1", "1.2.3")

        charger_status = state(hass, "sensor", f"{CP}_status")
        assert charger_status.state == "available"
        assert charger_status.attributes[ATTR_DEVICE_CLASS] == SensorDeviceClass.ENUM
        assert "inoperative" in charger_status.attributes["options"]
        assert "unknown" not in charger_status.attributes["options"]
        assert state(hass, "sensor", f"{CP}_1_connector_status").state == "preparing"
        assert state(hass, "sensor", f"{CP}_1_error_code").state == "NoError"
        connected = state(hass, "binary_sensor", f"{CP}_connected")
        assert connected.attributes["ocpp_version"] == "1.6"
        assert state(hass, "binary_sensor", f"{CP}_connected").state == STATE_ON
        assert state(hass, "binary_sensor", f"{CP}_1_plugged").state == STATE_ON

        power = state(hass, "sensor", f"{CP}_1_power")
        assert float(power.state) == 7200
        assert power.attributes[ATTR_UNIT_OF_MEASUREMENT] == "W"
        assert power.attributes[ATTR_DEVICE_CLASS] == SensorDeviceClass.POWER
        assert power.attributes["state_class"] == SensorStateClass.MEASUREMENT

        current = state(hass, "sensor", f"{CP}_1_current")
        assert current.attributes[ATTR_UNIT_OF_MEASUREMENT] == "A"
        assert current.attributes["state_class"] == SensorStateClass.MEASUREMENT
        assert (
            current.attributes["l1"],
            current.attributes["l2"],
            current.attributes["l3"],
        ) == (10.1, 10.2, 10.3)
        voltage = state(hass, "sensor", f"{CP}_1_voltage")
        assert float(voltage.state) == 230
        assert voltage.attributes[ATTR_UNIT_OF_MEASUREMENT] == "V"

        energy = state(hass, "sensor", f"{CP}_1_energy")
        assert energy.attributes[ATTR_UNIT_OF_MEASUREMENT] == "kWh"
        assert energy.attributes[ATTR_DEVICE_CLASS] == SensorDeviceClass.ENERGY
        assert energy.attributes["state_class"] == SensorStateClass.TOTAL_INCREASING
        session = state(hass, "sensor", f"{CP}_1_session_energy")
        assert session.attributes[ATTR_DEVICE_CLASS] == SensorDeviceClass.ENERGY
        assert session.attributes["state_class"] == SensorStateClass.TOTAL_INCREASING
        assert session.state == "0.0"
        duration = state(hass, "sensor", f"{CP}_1_session_duration")
        assert duration.state == STATE_UNKNOWN
        assert duration.attributes[ATTR_DEVICE_CLASS] == SensorDeviceClass.DURATION

        # Translated names (has_entity_name: device name + entity name).
        assert energy.attributes["friendly_name"] == f"{CP} Total energy"
        assert charger_status.attributes["friendly_name"] == f"{CP} Status"
        unlock = state(hass, "button", f"{CP}_1_unlock")
        assert unlock.attributes["friendly_name"] == f"{CP} Unlock cable"
        assert state(hass, "button", f"{CP}_reset").attributes[ATTR_DEVICE_CLASS] == (
            "restart"
        )

        registry = er.async_get(hass)
        connected = registry.async_get(
            entity_id(hass, "binary_sensor", f"{CP}_connected")
        )
        assert connected is not None
        assert connected.entity_category is EntityCategory.DIAGNOSTIC

        # A transaction: charging, session energy and id tag.
        tx = await charger.start_tx(1, meter_start=2500, id_tag="CARD-7")
        await status(charger, 1, "Charging")
        await charger.meter(1, tx, sample("Energy.Active.Import.Register", 3750, "Wh"))
        assert state(hass, "sensor", f"{CP}_1_connector_status").state == "charging"
        assert state(hass, "switch", f"{CP}_1_charge").state == STATE_ON
        assert float(state(hass, "sensor", f"{CP}_1_session_energy").state) == 1.25
        assert float(state(hass, "sensor", f"{CP}_1_energy").state) == 1.25
        assert state(hass, "sensor", f"{CP}_1_id_tag").state == "CARD-7"
        assert state(hass, "sensor", f"{CP}_1_session_duration").state == "0"


#: The charger entities a new charger gets enabled.
ENABLED = {
    f"{CP}_1_{key}"
    for key in (
        "connector_status",
        "error_code",
        "power",
        "energy",
        "session_energy",
        "id_tag",
        "plugged",
        "charge",
        "max_current",
        "unlock",
    )
} | {f"{CP}_connected", f"{CP}_reset"}


def _registered(
    hass: HomeAssistant, entry: EnergyCoordinatorConfigEntry
) -> tuple[set[str], set[str]]:
    """The charger's registered entities: (enabled, disabled by the integration)."""
    ours = [
        e
        for e in er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id)
        if e.unique_id.startswith(f"{entry.entry_id}_charger_{CP}_")
    ]
    scope = f"{entry.entry_id}_charger_"
    enabled = {e.unique_id.removeprefix(scope) for e in ours if e.disabled_by is None}
    disabled = {
        e.unique_id.removeprefix(scope)
        for e in ours
        if e.disabled_by is er.RegistryEntryDisabler.INTEGRATION
    }
    return enabled, disabled


async def test_entities_enabled_by_default(
    hass: HomeAssistant, setup_site: SetupSite
) -> None:
    """What a new charger shows: noisy, duplicate and rare entities start disabled.

    With a thousand chargers every entity costs memory, so only what an owner
    watches or uses is enabled; the rest exists and can be enabled in the UI.
    """
    entry = await setup_site()
    async with fake_charger(entry.runtime_data.system, CP) as charger:
        await booted(hass, charger)
        await status(charger, 1, "Available")
        await hass.async_block_till_done()
    registry = er.async_get(hass)
    enabled, disabled = _registered(hass, entry)
    assert enabled == ENABLED
    assert disabled == {
        f"{CP}_1_{key}"
        for key in (
            "current",
            "voltage",
            "session_duration",
            "current_limit",
            "availability",
        )
    } | {f"{CP}_{key}" for key in ("status", "last_seen")} | {f"{CP}_hard_reset"}
    # Optional measurands appear once the charger reports them (disabled).
    async with fake_charger(entry.runtime_data.system, CP) as charger:
        await booted(hass, charger)
        await charger.meter(1, None, sample("SoC", 41, "Percent"))
        await charger.send(call.FirmwareStatusNotification(status="Downloading"))
        await hass.async_block_till_done()
        # A firmware update under way shows its progress.
        firmware = state(hass, "sensor", f"{CP}_firmware_status")
        assert firmware.state == "Downloading"
    soc = registry.async_get(entity_id(hass, "sensor", f"{CP}_1_soc"))
    assert soc is not None
    assert soc.disabled_by is er.RegistryEntryDisabler.INTEGRATION
    for key in ("current_offered", "temperature"):
        assert (
            registry.async_get_entity_id(
                "sensor", DOMAIN, charger_uid(hass, f"{CP}_1_{key}")
            )
            is None
        )
    # No measurement configured: the chargers are not EV loadpoints.
    assert not any(
        e.unique_id.startswith(f"{entry.entry_id}_loadpoint")
        for e in er.async_entries_for_config_entry(registry, entry.entry_id)
    )


async def test_a_garage_without_detail_entities(
    hass: HomeAssistant, setup_site: SetupSite
) -> None:
    """*Detail entities* off: a new charger registers only what is enabled.

    A garage of a thousand chargers keeps about half the registry entries; what
    the chargers report and what can be done with them is the same.
    """
    entry = await setup_site(options={"detail_entities": False})
    assert entry.options["detail_entities"] is False
    async with fake_charger(entry.runtime_data.system, CP) as charger:
        await booted(hass, charger)
        await charger.meter(
            1,
            None,
            sample("Power.Active.Import", 3.6, "kW"),
            sample("Current.Import", 15.6, "A", "L1"),
            sample("SoC", 41, "Percent"),
        )
        await hass.async_block_till_done()
        enabled, disabled = _registered(hass, entry)
        assert (enabled, disabled) == (ENABLED, set())
        assert float(state(hass, "sensor", f"{CP}_1_power").state) == 3600
        for key in ("current", "soc", "session_duration"):
            assert (
                er.async_get(hass).async_get_entity_id(
                    "sensor", DOMAIN, charger_uid(hass, f"{CP}_1_{key}")
                )
                is None
            )


async def test_turning_detail_entities_off_keeps_what_a_person_enabled(
    hass: HomeAssistant, setup_site: SetupSite
) -> None:
    """Off after the fact: disabled entries go, enabled ones stay and update."""
    entry = await setup_site()
    registry = er.async_get(hass)
    async with fake_charger(entry.runtime_data.system, CP) as charger:
        await booted(hass, charger)
        current = entity_id(hass, "sensor", f"{CP}_1_current")
        voltage = entity_id(hass, "sensor", f"{CP}_1_voltage")
        registry.async_update_entity(current, disabled_by=None)
        # Disabled by the owner (not the integration): their choice is kept.
        registry.async_update_entity(voltage, disabled_by=er.RegistryEntryDisabler.USER)
        await hass.async_block_till_done()

        result = await hass.config_entries.options.async_init(entry.entry_id)
        result = await hass.config_entries.options.async_configure(
            result["flow_id"], {"next_step_id": "central_system"}
        )
        schema = result["data_schema"].schema
        assert next(k for k in schema if k == "detail_entities").default() is True
        result = await hass.config_entries.options.async_configure(
            result["flow_id"],
            {
                "ocpp_port": entry.runtime_data.system.port,
                "charger_policy": "accept",
                "tag_policy": "accept",
                "remote_id_tag": "energy-coordinator",
                "heartbeat_interval": 60,
                "detail_entities": False,
            },
        )
        await hass.async_block_till_done()
        assert entry.state is ConfigEntryState.LOADED
        # The chargers stayed connected through the reload.
        await charger.meter(1, None, sample("Current.Import", 9.5, "A", "L1"))
        await hass.async_block_till_done()
        enabled, disabled = _registered(hass, entry)
        assert disabled == set()
        assert enabled == ENABLED | {f"{CP}_1_current"}
        assert float(hass.states.get(current).state) == 9.5
        kept = registry.async_get(voltage)
        assert kept is not None
        assert kept.disabled_by is er.RegistryEntryDisabler.USER


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_commands_reach_the_charger(
    hass: HomeAssistant, setup_site: SetupSite
) -> None:
    """Switches, the number and buttons send their OCPP calls."""
    entry = await setup_site()
    system = entry.runtime_data.system
    async with fake_charger(system, CP) as charger:
        await booted(hass, charger)
        charge = entity_id(hass, "switch", f"{CP}_1_charge")
        assert hass.states.get(charge).state == STATE_OFF

        await hass.services.async_call(
            "switch", "turn_on", {ATTR_ENTITY_ID: charge}, blocking=True
        )
        assert charger.frames("RemoteStartTransaction") == [
            {"connectorId": 1, "idTag": "energy-coordinator"}
        ]
        # The state follows the charger, not the button.
        assert hass.states.get(charge).state == STATE_OFF
        tx = await charger.start_tx(1, id_tag="energy-coordinator")
        assert hass.states.get(charge).state == STATE_ON

        await hass.services.async_call(
            "switch", "turn_off", {ATTR_ENTITY_ID: charge}, blocking=True
        )
        assert charger.frames("RemoteStopTransaction") == [{"transactionId": tx}]

        availability = entity_id(hass, "switch", f"{CP}_1_availability")
        assert hass.states.get(availability).state == STATE_ON
        await hass.services.async_call(
            "switch", "turn_off", {ATTR_ENTITY_ID: availability}, blocking=True
        )
        assert charger.frames("ChangeAvailability") == [
            {"connectorId": 1, "type": "Inoperative"}
        ]
        assert hass.states.get(availability).state == STATE_OFF

        max_current = entity_id(hass, "number", f"{CP}_1_max_current")
        number = hass.states.get(max_current)
        assert number.state == STATE_UNKNOWN
        assert (number.attributes["min"], number.attributes["max"]) == (0, 32)
        assert number.attributes[ATTR_UNIT_OF_MEASUREMENT] == "A"
        await hass.services.async_call(
            "number",
            "set_value",
            {ATTR_ENTITY_ID: max_current, "value": 10},
            blocking=True,
        )
        (profile,) = charger.frames("SetChargingProfile")
        assert profile["connectorId"] == 1
        schedule = profile["csChargingProfiles"]["chargingSchedule"]
        assert schedule["chargingRateUnit"] == "A"
        assert schedule["chargingSchedulePeriod"][0]["limit"] == 10
        assert float(hass.states.get(max_current).state) == 10
        assert float(state(hass, "sensor", f"{CP}_1_current_limit").state) == 10

        for unique_id in (f"{CP}_reset", f"{CP}_1_unlock"):
            await hass.services.async_call(
                "button",
                "press",
                {ATTR_ENTITY_ID: entity_id(hass, "button", unique_id)},
                blocking=True,
            )
        assert charger.frames("Reset") == [{"type": "Soft"}]
        assert charger.frames("UnlockConnector") == [{"connectorId": 1}]


async def test_refused_command_raises_translated_error(
    hass: HomeAssistant, setup_site: SetupSite
) -> None:
    """A refusal, an unknown transaction or a lost charger: a translated error."""
    entry = await setup_site()
    system = entry.runtime_data.system
    async with fake_charger(system, CP) as charger:
        await booted(hass, charger)
        charger.statuses["RemoteStartTransaction"] = "Rejected"
        with pytest.raises(HomeAssistantError) as err:
            await hass.services.async_call(
                "switch",
                "turn_on",
                {ATTR_ENTITY_ID: entity_id(hass, "switch", f"{CP}_1_charge")},
                blocking=True,
            )
        assert err.value.translation_key == "command_rejected"
        assert str(err.value) == (
            f"Charger {CP} refused RemoteStartTransaction (status Rejected)"
        )
        charger.statuses["UnlockConnector"] = "UnlockFailed"
        with pytest.raises(HomeAssistantError, match="refused UnlockConnector"):
            await hass.services.async_call(
                "button",
                "press",
                {ATTR_ENTITY_ID: entity_id(hass, "button", f"{CP}_1_unlock")},
                blocking=True,
            )
    # The connection closed; the charger is not yet judged offline.
    await wait_until(lambda: CP not in system.links)
    with pytest.raises(HomeAssistantError) as err:
        await hass.services.async_call(
            "button",
            "press",
            {ATTR_ENTITY_ID: entity_id(hass, "button", f"{CP}_reset")},
            blocking=True,
        )
    assert str(err.value) == f"Charger {CP} is not connected"
    await hass.async_block_till_done()
    assert state(hass, "binary_sensor", f"{CP}_connected").state == STATE_OFF


async def test_silent_charger_goes_unavailable(
    hass: HomeAssistant, setup_site: SetupSite
) -> None:
    """No frame for 3 heartbeat intervals: unavailable; the next frame: back."""
    entry = await setup_site()
    # The options form allows 10 s at least; a 1 s interval keeps the test short.
    hass.config_entries.async_update_entry(
        entry, options={**entry.options, "heartbeat_interval": 1}
    )
    await hass.async_block_till_done()
    system = entry.runtime_data.system
    assert system.config.heartbeat_interval == 1
    async with fake_charger(system, CP) as charger:
        await booted(hass, charger)
        power = entity_id(hass, "sensor", f"{CP}_1_power")
        energy = entity_id(hass, "sensor", f"{CP}_1_energy")
        connected = entity_id(hass, "binary_sensor", f"{CP}_connected")
        assert hass.states.get(power).state == STATE_UNKNOWN

        await wait_until(
            lambda: hass.states.get(power).state == STATE_UNAVAILABLE, seconds=6
        )
        # Connectivity is known while offline; the stored energy total stays.
        assert hass.states.get(connected).state == STATE_OFF
        assert hass.states.get(energy).state == "0.0"

        await charger.send(call.Heartbeat())
        assert hass.states.get(power).state == STATE_UNKNOWN
        assert hass.states.get(connected).state == STATE_ON


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_two_connectors_get_a_device_each(
    hass: HomeAssistant, setup_site: SetupSite
) -> None:
    """Connector entities move to per-connector devices via the charger."""
    entry = await setup_site()
    system = entry.runtime_data.system
    async with fake_charger(system, CP) as charger:
        await booted(hass, charger, 1)
        devices = dr.async_get(hass)
        registry = er.async_get(hass)
        charger_device = devices.async_get_device({charger_ident(hass, CP)})
        assert charger_device is not None
        power_1 = entity_id(hass, "sensor", f"{CP}_1_power")
        assert registry.async_get(power_1).device_id == charger_device.id

        await status(charger, 2, "Available")
        await hass.async_block_till_done()
        for connector_id in (1, 2):
            device = devices.async_get_device(
                {charger_ident(hass, f"{CP}/{connector_id}")}
            )
            assert device is not None
            assert device.via_device_id == charger_device.id
            for platform, key in (
                ("sensor", "power"),
                ("sensor", "energy"),
                ("switch", "charge"),
                ("number", "max_current"),
                ("button", "unlock"),
                ("binary_sensor", "plugged"),
            ):
                unique_id = f"{CP}_{connector_id}_{key}"
                reg_entry = registry.async_get(entity_id(hass, platform, unique_id))
                assert reg_entry.device_id == device.id, unique_id
        # Charger entities stay on the charger device.
        status_entry = registry.async_get(entity_id(hass, "sensor", f"{CP}_status"))
        assert status_entry.device_id == charger_device.id
        # The moved entity still shows its state, now named after its device.
        await charger.meter(1, None, sample("Power.Active.Import", 1500, "W"))
        moved = hass.states.get(power_1)
        assert float(moved.state) == 1500
        assert moved.attributes["friendly_name"] == f"{CP} connector 1 Power"
        # A sensor that waited for its measurand lands on the connector's device.
        await charger.meter(1, None, sample("SoC", 64, "Percent"))
        await hass.async_block_till_done()
        soc = registry.async_get(entity_id(hass, "sensor", f"{CP}_1_soc"))
        connector_1 = devices.async_get_device({charger_ident(hass, f"{CP}/1")})
        assert connector_1 is not None
        assert soc.device_id == connector_1.id
        assert float(hass.states.get(soc.entity_id).state) == 64

    # After a restart both connectors are known at once: no move needed.
    await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    device_1 = dr.async_get(hass).async_get_device({charger_ident(hass, f"{CP}/1")})
    assert er.async_get(hass).async_get(power_1).device_id == device_1.id


async def test_repeated_meter_values_write_nothing(
    hass: HomeAssistant, setup_site: SetupSite
) -> None:
    """Entities write their state only when what they show changed."""
    entry = await setup_site()
    system = entry.runtime_data.system
    async with fake_charger(system, CP) as charger:
        await booted(hass, charger)
        values = (
            sample("Power.Active.Import", 3600, "W"),
            sample("Current.Import", 16, "A", "L1"),
            sample("Voltage", 231, "V", "L1-N"),
            sample("Energy.Active.Import.Register", 1200, "Wh"),
        )
        await charger.meter(1, None, *values)
        await hass.async_block_till_done()

        writes: list[Event] = []
        ours = {
            reg.entity_id
            for reg in er.async_entries_for_config_entry(
                er.async_get(hass), entry.entry_id
            )
        }

        def count(event: Event) -> None:
            if event.data["entity_id"] in ours:
                writes.append(event)

        unsubscribe = hass.bus.async_listen("state_changed", count)
        await charger.meter(1, None, *values)
        await charger.send(call.Heartbeat())
        await hass.async_block_till_done()
        assert writes == []

        await charger.meter(1, None, sample("Power.Active.Import", 3700, "W"))
        await hass.async_block_till_done()
        assert [event.data["entity_id"] for event in writes] == [
            entity_id(hass, "sensor", f"{CP}_1_power")
        ]
        unsubscribe()


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_energy_survives_a_restart(
    hass: HomeAssistant, setup_site: SetupSite
) -> None:
    """After HA restarts, energy shows the stored total before the charger returns."""
    entry = await setup_site()
    system = entry.runtime_data.system
    async with fake_charger(system, CP) as charger:
        await booted(hass, charger)
        tx = await charger.start_tx(1, meter_start=10_000)
        await charger.meter(
            1, tx, sample("Energy.Active.Import.Register", 14_321, "Wh")
        )
        await hass.async_block_till_done()
    energy = entity_id(hass, "sensor", f"{CP}_1_energy")
    session = entity_id(hass, "sensor", f"{CP}_1_session_energy")
    assert float(hass.states.get(energy).state) == pytest.approx(4.321)

    await _restart(hass, entry)
    assert float(hass.states.get(energy).state) == pytest.approx(4.321)
    assert float(hass.states.get(session).state) == pytest.approx(4.321)
    # Measurements are not stored: unavailable until the charger is back.
    assert hass.states.get(entity_id(hass, "sensor", f"{CP}_1_power")).state == (
        STATE_UNAVAILABLE
    )

    # The charger comes back and its meter goes on: the total goes on too.
    system = entry.runtime_data.system
    async with fake_charger(system, CP) as charger:
        await booted(hass, charger)
        await charger.meter(
            1, tx, sample("Energy.Active.Import.Register", 15_000, "Wh")
        )
        assert float(hass.states.get(energy).state) == pytest.approx(5.0)
        await charger.stop_tx(tx, 15_000)
        await hass.async_block_till_done()
        assert float(hass.states.get(session).state) == pytest.approx(5.0)
        assert state(hass, "sensor", f"{CP}_1_session_duration").state == "0"


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_energy_after_a_crash_waits_for_the_charger(
    hass: HomeAssistant, setup_site: SetupSite
) -> None:
    """After a crash (the store was not closed) a running session's energy may be
    below what was shown: unknown, never lower, until the charger reports again."""
    entry = await setup_site()
    system = entry.runtime_data.system
    async with fake_charger(system, CP) as charger:
        await booted(hass, charger)
        tx = await charger.start_tx(1, meter_start=10_000)
        await charger.meter(
            1, tx, sample("Energy.Active.Import.Register", 14_321, "Wh")
        )
        await hass.async_block_till_done()
    energy = entity_id(hass, "sensor", f"{CP}_1_energy")
    session = entity_id(hass, "sensor", f"{CP}_1_session_energy")
    assert float(hass.states.get(energy).state) == pytest.approx(4.321)

    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    # What a power cut leaves behind: the store's open marker.
    Path(f"{session_db_path(hass, entry.entry_id)}.open").touch()
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert hass.states.get(energy).state == STATE_UNKNOWN
    assert hass.states.get(session).state == STATE_UNKNOWN

    system = entry.runtime_data.system
    async with fake_charger(system, CP) as charger:
        await booted(hass, charger)
        await charger.meter(
            1, tx, sample("Energy.Active.Import.Register", 15_000, "Wh")
        )
        await hass.async_block_till_done()
        assert float(hass.states.get(energy).state) == pytest.approx(5.0)
        assert float(hass.states.get(session).state) == pytest.approx(5.0)


async def _restart(hass: HomeAssistant, entry: EnergyCoordinatorConfigEntry) -> None:
    """Unload the entry and set it up again (as after an HA restart)."""
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()


async def test_connectors_reported_together(
    hass: HomeAssistant, setup_site: SetupSite
) -> None:
    """Two connectors appearing before any entity is registered: right devices."""
    entry = await setup_site()
    system = entry.runtime_data.system
    async with fake_charger(system, CP) as charger:
        await charger.boot()
        await hass.async_block_till_done()
        model = system.chargers[CP]
        # As a handler does for two frames handled in one go: no yield in between.
        model.connector(1)
        model.connector(2)
        await hass.async_block_till_done()
        devices = dr.async_get(hass)
        registry = er.async_get(hass)
        for connector_id in (1, 2):
            device = devices.async_get_device(
                {charger_ident(hass, f"{CP}/{connector_id}")}
            )
            assert device is not None
            for platform, key in (("sensor", "power"), ("switch", "charge")):
                unique_id = f"{CP}_{connector_id}_{key}"
                reg_entry = registry.async_get(entity_id(hass, platform, unique_id))
                assert reg_entry.device_id == device.id, unique_id


async def test_unanswered_command_raises_translated_error(
    hass: HomeAssistant, setup_site: SetupSite
) -> None:
    """A charger that does not answer in time: a translated time-out error."""
    with patch(
        "custom_components.energy_coordinator.central_system.RESPONSE_TIMEOUT", 0.2
    ):
        entry = await setup_site()
    system = entry.runtime_data.system
    async with fake_charger(system, CP) as charger:
        await booted(hass, charger)
        charger.silent = True
        with pytest.raises(HomeAssistantError) as err:
            await hass.services.async_call(
                "number",
                "set_value",
                {
                    ATTR_ENTITY_ID: entity_id(hass, "number", f"{CP}_1_max_current"),
                    "value": 6,
                },
                blocking=True,
            )
        assert err.value.translation_key == "command_timeout"
        assert (
            str(err.value) == f"Charger {CP} did not answer SetChargingProfile in time"
        )
        # Nothing was applied.
        assert state(hass, "number", f"{CP}_1_max_current").state == STATE_UNKNOWN


@pytest.mark.parametrize("language", ["en", "pt-BR", "zh-Hans"])
async def test_every_entity_is_translated(
    hass: HomeAssistant, setup_site: SetupSite, language: str
) -> None:
    """Each translation key has a name (and enum states) in every language."""
    await setup_site()
    strings = await translation.async_get_translations(
        hass, language, "entity", {DOMAIN}
    )
    icons = json.loads(
        (Path(energy_coordinator.__file__).parent / "icons.json").read_text()
    )
    descriptions = {
        "sensor": (
            *sensor.CHARGER_SENSORS,
            *sensor.CONNECTOR_SENSORS,
            *site_sensor.DESCRIPTIONS,
            plan_sensor.PLAN,
        ),
        "binary_sensor": (
            *binary_sensor.CHARGER_BINARY_SENSORS,
            *binary_sensor.CONNECTOR_BINARY_SENSORS,
        ),
        "switch": switch.CONNECTOR_SWITCHES,
        "number": (*number.CONNECTOR_NUMBERS, *site_number.DESCRIPTIONS),
        "button": (
            *button.CHARGER_BUTTONS,
            *button.CONNECTOR_BUTTONS,
            *button.LOADPOINT_BUTTONS,
        ),
        "select": select.DESCRIPTIONS,
        "datetime": datetime.DESCRIPTIONS,
    }
    prefix = f"component.{DOMAIN}.entity"
    used: set[tuple[str, str]] = set()
    for platform, items in descriptions.items():
        for description in items:
            key = description.translation_key
            if key is None:
                assert description.device_class is not None, description.key
                continue
            used.add((platform, key))
            assert f"{prefix}.{platform}.{key}.name" in strings, (platform, key)
            for option in getattr(description, "options", None) or ():
                assert f"{prefix}.{platform}.{key}.state.{option}" in strings, option
    expected = {"en": "Connector status", "pt-BR": "Status do conector"}
    assert strings[f"{prefix}.sensor.connector_status.name"] == expected.get(
        language, "充电枪状态"
    )
    for platform, keys in icons["entity"].items():
        for key in keys:
            assert (platform, key) in used, ("icon without entity", platform, key)


async def test_device_follows_new_firmware(
    hass: HomeAssistant, setup_site: SetupSite
) -> None:
    """A reboot with new firmware updates the device's firmware and model."""
    entry = await setup_site()
    async with fake_charger(entry.runtime_data.system, CP) as charger:
        await booted(hass, charger)
        await charger.send(
            call.BootNotification(
                charge_point_model="Wallbox X2",
                charge_point_vendor="Acme",
                charge_point_serial_number="SN-1",
                firmware_version="2.0.0",
            )
        )
        await hass.async_block_till_done()
        device = dr.async_get(hass).async_get_device({charger_ident(hass, CP)})
        assert device is not None
        assert (device.model, device.sw_version) == ("Wallbox X2", "2.0.0")
