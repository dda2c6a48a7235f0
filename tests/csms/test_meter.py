"""Unit conversion, sample folding and the monotonic energy total."""

from __future__ import annotations

import pytest

from custom_components.energy_coordinator.csms.meter import (
    Sample,
    advance_total,
    apply_samples,
    to_si,
)
from custom_components.energy_coordinator.csms.model import MeterReading
from custom_components.energy_coordinator.csms.sessions import EnergyTotal


@pytest.mark.parametrize(
    ("sample", "expected"),
    [
        (Sample(1.5, "Energy.Active.Import.Register", unit="kWh"), 1500.0),
        (Sample(1500, "Energy.Active.Import.Register"), 1500.0),
        (Sample(7.4, "Power.Active.Import", unit="kW"), 7400.0),
        (Sample(230, "Voltage"), 230.0),
        (Sample(68, "Temperature", unit="Fahrenheit"), 20.0),
        (Sample(300.15, "Temperature", unit="K"), 27.0),
    ],
)
def test_to_si(sample: Sample, expected: float) -> None:
    """Values come out in W, Wh, V and °C."""
    assert to_si(sample) == pytest.approx(expected)


def test_apply_samples_phases() -> None:
    """Per-phase current and voltage fold into max/average and attributes."""
    reading = MeterReading()
    register = apply_samples(
        reading,
        [
            Sample(12.5, "Energy.Active.Import.Register", unit="kWh"),
            Sample(16, "Current.Import", phase="L1"),
            Sample(15.5, "Current.Import", phase="L2"),
            Sample(16.2, "Current.Import", phase="L3"),
            Sample(230, "Voltage", phase="L1-N"),
            Sample(232, "Voltage", phase="L2-N"),
            Sample(231, "Voltage", phase="L3-N"),
            Sample(400, "Voltage", phase="L1-L2"),
            Sample(3.7, "Power.Active.Import", phase="L1", unit="kW"),
            Sample(3.6, "Power.Active.Import", phase="L2", unit="kW"),
            Sample(3.7, "Power.Active.Import", phase="L3", unit="kW"),
            Sample(80, "SoC", location="EV"),
            Sample(32, "Current.Offered"),
        ],
        None,
    )
    assert register == 12500
    assert reading.energy_wh == 12500
    assert reading.current_a == 16.2
    assert reading.current_phases_a == {"L1": 16, "L2": 15.5, "L3": 16.2}
    assert reading.voltage_v == pytest.approx(231)
    assert reading.power_w == pytest.approx(11000)
    assert reading.soc_percent == 80
    assert reading.current_offered_a == 32


def test_total_power_wins_over_phases() -> None:
    """A reported total is used as is."""
    reading = MeterReading()
    apply_samples(
        reading,
        [
            Sample(7000, "Power.Active.Import"),
            Sample(2000, "Power.Active.Import", phase="L1"),
        ],
        None,
    )
    assert reading.power_w == 7000


def test_energy_total_never_decreases_nor_double_counts() -> None:
    """Forward steps add up; a late lower sample changes nothing."""
    total = EnergyTotal(0.0, None)
    for register, expected in [
        (1000, 0),
        (1500, 500),
        (2500, 1500),
        (1000, 1500),  # an old sample (transactionData): ignored
        (2600, 1600),  # counted from 2500, not from 1000
        (100, 1600),  # a reset mid-transaction: nothing added
        (400, 1600),
        (2700, 1700),
    ]:
        total = advance_total(total, register)
        assert total.total_wh == expected
