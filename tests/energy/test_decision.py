"""The decision's JSON shape, the explanation, and the state's round trip."""

from __future__ import annotations

import json

import pytest

from custom_components.energy_coordinator.energy import (
    ChargeMode,
    Code,
    ControllerState,
    LoadpointState,
    LoadState,
    SiteSnapshot,
    decide,
)

from .builders import battery, drive, ev, load, site, with_surplus

STEPS = [float(t) for t in range(0, 121, 10)]


def home() -> SiteSnapshot:
    return with_surplus(
        site(
            ev("garage", mode=ChargeMode.PV),
            ev("drive", mode=ChargeMode.NOW, priority=1),
            battery=battery(priority_soc_pct=20, buffer_soc_pct=90),
            loads=(load("heater", 2000), load("pool", 800, priority=1)),
            grid_limit_a=32,
        ),
        9000,
    )


def test_as_dict_shape() -> None:
    decision = decide(home(), None, 0.0)
    data = json.loads(json.dumps(decision.as_dict(), allow_nan=False))
    assert set(data) == {"actions", "status", "explanation"}
    assert set(data["actions"]) == {"battery", "vehicles", "loads"}
    assert set(data["actions"]["battery"]) == {"mode", "power_kw"}
    assert set(data["actions"]["vehicles"]) == {"garage", "drive"}
    for vehicle in data["actions"]["vehicles"].values():
        assert {"mode", "current_a", "phases", "power_kw"} <= set(vehicle)
    assert {"shed_kw", "shed", "restore"} <= set(data["actions"]["loads"])
    assert {
        "pv_kw",
        "grid_kw",
        "house_kw",
        "battery_soc_pct",
        "battery_kwh",
        "battery_kw",
        "surplus_kw",
        "grid_limit_a",
        "missing_inputs",
    } <= set(data["status"])
    for sentence in data["explanation"]:
        assert set(sentence) == {"code", "subject", "message"}
        assert sentence["code"] in {c.value for c in Code}
        assert sentence["message"].endswith(".")


def test_every_loadpoint_is_explained() -> None:
    decision = decide(home(), None, 0.0)
    assert decision.codes("drive")[0] == "ev.now"
    assert decision.codes("garage")


def test_state_round_trips_through_json() -> None:
    state = ControllerState.create(
        {
            "a": LoadpointState(
                enabled=True,
                phases=1,
                enable_since=1.5,
                disable_since=None,
                phase_since=3.0,
                phase_target=3,
                last_switch_at=0.0,
            )
        },
        {"heater": LoadState(shed=True, reason="grid", shed_at=2.0, restore_since=9.0)},
    )
    restored = ControllerState.from_dict(json.loads(json.dumps(state.to_dict())))
    assert restored == state


def test_state_survives_json_between_calls() -> None:
    """Persisting and reloading the state between calls changes nothing."""
    direct = drive(ev(), lambda t: 3000 + 20 * t, STEPS)
    stored = drive(ev(), lambda t: 3000 + 20 * t, STEPS, persist=True)
    for t in STEPS:
        assert direct[t].as_dict() == stored[t].as_dict()


@pytest.mark.parametrize(
    "raw",
    [
        None,
        3,
        "x",
        [],
        {"version": 99},
        {"version": 1, "loadpoints": "nope"},
        {"version": 1, "loadpoints": {"a": {"enabled": "yes", "phases": 2}}},
    ],
)
def test_unreadable_state_starts_fresh(raw: object) -> None:
    state = ControllerState.from_dict(raw)
    assert state.loadpoint("a") == LoadpointState()
    assert decide(site(ev()), state, 0.0).actions.vehicles["garage"].current_a == 0


def test_state_is_read_only() -> None:
    state = decide(site(ev()), None, 0.0).new_state
    with pytest.raises(TypeError):
        state.loadpoints["x"] = LoadpointState()  # type: ignore[index]


def test_decisions_are_deterministic() -> None:
    first = decide(home(), None, 0.0)
    second = decide(home(), None, 0.0)
    assert first == second
    assert json.dumps(first.as_dict()) == json.dumps(second.as_dict())
