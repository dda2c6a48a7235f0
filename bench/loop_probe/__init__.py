"""Bench-only probe of Home Assistant's event loop (never shipped with the integration).

`bench/garage.py` copies this folder into the bench `hass`'s config dir as the custom
component `bench_loop_probe` and enables it with `bench_loop_probe:` in
configuration.yaml. It owns two measurements:

- Lateness: a callback scheduled every 10 ms (`loop.call_at`) records how late it
  runs. A late callback means the loop was busy with something else: the longest
  lateness is the longest event-loop stall (within about a millisecond).
- Where a stall goes: a watchdog thread looks every 10 ms at when the callback last
  ran; while the loop has been stuck for more than 50 ms it samples the loop
  thread's Python stack (`sys._current_frames()`), so each sample is about 10 ms of
  stall, attributed to the code that held the loop.
- State writes: every `state_changed` event, counted per entity kind (the entity id
  with its numbers replaced by N, e.g. `sensor.bench_N_power`), since that is what
  the recorder (a thread competing with the loop for the GIL) has to store.
- Garbage collections (`gc.callbacks`): each collection's generation, start and
  duration, in whichever thread it ran. A collection holds the GIL, so it stalls
  the loop too; a full one (generation 2) walks every object of the process, and
  with a thousand chargers that is millions. Stalls that overlap a collection are
  counted apart (`stalls_over_50ms_outside_gc`, `max_stall_outside_gc_ms`).

`GET /api/bench_loop_probe` (with a token) answers the statistics since the last
`POST /api/bench_loop_probe` (which resets them).
"""

from __future__ import annotations

import asyncio
import gc
import re
import sys
import threading
import time
import tracemalloc
import types
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from homeassistant.components.http import HomeAssistantView
from homeassistant.const import EVENT_HOMEASSISTANT_STOP, EVENT_STATE_CHANGED
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers.typing import ConfigType

DOMAIN = "bench_loop_probe"
INTERVAL_S = 0.01
STALL_S = 0.05
MAX_SAMPLES = 2_000_000
MAX_STALLS = 500
STACK_DEPTH = 60
_NUMBERS = re.compile(r"\d+")
#: Frames every stack has (the interpreter, HA's runner, the loop itself).
_GENERIC = (
    "<frozen runpy>",
    "homeassistant/__main__.py",
    "homeassistant/runner.py",
    "asyncio/base_events.py",
    "asyncio/events.py",
)


def _frame_name(code: Any, line: int) -> str:
    parts = code.co_filename.replace("\\", "/").split("/")
    return f"{code.co_qualname} ({'/'.join(parts[-2:])}:{line})"


class LoopProbe:
    """The 10 ms lateness probe and the stall-stack watchdog."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.loop_thread = threading.get_ident()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._due = 0.0
        self.last_tick = time.monotonic()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.started = time.time()
            self.lateness: list[float] = []
            self.stalls: list[tuple[float, float]] = []  # (wall time, seconds)
            self.stacks: Counter[tuple[str, ...]] = Counter()
            self.inclusive: Counter[str] = Counter()
            self.leaf: Counter[str] = Counter()
            self.stack_samples = 0
            self.state_writes: Counter[str] = Counter()
            # (generation, wall time started, seconds) of each collection
            self.collections: list[tuple[int, float, float]] = []

    def gc_callback(self, phase: str, info: dict[str, Any]) -> None:
        """`gc.callbacks`: time each collection."""
        if phase == "start":
            self._gc_started = (time.time(), time.perf_counter())
            return
        started = getattr(self, "_gc_started", None)
        if started is None or len(self.collections) >= MAX_SAMPLES:
            return
        took = time.perf_counter() - started[1]
        self.collections.append((int(info.get("generation", -1)), started[0], took))

    # The lateness probe (event loop) --------------------------------------------

    def start(self) -> None:
        self._due = self.loop.time() + INTERVAL_S
        self.loop.call_at(self._due, self._tick)
        threading.Thread(
            target=self._watch, name="bench_loop_probe", daemon=True
        ).start()

    def stop(self) -> None:
        self._stop.set()

    def _tick(self) -> None:
        if self._stop.is_set():
            return
        now = self.loop.time()
        late = max(0.0, now - self._due)
        self.last_tick = time.monotonic()
        if len(self.lateness) < MAX_SAMPLES:
            self.lateness.append(late)
        if late > STALL_S and len(self.stalls) < MAX_STALLS:
            self.stalls.append((time.time() - late, late))
        self._due = now + INTERVAL_S
        self.loop.call_at(self._due, self._tick)

    # The watchdog (its own thread) ----------------------------------------------

    def _watch(self) -> None:
        while not self._stop.wait(INTERVAL_S):
            if time.monotonic() - self.last_tick <= STALL_S + INTERVAL_S:
                continue
            frame = sys._current_frames().get(self.loop_thread)
            names: list[str] = []
            while frame is not None and len(names) < STACK_DEPTH:
                names.append(_frame_name(frame.f_code, frame.f_lineno))
                frame = frame.f_back
            if not names:
                continue
            with self._lock:
                self.stack_samples += 1
                self.leaf[names[0]] += 1
                for name in set(names):
                    if not any(generic in name for generic in _GENERIC):
                        self.inclusive[name] += 1
                self.stacks[tuple(reversed(names))] += 1

    @callback
    def state_changed(self, event: Event) -> None:
        entity_id = event.data.get("entity_id", "")
        self.state_writes[_NUMBERS.sub("N", entity_id)] += 1

    # The statistics ----------------------------------------------------------------

    def stats(self) -> dict[str, Any]:
        with self._lock:
            ordered = sorted(self.lateness)
            samples = self.stack_samples

            def pick(q: float) -> float:
                if not ordered:
                    return 0.0
                return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]

            def share(count: int) -> float:
                return round(100 * count / samples, 1) if samples else 0.0

            worst = sorted(self.stalls, key=lambda s: -s[1])[:20]
            collections = list(self.collections)
            full = [c for c in collections if c[0] == 2]

            def during_gc(at: float, late: float) -> bool:
                # The stall ran from `at` to `at + late` (+ one probe interval).
                return any(
                    start < at + late + INTERVAL_S and start + took > at
                    for _, start, took in collections
                    if took > 0.005
                )

            outside = [s for s in self.stalls if not during_gc(*s)]
            seconds = max(time.time() - self.started, 1e-9)
            writes = sum(self.state_writes.values())
            return {
                "since": datetime.fromtimestamp(self.started, UTC).isoformat(),
                "interval_ms": INTERVAL_S * 1000,
                "ticks": len(ordered),
                "lateness_ms": {
                    "p50": round(pick(0.5) * 1000, 2),
                    "p99": round(pick(0.99) * 1000, 2),
                    "p999": round(pick(0.999) * 1000, 2),
                    "max": round(pick(1.0) * 1000, 2),
                },
                "stalls_over_50ms": len(self.stalls),
                "stall_seconds_over_50ms": round(sum(s for _, s in self.stalls), 3),
                "worst_stalls": [
                    {
                        "at": datetime.fromtimestamp(at, UTC).isoformat(
                            timespec="milliseconds"
                        ),
                        "ms": round(late * 1000, 1),
                    }
                    for at, late in worst
                ],
                "stalls_over_50ms_outside_gc": len(outside),
                "max_stall_outside_gc_ms": round(
                    max((late for _, late in outside), default=0.0) * 1000, 1
                ),
                "gc": {
                    "collections_by_generation": {
                        str(g): sum(1 for c in collections if c[0] == g)
                        for g in (0, 1, 2)
                    },
                    "max_ms_by_generation": {
                        str(g): round(
                            max((c[2] for c in collections if c[0] == g), default=0.0)
                            * 1000,
                            1,
                        )
                        for g in (0, 1, 2)
                    },
                    "total_ms": round(sum(c[2] for c in collections) * 1000, 1),
                    "full_collections": [
                        {
                            "at": datetime.fromtimestamp(start, UTC).isoformat(
                                timespec="milliseconds"
                            ),
                            "ms": round(took * 1000, 1),
                        }
                        for _, start, took in full[:20]
                    ],
                    "objects_tracked": len(gc.get_objects()),
                    "objects_frozen": gc.get_freeze_count(),
                },
                "state_writes": writes,
                "state_writes_per_s": round(writes / seconds, 1),
                "state_writes_by_kind": [
                    {"entity": kind, "count": count, "per_s": round(count / seconds, 2)}
                    for kind, count in self.state_writes.most_common(25)
                ],
                "stall_stack_samples": samples,
                "stall_functions_inclusive": [
                    {"function": name, "percent": share(count)}
                    for name, count in self.inclusive.most_common(50)
                ],
                "stall_functions_self": [
                    {"function": name, "percent": share(count)}
                    for name, count in self.leaf.most_common(20)
                ],
                "stall_stacks": [
                    {
                        "percent": share(count),
                        "stack": [
                            f for f in stack if not any(g in f for g in _GENERIC)
                        ],
                    }
                    for stack, count in self.stacks.most_common(10)
                ],
            }


class LoopProbeView(HomeAssistantView):
    """GET: the statistics; POST: reset them."""

    url = "/api/bench_loop_probe"
    name = "api:bench_loop_probe"

    def __init__(self, probe: LoopProbe) -> None:
        self.probe = probe

    async def get(self, request: web.Request) -> web.Response:
        return self.json(self.probe.stats())

    async def post(self, request: web.Request) -> web.Response:
        self.probe.reset()
        return self.json({"reset": True})


class ObjectCountView(HomeAssistantView):
    """GET: the garbage collector's tracked objects, by type (the 40 commonest)
    and by the module that defines the type. It walks every object: a second or
    so with a thousand chargers, so the bench asks only after its window."""

    url = "/api/bench_loop_probe/objects"
    name = "api:bench_loop_probe:objects"

    async def get(self, request: web.Request) -> web.Response:
        by_type: Counter[str] = Counter()
        functions: Counter[str] = Counter()
        dict_keys: Counter[str] = Counter()
        for obj in gc.get_objects():
            kind = type(obj)
            by_type[f"{kind.__module__}.{kind.__qualname__}"] += 1
            if kind is dict:
                dict_keys[",".join(sorted(map(str, obj))[:6])] += 1
            func = obj.__func__ if isinstance(obj, types.MethodType) else obj
            if isinstance(func, types.FunctionType):
                functions[f"{func.__module__}:{func.__qualname__}"] += 1
        by_module: Counter[str] = Counter()
        for name, count in by_type.items():
            module = name.rsplit(".", 1)[0]
            parts = module.split(".")
            by_module[".".join(parts[:3])] += count
        return self.json(
            {
                "total": sum(by_type.values()),
                "by_type": dict(by_type.most_common(40)),
                "by_module": dict(by_module.most_common(25)),
                "functions_and_methods": dict(functions.most_common(40)),
                "dicts_by_keys": dict(dict_keys.most_common(30)),
            }
        )


class AllocationView(HomeAssistantView):
    """GET: where the live Python memory was allocated (hass started with
    PYTHONTRACEMALLOC=1, `garage.py --tracemalloc`): by package and by line."""

    url = "/api/bench_loop_probe/allocations"
    name = "api:bench_loop_probe:allocations"

    async def get(self, request: web.Request) -> web.Response:
        if not tracemalloc.is_tracing():
            return self.json({"error": "hass runs without PYTHONTRACEMALLOC"})
        snapshot = tracemalloc.take_snapshot()
        by_package: Counter[str] = Counter()
        by_line: Counter[str] = Counter()
        for stat in snapshot.statistics("lineno"):
            frame = stat.traceback[0]
            by_line[f"{_package(frame.filename)}:{frame.lineno}"] += stat.size
            by_package[_package(frame.filename)] += stat.size
        mib = 1 << 20
        return self.json(
            {
                "traced_mib": round(sum(by_package.values()) / mib, 1),
                "by_package_mib": {
                    name: round(size / mib, 2)
                    for name, size in by_package.most_common(40)
                },
                "by_line_mib": {
                    name: round(size / mib, 2) for name, size in by_line.most_common(60)
                },
            }
        )


def _package(filename: str) -> str:
    """.../site-packages/homeassistant/core.py -> homeassistant/core.py"""
    for marker in ("site-packages/", "lib/python3"):
        if marker in filename:
            return filename.split(marker, 1)[1]
    if "custom_components/" in filename:
        return "custom_components/" + filename.split("custom_components/", 1)[1]
    return filename


class ReclaimView(HomeAssistantView):
    """POST: collect (what any full collection would free), then lift the
    integration's heap freeze and collect again: what that finds is what only the
    freeze had held (cycles that became unreachable while frozen), by type."""

    url = "/api/bench_loop_probe/reclaim"
    name = "api:bench_loop_probe:reclaim"

    async def post(self, request: web.Request) -> web.Response:
        started = time.perf_counter()
        unfrozen_garbage = gc.collect()  # what any full collection would find
        normal_ms = (time.perf_counter() - started) * 1000
        frozen = gc.get_freeze_count()
        gc.unfreeze()
        gc.set_debug(gc.DEBUG_SAVEALL)  # keep what is found, to see what it is
        started = time.perf_counter()
        try:
            held = gc.collect()
        finally:
            gc.set_debug(0)
        took = (time.perf_counter() - started) * 1000
        kinds: Counter[str] = Counter(
            f"{type(obj).__module__}.{type(obj).__qualname__}" for obj in gc.garbage
        )
        gc.garbage.clear()
        gc.collect()  # frees what was kept to be counted
        if frozen:
            gc.freeze()  # as the integration left it
        return self.json(
            {
                "unfrozen_garbage": unfrozen_garbage,
                "unfrozen_collect_ms": round(normal_ms, 1),
                "frozen_before": frozen,
                "held_by_freeze": held,
                "held_by_type": dict(kinds.most_common(25)),
                "collect_ms": round(took, 1),
                "frozen_after": gc.get_freeze_count(),
            }
        )


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Start the probe and serve its statistics."""
    probe = LoopProbe(hass.loop)
    probe.start()
    gc.callbacks.append(probe.gc_callback)
    hass.http.register_view(LoopProbeView(probe))
    hass.http.register_view(ObjectCountView())
    hass.http.register_view(AllocationView())
    hass.http.register_view(ReclaimView())
    hass.bus.async_listen(EVENT_STATE_CHANGED, probe.state_changed)

    def stop(_: Event) -> None:
        probe.stop()
        if probe.gc_callback in gc.callbacks:
            gc.callbacks.remove(probe.gc_callback)

    hass.bus.async_listen_once(EVENT_HOMEASSISTANT_STOP, stop)
    return True
