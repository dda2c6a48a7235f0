"""Short garbage collections on a large site: the long-lived heap is frozen.

Owns this process's use of `gc.freeze()`. A garage of a thousand chargers gives HA well
over a million objects that live as long as the chargers do (entities, states, registry
entries, listeners, the links). CPython's full collection walks all of them and holds
every thread while it does: 1.2-1.7 s at a thousand chargers, once every minute or two,
and at every step of a ramp. No integration code gets that walk under 50 ms.

So while the loaded entries host at least `LARGE_SITE_CHARGERS` chargers, what survives
a full collection is frozen right after it (moved to the permanent generation, which no
collection walks): the next full collection walks only what was made since, and its
survivors are folded in the same way. Reference counting still frees frozen objects as
usual; only frozen objects that later end up in an unreachable cycle (a reload's old
entities, a dropped connection's protocol objects) wait. Those are given back: the
freeze is lifted (`gc.unfreeze()`) when an entry unloads, when a charger is removed and
once a day, so the next full collection walks everything once, frees them, and the
freeze follows it again.

Below the threshold nothing changes: on a home's HA the heap is HA's, not ours to tune.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from homeassistant.util.hass_dict import HassKey

_LOGGER = logging.getLogger(__name__)

#: From this many chargers (over all loaded entries) the heap is frozen. About where a
#: full collection of HA with the chargers' entities passes a third of a second here.
LARGE_SITE_CHARGERS = 100
#: How often the freeze is lifted, so that the cycles it kept are collected.
RECLAIM_EVERY = timedelta(days=1)


class HeapFreeze:
    """Freezes what survives each full garbage collection while the site is large."""

    def __init__(self, threshold: int | None = None) -> None:
        self._threshold = LARGE_SITE_CHARGERS if threshold is None else threshold
        self._counts: dict[str, Callable[[], int]] = {}
        #: Read by the collector's callback, which runs in whichever thread
        #: collected; written on the event loop only.
        self._armed = False
        self._frozen = False
        self._started = False
        self.freezes = 0
        self.reclaims = 0

    @property
    def armed(self) -> bool:
        """True while the chargers are many enough for the freeze."""
        return self._armed

    def start(self) -> None:
        """Follow the collector."""
        if not self._started:
            gc.callbacks.append(self._collected)
            self._started = True

    def stop(self) -> None:
        """Stop following it and give back what this froze."""
        if self._started:
            gc.callbacks.remove(self._collected)
            self._started = False
        self._armed = False
        self.reclaim()

    def watch(self, key: str, count: Callable[[], int]) -> None:
        """Count the chargers `count()` returns (an entry's central system)."""
        self._counts[key] = count
        self.update()

    def unwatch(self, key: str) -> None:
        """An entry unloaded: its objects are garbage now, so the freeze is lifted."""
        if self._counts.pop(key, None) is not None:
            self.update()
            self.reclaim()

    def update(self) -> None:
        """Arm or disarm after the number of chargers changed."""
        chargers = sum(count() for count in self._counts.values())
        armed = chargers >= self._threshold
        if armed != self._armed:
            _LOGGER.debug(
                "%s chargers: the long-lived heap is %s",
                chargers,
                "frozen after full collections" if armed else "left to the collector",
            )
        self._armed = armed

    def reclaim(self) -> None:
        """Lift the freeze: the next full collection walks and frees everything."""
        if self._frozen:
            gc.unfreeze()
            self._frozen = False
            self.reclaims += 1

    def as_dict(self) -> dict[str, Any]:
        """What diagnostics show."""
        return {
            "armed": self._armed,
            "threshold_chargers": self._threshold,
            "frozen_objects": gc.get_freeze_count() if self._frozen else 0,
            "freezes": self.freezes,
            "reclaims": self.reclaims,
        }

    def _collected(self, phase: str, info: dict[str, int]) -> None:
        # Right after a full collection the younger generations are empty and the
        # oldest holds only live objects: exactly what is to be frozen.
        if phase == "stop" and info["generation"] == 2 and self._armed:
            gc.freeze()
            self._frozen = True
            self.freezes += 1


#: The one freeze of this HA run (`hass.data`).
HEAP: HassKey[HeapFreeze] = HassKey("energy_coordinator_heap")
