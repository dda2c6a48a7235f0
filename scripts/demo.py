"""The demo: a real Home Assistant with the integration and simulated chargers.

Owns the demo's lifecycle: a fresh `hass` under `.demo/` (onboarded, user `demo`), the
household's source entities (PV, grid, house, battery) driven by
`simulator.household.HouseholdFeed` on an accelerated clock, the integration added
through its config flow with those sources and its own coordination loop (unknown
chargers accepted), a simulator process with one OCPP 1.6J and one 2.0.1 charger
running sessions by themselves, the MCP add-on next to Home Assistant,
`.demo/demo.json` with the URLs and credentials, a short status in the foreground,
and stopping everything on Ctrl-C / SIGTERM. Run it through `scripts/demo`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent))

from demo_cli import MCP_PORT, parse_args
from hass_process import DOMAIN, ROOT, HassError, HassProcess

sys.path.insert(0, str(ROOT))

from simulator.household import SOURCES, Household, HouseholdFeed, as_number

VERSIONS = ("1.6", "2.0.1")

#: The demo site's grid connection and battery (the household's battery size).
DEMO_LIMITS = {
    "grid_limit": 25,
    "grid_limit_unit": "ampere",
    "site_phases": "3",
    "battery_capacity_kwh": Household.battery_capacity_kwh,
    "battery_max_charge_w": Household.battery_max_w,
    "battery_max_discharge_w": Household.battery_max_w,
}
#: The integration runs the coordination itself every this many seconds.
DEMO_LOOP_S = 5


def port_taken(port: int, host: str = "127.0.0.1") -> bool:
    """Whether something already listens on the port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return True
    return False


def start_simulators(
    ocpp_url: str,
    chargers: int,
    log_path: Path,
    *,
    id_prefix: str = "demo",
    session_pause: float = 30.0,
) -> subprocess.Popen[bytes]:
    """Simulated chargers (1.6J and 2.0.1 alternating) running sessions by themselves.

    Runs in its own session, so Ctrl-C reaches only the demo, which stops it.
    """
    command = [
        sys.executable,
        "-m",
        "simulator",
        "--url",
        ocpp_url,
        "--chargers",
        str(chargers),
        "--versions",
        ",".join(VERSIONS),
        "--id-prefix",
        id_prefix,
        "--auto-session",
        "--session-pause",
        str(session_pause),
    ]
    with log_path.open("ab") as log:
        return subprocess.Popen(
            command,
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            start_new_session=True,
        )


def stop_process(proc: subprocess.Popen[bytes] | None, timeout: float = 10.0) -> None:
    """SIGTERM, then SIGKILL after `timeout` seconds."""
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


def _is_charger_device(device: dict[str, Any], entry_id: str) -> bool:
    """A charger's own device (not a connector, a loadpoint or a site part)."""
    return any(
        domain == DOMAIN
        and identifier.startswith(f"{entry_id}_charger_")
        and "/" not in identifier
        for domain, identifier in device.get("identifiers", [])
    )


async def add_household_site(
    ha: HassProcess, feed: HouseholdFeed, ocpp_port: int, loop_s: int
) -> dict[str, Any]:
    """The household's sensors, then the site measuring them (its config entry).

    The sensors are written first so the config flow finds them; `loop_s` > 0 lets
    the integration coordinate by itself every `loop_s` seconds.
    """
    async with aiohttp.ClientSession() as session:
        await feed.write_states(session)
    return await ha.add_integration(
        site_name="Demo Home",
        ocpp_port=ocpp_port,
        # It accepts unknown chargers: listen on this machine only.
        ocpp_host="127.0.0.1",
        charger_policy="accept",
        steps={
            "sources": SOURCES,
            "limits": DEMO_LIMITS,
            "actuators": {"loop_interval": loop_s},
        },
    )


def link_feed(
    feed: HouseholdFeed, entities: list[dict[str, Any]], entry_id: str
) -> None:
    """Point the feed at the chargers' power sensors and the battery command."""
    ours = [e for e in entities if e.get("config_entry_id") == entry_id]
    by_unique = {e["unique_id"]: e["entity_id"] for e in ours}
    feed.battery_command_entity = by_unique.get(f"{entry_id}_battery_command")
    feed.battery_command_power_entity = by_unique.get(
        f"{entry_id}_battery_command_power"
    )
    # A connector's power sensor: "<entry>_charger_<charger id>_<connector>_power".
    feed.ev_power_entities = sorted(
        entity_id
        for unique_id, entity_id in by_unique.items()
        if entity_id.startswith("sensor.")
        and unique_id.startswith(f"{entry_id}_charger_")
        and re.fullmatch(r".+_\d+_power", unique_id)
    )


#: The demo's dashboard (storage mode): both cards, the site and each EV.
DASHBOARD_PATH = "energy-coordinator"


async def add_dashboard(
    ha: HassProcess, entry_id: str, chargers: int, wait_s: float = 30.0
) -> str:
    """A dashboard with the power-flow and plan cards and entity cards; its URL.

    Waits (at most `wait_s`) for the chargers' EV entities so each EV gets its card.
    """
    deadline = time.monotonic() + wait_s
    while True:
        entities = await ha.ws_command("config/entity_registry/list")
        states = {s["entity_id"] for s in await ha.ws_command("get_states")}
        by_unique = {
            e["unique_id"]: e["entity_id"]
            for e in entities
            if e.get("config_entry_id") == entry_id and e["entity_id"] in states
        }
        modes = sorted(
            u for u in by_unique if re.fullmatch(rf"{entry_id}_loadpoint_.+_mode", u)
        )
        if len(modes) >= chargers or time.monotonic() > deadline:
            break
        await asyncio.sleep(1)
    site_keys = (
        "coordinator_status",
        "plan",
        "grid_power",
        "surplus_power",
        "solar_power",
        "solar_energy_today",
        "battery_soc",
        "battery_power",
        "house_power",
        "grid_limit",
    )
    site = [
        by_unique[f"{entry_id}_{k}"]
        for k in site_keys
        if f"{entry_id}_{k}" in by_unique
    ]
    cards: list[dict[str, Any]] = [
        {"type": "custom:energy-coordinator-flow-card"},
        {"type": "custom:energy-coordinator-plan-card", "hours": 48},
        {"type": "entities", "title": "Site", "entities": site},
    ]
    for mode in modes:
        prefix = mode.removesuffix("charge_mode")
        keys = ("charge_mode", "target_soc", "target_time", "vehicle_soc", "phases")
        ev = [by_unique[prefix + k] for k in keys if prefix + k in by_unique]
        charger, _, connector = (
            prefix.removeprefix(f"{entry_id}_loadpoint_").rstrip("_").rpartition("_")
        )
        name = charger if connector == "1" else f"{charger}/{connector}"
        cards.append({"type": "entities", "title": f"EV {name}", "entities": ev})
    with contextlib.suppress(HassError):  # it exists after a restart of the demo
        await ha.ws_command(
            "lovelace/dashboards/create",
            url_path=DASHBOARD_PATH,
            title="Energy Coordinator",
            icon="mdi:home-lightning-bolt",
            mode="storage",
            show_in_sidebar=True,
            require_admin=False,
        )
    config = {
        "title": "Energy Coordinator",
        "views": [{"title": "Site", "path": "site", "cards": cards}],
    }
    await ha.ws_command("lovelace/config/save", url_path=DASHBOARD_PATH, config=config)
    return f"{ha.url}/{DASHBOARD_PATH}/site"


def household_line(feed: HouseholdFeed) -> str:
    """The household right now, in a few words."""
    home = feed.household
    return (
        f"{feed.clock:%H:%M} PV {home.pv_w / 1000:.1f} kW, house "
        f"{home.house_w / 1000:.1f} kW, battery {home.battery_soc_pct:.0f} % "
        f"({home.battery_w / 1000:+.1f} kW), grid {home.grid_w / 1000:+.1f} kW"
    )


async def status_line(
    ha: HassProcess, entry_id: str, feed: HouseholdFeed | None = None
) -> str:
    """Chargers and entities of the demo site, from the registries over WS."""
    devices = await ha.ws_command("config/device_registry/list")
    chargers = [
        d
        for d in devices
        if entry_id in d.get("config_entries", []) and _is_charger_device(d, entry_id)
    ]
    entities = await ha.ws_command("config/entity_registry/list")
    if feed is not None:
        link_feed(feed, entities, entry_id)
    ours = {e["entity_id"] for e in entities if e.get("config_entry_id") == entry_id}
    states = {s["entity_id"]: s for s in await ha.states()}
    unavailable = sum(
        1 for e in ours if e in states and states[e]["state"] == "unavailable"
    )
    line = f"{len(chargers)} charger(s), {len(ours)} entities"
    line += f" ({unavailable} unavailable)"
    if feed is not None:
        ev_w = sum(
            as_number(states[e]["state"]) for e in feed.ev_power_entities if e in states
        )
        line += f" | {household_line(feed)}, EVs {ev_w / 1000:.1f} kW"
    return line


async def run(args: argparse.Namespace) -> int:
    demo_dir: Path = args.dir.resolve()
    demo_dir.mkdir(parents=True, exist_ok=True)
    ports = [(args.ha_port, "--ha-port"), (args.ocpp_port, "--ocpp-port")]
    if args.mcp_port is not None:
        ports.append((args.mcp_port, "--mcp-port"))
    for port, flag in ports:
        if port_taken(port):
            print(f"error: port {port} is in use (choose another with {flag})")
            return 1
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)

    ha = HassProcess(
        demo_dir / "config",
        port=args.ha_port,
        username="demo",
        name="Energy Coordinator demo",
        ui=True,
    )
    simulators: subprocess.Popen[bytes] | None = None
    addon: subprocess.Popen[bytes] | None = None
    feed_task: asyncio.Task[None] | None = None
    info_path = demo_dir / "demo.json"
    info_path.unlink(missing_ok=True)
    ocpp_url = f"ws://127.0.0.1:{args.ocpp_port}"
    started = time.monotonic()
    try:
        print(f"Starting Home Assistant on {ha.url} (config in {ha.config_dir}) …")
        await ha.start()
        await ha.onboard()
        assert ha.token is not None
        feed = HouseholdFeed(ha.url, ha.token, speed=args.speed)
        entry = await add_household_site(ha, feed, args.ocpp_port, DEMO_LOOP_S)
        link_feed(
            feed, await ha.ws_command("config/entity_registry/list"), entry["entry_id"]
        )
        feed_task = asyncio.create_task(feed.run(stop))
        info: dict[str, Any] = {
            "ha_url": ha.url,
            "ha_token": ha.token,
            "username": ha.username,
            "password": ha.password,
            "ocpp_url": f"{ocpp_url}/<charger id>",
            "entry_id": entry["entry_id"],
            "config_dir": str(ha.config_dir),
            "ha_log": str(ha.log_path),
            "chargers": 0,
        }
        if not args.no_simulators:
            sim_log = demo_dir / "simulator.log"
            sim_log.unlink(missing_ok=True)
            simulators = start_simulators(
                ocpp_url, args.chargers, sim_log, session_pause=args.session_pause
            )
            info |= {"chargers": args.chargers, "simulator_log": str(sim_log)}
        info_path.write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
        info_path.chmod(0o600)  # it holds a token and a password
        print(
            f"\nEnergy Coordinator demo is up ({time.monotonic() - started:.0f} s)\n"
            f"  Home Assistant  {ha.url}\n"
            f"  login           {ha.username} / {ha.password}\n"
            f"  OCPP server     {ocpp_url}/<charger id>  (this machine only; unknown "
            "chargers accepted)\n"
            f"  household       PV, grid, house and battery sensors (sensor.demo_*), "
            f"a day at {args.speed:g}x speed; the site coordinates every "
            f"{DEMO_LOOP_S} s\n"
            f"  simulators      "
            + (
                "none (--no-simulators)"
                if simulators is None
                else f"{args.chargers} (OCPP 1.6J / 2.0.1 alternating, auto sessions)"
            )
            + f"\n  token, details  {info_path}\n"
            f"  logs            {ha.log_path}"
            + ("" if simulators is None else f", {info['simulator_log']}")
            + "\nCtrl-C stops everything.\n",
            flush=True,
        )
        chargers = 0 if simulators is None else args.chargers
        url = await add_dashboard(ha, entry["entry_id"], chargers)
        print(f"  dashboard       {url}  (plan and power-flow cards)", flush=True)
        addon = await _start_addon(demo_dir, args.mcp_port)
        return await watch(ha, entry["entry_id"], simulators, stop, feed)
    except HassError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    finally:
        print("Stopping …", flush=True)
        stop.set()
        if feed_task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait_for(feed_task, 15)
        await asyncio.to_thread(stop_process, simulators)
        await asyncio.to_thread(stop_process, addon)
        await ha.stop()
        info_path.unlink(missing_ok=True)
        print("Stopped.", flush=True)


async def watch(
    ha: HassProcess,
    entry_id: str,
    simulators: subprocess.Popen[bytes] | None,
    stop: asyncio.Event,
    feed: HouseholdFeed | None = None,
) -> int:
    """Print a status line now and then until stopped; 1 if hass dies."""
    last = ""
    while not stop.is_set():
        if not ha.running():
            print(f"error: Home Assistant exited:\n{ha.log_tail()}", file=sys.stderr)
            return 1
        if simulators is not None and simulators.poll() is not None:
            print(
                f"warning: the simulator exited (code {simulators.returncode})",
                file=sys.stderr,
            )
            simulators = None
        with contextlib.suppress(HassError, OSError, TimeoutError):
            line = await status_line(ha, entry_id, feed)
            if line != last:
                print(f"[{time.strftime('%H:%M:%S')}] {line}", flush=True)
                last = line
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 10)
    return 0


def main(argv: list[str] | None = None) -> int:
    return asyncio.run(run(parse_args(argv)))


# The MCP add-on ----------------------------------------------------------------
# Started next to Home Assistant once the integration is set up and demo.json is
# written; `mcp_url`, `mcp_token` and `mcp_secret_url` (for HA's own Model Context
# Protocol integration) are added to demo.json. It runs from the
# add-on's own venv (.venv-addon, built by scripts/demo) and keeps its token and
# audit log in .demo/mcp/.

ADDON_PYTHON = ROOT / ".venv-addon" / "bin" / "python"
ADDON_INGRESS_PORT = 8099


def _free_or_any(port: int) -> int:
    if not port_taken(port):
        return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _start_addon(
    demo_dir: Path, mcp_port: int | None = None
) -> subprocess.Popen[bytes] | None:
    """Start the add-on and add its URL and token to demo.json."""
    info_path = demo_dir / "demo.json"
    info = json.loads(info_path.read_text(encoding="utf-8"))
    if not ADDON_PYTHON.exists():
        print("warning: .venv-addon missing; the MCP add-on is not started")
        return None
    data_dir = demo_dir / "mcp"
    data_dir.mkdir(parents=True, exist_ok=True)
    port = mcp_port if mcp_port is not None else _free_or_any(MCP_PORT)
    ingress = _free_or_any(ADDON_INGRESS_PORT)
    log_path = demo_dir / "mcp.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(  # noqa: ASYNC220 - like the simulators
            [
                str(ADDON_PYTHON),
                "-m",
                "energy_coordinator_mcp",
                "--ha-url",
                info["ha_url"],
                "--data-dir",
                str(data_dir),
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--ingress-port",
                str(ingress),
                "--public-url",
                f"http://127.0.0.1:{port}",
            ],
            cwd=ROOT / "mcp_addon",
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "HA_TOKEN": info["ha_token"], "PYTHONUNBUFFERED": "1"},
            start_new_session=True,
        )
    credentials = data_dir / "mcp_credentials.json"
    status_page = f"http://127.0.0.1:{ingress}/"
    status: dict[str, Any] | None = None
    for _ in range(200):
        if proc.poll() is not None:
            print(f"warning: the MCP add-on exited; see {log_path}", file=sys.stderr)
            return None
        if credentials.exists() and port_taken(port) and port_taken(ingress):
            status = await _addon_status(status_page)
            if status is not None:
                break
        await asyncio.sleep(0.1)
    if status is None:
        print(
            f"warning: the MCP add-on did not answer; see {log_path}", file=sys.stderr
        )
        return proc
    token = json.loads(credentials.read_text(encoding="utf-8"))["token"]
    info |= {
        "mcp_url": status["mcp_url"],
        "mcp_token": token,
        # The header-less URL, as the add-on's panel shows it: what HA's own
        # Model Context Protocol integration takes.
        "mcp_secret_url": status["mcp_secret_url"],
        "mcp_status_page": status_page,
        "mcp_log": str(log_path),
    }
    if info_path.exists():  # still running
        info_path.write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
        info_path.chmod(0o600)
        print(
            f"  MCP add-on      {status['mcp_url']}  (bearer token in "
            f"{info_path}; status page {status_page})\n"
            "  Assist via MCP  in Home Assistant: Settings > Devices & services > "
            "Add integration > Model Context Protocol, and paste this URL:\n"
            f"                  {status['mcp_secret_url']}",
            flush=True,
        )
    return proc


async def _addon_status(status_page: str) -> dict[str, Any] | None:
    """The add-on's status (its ingress `status`), None until it answers."""
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as session,
            session.get(f"{status_page}status") as resp,
        ):
            if resp.status != 200:
                return None
            data = await resp.json()
    except (aiohttp.ClientError, TimeoutError, ValueError):
        return None
    return data if isinstance(data, dict) and "mcp_secret_url" in data else None


if __name__ == "__main__":
    raise SystemExit(main())
