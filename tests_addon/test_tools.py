"""Every tool through the SDK's in-memory client, against a real Home Assistant."""

from __future__ import annotations

import logging
from typing import Any

import jsonschema
import pytest
from energy_coordinator_mcp.context import AddonContext
from helpers import call, confirmed, eventually, ok
from mcp import Client
from stack import Stack, set_input

EXPECTED_TOOLS = [
    "get_site_status",
    "list_chargers",
    "get_plan",
    "explain_decision",
    "get_sessions",
    "start_charging",
    "stop_charging",
    "set_charge_mode",
    "set_charge_target",
    "set_current_limit",
    "run_coordination",
    "search_entities",
    "get_states",
    "get_history",
    "call_service",
]
READ_TOOLS = {
    "get_site_status",
    "list_chargers",
    "get_plan",
    "explain_decision",
    "get_sessions",
    "search_entities",
    "get_states",
    "get_history",
}


async def test_tools_listed_in_order_with_schemas_and_hints(client: Client) -> None:
    tools = (await client.list_tools()).tools
    assert [t.name for t in tools] == EXPECTED_TOOLS
    for tool in tools:
        jsonschema.Draft202012Validator.check_schema(tool.input_schema)
        assert tool.input_schema["type"] == "object"
        assert tool.description
        assert tool.annotations is not None
        read = tool.name in READ_TOOLS
        assert tool.annotations.read_only_hint is read
        if read:
            assert tool.annotations.destructive_hint is False
        else:
            assert "confirm" in tool.input_schema["properties"]


async def test_site_status_answers_the_energy_question(client: Client) -> None:
    status = await ok(client, "get_site_status")
    assert status["solar"] == "4.20 kW"
    assert status["grid"].startswith("exporting 1.10 kW")
    assert "A/phase" in status["grid"]
    # The integration's home battery, not a phone or sensor battery.
    assert status["home_battery"].startswith("63.0 % SoC, charging at 1.20 kW")
    assert "kW" in status["house"]
    lps = {ev["loadpoint"]: ev for ev in status["evs"]}
    assert set(lps) == {"t-001/1", "t-002/1"}
    for ev in lps.values():
        assert ev["state"] and ev["mode"] in ("off", "now", "minpv", "pv")
    assert "coordinator" in status


async def test_site_status_follows_the_sources(
    client: Client, stack: Stack, ctx: AddonContext
) -> None:
    await set_input(stack.ha, "pv_power", 5300)
    await eventually(lambda: ctx.ha.states["sensor.pv_power"].state.startswith("5300"))
    status = await ok(client, "get_site_status")
    assert status["solar"] == "5.30 kW"
    await set_input(stack.ha, "pv_power", 4200)


async def test_list_chargers(client: Client) -> None:
    listing = await ok(client, "list_chargers")
    assert listing["total"] == 2
    chargers = {c["charger"]: c for c in listing["chargers"]}
    assert set(chargers) == {"t-001", "t-002"}
    for charger in chargers.values():
        assert charger["online"] is True
        assert charger["connectors"][0]["connector"] == 1
        assert charger["connectors"][0]["status"]


async def test_charger_detail_and_unknown_charger(client: Client) -> None:
    detail = await ok(client, "list_chargers", charger="t-002")
    assert detail["charger"] == "t-002"
    assert detail["ocpp_version"] in ("1.6", "2.0.1")
    assert detail["connectors"][0]["connector"] == 1
    assert "loadpoint" in detail["connectors"][0]
    error, is_error = await call(client, "list_chargers", charger="nope")
    assert is_error
    assert "t-001" in error["error"] and "t-002" in error["error"]


async def test_find_available_charger(client: Client, ctx: AddonContext) -> None:
    free = await ok(client, "list_chargers", available_only=True)
    statuses = {
        charger.charger_id: ctx.ha.states[
            charger.connectors[1].entities["connector_status"]
        ].state
        for charger in ctx.registry.index.chargers().values()
    }
    expected = {cid for cid, state in statuses.items() if state == "available"}
    got = {item["charger"] for item in free["available"]}
    # Sessions come and go; what is listed was free a moment ago.
    assert got <= set(statuses)
    for item in free["available"]:
        assert item["max_power"].endswith(" kW")
    assert got or not expected or got == expected


async def test_plan_and_explanation(client: Client, ctx: AddonContext) -> None:
    plan = await ok(client, "get_plan")
    # The integration's plan: no price source in the stack, so no cost.
    assert plan["status"] == "optimal"
    assert plan["summary"].startswith("No prices: the plan uses solar")
    assert "expected_cost" not in plan
    assert plan["solar_used_at_home"].endswith(" kWh")
    assert {ev["loadpoint"] for ev in plan["evs"]} == {"t-001/1", "t-002/1"}
    for ev in plan["evs"]:
        assert ev["plan"].startswith("not in the plan")  # pv mode, no target time
    one = await ok(client, "get_plan", loadpoint="t-002")
    assert [ev["loadpoint"] for ev in one["evs"]] == ["t-002/1"]
    assert "battery_and_loads" not in one
    # In plan mode (with a vehicle plugged in) the plan covers it and says why.
    entity = "select.ev_t_001_charge_mode"
    await ctx.ha.call_service(
        "select", "select_option", {"option": "plan"}, target={"entity_id": entity}
    )
    try:
        await eventually(lambda: ctx.ha.states[entity].state == "plan")
        status = await ctx.ha.call_service(
            "energy_coordinator", "get_status", {}, return_response=True
        )
        plugged = status["loadpoints"]["t-001/1"]["plugged"]
        planned = await ok(client, "get_plan", loadpoint="t-001/1")
        (ev,) = planned["evs"]
        if plugged:
            assert "% planned of " in ev["plan"], ev
            assert ev["why"], ev
        else:
            assert ev["plan"] == "not in the plan: no vehicle plugged in"
    finally:
        await ctx.ha.call_service(
            "select", "select_option", {"option": "pv"}, target={"entity_id": entity}
        )
        await eventually(lambda: ctx.ha.states[entity].state == "pv")
    fresh = await ok(client, "explain_decision", now=True)
    assert fresh["fresh_dry_run"] is True
    assert fresh["reasons"] and all(r["why"] for r in fresh["reasons"])
    narrowed = await ok(client, "explain_decision", now=True, loadpoint="t-001/1")
    assert set(narrowed["evs"]) <= {"t-001/1"}
    assert all(
        r["about"] in ("t-001/1", "site", "grid", "battery")
        for r in narrowed["reasons"]
    )
    _, is_error = await call(client, "explain_decision", loadpoint="t-999/4")
    assert is_error


async def test_sessions_and_my_sessions(client: Client) -> None:
    sessions = await ok(client, "get_sessions")
    assert isinstance(sessions["total"], int)
    assert sessions["total_energy"].endswith(" kWh")
    mine = await ok(client, "get_sessions", id_tag="nobody-has-this")
    assert mine["total"] == 0 and mine["items"] == []
    by_charger = await ok(client, "get_sessions", charger="t-001", limit=5)
    assert all(s["charger"].startswith("t-001/") for s in by_charger["items"])
    _, is_error = await call(client, "get_sessions", since="not a date")
    assert is_error


async def test_set_charge_mode_needs_confirmation(
    client: Client, ctx: AddonContext
) -> None:
    entity = "select.ev_t_002_charge_mode"
    before = ctx.ha.states[entity].state
    request = await ok(client, "set_charge_mode", loadpoint="t-002", mode="now")
    assert request["confirmation_required"].startswith(
        "Change the charge mode of t-002/1"
    )
    assert ctx.ha.states[entity].state == before  # nothing happened yet
    wrong, is_error = await call(
        client, "set_charge_mode", loadpoint="t-002", mode="now", confirm="000000x"
    )
    assert is_error and "code" in wrong["error"]
    other, is_error = await call(
        client,
        "set_charge_mode",
        loadpoint="t-002",
        mode="off",
        confirm=request["confirm"],
    )
    assert is_error and "different call" in other["error"]
    done = await ok(
        client,
        "set_charge_mode",
        loadpoint="t-002",
        mode="now",
        confirm=request["confirm"],
    )
    assert "now" in done["done"]
    await eventually(lambda: ctx.ha.states[entity].state == "now")
    again, is_error = await call(
        client,
        "set_charge_mode",
        loadpoint="t-002",
        mode="now",
        confirm=request["confirm"],
    )
    assert is_error  # one-time code
    await confirmed(client, "set_charge_mode", loadpoint="t-002/1", mode="pv")
    await eventually(lambda: ctx.ha.states[entity].state == "pv")


async def test_set_charge_target(client: Client, ctx: AddonContext) -> None:
    done = await confirmed(
        client, "set_charge_target", loadpoint="t-001", soc=90, time="07:30"
    )
    assert "90" in done["done"] and "07:30" in done["done"]
    await eventually(
        lambda: float(ctx.ha.states["number.ev_t_001_target_soc"].state) == 90.0
    )
    await eventually(
        lambda: "07:30" in ctx.ha.states["datetime.ev_t_001_target_time"].state
        or ctx.ha.states["datetime.ev_t_001_target_time"].state.endswith(":30:00+00:00")
    )
    _, is_error = await call(client, "set_charge_target", loadpoint="t-001")
    assert is_error
    status = await ok(client, "get_site_status")
    ev = next(e for e in status["evs"] if e["loadpoint"] == "t-001/1")
    assert ev["target"].startswith("90 % by")
    # time=none removes the deadline (the loadpoint's clear button).
    done = await confirmed(client, "set_charge_target", loadpoint="t-001", time="none")
    assert done["done"] == "t-001/1: no target time"
    await eventually(
        lambda: ctx.ha.states["datetime.ev_t_001_target_time"].state == "unknown"
    )


async def test_current_limit_start_stop_and_coordination(
    client: Client, ctx: AddonContext
) -> None:
    limited = await confirmed(client, "set_current_limit", charger="t-002", limit=10)
    assert "10 A" in limited["done"]
    # The site coordinates t-002: the limit is its cap, the charger never above it.
    assert limited["cap_a"] == 10.0
    assert "never more" in limited["note"]
    await eventually(
        lambda: float(ctx.ha.states["number.t_002_maximum_current"].state) <= 10
    )
    started, is_error = await call(client, "start_charging", charger="t-002")
    assert not is_error and "confirm" in started
    result, is_error = await call(
        client, "start_charging", charger="t-002", confirm=started["confirm"]
    )
    assert ("done" in result) != is_error, result
    stop_request = await ok(client, "stop_charging", charger="t-001")
    assert stop_request["confirmation_required"].startswith("Stop the charging session")
    run = await confirmed(client, "run_coordination")
    assert "did" in run and "why" in run


async def test_search_entities(client: Client) -> None:
    batteries = await ok(client, "search_entities", device_class="battery", limit=50)
    ids = {item["id"] for item in batteries["items"]}
    assert {
        "sensor.home_battery_level",
        "sensor.alice_phone_battery",
        "sensor.front_door_sensor_battery",
    } <= ids
    garage = await ok(client, "search_entities", query="garage socket")
    assert garage["items"][0]["id"] == "switch.garage_socket"
    assert garage["items"][0]["area"] == "Garage"
    in_area = await ok(client, "search_entities", area="living room")
    assert {"sensor.alice_phone_battery", "sensor.living_room_remote_battery"} <= {
        i["id"] for i in in_area["items"]
    }
    fuzzy = await ok(client, "search_entities", query="phnoe battery")
    assert fuzzy["items"][0]["id"] == "sensor.alice_phone_battery"
    page = await ok(client, "search_entities", domain="sensor", limit=3, offset=2)
    assert len(page["items"]) == 3 and page["offset"] == 2 and page["total"] > 5


async def test_get_states(client: Client) -> None:
    states = await ok(
        client,
        "get_states",
        entity_ids=["sensor.pv_power", "sensor.nope"],
        fields=["device_class", "state_class"],
    )
    (pv,) = states["states"]
    assert pv["state"].endswith(" W")
    assert pv["attributes"] == {"device_class": "power", "state_class": "measurement"}
    assert states["unknown"] == ["sensor.nope"]
    # minItems, which HA's schema converter cannot take, is the tool's own check.
    empty, is_error = await call(client, "get_states", entity_ids=[])
    assert is_error and "at least one entity id" in empty["error"]


async def test_get_history(client: Client, stack: Stack, ctx: AddonContext) -> None:
    for value in (1000, 2000, 3000):
        await set_input(stack.ha, "house_power", value)
        await eventually(
            lambda v=value: ctx.ha.states["sensor.house_consumption"].state.startswith(
                str(v)
            )
        )
    history = await eventually_history(client)
    assert history["kind"] == "numeric"
    assert history["unit"] == "W"
    assert len(history["buckets"]) <= 6
    maxima = [b["max"] for b in history["buckets"]]
    assert max(maxima) >= 3000
    await set_input(stack.ha, "house_power", 1900)


async def eventually_history(client: Client) -> dict[str, object]:
    """The recorder commits every second: retry until the changes are in."""
    for _ in range(40):
        history = await ok(
            client,
            "get_history",
            entity_id="sensor.house_consumption",
            hours=1,
            points=6,
        )
        if history.get("buckets") and max(b["max"] for b in history["buckets"]) >= 3000:
            return history
        await __import__("asyncio").sleep(0.25)
    return history


async def test_call_service(client: Client, ctx: AddonContext) -> None:
    direct = await ok(
        client,
        "call_service",
        domain="input_boolean",
        service="turn_on",
        entity_id="input_boolean.kitchen_light",
    )
    assert direct["done"] == "input_boolean.turn_on"
    await eventually(lambda: ctx.ha.states["input_boolean.kitchen_light"].state == "on")
    gated = await ok(
        client,
        "call_service",
        domain="switch",
        service="turn_on",
        entity_id="switch.garage_socket",
    )
    assert (
        gated["confirmation_required"] == "Call switch.turn_on on switch.garage_socket"
    )
    assert ctx.ha.states["switch.garage_socket"].state == "off"
    await ok(
        client,
        "call_service",
        domain="switch",
        service="turn_on",
        entity_id="switch.garage_socket",
        confirm=gated["confirm"],
    )
    await eventually(lambda: ctx.ha.states["switch.garage_socket"].state == "on")
    refused, is_error = await call(
        client, "call_service", domain="homeassistant", service="restart"
    )
    assert is_error and "not allowed" in refused["error"]
    missing, is_error = await call(
        client, "call_service", domain="light", service="explode"
    )
    assert is_error and "no action light.explode" in missing["error"]
    hidden, is_error = await call(
        client,
        "call_service",
        domain="switch",
        service="turn_off",
        entity_id="switch.nope",
    )
    assert is_error and "unknown entity" in hidden["error"]


async def test_bad_arguments_are_tool_errors(client: Client) -> None:
    unknown, is_error = await call(client, "get_site_status", verbose=True)
    assert is_error and "verbose" in unknown["error"]
    wrong, is_error = await call(
        client, "set_charge_mode", loadpoint="t-001", mode="turbo"
    )
    assert is_error and "mode" in wrong["error"]
    missing, is_error = await call(client, "get_history")
    assert is_error and "entity_id" in missing["error"]
    nope, is_error = await call(client, "no_such_tool")
    assert is_error


async def test_legacy_handshake_in_memory(ctx: AddonContext) -> None:
    async with Client(ctx.server, mode="legacy") as legacy:
        assert legacy.server_info is not None
        assert legacy.server_info.name == "energy-coordinator"
        tools = (await legacy.list_tools()).tools
        assert len(tools) == len(EXPECTED_TOOLS)
        status = await ok(legacy, "get_site_status")
        assert status["solar"].endswith("kW")


async def test_numbers_and_codes_as_models_send_them(client: Client) -> None:
    """An integer where a number is asked, and a code as a number, both count."""
    request = await ok(client, "set_current_limit", charger="t-002", limit=12)
    assert request["confirmation_required"] == "Limit t-002 connector 1 to 12 A"
    fraction = await ok(client, "set_current_limit", charger="t-002", limit=12.5)
    assert fraction["confirmation_required"] == "Limit t-002 connector 1 to 12.5 A"
    done = await ok(
        client,
        "set_current_limit",
        charger="t-002",
        limit=12,
        confirm=int(request["confirm"]),
    )
    assert done["done"] == "t-002/1 limited to 12 A"
    negative, is_error = await call(
        client, "set_current_limit", charger="t-002", limit=-1
    )
    assert is_error and "limit" in negative["error"]


async def test_a_tool_bug_is_logged_and_reported(
    client: Client,
    ctx: AddonContext,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The model gets a readable tool error; the owner's log has the traceback."""

    async def broken(args: dict[str, Any]) -> Any:
        raise KeyError("loadpoints")

    tool = ctx.registry._tools["get_plan"]
    monkeypatch.setitem(
        ctx.registry._tools, "get_plan", type(tool)(tool.spec, read=broken)
    )
    with caplog.at_level(logging.ERROR):
        error, is_error = await call(client, "get_plan")
    assert is_error
    assert error["error"].startswith("internal error in get_plan: KeyError")
    (record,) = [r for r in caplog.records if "get_plan failed" in r.getMessage()]
    assert record.levelno == logging.ERROR and record.exc_info is not None
    assert "KeyError" in caplog.text and "Traceback" in caplog.text
