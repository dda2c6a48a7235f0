"""Every resource and prompt through the in-memory client, on the real HA."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from energy_coordinator_mcp.context import AddonContext
from energy_coordinator_mcp.prompts import PROMPTS
from helpers import held
from mcp import Client, MCPError
from mcp_types import TextContent, TextResourceContents


async def read(client: Client, uri: str) -> Any:
    """A resource's JSON."""
    result = await client.read_resource(uri)
    (content,) = result.contents
    assert isinstance(content, TextResourceContents)
    assert content.mime_type == "application/json"
    return json.loads(content.text)


async def test_resource_lists(client: Client) -> None:
    resources = (await client.list_resources()).resources
    assert [str(r.uri) for r in resources] == [
        "energy://site",
        "energy://chargers",
        "energy://plan",
        "energy://sessions/recent",
    ]
    templates = (await client.list_resource_templates()).resource_templates
    assert [t.uri_template for t in templates] == [
        "energy://chargers/{id}",
        "ha://entity/{entity_id}",
        "ha://area/{area}",
    ]


async def test_every_resource_reads(client: Client) -> None:
    site = await read(client, "energy://site")
    assert site["home_battery"].startswith("63.0 %")
    chargers = await read(client, "energy://chargers")
    assert chargers["total"] == 2
    plan = await read(client, "energy://plan")
    assert len(plan["evs"]) == 2
    recent = await read(client, "energy://sessions/recent")
    assert "items" in recent
    charger = await read(client, "energy://chargers/t-001")
    assert charger["charger"] == "t-001"
    entity = await read(client, "ha://entity/sensor.pv_power")
    assert entity["attributes"]["device_class"] == "power"
    area = await read(client, "ha://area/garage")
    assert area["area"] == "Garage"
    assert "switch.garage_socket" in {e["id"] for e in area["entities"]}
    by_name = await read(client, "ha://area/Living room")
    assert "sensor.alice_phone_battery" in {e["id"] for e in by_name["entities"]}
    for bad in ("ha://entity/sensor.nope", "ha://area/nowhere", "energy://nothing"):
        with pytest.raises(MCPError):
            await client.read_resource(bad)


@pytest.mark.filterwarnings("ignore:resources/subscribe is removed")
async def test_resource_update_notifications(ctx: AddonContext) -> None:
    """A handshake-era client subscribed to an entity hears about its changes."""
    updates: list[str] = []

    async def on_message(message: Any) -> None:
        root = getattr(message, "root", message)
        params = getattr(root, "params", None)
        uri = getattr(params, "uri", None)
        if uri:
            updates.append(str(uri))

    async with held(
        Client(ctx.server, mode="legacy", message_handler=on_message)
    ) as legacy:
        assert legacy.server_capabilities.resources is not None
        assert legacy.server_capabilities.resources.subscribe is True
        await legacy.subscribe_resource("ha://entity/input_number.grid_power")
        await ctx.ha.call_service(
            "input_number",
            "set_value",
            {"entity_id": "input_number.grid_power", "value": -1200},
        )
        for _ in range(50):
            if "ha://entity/input_number.grid_power" in updates:
                break
            await asyncio.sleep(0.1)
        assert "ha://entity/input_number.grid_power" in updates
        await ctx.ha.call_service(
            "input_number",
            "set_value",
            {"entity_id": "input_number.grid_power", "value": -1100},
        )


async def test_listen_for_resource_updates(ctx: AddonContext) -> None:
    """A current-protocol client listens (subscriptions/listen) for an entity."""
    uri = "ha://entity/input_number.battery_soc"

    async def first_event(sub: Any) -> Any:
        async for event in sub:
            return event
        return None

    async with (
        held(Client(ctx.server)) as client,
        client.listen(resource_subscriptions=[uri]) as sub,
    ):
        waiter = asyncio.create_task(first_event(sub))
        await ctx.ha.call_service(
            "input_number",
            "set_value",
            {"entity_id": "input_number.battery_soc", "value": 64},
        )
        event = await asyncio.wait_for(waiter, 10)
        assert getattr(event, "uri", None) == uri
    await ctx.ha.call_service(
        "input_number",
        "set_value",
        {"entity_id": "input_number.battery_soc", "value": 63},
    )


async def test_prompts_in_both_languages(client: Client) -> None:
    prompts = (await client.list_prompts()).prompts
    assert [p.name for p in prompts] == [
        "daily_energy_report",
        "diagnose_charger",
        "optimize_tonight",
        "explain_my_bill",
    ]
    for prompt in prompts:
        args = {"charger": "t-001"} if prompt.name == "diagnose_charger" else {}
        english = await client.get_prompt(prompt.name, args)
        portuguese = await client.get_prompt(prompt.name, args | {"language": "pt-BR"})
        en_text = english.messages[0].content
        pt_text = portuguese.messages[0].content
        assert isinstance(en_text, TextContent) and isinstance(pt_text, TextContent)
        assert en_text.text != pt_text.text
        # Every prompt points the model at real tools.
        tool_names = {t.name for t in (await client.list_tools()).tools}
        assert any(name in en_text.text for name in tool_names)
        assert any(name in pt_text.text for name in tool_names)
        assert set(PROMPTS[prompt.name].templates) == {"en", "pt-BR"}
    diagnose = await client.get_prompt(
        "diagnose_charger", {"charger": "t-002", "hours": "6"}
    )
    text = diagnose.messages[0].content
    assert isinstance(text, TextContent)
    assert "t-002" in text.text and "6 hours" in text.text
    with pytest.raises(MCPError):
        await client.get_prompt("diagnose_charger", {})
    with pytest.raises(MCPError):
        await client.get_prompt("no_such_prompt", {})
