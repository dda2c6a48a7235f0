"""Coordination core of Energy Coordinator: pure Python, no Home Assistant, no I/O.

The HA layer builds a `SiteSnapshot`, calls
`decide(snapshot, state, now, settings)` and gets a `Decision` with the
actions (battery, one per loadpoint, loads), the site status, an explanation
and the `ControllerState` to pass to the next call (`to_dict()` /
`ControllerState.from_dict()` persist it).

Modules, one job each: `model` (snapshot), `settings` (tuning), `state`
(memory between calls), `readings` (input validation), `site_load` (non-EV load
per line), `battery` (surplus split, battery command), `phases` (1p/3p
switching), `surplus` (per-loadpoint requests), `grid_limit` (per-line limit),
`shedding` (flexible loads), `decision` (output), `explanation` (codes and
sentences), `targets` (what the horizon plan asks of one slot), `controller`
(`decide()`). The horizon planner (`planner`, `horizon`, `prices`, `forecast`,
`plan_model`, `plan_lp`) is imported on its own: it needs numpy and HiGHS.
"""

from __future__ import annotations

from .battery import BatteryAction, BatteryMode, BatteryZone
from .controller import decide
from .decision import Actions, Decision, LoadActions, LoadpointAction, SiteStatus
from .explanation import Code, Reason
from .grid_limit import CurrentGrant, CurrentRequest, GridLimiter
from .model import (
    BatteryInput,
    BatterySnapshot,
    ChargeMode,
    FlexibleLoadSnapshot,
    LoadpointInput,
    LoadpointSnapshot,
    PhaseSetting,
    SiteInput,
    SiteSnapshot,
)
from .readings import house_estimate, surplus_estimate
from .settings import (
    DEFAULT_SETTINGS,
    ControllerSettings,
    FallbackPolicy,
    HouseLoadSplit,
    SharingPolicy,
)
from .shedding import LoadShedder
from .state import ControllerState, LoadpointState, LoadState
from .surplus import SurplusController
from .targets import SlotTargets

__all__ = [
    "DEFAULT_SETTINGS",
    "Actions",
    "BatteryAction",
    "BatteryInput",
    "BatteryMode",
    "BatterySnapshot",
    "BatteryZone",
    "ChargeMode",
    "Code",
    "ControllerSettings",
    "ControllerState",
    "CurrentGrant",
    "CurrentRequest",
    "Decision",
    "FallbackPolicy",
    "FlexibleLoadSnapshot",
    "GridLimiter",
    "HouseLoadSplit",
    "LoadActions",
    "LoadShedder",
    "LoadState",
    "LoadpointAction",
    "LoadpointInput",
    "LoadpointSnapshot",
    "LoadpointState",
    "PhaseSetting",
    "Reason",
    "SharingPolicy",
    "SiteInput",
    "SiteSnapshot",
    "SiteStatus",
    "SlotTargets",
    "SurplusController",
    "decide",
    "house_estimate",
    "surplus_estimate",
]
