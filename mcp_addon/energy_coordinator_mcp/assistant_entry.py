"""Where the assistant meets the running add-on: `/api/ask`, `ask`, the daily job.

Owns the hooks `app.py` and `__main__.py` look for (`app.assistant_hooks()`):
`routes(ctx)` adds `POST /api/ask` (a question, or a confirmation
code the person sends back) and `GET /api/assistant` to the ingress server;
`run_background(ctx)` runs the daily charger diagnostics; `ask_cli(settings, args)`
is `python -m energy_coordinator_mcp ask "…"`. The CLI hands the question to the
running add-on's ingress port when there is one (so a confirmation code it prints
can be redeemed later with `ask --confirm CODE`), else it answers in-process and, on
a terminal, asks the person for the code.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import sys
from typing import Any

import aiohttp
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from .assistant import DISABLED_MESSAGE, AskResult, Assistant
from .config import Settings
from .context import AddonContext
from .diagnostics_job import DiagnosticsJob

_LOGGER = logging.getLogger(__name__)

#: Longest question `/api/ask` takes, in characters.
MAX_QUESTION_CHARS = 4000
#: HTTP status of each outcome.
HTTP_STATUS = {
    "answered": 200,
    "confirmation_required": 200,
    "done": 200,
    "budget_exhausted": 429,
    "disabled": 503,
    "max_turns": 200,
    "error": 502,
}
#: `ask` exit codes.
EXIT_OK = 0
EXIT_FAILED = 1
EXIT_CONFIRMATION = 3

_assistants: dict[int, Assistant] = {}


def assistant_for(ctx: AddonContext) -> Assistant:
    """The add-on's one assistant (created on first use)."""
    found = _assistants.get(id(ctx))
    if found is None or found.registry is not ctx.registry:
        found = Assistant(ctx.registry, ctx.settings.options, ctx.settings.data_dir)
        _assistants[id(ctx)] = found
    return found


def install(ctx: AddonContext, assistant: Assistant) -> None:
    """Use this assistant for the context (another API host, a test's budget)."""
    _assistants[id(ctx)] = assistant


async def release(ctx: AddonContext) -> None:
    """Forget the context's assistant and close its HTTP client."""
    found = _assistants.pop(id(ctx), None)
    if found is not None:
        await found.aclose()


# Ingress routes -----------------------------------------------------------------


def _json(result: AskResult) -> Response:
    return JSONResponse(result.as_dict(), status_code=HTTP_STATUS[result.status])


def _bad(message: str) -> Response:
    return JSONResponse({"status": "error", "answer": message}, status_code=400)


def routes(ctx: AddonContext) -> list[BaseRoute]:
    """`POST /api/ask` and `GET /api/assistant` on the ingress server."""

    async def ask(request: Request) -> Response:
        try:
            body: Any = await request.json()
        except ValueError:
            return _bad('send JSON: {"question": "…"} or {"confirm": "<code>"}')
        if not isinstance(body, dict):
            return _bad('send a JSON object: {"question": "…"}')
        assistant = assistant_for(ctx)
        if not assistant.enabled:
            return JSONResponse(
                {"status": "disabled", "answer": DISABLED_MESSAGE}, status_code=503
            )
        code = body.get("confirm")
        if code is not None:
            return _json(await assistant.confirm(str(code)))
        question = body.get("question")
        if not isinstance(question, str) or not question.strip():
            return _bad('"question" must be a non-empty string')
        if len(question) > MAX_QUESTION_CHARS:
            return _bad(f"the question is longer than {MAX_QUESTION_CHARS} characters")
        language = str(body.get("language") or "en")
        return _json(
            await assistant.ask(question, language=language, caller="assistant:api")
        )

    async def status(request: Request) -> Response:
        return JSONResponse(assistant_for(ctx).status())

    return [
        Route("/api/ask", ask, methods=["POST"]),
        Route("/api/assistant", status, methods=["GET"]),
    ]


# Background job -----------------------------------------------------------------


async def run_background(ctx: AddonContext) -> None:
    """The daily charger diagnostics, for as long as the add-on runs."""
    assistant = assistant_for(ctx)
    job = DiagnosticsJob(assistant)
    try:
        job.start()  # logs why when disabled (no API key)
        await asyncio.Event().wait()  # until the add-on stops
    finally:
        await job.stop()
        await release(ctx)


# Command line -------------------------------------------------------------------


def _print_result(result: dict[str, Any]) -> int:
    status = str(result.get("status"))
    print(str(result.get("answer") or "").strip())
    for confirmation in result.get("confirmations") or []:
        print(
            f"\nTo carry it out: python -m energy_coordinator_mcp ask --confirm "
            f"{confirmation.get('code')} -"
        )
    usage = result.get("usage") or {}
    budget = result.get("budget") or {}
    if usage and any(usage.values()):
        print(
            f"\n[{sum(int(v) for v in usage.values())} tokens; "
            f"{budget.get('used')} of {budget.get('limit')} used today]",
            file=sys.stderr,
        )
    if status == "confirmation_required":
        return EXIT_CONFIRMATION
    return EXIT_OK if status in ("answered", "done") else EXIT_FAILED


async def _via_addon(settings: Settings, body: dict[str, Any]) -> dict[str, Any] | None:
    """Send the request to the running add-on's ingress port; None if none runs."""
    if not settings.ingress_port:
        return None
    url = f"http://127.0.0.1:{settings.ingress_port}/api/ask"
    timeout = aiohttp.ClientTimeout(total=300, connect=2)
    try:
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.post(url, json=body) as resp,
        ):
            data = await resp.json(content_type=None)
    except (aiohttp.ClientError, TimeoutError, ValueError):
        return None
    return data if isinstance(data, dict) and "status" in data else None


def _read_code() -> str:
    try:
        return input("Type the code to carry it out (Enter cancels): ").strip()
    except EOFError:
        return ""


async def _in_process(settings: Settings, question: str) -> int:
    ctx = AddonContext.create(settings)
    ctx.install_log_redaction()
    assistant = assistant_for(ctx)
    if not assistant.enabled:
        print(DISABLED_MESSAGE, file=sys.stderr)
        return EXIT_FAILED
    try:
        await ctx.ha.start(wait=30)
        result = await assistant.ask(question, caller="assistant:cli")
        code = _print_result(result.as_dict())
        if code == EXIT_CONFIRMATION and sys.stdin.isatty():
            typed = await asyncio.to_thread(_read_code)
            if typed:
                code = _print_result((await assistant.confirm(typed)).as_dict())
            else:
                print("Cancelled; nothing was done.")
        return code
    finally:
        await release(ctx)
        with contextlib.suppress(Exception):
            await ctx.ha.stop()


async def ask_cli(settings: Settings, args: argparse.Namespace) -> int:
    """`python -m energy_coordinator_mcp ask "…"` (or `ask --confirm CODE -`)."""
    question = " ".join(args.question).strip()
    if question == "-":
        question = ""
    code = getattr(args, "confirm", None)
    if code:
        forwarded = await _via_addon(settings, {"confirm": code})
        if forwarded is None:
            print(
                "error: no running add-on answered on the ingress port; a "
                "confirmation code is only valid in the process that issued it",
                file=sys.stderr,
            )
            return EXIT_FAILED
        return _print_result(forwarded)
    if not question:
        print("error: ask needs a question", file=sys.stderr)
        return 2
    if not settings.options.anthropic_api_key:
        print(DISABLED_MESSAGE, file=sys.stderr)
        return EXIT_FAILED
    forwarded = await _via_addon(settings, {"question": question})
    if forwarded is not None:
        return _print_result(forwarded)
    return await _in_process(settings, question)


__all__ = ["ask_cli", "assistant_for", "install", "routes", "run_background"]
