"""Meter values: unit conversion and folding samples into a `MeterReading`.

Owns the mapping from OCPP measurands, phases and units (W/kW, Wh/kWh, A, V, %, ...)
onto the SI fields of `MeterReading`, and the monotonic energy counter that never steps
backwards and never counts energy twice, whatever order samples arrive in.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from .model import MeterReading
from .sessions import EnergyTotal

ENERGY_REGISTER = "Energy.Active.Import.Register"

# Unit -> (canonical unit, factor to it)
_UNITS: dict[str, tuple[str, float]] = {
    "W": ("W", 1.0),
    "kW": ("W", 1000.0),
    "Wh": ("Wh", 1.0),
    "kWh": ("Wh", 1000.0),
    "A": ("A", 1.0),
    "V": ("V", 1.0),
    "Percent": ("Percent", 1.0),
    "Celsius": ("Celsius", 1.0),
    "Fahrenheit": ("Celsius", 1.0),  # converted below
    "K": ("Celsius", 1.0),  # converted below
    "Hz": ("Hz", 1.0),
    "var": ("var", 1.0),
    "kvar": ("var", 1000.0),
    "varh": ("varh", 1.0),
    "kvarh": ("varh", 1000.0),
    "VA": ("VA", 1.0),
    "kVA": ("VA", 1000.0),
}

# The unit OCPP assumes when a sample gives none.
_DEFAULT_UNIT: dict[str, str] = {
    "Energy.Active.Import.Register": "Wh",
    "Energy.Active.Export.Register": "Wh",
    "Energy.Active.Import.Interval": "Wh",
    "Energy.Active.Export.Interval": "Wh",
    "Power.Active.Import": "W",
    "Power.Active.Export": "W",
    "Power.Offered": "W",
    "Current.Import": "A",
    "Current.Export": "A",
    "Current.Offered": "A",
    "Voltage": "V",
    "SoC": "Percent",
    "Temperature": "Celsius",
    "Frequency": "Hz",
}


@dataclass(frozen=True, slots=True)
class Sample:
    """One sampled value, already a number, before unit conversion."""

    value: float
    measurand: str = ENERGY_REGISTER
    phase: str | None = None
    unit: str | None = None
    location: str | None = None


def to_si(sample: Sample) -> float:
    """The sample's value in W, Wh, A, V, %, °C or Hz."""
    unit = sample.unit or _DEFAULT_UNIT.get(sample.measurand, "")
    _, factor = _UNITS.get(unit, (unit, 1.0))
    value = sample.value * factor
    if unit == "Fahrenheit":
        value = (value - 32.0) * 5.0 / 9.0
    elif unit == "K":
        value -= 273.15
    return value


def _phase_key(phase: str) -> str | None:
    """'L1', 'L1-N' -> 'L1'; line-to-line and neutral phases -> None."""
    if phase in ("L1", "L2", "L3", "L1-N", "L2-N", "L3-N"):
        return phase[:2]
    return None


def apply_samples(
    reading: MeterReading, samples: Iterable[Sample], timestamp: datetime | None
) -> float | None:
    """Fold samples into `reading`; returns the energy register in Wh if present."""
    register: float | None = None
    phase_power: dict[str, float] = {}
    total_power: float | None = None
    current_phases: dict[str, float] = {}
    current_total: float | None = None
    voltage_phases: dict[str, float] = {}
    voltage_total: float | None = None
    for sample in samples:
        value = to_si(sample)
        measurand = sample.measurand
        phase = _phase_key(sample.phase) if sample.phase else None
        if measurand == ENERGY_REGISTER:
            if sample.phase is None:
                register = value
        elif measurand == "Power.Active.Import":
            if phase:
                phase_power[phase] = value
            elif sample.phase is None:
                total_power = value
        elif measurand == "Current.Import":
            if phase:
                current_phases[phase] = value
            elif sample.phase is None:
                current_total = value
        elif measurand == "Voltage":
            if phase:
                voltage_phases[phase] = value
            elif sample.phase is None:
                voltage_total = value
        elif measurand == "Current.Offered":
            reading.current_offered_a = value
        elif measurand == "Power.Offered":
            reading.power_offered_w = value
        elif measurand == "SoC":
            reading.soc_percent = value
        elif measurand == "Temperature":
            reading.temperature_c = value
        elif measurand == "Frequency":
            reading.frequency_hz = value
        else:
            key = f"{measurand}.{sample.phase}" if sample.phase else measurand
            reading.other[key] = value
    if register is not None:
        reading.energy_wh = register
    if total_power is not None:
        reading.power_w = total_power
    elif phase_power:
        reading.power_w = sum(phase_power.values())
    if current_phases:
        reading.current_phases_a = current_phases
        reading.current_a = max(current_phases.values())
    elif current_total is not None:
        reading.current_phases_a = {}
        reading.current_a = current_total
    if voltage_phases:
        reading.voltage_phases_v = voltage_phases
        reading.voltage_v = sum(voltage_phases.values()) / len(voltage_phases)
    elif voltage_total is not None:
        reading.voltage_v = voltage_total
    if timestamp is not None:
        reading.timestamp = timestamp
    reading.updates += 1
    return register


def advance_total(total: EnergyTotal, register_wh: float) -> EnergyTotal:
    """Add what the register moved since last time; a backward step adds nothing.

    A register below the last one is either an old sample delivered late (e.g. the
    Transaction.Begin value inside a StopTransaction's transactionData) or a meter
    that was reset. Neither may move the baseline back, or the energy between the
    two values would be counted twice; the baseline moves down only when a new
    transaction starts below it (see `ledger.SessionLedger.open`).
    """
    last = total.last_register_wh
    if last is None:
        return EnergyTotal(total.total_wh, register_wh)
    if register_wh <= last:
        return total
    return EnergyTotal(total.total_wh + (register_wh - last), register_wh)
