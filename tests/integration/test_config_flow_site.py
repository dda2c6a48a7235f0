"""Config flow for the site: measurements, limits, actuators, flexible loads."""

from __future__ import annotations

import math
from typing import Any

import pytest
from homeassistant.config_entries import SOURCE_USER
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.util import dt as dt_util

from custom_components.energy_coordinator.const import DOMAIN

from .conftest import SetupSite, free_port

pytestmark = pytest.mark.usefixtures("socket_enabled")


def _sources(hass: HomeAssistant) -> None:
    hass.states.async_set(
        "sensor.pv", "1200", {"unit_of_measurement": "W", "device_class": "power"}
    )
    hass.states.async_set(
        "sensor.grid", "-0.5", {"unit_of_measurement": "kW", "device_class": "power"}
    )
    hass.states.async_set(
        "sensor.soc", "55", {"unit_of_measurement": "%", "device_class": "battery"}
    )
    hass.states.async_set("sensor.batt", "300", {"unit_of_measurement": "W"})
    hass.states.async_set("sensor.temp", "21", {"unit_of_measurement": "°C"})
    for line, amps in (("l1", "12.5"), ("l2", "3"), ("l3", "-2")):
        hass.states.async_set(
            f"sensor.grid_{line}",
            amps,
            {"unit_of_measurement": "A", "device_class": "current"},
        )
    hass.states.async_set("switch.boiler", "on")


async def _to_sources(hass: HomeAssistant) -> Any:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    return await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {"site_name": "Home", "ocpp_port": free_port(), "charger_policy": "accept"},
    )


async def test_full_site_setup(hass: HomeAssistant) -> None:
    """All steps with valid values create one entry holding them."""
    _sources(hass)
    result = await _to_sources(hass)
    assert result["step_id"] == "sources"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            "pv_power_entity": "sensor.pv",
            "grid_power_entity": "sensor.grid",
            "battery_soc_entity": "sensor.soc",
            "battery_power_entity": "sensor.batt",
            "battery_power_sign": "discharging_positive",
        },
    )
    assert result["step_id"] == "limits"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            "grid_limit": 11,
            "grid_limit_unit": "kilowatt",
            "site_phases": "1",
            "site_voltage": 230,
            "battery_capacity_kwh": 10,
            "battery_priority_soc": 30,
            "battery_buffer_soc": 90,
            "ev_fallback": "minimum",
            "charger_sharing": "priority",
        },
    )
    assert result["step_id"] == "actuators"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"loop_interval": 10}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    data = result["result"].data
    assert data["pv_power_entity"] == "sensor.pv"
    assert data["battery_power_sign"] == "discharging_positive"
    assert data["site_phases"] == 1
    assert data["grid_limit_unit"] == "kilowatt"
    assert data["loop_interval"] == 10
    assert "house_power_entity" not in data
    await hass.async_block_till_done()
    await hass.config_entries.async_unload(result["result"].entry_id)


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        ({"pv_power_entity": "sensor.temp"}, {"pv_power_entity": "not_power"}),
        (
            {"grid_power_entity": "sensor.nope"},
            {"grid_power_entity": "entity_not_found"},
        ),
        ({"battery_soc_entity": "sensor.pv"}, {"battery_soc_entity": "not_percentage"}),
        (
            {"grid_current_l1_entity": "sensor.pv"},
            {"grid_current_l1_entity": "not_current"},
        ),
        (
            {
                "grid_current_l1_entity": "sensor.grid_l1",
                "grid_current_l2_entity": "sensor.grid_l2",
            },
            {"grid_current_l3_entity": "grid_currents_incomplete"},
        ),
    ],
)
async def test_source_errors(
    hass: HomeAssistant, fields: dict[str, str], errors: dict[str, str]
) -> None:
    """A source with the wrong unit or that does not exist is a form error."""
    _sources(hass)
    result = await _to_sources(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"battery_power_sign": "charging_positive", **fields}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "sources"
    assert result["errors"] == errors


async def test_line_currents_and_inverter_phases(
    hass: HomeAssistant, setup_site: SetupSite
) -> None:
    """Per-line grid currents and three-phase inverters reach the coordinator.

    The core then keeps the grid limit from the measured line currents, and counts
    PV and battery power as spread over the three lines.
    """
    _sources(hass)
    entry = await setup_site(
        site={
            "sources": {
                "grid_power_entity": "sensor.grid",
                "battery_soc_entity": "sensor.soc",
                "grid_current_l1_entity": "sensor.grid_l1",
                "grid_current_l2_entity": "sensor.grid_l2",
                "grid_current_l3_entity": "sensor.grid_l3",
            },
            "limits": {"site_phases": "3", "pv_phases": "3", "battery_phases": "3"},
        }
    )
    assert entry.data["pv_phases"] == 3
    site = entry.runtime_data.site
    snapshot = site.snapshot(dt_util.utcnow())
    assert snapshot.grid_phase_currents_a == (12.5, 3.0, -2.0)
    assert snapshot.pv_phases == 3
    assert snapshot.battery is not None
    assert snapshot.battery.phases == 3
    # A line sensor that goes away is reported, not read as 0 A.
    hass.states.async_set("sensor.grid_l2", "unavailable")
    snapshot = site.snapshot(dt_util.utcnow())
    assert snapshot.grid_phase_currents_a is not None
    assert math.isnan(snapshot.grid_phase_currents_a[1])
    # On a one-phase site, three line sensors do not apply.
    hass.config_entries.async_update_entry(
        entry, options={**entry.options, "site_phases": 1}
    )
    await hass.async_block_till_done()
    snapshot = entry.runtime_data.site.snapshot(dt_util.utcnow())
    assert snapshot.grid_phase_currents_a is None


async def test_limit_and_actuator_errors(hass: HomeAssistant) -> None:
    """Buffer below priority and a too-fast loop are refused."""
    result = await _to_sources(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"battery_priority_soc": 50, "battery_buffer_soc": 40}
    )
    assert result["errors"] == {"battery_buffer_soc": "buffer_below_priority"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"battery_priority_soc": 20, "battery_buffer_soc": 40}
    )
    assert result["step_id"] == "actuators"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"loop_interval": 2}
    )
    assert result["errors"] == {"loop_interval": "loop_too_fast"}


async def test_options_change_and_clear_sources(
    hass: HomeAssistant, setup_site: SetupSite
) -> None:
    """Options steps change the site; a cleared source stays cleared."""
    _sources(hass)
    entry = await setup_site(
        site={
            "sources": {
                "pv_power_entity": "sensor.pv",
                "grid_power_entity": "sensor.grid",
            }
        }
    )
    assert entry.data["pv_power_entity"] == "sensor.pv"
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.MENU
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": "sources"}
    )
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {"grid_power_entity": "sensor.grid", "battery_power_sign": "charging_positive"},
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    merged = {**entry.data, **entry.options}
    assert merged["pv_power_entity"] is None
    assert merged["grid_power_entity"] == "sensor.grid"

    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": "limits"}
    )
    assert result["step_id"] == "limits"
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"grid_limit": 16, "site_phases": "3"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert entry.options["grid_limit"] == 16
    assert entry.options["site_phases"] == 3


async def test_flexible_load_subentries(
    hass: HomeAssistant, setup_site: SetupSite
) -> None:
    """Loads are added, refused twice, and reconfigured as subentries."""
    _sources(hass)
    entry = await setup_site()
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, "flexible_load"), context={"source": SOURCE_USER}
    )
    assert result["type"] is FlowResultType.FORM
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"],
        {"entity_id": "switch.boiler", "power_w": 2000, "priority": 1},
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    (subentry,) = entry.subentries.values()
    assert subentry.data == {
        "entity_id": "switch.boiler",
        "power_w": 2000.0,
        "priority": 1,
    }
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, "flexible_load"), context={"source": SOURCE_USER}
    )
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"],
        {"entity_id": "switch.boiler", "power_w": 100, "priority": 0},
    )
    assert result["errors"] == {"entity_id": "load_already_added"}
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"],
        {"entity_id": "switch.not_there", "power_w": 100, "priority": 0},
    )
    assert result["errors"] == {"entity_id": "entity_not_found"}
    assert len(entry.subentries) == 1

    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, "flexible_load"),
        context={"source": "reconfigure", "subentry_id": subentry.subentry_id},
    )
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"],
        {"entity_id": "switch.boiler", "power_w": 2500, "priority": 3},
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert entry.subentries[subentry.subentry_id].data["power_w"] == 2500.0


async def test_vehicle_options(hass: HomeAssistant, setup_site: SetupSite) -> None:
    """A loadpoint's vehicle SoC source and priority are set in the options."""
    from ocpp.v16 import call

    from tests.fake_charge_point import fake_charger

    hass.states.async_set("sensor.car_soc", "64", {"unit_of_measurement": "%"})
    hass.states.async_set("sensor.car_range", "300", {"unit_of_measurement": "km"})
    hass.states.async_set(
        "sensor.grid", "0", {"unit_of_measurement": "W", "device_class": "power"}
    )
    entry = await setup_site(site={"sources": {"grid_power_entity": "sensor.grid"}})
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": "vehicles"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "no_loadpoints"

    async with fake_charger(entry.runtime_data.system, "CPV") as charger:
        await charger.boot()
        await charger.send(
            call.StatusNotification(
                connector_id=1, error_code="NoError", status="Available"
            )
        )
        await hass.async_block_till_done()
        result = await hass.config_entries.options.async_init(entry.entry_id)
        result = await hass.config_entries.options.async_configure(
            result["flow_id"], {"next_step_id": "vehicles"}
        )
        assert result["step_id"] == "vehicles"
        result = await hass.config_entries.options.async_configure(
            result["flow_id"], {"loadpoint": "CPV/1"}
        )
        assert result["step_id"] == "vehicle"
        result = await hass.config_entries.options.async_configure(
            result["flow_id"], {"vehicle_soc_entity": "sensor.car_range", "priority": 2}
        )
        assert result["errors"] == {"vehicle_soc_entity": "not_percentage"}
        result = await hass.config_entries.options.async_configure(
            result["flow_id"], {"vehicle_soc_entity": "sensor.car_gone", "priority": 2}
        )
        assert result["errors"] == {"vehicle_soc_entity": "entity_not_found"}
        result = await hass.config_entries.options.async_configure(
            result["flow_id"], {"vehicle_soc_entity": "sensor.car_soc", "priority": 2}
        )
        assert result["type"] is FlowResultType.CREATE_ENTRY
        await hass.async_block_till_done()
        settings = entry.runtime_data.site.settings("CPV/1")
        assert settings.vehicle_soc_entity == "sensor.car_soc"
        assert settings.priority == 2


async def test_options_actuators(hass: HomeAssistant, setup_site: SetupSite) -> None:
    """The battery script and the loop interval change in the options."""
    hass.states.async_set("script.battery", "off")
    entry = await setup_site()

    async def actuators(values: dict[str, Any]) -> Any:
        result = await hass.config_entries.options.async_init(entry.entry_id)
        result = await hass.config_entries.options.async_configure(
            result["flow_id"], {"next_step_id": "actuators"}
        )
        assert result["step_id"] == "actuators"
        return await hass.config_entries.options.async_configure(
            result["flow_id"], values
        )

    result = await actuators({"battery_script": "script.battery", "loop_interval": 3})
    assert result["errors"] == {"loop_interval": "loop_too_fast"}
    assert "loop_interval" not in entry.options
    result = await actuators({"battery_script": "script.battery", "loop_interval": 30})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert entry.options["battery_script"] == "script.battery"
    assert entry.options["loop_interval"] == 30
    assert entry.runtime_data.site.options["loop_interval"] == 30

    # A cleared field is left out of the submitted form.
    result = await actuators({"loop_interval": 0})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert entry.options["battery_script"] is None
    assert entry.options["loop_interval"] == 0


async def test_vehicles_of_an_unloaded_site(
    hass: HomeAssistant, setup_site: SetupSite
) -> None:
    """The vehicle options need the running site; unloaded, the step ends."""
    entry = await setup_site()
    assert await hass.config_entries.async_unload(entry.entry_id)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": "vehicles"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "site_not_loaded"
