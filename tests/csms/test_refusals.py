"""Chargers that refuse limits, as the central system reports them (issue 9, bug 3).

The simulator (both OCPP versions, one API) answers SetChargingProfile like the
chargers in the field: a NotImplemented or NotSupported CALLERROR whose description
echoes the whole request, or Rejected every time. The central system turns the first
into `CommandNotSupported` (short, the code as detail), counts the second on the
connector, and starts a new link epoch whenever the charger reconnects or boots.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest

from custom_components.energy_coordinator.csms.commands import (
    MAX_DETAIL_CHARS,
    ChargingLimit,
    CommandFailed,
    CommandNotSupported,
    CommandRejected,
)
from custom_components.energy_coordinator.csms.server import CentralSystem
from simulator import (
    ERROR,
    NOT_IMPLEMENTED,
    NOT_SUPPORTED,
    ChargePoint16,
    ChargePoint201,
    SimulatedChargePoint,
)

from .conftest import CsmsFactory
from .ocpp16_client import wait_until

VERSIONS = [ChargePoint16, ChargePoint201]
LIMIT = ChargingLimit(value=10.0, connector_id=1)


@contextlib.asynccontextmanager
async def simulated(
    system: CentralSystem, cls: type[SimulatedChargePoint], **options: Any
) -> AsyncIterator[SimulatedChargePoint]:
    """A booted simulated charger whose features the central system has learned."""
    cp = cls(
        "SIM",
        f"ws://127.0.0.1:{system.port}",
        meter_interval=0,
        heartbeat_interval=3600,
        reconnect_delay=0.05,
        **options,
    )
    await cp.start()
    try:
        await cp.wait_booted()
        await wait_until(lambda: system.chargers["SIM"].supports_smart_charging)
        yield cp
    finally:
        await cp.stop()


@pytest.mark.parametrize("cls", VERSIONS)
@pytest.mark.parametrize("answer", [NOT_IMPLEMENTED, NOT_SUPPORTED])
async def test_not_implemented_is_not_supported(
    csms_factory: CsmsFactory, cls: type[SimulatedChargePoint], answer: str
) -> None:
    system = await csms_factory()
    async with simulated(system, cls) as cp:
        cp.responses["SetChargingProfile"] = answer
        with pytest.raises(CommandNotSupported) as err:
            await system.link("SIM").set_charging_limit(LIMIT)
        assert err.value.action == "SetChargingProfile"
        assert err.value.detail == answer.partition(":")[2]
        assert len(str(err.value)) < 60  # not the request echoed back

        # Any other CALLERROR stays a failure, its text cut short.
        cp.responses["SetChargingProfile"] = f"{ERROR}:GenericError"
        with pytest.raises(CommandFailed) as failed:
            await system.link("SIM").set_charging_limit(LIMIT)
        assert not isinstance(failed.value, CommandNotSupported)
        assert failed.value.detail.startswith("GenericError: GenericError")
        assert len(failed.value.detail) <= MAX_DETAIL_CHARS


@pytest.mark.parametrize("cls", VERSIONS)
async def test_repeated_rejected_is_counted(
    csms_factory: CsmsFactory, cls: type[SimulatedChargePoint]
) -> None:
    system = await csms_factory()
    async with simulated(system, cls) as cp:
        charger = system.chargers["SIM"]
        conn = charger.connectors[1]
        link = system.link("SIM")
        cp.responses["SetChargingProfile"] = "Rejected"
        for count in (1, 2, 3):
            with pytest.raises(CommandRejected) as err:
                await link.set_charging_limit(LIMIT)
            assert err.value.status == "Rejected"
            assert conn.rejected_limits == count
        assert conn.current_limit_a is None

        del cp.responses["SetChargingProfile"]
        await link.set_charging_limit(LIMIT)
        assert conn.rejected_limits == 0
        assert conn.current_limit_a == 10.0

        # A reconnect and a boot each start a new epoch and forget the count.
        cp.responses["SetChargingProfile"] = "Rejected"
        with pytest.raises(CommandRejected):
            await link.set_charging_limit(LIMIT)
        epoch = charger.link_epoch
        await cp.disconnect()
        await wait_until(lambda: charger.link_epoch > epoch and charger.connected)
        assert charger.link_epoch >= epoch + 1
        await cp.wait_booted()
        assert charger.link_epoch == epoch + 2  # the connection, then the boot
        assert conn.rejected_limits == 0
