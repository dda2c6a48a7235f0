"""The same actions against a simulated OCPP 2.0.1 charging station."""

from __future__ import annotations

from typing import Any

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError

from custom_components.energy_coordinator.csms.ocpp201 import PROFILE_STACK_LEVEL
from simulator.base import SimulatedChargePoint
from simulator.charge_point201 import ChargePoint201

from .test_services import (
    Received,
    StartCharger,
    call,
    charger_device,
    site,
    start_charger,
    wait_for,
)

__all__ = ["site", "start_charger"]  # fixtures used here


@pytest.fixture
async def station(site: Any, start_charger: StartCharger) -> SimulatedChargePoint:
    """A booted OCPP 2.0.1 station, CS1, with one EVSE."""
    return await start_charger(site, "CS1", ChargePoint201)


@pytest.fixture
def device_id(hass: HomeAssistant, site: Any, station: SimulatedChargePoint) -> str:
    """The device id of CS1."""
    return charger_device(hass, site, "CS1").id


async def test_start_and_stop(
    hass: HomeAssistant, site: Any, station: SimulatedChargePoint, device_id: str
) -> None:
    """RequestStart carries the remote id token; RequestStop the transaction id."""
    received = Received(station)
    await call(hass, "start_charging", {"device_id": device_id})
    frame = received.one("RequestStartTransaction")
    assert frame["idToken"] == {"idToken": "energy-coordinator", "type": "Central"}
    assert frame["evseId"] == 1
    evse = site.runtime_data.system.chargers["CS1"].connectors[1]
    await wait_for(lambda: evse.transaction is not None)
    assert evse.transaction is not None
    transaction_id = evse.transaction.transaction_id

    await call(hass, "stop_charging", {"device_id": device_id})
    assert received.one("RequestStopTransaction") == {"transactionId": transaction_id}
    await wait_for(lambda: evse.transaction is None)


async def test_remote_start_without_id_token(
    hass: HomeAssistant, site: Any, station: SimulatedChargePoint, device_id: str
) -> None:
    """A station whose Started event has only the remoteStartId: the tag we sent."""
    assert isinstance(station, ChargePoint201)
    station.token_on_remote_start = False
    received = Received(station)
    await call(hass, "start_charging", {"device_id": device_id, "id_tag": "CARD-7"})
    frame = received.one("RequestStartTransaction")
    evse = site.runtime_data.system.chargers["CS1"].connectors[1]
    await wait_for(lambda: evse.transaction is not None)
    assert evse.transaction is not None
    assert evse.transaction.id_tag == "CARD-7"
    records, _, _ = await site.runtime_data.store.query_sessions(charger_id="CS1")
    assert records[0].id_tag == "CARD-7"
    assert frame["remoteStartId"] > 0


@pytest.mark.parametrize(
    ("service", "data", "action", "expected"),
    [
        ("reset", {"kind": "hard"}, "Reset", {"type": "Immediate"}),
        ("reset", {"kind": "soft"}, "Reset", {"type": "OnIdle"}),
        ("unlock", {}, "UnlockConnector", {"evseId": 1, "connectorId": 1}),
        (
            "set_availability",
            {"available": False},
            "ChangeAvailability",
            {"operationalStatus": "Inoperative", "evse": {"id": 1}},
        ),
        (
            "set_availability",
            {"available": True, "connector_id": 0},
            "ChangeAvailability",
            {"operationalStatus": "Operative"},
        ),
        (
            "trigger_message",
            {"message": "diagnostics_status_notification"},
            "TriggerMessage",
            {"requestedMessage": "LogStatusNotification"},
        ),
        (
            "trigger_message",
            {"message": "meter_values", "connector_id": 1},
            "TriggerMessage",
            {"requestedMessage": "MeterValues", "evse": {"id": 1}},
        ),
        (
            "clear_current_limit",
            {"connector_id": 1},
            "ClearChargingProfile",
            {
                "chargingProfileCriteria": {
                    "evseId": 1,
                    "stackLevel": PROFILE_STACK_LEVEL,
                }
            },
        ),
    ],
)
async def test_command_frames(
    hass: HomeAssistant,
    station: SimulatedChargePoint,
    device_id: str,
    service: str,
    data: dict[str, Any],
    action: str,
    expected: dict[str, Any],
) -> None:
    """Each command is sent in its 2.0.1 form."""
    if action == "Reset":
        station.responses["Reset"] = "Accepted"  # answer without rebooting
    if action == "TriggerMessage":
        station.responses["TriggerMessage"] = "Accepted"
    received = Received(station)
    await call(hass, service, {"device_id": device_id, **data})
    frame = received.one(action)
    assert {key: frame.get(key) for key in expected} == expected


async def test_set_current_limit(
    hass: HomeAssistant, site: Any, station: SimulatedChargePoint, device_id: str
) -> None:
    """A power limit becomes a TxDefaultProfile on the EVSE."""
    received = Received(station)
    await call(
        hass,
        "set_current_limit",
        {"device_id": device_id, "limit": 3680, "unit": "W", "phases": 1},
    )
    frame = received.one("SetChargingProfile")
    assert frame["evseId"] == 1
    profile = frame["chargingProfile"]
    assert profile["chargingProfilePurpose"] == "TxDefaultProfile"
    (schedule,) = profile["chargingSchedule"]
    assert schedule["chargingRateUnit"] == "W"
    assert schedule["chargingSchedulePeriod"] == [
        {"startPeriod": 0, "limit": 3680.0, "numberPhases": 1}
    ]
    assert site.runtime_data.system.chargers["CS1"].connectors[1].power_limit_w == 3680


async def test_configuration(
    hass: HomeAssistant, station: SimulatedChargePoint, device_id: str
) -> None:
    """Configuration keys are device-model variables (GetVariables/SetVariables)."""
    received = Received(station)
    result = await call(
        hass,
        "get_configuration",
        {"device_id": device_id, "keys": ["OCPPCommCtrlr.HeartbeatInterval"]},
        response=True,
    )
    frame = received.one("GetVariables")
    assert frame["getVariableData"] == [
        {
            "component": {"name": "OCPPCommCtrlr"},
            "variable": {"name": "HeartbeatInterval"},
        }
    ]
    assert result["configuration"]["OCPPCommCtrlr.HeartbeatInterval"]["value"]

    result = await call(
        hass,
        "set_configuration",
        {
            "device_id": device_id,
            "key": "SampledDataCtrlr.TxUpdatedInterval",
            "value": "15",
        },
        response=True,
    )
    (item,) = received.one("SetVariables")["setVariableData"]
    assert item["component"] == {"name": "SampledDataCtrlr"}
    assert item["variable"] == {"name": "TxUpdatedInterval"}
    assert item["attributeValue"] == "15"
    assert result == {"key": "SampledDataCtrlr.TxUpdatedInterval", "status": "Accepted"}

    with pytest.raises(HomeAssistantError) as err:
        await call(
            hass,
            "set_configuration",
            {"device_id": device_id, "key": "ChargingStation.Available", "value": "x"},
        )
    assert err.value.translation_key == "command_rejected"


async def test_responses(
    hass: HomeAssistant, station: SimulatedChargePoint, device_id: str
) -> None:
    """Schedule, log upload and vendor data come back as response data."""
    received = Received(station)
    schedule = await call(
        hass,
        "get_composite_schedule",
        {"device_id": device_id, "duration": 300},
        response=True,
    )
    assert received.one("GetCompositeSchedule") == {"duration": 300, "evseId": 1}
    assert schedule["status"] == "Accepted"
    assert schedule["schedule"]["duration"] == 300

    logs = await call(
        hass,
        "request_diagnostics",
        {"device_id": device_id, "location": "https://logs.example.com/up"},
        response=True,
    )
    frame = received.one("GetLog")
    assert frame["log"] == {"remoteLocation": "https://logs.example.com/up"}
    assert frame["logType"] == "DiagnosticsLog"
    assert logs["file_name"].startswith("diagnosticslog-CS1-")

    data = await call(
        hass,
        "data_transfer",
        {"device_id": device_id, "vendor_id": "com.example", "data": "hello"},
        response=True,
    )
    assert received.one("DataTransfer") == {"vendorId": "com.example", "data": "hello"}
    assert data == {"status": "Accepted", "data": "hello"}

    station.responses["UpdateFirmware"] = "Accepted"
    await call(
        hass,
        "update_firmware",
        {"device_id": device_id, "location": "https://example.com/fw.bin"},
    )
    firmware = received.one("UpdateFirmware")["firmware"]
    assert firmware["location"] == "https://example.com/fw.bin"
    assert "retrieveDateTime" in firmware
