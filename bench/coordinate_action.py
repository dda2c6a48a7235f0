"""`energy_coordinator.coordinate` as a Home Assistant action, end to end.

Owns the HA half of the controller benchmark: a fresh `hass` (scripts/hass_process.py)
with the demo household's sensors (PV, grid, house, battery; `simulator.household`),
the site added through its config flow measuring them (no loop of its own), five
flexible loads (input_booleans added as subentries) and two simulated chargers
(OCPP 1.6J and 2.0.1, each with an EV plugged in and charging). Then it times
`POST /api/services/energy_coordinator/coordinate?return_response` from this
process: the HTTP round trip, the snapshot, the decision, carrying out the actions
(OCPP profiles only when a limit changes, switch calls only when a load changes)
and the response: `--calls` times with `dry_run`, as many times for real, and as
many times alternating both EVs between `now` and `off` (so that every call sends a
charging profile to each charger and waits for its answer).

Run by `bench/controller.py` (which reports it with the pure core's figures), or
alone with the project venv:

    .venv/bin/python bench/coordinate_action.py --calls 200
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(ROOT))

from demo import add_household_site, start_simulators, stop_process  # noqa: E402
from hass_process import DOMAIN, HassError, HassProcess, free_port  # noqa: E402
from load_client import percentiles  # noqa: E402

from simulator.household import HouseholdFeed  # noqa: E402

LOADS = [(f"input_boolean.load_{n}", 500.0 * n, n) for n in range(1, 6)]
LOADS_YAML = "input_boolean:\n" + "".join(
    f"  load_{n}:\n    name: Load {n}\n    initial: true\n" for n in range(1, 6)
)
TARGET_MEDIAN_MS = 20.0


async def add_load(
    ha: HassProcess, entry_id: str, load: tuple[str, float, int]
) -> None:
    """A flexible load, through the subentry flow over REST (the entry reloads)."""
    entity_id, power_w, priority = load
    flow = await ha.post(
        "/api/config/config_entries/subentries/flow",
        json={"handler": [entry_id, "flexible_load"]},
    )
    result = await ha.post(
        f"/api/config/config_entries/subentries/flow/{flow['flow_id']}",
        json={"entity_id": entity_id, "power_w": power_w, "priority": priority},
    )
    if result.get("type") != "create_entry":
        raise HassError(f"flexible load {entity_id}: {result}")


async def wait_for(
    ha: HassProcess, what: str, check: Any, within: float = 60.0
) -> dict[str, Any]:
    """Poll HA's states until `check(states)` holds."""
    deadline = time.monotonic() + within
    while True:
        states = {s["entity_id"]: s for s in await ha.states()}
        if check(states):
            return states
        if time.monotonic() > deadline:
            raise HassError(f"timed out waiting for {what}\n{ha.log_tail()}")
        await asyncio.sleep(0.5)


async def run(calls: int) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix="coordinate-action-"))
    ha = HassProcess(
        workdir / "config",
        username="bench",
        name="Coordinate bench",
        log_level="warning",
        extra_config=LOADS_YAML,
    )
    ocpp_port = free_port()
    simulators: subprocess.Popen[bytes] | None = None
    try:
        await ha.start()
        await ha.onboard()
        assert ha.token is not None
        feed = HouseholdFeed(ha.url, ha.token)
        feed.household.pv_w, feed.household.house_w = 6500.0, 700.0
        feed.household.grid_w = -5800.0
        entry = await add_household_site(ha, feed, ocpp_port, loop_s=0)
        entry_id = entry["entry_id"]
        for load in LOADS:
            await add_load(ha, entry_id, load)
        simulators = start_simulators(
            f"ws://127.0.0.1:{ocpp_port}",
            2,
            workdir / "simulator.log",
            id_prefix="bench",
            session_pause=1,
        )
        # Both EVs plugged in (their loadpoints exist and report a vehicle).
        await wait_for(
            ha,
            "two plugged-in EVs",
            lambda states: (
                sum(
                    1
                    for entity_id, state in states.items()
                    if entity_id.startswith("binary_sensor.bench_")
                    and entity_id.endswith("_plugged_in")
                    and state["state"] == "on"
                )
                == 2
            ),
        )
        response = await ha.call_service(DOMAIN, "coordinate", {}, return_response=True)
        vehicles = response["service_response"]["actions"]["vehicles"]
        loads = response["service_response"]["actions"]["loads"]
        if len(vehicles) != 2:
            raise HassError(f"expected two loadpoints, got {vehicles}")

        async def timed(*variants: dict[str, Any]) -> list[float]:
            samples = []
            for n in range(calls):
                data = variants[n % len(variants)]
                start = time.perf_counter()
                await ha.call_service(DOMAIN, "coordinate", data, return_response=True)
                samples.append(time.perf_counter() - start)
            return samples

        def both(mode: str) -> dict[str, Any]:
            return {"vehicles": {lp: {"mode": mode} for lp in vehicles}}

        dry = await timed({"dry_run": True})
        real = await timed({})
        # Every call changes both EVs' limits (now <-> off): two SetChargingProfile
        # round trips to the simulated chargers inside each call.
        switching = await timed(both("now"), both("off"))
        return {
            "calls": calls,
            "site": {
                "loadpoints": sorted(vehicles),
                "flexible_loads": len(LOADS),
                "shed_kw": loads.get("shed_kw"),
            },
            "dry_run": percentiles(dry),
            "carry_out": percentiles(real),
            "carry_out_two_profiles": percentiles(switching),
        }
    finally:
        await asyncio.to_thread(stop_process, simulators)
        await ha.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200)
    args = parser.parse_args(argv)
    result = asyncio.run(run(args.calls))
    result["target_median_ms"] = TARGET_MEDIAN_MS
    result["ok"] = (
        result["carry_out"]["p50_ms"] < TARGET_MEDIAN_MS
        and result["carry_out_two_profiles"]["p50_ms"] < TARGET_MEDIAN_MS
    )
    print(json.dumps(result, indent=2))
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
