"""The documentation says what the code does: no option, entity, action or repair
issue missing, no generated table stale, no link or demo flag that does not exist.

The tables in docs/ come from `scripts/docs_tables.py`; when one of these tests
fails after a change, run `.venv/bin/python scripts/docs_tables.py` and write the
prose around what changed. Pure file and import checks (no hass).
"""

from __future__ import annotations

import inspect
import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from homeassistant.helpers.entity import EntityDescription

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

import docs_tables  # noqa: E402

COMPONENT = ROOT / "custom_components" / "energy_coordinator"
DOCS = ROOT / "docs"
STRINGS: dict[str, Any] = json.loads(
    (COMPONENT / "strings.json").read_text(encoding="utf-8")
)
PLATFORM_MODULES = (
    "binary_sensor",
    "button",
    "datetime",
    "number",
    "plan_sensor",
    "select",
    "sensor",
    "site_number",
    "site_sensor",
    "switch",
)


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """Override the package's autouse fixture: these tests need no hass."""


def _doc(name: str) -> str:
    return (DOCS / name).read_text(encoding="utf-8")


def test_generated_tables_are_current() -> None:
    """Every generated block in docs/ is what the code says now."""
    stale = docs_tables.stale()
    assert not stale, (
        "stale documentation tables: "
        + ", ".join(f"{path.name} ({name})" for name, (path, _, _) in stale.items())
        + "; run .venv/bin/python scripts/docs_tables.py"
    )


def _flow_steps() -> list[tuple[str, str, dict[str, Any]]]:
    steps = [("config", step, text) for step, text in STRINGS["config"]["step"].items()]
    steps += [
        ("options", step, text) for step, text in STRINGS["options"]["step"].items()
    ]
    for kind, subentry in STRINGS["config_subentries"].items():
        steps += [(kind, step, text) for step, text in subentry["step"].items()]
    return steps


def test_every_option_is_documented() -> None:
    """Each field of every form is in docs/configuration.md with its label."""
    text = _doc("configuration.md")
    missing = [
        f"{flow}.{step}.{key}"
        for flow, step, strings in _flow_steps()
        for key, label in strings.get("data", {}).items()
        if f"`{key}`" not in text or label not in text
    ]
    assert not missing, f"not in docs/configuration.md: {missing}"


@pytest.mark.parametrize(
    ("flow", "step"),
    [(flow, step) for flow, step, strings in _flow_steps() if strings.get("data")],
)
def test_every_form_is_read_from_its_schema(flow: str, step: str) -> None:
    """The generator reads each form's real schema (so defaults and units are real):
    a new step or field that it cannot show fails here."""
    from custom_components.energy_coordinator.config_flow import (
        EnergyCoordinatorConfigFlow,
        EnergyCoordinatorOptionsFlow,
        FlexibleLoadFlow,
    )

    if step == "planning_sources":
        schema = docs_tables._planning_sources_form()
    else:
        cls = {
            "config": EnergyCoordinatorConfigFlow,
            "options": EnergyCoordinatorOptionsFlow,
        }.get(flow, FlexibleLoadFlow)
        schema = docs_tables._form(cls, step)
    assert schema is not None
    fields = {str(marker.schema) for marker in schema.schema}
    labels = next(
        text["data"] for f, s, text in _flow_steps() if (f, s) == (flow, step)
    )
    assert fields == set(labels)


def _descriptions() -> list[tuple[str, EntityDescription]]:
    """Every entity description the platform modules define (module level)."""
    import importlib

    found: dict[int, tuple[str, EntityDescription]] = {}
    for name in PLATFORM_MODULES:
        module = importlib.import_module(f"custom_components.energy_coordinator.{name}")
        for _, value in inspect.getmembers(module):
            items = value if isinstance(value, tuple) else (value,)
            for item in items:
                if isinstance(item, EntityDescription):
                    found[id(item)] = (name, item)
    return list(found.values())


def test_every_entity_description_is_documented() -> None:
    """No entity description of the integration is left out of docs/entities.md."""
    documented = {
        id(d) for group in docs_tables.entity_groups() for d in group.descriptions
    }
    missing = [
        f"{module}.{d.key}" for module, d in _descriptions() if id(d) not in documented
    ]
    assert not missing, f"add to scripts/docs_tables.py entity_groups(): {missing}"


def test_every_entity_name_is_documented() -> None:
    """Each entity translation of strings.json is a row of docs/entities.md."""
    text = _doc("entities.md")
    missing = [
        f"{platform}.{key}"
        for platform, entities in STRINGS["entity"].items()
        for key, strings in entities.items()
        if f"| {strings['name']} | {platform} |" not in text
    ]
    assert not missing, f"not in docs/entities.md: {missing}"


def test_disabled_entities_are_marked() -> None:
    """An entity that starts disabled says so in its row."""
    text = _doc("entities.md")
    for group in docs_tables.entity_groups():
        for d in group.descriptions:
            if d.entity_registry_enabled_default:
                continue
            section = text.partition(f"### {group.device}\n")[2].partition("\n### ")[0]
            row = next(
                line
                for line in section.splitlines()
                if f"| {group.platform} | `{d.key}` |" in line
            )
            assert "| **no** |" in row, row


def test_every_action_is_documented() -> None:
    """Each action and each of its fields, with who may call it, is in actions.md."""
    text = _doc("actions.md")
    services = yaml.safe_load((COMPONENT / "services.yaml").read_text("utf-8"))
    assert set(services) == set(STRINGS["services"])
    registered = docs_tables.registered_actions()
    assert set(registered) == set(services), "registered actions vs services.yaml"
    missing = []
    for service, spec in services.items():
        section = text.partition(f"### `{service}`\n")[2].partition("\n### ")[0]
        if not section:
            missing.append(service)
            continue
        missing += [
            f"{service}.{field}"
            for field in (spec or {}).get("fields", {})
            if f"`{field}`" not in section
        ]
        support, admin = registered[service]
        if admin != ("Administrators only." in section):
            missing.append(f"{service}: who may call it")
        if support != "none" and "Returns response data" not in section:
            missing.append(f"{service}: its response")
        if (
            support != "none"
            and f"**`{service}`" not in text.partition("## Responses")[2]
        ):
            missing.append(f"{service}: its response shape")
    assert not missing, f"not in docs/actions.md: {missing}"


def test_every_repair_issue_is_documented() -> None:
    """Each repair issue the integration can raise is in troubleshooting.md."""
    text = _doc("troubleshooting.md")
    missing = [key for key in STRINGS["issues"] if f"`{key}`" not in text]
    assert not missing, f"not in docs/troubleshooting.md: {missing}"


def _slug(heading: str) -> str:
    """GitHub's anchor of a heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def _anchors(text: str) -> set[str]:
    anchors: set[str] = set()
    seen: dict[str, int] = {}
    for line in text.splitlines():
        if match := re.match(r"#{1,6} (.+)", line):
            slug = _slug(match.group(1))
            count = seen.get(slug, 0)
            seen[slug] = count + 1
            anchors.add(slug if count == 0 else f"{slug}-{count}")
    anchors |= set(re.findall(r'<a id="([^"]+)"', text))
    return anchors


DOC_FILES = [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]


@pytest.mark.parametrize("path", DOC_FILES, ids=lambda p: p.name)
def test_links_resolve(path: Path) -> None:
    """Every relative link goes to a file (and a heading) that exists.

    Screenshots are checked once docs/screenshots/ exists (the browser tests make
    them).
    """
    text = path.read_text(encoding="utf-8")
    broken = []
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"[a-z]+:", target):
            continue
        file_part, _, anchor = target.partition("#")
        linked = (path.parent / file_part).resolve() if file_part else path
        if "screenshots/" in file_part and not (DOCS / "screenshots").exists():
            continue
        if not linked.exists() or (
            anchor
            and linked.suffix == ".md"
            and anchor not in _anchors(linked.read_text(encoding="utf-8"))
        ):
            broken.append(target)
    assert not broken, f"{path.name}: broken links {broken}"


def test_readme_quick_start_matches_the_demo() -> None:
    """The README names every flag of scripts/demo and every field of demo.json."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    cli = (ROOT / "scripts" / "demo_cli.py").read_text(encoding="utf-8")
    flags = re.findall(r'add_argument\(\s*"(--[a-z-]+)"', cli)
    assert flags
    assert [f for f in flags if f"`{f}" not in readme] == []
    demo = (ROOT / "scripts" / "demo.py").read_text(encoding="utf-8")
    blocks = re.findall(r"info(?:: dict\[str, Any\])? \|?= \{(.*?)\n\s*\}", demo, re.S)
    keys = {k for block in blocks for k in re.findall(r'^\s*"(\w+)":', block, re.M)}
    assert {"ha_url", "mcp_url", "mcp_token", "mcp_secret_url"} <= keys
    assert sorted(k for k in keys if f"`{k}`" not in readme) == []


def test_readme_links_the_reference() -> None:
    """README links every page of docs/ and the benchmarks."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    pages = [p.name for p in DOCS.glob("*.md")]
    assert [p for p in pages if f"(docs/{p})" not in readme] == []
    assert "(bench/README.md)" in readme


def test_done_docs_rules_name_pages_that_exist() -> None:
    """quality_scale.yaml's done docs-* rules name the pages that make them true."""
    rules = yaml.safe_load((COMPONENT / "quality_scale.yaml").read_text("utf-8"))
    wrong = []
    for name, rule in rules["rules"].items():
        if not name.startswith("docs-") or not isinstance(rule, dict):
            continue
        if rule.get("status") != "done":
            continue
        pages = re.findall(r"((?:docs/)?[\w-]+\.md)(?:#([\w-]+))?", rule["comment"])
        if not pages:
            wrong.append(f"{name}: names no page")
        for page, anchor in pages:
            path = ROOT / page
            if not path.exists():
                wrong.append(f"{name}: {page} does not exist")
            elif anchor and anchor not in _anchors(path.read_text(encoding="utf-8")):
                wrong.append(f"{name}: {page}#{anchor} does not exist")
    assert not wrong, wrong
