"""Pure parts of the simulator: EV model, charging profiles, CLI parsing."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from simulator import EV, ChargePoint16, ChargePoint201
from simulator.__main__ import build_parser
from simulator.base import fmt
from simulator.profiles import ProfileStore, parse_profile
from simulator.runner import create_charge_point, make_fleet

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def test_ev_charges_to_target_and_stops() -> None:
    ev = EV(capacity_kwh=50, soc=50, target_soc=60)
    assert ev.energy_to_target_wh == pytest.approx(5000)
    assert ev.charge(11_000, 3600) == pytest.approx(5000)  # capped at target
    assert ev.soc == pytest.approx(60)
    assert ev.at_target
    assert ev.charge(11_000, 60) == 0
    assert ev.accepted_power_w(11_000) == 0


def test_ev_power_cap_and_validation() -> None:
    ev = EV(max_power_w=7_400, phases=1)
    assert ev.accepted_power_w(22_000) == 7_400
    assert ev.accepted_power_w(3_000) == 3_000
    with pytest.raises(ValueError):
        EV(phases=4)
    with pytest.raises(ValueError):
        EV(soc=120)
    rng = random.Random(1)
    for _ in range(20):
        demo = EV.random(rng)
        assert demo.soc < demo.target_soc <= 100


def _profile(
    pid: int,
    purpose: str,
    limit: float,
    *,
    stack: int = 0,
    unit: str = "A",
    periods: list[dict[str, float]] | None = None,
    **extra: object,
) -> dict[str, object]:
    return {
        "charging_profile_id": pid,
        "stack_level": stack,
        "charging_profile_purpose": purpose,
        "charging_profile_kind": extra.pop("kind", "Relative"),
        "charging_schedule": {
            "charging_rate_unit": unit,
            "charging_schedule_period": periods
            or [{"start_period": 0, "limit": limit}],
            **extra,
        },
    }


def test_profile_precedence() -> None:
    store = ProfileStore()
    store.install(parse_profile(_profile(1, "TxDefaultProfile", 20), 0))
    store.install(parse_profile(_profile(2, "TxDefaultProfile", 10, stack=1), 0))
    limit = store.limit_for(1, NOW, transaction_id=None, tx_start=None)
    assert limit.amps == 10  # highest stack level wins

    # A connector-specific default beats the connector 0 default.
    store.install(parse_profile(_profile(3, "TxDefaultProfile", 25), 1))
    assert store.limit_for(1, NOW, transaction_id=None, tx_start=None).amps == 25

    # A TxProfile replaces the default during its transaction, even if higher.
    store.install(parse_profile(_profile(4, "TxProfile", 30), 1))
    assert store.limit_for(1, NOW, transaction_id=7, tx_start=NOW).amps == 30
    assert store.limit_for(1, NOW, transaction_id=None, tx_start=None).amps == 25

    # The charger maximum caps everything and is shared by active connectors.
    store.install(
        parse_profile(_profile(5, "ChargePointMaxProfile", 22_080, unit="W"), 0)
    )
    both = store.limit_for(1, NOW, transaction_id=7, tx_start=NOW, active_connectors=2)
    assert (both.amps, both.watts) == (30, 11_040)

    store.end_transaction(7, 1)
    assert 4 not in store.profiles
    assert store.clear(purpose="TxDefaultProfile", connector_id=0) == 2
    assert store.clear(profile_id=99) == 0


def test_profile_same_slot_replaces() -> None:
    store = ProfileStore()
    store.install(parse_profile(_profile(1, "TxDefaultProfile", 20), 0))
    store.install(parse_profile(_profile(2, "TxDefaultProfile", 8), 0))
    assert list(store.profiles) == [2]


def test_schedule_periods_follow_time() -> None:
    periods = [
        {"start_period": 0, "limit": 6},
        {"start_period": 600, "limit": 16, "number_phases": 1},
    ]
    profile = parse_profile(
        _profile(1, "TxProfile", 0, periods=periods, duration=1200), 1
    )
    first = profile.period_at(NOW, NOW)
    assert first is not None and first.limit == 6
    later = profile.period_at(NOW + timedelta(seconds=700), NOW)
    assert later is not None and (later.limit, later.number_phases) == (16, 1)
    assert profile.period_at(NOW + timedelta(seconds=1300), NOW) is None

    absolute = parse_profile(
        _profile(
            2,
            "TxDefaultProfile",
            0,
            kind="Absolute",
            periods=periods,
            start_schedule="2026-01-01T11:45:00Z",
        ),
        0,
    )
    current = absolute.period_at(NOW, None)
    assert current is not None and current.limit == 16


def test_profile_201_shape() -> None:
    profile = parse_profile(
        {
            "id": 3,
            "stack_level": 2,
            "charging_profile_purpose": "ChargingStationMaxProfile",
            "charging_profile_kind": "Absolute",
            "charging_schedule": [
                {
                    "id": 1,
                    "charging_rate_unit": "W",
                    "charging_schedule_period": [{"start_period": 0, "limit": 7000}],
                }
            ],
        },
        0,
    )
    assert (profile.id, profile.purpose, profile.unit) == (
        3,
        "ChargePointMaxProfile",
        "W",
    )
    with pytest.raises(ValueError):
        parse_profile({"charging_profile_purpose": "Nope"}, 0)


def test_fmt() -> None:
    assert fmt(11040.0) == "11040"
    assert fmt(0.123) == "0.12"
    assert fmt(-0.001) == "0"


def test_cli_and_fleet() -> None:
    args = build_parser().parse_args(
        [
            "--url",
            "ws://127.0.0.1:9000/ocpp",
            "--chargers",
            "3",
            "--versions",
            "1.6,2.0.1",
            "--password",
            "secret",
            "--meter-interval",
            "0.5",
            "--auto-session",
        ]
    )
    assert args.versions == ["1.6", "2.0.1"]
    assert args.meter_interval == 0.5
    assert args.auto_session
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--url", "ws://x", "--versions", "1.5"])

    fleet = make_fleet(args.url, 3, args.versions, id_prefix="x", password="pw")
    assert [c.charger_id for c in fleet] == ["x-001", "x-002", "x-003"]
    assert [type(c) for c in fleet] == [ChargePoint16, ChargePoint201, ChargePoint16]
    assert fleet[1].endpoint == "ws://127.0.0.1:9000/ocpp/x-002"
    assert fleet[0]._headers() == {"Authorization": "Basic eC0wMDE6cHc="}
    with pytest.raises(ValueError):
        create_charge_point("1.5", "a", "ws://x")
