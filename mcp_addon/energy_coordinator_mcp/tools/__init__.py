"""The tools: one implementation for MCP clients and the in-process assistant.

A package with one job per module:
- `spec`: what a tool is (spec, result, handlers) and the schema vocabulary that
  Home Assistant's own MCP client can convert;
- `registry`: `ToolRegistry`, the one way in (validation, read-only mode, the
  confirmation gate, redaction, the audit log);
- `access`: what the tools may see of HA, and what belongs to the integration;
- `site`: the energy site's read tools; `charging`: acting on chargers and EVs;
- `home`: entities, states, history and `call_service`; `targets`: what a
  `call_service` call would reach;
- `values`: reading times, mode names and confirmation codes.

Every acting tool goes through the integration's own actions (or the loadpoint's
select/number/datetime entities), so no coordinator logic is duplicated here.
"""

from .registry import ToolRegistry
from .spec import Planned, ToolError, ToolResult, ToolSpec

__all__ = ["Planned", "ToolError", "ToolRegistry", "ToolResult", "ToolSpec"]
