"""Upper bound of the non-EV import current on each line of the grid connection.

Owns `estimate_non_ev_load()`, the number the grid limiter protects against. It
must never be lower than the truth, whatever the spread of the loads over the
lines, so it only credits what it knows:

* With per-phase grid currents: the measured current of each line minus what
  the EVs are known to draw on that line (an EV whose power, phases or line is
  unknown is not subtracted, which over-estimates and so stays safe).
* A one-phase site: everything is on the one line: house + battery charging -
  PV, or the grid meter minus the EVs.
* A three-phase site without per-phase data: the house consumption may all sit
  on any one line (`HouseLoadSplit.ONE_PHASE`, the default), or a third on each
  (`EVEN`, when the user says the load is balanced). A three-phase battery
  inverter puts a third of its charging power on each line, a one-phase one
  all of it on one (unknown) line. PV is credited only where its line is
  certain: a third per line for a three-phase inverter, nothing for a
  one-phase one. When the house consumption is unknown, only the balanced case
  can use the grid meter directly.

Battery discharge is never credited: the controller may hold the battery in
this very decision (it does so whenever EVs draw more than the surplus), and a
battery also stops on its own at its lowest SoC. Where a measurement already
nets it out (grid meter), it is added back; an unknown battery power counts as
discharging at the discharge limit and charging at the charge limit (no limit
configured: that way of bounding the load is unavailable).

An offline charger is not an EV here (we cannot command it): its measured draw
stays in the bound, and the controller also reserves its maximum current.

`None` means the load cannot be bounded: the grid limiter then pauses the EVs.
"""

from __future__ import annotations

from dataclasses import dataclass

from .readings import SiteReadings
from .settings import HouseLoadSplit


@dataclass(frozen=True, slots=True)
class PhaseLoad:
    """Non-EV import current per line (A, an upper bound) and how it was found."""

    currents_a: tuple[float, ...]
    method: str

    @property
    def worst_a(self) -> float:
        """The most loaded line."""
        return max(self.currents_a)


@dataclass(frozen=True, slots=True)
class _BatteryFlow:
    """Bounds of the battery's charging and discharging power (W)."""

    charging: float | None
    discharging: float | None
    share: float  # fraction of its power on any one line


def _battery_flow(readings: SiteReadings) -> _BatteryFlow:
    share = 1.0 / 3.0 if readings.lines == 3 and readings.battery_phases == 3 else 1.0
    power = readings.battery_w
    if power is not None:
        return _BatteryFlow(max(power, 0.0), max(-power, 0.0), share)
    return _BatteryFlow(readings.charge_limit_w, readings.discharge_limit_w, share)


def _ev_currents_by_line(readings: SiteReadings) -> list[float]:
    """Current the EVs are known to draw now on each line."""
    per_line = [0.0] * readings.lines
    volts = readings.voltage_v
    for lp in readings.loadpoints:
        if not lp.power_w or lp.active_phases is None or not lp.snapshot.online:
            continue
        if lp.active_phases == 3 and readings.lines == 3:
            for line in range(3):
                per_line[line] += lp.power_w / (3 * volts)
        elif lp.active_phases == 1 and lp.line is not None:
            per_line[lp.line] += lp.power_w / volts
    return per_line


def _from_phase_meter(
    readings: SiteReadings, battery: _BatteryFlow
) -> PhaseLoad | None:
    assert readings.phase_currents_a is not None
    if battery.discharging is None:
        return None
    # Discharge on one unknown line, or a third on each: add it back everywhere.
    added = battery.discharging * battery.share / readings.voltage_v
    ev = _ev_currents_by_line(readings)
    return PhaseLoad(
        tuple(
            g - e + added for g, e in zip(readings.phase_currents_a, ev, strict=True)
        ),
        "per-phase grid meter",
    )


def estimate_non_ev_load(
    readings: SiteReadings, split: HouseLoadSplit
) -> PhaseLoad | None:
    """Bound the import current of everything but the EVs, per line."""
    battery = _battery_flow(readings)
    if readings.phase_currents_a is not None:
        measured = _from_phase_meter(readings, battery)
        if measured is not None:
            return measured

    if readings.lines == 1:
        share = pv_credit = 1.0
        method = "one-phase site"
    else:
        share = 1.0 if split == HouseLoadSplit.ONE_PHASE else 1.0 / 3.0
        pv_credit = 1.0 / 3.0 if readings.pv_phases == 3 else 0.0
        method = (
            "house load assumed on one line"
            if split == HouseLoadSplit.ONE_PHASE
            else "house load assumed balanced"
        )

    estimates: list[float] = []
    if readings.house_w is not None and battery.charging is not None:
        estimates.append(
            share * readings.house_w
            + battery.share * battery.charging
            - pv_credit * (readings.pv_w or 0.0)
        )
    uniform = share == pv_credit and (
        not readings.has_battery or battery.share == share
    )
    if readings.grid_w is not None and uniform and battery.discharging is not None:
        estimates.append(
            share * (readings.grid_w - readings.ev_known_w + battery.discharging)
        )
    if not estimates:
        return None
    worst = max(estimates) / readings.voltage_v
    return PhaseLoad((worst,) * readings.lines, method)
