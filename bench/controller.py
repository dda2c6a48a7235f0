"""Real-time controller benchmark: decision latency, and one simulated day.

Owns two measurements of the pure coordination core (`energy.decide()`), for a
home with one PV system, one battery, two EV chargers and five flexible loads:

1. Latency: `--decisions` (10,000) consecutive decisions on varied snapshots, the
   state threaded through; median, p90, p99 and max per decision.
2. A replay of one summer day at 10 s steps (8,640 decisions) against a small
   site model: PV as a bell curve with passing clouds, a household load profile
   with appliance events spread over the three lines, a 10 kWh battery that
   follows its command (auto = self-consumption), two EVs plugged in at typical
   times (a commuter in "now" mode in the evening and early morning, a second
   car in "pv" mode at midday) and five flexible loads with their own schedules.
   At each step the controller sees the meters, decides, the actions take effect
   and the true current on every line is checked against the 25 A limit. The
   same day without coordination (EVs at full power when plugged, battery on its
   own, no shedding) is the baseline.

3. `energy_coordinator.coordinate` as a Home Assistant action, end to end: run by
   `bench/coordinate_action.py` in the project venv (a real `hass`, the household
   sensors, five flexible loads, two simulated chargers), timed from a REST
   client. Skipped with `--no-ha` or when `.venv` is missing.

Parts 1 and 2 are stdlib only: the core is loaded from its folder without importing
Home Assistant, so any Python 3.13 runs them. Prints the JSON result and a one-line
summary, writes the JSON to bench/results/ and exits 1 when a target is missed
(median decision < 1 ms, no grid-limit violation caused by the EVs, the action's
median < 20 ms).

    python3.13 bench/controller.py
    .venv/bin/python bench/controller.py --decisions 20000 --seed 7
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import platform
import random
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RESULTS = BENCH / "results"
CORE = ROOT / "custom_components" / "energy_coordinator" / "energy"


def load_core() -> ModuleType:
    """Import the core as a stand-alone package (no Home Assistant needed)."""
    spec = importlib.util.spec_from_file_location(
        "energy_core", CORE / "__init__.py", submodule_search_locations=[str(CORE)]
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["energy_core"] = module
    spec.loader.exec_module(module)
    return module


E = load_core()

VOLTS = 230.0
LIMIT_A = 25.0
STEP_S = 10.0
DAY_S = 86_400
# 2026-06-21 00:00 UTC: the day replayed (only differences of it matter).
DAY_START = datetime(2026, 6, 21, tzinfo=UTC).timestamp()
TARGETS = {"median_ms": 1.0, "ev_grid_violations": 0, "ha_action_median_ms": 20.0}


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, math.ceil(fraction * len(ordered)) - 1))
    return ordered[index]


# --- The home --------------------------------------------------------------


@dataclass(frozen=True)
class LoadSpec:
    """A flexible load: power, priority, lines it draws on, when it wants to run."""

    id: str
    power_w: float
    priority: int
    lines: tuple[int, ...]
    windows: tuple[tuple[float, float], ...]  # hours

    def wants(self, hour: float) -> bool:
        return any(start <= hour < end for start, end in self.windows)


LOADS = (
    LoadSpec("water_heater", 2000, 1, (0,), ((11, 15), (19, 20))),
    LoadSpec("pool_pump", 750, 0, (0, 1, 2), ((10, 18),)),
    LoadSpec("dishwasher", 1800, 2, (1,), ((20, 21.5),)),
    LoadSpec("washing_machine", 2000, 2, (2,), ((9, 10.5),)),
    LoadSpec("dehumidifier", 400, 0, (1,), ((0, 24),)),
)


@dataclass(frozen=True)
class CarSpec:
    """An EV and when it is plugged in (hours), with its SoC on arrival."""

    id: str
    mode: str
    capacity_kwh: float
    plugged: tuple[tuple[float, float, float], ...]  # (from, to, SoC on arrival)
    target_soc: float
    line: int  # the site line of its charger's first phase
    priority: int


CARS = (
    CarSpec("commuter", "now", 60, ((0, 7.25, 62), (17.75, 24, 35)), 80, 0, 1),
    CarSpec("second_car", "pv", 40, ((9.5, 16.5, 40),), 90, 1, 0),
)


@dataclass
class Car:
    spec: CarSpec
    soc: float = 0.0
    plugged: bool = False
    current_a: float = 0.0  # drawn now, per phase
    phases: int = 3
    energy_kwh: float = 0.0

    def update_plug(self, hour: float) -> None:
        for start, end, arrival_soc in self.spec.plugged:
            if start <= hour < end:
                if not self.plugged:
                    self.plugged, self.soc = True, arrival_soc
                    self.current_a = 0.0
                return
        self.plugged, self.current_a = False, 0.0

    def apply(self, current_a: float, phases: int) -> None:
        full = self.soc >= 100.0
        self.current_a = 0.0 if (not self.plugged or full) else min(current_a, 16.0)
        self.phases = phases

    @property
    def power_w(self) -> float:
        return self.current_a * VOLTS * self.phases

    def lines(self) -> tuple[int, ...]:
        return (0, 1, 2) if self.phases == 3 else (self.spec.line,)


@dataclass
class Battery:
    capacity_kwh: float = 10.0
    limit_w: float = 5000.0
    soc: float = 40.0
    power_w: float = 0.0  # positive = charging

    def follow(self, mode: str, balance_w: float) -> None:
        """Auto: absorb surplus / cover deficit within limits; hold: nothing."""
        if mode != "auto":
            self.power_w = 0.0
            return
        room_w = (100.0 - self.soc) / 100 * self.capacity_kwh * 3.6e6 / STEP_S
        stored_w = (self.soc - 5.0) / 100 * self.capacity_kwh * 3.6e6 / STEP_S
        if balance_w >= 0:
            self.power_w = min(balance_w, self.limit_w, max(room_w, 0.0))
        else:
            self.power_w = -min(-balance_w, self.limit_w, max(stored_w, 0.0))

    def advance(self) -> None:
        energy_kwh = self.power_w * STEP_S / 3.6e6
        factor = 0.95 if energy_kwh > 0 else 1 / 0.95
        self.soc = min(100.0, max(0.0, self.soc + 100 * energy_kwh * factor / 10.0))


@dataclass
class Weather:
    """Clear-sky bell curve with passing clouds (a seeded Markov chain)."""

    rng: random.Random
    peak_w: float = 9000.0
    cloud: float = 1.0  # 1 = clear

    def pv_w(self, hour: float) -> float:
        if self.cloud < 1.0:
            if self.rng.random() < 1 / 30:  # clouds last ~5 min
                self.cloud = 1.0
        elif self.rng.random() < (1 / 60 if 12 <= hour < 17 else 1 / 240):
            self.cloud = self.rng.uniform(0.2, 0.6)
        sunrise, sunset = 5.5, 21.5
        if not sunrise < hour < sunset:
            return 0.0
        clear: float = math.sin(math.pi * (hour - sunrise) / (sunset - sunrise)) ** 1.6
        return self.peak_w * clear * self.cloud


@dataclass
class Household:
    """Base load and daily routine per line, plus random appliance events."""

    rng: random.Random
    events: list[tuple[float, int, float]] = field(default_factory=list)

    def lines_w(self, t: float, hour: float) -> list[float]:
        lines = [180.0, 150.0, 160.0]
        if 6.5 <= hour < 8.5:
            lines[0] += 900  # breakfast
        if 12 <= hour < 13:
            lines[1] += 1300  # lunch
        if 18 <= hour < 21:
            lines[2] += 1600  # oven
            lines[0] += 300  # TV, lights
        if 7 <= hour < 23 and self.rng.random() < 1 / 180:
            duration = self.rng.choice((120.0, 180.0, 600.0))
            power = self.rng.choice((2000.0, 1200.0, 800.0))
            self.events.append((t + duration, self.rng.randrange(3), power))
        self.events = [e for e in self.events if e[0] > t]
        for _, line, power in self.events:
            lines[line] += power
        return [w + self.rng.uniform(-20, 20) for w in lines]


def flex_lines(on: dict[str, bool]) -> list[float]:
    """Power of the flexible loads that run, per line."""
    lines = [0.0, 0.0, 0.0]
    for spec in LOADS:
        if on[spec.id]:
            for line in spec.lines:
                lines[line] += spec.power_w / len(spec.lines)
    return lines


def ev_w(cars: list[Car]) -> float:
    """What the EVs draw in total."""
    return sum(car.power_w for car in cars)


# --- Policies ----------------------------------------------------------------


@dataclass
class Command:
    vehicles: dict[str, tuple[float, int]]  # current, phases
    battery_mode: str
    shed: set[str]
    seconds: float = 0.0
    explanation: list[str] = field(default_factory=list)


class Coordinated:
    """The real controller: snapshot in, decision out, state threaded."""

    def __init__(self) -> None:
        self.state = E.ControllerState()
        self.settings = E.ControllerSettings()

    def decide(self, snapshot: Any, now: float) -> Command:
        started = time.perf_counter()
        decision = E.decide(snapshot, self.state, now, self.settings)
        seconds = time.perf_counter() - started
        self.state = decision.new_state
        battery = decision.actions.battery
        return Command(
            {k: (v.current_a, v.phases) for k, v in decision.actions.vehicles.items()},
            battery.mode.value if battery else "auto",
            set(decision.actions.loads.shed),
            seconds,
            [r.message for r in decision.explanation],
        )


class Uncoordinated:
    """Baseline: EVs at full power when plugged, battery on its own, no shedding."""

    def decide(self, snapshot: Any, now: float) -> Command:
        del now
        vehicles = {}
        for lp in snapshot.loadpoints:
            wants = lp.connected and (lp.vehicle_soc_pct or 0) < lp.target_soc_pct
            vehicles[lp.id] = (16.0 if wants else 0.0, 3)
        return Command(vehicles, "auto", set())


# --- The day -------------------------------------------------------------------


def snapshot_of(
    pv_w: float,
    grid_w: float,
    battery: Battery,
    cars: list[Car],
    loads_on: dict[str, bool],
) -> Any:
    """What the meters say: no per-phase data, no house meter (derived)."""
    return E.SiteSnapshot(
        pv_power_w=pv_w,
        grid_power_w=grid_w,
        battery=E.BatterySnapshot(
            soc_pct=battery.soc,
            power_w=battery.power_w,
            capacity_kwh=battery.capacity_kwh,
            max_charge_w=battery.limit_w,
            max_discharge_w=battery.limit_w,
            priority_soc_pct=30.0,
            buffer_soc_pct=80.0,
            phases=3,
        ),
        loadpoints=tuple(
            E.LoadpointSnapshot(
                id=car.spec.id,
                mode=E.ChargeMode(car.spec.mode),
                min_current_a=6.0,
                max_current_a=16.0,
                phases_setting=E.PhaseSetting.AUTO,
                active_phases=car.phases,
                connected=car.plugged,
                charging_power_w=car.power_w,
                current_a=car.current_a,
                vehicle_soc_pct=car.soc if car.plugged else None,
                target_soc_pct=float(car.spec.target_soc),
                vehicle_capacity_kwh=car.spec.capacity_kwh,
                priority=car.spec.priority,
                line=car.spec.line + 1,
                current_step_a=0.1,
            )
            for car in cars
        ),
        loads=tuple(
            E.FlexibleLoadSnapshot(
                id=spec.id,
                power_w=spec.power_w,
                priority=spec.priority,
                is_on=loads_on[spec.id],
            )
            for spec in LOADS
        ),
        phases=3,
        voltage_v=VOLTS,
        grid_limit_a=LIMIT_A,
        pv_phases=3,
    )


def replay_day(policy: Coordinated | Uncoordinated, seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    weather = Weather(random.Random(rng.random()))
    household = Household(random.Random(rng.random()))
    battery = Battery()
    cars = [Car(spec) for spec in CARS]
    shed: set[str] = set()
    battery_mode = "auto"
    totals = dict.fromkeys(
        ("pv", "import", "export", "house", "ev", "flexible_run", "flexible_wanted"),
        0.0,
    )
    violations = over_limit = house_over_limit = 0
    violation_log: list[dict[str, Any]] = []
    max_line_a = 0.0
    decision_s: list[float] = []
    shed_events = 0
    phase_switches = 0
    battery_hold_steps = 0
    min_soc = max_soc = battery.soc
    hours_to_kwh = STEP_S / 3.6e6
    steps = int(DAY_S / STEP_S)
    for index in range(steps):
        t = index * STEP_S
        hour = t / 3600
        for car in cars:
            car.update_plug(hour)
        pv_w = weather.pv_w(hour)
        house_lines = household.lines_w(t, hour)
        loads_on = {spec.id: spec.wants(hour) and spec.id not in shed for spec in LOADS}

        def balance(on: dict[str, bool]) -> float:
            return pv_w - sum(house_lines) - sum(flex_lines(on)) - ev_w(cars)  # noqa: B023

        # The meters at time t: EVs and battery as they were commanded before.
        battery.follow(battery_mode, balance(loads_on))
        grid_w = -balance(loads_on) + battery.power_w
        snapshot = snapshot_of(pv_w, grid_w, battery, cars, loads_on)
        command = policy.decide(snapshot, DAY_START + t)
        if command.seconds:
            decision_s.append(command.seconds)

        # The actions take effect.
        newly = command.shed - shed
        shed_events += len(newly)
        shed = command.shed
        loads_on = {spec.id: spec.wants(hour) and spec.id not in shed for spec in LOADS}
        for car in cars:
            current, phases = command.vehicles[car.spec.id]
            if car.current_a > 0 and phases != car.phases:
                phase_switches += 1
            car.apply(current, phases)
        battery_mode = command.battery_mode
        battery_hold_steps += battery_mode == "hold"
        battery.follow(battery_mode, balance(loads_on))

        # Check every line with what really flows now.
        flex = flex_lines(loads_on)
        ev_lines = [0.0, 0.0, 0.0]
        for car in cars:
            for line in car.lines():
                ev_lines[line] += car.current_a
        line_a = [
            (house_lines[i] + flex[i] + (battery.power_w - pv_w) / 3) / VOLTS
            + ev_lines[i]
            for i in range(3)
        ]
        max_line_a = max(max_line_a, *line_a)
        if max(line_a) > LIMIT_A + 1e-6:
            over_limit += 1
            if any(
                a > LIMIT_A + 1e-6 and ev_lines[i] > 0 for i, a in enumerate(line_a)
            ):
                violations += 1
                if len(violation_log) < 5:
                    violation_log.append(
                        {
                            "time": time.strftime("%H:%M:%S", time.gmtime(t)),
                            "line_a": [round(a, 2) for a in line_a],
                            "ev_a": [round(a, 2) for a in ev_lines],
                            "explanation": command.explanation,
                        }
                    )
            else:
                house_over_limit += 1

        # Energy over the step.
        net_w = -balance(loads_on) + battery.power_w
        totals["pv"] += pv_w * hours_to_kwh
        totals["import"] += max(net_w, 0.0) * hours_to_kwh
        totals["export"] += max(-net_w, 0.0) * hours_to_kwh
        totals["house"] += (sum(house_lines) + sum(flex)) * hours_to_kwh
        totals["flexible_run"] += sum(flex) * hours_to_kwh
        totals["flexible_wanted"] += (
            sum(spec.power_w for spec in LOADS if spec.wants(hour)) * hours_to_kwh
        )
        for car in cars:
            energy = car.power_w * hours_to_kwh
            totals["ev"] += energy
            car.energy_kwh += energy
            car.soc = min(100.0, car.soc + 100 * energy * 0.9 / car.spec.capacity_kwh)
        battery.advance()
        min_soc, max_soc = min(min_soc, battery.soc), max(max_soc, battery.soc)

    pv = totals["pv"]
    consumption = totals["house"] + totals["ev"]
    result: dict[str, Any] = {
        "steps": steps,
        "pv_kwh": round(pv, 2),
        "consumption_kwh": round(consumption, 2),
        "ev_kwh": round(totals["ev"], 2),
        "grid_import_kwh": round(totals["import"], 2),
        "grid_export_kwh": round(totals["export"], 2),
        "self_consumption_pct": round(100 * (pv - totals["export"]) / pv, 1),
        "self_sufficiency_pct": round(100 * (1 - totals["import"] / consumption), 1),
        "flexible_load_served_pct": round(
            100 * totals["flexible_run"] / totals["flexible_wanted"], 1
        ),
        "ev_grid_violations": violations,
        "ev_grid_violation_examples": violation_log,
        "over_limit_steps": over_limit,
        "house_only_over_limit_steps": house_over_limit,
        "max_line_current_a": round(max_line_a, 2),
        "grid_limit_a": LIMIT_A,
        "battery_soc_min_max_end": [
            round(min_soc, 1),
            round(max_soc, 1),
            round(battery.soc, 1),
        ],
        "battery_hold_steps": battery_hold_steps,
        "loads_shed_events": shed_events,
        "ev_phase_switches": phase_switches,
        "cars": {
            car.spec.id: {
                "energy_kwh": round(car.energy_kwh, 2),
                "soc_end": round(car.soc, 1),
            }
            for car in cars
        },
    }
    if decision_s:
        ms = [s * 1000 for s in decision_s]
        result["decision_ms"] = {
            "median": round(statistics.median(ms), 4),
            "p99": round(percentile(ms, 0.99), 4),
            "max": round(max(ms), 4),
        }
    return result


# --- Latency -----------------------------------------------------------------


def latency(decisions: int, seed: int) -> dict[str, Any]:
    """Time `decide()` over varied snapshots of the same home, state threaded."""
    rng = random.Random(seed)
    battery = Battery(soc=55.0)
    cars = [Car(spec) for spec in CARS]
    for car, mode in zip(cars, ("minpv", "pv"), strict=True):
        car.plugged, car.soc = True, 50.0
        car.spec = replace(car.spec, mode=mode)
    snapshots = []
    for _ in range(decisions):
        for car in cars:
            car.current_a = rng.choice((0.0, 6.0, rng.uniform(6, 16)))
            car.phases = rng.choice((1, 3))
        battery.power_w = rng.uniform(-4000, 4000)
        battery.soc = min(100.0, max(0.0, battery.soc + rng.uniform(-0.5, 0.5)))
        loads_on = {spec.id: rng.random() < 0.6 for spec in LOADS}
        pv_w = rng.uniform(0, 9000)
        house_w = rng.uniform(300, 5000)
        grid_w = house_w + battery.power_w + sum(c.power_w for c in cars) - pv_w
        snapshots.append(snapshot_of(pv_w, grid_w, battery, cars, loads_on))
    state = E.ControllerState()
    settings = E.ControllerSettings()
    for snapshot in snapshots[:200]:  # warm-up
        E.decide(snapshot, state, DAY_START, settings)
    times_ms = []
    for index, snapshot in enumerate(snapshots):
        now = DAY_START + index * STEP_S
        started = time.perf_counter_ns()
        decision = E.decide(snapshot, state, now, settings)
        times_ms.append((time.perf_counter_ns() - started) / 1e6)
        state = decision.new_state
    return {
        "decisions": decisions,
        "home": "1 PV, 1 battery, 2 EV chargers, 5 flexible loads, 25 A limit",
        "median_ms": round(statistics.median(times_ms), 4),
        "p90_ms": round(percentile(times_ms, 0.90), 4),
        "p99_ms": round(percentile(times_ms, 0.99), 4),
        "max_ms": round(max(times_ms), 4),
        "mean_ms": round(statistics.fmean(times_ms), 4),
    }


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--decisions", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--output", type=Path, help="JSON file (default: results/)")
    parser.add_argument(
        "--no-ha", action="store_true", help="skip the HA action (part 3)"
    )
    parser.add_argument(
        "--ha-calls", type=int, default=200, help="calls per HA action variant"
    )
    return parser.parse_args(argv)


def ha_action(calls: int) -> dict[str, Any] | None:
    """Part 3, in the project venv (it needs Home Assistant); None when absent."""
    python = ROOT / ".venv" / "bin" / "python"
    if not python.exists():
        return None
    proc = subprocess.run(
        [str(python), str(BENCH / "coordinate_action.py"), "--calls", str(calls)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    try:
        return dict(json.loads(proc.stdout))
    except json.JSONDecodeError:
        return {"ok": False, "error": (proc.stderr or proc.stdout)[-2000:]}


def summary_line(result: dict[str, Any]) -> str:
    lat = result["latency"]
    day = result["day"]["coordinated"]
    base = result["day"]["uncoordinated"]
    verdict = "OK" if result["targets"]["all_ok"] else "MISSED"
    return (
        f"controller {verdict}: decide() median {lat['median_ms']:.3f} ms, "
        f"p99 {lat['p99_ms']:.3f} ms over {lat['decisions']} | day: self-consumption "
        f"{day['self_consumption_pct']}% (baseline {base['self_consumption_pct']}%), "
        f"import {day['grid_import_kwh']} kWh (baseline {base['grid_import_kwh']}), "
        f"EV grid-limit violations {day['ev_grid_violations']} "
        f"(baseline over-limit steps {base['over_limit_steps']})"
        + _ha_summary(result.get("ha_action"))
    )


def _ha_summary(ha: dict[str, Any] | None) -> str:
    if ha is None:
        return " | HA action: skipped"
    if "carry_out" not in ha:
        return " | HA action: failed"
    return (
        f" | coordinate action median {ha['carry_out']['p50_ms']:.1f} ms "
        f"(dry run {ha['dry_run']['p50_ms']:.1f}, with two OCPP profiles "
        f"{ha['carry_out_two_profiles']['p50_ms']:.1f})"
    )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    wall = time.perf_counter()
    lat = latency(args.decisions, args.seed)
    coordinated = replay_day(Coordinated(), args.seed)
    uncoordinated = replay_day(Uncoordinated(), args.seed)
    targets: dict[str, Any] = {
        "median_ms": {
            "target": f"< {TARGETS['median_ms']}",
            "value": lat["median_ms"],
            "ok": lat["median_ms"] < TARGETS["median_ms"],
        },
        "ev_grid_violations": {
            "target": "0",
            "value": coordinated["ev_grid_violations"],
            "ok": coordinated["ev_grid_violations"] == TARGETS["ev_grid_violations"],
        },
    }
    ha = None if args.no_ha else ha_action(args.ha_calls)
    if ha is not None:
        targets["ha_action_median_ms"] = {
            "target": f"< {TARGETS['ha_action_median_ms']}",
            "value": ha.get("carry_out", {}).get("p50_ms"),
            "ok": bool(ha.get("ok")),
        }
    targets["all_ok"] = all(t["ok"] for t in targets.values())
    result = {
        "benchmark": "controller",
        "started": started,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "seed": args.seed,
        "latency": lat,
        "day": {
            "step_s": STEP_S,
            "coordinated": coordinated,
            "uncoordinated": uncoordinated,
        },
        "ha_action": ha,
        "targets": targets,
        "wall_s": round(time.perf_counter() - wall, 2),
    }
    out = args.output or RESULTS / f"controller-{started}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))
    print(summary_line(result))
    print(f"written to {out}")
    return 0 if targets["all_ok"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
