"""Protocol compatibility: an `initialize`-era client from npm, and stdio.

The MCP Inspector CLI (`@modelcontextprotocol/inspector@0.15.0`, TypeScript SDK
1.x, protocol 2025-06-18) lists and calls tools over Streamable HTTP and over the
legacy SSE transport, through the secret path (its CLI sends no headers).
scripts/_python.sh installs it into .venv-addon/inspector when npm is available;
without it these tests are skipped with that reason (shown by `-rs`).

The stdio test starts `python -m energy_coordinator_mcp --transport stdio` as a
process, as Claude Desktop would, and drives it with the SDK's stdio client.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import Http
from helpers import held, ok
from mcp import Client, StdioServerParameters
from stack import ROOT, Stack

INSPECTOR = (
    ROOT / ".venv-addon" / "inspector" / "node_modules" / ".bin" / "mcp-inspector"
)


async def inspector(*args: str) -> Any:
    """Run the Inspector CLI; its JSON output."""
    if not INSPECTOR.exists() or shutil.which("node") is None:
        pytest.skip(
            "MCP Inspector CLI not installed (scripts/_python.sh installs it into "
            ".venv-addon/inspector when npm is available)"
        )
    proc = await asyncio.create_subprocess_exec(
        str(INSPECTOR),
        "--cli",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, err.decode()
    return json.loads(out)


async def test_inspector_lists_and_calls_over_streamable_http(http: Http) -> None:
    url = f"{http.secret_url}/mcp"
    listing = await inspector(url, "--method", "tools/list")
    names = [tool["name"] for tool in listing["tools"]]
    assert len(names) == 15 and names[0] == "get_site_status"
    called = await inspector(
        url,
        "--method",
        "tools/call",
        "--tool-name",
        "list_chargers",
        "--tool-arg",
        "charger=t-001",
    )
    assert called.get("isError") is not True
    detail = json.loads(called["content"][0]["text"])
    assert detail["charger"] == "t-001"
    resource = await inspector(
        url, "--method", "resources/read", "--uri", "energy://site"
    )
    assert "solar" in json.loads(resource["contents"][0]["text"])


async def test_inspector_over_legacy_sse(http: Http) -> None:
    url = f"{http.secret_url}/sse"
    listing = await inspector(url, "--method", "tools/list")
    assert len(listing["tools"]) == 15
    called = await inspector(
        url, "--method", "tools/call", "--tool-name", "get_site_status"
    )
    assert json.loads(called["content"][0]["text"])["solar"].endswith(" kW")


async def test_stdio_process(stack: Stack, tmp_path: Path) -> None:
    params = StdioServerParameters(
        command=sys.executable,
        args=[
            "-m",
            "energy_coordinator_mcp",
            "--transport",
            "stdio",
            "--ha-url",
            stack.url,
            "--data-dir",
            str(tmp_path),
            "--log-level",
            "warning",
        ],
        env={
            **os.environ,
            "HA_TOKEN": stack.token,
            "PYTHONPATH": str(ROOT / "mcp_addon"),
        },
    )
    async with held(Client(params, mode="legacy")) as client:
        tools = (await client.list_tools()).tools
        assert len(tools) == 15
        status = await ok(client, "get_site_status")
        assert status["home_battery"].startswith("63.0 %")
    audit = (tmp_path / "audit.jsonl").read_text().splitlines()
    assert json.loads(audit[-1])["caller"] == "mcp:stdio"
