"""Garage benchmark: N coordinated OCPP 1.6J chargers sharing one binding grid limit.

Owns the run of issue 10's "garage scale" figure, in two parts on the same load
(`bench/load_client.py --follow-profiles`: N chargers, MeterValues every 10 s, each
following the charging profiles it gets):

1. The floor: the load against a bare `ocpp`-library central system
   (`bench/floor_csms.py`): its MeterValues latency, CPU and RSS.
2. Home Assistant: a fresh `hass` (scripts/hass_process.py, `--skip-pip`) with the
   recorder on, the coordinator's DEBUG cycle log, and a bench-only event-loop probe
   (`bench/loop_probe/`, copied into the config dir as `bench_loop_probe`). The site
   measures grid and PV power (sensors this process writes over REST every few
   seconds: grid = house + what the chargers draw - PV), has a grid limit that binds
   (0.4 A per phase per charger: 400 A for 1,000) and coordinates every 5 s by
   itself (its built-in loop). Once every charger is in a transaction all
   loadpoints are put in charge mode `now` (one `select.select_option` call), the
   site settles, and the window starts. Halfway through it the grid limit is cut
   (400 -> 300 A, through the site's grid-limit number); the chargers' recorded
   profiles show whether every charger's limit was within its share of the new limit
   within two cycles.

The figures that need no running process (cycle log lines, py-spy summary, the
limit check) are in `bench/garage_records.py`. Prints the JSON result and a one-line
summary, writes the JSON to bench/results/ and exits 1 when a target is missed.

    .venv/bin/python bench/garage.py                      # 1,000 chargers, 120 s
    .venv/bin/python bench/garage.py --chargers 100       # + the cycle < 20 ms target
    .venv/bin/python bench/garage.py --profile            # + py-spy of hass
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import random
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent / "scripts"))
sys.path.insert(0, str(BENCH))

from garage_records import (  # noqa: E402
    check_limits,
    log_problems,
    profile_counts,
    site_cycles,
    summarise_profile,
)
from hass_process import HassProcess, free_port  # noqa: E402
from load_client import percentiles  # noqa: E402

RESULTS = BENCH / "results"
MB = 1024 * 1024
DOMAIN = "energy_coordinator"
COORDINATOR_LOGGER = "custom_components.energy_coordinator.site.coordinator"
VOLTAGE = 230.0
#: The site's meters, written by the bench (the site's own sensors have other ids).
GRID_SENSOR = "sensor.meter_grid_power"
PV_SENSOR = "sensor.meter_pv_power"
POWER_ATTRIBUTES = {
    "unit_of_measurement": "W",
    "device_class": "power",
    "state_class": "measurement",
}
RECORDER_CONFIG = """
recorder:
  purge_keep_days: 1
"""
PROBE_CONFIG = """
bench_loop_probe:
"""

#: The targets of issue 10 (at 1,000 chargers; the cycle target at 100).
TARGETS = {
    "meter_values_p99_ms": 25.0,
    "ha_api_p99_ms": 50.0,
    "loop_stall_max_ms": 50.0,
    "hass_cpu_percent": 50.0,
    "rss_growth_mb": 300.0,
    "start_transaction_p50_ms": 50.0,
    "boot_notification_p99_ms": 50.0,
}
CYCLE_TARGET_MS = 20.0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Coordinated garage: N OCPP 1.6J chargers, one grid limit."
    )
    parser.add_argument("--chargers", type=int, default=1000)
    parser.add_argument("--duration", type=float, default=120.0, help="hass window (s)")
    parser.add_argument(
        "--floor-duration", type=float, default=60.0, help="floor window (s)"
    )
    parser.add_argument("--skip-floor", action="store_true", help="hass only")
    parser.add_argument(
        "--detail-entities",
        action="store_true",
        help="keep the entities disabled by default (a garage turns them off)",
    )
    parser.add_argument("--meter-interval", type=float, default=10.0)
    parser.add_argument(
        "--connect-concurrency",
        type=int,
        default=50,
        help="closed loop (--arrival-s 0): chargers connecting at once",
    )
    parser.add_argument(
        "--arrival-s",
        type=float,
        default=0.0,
        help="open loop: the chargers arrive at random moments over this many s, "
        "as after a restart with OCPP's randomised reconnect back-off",
    )
    parser.add_argument(
        "--loop-interval", type=int, default=5, help="the site's own loop (s)"
    )
    parser.add_argument(
        "--grid-limit",
        type=float,
        help="A per phase (default: 0.4 A per charger, 400 A for 1,000)",
    )
    parser.add_argument(
        "--grid-limit-after",
        type=float,
        help="the limit set during the window (default: 3/4 of --grid-limit)",
    )
    parser.add_argument(
        "--change-at",
        type=float,
        help="seconds into the window when the limit changes (default: half)",
    )
    parser.add_argument(
        "--settle",
        type=float,
        default=30.0,
        help="seconds between charge mode 'now' and the window",
    )
    parser.add_argument(
        "--settle-backlog-s",
        type=float,
        default=300.0,
        help="then wait up to this long for the recorder to catch up",
    )
    parser.add_argument(
        "--house-w-per-charger",
        type=float,
        default=10.0,
        help="the building's own load (10 kW for 1,000 chargers)",
    )
    parser.add_argument(
        "--pv-w-per-charger",
        type=float,
        default=5.0,
        help="the rooftop PV (5 kW for 1,000 chargers)",
    )
    parser.add_argument(
        "--house-noise",
        type=float,
        default=0.0,
        help="relative noise on house and PV per feed update (0: steady inputs)",
    )
    parser.add_argument(
        "--feed-interval", type=float, default=2.0, help="grid/PV sensor updates (s)"
    )
    parser.add_argument(
        "--api-interval", type=float, default=0.5, help="GET /api/ every S seconds"
    )
    parser.add_argument(
        "--cycle-target",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="check the cycle < 20 ms target (default: with 100 chargers or fewer)",
    )
    parser.add_argument(
        "--recorder",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="HA's recorder (on: the issue's configuration; off: to see its cost)",
    )
    parser.add_argument("--ha-port", type=int, default=0, help="0: a free port")
    parser.add_argument("--ocpp-port", type=int, default=0, help="0: a free port")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="sample hass with py-spy during the window (bench/requirements.txt)",
    )
    parser.add_argument(
        "--tracemalloc",
        action="store_true",
        help="trace hass's allocations (slow: for where the memory goes, not timing)",
    )
    parser.add_argument(
        "--keep-config", action="store_true", help="keep hass's config dir (logs)"
    )
    parser.add_argument("--output", type=Path, help="JSON file (default: results/)")
    args = parser.parse_args(argv)
    if args.grid_limit is None:
        args.grid_limit = round(0.4 * args.chargers, 1)
    if args.grid_limit_after is None:
        args.grid_limit_after = round(0.75 * args.grid_limit, 1)
    if args.change_at is None:
        args.change_at = args.duration / 2
    if args.cycle_target is None:
        args.cycle_target = args.chargers <= 100
    return args


# Processes and /proc ----------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_bytes(pid: int) -> int:
    """Resident set size of a process."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def mb(value: float) -> float:
    return round(value / MB, 1)


def loadavg() -> list[float]:
    return [round(v, 2) for v in os.getloadavg()]


class Sampler:
    """CPU (% of one core) and RSS of one process, once a second."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.cpu_percent: list[float] = []
        self.rss: list[int] = []

    async def run(self) -> None:
        last_cpu, last_wall = cpu_seconds(self.pid), time.monotonic()
        while True:
            await asyncio.sleep(1.0)
            cpu, wall = cpu_seconds(self.pid), time.monotonic()
            self.cpu_percent.append(100 * (cpu - last_cpu) / (wall - last_wall))
            self.rss.append(rss_bytes(self.pid))
            last_cpu, last_wall = cpu, wall

    def p95(self) -> float:
        if not self.cpu_percent:
            return 0.0
        ordered = sorted(self.cpu_percent)
        return round(
            ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))], 1
        )


class Window:
    """CPU time and wall time of a process between two marks."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.cpu0, self.wall0 = cpu_seconds(pid), time.monotonic()

    def cpu_percent(self) -> float:
        cpu, wall = cpu_seconds(self.pid), time.monotonic()
        return round(100 * (cpu - self.cpu0) / (wall - self.wall0), 1)


class LoadClient:
    """bench/load_client.py as a subprocess: its JSON events, its draw lines."""

    def __init__(self) -> None:
        self.proc: asyncio.subprocess.Process | None = None
        self.events: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.draw: dict[str, Any] = {"power_w": 0.0, "line_a": [0.0, 0.0, 0.0]}
        self._reader: asyncio.Task[None] | None = None

    async def start(
        self, url: str, args: argparse.Namespace, duration: float, *, wait: bool
    ) -> None:
        command = [
            sys.executable,
            str(BENCH / "load_client.py"),
            "--url",
            url,
            "--chargers",
            str(args.chargers),
            "--duration",
            str(duration),
            "--meter-interval",
            str(args.meter_interval),
            "--connect-concurrency",
            str(args.connect_concurrency),
            "--arrival-s",
            str(args.arrival_s),
            "--follow-profiles",
            "--draw-interval",
            str(args.feed_interval),
        ]
        if wait:
            command.append("--wait-for-start")
        self.proc = await asyncio.create_subprocess_exec(
            *command,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            limit=256 * MB,  # the result line carries every charger's profiles
        )
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        while line := await self.proc.stdout.readline():
            text = line.decode(errors="replace").strip()
            if not text.startswith("{"):
                if text:
                    print(f"[load] {text}", file=sys.stderr)
                continue
            event = json.loads(text)
            event["received_at"] = time.time()
            if event.get("event") == "draw":
                self.draw = event
            else:
                await self.events.put(event)

    async def next(self, kind: str, within: float) -> dict[str, Any]:
        async with asyncio.timeout(within):
            while True:
                event = await self.events.get()
                if event.get("event") == kind:
                    return event

    async def start_window(self) -> None:
        assert self.proc is not None and self.proc.stdin is not None
        self.proc.stdin.write(b"start\n")
        await self.proc.stdin.drain()

    async def finish(self) -> None:
        if self.proc is not None:
            await self.proc.wait()
        if self._reader is not None:
            await self._reader

    async def kill(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.terminate()
            with contextlib.suppress(ProcessLookupError):
                await self.proc.wait()


# The floor --------------------------------------------------------------------


async def run_floor(args: argparse.Namespace) -> dict[str, Any]:
    """The same load against a bare ocpp-library central system."""
    server = await asyncio.create_subprocess_exec(
        sys.executable,
        str(BENCH / "floor_csms.py"),
        "--port",
        "0",
        stdout=asyncio.subprocess.PIPE,
    )
    client = LoadClient()
    try:
        assert server.stdout is not None
        hello = json.loads(await asyncio.wait_for(server.stdout.readline(), 30))
        await asyncio.sleep(0.5)
        rss_idle = rss_bytes(server.pid)
        ramp = Window(server.pid)
        await client.start(
            f"ws://127.0.0.1:{hello['port']}", args, args.floor_duration, wait=False
        )
        ready = await client.next("ready", 900)
        ramp_cpu = ramp.cpu_percent()
        window = Window(server.pid)
        sampler = Sampler(server.pid)
        sampling = asyncio.create_task(sampler.run())
        result = await client.next("result", args.floor_duration + 120)
        cpu = window.cpu_percent()
        rss_end = rss_bytes(server.pid)
        sampling.cancel()
        await client.next("teardown", 300)
        await client.finish()
    finally:
        await client.kill()
        if server.returncode is None:
            server.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(server.wait(), 10)
            except TimeoutError:
                server.kill()
                await server.wait()
    setup, win = result["setup"], result["window"]
    return {
        "server": "bench/floor_csms.py (ocpp 1.6J ChargePoint handlers, websockets)",
        "window_s": result["window_s"],
        "ramp_s": ready["ramp_s"],
        "in_transaction": ready["in_transaction"],
        "meter_values": win["latency"].get("MeterValues", {"count": 0}),
        "heartbeat": win["latency"].get("Heartbeat", {"count": 0}),
        "start_transaction": setup["latency"].get("StartTransaction", {"count": 0}),
        "boot_notification": setup["latency"].get("BootNotification", {"count": 0}),
        "errors": win["error_count"] + setup["error_count"],
        "disconnects": win["disconnects"],
        "cpu_percent": cpu,
        "cpu_percent_p95_1s": sampler.p95(),
        "ramp_cpu_percent": ramp_cpu,
        "rss_mb": {
            "idle": mb(rss_idle),
            "end": mb(rss_end),
            "growth": mb(rss_end - rss_idle),
        },
        "client_loop_lag": result["client_loop_lag"],
    }


# Home Assistant ---------------------------------------------------------------


class BenchHass(HassProcess):
    """A `hass` whose config dir also holds the bench-only loop probe."""

    def write_config(self) -> None:
        super().write_config()
        shutil.copytree(
            BENCH / "loop_probe",
            self.config_dir / "custom_components" / "bench_loop_probe",
            ignore=shutil.ignore_patterns("__pycache__"),
        )


class GridFeed:
    """The site's meters: grid = house + what the chargers draw - PV, over REST."""

    def __init__(
        self, ha: HassProcess, client: LoadClient, args: argparse.Namespace
    ) -> None:
        self.ha = ha
        self.client = client
        self.house_w = args.chargers * args.house_w_per_charger
        self.pv_w = args.chargers * args.pv_w_per_charger
        self.noise = args.house_noise
        self.interval = args.feed_interval
        self.rng = random.Random(10)
        self.writes = 0
        self.errors: list[str] = []
        self.last: dict[str, float] = {}

    async def write(self) -> None:
        noise = self.noise
        house = self.house_w * (1 + self.rng.uniform(-noise, noise))
        pv = self.pv_w * (1 + self.rng.uniform(-noise, noise))
        draw = float(self.client.draw.get("power_w", 0.0))
        grid = house + draw - pv
        self.last = {"house_w": house, "pv_w": pv, "ev_w": draw, "grid_w": grid}
        for entity_id, value, name in (
            (GRID_SENSOR, grid, "Meter grid power"),
            (PV_SENSOR, pv, "Meter PV power"),
        ):
            await self.ha.post(
                f"/api/states/{entity_id}",
                json={
                    "state": f"{value:.0f}",
                    "attributes": {**POWER_ATTRIBUTES, "friendly_name": name},
                },
            )
        self.writes += 1

    async def run(self) -> None:
        while True:
            try:
                await self.write()
            except Exception as err:  # a failed write is a data point
                self.errors.append(repr(err))
            await asyncio.sleep(self.interval)


async def poll_api(
    ha: HassProcess, interval: float, samples: list[float], errors: list[str]
) -> None:
    """GET /api/ every `interval` seconds; its latency."""
    loop = asyncio.get_running_loop()
    next_at = loop.time()
    while True:
        started = time.perf_counter()
        try:
            body = await ha.get("/api/", request_timeout=10)
            if isinstance(body, dict) and "message" in body:
                samples.append(time.perf_counter() - started)
            else:
                errors.append(f"unexpected body {body!r}")
        except Exception as err:  # every failure is a data point
            errors.append(repr(err))
        next_at += interval
        await asyncio.sleep(max(0.0, next_at - loop.time()))


async def site_entities(
    ha: HassProcess, entry_id: str, chargers: int, within: float = 180.0
) -> tuple[list[str], str]:
    """Every loadpoint's charge-mode select (waits for all) and the grid limit."""
    deadline = time.monotonic() + within
    while True:
        entities = await ha.ws_command("config/entity_registry/list")
        ours = [e for e in entities if e.get("config_entry_id") == entry_id]
        selects = sorted(
            e["entity_id"]
            for e in ours
            if e["entity_id"].startswith("select.")
            and e["unique_id"].startswith(f"{entry_id}_loadpoint_")
            and e["unique_id"].endswith("_charge_mode")
        )
        limit = next(
            (
                e["entity_id"]
                for e in ours
                if e["unique_id"] == f"{entry_id}_grid_limit"
            ),
            None,
        )
        if (len(selects) >= chargers and limit) or time.monotonic() > deadline:
            if limit is None:
                raise RuntimeError("the site has no grid-limit number entity")
            return selects, limit
        await asyncio.sleep(2)


class PhaseProfiler:
    """py-spy of hass, one recording per phase (ramp, settle, window), per thread."""

    def __init__(self, pid: int, enabled: bool, base: Path) -> None:
        self.pid = pid
        self.base = base
        self.exe = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
        self.enabled = enabled
        if enabled and not Path(self.exe).exists():
            print("py-spy not installed (bench/requirements.txt); no profile")
            self.enabled = False
        self.proc: asyncio.subprocess.Process | None = None
        self.phase = ""
        self.started = 0.0
        self.files: dict[str, str] = {}
        self.summaries: dict[str, Any] = {}

    def _path(self, phase: str) -> Path:
        return self.base.with_name(f"{self.base.name}.{phase}.pyspy.txt")

    async def start(self, phase: str) -> None:
        """End the running phase's recording, start one for `phase`."""
        if not self.enabled:
            return
        await self.stop()
        self.phase, self.started = phase, time.monotonic()
        self.proc = await asyncio.create_subprocess_exec(
            self.exe,
            "record",
            "--pid",
            str(self.pid),
            "--duration",
            "3600",
            "--rate",
            "100",
            "--format",
            "raw",
            "--threads",
            "--output",
            str(self._path(phase)),
            "--nonblocking",
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )

    async def stop(self) -> None:
        """End the recording (py-spy writes what it has on SIGINT), summarise it."""
        if self.proc is None:
            return
        seconds = time.monotonic() - self.started
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGINT)
        await self.proc.wait()
        self.proc = None
        path = self._path(self.phase)
        if path.exists():
            self.files[self.phase] = str(path)
            self.summaries[self.phase] = summarise_profile(path, seconds)


async def reclaim(ha: HassProcess) -> dict[str, Any]:
    """Lift the integration's heap freeze, collect, count what it had held."""
    try:
        answer: dict[str, Any] = await ha.post(
            "/api/bench_loop_probe/reclaim", request_timeout=120
        )
    except Exception as err:  # not worth losing the run
        return {"error": repr(err)}
    return answer


async def take_probe(ha: HassProcess) -> dict[str, Any]:
    """The loop probe's statistics since its last reset; then reset it."""
    stats: dict[str, Any] = await ha.get("/api/bench_loop_probe", request_timeout=60)
    await ha.post("/api/bench_loop_probe", request_timeout=60)
    return stats


async def wait_for_recorder(ha: HassProcess, within_s: float) -> float | None:
    """Wait until the recorder's queue is (nearly) empty; the seconds waited."""
    started = time.perf_counter()
    while time.perf_counter() - started < within_s:
        backlog = await recorder_backlog(ha)
        if isinstance(backlog, int) and backlog < 100:
            return round(time.perf_counter() - started, 1)
        await asyncio.sleep(2)
    return None


async def recorder_backlog(ha: HassProcess) -> Any:
    """Events the recorder has not written yet (its queue)."""
    try:
        info = await ha.ws_command("recorder/info")
    except Exception as err:  # a figure is not worth losing the run
        return repr(err)
    return info.get("backlog")


# The run ----------------------------------------------------------------------


async def run_hass(args: argparse.Namespace, stamp: str) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix="garage-"))
    ha = BenchHass(
        workdir / "config",
        port=args.ha_port or None,
        username="bench",
        name="Garage",
        log_level="warning",
        log_levels={COORDINATOR_LOGGER: "debug"},
        extra_config=(RECORDER_CONFIG if args.recorder else "") + PROBE_CONFIG,
        env={"PYTHONTRACEMALLOC": "1"} if args.tracemalloc else None,
    )
    ocpp_port = args.ocpp_port or free_port()
    client = LoadClient()
    feed = GridFeed(ha, client, args)
    background: list[asyncio.Task[Any]] = []
    out: dict[str, Any] = {}
    try:
        await ha.start()
        await ha.onboard()
        await feed.write()  # the config flow needs the sensors
        entry = await ha.add_integration(
            site_name="Garage",
            ocpp_port=ocpp_port,
            charger_policy="accept",
            steps={
                "sources": {
                    "grid_power_entity": GRID_SENSOR,
                    "pv_power_entity": PV_SENSOR,
                },
                "limits": {
                    "grid_limit": args.grid_limit,
                    "grid_limit_unit": "ampere",
                    "site_phases": "3",
                },
                "actuators": {"loop_interval": args.loop_interval},
            },
        )
        entry_id = entry["entry_id"]
        if not args.detail_entities:  # as docs/limitations.md advises a garage
            await ha.options_step(
                entry_id, "central_system", {"detail_entities": False}
            )
        background.append(asyncio.create_task(feed.run()))
        await asyncio.sleep(3)  # let startup work settle
        rss_idle = ha.rss_bytes()
        profiler = PhaseProfiler(
            ha.pid, args.profile, RESULTS / f"garage-{args.chargers}-{stamp}"
        )
        await ha.post("/api/bench_loop_probe")
        await profiler.start("ramp")
        ramp = Window(ha.pid)
        await client.start(
            f"ws://127.0.0.1:{ocpp_port}", args, args.duration, wait=True
        )
        ready = await client.next("ready", 900)
        ramp_cpu = ramp.cpu_percent()
        await profiler.start("settle")
        ramp_probe = await take_probe(ha)
        backlog_after_ramp = await recorder_backlog(ha)
        print(
            f"{ready['in_transaction']}/{args.chargers} chargers in a transaction "
            f"after {ready['ramp_s']:.1f} s; charge mode 'now' …",
            flush=True,
        )
        settle = Window(ha.pid)
        selects, grid_limit_entity = await site_entities(ha, entry_id, args.chargers)
        # The registry listing is the bench's own (megabytes at 1,000 chargers):
        # the settle's loop figures start after it.
        await ha.post("/api/bench_loop_probe", request_timeout=60)
        started = time.perf_counter()
        await ha.post(
            "/api/services/select/select_option",
            json={"entity_id": selects, "option": "now"},
            request_timeout=300,
        )
        select_s = time.perf_counter() - started
        await asyncio.sleep(args.settle)
        # A steady garage, as it runs most of the time: the recorder has caught
        # up with the ramp's state changes (a restart's burst is the ramp's).
        drained_after = await wait_for_recorder(ha, args.settle_backlog_s)
        settle_cpu = settle.cpu_percent()
        # What the heap freeze held as garbage so far; the one at the end of the
        # window is then the window's own (the steady rate).
        reclaim_settle = await reclaim(ha)
        await asyncio.sleep(5)

        # The window ---------------------------------------------------------------
        settle_probe = await take_probe(ha)
        backlog_window_start = await recorder_backlog(ha)
        await profiler.start("window")
        log_offset = ha.log_path.stat().st_size
        loadavg_window_start = loadavg()
        await client.start_window()
        await client.next("window", 60)
        window_start = time.time()
        window = Window(ha.pid)
        rss_window_start = ha.rss_bytes()
        sampler = Sampler(ha.pid)
        api_samples: list[float] = []
        api_errors: list[str] = []
        background += [
            asyncio.create_task(
                poll_api(ha, args.api_interval, api_samples, api_errors)
            ),
            asyncio.create_task(sampler.run()),
        ]
        print(f"measuring {args.duration:.0f} s …", flush=True)

        await asyncio.sleep(args.change_at)
        change_at = time.time()
        await ha.post(
            "/api/services/number/set_value",
            json={"entity_id": grid_limit_entity, "value": args.grid_limit_after},
        )
        change_call_s = time.time() - change_at
        print(
            f"grid limit {args.grid_limit:g} -> {args.grid_limit_after:g} A", flush=True
        )

        result = await client.next("result", args.duration + 120)
        window_end = time.time()
        cpu = window.cpu_percent()
        rss_end = ha.rss_bytes()
        loadavg_window_end = loadavg()
        probe = await ha.get("/api/bench_loop_probe")
        await profiler.stop()
        backlog_window_end = await recorder_backlog(ha)
        for task in background[1:]:
            task.cancel()
        await asyncio.sleep(1)  # the log handler writes from a queue
        cycles = site_cycles(ha.log_path, log_offset)
        problems_window = log_problems(ha.log_path, log_offset)
        try:  # after the window: these big answers keep hass busy for a while
            states = len(await ha.get("/api/states", request_timeout=60))
        except Exception as err:  # a count is not worth losing the run
            states = repr(err)
        try:
            objects = await ha.get("/api/bench_loop_probe/objects", request_timeout=120)
        except Exception as err:  # a count is not worth losing the run
            objects = {"error": repr(err)}
        objects["heap_reclaim"] = await reclaim(ha)
        if args.tracemalloc:
            try:
                objects["allocations"] = await ha.get(
                    "/api/bench_loop_probe/allocations", request_timeout=300
                )
            except Exception as err:  # not worth losing the run
                objects["allocations"] = {"error": repr(err)}
        teardown = await client.next("teardown", 300)
        await client.finish()

        logs = result["limit_logs"]
        span = (window_start, window_end)
        within = 2 * args.loop_interval
        limit_logs_path = RESULTS / f"garage-{args.chargers}-{stamp}.limits.json"
        limit_logs_path.write_text(json.dumps(logs) + "\n", encoding="utf-8")
        setup, win = result["setup"], result["window"]
        out = {
            "window_utc": [
                datetime.fromtimestamp(window_start, UTC).isoformat(),
                datetime.fromtimestamp(window_end, UTC).isoformat(),
            ],
            "loadavg": {
                "window_start": loadavg_window_start,
                "window_end": loadavg_window_end,
            },
            "ramp": {
                "seconds": ready["ramp_s"],
                "in_transaction": ready["in_transaction"],
                "failures": result["connect_failure_count"],
                "failure_examples": result["connect_failures"],
                "connect_to_accepted": result["connect_to_accepted"],
                "latency": setup["latency"],
                "errors": setup["errors"],
                "server_calls": setup["server_calls"],
                "hass_cpu_percent": ramp_cpu,
                "loop_probe": ramp_probe,
                "recorder_backlog_after": backlog_after_ramp,
            },
            "settle": {
                "charge_mode_selects": len(selects),
                "select_option_call_s": round(select_s, 2),
                "seconds": args.settle,
                "recorder_drained_after_s": drained_after,
                "hass_cpu_percent": settle_cpu,
                "server_calls": result.get("settle", {}).get("server_calls", {}),
                "errors": result.get("settle", {}).get("errors", {}),
                "error_count": result.get("settle", {}).get("error_count", 0),
                "loop_probe": settle_probe,
                "heap_reclaim_at_end": reclaim_settle,
            },
            "window": {
                "seconds": round(window_end - window_start, 1),
                "ocpp_latency": win["latency"],
                "meter_values_per_s": round(
                    win["latency"].get("MeterValues", {}).get("count", 0)
                    / max(window_end - window_start, 1e-9),
                    1,
                ),
                "errors": win["errors"],
                "error_count": win["error_count"],
                "disconnects": win["disconnects"],
                "server_calls": win["server_calls"],
                "client_loop_lag": result["client_loop_lag"],
                "ha_api": {
                    **percentiles(api_samples),
                    "interval_s": args.api_interval,
                    "errors": len(api_errors),
                    "error_examples": api_errors[:5],
                },
                "hass_cpu_percent": cpu,
                "recorder_backlog": {
                    "start": backlog_window_start,
                    "end": backlog_window_end,
                },
                "hass_cpu_percent_p95_1s": sampler.p95(),
                "hass_cpu_percent_max_1s": round(
                    max(sampler.cpu_percent, default=0), 1
                ),
                "hass_rss_mb": {
                    "idle_before_chargers": mb(rss_idle),
                    "window_start": mb(rss_window_start),
                    "end": mb(rss_end),
                    "growth_since_idle": mb(rss_end - rss_idle),
                    "growth_in_window": mb(rss_end - rss_window_start),
                    "every_10s": [mb(v) for v in sampler.rss[9::10]],
                },
                "site_cycle": cycles,
                "loop_probe": probe,
                "set_charging_profile": profile_counts(logs, span, change_at, within),
                "grid_limit_change": {
                    "at_s": round(change_at - window_start, 1),
                    "number_set_value_call_ms": round(change_call_s * 1000, 1),
                    **check_limits(
                        logs,
                        max_current_a=result["max_current_a"],
                        min_current_a=result["min_current_a"],
                        window=span,
                        change_at=change_at,
                        limit_before=args.grid_limit,
                        limit_after=args.grid_limit_after,
                        within_s=within,
                        house_a=feed.house_w / VOLTAGE,
                    ),
                },
                "feed": {
                    "writes": feed.writes,
                    "errors": len(feed.errors),
                    "error_examples": feed.errors[:3],
                    "last": {k: round(v) for k, v in feed.last.items()},
                },
                "home_assistant_states": states,
                "objects_by_type": objects,
                "ha_log_problems": problems_window,
            },
            "teardown": {
                "errors": teardown["errors"],
                "disconnects": teardown["disconnects"],
            },
            "ha_log_problems_whole_run": log_problems(ha.log_path),
            "limit_logs": str(limit_logs_path),
        }
        if profiler.files:
            out["profile_files"] = profiler.files
            out["profile_summary"] = profiler.summaries
        return out
    finally:
        for task in background:
            task.cancel()
        await asyncio.gather(*background, return_exceptions=True)
        await client.kill()
        await ha.stop()
        if args.keep_config:
            out["config_dir"] = str(ha.config_dir)
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def check_targets(result: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    window = result["window"]
    ramp = result["ramp"]

    def latency(source: dict[str, Any], action: str, key: str) -> float | None:
        value = source.get(action, {}).get(key)
        return None if value is None else float(value)

    measured: dict[str, float | None] = {
        "meter_values_p99_ms": latency(window["ocpp_latency"], "MeterValues", "p99_ms"),
        "ha_api_p99_ms": window["ha_api"].get("p99_ms"),
        "loop_stall_max_ms": window["loop_probe"]["lateness_ms"]["max"],
        "hass_cpu_percent": window["hass_cpu_percent"],
        "rss_growth_mb": window["hass_rss_mb"]["growth_since_idle"],
        "start_transaction_p50_ms": latency(
            ramp["latency"], "StartTransaction", "p50_ms"
        ),
        "boot_notification_p99_ms": latency(
            ramp["latency"], "BootNotification", "p99_ms"
        ),
    }
    checks: dict[str, Any] = {
        name: {
            "target": f"< {limit:g}",
            "measured": measured[name],
            "ok": measured[name] is not None and measured[name] < limit,
        }
        for name, limit in TARGETS.items()
    }
    errors = {
        "ramp_ocpp": sum(ramp["errors"].values()),
        "ramp_failures": ramp["failures"],
        "settle_ocpp": result["settle"]["error_count"],
        "window_ocpp": window["error_count"],
        "window_disconnects": window["disconnects"],
        "ha_api": window["ha_api"]["errors"],
        "feed": window["feed"]["errors"],
        "ha_log_errors_ours": result["ha_log_problems_whole_run"]["errors_ours"],
    }
    total = sum(errors.values())
    checks["errors"] = {
        "target": "0 (ramp, settle and window)",
        "measured": total,
        "by_kind": {k: v for k, v in errors.items() if v},
        "ok": total == 0,
    }
    steady = window["set_charging_profile"]["steady_before_change"]
    checks["set_charging_profile_only_on_change"] = {
        "target": "0 before the limit change (steady inputs)",
        "measured": steady,
        "ok": steady == 0 or args.house_noise > 0,
    }
    change = window["grid_limit_change"]
    checks["limits_within_share_two_cycles_after_change"] = {
        "target": f"sum per phase <= {change['limit_after_a']:g} A and nobody above "
        f"the fair share within {change['within_s']:g} s",
        "measured": change["settled_under_new_limit_after_s"],
        "ok": change["ok"],
    }
    if args.cycle_target:
        # The cycle's own work: what it holds the event loop for.
        cycle = window["site_cycle"]["on_event_loop"].get("p99_ms")
        checks["site_cycle_p99_ms"] = {
            "target": f"< {CYCLE_TARGET_MS:g}",
            "measured": cycle,
            "ok": cycle is not None and cycle < CYCLE_TARGET_MS,
        }
    return {"all_ok": all(c["ok"] for c in checks.values()), **checks}


async def run(args: argparse.Namespace) -> dict[str, Any]:
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    result: dict[str, Any] = {
        "benchmark": "garage",
        "started": stamp,
        "machine": {
            "cpus": os.cpu_count(),
            "loadavg_at_start": loadavg(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "config": {
            "chargers": args.chargers,
            "duration_s": args.duration,
            "floor_duration_s": None if args.skip_floor else args.floor_duration,
            "meter_interval_s": args.meter_interval,
            "connect_concurrency": None if args.arrival_s else args.connect_concurrency,
            "arrival_s": args.arrival_s or None,
            "loop_interval_s": args.loop_interval,
            "grid_limit_a": args.grid_limit,
            "grid_limit_after_a": args.grid_limit_after,
            "change_at_s": args.change_at,
            "settle_s": args.settle,
            "house_w": args.chargers * args.house_w_per_charger,
            "pv_w": args.chargers * args.pv_w_per_charger,
            "house_noise": args.house_noise,
            "charge_mode": "now",
            "detail_entities": args.detail_entities,
            "recorder": args.recorder,
            "ocpp_version": "1.6J",
        },
    }
    if not args.skip_floor:
        print(
            f"floor: {args.chargers} chargers against bench/floor_csms.py …", flush=True
        )
        result["floor"] = await run_floor(args)
        print(floor_line(result["floor"]), flush=True)
    print(f"hass: {args.chargers} chargers, site coordinating …", flush=True)
    result |= await run_hass(args, stamp)
    result["machine"]["loadavg_at_end"] = loadavg()
    result["targets"] = check_targets(result, args)
    return result


def floor_line(floor: Mapping[str, Any]) -> str:
    meter = floor["meter_values"]
    return (
        f"floor: MeterValues p50/p99 {meter.get('p50_ms', 0):.1f}/"
        f"{meter.get('p99_ms', 0):.1f} ms, CPU {floor['cpu_percent']:.1f} %, "
        f"RSS {floor['rss_mb']['end']:.0f} MB"
    )


def summary_line(result: dict[str, Any]) -> str:
    window = result["window"]
    meter = window["ocpp_latency"].get("MeterValues", {})
    api = window["ha_api"]
    cycle = window["site_cycle"]["on_event_loop"]
    rss = window["hass_rss_mb"]
    change = window["grid_limit_change"]
    floor = result.get("floor")
    floor_text = (
        f" (floor {floor['meter_values'].get('p99_ms', 0):.1f} ms)" if floor else ""
    )
    gc_stats = window["loop_probe"].get("gc", {})
    full_gc_ms = gc_stats.get("max_ms_by_generation", {}).get("2", 0.0)
    return (
        f"garage {result['config']['chargers']} chargers: "
        f"MeterValues p99 {meter.get('p99_ms', 0):.1f} ms{floor_text}, "
        f"HA API p99 {api.get('p99_ms', 0):.1f} ms, "
        f"stall max {window['loop_probe']['lateness_ms']['max']:.0f} ms "
        f"({window['loop_probe'].get('max_stall_outside_gc_ms', 0):.0f} outside "
        f"garbage collections; longest full collection "
        f"{full_gc_ms:.0f}"
        f" ms), cycle on the loop p50/p99 {cycle.get('p50_ms', 0):.1f}/"
        f"{cycle.get('p99_ms', 0):.1f} ms, "
        f"CPU {window['hass_cpu_percent']:.0f} % (p95 "
        f"{window['hass_cpu_percent_p95_1s']:.0f}), "
        f"RSS +{rss['growth_since_idle']:.0f} MB, "
        f"profiles {window['set_charging_profile']['in_window']} "
        f"(steady {window['set_charging_profile']['steady_before_change']}), "
        f"limit check {'ok' if change['ok'] else 'FAILED'}, "
        f"errors {result['targets']['errors']['measured']} "
        f"-> {'PASS' if result['targets']['all_ok'] else 'FAIL'}"
    )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    result = asyncio.run(run(args))
    out = args.output or RESULTS / f"garage-{args.chargers}-{result['started']}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))
    print(summary_line(result))
    print(f"written to {out}")
    return 0 if result["targets"]["all_ok"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
