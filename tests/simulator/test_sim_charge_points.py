"""The simulated charge points against a minimal in-test OCPP central system.

The central system (``CentralSystem`` with ``Csms16`` / ``Csms201``) accepts both
subprotocols on 127.0.0.1 port 0, answers every charger -> central system CALL
and records each frame as (action, camelCase payload) so the tests can assert on
the wire format.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import math
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from ocpp.routing import on
from ocpp.v16 import ChargePoint as Cp16
from ocpp.v16 import call
from ocpp.v16 import call_result as result16
from ocpp.v16.enums import Action as Action16
from ocpp.v201 import ChargePoint as Cp201
from ocpp.v201 import call as call201
from ocpp.v201 import call_result as result201
from ocpp.v201.enums import Action as Action201
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from simulator import EV, ChargePoint16, ChargePoint201, SimulatedChargePoint
from simulator.runner import (
    apply_quirks,
    create_charge_point,
    make_fleet,
    start_all,
    stop_all,
)


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


class _Recorder:
    """Frame log shared by both central-system classes."""

    frames: list[tuple[str, dict[str, Any]]]
    central: CentralSystem

    def of(self, action: str) -> list[dict[str, Any]]:
        return [payload for name, payload in self.frames if name == action]

    async def wait_for(
        self,
        action: str,
        predicate: Callable[[dict[str, Any]], bool] = lambda _: True,
        within: float = 3.0,
    ) -> dict[str, Any]:
        """First recorded frame of ``action`` matching ``predicate``."""
        async with asyncio.timeout(within):
            while True:
                for payload in self.of(action):
                    if predicate(payload):
                        return payload
                await asyncio.sleep(0.01)


class Csms16(_Recorder, Cp16):
    def __init__(self, charger_id: str, ws: ServerConnection, central: CentralSystem):
        super().__init__(charger_id, ws, response_timeout=central.response_timeout)
        self.central = central
        self.frames = []

    async def _handle_call(self, msg: Any) -> Any:
        self.frames.append((msg.action, msg.payload))
        return await super()._handle_call(msg)

    @on(Action16.boot_notification)
    def on_boot(self, **_: Any) -> Any:
        return result16.BootNotification(
            current_time=_now(),
            interval=self.central.heartbeat_interval,
            status=self.central.boot_status,
        )

    @on(Action16.heartbeat)
    def on_heartbeat(self, **_: Any) -> Any:
        return result16.Heartbeat(current_time=_now())

    @on(Action16.status_notification)
    def on_status(self, **_: Any) -> Any:
        return result16.StatusNotification()

    @on(Action16.authorize)
    def on_authorize(self, id_tag: str, **_: Any) -> Any:
        status = "Invalid" if id_tag in self.central.rejected_tags else "Accepted"
        return result16.Authorize(id_tag_info={"status": status})

    @on(Action16.start_transaction)
    def on_start(self, **_: Any) -> Any:
        return result16.StartTransaction(
            transaction_id=next(self.central.tx_ids),
            id_tag_info={"status": "Accepted"},
        )

    @on(Action16.stop_transaction)
    def on_stop(self, **_: Any) -> Any:
        return result16.StopTransaction(id_tag_info={"status": "Accepted"})

    @on(Action16.meter_values)
    def on_meter_values(self, **_: Any) -> Any:
        return result16.MeterValues()

    @on(Action16.firmware_status_notification)
    def on_firmware_status(self, **_: Any) -> Any:
        return result16.FirmwareStatusNotification()

    @on(Action16.diagnostics_status_notification)
    def on_diagnostics_status(self, **_: Any) -> Any:
        return result16.DiagnosticsStatusNotification()


class Csms201(_Recorder, Cp201):
    def __init__(self, charger_id: str, ws: ServerConnection, central: CentralSystem):
        super().__init__(charger_id, ws, response_timeout=central.response_timeout)
        self.central = central
        self.frames = []

    async def _handle_call(self, msg: Any) -> Any:
        self.frames.append((msg.action, msg.payload))
        return await super()._handle_call(msg)

    @on(Action201.boot_notification)
    def on_boot(self, **_: Any) -> Any:
        return result201.BootNotification(
            current_time=_now(),
            interval=self.central.heartbeat_interval,
            status=self.central.boot_status,
        )

    @on(Action201.heartbeat)
    def on_heartbeat(self, **_: Any) -> Any:
        return result201.Heartbeat(current_time=_now())

    @on(Action201.status_notification)
    def on_status(self, **_: Any) -> Any:
        return result201.StatusNotification()

    @on(Action201.authorize)
    def on_authorize(self, id_token: dict[str, Any], **_: Any) -> Any:
        rejected = id_token["id_token"] in self.central.rejected_tags
        return result201.Authorize(
            id_token_info={"status": "Invalid" if rejected else "Accepted"}
        )

    @on(Action201.transaction_event)
    def on_transaction_event(self, **_: Any) -> Any:
        return result201.TransactionEvent()

    @on(Action201.meter_values)
    def on_meter_values(self, **_: Any) -> Any:
        return result201.MeterValues()

    @on(Action201.notify_report)
    def on_notify_report(self, **_: Any) -> Any:
        return result201.NotifyReport()

    @on(Action201.firmware_status_notification)
    def on_firmware_status(self, **_: Any) -> Any:
        return result201.FirmwareStatusNotification()

    @on(Action201.log_status_notification)
    def on_log_status(self, **_: Any) -> Any:
        return result201.LogStatusNotification()

    @on(Action201.report_charging_profiles)
    def on_report_profiles(self, **_: Any) -> Any:
        return result201.ReportChargingProfiles()


class CentralSystem:
    """Test server: one Csms16/Csms201 per connected charger id."""

    def __init__(self) -> None:
        self.boot_status = "Accepted"
        self.heartbeat_interval = 300
        self.response_timeout = 2.0
        self.rejected_tags: set[str] = set()
        self.tx_ids = itertools.count(1001)
        self.connections: dict[str, Csms16 | Csms201] = {}
        self.headers: dict[str, dict[str, str]] = {}
        self.connect_count: dict[str, int] = {}
        self._server: Server | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        port = next(iter(self._server.sockets)).getsockname()[1]
        return f"ws://127.0.0.1:{port}"

    async def start(self) -> None:
        self._server = await serve(
            self._handle,
            "127.0.0.1",
            0,
            subprotocols=["ocpp1.6", "ocpp2.0.1"],  # type: ignore[list-item]
        )

    async def stop(self) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    async def _handle(self, ws: ServerConnection) -> None:
        charger_id = ws.request.path.rstrip("/").rsplit("/", 1)[-1]
        self.headers[charger_id] = {
            k.lower(): v for k, v in ws.request.headers.raw_items()
        }
        self.connect_count[charger_id] = self.connect_count.get(charger_id, 0) + 1
        cls = Csms201 if ws.subprotocol == "ocpp2.0.1" else Csms16
        cp = cls(charger_id, ws, self)
        self.connections[charger_id] = cp
        with contextlib.suppress(ConnectionClosed):
            await cp.start()

    async def wait_connected(self, charger_id: str, within: float = 3.0) -> Any:
        async with asyncio.timeout(within):
            while charger_id not in self.connections:  # noqa: ASYNC110
                await asyncio.sleep(0.01)
        return self.connections[charger_id]


@pytest.fixture
async def csms(socket_enabled: None) -> AsyncIterator[CentralSystem]:
    central = CentralSystem()
    await central.start()
    yield central
    await central.stop()


SimFactory = Callable[..., SimulatedChargePoint]


@pytest.fixture
async def make_sim(csms: CentralSystem) -> AsyncIterator[SimFactory]:
    """Create simulators against ``csms``; all are stopped at teardown."""
    created: list[SimulatedChargePoint] = []

    def factory(version: str, charger_id: str, **options: Any) -> SimulatedChargePoint:
        options.setdefault("meter_interval", 0.05)
        options.setdefault("response_timeout", 2.0)
        options.setdefault("reconnect_delay", 0.1)
        options.setdefault("step_delay", 0.01)
        sim = create_charge_point(version, charger_id, csms.url, **options)
        created.append(sim)
        return sim

    yield factory
    for sim in created:
        await sim.stop()


# --------------------------------------------------------------------- OCPP 1.6
FAST_EV = {"capacity_kwh": 60.0, "soc": 20.0, "target_soc": 90.0}


def sampled(payload: dict[str, Any], measurand: str, phase: str | None = None) -> float:
    for value in payload["meterValue"][0]["sampledValue"]:
        if value.get("measurand") == measurand and value.get("phase") == phase:
            return float(value["value"])
    raise KeyError(measurand)


async def booted(
    csms: CentralSystem, make_sim: SimFactory, charger_id: str = "cp16", **options: Any
) -> tuple[ChargePoint16, Csms16]:
    sim = make_sim("1.6", charger_id, **options)
    assert isinstance(sim, ChargePoint16)
    await sim.start()
    await sim.wait_booted(3)
    return sim, await csms.wait_connected(charger_id)


async def test_boot_and_full_session(csms: CentralSystem, make_sim: SimFactory) -> None:
    sim, cs = await booted(csms, make_sim, meter_start_wh=1000, speed=50, password="pw")

    boot = cs.of("BootNotification")[0]
    assert boot["chargePointVendor"] == "EnergyCoordinatorSim"
    assert boot["chargePointModel"] == "Sim-16"
    assert boot["firmwareVersion"] == "1.0.0"
    assert boot["chargePointSerialNumber"]
    statuses = [(p["connectorId"], p["status"]) for p in cs.of("StatusNotification")]
    assert statuses == [(0, "Available"), (1, "Available")]
    token = base64.b64encode(b"cp16:pw").decode()
    assert csms.headers["cp16"]["authorization"] == f"Basic {token}"

    await sim.plug_in(1, EV(**FAST_EV))
    tx = await sim.authorize_and_start(1, "TAG1")
    assert tx == 1001
    assert cs.of("Authorize") == [{"idTag": "TAG1"}]
    start = cs.of("StartTransaction")[0]
    assert start["meterStart"] == 1000
    assert start["connectorId"] == 1

    await sim.wait_until(lambda: len(cs.of("MeterValues")) >= 3)
    meters = cs.of("MeterValues")
    assert all(m["transactionId"] == 1001 for m in meters)
    energies = [sampled(m, "Energy.Active.Import.Register") for m in meters]
    assert energies == sorted(energies)
    assert energies[-1] > energies[0] > 1000
    first = meters[0]
    assert sampled(first, "Power.Active.Import") == pytest.approx(22080)
    for phase in ("L1", "L2", "L3"):
        assert sampled(first, "Current.Import", phase) == pytest.approx(32)
        assert sampled(first, "Voltage", f"{phase}-N") == 230
    assert sampled(first, "Current.Offered") == 32
    assert 20 <= sampled(first, "SoC") <= sampled(meters[-1], "SoC") < 90

    await sim.stop_transaction(1)
    stop = await cs.wait_for("StopTransaction")
    register = sim.connectors[1].energy_wh
    assert stop["meterStop"] == round(register)
    assert stop["meterStop"] > energies[-1] - 1
    assert stop["reason"] == "Local"
    assert stop["transactionId"] == 1001
    contexts = [d["sampledValue"][0]["context"] for d in stop["transactionData"]]
    assert contexts == ["Transaction.Begin", "Transaction.End"]

    await sim.unplug(1)
    await cs.wait_for("StatusNotification", lambda p: p["status"] == "Available")
    statuses = [p["status"] for p in cs.of("StatusNotification") if p["connectorId"]]
    assert statuses == ["Available", "Preparing", "Charging", "Finishing", "Available"]

    # The register is monotonic across sessions.
    await sim.authorize_and_start(1, "TAG1")
    second = cs.of("StartTransaction")[1]
    assert second["meterStart"] == stop["meterStop"]


async def test_truncated_meter_stop_quirk(
    csms: CentralSystem, make_sim: SimFactory
) -> None:
    """Like some firmwares: a fractional last register, then a truncated meterStop."""
    sim, cs = await booted(csms, make_sim, meter_start_wh=0.3, speed=50)
    apply_quirks(sim, ["truncated-meter-stop"])
    await sim.plug_in(1, EV(**FAST_EV))
    await sim.authorize_and_start(1, "TAG1")
    await sim.wait_until(lambda: len(cs.of("MeterValues")) >= 2)
    await sim.stop_transaction(1)
    stop = await cs.wait_for("StopTransaction")
    last = sampled(cs.of("MeterValues")[-1], "Energy.Active.Import.Register")
    assert cs.of("MeterValues")[-1]["transactionId"] == stop["transactionId"]
    assert last == pytest.approx(sim.connectors[1].energy_wh, abs=0.01)
    assert stop["meterStop"] == math.floor(last)
    assert "transactionData" not in stop


async def test_zero_amp_profile_pauses_and_16a_resumes(
    csms: CentralSystem, make_sim: SimFactory
) -> None:
    sim, cs = await booted(csms, make_sim)
    await sim.authorize_and_start(1, "TAG1")

    def profile(limit: float) -> dict[str, Any]:
        return {
            "chargingProfileId": 1,
            "stackLevel": 0,
            "chargingProfilePurpose": "TxDefaultProfile",
            "chargingProfileKind": "Relative",
            "chargingSchedule": {
                "chargingRateUnit": "A",
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": limit}],
            },
        }

    result = await cs.call(
        call.SetChargingProfile(connector_id=1, cs_charging_profiles=profile(0))
    )
    assert result.status == "Accepted"
    await cs.wait_for("StatusNotification", lambda p: p["status"] == "SuspendedEVSE")
    connector = sim.connectors[1]
    assert connector.power_w == 0
    assert connector.limit_a == 0
    count = len(cs.of("MeterValues"))
    await sim.wait_until(lambda: len(cs.of("MeterValues")) > count)
    assert sampled(cs.of("MeterValues")[-1], "Power.Active.Import") == 0

    result = await cs.call(
        call.SetChargingProfile(connector_id=1, cs_charging_profiles=profile(16))
    )
    assert result.status == "Accepted"
    await sim.wait_until(lambda: connector.status == "Charging")
    assert connector.power_w == pytest.approx(16 * 230 * 3)
    assert connector.offered_current_a == 16
    count = len(cs.of("MeterValues"))
    await sim.wait_until(lambda: len(cs.of("MeterValues")) > count)
    last = cs.of("MeterValues")[-1]
    assert sampled(last, "Power.Active.Import") == pytest.approx(11040)
    assert sampled(last, "Current.Offered") == 16
    statuses = [p["status"] for p in cs.of("StatusNotification") if p["connectorId"]]
    assert statuses[-3:] == ["Charging", "SuspendedEVSE", "Charging"]

    schedule = await cs.call(call.GetCompositeSchedule(connector_id=1, duration=60))
    assert schedule.status == "Accepted"
    assert schedule.charging_schedule["charging_schedule_period"][0]["limit"] == 16

    cleared = await cs.call(call.ClearChargingProfile(id=1))
    assert cleared.status == "Accepted"
    await sim.wait_until(lambda: connector.offered_current_a == 32)


async def test_power_limit_and_profile_precedence(
    csms: CentralSystem, make_sim: SimFactory
) -> None:
    sim, cs = await booted(csms, make_sim)
    await sim.authorize_and_start(1, "TAG1")
    connector = sim.connectors[1]

    max_profile = {
        "chargingProfileId": 5,
        "stackLevel": 0,
        "chargingProfilePurpose": "ChargePointMaxProfile",
        "chargingProfileKind": "Relative",
        "chargingSchedule": {
            "chargingRateUnit": "W",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 6900}],
        },
    }
    result = await cs.call(
        call.SetChargingProfile(connector_id=0, cs_charging_profiles=max_profile)
    )
    assert result.status == "Accepted"
    await sim.wait_until(lambda: connector.power_w == pytest.approx(6900))
    assert connector.offered_current_a == pytest.approx(10)

    # A ChargePointMaxProfile on a connector and a TxProfile on connector 0 are
    # refused, as the specification demands.
    bad = dict(max_profile, chargingProfileId=6)
    rejected = await cs.call(
        call.SetChargingProfile(connector_id=1, cs_charging_profiles=bad)
    )
    assert rejected.status == "Rejected"


async def test_remote_start_and_stop(csms: CentralSystem, make_sim: SimFactory) -> None:
    sim, cs = await booted(csms, make_sim)
    result = await cs.call(call.RemoteStartTransaction(id_tag="REMOTE", connector_id=1))
    assert result.status == "Accepted"
    start = await cs.wait_for("StartTransaction")
    assert start["idTag"] == "REMOTE"
    assert cs.of("Authorize") == []  # AuthorizeRemoteTxRequests is false
    await sim.wait_until(lambda: sim.connectors[1].transaction_id == 1001)
    assert sim.connectors[1].ev is not None  # a default EV was plugged in

    busy = await cs.call(call.RemoteStartTransaction(id_tag="AGAIN", connector_id=1))
    assert busy.status == "Rejected"

    result = await cs.call(call.RemoteStopTransaction(transaction_id=1001))
    assert result.status == "Accepted"
    stop = await cs.wait_for("StopTransaction")
    assert stop["reason"] == "Remote"
    assert [a for a, _ in sim.received] == [
        "RemoteStartTransaction",
        "RemoteStartTransaction",
        "RemoteStopTransaction",
    ]
    assert sim.received[0][1] == {"idTag": "REMOTE", "connectorId": 1}


async def test_responses_knob(csms: CentralSystem, make_sim: SimFactory) -> None:
    sim, cs = await booted(csms, make_sim)
    sim.responses["SetChargingProfile"] = "Rejected"
    profile = {
        "chargingProfileId": 1,
        "stackLevel": 0,
        "chargingProfilePurpose": "TxDefaultProfile",
        "chargingProfileKind": "Relative",
        "chargingSchedule": {
            "chargingRateUnit": "A",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 6}],
        },
    }
    result = await cs.call(
        call.SetChargingProfile(connector_id=1, cs_charging_profiles=profile)
    )
    assert result.status == "Rejected"
    assert len(sim.profiles) == 0

    sim.responses["SetChargingProfile"] = "timeout"
    cs._response_timeout = 0.3
    with pytest.raises(TimeoutError):
        await cs.call(
            call.SetChargingProfile(connector_id=1, cs_charging_profiles=profile)
        )
    assert [a for a, _ in sim.received] == ["SetChargingProfile"] * 2

    sim.responses["Reset"] = "error"
    with pytest.raises(Exception, match="simulated"):
        await cs.call(call.Reset(type="Soft"), suppress=False)

    del sim.responses["SetChargingProfile"]
    result = await cs.call(
        call.SetChargingProfile(connector_id=1, cs_charging_profiles=profile)
    )
    assert result.status == "Accepted"


async def test_boot_pending_then_trigger(
    csms: CentralSystem, make_sim: SimFactory
) -> None:
    csms.boot_status = "Pending"
    sim = make_sim("1.6", "pending")
    await sim.start()
    cs = await csms.wait_connected("pending")
    await cs.wait_for("BootNotification")
    await asyncio.sleep(0.1)
    assert sim.registration_status == "Pending"
    assert not sim.booted.is_set()
    assert cs.of("StatusNotification") == []

    # While pending the central system may configure the charger.
    config = await cs.call(call.GetConfiguration(key=["HeartbeatInterval"]))
    assert config.configuration_key[0]["value"] == "300"

    csms.boot_status = "Accepted"
    result = await cs.call(call.TriggerMessage(requested_message="BootNotification"))
    assert result.status == "Accepted"
    await sim.wait_booted(2)
    assert len(cs.of("BootNotification")) == 2
    assert sim.connect_count == 1  # kept the connection


async def test_configuration_and_management(
    csms: CentralSystem, make_sim: SimFactory
) -> None:
    sim, cs = await booted(csms, make_sim)

    config = await cs.call(call.GetConfiguration())
    keys = {k["key"]: k for k in config.configuration_key}
    assert keys["SupportedFeatureProfiles"]["value"] == (
        "Core,SmartCharging,LocalAuthListManagement,RemoteTrigger,FirmwareManagement"
    )
    assert keys["LocalAuthListEnabled"]["value"] == "true"
    assert keys["MeterValueSampleInterval"]["value"] == "0.05"
    unknown = await cs.call(call.GetConfiguration(key=["Nope"]))
    assert unknown.unknown_key == ["Nope"]

    changed = await cs.call(
        call.ChangeConfiguration(key="HeartbeatInterval", value="0.1")
    )
    assert changed.status == "Accepted"
    await cs.wait_for("Heartbeat")
    for key, value, status in (
        ("NumberOfConnectors", "3", "Rejected"),
        ("Unknown", "1", "NotSupported"),
        ("MeterValueSampleInterval", "abc", "Rejected"),
    ):
        answer = await cs.call(call.ChangeConfiguration(key=key, value=value))
        assert answer.status == status, key

    sent = await cs.call(
        call.SendLocalList(
            list_version=3,
            update_type="Full",
            local_authorization_list=[
                {"id_tag": "A", "id_tag_info": {"status": "Accepted"}}
            ],
        )
    )
    assert sent.status == "Accepted"
    version = await cs.call(call.GetLocalListVersion())
    assert version.list_version == 3
    assert sim.local_list == {"A": {"status": "Accepted"}}

    data = await cs.call(call.DataTransfer(vendor_id="x", data="ping"))
    assert (data.status, data.data) == ("Accepted", "ping")

    diag = await cs.call(call.GetDiagnostics(location="ftp://example.invalid/"))
    assert diag.file_name.startswith("diagnostics-cp16")
    await cs.wait_for(
        "DiagnosticsStatusNotification", lambda p: p["status"] == "Uploaded"
    )
    await cs.call(
        call.UpdateFirmware(
            location="http://x.invalid/fw", retrieve_date="2020-01-01T00:00:00Z"
        )
    )
    await cs.wait_for(
        "FirmwareStatusNotification", lambda p: p["status"] == "Installed"
    )

    trig = await cs.call(
        call.TriggerMessage(requested_message="MeterValues", connector_id=1)
    )
    assert trig.status == "Accepted"
    await cs.wait_for(
        "MeterValues",
        lambda p: p["meterValue"][0]["sampledValue"][0]["context"] == "Trigger",
    )

    unavailable = await cs.call(
        call.ChangeAvailability(connector_id=0, type="Inoperative")
    )
    assert unavailable.status == "Accepted"
    await cs.wait_for(
        "StatusNotification",
        lambda p: p["connectorId"] == 1 and p["status"] == "Unavailable",
    )
    unlocked = await cs.call(call.UnlockConnector(connector_id=1))
    assert unlocked.status == "Unlocked"


async def test_stops_at_target_soc(csms: CentralSystem, make_sim: SimFactory) -> None:
    sim, cs = await booted(csms, make_sim, speed=1000)
    ev = EV(capacity_kwh=10, soc=79, target_soc=80)
    await sim.plug_in(1, ev)
    await sim.authorize_and_start(1)
    stop = await cs.wait_for("StopTransaction")
    assert stop["reason"] == "Local"
    assert ev.soc == pytest.approx(80)
    assert stop["meterStop"] == 100  # 1 % of 10 kWh
    await cs.wait_for("StatusNotification", lambda p: p["status"] == "Finishing")


async def test_rejected_tag_and_reset_reboot(
    csms: CentralSystem, make_sim: SimFactory
) -> None:
    csms.rejected_tags.add("BAD")
    sim, cs = await booted(csms, make_sim)
    assert await sim.authorize_and_start(1, "BAD") is None
    assert cs.of("StartTransaction") == []

    await sim.authorize_and_start(1, "GOOD")
    result = await cs.call(call.Reset(type="Hard"))
    assert result.status == "Accepted"
    stop = await cs.wait_for("StopTransaction")
    assert stop["reason"] == "HardReset"
    await sim.wait_until(lambda: csms.connect_count["cp16"] == 2)
    await sim.wait_booted(3)
    assert sim.boot_count == 2
    # After the reboot the vehicle is still plugged in: Finishing.
    assert sim.connectors[1].status == "Finishing"


async def test_reconnects_after_connection_loss(
    csms: CentralSystem, make_sim: SimFactory
) -> None:
    sim, _ = await booted(csms, make_sim)
    await sim.disconnect()
    await sim.wait_until(lambda: csms.connect_count["cp16"] == 2)
    await sim.wait_booted(3)
    assert sim.connect_count == 2


async def test_not_connected_raises(socket_enabled: None) -> None:
    sim = ChargePoint16("offline", "ws://127.0.0.1:9", reconnect=False)
    await sim.start()
    await sim.wait_until(lambda: sim._run_task is not None and sim._run_task.done())
    assert sim.last_error
    with pytest.raises(ConnectionError):
        await sim.authorize_and_start(1)
    await sim.stop()


# ------------------------------------------------------------------- OCPP 2.0.1
def sampled201(
    event: dict[str, Any], measurand: str, phase: str | None = None
) -> float:
    for value in event["meterValue"][0]["sampledValue"]:
        if value.get("measurand") == measurand and value.get("phase") == phase:
            return float(value["value"])
    raise KeyError(measurand)


def events(cs: Csms201, event_type: str | None = None) -> list[dict[str, Any]]:
    return [
        e
        for e in cs.of("TransactionEvent")
        if event_type is None or e["eventType"] == event_type
    ]


async def booted201(
    csms: CentralSystem, make_sim: SimFactory, charger_id: str = "cp201", **options: Any
) -> tuple[ChargePoint201, Csms201]:
    sim = make_sim("2.0.1", charger_id, **options)
    assert isinstance(sim, ChargePoint201)
    await sim.start()
    await sim.wait_booted(3)
    return sim, await csms.wait_connected(charger_id)


def tx_default_201(limit: float, unit: str = "A") -> dict[str, Any]:
    return {
        "id": 7,
        "stackLevel": 0,
        "chargingProfilePurpose": "TxDefaultProfile",
        "chargingProfileKind": "Relative",
        "chargingSchedule": [
            {
                "id": 1,
                "chargingRateUnit": unit,
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": limit}],
            }
        ],
    }


async def test_201_boot_and_full_session(
    csms: CentralSystem, make_sim: SimFactory
) -> None:
    sim, cs = await booted201(csms, make_sim, connectors=2, speed=50)
    boot = cs.of("BootNotification")[0]
    assert boot["chargingStation"] == {
        "model": "Sim-201",
        "vendorName": "EnergyCoordinatorSim",
        "serialNumber": "SIM-cp201",
        "firmwareVersion": "1.0.0",
    }
    assert boot["reason"] == "PowerUp"
    statuses = [
        (p["evseId"], p["connectorId"], p["connectorStatus"])
        for p in cs.of("StatusNotification")
    ]
    assert statuses == [(1, 1, "Available"), (2, 1, "Available")]

    await sim.plug_in(2, EV(**FAST_EV))
    await cs.wait_for(
        "StatusNotification", lambda p: p["connectorStatus"] == "Occupied"
    )
    tx = await sim.authorize_and_start(2, "TAG201")
    assert isinstance(tx, str)
    assert cs.of("Authorize") == [
        {"idToken": {"idToken": "TAG201", "type": "ISO14443"}}
    ]
    await sim.wait_until(lambda: len(events(cs, "Updated")) >= 3)

    started = events(cs, "Started")[0]
    assert started["seqNo"] == 0
    assert started["triggerReason"] == "Authorized"
    assert started["idToken"] == {"idToken": "TAG201", "type": "ISO14443"}
    assert started["evse"] == {"id": 2, "connectorId": 1}
    assert started["transactionInfo"] == {
        "transactionId": tx,
        "chargingState": "Charging",
    }
    updates = events(cs, "Updated")
    assert [u["seqNo"] for u in updates[:3]] == [1, 2, 3]
    assert updates[0]["triggerReason"] == "MeterValuePeriodic"
    energies = [sampled201(u, "Energy.Active.Import.Register") for u in updates]
    assert energies == sorted(energies)
    assert energies[-1] > energies[0]
    assert sampled201(updates[0], "Power.Active.Import") == pytest.approx(22080)
    assert sampled201(updates[0], "Current.Import", "L2") == pytest.approx(32)
    assert sampled201(updates[0], "Voltage", "L3-N") == 230
    unit = updates[0]["meterValue"][0]["sampledValue"][0]["unitOfMeasure"]
    assert unit == {"unit": "Wh"}

    await sim.stop_transaction(2)
    ended = await cs.wait_for("TransactionEvent", lambda e: e["eventType"] == "Ended")
    assert ended["transactionInfo"]["stoppedReason"] == "Local"
    assert ended["triggerReason"] == "StopAuthorized"
    assert [e["seqNo"] for e in events(cs)] == list(range(len(events(cs))))
    end_energy = sampled201(ended, "Energy.Active.Import.Register")
    assert end_energy == pytest.approx(sim.connectors[2].energy_wh, abs=0.01)
    assert end_energy >= energies[-1]

    await sim.unplug(2)
    await cs.wait_for(
        "StatusNotification",
        lambda p: p["evseId"] == 2 and p["connectorStatus"] == "Available",
    )
    assert sim.connectors[2].status == "Available"


async def test_201_end_register_only_quirk(
    csms: CentralSystem, make_sim: SimFactory
) -> None:
    """Like some stations, the Ended event carries the energy register alone."""
    sim, cs = await booted201(csms, make_sim, speed=50)
    assert isinstance(sim, ChargePoint201)
    apply_quirks(sim, ["end-register-only"])
    await sim.authorize_and_start(1)
    await sim.wait_until(lambda: len(events(cs, "Updated")) >= 1)
    assert sampled201(events(cs, "Updated")[0], "Power.Active.Import") > 0

    await sim.stop_transaction(1)
    ended = await cs.wait_for("TransactionEvent", lambda e: e["eventType"] == "Ended")
    (meter,) = ended["meterValue"]
    assert [v["measurand"] for v in meter["sampledValue"]] == [
        "Energy.Active.Import.Register"
    ]
    assert sampled201(ended, "Energy.Active.Import.Register") == pytest.approx(
        sim.connectors[1].energy_wh, abs=0.01
    )


async def test_201_pause_and_resume(csms: CentralSystem, make_sim: SimFactory) -> None:
    sim, cs = await booted201(csms, make_sim)
    await sim.authorize_and_start(1)
    connector = sim.connectors[1]

    result = await cs.call(
        call201.SetChargingProfile(evse_id=1, charging_profile=tx_default_201(0))
    )
    assert result.status == "Accepted"
    paused = await cs.wait_for(
        "TransactionEvent",
        lambda e: e["transactionInfo"].get("chargingState") == "SuspendedEVSE",
    )
    assert paused["triggerReason"] == "ChargingStateChanged"
    assert connector.power_w == 0

    result = await cs.call(
        call201.SetChargingProfile(evse_id=1, charging_profile=tx_default_201(16))
    )
    assert result.status == "Accepted"
    resumed = await cs.wait_for(
        "TransactionEvent",
        lambda e: e["seqNo"] > paused["seqNo"]
        and e["transactionInfo"].get("chargingState") == "Charging",
    )
    assert sampled201(resumed, "Power.Active.Import") == pytest.approx(16 * 230 * 3)
    assert connector.power_w == pytest.approx(11040)

    # A power limit of 4600 W on three phases is 6.67 A.
    await cs.call(
        call201.SetChargingProfile(
            evse_id=1, charging_profile=tx_default_201(4600, "W")
        )
    )
    await sim.wait_until(lambda: connector.power_w == pytest.approx(4600))
    composite = await cs.call(
        call201.GetCompositeSchedule(duration=300, evse_id=1, charging_rate_unit="W")
    )
    assert composite.status == "Accepted"
    period = composite.schedule["charging_schedule_period"][0]
    assert period["limit"] == pytest.approx(4600)


async def test_201_request_start_stop(
    csms: CentralSystem, make_sim: SimFactory
) -> None:
    sim, cs = await booted201(csms, make_sim)
    result = await cs.call(
        call201.RequestStartTransaction(
            id_token={"id_token": "APP", "type": "Central"},
            remote_start_id=42,
            evse_id=1,
        )
    )
    assert result.status == "Accepted"
    started = await cs.wait_for(
        "TransactionEvent", lambda e: e["eventType"] == "Started"
    )
    assert started["triggerReason"] == "RemoteStart"
    assert started["transactionInfo"]["remoteStartId"] == 42
    assert started["idToken"] == {"idToken": "APP", "type": "Central"}
    tx = started["transactionInfo"]["transactionId"]
    assert sim.connectors[1].transaction_id == tx

    result = await cs.call(call201.RequestStopTransaction(transaction_id="nope"))
    assert result.status == "Rejected"
    result = await cs.call(call201.RequestStopTransaction(transaction_id=tx))
    assert result.status == "Accepted"
    ended = await cs.wait_for("TransactionEvent", lambda e: e["eventType"] == "Ended")
    assert ended["triggerReason"] == "RemoteStop"
    assert ended["transactionInfo"]["stoppedReason"] == "Remote"
    assert sim.received[0][0] == "RequestStartTransaction"


async def test_201_device_model(csms: CentralSystem, make_sim: SimFactory) -> None:
    sim, cs = await booted201(csms, make_sim, connectors=2)
    result = await cs.call(
        call201.GetVariables(
            get_variable_data=[
                {
                    "component": {"name": "SmartChargingCtrlr"},
                    "variable": {"name": "Enabled"},
                },
                {
                    "component": {"name": "EVSE", "evse": {"id": 2}},
                    "variable": {"name": "AvailabilityState"},
                },
                {"component": {"name": "Nope"}, "variable": {"name": "X"}},
                {
                    "component": {"name": "OCPPCommCtrlr"},
                    "variable": {"name": "Nope"},
                },
            ]
        )
    )
    answers = [
        (r["attribute_status"], r.get("attribute_value"))
        for r in result.get_variable_result
    ]
    assert answers == [
        ("Accepted", "true"),
        ("Accepted", "Available"),
        ("UnknownComponent", None),
        ("UnknownVariable", None),
    ]

    result = await cs.call(
        call201.SetVariables(
            set_variable_data=[
                {
                    "attribute_value": "0.1",
                    "component": {"name": "OCPPCommCtrlr"},
                    "variable": {"name": "HeartbeatInterval"},
                },
                {
                    "attribute_value": "2",
                    "component": {"name": "ChargingStation"},
                    "variable": {"name": "SupplyPhases"},
                },
            ]
        )
    )
    assert [r["attribute_status"] for r in result.set_variable_result] == [
        "Accepted",
        "Rejected",
    ]
    await cs.wait_for("Heartbeat")

    result = await cs.call(
        call201.GetBaseReport(request_id=5, report_base="FullInventory")
    )
    assert result.status == "Accepted"
    report = await cs.wait_for("NotifyReport")
    assert report["requestId"] == 5
    assert report["tbc"] is False
    items = {
        (
            d["component"]["name"],
            d["component"].get("evse", {}).get("id"),
            d["component"].get("evse", {}).get("connectorId"),
            d["variable"]["name"],
        ): d["variableAttribute"][0]["value"]
        for d in report["reportData"]
    }
    assert items[("SmartChargingCtrlr", None, None, "Enabled")] == "true"
    assert items[("LocalAuthListCtrlr", None, None, "Enabled")] == "true"
    assert items[("EVSE", 2, None, "AvailabilityState")] == "Available"
    assert items[("Connector", 1, 1, "AvailabilityState")] == "Available"
    assert items[("Connector", 2, 1, "ConnectorType")] == "cType2"

    result = await cs.call(
        call201.ChangeAvailability(operational_status="Inoperative", evse={"id": 2})
    )
    assert result.status == "Accepted"
    await cs.wait_for(
        "StatusNotification", lambda p: p["connectorStatus"] == "Unavailable"
    )
    assert sim.connectors[2].operative is False


async def test_201_management_and_knob(
    csms: CentralSystem, make_sim: SimFactory
) -> None:
    sim, cs = await booted201(csms, make_sim)
    sent = await cs.call(
        call201.SendLocalList(
            version_number=9,
            update_type="Full",
            local_authorization_list=[
                {
                    "id_token": {"id_token": "T1", "type": "ISO14443"},
                    "id_token_info": {"status": "Accepted"},
                }
            ],
        )
    )
    assert sent.status == "Accepted"
    version = await cs.call(call201.GetLocalListVersion())
    assert version.version_number == 9

    log = await cs.call(
        call201.GetLog(
            log={"remote_location": "https://x.invalid/"},
            log_type="DiagnosticsLog",
            request_id=3,
        )
    )
    assert log.status == "Accepted"
    assert log.filename
    await cs.wait_for("LogStatusNotification", lambda p: p["status"] == "Uploaded")

    fw = await cs.call(
        call201.UpdateFirmware(
            request_id=4,
            firmware={
                "location": "https://x.invalid/fw.bin",
                "retrieve_date_time": "2020-01-01T00:00:00Z",
            },
        )
    )
    assert fw.status == "Accepted"
    await cs.wait_for(
        "FirmwareStatusNotification", lambda p: p["status"] == "Installed"
    )

    data = await cs.call(call201.DataTransfer(vendor_id="v", data={"a": 1}))
    assert (data.status, data.data) == ("Accepted", {"a": 1})

    trig = await cs.call(call201.TriggerMessage(requested_message="StatusNotification"))
    assert trig.status == "Accepted"

    sim.responses["SetChargingProfile"] = "Rejected"
    result = await cs.call(
        call201.SetChargingProfile(evse_id=1, charging_profile=tx_default_201(6))
    )
    assert result.status == "Rejected"
    sim.responses["GetVariables"] = "timeout"
    cs._response_timeout = 0.3
    with pytest.raises(TimeoutError):
        await cs.call(
            call201.GetVariables(
                get_variable_data=[
                    {"component": {"name": "X"}, "variable": {"name": "Y"}}
                ]
            )
        )

    result = await cs.call(call201.Reset(type="Immediate"))
    assert result.status == "Accepted"
    await sim.wait_until(lambda: csms.connect_count["cp201"] == 2)
    await sim.wait_booted(3)
    assert cs.of("BootNotification")[0]["reason"] == "PowerUp"
    second = await csms.wait_connected("cp201")
    assert second.of("BootNotification")[0]["reason"] == "RemoteReset"


async def test_201_stops_at_target(csms: CentralSystem, make_sim: SimFactory) -> None:
    sim, cs = await booted201(csms, make_sim, speed=1000, unplug_at_target=True)
    await sim.plug_in(1, EV(capacity_kwh=10, soc=79.5, target_soc=80))
    await sim.authorize_and_start(1)
    ended = await cs.wait_for("TransactionEvent", lambda e: e["eventType"] == "Ended")
    assert ended["transactionInfo"]["stoppedReason"] == "EVDisconnected"
    assert ended["triggerReason"] == "EVDeparted"
    assert ended["transactionInfo"]["chargingState"] == "Idle"
    await sim.wait_until(lambda: sim.connectors[1].status == "Available")


async def test_fleet_and_auto_session(csms: CentralSystem) -> None:
    fleet = make_fleet(
        csms.url,
        4,
        ["1.6", "2.0.1"],
        id_prefix="fleet",
        meter_interval=0.05,
        auto_session=True,
        auto_session_pause=0.1,
        speed=20_000,
        reconnect_delay=0.1,
    )
    try:
        assert [type(c).__name__ for c in fleet] == [
            "ChargePoint16",
            "ChargePoint201",
            "ChargePoint16",
            "ChargePoint201",
        ]
        assert fleet[0].charger_id == "fleet-001"
        await start_all(fleet, stagger=0.01, wait_booted=3)

        # Every charger completes at least one whole session on its own.
        def finished(charger_id: str) -> bool:
            cs = csms.connections[charger_id]
            return bool(cs.of("StopTransaction")) or any(
                e["eventType"] == "Ended" for e in cs.of("TransactionEvent")
            )

        await fleet[0].wait_until(
            lambda: all(finished(c.charger_id) for c in fleet), timeout=8
        )
        stop = await csms.connections["fleet-001"].wait_for("StopTransaction")
        assert stop["reason"] == "Local"
        ended = await csms.connections["fleet-002"].wait_for(
            "TransactionEvent", lambda e: e["eventType"] == "Ended"
        )
        assert ended["transactionInfo"]["stoppedReason"] == "StoppedByEV"
    finally:
        await stop_all(fleet)
    assert all(not c.is_connected for c in fleet)


def test_quirks_make_awkward_chargers() -> None:
    """`--quirk` names what some chargers in the field do."""
    from simulator.__main__ import build_parser
    from simulator.base import NOT_IMPLEMENTED

    quirks = ["--quirk", "no-smart-charging", "--quirk", "no-feature-list"]
    args = build_parser().parse_args(["--url", "ws://127.0.0.1:1", *quirks])
    cp16 = ChargePoint16("Q16", "ws://127.0.0.1:1")
    apply_quirks(cp16, args.quirk)
    assert cp16.responses["SetChargingProfile"] == NOT_IMPLEMENTED
    assert "SupportedFeatureProfiles" in cp16.unreported_keys
    assert "ChargeProfileMaxStackLevel" in cp16.unreported_keys
    cp201 = ChargePoint201("Q201", "ws://127.0.0.1:1")
    apply_quirks(cp16, ["truncated-meter-stop"])
    assert cp16.truncated_meter_stop is True
    apply_quirks(cp201, ["no-remote-start-token", "end-register-only"])
    assert cp201.token_on_remote_start is False
    assert cp201.full_meter_at_end is False
    with pytest.raises(ValueError, match="unknown quirk"):
        apply_quirks(cp201, ["grumpy"])
