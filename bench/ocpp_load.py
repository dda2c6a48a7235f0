"""OCPP load benchmark: N chargers against the integration in a real `hass` process.

Owns the run: a fresh `hass` (scripts/hass_process.py) with the integration added
through its config flow (unknown chargers accepted), the load generator
(`bench/load_client.py`) in a separate process, and the server-side measurements
during the window that starts once every charger is in a transaction: Home
Assistant's own API latency (`GET /api/` every second) and the `hass` process's CPU
(% of one core) and RSS from /proc, and, before hass starts, what a durable session
store commit costs on the same disk (`bench/session_store.py`, FULL vs NORMAL).
Prints the JSON result and a one-line summary
against the targets, and writes the JSON to bench/results/.

    .venv/bin/python bench/ocpp_load.py                  # 200 chargers, 120 s
    .venv/bin/python bench/ocpp_load.py --chargers 1000 --duration 120
    .venv/bin/python bench/ocpp_load.py --profile        # + py-spy of hass
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import re
import shutil
import signal
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent / "scripts"))
sys.path.insert(0, str(BENCH))

from hass_process import HassProcess, free_port  # noqa: E402
from load_client import percentiles  # noqa: E402
from session_store import measure_commits, measure_paced  # noqa: E402

RESULTS = BENCH / "results"
MB = 1024 * 1024

#: The targets of the issue (1,000 chargers).
TARGETS = {
    "meter_values_p99_ms": 25.0,
    "ha_api_p99_ms": 50.0,
    "hass_cpu_percent": 50.0,
    "rss_growth_mb": 200.0,
}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="OCPP 1.6J load against Energy Coordinator in a real hass."
    )
    parser.add_argument("--chargers", type=int, default=200)
    parser.add_argument(
        "--duration", type=float, default=120.0, help="window after all connected (s)"
    )
    parser.add_argument("--meter-interval", type=float, default=10.0)
    parser.add_argument(
        "--connect-concurrency",
        type=int,
        default=50,
        help="chargers connecting and booting at the same time",
    )
    parser.add_argument("--ha-port", type=int, default=0, help="0: a free port")
    parser.add_argument("--ocpp-port", type=int, default=0, help="0: a free port")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="sample hass with py-spy during the window (bench/requirements.txt)",
    )
    parser.add_argument(
        "--keep-config", action="store_true", help="keep hass's config dir (logs)"
    )
    parser.add_argument("--output", type=Path, help="JSON file (default: results/)")
    return parser.parse_args(argv)


class ProcessSampler:
    """CPU and RSS of the hass process, once a second."""

    def __init__(self, ha: HassProcess) -> None:
        self.ha = ha
        self.cpu_percent: list[float] = []
        self.rss: list[int] = []

    async def run(self) -> None:
        last_cpu, last_wall = self.ha.cpu_seconds(), time.monotonic()
        while True:
            await asyncio.sleep(1.0)
            cpu, wall = self.ha.cpu_seconds(), time.monotonic()
            self.cpu_percent.append(100 * (cpu - last_cpu) / (wall - last_wall))
            self.rss.append(self.ha.rss_bytes())
            last_cpu, last_wall = cpu, wall


async def poll_api(
    ha: HassProcess, samples: list[float], errors: list[str], slow: list[str]
) -> None:
    """GET /api/ every second; record its latency (and when it was slow)."""
    loop = asyncio.get_running_loop()
    next_at = loop.time()
    while True:
        started = time.perf_counter()
        try:
            body = await ha.get("/api/", request_timeout=10)
            if not isinstance(body, dict) or "message" not in body:
                errors.append(f"unexpected body {body!r}")
            else:
                seconds = time.perf_counter() - started
                samples.append(seconds)
                if seconds > 0.05:
                    at = datetime.now(UTC).isoformat(timespec="milliseconds")
                    slow.append(f"{at} {seconds * 1000:.0f} ms")
        except Exception as err:  # every failure is a data point
            errors.append(repr(err))
        next_at += 1.0
        await asyncio.sleep(max(0.0, next_at - loop.time()))


async def read_events(
    stream: asyncio.StreamReader, events: asyncio.Queue[dict[str, Any]]
) -> None:
    """JSON lines of the load generator -> queue (other lines are echoed)."""
    while line := await stream.readline():
        text = line.decode(errors="replace").strip()
        if text.startswith("{"):
            event = json.loads(text)
            event["received_at"] = time.time()
            await events.put(event)
        elif text:
            print(f"[load] {text}", file=sys.stderr)


async def next_event(
    events: asyncio.Queue[dict[str, Any]], kind: str, within: float
) -> dict[str, Any]:
    async with asyncio.timeout(within):
        while True:
            event = await events.get()
            if event.get("event") == kind:
                return event


async def start_profiler(pid: int, seconds: float, out: Path) -> Any:
    """py-spy record of hass for the window (None when py-spy is missing)."""
    exe = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(exe).exists():
        print("py-spy not installed (bench/requirements.txt); no profile", flush=True)
        return None
    return await asyncio.create_subprocess_exec(
        exe,
        "record",
        "--pid",
        str(pid),
        "--duration",
        str(int(seconds)),
        "--rate",
        "100",
        "--format",
        "raw",
        "--output",
        str(out),
        "--nonblocking",
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )


async def registry_counts(ha: HassProcess) -> dict[str, int]:
    """How much the fleet weighs in HA: states, and the site's devices/entities."""
    entries = await ha.config_entries("energy_coordinator")
    entry_ids = {e["entry_id"] for e in entries}
    devices = await ha.ws_command("config/device_registry/list")
    entities = await ha.ws_command("config/entity_registry/list")
    return {
        "states": len(await ha.get("/api/states", request_timeout=60)),
        "site_devices": sum(
            1 for d in devices if entry_ids & set(d.get("config_entries", []))
        ),
        "site_entities": sum(
            1 for e in entities if e.get("config_entry_id") in entry_ids
        ),
    }


def log_problems(ha: HassProcess) -> dict[str, Any]:
    """Warnings and errors from the integration in HA's log."""
    if not ha.log_path.exists():
        return {"count": 0, "first": []}
    lines = [
        line
        for line in ha.log_path.read_text(errors="replace").splitlines()
        if re.search(r" (WARNING|ERROR|CRITICAL) .*(energy_coordinator|ocpp)", line)
        and "custom integration energy_coordinator" not in line
    ]
    return {"count": len(lines), "first": lines[:10]}


def mb(value: float) -> float:
    return round(value / MB, 1)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    workdir = Path(tempfile.mkdtemp(prefix="ocpp-load-"))
    ha = HassProcess(
        workdir / "config",
        port=args.ha_port or None,
        username="bench",
        name="OCPP load",
        log_level="warning",
    )
    ocpp_port = args.ocpp_port or free_port()
    result: dict[str, Any] = {
        "benchmark": "ocpp_load",
        "started": stamp,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "config": {
            "chargers": args.chargers,
            "duration_s": args.duration,
            "meter_interval_s": args.meter_interval,
            "connect_concurrency": args.connect_concurrency,
            "ocpp_version": "1.6J",
        },
    }
    loader: asyncio.subprocess.Process | None = None
    try:
        # What a durable commit costs on this disk (before hass takes the CPU).
        result["session_store_commit"] = await measure_commits(workdir)
        result["session_store_commit"]["paced"] = await measure_paced(
            workdir, rate=args.chargers / args.meter_interval
        )
        await ha.start()
        await ha.onboard()
        await ha.add_integration(
            site_name="Load", ocpp_port=ocpp_port, charger_policy="accept"
        )
        await asyncio.sleep(2)  # let startup work settle
        rss_idle = ha.rss_bytes()
        cpu_connect_start, wall_connect_start = ha.cpu_seconds(), time.monotonic()

        loader = await asyncio.create_subprocess_exec(
            sys.executable,
            str(BENCH / "load_client.py"),
            "--url",
            f"ws://127.0.0.1:{ocpp_port}",
            "--chargers",
            str(args.chargers),
            "--duration",
            str(args.duration),
            "--meter-interval",
            str(args.meter_interval),
            "--connect-concurrency",
            str(args.connect_concurrency),
            stdout=asyncio.subprocess.PIPE,
        )
        assert loader.stdout is not None
        events: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        reader = asyncio.create_task(read_events(loader.stdout, events))
        ramp_profiler = None
        profile_base = RESULTS / f"ocpp_load-{args.chargers}-{stamp}"
        if args.profile:
            ramp_profiler = await start_profiler(
                ha.pid, 900, profile_base.with_suffix(".ramp.pyspy.txt")
            )
        ready = await next_event(events, "ready", 900)
        if ramp_profiler is not None:
            ramp_profiler.send_signal(signal.SIGINT)  # py-spy writes what it has
            await ramp_profiler.wait()
            result["profile_ramp"] = str(profile_base.with_suffix(".ramp.pyspy.txt"))
        cpu_window_start, wall_window_start = ha.cpu_seconds(), time.monotonic()
        rss_window_start = ha.rss_bytes()
        print(
            f"{ready['in_transaction']}/{args.chargers} chargers in a transaction "
            f"after {ready['ramp_s']:.1f} s; measuring {args.duration:.0f} s …",
            flush=True,
        )

        api_samples: list[float] = []
        api_errors: list[str] = []
        api_slow: list[str] = []
        sampler = ProcessSampler(ha)
        background = [
            asyncio.create_task(poll_api(ha, api_samples, api_errors, api_slow)),
            asyncio.create_task(sampler.run()),
        ]
        profiler = None
        profile_path = profile_base.with_suffix(".window.pyspy.txt")
        if args.profile:
            profiler = await start_profiler(ha.pid, args.duration, profile_path)

        client = await next_event(events, "result", args.duration + 120)
        cpu_window_end, wall_window_end = ha.cpu_seconds(), time.monotonic()
        rss_end = ha.rss_bytes()
        for task in background:
            task.cancel()
        await asyncio.gather(*background, return_exceptions=True)
        try:  # after the window: these big answers keep hass busy for a while
            registry: dict[str, Any] = await registry_counts(ha)
        except Exception as err:  # a count is not worth losing the run
            registry = {"error": repr(err)}
        teardown = await next_event(events, "teardown", 300)
        await loader.wait()
        await reader
        if profiler is not None:
            await profiler.wait()
            result["profile_window"] = str(profile_path)

        window_s = wall_window_end - wall_window_start
        result["window_utc"] = [
            datetime.fromtimestamp(ready["emitted_at"], UTC).isoformat(),
            datetime.fromtimestamp(client["emitted_at"], UTC).isoformat(),
        ]
        result["event_delivery_ms"] = {
            kind: round((event["received_at"] - event["emitted_at"]) * 1000, 1)
            for kind, event in (("ready", ready), ("result", client))
        }
        window = client["window"]
        meter = window["latency"].get("MeterValues", {"count": 0})
        result |= {
            "ramp": {
                "seconds": ready["ramp_s"],
                "in_transaction": ready["in_transaction"],
                "failures": client["connect_failure_count"],
                "failure_examples": client["connect_failures"],
                "connect": client["connect"],
                "connect_to_accepted": client["connect_to_accepted"],
                "latency": client["setup"]["latency"],
                "errors": client["setup"]["errors"],
                "server_calls": client["setup"]["server_calls"],
                "hass_cpu_percent": round(
                    100
                    * (cpu_window_start - cpu_connect_start)
                    / (wall_window_start - wall_connect_start),
                    1,
                ),
            },
            "window": {
                "seconds": round(window_s, 1),
                "ocpp_latency": window["latency"],
                "ocpp_calls_per_s": round(
                    sum(v["count"] for v in window["latency"].values()) / window_s, 1
                ),
                "errors": window["errors"],
                "error_count": window["error_count"],
                "disconnects": window["disconnects"],
                "server_calls": window["server_calls"],
                "client_loop_lag": client["client_loop_lag"],
                "ha_api": {
                    **percentiles(api_samples),
                    "errors": len(api_errors),
                    "error_examples": api_errors[:5],
                    "slow_over_50ms": api_slow[:20],
                },
                "hass_cpu_percent": round(
                    100 * (cpu_window_end - cpu_window_start) / window_s, 1
                ),
                "hass_cpu_percent_max_1s": round(
                    max(sampler.cpu_percent, default=0), 1
                ),
                "hass_rss_mb": {
                    "idle_before_chargers": mb(rss_idle),
                    "window_start": mb(rss_window_start),
                    "end": mb(rss_end),
                    "max": mb(max(sampler.rss, default=rss_end)),
                    "growth_since_idle": mb(rss_end - rss_idle),
                    "growth_in_window": mb(rss_end - rss_window_start),
                    "every_10s": [mb(v) for v in sampler.rss[9::10]],
                },
                "home_assistant": registry,
            },
            "teardown": {
                "latency": teardown["latency"],
                "errors": teardown["errors"],
                "disconnects": teardown["disconnects"],
            },
        }
        result["ha_log_problems"] = log_problems(ha)
        result["targets"] = check_targets(result, meter)
        return result
    finally:
        if loader is not None and loader.returncode is None:
            loader.terminate()
            with contextlib.suppress(ProcessLookupError):
                await loader.wait()
        await ha.stop()
        if args.keep_config:
            result["config_dir"] = str(ha.config_dir)
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def check_targets(result: dict[str, Any], meter: dict[str, Any]) -> dict[str, Any]:
    window = result["window"]
    measured = {
        "meter_values_p99_ms": meter.get("p99_ms"),
        "ha_api_p99_ms": window["ha_api"].get("p99_ms"),
        "hass_cpu_percent": window["hass_cpu_percent"],
        "rss_growth_mb": window["hass_rss_mb"]["growth_since_idle"],
    }
    checks = {
        name: {
            "target": f"< {limit:g}",
            "measured": measured[name],
            "ok": measured[name] is not None and measured[name] < limit,
        }
        for name, limit in TARGETS.items()
    }
    failures = (
        window["error_count"]
        + window["disconnects"]
        + window["ha_api"]["errors"]
        + result["ramp"]["failures"]
    )
    checks["no_errors_or_disconnects"] = {
        "target": "0",
        "measured": failures,
        "ok": failures == 0,
    }
    return {"all_ok": all(c["ok"] for c in checks.values()), **checks}


def summary_line(result: dict[str, Any]) -> str:
    window = result["window"]
    meter = window["ocpp_latency"].get("MeterValues", {})
    rss = window["hass_rss_mb"]
    store = result["session_store_commit"]
    return (
        f"ocpp_load {result['config']['chargers']} chargers: "
        f"ramp {result['ramp']['seconds']:.1f}s, "
        f"MeterValues p50/p99 {meter.get('p50_ms', 0):.1f}/"
        f"{meter.get('p99_ms', 0):.1f} ms ({window['ocpp_calls_per_s']}/s), "
        f"HA API p50/p99 {window['ha_api'].get('p50_ms', 0):.1f}/"
        f"{window['ha_api'].get('p99_ms', 0):.1f} ms, "
        f"hass CPU {window['hass_cpu_percent']:.0f}%, "
        f"RSS {rss['idle_before_chargers']:.0f}->{rss['end']:.0f} MB "
        f"(+{rss['growth_since_idle']:.0f}), "
        f"errors {window['error_count']}, disconnects {window['disconnects']}, "
        f"store commit p50 FULL/NORMAL {store['FULL']['p50_ms']:.2f}/"
        f"{store['NORMAL']['p50_ms']:.2f} ms "
        f"-> {'PASS' if result['targets']['all_ok'] else 'FAIL'}"
    )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    result = asyncio.run(run(args))
    stamp = result["started"]
    out = args.output or RESULTS / f"ocpp_load-{args.chargers}-{stamp}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))
    print(summary_line(result))
    print(f"written to {out}")
    return 0 if result["targets"]["all_ok"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
