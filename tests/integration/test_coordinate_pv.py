"""The blueprint automation makes a simulated EV follow the solar surplus.

A real HA core with the shipped blueprint as an automation (every 10 s and on
grid meter changes), template power sensors, and an OCPP 1.6 simulator whose EV draws
what its charging profile offers, so the grid meter sees the EV.
"""

from __future__ import annotations

from datetime import datetime

import pytest
from homeassistant.util import dt as dt_util

from simulator import ChargePoint16, ChargePoint201, SimulatedChargePoint

from .site_harness import GRID, Frames, SiteHarness, site_harness

__all__ = ["site_harness"]

LP = "SIM1/1"
VOLTS_3P = 230 * 3


def _seconds_since(moment: datetime) -> float:
    return (dt_util.utcnow() - moment).total_seconds()


@pytest.mark.parametrize("cls", [ChargePoint16, ChargePoint201], ids=["1.6", "2.0.1"])
async def test_ev_follows_solar_surplus(
    site_harness: SiteHarness, cls: type[SimulatedChargePoint]
) -> None:
    """Start after the enable delay, follow the surplus up, stop after the
    disable delay; every step is a SetChargingProfile the simulator applied."""
    h = site_harness
    await h.start()
    await h.blueprint_automation(run_every="/10", sources=[GRID])
    h.site.update_settings(LP, mode="pv", phases="3")
    sim = await h.charger(cls=cls)
    frames = Frames(sim, start=0)

    # No sun: the first run (at 10:00:00) pauses the vehicle with a 0 A profile.
    assert h.site.last is not None
    assert h.site.last.decision.actions.vehicles[LP].current_a == 0
    assert frames.limits() == [("TxDefaultProfile", 0.0)]
    assert frames.of("RemoteStopTransaction") == []
    assert sim.connectors[1].offered_current_a == 0
    assert sim.connectors[1].power_w == 0

    # 6 kW of sun, 0.5 kW house: 5.5 kW surplus covers the 4.14 kW three-phase
    # minimum. The grid meter's change triggers a run at once; charging starts
    # after 60 s.
    frames = Frames(sim)
    sun = dt_util.utcnow()
    await h.set_number("pv_w", 6000)
    assert h.site.last.at == sun
    assert "ev.pv.enable_wait" in h.site.last.decision.codes(LP)
    conn = sim.connectors[1]
    await h.runs_until(lambda: conn.offered_current_a > 0, 120)
    assert 60 <= _seconds_since(sun) < 71
    assert conn.offered_current_a == pytest.approx(7.9)  # floor(5500 W / 690 V)
    assert frames.limits() == [("TxDefaultProfile", 7.9)]
    assert sim.connectors[1].power_w == pytest.approx(7.9 * VOLTS_3P)
    assert h.grid_w() == pytest.approx(500 + 7.9 * VOLTS_3P - 6000, abs=0.2)

    # More sun: the current follows on the next run, without delay.
    frames = Frames(sim)
    await h.set_number("pv_w", 9000)
    await h.meters()
    assert sim.connectors[1].offered_current_a == pytest.approx(12.3)
    assert frames.limits() == [("TxDefaultProfile", 12.3)]
    # A run with nothing new sends nothing.
    frames = Frames(sim)
    await h.next_run()
    await h.meters()
    assert frames.limits() == []

    # A cloud: 4 kW no longer covers the minimum. The vehicle keeps its 6 A
    # minimum for the 180 s disable delay, then pauses at 0 A (no RemoteStop).
    frames = Frames(sim)
    cloud = dt_util.utcnow()
    await h.set_number("pv_w", 4000)
    await h.meters()
    assert sim.connectors[1].offered_current_a == 6
    assert "ev.pv.disable_wait" in h.site.last.decision.codes(LP)
    await h.runs_until(lambda: conn.offered_current_a == 0, 240)
    assert 180 <= _seconds_since(cloud) < 191
    assert frames.limits() == [("TxDefaultProfile", 6.0), ("TxDefaultProfile", 0.0)]
    assert frames.of("RemoteStopTransaction") == []
    assert sim.connectors[1].transaction_id is not None  # paused, not stopped
