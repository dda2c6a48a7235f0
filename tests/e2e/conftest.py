"""Fixtures for end-to-end tests: real `hass` processes (scripts/hass_process.py).

These tests start processes and talk to them over 127.0.0.1 only; they need the
packages of requirements_demo.txt (installed into .venv by scripts/_python.sh).
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))

from hass_process import HassProcess

#: Starts an onboarded `hass` (user `e2e`) with HassProcess's options.
MakeHass = Callable[..., Awaitable[HassProcess]]


@pytest.fixture
async def make_hass(tmp_path: Path, socket_enabled: None) -> AsyncIterator[MakeHass]:
    """Start onboarded `hass` processes; each is stopped at teardown."""
    started: list[HassProcess] = []

    async def make(**options: Any) -> HassProcess:
        process = HassProcess(
            tmp_path / f"config{len(started) or ''}",
            username="e2e",
            name="E2E",
            **options,
        )
        started.append(process)
        await process.start(within=45)
        await process.onboard()
        return process

    try:
        yield make
    finally:
        for process in started:
            await process.stop()


@pytest.fixture
async def hass_proc(make_hass: MakeHass) -> HassProcess:
    """A running, onboarded `hass` (user `e2e`); the integration is not added yet."""
    return await make_hass()
