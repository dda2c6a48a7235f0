"""Modes, the grid limit and load shedding, end to end with simulated chargers.

`off` pauses a session with a 0 A profile; two chargers in `now` mode share the
grid connection without exceeding its per-phase limit (checked on the frames
the simulators received and the currents they draw); flexible loads (an
`input_boolean` and a template `switch`) are shed when the house alone would
exceed the limit and come back with hysteresis, driven by the built-in loop.
"""

from __future__ import annotations

from typing import Any

import pytest

from custom_components.energy_coordinator.const import DOMAIN
from simulator import ChargePoint16, ChargePoint201, SimulatedChargePoint

from .site_harness import BOILER, POOL_PUMP, Frames, SiteHarness, site_harness

__all__ = ["site_harness"]

LIMIT_A = 25.0
VOLTS = 230.0


async def _coordinate(h: SiteHarness) -> None:
    await h.hass.services.async_call(DOMAIN, "coordinate", {}, blocking=True)
    await h.meters()


@pytest.mark.parametrize("cls", [ChargePoint16, ChargePoint201], ids=["1.6", "2.0.1"])
async def test_off_pauses_with_a_zero_profile(
    site_harness: SiteHarness, cls: type[SimulatedChargePoint]
) -> None:
    """`off`: a 0 A profile; the session stays open, no remote stop."""
    h = site_harness
    await h.start()
    sim = await h.charger(cls=cls)
    assert sim.connectors[1].power_w > 0  # no profile yet: it charges at 32 A
    frames = Frames(sim)

    h.site.update_settings("SIM1/1", mode="off")
    await _coordinate(h)

    assert frames.limits() == [("TxDefaultProfile", 0.0)]
    assert frames.of("RemoteStopTransaction") == []
    assert frames.of("RequestStopTransaction") == []
    conn = sim.connectors[1]
    assert conn.offered_current_a == 0
    assert conn.power_w == 0
    assert conn.transaction_id is not None
    assert conn.charging_state == "SuspendedEVSE"
    assert "ev.off" in h.site.last.decision.codes("SIM1/1")
    # Off stays off: the next run sends nothing new.
    frames = Frames(sim)
    await _coordinate(h)
    assert frames.of("SetChargingProfile") == []


def _granted(h: SiteHarness, sims: list[SimulatedChargePoint]) -> list[float]:
    """Each simulator's limit in force now, and it matches its last frame."""
    granted = []
    for sim in sims:
        _, last = Frames(sim, start=0).limits()[-1]
        assert sim.connectors[1].offered_current_a == pytest.approx(last)
        assert sim.connectors[1].current_a <= last + 1e-6
        granted.append(last)
    return granted


async def test_grid_limit_holds_with_two_chargers_now(
    site_harness: SiteHarness,
) -> None:
    """Two `now` chargers on three phases share what the house leaves."""
    h = site_harness
    await h.start(limits={"grid_limit": LIMIT_A, "grid_limit_unit": "ampere"})
    await h.set_number("house_w", 5 * VOLTS)  # 5 A, all on one line (worst case)
    sim1 = await h.charger("SIM1", ChargePoint16)
    sim2 = await h.charger("SIM2", ChargePoint201)
    h.site.update_settings("SIM1/1", mode="now")
    h.site.update_settings("SIM2/1", mode="now")
    sims = [sim1, sim2]

    # 20 A left per line: both get 10 A (fair share), not their 16 A maximum.
    await _coordinate(h)
    granted = _granted(h, sims)
    assert granted == [10.0, 10.0]
    assert sum(granted) + 5 <= LIMIT_A
    assert sum(s.connectors[1].current_a for s in sims) + 5 <= LIMIT_A + 1e-6
    assert "ev.grid_limit.reduced" in h.site.last.decision.codes("SIM1/1")

    # The house takes 15 A: two 6 A minimums no longer fit, the second pauses.
    frames = [Frames(s) for s in sims]
    await h.set_number("house_w", 15 * VOLTS)
    await _coordinate(h)
    assert frames[0].limits() == []
    assert frames[1].limits() == [("TxDefaultProfile", 0.0)]
    granted = _granted(h, sims)
    assert granted == [10.0, 0.0]
    assert sum(granted) + 15 <= LIMIT_A
    assert sim2.connectors[1].transaction_id is not None  # paused, not stopped
    assert "ev.grid_limit.paused" in h.site.last.decision.codes("SIM2/1")

    # The house drops back: both share again.
    await h.set_number("house_w", 5 * VOLTS)
    await _coordinate(h)
    assert _granted(h, sims) == [10.0, 10.0]

    # A lower limit through the grid-limit override (A per phase).
    h.site.set_grid_limit(17)
    await _coordinate(h)
    granted = _granted(h, sims)
    assert granted == [6.0, 6.0]
    assert sum(granted) + 5 <= 17


def _is_on(h: SiteHarness, entity_id: str) -> bool:
    state = h.hass.states.get(entity_id)
    assert state is not None
    return state.state == "on"


async def test_load_shedding_with_hysteresis_by_the_loop(
    site_harness: SiteHarness,
) -> None:
    """The built-in loop sheds the lowest priority first and restores later."""
    h = site_harness
    await h.start(
        limits={"grid_limit": LIMIT_A, "grid_limit_unit": "ampere"},
        actuators={"loop_interval": 10},
        loads=[(BOILER, 2000, 0), (POOL_PUMP, 1000, 1)],
    )
    assert "automation" not in h.hass.config.components
    await h.set_number("house_w", 3000)

    async def loop_run() -> None:
        before = h.site.last.at if h.site.last else None
        await h.tick(10)
        assert h.site.last is not None
        assert h.site.last.at != before  # the loop ran

    await loop_run()
    assert _is_on(h, BOILER)
    assert _is_on(h, POOL_PUMP)

    # 7 kW on one line is 30.4 A: 1.25 kW too much. The boiler (lowest
    # priority, 2 kW) goes off; the pool pump stays on.
    await h.set_number("house_w", 7000)
    await loop_run()
    assert not _is_on(h, BOILER)
    assert _is_on(h, POOL_PUMP)
    assert "load.shed.grid" in h.site.last.decision.codes(BOILER)

    # Without the boiler: 5 kW. Under the limit, but 0.75 kW of headroom is not
    # enough to bring 2 kW back (plus its margin): it stays off.
    await h.set_number("house_w", 5000)
    for _ in range(3):
        await loop_run()
        assert not _is_on(h, BOILER)
    assert "load.held" in h.site.last.decision.codes(BOILER)

    # Even more load: the pool pump (a switch) goes too.
    await h.set_number("house_w", 8500)
    await loop_run()
    assert not _is_on(h, POOL_PUMP)
    assert "load.shed.grid" in h.site.last.decision.codes(POOL_PUMP)

    # Room again (2.5 kW). Both come back only after the 120 s restore delay.
    await h.set_number("house_w", 2500)
    await loop_run()
    assert "load.restore_wait" in h.site.last.decision.codes(BOILER)
    started = h.site.last.at
    while not (_is_on(h, BOILER) and _is_on(h, POOL_PUMP)):
        assert not _is_on(h, BOILER)
        assert not _is_on(h, POOL_PUMP)
        await loop_run()
        assert (h.site.last.at - started).total_seconds() <= 130
    assert (h.site.last.at - started).total_seconds() >= 120
    assert "load.restored" in h.site.last.decision.codes(BOILER)
    assert "load.restored" in h.site.last.decision.codes(POOL_PUMP)


async def test_the_loop_writes_settings_at_once_and_its_memory_once_a_minute(
    site_harness: SiteHarness, hass_storage: dict[str, Any]
) -> None:
    """A loop that runs every 5 s changes the controller's memory every cycle: it
    is written once a minute, not every cycle (a garage's thousand loadpoints
    each time), while the owner's change is on disk within 5 s even though every
    cycle asks for a save."""
    h = site_harness
    await h.start(actuators={"loop_interval": 5})
    await h.charger("SIM1", ChargePoint16)
    key = f"{DOMAIN}.{h.site.entry_id}.site"
    await h.tick(30)  # the loop has run and keeps running
    hass_storage.pop(key, None)

    h.site.update_settings("SIM1/1", mode="now")
    for _ in range(2):
        await h.tick(2.5)  # every cycle in between schedules a save again
    saved = hass_storage[key]["data"]
    assert saved["loadpoints"]["SIM1/1"]["mode"] == "now"

    hass_storage.pop(key)
    for _ in range(11):  # 55 s of cycles, each one a save request
        await h.tick(5)
        assert key not in hass_storage  # the controller memory waits
    await h.tick(6)
    saved = hass_storage[key]["data"]
    assert "SIM1/1" in saved["controller"]["loadpoints"]
    assert saved["loadpoints"]["SIM1/1"]["mode"] == "now"
