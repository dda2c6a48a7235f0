"""Every tool's input schema, through Home Assistant's own schema converter.

HA's `mcp` integration turns each tool's `inputSchema` into a voluptuous schema with
`voluptuous_openapi.convert_to_voluptuous`; one tool that does not convert and the
owner gets no tools at all. Checked with the converter of HA 2025.4 (0.0.6, the
oldest HA we support) and with the newest release, each installed into a folder of
its own by scripts/_python.sh (`.venv-addon/converters/<name>`) and run in a child
process (ha_schema_check.py):
- every schema converts, and converts back (what HA's conversation agents send);
- the converted schema takes every kind of argument the tool takes (each property,
  each alternative: an integer and a fraction for a number, a string and a number
  for a confirmation code, one id or a list) and hands it on unchanged;
- it refuses unknown arguments, as the tool does.
What JSON Schema keywords HA cannot take (`minItems`, ...) the tools check
themselves: see test_tools.py (`get_states` with no ids is a tool error).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from energy_coordinator_mcp.audit import AuditLog
from energy_coordinator_mcp.config import Options
from energy_coordinator_mcp.ha_client import HAClient
from energy_coordinator_mcp.security import ConfirmationGate, Redactor
from energy_coordinator_mcp.tools import ToolRegistry
from stack import ROOT

CONVERTERS = ROOT / ".venv-addon" / "converters"
CHECK = Path(__file__).with_name("ha_schema_check.py")
#: What each converter folder must hold (tests_addon/converters/<name>.txt).
EXPECTED = {"ha-2025.4": "0.0.6", "newest": None}


def samples(prop: dict[str, Any]) -> list[Any]:
    """One value of every kind a property takes."""
    if "oneOf" in prop:
        return [value for branch in prop["oneOf"] for value in samples(branch)]
    if "enum" in prop:
        return list(prop["enum"])
    kind = prop["type"]
    low = prop.get("minimum", prop.get("exclusiveMinimum", 0))
    high = prop.get("maximum")
    if kind == "integer":
        first = int(low) + (1 if "exclusiveMinimum" in prop else 0)
        return [first] if high is None else [first, int(high)]
    if kind == "number":  # the branch for fractions
        return [low + 0.5]
    if kind == "string":
        return ["x"]
    if kind == "boolean":
        return [True, False]
    if kind == "array":
        return [[samples(prop["items"])[0]], []]
    if kind == "object":
        return [{"brightness_pct": 40, "color_name": "red", "nested": {"a": [1]}}]
    raise AssertionError(f"no samples for {prop}")


def examples(schema: dict[str, Any]) -> list[dict[str, Any]]:
    """Arguments the tool takes: the required ones, then each property's kinds."""
    properties: dict[str, Any] = schema["properties"]
    base = {key: samples(properties[key])[0] for key in schema.get("required", [])}
    out = [base]
    for key, prop in properties.items():
        out += [base | {key: value} for value in samples(prop)]
    return out


def registry(tmp_path: Path) -> ToolRegistry:
    """The add-on's registry (nothing is connected: only its specs are read)."""
    redactor = Redactor()
    return ToolRegistry(
        HAClient("http://127.0.0.1:9", "unused"),
        Options(),
        gate=ConfirmationGate(),
        audit=AuditLog(tmp_path, redactor),
        redactor=redactor,
    )


def tool_cases(tmp_path: Path) -> list[dict[str, Any]]:
    """Every tool with its schema, what it takes and what it refuses."""
    cases = []
    for spec in registry(tmp_path).specs(read_only=False):
        taken = examples(spec.input_schema)
        validator = jsonschema.Draft202012Validator(spec.input_schema)
        for example in taken:  # the tool itself takes them (else a test bug)
            assert not list(validator.iter_errors(example)), (spec.name, example)
        cases.append(
            {
                "name": spec.name,
                "schema": spec.input_schema,
                "examples": taken,
                "refused": [taken[0] | {"no_such_argument": 1}],
            }
        )
    return cases


def test_every_tool_has_cases(tmp_path: Path) -> None:
    """All 15 tools, each with an example per property kind."""
    cases = tool_cases(tmp_path)
    assert len(cases) == 15
    call_service = next(c for c in cases if c["name"] == "call_service")
    confirms = [e["confirm"] for e in call_service["examples"] if "confirm" in e]
    assert {type(c) for c in confirms} == {str, int}
    entity_ids = [e["entity_id"] for e in call_service["examples"] if "entity_id" in e]
    assert {type(e) for e in entity_ids} == {str, list}
    limits = next(c for c in cases if c["name"] == "set_current_limit")["examples"]
    assert {type(e["limit"]) for e in limits} == {int, float}


@pytest.mark.parametrize("converter", sorted(EXPECTED))
def test_every_schema_converts_in_home_assistant(
    converter: str, tmp_path: Path
) -> None:
    folder = CONVERTERS / converter
    assert (folder / "voluptuous_openapi").is_dir(), (
        f"{folder} missing: scripts/_python.sh (ensure_addon_venv) installs it"
    )
    request = json.dumps({"tools": tool_cases(tmp_path)})
    done = subprocess.run(
        [sys.executable, "-I", str(CHECK), str(folder)],
        input=request,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    if EXPECTED[converter] is not None:
        assert report["voluptuous_openapi"] == EXPECTED[converter]
    print(f"voluptuous-openapi {report['voluptuous_openapi']}")
    problems = {name: found for name, found in report["problems"].items() if found}
    assert not problems, json.dumps(problems, indent=2)
