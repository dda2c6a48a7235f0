"""When new entities may be handed to HA: only while the event loop is free.

Owns `AddPacer`, one per config entry, shared by the entity platforms' add queues
(`entity_tracker.AddQueue`). Adding an entity costs HA about a millisecond on the
event loop (registry entry, first state write) and the recorder as much again in
its thread, under the same GIL. When a garage's chargers all connect at once, the
chargers' frames must be answered first: their BootNotification, StatusNotification
and StartTransaction wait behind every entity added meanwhile. So before each chunk
of entities the pacer probes the loop: it yields once and measures how long the
loop took to come back. A loop that took long had other work waiting (frames, a site
cycle, the recorder holding the GIL), and the chunk waits, backing off, until a
probe comes back at once. However busy the loop stays, a chunk goes in at least
every `MAX_WAIT_S`, so entities always appear. On a home's idle loop a probe costs
one pass of the loop and nothing more.

The back-off sleeps in an executor thread, not on a loop timer: a loop timer fires
only when the loop's clock moves, and in tests (a frozen clock) it never would.
"""

from __future__ import annotations

import asyncio
import time

#: A probe that took this long to come back found the loop busy. Two handoffs of
#: the GIL (5 ms each) to a thread at work are tolerated.
BUSY_S = 0.010
#: The first and the longest wait after a busy probe.
MIN_BACKOFF_S = 0.02
MAX_BACKOFF_S = 0.5
#: However busy the loop, a chunk is let in at least this often.
MAX_WAIT_S = 2.0


class AddPacer:
    """Lets the add queues of one entry hand HA one chunk at a time, when it is free.

    `turn()` returns when the caller may add its chunk; the caller adds it before
    awaiting anything else. Callers take turns in the order they asked (FIFO).
    """

    def __init__(self) -> None:
        """A pacer with nobody waiting."""
        self._lock = asyncio.Lock()
        #: Busy probes so far (diagnostics, tests).
        self.busy_probes = 0

    async def turn(self) -> None:
        """Wait until the loop is free (or `MAX_WAIT_S` passed)."""
        async with self._lock:
            loop = asyncio.get_running_loop()
            started = time.monotonic()
            backoff = 0.0
            while True:
                if backoff:
                    await loop.run_in_executor(None, time.sleep, backoff)
                probed = time.monotonic()
                await asyncio.sleep(0)
                now = time.monotonic()
                if now - probed < BUSY_S or now - started >= MAX_WAIT_S:
                    return
                self.busy_probes += 1
                backoff = min(max(2 * backoff, MIN_BACKOFF_S), MAX_BACKOFF_S)
