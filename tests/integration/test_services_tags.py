"""Id-tag actions: add, list and remove, kept across a reload and sent to chargers."""

from __future__ import annotations

from typing import Any

import pytest
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from pytest_homeassistant_custom_component.common import MockConfigEntry

from simulator.base import SimulatedChargePoint

from .conftest import SetupSite
from .test_services import StartCharger, call, cp, site, start_charger, wait_for

__all__ = ["cp", "site", "start_charger"]  # fixtures used here


async def test_add_list_remove_persist(
    hass: HomeAssistant, site: Any, cp: SimulatedChargePoint
) -> None:
    """Tags are listed sorted, pushed to the charger, and survive a reload."""
    await call(hass, "add_id_tag", {"id_tag": "TAG-B", "name": "Bob"})
    await call(
        hass,
        "add_id_tag",
        {
            "id_tag": "TAG-A",
            "name": "Alice",
            "status": "blocked",
            "expiry": "2031-05-06T07:08:09+00:00",
        },
    )
    expected = [
        {
            "id_tag": "TAG-A",
            "name": "Alice",
            "status": "Blocked",
            "expiry": "2031-05-06T07:08:09+00:00",
        },
        {"id_tag": "TAG-B", "name": "Bob", "status": "Accepted", "expiry": None},
    ]
    assert await call(hass, "list_id_tags", {}, response=True) == {"id_tags": expected}

    # The charger keeps a local list: it receives the whole list.
    await wait_for(lambda: set(cp.local_list) == {"TAG-A", "TAG-B"})
    frames = [p for a, p in cp.received if a == "SendLocalList"]
    last = frames[-1]
    assert last["updateType"] == "Full"
    assert last["listVersion"] == cp.local_list_version > 0
    by_tag = {e["idTag"]: e["idTagInfo"] for e in last["localAuthorizationList"]}
    assert by_tag["TAG-A"]["status"] == "Blocked"
    assert by_tag["TAG-A"]["expiryDate"].startswith("2031-05-06T07:08:09")
    assert by_tag["TAG-B"] == {"status": "Accepted"}

    assert await hass.config_entries.async_reload(site.entry_id)
    await hass.async_block_till_done()
    assert site.state is ConfigEntryState.LOADED
    assert await call(hass, "list_id_tags", {}, response=True) == {"id_tags": expected}

    await call(hass, "remove_id_tag", {"id_tag": "TAG-A"})
    listed = await call(hass, "list_id_tags", {}, response=True)
    assert [t["id_tag"] for t in listed["id_tags"]] == ["TAG-B"]
    assert await hass.config_entries.async_reload(site.entry_id)
    await hass.async_block_till_done()
    assert await call(hass, "list_id_tags", {}, response=True) == listed


async def test_update_replaces(hass: HomeAssistant, site: Any) -> None:
    """Adding a tag again replaces its name, status and expiry."""
    await call(
        hass,
        "add_id_tag",
        {"id_tag": "T1", "name": "Old", "expiry": "2030-01-01T00:00:00+00:00"},
    )
    await call(hass, "add_id_tag", {"id_tag": "T1", "name": "New"})
    listed = await call(hass, "list_id_tags", {}, response=True)
    assert listed == {
        "id_tags": [
            {"id_tag": "T1", "name": "New", "status": "Accepted", "expiry": None}
        ]
    }


async def test_remove_unknown(
    hass: HomeAssistant, site: Any, cp: SimulatedChargePoint
) -> None:
    """Removing a tag that is not listed is refused; nothing is sent."""
    before = len(cp.received)
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "remove_id_tag", {"id_tag": "NOPE"})
    assert err.value.translation_key == "unknown_id_tag"
    assert err.value.translation_placeholders == {"id_tag": "NOPE", "site": "Home"}
    assert cp.received[before:] == []


@pytest.mark.parametrize("id_tag", ["", "   ", "X" * 21])
async def test_invalid_id_tag(hass: HomeAssistant, site: Any, id_tag: str) -> None:
    """An empty or too long tag is refused."""
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "add_id_tag", {"id_tag": id_tag, "name": "x"})
    assert err.value.translation_key == "invalid_id_tag"
    assert await call(hass, "list_id_tags", {}, response=True) == {"id_tags": []}


async def test_choose_site(hass: HomeAssistant, setup_site: SetupSite) -> None:
    """With two sites the site must be chosen; each keeps its own list."""
    home = await setup_site()
    cabin = await setup_site(site_name="Cabin")
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "add_id_tag", {"id_tag": "T1", "name": "x"})
    assert err.value.translation_key == "site_required"

    await call(
        hass,
        "add_id_tag",
        {"id_tag": "T1", "name": "x", "config_entry_id": cabin.entry_id},
    )
    cabin_tags = await call(
        hass, "list_id_tags", {"config_entry_id": cabin.entry_id}, response=True
    )
    home_tags = await call(
        hass, "list_id_tags", {"config_entry_id": home.entry_id}, response=True
    )
    assert [t["id_tag"] for t in cabin_tags["id_tags"]] == ["T1"]
    assert home_tags == {"id_tags": []}

    other = MockConfigEntry(domain="other_integration")
    other.add_to_hass(hass)
    for entry_id in ("missing", other.entry_id):
        with pytest.raises(ServiceValidationError) as err:
            await call(
                hass, "list_id_tags", {"config_entry_id": entry_id}, response=True
            )
        assert err.value.translation_key == "site_not_found"

    await hass.config_entries.async_unload(cabin.entry_id)
    with pytest.raises(ServiceValidationError) as err:
        await call(
            hass, "list_id_tags", {"config_entry_id": cabin.entry_id}, response=True
        )
    assert err.value.translation_key == "site_not_loaded"
    # One site left: it is the default again.
    assert await call(hass, "list_id_tags", {}, response=True) == {"id_tags": []}
    await hass.config_entries.async_unload(home.entry_id)
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "list_id_tags", {}, response=True)
    assert err.value.translation_key == "no_site_loaded"


async def test_pushed_to_charger_that_connects_later(
    hass: HomeAssistant, site: Any, start_charger: StartCharger
) -> None:
    """A charger that connects after a change gets the current list."""
    await call(hass, "add_id_tag", {"id_tag": "EARLY", "name": "x"})
    cp = await start_charger(site)
    await wait_for(lambda: "EARLY" in cp.local_list)
