"""The Lovelace cards in a real HA core: the file served and added to the
frontend once per HA run, and the attributes the cards read.

The plan card reads the plan sensor's `slots` columns and goals (and calls
`get_plan` / `explain_plan` with the site's config entry id); the power-flow
card reads the coordinator status sensor's `loadpoints` (each EV by its
charger's device name, why it is or is not charging, its power sensor).
"""

from __future__ import annotations

from typing import Any
from unittest.mock import patch

from homeassistant.components.frontend import DATA_EXTRA_MODULE_URL, add_extra_js_url
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.energy_coordinator import loadpoint_status
from custom_components.energy_coordinator.cards import CARDS_FILE, CARDS_PATH
from custom_components.energy_coordinator.const import DOMAIN
from custom_components.energy_coordinator.identifiers import charger_device_id
from custom_components.energy_coordinator.loadpoint_status import in_words

from .conftest import SetupSite
from .plan_setup import get_plan
from .site_harness import SiteHarness, site_harness
from .test_plan import _plugged_ev, _priced_site

__all__ = ["site_harness"]

LP = "SIM1/1"
STATUS = "sensor.home_coordinator_status"


async def test_the_cards_are_served_and_added_to_the_frontend_once(
    hass: HomeAssistant,
    setup_site: SetupSite,
    hass_client: ClientSessionGenerator,
) -> None:
    manifest_version = "0.1.0"
    with patch(
        "custom_components.energy_coordinator.cards.add_extra_js_url",
        wraps=add_extra_js_url,
    ) as added:
        assert await async_setup_component(hass, "frontend", {})
        first = await setup_site()
        second = await setup_site(site_name="Barn")
        assert await hass.config_entries.async_reload(first.entry_id)
        await hass.async_block_till_done()

        # One registration for the whole HA run, with a version query.
        assert added.call_count == 1
        url = added.call_args.args[1]
    path, _, query = url.partition("?")
    assert path == CARDS_PATH == "/energy_coordinator/energy-coordinator-cards.js"
    assert query.startswith(f"v={manifest_version}-") and len(query) == 2 + 6 + 8
    assert url in hass.data[DATA_EXTRA_MODULE_URL].urls
    # Both sites still loaded after the reload.
    assert first.state is ConfigEntryState.LOADED
    assert second.state is ConfigEntryState.LOADED

    client = await hass_client()
    response = await client.get(url)
    assert response.status == 200
    assert response.content_type in ("application/javascript", "text/javascript")
    body = await response.text()
    assert body == CARDS_FILE.read_text(encoding="utf-8")
    assert "registry.define(PLAN_CARD, EnergyCoordinatorPlanCard)" in body
    assert '"energy-coordinator-flow-card"' in body


async def test_the_cards_wait_for_the_frontend(
    hass: HomeAssistant, setup_site: SetupSite
) -> None:
    """Without the frontend (tests, scripts) the site runs as usual; a frontend
    set up later gets the cards then."""
    with patch(
        "custom_components.energy_coordinator.cards.add_extra_js_url",
        wraps=add_extra_js_url,
    ) as added:
        entry = await setup_site()
        assert entry.state is ConfigEntryState.LOADED
        added.assert_not_called()
        assert await async_setup_component(hass, "frontend", {})
        await hass.async_block_till_done()
        assert added.call_count == 1
    assert added.call_args.args[1] in hass.data[DATA_EXTRA_MODULE_URL].urls


async def test_the_status_sensor_names_each_ev_by_its_charger_and_says_why(
    site_harness: SiteHarness, hass: HomeAssistant
) -> None:
    h = site_harness
    await h.start()
    h.site.update_settings(LP, mode="pv", phases="3")
    await h.charger()
    devices = dr.async_get(hass)
    charger = devices.async_get_device(
        identifiers={charger_device_id(h.entry.entry_id, "SIM1")}
    )
    assert charger is not None
    devices.async_update_device(charger.id, name_by_user="Garage")
    await h.tick(10)
    await h.site.async_coordinate()
    await h.meters()
    await h.site.async_coordinate()
    await h.settle()

    state = hass.states.get(STATUS)
    assert state is not None
    (lp,) = state.attributes["loadpoints"]
    assert state.attributes["loadpoints_total"] == 1
    assert lp["id"] == LP
    assert lp["name"] == "Garage"
    assert lp["charger_device_id"] == charger.id
    assert lp["power_entity"] == "sensor.sim1_power"
    assert hass.states.get(lp["power_entity"]) is not None
    assert lp["mode"] == "pv" and lp["plugged"] is True and lp["online"] is True
    # No sun: a pv car waits, and the sentence says so with the charger's name.
    assert lp["charging"] is False
    assert lp["power_kw"] == 0.0
    assert "ev.pv.no_surplus" in lp["codes"]
    assert lp["reason"].startswith("Garage waits for surplus")
    assert LP not in lp["reason"]
    # Not kept in the recorder (it changes with every decision).
    sensor = hass.data["entity_components"]["sensor"].get_entity(STATUS)
    assert {"loadpoints", "loadpoints_total"} <= sensor._unrecorded_attributes


async def test_the_status_sensor_lists_at_most_20_evs_charging_first(
    site_harness: SiteHarness, hass: HomeAssistant
) -> None:
    h = site_harness
    await h.start()
    h.site.update_settings(LP, mode="off")
    h.site.update_settings("SIM2/1", mode="now", phases="3")
    await h.charger("SIM1")
    await h.charger("SIM2")
    await h.site.async_coordinate()
    await h.meters()
    with patch.object(loadpoint_status, "MAX_LOADPOINTS", 1):
        await h.site.async_coordinate()
        await h.settle()
    state = hass.states.get(STATUS)
    assert state is not None
    assert state.attributes["loadpoints_total"] == 2
    (lp,) = state.attributes["loadpoints"]
    assert lp["id"] == "SIM2/1" and lp["charging"] is True
    assert lp["power_kw"] > 4.0
    assert lp["reason"].startswith("SIM2 charges now")
    await h.site.async_coordinate()
    await h.settle()
    state = hass.states.get(STATUS)
    assert state is not None
    assert [lp["id"] for lp in state.attributes["loadpoints"]] == ["SIM2/1", LP]
    off = state.attributes["loadpoints"][1]
    assert off["charging"] is False and off["plugged"] is True
    assert off["codes"] == ["ev.off"]


def test_a_reason_is_short_and_names_the_charger() -> None:
    from custom_components.energy_coordinator.energy import Code, Reason

    reasons = [
        Reason(Code.EV_PV_NO_SURPLUS, LP, f"'{LP}' waits for surplus: " + "x" * 400),
        Reason(Code.INPUT_STALE, LP, f"Loadpoint '{LP}': whether a vehicle is …"),
    ]
    text = in_words(reasons, LP, "Garage")
    assert text.startswith("Garage waits for surplus: ")
    assert len(text) == 300 and text.endswith("…")
    assert in_words(reasons[1:], LP, "Garage") == "Garage: whether a vehicle is …"


def test_a_reason_names_the_other_chargers_it_mentions() -> None:
    """ "Waits its turn: shared with 'CP2/1'" says the other charger's name too."""
    from custom_components.energy_coordinator.energy import Code, Reason

    reasons = [
        Reason(
            Code.EV_PV_SHARE_WAIT,
            LP,
            f"'{LP}' waits its turn: the 1.6 kW of surplus is shared with 'CP2/1', "
            "'gone/1'; turns change every 30 min.",
        )
    ]
    names = {"CP2/1": "Carport"}
    text = in_words(reasons, LP, "Garage", names.get)
    assert text == (
        "Garage waits its turn: the 1.6 kW of surplus is shared with Carport, "
        "'gone/1'; turns change every 30 min."
    )


async def test_the_plan_attributes_the_plan_card_reads(
    site_harness: SiteHarness, hass: HomeAssistant
) -> None:
    h = site_harness
    await _priced_site(h, hass)
    await _plugged_ev(h)
    state = hass.states.get("sensor.home_plan")
    assert state is not None
    attributes: dict[str, Any] = dict(state.attributes)
    slots = attributes["slots"]
    n = len(slots["import_price"])
    assert n > 0 and slots["step_minutes"] == 15 and slots["start"]
    for column in ("export_price", "pv_kw", "load_kw", "grid_kw", "ev_kw_total"):
        assert len(slots[column]) == n, column
    assert len(slots["ev_kw"][LP]) == n
    (goal,) = attributes["goals"]
    keys = {"id", "kind", "met", "target_soc_pct", "planned_soc_pct", "deadline"}
    assert keys <= set(goal)
    assert attributes["status"] == "optimal" and attributes["planned_at"]
    # The card finds the plan sensor by its registry entry and the site's entry
    # id through its device, and asks get_plan for the same slots.
    entry = er.async_get(hass).async_get("sensor.home_plan")
    assert entry is not None and entry.platform == DOMAIN
    assert entry.translation_key == "plan"
    device = dr.async_get(hass).async_get(entry.device_id or "")
    assert device is not None and device.config_entries == {h.entry.entry_id}
    plan = await get_plan(hass, config_entry_id=h.entry.entry_id)
    assert [s["ev_kw"][LP] for s in plan["slots"]] == slots["ev_kw"][LP]
    assert plan["goals"][0]["name"] == "SIM1"
