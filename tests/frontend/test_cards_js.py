"""The cards' JavaScript in Node: `cards.test.js` loads the file with minimal
stubs of customElements / HTMLElement and checks the card registration, the
config validation, the plan geometry of `get_plan_sample.json` (an EV charging
01:00-03:15 with 80 % by 07:00), the power-flow model, how the cards find the
site's entities in the hass object, and that the plan card calls `get_plan` and
`explain_plan` once per plan change, and that loaded before HA's app they define
themselves in the registry the app puts in place. Skipped, saying why, without Node.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

HERE = Path(__file__).parent
CARDS = (
    HERE.parents[1]
    / "custom_components"
    / "energy_coordinator"
    / "frontend"
    / "energy-coordinator-cards.js"
)

SAMPLE = "get_plan_sample.json"


def test_cards_in_node() -> None:
    node = shutil.which("node")
    if node is None:
        print("SKIPPED: node is not installed; the cards' JavaScript is not run")
        pytest.skip("node is not installed (the cards' JavaScript test needs Node)")
    result = subprocess.run(
        [node, str(HERE / "cards.test.js"), str(CARDS), str(HERE / SAMPLE)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == "ok 28", result.stdout
