"""Controller memory that persists between decisions.

Owns `ControllerState` (immutable; `decide()` takes one and returns the next),
its per-loadpoint `LoadpointState` (start/stop timers, phases, phase-switch
times) and per-load `LoadState` (shed or not, why, restore timer), and their
JSON round trip (`to_dict()` / `ControllerState.from_dict()`), which never raises:
unreadable entries fall back to fresh ones. Instants are POSIX seconds.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

STATE_VERSION = 1


def _frozen[V](items: Mapping[str, V] | None = None) -> Mapping[str, V]:
    return MappingProxyType(dict(items or {}))


@dataclass(frozen=True, slots=True)
class LoadpointState:
    """What the controller remembers about one loadpoint.

    `enabled` is the PV-mode start/stop state; `phases` the phases last
    commanded; `*_since` the instant a condition was first seen (timers);
    `phase_target` the phases the running phase timer is heading for;
    `served_since` when a PV-mode vehicle last started charging and
    `waiting_since` since when it has wanted to charge without charging (the
    fair share of the surplus rotates on these).
    """

    enabled: bool = False
    phases: int | None = None
    enable_since: float | None = None
    disable_since: float | None = None
    phase_since: float | None = None
    phase_target: int | None = None
    last_switch_at: float | None = None
    served_since: float | None = None
    waiting_since: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return {
            "enabled": self.enabled,
            "phases": self.phases,
            "enable_since": self.enable_since,
            "disable_since": self.disable_since,
            "phase_since": self.phase_since,
            "phase_target": self.phase_target,
            "last_switch_at": self.last_switch_at,
            "served_since": self.served_since,
            "waiting_since": self.waiting_since,
        }

    @classmethod
    def from_dict(cls, data: Any) -> LoadpointState:
        """Rebuild from `to_dict()` output; unreadable fields become defaults."""
        if not isinstance(data, Mapping):
            return cls()
        return cls(
            enabled=data.get("enabled") is True,
            phases=_phases(data.get("phases")),
            enable_since=_instant(data.get("enable_since")),
            disable_since=_instant(data.get("disable_since")),
            phase_since=_instant(data.get("phase_since")),
            phase_target=_phases(data.get("phase_target")),
            last_switch_at=_instant(data.get("last_switch_at")),
            served_since=_instant(data.get("served_since")),
            waiting_since=_instant(data.get("waiting_since")),
        )


@dataclass(frozen=True, slots=True)
class LoadState:
    """What the controller remembers about one flexible load.

    `planned` says the controller switched it on for a planned run (it switches
    it off when the run ends, and not before unless the grid limit needs it).
    """

    shed: bool = False
    reason: str | None = None  # "grid" or "battery" while shed
    shed_at: float | None = None
    restore_since: float | None = None
    planned: bool = False

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return {
            "shed": self.shed,
            "reason": self.reason,
            "shed_at": self.shed_at,
            "restore_since": self.restore_since,
            "planned": self.planned,
        }

    @classmethod
    def from_dict(cls, data: Any) -> LoadState:
        """Rebuild from `to_dict()` output; unreadable fields become defaults."""
        if not isinstance(data, Mapping):
            return cls()
        reason = data.get("reason")
        return cls(
            shed=data.get("shed") is True,
            reason=reason if isinstance(reason, str) else None,
            shed_at=_instant(data.get("shed_at")),
            restore_since=_instant(data.get("restore_since")),
            planned=data.get("planned") is True,
        )


@dataclass(frozen=True, slots=True)
class ControllerState:
    """All controller memory, keyed by loadpoint id and load id."""

    loadpoints: Mapping[str, LoadpointState] = field(default_factory=_frozen)
    loads: Mapping[str, LoadState] = field(default_factory=_frozen)

    @classmethod
    def create(
        cls,
        loadpoints: Mapping[str, LoadpointState] | None = None,
        loads: Mapping[str, LoadState] | None = None,
    ) -> ControllerState:
        """A state whose mappings are read-only copies of the given ones."""
        return cls(_frozen(loadpoints), _frozen(loads))

    def loadpoint(self, loadpoint_id: str) -> LoadpointState:
        """The state of one loadpoint (fresh when unknown)."""
        return self.loadpoints.get(loadpoint_id) or LoadpointState()

    def load(self, load_id: str) -> LoadState:
        """The state of one load (fresh when unknown)."""
        return self.loads.get(load_id) or LoadState()

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form, e.g. for HA's `Store`."""
        return {
            "version": STATE_VERSION,
            "loadpoints": {k: v.to_dict() for k, v in sorted(self.loadpoints.items())},
            "loads": {k: v.to_dict() for k, v in sorted(self.loads.items())},
        }

    @classmethod
    def from_dict(cls, data: Any) -> ControllerState:
        """Rebuild from `to_dict()` output; anything unreadable starts fresh."""
        if not isinstance(data, Mapping) or data.get("version") != STATE_VERSION:
            return cls()
        loadpoints = data.get("loadpoints")
        loads = data.get("loads")
        return cls.create(
            {
                str(k): LoadpointState.from_dict(v)
                for k, v in (
                    loadpoints.items() if isinstance(loadpoints, Mapping) else ()
                )
            },
            {
                str(k): LoadState.from_dict(v)
                for k, v in (loads.items() if isinstance(loads, Mapping) else ())
            },
        )


def _instant(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _phases(value: Any) -> int | None:
    return value if value in (1, 3) and not isinstance(value, bool) else None
