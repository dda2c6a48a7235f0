"""The site entities in a real HA core: site, solar, battery, house and EV loadpoints.

Source entities are plain HA states; chargers are real OCPP 1.6J clients over a
websocket on 127.0.0.1. The tests check what HA shows (states, units, device classes,
devices), that the settings entities change the stored loadpoint settings (and keep
them across a reload), the solar energy integration over a day, and the coordinator
status after the `coordinate` action.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.sensor import SensorDeviceClass, SensorStateClass
from homeassistant.const import (
    ATTR_DEVICE_CLASS,
    ATTR_ENTITY_ID,
    ATTR_UNIT_OF_MEASUREMENT,
    STATE_UNAVAILABLE,
    STATE_UNKNOWN,
)
from homeassistant.core import Event, HomeAssistant, State
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers import translation
from homeassistant.util import dt as dt_util
from ocpp.v16 import call
from pytest_homeassistant_custom_component.common import (
    async_fire_time_changed,
    async_mock_service,
    mock_restore_cache_with_extra_data,
)

from custom_components.energy_coordinator.const import DOMAIN
from custom_components.energy_coordinator.runtime import EnergyCoordinatorConfigEntry
from tests.fake_charge_point import FakeChargePoint, fake_charger

from .conftest import SetupSite, charger_ident, charger_uid, site_entry_id

CP = "CP1"
LP = f"{CP}/1"
POWER = {"unit_of_measurement": "W", "device_class": "power"}
KILOWATT = {"unit_of_measurement": "kW", "device_class": "power"}
PERCENT = {"unit_of_measurement": "%", "device_class": "battery"}


def uid(entry: EnergyCoordinatorConfigEntry, key: str) -> str:
    """Unique id of a site entity."""
    return f"{entry.entry_id}_{key}"


def lp_uid(
    entry: EnergyCoordinatorConfigEntry, key: str, charger: str = CP, conn: int = 1
) -> str:
    """Unique id of a loadpoint entity."""
    return f"{entry.entry_id}_loadpoint_{charger}_{conn}_{key}"


def entity_id(hass: HomeAssistant, platform: str, unique_id: str) -> str:
    """The entity id of one of our entities, by unique id."""
    found = er.async_get(hass).async_get_entity_id(
        platform, DOMAIN, charger_uid(hass, unique_id)
    )
    assert found is not None, f"{platform} {unique_id} not registered"
    return found


def state(hass: HomeAssistant, platform: str, unique_id: str) -> State:
    """The HA state of one of our entities."""
    current = hass.states.get(entity_id(hass, platform, unique_id))
    assert current is not None, unique_id
    return current


def device(hass: HomeAssistant, identifier: str) -> dr.DeviceEntry:
    """One of our devices, by identifier."""
    scoped = identifier.startswith(site_entry_id(hass))
    found = dr.async_get(hass).async_get_device(
        {(DOMAIN, identifier) if scoped else charger_ident(hass, identifier)}
    )
    assert found is not None, identifier
    return found


def sources(hass: HomeAssistant) -> dict[str, dict[str, Any]]:
    """Source entities of a site with PV, grid meter and battery (no house meter)."""
    hass.states.async_set("sensor.pv", "2.5", KILOWATT)
    hass.states.async_set("sensor.grid", "-500", POWER)
    hass.states.async_set("sensor.soc", "55", PERCENT)
    hass.states.async_set("sensor.batt", "-800", POWER)  # discharging positive
    return {
        "sources": {
            "pv_power_entity": "sensor.pv",
            "grid_power_entity": "sensor.grid",
            "battery_soc_entity": "sensor.soc",
            "battery_power_entity": "sensor.batt",
            "battery_power_sign": "discharging_positive",
        },
        "limits": {"battery_max_charge_w": 3000, "battery_max_discharge_w": 2500},
        "actuators": {"battery_script": "script.battery"},
    }


def grid_only(hass: HomeAssistant) -> dict[str, dict[str, Any]]:
    """A site measuring only its grid power: enough for EV loadpoints."""
    hass.states.async_set("sensor.grid", "0", POWER)
    return {"sources": {"grid_power_entity": "sensor.grid"}}


async def booted(
    hass: HomeAssistant, charger: FakeChargePoint, *connectors: int
) -> None:
    """Boot the charger and report its connectors as Available."""
    await charger.boot()
    for connector_id in (0, *(connectors or (1,))):
        await charger.send(
            call.StatusNotification(
                connector_id=connector_id, error_code="NoError", status="Available"
            )
        )
    await hass.async_block_till_done()


def sample(measurand: str, value: float, unit: str) -> dict[str, str]:
    """One sampledValue."""
    return {"measurand": measurand, "value": str(value), "unit": unit}


async def reload(
    hass: HomeAssistant,
    entry: EnergyCoordinatorConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Reload the entry (as after a restart), its settings written first."""
    # Settings are saved with a short delay; let it pass.
    freezer.tick(timedelta(seconds=30))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()


async def test_site_devices_and_measurements(
    hass: HomeAssistant, setup_site: SetupSite
) -> None:
    """Devices of the site's parts; mirrored measurements in W with the site's signs."""
    entry = await setup_site(site=sources(hass))

    site = device(hass, f"{entry.entry_id}_site")
    assert site.name == "Home"
    assert (site.manufacturer, site.model) == ("Energy Coordinator", "Site")
    for part, name, model in (
        ("solar", "Solar", "PV system"),
        ("battery", "Home battery", "Home battery"),
        ("house", "House load", "House load"),
    ):
        found = device(hass, f"{entry.entry_id}_{part}")
        assert found.name == name
        assert found.via_device_id == site.id
        assert (found.manufacturer, found.model) == ("Energy Coordinator", model)

    solar = state(hass, "sensor", uid(entry, "solar_power"))
    assert float(solar.state) == 2500  # kW converted
    assert solar.attributes[ATTR_UNIT_OF_MEASUREMENT] == "W"
    assert solar.attributes[ATTR_DEVICE_CLASS] == SensorDeviceClass.POWER
    assert solar.attributes["state_class"] == SensorStateClass.MEASUREMENT
    assert solar.attributes["friendly_name"] == "Solar Power"

    assert float(state(hass, "sensor", uid(entry, "grid_power")).state) == -500
    soc = state(hass, "sensor", uid(entry, "battery_soc"))
    assert float(soc.state) == 55
    assert soc.attributes[ATTR_DEVICE_CLASS] == SensorDeviceClass.BATTERY
    assert soc.attributes["friendly_name"] == "Home battery State of charge"
    # Discharging-positive source: 800 W charging shows as +800.
    assert float(state(hass, "sensor", uid(entry, "battery_power")).state) == 800

    # No house meter: derived as PV + grid - battery charging - EV.
    house = state(hass, "sensor", uid(entry, "house_power"))
    assert float(house.state) == 2500 - 500 - 800
    assert house.attributes["derived"] is True
    assert house.attributes["friendly_name"] == "House load Consumption"
    # Surplus: export plus what the battery takes.
    assert float(state(hass, "sensor", uid(entry, "surplus_power")).state) == 1300

    # Before any coordination.
    assert state(hass, "sensor", uid(entry, "coordinator_status")).state == (
        STATE_UNKNOWN
    )
    assert state(hass, "sensor", uid(entry, "last_decision")).state == STATE_UNKNOWN
    assert state(hass, "sensor", uid(entry, "shed_power")).state == STATE_UNKNOWN
    assert state(hass, "select", uid(entry, "battery_command")).state == "auto"

    # Sources change: the sensors follow.
    hass.states.async_set("sensor.pv", "3", KILOWATT)
    hass.states.async_set("sensor.batt", "400", POWER)  # now discharging
    await hass.async_block_till_done()
    assert float(state(hass, "sensor", uid(entry, "solar_power")).state) == 3000
    assert float(state(hass, "sensor", uid(entry, "battery_power")).state) == -400
    assert float(state(hass, "sensor", uid(entry, "house_power")).state) == 2900
    assert float(state(hass, "sensor", uid(entry, "surplus_power")).state) == 100

    # A source writing a change that shows nothing new writes nothing.
    ours = {
        reg.entity_id
        for reg in er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id)
    }
    writes: list[str] = []

    def count(event: Event) -> None:
        if event.data["entity_id"] in ours:
            writes.append(event.data["entity_id"])

    unsubscribe = hass.bus.async_listen("state_changed", count)
    hass.states.async_set("sensor.pv", "3", {**KILOWATT, "friendly_name": "PV"})
    await hass.async_block_till_done()
    assert writes == []
    hass.states.async_set("sensor.soc", "56", PERCENT)
    await hass.async_block_till_done()
    assert writes == [entity_id(hass, "sensor", uid(entry, "battery_soc"))]
    unsubscribe()

    # An unavailable source shows unknown, and the house cannot be derived.
    hass.states.async_set("sensor.grid", STATE_UNAVAILABLE)
    await hass.async_block_till_done()
    assert state(hass, "sensor", uid(entry, "grid_power")).state == STATE_UNKNOWN
    assert state(hass, "sensor", uid(entry, "house_power")).state == STATE_UNKNOWN


async def test_site_without_sources(hass: HomeAssistant, setup_site: SetupSite) -> None:
    """No PV or battery: no solar or battery device; the house and site remain."""
    entry = await setup_site()
    devices = dr.async_get(hass)
    assert devices.async_get_device({(DOMAIN, f"{entry.entry_id}_solar")}) is None
    assert devices.async_get_device({(DOMAIN, f"{entry.entry_id}_battery")}) is None
    device(hass, f"{entry.entry_id}_house")
    registry = er.async_get(hass)
    for platform, key in (
        ("sensor", "solar_power"),
        ("sensor", "solar_energy_today"),
        ("sensor", "battery_soc"),
        ("select", "battery_command"),
        ("sensor", "grid_power"),
    ):
        assert registry.async_get_entity_id(platform, DOMAIN, uid(entry, key)) is None
    assert state(hass, "sensor", uid(entry, "house_power")).state == STATE_UNKNOWN


async def test_parts_follow_the_configured_sources(
    hass: HomeAssistant, setup_site: SetupSite
) -> None:
    """Clearing the battery sources removes the battery device and its entities."""
    entry = await setup_site(site=sources(hass))
    soc_id = entity_id(hass, "sensor", uid(entry, "battery_soc"))
    hass.config_entries.async_update_entry(
        entry,
        options={
            **entry.options,
            "battery_soc_entity": None,
            "battery_power_entity": None,
        },
    )
    await hass.async_block_till_done()
    devices = dr.async_get(hass)
    assert devices.async_get_device({(DOMAIN, f"{entry.entry_id}_battery")}) is None
    assert er.async_get(hass).async_get(soc_id) is None
    assert hass.states.get(soc_id) is None
    device(hass, f"{entry.entry_id}_solar")
    assert float(state(hass, "sensor", uid(entry, "solar_power")).state) == 2500


async def test_house_meter_is_preferred(
    hass: HomeAssistant, setup_site: SetupSite
) -> None:
    """A configured house meter is shown as it is, not derived."""
    hass.states.async_set("sensor.house", "0.75", KILOWATT)
    entry = await setup_site(site={"sources": {"house_power_entity": "sensor.house"}})
    house = state(hass, "sensor", uid(entry, "house_power"))
    assert float(house.state) == 750
    assert house.attributes["derived"] is False


@pytest.mark.parametrize(
    ("option", "unit", "device_class"),
    [("ampere", "A", "current"), ("kilowatt", "kW", "power")],
    ids=["A", "kW"],
)
async def test_grid_limit(
    hass: HomeAssistant,
    setup_site: SetupSite,
    freezer: FrozenDateTimeFactory,
    option: str,
    unit: str,
    device_class: str,
) -> None:
    """The grid limit number shows the limit in force in the configured unit."""
    entry = await setup_site(
        site={"limits": {"grid_limit": 11, "grid_limit_unit": option}}
    )
    number_id = entity_id(hass, "number", uid(entry, "grid_limit"))
    limit = hass.states.get(number_id)
    assert float(limit.state) == 11
    assert limit.attributes[ATTR_UNIT_OF_MEASUREMENT] == unit
    assert limit.attributes[ATTR_DEVICE_CLASS] == device_class
    assert limit.attributes["friendly_name"] == "Home Grid limit"

    await hass.services.async_call(
        "number",
        "set_value",
        {ATTR_ENTITY_ID: number_id, "value": 9.5},
        blocking=True,
    )
    assert entry.runtime_data.site.grid_limit == 9.5
    assert float(hass.states.get(number_id).state) == 9.5

    await reload(hass, entry, freezer)
    assert entry.runtime_data.site.grid_limit == 9.5
    assert float(hass.states.get(number_id).state) == 9.5


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_loadpoint_entities_and_settings(
    hass: HomeAssistant, setup_site: SetupSite, freezer: FrozenDateTimeFactory
) -> None:
    """A charger's connector is an EV loadpoint whose settings entities are stored."""
    entry = await setup_site(site=grid_only(hass))
    site = entry.runtime_data.site
    async with fake_charger(entry.runtime_data.system, CP) as charger:
        await booted(hass, charger)

        loadpoint = device(hass, f"loadpoint_{CP}_1")
        assert loadpoint.name == f"EV {CP}"
        assert loadpoint.via_device_id == device(hass, CP).id
        assert loadpoint.manufacturer == "Energy Coordinator"
        assert loadpoint.model == "EV loadpoint"

        mode = state(hass, "select", lp_uid(entry, "charge_mode"))
        assert mode.state == "pv"
        assert mode.attributes["options"] == ["off", "now", "minpv", "pv", "plan"]
        assert mode.attributes["friendly_name"] == f"EV {CP} Charge mode"
        assert state(hass, "select", lp_uid(entry, "phases")).state == "auto"
        assert float(state(hass, "number", lp_uid(entry, "min_current")).state) == 6
        assert float(state(hass, "number", lp_uid(entry, "max_current")).state) == 16
        # What charging to a target needs comes when the loadpoint does: a car in
        # pv mode whose charger reports no SoC has none of it.
        registry = er.async_get(hass)
        on_demand = (
            ("number", "min_soc"),
            ("number", "target_soc"),
            ("number", "vehicle_capacity"),
            ("datetime", "target_time"),
            ("button", "clear_target_time"),
            ("sensor", "vehicle_soc"),
        )
        for platform, key in on_demand:
            assert (
                registry.async_get_entity_id(platform, DOMAIN, lp_uid(entry, key))
                is None
            ), key
        await hass.services.async_call(
            "select",
            "select_option",
            {
                ATTR_ENTITY_ID: entity_id(hass, "select", lp_uid(entry, "charge_mode")),
                "option": "plan",
            },
            blocking=True,
        )
        await hass.async_block_till_done()
        for platform, key in on_demand:
            assert registry.async_get_entity_id(platform, DOMAIN, lp_uid(entry, key))
        assert state(hass, "number", lp_uid(entry, "min_soc")).state == STATE_UNKNOWN
        assert float(state(hass, "number", lp_uid(entry, "target_soc")).state) == 80
        capacity = state(hass, "number", lp_uid(entry, "vehicle_capacity"))
        assert float(capacity.state) == 60
        assert capacity.attributes[ATTR_UNIT_OF_MEASUREMENT] == "kWh"
        assert state(hass, "datetime", lp_uid(entry, "target_time")).state == (
            STATE_UNKNOWN
        )
        power = state(hass, "sensor", lp_uid(entry, "charging_power"))
        assert float(power.state) == 0
        assert power.attributes[ATTR_DEVICE_CLASS] == SensorDeviceClass.POWER
        energy = state(hass, "sensor", lp_uid(entry, "session_energy"))
        assert energy.attributes[ATTR_DEVICE_CLASS] == SensorDeviceClass.ENERGY
        assert energy.attributes["state_class"] == SensorStateClass.TOTAL_INCREASING

        target = datetime(2030, 5, 1, 7, 30, tzinfo=dt_util.UTC)
        for platform, service, key, data in (
            ("select", "select_option", "charge_mode", {"option": "minpv"}),
            ("select", "select_option", "phases", {"option": "1"}),
            ("number", "set_value", "max_current", {"value": 20}),
            ("number", "set_value", "min_current", {"value": 8}),
            ("number", "set_value", "min_soc", {"value": 25}),
            ("number", "set_value", "target_soc", {"value": 90}),
            ("number", "set_value", "vehicle_capacity", {"value": 77.5}),
            ("datetime", "set_value", "target_time", {"datetime": target}),
        ):
            await hass.services.async_call(
                platform,
                service,
                {ATTR_ENTITY_ID: entity_id(hass, platform, lp_uid(entry, key)), **data},
                blocking=True,
            )
        expected = {
            "mode": "minpv",
            "phases": "1",
            "min_current_a": 8,
            "max_current_a": 20,
            "min_soc_pct": 25,
            "target_soc_pct": 90,
            "vehicle_capacity_kwh": 77.5,
        }
        settings = site.settings(LP)
        assert {key: getattr(settings, key) for key in expected} == expected
        assert dt_util.parse_datetime(settings.target_time) == target
        assert state(hass, "select", lp_uid(entry, "charge_mode")).state == "minpv"
        assert dt_util.parse_datetime(
            state(hass, "datetime", lp_uid(entry, "target_time")).state
        ) == (target)

        # The minimum current must stay at or below the maximum.
        with pytest.raises(ServiceValidationError) as err:
            await hass.services.async_call(
                "number",
                "set_value",
                {
                    ATTR_ENTITY_ID: entity_id(
                        hass, "number", lp_uid(entry, "min_current")
                    ),
                    "value": 24,
                },
                blocking=True,
            )
        assert err.value.translation_key == "min_current_above_max"
        assert site.settings(LP).min_current_a == 8

    # The charger is gone: settings stay available, measurements do not.
    await hass.async_block_till_done()
    await reload(hass, entry, freezer)
    site = entry.runtime_data.site
    settings = site.settings(LP)
    assert {key: getattr(settings, key) for key in expected} == expected
    assert state(hass, "select", lp_uid(entry, "charge_mode")).state == "minpv"
    assert float(state(hass, "number", lp_uid(entry, "max_current")).state) == 20
    assert state(hass, "sensor", lp_uid(entry, "charging_power")).state == (
        STATE_UNAVAILABLE
    )
    assert state(hass, "sensor", lp_uid(entry, "session_energy")).state == "0.0"


async def test_loadpoints_only_where_the_site_measures(
    hass: HomeAssistant, setup_site: SetupSite
) -> None:
    """EV devices exist while the site measures grid or PV power, and go after.

    Their charging power and session energy repeat the charger's own sensors, so
    they start disabled.
    """
    entry = await setup_site(site=grid_only(hass))
    async with fake_charger(entry.runtime_data.system, CP) as charger:
        await booted(hass, charger)
        registry = er.async_get(hass)
        for key in ("charging_power", "session_energy"):
            reg_entry = registry.async_get(
                entity_id(hass, "sensor", lp_uid(entry, key))
            )
            assert reg_entry is not None
            assert reg_entry.disabled_by is er.RegistryEntryDisabler.INTEGRATION
        mode_id = entity_id(hass, "select", lp_uid(entry, "charge_mode"))
        assert [lp for lp, _, _ in entry.runtime_data.site.loadpoint_connectors()] == [
            LP
        ]

        hass.config_entries.async_update_entry(
            entry, options={**entry.options, "grid_power_entity": None}
        )
        await hass.async_block_till_done()
        assert entry.runtime_data.site.loadpoint_connectors() == []
        assert (
            dr.async_get(hass).async_get_device(
                {charger_ident(hass, f"loadpoint_{CP}_1")}
            )
            is None
        )
        assert registry.async_get(mode_id) is None
        assert hass.states.get(mode_id) is None
        # The charger itself is untouched.
        assert state(hass, "sensor", f"{CP}_1_power") is not None
        response = await hass.services.async_call(
            DOMAIN, "coordinate", {"dry_run": True}, blocking=True, return_response=True
        )
        assert response["actions"]["vehicles"] == {}


async def test_measured_line_currents_keep_the_grid_limit(
    hass: HomeAssistant, setup_site: SetupSite
) -> None:
    """With a sensor per line, the EV gets what the busiest line leaves."""
    hass.states.async_set("sensor.grid", "3220", POWER)
    amps = {"unit_of_measurement": "A", "device_class": "current"}
    for line in ("l1", "l2", "l3"):
        hass.states.async_set(f"sensor.grid_{line}", "0", amps)
    entry = await setup_site(
        site={
            "sources": {
                "grid_power_entity": "sensor.grid",
                "grid_current_l1_entity": "sensor.grid_l1",
                "grid_current_l2_entity": "sensor.grid_l2",
                "grid_current_l3_entity": "sensor.grid_l3",
            },
            "limits": {
                "grid_limit": 16,
                "grid_limit_unit": "ampere",
                "site_phases": "3",
            },
        }
    )
    async with fake_charger(entry.runtime_data.system, CP) as charger:
        await booted(hass, charger)
        entry.runtime_data.site.update_settings(LP, mode="now", phases="3")

        async def current_a(l1: float) -> float:
            hass.states.async_set("sensor.grid_l1", str(l1), amps)
            response = await hass.services.async_call(
                DOMAIN,
                "coordinate",
                {"dry_run": True, "vehicles": {LP: {"connected": True}}},
                blocking=True,
                return_response=True,
            )
            return float(response["actions"]["vehicles"][LP]["current_a"])

        # The same 3.2 kW import, all of it on L1 (14 A) or spread out (4.7 A).
        assert await current_a(14.0) == 0  # 2 A left on L1: below 6 A, paused
        assert await current_a(4.7) == pytest.approx(11.3, abs=0.2)


async def test_loadpoints_of_later_chargers_and_connectors(
    hass: HomeAssistant, setup_site: SetupSite
) -> None:
    """Chargers added after setup, and connectors reported later, get loadpoints."""
    entry = await setup_site(site=grid_only(hass))
    async with (
        fake_charger(entry.runtime_data.system, CP) as first,
        fake_charger(entry.runtime_data.system, "CP2") as second,
    ):
        await booted(hass, first)
        await booted(hass, second)
        state(hass, "select", lp_uid(entry, "charge_mode"))
        state(hass, "select", lp_uid(entry, "charge_mode", "CP2"))

        await first.send(
            call.StatusNotification(
                connector_id=2, error_code="NoError", status="Available"
            )
        )
        await hass.async_block_till_done()
        second_lp = device(hass, f"loadpoint_{CP}_2")
        assert second_lp.name == f"EV {CP}/2"
        assert second_lp.via_device_id == device(hass, CP).id
        mode_2 = entity_id(hass, "select", lp_uid(entry, "charge_mode", conn=2))
        assert er.async_get(hass).async_get(mode_2).device_id == second_lp.id
        # The first loadpoint stays on its own device.
        mode_1 = entity_id(hass, "select", lp_uid(entry, "charge_mode"))
        first_lp = device(hass, f"loadpoint_{CP}_1")
        assert er.async_get(hass).async_get(mode_1).device_id == first_lp.id
        await hass.services.async_call(
            "select",
            "select_option",
            {ATTR_ENTITY_ID: mode_2, "option": "off"},
            blocking=True,
        )
        site = entry.runtime_data.site
        assert site.settings(f"{CP}/2").mode == "off"
        assert site.settings(LP).mode == "pv"


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_session_power_and_vehicle_soc(
    hass: HomeAssistant, setup_site: SetupSite
) -> None:
    """Charging power, session energy and the vehicle SoC with its sources."""
    entry = await setup_site(site=grid_only(hass))
    site = entry.runtime_data.site
    async with fake_charger(entry.runtime_data.system, CP) as charger:
        await booted(hass, charger)
        soc_uid = lp_uid(entry, "vehicle_soc")
        # No SoC source yet: no SoC sensor; it comes with the first source.
        registry = er.async_get(hass)
        assert registry.async_get_entity_id("sensor", DOMAIN, soc_uid) is None

        tx = await charger.start_tx(1, meter_start=1000)
        await charger.meter(
            1,
            tx,
            sample("Power.Active.Import", 7.2, "kW"),
            sample("Energy.Active.Import.Register", 1500, "Wh"),
        )
        await hass.async_block_till_done()
        assert float(state(hass, "sensor", lp_uid(entry, "charging_power")).state) == (
            7200
        )
        assert float(state(hass, "sensor", lp_uid(entry, "session_energy")).state) == (
            0.5
        )

        # The vehicle's own SoC entity: shown, and remembered with the session.
        hass.states.async_set("sensor.car_soc", "40", PERCENT)
        site.update_settings(LP, vehicle_soc_entity="sensor.car_soc")
        await hass.async_block_till_done()
        soc = state(hass, "sensor", soc_uid)
        assert float(soc.state) == 40
        assert soc.attributes["source"] == "entity"
        assert soc.attributes[ATTR_DEVICE_CLASS] == SensorDeviceClass.BATTERY
        hass.states.async_set("sensor.car_soc", "41", PERCENT)
        await hass.async_block_till_done()
        assert float(state(hass, "sensor", soc_uid).state) == 41

        # The car goes to sleep: estimated from the energy charged since.
        hass.states.async_set("sensor.car_soc", STATE_UNAVAILABLE)
        site.update_settings(LP, vehicle_capacity_kwh=60.0)
        await charger.meter(1, tx, sample("Energy.Active.Import.Register", 7500, "Wh"))
        await hass.async_block_till_done()
        soc = state(hass, "sensor", soc_uid)
        assert float(soc.state) == pytest.approx(51.0)  # 41 % + 6 kWh / 60 kWh
        assert soc.attributes["source"] == "estimate"

        # The charger's SoC measurand wins over an estimate.
        await charger.meter(1, tx, sample("SoC", 63, "Percent"))
        await hass.async_block_till_done()
        soc = state(hass, "sensor", soc_uid)
        assert (float(soc.state), soc.attributes["source"]) == (63, "charger")

        await charger.stop_tx(tx, 7500)
        await hass.async_block_till_done()
        assert float(state(hass, "sensor", lp_uid(entry, "charging_power")).state) == 0
        assert float(state(hass, "sensor", lp_uid(entry, "session_energy")).state) == (
            6.5
        )


async def test_solar_energy_today(
    hass: HomeAssistant, setup_site: SetupSite, freezer: FrozenDateTimeFactory
) -> None:
    """Integrated from the PV power, kept across a reload, restarted at midnight."""
    start = dt_util.start_of_local_day() + timedelta(hours=10)
    freezer.move_to(start)
    hass.states.async_set("sensor.pv", "1000", POWER)
    entry = await setup_site(site={"sources": {"pv_power_entity": "sensor.pv"}})
    energy_id = entity_id(hass, "sensor", uid(entry, "solar_energy_today"))
    energy = hass.states.get(energy_id)
    assert float(energy.state) == 0
    assert energy.attributes[ATTR_UNIT_OF_MEASUREMENT] == "kWh"
    assert energy.attributes[ATTR_DEVICE_CLASS] == SensorDeviceClass.ENERGY
    assert energy.attributes["state_class"] == SensorStateClass.TOTAL_INCREASING
    assert energy.attributes["friendly_name"] == "Solar Energy today"

    async def pv(watts: str, at: timedelta) -> float:
        freezer.move_to(start + at)
        hass.states.async_set("sensor.pv", watts, POWER)
        await hass.async_block_till_done()
        return float(hass.states.get(energy_id).state)

    # Left Riemann sum: each value counts until the next one.
    assert await pv("2000", timedelta(minutes=30)) == pytest.approx(0.5)
    assert await pv("unavailable", timedelta(minutes=45)) == pytest.approx(1.0)
    assert await pv("500", timedelta(hours=2)) == pytest.approx(1.0)  # nothing counted
    assert await pv("-20", timedelta(hours=3)) == pytest.approx(1.5)
    assert await pv("0", timedelta(hours=4)) == pytest.approx(1.5)  # never negative

    # A reload keeps today's energy, and the integration goes on.
    await reload(hass, entry, freezer)
    assert float(hass.states.get(energy_id).state) == pytest.approx(1.5)
    assert await pv("1000", timedelta(hours=5)) == pytest.approx(1.5)
    assert await pv("1000.5", timedelta(hours=6)) == pytest.approx(2.5)

    # Midnight: what was produced before it stays with the old day, then 0.
    midnight = dt_util.start_of_local_day() + timedelta(days=1)
    assert await pv("1000", midnight - start - timedelta(hours=1)) == pytest.approx(
        2.5 + 1000.5 * 7 / 1000, abs=0.001
    )
    freezer.move_to(midnight + timedelta(seconds=1))
    async_fire_time_changed(hass, midnight + timedelta(seconds=1))
    await hass.async_block_till_done()
    assert float(hass.states.get(energy_id).state) == pytest.approx(0.0, abs=0.001)
    assert await pv("0", midnight - start + timedelta(minutes=30)) == pytest.approx(0.5)


async def test_solar_energy_today_from_a_meter(
    hass: HomeAssistant, setup_site: SetupSite, freezer: FrozenDateTimeFactory
) -> None:
    """With a solar energy meter, today's energy is the meter's rise: in any unit
    HA converts, whatever the PV power says, across an unavailable spell and a
    reload, through a dip (ignored) and a new meter (counted from 0)."""
    meter_kwh = {ATTR_UNIT_OF_MEASUREMENT: "kWh", ATTR_DEVICE_CLASS: "energy"}
    start = dt_util.start_of_local_day() + timedelta(hours=10)
    freezer.move_to(start)
    hass.states.async_set("sensor.pv", "1000", POWER)
    hass.states.async_set("sensor.pv_meter", "1200.0", meter_kwh)
    entry = await setup_site(
        site={
            "sources": {
                "pv_power_entity": "sensor.pv",
                "pv_energy_entity": "sensor.pv_meter",
            }
        }
    )
    energy_id = entity_id(hass, "sensor", uid(entry, "solar_energy_today"))
    assert float(hass.states.get(energy_id).state) == 0

    async def meter(value: str, at: timedelta, unit: str = "kWh") -> float:
        freezer.move_to(start + at)
        attributes = meter_kwh | {ATTR_UNIT_OF_MEASUREMENT: unit}
        hass.states.async_set("sensor.pv_meter", value, attributes)
        await hass.async_block_till_done()
        return float(hass.states.get(energy_id).state)

    # Ten hours later at 1 kW the power would say 10 kWh: the meter says 3.
    assert await meter("1203.0", timedelta(hours=10)) == pytest.approx(3.0)
    assert await meter("unavailable", timedelta(hours=11)) == pytest.approx(3.0)
    assert await meter("1204500", timedelta(hours=12), "Wh") == pytest.approx(4.5)
    # A reload keeps the energy and the reading it counted up to.
    await reload(hass, entry, freezer)
    assert float(hass.states.get(energy_id).state) == pytest.approx(4.5)
    assert await meter("1205.0", timedelta(hours=12, minutes=30)) == pytest.approx(5.0)
    # A dip is ignored (no double count when it comes back); a reset counts from 0.
    assert await meter("1204.9", timedelta(hours=13)) == pytest.approx(5.0)
    assert await meter("1205.2", timedelta(hours=13, minutes=10)) == pytest.approx(5.2)
    assert await meter("0.3", timedelta(hours=13, minutes=20)) == pytest.approx(5.5)

    # Sources validate the meter's unit.
    hass.states.async_set("sensor.not_energy", "3", POWER)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": "sources"}
    )
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {
            "pv_energy_entity": "sensor.not_energy",
            "battery_power_sign": "charging_positive",
        },
    )
    assert result["errors"] == {"pv_energy_entity": "not_energy"}


@pytest.mark.parametrize(
    ("day", "expected"), [(0, 4.2), (-1, 0.0)], ids=["same day", "yesterday"]
)
async def test_solar_energy_restored_on_the_same_day_only(
    hass: HomeAssistant, setup_site: SetupSite, day: int, expected: float
) -> None:
    """After a restart, the stored energy continues only on the day it belongs to."""
    stored_day = (dt_util.now().date() + timedelta(days=day)).isoformat()
    mock_restore_cache_with_extra_data(
        hass,
        [
            (
                State("sensor.solar_energy_today", "4.2"),
                {
                    "native_value": 4.2,
                    "native_unit_of_measurement": "kWh",
                    "energy_wh": 4200.0,
                    "day": stored_day,
                },
            )
        ],
    )
    hass.states.async_set("sensor.pv", "0", POWER)
    entry = await setup_site(site={"sources": {"pv_power_entity": "sensor.pv"}})
    energy_id = entity_id(hass, "sensor", uid(entry, "solar_energy_today"))
    assert energy_id == "sensor.solar_energy_today"
    assert float(hass.states.get(energy_id).state) == expected


async def test_coordinator_status_and_battery_command(
    hass: HomeAssistant, setup_site: SetupSite, freezer: FrozenDateTimeFactory
) -> None:
    """The status follows each coordination; the battery command can be chosen."""
    script_calls = async_mock_service(hass, "script", "turn_on")
    entry = await setup_site(site=sources(hass))
    site = entry.runtime_data.site

    command = entity_id(hass, "select", uid(entry, "battery_command"))
    await hass.services.async_call(
        "select",
        "select_option",
        {ATTR_ENTITY_ID: command, "option": "charge"},
        blocking=True,
    )
    assert (site.battery_command.mode, site.battery_command.power_w) == ("charge", 3000)
    assert hass.states.get(command).state == "charge"
    command_power = state(hass, "sensor", uid(entry, "battery_command_power"))
    assert float(command_power.state) == 3000
    assert script_calls[-1].data["variables"] == {"mode": "charge", "power_w": 3000}

    response = await hass.services.async_call(
        DOMAIN, "coordinate", {"dry_run": False}, blocking=True, return_response=True
    )
    status = state(hass, "sensor", uid(entry, "coordinator_status"))
    codes = sorted({reason["code"] for reason in response["explanation"]})
    assert status.attributes["codes"] == codes
    assert status.attributes["explanation"] == response["explanation"]
    assert status.attributes["battery"] == response["actions"]["battery"]
    assert status.attributes["loads"] == response["actions"]["loads"]
    messages = [reason["message"] for reason in response["explanation"]]
    assert status.attributes["summary"] in messages
    # The state is what the site is doing, one of a few translated words.
    assert status.state == "idle"
    assert status.attributes["options"] == [
        "fallback",
        "grid_limited",
        "charging",
        "waiting_for_surplus",
        "idle",
    ]
    assert status.attributes["friendly_name"] == "Home Coordinator status"
    decided = state(hass, "sensor", uid(entry, "last_decision"))
    assert dt_util.parse_datetime(decided.state) == site.last.at.replace(microsecond=0)
    assert decided.attributes["friendly_name"] == "Home Last change of decision"

    # The same decision again: nothing new for the logbook or the recorder.
    freezer.tick(10)
    await hass.services.async_call(
        DOMAIN, "coordinate", {"dry_run": False}, blocking=True, return_response=True
    )
    assert state(hass, "sensor", uid(entry, "last_decision")).state == decided.state
    assert (
        state(hass, "sensor", uid(entry, "coordinator_status")).last_changed
        == status.last_changed
    )
    assert float(state(hass, "sensor", uid(entry, "shed_power")).state) == 0
    # The coordination decided the battery again: the manual command is replaced.
    assert response["actions"]["battery"]["mode"] != "charge"
    assert hass.states.get(command).state == response["actions"]["battery"]["mode"]

    # A dry run changes nothing shown.
    await hass.services.async_call(
        DOMAIN, "coordinate", {"dry_run": True}, blocking=True, return_response=True
    )
    assert state(hass, "sensor", uid(entry, "last_decision")).state == decided.state


@pytest.mark.parametrize("language", ["en", "pt-BR", "zh-Hans"])
async def test_devices_and_errors_are_translated(
    hass: HomeAssistant, language: str
) -> None:
    """The site parts' device names and the settings error exist in every language."""
    prefix = f"component.{DOMAIN}"
    devices = await translation.async_get_translations(
        hass, language, "device", {DOMAIN}
    )
    for key in ("solar", "battery", "house", "loadpoint"):
        assert f"{prefix}.device.{key}.name" in devices, key
    assert "{loadpoint}" in devices[f"{prefix}.device.loadpoint.name"]
    errors = await translation.async_get_translations(
        hass, language, "exceptions", {DOMAIN}
    )
    message = errors[f"{prefix}.exceptions.min_current_above_max.message"]
    assert all(f"{{{name}}}" in message for name in ("min", "max", "value"))


async def test_a_charger_reporting_the_soc_brings_the_soc_entities(
    hass: HomeAssistant, setup_site: SetupSite
) -> None:
    """The SoC sensor and the SoC settings appear when the charger first reports a
    SoC, showing it at once; the target time waits for a target."""
    entry = await setup_site(site=grid_only(hass))
    registry = er.async_get(hass)
    async with fake_charger(entry.runtime_data.system, CP) as charger:
        await booted(hass, charger)
        tx = await charger.start_tx(1, meter_start=1000)
        await charger.meter(1, tx, sample("Energy.Active.Import.Register", 1200, "Wh"))
        await hass.async_block_till_done()
        for platform, key in (("sensor", "vehicle_soc"), ("number", "target_soc")):
            uid = lp_uid(entry, key)
            assert registry.async_get_entity_id(platform, DOMAIN, uid) is None

        await charger.meter(1, tx, sample("SoC", 57, "Percent"))
        await hass.async_block_till_done()
        soc = state(hass, "sensor", lp_uid(entry, "vehicle_soc"))
        assert (float(soc.state), soc.attributes["source"]) == (57, "charger")
        assert float(state(hass, "number", lp_uid(entry, "target_soc")).state) == 80
        assert (
            registry.async_get_entity_id(
                "datetime", DOMAIN, lp_uid(entry, "target_time")
            )
            is None
        )


async def test_target_entities_once_made_stay_after_a_reload(
    hass: HomeAssistant, setup_site: SetupSite
) -> None:
    """An on-demand entity that was made stays: a reload adds it at once even when
    its loadpoint no longer charges to a target (its history and automations
    keep working)."""
    entry = await setup_site(site=grid_only(hass))
    site = entry.runtime_data.site
    async with fake_charger(entry.runtime_data.system, CP) as charger:
        await booted(hass, charger)
        site.update_settings(LP, mode="plan")
        await hass.async_block_till_done()
        site.update_settings(LP, mode="now")
        await hass.async_block_till_done()
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert state(hass, "datetime", lp_uid(entry, "target_time")).state == STATE_UNKNOWN
    assert float(state(hass, "number", lp_uid(entry, "target_soc")).state) == 80


async def test_a_script_choosing_plan_mode_sets_the_target_in_its_next_step(
    hass: HomeAssistant, setup_site: SetupSite
) -> None:
    """The documented automation: choose plan mode, then set the target SoC and
    time in the very next steps. The on-demand entities exist by then (no waiting
    in between)."""
    entry = await setup_site(site=grid_only(hass))
    site = entry.runtime_data.site
    async with fake_charger(entry.runtime_data.system, CP) as charger:
        await booted(hass, charger)
        target = datetime(2030, 5, 1, 7, 0, tzinfo=dt_util.UTC)
        await hass.services.async_call(
            "select",
            "select_option",
            {
                ATTR_ENTITY_ID: entity_id(hass, "select", lp_uid(entry, "charge_mode")),
                "option": "plan",
            },
            blocking=True,
        )
        # No block_till_done: the next step runs straight after the first.
        await hass.services.async_call(
            "number",
            "set_value",
            {
                ATTR_ENTITY_ID: entity_id(hass, "number", lp_uid(entry, "target_soc")),
                "value": 90,
            },
            blocking=True,
        )
        await hass.services.async_call(
            "datetime",
            "set_value",
            {
                ATTR_ENTITY_ID: entity_id(
                    hass, "datetime", lp_uid(entry, "target_time")
                ),
                "datetime": target,
            },
            blocking=True,
        )
        settings = site.settings(LP)
        assert settings.target_soc_pct == 90
        assert dt_util.parse_datetime(settings.target_time or "") == target
