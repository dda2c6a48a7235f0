"""`get_sessions` after real charging sessions: filters, paging and totals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import voluptuous as vol
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError

from simulator.base import SimulatedChargePoint

from .conftest import SetupSite
from .test_services import (
    StartCharger,
    call,
    charger_device,
    site,
    start_charger,
    wait_for,
)

__all__ = ["site", "start_charger"]  # fixtures used here


async def charge(
    site: Any, cp: SimulatedChargePoint, id_tag: str, energy_wh: float
) -> None:
    """One whole session: start with `id_tag`, deliver `energy_wh`, stop."""
    await cp.authorize_and_start(1, id_tag)
    connector = site.runtime_data.system.chargers[cp.charger_id].connectors[1]
    await wait_for(lambda: connector.transaction is not None)
    cp.connector(1).energy_wh += energy_wh  # the simulator runs at speed 0
    await cp.stop_transaction(1)
    await wait_for(lambda: connector.transaction is None)


@pytest.fixture
async def sessions(
    hass: HomeAssistant, site: Any, start_charger: StartCharger
) -> tuple[str, str]:
    """Three finished sessions: CP1 TAG-A 5 kWh, CP1 TAG-B 2.5 kWh, CP2 TAG-A 1 kWh.

    Returns the device ids of CP1 and CP2.
    """
    cp1 = await start_charger(site, "CP1")
    cp2 = await start_charger(site, "CP2")
    await charge(site, cp1, "TAG-A", 5000)
    await charge(site, cp1, "TAG-B", 2500)
    await charge(site, cp2, "TAG-A", 1000)
    return (
        charger_device(hass, site, "CP1").id,
        charger_device(hass, site, "CP2").id,
    )


async def test_all_sessions(hass: HomeAssistant, sessions: tuple[str, str]) -> None:
    """Newest first, with energy in kWh, the count and the total."""
    result = await call(hass, "get_sessions", {}, response=True)
    assert result["total"] == 3
    assert result["total_energy_kwh"] == 8.5
    assert (result["limit"], result["offset"]) == (50, 0)
    got = [(s["charger_id"], s["id_tag"], s["energy_kwh"]) for s in result["sessions"]]
    assert got == [("CP2", "TAG-A", 1.0), ("CP1", "TAG-B", 2.5), ("CP1", "TAG-A", 5.0)]
    first = result["sessions"][-1]
    assert first["connector_id"] == 1
    assert first["active"] is False
    assert first["stop_reason"] == "Local"
    assert datetime.fromisoformat(first["start_time"]) < datetime.fromisoformat(
        first["stop_time"]
    )


async def test_paging(hass: HomeAssistant, sessions: tuple[str, str]) -> None:
    """`limit` and `offset` page through; the totals cover every match."""
    page = await call(hass, "get_sessions", {"limit": 1, "offset": 1}, response=True)
    assert [s["id_tag"] for s in page["sessions"]] == ["TAG-B"]
    assert page["total"] == 3
    assert page["total_energy_kwh"] == 8.5
    past_end = await call(hass, "get_sessions", {"offset": 3}, response=True)
    assert past_end["sessions"] == []
    assert past_end["total"] == 3


async def test_filters(hass: HomeAssistant, sessions: tuple[str, str]) -> None:
    """By charger device, by id tag, and by start time."""
    cp1, cp2 = sessions
    by_charger = await call(hass, "get_sessions", {"device_id": cp1}, response=True)
    assert {s["charger_id"] for s in by_charger["sessions"]} == {"CP1"}
    assert (by_charger["total"], by_charger["total_energy_kwh"]) == (2, 7.5)

    by_tag = await call(hass, "get_sessions", {"id_tag": "TAG-A"}, response=True)
    assert (by_tag["total"], by_tag["total_energy_kwh"]) == (2, 6.0)
    both = await call(
        hass, "get_sessions", {"device_id": cp2, "id_tag": "TAG-A"}, response=True
    )
    assert [s["energy_kwh"] for s in both["sessions"]] == [1.0]

    everything = await call(hass, "get_sessions", {}, response=True)
    newest_start = everything["sessions"][0]["start_time"]
    now = datetime.now(UTC)
    recent = await call(
        hass,
        "get_sessions",
        {"start": newest_start, "end": (now + timedelta(minutes=1)).isoformat()},
        response=True,
    )
    assert [s["charger_id"] for s in recent["sessions"]] == ["CP2"]
    older = await call(hass, "get_sessions", {"end": newest_start}, response=True)
    assert older["total"] == 2
    future = await call(
        hass,
        "get_sessions",
        {"start": (now + timedelta(hours=1)).isoformat()},
        response=True,
    )
    assert (future["total"], future["total_energy_kwh"], future["sessions"]) == (
        0,
        0.0,
        [],
    )


async def test_running_session(
    hass: HomeAssistant, site: Any, start_charger: StartCharger
) -> None:
    """A running session is listed as active with its energy so far."""
    cp = await start_charger(site)
    await cp.authorize_and_start(1, "TAG-A")
    connector = site.runtime_data.system.chargers["CP1"].connectors[1]
    await wait_for(lambda: connector.transaction is not None)
    result = await call(hass, "get_sessions", {}, response=True)
    assert result["total"] == 1
    assert result["sessions"][0]["active"] is True
    assert result["sessions"][0]["stop_time"] is None


async def test_invalid_queries(hass: HomeAssistant, site: Any) -> None:
    """A start after the end is refused with a translated message; bad pages too."""
    with pytest.raises(ServiceValidationError) as err:
        await call(
            hass,
            "get_sessions",
            {"start": "2030-01-02T00:00:00+00:00", "end": "2030-01-01T00:00:00+00:00"},
            response=True,
        )
    assert err.value.translation_key == "invalid_time_range"
    for page in ({"limit": 0}, {"limit": 501}, {"offset": -1}):
        with pytest.raises(vol.Invalid):
            await call(hass, "get_sessions", page, response=True)
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "get_sessions", {"device_id": "nope"}, response=True)
    assert err.value.translation_key == "device_not_found"


async def test_device_of_another_site(
    hass: HomeAssistant,
    site: Any,
    setup_site: SetupSite,
    start_charger: StartCharger,
) -> None:
    """A charger asked for with another site's entry id is refused, not mixed up."""
    other = await setup_site(site_name="Cabin")
    await start_charger(site, "CP1")
    device = charger_device(hass, site, "CP1")
    with pytest.raises(ServiceValidationError) as err:
        await call(
            hass,
            "get_sessions",
            {"device_id": device.id, "config_entry_id": other.entry_id},
            response=True,
        )
    assert err.value.translation_key == "device_not_in_site"
    assert err.value.translation_placeholders == {"config_entry_id": other.entry_id}
    result = await call(
        hass,
        "get_sessions",
        {"device_id": device.id, "config_entry_id": site.entry_id},
        response=True,
    )
    assert result["total"] == 0
