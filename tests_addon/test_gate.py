"""The confirmation gate has no back door through `call_service`.

With the add-on's default options `switch` is allowed and not confirmed, so a call
on a home switch runs at once; but anything that reaches a part of Energy
Coordinator (a charger's *Charge* switch stops or starts a session) waits for the
confirmation code, however it is targeted: by entity, by device, by area, through a
scene that switches it, or by naming it in the data. What belongs to the
integration the add-on learns from HA's registries (checked here against HA's own
answer). A code sent as a number counts like the same code as a string.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from energy_coordinator_mcp.config import Options
from energy_coordinator_mcp.context import AddonContext
from energy_coordinator_mcp.security import ConfirmationGate
from energy_coordinator_mcp.tools import ToolRegistry, ToolResult
from helpers import eventually
from stack import CHARGE_SWITCH, Stack

CALLER = "test:gate"


@pytest.fixture(scope="module")
def registry(ctx: AddonContext) -> ToolRegistry:
    """The tools with the add-on's default options (switch: not confirmed)."""
    options = Options()
    assert "switch" in options.allowed_domains
    assert "switch" not in options.confirm_domains
    return ToolRegistry(
        ctx.ha,
        options,
        gate=ConfirmationGate(),
        audit=ctx.audit,
        redactor=ctx.redactor,
    )


async def call(registry: ToolRegistry, **arguments: Any) -> ToolResult:
    """One call_service call."""
    return await registry.call("call_service", arguments, CALLER)


def charger_device(ctx: AddonContext) -> str:
    """The device of charger t-001, which owns the charge switch."""
    return str(ctx.ha.entities[CHARGE_SWITCH]["device_id"])


def gated(result: ToolResult) -> str:
    """The confirmation summary (the call must not have run)."""
    assert not result.is_error, result.content
    assert result.confirmation is not None, result.content
    summary = str(result.content["confirmation_required"])
    assert "Energy Coordinator" in summary and CHARGE_SWITCH in summary, summary
    return summary


@pytest.fixture(scope="module")
async def charge_switch(ctx: AddonContext, stack: Stack) -> AsyncIterator[str]:
    """t-001's charge switch, as HA itself lists the integration's entities."""
    await eventually(lambda: CHARGE_SWITCH in ctx.ha.states, within=20)
    entries = await stack.ha.ws_command("config/entity_registry/list")
    ours = {e["entity_id"] for e in entries if e["platform"] == "energy_coordinator"}
    assert CHARGE_SWITCH in ours
    yield CHARGE_SWITCH


async def test_a_home_switch_runs_at_once(registry: ToolRegistry) -> None:
    result = await call(
        registry, domain="switch", service="turn_off", entity_id="switch.garage_socket"
    )
    assert not result.is_error and result.confirmation is None, result.content
    assert result.content["done"] == "switch.turn_off"


async def test_charge_switch_by_entity(
    registry: ToolRegistry, ctx: AddonContext, charge_switch: str
) -> None:
    before = ctx.ha.states[charge_switch].state
    for service in ("turn_off", "turn_on", "toggle"):
        summary = gated(
            await call(
                registry, domain="switch", service=service, entity_id=[charge_switch]
            )
        )
        assert summary.startswith(f"Call switch.{service} on {charge_switch}")
    assert ctx.ha.states[charge_switch].state == before  # nothing happened


async def test_charger_by_device(
    registry: ToolRegistry, ctx: AddonContext, charge_switch: str
) -> None:
    device_id = charger_device(ctx)
    summary = gated(
        await call(registry, domain="switch", service="turn_off", device_id=device_id)
    )
    assert "device " in summary
    unknown = await call(
        registry, domain="switch", service="turn_off", device_id="no-such-device"
    )
    assert unknown.is_error and "unknown device" in unknown.content["error"]


async def test_charger_by_area(
    registry: ToolRegistry, ctx: AddonContext, stack: Stack, charge_switch: str
) -> None:
    device_id = charger_device(ctx)
    await stack.ha.ws_command(
        "config/device_registry/update", device_id=device_id, area_id="garage"
    )
    try:
        await eventually(
            lambda: ctx.ha.devices[device_id].get("area_id") == "garage", within=10
        )
        for area in ("garage", "Garage"):
            summary = gated(
                await call(registry, domain="switch", service="turn_off", area_id=area)
            )
            assert "area Garage" in summary
    finally:
        await stack.ha.ws_command(
            "config/device_registry/update", device_id=device_id, area_id=None
        )
    await eventually(lambda: not ctx.ha.devices[device_id].get("area_id"), within=10)
    # Without the charger the garage's switches are the home's own again.
    result = await call(registry, domain="switch", service="turn_off", area_id="garage")
    assert result.confirmation is None and not result.is_error, result.content


async def test_through_a_scene_or_named_in_data(
    registry: ToolRegistry, charge_switch: str
) -> None:
    gated(
        await call(
            registry,
            domain="scene",
            service="turn_on",
            entity_id="scene.garage_night",
        )
    )
    gated(
        await call(
            registry,
            domain="scene",
            service="apply",
            data={"entities": {charge_switch: "off"}},
        )
    )
    plain = await call(
        registry, domain="scene", service="turn_on", entity_id="scene.garage_off"
    )
    assert plain.confirmation is None and not plain.is_error, plain.content


async def test_targets_inside_data_are_refused(
    registry: ToolRegistry, charge_switch: str
) -> None:
    for key, value in (
        ("entity_id", charge_switch),
        ("device_id", "x"),
        ("area_id", "garage"),
        ("floor_id", "ground"),
        ("label_id", "ev"),
    ):
        result = await call(
            registry, domain="switch", service="turn_off", data={key: value}
        )
        assert result.is_error, (key, result.content)
        assert "not inside data" in result.content["error"]


async def test_code_as_a_number(
    registry: ToolRegistry, ctx: AddonContext, charge_switch: str
) -> None:
    """The code comes back as a number and runs the call (a harmless home one)."""
    confirmed = ToolRegistry(
        ctx.ha,
        Options(confirm_domains=("input_boolean",)),
        gate=ConfirmationGate(),
        audit=ctx.audit,
        redactor=ctx.redactor,
    )
    arguments = {
        "domain": "input_boolean",
        "service": "turn_off",
        "entity_id": "input_boolean.kitchen_light",
    }
    for kind in (int, str):
        request = await confirmed.call("call_service", dict(arguments), CALLER)
        code = request.content["confirm"]
        assert isinstance(code, str) and len(code) == 6
        done = await confirmed.call(
            "call_service", {**arguments, "confirm": kind(code)}, CALLER
        )
        assert not done.is_error, (kind, done.content)
        assert done.content["done"] == "input_boolean.turn_off"
    stale = await confirmed.call("call_service", {**arguments, "confirm": 1}, CALLER)
    assert stale.is_error and "code" in stale.content["error"]
    wrong_type = await confirmed.call(
        "call_service", {**arguments, "confirm": [1]}, CALLER
    )
    assert wrong_type.is_error and "confirm" in wrong_type.content["error"]
