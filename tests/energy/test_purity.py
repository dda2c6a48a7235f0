"""The core stays pure: it imports without Home Assistant and does no I/O."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

PACKAGE_PARENT = (
    Path(__file__).resolve().parents[2] / "custom_components" / "energy_coordinator"
)
FORBIDDEN = ("homeassistant", "asyncio", "socket", "ssl", "sqlite3", "aiohttp", "ocpp")


def test_core_imports_alone() -> None:
    """Loaded on its own (as the bench does), nothing heavy comes in."""
    code = (
        "import importlib.util, sys\n"
        "spec = importlib.util.spec_from_file_location(\n"
        "    'energy', sys.argv[1] + '/__init__.py',\n"
        "    submodule_search_locations=[sys.argv[1]])\n"
        "module = importlib.util.module_from_spec(spec)\n"
        "sys.modules['energy'] = module\n"
        "spec.loader.exec_module(module)\n"
        "print(' '.join(sorted({m.split('.')[0] for m in sys.modules})))\n"
    )
    # Without pytest-cov's variables: its measuring in subprocesses imports more.
    env = {k: v for k, v in os.environ.items() if not k.startswith("COV_CORE_")}
    result = subprocess.run(
        [sys.executable, "-c", code, str(PACKAGE_PARENT / "energy")],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
        env=env,
    )
    loaded = set(result.stdout.split())
    assert "energy" in loaded
    assert not loaded & set(FORBIDDEN)


def test_no_io_or_clock_in_the_source() -> None:
    for source in (PACKAGE_PARENT / "energy").glob("*.py"):
        text = source.read_text(encoding="utf-8")
        for needle in ("open(", "import time", "datetime.now", "utcnow", "random"):
            assert needle not in text, f"{source.name} uses {needle}"
