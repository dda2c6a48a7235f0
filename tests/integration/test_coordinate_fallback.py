"""Fallbacks: a source that goes away, and a charger that ignores a profile.

When the grid meter (a template sensor) becomes unavailable, a solar-charging
EV pauses or keeps its minimum as configured, the battery script is told to
hold, and a repair issue names the entity; all of it is undone when the meter
is back. A simulated charger that accepts but ignores TxDefaultProfile gets a
TxProfile after two runs.
"""

from __future__ import annotations

import pytest
from homeassistant.helpers import issue_registry as ir

from custom_components.energy_coordinator.const import DOMAIN
from custom_components.energy_coordinator.csms.commands import LimitPurpose
from custom_components.energy_coordinator.site.repairs import SiteRepairs
from simulator import ChargePoint16, ChargePoint201, SimulatedChargePoint

from .site_harness import (
    BATTERY_POWER,
    BATTERY_SCRIPT,
    BATTERY_SOC,
    GRID,
    METER_INTERVAL,
    METER_OK,
    Frames,
    SiteHarness,
    site_harness,
)

__all__ = ["site_harness"]

LP = "SIM1/1"


@pytest.mark.parametrize(("policy", "fallback_a"), [("pause", 0.0), ("minimum", 6.0)])
async def test_grid_meter_unavailable(
    site_harness: SiteHarness, policy: str, fallback_a: float
) -> None:
    """EV falls back, battery holds, a repair issue comes and goes."""
    h = site_harness
    await h.battery_script()
    entry = await h.start(
        sources={
            "battery_soc_entity": BATTERY_SOC,
            "battery_power_entity": BATTERY_POWER,
        },
        limits={"ev_fallback": policy, "battery_capacity_kwh": 10},
        actuators={"battery_script": BATTERY_SCRIPT},
    )
    await h.blueprint_automation(sources=[GRID])
    h.site.update_settings(LP, mode="pv", phases="3")
    sim = await h.charger()
    conn = sim.connectors[1]
    await h.set_number("pv_w", 6000)
    await h.runs_until(lambda: conn.offered_current_a > 0, 120)
    assert conn.offered_current_a == pytest.approx(7.9)
    assert h.battery_calls[-1] == {"mode": "auto", "power_w": 0}
    issue_id = f"{entry.entry_id}_grid_power_entity_unavailable"
    issues = ir.async_get(h.hass)
    assert issues.async_get_issue(DOMAIN, issue_id) is None

    # The meter goes away: its state change runs the automation at once.
    frames = Frames(sim)
    calls = len(h.battery_calls)
    await h.switch(METER_OK, False)
    assert h.hass.states.get(GRID).state == "unavailable"
    await h.meters()
    assert conn.offered_current_a == fallback_a
    assert frames.limits() == [("TxDefaultProfile", fallback_a)]
    assert frames.of("RemoteStopTransaction") == []
    assert conn.transaction_id is not None
    assert "ev.fallback" in h.site.last.decision.codes(LP)
    assert h.battery_calls[calls:] == [{"mode": "hold", "power_w": 0}]
    issue = issues.async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.translation_key == "source_unavailable"
    assert issue.translation_placeholders == {
        "entity_id": GRID,
        "source": "Grid power",
    }
    assert issue.severity == ir.IssueSeverity.WARNING

    # Nothing new while it stays away.
    frames = Frames(sim)
    await h.next_run()
    await h.meters()
    assert frames.limits() == []
    assert h.battery_calls[calls:] == [{"mode": "hold", "power_w": 0}]

    # Back: the issue goes, the EV follows the surplus again at once (it had
    # started before), and the battery runs on its own again.
    await h.switch(METER_OK, True)
    await h.meters()
    assert issues.async_get_issue(DOMAIN, issue_id) is None
    assert conn.offered_current_a == pytest.approx(7.9)
    assert h.battery_calls[-1] == {"mode": "auto", "power_w": 0}


@pytest.mark.parametrize(
    ("language", "label"), [("pt-BR", "Potência da rede"), ("zh-Hans", "电网功率")]
)
async def test_repair_names_the_source_in_the_owners_language(
    site_harness: SiteHarness, language: str, label: str
) -> None:
    """The repair's source label is the Measurements field in HA's language."""
    h = site_harness
    h.hass.config.language = language
    entry = await h.start()
    await h.switch(METER_OK, False)
    await h.hass.services.async_call(DOMAIN, "coordinate", {}, blocking=True)
    issue = ir.async_get(h.hass).async_get_issue(
        DOMAIN, f"{entry.entry_id}_grid_power_entity_unavailable"
    )
    assert issue is not None
    assert issue.translation_placeholders == {"entity_id": GRID, "source": label}


@pytest.mark.parametrize("cls", [ChargePoint16, ChargePoint201], ids=["1.6", "2.0.1"])
async def test_ignored_default_profile_falls_back_to_tx_profile(
    site_harness: SiteHarness, cls: type[SimulatedChargePoint]
) -> None:
    """Accepted but not applied twice: the limit is sent as a TxProfile."""
    h = site_harness
    await h.start()
    sim = await h.charger(cls=cls)
    sim.ignore_purposes = {"TxDefaultProfile"}
    h.site.update_settings(LP, mode="now", max_current_a=10.0)
    conn = sim.connectors[1]
    frames = Frames(sim)
    meter = h.site.system.chargers["SIM1"].connectors[1].meter

    async def run() -> None:
        await h.hass.services.async_call(DOMAIN, "coordinate", {}, blocking=True)
        before = meter.updates
        await h.meters()
        # The next run judges the limit only on a report made after this one.
        # The charger reports again once its last report was answered, which
        # waits for the session store's write: wait for that in real time.
        for _ in range(20):
            if await h.wait(
                lambda: meter.updates > before, "a report", 0.3, fail=False
            ):
                return
            await h.meters_after(METER_INTERVAL)
        raise AssertionError("the charger sent no new meter report")

    await run()  # TxDefaultProfile 10 A: accepted, ignored
    assert frames.limits() == [("TxDefaultProfile", 10.0)]
    assert conn.offered_current_a == 32  # still the charger's maximum
    # Two runs must see it ignored (fresh meter readings above the limit) before
    # a TxProfile is tried. Which runs see a fresh reading depends on when the
    # charger reports, so the TxProfile comes within a few runs, and only once.
    for _ in range(4):
        await run()
        if len(frames.limits()) > 1:
            break
    assert frames.limits() == [("TxDefaultProfile", 10.0), ("TxProfile", 10.0)]
    tx_profile = frames.profiles()[-1]
    assert str(tx_profile["transactionId"]) == str(conn.transaction_id)
    assert conn.offered_current_a == 10
    assert conn.current_a == pytest.approx(10)
    assert h.site.runtime[LP].purpose is LimitPurpose.TX
    await run()  # followed now: nothing more to send
    assert len(frames.limits()) == 2


async def test_runs_between_meter_reports_do_not_count_as_ignored(
    site_harness: SiteHarness,
) -> None:
    """Runs faster than the charger reports see only old readings: no fallback."""
    h = site_harness
    await h.start()
    sim = await h.charger()
    h.site.update_settings(LP, mode="now", max_current_a=10.0)
    frames = Frames(sim)

    async def run() -> None:
        await h.hass.services.async_call(DOMAIN, "coordinate", {}, blocking=True)

    await run()
    assert frames.limits() == [("TxDefaultProfile", 10.0)]
    # The last reading (32 A offered) predates the profile; no new one comes.
    assert h.site.system.chargers["SIM1"].connectors[1].meter.current_offered_a == 32
    for _ in range(4):
        await run()
    await h.meters()  # now a reading shows the 10 A profile in force
    await run()
    assert frames.limits() == [("TxDefaultProfile", 10.0)]
    assert h.site.runtime[LP].purpose is LimitPurpose.TX_DEFAULT
    assert sim.connectors[1].offered_current_a == 10


async def test_repairs_survive_restarts_and_reloads_without_going_stale(
    site_harness: SiteHarness,
) -> None:
    """Issues are read back from HA's registry: one left from before a restart
    is cleared once its cause is gone; a reload and an unload clear them."""
    h = site_harness
    entry = await h.start()
    issue_id = f"{entry.entry_id}_grid_power_entity_unavailable"
    issues = ir.async_get(h.hass)
    await h.switch(METER_OK, False)
    await h.hass.services.async_call(DOMAIN, "coordinate", {}, blocking=True)
    assert issues.async_get_issue(DOMAIN, issue_id) is not None

    # As after a restart: the site is built again while the issue is stored.
    h.site.repairs = SiteRepairs(h.hass, entry.entry_id)
    assert issue_id in h.site.repairs.raised
    await h.switch(METER_OK, True)
    await h.hass.services.async_call(DOMAIN, "coordinate", {}, blocking=True)
    assert issues.async_get_issue(DOMAIN, issue_id) is None

    # Raised again, then the entry reloads with the meter back: gone for good.
    await h.switch(METER_OK, False)
    await h.hass.services.async_call(DOMAIN, "coordinate", {}, blocking=True)
    assert issues.async_get_issue(DOMAIN, issue_id) is not None
    await h.switch(METER_OK, True)
    assert await h.hass.config_entries.async_reload(entry.entry_id)
    await h.hass.async_block_till_done()
    assert issues.async_get_issue(DOMAIN, issue_id) is None
    await h.hass.services.async_call(DOMAIN, "coordinate", {}, blocking=True)
    assert issues.async_get_issue(DOMAIN, issue_id) is None

    # An unload (and so a removal) takes the site's issues with it.
    await h.switch(METER_OK, False)
    await h.hass.services.async_call(DOMAIN, "coordinate", {}, blocking=True)
    assert issues.async_get_issue(DOMAIN, issue_id) is not None
    assert await h.hass.config_entries.async_unload(entry.entry_id)
    assert issues.async_get_issue(DOMAIN, issue_id) is None
