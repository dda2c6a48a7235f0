"""The charger entities driven by the simulator, over OCPP 1.6J and 2.0.1.

A simulated two-connector charger with an EV connects to the site; the entities show
its devices and a whole session started and stopped from HA.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from homeassistant.const import ATTR_ENTITY_ID, STATE_OFF, STATE_ON
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er

from custom_components.energy_coordinator.const import DOMAIN
from custom_components.energy_coordinator.runtime import EnergyCoordinatorConfigEntry
from simulator import ChargePoint16, ChargePoint201, SimulatedChargePoint

from .conftest import SetupSite, charger_ident, charger_uid

CP = "SIM1"

type MakeSim = Callable[[EnergyCoordinatorConfigEntry], SimulatedChargePoint]


@pytest.fixture
async def make_sim(
    request: pytest.FixtureRequest,
) -> AsyncIterator[MakeSim]:
    """Create a fast two-connector simulator of the requested version."""
    sims: list[SimulatedChargePoint] = []

    def make(entry: EnergyCoordinatorConfigEntry) -> SimulatedChargePoint:
        cls = request.param
        sim: SimulatedChargePoint = cls(
            CP,
            f"ws://127.0.0.1:{entry.runtime_data.system.port}",
            connectors=2,
            meter_interval=0.1,
            heartbeat_interval=60,
            reconnect=False,
            step_delay=0.0,
            seed=1,
        )
        sims.append(sim)
        return sim

    yield make
    for sim in sims:
        await sim.stop()


def entity_id(hass: HomeAssistant, platform: str, unique_id: str) -> str:
    """The entity id of one of our entities, by unique id."""
    found = er.async_get(hass).async_get_entity_id(
        platform, DOMAIN, charger_uid(hass, unique_id)
    )
    assert found is not None, f"{platform} {unique_id} not registered"
    return found


def value(hass: HomeAssistant, platform: str, unique_id: str) -> Any:
    """The state string of one of our entities."""
    current = hass.states.get(entity_id(hass, platform, unique_id))
    return None if current is None else current.state


def number_of(hass: HomeAssistant, platform: str, unique_id: str) -> float:
    """The numeric state of one of our entities (0 while unknown)."""
    try:
        return float(value(hass, platform, unique_id))
    except (TypeError, ValueError):
        return 0.0


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
@pytest.mark.parametrize(
    "make_sim", [ChargePoint16, ChargePoint201], indirect=True, ids=["1.6", "2.0.1"]
)
async def test_session_from_home_assistant(
    hass: HomeAssistant, setup_site: SetupSite, make_sim: MakeSim
) -> None:
    """Plug in, switch charging on, limit the current, switch off."""
    entry = await setup_site()
    sim = make_sim(entry)
    await sim.start()
    await sim.wait_booted()
    await sim.wait_until(
        lambda: len(entry.runtime_data.system.chargers[CP].connectors) == 2
    )
    await hass.async_block_till_done()

    devices = dr.async_get(hass)
    charger_device = devices.async_get_device({charger_ident(hass, CP)})
    assert charger_device is not None
    assert charger_device.manufacturer
    for connector_id in (1, 2):
        device = devices.async_get_device({charger_ident(hass, f"{CP}/{connector_id}")})
        assert device is not None
        assert device.via_device_id == charger_device.id
    connected = hass.states.get(entity_id(hass, "binary_sensor", f"{CP}_connected"))
    assert connected is not None
    assert connected.attributes["ocpp_version"] == sim.ocpp_version
    # The charger-wide status is connector 0 of OCPP 1.6; 2.0.1 has none.
    charger_status = er.async_get(hass).async_get_entity_id(
        "sensor", DOMAIN, charger_uid(hass, f"{CP}_status")
    )
    assert (charger_status is not None) == (sim.ocpp_version == "1.6")

    await sim.plug_in(2)
    await sim.wait_until(
        lambda: value(hass, "binary_sensor", f"{CP}_2_plugged") == STATE_ON
    )
    assert value(hass, "binary_sensor", f"{CP}_1_plugged") == STATE_OFF

    charge = entity_id(hass, "switch", f"{CP}_2_charge")
    await hass.services.async_call(
        "switch", "turn_on", {ATTR_ENTITY_ID: charge}, blocking=True
    )
    await sim.wait_until(lambda: hass.states.get(charge).state == STATE_ON)
    await sim.wait_until(
        lambda: value(hass, "sensor", f"{CP}_2_connector_status") == "charging"
    )
    await sim.wait_until(lambda: number_of(hass, "sensor", f"{CP}_2_power") > 0)
    assert value(hass, "sensor", f"{CP}_2_id_tag") == "energy-coordinator"

    await hass.services.async_call(
        "number",
        "set_value",
        {ATTR_ENTITY_ID: entity_id(hass, "number", f"{CP}_2_max_current"), "value": 8},
        blocking=True,
    )
    assert number_of(hass, "number", f"{CP}_2_max_current") == 8
    await sim.wait_until(
        lambda: 0 < number_of(hass, "sensor", f"{CP}_2_current") <= 8 * 3
    )
    await sim.wait_until(
        lambda: number_of(hass, "sensor", f"{CP}_2_session_energy") > 0
    )

    await hass.services.async_call(
        "switch", "turn_off", {ATTR_ENTITY_ID: charge}, blocking=True
    )
    await sim.wait_until(lambda: hass.states.get(charge).state == STATE_OFF)
    session = number_of(hass, "sensor", f"{CP}_2_session_energy")
    total = number_of(hass, "sensor", f"{CP}_2_energy")
    assert session > 0
    assert total >= session
    assert value(hass, "sensor", f"{CP}_2_session_duration") == "0"
    # The status follows in its own StatusNotification, after the stop.
    await sim.wait_until(
        lambda: value(hass, "sensor", f"{CP}_2_connector_status") != "charging"
    )
