"""Instantaneous measurands never outlive what they measure (issue 9, bug 1).

A charger's last power, currents and offered current stay on the connector only
while something can flow: when its transaction ends, when the connector becomes
Available, Faulted or Unavailable, or when the charger goes offline, they drop to 0
(idle) or become unknown (offline); only the registers persist. Both OCPP versions,
with raw `ocpp` clients sending exactly what the chargers in the field sent.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ocpp.v16 import call as call16
from ocpp.v201 import call as call201

from custom_components.energy_coordinator.csms.model import (
    ConnectorState,
    ConnectorStatus,
)
from tests.fake_charge_point import fake_charger, wait_until

from .conftest import CsmsFactory
from .test_ocpp201 import CP_ID, T0, energy, meter, station

LIVE_16 = [
    {"value": "1000", "measurand": "Energy.Active.Import.Register", "unit": "Wh"},
    {"value": "13900", "measurand": "Power.Active.Import", "unit": "W"},
    {"value": "20.1", "measurand": "Current.Import", "phase": "L1", "unit": "A"},
    {"value": "20.2", "measurand": "Current.Import", "phase": "L2", "unit": "A"},
    {"value": "20.0", "measurand": "Current.Import", "phase": "L3", "unit": "A"},
    {"value": "32", "measurand": "Current.Offered", "unit": "A"},
    {"value": "230", "measurand": "Voltage", "phase": "L1-N", "unit": "V"},
]


def live_201(register_wh: float) -> list[dict[str, object]]:
    return [
        energy(register_wh),
        {
            "value": 13.9,
            "measurand": "Power.Active.Import",
            "unit_of_measure": {"unit": "kW"},
        },
        {"value": 20.1, "measurand": "Current.Import", "phase": "L1"},
        {"value": 20.2, "measurand": "Current.Import", "phase": "L2"},
        {"value": 32, "measurand": "Current.Offered"},
    ]


def assert_idle(conn: ConnectorState) -> None:
    """Nothing flows: power and currents 0, the offer unknown."""
    assert conn.meter.power_w == 0.0
    assert conn.meter.current_a == 0.0
    assert set(conn.meter.current_phases_a.values()) == {0.0}
    assert conn.meter.current_offered_a is None


async def test_201_ended_with_only_the_register(csms_factory: CsmsFactory) -> None:
    """The station's Ended event carries only the energy register: power is 0."""
    system = await csms_factory()
    async with station(system) as cp:
        await cp.status_notification("Occupied")
        await cp.tx_event(
            "Started",
            0,
            "TX-1",
            when=T0,
            trigger="Authorized",
            evse={"id": 1, "connector_id": 1},
            id_token={"id_token": "TAG", "type": "ISO14443"},
            charging_state="Charging",
            meter=meter(T0, energy(1000, context="Transaction.Begin")),
        )
        await cp.tx_event(
            "Updated",
            1,
            "TX-1",
            when=T0 + timedelta(minutes=10),
            charging_state="Charging",
            meter=meter(T0 + timedelta(minutes=10), *live_201(3300)),
        )
        conn = system.chargers[CP_ID].connectors[1]
        assert conn.meter.power_w == 13900
        assert conn.meter.current_offered_a == 32

        await cp.tx_event(
            "Ended",
            2,
            "TX-1",
            when=T0 + timedelta(minutes=11),
            trigger="StopAuthorized",
            stopped_reason="Local",
            charging_state="EVConnected",
            meter=meter(
                T0 + timedelta(minutes=11), energy(3500, context="Transaction.End")
            ),
        )
        assert conn.transaction is None
        assert_idle(conn)
        assert conn.meter.energy_wh == 3500  # the register persists
        assert conn.energy_total_wh == 2500


async def test_201_status_faulted_and_unavailable(csms_factory: CsmsFactory) -> None:
    """Values outside a transaction, then Faulted: nothing flows any more."""
    system = await csms_factory()
    async with station(system) as cp:
        for status in ("Faulted", "Unavailable", "Available"):
            await cp.status_notification("Occupied")
            await cp.send(
                call201.MeterValues(evse_id=1, meter_value=meter(None, *live_201(1000)))
            )
            conn = system.chargers[CP_ID].connectors[1]
            assert conn.meter.power_w == 13900
            await cp.status_notification(status)
            assert conn.status == ConnectorStatus(status.lower())
            assert_idle(conn)


async def test_16_status_available_and_late_values(csms_factory: CsmsFactory) -> None:
    """1.6: Available ends the flow; late values of the stopped session stay late."""
    system = await csms_factory()
    async with fake_charger(system) as cp:
        await cp.boot()
        tx_id = await cp.start_tx(meter_start=0)
        await cp.meter(1, tx_id, *LIVE_16)
        conn = system.chargers["CP1"].connectors[1]
        assert conn.meter.power_w == 13900
        assert conn.meter.current_offered_a == 32

        # The charger ends the session on its own and says the connector is free.
        await cp.send(
            call16.StatusNotification(
                connector_id=1, error_code="NoError", status="Available"
            )
        )
        assert_idle(conn)
        assert conn.meter.voltage_v == 230  # not a flow: it stays

        await cp.stop_tx(tx_id, 1000)
        assert_idle(conn)
        # A MeterValues of the stopped transaction, taken while it ran, arrives late.
        await cp.send(
            call16.MeterValues(
                connector_id=1,
                transaction_id=tx_id,
                meter_value=[
                    {
                        "timestamp": (datetime.now(UTC) - timedelta(minutes=1))
                        .isoformat()
                        .replace("+00:00", "Z"),
                        "sampledValue": LIVE_16,
                    }
                ],
            )
        )
        assert_idle(conn)
        for status in ("Faulted", "Unavailable"):
            await cp.meter(1, None, *LIVE_16)
            assert conn.meter.power_w == 13900
            await cp.send(
                call16.StatusNotification(
                    connector_id=1, error_code="OtherError", status=status
                )
            )
            assert_idle(conn)


async def test_16_stop_transaction_ends_the_flow(csms_factory: CsmsFactory) -> None:
    """StopTransaction without a final power value leaves no phantom power."""
    system = await csms_factory()
    async with fake_charger(system) as cp:
        await cp.boot()
        tx_id = await cp.start_tx(meter_start=0)
        await cp.meter(1, tx_id, *LIVE_16)
        conn = system.chargers["CP1"].connectors[1]
        await cp.stop_tx(tx_id, 1000, reason="Local")
        assert_idle(conn)
        assert conn.meter.energy_wh == 1000


async def test_offline_makes_live_values_unknown(csms_factory: CsmsFactory) -> None:
    """Disconnected or silent: power, currents, voltage and offer become unknown."""
    system = await csms_factory(heartbeat_interval=0.2)
    async with fake_charger(system, "OFF1") as cp:
        tx_id = await cp.start_tx(meter_start=0)
        await cp.meter(1, tx_id, *LIVE_16)
        charger = system.chargers["OFF1"]
        conn = charger.connectors[1]
        assert conn.meter.power_w == 13900
        await wait_until(lambda: not charger.online, 3)  # 3 silent intervals
        assert conn.meter.power_w is None
        assert conn.meter.current_a is None
        assert conn.meter.current_phases_a == {}
        assert conn.meter.voltage_v is None
        assert conn.meter.current_offered_a is None
        assert conn.meter.energy_wh == 1000
        assert conn.transaction is not None  # the session itself goes on

    async with fake_charger(system, "OFF2") as cp:
        await cp.meter(1, None, *LIVE_16)
        conn = system.chargers["OFF2"].connectors[1]
        assert conn.meter.power_w == 13900
    await wait_until(lambda: not system.chargers["OFF2"].connected)
    assert conn.meter.power_w is None
    assert conn.meter.energy_wh == 1000
    assert system.chargers["OFF2"].connectors[1].energy_total_wh == 0
