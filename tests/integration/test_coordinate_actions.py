"""The `coordinate` action: overrides, dry runs, its response, and bad input.

A dry run decides from the overrides and returns the documented response but
sends no frame, switches nothing and runs no script; bad input is refused with
a clear error before anything is decided.
"""

from __future__ import annotations

from typing import Any

import pytest
import voluptuous as vol
from homeassistant.exceptions import ServiceValidationError

from custom_components.energy_coordinator.const import DOMAIN

from .site_harness import (
    BATTERY_POWER,
    BATTERY_SCRIPT,
    BATTERY_SOC,
    BOILER,
    Frames,
    SiteHarness,
    site_harness,
)

__all__ = ["site_harness"]

LP = "SIM1/1"

OVERRIDES: dict[str, Any] = {
    "solar": {"production_kw": 8},
    "load": {"critical_load_kw": 0.4, "flexible_load_kw": 0.1},
    "battery": {"state_of_charge_kwh": 5, "power_kw": 0},
    "vehicles": {LP: {"mode": "minpv", "connected": True}},
}


async def _coordinate(h: SiteHarness, **data: Any) -> dict[str, Any]:
    response = await h.hass.services.async_call(
        DOMAIN, "coordinate", data, blocking=True, return_response=True
    )
    assert isinstance(response, dict)
    return response


async def test_dry_run_decides_and_changes_nothing(site_harness: SiteHarness) -> None:
    """The documented response from the overrides; no frame, switch or script."""
    h = site_harness
    await h.battery_script()
    await h.start(
        sources={
            "battery_soc_entity": BATTERY_SOC,
            "battery_power_entity": BATTERY_POWER,
        },
        limits={"battery_capacity_kwh": 10},
        actuators={"battery_script": BATTERY_SCRIPT},
        loads=[(BOILER, 2000, 0)],
    )
    sim = await h.charger()
    frames = Frames(sim)
    boiler = h.hass.states.get(BOILER)
    offered = sim.connectors[1].offered_current_a

    response = await _coordinate(h, dry_run=True, **OVERRIDES)

    assert set(response) >= {"actions", "status", "explanation"}
    assert response["dry_run"] is True
    actions = response["actions"]
    assert set(actions) == {"battery", "vehicles", "loads"}
    # 8 kW PV - 0.5 kW house = 7.5 kW: min+pv charges at floor(7500/690) A.
    vehicle = actions["vehicles"][LP]
    assert {k: vehicle[k] for k in ("mode", "current_a", "phases", "power_kw")} == {
        "mode": "minpv",
        "current_a": 10.8,
        "phases": 3,
        "power_kw": round(10.8 * 690 / 1000, 3),
    }
    assert set(actions["battery"]) == {"mode", "power_kw"}
    assert actions["battery"]["mode"] == "auto"
    assert not actions["battery"]["power_kw"]  # auto: no setpoint
    assert actions["loads"]["shed_kw"] == 0
    assert actions["loads"]["shed"] == []
    status = response["status"]
    assert status["pv_kw"] == 8.0
    assert status["house_kw"] == 0.5
    assert status["battery_soc_pct"] == 50.0
    assert status["battery_kwh"] == 5.0
    assert status["surplus_kw"] == 7.5
    explanation = response["explanation"]
    assert explanation
    assert all(set(item) == {"code", "subject", "message"} for item in explanation)
    assert "ev.minpv" in [item["code"] for item in explanation]

    await h.meters()  # anything sent would have arrived and been applied by now
    assert frames.of("SetChargingProfile") == []
    assert sim.connectors[1].offered_current_a == offered
    assert h.hass.states.get(BOILER) == boiler
    assert h.battery_calls == []
    assert h.site.last is None
    assert h.site.status()["last_decision"] is None

    # The same call without dry_run carries it out.
    response = await _coordinate(h, **OVERRIDES)
    assert response["dry_run"] is False
    assert response["actions"]["vehicles"][LP]["current_a"] == 10.8
    await h.meters()
    assert frames.limits() == [("TxDefaultProfile", 10.8)]
    assert sim.connectors[1].offered_current_a == 10.8
    assert h.battery_calls == [{"mode": "auto", "power_w": 0}]
    assert h.site.last is not None
    assert h.site.last.decision.as_dict() == {
        k: response[k] for k in ("actions", "status", "explanation")
    }


@pytest.mark.parametrize(
    ("data", "error", "key"),
    [
        (
            {"vehicles": {"NOPE/1": {"connected": True}}},
            ServiceValidationError,
            "unknown_loadpoint",
        ),
        ({"solar": {"production_kw": -1}}, vol.Invalid, None),
        (
            {"battery": {"state_of_charge_kwh": 3}},
            ServiceValidationError,
            "battery_capacity_unknown",
        ),
        ({"vehicle": {"mode": "turbo"}}, vol.Invalid, None),
        ({"grid": {"power_kw": "a lot"}}, vol.Invalid, None),
        ({"vehicles": {LP: {"state_of_charge_pct": 120}}}, vol.Invalid, None),
    ],
    ids=[
        "unknown-loadpoint",
        "negative-production",
        "soc-kwh-without-capacity",
        "unknown-mode",
        "not-a-number",
        "soc-over-100",
    ],
)
async def test_bad_input_changes_nothing(
    site_harness: SiteHarness,
    data: dict[str, Any],
    error: type[Exception],
    key: str | None,
) -> None:
    """A clear error, no decision, no frame, no switch."""
    h = site_harness
    await h.start(loads=[(BOILER, 2000, 0)])
    sim = await h.charger()
    frames = Frames(sim)
    boiler = h.hass.states.get(BOILER)

    for dry_run in (False, True):
        with pytest.raises(error) as raised:
            await _coordinate(h, dry_run=dry_run, **data)
        if key is not None:
            assert isinstance(raised.value, ServiceValidationError)
            assert raised.value.translation_domain == DOMAIN
            assert raised.value.translation_key == key
            assert str(raised.value)  # a translated message

    await h.meters()
    assert frames.of("SetChargingProfile") == []
    assert h.site.last is None
    assert h.hass.states.get(BOILER) == boiler


async def test_get_status(site_harness: SiteHarness) -> None:
    """`get_status` shows the site and its loadpoints without acting."""
    h = site_harness
    await h.start()
    sim = await h.charger()
    frames = Frames(sim)
    await h.set_number("pv_w", 3000)
    status = await h.hass.services.async_call(
        DOMAIN, "get_status", {}, blocking=True, return_response=True
    )
    assert isinstance(status, dict)
    assert status["status"]["pv_kw"] == 3.0
    loadpoint = status["loadpoints"][LP]
    assert loadpoint["charger_id"] == "SIM1"
    assert loadpoint["plugged"] is True
    assert loadpoint["mode"] == "pv"
    assert status["last_decision"] is None
    await h.meters()
    assert frames.of("SetChargingProfile") == []


#: The seed's own example: 9.5 kW of solar, 5 kW critical and 3 kW flexible
#: load, a 10 kWh battery holding 6 kWh (below its 80 % priority SoC), an EV
#: plugged in at 40 kWh. 1.5 kW of surplus is left, and the battery takes it.
SEED: dict[str, Any] = {
    "solar": {"production_kw": 9.5},
    "load": {"critical_load_kw": 5, "flexible_load_kw": 3},
    "battery": {"state_of_charge_kwh": 6, "power_kw": 0},
    "vehicle": {"connected": True, "state_of_charge_kwh": 40},
}


@pytest.mark.parametrize("commanded", [True, False], ids=["script", "auto"])
async def test_the_seed_example_puts_the_surplus_in_the_battery(
    site_harness: SiteHarness, commanded: bool
) -> None:
    """1.5 kW of surplus goes to the battery, whether a script commands it or not."""
    h = site_harness
    await h.battery_script()
    await h.start(
        sources={
            "battery_soc_entity": BATTERY_SOC,
            "battery_power_entity": BATTERY_POWER,
        },
        limits={
            "battery_capacity_kwh": 10,
            "battery_priority_soc": 80,
            "battery_max_charge_w": 5000,
        },
        actuators={"battery_script": BATTERY_SCRIPT} if commanded else {},
    )
    await h.charger()

    response = await _coordinate(h, **SEED)

    assert response["status"]["surplus_kw"] == pytest.approx(1.5)
    assert response["actions"]["battery"] == {"mode": "charge", "power_kw": 1.5}
    codes = [r["code"] for r in response["explanation"] if r["subject"] == "battery"]
    assert "battery.charge.priority" in codes
    # The EV does not take the battery's share.
    assert not response["actions"]["vehicles"][LP]["charging"]
    await h.hass.async_block_till_done()
    if commanded:
        assert h.battery_calls[-1] == {"mode": "charge", "power_w": 1500}
    else:
        assert h.battery_calls == []
