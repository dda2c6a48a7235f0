"""Fixtures: one real Home Assistant stack for the session, add-on contexts on it.

`stack` starts `hass` with the integration and two simulated chargers (see
stack.py). `ctx` is the add-on wired to it (its own data directory, a started HA
client); `ro_ctx` the same in read-only mode. `http` / `ro_http` serve their MCP
and ingress ports on 127.0.0.1. `client` is an in-memory SDK client of `ctx`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from energy_coordinator_mcp.app import serve_http
from energy_coordinator_mcp.config import (
    DEFAULT_CONFIRM_DOMAINS,
    Options,
    Settings,
)
from energy_coordinator_mcp.context import AddonContext
from helpers import held
from mcp import Client
from stack import Stack, free_port, running_stack

TEST_OPTIONS = Options(
    confirm_domains=(*DEFAULT_CONFIRM_DOMAINS, "switch"),
    allowed_origins=("http://localhost:6274",),
    anthropic_api_key="sk-ant-test-0123456789abcdef",
)


@dataclass
class Http:
    """A running HTTP side of one add-on context."""

    ctx: AddonContext
    port: int
    ingress_port: int

    @property
    def base(self) -> str:
        """http://127.0.0.1:PORT."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def mcp_url(self) -> str:
        """The bearer-token endpoint."""
        return f"{self.base}/mcp"

    @property
    def secret_url(self) -> str:
        """The secret-path base."""
        return f"{self.base}/{self.ctx.credentials.secret_path}"

    @property
    def ingress(self) -> str:
        """The status page."""
        return f"http://127.0.0.1:{self.ingress_port}"


@pytest.fixture(scope="session")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    """Home Assistant, the integration and two simulated chargers."""
    async with running_stack(tmp_path_factory.mktemp("stack") / "ha") as running:
        yield running


async def _context(stack: Stack, data_dir: Path, options: Options) -> AddonContext:
    settings = Settings(
        options=options,
        ha_url=stack.url,
        ha_token=stack.token,
        data_dir=data_dir,
        host="127.0.0.1",
        port=free_port(),
        ingress_port=free_port(),
    )
    ctx = AddonContext.create(settings)
    await ctx.ha.start(wait=30)
    return ctx


@pytest.fixture(scope="session")
async def ctx(
    stack: Stack, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[AddonContext]:
    """The add-on on the real HA (full access, confirmation on)."""
    context = await _context(stack, tmp_path_factory.mktemp("data"), TEST_OPTIONS)
    yield context
    await context.ha.stop()


@pytest.fixture(scope="session")
async def ro_ctx(
    stack: Stack, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[AddonContext]:
    """The add-on in read-only mode."""
    options = Options(read_only=True)
    context = await _context(stack, tmp_path_factory.mktemp("ro-data"), options)
    yield context
    await context.ha.stop()


@contextlib.asynccontextmanager
async def _serving(context: AddonContext) -> AsyncIterator[Http]:
    stop = asyncio.Event()
    ready = asyncio.Event()

    async def started() -> None:
        ready.set()

    task = asyncio.create_task(serve_http(context, stop, started=started))
    waiter = asyncio.create_task(ready.wait())
    await asyncio.wait([task, waiter], return_when=asyncio.FIRST_COMPLETED)
    if task.done():
        waiter.cancel()
        task.result()
    try:
        yield Http(context, context.settings.port, context.settings.ingress_port)
    finally:
        stop.set()
        await asyncio.wait_for(task, 15)


@pytest.fixture(scope="session")
async def http(ctx: AddonContext) -> AsyncIterator[Http]:
    """The add-on's MCP and ingress ports on 127.0.0.1."""
    async with _serving(ctx) as serving:
        yield serving


@pytest.fixture(scope="session")
async def ro_http(ro_ctx: AddonContext) -> AsyncIterator[Http]:
    """The read-only add-on's ports."""
    async with _serving(ro_ctx) as serving:
        yield serving


@pytest.fixture
async def client(ctx: AddonContext) -> AsyncIterator[Client]:
    """An in-memory MCP client of the add-on's server (current protocol)."""
    async with held(Client(ctx.server)) as connected:
        yield connected
