"""Turning a snapshot into trustworthy numbers.

Owns `read_site()`: it drops every value that is missing, stale or not a finite
number (naming it in the explanation), sanitises the configuration (phases,
voltage, current limits), converts the grid limit to amperes per phase and
estimates the house consumption (measured, or derived as
pv + grid - battery - EVs; when both exist the larger, to stay on the safe
side). Everything downstream reads `SiteReadings`, never the raw snapshot.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from .explanation import Code, Reason, kw
from .model import (
    BatteryInput,
    ChargeMode,
    LoadpointInput,
    LoadpointSnapshot,
    PhaseSetting,
    SiteInput,
    SiteSnapshot,
)

DEFAULT_VOLTAGE_V = 230.0


@dataclass(frozen=True, slots=True)
class LoadpointReadings:
    """One loadpoint's usable inputs and sanitised settings."""

    snapshot: LoadpointSnapshot
    mode: ChargeMode
    connected: bool | None
    power_w: float | None  # measured charging power, >= 0
    current_a: float | None  # limit applied now
    active_phases: int | None
    vehicle_soc_pct: float | None
    min_a: float
    max_a: float
    step_a: float
    allowed_phases: tuple[int, ...]  # (1,), (3,) or (1, 3)
    line: int | None  # 0-based site line for one-phase charging
    missing: tuple[str, ...]  # missing inputs that force a fallback
    cap_a: float | None = None  # a person's manual cap (max_a already within it)
    measured_a: float | None = None  # measured current, highest phase

    @property
    def id(self) -> str:
        """The loadpoint id."""
        return self.snapshot.id

    @property
    def priority(self) -> int:
        """The loadpoint's priority (higher first)."""
        return priority_of(self.snapshot.priority)


@dataclass(frozen=True, slots=True)
class SiteReadings:
    """The site's usable inputs. `None` means unknown."""

    lines: int  # 1 or 3
    voltage_v: float
    limit_a: float | None  # import limit per line, None = no limit
    pv_w: float | None
    grid_w: float | None
    house_w: float | None  # best (largest) estimate, >= 0
    house_derived: bool
    phase_currents_a: tuple[float, ...] | None
    pv_phases: int  # 3 for a three-phase PV inverter on a three-phase site
    has_battery: bool
    battery_soc_pct: float | None
    battery_w: float | None  # positive = charging; 0 when there is no battery
    battery_kwh: float | None
    charge_limit_w: float | None
    discharge_limit_w: float | None
    priority_soc_pct: float | None
    buffer_soc_pct: float | None
    battery_phases: int
    loadpoints: tuple[LoadpointReadings, ...]  # highest priority first
    ev_known_w: float  # sum of the known charging powers of online chargers
    missing: tuple[str, ...]  # every missing or stale input, for the status
    reasons: tuple[Reason, ...]

    @property
    def raw_surplus_w(self) -> float | None:
        """PV minus house consumption, as seen at the grid meter."""
        return surplus_estimate(self.grid_w, self.ev_known_w, self.battery_w)

    def loadpoint(self, loadpoint_id: str) -> LoadpointReadings | None:
        """One loadpoint's readings."""
        for reading in self.loadpoints:
            if reading.id == loadpoint_id:
                return reading
        return None


def house_estimate(
    measured_w: float | None,
    pv_w: float | None,
    grid_w: float | None,
    battery_w: float | None,
    ev_w: float,
) -> tuple[float | None, bool]:
    """House consumption (>= 0) and whether it was derived.

    Derived as PV + grid - battery charging - EV power, which needs PV, grid and
    (with a battery) the battery power; when a measurement exists too, the larger
    of the two wins, to stay on the safe side under the grid limit.
    """
    derived_w: float | None = None
    if pv_w is not None and grid_w is not None and battery_w is not None:
        derived_w = pv_w + grid_w - battery_w - ev_w
    estimates = [h for h in (measured_w, derived_w) if h is not None]
    house = max(0.0, *estimates) if estimates else None
    derived = derived_w is not None and (measured_w is None or derived_w > measured_w)
    return house, derived


def surplus_estimate(
    grid_w: float | None, ev_w: float, battery_w: float | None
) -> float | None:
    """PV minus house consumption, as seen at the grid meter.

    Export plus what the EVs and the battery draw now (a discharging battery
    counts negative). `None` without a grid reading.
    """
    if grid_w is None:
        return None
    return -grid_w + ev_w + (battery_w or 0.0)


#: Larger magnitudes are not plausible readings or settings (1 GW, 1 GA, ...).
PLAUSIBLE = 1e9


def finite(value: object) -> float | None:
    """`value` as a float when it is a plausible finite number, else `None`."""
    if type(value) is float:  # the common case, first (NaN fails both tests)
        return value if -PLAUSIBLE <= value <= PLAUSIBLE else None
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except OverflowError:  # a huge int
        return None
    return number if math.isfinite(number) and abs(number) <= PLAUSIBLE else None


class _Collector:
    """Gathers missing-input names and the sentences about them."""

    def __init__(self) -> None:
        self.missing: list[str] = []
        self.reasons: list[Reason] = []

    def value(
        self,
        value: object,
        name: str,
        label: str,
        stale: frozenset[str],
        *,
        subject: str = "site",
        report_missing: bool = True,
    ) -> float | None:
        short = name.rsplit(".", 1)[-1]
        number = finite(value)
        if value is not None and short in stale:
            self.missing.append(name)
            self.reasons.append(Reason(Code.INPUT_STALE, subject, f"{label} is stale."))
            return None
        if number is None and (value is not None or report_missing):
            self.missing.append(name)
            self.reasons.append(
                Reason(Code.INPUT_UNAVAILABLE, subject, f"{label} is unavailable.")
            )
        return number


def priority_of(value: object) -> int:
    """A priority as an int (anything else counts as 0)."""
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _clamp(value: float, low: float, high: float) -> float:
    return min(high, max(low, value))


def _phase_count(value: object) -> int | None:
    number = finite(value)
    if number is None:
        return None
    return 3 if number >= 2 else 1 if number >= 1 else None


def _read_loadpoint(
    snapshot: LoadpointSnapshot, lines: int, collect: _Collector
) -> LoadpointReadings:
    lp = snapshot
    label = f"Loadpoint '{lp.id}'"
    connected: bool | None = lp.connected
    if LoadpointInput.CONNECTED in lp.stale and connected is not None:
        connected = None
    missing: list[str] = []
    if connected is None:
        missing.append(f"{lp.id}.{LoadpointInput.CONNECTED}")
        state = "stale" if lp.connected is not None else "unavailable"
        code = Code.INPUT_STALE if lp.connected is not None else Code.INPUT_UNAVAILABLE
        collect.missing.append(missing[-1])
        collect.reasons.append(
            Reason(code, lp.id, f"{label}: whether a vehicle is plugged in is {state}.")
        )
    power = finite(lp.charging_power_w)
    if power is None or lp.stale:  # only then is there anything to report
        power = collect.value(
            lp.charging_power_w,
            f"{lp.id}.{LoadpointInput.CHARGING_POWER}",
            f"{label} charging power",
            lp.stale,
            subject=lp.id,
            report_missing=connected is not False and lp.online,
        )
    if power is None and connected is not False and lp.online:
        missing.append(f"{lp.id}.{LoadpointInput.CHARGING_POWER}")
    current = finite(lp.current_a) if LoadpointInput.CURRENT not in lp.stale else None
    active = (
        _phase_count(lp.active_phases)
        if LoadpointInput.ACTIVE_PHASES not in lp.stale
        else None
    )
    if lines == 1 and active is not None:
        active = 1
    soc = (
        finite(lp.vehicle_soc_pct)
        if LoadpointInput.VEHICLE_SOC not in lp.stale
        else None
    )
    min_a = finite(lp.min_current_a)
    min_a = 6.0 if min_a is None else max(0.0, min_a)
    max_a = finite(lp.max_current_a)
    max_a = min_a if max_a is None else max(min_a, max_a)
    cap = finite(lp.manual_cap_a)
    cap = max(0.0, cap) if cap is not None else None
    if cap is not None and cap >= min_a:
        max_a = min(max_a, cap)
    measured = finite(lp.measured_current_a)
    step = finite(lp.current_step_a) or 0.1
    step = min(10.0, max(0.01, step))
    if lines == 1 or lp.phases_setting == PhaseSetting.ONE:
        allowed: tuple[int, ...] = (1,)
    elif lp.phases_setting == PhaseSetting.THREE:
        allowed = (3,)
    else:
        allowed = (1, 3)
    line_number = finite(lp.line)
    line = (
        int(line_number) - 1
        if line_number is not None and 1 <= line_number <= lines
        else (0 if lines == 1 else None)
    )
    try:
        mode = ChargeMode(lp.mode)
    except ValueError:
        mode = ChargeMode.OFF
        collect.reasons.append(
            Reason(
                Code.INPUT_UNAVAILABLE, lp.id, f"{label}: unknown mode; treated as off."
            )
        )
    return LoadpointReadings(
        snapshot=lp,
        mode=mode,
        connected=connected,
        power_w=max(0.0, power) if power is not None else None,
        current_a=current,
        active_phases=active,
        vehicle_soc_pct=soc,
        min_a=min_a,
        max_a=max_a,
        step_a=step,
        allowed_phases=allowed,
        line=line,
        missing=tuple(missing),
        cap_a=cap,
        measured_a=max(0.0, measured) if measured is not None else None,
    )


def _limit_a(site: SiteSnapshot, voltage: float, lines: int) -> float | None:
    limits: list[float] = []
    per_phase = finite(site.grid_limit_a)
    if per_phase is not None:
        limits.append(max(0.0, per_phase))
    total_kw = finite(site.grid_limit_kw)
    if total_kw is not None:
        limits.append(max(0.0, total_kw * 1000.0 / (voltage * lines)))
    return min(limits) if limits else None


#: Loadpoints handled between two calls of a decision's `checkpoint`.
CHECKPOINT_EVERY = 50


def no_checkpoint() -> None:
    """The default checkpoint: nothing to give way to."""


def read_site(
    site: SiteSnapshot, checkpoint: Callable[[], None] = no_checkpoint
) -> SiteReadings:
    """Validate and complete the snapshot's measurements (`checkpoint` is called
    every `CHECKPOINT_EVERY` loadpoints)."""
    collect = _Collector()
    lines = 3 if (finite(site.phases) or 3) >= 2 else 1
    voltage = finite(site.voltage_v)
    # A phase voltage outside 1 V..1 kV is a configuration error, not a site.
    voltage = (
        voltage
        if voltage is not None and 1.0 <= voltage <= 1000.0
        else DEFAULT_VOLTAGE_V
    )
    limit = _limit_a(site, voltage, lines)

    pv = collect.value(site.pv_power_w, SiteInput.PV_POWER, "PV power", site.stale)
    pv = max(0.0, pv) if pv is not None else None
    grid = collect.value(
        site.grid_power_w, SiteInput.GRID_POWER, "Grid power", site.stale
    )
    house_measured = collect.value(
        site.house_power_w,
        SiteInput.HOUSE_POWER,
        "House consumption",
        site.stale,
        report_missing=False,
    )
    phase_currents: tuple[float, ...] | None = None
    if site.grid_phase_currents_a is not None:
        if SiteInput.GRID_PHASE_CURRENTS in site.stale:
            collect.missing.append(SiteInput.GRID_PHASE_CURRENTS)
            collect.reasons.append(
                Reason(Code.INPUT_STALE, "site", "Per-phase grid currents are stale.")
            )
        else:
            values = [finite(v) for v in site.grid_phase_currents_a]
            if len(values) == lines and all(v is not None for v in values):
                phase_currents = tuple(v for v in values if v is not None)
            else:
                collect.missing.append(SiteInput.GRID_PHASE_CURRENTS)
                collect.reasons.append(
                    Reason(
                        Code.INPUT_UNAVAILABLE,
                        "site",
                        "Per-phase grid currents are unavailable or incomplete.",
                    )
                )

    battery = site.battery
    soc = power = kwh = charge_limit = discharge_limit = None
    priority_soc = buffer_soc = None
    battery_phases = 1
    if battery is not None:
        soc = collect.value(
            battery.soc_pct,
            f"battery.{BatteryInput.SOC}",
            "Battery SoC",
            battery.stale,
            subject="battery",
        )
        soc = _clamp(soc, 0.0, 100.0) if soc is not None else None
        power = collect.value(
            battery.power_w,
            f"battery.{BatteryInput.POWER}",
            "Battery power",
            battery.stale,
            subject="battery",
        )
        capacity = finite(battery.capacity_kwh)
        kwh = soc * capacity / 100.0 if soc is not None and capacity else None
        charge_limit = finite(battery.max_charge_w)
        charge_limit = max(0.0, charge_limit) if charge_limit is not None else None
        discharge_limit = finite(battery.max_discharge_w)
        discharge_limit = (
            max(0.0, discharge_limit) if discharge_limit is not None else None
        )
        priority_soc = finite(battery.priority_soc_pct)
        buffer_soc = finite(battery.buffer_soc_pct)
        battery_phases = 3 if lines == 3 and (finite(battery.phases) or 1) >= 2 else 1

    seen: set[str] = set()
    unique = []
    for lp in sorted(
        site.loadpoints, key=lambda lp: (-priority_of(lp.priority), str(lp.id))
    ):
        if lp.id not in seen:  # a repeated id is ignored (first, by priority, wins)
            seen.add(lp.id)
            unique.append(lp)
    read: list[LoadpointReadings] = []
    for index, lp in enumerate(unique, 1):
        read.append(_read_loadpoint(lp, lines, collect))
        if index % CHECKPOINT_EVERY == 0:
            checkpoint()
    loadpoints = tuple(read)
    # An offline charger is outside our control: its draw counts as house load.
    ev_known = sum(lp.power_w or 0.0 for lp in loadpoints if lp.snapshot.online)

    battery_w = power if battery is not None else 0.0
    house, derived = house_estimate(house_measured, pv, grid, battery_w, ev_known)
    if derived and house is not None:
        collect.reasons.append(
            Reason(
                Code.HOUSE_DERIVED,
                "site",
                f"House consumption derived from PV, grid, battery and EV power: "
                f"{kw(house)}.",
            )
        )

    return SiteReadings(
        lines=lines,
        voltage_v=voltage,
        limit_a=limit,
        pv_w=pv,
        grid_w=grid,
        house_w=house,
        house_derived=derived,
        phase_currents_a=phase_currents,
        pv_phases=3 if lines == 3 and (finite(site.pv_phases) or 1) >= 2 else 1,
        has_battery=battery is not None,
        battery_soc_pct=soc,
        battery_w=battery_w,
        battery_kwh=kwh,
        charge_limit_w=charge_limit,
        discharge_limit_w=discharge_limit,
        priority_soc_pct=priority_soc,
        buffer_soc_pct=buffer_soc,
        battery_phases=battery_phases,
        loadpoints=loadpoints,
        ev_known_w=ev_known,
        missing=tuple(collect.missing),
        reasons=tuple(collect.reasons),
    )
