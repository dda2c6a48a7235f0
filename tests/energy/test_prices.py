"""Price forecasts in the attribute shapes of HA's price integrations."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from custom_components.energy_coordinator.energy.prices import (
    ParsedPrices,
    PriceInterval,
    PriceSeries,
    PriceShape,
    TouPeriod,
    UnknownPriceShape,
    fixed_price,
    parse_price_attributes,
    price_unit_scale,
    time_of_use,
)

AMS = ZoneInfo("Europe/Amsterdam")
STO = ZoneInfo("Europe/Stockholm")
NOW = datetime(2025, 3, 12, 14, 5, tzinfo=AMS)  # tomorrow's prices are out


def parsed(attributes: dict[str, object], **kwargs: object) -> ParsedPrices:
    result = parse_price_attributes(attributes, now=NOW, **kwargs)  # type: ignore[arg-type]
    assert isinstance(result, ParsedPrices), result
    return result


def nord_pool_day(day: datetime, values: list[float | None]) -> list[dict[str, object]]:
    """Nord Pool's `raw_today`: local datetimes (as the custom component keeps
    them in the state machine), one entry per hour or quarter."""
    step = timedelta(days=1) / len(values)
    return [
        {"start": day + step * i, "end": day + step * (i + 1), "value": value}
        for i, value in enumerate(values)
    ]


def test_nord_pool_raw_today_and_tomorrow() -> None:
    today = datetime(2025, 3, 12, tzinfo=STO)
    values = [0.512 + 0.01 * h for h in range(24)]
    attributes = {
        "current_price": 0.652,
        "unit": "kWh",
        "currency": "SEK",
        "today": values,
        "tomorrow": [0.3] * 24,
        "tomorrow_valid": True,
        "raw_today": nord_pool_day(today, values),
        "raw_tomorrow": nord_pool_day(today + timedelta(days=1), [0.3] * 24),
    }
    result = parsed(attributes)
    assert result.shape is PriceShape.NORD_POOL
    series = result.series
    assert series.start == today.astimezone(UTC)
    assert series.end == (today + timedelta(days=2)).astimezone(UTC)
    assert series.price_at(datetime(2025, 3, 12, 13, 30, tzinfo=STO)) == pytest.approx(
        0.642
    )
    # Planner slots are quarter hours: an hourly price holds for four of them.
    slots = series.slot_prices(datetime(2025, 3, 12, 13, 0, tzinfo=STO), 6)
    assert slots == pytest.approx((0.642,) * 4 + (0.652,) * 2)


def test_nord_pool_before_tomorrow_and_with_gaps() -> None:
    """Strings (as read back through the REST API), tomorrow empty, a missing
    value: the series stops where the prices do."""
    today = datetime(2025, 3, 12, tzinfo=STO)
    raw = [
        {
            key: value.isoformat() if isinstance(value, datetime) else value
            for key, value in item.items()
        }
        for item in nord_pool_day(today, [0.4] * 20 + [None, 0.5, 0.5, 0.5])
    ]
    result = parsed({"raw_today": raw, "raw_tomorrow": [], "tomorrow_valid": False})
    assert result.shape is PriceShape.NORD_POOL
    start = datetime(2025, 3, 12, 19, 0, tzinfo=STO)
    assert len(result.series.slot_prices(start, 96)) == 4  # 19:00-20:00, then a gap


def test_nord_pool_quarter_hours() -> None:
    today = datetime(2025, 10, 1, tzinfo=STO)
    values = [round(0.1 + 0.001 * q, 4) for q in range(96)]
    result = parsed({"raw_today": nord_pool_day(today, values), "raw_tomorrow": []})
    prices = result.series.slot_prices(today + timedelta(hours=6), 4)
    assert prices == pytest.approx(values[24:28])


def test_nord_pool_daily_values_only() -> None:
    """Only `today` / `tomorrow` as plain numbers (no raw_*): placed on the local
    day; the spring-forward day has 23 hours."""
    now = datetime(2025, 3, 30, 9, 0, tzinfo=AMS)
    result = parse_price_attributes({"today": [float(h) for h in range(23)]}, now=now)
    assert isinstance(result, ParsedPrices)
    assert result.shape is PriceShape.DAILY_VALUES
    # 03:00 CEST is the third hour of the day (02:00 did not happen).
    assert result.series.price_at(datetime(2025, 3, 30, 3, 30, tzinfo=AMS)) == 2.0
    assert result.series.end == datetime(2025, 3, 31, tzinfo=AMS).astimezone(UTC)


def test_entso_e_prices() -> None:
    """ENTSO-e keeps `prices` as [{time, price}], times as pandas prints them."""
    prices = [
        {"time": f"2025-03-12 {h:02d}:00:00+01:00", "price": 0.08 + h / 1000}
        for h in range(24)
    ] + [{"time": f"2025-03-13 {h:02d}:00:00+01:00", "price": 0.07} for h in range(24)]
    attributes = {
        "current_price": 0.094,
        "prices_today": prices[:24],
        "prices_tomorrow": prices[24:],
        "prices": prices,
    }
    result = parsed(attributes)
    assert result.shape is PriceShape.ENTSO_E
    assert result.series.price_at(
        datetime(2025, 3, 12, 13, 45, tzinfo=AMS)
    ) == pytest.approx(0.093)
    assert result.series.end == datetime(2025, 3, 14, tzinfo=AMS).astimezone(UTC)


def test_tibber_today_tomorrow() -> None:
    today = [
        {
            "total": 0.2541 + 0.001 * h,
            "energy": 0.1,
            "tax": 0.15,
            "startsAt": f"2025-03-12T{h:02d}:00:00.000+01:00",
            "level": "NORMAL",
        }
        for h in range(24)
    ]
    result = parsed({"today": today, "tomorrow": []})
    assert result.shape is PriceShape.TIBBER
    assert result.series.price_at(
        datetime(2025, 3, 12, 23, 59, tzinfo=AMS)
    ) == pytest.approx(0.2771)
    assert result.series.end == datetime(2025, 3, 13, tzinfo=AMS).astimezone(UTC)


def test_plain_list_with_ends_and_cents() -> None:
    forecast = [
        {"start": "2025-03-12T13:00:00Z", "end": "2025-03-12T13:30:00Z", "price": 21.5},
        {"start": "2025-03-12T13:30:00Z", "end": "2025-03-12T14:00:00Z", "price": 19.5},
    ]
    result = parsed({"forecast": forecast}, scale=price_unit_scale("ct/kWh"))
    assert result.shape is PriceShape.LIST
    start = datetime(2025, 3, 12, 13, 0, tzinfo=UTC)
    assert result.series.slot_prices(start, 8) == pytest.approx(
        (0.215, 0.215, 0.195, 0.195)
    )


def test_unknown_shape_names_what_was_there() -> None:
    result = parse_price_attributes(
        {"friendly_name": "Price", "unit_of_measurement": "EUR/kWh", "average": 0.3},
        now=NOW,
    )
    assert isinstance(result, UnknownPriceShape)
    assert result.attributes == ("average", "friendly_name", "unit_of_measurement")
    assert "no price forecast" in result.reason
    # A list of something else is no price forecast either.
    result = parse_price_attributes({"forecast": [{"temperature": 3}]}, now=NOW)
    assert isinstance(result, UnknownPriceShape)


def test_price_units() -> None:
    assert price_unit_scale("EUR/kWh") == 1.0
    assert price_unit_scale("SEK/kWh") == 1.0
    assert price_unit_scale("c/kWh") == pytest.approx(0.01)
    assert price_unit_scale("öre/kWh") == pytest.approx(0.01)
    assert price_unit_scale("€/MWh") == pytest.approx(0.001)
    assert price_unit_scale("kWh") is None
    assert price_unit_scale("EUR/m³") is None
    assert price_unit_scale(None) is None


def test_fixed_price_and_time_of_use() -> None:
    start = datetime(2025, 3, 14, 21, 50, tzinfo=AMS)  # a Friday
    fixed = fixed_price(0.28, start, 48)
    assert fixed.slot_prices(start, 192) == (0.28,) * 192
    periods = [
        TouPeriod(time(7), 0.32),
        TouPeriod(time(23), 0.21),
        TouPeriod(time(0), 0.21, frozenset({5, 6})),  # weekend: off-peak all day
    ]
    tou = time_of_use(periods, start, 48, AMS)
    assert tou.price_at(start) == 0.32
    assert tou.price_at(datetime(2025, 3, 14, 23, 30, tzinfo=AMS)) == 0.21
    assert tou.price_at(datetime(2025, 3, 15, 6, 0, tzinfo=AMS)) == 0.21
    # Saturday's own 00:00 period wins over Friday's 07:00 repeating.
    assert tou.price_at(datetime(2025, 3, 15, 12, 0, tzinfo=AMS)) == 0.21
    assert len(tou.slot_prices(start, 400)) == 192


def test_series_rejects_overlaps_and_averages_finer_prices() -> None:
    t = datetime(2025, 1, 1, tzinfo=UTC)
    five = [
        PriceInterval(
            t + timedelta(minutes=5 * i), t + timedelta(minutes=5 * (i + 1)), float(i)
        )
        for i in range(6)
    ]
    assert PriceSeries(tuple(five)).slot_prices(t, 2) == pytest.approx((1.0, 4.0))
    with pytest.raises(ValueError, match="overlap"):
        PriceSeries((five[1], five[0]))
