"""Short garbage collections on a large site: the long-lived heap is frozen.

Owns this process's use of `gc.freeze()`. A garage of a thousand chargers gives HA well
over a million objects that live as long as the chargers do (entities, states, registry
entries, listeners, the links). CPython's full collection walks all of them and holds
every thread while it does: 1.2-1.7 s at a thousand chargers, once every minute or two,
and at every step of a ramp. No integration code gets that walk under 50 ms.

So once the loaded entries host at least `LARGE_SITE_CHARGERS` chargers and for
`QUIET_S` no charger has been added or has connected (a restart's reconnect storm is
over, and the collections during it have freed its transient garbage), the heap is
collected once and what survives is frozen: moved to the permanent generation, which
no collection walks. Later full collections walk only what was made since.

While such a storm lasts (the site is large and not yet quiet), full collections are
postponed: the heap grows by a quarter again and again as the chargers' entities
appear, and each growth would cost one full walk of it (eight walks of up to 1.2 s
in a thousand chargers' ramp, every charger's answers waiting). The younger
generations are still collected as usual; what only a full collection would free
waits for the collection taken at the freeze. A storm that outlasts `STORM_MAX_S`
gets the collector back as usual.

Reference counting still frees frozen objects as usual; only frozen objects that later
end up in an unreachable cycle wait: the states current at the freeze once they are
replaced (about seven objects each, once per entity), and the protocol objects of
each charger connection that ends (about ninety). So the freeze is lifted and taken
again (one long collection) when a tenth of the chargers' connections have ended
since, once a day, and when a charger is removed; an unloading entry lifts it.

Below the threshold nothing changes: on a home's HA the heap is HA's, not ours to tune.
"""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from homeassistant.util.hass_dict import HassKey

_LOGGER = logging.getLogger(__name__)

#: From this many chargers (over all loaded entries) the heap is frozen. About where a
#: full collection of HA with the chargers' entities passes a third of a second here.
LARGE_SITE_CHARGERS = 100
#: How long no charger must have been added or connected before the first freeze.
QUIET_S = 20.0
#: The freeze is renewed at least this often (what it held is then freed).
RENEW_AFTER_S = 86_400.0
#: ... and once this share of the chargers' connections have ended since.
RENEW_AFTER_CLOSED_SHARE = 0.1
#: How often `tick` is called (by the integration).
TICK_S = 60.0
#: Full collections are postponed during a storm for at most this long.
STORM_MAX_S = 300.0
#: The oldest generation's threshold while they are (collections of the middle
#: generation between two full ones): never reached in a storm.
POSTPONED_THRESHOLD = 1_000_000


class Timer(Protocol):
    """What `loop.call_later` returns."""

    def cancel(self) -> None:
        """Do not run."""


#: `loop.call_later`.
type Later = Callable[[float, Callable[[], None]], Timer]


@dataclass(frozen=True, slots=True)
class Counts:
    """How one entry's central system tells its chargers and its connections."""

    chargers: Callable[[], int]
    opened: Callable[[], int]
    closed: Callable[[], int]


class HeapFreeze:
    """Freezes the long-lived heap while the site is large, renews it when due."""

    def __init__(
        self,
        later: Later,
        threshold: int | None = None,
        quiet_s: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._later = later
        self._threshold = LARGE_SITE_CHARGERS if threshold is None else threshold
        self._quiet_s = QUIET_S if quiet_s is None else quiet_s
        self._clock = clock
        self._arming: Timer | None = None
        self._opened_at_arming = 0
        self._counts: dict[str, Counts] = {}
        self._armed = False
        #: Set on the loop before a collection; the collector's callback (which
        #: runs in whichever thread collected) freezes once and clears it.
        self._freeze_next = False
        self._frozen = False
        self._frozen_at = 0.0
        self._closed_at_freeze = 0
        self._started = False
        #: The collector's thresholds while full collections are postponed.
        self._thresholds: tuple[int, int, int] | None = None
        self._storm_since = 0.0
        self.freezes = 0
        self.reclaims = 0

    @property
    def armed(self) -> bool:
        """True while the site is large (and was quiet once)."""
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
        self._counts.clear()
        self._resume_full_collections()
        self.update()
        self.reclaim()

    def watch(
        self,
        key: str,
        chargers: Callable[[], int],
        opened: Callable[[], int],
        closed: Callable[[], int],
    ) -> None:
        """Count an entry's chargers, its connections and those that ended."""
        self._counts[key] = Counts(chargers, opened, closed)
        self.update()

    def unwatch(self, key: str) -> None:
        """An entry unloaded: its objects are garbage now, so the freeze is lifted."""
        if self._counts.pop(key, None) is not None:
            self.update()
            self.reclaim()

    def update(self) -> None:
        """The number of chargers changed: arm once it has been large and quiet."""
        if self._arming is not None:
            self._arming.cancel()
            self._arming = None
        chargers = sum(counts.chargers() for counts in self._counts.values())
        if chargers < self._threshold:
            if self._armed:
                _LOGGER.debug("%s chargers: the collector runs as usual", chargers)
            self._armed = False
            self._resume_full_collections()
            self._storm_since = 0.0
        elif not self._armed:
            self._wait_for_quiet()

    def tick(self) -> None:
        """Renew the freeze when it is a day old or many connections ended since."""
        if not self._frozen:
            return
        chargers = sum(counts.chargers() for counts in self._counts.values())
        ended = self._closed() - self._closed_at_freeze
        if self._clock() - self._frozen_at >= RENEW_AFTER_S or ended >= max(
            1.0, RENEW_AFTER_CLOSED_SHARE * chargers
        ):
            _LOGGER.debug("Renewing the heap freeze (%s connections ended)", ended)
            self.reclaim()

    def reclaim(self) -> None:
        """Lift the freeze; while armed, collect at once and freeze again."""
        if self._frozen:
            gc.unfreeze()
            self._frozen = False
            self.reclaims += 1
            if self._armed:
                self._freeze_now()

    def as_dict(self) -> dict[str, Any]:
        """What diagnostics show."""
        return {
            "armed": self._armed,
            "threshold_chargers": self._threshold,
            "frozen_objects": gc.get_freeze_count() if self._frozen else 0,
            "freezes": self.freezes,
            "reclaims": self.reclaims,
            "full_collections_postponed": self._thresholds is not None,
        }

    def _wait_for_quiet(self) -> None:
        self._opened_at_arming = self._opened()
        self._arming = self._later(self._quiet_s, self._arm)
        if self._thresholds is None and not self._storm_since:
            self._storm_since = self._clock()
            self._thresholds = gc.get_threshold()
            gc.set_threshold(
                self._thresholds[0], self._thresholds[1], POSTPONED_THRESHOLD
            )
        elif self._clock() - self._storm_since >= STORM_MAX_S:
            self._resume_full_collections()

    def _resume_full_collections(self) -> None:
        if self._thresholds is not None:
            gc.set_threshold(*self._thresholds)
            self._thresholds = None

    def _arm(self) -> None:
        self._arming = None
        if self._opened() != self._opened_at_arming:  # chargers still connecting
            self._wait_for_quiet()
            return
        self._resume_full_collections()
        self._storm_since = 0.0
        self._armed = True
        _LOGGER.debug("Large site: freezing the long-lived heap")
        self._freeze_now()

    def _freeze_now(self) -> None:
        self._closed_at_freeze = self._closed()
        self._frozen_at = self._clock()
        self._freeze_next = True
        gc.collect()  # the callback freezes what survives

    def _opened(self) -> int:
        return sum(counts.opened() for counts in self._counts.values())

    def _closed(self) -> int:
        return sum(counts.closed() for counts in self._counts.values())

    def _collected(self, phase: str, info: dict[str, int]) -> None:
        # Right after a full collection the younger generations are empty and the
        # oldest holds only live objects: exactly what is to be frozen.
        if phase == "stop" and info["generation"] == 2 and self._freeze_next:
            self._freeze_next = False
            gc.freeze()
            self._frozen = True
            self.freezes += 1


#: The one freeze of this HA run (`hass.data`).
HEAP: HassKey[HeapFreeze] = HassKey("energy_coordinator_heap")
