"""The setup scripts as a newcomer meets them: quiet pip, a demo --help at once.

They run as real bash processes on a copy of scripts/ in a temporary folder (no
venv there), so a build would show: it would print its progress and take minutes.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MIRROR = (
    "WARNING: Location 'file:///opt/pypi-more/simple/yarl/' is ignored: "
    "it is neither a file nor a directory."
)


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """Override the package's autouse fixture: these tests need no hass."""


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A folder with the project's scripts and no venv."""
    shutil.copytree(ROOT / "scripts", tmp_path / "scripts")
    return tmp_path


def _bash(command: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COV_CORE_")}
    return subprocess.run(
        ["bash", "-c", command],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )


def test_demo_help_builds_nothing(checkout: Path) -> None:
    """`scripts/demo --help` prints the flags at once; no venv is made."""
    started = time.monotonic()
    result = _bash("scripts/demo --help", checkout)
    assert result.returncode == 0, result.stderr
    assert time.monotonic() - started < 10
    assert result.stdout.startswith("usage: scripts/demo")
    for flag in ("--ha-port", "--ocpp-port", "--mcp-port", "--chargers"):
        assert flag in result.stdout
    assert "Building" not in result.stderr
    assert not (checkout / ".venv").exists()
    assert not (checkout / ".venv-addon").exists()


def test_demo_bad_flag_builds_nothing(checkout: Path) -> None:
    """A mistyped flag is argparse's error (exit 2) before any build."""
    result = _bash("scripts/demo --mcp-port 0", checkout)
    assert result.returncode == 2
    assert "--mcp-port must be a TCP port" in result.stderr
    assert not (checkout / ".venv").exists()


def _fake_pip(folder: Path, exit_code: int) -> Path:
    pip = folder / "pip"
    pip.write_text(
        "#!/usr/bin/env bash\n"
        f'echo "{MIRROR}" >&2\n'
        'echo "Collecting ocpp==2.1.0"\n'
        f'echo "{MIRROR.replace("yarl", "idna")}" >&2\n'
        'echo "WARNING: pip is configured with locations that require TLS" >&2\n'
        + (
            'echo "ERROR: No matching distribution found for nope==1" >&2\n'
            if exit_code
            else ""
        )
        + f"exit {exit_code}\n"
    )
    pip.chmod(0o755)
    return pip


@pytest.mark.parametrize("exit_code", [0, 1])
def test_pip_keeps_errors_and_drops_mirror_warnings(
    checkout: Path, exit_code: int
) -> None:
    """The machine's index warnings go; pip's output and exit status stay."""
    pip = _fake_pip(checkout, exit_code)
    result = _bash(f"source scripts/_python.sh; pip_install {pip} -r x.txt", checkout)
    assert result.returncode == exit_code
    assert "is ignored: it is neither a file nor a directory" not in result.stderr
    assert "Collecting ocpp==2.1.0" in result.stderr
    assert "WARNING: pip is configured with locations that require TLS" in (
        result.stderr
    )
    assert ("ERROR: No matching distribution found" in result.stderr) == bool(exit_code)
