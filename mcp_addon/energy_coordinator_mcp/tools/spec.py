"""What a tool is: its spec, its result, its handlers, and the schema vocabulary.

Owns `ToolSpec` (name, description, JSON schema, annotations), `ToolResult`,
`Planned` (an acting call resolved and described, run once confirmed), `Tool` (a
spec with its read or act handler), `ToolError`, and the helpers every input schema
is built from.

Input schemas stay inside the JSON Schema that Home Assistant's own `mcp`
integration converts (`voluptuous_openapi.convert_to_voluptuous`, 0.0.6 in HA 2025.4
and every release since): `type` (one name, never a list), `properties`,
`required`, `enum`, `minimum`/`maximum`, `items`, `additionalProperties: true` and
`oneOf` for alternatives. Never `anyOf`, `allOf`, `minItems`, `maxItems`,
`uniqueItems`, `multipleOf`, `$ref` or `not` outside `number()`: one tool that does
not convert and HA offers no tools at all. Whatever such a keyword would say, the
tool checks itself and answers with a `ToolError` the model can read.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

#: Largest page any tool returns.
MAX_PAGE = 200


class ToolError(Exception):
    """A tool cannot do what was asked; the message is for the model to read."""


@dataclass(frozen=True, slots=True)
class ToolSpec:
    """A tool as clients see it."""

    name: str
    description: str
    input_schema: dict[str, Any]
    annotations: dict[str, Any]

    @property
    def read_only(self) -> bool:
        """Whether the tool only reads."""
        return bool(self.annotations.get("readOnlyHint"))


@dataclass(slots=True)
class ToolResult:
    """What a call returns: JSON-able content, an error flag, a pending confirmation."""

    content: Any
    is_error: bool = False
    confirmation: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Planned:
    """An acting call, resolved and described, ready to run once confirmed."""

    summary: str | None  # None: nothing consequential, run without a code
    run: Callable[[], Awaitable[Any]]


ReadHandler = Callable[[dict[str, Any]], Awaitable[Any]]
ActHandler = Callable[[dict[str, Any]], Awaitable[Planned]]


@dataclass(frozen=True, slots=True)
class Tool:
    """A spec and the handler that runs it (`read` for reads, `act` for actions)."""

    spec: ToolSpec
    read: ReadHandler | None = None
    act: ActHandler | None = None


# Schema vocabulary ---------------------------------------------------------------


def schema(
    properties: dict[str, Any] | None = None, required: tuple[str, ...] = ()
) -> dict[str, Any]:
    """An object schema (the shape of every tool's arguments)."""
    out: dict[str, Any] = {"type": "object", "properties": properties or {}}
    if required:
        out["required"] = list(required)
    return out


def string(description: str | None = None, **extra: Any) -> dict[str, Any]:
    """A string property."""
    out: dict[str, Any] = {"type": "string", **extra}
    if description:
        out["description"] = description
    return out


def integer(description: str | None = None, **extra: Any) -> dict[str, Any]:
    """An integer property."""
    out: dict[str, Any] = {"type": "integer", **extra}
    if description:
        out["description"] = description
    return out


def number(**bounds: float) -> dict[str, Any]:
    """A number that may come as an integer (`80`) or with a fraction (`7.5`).

    HA's converter turns `"type": "number"` into Python's `float`, which refuses
    `80`; so a number is "an integer, or a number that is not one" (`oneOf`,
    exactly one branch matches any number).
    """
    return {
        "oneOf": [
            {"type": "integer", **bounds},
            {"type": "number", **bounds, "not": {"type": "integer"}},
        ]
    }


def strings() -> dict[str, Any]:
    """One string or a list of them (entity, device or area ids)."""
    return {"oneOf": [{"type": "string"}, {"type": "array", "items": string()}]}


#: The gate's code, as a string or a number (models and the Inspector send either).
CONFIRM = {"confirm": {"oneOf": [{"type": "string"}, {"type": "integer"}]}}
PAGE = {"limit": integer(minimum=1), "offset": integer(minimum=0)}
CHARGER = string()
CONNECTOR = integer(minimum=1)
LOADPOINT = string("charger/connector or charger id")
BOOLEAN = {"type": "boolean"}

READ = {"readOnlyHint": True, "destructiveHint": False}
#: MCP's default for a tool that is not read-only is destructive: left implicit.
ACT = {"readOnlyHint": False}


def page(items: list[Any], args: Mapping[str, Any], default: int) -> dict[str, Any]:
    """One page of `items` after the `limit`/`offset` arguments."""
    limit = min(int(args.get("limit") or default), MAX_PAGE)
    offset = int(args.get("offset") or 0)
    return {
        "total": len(items),
        "offset": offset,
        "items": items[offset : offset + limit],
    }


def id_list(value: Any) -> list[str]:
    """A `strings()` argument as a list (empty when not given)."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value]
