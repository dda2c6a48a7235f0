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
    LimitPurpose,
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
from simulator.runner import apply_quirks
from tests.fake_charge_point import wait_until

from .conftest import CsmsFactory

VERSIONS = [ChargePoint16, ChargePoint201]
LIMIT = ChargingLimit(value=10.0, connector_id=1)


@contextlib.asynccontextmanager
async def simulated(
    system: CentralSystem,
    cls: type[SimulatedChargePoint],
    smart: bool | None = True,
    connectors: int = 1,
) -> AsyncIterator[SimulatedChargePoint]:
    """A booted simulated charger whose features the central system has read.

    `smart=None`: a 1.6 charger whose configuration reports neither its feature
    profiles nor any SmartCharging key; `smart=False`: one whose profile list
    leaves SmartCharging out.
    """
    cp = cls(
        "SIM",
        f"ws://127.0.0.1:{system.port}",
        meter_interval=0,
        heartbeat_interval=3600,
        reconnect_delay=0.05,
        connectors=connectors,
    )
    if isinstance(cp, ChargePoint16) and smart is None:
        apply_quirks(cp, ["no-feature-list"])
    elif isinstance(cp, ChargePoint16) and not smart:
        cp.feature_profiles = "Core,LocalAuthListManagement"
    await cp.start()
    try:
        await cp.wait_booted()
        charger = system.chargers["SIM"]
        if cls is ChargePoint16:  # the configuration read after the boot
            await wait_until(lambda: charger.configuration)
        else:  # the device-model report
            await wait_until(lambda: charger.supports_smart_charging)
        yield cp
    finally:
        await cp.stop()


def profiles_sent(cp: SimulatedChargePoint) -> list[dict[str, Any]]:
    return [p for name, p in cp.received if name == "SetChargingProfile"]


async def reconnect(cp: SimulatedChargePoint, system: CentralSystem) -> None:
    """Drop the connection; the charger reconnects and boots."""
    epoch = system.chargers["SIM"].link_epoch
    await cp.disconnect()
    await wait_until(lambda: system.chargers["SIM"].link_epoch >= epoch + 2)
    await cp.wait_booted()


@pytest.mark.parametrize("cls", VERSIONS)
@pytest.mark.parametrize("answer", [NOT_IMPLEMENTED, NOT_SUPPORTED])
async def test_not_implemented_is_not_supported(
    csms_factory: CsmsFactory, cls: type[SimulatedChargePoint], answer: str
) -> None:
    """Learned from the answer, remembered until the charger reconnects."""
    system = await csms_factory()
    async with simulated(system, cls) as cp:
        charger = system.chargers["SIM"]
        cp.responses["SetChargingProfile"] = answer
        with pytest.raises(CommandNotSupported) as err:
            await system.link("SIM").set_charging_limit(LIMIT)
        assert err.value.action == "SetChargingProfile"
        assert err.value.detail == answer.partition(":")[2]
        assert len(str(err.value)) < 60  # not the request echoed back
        assert charger.accepts_limits is False

        # Known now, but a new request is still asked (when to ask again is the
        # site's back-off, not the link's), and refused again.
        sent = len(profiles_sent(cp))
        with pytest.raises(CommandNotSupported):
            await system.link("SIM").set_charging_limit(LIMIT)
        assert len(profiles_sent(cp)) == sent + 1
        assert charger.accepts_limits is False
        sent += 1

        # After a reconnect it is tried again; any other CALLERROR stays a
        # failure, its text cut short, and teaches nothing.
        await reconnect(cp, system)
        assert charger.accepts_limits is True
        cp.responses["SetChargingProfile"] = f"{ERROR}:GenericError"
        for _ in range(2):
            with pytest.raises(CommandFailed) as failed:
                await system.link("SIM").set_charging_limit(LIMIT)
            assert not isinstance(failed.value, CommandNotSupported)
            assert failed.value.detail.startswith("GenericError: GenericError")
            assert len(failed.value.detail) <= MAX_DETAIL_CHARS
        assert len(profiles_sent(cp)) == sent + 2
        assert charger.accepts_limits is True


async def test_16_without_feature_list_is_tried(csms_factory: CsmsFactory) -> None:
    """No SupportedFeatureProfiles, no SmartCharging keys: try, then learn."""
    system = await csms_factory()
    async with simulated(system, ChargePoint16, smart=None) as cp:
        charger = system.chargers["SIM"]
        assert charger.supports_smart_charging is None
        await system.link("SIM").set_charging_limit(LIMIT)
        assert len(profiles_sent(cp)) == 1
        assert charger.connectors[1].current_limit_a == 10.0

        cp.responses["SetChargingProfile"] = NOT_SUPPORTED
        with pytest.raises(CommandNotSupported):
            await system.link("SIM").set_charging_limit(LIMIT)
        assert charger.accepts_limits is False
        await reconnect(cp, system)
        assert charger.supports_smart_charging is None
        assert charger.accepts_limits is None


async def test_16_feature_list_without_smart_charging(
    csms_factory: CsmsFactory,
) -> None:
    """A charger that lists its profiles without SmartCharging is believed."""
    system = await csms_factory()
    async with simulated(system, ChargePoint16, smart=False) as cp:
        with pytest.raises(CommandNotSupported) as err:
            await system.link("SIM").set_charging_limit(LIMIT)
        assert err.value.detail == "no smart charging"
        assert profiles_sent(cp) == []


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
        await reconnect(cp, system)
        assert charger.link_epoch == epoch + 2  # the connection, then the boot
        assert conn.rejected_limits == 0


@pytest.mark.parametrize("cls", VERSIONS)
async def test_charger_wide_limit_shows_on_every_connector(
    csms_factory: CsmsFactory, cls: type[SimulatedChargePoint]
) -> None:
    """The link records what the charger accepted, for every purpose; nobody else
    writes it (the HA layer only reads `current_limit_a`)."""
    system = await csms_factory()
    async with simulated(system, cls, connectors=2) as cp:
        await cp.wait_until(lambda: len(system.chargers["SIM"].connectors) == 2)
        connectors = system.chargers["SIM"].connectors
        await system.link("SIM").set_charging_limit(
            ChargingLimit(13.0, purpose=LimitPurpose.CHARGE_POINT_MAX)
        )
        assert [c.current_limit_a for c in connectors.values()] == [13.0, 13.0]
        await system.link("SIM").set_charging_limit(ChargingLimit(7.0, connector_id=2))
        assert [c.current_limit_a for c in connectors.values()] == [13.0, 7.0]
