"""The add-on's parts, wired together once: `AddonContext`.

Owns `AddonContext`: the settings, the HA client, the inbound credentials, the
redactor, the audit log, the confirmation gate, the tool registry and the MCP
server, plus the background tasks started for it. Everything that serves a request
or runs a job (app, ingress, assistant_entry, diagnostics) takes a context; this
module imports none of them, so nothing imports in a circle.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

from mcp.server import Server

from .audit import AuditLog
from .config import Settings
from .ha_client import HAClient
from .security import ConfirmationGate, Credentials, RedactingFilter, Redactor
from .server import build_server
from .tools import ToolRegistry


@dataclass
class AddonContext:
    """Everything a request handler or a background job may need."""

    settings: Settings
    ha: HAClient
    credentials: Credentials
    redactor: Redactor
    audit: AuditLog
    gate: ConfirmationGate
    registry: ToolRegistry
    server: Server[Any]
    background: list[asyncio.Task[Any]] = field(default_factory=list)

    @classmethod
    def create(cls, settings: Settings, ha: HAClient | None = None) -> AddonContext:
        """Wire the parts for these settings (nothing is started yet)."""
        data_dir = settings.data_dir
        data_dir.mkdir(parents=True, exist_ok=True)
        credentials = Credentials(data_dir)
        redactor = Redactor([*settings.secrets(), *credentials.secrets()])
        credentials.on_rotate(
            lambda: redactor.add(credentials.secrets())  # old ones stay hidden too
        )
        ha = ha or HAClient(settings.ha_url, settings.ha_token)
        audit = AuditLog(data_dir, redactor)
        gate = ConfirmationGate()
        registry = ToolRegistry(
            ha, settings.options, gate=gate, audit=audit, redactor=redactor
        )
        server = build_server(registry, read_only=settings.options.read_only)
        return cls(settings, ha, credentials, redactor, audit, gate, registry, server)

    def install_log_redaction(self) -> None:
        """Every log record of every handler passes through the redactor."""
        flt = RedactingFilter(self.redactor)
        for handler in logging.getLogger().handlers:
            if not any(isinstance(f, RedactingFilter) for f in handler.filters):
                handler.addFilter(flt)

    @property
    def mcp_url(self) -> str:
        """Where MCP clients connect (`public_url` or derived from host/port)."""
        if self.settings.public_url:
            return self.settings.public_url.rstrip("/") + "/mcp"
        host = self.settings.host
        if host in ("0.0.0.0", "::", ""):
            host = "homeassistant.local"
        return f"http://{host}:{self.settings.port}/mcp"

    @property
    def secret_base(self) -> str:
        """The secret-path base URL (for clients that cannot send headers)."""
        return self.mcp_url.removesuffix("/mcp") + f"/{self.credentials.secret_path}"

    @property
    def secret_sse_url(self) -> str:
        """The URL to paste into Home Assistant's Model Context Protocol integration.

        HA's client speaks the HTTP+SSE transport and takes a URL only, no headers.
        """
        return f"{self.secret_base}/sse"
