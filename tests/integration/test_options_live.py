"""Changing a coordination option does not disconnect the chargers.

Only the central-system options (port, TLS, password, policies, heartbeat,
remote id tag) restart the OCPP server; a change of the site's measurements,
limits or actuators reloads the site with the chargers still connected and
their transactions open, and the new setting applies at once.
"""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import ConfigEntryState
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.util import dt as dt_util

from custom_components.energy_coordinator.const import DOMAIN

from .conftest import free_port
from .site_harness import GRID, Frames, SiteHarness, site_harness

__all__ = ["site_harness"]

LP = "SIM1/1"


async def _options(h: SiteHarness, step: str, data: dict[str, Any]) -> None:
    assert h.entry is not None
    hass = h.hass
    result = await hass.config_entries.options.async_init(h.entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": step}
    )
    assert result["step_id"] == step, result
    result = await hass.config_entries.options.async_configure(result["flow_id"], data)
    assert result["type"] is FlowResultType.CREATE_ENTRY, result
    await hass.async_block_till_done()


async def test_a_new_grid_limit_keeps_the_charger_connected(
    site_harness: SiteHarness,
) -> None:
    h = site_harness
    await h.start(limits={"grid_limit": 32, "grid_limit_unit": "ampere"})
    sim = await h.charger()
    h.site.update_settings(LP, mode="now")
    await h.hass.services.async_call(DOMAIN, "coordinate", {}, blocking=True)
    await h.meters()
    system = h.site.system
    charger = system.chargers["SIM1"]
    epoch, link = charger.link_epoch, system.links["SIM1"]
    transaction = charger.connectors[1].transaction
    assert transaction is not None
    assert Frames(sim, start=0).limits()[-1][1] == 16.0

    await _options(h, "limits", {"grid_limit": 10, "grid_limit_unit": "ampere"})

    assert h.entry is not None and h.entry.state is ConfigEntryState.LOADED
    assert h.site.system is system  # the same server, not a new one
    assert system.links["SIM1"] is link
    assert charger.link_epoch == epoch
    assert charger.connectors[1].transaction is transaction
    assert sim.connectors[1].transaction_id is not None
    # The new limit is in force at the next coordination (the house draws 500 W).
    await h.hass.services.async_call(DOMAIN, "coordinate", {}, blocking=True)
    await h.meters()
    assert Frames(sim, start=0).limits()[-1][1] <= 10.0
    # The site's settings survived the reload.
    assert h.site.settings(LP).mode == "now"


async def test_a_new_port_restarts_the_server(site_harness: SiteHarness) -> None:
    h = site_harness
    await h.start()
    await h.charger(session=False)
    system = h.site.system
    port = free_port()

    await _options(h, "central_system", {"ocpp_port": port})

    assert h.site.system is not system
    assert h.site.system.port == port
    assert "SIM1" not in h.site.system.links


async def test_shorter_delays_apply_at_once(site_harness: SiteHarness) -> None:
    """The "timing" step shows the core's delays, stores new ones as numbers, and
    the controller uses them at the next run: a car in solar mode starts after the
    owner's 20 s enable delay instead of the default 60 s."""
    h = site_harness
    await h.start()
    assert h.entry is not None
    result = await h.hass.config_entries.options.async_init(h.entry.entry_id)
    assert "timing" in result["menu_options"]
    result = await h.hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": "timing"}
    )
    defaults = {
        str(key): key.default() for key in result["data_schema"].schema if key.default
    }
    assert defaults == {
        "enable_delay": 60.0,
        "disable_delay": 180.0,
        "phase_to_1p_delay": 60.0,
        "phase_to_3p_delay": 120.0,
        "phase_settle": 60.0,
        "share_rotate": 1800.0,
        "load_restore_delay": 120.0,
    }
    h.hass.config_entries.options.async_abort(result["flow_id"])

    await _options(h, "timing", {**defaults, "enable_delay": 20, "share_rotate": 300})

    assert h.entry.options["enable_delay"] == 20.0
    assert h.entry.options["share_rotate"] == 300.0
    settings = h.site.controller_settings()
    assert (settings.enable_delay_s, settings.share_rotate_s) == (20.0, 300.0)
    assert settings.disable_delay_s == 180.0
    await h.blueprint_automation(run_every="/10", sources=[GRID])
    h.site.update_settings(LP, mode="pv", phases="3")
    sim = await h.charger()
    conn = sim.connectors[1]
    sun = dt_util.utcnow()
    await h.set_number("pv_w", 6000)
    assert "ev.pv.enable_wait" in h.site.last.decision.codes(LP)
    taken = await h.runs_until(lambda: conn.offered_current_a > 0, 60)
    assert 20 <= (dt_util.utcnow() - sun).total_seconds() < 31, taken
    # The options form now shows the owner's values.
    result = await h.hass.config_entries.options.async_init(h.entry.entry_id)
    result = await h.hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": "timing"}
    )
    shown = {str(key): key.default() for key in result["data_schema"].schema}
    assert shown["enable_delay"] == 20.0
    h.hass.config_entries.options.async_abort(result["flow_id"])
