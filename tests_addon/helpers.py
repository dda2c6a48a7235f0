"""Small helpers shared by the add-on tests."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

from mcp import Client
from mcp_types import CallToolResult, TextContent


def payload(result: CallToolResult) -> Any:
    """The JSON a tool returned."""
    assert result.content, result
    block = result.content[0]
    assert isinstance(block, TextContent), block
    return json.loads(block.text)


async def call(client: Client, name: str, **arguments: Any) -> tuple[Any, bool]:
    """Call a tool; (decoded content, is_error)."""
    result = await client.call_tool(name, arguments)
    return payload(result), result.is_error


async def ok(client: Client, name: str, **arguments: Any) -> Any:
    """Call a tool that must succeed."""
    content, is_error = await call(client, name, **arguments)
    assert not is_error, content
    return content


async def confirmed(client: Client, name: str, **arguments: Any) -> Any:
    """Call an acting tool, check the confirmation request, then confirm it."""
    request = await ok(client, name, **arguments)
    assert "confirmation_required" in request, request
    assert request["expires_in_s"] == 120
    return await ok(client, name, **arguments, confirm=request["confirm"])


async def eventually(
    check: Callable[[], Any], within: float = 10.0, every: float = 0.1
) -> Any:
    """Wait until `check()` is truthy; its value."""
    deadline = time.monotonic() + within
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met in {within} s")
        await asyncio.sleep(every)


async def eventually_async(
    check: Callable[[], Awaitable[Any]], within: float = 10.0, every: float = 0.2
) -> Any:
    """Wait until `await check()` is truthy; its value."""
    deadline = time.monotonic() + within
    while True:
        value = await check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met in {within} s")
        await asyncio.sleep(every)


@contextlib.asynccontextmanager
async def held[T](manager: AbstractAsyncContextManager[T]) -> AsyncIterator[T]:
    """Enter and exit `manager` in one task of its own.

    SDK clients hold anyio task groups, which must be exited by the task that
    entered them; pytest-asyncio sets a fixture up and tears it down in
    different tasks.
    """
    entered: asyncio.Future[T] = asyncio.get_running_loop().create_future()
    release = asyncio.Event()

    async def hold() -> None:
        try:
            async with manager as value:
                entered.set_result(value)
                await release.wait()
        except BaseException as err:
            if not entered.done():
                entered.set_exception(err)
            else:
                raise

    task = asyncio.create_task(hold())
    try:
        yield await entered
    finally:
        release.set()
        await task
