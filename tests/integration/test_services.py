"""Charger actions against a real HA core and a simulated OCPP 1.6J charger.

Every test asserts the frame the charger received (action and payload) and the
action's response; refusals, time-outs and lost connections end in translated
`HomeAssistantError`s, bad input in a `ServiceValidationError` with nothing sent.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from unittest.mock import patch

import pytest
import yaml
from homeassistant.core import Context, HomeAssistant
from homeassistant.exceptions import (
    HomeAssistantError,
    ServiceValidationError,
    Unauthorized,
)
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import selector
from homeassistant.helpers.service import async_get_all_descriptions
from pytest_homeassistant_custom_component.common import MockConfigEntry, MockUser

from custom_components.energy_coordinator import (
    plan_services,
    services,
    site_services,
)
from custom_components.energy_coordinator.const import DOMAIN
from custom_components.energy_coordinator.identifiers import (
    charger_device_id,
    connector_device_id,
)
from custom_components.energy_coordinator.runtime import EnergyCoordinatorConfigEntry
from custom_components.energy_coordinator.services import _ACTIONS
from simulator.base import NOT_IMPLEMENTED, NOT_SUPPORTED, SimulatedChargePoint
from simulator.charge_point16 import ChargePoint16
from tests.fake_charge_point import fake_charger

from .conftest import SetupSite

type Frame = tuple[str, dict[str, Any]]
type StartCharger = Callable[..., Any]


def charger_device(
    hass: HomeAssistant,
    entry: EnergyCoordinatorConfigEntry,
    charger_id: str,
    connector_id: int | None = None,
) -> dr.DeviceEntry:
    """The device of a charger (or of one of its connectors).

    The entity platforms create these devices; `async_get_or_create` returns the
    existing one, and creates it while the platforms are not there yet.
    """
    registry = dr.async_get(hass)
    charger = charger_device_id(entry.entry_id, charger_id)
    if connector_id is None:
        return registry.async_get_or_create(
            config_entry_id=entry.entry_id, identifiers={charger}
        )
    charger_device(hass, entry, charger_id)
    return registry.async_get_or_create(
        config_entry_id=entry.entry_id,
        identifiers={connector_device_id(entry.entry_id, charger_id, connector_id)},
        via_device=charger,
    )


class Received:
    """The CALLs a simulated charger got since the mark."""

    def __init__(self, cp: SimulatedChargePoint) -> None:
        self.cp = cp
        self.start = len(cp.received)

    def frames(self, action: str | None = None) -> list[dict[str, Any]]:
        """Payloads of the CALLs received since the mark (of one action)."""
        return [
            payload
            for name, payload in self.cp.received[self.start :]
            if action is None or name == action
        ]

    def one(self, action: str) -> dict[str, Any]:
        """The single CALL of `action` received since the mark."""
        frames = self.frames(action)
        assert len(frames) == 1, (action, self.cp.received[self.start :])
        return frames[0]


async def call(
    hass: HomeAssistant,
    service: str,
    data: dict[str, Any],
    *,
    response: bool = False,
) -> Any:
    """Call one of our actions, blocking."""
    return await hass.services.async_call(
        DOMAIN, service, data, blocking=True, return_response=response
    )


async def wait_for(predicate: Callable[[], bool]) -> None:
    """Poll until `predicate` holds (at most 5 s)."""
    for _ in range(500):
        if predicate():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not reached in 5 s")


@pytest.fixture
async def start_charger(
    hass: HomeAssistant,
) -> AsyncIterator[StartCharger]:
    """Start simulated chargers on a site; they are stopped after the test."""
    started: list[SimulatedChargePoint] = []

    async def start(
        entry: EnergyCoordinatorConfigEntry,
        charger_id: str = "CP1",
        cls: type[SimulatedChargePoint] = ChargePoint16,
        **kwargs: Any,
    ) -> SimulatedChargePoint:
        system = entry.runtime_data.system
        options: dict[str, Any] = {
            "reconnect": False,
            "meter_interval": 0,
            "heartbeat_interval": 3600,
            "speed": 0,
            "step_delay": 0.01,
        }
        cp = cls(charger_id, f"ws://127.0.0.1:{system.port}", **(options | kwargs))
        started.append(cp)
        await cp.start()
        await cp.wait_booted()
        charger = system.chargers[charger_id]
        # The central system reads the configuration after the boot.
        await wait_for(lambda: charger.supports_smart_charging is not None)
        await hass.async_block_till_done()
        return cp

    yield start
    for cp in started:
        await cp.stop()


@pytest.fixture
async def site(setup_site: SetupSite) -> EnergyCoordinatorConfigEntry:
    """A loaded site."""
    return await setup_site()


@pytest.fixture
async def cp(
    site: EnergyCoordinatorConfigEntry, start_charger: StartCharger
) -> SimulatedChargePoint:
    """A booted OCPP 1.6 charger, CP1, on the site."""
    return await start_charger(site)


@pytest.fixture
def device_id(
    hass: HomeAssistant, site: EnergyCoordinatorConfigEntry, cp: SimulatedChargePoint
) -> str:
    """The device id of CP1."""
    return charger_device(hass, site, "CP1").id


# Registration ---------------------------------------------------------------------


async def test_actions_registered(hass: HomeAssistant, site: Any) -> None:
    """Every action is registered, the ones with data support responses."""
    services = hass.services.async_services_for_domain(DOMAIN)
    site_actions = {
        "coordinate",
        "get_status",
        "get_chargers",
        "get_plan",
        "explain_plan",
    }
    assert set(services) == set(_ACTIONS) | site_actions
    only = {"get_configuration", "get_composite_schedule", "list_id_tags"}
    for name in only | {
        "get_sessions",
        "get_status",
        "get_chargers",
        "get_plan",
        "explain_plan",
    }:
        assert hass.services.supports_response(DOMAIN, name).value == "only"
    for name in (
        "set_configuration",
        "request_diagnostics",
        "data_transfer",
        "start_charging",
        "stop_charging",
        "set_current_limit",
        "clear_current_limit",
    ):
        assert hass.services.supports_response(DOMAIN, name).value == "optional"
    assert hass.services.supports_response(DOMAIN, "unlock").value == "none"

    descriptions = (await async_get_all_descriptions(hass))[DOMAIN]
    assert set(descriptions) == set(_ACTIONS) | site_actions
    limit = descriptions["set_current_limit"]
    assert limit["name"] == "Set current limit"
    assert limit["fields"]["limit"]["required"] is True
    device = limit["fields"]["device_id"]["selector"]["device"]
    assert device == {"filter": {"integration": DOMAIN}}


ADMIN_CALLS: dict[str, dict[str, Any]] = {
    "reset": {},
    "get_configuration": {},
    "set_configuration": {"key": "HeartbeatInterval", "value": "30"},
    "update_firmware": {"location": "https://example.com/fw.bin"},
    "request_diagnostics": {"location": "ftp://example.com/upload"},
    "data_transfer": {"vendor_id": "Acme"},
    "add_id_tag": {"id_tag": "CARD-9", "name": "Guest"},
    "remove_id_tag": {"id_tag": "CARD-9"},
    "list_id_tags": {},
}


async def test_admin_actions_are_admin_only(
    hass: HomeAssistant,
    site: Any,
    cp: SimulatedChargePoint,
    device_id: str,
    hass_admin_user: MockUser,
    hass_read_only_user: MockUser,
) -> None:
    """A user who is not an administrator gets Unauthorized and nothing is sent."""
    assert set(ADMIN_CALLS) == services.ADMIN_ACTIONS
    cp.responses["Reset"] = "Accepted"  # answer without rebooting
    for service, fields in ADMIN_CALLS.items():
        data = dict(fields)
        if service not in ("add_id_tag", "remove_id_tag", "list_id_tags"):
            data["device_id"] = device_id
        response = hass.services.supports_response(DOMAIN, service).value != "none"
        received = Received(cp)
        with pytest.raises(Unauthorized):
            await hass.services.async_call(
                DOMAIN,
                service,
                data,
                blocking=True,
                context=Context(user_id=hass_read_only_user.id),
                return_response=response,
            )
        assert received.frames() == [], service
        await hass.services.async_call(
            DOMAIN,
            service,
            data,
            blocking=True,
            context=Context(user_id=hass_admin_user.id),
            return_response=response,
        )
    assert "CARD-9" not in site.runtime_data.system.tags

    # Everyday actions stay open to every user.
    received = Received(cp)
    await hass.services.async_call(
        DOMAIN,
        "unlock",
        {"device_id": device_id},
        blocking=True,
        context=Context(user_id=hass_read_only_user.id),
    )
    assert received.one("UnlockConnector") == {"connectorId": 1}


# Transactions ---------------------------------------------------------------------


async def test_start_and_stop_charging(
    hass: HomeAssistant, site: Any, cp: SimulatedChargePoint, device_id: str
) -> None:
    """Start sends RemoteStartTransaction with the remote tag; stop ends it."""
    received = Received(cp)
    await call(hass, "start_charging", {"device_id": device_id})
    assert received.one("RemoteStartTransaction") == {
        "idTag": "energy-coordinator",
        "connectorId": 1,
    }
    connector = site.runtime_data.system.chargers["CP1"].connectors[1]
    await wait_for(lambda: connector.transaction is not None)
    assert connector.transaction is not None
    transaction_id = int(connector.transaction.transaction_id)
    # The charger learns its transaction id from our answer a moment later.
    await wait_for(lambda: cp.connectors[1].transaction_id == transaction_id)

    received = Received(cp)
    await call(hass, "stop_charging", {"device_id": device_id, "connector_id": 1})
    assert received.one("RemoteStopTransaction") == {"transactionId": transaction_id}
    await wait_for(lambda: connector.transaction is None)


async def test_start_charging_with_tag(
    hass: HomeAssistant, cp: SimulatedChargePoint, device_id: str
) -> None:
    """An explicit id tag is sent instead of the remote one."""
    received = Received(cp)
    await call(
        hass,
        "start_charging",
        {"device_id": device_id, "id_tag": "CARD42", "connector_id": 1},
    )
    assert received.one("RemoteStartTransaction")["idTag"] == "CARD42"


async def test_start_charging_tag_too_long(
    hass: HomeAssistant, cp: SimulatedChargePoint, device_id: str
) -> None:
    """A tag longer than OCPP 1.6 allows is refused before sending."""
    received = Received(cp)
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "start_charging", {"device_id": device_id, "id_tag": "X" * 21})
    assert err.value.translation_key == "invalid_id_tag"
    assert err.value.translation_placeholders["max"] == "20"
    assert received.frames() == []


async def test_start_charging_rejected(
    hass: HomeAssistant, cp: SimulatedChargePoint, device_id: str
) -> None:
    """A refused remote start is a translated error naming the status."""
    cp.responses["RemoteStartTransaction"] = "Rejected"
    with pytest.raises(HomeAssistantError) as err:
        await call(hass, "start_charging", {"device_id": device_id})
    assert err.value.translation_key == "command_rejected"
    assert err.value.translation_placeholders["status"] == "Rejected"
    assert err.value.translation_placeholders["charger_id"] == "CP1"


async def test_stop_charging_without_transaction(
    hass: HomeAssistant, cp: SimulatedChargePoint, device_id: str
) -> None:
    """Stopping an idle connector is refused before anything is sent."""
    received = Received(cp)
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "stop_charging", {"device_id": device_id})
    assert err.value.translation_key == "no_transaction"
    assert received.frames() == []


# Charging limits ------------------------------------------------------------------


async def test_set_current_limit(
    hass: HomeAssistant, site: Any, cp: SimulatedChargePoint, device_id: str
) -> None:
    """A current limit is a TxDefaultProfile on the connector."""
    received = Received(cp)
    await call(
        hass,
        "set_current_limit",
        {"device_id": device_id, "limit": 16, "phases": 3, "duration": 900},
    )
    frame = received.one("SetChargingProfile")
    assert frame["connectorId"] == 1
    profile = frame["csChargingProfiles"]
    assert profile["chargingProfilePurpose"] == "TxDefaultProfile"
    schedule = profile["chargingSchedule"]
    assert schedule["chargingRateUnit"] == "A"
    assert schedule["duration"] == 900
    assert schedule["chargingSchedulePeriod"] == [
        {"startPeriod": 0, "limit": 16.0, "numberPhases": 3}
    ]
    connector = site.runtime_data.system.chargers["CP1"].connectors[1]
    assert connector.current_limit_a == 16.0


async def test_set_power_limit_charger_wide(
    hass: HomeAssistant, cp: SimulatedChargePoint, device_id: str
) -> None:
    """A charge point maximum in W goes to connector 0."""
    received = Received(cp)
    await call(
        hass,
        "set_current_limit",
        {
            "device_id": device_id,
            "limit": 7400,
            "unit": "W",
            "purpose": "charge_point_max",
        },
    )
    frame = received.one("SetChargingProfile")
    assert frame["connectorId"] == 0
    profile = frame["csChargingProfiles"]
    assert profile["chargingProfilePurpose"] == "ChargePointMaxProfile"
    assert profile["chargingSchedule"]["chargingRateUnit"] == "W"
    assert profile["chargingSchedule"]["chargingSchedulePeriod"][0]["limit"] == 7400


async def test_zero_limit_pauses(
    hass: HomeAssistant, cp: SimulatedChargePoint, device_id: str
) -> None:
    """Limit 0 is sent as such (the charger pauses)."""
    received = Received(cp)
    await call(
        hass,
        "set_current_limit",
        {"device_id": device_id, "limit": 0, "connector_id": 0},
    )
    frame = received.one("SetChargingProfile")
    assert frame["connectorId"] == 0
    period = frame["csChargingProfiles"]["chargingSchedule"]["chargingSchedulePeriod"]
    assert period[0]["limit"] == 0


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({"limit": -1}, "negative_limit"),
        ({"limit": "nan"}, "negative_limit"),
        ({"limit": 10, "connector_id": 2}, "unknown_connector"),
        ({"limit": 10, "purpose": "charge_point_max", "connector_id": 1}, None),
    ],
)
async def test_set_current_limit_invalid(
    hass: HomeAssistant,
    cp: SimulatedChargePoint,
    device_id: str,
    data: dict[str, Any],
    key: str | None,
) -> None:
    """Bad limits are refused with a translated message and nothing is sent."""
    received = Received(cp)
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "set_current_limit", {"device_id": device_id, **data})
    assert err.value.translation_key == (key or "charge_point_max_connector")
    assert err.value.translation_domain == DOMAIN
    assert received.frames() == []


async def test_clear_current_limit(
    hass: HomeAssistant, site: Any, cp: SimulatedChargePoint, device_id: str
) -> None:
    """Without a connector every limit we set goes; with one, that connector's."""
    connector = site.runtime_data.system.chargers["CP1"].connectors[1]
    await call(hass, "set_current_limit", {"device_id": device_id, "limit": 10})
    received = Received(cp)
    await call(hass, "clear_current_limit", {"device_id": device_id, "connector_id": 1})
    one = {frame["id"] for frame in received.frames("ClearChargingProfile")}
    assert connector.current_limit_a is None

    await call(hass, "set_current_limit", {"device_id": device_id, "limit": 10})
    received = Received(cp)
    await call(hass, "clear_current_limit", {"device_id": device_id})
    frames = received.frames("ClearChargingProfile")
    assert all(set(frame) == {"id"} for frame in frames)
    every = {frame["id"] for frame in frames}
    assert one and one < every
    assert connector.current_limit_a is None


async def test_get_composite_schedule(
    hass: HomeAssistant, cp: SimulatedChargePoint, device_id: str
) -> None:
    """The composite schedule is asked for and returned."""
    received = Received(cp)
    result = await call(
        hass,
        "get_composite_schedule",
        {"device_id": device_id, "duration": 600, "unit": "W"},
        response=True,
    )
    assert received.one("GetCompositeSchedule") == {
        "connectorId": 1,
        "duration": 600,
        "chargingRateUnit": "W",
    }
    assert result["status"] == "Accepted"
    assert result["connector_id"] == 1
    schedule = result["charging_schedule"]
    assert schedule["charging_rate_unit"] == "W"
    assert schedule["charging_schedule_period"][0]["start_period"] == 0


# Charger management ---------------------------------------------------------------


async def test_reset(
    hass: HomeAssistant, cp: SimulatedChargePoint, device_id: str
) -> None:
    """Reset sends the kind; a refusal is a translated error."""
    cp.responses["Reset"] = "Accepted"  # answer without rebooting
    received = Received(cp)
    await call(hass, "reset", {"device_id": device_id, "kind": "hard"})
    assert received.one("Reset") == {"type": "Hard"}
    await call(hass, "reset", {"device_id": device_id})
    assert received.frames("Reset")[1] == {"type": "Soft"}

    cp.responses["Reset"] = "Rejected"
    with pytest.raises(HomeAssistantError) as err:
        await call(hass, "reset", {"device_id": device_id, "kind": "soft"})
    assert err.value.translation_key == "command_rejected"


async def test_unlock(
    hass: HomeAssistant, cp: SimulatedChargePoint, device_id: str
) -> None:
    """Unlock sends UnlockConnector; UnlockFailed is a refusal."""
    received = Received(cp)
    await call(hass, "unlock", {"device_id": device_id})
    assert received.one("UnlockConnector") == {"connectorId": 1}

    cp.responses["UnlockConnector"] = "UnlockFailed"
    with pytest.raises(HomeAssistantError) as err:
        await call(hass, "unlock", {"device_id": device_id})
    assert err.value.translation_key == "command_rejected"
    assert err.value.translation_placeholders["status"] == "UnlockFailed"


async def test_unlock_connector_zero_refused(
    hass: HomeAssistant, cp: SimulatedChargePoint, device_id: str
) -> None:
    """Connector 0 is the whole charger; it has no cable to unlock."""
    received = Received(cp)
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "unlock", {"device_id": device_id, "connector_id": 0})
    assert err.value.translation_key == "unknown_connector"
    assert err.value.translation_placeholders["connectors"] == "1"
    assert received.frames() == []


async def test_set_availability(
    hass: HomeAssistant, site: Any, cp: SimulatedChargePoint, device_id: str
) -> None:
    """Availability goes to a connector, or to the whole charger with 0."""
    received = Received(cp)
    await call(
        hass,
        "set_availability",
        {"device_id": device_id, "connector_id": 0, "available": False},
    )
    assert received.one("ChangeAvailability") == {
        "connectorId": 0,
        "type": "Inoperative",
    }
    await call(hass, "set_availability", {"device_id": device_id, "available": True})
    assert received.frames("ChangeAvailability")[1] == {
        "connectorId": 1,
        "type": "Operative",
    }
    assert site.runtime_data.system.chargers["CP1"].connectors[1].available


async def test_get_configuration(
    hass: HomeAssistant, cp: SimulatedChargePoint, device_id: str
) -> None:
    """Asked keys are sent; known values and unknown keys come back."""
    received = Received(cp)
    result = await call(
        hass,
        "get_configuration",
        {"device_id": device_id, "keys": ["HeartbeatInterval", "NoSuchKey"]},
        response=True,
    )
    assert received.one("GetConfiguration") == {
        "key": ["HeartbeatInterval", "NoSuchKey"]
    }
    assert result["configuration"]["HeartbeatInterval"]["value"] == "60"
    assert result["unknown"] == ["NoSuchKey"]

    everything = await call(
        hass, "get_configuration", {"device_id": device_id}, response=True
    )
    assert received.frames("GetConfiguration")[1] == {}
    assert "SupportedFeatureProfiles" in everything["configuration"]


async def test_set_configuration(
    hass: HomeAssistant, cp: SimulatedChargePoint, device_id: str
) -> None:
    """The status (e.g. RebootRequired) is the response; Rejected is an error."""
    received = Received(cp)
    result = await call(
        hass,
        "set_configuration",
        {"device_id": device_id, "key": "MeterValueSampleInterval", "value": "30"},
        response=True,
    )
    assert received.one("ChangeConfiguration") == {
        "key": "MeterValueSampleInterval",
        "value": "30",
    }
    assert result == {"key": "MeterValueSampleInterval", "status": "Accepted"}

    cp.responses["ChangeConfiguration"] = "RebootRequired"
    result = await call(
        hass,
        "set_configuration",
        {"device_id": device_id, "key": "WebSocketPingInterval", "value": "0"},
        response=True,
    )
    assert result["status"] == "RebootRequired"

    cp.responses["ChangeConfiguration"] = "Rejected"
    with pytest.raises(HomeAssistantError) as err:
        await call(
            hass,
            "set_configuration",
            {"device_id": device_id, "key": "X", "value": "1"},
        )
    assert err.value.translation_key == "command_rejected"


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("boot_notification", "BootNotification"),
        ("heartbeat", "Heartbeat"),
        ("meter_values", "MeterValues"),
        ("status_notification", "StatusNotification"),
        ("diagnostics_status_notification", "DiagnosticsStatusNotification"),
        ("firmware_status_notification", "FirmwareStatusNotification"),
    ],
)
async def test_trigger_message(
    hass: HomeAssistant,
    cp: SimulatedChargePoint,
    device_id: str,
    message: str,
    expected: str,
) -> None:
    """Each message option is sent under its 1.6 name."""
    cp.responses["TriggerMessage"] = "Accepted"  # only the request is under test
    received = Received(cp)
    await call(hass, "trigger_message", {"device_id": device_id, "message": message})
    assert received.one("TriggerMessage") == {"requestedMessage": expected}


async def test_trigger_message_for_connector(
    hass: HomeAssistant, cp: SimulatedChargePoint, device_id: str
) -> None:
    """A connector id is passed along; the charger answers with the message."""
    received = Received(cp)
    await call(
        hass,
        "trigger_message",
        {"device_id": device_id, "message": "status_notification", "connector_id": 1},
    )
    assert received.one("TriggerMessage") == {
        "requestedMessage": "StatusNotification",
        "connectorId": 1,
    }


async def test_update_firmware(
    hass: HomeAssistant, cp: SimulatedChargePoint, device_id: str
) -> None:
    """The location and retrieve time (UTC) are sent."""
    cp.responses["UpdateFirmware"] = {}  # answer without simulating the update
    received = Received(cp)
    when = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
    await call(
        hass,
        "update_firmware",
        {
            "device_id": device_id,
            "location": "https://example.com/fw.bin",
            "retrieve_time": when.isoformat(),
        },
    )
    frame = received.one("UpdateFirmware")
    assert frame["location"] == "https://example.com/fw.bin"
    assert frame["retrieveDate"].startswith("2030-01-02T03:04:05")


async def test_update_firmware_bad_location(
    hass: HomeAssistant, cp: SimulatedChargePoint, device_id: str
) -> None:
    """A location that is not a transfer URL is refused."""
    received = Received(cp)
    with pytest.raises(ServiceValidationError) as err:
        await call(
            hass,
            "update_firmware",
            {"device_id": device_id, "location": "not a url"},
        )
    assert err.value.translation_key == "invalid_location"
    assert received.frames() == []


async def test_request_diagnostics(
    hass: HomeAssistant, cp: SimulatedChargePoint, device_id: str
) -> None:
    """GetDiagnostics goes out; the file name comes back."""
    received = Received(cp)
    result = await call(
        hass,
        "request_diagnostics",
        {"device_id": device_id, "location": "ftp://logs.example.com/upload"},
        response=True,
    )
    assert received.one("GetDiagnostics") == {
        "location": "ftp://logs.example.com/upload"
    }
    assert result["file_name"].startswith("diagnostics-CP1-")


async def test_data_transfer(
    hass: HomeAssistant, cp: SimulatedChargePoint, device_id: str
) -> None:
    """The vendor message goes out; status and data come back."""
    received = Received(cp)
    result = await call(
        hass,
        "data_transfer",
        {
            "device_id": device_id,
            "vendor_id": "com.example",
            "message_id": "ping",
            "data": '{"n": 1}',
        },
        response=True,
    )
    assert received.one("DataTransfer") == {
        "vendorId": "com.example",
        "messageId": "ping",
        "data": '{"n": 1}',
    }
    assert result == {"status": "Accepted", "data": '{"n": 1}'}

    cp.responses["DataTransfer"] = "UnknownVendorId"
    result = await call(
        hass,
        "data_transfer",
        {"device_id": device_id, "vendor_id": "com.other"},
        response=True,
    )
    assert result["status"] == "UnknownVendorId"


# Targets --------------------------------------------------------------------------


async def test_unknown_device(hass: HomeAssistant, cp: SimulatedChargePoint) -> None:
    """A device id that does not exist is refused."""
    received = Received(cp)
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "unlock", {"device_id": "nope"})
    assert err.value.translation_key == "device_not_found"
    assert err.value.translation_placeholders == {"device_id": "nope"}
    assert received.frames() == []


async def test_device_of_other_integration(
    hass: HomeAssistant, cp: SimulatedChargePoint
) -> None:
    """A device of another integration is not a charger."""
    other = MockConfigEntry(domain="other_integration")
    other.add_to_hass(hass)
    device = dr.async_get(hass).async_get_or_create(
        config_entry_id=other.entry_id,
        identifiers={("other_integration", "CP1")},
        name="Lamp",
    )
    received = Received(cp)
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "reset", {"device_id": device.id})
    assert err.value.translation_key == "not_a_charger"
    assert err.value.translation_placeholders == {"device": "Lamp"}
    assert received.frames() == []


async def test_connector_device(
    hass: HomeAssistant, site: Any, start_charger: StartCharger
) -> None:
    """A connector device of a two-connector charger targets its connector."""
    cp = await start_charger(site, "DUAL", connectors=2)
    connector2 = charger_device(hass, site, "DUAL", 2)
    received = Received(cp)
    await call(hass, "unlock", {"device_id": connector2.id})
    assert received.one("UnlockConnector") == {"connectorId": 2}
    await call(hass, "set_current_limit", {"device_id": connector2.id, "limit": 8})
    assert received.one("SetChargingProfile")["connectorId"] == 2

    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "unlock", {"device_id": connector2.id, "connector_id": 1})
    assert err.value.translation_key == "connector_mismatch"
    charger = charger_device(hass, site, "DUAL")
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "unlock", {"device_id": charger.id, "connector_id": 3})
    assert err.value.translation_key == "unknown_connector"
    assert err.value.translation_placeholders["connectors"] == "1, 2"
    assert len(received.frames()) == 2


# Charger trouble ------------------------------------------------------------------


async def test_not_connected(
    hass: HomeAssistant, site: Any, cp: SimulatedChargePoint, device_id: str
) -> None:
    """A charger that went away gives a translated 'not connected' error."""
    await cp.stop()
    charger = site.runtime_data.system.chargers["CP1"]
    await wait_for(lambda: not charger.connected)
    with pytest.raises(HomeAssistantError) as err:
        await call(hass, "unlock", {"device_id": device_id})
    assert err.value.translation_key == "charger_not_connected"
    assert err.value.translation_placeholders["charger_id"] == "CP1"


async def test_call_error(
    hass: HomeAssistant, cp: SimulatedChargePoint, device_id: str
) -> None:
    """A CALLERROR answer is a translated 'command failed' error."""
    cp.responses["UnlockConnector"] = "error"
    with pytest.raises(HomeAssistantError) as err:
        await call(hass, "unlock", {"device_id": device_id})
    assert err.value.translation_key == "command_failed"
    assert "InternalError" in err.value.translation_placeholders["detail"]


@pytest.mark.parametrize("answer", [NOT_IMPLEMENTED, NOT_SUPPORTED])
async def test_limit_not_implemented(
    hass: HomeAssistant, cp: SimulatedChargePoint, device_id: str, answer: str
) -> None:
    """A charger without smart charging: 'does not support', not its CALLERROR."""
    cp.responses["SetChargingProfile"] = answer
    with pytest.raises(HomeAssistantError) as err:
        await call(hass, "set_current_limit", {"device_id": device_id, "limit": 10})
    assert err.value.translation_key == "command_not_supported"
    assert str(err.value) == "Charger CP1 does not support SetChargingProfile"


async def test_timeout(
    hass: HomeAssistant, setup_site: SetupSite, start_charger: StartCharger
) -> None:
    """A charger that does not answer in time gives a translated time-out."""
    with patch(
        "custom_components.energy_coordinator.central_system.RESPONSE_TIMEOUT", 0.3
    ):
        entry = await setup_site()
    cp = await start_charger(entry)
    device = charger_device(hass, entry, "CP1")
    cp.responses["UnlockConnector"] = "timeout"
    received = Received(cp)
    with pytest.raises(HomeAssistantError) as err:
        await call(hass, "unlock", {"device_id": device.id})
    assert err.value.translation_key == "command_timeout"
    assert received.one("UnlockConnector") == {"connectorId": 1}


async def test_limit_on_a_charger_without_smart_charging(
    hass: HomeAssistant, site: Any
) -> None:
    """A charger that lacks the SmartCharging profile gets no profile sent."""
    system = site.runtime_data.system
    async with fake_charger(system, "BASIC") as charger:
        charger.config["SupportedFeatureProfiles"] = "Core,RemoteTrigger"
        del charger.config["ChargeProfileMaxStackLevel"]
        await charger.boot()
        await wait_for(
            lambda: system.chargers["BASIC"].supports_smart_charging is False
        )
        device = charger_device(hass, site, "BASIC")
        with pytest.raises(HomeAssistantError) as err:
            await call(hass, "set_current_limit", {"device_id": device.id, "limit": 10})
        assert err.value.translation_key == "command_not_supported"
        assert err.value.translation_placeholders["charger_id"] == "BASIC"
        assert str(err.value).startswith("Charger BASIC does not support")
        assert charger.frames("SetChargingProfile") == []


async def test_schema_rejects_bad_types(
    hass: HomeAssistant, cp: SimulatedChargePoint, device_id: str
) -> None:
    """Values of the wrong type never reach the charger."""
    received = Received(cp)
    with pytest.raises(Exception, match="phases"):
        await call(
            hass,
            "set_current_limit",
            {"device_id": device_id, "limit": 10, "phases": 2},
        )
    with pytest.raises(Exception, match="message"):
        await call(
            hass, "trigger_message", {"device_id": device_id, "message": "Nonsense"}
        )
    assert received.frames() == []


async def test_messages_are_translated(
    hass: HomeAssistant, cp: SimulatedChargePoint, device_id: str
) -> None:
    """Errors render their English message from the translations."""
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "unlock", {"device_id": device_id, "connector_id": 5})
    assert str(err.value) == "Charger CP1 has no connector 5 (its connectors: 1)"
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "set_current_limit", {"device_id": device_id, "limit": -6})
    assert str(err.value) == "The limit must be a number of 0 or more (got -6.0)"


# Descriptions ---------------------------------------------------------------------


def test_descriptions_match_schemas() -> None:
    """services.yaml and the translations describe exactly the schemas' fields."""
    package = Path(services.__file__).parent
    described = yaml.safe_load((package / "services.yaml").read_text())
    schemas = {name: schema for name, (_, schema, _) in _ACTIONS.items()}
    schemas |= {
        "coordinate": site_services.COORDINATE_SCHEMA,
        "get_status": site_services.STATUS_SCHEMA,
        "get_chargers": site_services.STATUS_SCHEMA,
        "get_plan": plan_services.GET_PLAN_SCHEMA,
        "explain_plan": plan_services.EXPLAIN_PLAN_SCHEMA,
    }
    assert set(described) == set(schemas)
    languages = {
        path.name: json.loads(path.read_text(encoding="utf-8"))
        for path in [package / "strings.json", *(package / "translations").glob("*")]
    }
    assert {"strings.json", "en.json", "pt-BR.json", "zh-Hans.json"} <= set(languages)
    for name, schema in schemas.items():
        fields = {str(key) for key in schema.schema}
        assert set(described[name]["fields"]) == fields, name
        for field in described[name]["fields"].values():
            selector.validate_selector(field["selector"])
            key = field["selector"].get("select", {}).get("translation_key")
            for strings in languages.values():
                if key:
                    options = strings["selector"][key]["options"]
                    assert set(options) == set(field["selector"]["select"]["options"])
        for language, strings in languages.items():
            text = strings["services"][name]
            assert text["name"] and text["description"], (language, name)
            assert set(text.get("fields", {})) == fields, (language, name)


def test_exception_keys_translated() -> None:
    """Every translation key the actions raise has a message in each language."""
    package = Path(services.__file__).parent
    source = Path(services.__file__).read_text()
    source += Path(site_services.__file__).read_text()
    keys = set(re.findall(r'_invalid\(\s*"([a-z_]+)"', source))
    assert len(keys) >= 15
    for path in [package / "strings.json", *(package / "translations").glob("*")]:
        exceptions = json.loads(path.read_text(encoding="utf-8"))["exceptions"]
        assert keys <= set(exceptions), (path.name, keys - set(exceptions))


def test_charger_answers_become_plain_json() -> None:
    """Whatever a charger's answer holds, the action returns plain JSON values."""
    answer = {
        "status": "Accepted",
        "schedule_start": datetime(2030, 1, 1, 12, tzinfo=UTC),
        "periods": ({"limit": 16.0, "phases": 3}, [None, True]),
        7: Decimal("7.5"),
    }
    data = services._json(answer)
    assert data == {
        "status": "Accepted",
        "schedule_start": "2030-01-01T12:00:00+00:00",
        "periods": [{"limit": 16.0, "phases": 3}, [None, True]],
        "7": "7.5",
    }
    assert json.loads(json.dumps(data)) == data
