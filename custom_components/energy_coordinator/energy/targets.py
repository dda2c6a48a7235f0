"""What the horizon plan asks of the real-time controller in one slot.

Owns `SlotTargets`, the hand-over from the planner (`horizon.targets_at()`) to
`controller.decide()`. It is a plain value with no solver behind it, so the
controller can follow a plan without importing the planner.

`ev_kw` maps the id of every loadpoint the plan covers (a goal) to its planned
power in this slot (0: nothing planned now); a loadpoint that is not a key is not
planned at all. `loads_on` does the same for the deferrable loads (by load id).
`battery_mode` is `None` when the plan has no battery; otherwise the battery
follows it as in `plan_model.PlanSlot` (`auto`: self-consumption; `charge` /
`discharge`: the setpoint `battery_kw`, positive = charging; `hold`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType

from .battery import BatteryMode


def _empty[V]() -> Mapping[str, V]:
    return MappingProxyType({})


@dataclass(frozen=True, slots=True, kw_only=True)
class SlotTargets:
    """The plan's targets for the slot [`start`, `end`)."""

    start: datetime
    end: datetime
    battery_mode: BatteryMode | None = None
    battery_kw: float = 0.0
    ev_kw: Mapping[str, float] = field(default_factory=_empty)
    loads_on: Mapping[str, bool] = field(default_factory=_empty)
    import_price: float | None = None
    export_price: float | None = None

    def planned_ev_w(self, loadpoint_id: str) -> float | None:
        """The planned power of a loadpoint in W (None: the plan does not cover it)."""
        kw = self.ev_kw.get(loadpoint_id)
        return None if kw is None else max(0.0, kw * 1000.0)
