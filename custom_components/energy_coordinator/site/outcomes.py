"""What a coordination returns, and where its time went.

Owns `CoordinationResult` (the decision, what was carried out, and the answer of
the `coordinate` action), `ManualCap` (what a person's current limit on a
coordinated loadpoint does, the answer of `set_current_limit`) and `CycleClock`
(the laps of one coordination, on the event loop or waited for, for its log line).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..energy import Decision


@dataclass
class CoordinationResult:
    """The last coordination: when, the decision, and what was carried out."""

    at: datetime
    decision: Decision
    dry_run: bool
    executed: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)
    #: When the decision's actions last differed from the one before.
    changed_at: datetime | None = None

    def as_dict(self) -> dict[str, Any]:
        """The response of the `coordinate` action."""
        data = self.decision.as_dict()
        data["time"] = self.at.isoformat()
        data["dry_run"] = self.dry_run
        data["executed"] = list(self.executed)
        data["errors"] = list(self.errors)
        data["pending"] = list(self.pending)
        return data


@dataclass(frozen=True, slots=True)
class ManualCap:
    """What a person's current limit on a coordinated loadpoint does."""

    loadpoint: str
    cap_a: float
    until: datetime | None

    def as_dict(self) -> dict[str, Any]:
        """The response of `set_current_limit` for a coordinated loadpoint."""
        until = (
            f"until {self.until.isoformat(timespec='minutes')}"
            if self.until
            else "until the limit is cleared"
        )
        return {
            "coordinated": True,
            "loadpoint": self.loadpoint,
            "cap_a": round(self.cap_a, 1),
            "until": self.until.isoformat() if self.until else None,
            "message": (
                f"The site coordinates {self.loadpoint}: {self.cap_a:g} A is its "
                f"cap {until}. The coordinator may give it less (solar surplus, "
                f"grid limit), never more."
            ),
        }


class CycleClock:
    """Where a coordination's time goes: on the event loop, or waited for."""

    def __init__(self) -> None:
        self._start = self._last = time.perf_counter()
        self._laps: list[tuple[str, float]] = []
        self.loop_ms = 0.0

    def lap(self, name: str, on_loop: bool = True) -> None:
        now = time.perf_counter()
        ms = (now - self._last) * 1000
        self._laps.append((name, ms))
        if on_loop:
            self.loop_ms += ms
        self._last = now

    @property
    def total_ms(self) -> float:
        return (self._last - self._start) * 1000

    def laps(self) -> str:
        return ", ".join(f"{name} {ms:.1f} ms" for name, ms in self._laps)
