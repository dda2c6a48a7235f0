"""The add-on's chargers come from the integration's `get_chargers`, on the real HA.

The stack's site runs at 240 V on three phases, so a 230 V constant anywhere in a
conversion shows. The index is built from the action's answer alone (no device or
entity registry needed), is cached (no action call per tool call), follows
registry changes and renamed entities, and finds a charger that connects while
the add-on runs.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from pathlib import Path
from typing import Any

import pytest
from energy_coordinator_mcp.charger_index import ChargerIndex, SiteError
from energy_coordinator_mcp.context import AddonContext
from energy_coordinator_mcp.ha_client import HAClient
from helpers import call, eventually, eventually_async, ok
from mcp import Client
from stack import (
    DOMAIN,
    SITE_VOLTAGE,
    Simulator,
    Stack,
    site_chargers,
    start_simulator,
    stop_simulator,
)


async def _device(stack: Stack, charger_id: str) -> str:
    return str((await site_chargers(stack.ha))["chargers"][charger_id]["device_id"])


async def _registry_settled(ha: HAClient, quiet: float = 1.5) -> None:
    """Wait until no registry reload has happened for `quiet` seconds."""
    version, since = ha.registry_version, time.monotonic()
    deadline = since + 20
    while time.monotonic() - since < quiet:
        await asyncio.sleep(0.1)
        if ha.registry_version != version:
            version, since = ha.registry_version, time.monotonic()
        assert time.monotonic() < deadline, "the registries never settled"


async def _clear_limit(stack: Stack, charger_id: str) -> None:
    await stack.ha.call_service(
        DOMAIN,
        "clear_current_limit",
        {"device_id": await _device(stack, charger_id), "connector_id": 1},
    )


async def test_index_needs_nothing_but_get_chargers(stack: Stack) -> None:
    """With the registries emptied, chargers, connectors and entities are all there."""
    ha = HAClient(stack.url, stack.token)
    await ha.start(wait=30)
    try:
        ha.devices, ha.entities = {}, {}  # nothing to read identifiers from
        index = ChargerIndex(ha)
        chargers = await index.chargers()
        assert set(chargers) == {"t-001", "t-002"}
        t1 = chargers["t-001"]
        assert t1.entities["connected"] == "binary_sensor.t_001_connected"
        assert t1.connectors[1].entities["power"] == "sensor.t_001_power"
        assert t1.connectors[1].loadpoint == "t-001/1"
        assert t1.site.voltage_v == SITE_VOLTAGE and t1.site.phases == 3
        loadpoint = await index.loadpoint("t-002")
        assert loadpoint.loadpoint_id == "t-002/1"
        assert index.setting_entity(loadpoint, "mode") == "select.ev_t_002_charge_mode"
        assert index.setting_entity(loadpoint, "target_soc") == (
            "number.ev_t_002_target_soc"
        )
    finally:
        await ha.stop()


async def test_kw_limit_converted_at_the_sites_voltage(
    client: Client, ctx: AddonContext, stack: Stack
) -> None:
    """11.52 kW on three phases at 240 V is 16 A; 5.76 kW on one phase is 24 A."""
    three = await ok(
        client, "set_current_limit", charger="t-002", limit=11.52, unit="kW", phases=3
    )
    assert three["confirmation_required"] == (
        "Limit t-002 connector 1 to 11.52 kW (≈ 16.0 A per phase on 3 phases at 240 V)"
    )
    try:
        done = await ok(
            client,
            "set_current_limit",
            charger="t-002",
            limit=11.52,
            unit="kW",
            phases=3,
            confirm=three["confirm"],
        )
        # The integration converts the watts it is sent with the same voltage.
        assert done["cap_a"] == 16.0
        assert done["done"].startswith("t-002/1 limited to 11.52 kW (≈ 16.0 A")
        one = await ok(
            client,
            "set_current_limit",
            charger="t-002",
            limit=5760,
            unit="W",
            phases=1,
        )
        assert (
            "(≈ 24.0 A per phase on 1 phase at 240 V)" in one["confirmation_required"]
        )
        done = await ok(
            client,
            "set_current_limit",
            charger="t-002",
            limit=5760,
            unit="W",
            phases=1,
            confirm=one["confirm"],
        )
        assert done["cap_a"] == 24.0
    finally:
        await _clear_limit(stack, "t-002")
    # Without phases: the loadpoint's setting (auto) on the three-phase site.
    auto = await ok(client, "set_current_limit", charger="t-001", limit=7.2, unit="kW")
    assert auto["confirmation_required"].endswith(
        "(≈ 10.0 A per phase on 3 phases at 240 V)"
    )
    _, is_error = await call(
        client, "set_current_limit", charger="t-001", limit=7, unit="kW", phases=2
    )
    assert is_error


async def test_max_power_at_the_sites_voltage(
    client: Client, ctx: AddonContext
) -> None:
    status = await ctx.ha.call_service(DOMAIN, "get_status", {}, return_response=True)
    lp = status["loadpoints"]["t-002/1"]
    phases = 1 if lp["phases"] == "1" else 3
    expected = f"{lp['max_current_a'] * SITE_VOLTAGE * phases / 1000:.1f} kW"
    detail = await ok(client, "list_chargers", charger="t-002")
    assert detail["connectors"][0]["loadpoint"]["max_power"] == expected


async def test_cached_until_the_registry_changes(
    client: Client, ctx: AddonContext, stack: Stack
) -> None:
    index = ctx.registry.index
    await _registry_settled(ctx.ha)
    await ok(client, "list_chargers")
    before = index.fetches
    for _ in range(3):
        await ok(client, "list_chargers")
        await ok(client, "get_site_status")
    assert index.fetches == before  # no get_chargers per tool call
    # A person renames a charger's entity: the next answer uses the new id.
    await stack.ha.ws_command(
        "config/entity_registry/update",
        entity_id="sensor.t_001_power",
        new_entity_id="sensor.left_wall_box_power",
    )
    try:
        await eventually(lambda: "sensor.left_wall_box_power" in ctx.ha.states)

        async def renamed() -> bool:
            charger = await index.charger("t-001")
            return charger.connectors[1].entities["power"] == (
                "sensor.left_wall_box_power"
            )

        await eventually_async(renamed)
        assert index.fetches > before
        listing = await ok(client, "list_chargers")
        t1 = next(c for c in listing["chargers"] if c["charger"] == "t-001")
        assert "power" in t1["connectors"][0]  # read from the renamed entity
    finally:
        await stack.ha.ws_command(
            "config/entity_registry/update",
            entity_id="sensor.left_wall_box_power",
            new_entity_id="sensor.t_001_power",
        )
    # A device named by its owner is found by that name.
    device_id = await _device(stack, "t-002")
    await stack.ha.ws_command(
        "config/device_registry/update", device_id=device_id, name_by_user="Garage"
    )
    try:

        async def by_name() -> Any:
            content, is_error = await call(client, "list_chargers", charger="garage")
            return None if is_error else content

        detail = await eventually_async(by_name)
        assert detail["charger"] == "t-002"
    finally:
        await stack.ha.ws_command(
            "config/device_registry/update", device_id=device_id, name_by_user=None
        )


async def test_unknown_charger_refetches_once(ctx: AddonContext) -> None:
    """A stale answer that lacks a charger is refreshed when it is asked for."""
    index = ChargerIndex(ctx.ha, ttl=3600)
    await _registry_settled(ctx.ha)
    cached = await index.snapshot()
    stale = dict(cached.chargers)
    del stale["t-002"]
    index._cached = dataclasses.replace(
        cached, chargers=stale, fetched_at=cached.fetched_at - 10
    )
    fetches = index.fetches
    assert (await index.charger("t-002")).charger_id == "t-002"
    assert index.fetches == fetches + 1
    # A name nobody has is an error naming the chargers: fetched for once, not
    # again when it is asked for again at once (no fetch storm).
    with pytest.raises(SiteError, match="unknown charger 'nope'.*t-001"):
        await index.charger("nope")
    assert index.fetches == fetches + 2
    for _ in range(3):
        with pytest.raises(SiteError, match="unknown charger"):
            await index.charger("nope")
    assert index.fetches == fetches + 2
    # Misses asked for together share one fetch.
    lps = {k: v for k, v in cached.loadpoints.items() if k != "t-002/1"}
    index._cached = dataclasses.replace(
        cached, chargers=stale, loadpoints=lps, fetched_at=cached.fetched_at - 10
    )
    found = await asyncio.gather(index.charger("t-002"), index.loadpoint("t-002/1"))
    assert [found[0].charger_id, found[1].loadpoint_id] == ["t-002", "t-002/1"]
    assert index.fetches == fetches + 3


async def test_a_charger_added_at_runtime_is_found(
    client: Client, ctx: AddonContext, stack: Stack, tmp_path: Path
) -> None:
    assert (await ok(client, "list_chargers"))["total"] == 2
    simulator = start_simulator(
        stack.ocpp_port,
        tmp_path / "late.log",
        "--chargers",
        "1",
        "--versions",
        "1.6",
        "--id-prefix",
        "late",
    )
    try:

        async def connected() -> bool:
            chargers = (await site_chargers(stack.ha))["chargers"]
            late = chargers.get("late-001", {})
            return bool(late.get("online") and late.get("connectors"))

        await eventually_async(connected, within=30)
        device_id = await _device(stack, "late-001")
        # Asked for at once: found, though the add-on had it cached without it.
        detail = await ok(client, "list_chargers", charger="late-001")
        assert detail["charger"] == "late-001"
        assert detail["device_id"] == device_id
        request = await ok(
            client, "set_current_limit", charger="late-001", limit=11.52, unit="kW"
        )
        assert request["confirmation_required"] == (
            "Limit late-001 connector 1 to 11.52 kW "
            "(≈ 16.0 A per phase on 3 phases at 240 V)"
        )
        listing = await ok(client, "list_chargers")
        assert {c["charger"] for c in listing["chargers"]} == {
            "t-001",
            "t-002",
            "late-001",
        }
    finally:
        await _forget(stack, simulator, "late-001")
    # Removed by its owner: gone from the add-on too.

    async def gone() -> bool:
        listing = await ok(client, "list_chargers")
        return bool(listing["total"] == 2)

    await eventually_async(gone)
    _, is_error = await call(client, "list_chargers", charger="late-001")
    assert is_error


async def _forget(stack: Stack, simulator: Simulator, charger_id: str) -> None:
    """Stop a simulated charger (so it cannot come back), then delete its device."""
    await stop_simulator(simulator)
    assert simulator.poll() is not None
    chargers = (await site_chargers(stack.ha))["chargers"]
    if charger_id in chargers:
        await stack.ha.ws_command(
            "config/device_registry/remove_config_entry",
            device_id=chargers[charger_id]["device_id"],
            config_entry_id=stack.entry_id,
        )

    async def forgotten() -> bool:
        return charger_id not in (await site_chargers(stack.ha))["chargers"]

    await eventually_async(forgotten)
