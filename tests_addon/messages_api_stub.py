"""A local stand-in for the Claude Messages API, for the assistant's tests.

`MessagesAPIStub` is a real HTTP server on 127.0.0.1 that answers
`POST /v1/messages` in the Messages API's shape with replies a test scripts in
advance (text, tool use, an error), records every request body and header so a
test can check what the `anthropic` client sent (tools, cache_control, system,
tool results), and reports `usage` numbers the test chooses.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

Reply = dict[str, Any] | Callable[[dict[str, Any]], dict[str, Any]]

_ids = itertools.count(1)


def usage(
    input_tokens: int = 120,
    output_tokens: int = 30,
    cache_creation: int = 0,
    cache_read: int = 0,
) -> dict[str, int]:
    """A `usage` object."""
    return {
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "cache_creation_input_tokens": cache_creation,
        "cache_read_input_tokens": cache_read,
    }


def message(
    content: list[dict[str, Any]],
    stop_reason: str,
    tokens: dict[str, int] | None = None,
) -> dict[str, Any]:
    """A whole Messages API response."""
    return {
        "id": f"msg_stub_{next(_ids)}",
        "type": "message",
        "role": "assistant",
        "model": "stub",
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": tokens or usage(),
    }


def text_reply(text: str, tokens: dict[str, int] | None = None) -> dict[str, Any]:
    """Claude answers with text and ends its turn."""
    return message([{"type": "text", "text": text}], "end_turn", tokens)


def tool_use_reply(
    name: str,
    arguments: dict[str, Any],
    *,
    text: str | None = None,
    tokens: dict[str, int] | None = None,
) -> dict[str, Any]:
    """Claude calls one tool (optionally saying something first)."""
    content: list[dict[str, Any]] = []
    if text:
        content.append({"type": "text", "text": text})
    content.append(
        {
            "type": "tool_use",
            "id": f"toolu_stub_{next(_ids)}",
            "name": name,
            "input": arguments,
        }
    )
    return message(content, "tool_use", tokens)


@dataclass
class Request:
    """One request the stub received."""

    body: dict[str, Any]
    headers: dict[str, str]

    def tool_results(self) -> list[dict[str, Any]]:
        """The tool_result blocks of the last user message."""
        last = self.body["messages"][-1]
        content = last.get("content")
        if not isinstance(content, list):
            return []
        return [b for b in content if b.get("type") == "tool_result"]


@dataclass
class MessagesAPIStub:
    """The server; `script` holds the replies to give, in order."""

    script: list[Reply] = field(default_factory=list)
    requests: list[Request] = field(default_factory=list)
    _runner: web.AppRunner | None = None
    port: int = 0

    @property
    def base_url(self) -> str:
        """What the `anthropic` client gets as `base_url`."""
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        """Listen on a free port of 127.0.0.1."""
        app = web.Application()
        app.router.add_post("/v1/messages", self._messages)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]

    async def stop(self) -> None:
        """Close the server."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def reset(self, *replies: Reply) -> None:
        """Forget earlier requests; script these replies."""
        self.requests.clear()
        self.script[:] = list(replies)

    async def _messages(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.requests.append(
            Request(body, {k.lower(): v for k, v in request.headers.items()})
        )
        if not (
            request.headers.get("x-api-key")
            or request.headers.get("authorization", "").startswith("Bearer ")
        ):
            return _error(401, "authentication_error", "an API key is required")
        if not self.script:
            return _error(500, "api_error", "the test scripted no further reply")
        reply = self.script.pop(0)
        data = reply(body) if callable(reply) else reply
        if "error" in data and data.get("type") == "error":
            return web.json_response(data, status=int(data.get("status", 400)))
        return web.json_response(data)


def error_reply(status: int, kind: str, text: str) -> dict[str, Any]:
    """An API error (the client raises it)."""
    return {"type": "error", "status": status, "error": {"type": kind, "message": text}}


def _error(status: int, kind: str, text: str) -> web.Response:
    return web.json_response(
        {"type": "error", "error": {"type": kind, "message": text}}, status=status
    )


def tool_result_json(block: dict[str, Any]) -> Any:
    """The JSON inside a tool_result block's content."""
    content = block["content"]
    if isinstance(content, list):
        content = "".join(c.get("text", "") for c in content)
    return json.loads(content)
