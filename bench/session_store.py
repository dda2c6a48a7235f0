"""What durability costs: one SessionStore commit with synchronous=FULL vs NORMAL.

Owns the measurement of the session store's hot path (`record_meter`, the commit
behind every MeterValues with a register) on the disk the benchmark runs on: the
store as the integration opens it (WAL, synchronous=FULL, every commit synced) and
the same store with NORMAL (what it used before, which can lose the last commits on
power loss): once one commit at a time, once paced like 1,000 chargers reporting
every 10 s (calls that wait together share one commit). `bench/ocpp_load.py`
includes the figures in its result.

    .venv/bin/python bench/session_store.py [--commits 500] [--dir PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from custom_components.energy_coordinator.csms.sessions import (  # noqa: E402
    EnergyTotal,
    SessionStore,
)


def _stats(samples_ms: list[float]) -> dict[str, float]:
    ordered = sorted(samples_ms)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 3)

    return {
        "p50_ms": at(0.50),
        "p99_ms": at(0.99),
        "mean_ms": round(sum(ordered) / len(ordered), 3),
    }


async def measure_commits(directory: Path, commits: int = 500) -> dict[str, Any]:
    """Commit latency of `record_meter` (energy total + session meter) per mode."""
    result: dict[str, Any] = {"commits": commits, "directory": str(directory)}
    for mode in ("FULL", "NORMAL"):
        path = directory / f"store-{mode.lower()}.db"
        store = SessionStore(path, synchronous=mode)
        await store.open()
        session = await store.start_session("BENCH", 1, "TAG", datetime.now(UTC), 0.0)
        samples: list[float] = []
        try:
            for n in range(1, commits + 1):
                started = time.perf_counter()
                await store.record_meter(
                    "BENCH", 1, EnergyTotal(float(n), float(n)), session.session_id, n
                )
                samples.append((time.perf_counter() - started) * 1000)
        finally:
            await store.close()
            for suffix in ("", "-wal", "-shm"):
                path.with_name(path.name + suffix).unlink(missing_ok=True)
        result[mode] = _stats(samples)
    result["full_extra_ms_per_commit"] = round(
        result["FULL"]["mean_ms"] - result["NORMAL"]["mean_ms"], 3
    )
    return result


async def measure_paced(
    directory: Path, rate: float = 100.0, seconds: float = 5.0
) -> dict[str, Any]:
    """`record_meter` latency with calls arriving at `rate` per second (Poisson),
    as 1,000 chargers reporting every 10 s do: waiting calls share a commit."""
    result: dict[str, Any] = {"rate_per_s": rate, "seconds": seconds}
    rng = random.Random(1)
    for mode in ("FULL", "NORMAL"):
        path = directory / f"paced-{mode.lower()}.db"
        store = SessionStore(path, synchronous=mode)
        await store.open()
        samples: list[float] = []

        async def one(
            n: int, store: SessionStore = store, samples: list[float] = samples
        ) -> None:
            started = time.perf_counter()
            await store.record_meter(f"CP{n % 1000}", 1, EnergyTotal(n, n), None, None)
            samples.append((time.perf_counter() - started) * 1000)

        tasks: list[asyncio.Task[None]] = []
        deadline = time.monotonic() + seconds
        try:
            while time.monotonic() < deadline:
                tasks.append(asyncio.create_task(one(len(tasks))))
                await asyncio.sleep(rng.expovariate(rate))
            await asyncio.gather(*tasks)
            commits = store.commits
        finally:
            await store.close()
            for suffix in ("", "-wal", "-shm"):
                path.with_name(path.name + suffix).unlink(missing_ok=True)
        result[mode] = _stats(samples) | {"calls": len(samples), "commits": commits}
    return result


def summary_line(result: dict[str, Any]) -> str:
    full, normal = result["FULL"], result["NORMAL"]
    line = (
        f"session_store {result['commits']} commits one by one: FULL p50/p99 "
        f"{full['p50_ms']:.2f}/{full['p99_ms']:.2f} ms, NORMAL p50/p99 "
        f"{normal['p50_ms']:.2f}/{normal['p99_ms']:.2f} ms, durability costs "
        f"{result['full_extra_ms_per_commit']:.2f} ms per commit"
    )
    paced = result.get("paced")
    if paced:
        line += (
            f"; at {paced['rate_per_s']:.0f}/s FULL p50/p99 "
            f"{paced['FULL']['p50_ms']:.2f}/{paced['FULL']['p99_ms']:.2f} ms "
            f"({paced['FULL']['commits']} commits for {paced['FULL']['calls']}"
            f" calls), NORMAL {paced['NORMAL']['p50_ms']:.2f}/"
            f"{paced['NORMAL']['p99_ms']:.2f} ms"
        )
    return line


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commits", type=int, default=500)
    parser.add_argument("--dir", type=Path, help="where to put the databases")
    parser.add_argument("--rate", type=float, default=100.0, help="paced calls/s")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(dir=args.dir) as directory:
        result = asyncio.run(measure_commits(Path(directory), args.commits))
        result["paced"] = asyncio.run(measure_paced(Path(directory), args.rate))
    print(json.dumps(result, indent=2))
    print(summary_line(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
