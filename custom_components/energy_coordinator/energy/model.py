"""The immutable snapshot of the site that the real-time controller reads.

Owns the input side of the coordination core: `SiteSnapshot` (grid connection,
PV, house, home battery), `BatterySnapshot`, one `LoadpointSnapshot` per charger
connector, one `FlexibleLoadSnapshot` per sheddable load, and the names of the
inputs that can be missing (`SiteInput`, `BatteryInput`, `LoadpointInput`).

Units are SI-ish and fixed: watts, amperes, volts, kWh, percent. Signs are fixed
too: grid power is positive when importing, battery power is positive when
charging (the HA layer normalises the user's sign convention before building a
snapshot). A measured value that is unavailable is `None`; one that is present
but stale is named in the object's `stale` set (a stale value is treated exactly
like a missing one). House consumption excludes the EV chargers and the battery
and includes the flexible loads.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime


class ChargeMode(enum.StrEnum):
    """How a loadpoint charges (the user's choice)."""

    OFF = "off"  # paused: 0 A offered, the session stays open
    NOW = "now"  # as fast as the charger and the grid limit allow
    MIN_PV = "minpv"  # "min+pv": at least the minimum current, more with surplus
    PV = "pv"  # solar surplus only, with start/stop delays
    # The horizon plan's power in its slots (cheap or solar hours before the
    # target time), solar surplus on top and in the other slots.
    PLAN = "plan"


class PhaseSetting(enum.StrEnum):
    """Which phases a loadpoint may use."""

    AUTO = "auto"  # switch between 1 and 3 phases with the surplus
    ONE = "1"
    THREE = "3"


class SiteInput(enum.StrEnum):
    """Site measurements that can be missing or stale."""

    PV_POWER = "pv_power"
    GRID_POWER = "grid_power"
    GRID_PHASE_CURRENTS = "grid_phase_currents"
    HOUSE_POWER = "house_power"


class BatteryInput(enum.StrEnum):
    """Home battery measurements that can be missing or stale."""

    SOC = "soc"
    POWER = "power"


class LoadpointInput(enum.StrEnum):
    """Loadpoint (charger connector) measurements that can be missing or stale."""

    CONNECTED = "connected"
    CHARGING_POWER = "charging_power"
    CURRENT = "current"
    ACTIVE_PHASES = "active_phases"
    VEHICLE_SOC = "vehicle_soc"


@dataclass(frozen=True, slots=True, kw_only=True)
class BatterySnapshot:
    """The home battery: measurements, size, power limits and SoC thresholds.

    Below `priority_soc_pct` the battery gets the solar surplus before any EV.
    Above `buffer_soc_pct` it may discharge (up to `max_discharge_w`) to keep an
    EV charging in a PV mode. `phases` is 3 for a three-phase battery inverter
    (its power then lands evenly on the three lines) and 1 otherwise.
    """

    soc_pct: float | None
    power_w: float | None  # positive = charging
    capacity_kwh: float | None = None
    max_charge_w: float | None = None
    max_discharge_w: float | None = None
    priority_soc_pct: float | None = None
    buffer_soc_pct: float | None = None
    phases: int = 1
    stale: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True, kw_only=True)
class LoadpointSnapshot:
    """One charger connector and the vehicle plugged into it.

    `connected` is whether a vehicle is plugged in (`None`: unknown). `online` is
    whether the charger can be commanded at all. `active_phases` is what the
    charger reports it uses now; `line` is the site line (1-3) the charger draws
    from when it charges on one phase (`None`: unknown, then the grid limiter
    assumes every line). `current_a` is the limit applied now. `target_time` is
    carried for the planner; the real-time controller follows the plan's power
    for the loadpoint instead (see `targets.SlotTargets`).

    `manual_cap_a` is a current cap a person set by hand: the controller never
    grants more (a cap below the minimum current pauses the loadpoint).
    `controllable` is False for a charger that refuses charging limits: no limit
    is sent to it, and under the grid limit its measured current
    (`measured_current_a`, the highest phase; unknown: its maximum) is kept free.
    """

    id: str
    mode: ChargeMode = ChargeMode.OFF
    min_current_a: float = 6.0
    max_current_a: float = 16.0
    phases_setting: PhaseSetting = PhaseSetting.AUTO
    active_phases: int | None = None
    connected: bool | None = None
    online: bool = True
    charging_power_w: float | None = None
    current_a: float | None = None
    measured_current_a: float | None = None
    manual_cap_a: float | None = None
    controllable: bool = True
    min_soc_pct: float | None = None
    target_soc_pct: float | None = None
    target_time: datetime | None = None
    vehicle_soc_pct: float | None = None
    vehicle_capacity_kwh: float | None = None
    session_energy_kwh: float | None = None
    priority: int = 0
    line: int | None = None
    current_step_a: float = 0.1
    stale: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True, kw_only=True)
class FlexibleLoadSnapshot:
    """A load the coordinator may switch off (shed) and back on (restore).

    Lower `priority` is shed first and restored last. `is_on` is `None` when
    unknown.
    """

    id: str
    power_w: float
    priority: int = 0
    is_on: bool | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SiteSnapshot:
    """Everything the controller knows about the site at one moment.

    The grid import limit is per phase in amperes (`grid_limit_a`) or a total in
    kW (`grid_limit_kw`, converted to amperes per phase as kW / (V x phases)); the
    smaller wins, neither means no limit. `grid_phase_currents_a` are optional
    per-line import currents (positive = import; an unsigned magnitude is also
    safe). `pv_phases` is 3 for a three-phase PV inverter, 1 otherwise.
    """

    pv_power_w: float | None
    grid_power_w: float | None  # positive = import
    house_power_w: float | None = None
    grid_phase_currents_a: tuple[float, ...] | None = None
    battery: BatterySnapshot | None = None
    loadpoints: tuple[LoadpointSnapshot, ...] = ()
    loads: tuple[FlexibleLoadSnapshot, ...] = ()
    phases: int = 3
    voltage_v: float = 230.0
    grid_limit_a: float | None = None
    grid_limit_kw: float | None = None
    pv_phases: int = 1
    stale: frozenset[str] = frozenset()
