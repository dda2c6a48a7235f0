"""The heap freeze of a large site, with CPython's real collector.

Below the threshold a full collection leaves the heap as it was. Once the loaded
entries host enough chargers and no charger has been added for a while, the heap is
collected and what survives is frozen, so later full collections do not walk it; a
frozen cycle that became garbage is freed once the freeze is renewed (a day on, a
tenth of the connections ended, a removed charger) or lifted (an unload). With a
real HA and real OCPP 1.6J chargers: they arm it, diagnostics show it, removing a
charger and unloading the entry give the frozen objects back, and HA's stop takes
the callback away.
"""

from __future__ import annotations

import asyncio
import gc
import weakref
from collections.abc import AsyncIterator, Callable, Iterator
from unittest.mock import patch

import pytest
from homeassistant.const import EVENT_HOMEASSISTANT_STOP
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import (
    ClientSessionGenerator,
    WebSocketGenerator,
)

from custom_components.energy_coordinator.heap import (
    HEAP,
    POSTPONED_THRESHOLD,
    RENEW_AFTER_S,
    STORM_MAX_S,
    HeapFreeze,
)
from custom_components.energy_coordinator.identifiers import charger_device_id
from tests.fake_charge_point import fake_charger, wait_until

from .conftest import SetupSite


class Cycle:
    """An object in a reference cycle: only the collector frees it."""

    def __init__(self) -> None:
        self.me = self


QUIET_S = 0.05


class Clock:
    """The freeze's monotonic clock, moved by the test."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def heap(clock: Clock) -> AsyncIterator[HeapFreeze]:
    """A freeze of threshold 2, quiet after 50 ms, that leaves nothing frozen."""
    freeze = HeapFreeze(
        asyncio.get_running_loop().call_later,
        threshold=2,
        quiet_s=QUIET_S,
        clock=clock,
    )
    freeze.start()
    yield freeze
    freeze.stop()
    gc.unfreeze()


async def quiet() -> None:
    await asyncio.sleep(QUIET_S * 3)


def none() -> int:
    return 0


async def test_a_small_site_leaves_the_heap_to_the_collector(
    heap: HeapFreeze,
) -> None:
    heap.watch("home", chargers=lambda: 1, opened=none, closed=none)
    await quiet()
    gc.collect()
    assert not heap.armed
    assert gc.get_freeze_count() == 0
    assert heap.as_dict()["frozen_objects"] == 0


async def test_a_large_site_freezes_what_survives_and_reclaims_frozen_cycles(
    heap: HeapFreeze,
) -> None:
    survivor = Cycle()
    alive = weakref.ref(survivor)
    heap.watch("garage", chargers=lambda: 1, opened=none, closed=none)
    heap.watch("depot", chargers=lambda: 1, opened=none, closed=none)
    assert not heap.armed  # not before the chargers have been quiet

    await quiet()
    assert heap.armed
    # Arming collected once and froze what survived.
    frozen = gc.get_freeze_count()
    assert frozen > 0
    assert heap.as_dict() == {
        "armed": True,
        "threshold_chargers": 2,
        "frozen_objects": frozen,
        "freezes": 1,
        "reclaims": 0,
        "full_collections_postponed": False,
    }

    # Frozen, the cycle outlives its last reference: no collection walks it, and
    # a collection freezes nothing more ...
    del survivor
    gc.collect()
    assert alive() is not None
    assert heap.freezes == 1
    # ... until the freeze is renewed: lifted, collected at once (which frees the
    # cycle) and taken again.
    heap.reclaim()
    assert alive() is None
    assert heap.freezes == 2
    assert heap.reclaims == 1
    assert gc.get_freeze_count() > 0


class Later:
    """`loop.call_later` whose timers the test runs."""

    def __init__(self) -> None:
        self.due: list[Callable[[], None]] = []

    def __call__(self, delay: float, run: Callable[[], None]) -> Later.Timer:
        self.due.append(run)
        return Later.Timer(self, run)

    def run(self) -> None:
        due, self.due = self.due, []
        for run in due:
            run()

    class Timer:
        def __init__(self, later: Later, run: Callable[[], None]) -> None:
            self._later, self._run = later, run

        def cancel(self) -> None:
            if self._run in self._later.due:
                self._later.due.remove(self._run)


@pytest.fixture
def manual(clock: Clock) -> Iterator[tuple[HeapFreeze, Later]]:
    """A freeze of threshold 2 whose quiet timers the test runs."""
    later = Later()
    freeze = HeapFreeze(later, threshold=2, clock=clock)
    freeze.start()
    yield freeze, later
    freeze.stop()
    gc.unfreeze()


async def test_full_collections_wait_while_a_large_site_is_not_yet_quiet(
    manual: tuple[HeapFreeze, Later],
) -> None:
    """During the storm the oldest generation is not collected (each growth of the
    heap would walk all of it); the younger ones are. Quiet, the freeze's own
    collection runs and the collector's thresholds are back as they were."""
    heap, later = manual
    before = gc.get_threshold()
    opened = [0]
    heap.watch("garage", chargers=lambda: 2, opened=lambda: opened[0], closed=none)
    assert gc.get_threshold() == (before[0], before[1], POSTPONED_THRESHOLD)
    assert heap.as_dict()["full_collections_postponed"] is True
    opened[0] += 1  # still connecting: the storm goes on
    later.run()
    assert not heap.armed
    assert gc.get_threshold()[2] == POSTPONED_THRESHOLD
    later.run()  # quiet
    assert heap.armed
    assert gc.get_threshold() == before
    assert heap.as_dict()["full_collections_postponed"] is False


async def test_a_storm_that_lasts_gets_the_collector_back(
    manual: tuple[HeapFreeze, Later], clock: Clock
) -> None:
    """Postponing is for a storm's minutes, not for a site that never settles; and
    a site that shrinks below the threshold gets the collector back at once."""
    heap, later = manual
    before = gc.get_threshold()
    opened = [0]
    chargers = [2]
    heap.watch(
        "garage", chargers=lambda: chargers[0], opened=lambda: opened[0], closed=none
    )
    clock.now += STORM_MAX_S
    opened[0] += 1
    later.run()
    assert not heap.armed
    assert gc.get_threshold() == before

    chargers[0] = 1
    heap.update()
    chargers[0] = 2
    heap.update()  # a new storm
    assert gc.get_threshold()[2] == POSTPONED_THRESHOLD
    chargers[0] = 1
    heap.update()
    assert gc.get_threshold() == before


async def test_a_charger_added_meanwhile_postpones_the_freeze(
    heap: HeapFreeze,
) -> None:
    chargers = ["CP1", "CP2"]
    heap.watch("garage", chargers=lambda: len(chargers), opened=none, closed=none)
    await asyncio.sleep(QUIET_S / 2)
    chargers.append("CP3")
    heap.update()
    await asyncio.sleep(QUIET_S * 0.7)
    assert not heap.armed  # 50 ms since CP3 have not passed yet
    await quiet()
    assert heap.armed


async def test_chargers_still_connecting_postpone_the_freeze(
    heap: HeapFreeze,
) -> None:
    """Restored chargers are known at start; their reconnecting is what counts."""
    opened = [0]
    heap.watch("garage", chargers=lambda: 2, opened=lambda: opened[0], closed=none)
    await asyncio.sleep(QUIET_S / 2)
    opened[0] = 1
    await asyncio.sleep(QUIET_S * 0.7)
    assert not heap.armed
    opened[0] = 2  # within the next quiet period, too
    await asyncio.sleep(QUIET_S)
    assert not heap.armed
    await quiet()
    assert heap.armed
    assert gc.get_freeze_count() > 0


async def test_the_freeze_is_renewed_after_a_day_or_many_ended_connections(
    heap: HeapFreeze, clock: Clock
) -> None:
    closed = [0]
    heap.watch("garage", chargers=lambda: 20, opened=none, closed=lambda: closed[0])
    await quiet()
    assert heap.freezes == 1

    # One connection in twenty ended, an hour on: nothing to renew yet.
    closed[0] = 1
    clock.now += 3600
    heap.tick()
    assert heap.reclaims == 0
    # A tenth of them ended: renewed.
    closed[0] = 2
    heap.tick()
    assert (heap.reclaims, heap.freezes) == (1, 2)
    heap.tick()  # counted from the renewal
    assert heap.reclaims == 1
    # A day after the renewal: renewed again.
    clock.now += RENEW_AFTER_S
    heap.tick()
    assert (heap.reclaims, heap.freezes) == (2, 3)
    assert gc.get_freeze_count() > 0


async def test_fewer_chargers_disarm_and_unloading_gives_the_objects_back(
    heap: HeapFreeze,
) -> None:
    chargers = ["CP1", "CP2"]
    heap.watch("garage", chargers=lambda: len(chargers), opened=none, closed=none)
    await quiet()
    assert heap.armed
    chargers.pop()
    heap.update()
    assert not heap.armed
    heap.tick()  # disarmed, still frozen: renewing would freeze again
    chargers.append("CP2")
    heap.update()
    await quiet()
    assert heap.armed
    assert gc.get_freeze_count() > 0

    heap.unwatch("garage")
    assert not heap.armed
    assert gc.get_freeze_count() == 0
    gc.collect()
    assert gc.get_freeze_count() == 0
    assert heap.as_dict()["reclaims"] == 1


async def test_a_site_with_enough_chargers_freezes_until_it_unloads(
    hass: HomeAssistant,
    setup_site: SetupSite,
    hass_client: ClientSessionGenerator,
    hass_ws_client: WebSocketGenerator,
) -> None:
    """Two real chargers over the (lowered) threshold of one arm the freeze;
    removing one lifts it, unloading the site disarms it."""
    callbacks = len(gc.callbacks)
    with (
        patch("custom_components.energy_coordinator.heap.LARGE_SITE_CHARGERS", 1),
        patch("custom_components.energy_coordinator.heap.QUIET_S", 0.05),
    ):
        entry = await setup_site()
    # Before a client starts HA's HTTP server (its routes are fixed then).
    assert await async_setup_component(hass, "config", {})
    assert await async_setup_component(hass, "diagnostics", {})
    client = await hass_ws_client(hass)
    system = entry.runtime_data.system
    heap = hass.data[HEAP]
    assert len(gc.callbacks) == callbacks + 1
    assert not heap.armed
    try:
        async with (
            fake_charger(system, "CP1") as first,
            fake_charger(system, "CP2") as second,
        ):
            await first.boot()
            await second.boot()
            await wait_until(lambda: heap.armed)
            diagnostics = await get_diagnostics_for_config_entry(
                hass, hass_client, entry
            )
            frozen = diagnostics["heap_freeze"]
            assert frozen["armed"] is True
            assert frozen["threshold_chargers"] == 1
            assert frozen["freezes"] >= 1
            assert frozen["frozen_objects"] > 0

            # The owner deletes CP2: its entities' cycles may be frozen, so the
            # freeze is lifted; one charger is still a large site here.
            device = dr.async_get(hass).async_get_device(
                {charger_device_id(entry.entry_id, "CP2")}
            )
            assert device is not None
            await client.send_json_auto_id(
                {
                    "type": "config/device_registry/remove_config_entry",
                    "config_entry_id": entry.entry_id,
                    "device_id": device.id,
                }
            )
            response = await client.receive_json()
            assert response["success"], response
            assert "CP2" not in system.chargers
            # Lifted, collected and frozen again; one charger is still large here.
            assert heap.reclaims == 1
            assert heap.armed
            assert gc.get_freeze_count() > 0

        await hass.config_entries.async_unload(entry.entry_id)
        await hass.async_block_till_done()
        assert not heap.armed
        assert gc.get_freeze_count() == 0
        assert heap.reclaims == 2

        hass.bus.async_fire(EVENT_HOMEASSISTANT_STOP)
        await hass.async_block_till_done()
        assert len(gc.callbacks) == callbacks
    finally:
        gc.unfreeze()
