"""What the end-to-end stories (tests/e2e/test_story_*.py) share.

Owns the owner's steps over Home Assistant's public APIs that the stories take
(an options-flow step, a loadpoint's setting through its entity, an automation
made from a blueprint in the automation editor's API, HA's own clock through
its template API) and `SharedFakeClock`: one accelerated clock for several
processes, from libfaketime (Debian package `faketime`).

`SharedFakeClock` starts a tiny anchor process under `faketime`; its
environment (`LD_PRELOAD`, `FAKETIME`, `FAKETIME_SHARED`) put into another
process's environment gives that process the same clock: libfaketime keeps the
start of the fake time in shared memory, so `hass` and a simulator started
seconds apart agree on the time, and every clock (wall and monotonic, so
asyncio's timers too) runs `rate` times faster than the real one.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, Self

import pytest
from hass_process import DOMAIN, HassError, HassProcess

ROOT = Path(__file__).resolve().parents[2]
BLUEPRINT = "energy_coordinator/coordinate_energy.yaml"


# Home Assistant's own clock ------------------------------------------------------


async def ha_now(ha: HassProcess) -> datetime:
    """Home Assistant's `now()` (its time zone), through the template API."""
    text = await ha.post("/api/template", json={"template": "{{ now().isoformat() }}"})
    return datetime.fromisoformat(str(text).strip())


# Owner's steps -------------------------------------------------------------------


async def options_step(
    ha: HassProcess, entry_id: str, step: str, answers: Mapping[str, Any]
) -> dict[str, Any]:
    """Open the site's options, pick `step` and answer its forms (see
    `HassProcess.options_step`)."""
    return await ha.options_step(entry_id, step, answers)


async def options_menu(ha: HassProcess, entry_id: str) -> list[str]:
    """The steps the site's options menu offers (the flow is closed again)."""
    base = "/api/config/config_entries/options/flow"
    result = await ha.post(base, json={"handler": entry_id})
    await ha.delete(f"{base}/{result['flow_id']}", check=False)
    return list(result.get("menu_options") or [])


async def loadpoint_entities(
    ha: HassProcess, entry_id: str, charger_id: str, connector_id: int = 1
) -> dict[str, str]:
    """key -> entity id of one loadpoint's entities and its connector's sensors.

    Loadpoint settings under their key (`charge_mode`, `target_soc`,
    `target_time`, ...), the connector's measurements as `charger_<key>`
    (`charger_power`, `charger_current`, `charger_soc`, ...).
    """
    entities = await ha.ws_command("config/entity_registry/list")
    loadpoint = f"{entry_id}_loadpoint_{charger_id}_{connector_id}_"
    connector = f"{entry_id}_charger_{charger_id}_{connector_id}_"
    found: dict[str, str] = {}
    for entity in entities:
        if entity["platform"] != DOMAIN:
            continue
        unique_id = entity["unique_id"]
        if unique_id.startswith(loadpoint):
            found[unique_id.removeprefix(loadpoint)] = entity["entity_id"]
        elif unique_id.startswith(connector):
            found["charger_" + unique_id.removeprefix(connector)] = entity["entity_id"]
    return found


async def blueprint_automation(
    ha: HassProcess, automation_id: str, inputs: Mapping[str, Any]
) -> str:
    """An automation from the shipped blueprint, saved as the automation editor
    saves it (HA then reloads its automations); its entity id once it is on."""
    await ha.post(
        f"/api/config/automation/config/{automation_id}",
        json={
            "id": automation_id,
            "alias": f"Coordinate energy ({automation_id})",
            "description": "",
            "use_blueprint": {"path": BLUEPRINT, "input": dict(inputs)},
        },
    )
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        for state in await ha.states("automation."):
            if state["attributes"].get("id") == automation_id:
                if state["state"] != "on":
                    raise HassError(f"automation {automation_id}: {state}")
                return str(state["entity_id"])
        await asyncio.sleep(0.2)
    raise HassError(f"automation {automation_id} was not loaded:\n{ha.log_tail()}")


# One accelerated clock for several processes -------------------------------------

FAKETIME_VARS = ("LD_PRELOAD", "FAKETIME", "FAKETIME_SHARED")


def faketime_missing() -> str | None:
    """Why the fake clock cannot run here (None: it can)."""
    if shutil.which("faketime") is None:
        return "faketime is not installed (Debian: apt-get install faketime)"
    return None


class SharedFakeClock:
    """A fake clock that starts at `start` (UTC) and runs `rate` times faster.

    `env` is what a process needs in its environment to run on it. The
    multi-threaded libfaketime is used (`hass` has worker threads).
    """

    def __init__(self, start_utc: datetime, rate: float) -> None:
        self.start_utc = start_utc
        self.rate = rate
        self.env: dict[str, str] = {}
        self._anchor: subprocess.Popen[str] | None = None

    def __enter__(self) -> Self:
        if reason := faketime_missing():
            pytest.skip(reason)
        spec = f"@{self.start_utc:%Y-%m-%d %H:%M:%S} x{self.rate:g}"
        script = (
            "import json, os, sys\n"
            f"print(json.dumps({{k: os.environ[k] for k in {FAKETIME_VARS!r}}}),"
            " flush=True)\n"
            "sys.stdin.read()\n"
        )
        self._anchor = subprocess.Popen(
            ["faketime", "-m", "-f", spec, sys.executable, "-c", script],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "TZ": "UTC"},
        )
        assert self._anchor.stdout is not None
        line = self._anchor.stdout.readline()
        if not line:
            raise RuntimeError("the faketime anchor process did not start")
        self.env = {**json.loads(line), "TZ": "UTC"}
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """End the anchor process (faketime then removes the shared memory)."""
        anchor = self._anchor
        if anchor is not None and anchor.poll() is None:
            assert anchor.stdin is not None
            anchor.stdin.close()  # it exits; faketime removes the shared memory
            try:
                anchor.wait(5)
            except subprocess.TimeoutExpired:
                anchor.kill()
                anchor.wait(5)


#: What HA logs when its start-up did not finish (setups that ran out of time).
STARTUP_FAILURES = ("Activating recovery mode", "Setup failed for")


@contextlib.asynccontextmanager
async def hass_on_fake_clock(
    config_root: Path,
    start_utc: datetime,
    rate: float,
    attempts: int = 3,
    **options: Any,
) -> AsyncIterator[tuple[HassProcess, SharedFakeClock]]:
    """An onboarded `hass` (user `e2e`) on a fresh `SharedFakeClock`.

    HA's start-up has time limits (five minutes for an integration's setup, on
    its own clock): at a few hundred times the real speed they are a second or
    two, which a busy machine can miss, and HA then starts in recovery mode.
    Such a start is thrown away and tried again on a new clock (from
    `start_utc` again), up to `attempts` times.
    """
    problem = ""
    for attempt in range(attempts):
        clock = SharedFakeClock(start_utc, rate).__enter__()
        ha = HassProcess(
            config_root / f"config-clock{attempt}",
            username="e2e",
            name="E2E",
            env=clock.env,
            **options,
        )
        try:
            await ha.start(within=30)
            await ha.onboard()
            log = ha.log_path.read_text(encoding="utf-8", errors="replace")
            problem = next(
                (
                    line
                    for line in log.splitlines()
                    if any(failure in line for failure in STARTUP_FAILURES)
                ),
                "",
            )
        except HassError as err:
            problem = str(err)
        if not problem:
            break
        print(f"hass on the fake clock, attempt {attempt + 1}: {problem[:300]}")
        await ha.stop()
        clock.close()
    else:
        pytest.fail(f"hass did not start cleanly on the fake clock: {problem}")
    try:
        yield ha, clock
    finally:
        await ha.stop()
        clock.close()
