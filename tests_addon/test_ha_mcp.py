"""Home Assistant's own `mcp` integration (HA as an MCP client, what Assist uses).

In the real `hass` of the stack (HA 2025.4.4 with the `mcp==1.5.0` its manifest
pins, installed by requirements_demo.txt because hass runs with --skip-pip):
- the *Model Context Protocol* integration is added through its config flow with
  the add-on's secret SSE URL (the one the status page and the demo print) and its
  entry is `loaded`: every tool's schema converted;
- its LLM API offers all the add-on's tools, and a tool called through HA's LLM
  API (`homeassistant.helpers.llm`, via the test-only `llm_probe` integration, with
  the arguments validated by the converted schema first, as newer HA does) answers
  the site status;
- the voice path: `stop_charging` through the LLM API returns the confirmation and
  its code and nothing happens at the charger; the same call with the code stops
  the charger's session (the charger sends its StopTransaction: the session ledger
  records it stopped, reason Remote).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from conftest import Http
from stack import LLM_PROBE, Stack

pytestmark = pytest.mark.timeout(180)

CHARGER = "t-001"


async def add_mcp_entry(stack: Stack, url: str) -> dict[str, Any]:
    """The config flow as a person runs it: the URL, then the entry loads."""
    ha = stack.ha
    form = await ha.post("/api/config/config_entries/flow", json={"handler": "mcp"})
    assert form["type"] == "form" and form["step_id"] == "user", form
    done = await ha.post(
        f"/api/config/config_entries/flow/{form['flow_id']}", json={"url": url}
    )
    assert done["type"] == "create_entry", done
    entry_id = done["result"]["entry_id"]
    deadline = time.monotonic() + 30
    while True:
        entry = await ha.config_entry(entry_id)
        assert entry is not None
        if entry["state"] == "loaded":
            return entry
        # setup_retry: a tool's schema did not convert (the reason says which).
        why = f"{entry['state']}: {entry.get('reason')}"
        assert entry["state"] in ("not_loaded", "setup_in_progress"), why
        assert time.monotonic() < deadline, why
        await asyncio.sleep(0.2)


@pytest.fixture(scope="module")
async def mcp_api(stack: Stack, http: Http) -> AsyncIterator[str]:
    """HA's `mcp` entry for the add-on; its LLM API id."""
    url = http.ctx.secret_sse_url
    assert url == f"{http.secret_url}/sse"
    entry = await add_mcp_entry(stack, url)
    assert entry["title"] == "energy-coordinator"
    yield f"mcp-{entry['entry_id']}"
    await stack.ha.delete(f"/api/config/config_entries/entry/{entry['entry_id']}")


async def probe(stack: Stack, service: str, **data: Any) -> dict[str, Any]:
    """One llm_probe action's response."""
    answer = await stack.ha.call_service(LLM_PROBE, service, data, return_response=True)
    return dict(answer["service_response"])


async def tool(stack: Stack, api_id: str, name: str, **arguments: Any) -> Any:
    """A tool called through HA's LLM API; the add-on's JSON answer."""
    response = await probe(
        stack, "call_tool", api_id=api_id, tool=name, arguments=arguments
    )
    assert response["arguments"] == arguments  # the converted schema kept them
    result = response["result"]
    assert not result.get("isError"), result
    (block,) = result["content"]
    return json.loads(block["text"])


async def sessions(stack: Stack) -> list[dict[str, Any]]:
    """The charger's sessions in the integration's ledger, newest first."""
    answer = await stack.ha.call_service(
        "energy_coordinator", "get_sessions", {"limit": 50}, return_response=True
    )
    found = answer["service_response"]["sessions"]
    return [s for s in found if s["charger_id"] == CHARGER]


async def test_entry_loads_with_every_tool(stack: Stack, mcp_api: str) -> None:
    listing = await probe(stack, "list_tools", api_id=mcp_api)
    names = [t["name"] for t in listing["tools"]]
    assert len(names) == 15 and names[0] == "get_site_status"
    assert "call_service" in names and "stop_charging" in names
    call_service = next(t for t in listing["tools"] if t["name"] == "call_service")
    assert "entity_id" in call_service["parameters"]["properties"]


async def test_site_status_through_the_llm_api(stack: Stack, mcp_api: str) -> None:
    status = await tool(stack, mcp_api, "get_site_status")
    assert status["solar"].endswith(" kW")
    assert status["home_battery"].startswith("63.0 % SoC")
    assert {ev["loadpoint"] for ev in status["evs"]} == {"t-001/1", "t-002/1"}
    # Numbers as a model sends them (an integer for a number) pass HA's schema.
    history = await tool(
        stack, mcp_api, "get_history", entity_id="sensor.pv_power", hours=1
    )
    assert history["unit"] == "W"


async def test_voice_stop_needs_the_confirmation(stack: Stack, mcp_api: str) -> None:
    deadline = time.monotonic() + 60
    while not (running := [s for s in await sessions(stack) if s["active"]]):
        assert time.monotonic() < deadline, "t-001 never started a session"
        await asyncio.sleep(0.5)
    (session,) = running

    request = await tool(stack, mcp_api, "stop_charging", charger=CHARGER)
    assert request["confirmation_required"].startswith(
        f"Stop the charging session on {CHARGER}"
    )
    code = request["confirm"]
    await asyncio.sleep(2)  # had it acted, the charger would have stopped by now
    still = {s["session_id"]: s for s in await sessions(stack)}
    assert still[session["session_id"]]["active"] is True

    done = await tool(stack, mcp_api, "stop_charging", charger=CHARGER, confirm=code)
    assert done == {
        "done": f"stop requested on {CHARGER}/1; the site coordinates it, "
        "its charge mode is now off"
    }
    deadline = time.monotonic() + 20
    while True:
        stopped = {s["session_id"]: s for s in await sessions(stack)}
        if not stopped[session["session_id"]]["active"]:
            break
        assert time.monotonic() < deadline, stopped[session["session_id"]]
        await asyncio.sleep(0.25)
    assert stopped[session["session_id"]]["stop_reason"] == "Remote"
