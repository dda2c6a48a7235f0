"""The Claude assistant against a local Messages API server and the real HA stack.

The `anthropic` client talks to `MessagesAPIStub` on 127.0.0.1 (scripted replies);
the tools run in-process through the add-on's registry against the session's real
Home Assistant with the integration and two simulated chargers.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import typing
import warnings
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from anthropic.resources.messages.messages import DEPRECATED_MODELS
from anthropic.types import Model
from energy_coordinator_mcp import assistant_entry
from energy_coordinator_mcp.app import serve_http
from energy_coordinator_mcp.assistant import DISABLED_MESSAGE, Assistant
from energy_coordinator_mcp.config import DEFAULT_MODEL, Options, Settings
from energy_coordinator_mcp.context import AddonContext
from energy_coordinator_mcp.diagnostics_job import DiagnosticsJob
from energy_coordinator_mcp.token_budget import BUDGET_FILE, TokenBudget
from helpers import eventually
from messages_api_stub import (
    MessagesAPIStub,
    error_reply,
    text_reply,
    tool_result_json,
    tool_use_reply,
    usage,
)
from stack import ROOT, Stack, free_port

#: The add-on's default model: every assistant test exercises it.
MODEL = DEFAULT_MODEL
KEY = "sk-ant-test-assistant-0123456789"
MODE_ENTITY = "select.ev_t_001_charge_mode"


@pytest.fixture(scope="module")
async def claude() -> AsyncIterator[MessagesAPIStub]:
    """The local Messages API server."""
    stub = MessagesAPIStub()
    await stub.start()
    yield stub
    await stub.stop()


@pytest.fixture
async def make_assistant(
    ctx: AddonContext, claude: MessagesAPIStub, tmp_path: Path
) -> AsyncIterator[Callable[..., Assistant]]:
    """Assistants on the session's add-on context, each with its own budget."""
    made: list[Assistant] = []

    def make(
        *, limit: int = 100_000, max_turns: int = 8, api_key: str = KEY
    ) -> Assistant:
        options = replace(ctx.settings.options, model=MODEL, anthropic_api_key=api_key)
        assistant = Assistant(
            ctx.registry,
            options,
            tmp_path,
            base_url=claude.base_url,
            budget=TokenBudget(tmp_path, limit),
            max_turns=max_turns,
            max_retries=0,
        )
        made.append(assistant)
        return assistant

    yield make
    for assistant in made:
        await assistant.aclose()


def _audit_last(ctx: AddonContext, tool: str) -> dict[str, Any]:
    lines = [line for line in ctx.audit.tail(50) if line["tool"] == tool]
    assert lines, f"no audit line for {tool}"
    last: dict[str, Any] = lines[-1]
    return last


async def test_energy_question_is_one_get_site_status_call(
    make_assistant: Callable[..., Assistant],
    claude: MessagesAPIStub,
    ctx: AddonContext,
) -> None:
    assistant = make_assistant()
    claude.reset(
        tool_use_reply("get_site_status", {}, text="Let me look."),
        text_reply("Solar makes 4.2 kW, you export 1.1 kW, the battery charges."),
    )
    result = await assistant.ask(
        "What are solar, grid, home battery and each EV doing right now?"
    )
    assert result.status == "answered", result
    assert result.answer.startswith("Solar makes 4.2 kW")
    assert [(c.name, c.arguments) for c in result.tool_calls] == [
        ("get_site_status", {})
    ]
    assert len(claude.requests) == 2
    first, second = (r.body for r in claude.requests)
    assert first["model"] == MODEL
    assert first["messages"] == [
        {
            "role": "user",
            "content": "What are solar, grid, home battery and each EV doing "
            "right now?",
        }
    ]
    # The tool result Claude gets is the registry's real answer from HA.
    [block] = claude.requests[1].tool_results()
    assert block["is_error"] is False
    site = tool_result_json(block)
    assert site["solar"].endswith("kW")
    assert site["home_battery"].startswith("63.0 % SoC")
    assert {ev["loadpoint"] for ev in site["evs"]} == {"t-001/1", "t-002/1"}
    # The assistant's own turn (text + tool_use) is sent back verbatim.
    assistant_turn = second["messages"][1]
    assert assistant_turn["role"] == "assistant"
    assert [b["type"] for b in assistant_turn["content"]] == ["text", "tool_use"]
    assert assistant_turn["content"][1]["id"] == block["tool_use_id"]
    # Usage from both responses, into today's budget.
    assert result.usage == {
        "input": 240,
        "output": 60,
        "cache_creation": 0,
        "cache_read": 0,
    }
    assert result.budget["used"] == 300
    assert result.budget["calls"] == 2
    audit = _audit_last(ctx, "get_site_status")
    assert audit["caller"] == "assistant"
    assert audit["outcome"] == "ok"


async def test_default_model_is_current_and_warns_nothing(
    ctx: AddonContext, claude: MessagesAPIStub, tmp_path: Path
) -> None:
    """The default model is one the installed SDK lists and has not deprecated."""
    assert DEFAULT_MODEL in typing.get_args(typing.get_args(Model)[0])
    assert DEFAULT_MODEL not in DEPRECATED_MODELS
    assert "sonnet" in DEFAULT_MODEL
    # Options as the owner gets them: no model chosen.
    options = replace(ctx.settings.options, anthropic_api_key=KEY)
    assert options.model == DEFAULT_MODEL
    assistant = Assistant(
        ctx.registry,
        options,
        tmp_path,
        base_url=claude.base_url,
        budget=TokenBudget(tmp_path, 10_000),
        max_retries=0,
    )
    claude.reset(text_reply("Hi."))
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = await assistant.ask("Hello")
    finally:
        await assistant.aclose()
    assert result.status == "answered", result
    assert claude.requests[0].body["model"] == DEFAULT_MODEL
    assert not [w for w in caught if issubclass(w.category, DeprecationWarning)]


async def test_tools_are_cached_with_the_prompts_as_system_context(
    make_assistant: Callable[..., Assistant],
    claude: MessagesAPIStub,
    ctx: AddonContext,
) -> None:
    assistant = make_assistant()
    claude.reset(text_reply("Hi."))
    result = await assistant.ask("Hello", language="pt-BR")
    assert result.status == "answered"
    body = claude.requests[0].body
    tools = body["tools"]
    assert [t["name"] for t in tools] == [
        s.name for s in ctx.registry.specs(read_only=False)
    ]
    # Prompt caching: one breakpoint, on the last tool definition.
    assert tools[-1]["cache_control"] == {"type": "ephemeral"}
    assert all("cache_control" not in t for t in tools[:-1])
    # The model can never bring a confirmation code itself.
    for tool in tools:
        assert "confirm" not in tool["input_schema"].get("properties", {}), tool
        assert tool["description"]
    # The prompts are the system context (in the asked language), cached too.
    [system] = body["system"]
    assert system["cache_control"] == {"type": "ephemeral"}
    for name in (
        "daily_energy_report",
        "diagnose_charger",
        "optimize_tonight",
        "explain_my_bill",
    ):
        assert name in system["text"]
    assert "Diagnostique o carregador" in system["text"]
    assert body["max_tokens"] == 1024
    assert claude.requests[0].headers["authorization"] == f"Bearer {KEY}"


async def test_tool_arguments_reach_the_registry(
    make_assistant: Callable[..., Assistant],
    claude: MessagesAPIStub,
    ctx: AddonContext,
) -> None:
    assistant = make_assistant()
    claude.reset(
        tool_use_reply("search_entities", {"query": "phone battery"}),
        text_reply("Alice's phone is at 87 %."),
    )
    result = await assistant.ask("How full is Alice's phone?")
    assert result.status == "answered"
    assert result.tool_calls[0].arguments == {"query": "phone battery"}
    found = tool_result_json(claude.requests[1].tool_results()[0])
    assert found["items"][0]["id"] == "sensor.alice_phone_battery"
    assert _audit_last(ctx, "search_entities")["arguments"] == {
        "query": "phone battery"
    }


async def test_tool_errors_go_back_to_claude(
    make_assistant: Callable[..., Assistant], claude: MessagesAPIStub
) -> None:
    assistant = make_assistant()
    claude.reset(
        tool_use_reply("list_chargers", {"charger": "nope"}),
        tool_use_reply("delete_everything", {}),
        text_reply("There is no charger called nope."),
    )
    result = await assistant.ask("What is charger nope doing?")
    assert result.status == "answered"
    [unknown] = claude.requests[1].tool_results()
    assert unknown["is_error"] is True
    assert "unknown charger" in tool_result_json(unknown)["error"]
    [not_offered] = claude.requests[2].tool_results()
    assert not_offered["is_error"] is True
    assert [c.is_error for c in result.tool_calls] == [True, True]


async def test_consequential_action_stops_at_confirmation(
    make_assistant: Callable[..., Assistant],
    claude: MessagesAPIStub,
    ctx: AddonContext,
    stack: Stack,
) -> None:
    assistant = make_assistant()
    before = ctx.ha.states[MODE_ENTITY].state
    target = "now" if before != "now" else "off"
    claude.reset(
        tool_use_reply(
            "set_charge_mode",
            {"loadpoint": "t-001/1", "mode": target},
            text="I will switch it.",
        ),
        text_reply("must never be asked"),
    )
    result = await assistant.ask(f"Set the first charger to {target}")
    assert result.status == "confirmation_required", result
    # Claude was asked once: the confirmation went to the caller, not the model.
    assert len(claude.requests) == 1
    assert len(claude.script) == 1
    [confirmation] = result.confirmations
    assert confirmation["tool"] == "set_charge_mode"
    assert confirmation["arguments"] == {"loadpoint": "t-001/1", "mode": target}
    assert target in confirmation["summary"]
    assert confirmation["expires_in_s"] == 120
    assert confirmation["code"] in result.answer
    assert result.answer.startswith("I will switch it.")
    assert result.tool_calls[0].confirmation_required
    assert _audit_last(ctx, "set_charge_mode")["outcome"] == "confirmation_required"
    await asyncio.sleep(0.3)
    assert ctx.ha.states[MODE_ENTITY].state == before  # nothing happened

    # Claude cannot approve it: a code it sends is dropped and a new one issued.
    claude.reset(
        tool_use_reply(
            "set_charge_mode",
            {"loadpoint": "t-001/1", "mode": target, "confirm": confirmation["code"]},
        )
    )
    again = await assistant.ask("Yes, confirm it with the code")
    assert again.status == "confirmation_required"
    assert again.tool_calls[0].arguments == {"loadpoint": "t-001/1", "mode": target}
    assert again.confirmations[0]["code"] != confirmation["code"]
    await asyncio.sleep(0.3)
    assert ctx.ha.states[MODE_ENTITY].state == before

    # The person confirms with the code they were given: now it happens.
    wrong = await assistant.confirm("999999x")
    assert wrong.status == "error"
    done = await assistant.confirm(again.confirmations[0]["code"])
    assert done.status == "done", done
    assert target in done.answer
    try:
        await eventually(lambda: ctx.ha.states[MODE_ENTITY].state == target)
        assert _audit_last(ctx, "set_charge_mode")["outcome"] == "ok"
        # A code works once.
        assert (await assistant.confirm(again.confirmations[0]["code"])).status == (
            "error"
        )
    finally:
        await stack.ha.call_service(
            "select", "select_option", {"entity_id": MODE_ENTITY, "option": before}
        )
        await eventually(lambda: ctx.ha.states[MODE_ENTITY].state == before)


async def test_budget_stops_calls_when_spent(
    make_assistant: Callable[..., Assistant],
    claude: MessagesAPIStub,
    tmp_path: Path,
) -> None:
    assistant = make_assistant(limit=1_000)
    claude.reset(
        tool_use_reply(
            "get_site_status",
            {},
            tokens=usage(700, 200, cache_creation=100, cache_read=50),
        ),
        text_reply("never sent"),
    )
    result = await assistant.ask("How is the site?")
    # 1,050 tokens after the first call: the loop stops before the second.
    assert result.status == "budget_exhausted", result
    assert len(claude.requests) == 1
    assert "daily token budget is spent" in result.answer
    assert result.budget["used"] == 1_050
    assert result.usage == {
        "input": 700,
        "output": 200,
        "cache_creation": 100,
        "cache_read": 50,
    }
    # Further questions make no call at all.
    refused = await assistant.ask("And now?")
    assert refused.status == "budget_exhausted"
    assert len(claude.requests) == 1
    # The count is kept on disk (a restart does not reset it) …
    stored = json.loads((tmp_path / BUDGET_FILE).read_text())
    assert stored["input"] == 700
    assert stored["cache_read"] == 50
    assert TokenBudget(tmp_path, 1_000).exhausted
    # … and a new day starts at zero.
    tomorrow = date.today() + timedelta(days=2)
    assert TokenBudget(tmp_path, 1_000, today=lambda: tomorrow).used == 0


async def test_api_errors_and_the_turn_cap(
    make_assistant: Callable[..., Assistant], claude: MessagesAPIStub
) -> None:
    assistant = make_assistant(max_turns=2)
    claude.reset(error_reply(529, "overloaded_error", "Overloaded"))
    failed = await assistant.ask("Anything")
    assert failed.status == "error"
    assert "Overloaded" in failed.answer
    claude.reset(
        tool_use_reply("get_site_status", {}),
        tool_use_reply("list_chargers", {}),
        text_reply("never sent"),
    )
    capped = await assistant.ask("Loop forever")
    assert capped.status == "max_turns"
    assert len(claude.requests) == 2
    assert [c.name for c in capped.tool_calls] == ["get_site_status", "list_chargers"]


async def test_no_api_key_disables_the_assistant_not_the_server(
    make_assistant: Callable[..., Assistant],
    claude: MessagesAPIStub,
    ctx: AddonContext,
) -> None:
    assistant = make_assistant(api_key="")
    claude.reset(text_reply("never sent"))
    result = await assistant.ask("Hello?")
    assert result.status == "disabled"
    assert result.answer == DISABLED_MESSAGE
    assert "anthropic_api_key" in result.answer
    assert not claude.requests
    job = DiagnosticsJob(assistant)
    assert not job.start()
    outcome = await job.run_once()
    assert outcome.outcome == "disabled"
    assert outcome.message == DISABLED_MESSAGE
    assert not claude.requests
    # The tools themselves work without a key.
    site = await ctx.registry.call("get_site_status", {}, "test")
    assert not site.is_error


async def _post(url: str, body: Any) -> tuple[int, dict[str, Any]]:
    async with aiohttp.ClientSession() as session, session.post(url, json=body) as r:
        return r.status, await r.json()


async def test_api_ask_route(
    stack: Stack,
    claude: MessagesAPIStub,
    tmp_path: Path,
) -> None:
    options = Options(anthropic_api_key=KEY, model=MODEL, daily_token_budget=400)
    settings = Settings(
        options=options,
        ha_url=stack.url,
        ha_token=stack.token,
        data_dir=tmp_path,
        host="127.0.0.1",
        port=free_port(),
        ingress_port=free_port(),
    )
    addon = AddonContext.create(settings)
    await addon.ha.start(wait=30)
    assistant_entry.install(
        addon,
        Assistant(
            addon.registry, options, tmp_path, base_url=claude.base_url, max_retries=0
        ),
    )
    stop = asyncio.Event()
    ready = asyncio.Event()

    async def started() -> None:
        ready.set()

    server = asyncio.create_task(serve_http(addon, stop, started=started))
    try:
        await asyncio.wait_for(ready.wait(), 15)
        url = f"http://127.0.0.1:{settings.ingress_port}/api/ask"
        claude.reset(
            tool_use_reply("get_site_status", {}),
            text_reply("Solar 4.2 kW."),
        )
        status, body = await _post(url, {"question": "How is the site?"})
        assert status == 200, body
        assert body["status"] == "answered"
        assert body["answer"] == "Solar 4.2 kW."
        assert body["tool_calls"][0]["name"] == "get_site_status"

        claude.reset(tool_use_reply("run_coordination", {}))
        status, body = await _post(url, {"question": "Run the coordinator"})
        assert status == 200
        assert body["status"] == "confirmation_required"
        code = body["confirmations"][0]["code"]
        status, body = await _post(url, {"confirm": code})
        assert status == 200, body
        assert body["status"] == "done"

        assert (await _post(url, {"question": ""}))[0] == 400
        assert (await _post(url, ["not", "an", "object"]))[0] == 400
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"http://127.0.0.1:{settings.ingress_port}/api/assistant") as r,
        ):
            info = await r.json()
        assert info["enabled"] is True
        assert info["model"] == MODEL
        assert info["budget"]["used"] == 450
        # 450 of 400 tokens spent: the next question is refused without a call.
        claude.reset(text_reply("never sent"))
        status, body = await _post(url, {"question": "More?"})
        assert status == 429
        assert body["status"] == "budget_exhausted"
        assert not claude.requests
    finally:
        stop.set()
        await asyncio.wait_for(server, 15)
        await assistant_entry.release(addon)
        await addon.ha.stop()


async def test_api_ask_without_key(stack: Stack, tmp_path: Path) -> None:
    settings = Settings(
        options=Options(),
        ha_url=stack.url,
        ha_token=stack.token,
        data_dir=tmp_path,
        host="127.0.0.1",
        port=free_port(),
        ingress_port=free_port(),
    )
    addon = AddonContext.create(settings)
    await addon.ha.start(wait=30)
    stop = asyncio.Event()
    ready = asyncio.Event()

    async def started() -> None:
        ready.set()

    server = asyncio.create_task(serve_http(addon, stop, started=started))
    try:
        await asyncio.wait_for(ready.wait(), 15)
        url = f"http://127.0.0.1:{settings.ingress_port}/api/ask"
        status, body = await _post(url, {"question": "Hello?"})
        assert status == 503
        assert body == {"status": "disabled", "answer": DISABLED_MESSAGE}
        # The MCP port still serves (its health check needs no credentials).
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"http://127.0.0.1:{settings.port}/health") as r,
        ):
            assert r.status == 200
    finally:
        stop.set()
        await asyncio.wait_for(server, 15)
        await assistant_entry.release(addon)
        await addon.ha.stop()


async def _cli(
    stack: Stack, data_dir: Path, base_url: str, *args: str
) -> tuple[int, str, str]:
    env = {
        **os.environ,
        "ANTHROPIC_BASE_URL": base_url,
        "PYTHONPATH": str(ROOT / "mcp_addon"),
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "energy_coordinator_mcp",
        "--ha-url",
        stack.url,
        "--ha-token",
        stack.token,
        "--data-dir",
        str(data_dir),
        "--ingress-port",
        "0",
        "ask",
        *args,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    return proc.returncode or 0, out.decode(), err.decode()


async def test_ask_command(
    stack: Stack, claude: MessagesAPIStub, tmp_path: Path
) -> None:
    (tmp_path / "options.json").write_text(
        json.dumps({"anthropic_api_key": KEY, "model": MODEL})
    )
    claude.reset(
        tool_use_reply("get_site_status", {}),
        text_reply("The battery is at 63 %."),
    )
    code, out, err = await _cli(
        stack, tmp_path, claude.base_url, "How is", "my battery?"
    )
    assert code == 0, err
    assert out.strip() == "The battery is at 63 %."
    assert claude.requests[0].body["messages"][0]["content"] == "How is my battery?"
    assert KEY not in out + err

    # A consequential action is printed with its code and not carried out.
    claude.reset(tool_use_reply("run_coordination", {}))
    code, out, _ = await _cli(stack, tmp_path, claude.base_url, "Coordinate now")
    assert code == 3
    assert "needs your confirmation" in out

    # No key: a clear message, no call.
    (tmp_path / "options.json").write_text(json.dumps({"model": MODEL}))
    claude.reset(text_reply("never sent"))
    code, out, err = await _cli(stack, tmp_path, claude.base_url, "Hello?")
    assert code == 1
    assert DISABLED_MESSAGE in err
    assert not claude.requests
