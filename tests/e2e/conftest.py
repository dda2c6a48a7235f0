"""Fixtures for end-to-end tests: a real `hass` process (scripts/hass_process.py).

These tests start processes and talk to them over 127.0.0.1 only; they need the
packages of requirements_demo.txt (installed into .venv by scripts/_python.sh).
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))

from hass_process import HassProcess


@pytest.fixture
async def hass_proc(tmp_path: Path, socket_enabled: None) -> AsyncIterator[HassProcess]:
    """A running, onboarded `hass` (user `e2e`); the integration is not added yet."""
    process = HassProcess(tmp_path / "config", username="e2e", name="E2E")
    await process.start(within=45)
    try:
        await process.onboard()
        yield process
    finally:
        await process.stop()
