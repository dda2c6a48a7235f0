"""The heap freeze of a large site, with CPython's real collector.

Below the threshold a full collection leaves the heap as it was. Once the loaded
entries host enough chargers, what survives a full collection is frozen, so the next
full collection does not walk it; a frozen cycle that became garbage is freed once the
freeze is lifted (a reload, a removed charger, the daily reclaim). With a real HA and
a real OCPP 1.6J charger: the charger arms it, diagnostics show it, unloading the entry
gives the frozen objects back, and HA's stop takes the callback away.
"""

from __future__ import annotations

import asyncio
import gc
import weakref
from collections.abc import Iterator
from unittest.mock import patch

import pytest
from homeassistant.const import EVENT_HOMEASSISTANT_STOP
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator
from websockets.asyncio.client import connect

from custom_components.energy_coordinator.heap import HEAP, HeapFreeze
from tests.fake_charge_point import V16, FakeChargePoint, wait_until

from .conftest import SetupSite, ocpp_url


class Cycle:
    """An object in a reference cycle: only the collector frees it."""

    def __init__(self) -> None:
        self.me = self


@pytest.fixture
def heap() -> Iterator[HeapFreeze]:
    """A freeze of threshold 2 that leaves no frozen object behind."""
    freeze = HeapFreeze(threshold=2)
    freeze.start()
    yield freeze
    freeze.stop()
    gc.unfreeze()


def test_a_small_site_leaves_the_heap_to_the_collector(heap: HeapFreeze) -> None:
    heap.watch("home", lambda: 1)
    gc.collect()
    assert not heap.armed
    assert gc.get_freeze_count() == 0
    assert heap.as_dict()["frozen_objects"] == 0


def test_a_large_site_freezes_what_survives_and_reclaims_frozen_cycles(
    heap: HeapFreeze,
) -> None:
    heap.watch("garage", lambda: 1)
    heap.watch("depot", lambda: 1)
    assert heap.armed

    survivor = Cycle()
    alive = weakref.ref(survivor)
    gc.collect()
    frozen = gc.get_freeze_count()
    assert frozen > 0
    assert heap.as_dict() == {
        "armed": True,
        "threshold_chargers": 2,
        "frozen_objects": frozen,
        "freezes": 1,
        "reclaims": 0,
    }

    # Frozen, the cycle outlives its last reference: no collection walks it ...
    del survivor
    gc.collect()
    assert alive() is not None
    # ... until the freeze is lifted; the collection after it frees the cycle and
    # freezes the survivors again.
    heap.reclaim()
    assert gc.get_freeze_count() == 0
    gc.collect()
    assert alive() is None
    assert heap.freezes == 3
    assert heap.reclaims == 1
    assert gc.get_freeze_count() > 0


def test_an_unloaded_entry_disarms_and_gives_the_frozen_objects_back(
    heap: HeapFreeze,
) -> None:
    heap.watch("garage", lambda: 2)
    gc.collect()
    assert gc.get_freeze_count() > 0
    heap.unwatch("garage")
    assert not heap.armed
    assert gc.get_freeze_count() == 0
    gc.collect()
    assert gc.get_freeze_count() == 0
    assert heap.as_dict()["reclaims"] == 1


def test_the_count_follows_the_chargers(heap: HeapFreeze) -> None:
    chargers = ["CP1"]
    heap.watch("garage", lambda: len(chargers))
    assert not heap.armed
    chargers.append("CP2")
    heap.update()
    assert heap.armed
    chargers.clear()
    heap.update()
    assert not heap.armed


async def test_a_site_with_enough_chargers_freezes_until_it_unloads(
    hass: HomeAssistant, setup_site: SetupSite, hass_client: ClientSessionGenerator
) -> None:
    """One real charger over the (lowered) threshold arms the freeze."""
    callbacks = len(gc.callbacks)
    with patch("custom_components.energy_coordinator.heap.LARGE_SITE_CHARGERS", 1):
        entry = await setup_site()
    heap = hass.data[HEAP]
    assert len(gc.callbacks) == callbacks + 1
    assert not heap.armed
    try:
        async with connect(ocpp_url(entry, "CP1"), subprotocols=["ocpp1.6"]) as ws:
            charger = FakeChargePoint("CP1", ws, V16)
            task = asyncio.create_task(charger.start())
            try:
                await charger.boot()
                await wait_until(lambda: heap.armed)
                gc.collect()
                diagnostics = await get_diagnostics_for_config_entry(
                    hass, hass_client, entry
                )
                frozen = diagnostics["heap_freeze"]
                assert frozen["armed"] is True
                assert frozen["threshold_chargers"] == 1
                assert frozen["freezes"] >= 1
                assert frozen["frozen_objects"] > 0
            finally:
                task.cancel()
        await hass.config_entries.async_unload(entry.entry_id)
        await hass.async_block_till_done()
        assert not heap.armed
        assert gc.get_freeze_count() == 0
        assert heap.reclaims == 1

        hass.bus.async_fire(EVENT_HOMEASSISTANT_STOP)
        await hass.async_block_till_done()
        assert len(gc.callbacks) == callbacks
    finally:
        gc.unfreeze()
