"""The entity tracker's add queue: new entities reach HA a few at a time, in order.

A garage's chargers boot at once; each brings a score of entities. The queue must
hand them to HA in small chunks with the event loop free in between (so the
chargers' frames are answered meanwhile), keep their order, forget the queued
entities of a charger that went away, and add nothing after the platform unloads.
"""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity import Entity
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.energy_coordinator.const import DOMAIN
from custom_components.energy_coordinator.entity_tracker import ADD_CHUNK, AddQueue


class _Made(Entity):
    def __init__(self, charger: Any, n: int) -> None:
        self.charger = charger
        self.n = n


def _queue(hass: HomeAssistant) -> tuple[AddQueue, list[list[int]]]:
    entry = MockConfigEntry(domain=DOMAIN)
    entry.add_to_hass(hass)
    calls: list[list[int]] = []

    def add(entities: list[Entity]) -> None:
        calls.append([e.n for e in entities])  # type: ignore[attr-defined]

    return AddQueue(hass, entry, add, "test add"), calls  # type: ignore[arg-type]


async def test_entities_are_added_in_chunks_with_the_loop_free_between(
    hass: HomeAssistant,
) -> None:
    """Fifty entities: the first chunk only after `add` returned, one chunk per
    turn of the loop, all of them in the order they came."""
    queue, calls = _queue(hass)
    charger = SimpleNamespace()
    queue.add(_Made(charger, n) for n in range(30))
    queue.add(_Made(charger, n) for n in range(30, 50))
    assert calls == []  # nothing is added inside the caller (a frame handler)
    await asyncio.sleep(0)
    assert calls == [list(range(ADD_CHUNK))]
    await asyncio.sleep(0)  # one chunk per turn of the loop
    assert calls[1] == list(range(ADD_CHUNK, 2 * ADD_CHUNK))
    await hass.async_block_till_done()
    assert all(len(chunk) <= ADD_CHUNK for chunk in calls)
    assert [n for chunk in calls for n in chunk] == list(range(50))


async def test_a_charger_that_went_away_is_not_added_and_unload_stops_all(
    hass: HomeAssistant,
) -> None:
    """`drop` forgets one charger's queued entities; after `close` nothing more."""
    queue, calls = _queue(hass)
    gone, staying = SimpleNamespace(), SimpleNamespace()
    queue.add([_Made(gone, n) for n in range(20)] + [_Made(staying, 100)])
    queue.drop(gone)
    await hass.async_block_till_done()
    assert calls == [[100]]
    queue.close()
    queue.add([_Made(staying, 101)])
    await hass.async_block_till_done()
    assert calls == [[100]]
