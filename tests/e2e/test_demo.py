"""End to end: the README's demo command, with its household feed.

Runs `scripts/demo.py` (what `scripts/demo` runs) on free ports with its state in a
temporary folder and a fast household clock, then checks through Home Assistant's
REST API what the owner would watch:
- the household's sensors exist and move with the simulated day;
- the site measures them (its solar sensor shows the demo PV) and coordinates by
  itself (its last-decision time advances without anyone calling the action);
- with both EVs set to charge now, the chargers draw power and the household's grid
  meter includes it (grid = house + EVs + battery - PV);
- the MCP add-on runs next to it (demo.json has its URL and token; it is healthy),
  and the secret URL the demo prints and writes (`mcp_secret_url`) connects Home
  Assistant's own Model Context Protocol integration (its entry loads);
- Ctrl-C (SIGTERM) stops everything and removes demo.json.
"""

from __future__ import annotations

import asyncio
import json
import math
import signal
import socket
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from hass_process import ROOT, free_port

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]


async def _check_dashboard(demo: Demo, info: dict[str, Any]) -> None:
    """The demo's dashboard has both cards; their file is served; the status
    sensor names each EV by its charger and says why it charges."""
    async with demo.session.ws_connect(f"{demo.url}/api/websocket") as ws:
        await ws.receive_json()
        await ws.send_json({"type": "auth", "access_token": info["ha_token"]})
        assert (await ws.receive_json())["type"] == "auth_ok"
        await ws.send_json(
            {"id": 1, "type": "lovelace/config", "url_path": "energy-coordinator"}
        )
        result = await ws.receive_json()
    assert result["success"], result
    cards = [card["type"] for card in result["result"]["views"][0]["cards"]]
    assert cards[:2] == [
        "custom:energy-coordinator-flow-card",
        "custom:energy-coordinator-plan-card",
    ]
    async with demo.session.get(
        f"{demo.url}/energy_coordinator/energy-coordinator-cards.js"
    ) as resp:
        assert resp.status == 200 and resp.content_type == "text/javascript"
    states = await demo.states()
    status = states["sensor.demo_home_coordinator_status"]["attributes"]
    evs = status["loadpoints"]
    assert sorted(lp["name"] for lp in evs) == ["demo-001", "demo-002"], evs
    for lp in evs:
        assert lp["reason"] and lp["id"] not in lp["reason"], lp


class Demo:
    """The demo process and a REST client for its Home Assistant."""

    def __init__(self, info: dict[str, Any], session: aiohttp.ClientSession) -> None:
        self.url = info["ha_url"]
        self.headers = {"Authorization": f"Bearer {info['ha_token']}"}
        self.session = session

    async def states(self) -> dict[str, dict[str, Any]]:
        async with self.session.get(
            f"{self.url}/api/states", headers=self.headers
        ) as resp:
            resp.raise_for_status()
            return {s["entity_id"]: s for s in await resp.json()}

    async def service(self, domain: str, service: str, data: dict[str, Any]) -> None:
        async with self.session.post(
            f"{self.url}/api/services/{domain}/{service}",
            headers=self.headers,
            json=data,
        ) as resp:
            resp.raise_for_status()

    async def add_mcp_integration(self, url: str) -> dict[str, Any]:
        """HA's own Model Context Protocol integration, as a person adds it."""
        flows = f"{self.url}/api/config/config_entries/flow"
        async with self.session.post(
            flows, headers=self.headers, json={"handler": "mcp"}
        ) as resp:
            form = await resp.json()
        async with self.session.post(
            f"{flows}/{form['flow_id']}", headers=self.headers, json={"url": url}
        ) as resp:
            done = await resp.json()
        assert done.get("type") == "create_entry", done
        entry_id = done["result"]["entry_id"]
        deadline = time.monotonic() + 30
        while True:
            async with self.session.get(
                f"{self.url}/api/config/config_entries/entry", headers=self.headers
            ) as resp:
                entries = {e["entry_id"]: e for e in await resp.json()}
            entry = entries[entry_id]
            if entry["state"] == "loaded":
                return entry
            assert time.monotonic() < deadline, entry
            await asyncio.sleep(0.5)

    async def until(
        self,
        what: str,
        check: Callable[[dict[str, dict[str, Any]]], bool],
        within: float,
    ) -> dict[str, dict[str, Any]]:
        deadline = time.monotonic() + within
        while True:
            states = await self.states()
            if check(states):
                return states
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}")
            await asyncio.sleep(1)


def number(states: dict[str, dict[str, Any]], entity_id: str) -> float:
    """The state as a number; NaN (never equal, never above) when not one."""
    try:
        return float(states[entity_id]["state"])
    except (KeyError, ValueError):
        return math.nan


def listening_only_on_loopback(port: int) -> bool:
    """Something listens on 127.0.0.1:port, and nothing on every interface."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            pass  # taken on 127.0.0.1, as it should be
        else:
            return False
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.2", port))
        except OSError:
            return False
    return True


async def test_demo_with_household(tmp_path: Path, socket_enabled: None) -> None:
    demo_dir = tmp_path / "demo"
    info_path = demo_dir / "demo.json"
    ocpp_port, mcp_port = free_port(), free_port()
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        str(ROOT / "scripts" / "demo.py"),
        "--ha-port",
        str(free_port()),
        "--ocpp-port",
        str(ocpp_port),
        "--mcp-port",
        str(mcp_port),
        "--dir",
        str(demo_dir),
        "--speed",
        "300",
        "--session-pause",
        "1",
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output = b""
    try:
        deadline = time.monotonic() + 120
        while not info_path.exists():
            assert proc.returncode is None, "the demo exited early"
            assert time.monotonic() < deadline, "demo.json never appeared"
            await asyncio.sleep(0.5)
        info = json.loads(info_path.read_text(encoding="utf-8"))
        assert info["chargers"] == 2
        while "mcp_url" not in info:
            assert time.monotonic() < deadline, "the MCP add-on never started"
            await asyncio.sleep(0.5)
            info = json.loads(info_path.read_text(encoding="utf-8"))
        assert info["mcp_token"]
        assert info["mcp_url"] == f"http://127.0.0.1:{mcp_port}/mcp"
        # The demo accepts unknown chargers, so its OCPP server is on 127.0.0.1 only:
        # the same port on another address of this machine is free.
        assert listening_only_on_loopback(ocpp_port)

        async with aiohttp.ClientSession() as session:
            health = info["mcp_url"].removesuffix("/mcp") + "/health"
            async with session.get(health) as resp:
                assert resp.status == 200
            demo = Demo(info, session)
            # The URL the demo prints connects HA's own MCP integration (Assist).
            secret_url = info["mcp_secret_url"]
            assert secret_url.startswith(info["mcp_url"].removesuffix("mcp"))
            assert secret_url.endswith("/sse")
            entry = await demo.add_mcp_integration(secret_url)
            assert entry["title"] == "energy-coordinator"
            # The household's sensors, and the site measuring them.
            states = await demo.until(
                "the site's solar sensor to show the demo PV",
                lambda s: abs(
                    number(s, "sensor.solar_power") - number(s, "sensor.demo_pv_power")
                )
                < 1,
                30,
            )
            for entity_id in (
                "sensor.demo_grid_power",
                "sensor.demo_house_power",
                "sensor.demo_battery_soc",
                "sensor.demo_battery_power",
            ):
                assert entity_id in states, entity_id
            decision = states["sensor.demo_home_last_change_of_decision"]["state"]
            pv = states["sensor.demo_pv_power"]["state"]
            # The day moves on, and the site coordinates by itself.
            await demo.until(
                "the household to move and the site to decide again",
                lambda s: s["sensor.demo_pv_power"]["state"] != pv
                and s["sensor.demo_home_last_change_of_decision"]["state"] != decision,
                30,
            )

            # Both EVs plugged in (auto sessions), then charging now.
            modes = await demo.until(
                "two EV loadpoints with a car plugged in",
                lambda s: sum(
                    1
                    for e, st in s.items()
                    if e.startswith("binary_sensor.demo_")
                    and e.endswith("_plugged_in")
                    and st["state"] == "on"
                )
                == 2,
                60,
            )
            selects = sorted(
                e
                for e in modes
                if e.startswith("select.ev_demo_") and e.endswith("_charge_mode")
            )
            assert len(selects) == 2, selects
            await demo.service(
                "select", "select_option", {"entity_id": selects, "option": "now"}
            )

            def ev_w(s: dict[str, dict[str, Any]]) -> float:
                return sum(
                    number(s, e)
                    for e in s
                    if e.startswith("sensor.demo_00") and e.endswith("_power")
                )

            def grid_includes_evs(s: dict[str, dict[str, Any]]) -> bool:
                implied = (
                    number(s, "sensor.demo_grid_power")
                    - number(s, "sensor.demo_house_power")
                    - number(s, "sensor.demo_battery_power")
                    + number(s, "sensor.demo_pv_power")
                )
                return ev_w(s) > 5000 and implied > 5000

            states = await demo.until(
                "the EVs to charge and the grid meter to show it", grid_includes_evs, 90
            )
            status = states["sensor.demo_home_coordinator_status"]["attributes"]
            assert any(code.startswith("ev.now") for code in status["codes"]), status
            await _check_dashboard(demo, info)
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGINT)
            try:
                output, _ = await asyncio.wait_for(proc.communicate(), 60)
            except TimeoutError:
                proc.kill()
                output, _ = await proc.communicate()
    assert proc.returncode == 0, output.decode(errors="replace")[-3000:]
    assert not info_path.exists()
    assert b"Stopped." in output
    assert f"paste this URL:\n                  {secret_url}\n".encode() in output
