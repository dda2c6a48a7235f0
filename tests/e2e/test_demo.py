"""End to end: the README's demo command, with its household feed.

Runs `scripts/demo.py` (what `scripts/demo` runs) on free ports with its state in a
temporary folder and a fast household clock, then checks through Home Assistant's
REST API what the owner would watch:
- the household's sensors exist and move with the simulated day;
- the site measures them (its solar sensor shows the demo PV) and coordinates by
  itself (its status is decided again, with the moving household, without anyone
  calling the action; the last *change* of decision may stay while EVs wait for
  surplus, as the actions are the same);
- with both EVs set to charge now, the chargers draw power and the household's grid
  meter includes it (grid = house + EVs + battery - PV);
- one clock: the household's energy meters count its power times demo time (real
  time x speed), the site's delays are its defaults / speed (its options), and the
  console says so;
- HA's Energy dashboard has the household's meters (grid import/export, solar,
  battery) and each charger as a device, and every energy sensor on it rises and
  never steps back;
- the MCP add-on runs next to it (demo.json has its URL and token; it is healthy),
  and the secret URL the demo prints and writes (`mcp_secret_url`) connects Home
  Assistant's own Model Context Protocol integration (its entry loads);
- Ctrl-C (SIGTERM) stops everything and removes demo.json.

And `--language pt-BR`: Home Assistant runs in Portuguese, so the site's entities
have the names of translations/pt-BR.json, and so does the owner's frontend.
"""

from __future__ import annotations

import asyncio
import itertools
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
from demo import add_household_site, set_language
from hass_process import ROOT, HassProcess, free_port

from simulator.household import ENERGY_ENTITIES, HouseholdFeed

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

SPEED = 300
METERS = {register: entity for register, (entity, _) in ENERGY_ENTITIES.items()}


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
        self.token = info["ha_token"]
        self.headers = {"Authorization": f"Bearer {self.token}"}
        self.session = session
        #: Every reading of an energy sensor (kWh) seen, in order, by entity.
        self.energy: dict[str, list[float]] = {}
        #: (monotonic time, demo PV power W, demo solar meter kWh) at each look.
        self.solar: list[tuple[float, float, float]] = []

    async def states(self) -> dict[str, dict[str, Any]]:
        async with self.session.get(
            f"{self.url}/api/states", headers=self.headers
        ) as resp:
            resp.raise_for_status()
            states = {s["entity_id"]: s for s in await resp.json()}
        seen = time.monotonic()
        for entity_id, state in states.items():
            attributes = state["attributes"]
            if attributes.get("device_class") == "energy" and not math.isnan(
                value := number(states, entity_id)
            ):
                self.energy.setdefault(entity_id, []).append(value)
        pv, solar = (
            number(states, "sensor.demo_pv_power"),
            number(states, METERS["pv_wh"]),
        )
        if not math.isnan(pv + solar):
            self.solar.append((seen, pv, solar))
        return states

    async def ws(self, command: str, **payload: Any) -> Any:
        """One WebSocket API command; its result."""
        async with self.session.ws_connect(
            self.url.replace("http", "ws", 1) + "/api/websocket"
        ) as ws:
            await ws.receive_json()
            await ws.send_json({"type": "auth", "access_token": self.token})
            assert (await ws.receive_json())["type"] == "auth_ok"
            await ws.send_json({"id": 1, "type": command, **payload})
            reply = await ws.receive_json()
        assert reply["success"], reply
        return reply["result"]

    async def timing_form(self, entry_id: str) -> dict[str, float]:
        """The values the site's "Delays and timers" options form shows."""
        flows = f"{self.url}/api/config/config_entries/options/flow"
        async with self.session.post(
            flows, headers=self.headers, json={"handler": entry_id}
        ) as resp:
            menu = await resp.json()
        async with self.session.post(
            f"{flows}/{menu['flow_id']}",
            headers=self.headers,
            json={"next_step_id": "timing"},
        ) as resp:
            form = await resp.json()
        async with self.session.delete(
            f"{flows}/{form['flow_id']}", headers=self.headers
        ) as resp:
            resp.raise_for_status()
        return {f["name"]: f["default"] for f in form["data_schema"]}

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
        str(SPEED),
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
            # One clock: the site's delays are its defaults divided by the speed.
            assert await demo.timing_form(info["entry_id"]) == {
                "enable_delay": 0.2,
                "disable_delay": 0.6,
                "phase_to_1p_delay": 0.2,
                "phase_to_3p_delay": 0.4,
                "phase_settle": 0.2,
                "share_rotate": 6.0,
                "load_restore_delay": 0.4,
            }
            decision = states["sensor.demo_home_last_change_of_decision"]["state"]
            why = states["sensor.demo_home_coordinator_status"]["attributes"]
            pv = states["sensor.demo_pv_power"]["state"]

            def decided_again(s: dict[str, dict[str, Any]]) -> bool:
                # A new decision, or the same one explained from new readings
                # (the last-change sensor moves only when the decision changes).
                status = s["sensor.demo_home_coordinator_status"]["attributes"]
                return s["sensor.demo_home_last_change_of_decision"][
                    "state"
                ] != decision or status.get("explanation") != why.get("explanation")

            # The day moves on, and the site coordinates by itself.
            await demo.until(
                "the household to move and the site to decide again",
                lambda s: s["sensor.demo_pv_power"]["state"] != pv and decided_again(s),
                60,
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
            # The Energy dashboard: the household's meters, each charger a device.
            prefs = await demo.ws("energy/get_prefs")
            deadline = time.monotonic() + 30
            while len(prefs["device_consumption"]) < 2:
                assert time.monotonic() < deadline, prefs
                await asyncio.sleep(1)
                prefs = await demo.ws("energy/get_prefs")
            sources = {source["type"]: source for source in prefs["energy_sources"]}
            assert (
                sources["grid"]["flow_from"][0]["stat_energy_from"]
                == (METERS["grid_import_wh"])
            )
            assert (
                sources["grid"]["flow_to"][0]["stat_energy_to"]
                == (METERS["grid_export_wh"])
            )
            assert sources["solar"]["stat_energy_from"] == METERS["pv_wh"]
            assert (
                sources["battery"]["stat_energy_from"]
                == (METERS["battery_discharge_wh"])
            )
            assert sources["battery"]["stat_energy_to"] == METERS["battery_charge_wh"]
            devices = {
                d["name"]: d["stat_consumption"] for d in prefs["device_consumption"]
            }
            assert sorted(devices) == ["demo-001", "demo-002"], devices
            for entity_id in (*METERS.values(), *devices.values()):
                attributes = states[entity_id]["attributes"]
                assert attributes["device_class"] == "energy", entity_id
                assert attributes["state_class"] == "total_increasing", entity_id
                assert attributes["unit_of_measurement"] == "kWh", entity_id

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

            def charging_now(s: dict[str, dict[str, Any]]) -> bool:
                status = s["sensor.demo_home_coordinator_status"]["attributes"]
                return any(code.startswith("ev.now") for code in status["codes"])

            # With the delays scaled, the cars may already charge on the sun: wait
            # for the coordinator to charge them now, then for the grid to show it.
            await demo.until("the site to charge the EVs now", charging_now, 30)
            await demo.until(
                "the EVs to charge and the grid meter to show it", grid_includes_evs, 90
            )
            # Both chargers' energy counted (in demo time, by the simulator).
            await demo.until(
                "both chargers' energy to rise",
                lambda s: all(
                    demo.energy[e][-1] > demo.energy[e][0] for e in devices.values()
                ),
                60,
            )
            await _check_dashboard(demo, info)

        # Every energy sensor on the dashboard (and the site's solar energy today)
        # only ever rose or stayed, and the meters moved. (A session's energy
        # starts again at 0 with the next session, as it should.)
        for entity_id in (
            *METERS.values(),
            *devices.values(),
            "sensor.solar_energy_today",
        ):
            values = demo.energy[entity_id]
            assert values == sorted(values), (entity_id, values)
        for register in ("grid_import_wh", "pv_wh"):
            values = demo.energy[METERS[register]]
            assert values[-1] > values[0], (register, values)
        # The battery charged from the morning sun (it may be full by now).
        assert demo.energy[METERS["battery_charge_wh"]][-1] > 1
        # The solar meter counts the PV power shown times demo time (real x speed).
        produced_kwh = demo.solar[-1][2] - demo.solar[0][2]
        shown_kwh = sum(
            pv * (t_next - t) * SPEED / 3_600_000
            for (t, pv, _), (t_next, _, _) in itertools.pairwise(demo.solar)
        )
        assert produced_kwh > 1
        assert produced_kwh == pytest.approx(shown_kwh, rel=0.2)
        # The site's "Solar energy today" reads that meter: demo time too.
        today = demo.energy["sensor.solar_energy_today"]
        assert today[-1] - today[0] == pytest.approx(produced_kwh, abs=2)
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
    assert f"a day at {SPEED}x speed (1 s = 5 min)".encode() in output
    assert b"delays scaled: solar start 0.2 s" in output
    assert f"paste this URL:\n                  {secret_url}\n".encode() in output


async def test_demo_in_portuguese(tmp_path: Path, socket_enabled: None) -> None:
    """The demo's Home Assistant in pt-BR: the site's entities carry the names of
    translations/pt-BR.json, the owner's frontend is in Portuguese."""
    names = json.loads(
        (
            ROOT / "custom_components/energy_coordinator/translations/pt-BR.json"
        ).read_text(encoding="utf-8")
    )["entity"]["sensor"]
    async with HassProcess(
        tmp_path / "config", username="demo", name="Demo", language="pt-BR"
    ) as ha:
        config = await ha.get("/api/config")
        assert config["language"] == "pt-BR"
        await set_language(ha, "pt-BR")
        assert ha.token is not None
        entry = await add_household_site(
            ha, HouseholdFeed(ha.url, ha.token), free_port(), 0
        )
        entities = await ha.ws_command("config/entity_registry/list")
        ours = {
            e["unique_id"]: e["entity_id"]
            for e in entities
            if e.get("config_entry_id") == entry["entry_id"]
        }
        states = {s["entity_id"]: s for s in await ha.states()}
        for key in ("grid_power", "coordinator_status"):
            entity_id = ours[f"{entry['entry_id']}_{key}"]
            name = states[entity_id]["attributes"]["friendly_name"]
            assert name == f"Demo Home {names[key]['name']}", name
        user = await ha.ws_command("frontend/get_user_data", key="language")
        assert user["value"]["language"] == "pt-BR"
