"""The demo household model: PV curve, load, battery balance."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from simulator.household import Household


def _day(home: Household, ev_w: float = 0.0) -> list[Household]:
    start = datetime(2026, 6, 21, 0, 0)
    snapshots = []
    for minute in range(0, 24 * 60, 5):
        home.step(start + timedelta(minutes=minute), 300, ev_w)
        snapshots.append(
            Household(
                pv_w=home.pv_w,
                house_w=home.house_w,
                battery_w=home.battery_w,
                grid_w=home.grid_w,
                battery_soc_pct=home.battery_soc_pct,
            )
        )
    return snapshots


def test_pv_is_zero_at_night_and_peaks_midday() -> None:
    """No sun before sunrise or after sunset; the clear sky peaks at noon-ish."""
    home = Household(pv_peak_w=8000)
    assert home.pv_clear_sky(3.0) == 0.0
    assert home.pv_clear_sky(22.0) == 0.0
    assert home.pv_clear_sky(13.5) == pytest.approx(8000, rel=0.01)
    assert home.pv_clear_sky(9.0) < home.pv_clear_sky(12.0)


def test_power_balance_and_battery_limits() -> None:
    """grid = house + ev + battery - pv at every step; SoC stays in range."""
    home = Household(battery_capacity_kwh=5, battery_max_w=3000)
    for snap in _day(home, ev_w=1500):
        assert snap.grid_w == pytest.approx(
            snap.house_w + 1500 + snap.battery_w - snap.pv_w, abs=1
        )
        assert -3000 <= snap.battery_w <= 3000
        assert 0 <= snap.battery_soc_pct <= 100


def test_battery_follows_a_hold_command() -> None:
    """In hold the battery neither charges nor discharges."""
    home = Household()
    home.step(datetime(2026, 6, 21, 12, 0), 60, 0.0, "hold")
    assert home.battery_w == 0
    home.step(datetime(2026, 6, 21, 12, 1), 60, 0.0, "charge", 2000)
    assert home.battery_w == 2000


def test_deterministic_for_a_seed() -> None:
    """The same seed gives the same day."""
    first = [(s.pv_w, s.house_w) for s in _day(Household(seed=3))]
    again = [(s.pv_w, s.house_w) for s in _day(Household(seed=3))]
    assert first == again


def test_energy_meters_count_the_powers_shown() -> None:
    """Each register grows by the step's power times the step's simulated
    duration, never steps back, and the registers balance like the powers do:
    import - export = house + EV + charged - discharged - solar."""
    home = Household()
    start = datetime(2026, 6, 21, 0, 0)
    expected = {"pv": 0.0, "house": 0.0}
    registers = ("grid_import_wh", "grid_export_wh", "pv_wh", "battery_charge_wh")
    last = dict.fromkeys((*registers, "battery_discharge_wh"), 0.0)
    for minute in range(1, 24 * 60, 2):
        home.step(start + timedelta(minutes=minute), 120, 2000.0)
        expected["pv"] += home.pv_w * 120 / 3600
        expected["house"] += home.house_w * 120 / 3600
        for name in last:
            assert getattr(home, name) >= last[name], name
            last[name] = getattr(home, name)
    assert home.pv_wh == pytest.approx(expected["pv"])
    # A sunny June day of a 9 kWp array: tens of kWh, not one.
    assert 30_000 < home.pv_wh < 60_000
    ev_wh = 2000 * 720 * 120 / 3600  # 720 steps of 2 min: a whole day
    balance = (
        expected["house"]
        + ev_wh
        + home.battery_charge_wh
        - home.battery_discharge_wh
        - home.pv_wh
    )
    assert home.grid_import_wh - home.grid_export_wh == pytest.approx(balance, abs=30)
    assert home.battery_charge_wh > 0 and home.battery_discharge_wh > 0
