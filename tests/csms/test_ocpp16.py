"""OCPP 1.6J handler: a real `ocpp` client charger against a real central system."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from ocpp.v16 import call

from custom_components.energy_coordinator.csms.commands import (
    ChargingLimit,
    CommandFailed,
    CommandNotSupported,
    CommandRejected,
    CommandTimeout,
    IdTagEntry,
    LimitPurpose,
    LimitUnit,
    ResetKind,
)
from custom_components.energy_coordinator.csms.model import ConnectorStatus
from custom_components.energy_coordinator.csms.ocpp16 import ChargePoint16
from custom_components.energy_coordinator.csms.server import (
    CentralSystem,
    ChargerPolicy,
)
from tests.fake_charge_point import fake_charger, now, wait_until

from .conftest import CsmsFactory, RecordingHooks, stop_system


def link16(system: CentralSystem, charger_id: str = "CP1") -> ChargePoint16:
    link = system.link(charger_id)
    assert isinstance(link, ChargePoint16)
    return link


def energy(value: str, unit: str | None = None, **extra: str) -> dict[str, Any]:
    sample = {"value": value, "measurand": "Energy.Active.Import.Register", **extra}
    if unit:
        sample["unit"] = unit
    return sample


async def session_list(system: CentralSystem) -> list[Any]:
    sessions, _, _ = await system.store.query_sessions(charger_id="CP1")
    return sessions


# A full session --------------------------------------------------------------


async def test_full_session(csms_factory: CsmsFactory) -> None:
    """Boot, status, authorize, start, meter values in all units, stop."""
    hooks = RecordingHooks()
    system = await csms_factory(hooks=hooks, heartbeat_interval=120)
    async with fake_charger(system) as cp:
        charger = system.chargers["CP1"]
        notified: list[int] = []
        charger.add_listener(lambda: notified.append(1))

        boot = await cp.boot()
        assert boot.status == "Accepted"
        assert boot.interval == 120
        assert charger.registration == "Accepted"
        assert charger.info.vendor == "Acme"
        assert charger.info.model == "Wallbox X"
        assert charger.info.serial_number == "SN-1"
        assert charger.info.firmware_version == "1.2.3"
        assert charger.info.meter_type == "DIN"
        assert hooks.added == ["CP1"]
        # After the boot the handler reads the configuration to learn features.
        await wait_until(lambda: charger.supports_smart_charging is not None)
        assert cp.frames("GetConfiguration") == [{}]
        assert charger.supports_smart_charging is True
        assert charger.supports_local_list is True
        assert charger.configuration["HeartbeatInterval"] == "60"
        assert not cp.frames("SendLocalList")  # no tags: nothing to push

        assert (await cp.send(call.Heartbeat())).current_time

        await cp.send(
            call.StatusNotification(
                connector_id=0, error_code="NoError", status="Available"
            )
        )
        assert charger.status == ConnectorStatus.AVAILABLE
        assert 0 not in charger.connectors
        await cp.send(
            call.StatusNotification(
                connector_id=1,
                error_code="NoError",
                status="Preparing",
                info="cable in",
                vendor_error_code="V-7",
            )
        )
        conn = charger.connectors[1]
        assert conn.status == ConnectorStatus.PREPARING
        assert conn.plugged
        assert conn.info == "cable in"
        assert conn.vendor_error == "V-7"
        # The new connector is persisted.
        await wait_until(lambda: not link16(system)._tasks)
        [record] = await system.store.chargers()
        assert record.connectors == (1,)

        auth = await cp.send(call.Authorize(id_tag="TAG1"))
        assert auth.id_tag_info["status"] == "Accepted"

        tx_id = await cp.start_tx(connector_id=1, meter_start=1000, id_tag="TAG1")
        tx = conn.transaction
        assert tx is not None
        assert tx.transaction_id == str(tx_id)
        assert tx.id_tag == "TAG1"
        assert tx.meter_start_wh == 1000
        [stored] = await session_list(system)
        assert stored.active
        assert stored.transaction_id == str(tx_id)
        assert stored.meter_start_wh == 1000

        await cp.send(
            call.StatusNotification(
                connector_id=1, error_code="NoError", status="Charging"
            )
        )
        assert conn.charging

        before = len(notified)
        await cp.meter(
            1,
            tx_id,
            energy("1.5", "kWh"),
            {"value": "7.2", "measurand": "Power.Active.Import", "unit": "kW"},
            {
                "value": "10.1",
                "measurand": "Current.Import",
                "phase": "L1",
                "unit": "A",
            },
            {
                "value": "10.4",
                "measurand": "Current.Import",
                "phase": "L2",
                "unit": "A",
            },
            {"value": "9.9", "measurand": "Current.Import", "phase": "L3", "unit": "A"},
            {"value": "230", "measurand": "Voltage", "phase": "L1-N", "unit": "V"},
            {"value": "232", "measurand": "Voltage", "phase": "L2-N", "unit": "V"},
            {"value": "228", "measurand": "Voltage", "phase": "L3-N", "unit": "V"},
            {"value": "16", "measurand": "Current.Offered", "unit": "A"},
            {"value": "55", "measurand": "SoC", "unit": "Percent", "location": "EV"},
        )
        assert len(notified) == before + 1  # one notification per frame
        assert conn.meter.energy_wh == 1500
        assert conn.meter.power_w == 7200
        assert conn.meter.current_phases_a == {"L1": 10.1, "L2": 10.4, "L3": 9.9}
        assert conn.meter.current_a == 10.4
        assert conn.meter.voltage_v == pytest.approx(230.0)
        assert conn.meter.voltage_phases_v == {"L1": 230, "L2": 232, "L3": 228}
        assert conn.meter.current_offered_a == 16
        assert conn.meter.soc_percent == 55
        assert conn.energy_total_wh == 500
        assert conn.last_session_energy_wh == 500
        [stored] = await session_list(system)
        assert stored.energy_wh == 500

        # Wh without a unit (the default), power in W.
        await cp.meter(
            1,
            tx_id,
            energy("2500"),
            {"value": "3680", "measurand": "Power.Active.Import"},
        )
        assert conn.meter.energy_wh == 2500
        assert conn.meter.power_w == 3680
        assert conn.energy_total_wh == 1500

        before = len(notified)
        assert (await cp.send(call.Heartbeat())).current_time
        assert len(notified) == before  # nothing changed, nobody woken

        stop = await cp.stop_tx(
            tx_id,
            3000,
            reason="Local",
            id_tag="TAG1",
            transaction_data=[
                {
                    "timestamp": now(),
                    "sampledValue": [
                        {
                            "value": "2.9",
                            "unit": "kWh",
                            "context": "Transaction.End",
                            "measurand": "Energy.Active.Import.Register",
                        }
                    ],
                }
            ],
        )
        assert stop.id_tag_info["status"] == "Accepted"
        assert conn.transaction is None
        assert conn.last_session_energy_wh == 2000
        assert conn.last_session_stop is not None
        assert conn.energy_total_wh == 2000
        assert conn.meter.power_w == 0
        [stored] = await session_list(system)
        assert not stored.active
        assert stored.energy_wh == 2000
        assert stored.meter_stop_wh == 3000
        assert stored.stop_reason == "Local"
        assert stored.id_tag == "TAG1"

        # A repeated stop is answered and changes nothing.
        await cp.stop_tx(tx_id, 9000, reason="Other")
        [again] = await session_list(system)
        assert again == stored
        assert conn.energy_total_wh == 2000
        # So is a stop for a transaction nobody knows.
        await cp.stop_tx(424242, 9000)
        assert len(await session_list(system)) == 1
        # Late values of the finished transaction do not move the total back...
        await cp.meter(1, tx_id, energy("2800"))
        assert conn.energy_total_wh == 2000
        # ...so the next reading counts only what is new since the stop.
        await cp.meter(1, None, energy("3100"))
        assert conn.energy_total_wh == 2100
        [again] = await session_list(system)
        assert again == stored

        # The last vehicle's SoC stays shown until the next session starts.
        assert conn.meter.soc_percent == 55
        next_tx = await cp.start_tx(1, meter_start=3100, id_tag="TAG1")
        assert next_tx != tx_id
        assert conn.meter.soc_percent is None

        await cp.send(call.FirmwareStatusNotification(status="Downloading"))
        assert charger.firmware_status == "Downloading"
        await cp.send(call.DiagnosticsStatusNotification(status="Uploaded"))
        assert charger.diagnostics_status == "Uploaded"
        dt = await cp.send(call.DataTransfer(vendor_id="com.acme", message_id="x"))
        assert dt.status == "UnknownVendorId"
        await cp.send(
            call.SecurityEventNotification(
                type="FirmwareUpdated", timestamp=now(), tech_info=None
            )
        )


async def test_meter_values_without_transaction(csms_factory: CsmsFactory) -> None:
    """Clock-aligned values update the meter and the total, no session; connector 0
    (the charger's own meter) is not mixed into a connector."""
    system = await csms_factory()
    async with fake_charger(system) as cp:
        await cp.meter(2, None, energy("100"))
        conn = system.chargers["CP1"].connectors[2]
        assert conn.meter.energy_wh == 100
        await cp.meter(2, None, energy("0.4", "kWh"))
        assert conn.energy_total_wh == 300
        await cp.meter(0, None, energy("99999"))
        assert 0 not in system.chargers["CP1"].connectors
        assert conn.energy_total_wh == 300
        # Unreadable and signed values are skipped; the frame is still answered.
        await cp.meter(2, None, {"value": "n/a"}, energy("ab", format="SignedData"))
        assert conn.meter.energy_wh == 400
        assert await session_list(system) == []


async def test_frames_are_logged_at_debug_only(
    csms_factory: CsmsFactory, caplog: pytest.LogCaptureFixture
) -> None:
    """Every frame is a DEBUG record of the frames logger, never INFO noise."""
    frames = "custom_components.energy_coordinator.csms.frames"
    system = await csms_factory()
    async with fake_charger(system) as cp:
        caplog.set_level(logging.INFO)
        await cp.send(call.Heartbeat())
        assert not [r for r in caplog.records if r.name == frames]

        caplog.set_level(logging.DEBUG, logger=frames)
        await cp.send(call.Heartbeat())
        logged = [r for r in caplog.records if r.name == frames]
        assert logged
        assert {r.levelno for r in logged} == {logging.DEBUG}
        messages = [r.getMessage() for r in logged]
        assert any("receive" in m and "Heartbeat" in m for m in messages)
        assert any("send" in m and "currentTime" in m for m in messages)


async def test_repeated_and_overlapping_starts(csms_factory: CsmsFactory) -> None:
    """A repeated StartTransaction gets the same id; a new start on a busy
    connector closes the transaction whose stop never came."""
    system = await csms_factory()
    async with fake_charger(system) as cp:
        start = call.StartTransaction(
            connector_id=1, id_tag="TAG1", meter_start=500, timestamp=now()
        )
        first = (await cp.send(start)).transaction_id
        assert (await cp.send(start)).transaction_id == first
        assert len(await session_list(system)) == 1
        await cp.meter(1, first, energy("800"))
        second = await cp.start_tx(connector_id=1, meter_start=900)
        assert second != first
        sessions = {s.transaction_id: s for s in await session_list(system)}
        assert not sessions[str(first)].active
        assert sessions[str(first)].energy_wh == 300
        assert sessions[str(second)].active
        conn = system.chargers["CP1"].connectors[1]
        assert conn.transaction is not None
        assert conn.transaction.transaction_id == str(second)


async def test_pending_charger(csms_factory: CsmsFactory) -> None:
    """Under `ask` an unknown charger is Pending: no transactions, tags Invalid;
    once approved it is asked to boot again and is Accepted."""
    hooks = RecordingHooks()
    system = await csms_factory(hooks=hooks, charger_policy=ChargerPolicy.ASK)
    async with fake_charger(system) as cp:
        boot = await cp.boot()
        assert boot.status == "Pending"
        assert [cid for cid, _ in hooks.pending] == ["CP1"]
        assert (await cp.send(call.Heartbeat())).current_time
        await cp.send(
            call.StatusNotification(
                connector_id=1, error_code="NoError", status="Preparing"
            )
        )
        assert system.chargers["CP1"].connectors[1].status == ConnectorStatus.PREPARING
        auth = await cp.send(call.Authorize(id_tag="TAG1"))
        assert auth.id_tag_info["status"] == "Invalid"
        start = await cp.send(
            call.StartTransaction(
                connector_id=1, id_tag="TAG1", meter_start=0, timestamp=now()
            )
        )
        assert start.id_tag_info["status"] == "Invalid"
        assert start.transaction_id == 0
        assert await session_list(system) == []
        assert not cp.frames("GetConfiguration")  # not Accepted: no follow-up
        link = link16(system)
        with pytest.raises(CommandRejected):
            await link.start_charging(1, "TAG1")

        await system.approve("CP1")
        await wait_until(lambda: cp.frames("TriggerMessage"))
        assert cp.frames("TriggerMessage") == [{"requestedMessage": "BootNotification"}]
        assert (await cp.boot()).status == "Accepted"
        assert hooks.added == ["CP1"]
        tx_id = await cp.start_tx(meter_start=0)
        assert tx_id > 0
        assert len(await session_list(system)) == 1


async def test_tag_statuses(csms_factory: CsmsFactory) -> None:
    """Authorize answers the stored tag's status and expiry; unknown tags follow
    the tag policy."""
    system = await csms_factory(tag_policy="reject")
    expiry = datetime(2031, 5, 1, 12, 0, tzinfo=UTC)
    await system.add_tag(IdTagEntry("GOOD", "Anna", expiry=expiry))
    await system.add_tag(IdTagEntry("BLOCKED", status="Blocked"))
    await system.add_tag(
        IdTagEntry("OLD", expiry=datetime.now(UTC) - timedelta(days=1))
    )
    async with fake_charger(system) as cp:
        good = (await cp.send(call.Authorize(id_tag="GOOD"))).id_tag_info
        assert good == {"status": "Accepted", "expiry_date": "2031-05-01T12:00:00.000Z"}
        for tag, status in (
            ("BLOCKED", "Blocked"),
            ("OLD", "Expired"),
            ("X", "Invalid"),
        ):
            info = (await cp.send(call.Authorize(id_tag=tag))).id_tag_info
            assert info["status"] == status
        # The remote-start tag is always accepted.
        remote = system.config.remote_id_tag
        info = (await cp.send(call.Authorize(id_tag=remote))).id_tag_info
        assert info["status"] == "Accepted"
        # A transaction with a refused tag is still recorded (the charger ends it).
        start = await cp.send(
            call.StartTransaction(
                connector_id=1, id_tag="BLOCKED", meter_start=10, timestamp=now()
            )
        )
        assert start.id_tag_info["status"] == "Blocked"
        assert start.transaction_id > 0
        await cp.stop_tx(start.transaction_id, 10, reason="DeAuthorized")
        [stored] = await session_list(system)
        assert stored.stop_reason == "DeAuthorized"


# Features and the local list ------------------------------------------------------


async def test_local_list_pushed_after_boot(csms_factory: CsmsFactory) -> None:
    """A charger with LocalAuthListManagement gets the full list when its version
    differs, with status and expiry per tag; not when it is current."""
    system = await csms_factory()
    expiry = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
    await system.add_tag(IdTagEntry("TAG-A", "Anna", expiry=expiry))
    await system.add_tag(IdTagEntry("TAG-B", "Ben", status="Blocked"))
    await system.add_tag(IdTagEntry("T" * 25, "too long for 1.6"))
    version = await system.store.local_list_version()
    assert version == 3
    async with fake_charger(system) as cp:
        await cp.boot()
        await wait_until(lambda: cp.frames("SendLocalList"))
        assert cp.frames("GetLocalListVersion") == [{}]
        [frame] = cp.frames("SendLocalList")
        assert frame == {
            "listVersion": 3,
            "updateType": "Full",
            "localAuthorizationList": [
                {
                    "idTag": "TAG-A",
                    "idTagInfo": {
                        "status": "Accepted",
                        "expiryDate": "2030-01-02T03:04:05.000Z",
                    },
                },
                {"idTag": "TAG-B", "idTagInfo": {"status": "Blocked"}},
            ],
        }
        # The fake records a frame before it handles it.
        await wait_until(lambda: cp.list_version == 3)
        link = link16(system)
        assert await link.get_local_list_version() == 3
        # Booting again with the list current sends no new list.
        await cp.boot()
        await wait_until(lambda: len(cp.frames("GetLocalListVersion")) == 2)
        await wait_until(lambda: not link._tasks)
        assert len(cp.frames("SendLocalList")) == 1
        # A new tag is pushed to the connected charger right away.
        await system.add_tag(IdTagEntry("TAG-C"))
        await wait_until(lambda: len(cp.frames("SendLocalList")) == 2)
        assert cp.frames("SendLocalList")[-1]["listVersion"] == 4


async def test_features_without_profiles(csms_factory: CsmsFactory) -> None:
    """A charger without SmartCharging/LocalAuthList: no list, limits refused."""
    system = await csms_factory()
    await system.add_tag(IdTagEntry("TAG-A"))
    async with fake_charger(system) as cp:
        cp.config = {"SupportedFeatureProfiles": "Core,RemoteTrigger"}
        await cp.boot()
        charger = system.chargers["CP1"]
        await wait_until(lambda: charger.supports_smart_charging is not None)
        await wait_until(lambda: not link16(system)._tasks)
        assert charger.supports_smart_charging is False
        assert charger.supports_local_list is False
        assert not cp.frames("GetLocalListVersion")
        with pytest.raises(CommandNotSupported):
            await link16(system).set_charging_limit(ChargingLimit(16))
        assert not cp.frames("SetChargingProfile")


# Central system -> charger commands -------------------------------------------------

type Invoke = Callable[[ChargePoint16], Awaitable[Any]]


@dataclass(frozen=True)
class Case:
    """One command: how to call it, the frame expected, and the refusal to try."""

    name: str
    invoke: Invoke
    action: str
    frame: dict[str, Any]
    reject: str | None = "Rejected"
    result: Any = None
    extra: dict[str, Any] = field(default_factory=dict)


CASES = [
    Case(
        "remote_start",
        lambda link: link.start_charging(1, "TAG9"),
        "RemoteStartTransaction",
        {"idTag": "TAG9", "connectorId": 1},
    ),
    Case(
        "remote_stop",
        lambda link: link.stop_charging(1),
        "RemoteStopTransaction",
        {"transactionId": "TX"},
    ),
    Case(
        "reset_soft", lambda link: link.reset(ResetKind.SOFT), "Reset", {"type": "Soft"}
    ),
    Case(
        "reset_hard", lambda link: link.reset(ResetKind.HARD), "Reset", {"type": "Hard"}
    ),
    Case(
        "unlock",
        lambda link: link.unlock(1),
        "UnlockConnector",
        {"connectorId": 1},
        reject="UnlockFailed",
    ),
    Case(
        "availability_off",
        lambda link: link.set_availability(1, False),
        "ChangeAvailability",
        {"connectorId": 1, "type": "Inoperative"},
    ),
    Case(
        "availability_on",
        lambda link: link.set_availability(0, True),
        "ChangeAvailability",
        {"connectorId": 0, "type": "Operative"},
    ),
    Case(
        "get_configuration",
        lambda link: link.get_configuration(["HeartbeatInterval", "Nope"]),
        "GetConfiguration",
        {"key": ["HeartbeatInterval", "Nope"]},
        reject=None,
        result={
            "configuration": {"HeartbeatInterval": {"value": "60", "readonly": False}},
            "unknown": ["Nope"],
        },
    ),
    Case(
        "change_configuration",
        lambda link: link.set_configuration("MeterValueSampleInterval", "30"),
        "ChangeConfiguration",
        {"key": "MeterValueSampleInterval", "value": "30"},
        result="Accepted",
    ),
    Case(
        "change_configuration_not_supported",
        lambda link: link.set_configuration("Foo", "1"),
        "ChangeConfiguration",
        {"key": "Foo", "value": "1"},
        reject="NotSupported",
        result="Accepted",
    ),
    Case(
        "trigger",
        lambda link: link.trigger_message("StatusNotification", 1),
        "TriggerMessage",
        {"requestedMessage": "StatusNotification", "connectorId": 1},
    ),
    Case(
        "set_limit",
        lambda link: link.set_charging_limit(ChargingLimit(16.04, connector_id=1)),
        "SetChargingProfile",
        {
            "connectorId": 1,
            "csChargingProfiles": {
                "chargingProfileId": 9101,
                "stackLevel": 1,
                "chargingProfilePurpose": "TxDefaultProfile",
                "chargingProfileKind": "Relative",
                "chargingSchedule": {
                    "chargingRateUnit": "A",
                    "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16.0}],
                },
            },
        },
    ),
    Case(
        "clear_limit",
        lambda link: link.clear_charging_limit(1),
        "ClearChargingProfile",
        {"id": 9101},
        reject=None,
    ),
    Case(
        "composite_schedule",
        lambda link: link.get_composite_schedule(1, 3600, "W"),
        "GetCompositeSchedule",
        {"connectorId": 1, "duration": 3600, "chargingRateUnit": "W"},
        result={
            "status": "Accepted",
            "connector_id": 1,
            "schedule_start": "2030-01-01T00:00:00Z",
            "charging_schedule": {
                "duration": 3600,
                "charging_rate_unit": "W",
                "charging_schedule_period": [
                    {"start_period": 0, "limit": 16.0, "number_phases": 3},
                    {"start_period": 600, "limit": 6.5},
                ],
            },
        },
    ),
    Case(
        "send_local_list",
        lambda link: link.send_local_list([IdTagEntry("T1")], 7),
        "SendLocalList",
        {
            "listVersion": 7,
            "updateType": "Full",
            "localAuthorizationList": [
                {"idTag": "T1", "idTagInfo": {"status": "Accepted"}}
            ],
        },
        reject="VersionMismatch",
    ),
    Case(
        "local_list_version",
        lambda link: link.get_local_list_version(),
        "GetLocalListVersion",
        {},
        reject=None,
        result=0,
    ),
    Case("clear_cache", lambda link: link.clear_cache(), "ClearCache", {}),
    Case(
        "update_firmware",
        lambda link: link.update_firmware(
            "https://fw.example/x.bin", datetime(2030, 1, 1, tzinfo=UTC)
        ),
        "UpdateFirmware",
        {
            "location": "https://fw.example/x.bin",
            "retrieveDate": "2030-01-01T00:00:00.000Z",
        },
        reject=None,
    ),
    Case(
        "diagnostics",
        lambda link: link.request_diagnostics("ftp://logs.example/"),
        "GetDiagnostics",
        {"location": "ftp://logs.example/"},
        reject=None,
        result="diag-CP1.zip",
    ),
    Case(
        "data_transfer",
        lambda link: link.data_transfer("com.acme", "ping", "42"),
        "DataTransfer",
        {"vendorId": "com.acme", "messageId": "ping", "data": "42"},
        reject=None,
        result={"status": "Accepted", "data": "echo:42"},
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
async def test_command(csms_factory: CsmsFactory, case: Case) -> None:
    """Each command sends the right frame, succeeds on the success status and
    raises CommandRejected on a refusal."""
    system = await csms_factory()
    async with fake_charger(system) as cp:
        tx_id = await cp.start_tx(connector_id=1)
        link = link16(system)
        result = await case.invoke(link)
        expected = {k: (tx_id if v == "TX" else v) for k, v in case.frame.items()}
        assert cp.frames(case.action)[0] == expected
        if case.result is not None:
            assert result == case.result
        if case.reject is None:
            return
        cp.statuses[case.action] = case.reject
        with pytest.raises(CommandRejected) as err:
            await case.invoke(link)
        assert err.value.status == case.reject
        assert err.value.charger_id == "CP1"


async def test_command_state_updates(csms_factory: CsmsFactory) -> None:
    """Accepted commands update the model: availability, configuration."""
    system = await csms_factory()
    async with fake_charger(system) as cp:
        await cp.send(
            call.StatusNotification(
                connector_id=1, error_code="NoError", status="Available"
            )
        )
        await cp.send(
            call.StatusNotification(
                connector_id=2, error_code="NoError", status="Available"
            )
        )
        charger = system.chargers["CP1"]
        link = link16(system)
        cp.statuses["ChangeAvailability"] = "Scheduled"  # counts as accepted
        await link.set_availability(1, False)
        assert charger.connectors[1].available is False
        assert charger.connectors[2].available is True
        await link.set_availability(0, False)
        assert not any(c.available for c in charger.connectors.values())
        await cp.send(
            call.StatusNotification(
                connector_id=2, error_code="NoError", status="Available"
            )
        )
        assert charger.connectors[2].available is True

        cp.statuses["ChangeConfiguration"] = "RebootRequired"
        assert (
            await link.set_configuration("HeartbeatInterval", "90") == "RebootRequired"
        )
        assert charger.configuration["HeartbeatInterval"] == "90"
        config = await link.get_configuration(None)
        assert set(config["configuration"]) == set(cp.config)
        assert config["configuration"]["SupportedFeatureProfiles"]["readonly"] is True
        assert charger.configuration["ChargeProfileMaxStackLevel"] == "8"

        with pytest.raises(CommandRejected):
            await link.stop_charging(1)  # nothing running
        with pytest.raises(CommandNotSupported):
            await link.trigger_message("TransactionEvent", None)
        assert not cp.frames("RemoteStopTransaction")
        assert not cp.frames("TriggerMessage")


async def test_charging_limits(csms_factory: CsmsFactory) -> None:
    """Profiles: stable ids per purpose, units, pause, phases, duration, TxProfile
    with the transaction, ChargePointMax at connector 0; clear removes ours."""
    system = await csms_factory()
    async with fake_charger(system) as cp:
        tx_id = await cp.start_tx(connector_id=2)
        await cp.send(
            call.StatusNotification(
                connector_id=1, error_code="NoError", status="Available"
            )
        )
        charger = system.chargers["CP1"]
        link = link16(system)
        notified: list[int] = []
        charger.add_listener(lambda: notified.append(1))

        await link.set_charging_limit(ChargingLimit(10, connector_id=2, phases=1))
        await link.set_charging_limit(ChargingLimit(0, connector_id=2))  # pause
        await link.set_charging_limit(
            ChargingLimit(7400, LimitUnit.WATT, connector_id=2, purpose=LimitPurpose.TX)
        )
        await link.set_charging_limit(
            ChargingLimit(22.25, connector_id=1, purpose=LimitPurpose.CHARGE_POINT_MAX)
        )
        await link.set_charging_limit(
            ChargingLimit(11000, LimitUnit.WATT, duration_s=900, phases=3)
        )
        frames = cp.frames("SetChargingProfile")
        profiles = [f["csChargingProfiles"] for f in frames]
        assert [f["connectorId"] for f in frames] == [2, 2, 2, 0, 0]
        assert [p["chargingProfileId"] for p in profiles] == [
            9102,
            9102,
            9202,
            9300,
            9100,
        ]
        assert [p["chargingProfilePurpose"] for p in profiles] == [
            "TxDefaultProfile",
            "TxDefaultProfile",
            "TxProfile",
            "ChargePointMaxProfile",
            "TxDefaultProfile",
        ]
        assert {p["stackLevel"] for p in profiles} == {1}
        periods = [p["chargingSchedule"]["chargingSchedulePeriod"] for p in profiles]
        assert periods == [
            [{"startPeriod": 0, "limit": 10.0, "numberPhases": 1}],
            [{"startPeriod": 0, "limit": 0.0}],
            [{"startPeriod": 0, "limit": 7400.0}],
            [{"startPeriod": 0, "limit": 22.2}],
            [{"startPeriod": 0, "limit": 11000.0, "numberPhases": 3}],
        ]
        units = [p["chargingSchedule"]["chargingRateUnit"] for p in profiles]
        assert units == ["A", "A", "W", "A", "W"]
        assert profiles[2]["transactionId"] == tx_id
        assert "transactionId" not in profiles[0]
        assert profiles[2]["chargingProfileKind"] == "Relative"
        assert profiles[3]["chargingProfileKind"] == "Absolute"
        assert "startSchedule" in profiles[3]["chargingSchedule"]
        timed = profiles[4]
        assert timed["chargingProfileKind"] == "Absolute"
        assert timed["chargingSchedule"]["duration"] == 900
        start = datetime.fromisoformat(timed["chargingSchedule"]["startSchedule"])
        assert abs((start - datetime.now(UTC)).total_seconds()) < 5
        assert len(notified) == 5

        # The last accepted limit is what the connectors show.
        for conn in charger.connectors.values():
            assert conn.power_limit_w == 11000
            assert conn.current_limit_a is None
            assert conn.limit_phases == 3

        # A refused limit changes nothing.
        cp.statuses["SetChargingProfile"] = "Rejected"
        with pytest.raises(CommandRejected):
            await link.set_charging_limit(ChargingLimit(6, connector_id=2))
        assert charger.connectors[2].power_limit_w == 11000

        # TxProfile needs a running transaction.
        with pytest.raises(CommandRejected):
            await link.set_charging_limit(
                ChargingLimit(6, connector_id=1, purpose=LimitPurpose.TX)
            )

        cp.statuses["ClearChargingProfile"] = "Unknown"  # nothing to clear is fine
        await link.clear_charging_limit(2)
        assert cp.frames("ClearChargingProfile") == [{"id": 9102}, {"id": 9202}]
        assert charger.connectors[2].power_limit_w is None
        assert charger.connectors[1].power_limit_w == 11000
        await link.clear_charging_limit(0)
        ids = [f["id"] for f in cp.frames("ClearChargingProfile")[2:]]
        assert ids == [9100, 9300, 9102, 9202, 9101, 9201]
        assert all(c.power_limit_w is None for c in charger.connectors.values())


async def test_commands_time_out(csms_factory: CsmsFactory) -> None:
    """A charger that never answers: every command ends in CommandTimeout."""
    system = await csms_factory(response_timeout=0.1)
    async with fake_charger(system) as cp:
        await cp.start_tx(connector_id=1)
        cp.silent = True
        link = link16(system)
        for case in CASES:
            with pytest.raises(CommandTimeout):
                await case.invoke(link)
            assert cp.frames(case.action), case.name


async def test_command_callerror(csms_factory: CsmsFactory) -> None:
    """A CALLERROR answer becomes CommandFailed, the connection stays usable."""
    system = await csms_factory()
    async with fake_charger(system) as cp:
        link = link16(system)
        cp.call_errors["Reset"] = "InternalError"
        with pytest.raises(CommandFailed) as err:
            await link.reset(ResetKind.SOFT)
        assert "InternalError" in err.value.detail
        # A vendor's own error code is a failure too, not a crash.
        cp.call_errors["Reset"] = "AcmeBusy"
        with pytest.raises(CommandFailed) as err:
            await link.reset(ResetKind.SOFT)
        assert err.value.detail.startswith("AcmeBusy")
        await link.clear_cache()


# Durability -----------------------------------------------------------------


async def test_restart_keeps_the_transaction(
    csms_factory: CsmsFactory, tmp_path: Any
) -> None:
    """A transaction begun before a restart ends once, with exact energy."""
    db = tmp_path / "durable.db"
    system = await csms_factory(db=db)
    async with fake_charger(system) as cp:
        await cp.boot()
        tx_id = await cp.start_tx(connector_id=1, meter_start=10_000)
        await cp.meter(1, tx_id, energy("10.5", "kWh"))
    total_before = system.chargers["CP1"].connectors[1].energy_total_wh
    assert total_before == 500
    await stop_system(system)

    system = await csms_factory(db=db)
    conn = system.chargers["CP1"].connectors[1]
    assert conn.transaction is not None
    assert conn.transaction.transaction_id == str(tx_id)
    assert conn.energy_total_wh == 500
    async with fake_charger(system) as cp:  # reconnects without a boot
        await cp.meter(1, tx_id, energy("12000"))
        assert conn.energy_total_wh == 2000
        assert conn.last_session_energy_wh == 2000
        await cp.stop_tx(tx_id, 12_750, reason="EVDisconnected")
        assert conn.energy_total_wh == 2750
        await cp.stop_tx(tx_id, 12_750, reason="EVDisconnected")
        await cp.stop_tx(tx_id, 99_000)
        assert conn.energy_total_wh == 2750
    [stored] = await session_list(system)
    assert stored.energy_wh == 2750
    assert stored.meter_start_wh == 10_000
    assert stored.meter_stop_wh == 12_750
    assert stored.stop_reason == "EVDisconnected"
    await stop_system(system)

    system = await csms_factory(db=db)
    conn = system.chargers["CP1"].connectors[1]
    assert conn.transaction is None
    assert conn.energy_total_wh == 2750
    assert conn.last_session_energy_wh == 2750


async def test_meter_reset_never_counts_twice(csms_factory: CsmsFactory) -> None:
    """A register that goes back (meter replaced or reset) neither lowers the total
    nor counts energy twice."""
    system = await csms_factory()
    async with fake_charger(system) as cp:
        conn_total: list[float] = []
        tx1 = await cp.start_tx(connector_id=1, meter_start=50_000)
        await cp.meter(1, tx1, energy("52000"))
        await cp.stop_tx(tx1, 54_000)
        conn = system.chargers["CP1"].connectors[1]
        conn_total.append(conn.energy_total_wh)
        # The meter was reset: the next transaction starts at 0.
        tx2 = await cp.start_tx(connector_id=1, meter_start=0)
        conn_total.append(conn.energy_total_wh)
        await cp.meter(1, tx2, energy("300"))
        conn_total.append(conn.energy_total_wh)
        await cp.meter(1, tx2, energy("400"))
        conn_total.append(conn.energy_total_wh)
        await cp.stop_tx(tx2, 500)  # no reason given: Local
        conn_total.append(conn.energy_total_wh)
        # The same register again (a repeated frame) adds nothing.
        await cp.meter(1, None, energy("500"))
        conn_total.append(conn.energy_total_wh)
    assert conn_total == sorted(conn_total)
    assert conn_total == [4000, 4000, 4300, 4400, 4500, 4500]
    sessions = {s.transaction_id: s for s in await session_list(system)}
    assert sessions[str(tx1)].energy_wh == 4000
    assert sessions[str(tx2)].energy_wh == 500
    assert sessions[str(tx2)].stop_reason == "Local"


async def test_integer_meter_stop_after_fractional_register(
    csms_factory: CsmsFactory,
) -> None:
    """Register 66.3 Wh, then meterStop 66: the session closes at 66.3 Wh."""
    system = await csms_factory()
    async with fake_charger(system) as cp:
        await cp.boot()
        tx_id = await cp.start_tx(meter_start=0)
        await cp.meter(1, tx_id, energy("66.3", "Wh"))
        conn = system.chargers["CP1"].connectors[1]
        assert conn.last_session_energy_wh == pytest.approx(66.3)
        seen: list[float] = []
        system.chargers["CP1"].add_listener(
            lambda: seen.append(conn.last_session_energy_wh)
        )

        await cp.stop_tx(tx_id, 66, reason="Local")
        assert seen
        assert min(seen) == pytest.approx(66.3)  # never below what was shown
        assert conn.last_session_energy_wh == pytest.approx(66.3)
        assert conn.energy_total_wh == pytest.approx(66.3)
        (done,) = await session_list(system)
        assert done.energy_wh == pytest.approx(66.3)
        assert done.meter_stop_wh == pytest.approx(66.3)

        # A stop far below the last register is not trusted either.
        tx_id = await cp.start_tx(meter_start=100)
        await cp.meter(1, tx_id, energy("0.5", "kWh"))
        await cp.stop_tx(tx_id, 300, reason="Local")
        newest, _ = await session_list(system)
        assert newest.energy_wh == 400
        assert conn.last_session_energy_wh == 400
