"""The entity tracker's add queue: new entities reach HA a few at a time, in order.

A garage's chargers boot at once; each brings a score of entities. The queue must
hand them to HA in small chunks, each only when the event loop is free (so the
chargers' frames are answered first), keep their order, forget the queued
entities of a charger that went away, and add nothing after the platform unloads.
"""

from __future__ import annotations

import asyncio
import time
from types import SimpleNamespace
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity import Entity
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.energy_coordinator import entity_pacing
from custom_components.energy_coordinator.const import DOMAIN
from custom_components.energy_coordinator.entity_pacing import AddPacer
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

    queue = AddQueue(hass, entry, add, "test add", AddPacer())  # type: ignore[arg-type]
    return queue, calls


class _BusyLoop:
    """Keeps the event loop busy: a callback that holds it 15 ms, again and again."""

    def __init__(self) -> None:
        self._handle: asyncio.Handle | None = None
        self.running = False

    def start(self) -> None:
        self.running = True
        self._run()

    def _run(self) -> None:
        time.sleep(0.015)
        self._handle = asyncio.get_running_loop().call_soon(self._run)

    def stop(self) -> None:
        self.running = False
        if self._handle is not None:
            self._handle.cancel()


async def test_entities_are_added_in_chunks_in_order(hass: HomeAssistant) -> None:
    """Fifty entities: nothing inside the caller, then chunks of `ADD_CHUNK`, all of
    them in the order they came."""
    queue, calls = _queue(hass)
    charger = SimpleNamespace()
    queue.add(_Made(charger, n) for n in range(30))
    queue.add(_Made(charger, n) for n in range(30, 50))
    assert calls == []  # nothing is added inside the caller (a frame handler)
    await asyncio.sleep(0)
    assert calls == [list(range(ADD_CHUNK))]  # the rest after the pacer's turn
    await hass.async_block_till_done()
    assert calls[0] == list(range(ADD_CHUNK))
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


async def test_a_busy_loop_holds_the_chunks_until_it_is_free(
    hass: HomeAssistant,
) -> None:
    """While other work keeps the loop busy (chargers' frames), no chunk goes in;
    once the loop is free, they all do."""
    queue, calls = _queue(hass)
    busy = _BusyLoop()
    busy.start()
    queue.add(_Made(SimpleNamespace(), n) for n in range(20))
    await asyncio.sleep(0.4)
    held = list(calls)
    busy.stop()
    await hass.async_block_till_done()
    assert held == [list(range(ADD_CHUNK))]  # the first chunk, then nothing
    assert [n for chunk in calls for n in chunk] == list(range(20))


async def test_a_loop_that_stays_busy_still_gets_a_chunk_now_and_then(
    hass: HomeAssistant, monkeypatch: Any
) -> None:
    """However busy the loop stays, a chunk goes in at least every `MAX_WAIT_S`,
    so a charger's entities always appear."""
    monkeypatch.setattr(entity_pacing, "MAX_WAIT_S", 0.3)
    pacer = AddPacer()
    busy = _BusyLoop()
    busy.start()
    try:
        started = time.monotonic()
        await pacer.turn()
        waited = time.monotonic() - started
    finally:
        busy.stop()
    assert pacer.busy_probes > 0
    assert 0.3 <= waited < 2.0
