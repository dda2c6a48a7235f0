"""What a garage run recorded, turned into figures (bench/garage.py).

Owns the analysis that needs no running process: the coordinator's DEBUG cycle
lines and the warnings in HA's log, the py-spy profile of hass's event-loop thread,
and, from the chargers' own records of the limits they were sent
(`load_client.py --follow-profiles`), the SetChargingProfile counts and the check
that every charger's limit stayed within its share of the grid limit.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from load_client import percentiles

CYCLE_LINE = re.compile(
    r"Coordinated (\d+) loadpoints in ([\d.]+) ms \(([\d.]+) ms on the event loop: "
    r"(.*)\): (\d+) commands, (\d+) pending"
)
_LAP = re.compile(r"([a-z ()./]+?) ([\d.]+) ms")
#: A charger's limit may exceed its fair share by this much (its current step).
SHARE_TOLERANCE_A = 1.0
#: A state of the chargers' limits shorter than this is one cycle's profiles in
#: flight, not a limit in force (reported apart by the limit check).
TRANSIENT_S = 0.5


# HA's log ---------------------------------------------------------------------


def site_cycles(log_path: Path, offset: int) -> dict[str, Any]:
    """The coordinator's DEBUG cycle lines after `offset` in HA's log."""
    with log_path.open("rb") as log:
        log.seek(offset)
        text = log.read().decode(errors="replace")
    matches = list(CYCLE_LINE.finditer(text))
    cycles = [
        (int(m[1]), float(m[2]), float(m[3]), int(m[5]), int(m[6])) for m in matches
    ]
    laps: dict[str, list[float]] = {}
    for m in matches:
        for name, ms in _LAP.findall(m[4]):
            laps.setdefault(name.strip(), []).append(float(ms) / 1000)
    durations = [c[1] / 1000 for c in cycles]
    on_loop = [c[2] / 1000 for c in cycles]
    quiet = [c[1] / 1000 for c in cycles if c[3] == 0 and c[4] == 0]
    return {
        "cycles": len(cycles),
        "loadpoints": max((c[0] for c in cycles), default=0),
        # Wall time, including the executor's decide and waiting for answers.
        "duration": percentiles(durations),
        # What the cycle holds the event loop for (the work that can stall it).
        "on_event_loop": percentiles(on_loop),
        "parts": {name: percentiles(values) for name, values in laps.items()},
        "duration_without_commands": percentiles(quiet),
        "commands": sum(c[3] for c in cycles),
        "pending": sum(c[4] for c in cycles),
        "cycles_with_commands": sum(1 for c in cycles if c[3]),
    }


def log_problems(log_path: Path, offset: int = 0) -> dict[str, Any]:
    """WARNING and ERROR lines in HA's log (after `offset`), ours counted apart."""
    if not log_path.exists():
        return {"count": 0, "errors_ours": 0, "first": []}
    with log_path.open("rb") as log:
        log.seek(offset)
        text = log.read().decode(errors="replace")
    lines = [
        line
        for line in text.splitlines()
        if re.search(r" (WARNING|ERROR|CRITICAL) ", line)
        and "custom integration" not in line
    ]
    ours = [
        line
        for line in lines
        if re.search(r" (ERROR|CRITICAL) .*(energy_coordinator|ocpp)", line)
    ]
    return {
        "count": len(lines),
        "errors_ours": len(ours),
        "first": lines[:10],
        "first_errors_ours": ours[:5],
    }


# The py-spy profile -----------------------------------------------------------


#: Frames in every stack of hass's loop thread (left out of the inclusive lists).
GENERIC_FRAMES = (
    "<frozen runpy>",
    "homeassistant/__main__.py",
    "homeassistant/runner.py",
    "asyncio/base_events.py",
    "asyncio/events.py",
)
_FRAME = re.compile(r"^(.*) \((.*?)(?::\d+)?\)$")


def _function(frame: str) -> str:
    """'name (path/file.py:12)' -> 'name (file.py)' without the line."""
    match = _FRAME.match(frame)
    if match is None:
        return frame
    path = match[2].replace("\\", "/").split("/")
    return f"{match[1]} ({'/'.join(path[-2:])})"


def summarise_profile(path: Path, seconds: float, rate: int = 100) -> dict[str, Any]:
    """Top functions of hass's event-loop thread (and the other threads' totals)."""
    threads: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    ours: Counter[str] = Counter()
    loop_samples = 0
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = stack.split(";")
        thread = frames[0].split(": ", 1)[-1] if frames[0].startswith("thread") else "?"
        threads[thread] += count
        if thread != "MainThread":
            continue
        loop_samples += count
        names = [_function(f) for f in frames[1:]]
        if names:
            own[names[-1]] += count
        for name in set(names):
            if not any(generic in name for generic in GENERIC_FRAMES):
                inclusive[name] += count
        # The innermost frame of our own code: where the integration spends it.
        for frame in reversed(frames[1:]):
            if "energy_coordinator" in frame:
                ours[_function(frame)] += count
                break
    possible = seconds * rate

    def top(counter: Counter[str], n: int) -> list[dict[str, Any]]:
        return [
            {
                "function": name,
                "percent_of_loop_samples": round(100 * c / max(loop_samples, 1), 1),
                "percent_of_a_core": round(100 * c / possible, 1),
            }
            for name, c in counter.most_common(n)
        ]

    return {
        "samples_per_thread": dict(threads.most_common(10)),
        "event_loop_busy_percent": round(100 * loop_samples / possible, 1),
        "event_loop_inclusive": top(inclusive, 40),
        "event_loop_self": top(own, 25),
        "event_loop_innermost_integration_frame": top(ours, 25),
    }


# The grid-limit check ---------------------------------------------------------


@dataclass
class Snapshot:
    """The limits in force on every charger at one moment."""

    t: float
    line_a: tuple[float, ...]
    charging: int
    max_a: float
    min_nonzero_a: float
    #: When this state began and ended (its run of identical snapshots).
    run_start: float = 0.0
    run_end: float = 0.0

    @property
    def lasts_s(self) -> float:
        """How long this state lasted in all."""
        return max(0.0, self.run_end - self.run_start)

    def same_state(self, other: Snapshot) -> bool:
        return (self.line_a, self.charging, self.max_a, self.min_nonzero_a) == (
            other.line_a,
            other.charging,
            other.max_a,
            other.min_nonzero_a,
        )


def limit_snapshots(
    logs: Mapping[str, list[list[Any]]], max_current_a: float, times: list[float]
) -> list[Snapshot]:
    """Replay every charger's recorded limits; a snapshot after each change and at
    each of `times`. Before its first profile a charger offers its maximum."""
    state = dict.fromkeys(logs, (max_current_a, 3))
    lines = [max_current_a * len(logs)] * 3
    values: Counter[float] = Counter({max_current_a: len(logs)})
    events = sorted(
        (float(t), 0, cid, float(amps), int(phases))
        for cid, log in logs.items()
        for t, amps, phases, _ in log
    )
    marks = sorted((t, 1, "", 0.0, 0) for t in times)
    snaps: list[Snapshot] = []
    for t, is_mark, cid, amps, phases in sorted(events + marks):
        if not is_mark:
            old_a, old_phases = state[cid]
            for n in range(old_phases):
                lines[n] -= old_a
            values[old_a] -= 1
            if not values[old_a]:
                del values[old_a]
            state[cid] = (amps, phases)
            for n in range(phases):
                lines[n] += amps
            values[amps] += 1
        nonzero = [v for v in values if v > 0]
        snaps.append(
            Snapshot(
                t=t,
                line_a=tuple(round(a, 3) for a in lines),
                charging=sum(values[v] for v in nonzero),
                max_a=max(nonzero, default=0.0),
                min_nonzero_a=min(nonzero, default=0.0),
            )
        )
    # Runs of the same state: each snapshot gets the whole run's duration.
    run_start = 0
    for i in range(1, len(snaps) + 1):
        if i < len(snaps) and snaps[i].same_state(snaps[run_start]):
            continue
        until = snaps[i].t if i < len(snaps) else max(times, default=snaps[-1].t)
        for snap in snaps[run_start:i]:
            snap.run_start, snap.run_end = snaps[run_start].t, until
        run_start = i
    return snaps


def check_limits(
    logs: Mapping[str, list[list[Any]]],
    *,
    max_current_a: float,
    min_current_a: float,
    window: tuple[float, float],
    change_at: float,
    limit_before: float,
    limit_after: float,
    within_s: float,
    house_a: float = 0.0,
    transient_s: float = TRANSIENT_S,
) -> dict[str, Any]:
    """Every charger's limit within its share of the grid limit, from the chargers'
    own records: before the change under the old limit, from `within_s` after it
    under the new one, and nobody above the fair share (the new limit divided by
    the chargers allowed to charge, at least the minimum current).

    The check counts states that lasted `transient_s` or longer; shorter ones are a
    cycle's profiles in flight (one charger raised before another was cut) and are
    reported apart (`momentary_*`). `house_a`, the building's load as the site
    bounds it (all on one line), gives the grid current of the worst line too
    (reported, not checked)."""
    start, end = window
    deadline = change_at + within_s
    snaps = limit_snapshots(logs, max_current_a, [start, change_at, deadline, end])
    lasting = [s for s in snaps if s.lasts_s >= transient_s]
    before = [s for s in lasting if start <= s.t < change_at]
    after = [s for s in lasting if deadline <= s.t <= end]
    at_deadline = next((s for s in snaps if s.t >= deadline), None)

    def share(s: Snapshot) -> float:
        return max(min_current_a, limit_after / s.charging) if s.charging else 0.0

    def worst(group: list[Snapshot]) -> float:
        return round(max((max(s.line_a) for s in group), default=0.0), 1)

    unfair = [s for s in after if s.max_a > share(s) + SHARE_TOLERANCE_A]
    over_new = [
        s for s in lasting if s.t >= change_at and max(s.line_a) > limit_after + 1e-6
    ]
    momentary = [
        s
        for s in snaps
        if start <= s.t <= end
        and s.lasts_s < transient_s
        and max(s.line_a) > (limit_before if s.t < change_at else limit_after) + 1e-6
    ]
    settled: float | None = 0.0
    if over_new:  # None: still over the new limit when the window ended
        run_end = over_new[-1].run_end
        settled = None if run_end >= end else round(run_end - change_at, 2)
    distinct_after: list[Snapshot] = []
    for snap in after:
        if not distinct_after or not snap.same_state(distinct_after[-1]):
            distinct_after.append(snap)
    ok_before = worst(before) <= limit_before + 1e-6
    ok_after = worst(after) <= limit_after + 1e-6 and at_deadline is not None
    return {
        "limit_before_a": limit_before,
        "limit_after_a": limit_after,
        "within_s": within_s,
        "transient_s": transient_s,
        "worst_line_sum_before_change_a": worst(before),
        "worst_line_sum_after_deadline_a": worst(after),
        "worst_grid_line_after_deadline_a": round(
            max((s.line_a[0] + house_a for s in after), default=0.0), 1
        ),
        "house_on_one_line_a": round(house_a, 1),
        "under_limit_before_change": ok_before,
        "under_new_limit_from_deadline": ok_after,
        "settled_under_new_limit_after_s": settled,
        "states_after_deadline": len(distinct_after),
        "at_deadline": None
        if at_deadline is None
        else {
            "line_sum_a": at_deadline.line_a,
            "chargers_charging": at_deadline.charging,
            "max_limit_a": at_deadline.max_a,
            "min_nonzero_limit_a": at_deadline.min_nonzero_a,
            "fair_share_a": round(share(at_deadline), 2),
        },
        "moments_above_fair_share": len(unfair),
        "momentary_over_limit": len(momentary),
        "momentary_worst_line_sum_a": worst(momentary),
        "ok": ok_before and ok_after and not unfair,
    }


def profile_counts(
    logs: Mapping[str, list[list[Any]]],
    window: tuple[float, float],
    change_at: float,
    within_s: float,
) -> dict[str, Any]:
    """SetChargingProfile in the window: steady, answering the change, redundant."""
    start, end = window
    steady = answering = later = redundant = 0
    changed_chargers = set()
    for cid, log in logs.items():
        previous: tuple[float, int] | None = None
        for t, amps, phases, why in log:
            if why == "P" and start <= t <= end:
                if t < change_at:
                    steady += 1
                elif t < change_at + within_s:
                    answering += 1
                    changed_chargers.add(cid)
                else:
                    later += 1
                if previous == (amps, phases):
                    redundant += 1
            previous = (amps, phases)
    return {
        "in_window": steady + answering + later,
        "steady_before_change": steady,
        "within_two_cycles_of_change": answering,
        "chargers_answering_change": len(changed_chargers),
        "after_that": later,
        "redundant_same_limit": redundant,
    }
