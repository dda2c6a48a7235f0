"""The demo: a real Home Assistant with the integration and simulated chargers.

Owns the demo's lifecycle: a fresh `hass` under `.demo/` (onboarded, user `demo`, in
the language of `--language`), the household's source entities (PV, grid, house,
battery) and energy meters driven by `simulator.household.HouseholdFeed`, the
integration added through its config flow with those sources and its own
coordination loop (unknown chargers accepted), a simulator process with one OCPP
1.6J and one 2.0.1 charger running sessions by themselves, HA's Energy dashboard
(the household's meters, each charger as a device), the MCP add-on next to Home
Assistant, `.demo/demo.json` with the URLs and credentials, a short status in the
foreground, and stopping everything on Ctrl-C / SIGTERM. Run it through
`scripts/demo`.

One clock. Demo time runs `--speed` times real time (60: a day in 24 minutes,
1 s = 1 min) for everything a watcher sees: the household's powers and energy
meters (the feed measures real time elapsed x speed), the chargers' simulated
energy and the cars' batteries (the simulator's `--speed`), and the site's delays,
which the demo sets in the site's options ("Delays and timers") to their defaults
divided by the speed. The site reads the household's solar meter (its "Solar energy
meter" source), so its "Solar energy today" is in demo time too. Nothing inside the
integration is warped: Home Assistant's own clock (timestamps, history, the Energy
dashboard's hours, "today", which resets at real midnight) and the coordination
interval (5 s, so 5 demo minutes) stay real time.
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
from hass_process import DOMAIN, ROOT, HassError, HassProcess, _form_defaults

sys.path.insert(0, str(ROOT))

from simulator.household import (
    ENERGY_ENTITIES,
    SOURCES,
    Household,
    HouseholdFeed,
    as_number,
)

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
    speed: float = 1.0,
) -> subprocess.Popen[bytes]:
    """Simulated chargers (1.6J and 2.0.1 alternating) running sessions by themselves.

    Their meters and the cars' batteries count energy `speed` times faster than
    real time (the demo's clock). Runs in its own session, so Ctrl-C reaches only
    the demo, which stops it.
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
        "--speed",
        f"{speed:g}",
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


async def scale_delays(
    ha: HassProcess, entry_id: str, speed: float
) -> dict[str, float]:
    """Set the site's delays ("Delays and timers") to their defaults / `speed`.

    The defaults are read from the options form, so this follows the integration.
    Returns the delays set, in real seconds.
    """
    flows = "/api/config/config_entries/options/flow"
    menu = await ha.post(flows, json={"handler": entry_id})
    form = await ha.post(f"{flows}/{menu['flow_id']}", json={"next_step_id": "timing"})
    if form.get("step_id") != "timing":
        raise HassError(f"the site's options have no timing step: {form}")
    delays = {
        key: round(float(value) / speed, 1)
        for key, value in _form_defaults(form).items()
    }
    done = await ha.post(f"{flows}/{form['flow_id']}", json=delays)
    if done.get("type") != "create_entry":
        raise HassError(f"the site's delays were not saved: {done}")
    return delays


def energy_prefs(chargers: dict[str, str]) -> dict[str, Any]:
    """HA's Energy dashboard: the household's meters, each charger a device.

    `chargers` maps a charger's energy sensor to its name.
    """
    meter = {register: entity for register, (entity, _) in ENERGY_ENTITIES.items()}
    # As the dashboard's own dialogs save it: no tariff given.
    no_price = {"entity_energy_price": None, "number_energy_price": None}
    return {
        "energy_sources": [
            {
                "type": "grid",
                "flow_from": [
                    {"stat_energy_from": meter["grid_import_wh"], **no_price}
                ],
                "flow_to": [{"stat_energy_to": meter["grid_export_wh"], **no_price}],
                "cost_adjustment_day": 0,
            },
            {
                "type": "solar",
                "stat_energy_from": meter["pv_wh"],
                "config_entry_solar_forecast": None,
            },
            {
                "type": "battery",
                "stat_energy_from": meter["battery_discharge_wh"],
                "stat_energy_to": meter["battery_charge_wh"],
            },
        ],
        "device_consumption": [
            {"stat_consumption": entity_id, "name": name}
            for entity_id, name in sorted(chargers.items())
        ],
    }


def charger_energy_sensors(
    entities: list[dict[str, Any]], devices: list[dict[str, Any]], entry_id: str
) -> dict[str, str]:
    """Each connector's energy register sensor of the site, and its device's name."""
    names = {d["id"]: d.get("name_by_user") or d.get("name") for d in devices}
    pattern = re.compile(rf"{re.escape(entry_id)}_charger_(.+)_\d+_energy")
    return {
        e["entity_id"]: names.get(e.get("device_id")) or e["entity_id"]
        for e in entities
        if e.get("config_entry_id") == entry_id
        and e["entity_id"].startswith("sensor.")
        and pattern.fullmatch(e.get("unique_id", ""))
    }


async def set_language(ha: HassProcess, language: str) -> None:
    """The owner's frontend language (HA's core language is in configuration.yaml)."""
    await ha.ws_command(
        "frontend/set_user_data",
        key="language",
        value={
            "language": language,
            "number_format": "language",
            "time_format": "language",
            "date_format": "language",
            "time_zone": "local",
            "first_weekday": "language",
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
        f"({home.battery_w / 1000:+.1f} kW), grid {home.grid_w / 1000:+.1f} kW; "
        f"since the start solar {home.pv_wh / 1000:.1f} kWh, grid import "
        f"{home.grid_import_wh / 1000:.1f} / export "
        f"{home.grid_export_wh / 1000:.1f} kWh"
    )


async def status_line(
    ha: HassProcess,
    entry_id: str,
    feed: HouseholdFeed | None = None,
    registries: tuple[list[dict[str, Any]], list[dict[str, Any]]] | None = None,
) -> str:
    """Chargers and entities of the demo site, from the registries over WS.

    `registries` is (devices, entities) when the caller has just listed them.
    """
    devices, entities = registries or (
        await ha.ws_command("config/device_registry/list"),
        await ha.ws_command("config/entity_registry/list"),
    )
    chargers = [
        d
        for d in devices
        if entry_id in d.get("config_entries", []) and _is_charger_device(d, entry_id)
    ]
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


def clock_line(speed: float, delays: dict[str, float], loop_s: float) -> str:
    """What clock the demo runs, for the console."""
    unit = f"1 s = {speed / 60:g} min" if speed >= 60 else f"1 min = {60 / speed:g} s"
    return (
        f"a day at {speed:g}x speed ({unit}); household meters, chargers' energy "
        f"and the site's delays run on it (delays scaled: solar start "
        f"{delays.get('enable_delay', 0):g} s, stop {delays.get('disable_delay', 0):g}"
        f" s, share rotation {delays.get('share_rotate', 0):g} s real); the site "
        f"coordinates every {loop_s} s real ({loop_s * speed / 60:g} demo min); "
        "HA's own clock (history, 'today') stays real time"
    )


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
        language=args.language,
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
        await set_language(ha, args.language)
        feed = HouseholdFeed(ha.url, ha.token, speed=args.speed)
        entry = await add_household_site(ha, feed, args.ocpp_port, DEMO_LOOP_S)
        delays = await scale_delays(ha, entry["entry_id"], args.speed)
        await ha.ws_command("energy/save_prefs", **energy_prefs({}))
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
                ocpp_url,
                args.chargers,
                sim_log,
                session_pause=args.session_pause,
                speed=args.speed,
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
            "  household       PV, grid, house and battery sensors and energy "
            "meters (sensor.demo_*), on the Energy dashboard with each charger\n"
            f"  demo clock      {clock_line(args.speed, delays, DEMO_LOOP_S)}\n"
            f"  language        {args.language}\n"
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
    #: The chargers on the Energy dashboard (energy sensor -> name).
    dashboard: dict[str, str] = {}
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
            registries = (
                await ha.ws_command("config/device_registry/list"),
                await ha.ws_command("config/entity_registry/list"),
            )
            chargers = charger_energy_sensors(registries[1], registries[0], entry_id)
            if chargers != dashboard:
                await ha.ws_command("energy/save_prefs", **energy_prefs(chargers))
                dashboard = chargers
            line = await status_line(ha, entry_id, feed, registries)
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
#: How long the demo waits for the add-on to answer before it goes on without it.
ADDON_START_S = 60.0


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
    # On a busy machine the add-on takes a while to import and start (10 s and
    # more were seen on two shared cores): wait up to a minute.
    deadline = time.monotonic() + ADDON_START_S
    while time.monotonic() < deadline:
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
