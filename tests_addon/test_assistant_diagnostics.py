"""The daily charger diagnostics: a real fault in the real HA, a real notification.

A simulated charger is rebooted through the integration's `reset` action, so its
connectivity sensor really goes off and on again in the recorder's history; the job
collects that, asks the local Messages API stub with the `diagnose_charger` prompt,
and posts Claude's report as a persistent notification in Home Assistant.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from energy_coordinator_mcp.assistant import Assistant
from energy_coordinator_mcp.config import DEFAULT_MODEL
from energy_coordinator_mcp.context import AddonContext
from energy_coordinator_mcp.diagnostics_job import DiagnosticsJob
from energy_coordinator_mcp.token_budget import TokenBudget
from helpers import eventually
from messages_api_stub import MessagesAPIStub, text_reply
from stack import Stack

#: The add-on's default model: every assistant test exercises it.
MODEL = DEFAULT_MODEL
KEY = "sk-ant-test-diagnostics-0123456789"
CONNECTED = "binary_sensor.t_001_connected"
REPORT = "t-001 rebooted once at noon and came back within seconds; no action needed."


@pytest.fixture(scope="module")
async def claude() -> AsyncIterator[MessagesAPIStub]:
    """The local Messages API server."""
    stub = MessagesAPIStub()
    await stub.start()
    yield stub
    await stub.stop()


def _assistant(
    ctx: AddonContext, claude: MessagesAPIStub, data_dir: Path, limit: int
) -> Assistant:
    options = replace(ctx.settings.options, model=MODEL, anthropic_api_key=KEY)
    return Assistant(
        ctx.registry,
        options,
        data_dir,
        base_url=claude.base_url,
        budget=TokenBudget(data_dir, limit),
        max_retries=0,
    )


async def _notifications(ctx: AddonContext) -> dict[str, dict[str, Any]]:
    found = await ctx.ha.send("persistent_notification/get")
    return {n["notification_id"]: n for n in found}


@pytest.fixture(scope="module")
async def rebooted(stack: Stack, ctx: AddonContext) -> None:
    """t-001 rebooted once (off and on again in the recorder's history)."""
    charger = await ctx.registry.index.charger("t-001")
    seen: list[str] = []
    remove = ctx.ha.add_state_listener(
        lambda ids: seen.append(ctx.ha.states[CONNECTED].state)
        if CONNECTED in ids and CONNECTED in ctx.ha.states
        else None
    )
    try:
        await stack.ha.call_service(
            "energy_coordinator", "reset", {"device_id": charger.device_id}
        )
        await eventually(lambda: "off" in seen, within=20)
        await eventually(lambda: ctx.ha.states[CONNECTED].state == "on", within=30)
    finally:
        remove()
    await asyncio.sleep(1.5)  # the recorder commits every second


async def test_job_posts_claudes_report_after_a_reconnect(
    rebooted: None, ctx: AddonContext, claude: MessagesAPIStub, tmp_path: Path
) -> None:
    assistant = _assistant(ctx, claude, tmp_path, 100_000)
    job = DiagnosticsJob(assistant)
    claude.reset(text_reply(REPORT))
    try:
        result = await job.run_once()
    finally:
        await assistant.aclose()
    assert result.outcome == "posted", result.message
    assert result.report is not None
    faults = {c.charger: c for c in result.report.faulty}
    assert faults["t-001"].disconnects >= 1
    assert result.report.history_available
    # One call with the diagnose_charger prompt over the collected facts, and
    # only read-only tools offered.
    [request] = claude.requests
    question = request.body["messages"][0]["content"]
    assert "Diagnose EV charger t-001" in question
    assert '"disconnects":' in question
    assert "disconnected" in " ".join(faults["t-001"].events)
    offered = {t["name"] for t in request.body["tools"]}
    assert "get_history" in offered
    assert not offered & {"start_charging", "set_current_limit", "call_service"}
    # The report is a persistent notification in Home Assistant.
    notifications = await _notifications(ctx)
    assert result.notification_id in notifications
    posted = notifications[result.notification_id]
    assert posted["message"] == REPORT
    assert posted["title"].startswith("EV charger diagnostics")


async def test_job_posts_the_facts_when_claude_cannot_answer(
    rebooted: None, ctx: AddonContext, claude: MessagesAPIStub, tmp_path: Path
) -> None:
    assistant = _assistant(ctx, claude, tmp_path, 0)  # budget already spent
    job = DiagnosticsJob(assistant)
    claude.reset(text_reply("never sent"))
    try:
        result = await job.run_once()
    finally:
        await assistant.aclose()
    assert result.outcome == "posted"
    assert not claude.requests
    assert "- t-001: disconnected" in result.message
    assert "daily token budget is spent" in result.message
    posted = (await _notifications(ctx))[str(result.notification_id)]
    assert posted["message"] == result.message


async def test_a_quiet_day_costs_no_tokens(
    ctx: AddonContext, claude: MessagesAPIStub, tmp_path: Path
) -> None:
    assistant = _assistant(ctx, claude, tmp_path, 100_000)
    job = DiagnosticsJob(assistant)
    claude.reset(text_reply("never sent"))
    before = set(await _notifications(ctx))
    # Yesterday: before this Home Assistant (and its chargers) existed.
    yesterday = datetime.now(UTC) - timedelta(days=1)
    try:
        result = await job.run_once(now=yesterday)
    finally:
        await assistant.aclose()
    assert result.outcome == "no_faults", result.report
    assert not claude.requests
    assert assistant.budget.used == 0
    assert set(await _notifications(ctx)) == before


def test_next_run_is_today_or_tomorrow_at_the_set_time(ctx: AddonContext) -> None:
    job = DiagnosticsJob(_assistant(ctx, MessagesAPIStub(), Path("/nonexistent"), 1))
    zone = job.zone
    morning = datetime(2026, 3, 1, 8, 0, tzinfo=zone)
    assert job.next_run(morning) == datetime(2026, 3, 1, 21, 0, tzinfo=zone)
    night = datetime(2026, 3, 1, 22, 0, tzinfo=zone)
    assert job.next_run(night) == datetime(2026, 3, 2, 21, 0, tzinfo=zone)
