"""MCP benchmark: what the add-on costs a model in tokens, and how fast it reads.

Owns the run: a fresh `hass` (scripts/hass_process.py) with the integration, the
site's meters and 500 extra entities in 12 areas (bench/mcp_home.py), the charge-point
simulator (one OCPP 1.6J and one 2.0.1 charger running sessions), and the add-on as
its own process (`python -m energy_coordinator_mcp`, Streamable HTTP on 127.0.0.1),
driven by the MCP SDK's client. It counts tokens (o200k via `bpe-openai`, offline,
and chars/4) of:

- `tools/list` (the tool definitions a client puts in the model's context);
- the energy question, "what are solar, grid, home battery and each EV doing right
  now": one `get_site_status` call (checked for completeness: units, the configured
  home battery and not a device battery, every EV);
- a full-home overview: one call of the server's overview tool (`--overview-tool`
  with `--overview-args`, default `get_site_status` with `{"scope": "home"}`), or,
  for a server without one, every area's `ha://area/{area}` resource plus
  `energy://site`;

and the latency of the read tools: over MCP (client → add-on → HA → back) and inside
the add-on (add-on → HA → add-on, from the audit log's durations). Prints the JSON and
a one-line summary against the targets, writes the JSON to bench/results/, and exits 1
when a target is missed.

    bash -c "source scripts/_python.sh && ensure_venv && ensure_addon_venv"
    .venv-addon/bin/python bench/mcp.py            # 500 extra entities, 12 areas
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
# This file is called mcp.py: keep bench/ off the front of the path so that
# `import mcp` is the SDK, and look up our helpers after it.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != BENCH]

import aiohttp  # noqa: E402
import httpx2  # noqa: E402
from bpe_openai import get_encoding  # noqa: E402
from mcp import Client  # noqa: E402
from mcp.client.streamable_http import streamable_http_client  # noqa: E402

sys.path.extend([str(ROOT / "scripts"), str(BENCH)])

from hass_process import HassProcess, free_port  # noqa: E402
from mcp_home import (  # noqa: E402
    SOURCE_OPTIONS,
    assign_areas,
    configuration,
    household,
)

RESULTS = BENCH / "results"
HA_PYTHON = ROOT / ".venv" / "bin" / "python"
ADDON_PYTHON = ROOT / ".venv-addon" / "bin" / "python"
QUESTION = "what are solar, grid, home battery and each EV doing right now"

#: The targets of the issue.
TARGETS = {
    "tools_list_tokens": 1500,
    "site_status_tokens": 700,
    "overview_tokens": 2500,
    "read_median_ms": 20.0,
}
#: Read tools and the arguments the latency loop calls them with.
READ_CALLS: tuple[tuple[str, dict[str, Any]], ...] = (
    ("get_site_status", {}),
    ("get_site_status", {"scope": "home"}),
    ("list_chargers", {}),
    ("get_plan", {}),
    ("explain_decision", {}),
    ("get_sessions", {"limit": 5}),
    ("search_entities", {"query": "kitchen ceiling light"}),
    ("search_entities", {"device_class": "battery", "limit": 10}),
    (
        "get_states",
        {"entity_ids": ["sensor.home_battery", "sensor.kitchen_temperature"]},
    ),
    ("get_history", {"entity_id": "sensor.grid_power", "hours": 1, "points": 12}),
)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Token cost and read latency of the Energy Coordinator MCP add-on."
    )
    parser.add_argument("--entities", type=int, default=500, help="extra entities")
    parser.add_argument("--chargers", type=int, default=2)
    parser.add_argument(
        "--rounds", type=int, default=30, help="latency rounds over the read tools"
    )
    parser.add_argument(
        "--overview-tool",
        default="get_site_status",
        help="the tool whose one call gives the full-home overview (if any)",
    )
    parser.add_argument(
        "--overview-args",
        type=json.loads,
        default={"scope": "home"},
        help='its arguments as JSON (default: {"scope": "home"})',
    )
    parser.add_argument("--keep-config", action="store_true")
    parser.add_argument("--output", type=Path, help="JSON file (default: results/)")
    return parser.parse_args(argv)


class Tokens:
    """o200k token counts (bpe-openai ships its data: no download) and chars/4."""

    def __init__(self) -> None:
        self.encoding = get_encoding("o200k_base")

    def count(self, text: str) -> dict[str, int]:
        return {
            "o200k": len(self.encoding.encode(text)),
            "chars_div_4": round(len(text) / 4),
            "chars": len(text),
        }


def compact(value: Any) -> str:
    """JSON as a client sends it on to the model (no padding)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def call_label(name: str, arguments: dict[str, Any]) -> str:
    """`get_site_status`, `search_entities {"query":"…"}`: one call, per-tool key."""
    return f"{name} {compact(arguments)}" if arguments else name


def percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    if not ordered:
        return {"count": 0}

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))], 2)

    return {
        "count": len(ordered),
        "median": round(statistics.median(ordered), 2),
        "p95": at(0.95),
        "max": round(ordered[-1], 2),
    }


class WS:
    """One authenticated WebSocket connection for many commands."""

    def __init__(self, ha: HassProcess) -> None:
        self.ha = ha
        self.next_id = 1
        self.session: aiohttp.ClientSession | None = None
        self.ws: aiohttp.ClientWebSocketResponse | None = None

    async def __aenter__(self) -> WS:
        self.session = aiohttp.ClientSession()
        self.ws = await self.session.ws_connect(self.ha.ws_url)
        await self.ws.receive_json()
        await self.ws.send_json({"type": "auth", "access_token": self.ha.token})
        auth = await self.ws.receive_json()
        if auth.get("type") != "auth_ok":
            raise RuntimeError(f"websocket auth failed: {auth}")
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self.session is not None:
            await self.session.close()

    async def __call__(self, command: str, **payload: Any) -> Any:
        assert self.ws is not None
        msg_id = self.next_id
        self.next_id += 1
        await self.ws.send_json({"id": msg_id, "type": command, **payload})
        while True:
            msg = await self.ws.receive_json()
            if msg.get("id") == msg_id and msg.get("type") == "result":
                break
        if not msg.get("success"):
            raise RuntimeError(f"{command}: {msg.get('error')}")
        return msg.get("result")


def start_simulators(
    chargers: int, ocpp_port: int, log: Path
) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            [
                str(HA_PYTHON),
                "-m",
                "simulator",
                "--url",
                f"ws://127.0.0.1:{ocpp_port}",
                "--chargers",
                str(chargers),
                "--versions",
                "1.6,2.0.1",
                "--id-prefix",
                "demo",
                "--auto-session",
                "--session-pause",
                "3",
                "--meter-interval",
                "2",
            ],
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            start_new_session=True,
        )


def start_addon(
    ha: HassProcess, data_dir: Path, port: int, log: Path
) -> subprocess.Popen[bytes]:
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "options.json").write_text(json.dumps({"log_level": "warning"}))
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env["PYTHONPATH"] = str(ROOT / "mcp_addon")
    with log.open("wb") as out:
        return subprocess.Popen(
            [
                str(ADDON_PYTHON),
                "-m",
                "energy_coordinator_mcp",
                "--ha-url",
                ha.url,
                "--ha-token",
                str(ha.token),
                "--data-dir",
                str(data_dir),
                "--transport",
                "http",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--ingress-port",
                "0",
            ],
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )


def stop(proc: subprocess.Popen[bytes] | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


async def wait_for(
    check: Callable[[], Awaitable[bool]], within: float, what: str
) -> None:
    deadline = time.monotonic() + within
    while not await check():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        await asyncio.sleep(0.5)


async def chargers_ready(ha: HassProcess, count: int) -> bool:
    states = await ha.states()
    connected = [s for s in states if s["entity_id"].endswith("_connected")]
    statuses = [s for s in states if s["entity_id"].endswith("_connector_status")]
    return sum(s["state"] == "on" for s in connected) >= count and any(
        s["state"] == "charging" for s in statuses
    )


async def addon_healthy(port: int) -> bool:
    with contextlib.suppress(aiohttp.ClientError, OSError, TimeoutError):
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as session,
            session.get(f"http://127.0.0.1:{port}/health") as resp,
        ):
            return resp.status == 200
    return False


def text_of(result: Any) -> str:
    """The text a tool call result puts in the model's context."""
    return "".join(getattr(block, "text", "") for block in result.content)


def site_status_complete(site: dict[str, Any], charger_count: int) -> dict[str, Any]:
    """Does one get_site_status answer the energy question completely?"""
    raw = site.get("evs")
    evs: list[Any] = raw if isinstance(raw, list) else []
    checks = {
        "solar_with_unit": str(site.get("solar", "")).endswith("kW"),
        "grid_with_unit": "kW" in str(site.get("grid", "")),
        "house_with_unit": "kW" in str(site.get("house", "")),
        # The configured home battery (63 %), not one of the device batteries.
        "home_battery": str(site.get("home_battery", "")).startswith("63.0 % SoC")
        and "kW" in str(site.get("home_battery", "")),
        "every_ev": len(evs) == charger_count
        and all(isinstance(ev, dict) and ev.get("state") for ev in evs),
    }
    checks["complete"] = all(checks.values())
    return checks


async def measure(
    args: argparse.Namespace,
    client: Client,
    tokens: Tokens,
    areas: list[str],
) -> dict[str, Any]:
    listed = await client.list_tools()
    tools_json = [
        t.model_dump(mode="json", by_alias=True, exclude_none=True)
        for t in listed.tools
    ]
    tools_text = compact(tools_json)
    out: dict[str, Any] = {
        "tools": {"count": len(tools_json), "names": [t["name"] for t in tools_json]},
        "tools_list": tokens.count(tools_text),
    }

    site_result = await client.call_tool("get_site_status", {})
    site_text = text_of(site_result)
    site = json.loads(site_text)
    out["energy_question"] = {
        "question": QUESTION,
        "calls": 1,
        "get_site_status": tokens.count(site_text),
        "with_tools_list": {
            k: tokens.count(tools_text)[k] + tokens.count(site_text)[k]
            for k in ("o200k", "chars_div_4")
        },
        "complete": site_status_complete(site, args.chargers),
        "answer": site,
    }

    names = {t["name"] for t in tools_json}
    if args.overview_tool in names:
        overview_result = await client.call_tool(args.overview_tool, args.overview_args)
        overview_text = text_of(overview_result)
        if overview_result.is_error:
            raise RuntimeError(f"{args.overview_tool} failed: {overview_text}")
        out["overview"] = {
            "method": f"tool {args.overview_tool} {compact(args.overview_args)}",
            "calls": 1,
            **tokens.count(overview_text),
            "answer": json.loads(overview_text),
        }
    else:
        texts = [text_of(site_result)]
        for area in areas:
            read = await client.read_resource(f"ha://area/{area}")
            texts.append("".join(getattr(c, "text", "") for c in read.contents))
        joined = "\n".join(texts)
        out["overview"] = {
            "method": (
                f"no {args.overview_tool} tool: get_site_status + ha://area/{{area}} "
                f"for all {len(areas)} areas"
            ),
            "calls": 1 + len(areas),
            **tokens.count(joined),
        }

    # Latency: warm up once, then rounds over every read tool.
    for name, arguments in READ_CALLS:
        await client.call_tool(name, arguments)
    per_tool: dict[str, list[float]] = {}
    errors: dict[str, str] = {}
    for _ in range(args.rounds):
        for name, arguments in READ_CALLS:
            started = time.perf_counter()
            result = await client.call_tool(name, arguments)
            elapsed = (time.perf_counter() - started) * 1000
            if result.is_error:
                errors[name] = text_of(result)[:200]
            per_tool.setdefault(call_label(name, arguments), []).append(elapsed)
    everything = [v for values in per_tool.values() for v in values]
    out["latency_mcp_ms"] = {
        "all_read_tools": percentiles(everything),
        "per_tool": {name: percentiles(values) for name, values in per_tool.items()},
    }
    if errors:
        out["latency_mcp_ms"]["errors"] = errors
    return out


def audit_latency(data_dir: Path, since: str) -> dict[str, Any]:
    """add-on → HA → add-on: the audit log's durations of read tools."""
    read_tools = {name for name, _ in READ_CALLS}
    durations: dict[str, list[float]] = {}
    path = data_dir / "audit.jsonl"
    for line in path.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        if row.get("tool") in read_tools and row.get("time", "") >= since:
            label = call_label(row["tool"], row.get("arguments") or {})
            durations.setdefault(label, []).append(float(row["duration_ms"]))
    everything = [v for values in durations.values() for v in values]
    return {
        "all_read_tools": percentiles(everything),
        "per_tool": {name: percentiles(values) for name, values in durations.items()},
    }


async def run(args: argparse.Namespace) -> dict[str, Any]:
    tokens = Tokens()
    extras = household(args.entities)
    workdir = Path(tempfile.mkdtemp(prefix="bench-mcp-"))
    ha = HassProcess(
        workdir / "config",
        python=str(HA_PYTHON),
        username="bench",
        name="Bench Home",
        extra_config=configuration(extras),
        log_level="warning",
    )
    simulators: subprocess.Popen[bytes] | None = None
    addon: subprocess.Popen[bytes] | None = None
    started = time.monotonic()
    try:
        await ha.start(within=90)
        await ha.onboard()
        async with WS(ha) as ws:
            per_area = await assign_areas(ws, extras)
            area_ids = [a["area_id"] for a in await ws("config/area_registry/list")]
        ocpp_port = free_port()
        await ha.add_integration(
            site_name="Bench Home",
            ocpp_port=ocpp_port,
            charger_policy="accept",
            steps={"sources": SOURCE_OPTIONS},
        )
        simulators = start_simulators(
            args.chargers, ocpp_port, workdir / "simulator.log"
        )
        await wait_for(
            lambda: chargers_ready(ha, args.chargers),
            90,
            "chargers connected, one charging",
        )
        await ha.call_service("energy_coordinator", "coordinate", {})
        states = await ha.states()
        port = free_port()
        data_dir = workdir / "addon"
        addon = start_addon(ha, data_dir, port, workdir / "addon.log")
        await wait_for(lambda: addon_healthy(port), 60, "the add-on's /health")
        token = json.loads((data_dir / "mcp_credentials.json").read_text())["token"]
        since = datetime.now(UTC).isoformat(timespec="milliseconds")
        http = httpx2.AsyncClient(
            headers={"Authorization": f"Bearer {token}"}, timeout=60
        )
        async with Client(
            streamable_http_client(f"http://127.0.0.1:{port}/mcp", http_client=http)
        ) as client:
            measured = await measure(args, client, tokens, area_ids)
        await http.aclose()
        measured["latency_addon_ms"] = audit_latency(data_dir, since)
        result: dict[str, Any] = {
            "benchmark": "mcp",
            "time": datetime.now(UTC).isoformat(timespec="seconds"),
            "host": {"python": platform.python_version(), "cpus": os.cpu_count()},
            "home": {
                "entities_total": len(states),
                "extra_entities": len(extras),
                "areas": len(area_ids),
                "extra_per_area": per_area,
                "device_batteries": sum(
                    1
                    for s in states
                    if s["attributes"].get("device_class") == "battery"
                    and s["entity_id"] != "sensor.home_battery"
                ),
                "chargers": args.chargers,
            },
            **measured,
            "setup_seconds": round(time.monotonic() - started, 1),
        }
        result["targets"] = check_targets(result)
        return result
    finally:
        await asyncio.to_thread(stop, addon)
        await asyncio.to_thread(stop, simulators)
        await ha.stop()
        if not args.keep_config:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            print(f"kept {workdir}", file=sys.stderr)


def check_targets(result: dict[str, Any]) -> dict[str, Any]:
    measured = {
        "tools_list_tokens": result["tools_list"]["o200k"],
        "site_status_tokens": result["energy_question"]["get_site_status"]["o200k"],
        "overview_tokens": result["overview"]["o200k"],
        "read_median_ms": result["latency_addon_ms"]["all_read_tools"]["median"],
    }
    targets = {
        key: {"value": value, "target": TARGETS[key], "ok": value <= TARGETS[key]}
        for key, value in measured.items()
    }
    targets["read_median_ms"]["ok"] = (
        measured["read_median_ms"] < TARGETS["read_median_ms"]
    )
    complete = result["energy_question"]["complete"]["complete"]
    targets["energy_question_complete"] = {"value": complete, "ok": complete}
    return targets


def summary_line(result: dict[str, Any]) -> str:
    t = result["targets"]
    mcp = result["latency_mcp_ms"]["all_read_tools"]
    verdict = "PASS" if all(v["ok"] for v in t.values()) else "FAIL"
    return (
        f"mcp {verdict}: tools/list {t['tools_list_tokens']['value']} tok "
        f"(≤{TARGETS['tools_list_tokens']}), get_site_status "
        f"{t['site_status_tokens']['value']} tok (≤{TARGETS['site_status_tokens']}, "
        f"complete={t['energy_question_complete']['value']}), overview "
        f"{t['overview_tokens']['value']} tok (≤{TARGETS['overview_tokens']}), read "
        f"median {t['read_median_ms']['value']} ms add-on↔HA "
        f"(<{TARGETS['read_median_ms']:g}; over MCP median {mcp['median']} / p95 "
        f"{mcp['p95']} ms); {result['home']['entities_total']} entities, "
        f"{result['home']['areas']} areas"
    )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    result = asyncio.run(run(args))
    text = json.dumps(result, indent=2, ensure_ascii=False)
    print(text)
    output = args.output
    if output is None:
        RESULTS.mkdir(exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        output = RESULTS / f"mcp-{args.entities}-{stamp}.json"
    output.write_text(text + "\n", encoding="utf-8")
    print(summary_line(result))
    return 0 if all(v["ok"] for v in result["targets"].values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
