"""Run by test_ha_schemas.py in a child process whose path holds one converter.

Reads `{"tools": [{"name", "schema", "examples"}]}` as JSON on stdin; for each tool
converts the schema the way Home Assistant's `mcp` integration does
(`voluptuous_openapi.convert_to_voluptuous`), converts the result back the way HA's
conversation agents hand tools to a model (`voluptuous_openapi.convert`), and
validates every example with the converted schema, as newer HA does before it calls
a tool (`tool.parameters(tool_args)`). Prints one JSON object: the converter's
version and, per tool, what failed. Needs only the standard library and the
converter folder given as the first argument.
"""

from __future__ import annotations

import json
import sys
from importlib.metadata import version

sys.path.insert(0, sys.argv[1])

import voluptuous as vol
from voluptuous_openapi import convert, convert_to_voluptuous


def check(tool: dict) -> list[str]:
    """What went wrong with one tool (nothing: it works in HA)."""
    try:
        parameters = convert_to_voluptuous(tool["schema"])
    except Exception as err:
        return [f"does not convert: {type(err).__name__}: {err}"]
    problems = []
    try:
        convert(parameters)
    except Exception as err:
        problems.append(f"does not convert back: {type(err).__name__}: {err}")
    for example in tool["examples"]:
        try:
            validated = parameters(example)
        except vol.Invalid as err:
            problems.append(f"refuses {json.dumps(example)}: {err}")
            continue
        if validated != example:
            problems.append(
                f"changes {json.dumps(example)} into {json.dumps(validated)}"
            )
    for example in tool["refused"]:
        try:
            parameters(example)
        except vol.Invalid:
            continue
        problems.append(f"accepts unknown arguments {json.dumps(example)}")
    return problems


def main() -> None:
    """Check every tool; print the report."""
    request = json.load(sys.stdin)
    report = {
        "voluptuous_openapi": version("voluptuous-openapi"),
        "problems": {tool["name"]: check(tool) for tool in request["tools"]},
    }
    json.dump(report, sys.stdout)


if __name__ == "__main__":
    main()
