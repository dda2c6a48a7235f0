"""A charger that does not take charging limits, under a grid limit that binds.

Like a real 2.0.1 wall box whose firmware has no smart charging, the simulator
answers every SetChargingProfile with CALLERROR NotImplemented. The site must
stop sending it profiles (retrying with back-off, and at once when it
reconnects), keep what it draws free under the grid limit, say so in the
explanation, raise one repair issue naming it, and log no warning per cycle.
"""

from __future__ import annotations

import logging

import pytest
from homeassistant.helpers import issue_registry as ir

from custom_components.energy_coordinator.const import DOMAIN
from custom_components.energy_coordinator.site.actuation import RETRY_FIRST_S
from simulator import NOT_IMPLEMENTED, NOT_SUPPORTED, ChargePoint16, ChargePoint201

from .site_harness import Frames, SiteHarness, site_harness

__all__ = ["site_harness"]

LIMIT_A = 25.0
VOLTS = 230.0
REFUSING = "SIM1/1"
OBEYING = "SIM2/1"


async def _coordinate(h: SiteHarness) -> dict[str, object]:
    response = await h.hass.services.async_call(
        DOMAIN, "coordinate", {}, blocking=True, return_response=True
    )
    await h.meters()
    assert isinstance(response, dict)
    return response


def _issue(h: SiteHarness) -> ir.IssueEntry | None:
    assert h.entry is not None
    return ir.async_get(h.hass).async_get_issue(
        DOMAIN, f"{h.entry.entry_id}_SIM1_uncontrollable"
    )


@pytest.mark.parametrize(
    "answer", [NOT_IMPLEMENTED, NOT_SUPPORTED], ids=["NotImplemented", "NotSupported"]
)
async def test_a_charger_without_smart_charging_is_budgeted_not_retried(
    site_harness: SiteHarness, caplog: pytest.LogCaptureFixture, answer: str
) -> None:
    h = site_harness
    await h.start(limits={"grid_limit": LIMIT_A, "grid_limit_unit": "ampere"})
    await h.set_number("house_w", 2 * VOLTS)
    refusing = await h.charger("SIM1", ChargePoint201)
    refusing.responses["SetChargingProfile"] = answer
    obeying = await h.charger("SIM2", ChargePoint16)
    h.site.update_settings(REFUSING, mode="now")
    h.site.update_settings(OBEYING, mode="now")
    refused = Frames(refusing)

    response = await _coordinate(h)

    assert len(refused.of("SetChargingProfile")) == 1
    assert any(REFUSING in error for error in response["errors"])  # type: ignore[attr-defined]
    assert not h.site.actuator.controllable(REFUSING)
    issue = _issue(h)
    assert issue is not None
    assert issue.translation_key == "charger_uncontrollable"
    assert issue.translation_placeholders is not None
    assert issue.translation_placeholders["charger_id"] == "SIM1"

    # From now on it is budgeted at what it draws, and never sent a profile.
    caplog.clear()
    with caplog.at_level(logging.INFO):
        for _ in range(6):
            await h.advance(10)
            response = await _coordinate(h)
    assert refused.of("SetChargingProfile") == refused.of("SetChargingProfile")[:1]
    drawn = refusing.connectors[1].current_a
    assert drawn > 10
    decision = h.site.last.decision
    assert "ev.uncontrollable" in decision.codes(REFUSING)
    assert "grid.offline_reserve" in decision.codes(REFUSING)
    # The other charger gets what the refusing one and the house leave.
    _, granted = Frames(obeying, start=0).limits()[-1]
    assert granted <= max(0.0, LIMIT_A - 2 - drawn) + 1e-6
    warnings = [
        r for r in caplog.records if r.levelno >= logging.WARNING and "energy" in r.name
    ]
    assert warnings == []
    assert len([i for i in ir.async_get(h.hass).issues if i[0] == DOMAIN]) == 1

    # After the back-off it is tried once more (and refuses again).
    sent = len(refused.of("SetChargingProfile"))
    await h.advance(RETRY_FIRST_S)
    await _coordinate(h)
    assert len(refused.of("SetChargingProfile")) == sent + 1
    assert not h.site.actuator.controllable(REFUSING)

    # A new firmware with smart charging: after it reconnects it is tried at
    # once, takes the limit, and the repair clears.
    del refusing.responses["SetChargingProfile"]
    charger = h.site.system.chargers["SIM1"]
    epoch = charger.link_epoch
    await refusing.stop()
    await h.wait(lambda: not charger.connected, "disconnected", 10)
    await refusing.start()
    await h.wait(lambda: charger.link_epoch > epoch, "reconnected", 10)
    await h.meters()
    await _coordinate(h)
    assert len(refused.of("SetChargingProfile")) == sent + 2
    # The attempt offers what it drew, which the budget had kept free.
    _, probe = Frames(refusing, start=0).limits()[-1]
    assert probe == pytest.approx(drawn, abs=0.1)
    assert h.site.actuator.controllable(REFUSING)
    assert _issue(h) is None
    # The next decision gives it its share of the grid limit again.
    await _coordinate(h)
    assert [limit for _, limit in Frames(refusing, start=0).limits()[-1:]] != [probe]
