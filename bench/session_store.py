"""What durability costs: one SessionStore commit with synchronous=FULL vs NORMAL.

Owns the measurement of the session store's hot path (`record_meter`, the commit
behind every MeterValues with a register) on the disk the benchmark runs on: the
store as the integration opens it (WAL, synchronous=FULL, every commit synced) and
the same store with NORMAL (what it used before, which can lose the last commits on
power loss). `bench/ocpp_load.py` includes the figure in its result.

    .venv/bin/python bench/session_store.py [--commits 500] [--dir PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import json
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


def summary_line(result: dict[str, Any]) -> str:
    full, normal = result["FULL"], result["NORMAL"]
    return (
        f"session_store {result['commits']} commits: FULL p50/p99 "
        f"{full['p50_ms']:.2f}/{full['p99_ms']:.2f} ms, NORMAL p50/p99 "
        f"{normal['p50_ms']:.2f}/{normal['p99_ms']:.2f} ms, durability costs "
        f"{result['full_extra_ms_per_commit']:.2f} ms per commit"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commits", type=int, default=500)
    parser.add_argument("--dir", type=Path, help="where to put the databases")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(dir=args.dir) as directory:
        result = asyncio.run(measure_commits(Path(directory), args.commits))
    print(json.dumps(result, indent=2))
    print(summary_line(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
