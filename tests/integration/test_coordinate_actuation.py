"""Carrying out a decision across many chargers: order, silence, stale meters.

Cuts go out before raises, so the limits in force never add up to more than
the decision allows; a silent charger delays only the raises that depend on its
cut (and nothing waits longer than the actuator's 2 s); after a cut, the site
counts a charger that follows its limits at no more than the new limit until it
reports again, so the house load it derives does not drop and hand the cut out
again (no oscillation).
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from pytest_homeassistant_custom_component.common import async_fire_time_changed

from custom_components.energy_coordinator.const import DOMAIN
from custom_components.energy_coordinator.site.actuation import ACTION_WAIT_S
from simulator import TIMEOUT, ChargePoint16, ChargePoint201

from .site_harness import Frames, SiteHarness, site_harness

__all__ = ["site_harness"]

LIMIT_A = 25.0
VOLTS = 230.0


async def _coordinate(h: SiteHarness) -> dict[str, object]:
    response = await h.hass.services.async_call(
        DOMAIN, "coordinate", {}, blocking=True, return_response=True
    )
    assert isinstance(response, dict)
    return response


async def test_a_silent_cut_holds_back_the_raise_it_pays_for(
    site_harness: SiteHarness,
) -> None:
    h = site_harness
    await h.start(limits={"grid_limit": LIMIT_A, "grid_limit_unit": "ampere"})
    await h.set_number("house_w", 5 * VOLTS)
    sim1 = await h.charger("SIM1", ChargePoint16)
    sim2 = await h.charger("SIM2", ChargePoint201)
    h.site.update_settings("SIM1/1", mode="now")
    h.site.update_settings("SIM2/1", mode="now")
    await _coordinate(h)
    await h.meters()
    assert [Frames(s, start=0).limits()[-1][1] for s in (sim1, sim2)] == [10.0, 10.0]

    # SIM1 is capped at 6 A (its share falls), SIM2 may take the rest — but
    # only once SIM1 has taken the cut. SIM1 does not answer.
    sim1.responses["SetChargingProfile"] = TIMEOUT
    h.site.update_settings("SIM1/1", max_current_a=6.0)
    frames1, frames2 = Frames(sim1), Frames(sim2)
    run = asyncio.ensure_future(_coordinate(h))
    await h.wait(lambda: len(frames1.of("SetChargingProfile")) == 1, "the cut")
    # Past the actuator's wait (not HA's "wait for background tasks": the call
    # to the silent charger is one, and runs until its own time-out).
    h.freezer.tick(timedelta(seconds=ACTION_WAIT_S + 0.5))
    async_fire_time_changed(h.hass)
    response = await asyncio.wait_for(run, 10)
    assert frames1.limits() == [("TxDefaultProfile", 6.0)]
    assert frames2.limits() == []  # the raise waits for the cut
    assert "SIM2/1" in response["pending"]  # type: ignore[operator]

    # SIM1 answers again: the next run sends its cut, then SIM2's raise.
    del sim1.responses["SetChargingProfile"]
    h.freezer.tick(timedelta(seconds=40))  # the unanswered call times out
    async_fire_time_changed(h.hass)
    await h.wait(lambda: h.site.runtime["SIM1/1"].in_flight is None, "time-out")
    await h.meters()
    await _coordinate(h)
    await h.meters()
    assert Frames(sim1, start=0).limits()[-1][1] == 6.0
    assert frames2.limits()[-1][1] == 14.0
    assert sum(s.connectors[1].current_a for s in (sim1, sim2)) + 5 <= LIMIT_A + 1e-6


async def test_a_cut_is_not_handed_out_again_before_the_chargers_report(
    site_harness: SiteHarness,
) -> None:
    """The grid meter sees a new limit first: the derived house load stays right.

    The site has no house meter, so it derives the house load as PV + grid -
    EVs. Here the grid meter follows what the chargers really draw at once,
    while the chargers report their draw only every few seconds. When one of
    three chargers must pause, the reports still show it drawing: without
    counting each charger at its new limit, the house would seem smaller by
    what it freed, it would be admitted again, and so on every cycle.
    """
    h = site_harness
    grid = "sensor.fast_grid"
    power = {"unit_of_measurement": "W", "device_class": "power"}
    house = {"w": 5 * VOLTS}
    sims: list[object] = []

    def meter() -> None:
        drawn = sum(s.connectors[1].power_w for s in sims)  # type: ignore[attr-defined]
        h.hass.states.async_set(grid, f"{house['w'] + drawn:.1f}", power)

    meter()
    await h.start(
        sources={"house_power_entity": None, "grid_power_entity": grid},
        limits={"grid_limit": LIMIT_A, "grid_limit_unit": "ampere"},
    )
    for name in ("SIM1", "SIM2", "SIM3"):
        sims.append(await h.charger(name, ChargePoint16))
        h.site.update_settings(f"{name}/1", mode="now")
    for _ in range(3):
        meter()
        await _coordinate(h)
        await h.meters()
    meter()
    await h.settle()
    # 20 A for three: 6.6 or 6.7 A each.
    shares = [Frames(s, start=0).limits()[-1][1] for s in sims]
    assert sorted(shares) == [6.6, 6.7, 6.7]

    # The house takes 2.5 A more: three minimums no longer fit. Coordinate each
    # time the grid meter has moved, before the chargers report.
    house["w"] = 7.5 * VOLTS
    meter()
    await h.settle()
    frames = [Frames(s) for s in sims]
    for _ in range(5):
        await _coordinate(h)
        await h.wait(
            lambda: all(
                s.connectors[1].offered_current_a == f.limits()[-1][1]  # type: ignore[attr-defined]
                for s, f in zip(sims, frames, strict=True)
                if f.limits()
            ),
            "the chargers to apply their limits",
        )
        meter()
        await h.settle()
    limits = [[limit for _, limit in f.limits()] for f in frames]
    # One change each, then quiet: two share 17.5 A, the third pauses.
    assert all(len(sent) == 1 for sent in limits), limits
    assert sorted(sent[0] for sent in limits) == [0.0, 8.7, 8.8]
