"""End to end, issue 12 story 1: a new charger asks to join, the owner says yes.

A real `hass` runs a site whose charger policy is *ask*. An OCPP 1.6J and an OCPP
2.0.1 simulated charger boot for the first time over real websockets. Checked as
the owner meets it, through HA's public APIs:
- each charger is told Pending (not Accepted) and gets no device;
- a discovered-device flow per charger appears in HA (`config_entries/flow/
  progress`, what Settings > Devices & services shows as "Discovered"), naming the
  charger on its confirm form;
- the owner confirms it through the flow API; the flow ends (`charger_added`);
- the charger is Accepted at its next boot, its device carries the vendor and
  model it reported, and its entities exist with states;
- the approval lasts: booting again (a charger restart) is Accepted at once and
  no new flow appears.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from hass_process import DOMAIN, HassProcess, free_port

from simulator import ChargePoint16, ChargePoint201, SimulatedChargePoint
from tests.e2e.conftest import MakeHass
from tests.e2e.observe import NO_VALUE, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]

CP16 = "e2e-ask-16"
CP201 = "e2e-ask-201"


async def _discovered(ha: HassProcess) -> dict[str, dict[str, Any]]:
    """The integration's discovered-device flows in progress, by charger id."""
    flows = await ha.ws_command("config_entries/flow/progress")
    return {
        flow["context"]["title_placeholders"]["charger_id"]: flow
        for flow in flows
        if flow["handler"] == DOMAIN
        and flow["context"].get("source") == "integration_discovery"
    }


async def _charger_device(
    ha: HassProcess, entry_id: str, charger_id: str
) -> dict[str, Any] | None:
    devices = await ha.ws_command("config/device_registry/list")
    for device in devices:
        if [DOMAIN, f"{entry_id}_charger_{charger_id}"] in device["identifiers"]:
            return dict(device)
    return None


async def _charger_states(
    ha: HassProcess, entry_id: str, charger_id: str
) -> dict[str, str]:
    """entity id -> state of the charger's devices (the charger, its connectors)."""
    devices = await ha.ws_command("config/device_registry/list")
    prefix = f"{entry_id}_charger_{charger_id}"
    ids = {
        device["id"]
        for device in devices
        for domain, identifier in device["identifiers"]
        if domain == DOMAIN
        and (identifier == prefix or identifier.startswith(prefix + "/"))
    }
    entities = await ha.ws_command("config/entity_registry/list")
    wanted = {e["entity_id"] for e in entities if e.get("device_id") in ids}
    return {
        s["entity_id"]: s["state"]
        for s in await ha.states()
        if s["entity_id"] in wanted
    }


async def test_new_charger_is_added_through_the_discovery_flow(
    make_hass: MakeHass,
) -> None:
    ha = await make_hass()
    ocpp_port = free_port()
    entry = await ha.add_integration(
        site_name="Ask", ocpp_port=ocpp_port, charger_policy="ask"
    )
    entry_id = entry["entry_id"]
    url = f"ws://127.0.0.1:{ocpp_port}"
    options: dict[str, Any] = {
        "meter_interval": 0,
        "reconnect": True,
        "reconnect_delay": 0.5,
        "boot_retry_interval": 60.0,
    }
    chargers: dict[str, SimulatedChargePoint] = {
        CP16: ChargePoint16(CP16, url, **options),
        CP201: ChargePoint201(CP201, url, **options),
    }
    try:
        for charger in chargers.values():
            await charger.start()

        # First boot: Pending, and one discovered flow per charger.
        flows = await wait_for(
            lambda: _flows_for(ha, set(chargers)), 30, "a discovered flow per charger"
        )
        for charger_id, charger in chargers.items():
            assert charger.registration_status == "Pending", charger_id
            assert not charger.booted.is_set()
            assert await _charger_device(ha, entry_id, charger_id) is None
            flow = flows[charger_id]
            assert flow["step_id"] == "confirm_charger"
            form = await ha.get(f"/api/config/config_entries/flow/{flow['flow_id']}")
            assert form["type"] == "form"
            assert form["description_placeholders"]["charger_id"] == charger_id
            assert form["description_placeholders"]["site"] == "Ask"
            assert form["description_placeholders"]["vendor"] == "EnergyCoordinatorSim"

        # The owner confirms each one.
        for charger_id, charger in chargers.items():
            result = await ha.post(
                f"/api/config/config_entries/flow/{flows[charger_id]['flow_id']}",
                json={},
            )
            assert result["type"] == "abort", result
            assert result["reason"] == "charger_added"
            # Accepted at its next boot (the central system asks for it at once).
            await charger.wait_booted(20)
            assert charger.registration_status == "Accepted"
        assert await _discovered(ha) == {}

        for charger_id, charger in chargers.items():
            device = await wait_for(
                lambda cid=charger_id: _charger_device(ha, entry_id, cid),
                15,
                f"the device of {charger_id}",
            )
            assert device["manufacturer"] == "EnergyCoordinatorSim"
            assert device["model"] == charger.model
            assert device["serial_number"] == charger.serial_number

            async def with_states(cid: str = charger_id) -> dict[str, str] | None:
                states = await _charger_states(ha, entry_id, cid)
                live = {e: s for e, s in states.items() if s not in NO_VALUE}
                return (
                    states
                    if live and any(e.endswith("_power") for e in states)
                    else None
                )

            states = await wait_for(with_states, 15, f"the entities of {charger_id}")
            status = [
                e for e in states if e.startswith("sensor.") and e.endswith("_status")
            ]
            assert status, states
            assert all(states[e] not in NO_VALUE for e in status), states

        # The approval lasts: a charger restart boots Accepted, no new flow.
        again = chargers[CP16]
        await again.stop()
        chargers[CP16] = again = ChargePoint16(CP16, url, **options)
        await again.start()
        await again.wait_booted(20)
        assert again.registration_status == "Accepted"
        await asyncio.sleep(1.0)
        assert await _discovered(ha) == {}
    finally:
        for charger in chargers.values():
            await charger.stop()


async def _flows_for(
    ha: HassProcess, charger_ids: set[str]
) -> dict[str, dict[str, Any]] | None:
    flows = await _discovered(ha)
    return flows if charger_ids <= flows.keys() else None
