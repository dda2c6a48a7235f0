"""End to end: a real `hass` process, the integration added over REST, one simulated
OCPP 1.6J charger running a full session, and the result read back over REST.

What is checked, all through Home Assistant's public HTTP/WebSocket APIs:
- the config flow (POST /api/config/config_entries/flow) creates a loaded entry;
- the charger boots, gets a device, and its connector's energy sensor
  (device_class energy, state_class total_increasing) shows the session's energy;
- `energy_coordinator.get_sessions` (?return_response) returns the finished session
  with that energy, the charger id, the tag and the stop reason;
- HA's log has no warning or error from the integration and no deprecation notice.
"""

from __future__ import annotations

import asyncio
import re
import time
from typing import Any

import pytest
from hass_process import DOMAIN, HassProcess, free_port

from simulator import ChargePoint16

pytestmark = pytest.mark.e2e

CHARGER_ID = "e2e-cp-001"
ID_TAG = "E2ETAG01"


async def _charger_entities(ha: HassProcess, charger_id: str) -> list[str]:
    """Entity ids of a charger's devices (the charger and its connectors)."""
    devices = await ha.ws_command("config/device_registry/list")
    device_ids = {
        device["id"]
        for device in devices
        for domain, identifier in device["identifiers"]
        for entry_id in device["config_entries"]
        if domain == DOMAIN
        and identifier.startswith(f"{entry_id}_charger_")
        and identifier.removeprefix(f"{entry_id}_charger_").split("/")[0] == charger_id
    }
    entities = await ha.ws_command("config/entity_registry/list")
    return [e["entity_id"] for e in entities if e.get("device_id") in device_ids]


def _kwh(state: dict[str, Any]) -> float:
    value = float(state["state"])
    unit = state["attributes"].get("unit_of_measurement")
    return {"Wh": value / 1000, "kWh": value, "MWh": value * 1000}[unit]


async def _energy_sensor_kwh(
    ha: HassProcess, entity_ids: list[str], expected: float, within: float = 10.0
) -> tuple[str, float]:
    """Wait until the charger's total-energy sensor reports `expected` kWh."""
    deadline = time.monotonic() + within
    seen: dict[str, str] = {}
    while True:
        states = {s["entity_id"]: s for s in await ha.states("sensor.")}
        for entity_id in entity_ids:
            state = states.get(entity_id)
            if state is None:
                continue
            attrs = state["attributes"]
            if (
                attrs.get("device_class") == "energy"
                and attrs.get("state_class") == "total_increasing"
                and state["state"] not in ("unknown", "unavailable")
            ):
                seen[entity_id] = state["state"]
                if abs(_kwh(state) - expected) <= 0.002:
                    return entity_id, _kwh(state)
        if time.monotonic() >= deadline:
            pytest.fail(f"no energy sensor shows {expected} kWh; saw {seen}")
        await asyncio.sleep(0.25)


async def test_session_energy_reaches_home_assistant(hass_proc: HassProcess) -> None:
    """A 1.6J charger's session shows in the energy sensor and in get_sessions."""
    ha = hass_proc
    ocpp_port = free_port()
    entry = await ha.add_integration(
        site_name="E2E site", ocpp_port=ocpp_port, charger_policy="accept"
    )
    assert entry["domain"] == DOMAIN
    assert entry["state"] == "loaded"

    charger = ChargePoint16(
        CHARGER_ID,
        f"ws://127.0.0.1:{ocpp_port}",
        meter_interval=1.0,
        speed=60.0,  # about 370 Wh per second at 22 kW
        reconnect=False,
    )
    await charger.start()
    try:
        await charger.wait_booted(15)
        assert charger.registration_status == "Accepted"
        transaction_id = await charger.authorize_and_start(1, ID_TAG)
        assert transaction_id is not None
        connector = charger.connector(1)
        await asyncio.sleep(3.5)  # a few MeterValues at 1 s
        await charger.stop_transaction(1)
        meter_start = round(connector.meter_start_wh)
        meter_stop = round(connector.energy_wh)
    finally:
        await charger.stop()
    expected_kwh = (meter_stop - meter_start) / 1000
    assert expected_kwh > 0.5

    # The connector's energy sensor (Energy dashboard ready).
    entity_ids = await _charger_entities(ha, CHARGER_ID)
    assert entity_ids, "the charger has no entities"
    _, sensor_kwh = await _energy_sensor_kwh(ha, entity_ids, expected_kwh)
    assert sensor_kwh == pytest.approx(expected_kwh, abs=0.002)

    # The session ledger, through the action with response data.
    services = {s["domain"]: s["services"] for s in await ha.get("/api/services")}
    assert "get_sessions" in services.get(DOMAIN, {})
    response = await ha.call_service(DOMAIN, "get_sessions", {}, return_response=True)
    sessions = response["service_response"]["sessions"]
    ours = [s for s in sessions if s["charger_id"] == CHARGER_ID]
    assert len(ours) == 1, sessions
    session = ours[0]
    assert session["active"] is False
    assert session["id_tag"] == ID_TAG
    assert session["connector_id"] == 1
    assert session["stop_reason"] == "Local"
    assert session["energy_kwh"] == pytest.approx(expected_kwh, abs=0.002)
    assert response["service_response"]["total_energy_kwh"] == pytest.approx(
        expected_kwh, abs=0.002
    )

    # Nothing went wrong on the way (HA's own log of the real process).
    log = ha.log_path.read_text(encoding="utf-8", errors="replace")
    problems = [
        line
        for line in log.splitlines()
        if re.search(r" (WARNING|ERROR|CRITICAL) .*custom_components\.energy", line)
        or ("deprecat" in line.lower() and DOMAIN in line)
    ]
    assert not problems, "\n".join(problems)
