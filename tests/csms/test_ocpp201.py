"""OCPP 2.0.1 handler: a real `ocpp` 2.0.1 client station against a real central system.

The station is the tests' one fake charge point (`tests.fake_charge_point`) in its
2.0.1 form: it records every CALL it receives as on the wire (camelCase) and
answers with the status the test configures per action, or not at all for the
actions in `silent`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from ocpp.v201 import call
from websockets.asyncio.client import connect
from websockets.typing import Subprotocol

from custom_components.energy_coordinator.csms.commands import (
    ChargingLimit,
    CommandError,
    CommandNotSupported,
    CommandRejected,
    CommandTimeout,
    IdTagEntry,
    LimitPurpose,
    LimitUnit,
    ResetKind,
)
from custom_components.energy_coordinator.csms.model import (
    ConnectorStatus,
    OcppVersion,
)
from custom_components.energy_coordinator.csms.ocpp201 import (
    ChargePoint201,
    VariableKey,
    to_samples,
)
from custom_components.energy_coordinator.csms.server import CentralSystem, TagPolicy
from tests.fake_charge_point import (
    V201,
    FakeChargePoint,
    fake_charge_point,
    now,
    ts,
    wait_until,
)

from .conftest import CsmsFactory, RecordingHooks, stop_system

CP_ID = "CP201"
T0 = datetime(2030, 5, 1, 8, 0, tzinfo=UTC)


def energy(
    value: float,
    unit: str = "Wh",
    multiplier: int = 0,
    context: str | None = None,
) -> dict[str, Any]:
    sample: dict[str, Any] = {
        "value": value,
        "measurand": "Energy.Active.Import.Register",
        "unit_of_measure": {"unit": unit, "multiplier": multiplier},
    }
    if context:
        sample["context"] = context
    return sample


def meter(when: datetime | None, *samples: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "timestamp": ts(when) if when else now(),
            "sampled_value": list(samples),
        }
    ]


def report_item(
    component: str,
    variable: str,
    value: str,
    evse: dict[str, Any] | None = None,
) -> dict[str, Any]:
    comp: dict[str, Any] = {"name": component}
    if evse:
        comp["evse"] = evse
    return {
        "component": comp,
        "variable": {"name": variable},
        "variable_attribute": [{"type": "Actual", "value": value}],
    }


@contextlib.asynccontextmanager
async def station(
    system: CentralSystem, station_id: str = CP_ID, boot: bool = True
) -> AsyncIterator[FakeChargePoint]:
    """A 2.0.1 `FakeChargePoint` (booted unless told otherwise)."""
    async with fake_charge_point(system, station_id, V201) as cp:
        if boot:
            result = await cp.boot()
            assert result.status == "Accepted"
            # after_accepted asks for the device model first.
            await wait_until(lambda: cp.frames("GetBaseReport"))
        yield cp


def link201(system: CentralSystem) -> ChargePoint201:
    link = system.link(CP_ID)
    assert isinstance(link, ChargePoint201)
    return link


async def sessions(system: CentralSystem) -> list[Any]:
    found, _, _ = await system.store.query_sessions(charger_id=CP_ID)
    return found


# Unit helpers ------------------------------------------------------------------


def test_sample_multiplier_and_keys() -> None:
    """value x 10^multiplier, and the Component.Variable key format both ways."""
    samples = to_samples(
        {
            "sampled_value": [
                {"value": 132.5, "unit_of_measure": {"unit": "kWh", "multiplier": -1}},
                {"value": 12, "unit_of_measure": {"unit": "Wh", "multiplier": 3}},
                {"value": 16.5, "measurand": "Current.Import", "phase": "L1"},
            ]
        }
    )
    assert [s.value for s in samples] == [13.25, 12000.0, 16.5]
    assert samples[0].unit == "kWh"
    assert samples[2].measurand == "Current.Import"
    assert samples[2].unit is None

    key = VariableKey.parse("Connector[2,1].ConnectorType")
    assert key is not None
    assert (key.component, key.evse_id, key.connector_id) == ("Connector", 2, 1)
    assert key.text() == "Connector[2,1].ConnectorType"
    slash = VariableKey.parse("OCPPCommCtrlr/MessageTimeout:Default")
    assert slash is not None
    assert slash.variable_instance == "Default"
    assert slash.text() == "OCPPCommCtrlr.MessageTimeout:Default"
    assert slash.wire() == {
        "component": {"name": "OCPPCommCtrlr"},
        "variable": {"name": "MessageTimeout", "instance": "Default"},
    }
    assert VariableKey.parse("NoSeparator") is None


# A full session ----------------------------------------------------------------


async def test_full_session(csms_factory: CsmsFactory) -> None:
    """Boot, status, authorize, Started, Updated with meter values, Ended."""
    hooks = RecordingHooks()
    system = await csms_factory(hooks=hooks, heartbeat_interval=90)
    await system.add_tag(IdTagEntry("04BLOCKED1", status="Blocked"))
    async with station(system, boot=False) as cp:
        charger = system.chargers[CP_ID]
        notified: list[int] = []
        charger.add_listener(lambda: notified.append(1))

        boot = await cp.boot()
        assert boot.status == "Accepted"
        assert boot.interval == 90
        assert charger.ocpp_version == OcppVersion.V201
        assert charger.registration == "Accepted"
        assert charger.info.vendor == "Acme"
        assert charger.info.model == "Wallbox 2"
        assert charger.info.serial_number == "SN-201"
        assert charger.info.firmware_version == "2.0.1-rc"
        assert (charger.info.iccid, charger.info.imsi) == ("8931", "2620")
        assert hooks.added == [CP_ID]
        await wait_until(lambda: cp.frames("GetBaseReport"))
        base = cp.last("GetBaseReport")
        assert base["reportBase"] == "FullInventory"
        assert isinstance(base["requestId"], int)

        beat = await cp.send(call.Heartbeat())
        assert datetime.fromisoformat(beat.current_time.replace("Z", "+00:00"))

        await cp.status_notification("Available")
        conn = charger.connectors[1]
        assert conn.status == ConnectorStatus.AVAILABLE
        assert conn.evse_connector_id == 1
        await wait_until(lambda: cp.frames("GetBaseReport"))

        emaid = await cp.send(
            call.Authorize(id_token={"id_token": "NL-TNM-C12345678-9", "type": "eMAID"})
        )
        assert emaid.id_token_info["status"] == "Accepted"
        rfid = await cp.send(
            call.Authorize(id_token={"id_token": "04A2B3C4D5E6F7", "type": "ISO14443"})
        )
        assert rfid.id_token_info["status"] == "Accepted"
        blocked = await cp.send(
            call.Authorize(id_token={"id_token": "04BLOCKED1", "type": "ISO14443"})
        )
        assert blocked.id_token_info["status"] == "Blocked"

        await cp.status_notification("Occupied")
        assert conn.status == ConnectorStatus.PREPARING

        start = T0
        started = await cp.tx_event(
            "Started",
            0,
            "TX-1",
            when=start,
            trigger="Authorized",
            evse={"id": 1, "connector_id": 1},
            id_token={"id_token": "04A2B3C4D5E6F7", "type": "ISO14443"},
            charging_state="EVConnected",
            meter=meter(start, energy(12.5, "kWh", context="Transaction.Begin")),
        )
        assert started.id_token_info == {"status": "Accepted"}
        tx = conn.transaction
        assert tx is not None
        assert tx.transaction_id == "TX-1"
        assert tx.evse_id == 1
        assert tx.id_tag == "04A2B3C4D5E6F7"
        assert tx.meter_start_wh == 12500
        assert tx.start_time == start
        assert conn.plugged
        (running,) = await sessions(system)
        assert running.active
        assert running.meter_start_wh == 12500

        updated = await cp.tx_event(
            "Updated",
            1,
            "TX-1",
            when=start + timedelta(minutes=5),
            charging_state="Charging",
            meter=meter(
                start + timedelta(minutes=5),
                energy(132.5, "kWh", multiplier=-1),  # 13.25 kWh
                {
                    "value": 11,
                    "measurand": "Power.Active.Import",
                    "unit_of_measure": {"unit": "kW"},
                },
                {"value": 16.1, "measurand": "Current.Import", "phase": "L1"},
                {"value": 16.2, "measurand": "Current.Import", "phase": "L2"},
                {"value": 16.0, "measurand": "Current.Import", "phase": "L3"},
                {"value": 229, "measurand": "Voltage", "phase": "L1-N"},
                {"value": 230, "measurand": "Voltage", "phase": "L2-N"},
                {"value": 231, "measurand": "Voltage", "phase": "L3-N"},
                {"value": 55, "measurand": "SoC", "location": "EV"},
            ),
        )
        assert updated.id_token_info is None
        assert conn.status == ConnectorStatus.CHARGING
        assert conn.charging
        assert conn.meter.energy_wh == 13250
        assert conn.meter.power_w == 11000
        assert conn.meter.current_phases_a == {"L1": 16.1, "L2": 16.2, "L3": 16.0}
        assert conn.meter.current_a == 16.2
        assert conn.meter.voltage_phases_v == {"L1": 229, "L2": 230, "L3": 231}
        assert conn.meter.voltage_v == 230
        assert conn.meter.soc_percent == 55
        assert conn.last_session_energy_wh == 750
        assert conn.energy_total_wh == 750
        (running,) = await sessions(system)
        assert running.energy_wh == 750

        before = len(notified)
        ended = await cp.tx_event(
            "Ended",
            2,
            "TX-1",
            when=start + timedelta(hours=1),
            trigger="EVDeparted",
            stopped_reason="EVDisconnected",
            charging_state="EVConnected",
            meter=meter(
                start + timedelta(hours=1),
                energy(14000, "Wh", context="Transaction.End"),
            ),
        )
        assert ended.id_token_info is None
        assert len(notified) == before + 1  # one frame, one notification
        assert conn.transaction is None
        assert conn.status == ConnectorStatus.FINISHING
        assert conn.last_session_energy_wh == 1500
        assert conn.last_session_id_tag == "04A2B3C4D5E6F7"
        assert conn.last_session_stop == start + timedelta(hours=1)
        assert conn.energy_total_wh == 1500

        await cp.status_notification("Available")
        assert conn.status == ConnectorStatus.AVAILABLE

        (done,) = await sessions(system)
        assert done.transaction_id == "TX-1"
        assert done.connector_id == 1
        assert done.evse_id == 1
        assert done.id_tag == "04A2B3C4D5E6F7"
        assert done.start_time == start
        assert done.stop_time == start + timedelta(hours=1)
        assert done.meter_start_wh == 12500
        assert done.meter_stop_wh == 14000
        assert done.energy_wh == 1500
        assert done.stop_reason == "EVDisconnected"
        assert notified


async def test_authorize_token_types(csms_factory: CsmsFactory) -> None:
    """Every IdToken type is looked up; NoAuthorization and our remote tag pass."""
    system = await csms_factory(tag_policy=TagPolicy.REJECT)
    await system.add_tag(IdTagEntry("NL-TNM-C00000001-1"))
    await system.add_tag(IdTagEntry("04AABBCCDD"))
    await system.add_tag(
        IdTagEntry("1234", status="Accepted", expiry=T0 - timedelta(days=3650))
    )
    async with station(system) as cp:
        cases = [
            ({"id_token": "NL-TNM-C00000001-1", "type": "eMAID"}, "Accepted"),
            ({"id_token": "04AABBCCDD", "type": "ISO14443"}, "Accepted"),
            ({"id_token": "04AABBCCDD", "type": "ISO15693"}, "Accepted"),
            ({"id_token": "unknown", "type": "ISO14443"}, "Invalid"),
            ({"id_token": "1234", "type": "KeyCode"}, "Expired"),
            ({"id_token": "", "type": "NoAuthorization"}, "Accepted"),
            ({"id_token": "energy-coordinator", "type": "Central"}, "Accepted"),
            ({"id_token": "someone", "type": "Central"}, "Invalid"),
        ]
        for token, expected in cases:
            result = await cp.send(call.Authorize(id_token=token))
            assert result.id_token_info["status"] == expected, token


# Offline queue, duplicates, lost Started -------------------------------------------


async def test_offline_events_and_duplicate_seq_no(csms_factory: CsmsFactory) -> None:
    """Queued events keep their own times; repeated or older seqNo never count."""
    system = await csms_factory()
    async with station(system) as cp:
        charger = system.chargers[CP_ID]
        await cp.status_notification("Available")
        conn = charger.connectors[1]
        start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)
        await cp.tx_event(
            "Started",
            0,
            "OFF-1",
            when=start,
            offline=True,
            evse={"id": 1},
            id_token={"id_token": "04A1A2A3", "type": "ISO14443"},
            charging_state="Charging",
            meter=meter(start, energy(1000, context="Transaction.Begin")),
        )
        # Offline events do not override the live status.
        assert conn.status == ConnectorStatus.AVAILABLE
        await cp.tx_event(
            "Updated",
            1,
            "OFF-1",
            when=start + timedelta(minutes=30),
            offline=True,
            meter=meter(start + timedelta(minutes=30), energy(1500)),
        )
        # The same seqNo again (a resend) and an older one: ignored for metering.
        await cp.tx_event(
            "Updated",
            1,
            "OFF-1",
            when=start + timedelta(minutes=30),
            offline=True,
            meter=meter(start + timedelta(minutes=30), energy(9000)),
        )
        await cp.tx_event(
            "Updated",
            0,
            "OFF-1",
            when=start + timedelta(minutes=31),
            meter=meter(start + timedelta(minutes=31), energy(9999)),
        )
        tx = conn.transaction
        assert tx is not None
        assert tx.meter_last_wh == 1500
        assert tx.last_seq_no == 1
        await cp.tx_event(
            "Updated",
            2,
            "OFF-1",
            when=start + timedelta(minutes=60),
            charging_state="SuspendedEV",
            meter=meter(start + timedelta(minutes=60), energy(2000)),
        )
        assert conn.status == ConnectorStatus.SUSPENDED_EV
        stop = start + timedelta(minutes=90)
        for _ in range(2):  # a repeated Ended changes nothing
            await cp.tx_event(
                "Ended",
                3,
                "OFF-1",
                when=stop,
                trigger="StopAuthorized",
                stopped_reason="Local",
                meter=meter(stop, energy(2.5, "kWh", context="Transaction.End")),
            )
        (done,) = await sessions(system)
        assert done.start_time == start
        assert done.stop_time == stop
        assert done.energy_wh == 1500
        assert done.meter_stop_wh == 2500
        assert done.id_tag == "04A1A2A3"
        assert conn.energy_total_wh == 1500

        # A transaction whose Started was lost: opened by its first Updated, from
        # the connector's last known register.
        await cp.tx_event(
            "Updated",
            5,
            "LOST-1",
            evse={"id": 1},
            meter=meter(None, energy(3000)),
        )
        lost = conn.transaction
        assert lost is not None
        assert lost.transaction_id == "LOST-1"
        assert lost.meter_start_wh == 2500
        assert lost.meter_last_wh == 3000
        assert lost.last_seq_no == 5
        assert conn.last_session_energy_wh == 500
        await cp.tx_event(
            "Ended",
            6,
            "LOST-1",
            stopped_reason="Remote",
            meter=meter(None, energy(3500)),
        )
        # An Ended for a transaction never seen at all: opened, then closed.
        await cp.tx_event(
            "Ended", 0, "GHOST-1", evse={"id": 1}, meter=meter(None, energy(3600))
        )
        all_sessions = {s.transaction_id: s for s in await sessions(system)}
        assert set(all_sessions) == {"OFF-1", "LOST-1", "GHOST-1"}
        assert all_sessions["LOST-1"].energy_wh == 1000
        assert all_sessions["LOST-1"].stop_reason == "Remote"
        assert all_sessions["GHOST-1"].energy_wh == 100
        assert all_sessions["GHOST-1"].stop_reason == "Local"
        assert not any(s.active for s in all_sessions.values())
        assert conn.energy_total_wh == 2600


async def test_meter_values_and_station_level_values(
    csms_factory: CsmsFactory,
) -> None:
    """MeterValues outside a transaction feed the reading and the energy total."""
    system = await csms_factory()
    async with station(system) as cp:
        charger = system.chargers[CP_ID]
        await cp.send(
            call.MeterValues(evse_id=2, meter_value=meter(None, energy(5, "kWh")))
        )
        conn = charger.connectors[2]
        assert conn.meter.energy_wh == 5000
        await cp.send(
            call.MeterValues(
                evse_id=2,
                meter_value=meter(
                    None,
                    energy(5.5, "kWh"),
                    {"value": 7.2, "measurand": "Current.Offered"},
                ),
            )
        )
        assert conn.meter.current_offered_a == 7.2
        assert conn.energy_total_wh == 500
        # EVSE 0 is the station's main meter: accepted, no connector made.
        await cp.send(call.MeterValues(evse_id=0, meter_value=meter(None, energy(9))))
        assert 0 not in charger.connectors


# Device model, events, statuses ----------------------------------------------------


async def test_notify_report_events_and_local_list(csms_factory: CsmsFactory) -> None:
    """The base report makes EVSEs and features; the local list follows."""
    system = await csms_factory()
    await system.add_tag(IdTagEntry("04A1B2C3D4", name="Card"))
    await system.add_tag(
        IdTagEntry("garage", status="Blocked", expiry=T0 + timedelta(days=1))
    )
    version = await system.store.local_list_version()
    async with station(system) as cp:
        charger = system.chargers[CP_ID]
        request_id = cp.last("GetBaseReport")["requestId"]
        await cp.report(
            request_id,
            [
                report_item("EVSE", "Power", "11000", {"id": 1}),
                report_item("EVSE", "Power", "22000", {"id": 2}),
                report_item(
                    "Connector", "ConnectorType", "cType2", {"id": 2, "connector_id": 1}
                ),
                report_item("SmartChargingCtrlr", "Enabled", "true"),
            ],
            seq_no=0,
            tbc=True,
        )
        assert set(charger.connectors) == {1, 2}
        assert charger.connectors[2].evse_connector_id == 1
        assert charger.supports_smart_charging is True
        assert not cp.frames("GetLocalListVersion")
        await cp.report(
            request_id,
            [
                report_item("LocalAuthListCtrlr", "Enabled", "true"),
                report_item("OCPPCommCtrlr", "HeartbeatInterval", "60"),
            ],
            seq_no=1,
            tbc=False,
        )
        assert charger.supports_local_list is True
        assert charger.configuration["EVSE[1].Power"] == "11000"
        assert charger.configuration["Connector[2,1].ConnectorType"] == "cType2"
        assert charger.configuration["SmartChargingCtrlr.Enabled"] == "true"
        assert charger.configuration["OCPPCommCtrlr.HeartbeatInterval"] == "60"

        # The report is complete: the list is compared and pushed (version 0 != v).
        await wait_until(lambda: cp.frames("SendLocalList"))
        assert cp.frames("GetLocalListVersion") == [{}]
        pushed = cp.last("SendLocalList")
        assert pushed["versionNumber"] == version
        assert pushed["updateType"] == "Full"
        assert pushed["localAuthorizationList"] == [
            {
                "idToken": {"idToken": "04A1B2C3D4", "type": "ISO14443"},
                "idTokenInfo": {"status": "Accepted"},
            },
            {
                "idToken": {"idToken": "garage", "type": "Local"},
                "idTokenInfo": {
                    "status": "Blocked",
                    "cacheExpiryDateTime": ts(T0 + timedelta(days=1)),
                },
            },
        ]
        await wait_until(lambda: cp.list_version == version)

        # The new EVSEs were stored with the charger.
        async def stored_connectors() -> tuple[int, ...]:
            (record,) = [
                r for r in await system.store.chargers() if r.charger_id == CP_ID
            ]
            return record.connectors

        for _ in range(200):
            if await stored_connectors() == (1, 2):
                break
            await asyncio.sleep(0.01)
        assert await stored_connectors() == (1, 2)

        # Events: a problem on an EVSE, then on the station, then cleared.
        def event(component: dict[str, Any], value: str, **extra: Any) -> Any:
            return call.NotifyEvent(
                generated_at=now(),
                seq_no=0,
                event_data=[
                    {
                        "event_id": 1,
                        "timestamp": now(),
                        "trigger": "Delta",
                        "actual_value": value,
                        "event_notification_type": "HardWiredNotification",
                        "component": component,
                        "variable": {"name": "Problem"},
                        **extra,
                    }
                ],
            )

        await cp.send(
            event(
                {"name": "EVSE", "evse": {"id": 2}},
                "true",
                tech_code="RCD",
                tech_info="residual current",
            )
        )
        assert charger.connectors[2].error_code == "RCD"
        assert charger.connectors[2].vendor_error == "residual current"
        await cp.send(event({"name": "EVSE", "evse": {"id": 2}}, "false", cleared=True))
        assert charger.connectors[2].error_code is None
        await cp.send(event({"name": "ChargingStation"}, "true"))
        assert charger.error_code == "ChargingStation.Problem"
        assert charger.configuration["ChargingStation.Problem"] == "true"
        await cp.send(event({"name": "ChargingStation"}, "true", cleared=True))
        assert charger.error_code is None

        await cp.send(
            call.FirmwareStatusNotification(status="Downloading", request_id=7)
        )
        assert charger.firmware_status == "Downloading"
        await cp.send(call.LogStatusNotification(status="Uploaded", request_id=8))
        assert charger.diagnostics_status == "Uploaded"
        await cp.send(
            call.SecurityEventNotification(type="StartupOfTheDevice", timestamp=now())
        )
        transfer = await cp.send(call.DataTransfer(vendor_id="acme", data="x"))
        assert transfer.status == "UnknownVendorId"

        # A multi-connector EVSE: an Occupied connector speaks for the EVSE.
        await cp.status_notification("Available", evse_id=2, connector_id=1)
        await cp.status_notification("Occupied", evse_id=2, connector_id=2)
        await cp.status_notification("Available", evse_id=2, connector_id=1)
        assert charger.connectors[2].status == ConnectorStatus.PREPARING
        assert charger.connectors[2].evse_connector_id == 2
        await cp.status_notification("Faulted", evse_id=2, connector_id=2)
        assert charger.connectors[2].status == ConnectorStatus.AVAILABLE
        await cp.status_notification("Faulted", evse_id=2, connector_id=1)
        assert charger.connectors[2].status == ConnectorStatus.FAULTED


# Commands ----------------------------------------------------------------------------


async def _running_session(cp: FakeChargePoint) -> None:
    await cp.status_notification("Occupied")
    await cp.tx_event(
        "Started",
        0,
        "TX-CMD",
        evse={"id": 1, "connector_id": 1},
        charging_state="Charging",
        meter=meter(None, energy(100, context="Transaction.Begin")),
    )


async def test_commands_accepted(csms_factory: CsmsFactory) -> None:
    """Every command: the frame the station received, and what we made of it."""
    system = await csms_factory()
    async with station(system) as cp:
        link = link201(system)
        charger = system.chargers[CP_ID]
        await _running_session(cp)
        await cp.status_notification("Occupied", evse_id=2, connector_id=1)
        conn = charger.connectors[1]

        await link.start_charging(2, "energy-coordinator")
        first = cp.last("RequestStartTransaction")
        assert first["idToken"] == {"idToken": "energy-coordinator", "type": "Central"}
        assert first["evseId"] == 2
        await link.start_charging(0, "energy-coordinator")
        second = cp.last("RequestStartTransaction")
        assert "evseId" not in second
        assert second["remoteStartId"] > first["remoteStartId"]

        await link.stop_charging(1)
        assert cp.last("RequestStopTransaction") == {"transactionId": "TX-CMD"}
        with pytest.raises(CommandError):
            await link.stop_charging(2)  # nothing running there

        await link.reset(ResetKind.SOFT)
        assert cp.last("Reset") == {"type": "OnIdle"}
        await link.reset(ResetKind.HARD)
        assert cp.last("Reset") == {"type": "Immediate"}

        await link.unlock(1)
        assert cp.last("UnlockConnector") == {"evseId": 1, "connectorId": 1}

        await link.set_availability(1, False)
        assert cp.last("ChangeAvailability") == {
            "operationalStatus": "Inoperative",
            "evse": {"id": 1},
        }
        assert conn.available is False
        await link.set_availability(0, True)
        assert cp.last("ChangeAvailability") == {"operationalStatus": "Operative"}
        assert conn.available is True

        config = await link.get_configuration(
            ["OCPPCommCtrlr.HeartbeatInterval", "EVSE[1]/Power", "Foo.Bar", "junk"]
        )
        assert cp.last("GetVariables") == {
            "getVariableData": [
                {
                    "component": {"name": "OCPPCommCtrlr"},
                    "variable": {"name": "HeartbeatInterval"},
                },
                {
                    "component": {"name": "EVSE", "evse": {"id": 1}},
                    "variable": {"name": "Power"},
                },
                {"component": {"name": "Foo"}, "variable": {"name": "Bar"}},
            ]
        }
        assert config == {
            "configuration": {
                "OCPPCommCtrlr.HeartbeatInterval": {
                    "value": "60",
                    "status": "Accepted",
                },
                "EVSE[1]/Power": {"value": "22000", "status": "Accepted"},
            },
            "unknown": ["junk", "Foo.Bar"],
        }
        assert charger.configuration["EVSE[1].Power"] == "22000"
        everything = await link.get_configuration(None)
        assert everything["configuration"]["EVSE[1].Power"]["value"] == "22000"

        status = await link.set_configuration("OCPPCommCtrlr.HeartbeatInterval", "30")
        assert status == "Accepted"
        assert cp.last("SetVariables") == {
            "setVariableData": [
                {
                    "component": {"name": "OCPPCommCtrlr"},
                    "variable": {"name": "HeartbeatInterval"},
                    "attributeValue": "30",
                }
            ]
        }
        assert charger.configuration["OCPPCommCtrlr.HeartbeatInterval"] == "30"
        cp.statuses["SetVariables"] = "RebootRequired"
        assert await link.set_configuration("Foo/Bar", "1") == "RebootRequired"
        with pytest.raises(CommandError):
            await link.set_configuration("nonsense", "1")

        await link.get_base_report()
        assert cp.last("GetBaseReport")["reportBase"] == "FullInventory"

        await link.trigger_message("StatusNotification", 1)
        assert cp.last("TriggerMessage") == {
            "requestedMessage": "StatusNotification",
            "evse": {"id": 1},
        }
        await link.trigger_message("DiagnosticsStatusNotification", None)
        assert cp.last("TriggerMessage") == {
            "requestedMessage": "LogStatusNotification"
        }
        with pytest.raises(CommandNotSupported):
            await link.trigger_message("NoSuchMessage", None)

        await link.set_charging_limit(
            ChargingLimit(
                16, LimitUnit.AMPERE, connector_id=1, phases=3, duration_s=3600
            )
        )
        frame = cp.last("SetChargingProfile")
        assert frame["evseId"] == 1
        profile = frame["chargingProfile"]
        assert profile["id"] == 1001
        assert profile["stackLevel"] == 1
        assert profile["chargingProfilePurpose"] == "TxDefaultProfile"
        assert profile["chargingProfileKind"] == "Absolute"
        assert "transactionId" not in profile
        (schedule,) = profile["chargingSchedule"]
        assert schedule["id"] == 1001
        assert schedule["chargingRateUnit"] == "A"
        assert schedule["duration"] == 3600
        assert "startSchedule" in schedule
        assert schedule["chargingSchedulePeriod"] == [
            {"startPeriod": 0, "limit": 16.0, "numberPhases": 3}
        ]
        assert (conn.current_limit_a, conn.power_limit_w, conn.limit_phases) == (
            16,
            None,
            3,
        )
        # The same purpose and EVSE keeps its profile id; 0 pauses.
        await link.set_charging_limit(ChargingLimit(0, connector_id=1))
        profile = cp.last("SetChargingProfile")["chargingProfile"]
        assert profile["id"] == 1001
        assert profile["chargingSchedule"][0]["chargingSchedulePeriod"] == [
            {"startPeriod": 0, "limit": 0.0}
        ]
        assert conn.current_limit_a == 0

        await link.set_charging_limit(
            ChargingLimit(10, connector_id=1, purpose=LimitPurpose.TX)
        )
        profile = cp.last("SetChargingProfile")["chargingProfile"]
        assert profile["chargingProfilePurpose"] == "TxProfile"
        assert profile["transactionId"] == "TX-CMD"
        assert profile["id"] == 2001
        with pytest.raises(CommandError):
            await link.set_charging_limit(
                ChargingLimit(10, connector_id=2, purpose=LimitPurpose.TX)
            )

        await link.set_charging_limit(
            ChargingLimit(11000, LimitUnit.WATT, purpose=LimitPurpose.CHARGE_POINT_MAX)
        )
        frame = cp.last("SetChargingProfile")
        assert frame["evseId"] == 0
        assert frame["chargingProfile"]["chargingProfilePurpose"] == (
            "ChargingStationMaxProfile"
        )
        assert frame["chargingProfile"]["id"] == 3000
        assert (
            frame["chargingProfile"]["chargingSchedule"][0]["chargingRateUnit"] == "W"
        )
        for evse in (1, 2):
            assert charger.connectors[evse].power_limit_w == 11000
            assert charger.connectors[evse].current_limit_a is None

        await link.clear_charging_limit(1)
        assert cp.last("ClearChargingProfile") == {
            "chargingProfileCriteria": {"evseId": 1, "stackLevel": 1}
        }
        assert conn.power_limit_w is None
        assert charger.connectors[2].power_limit_w == 11000
        cp.statuses["ClearChargingProfile"] = "Unknown"  # nothing to clear is fine
        await link.clear_charging_limit(0)
        assert cp.last("ClearChargingProfile") == {
            "chargingProfileCriteria": {"stackLevel": 1}
        }
        assert charger.connectors[2].power_limit_w is None

        composite = await link.get_composite_schedule(1, 3600, "A")
        assert cp.last("GetCompositeSchedule") == {
            "duration": 3600,
            "evseId": 1,
            "chargingRateUnit": "A",
        }
        assert composite["status"] == "Accepted"
        assert composite["schedule"]["charging_schedule_period"][0]["limit"] == 16.0

        await link.send_local_list([IdTagEntry("04A1B2C3D4")], 7)
        assert cp.last("SendLocalList") == {
            "versionNumber": 7,
            "updateType": "Full",
            "localAuthorizationList": [
                {
                    "idToken": {"idToken": "04A1B2C3D4", "type": "ISO14443"},
                    "idTokenInfo": {"status": "Accepted"},
                }
            ],
        }
        assert await link.get_local_list_version() == 7
        await link.send_local_list([], 8)
        assert cp.last("SendLocalList") == {"versionNumber": 8, "updateType": "Full"}

        when = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
        await link.update_firmware("https://example.invalid/fw.bin", when)
        firmware = cp.last("UpdateFirmware")
        assert firmware["firmware"] == {
            "location": "https://example.invalid/fw.bin",
            "retrieveDateTime": "2030-01-02T03:04:05Z",
        }
        assert isinstance(firmware["requestId"], int)

        filename = await link.request_diagnostics("ftp://example.invalid/logs")
        assert filename == "log-CP201.zip"
        log = cp.last("GetLog")
        assert log["logType"] == "DiagnosticsLog"
        assert log["log"] == {"remoteLocation": "ftp://example.invalid/logs"}
        assert log["requestId"] > firmware["requestId"]

        answer = await link.data_transfer("acme", "ping", "hello")
        assert cp.last("DataTransfer") == {
            "vendorId": "acme",
            "messageId": "ping",
            "data": "hello",
        }
        assert answer == {"status": "Accepted", "data": "echo:hello"}

        await link.clear_cache()
        assert cp.last("ClearCache") == {}


def _command_calls() -> list[tuple[str, Callable[[ChargePoint201], Awaitable[Any]]]]:
    """One call per command, with the action name it sends."""
    return [
        ("RequestStartTransaction", lambda x: x.start_charging(1, "tag")),
        ("RequestStopTransaction", lambda x: x.stop_charging(1)),
        ("Reset", lambda x: x.reset(ResetKind.HARD)),
        ("UnlockConnector", lambda x: x.unlock(1)),
        ("ChangeAvailability", lambda x: x.set_availability(1, False)),
        ("GetVariables", lambda x: x.get_configuration(["EVSE[1].Power"])),
        ("SetVariables", lambda x: x.set_configuration("EVSE[1].Power", "1")),
        ("GetBaseReport", lambda x: x.get_base_report()),
        ("TriggerMessage", lambda x: x.trigger_message("Heartbeat", None)),
        ("SetChargingProfile", lambda x: x.set_charging_limit(ChargingLimit(6))),
        ("ClearChargingProfile", lambda x: x.clear_charging_limit(1)),
        ("GetCompositeSchedule", lambda x: x.get_composite_schedule(1, 60, None)),
        ("SendLocalList", lambda x: x.send_local_list([IdTagEntry("A1")], 3)),
        ("GetLocalListVersion", lambda x: x.get_local_list_version()),
        ("UpdateFirmware", lambda x: x.update_firmware("https://x.invalid/f", None)),
        ("GetLog", lambda x: x.request_diagnostics("ftp://x.invalid/")),
        ("DataTransfer", lambda x: x.data_transfer("acme", None, None)),
        ("ClearCache", lambda x: x.clear_cache()),
    ]


#: A refusal per command (the status enum differs per action).
REFUSALS = {
    "RequestStartTransaction": "Rejected",
    "RequestStopTransaction": "Rejected",
    "Reset": "Rejected",
    "UnlockConnector": "UnlockFailed",
    "ChangeAvailability": "Rejected",
    "SetVariables": "Rejected",
    "GetBaseReport": "NotSupported",
    "TriggerMessage": "NotImplemented",
    "SetChargingProfile": "Rejected",
    "GetCompositeSchedule": "Rejected",
    "SendLocalList": "VersionMismatch",
    "UpdateFirmware": "InvalidCertificate",
    "GetLog": "Rejected",
    "ClearCache": "Rejected",
}


async def test_commands_rejected(csms_factory: CsmsFactory) -> None:
    """A refusal is a CommandRejected with the station's status; nothing changes."""
    system = await csms_factory()
    async with station(system) as cp:
        link = link201(system)
        charger = system.chargers[CP_ID]
        await _running_session(cp)
        cp.statuses.update(REFUSALS)
        cp.statuses["GetVariables"] = "Rejected"
        cp.statuses["DataTransfer"] = "Rejected"
        for action, command in _command_calls():
            sent = len(cp.frames(action))
            if action in REFUSALS:
                with pytest.raises(CommandRejected) as err:
                    await command(link)
                assert err.value.status == REFUSALS[action], action
                assert err.value.action == action
            else:
                await command(link)
            assert len(cp.frames(action)) == sent + 1, action
        # Statuses that are not refusals of these two carry their result instead.
        config = await link.get_configuration(["EVSE[1].Power"])
        assert config["configuration"]["EVSE[1].Power"]["status"] == "Rejected"
        assert (await link.data_transfer("acme", None, None))["status"] == "Rejected"
        conn = charger.connectors[1]
        assert conn.available is True
        assert conn.current_limit_a is None
        assert "EVSE[1].Power" not in charger.configuration


async def test_commands_time_out(csms_factory: CsmsFactory) -> None:
    """A station that never answers: every command ends in CommandTimeout."""
    system = await csms_factory(response_timeout=0.2)
    async with station(system) as cp:
        link = link201(system)
        await _running_session(cp)
        calls = _command_calls()
        cp.silent = {action for action, _ in calls}
        for action, command in calls:
            with pytest.raises(CommandTimeout):
                await command(link)
            assert cp.frames(action), action
        # The connection still works afterwards.
        assert (await cp.send(call.Heartbeat())).current_time


# Restart durability ----------------------------------------------------------------


async def test_restart_durability(csms_factory: CsmsFactory, tmp_path: Path) -> None:
    """A transaction started before a restart ends after it exactly once."""
    db = tmp_path / "restart.db"
    system = await csms_factory(db=db)
    async with station(system) as cp:
        await _running_session(cp)  # register 100 Wh at the start
        await cp.tx_event("Updated", 1, "TX-CMD", meter=meter(None, energy(600)))
    await stop_system(system)

    system = await csms_factory(db=db)
    charger = system.chargers[CP_ID]
    tx = charger.connectors[1].transaction
    assert tx is not None
    assert tx.transaction_id == "TX-CMD"
    assert tx.last_seq_no == 1
    async with station(system, boot=False) as cp:
        # An old event replayed after the restart does not count.
        await cp.tx_event("Updated", 1, "TX-CMD", meter=meter(None, energy(5000)))
        await cp.tx_event("Updated", 2, "TX-CMD", meter=meter(None, energy(1100)))
        await cp.tx_event(
            "Ended",
            3,
            "TX-CMD",
            stopped_reason="Remote",
            meter=meter(None, energy(1.6, "kWh", context="Transaction.End")),
        )
        (done,) = await sessions(system)
        assert done.energy_wh == 1500
        assert done.meter_start_wh == 100
        assert done.meter_stop_wh == 1600
        assert done.stop_reason == "Remote"
        assert charger.connectors[1].transaction is None
        assert charger.connectors[1].energy_total_wh == 1500
        # The repeated Ended (as after a lost answer) changes nothing.
        repeat = await cp.tx_event(
            "Ended", 3, "TX-CMD", meter=meter(None, energy(9999))
        )
        assert repeat.id_token_info is None
        (again,) = await sessions(system)
        assert again == done
        assert charger.connectors[1].energy_total_wh == 1500


# Bad input -------------------------------------------------------------------------


async def test_bad_frames(csms_factory: CsmsFactory) -> None:
    """Every bad frame gets a CALLERROR; the connection keeps answering."""
    system = await csms_factory()
    async with connect(
        f"ws://127.0.0.1:{system.port}/{CP_ID}",
        subprotocols=[Subprotocol("ocpp2.0.1")],
    ) as ws:

        async def exchange(frame: str) -> list[Any]:
            await ws.send(frame)
            async with asyncio.timeout(5):
                reply: list[Any] = json.loads(await ws.recv())
            return reply

        async def heartbeat_ok() -> None:
            reply = await exchange('[2,"hb","Heartbeat",{}]')
            assert reply[0] == 3
            assert reply[1] == "hb"
            assert "currentTime" in reply[2]

        cases = [
            ('[2,"m1","Heartbeat",{', "-1", "FormatViolation"),
            ('[2,"m2","FooBar",{}]', "m2", "NotImplemented"),
            ('[2,"m3","ReserveNow",{}]', "m3", "NotSupported"),
            (
                '[2,"m4","StatusNotification",{"evseId":"one"}]',
                "m4",
                None,  # a schema violation: the library's constraint code
            ),
            (
                '[2,"m5","BootNotification",{"reason":"PowerUp",'
                '"chargingStation":{"model":"X"}}]',
                "m5",
                None,
            ),
            ('[9,"m6","Heartbeat",{}]', "m6", "MessageTypeNotSupported"),
            ('[2,"m7","Heartbeat",[]]', "m7", "FormatViolation"),
        ]
        for frame, unique_id, code in cases:
            reply = await exchange(frame)
            assert reply[0] == 4, frame
            assert reply[1] == unique_id, frame
            if code is not None:
                assert reply[2] == code, frame
            else:
                assert reply[2] in (
                    "FormatViolation",
                    "TypeConstraintViolation",
                    "OccurrenceConstraintViolation",
                    "ProtocolError",
                ), frame
            await heartbeat_ok()
        # Nothing was created by the bad frames.
        charger = system.chargers[CP_ID]
        assert charger.connectors == {}
        assert charger.registration is None


async def test_remote_start_without_id_token(csms_factory: CsmsFactory) -> None:
    """Started by RemoteStart with only the remoteStartId: the tag we sent."""
    system = await csms_factory()
    async with station(system) as cp:
        await cp.status_notification("Occupied")
        await link201(system).start_charging(1, "HOME-TAG")
        request = cp.last("RequestStartTransaction")
        assert request["idToken"] == {"idToken": "HOME-TAG", "type": "Central"}
        await cp.tx_event(
            "Started",
            0,
            "TX-R",
            trigger="RemoteStart",
            remote_start_id=request["remoteStartId"],
            evse={"id": 1, "connector_id": 1},
            charging_state="Charging",
            meter=meter(None, energy(500, context="Transaction.Begin")),
        )
        conn = system.chargers[CP_ID].connectors[1]
        assert conn.transaction is not None
        assert conn.transaction.id_tag == "HOME-TAG"
        assert conn.last_session_id_tag == "HOME-TAG"
        (stored,) = await sessions(system)
        assert stored.id_tag == "HOME-TAG"

        # A remoteStartId we never sent teaches nothing.
        await cp.tx_event(
            "Ended", 1, "TX-R", trigger="RemoteStop", stopped_reason="Remote"
        )
        await cp.tx_event(
            "Started",
            0,
            "TX-S",
            trigger="RemoteStart",
            remote_start_id=request["remoteStartId"] + 1000,
            evse={"id": 1, "connector_id": 1},
        )
        assert conn.transaction is not None
        assert conn.transaction.id_tag is None
