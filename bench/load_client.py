"""Load generator of `bench/ocpp_load.py`: many lean OCPP 1.6J chargers, one process.

Owns the chargers' script (connect, BootNotification, StatusNotification, Authorize,
StartTransaction, then MeterValues every `--meter-interval` seconds plus Heartbeats at
the interval the central system asked for; StopTransaction at the end) and the
client-side measurements: connect time, CALL -> CALLRESULT latency per action,
CALLERRORs, timeouts, disconnects, and this process's own event-loop lag (which
bounds how much of a latency is the client's fault).

Each charger is the `ocpp` library's client `ChargePoint` over a `websockets`
connection, one task per charger so its CALLs never wait on each other. It prints
JSON lines: `{"event": "ready", ...}` once every charger is in a transaction (the
measurement window starts), `{"event": "result", ...}` when the window ends.
Run by ocpp_load.py; `python bench/load_client.py --help` for standalone use.

With `--follow-profiles` (bench/garage.py) each charger behaves like a real one under
smart charging: it keeps the charging profiles it is sent (`simulator.profiles`:
stack levels, TxProfile over TxDefaultProfile, ChargePointMaxProfile), offers
min(16 A, the limit in force) and draws that (nothing below 6 A, as IEC 61851
chargers pause), reports Current.Import, Power.Active.Import and Current.Offered
accordingly, says SuspendedEVSE / Charging when it pauses or resumes, and records
(time, limit in force, phases) for every profile it gets. The fleet then prints
`{"event": "draw", ...}` lines (what all chargers draw now) every `--draw-interval`
seconds. With `--wait-for-start` the window starts when a line arrives on stdin.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import resource
import sys
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import ocpp.messages
from ocpp.exceptions import OCPPError
from ocpp.routing import on
from ocpp.v16 import ChargePoint, call, call_result
from ocpp.v16.enums import Action
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, WebSocketException

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from simulator.profiles import CP_MAX, TX, ProfileStore, parse_profile

# Validate inline, as the central system does: no thread hop per frame.
ocpp.messages.ASYNC_VALIDATION = False

VOLTAGE = 230.0
PHASES = 3
#: What a load charger offers without a profile, and the least it charges with.
MAX_CURRENT_A = 16.0
MIN_CURRENT_A = 6.0


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def percentiles(values: list[float]) -> dict[str, float | int]:
    """count, p50, p90, p99, max and mean (values in seconds, result in ms)."""
    if not values:
        return {"count": 0}
    ordered = sorted(values)

    def pick(q: float) -> float:
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]

    return {
        "count": len(ordered),
        "p50_ms": round(pick(0.50) * 1000, 3),
        "p90_ms": round(pick(0.90) * 1000, 3),
        "p99_ms": round(pick(0.99) * 1000, 3),
        "max_ms": round(ordered[-1] * 1000, 3),
        "mean_ms": round(sum(ordered) / len(ordered) * 1000, 3),
    }


class Stats:
    """Latencies and failures, per phase (setup, window, teardown)."""

    def __init__(self) -> None:
        self.phase = "setup"
        self.latency: dict[str, dict[str, list[float]]] = defaultdict(
            lambda: defaultdict(list)
        )
        self.errors: dict[str, Counter[str]] = defaultdict(Counter)
        self.disconnects: dict[str, int] = Counter()
        self.server_calls: dict[str, Counter[str]] = defaultdict(Counter)
        self.connect: list[float] = []
        self.boot: list[float] = []
        self.connect_failures: list[str] = []
        self.loop_lag: list[float] = []

    def error(self, kind: str) -> None:
        self.errors[self.phase][kind] += 1

    def summary(self, phase: str) -> dict[str, Any]:
        return {
            "latency": {
                action: percentiles(values)
                for action, values in sorted(self.latency[phase].items())
            },
            "errors": dict(self.errors[phase]),
            "error_count": sum(self.errors[phase].values()),
            "disconnects": self.disconnects[phase],
            "server_calls": dict(self.server_calls[phase]),
        }


class LoadCharger(ChargePoint):  # type: ignore[misc]
    """A charger that only does what the benchmark needs, and times it."""

    def __init__(
        self,
        charger_id: str,
        connection: ClientConnection,
        stats: Stats,
        follow_profiles: bool = False,
    ):
        super().__init__(charger_id, connection, response_timeout=30)
        self.stats = stats
        self.energy_wh = 0.0
        self.power_w = MAX_CURRENT_A * VOLTAGE * PHASES  # 16 A on three phases
        self.transaction_id: int | None = None
        self.heartbeat_interval = 60.0
        # Following profiles (--follow-profiles) --------------------------------
        self.follow_profiles = follow_profiles
        self.profiles = ProfileStore()
        self.offered_a = MAX_CURRENT_A
        self.draw_a = MAX_CURRENT_A  # per phase in use
        self.phases_in_use = PHASES
        self.tx_started_at: datetime | None = None
        self._energy_at = time.monotonic()
        #: [wall time, limit in force (A), phases, why]: "P" profile, "C" clear,
        #: "T" a profile lapsed.
        self.limit_log: list[list[Any]] = []
        self._background: set[asyncio.Task[Any]] = set()

    async def timed(self, payload: Any) -> Any:
        """Send a CALL; record its latency, or the error it got."""
        action = type(payload).__name__
        started = time.perf_counter()
        try:
            result = await self.call(
                payload, suppress=False, skip_schema_validation=True
            )
        except OCPPError as err:
            self.stats.error(f"{action}:{type(err).__name__}")
            return None
        except TimeoutError:
            self.stats.error(f"{action}:timeout")
            return None
        self.stats.latency[self.stats.phase][action].append(
            time.perf_counter() - started
        )
        return result

    # What the central system may ask right after the boot ---------------------

    def _seen(self, action: str) -> None:
        self.stats.server_calls[self.stats.phase][action] += 1

    @on(Action.get_configuration)
    def on_get_configuration(self, **_: Any) -> Any:
        self._seen("GetConfiguration")
        keys = {
            "SupportedFeatureProfiles": "Core,SmartCharging",
            "HeartbeatInterval": str(int(self.heartbeat_interval)),
            "MeterValueSampleInterval": "10",
            "MeterValuesSampledData": "Energy.Active.Import.Register,"
            "Power.Active.Import,Current.Import,Voltage"
            + (",Current.Offered" if self.follow_profiles else ""),
            "NumberOfConnectors": "1",
            "ChargeProfileMaxStackLevel": "8",
        }
        return call_result.GetConfiguration(
            configuration_key=[
                {"key": k, "readonly": False, "value": v} for k, v in keys.items()
            ]
        )

    @on(Action.change_configuration)
    def on_change_configuration(self, **_: Any) -> Any:
        self._seen("ChangeConfiguration")
        return call_result.ChangeConfiguration(status="Accepted")

    @on(Action.trigger_message)
    def on_trigger_message(self, **_: Any) -> Any:
        self._seen("TriggerMessage")
        return call_result.TriggerMessage(status="NotImplemented")

    @on(Action.set_charging_profile)
    def on_set_charging_profile(
        self,
        connector_id: int = 0,
        cs_charging_profiles: dict[str, Any] | None = None,
        **_: Any,
    ) -> Any:
        self._seen("SetChargingProfile")
        if not self.follow_profiles:
            return call_result.SetChargingProfile(status="Accepted")
        try:
            profile = parse_profile(cs_charging_profiles or {}, connector_id)
        except (ValueError, KeyError, TypeError):
            return call_result.SetChargingProfile(status="Rejected")
        if (
            connector_id not in (0, 1)
            or (profile.purpose == CP_MAX and connector_id != 0)
            or (
                profile.purpose == TX
                and (
                    self.transaction_id is None
                    or profile.transaction_id not in (None, self.transaction_id)
                )
            )
        ):
            return call_result.SetChargingProfile(status="Rejected")
        self.profiles.install(profile)
        self.refresh_limit("P")
        return call_result.SetChargingProfile(status="Accepted")

    @on(Action.clear_charging_profile)
    def on_clear_charging_profile(
        self,
        id: int | None = None,
        connector_id: int | None = None,
        charging_profile_purpose: str | None = None,
        stack_level: int | None = None,
        **_: Any,
    ) -> Any:
        self._seen("ClearChargingProfile")
        if not self.follow_profiles:
            return call_result.ClearChargingProfile(status="Accepted")
        removed = self.profiles.clear(
            profile_id=id,
            connector_id=connector_id,
            purpose=charging_profile_purpose,
            stack_level=stack_level,
        )
        if not removed:
            return call_result.ClearChargingProfile(status="Unknown")
        self.refresh_limit("C")
        return call_result.ClearChargingProfile(status="Accepted")

    # Following the limit in force (--follow-profiles) ---------------------------

    def _integrate(self) -> None:
        now = time.monotonic()
        if self.transaction_id is not None:
            self.energy_wh += self.power_w * (now - self._energy_at) / 3600
        self._energy_at = now

    def refresh_limit(self, why: str | None) -> None:
        """Apply the limit in force now; `why`: record it (a profile arrived)."""
        limit = self.profiles.limit_for(
            1,
            datetime.now(UTC),
            transaction_id=self.transaction_id,
            tx_start=self.tx_started_at,
        )
        phases = min(PHASES, limit.phases or PHASES)
        amps = limit.amps
        if limit.watts is not None:
            from_watts = limit.watts / (VOLTAGE * phases)
            amps = from_watts if amps is None else min(amps, from_watts)
        offered = MAX_CURRENT_A if amps is None else max(0.0, min(MAX_CURRENT_A, amps))
        changed = (offered, phases) != (self.offered_a, self.phases_in_use)
        if why is None and not changed:
            return
        self._integrate()
        was_drawing = self.draw_a > 0
        self.offered_a, self.phases_in_use = offered, phases
        self.draw_a = offered if offered >= MIN_CURRENT_A else 0.0
        self.power_w = self.draw_a * VOLTAGE * phases
        self.limit_log.append([round(time.time(), 3), offered, phases, why or "T"])
        if self.transaction_id is not None and was_drawing != (self.draw_a > 0):
            status = "Charging" if self.draw_a > 0 else "SuspendedEVSE"
            task = asyncio.get_running_loop().create_task(self.status(1, status))
            self._background.add(task)
            task.add_done_callback(self._background.discard)

    def line_currents(self) -> list[float]:
        """What the charger draws on L1..L3 now (a one-phase charge is on L1)."""
        if self.transaction_id is None:
            return [0.0] * PHASES
        return [self.draw_a if n < self.phases_in_use else 0.0 for n in range(PHASES)]

    @on(Action.get_local_list_version)
    def on_get_local_list_version(self, **_: Any) -> Any:
        self._seen("GetLocalListVersion")
        return call_result.GetLocalListVersion(list_version=0)

    @on(Action.send_local_list)
    def on_send_local_list(self, **_: Any) -> Any:
        self._seen("SendLocalList")
        return call_result.SendLocalList(status="Accepted")

    # The charger's script -------------------------------------------------------

    async def boot(self) -> bool:
        result = await self.timed(
            call.BootNotification(
                charge_point_vendor="ECBench",
                charge_point_model="Load-16",
                charge_point_serial_number=f"BENCH-{self.id}",
                firmware_version="1.0.0",
            )
        )
        if result is None or result.status != "Accepted":
            return False
        self.heartbeat_interval = float(result.interval) or 60.0
        await self.status(0, "Available")
        await self.status(1, "Available")
        return True

    async def status(self, connector_id: int, status: str) -> None:
        await self.timed(
            call.StatusNotification(
                connector_id=connector_id,
                error_code="NoError",
                status=status,
                timestamp=now_iso(),
            )
        )

    async def start_session(self, id_tag: str) -> bool:
        await self.status(1, "Preparing")
        auth = await self.timed(call.Authorize(id_tag=id_tag))
        if auth is None or auth.id_tag_info.get("status") != "Accepted":
            return False
        result = await self.timed(
            call.StartTransaction(
                connector_id=1,
                id_tag=id_tag,
                meter_start=round(self.energy_wh),
                timestamp=now_iso(),
            )
        )
        if result is None:
            return False
        self.transaction_id = int(result.transaction_id)
        self.tx_started_at = datetime.now(UTC)
        self._energy_at = time.monotonic()
        await self.status(1, "Charging")
        return True

    def sampled_values(self) -> list[dict[str, Any]]:
        if self.follow_profiles:
            return self.followed_values()
        amps = self.power_w / (VOLTAGE * PHASES)
        values: list[dict[str, Any]] = [
            {
                "value": f"{self.energy_wh:.1f}",
                "measurand": "Energy.Active.Import.Register",
                "unit": "Wh",
            },
            {
                "value": f"{self.power_w:.1f}",
                "measurand": "Power.Active.Import",
                "unit": "W",
            },
        ]
        for n in range(1, PHASES + 1):
            values.append(
                {
                    "value": f"{amps:.2f}",
                    "measurand": "Current.Import",
                    "unit": "A",
                    "phase": f"L{n}",
                }
            )
        for n in range(1, PHASES + 1):
            values.append(
                {
                    "value": f"{VOLTAGE:.1f}",
                    "measurand": "Voltage",
                    "unit": "V",
                    "phase": f"L{n}-N",
                }
            )
        for value in values:
            value["context"] = "Sample.Periodic"
            value["location"] = "Outlet"
        return values

    def followed_values(self) -> list[dict[str, Any]]:
        """The meter of a charger that follows its limit (--follow-profiles)."""
        self.refresh_limit(None)  # a profile may have lapsed
        self._integrate()
        values: list[dict[str, Any]] = [
            {
                "value": f"{self.energy_wh:.1f}",
                "measurand": "Energy.Active.Import.Register",
                "unit": "Wh",
            },
            {
                "value": f"{self.power_w:.1f}",
                "measurand": "Power.Active.Import",
                "unit": "W",
            },
            {
                "value": f"{self.offered_a:.1f}",
                "measurand": "Current.Offered",
                "unit": "A",
            },
        ]
        for n, amps in enumerate(self.line_currents(), start=1):
            values.append(
                {
                    "value": f"{amps:.2f}",
                    "measurand": "Current.Import",
                    "unit": "A",
                    "phase": f"L{n}",
                }
            )
        for n in range(1, PHASES + 1):
            values.append(
                {
                    "value": f"{VOLTAGE:.1f}",
                    "measurand": "Voltage",
                    "unit": "V",
                    "phase": f"L{n}-N",
                }
            )
        for value in values:
            value["context"] = "Sample.Periodic"
            value["location"] = "Outlet"
        return values

    async def meter_values(self, seconds: float) -> None:
        if not self.follow_profiles:
            self.energy_wh += self.power_w * seconds / 3600
        await self.timed(
            call.MeterValues(
                connector_id=1,
                transaction_id=self.transaction_id,
                meter_value=[
                    {"timestamp": now_iso(), "sampled_value": self.sampled_values()}
                ],
            )
        )

    async def operate(self, meter_interval: float, stop: asyncio.Event) -> None:
        """MeterValues and Heartbeats on their own schedules, one CALL at a time."""
        loop = asyncio.get_running_loop()
        now = loop.time()
        next_meter = now + random.uniform(0, meter_interval)
        next_heartbeat = now + random.uniform(0, self.heartbeat_interval)
        while not stop.is_set():
            due = min(next_meter, next_heartbeat)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), max(0.0, due - loop.time()))
                return
            if next_meter <= next_heartbeat:
                await self.meter_values(meter_interval)
                next_meter += meter_interval
            else:
                await self.timed(call.Heartbeat())
                next_heartbeat += self.heartbeat_interval

    async def stop_session(self) -> None:
        if self.transaction_id is None:
            return
        if self.follow_profiles:
            self._integrate()
            self.profiles.end_transaction(self.transaction_id, 1)
        await self.timed(
            call.StopTransaction(
                meter_stop=round(self.energy_wh),
                timestamp=now_iso(),
                transaction_id=self.transaction_id,
                reason="Local",
            )
        )
        self.transaction_id = None
        await self.status(1, "Finishing")


class Fleet:
    """N chargers, their connect ramp, the measurement window and the teardown."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.stats = Stats()
        self.ready = 0
        self.all_ready = asyncio.Event()
        self.stop = asyncio.Event()
        self.failed = 0
        # Open loop (--arrival-s): each charger comes at its own random moment
        # of the storm, as chargers reconnecting with a randomised back-off do,
        # whether or not the server has answered the others. Closed loop: at most
        # --connect-concurrency chargers are connecting at once.
        arrival = random.Random(args.seed)
        self.arrival_at = [
            arrival.uniform(0, args.arrival_s) if args.arrival_s > 0 else 0.0
            for _ in range(args.chargers)
        ]
        self.connect_gate = asyncio.Semaphore(
            args.chargers if args.arrival_s > 0 else args.connect_concurrency
        )
        self.chargers: list[LoadCharger] = []

    async def run_charger(self, index: int) -> None:
        args = self.args
        charger_id = f"{args.id_prefix}-{index:04d}"
        stats = self.stats
        ws: ClientConnection | None = None
        receiver: asyncio.Task[Any] | None = None
        counted = False
        try:
            await asyncio.sleep(self.arrival_at[index - args.first])
            async with self.connect_gate:
                started = time.perf_counter()
                ws = await connect(
                    f"{args.url.rstrip('/')}/{charger_id}",
                    subprotocols=["ocpp1.6"],  # type: ignore[list-item]
                    open_timeout=60,
                    ping_interval=None,
                    compression=None,
                )
                stats.connect.append(time.perf_counter() - started)
                cp = LoadCharger(charger_id, ws, stats, args.follow_profiles)
                self.chargers.append(cp)
                receiver = asyncio.create_task(cp.start())
                booted = await cp.boot()
                stats.boot.append(time.perf_counter() - started)
            if not booted or not await cp.start_session(args.id_tag):
                raise RuntimeError("boot or transaction refused")
            counted = True
            self.ready += 1
            self._check_ready()
            operate = asyncio.create_task(cp.operate(args.meter_interval, self.stop))
            await asyncio.wait({operate, receiver}, return_when=asyncio.FIRST_COMPLETED)
            if not operate.done():  # the connection ended under us
                operate.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await operate  # re-raises ConnectionClosed
            await cp.stop_session()
        except ConnectionClosed:
            if counted:
                stats.disconnects[stats.phase] += 1
            else:
                stats.connect_failures.append(f"{charger_id}: closed during setup")
        except (OSError, TimeoutError, WebSocketException, RuntimeError) as err:
            stats.connect_failures.append(f"{charger_id}: {err!r}")
        finally:
            if not counted:
                self.failed += 1
                self._check_ready()
            if receiver is not None:
                receiver.cancel()
                with contextlib.suppress(asyncio.CancelledError, ConnectionClosed):
                    await receiver
            if ws is not None:
                await ws.close()

    def _check_ready(self) -> None:
        if self.ready + self.failed == self.args.chargers:
            self.all_ready.set()

    async def watch_loop_lag(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            before = loop.time()
            await asyncio.sleep(0.05)
            if self.stats.phase == "window":
                self.stats.loop_lag.append(max(0.0, loop.time() - before - 0.05))

    async def report_draw(self) -> None:
        """What the fleet draws now, every --draw-interval s (the grid feed's input)."""
        while True:
            lines = [0.0] * PHASES
            charging = 0
            for cp in self.chargers:
                currents = cp.line_currents()
                charging += currents[0] > 0
                for n, amps in enumerate(currents):
                    lines[n] += amps
            emit(
                {
                    "event": "draw",
                    "power_w": round(
                        sum(
                            cp.power_w
                            for cp in self.chargers
                            if cp.transaction_id is not None
                        ),
                        1,
                    ),
                    "line_a": [round(a, 1) for a in lines],
                    "charging": charging,
                }
            )
            await asyncio.sleep(self.args.draw_interval)

    async def run(self) -> None:
        args = self.args
        lag = asyncio.create_task(self.watch_loop_lag())
        draw = asyncio.create_task(self.report_draw()) if args.follow_profiles else None
        ramp_started = time.perf_counter()
        tasks = [
            asyncio.create_task(self.run_charger(i))
            for i in range(args.first, args.first + args.chargers)
        ]
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.all_ready.wait(), args.ready_timeout)
        ramp = time.perf_counter() - ramp_started
        stats = self.stats
        emit(
            {
                "event": "ready",
                "chargers": args.chargers,
                "in_transaction": self.ready,
                "failed": len(stats.connect_failures),
                "ramp_s": round(ramp, 3),
                "connect": percentiles(stats.connect),
                "connect_to_accepted": percentiles(stats.boot),
            }
        )
        if args.wait_for_start:
            stats.phase = "settle"
            await asyncio.to_thread(sys.stdin.readline)
            emit({"event": "window"})
        stats.phase = "window"
        window_started = time.perf_counter()
        await asyncio.sleep(args.duration)
        window = time.perf_counter() - window_started
        stats.phase = "teardown"
        result: dict[str, Any] = {
            "event": "result",
            "window_s": round(window, 3),
            "ramp_s": round(ramp, 3),
            "chargers": args.chargers,
            "in_transaction": self.ready,
            "connect_failures": stats.connect_failures[:20],
            "connect_failure_count": len(stats.connect_failures),
            "connect": percentiles(stats.connect),
            "connect_to_accepted": percentiles(stats.boot),
            "setup": stats.summary("setup"),
            "window": stats.summary("window"),
            "client_loop_lag": percentiles(stats.loop_lag),
        }
        if args.wait_for_start:
            result["settle"] = stats.summary("settle")
        if args.follow_profiles:
            result["max_current_a"] = MAX_CURRENT_A
            result["min_current_a"] = MIN_CURRENT_A
            result["limit_logs"] = {cp.id: cp.limit_log for cp in self.chargers}
        emit(result)
        self.stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
        for task in (lag, draw):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        emit({"event": "teardown", **stats.summary("teardown")})


def emit(record: dict[str, Any]) -> None:
    record["emitted_at"] = time.time()
    sys.stdout.write(json.dumps(record) + "\n")
    sys.stdout.flush()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--url", required=True, help="ws://host:port of the CSMS")
    parser.add_argument("--chargers", type=int, default=200)
    parser.add_argument("--duration", type=float, default=120.0)
    parser.add_argument("--meter-interval", type=float, default=10.0)
    parser.add_argument("--connect-concurrency", type=int, default=50)
    parser.add_argument(
        "--arrival-s",
        type=float,
        default=0.0,
        help="open loop: chargers arrive at random moments over this many s "
        "(0: closed loop, --connect-concurrency at once)",
    )
    parser.add_argument("--seed", type=int, default=1, help="of the arrival times")
    parser.add_argument("--ready-timeout", type=float, default=600.0)
    parser.add_argument("--id-prefix", default="bench")
    parser.add_argument("--id-tag", default="BENCHTAG")
    parser.add_argument("--first", type=int, default=1)
    parser.add_argument(
        "--follow-profiles",
        action="store_true",
        help="chargers follow the charging profiles they get (draw what they offer)",
    )
    parser.add_argument(
        "--draw-interval",
        type=float,
        default=2.0,
        help="with --follow-profiles: seconds between 'draw' lines",
    )
    parser.add_argument(
        "--wait-for-start",
        action="store_true",
        help="after 'ready', start the window when a line arrives on stdin",
    )
    return parser.parse_args(argv)


def raise_fd_limit() -> None:
    """A socket per charger: lift the soft open-files limit to the hard one."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    raise_fd_limit()
    asyncio.run(Fleet(args).run())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
