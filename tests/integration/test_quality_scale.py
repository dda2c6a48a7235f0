"""quality_scale.yaml names every rule, and what it calls done is backed by the repo.

Pure file checks (no hass). hassfest validates quality_scale.yaml only for core
integrations, so these checks stand in for it: the rule list is Home Assistant's
(hassfest's, plus docs-conditions and docs-triggers of newer releases), and the
rules whose truth a file can show are checked against those files.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
COMPONENT = ROOT / "custom_components" / "energy_coordinator"
HASSFEST_RULES = ROOT.parent / "shared/tools/hassfest/script/hassfest/quality_scale.py"
RULES = {
    # Bronze
    "action-setup",
    "appropriate-polling",
    "brands",
    "common-modules",
    "config-flow",
    "config-flow-test-coverage",
    "dependency-transparency",
    "docs-actions",
    "docs-conditions",
    "docs-high-level-description",
    "docs-installation-instructions",
    "docs-removal-instructions",
    "docs-triggers",
    "entity-event-setup",
    "entity-unique-id",
    "has-entity-name",
    "runtime-data",
    "test-before-configure",
    "test-before-setup",
    "unique-config-entry",
    # Silver
    "action-exceptions",
    "config-entry-unloading",
    "docs-configuration-parameters",
    "docs-installation-parameters",
    "entity-unavailable",
    "integration-owner",
    "log-when-unavailable",
    "parallel-updates",
    "reauthentication-flow",
    "test-coverage",
    # Gold
    "devices",
    "diagnostics",
    "discovery",
    "discovery-update-info",
    "docs-data-update",
    "docs-examples",
    "docs-known-limitations",
    "docs-supported-devices",
    "docs-supported-functions",
    "docs-troubleshooting",
    "docs-use-cases",
    "dynamic-devices",
    "entity-category",
    "entity-device-class",
    "entity-disabled-by-default",
    "entity-translations",
    "exception-translations",
    "icon-translations",
    "reconfiguration-flow",
    "repair-issues",
    "stale-devices",
    # Platinum
    "async-dependency",
    "inject-websession",
    "strict-typing",
}


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """Override the package's autouse fixture: these tests need no hass."""


def _rules() -> dict[str, dict[str, Any]]:
    data = yaml.safe_load((COMPONENT / "quality_scale.yaml").read_text())
    return {
        name: value if isinstance(value, dict) else {"status": value}
        for name, value in data["rules"].items()
    }


def _done(rule: str) -> bool:
    return _rules()[rule]["status"] == "done"


def test_every_rule_once_with_a_status() -> None:
    """All rules, each done, todo or exempt; exempt and todo say why."""
    rules = _rules()
    assert set(rules) == RULES
    for name, rule in rules.items():
        assert rule["status"] in {"done", "todo", "exempt"}, name
        if rule["status"] == "exempt":
            assert rule.get("comment"), f"{name}: exempt needs its reason"


def test_rule_list_covers_hassfest() -> None:
    """hassfest's own list (when ../shared is there) holds no rule we lack."""
    if not HASSFEST_RULES.is_file():
        pytest.skip("../shared/tools/hassfest is not beside this clone")
    names = set(re.findall(r'Rule\(\s*"([a-z-]+)"', HASSFEST_RULES.read_text()))
    assert names
    assert names <= RULES


def test_coverage_rules_are_gated() -> None:
    """test-coverage and config-flow-test-coverage are measured where CI runs them."""
    script = (ROOT / "scripts/test").read_text()
    report = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["coverage"]
    if _done("test-coverage"):
        assert "--cov" in script
        assert report["report"]["fail_under"] > 95
    if _done("config-flow-test-coverage"):
        assert re.search(r"--fail-under=100\b", script)
        assert "config_flow.py" in script
    assert "scripts/test" in (ROOT / ".ci/run").read_text()


def test_discovery_is_not_claimed_without_a_mechanism() -> None:
    """Done would need one of the discovery sources hassfest accepts."""
    manifest = (COMPONENT / "manifest.json").read_text()
    flow = (COMPONENT / "config_flow.py").read_text()
    sources = ("zeroconf", "dhcp", "ssdp", "usb", "bluetooth", "mqtt", "homekit")
    has_mechanism = any(
        f'"{s}"' in manifest or f"async_step_{s}" in flow for s in sources
    )
    assert _done("discovery") == has_mechanism


@pytest.mark.parametrize(
    ("path", "size"),
    [
        ("custom_components/energy_coordinator/brand/icon.png", (256, 256)),
        ("custom_components/energy_coordinator/brand/icon@2x.png", (512, 512)),
        ("mcp_addon/icon.png", (128, 128)),
    ],
)
def test_icons(path: str, size: tuple[int, int]) -> None:
    """Square PNG icons in the sizes HA, HACS and the add-on store show."""
    with Image.open(ROOT / path) as image:
        assert image.format == "PNG"
        assert image.size == size
        assert image.mode == "RGBA"


@pytest.mark.parametrize(
    ("path", "short_side"),
    [
        ("custom_components/energy_coordinator/brand/logo.png", range(128, 257)),
        ("custom_components/energy_coordinator/brand/logo@2x.png", range(256, 513)),
        ("mcp_addon/logo.png", range(90, 129)),
    ],
)
def test_logos(path: str, short_side: range) -> None:
    """Landscape PNG logos; the brands' rule for the short side."""
    with Image.open(ROOT / path) as image:
        assert image.format == "PNG"
        width, height = image.size
        assert width > height
        assert height in short_side
    assert _done("brands")
