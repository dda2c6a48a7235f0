"""A person's commands on a loadpoint the site coordinates win, visibly.

A current limit (the action or the charger's maximum-current number) becomes
the loadpoint's cap for its duration or until cleared: the charger is lowered at
once, the coordinator never gives more and says so; stopping sets the charge
mode to off, starting sets a loadpoint that is off to now. Nothing is fought
back by the next coordination.
"""

from __future__ import annotations

from typing import Any

from homeassistant.const import ATTR_DEVICE_ID, ATTR_ENTITY_ID
from homeassistant.helpers import entity_registry as er

from custom_components.energy_coordinator.const import DOMAIN

from .site_harness import Frames, SiteHarness, site_harness

__all__ = ["site_harness"]

LP = "SIM1/1"


def _device(h: SiteHarness) -> str:
    """The charger's device (found from its power sensor)."""
    entry = er.async_get(h.hass).async_get("sensor.sim1_power")
    assert entry is not None and entry.device_id is not None
    return entry.device_id


async def _call(h: SiteHarness, service: str, **data: Any) -> dict[str, Any]:
    response = await h.hass.services.async_call(
        DOMAIN,
        service,
        {ATTR_DEVICE_ID: _device(h), **data},
        blocking=True,
        return_response=True,
    )
    await h.meters()
    assert isinstance(response, dict)
    return response


async def _coordinate(h: SiteHarness) -> None:
    await h.hass.services.async_call(DOMAIN, "coordinate", {}, blocking=True)
    await h.meters()


def _limit(sim: Any) -> float:
    return Frames(sim, start=0).limits()[-1][1]


async def test_a_manual_limit_is_the_loadpoints_cap_until_cleared(
    site_harness: SiteHarness,
) -> None:
    h = site_harness
    await h.start()
    sim = await h.charger()
    h.site.update_settings(LP, mode="now")
    await _coordinate(h)
    assert _limit(sim) == 16.0

    response = await _call(h, "set_current_limit", limit=10)

    assert response["coordinated"] is True
    assert response["cap_a"] == 10.0
    assert response["until"] is None
    assert "never more" in response["message"]
    assert _limit(sim) == 10.0  # lowered at once, before any coordination
    for _ in range(3):
        await h.advance(10)
        await _coordinate(h)
        assert _limit(sim) == 10.0
    assert "ev.manual.cap" in h.site.last.decision.codes(LP)
    assert sim.connectors[1].current_a <= 10.0

    response = await _call(h, "clear_current_limit")
    assert response == {"coordinated": True, "loadpoints": [LP]}
    await _coordinate(h)
    assert _limit(sim) == 16.0
    assert "ev.manual.cap" not in h.site.last.decision.codes(LP)


async def test_a_manual_limit_with_a_duration_lapses(site_harness: SiteHarness) -> None:
    h = site_harness
    await h.start()
    sim = await h.charger()
    h.site.update_settings(LP, mode="now")
    await _coordinate(h)

    response = await _call(h, "set_current_limit", limit=2300, unit="W", duration=60)

    assert response["cap_a"] == round(2300 / 690, 1)
    assert response["until"] is not None
    await _coordinate(h)
    # 3.3 A is under the 6 A minimum: the cap pauses the car, visibly.
    assert _limit(sim) == 0.0
    assert "ev.manual.pause" in h.site.last.decision.codes(LP)
    await h.advance(70)
    await _coordinate(h)
    assert _limit(sim) == 16.0


async def test_the_max_current_number_caps_a_coordinated_loadpoint(
    site_harness: SiteHarness,
) -> None:
    h = site_harness
    await h.start()
    sim = await h.charger()
    h.site.update_settings(LP, mode="now")
    await _coordinate(h)
    number = next(
        entry.entity_id
        for entry in er.async_get(h.hass).entities.values()
        if entry.platform == DOMAIN
        and entry.unique_id.endswith("SIM1_1_max_current")
        and "loadpoint" not in entry.unique_id
    )
    await h.hass.services.async_call(
        "number", "set_value", {ATTR_ENTITY_ID: number, "value": 8}, blocking=True
    )
    await _coordinate(h)
    assert _limit(sim) == 8.0
    assert h.site.settings(LP).manual_cap_a == 8.0


async def test_stop_and_start_set_the_mode_instead_of_fighting(
    site_harness: SiteHarness,
) -> None:
    h = site_harness
    await h.start()
    sim = await h.charger()
    h.site.update_settings(LP, mode="now")
    await _coordinate(h)
    frames = Frames(sim)

    response = await _call(h, "stop_charging")

    assert response == {"coordinated": True, "mode": "off"}
    assert len(frames.of("RemoteStopTransaction")) == 1
    await h.wait(lambda: sim.connectors[1].transaction_id is None, "stopped")
    assert h.site.settings(LP).mode == "off"
    await _coordinate(h)
    assert "ev.off" in h.site.last.decision.codes(LP)

    response = await _call(h, "start_charging")

    assert response == {"coordinated": True, "mode": "now"}
    await h.wait(lambda: sim.connectors[1].transaction_id is not None, "started")
    await _coordinate(h)
    assert _limit(sim) == 16.0
    assert "ev.now" in h.site.last.decision.codes(LP)


async def test_the_charge_switch_sets_the_mode_too(site_harness: SiteHarness) -> None:
    h = site_harness
    await h.start()
    sim = await h.charger()
    h.site.update_settings(LP, mode="pv")
    switch = "switch.sim1_charge"
    assert h.hass.states.get(switch) is not None
    await h.hass.services.async_call(
        "switch", "turn_off", {ATTR_ENTITY_ID: switch}, blocking=True
    )
    await h.wait(lambda: sim.connectors[1].transaction_id is None, "stopped")
    assert h.site.settings(LP).mode == "off"
    await h.hass.services.async_call(
        "switch", "turn_on", {ATTR_ENTITY_ID: switch}, blocking=True
    )
    await h.wait(lambda: sim.connectors[1].transaction_id is not None, "started")
    assert h.site.settings(LP).mode == "now"
