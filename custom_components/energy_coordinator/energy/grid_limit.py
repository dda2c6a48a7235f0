"""Keeping the site under its grid import limit on every line.

Owns `GridLimiter`: given the non-EV load bound per line (`site_load`), the
import limit and what each charger asks for, it grants currents whose sum on
every line stays within the limit. An EV's current counts on every line it may
draw from: all three for a three-phase charge, its line for a one-phase charge
on a known line, and every line when that line is unknown or a phase switch is
under way (old and new phases both count).

Admission: chargers are taken in order of priority (then those already
charging, then id); each is admitted if its minimum current still fits on all
its lines, otherwise it pauses. The admitted share what is left over their
minimums either fairly (`SharingPolicy.FAIR`: max-min fair water-filling, equal
currents where the lines allow) or by priority (`PRIORITY`). Grants are rounded
onto each charger's current step, never below its minimum: from the fair
currents less the coarsest step, whole steps are handed out one at a time to the
lowest current that still fits (with `PRIORITY`: rounded down, then the
leftover in priority order).
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .settings import SharingPolicy

_EPS = 1e-9
#: Bound on the steps handed out after rounding (a few per charger in practice).
_MAX_FILL_STEPS = 2000


@dataclass(frozen=True, slots=True)
class CurrentRequest:
    """What one charger asks the limiter for (per phase, amperes)."""

    id: str
    priority: int
    lines: frozenset[int]
    min_a: float
    request_a: float  # 0: the charger is paused anyway
    step_a: float
    charging_now: bool
    applied_a: float | None = None  # the limit in force now, if known


@dataclass(frozen=True, slots=True)
class CurrentGrant:
    """What the limiter grants one charger."""

    id: str
    current_a: float
    requested_a: float
    paused_by_limit: bool

    @property
    def reduced(self) -> bool:
        """Whether the limit cut the request (but left the charger running)."""
        return 0 < self.current_a < self.requested_a - 1e-6


def _level(target: float, bounds: Sequence[tuple[float, float]]) -> float:
    """Largest L with sum(clamp(L, lo, hi)) <= target (inf if all fit at hi)."""
    if sum(hi for _, hi in bounds) <= target + _EPS:
        return math.inf

    def total(level: float) -> float:
        return sum(min(hi, max(lo, level)) for lo, hi in bounds)

    points = sorted({p for bound in bounds for p in bound})
    previous = points[0]
    previous_total = total(previous)
    if previous_total > target:
        return previous
    for point in points[1:]:
        point_total = total(point)
        if point_total > target:
            slope = (point_total - previous_total) / (point - previous)
            return previous + (target - previous_total) / slope
        previous, previous_total = point, point_total
    return math.inf  # pragma: no cover - covered by the sum check above


def _binding(admitted: Sequence[CurrentRequest], headroom_a: Sequence[float]) -> bool:
    """Whether the limit cuts some request (the shares come from the limit)."""
    return any(
        sum(r.request_a for r in admitted if line in r.lines) > room + _EPS
        for line, room in enumerate(headroom_a)
    )


def _floor_to_step(current: float, step: float, minimum: float) -> float:
    floored = math.floor(current / step + 1e-9) * step
    return round(max(minimum, min(current, floored)), 6)


class GridLimiter:
    """Shares the per-line headroom among the chargers."""

    def __init__(self, sharing: SharingPolicy, hold_a: float = 0.0) -> None:
        self._sharing = sharing
        self._hold_a = hold_a

    def allocate(
        self,
        requests: Sequence[CurrentRequest],
        headroom_a: Sequence[float] | None,
    ) -> dict[str, CurrentGrant]:
        """Grant each request a current; `headroom_a=None` means no limit."""
        if headroom_a is None:
            return {
                r.id: CurrentGrant(r.id, r.request_a, r.request_a, False)
                for r in requests
            }
        order = sorted(requests, key=lambda r: (-r.priority, not r.charging_now, r.id))
        used = [0.0] * len(headroom_a)
        admitted: list[CurrentRequest] = []
        grants: dict[str, CurrentGrant] = {}
        for request in order:
            if request.request_a <= 0:
                grants[request.id] = CurrentGrant(request.id, 0.0, 0.0, False)
                continue
            if all(
                used[line] + request.min_a <= headroom_a[line] + _EPS
                for line in request.lines
            ):
                admitted.append(request)
                for line in request.lines:
                    used[line] += request.min_a
            else:
                grants[request.id] = CurrentGrant(
                    request.id, 0.0, request.request_a, True
                )
        rank = {r.id: index for index, r in enumerate(admitted)}
        if self._sharing == SharingPolicy.PRIORITY:
            currents = self._by_priority(admitted, headroom_a, used)
            start = {
                r.id: _floor_to_step(currents[r.id], r.step_a, r.min_a)
                for r in admitted
            }
            self._fill_steps(admitted, headroom_a, start, lambda r: (rank[r.id],))
        else:
            currents = self._fair(admitted, headroom_a)
            # Back off by the coarsest step, then climb back one step at a time,
            # lowest current first: fair on the chargers' own current grids.
            back = max((r.step_a for r in admitted), default=0.0)
            start = {
                r.id: _floor_to_step(currents[r.id] - back, r.step_a, r.min_a)
                for r in admitted
            }
            self._fill_steps(
                admitted, headroom_a, start, lambda r: (start[r.id], rank[r.id])
            )
        if self._hold_a > 0 and _binding(admitted, headroom_a):
            start = self._hold(admitted, headroom_a, start)
        for request in admitted:
            grants[request.id] = CurrentGrant(
                request.id, start[request.id], request.request_a, False
            )
        return grants

    def _hold(
        self,
        admitted: Sequence[CurrentRequest],
        headroom_a: Sequence[float],
        shares: dict[str, float],
    ) -> dict[str, float]:
        """Keep the limits in force that differ from their new share by less
        than `hold_a`, as far as the lines allow.

        A shared grid limit moves every charger's share by a step whenever the
        house load moves a little; holding what is in force spares a thousand
        chargers a profile each for a tenth of an ampere. A held limit above its
        share is given up (largest first) wherever a line would exceed its
        headroom, so the lines stay within it.
        """
        held: dict[str, float] = {}
        for request in admitted:
            applied = request.applied_a
            if applied is None or applied <= 0:
                continue
            share = shares[request.id]
            if (
                abs(share - applied) < self._hold_a - _EPS
                and request.min_a - _EPS <= applied <= request.request_a + _EPS
            ):
                held[request.id] = applied
        if not held:
            return shares
        result = {**shares, **held}
        by_line = [
            [r for r in admitted if line in r.lines] for line in range(len(headroom_a))
        ]
        while True:
            over = {
                line
                for line, room in enumerate(headroom_a)
                if sum(result[r.id] for r in by_line[line]) > room + 1e-7
            }
            if not over:
                return result
            above = [
                r
                for r in admitted
                if r.id in held and held[r.id] > shares[r.id] and r.lines & over
            ]
            if not above:  # pragma: no cover - the shares themselves fit
                return shares
            pick = max(above, key=lambda r: (held[r.id] - shares[r.id], r.id))
            result[pick.id] = shares[pick.id]
            del held[pick.id]

    @staticmethod
    def _fill_steps(
        admitted: Sequence[CurrentRequest],
        headroom_a: Sequence[float],
        currents: dict[str, float],
        key: Callable[[CurrentRequest], tuple[float, ...]],
    ) -> None:
        """Add whole steps, one at a time, to the first charger (by `key`) that
        still has room on all its lines, until none has.

        A heap by `key`: a charger without room now never gets room back (the
        slack only shrinks), so it leaves the heap; thousands of chargers cost
        a log each per step, not a sort.
        """
        slack = [
            room - sum(currents[r.id] for r in admitted if line in r.lines)
            for line, room in enumerate(headroom_a)
        ]
        heap = [(key(r), index, r) for index, r in enumerate(admitted)]
        heapq.heapify(heap)
        steps = 0
        while heap and steps < _MAX_FILL_STEPS:
            _, index, request = heapq.heappop(heap)
            room = min(
                request.request_a - currents[request.id],
                *(slack[line] for line in request.lines),
            )
            if room + 1e-9 < request.step_a:
                continue
            step = min(request.step_a, room)  # never above the room
            currents[request.id] = round(currents[request.id] + step, 6)
            for line in request.lines:
                slack[line] -= step
            steps += 1
            heapq.heappush(heap, (key(request), index, request))

    @staticmethod
    def _by_priority(
        admitted: Sequence[CurrentRequest],
        headroom_a: Sequence[float],
        used: list[float],
    ) -> dict[str, float]:
        currents: dict[str, float] = {}
        for request in admitted:  # already in priority order
            room = min(
                (headroom_a[line] - used[line] for line in request.lines),
                default=math.inf,
            )
            extra = max(0.0, min(request.request_a - request.min_a, room))
            currents[request.id] = request.min_a + extra
            for line in request.lines:
                used[line] += extra
        return currents

    @staticmethod
    def _fair(
        admitted: Sequence[CurrentRequest], headroom_a: Sequence[float]
    ) -> dict[str, float]:
        """Max-min fair: raise a common level until a line saturates, freeze its
        chargers, continue with the rest."""
        currents = {r.id: r.min_a for r in admitted}
        active = [r for r in admitted if r.request_a > r.min_a + _EPS]
        while active:
            active_ids = {r.id for r in active}
            level = math.inf
            for line, room in enumerate(headroom_a):
                members = [r for r in active if line in r.lines]
                if not members:
                    continue
                fixed = sum(
                    currents[r.id]
                    for r in admitted
                    if line in r.lines and r.id not in active_ids
                )
                level = min(
                    level,
                    _level(room - fixed, [(r.min_a, r.request_a) for r in members]),
                )
            for r in active:
                currents[r.id] = min(r.request_a, max(r.min_a, level))
            if math.isinf(level):
                break
            saturated = {
                line
                for line, room in enumerate(headroom_a)
                if sum(currents[r.id] for r in admitted if line in r.lines)
                >= room - 1e-7
            }
            still = [
                r
                for r in active
                if r.request_a > level + _EPS and not (r.lines & saturated)
            ]
            if len(still) == len(active):  # pragma: no cover - defensive
                break
            active = still
        return currents
