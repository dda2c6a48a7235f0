"""The tool registry: one way in for every tool call, from any client.

Owns `ToolRegistry`, which lists the tools (hiding acting ones in read-only mode),
validates a call's arguments against the tool's schema (unknown arguments refused),
refuses acting tools in read-only mode, puts consequential calls behind the
confirmation gate (a one-time code valid two minutes, given back as a string or a
number), runs the tool, removes secrets from the result and writes one audit line
per call. A bad call is a `ToolResult` with `is_error` and a message the model can
read; a bug in a tool is the same for the model and a logged traceback for the
owner. Also the entity and area reads the MCP resources use.
"""

from __future__ import annotations

import logging
from typing import Any

import jsonschema

from energy_coordinator_mcp.audit import AuditLog, Timer
from energy_coordinator_mcp.charger_index import ChargerIndex, SiteError
from energy_coordinator_mcp.config import Options
from energy_coordinator_mcp.ha_client import HAClient, HAError
from energy_coordinator_mcp.home_view import lean_state, value_text
from energy_coordinator_mcp.security import CONFIRMATION_TTL, ConfirmationGate, Redactor

from .access import HomeAccess
from .charging import ChargingTools
from .home import HomeTools
from .site import SiteTools
from .spec import Tool, ToolError, ToolResult, ToolSpec
from .values import confirmation_code

_LOGGER = logging.getLogger(__name__)


class ToolRegistry:
    """The add-on's tools, their gate and their audit log."""

    def __init__(
        self,
        ha: HAClient,
        options: Options,
        *,
        gate: ConfirmationGate,
        audit: AuditLog,
        redactor: Redactor,
    ) -> None:
        """Bind the tools to HA, the owner's options, the gate and the audit log."""
        self.ha = ha
        self.options = options
        self.gate = gate
        self.audit = audit
        self.redactor = redactor
        self.access = HomeAccess(ha, options, redactor)
        self._tools: dict[str, Tool] = {
            tool.spec.name: tool
            for area in (
                SiteTools(self.access),
                ChargingTools(self.access),
                HomeTools(self.access),
            )
            for tool in area.tools()
        }

    @property
    def index(self) -> ChargerIndex:
        """The integration's chargers and loadpoints."""
        return self.access.index

    # Public interface ---------------------------------------------------------

    def specs(self, read_only: bool) -> list[ToolSpec]:
        """The tools a client may see, in a fixed order (acting ones hidden if RO)."""
        return [
            t.spec
            for t in self._tools.values()
            if not (read_only or self.options.read_only) or t.spec.read_only
        ]

    def spec(self, name: str) -> ToolSpec | None:
        """One tool's spec."""
        tool = self._tools.get(name)
        return tool.spec if tool else None

    async def call(
        self, name: str, arguments: dict[str, Any], caller: str
    ) -> ToolResult:
        """Run one tool call through validation, the gate and the audit log."""
        timer = Timer()
        arguments = dict(arguments or {})
        outcome = "ok"
        try:
            result = await self._call(name, arguments, caller)
        except (ToolError, SiteError, HAError) as err:
            result = ToolResult({"error": self.redactor.text(str(err))}, is_error=True)
        except Exception as err:  # a bug must not take the server down
            _LOGGER.exception("Tool %s failed (called by %s)", name, caller)
            result = ToolResult(
                {
                    "error": f"internal error in {name}: {type(err).__name__}; "
                    "nothing more is known here (the add-on's log has the details)"
                },
                is_error=True,
            )
        if result.is_error:
            outcome = "error"
        elif result.confirmation is not None:
            outcome = "confirmation_required"
        result.content = self.redactor.data(result.content)
        self.audit.record(
            caller=caller,
            tool=name,
            arguments=arguments,
            outcome=outcome,
            result=result.content,
            duration_s=timer.elapsed(),
        )
        return result

    async def read(self, name: str, arguments: dict[str, Any]) -> Any:
        """Run a read-only tool without the audit log (resources use this)."""
        tool = self._tools.get(name)
        if tool is None or tool.read is None:
            raise ToolError(f"{name!r} is not a read tool")
        return self.redactor.data(await tool.read(dict(arguments)))

    async def area_states(self, area: str) -> Any:
        """The visible entities of one area (by id or name), lean."""
        wanted = area.strip().lower()
        area_ids = {
            area_id
            for area_id, entry in self.ha.areas.items()
            if wanted in (area_id.lower(), str(entry.get("name") or "").lower())
        }
        if not area_ids:
            known = ", ".join(sorted(self.ha.areas)) or "none"
            raise ToolError(f"unknown area {area!r}; areas: {known}")
        states = [
            s
            for s in await self.access.visible_states()
            if self.ha.area_of(s.entity_id) in area_ids
        ]
        states.sort(key=lambda s: s.entity_id)
        return {
            "area": self.ha.area_name(next(iter(sorted(area_ids)))),
            "entities": [
                {"id": s.entity_id, "name": s.name, "state": value_text(s)}
                for s in states
            ],
        }

    async def entity(self, entity_id: str) -> Any:
        """One visible entity with all its (redacted) attributes."""
        state = await self.access.visible(entity_id)
        return lean_state(self.ha, state, self.access.zone, self.redactor, ["*"])

    # The pipeline -------------------------------------------------------------

    def _validate(self, spec: ToolSpec, arguments: dict[str, Any]) -> None:
        schema = spec.input_schema
        unknown = set(arguments) - set(schema.get("properties", {}))
        if unknown:
            raise ToolError(f"unknown argument(s): {', '.join(sorted(unknown))}")
        error = jsonschema.exceptions.best_match(
            jsonschema.Draft202012Validator(schema).iter_errors(arguments)
        )
        if error is not None:
            where = ".".join(str(p) for p in error.absolute_path) or "arguments"
            raise ToolError(f"invalid {where}: {error.message}")

    async def _call(
        self, name: str, arguments: dict[str, Any], caller: str
    ) -> ToolResult:
        tool = self._tools.get(name)
        if tool is None:
            raise ToolError(f"unknown tool {name!r}")
        self._validate(tool.spec, arguments)
        if tool.read is not None:
            return ToolResult(await tool.read(arguments))
        assert tool.act is not None
        if self.options.read_only:
            raise ToolError(
                f"{name} is disabled: the add-on runs in read-only mode "
                "(change the read_only option to allow actions)"
            )
        planned = await tool.act(arguments)
        if planned.summary is not None:
            code = arguments.get("confirm")
            if code is None or code == "":
                return self._ask(caller, name, arguments, planned.summary)
            problem = self.gate.redeem(caller, name, arguments, confirmation_code(code))
            if problem is not None:
                raise ToolError(problem)
        return ToolResult(await planned.run())

    def _ask(
        self, caller: str, name: str, arguments: dict[str, Any], summary: str
    ) -> ToolResult:
        pending = self.gate.request(caller, name, arguments, summary)
        confirmation = {
            "tool": name,
            "arguments": {k: v for k, v in arguments.items() if k != "confirm"},
            "summary": summary,
            "code": pending.code,
            "expires_in_s": int(CONFIRMATION_TTL),
        }
        return ToolResult(
            {
                "confirmation_required": summary,
                "confirm": pending.code,
                "expires_in_s": int(CONFIRMATION_TTL),
                "next": (
                    "Ask the user. Only if they agree, call "
                    f"{name} again with the same arguments and "
                    f'confirm="{pending.code}".'
                ),
            },
            confirmation=confirmation,
        )
