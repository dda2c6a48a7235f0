"""The Claude assistant: natural-language questions answered with the add-on's tools.

Owns `Assistant`, which sends a question to Claude (`anthropic.AsyncAnthropic`, the
model from the options) with the add-on's own tools in-process (their definitions
from `ToolRegistry.specs`, the last one marked for prompt caching) and the add-on's
prompts as system context, and runs the tool-use loop up to a turn cap. Every call
goes through the registry, so the assistant has exactly the gate, the read-only mode,
the redaction and the audit log an MCP client has. A consequential action stops the
loop: its confirmation request goes back to the caller (the person), never to the
model, and the model can never bring a confirmation code itself; `confirm()` carries
a confirmed action out when the person sends the code back. Tokens are counted
against the daily budget (`token_budget.TokenBudget`) from each response's `usage`,
and no call is made once the day's budget is spent. Without an API key the
assistant is disabled with a clear message; the MCP server does not need it.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import anthropic

from .config import Options
from .prompts import PROMPTS, render
from .token_budget import BudgetExhaustedError, TokenBudget
from .tools import ToolRegistry, ToolResult

_LOGGER = logging.getLogger(__name__)

#: Claude calls one question may take (each tool-use round trip is one).
DEFAULT_MAX_TURNS = 8
#: Longest answer Claude may write per call, in tokens.
DEFAULT_MAX_TOKENS = 1024
#: The audit log's name for calls the assistant makes.
CALLER = "assistant"
#: The argument that carries a confirmation code; the model never gets to set it.
CONFIRM_ARGUMENT = "confirm"
CACHE_CONTROL: dict[str, str] = {"type": "ephemeral"}

DISABLED_MESSAGE = (
    "The Claude assistant is disabled: no Anthropic API key is set. Add "
    "`anthropic_api_key` in the add-on options to use /api/ask, the `ask` command and "
    "the daily charger diagnostics. The MCP server works without a key."
)

Status = Literal[
    "answered",
    "confirmation_required",
    "done",
    "budget_exhausted",
    "disabled",
    "max_turns",
    "error",
]

INSTRUCTIONS = """\
You are the Energy Coordinator assistant inside the owner's Home Assistant. You \
answer questions about the home's energy (solar, grid, home battery, EV chargers, \
flexible loads) and the rest of the home, and you carry out requests with the tools.

- For energy questions call get_site_status first; it answers solar, grid, house, \
home battery and every EV in one call. Quote values with their units.
- Find other entities with search_entities before get_states or get_history.
- Acting tools (start/stop charging, modes, targets, limits, coordination, \
call_service) need the owner's confirmation. When you call one, the add-on shows the \
owner what will happen and asks them directly; you never see or pass a confirmation \
code. Call an acting tool only when the owner asked for that action.
- Be brief: a few sentences or a short list. Answer in the language of the question.
- Never reveal tokens, passwords or API keys, even if a tool result seems to hold one.
"""


def prompt_context(language: str = "en") -> str:
    """The add-on's prompts as playbooks for the system context."""
    lines = [
        "Playbooks (the add-on's prompts; follow the matching one when the owner "
        "asks for such a report, diagnosis, plan or bill explanation):"
    ]
    for prompt in PROMPTS.values():
        placeholders = {
            arg.name: f"<{arg.name}>"
            for arg in prompt.arguments
            if arg.required or arg.name not in prompt.defaults
        }
        placeholders["language"] = language
        lines.append(f"- {prompt.name}: {render(prompt.name, placeholders)}")
    return "\n".join(lines)


class AssistantDisabledError(RuntimeError):
    """The assistant has no API key; the message says how to enable it."""


@dataclass(slots=True)
class ToolCallRecord:
    """One tool call the model made during a question."""

    name: str
    arguments: dict[str, Any]
    is_error: bool = False
    confirmation_required: bool = False


@dataclass(slots=True)
class AskResult:
    """What a question (or a confirmation) ended with."""

    status: Status
    answer: str
    confirmations: list[dict[str, Any]] = field(default_factory=list)
    tool_calls: list[ToolCallRecord] = field(default_factory=list)
    usage: dict[str, int] = field(default_factory=dict)
    budget: dict[str, Any] = field(default_factory=dict)
    turns: int = 0

    @property
    def ok(self) -> bool:
        """Whether the question got an answer (or a confirmation request)."""
        return self.status in ("answered", "confirmation_required", "done")

    def as_dict(self) -> dict[str, Any]:
        """JSON for `/api/ask` and the `ask` command."""
        return asdict(self)


@dataclass(slots=True)
class _Pending:
    """A confirmation the assistant handed to a person, kept until redeemed."""

    caller: str
    tool: str
    arguments: dict[str, Any]
    expires: float


def _usage_dict() -> dict[str, int]:
    return {"input": 0, "output": 0, "cache_creation": 0, "cache_read": 0}


def _add_usage(total: dict[str, int], usage: Any) -> None:
    total["input"] += int(getattr(usage, "input_tokens", 0) or 0)
    total["output"] += int(getattr(usage, "output_tokens", 0) or 0)
    total["cache_creation"] += int(
        getattr(usage, "cache_creation_input_tokens", 0) or 0
    )
    total["cache_read"] += int(getattr(usage, "cache_read_input_tokens", 0) or 0)


def _tool_result_text(result: ToolResult) -> str:
    return json.dumps(
        result.content, ensure_ascii=False, separators=(",", ":"), default=str
    )


class Assistant:
    """Claude with the add-on's tools, its gate and a daily token budget."""

    def __init__(
        self,
        registry: ToolRegistry,
        options: Options,
        data_dir: Path,
        *,
        base_url: str | None = None,
        client: anthropic.AsyncAnthropic | None = None,
        budget: TokenBudget | None = None,
        max_turns: int = DEFAULT_MAX_TURNS,
        max_tokens: int = DEFAULT_MAX_TOKENS,
        timeout: float = 60.0,
        max_retries: int = 2,
    ) -> None:
        """Use these tools and options; `base_url` points at another API host."""
        self.registry = registry
        self.options = options
        self.model = options.model
        self.max_turns = max(1, max_turns)
        self.max_tokens = max_tokens
        self.budget = budget or TokenBudget(data_dir, options.daily_token_budget)
        self._client = client
        self._own_client = client is None
        self._base_url = base_url
        self._timeout = timeout
        self._max_retries = max_retries
        self._pending: dict[str, _Pending] = {}

    # Availability -------------------------------------------------------------

    @property
    def enabled(self) -> bool:
        """Whether an API key is configured."""
        return bool(self.options.anthropic_api_key)

    def _api(self) -> anthropic.AsyncAnthropic:
        if self._client is None:
            if not self.options.anthropic_api_key:
                raise AssistantDisabledError(DISABLED_MESSAGE)
            self._client = anthropic.AsyncAnthropic(
                api_key=self.options.anthropic_api_key,
                base_url=self._base_url,
                timeout=self._timeout,
                max_retries=self._max_retries,
            )
        return self._client

    async def aclose(self) -> None:
        """Close the HTTP client the assistant created."""
        if self._client is not None and self._own_client:
            await self._client.close()
            self._client = None

    def status(self) -> dict[str, Any]:
        """For the status page: enabled, model and today's budget."""
        return {
            "enabled": self.enabled,
            "model": self.model,
            "message": None if self.enabled else DISABLED_MESSAGE,
            "budget": self.budget.as_dict(),
        }

    # What Claude is given -----------------------------------------------------

    def tool_definitions(self, read_only: bool = False) -> list[dict[str, Any]]:
        """The registry's tools as Messages API tools, the last one cached.

        The confirmation argument is left out: a code only ever comes from a
        person, through `confirm()`.
        """
        tools: list[dict[str, Any]] = []
        for spec in self.registry.specs(read_only):
            schema = json.loads(json.dumps(spec.input_schema))
            properties = schema.get("properties")
            if isinstance(properties, dict):
                properties.pop(CONFIRM_ARGUMENT, None)
            required = schema.get("required")
            if isinstance(required, list) and CONFIRM_ARGUMENT in required:
                required.remove(CONFIRM_ARGUMENT)
            tools.append(
                {
                    "name": spec.name,
                    "description": spec.description,
                    "input_schema": schema,
                }
            )
        if tools:
            tools[-1]["cache_control"] = dict(CACHE_CONTROL)
        return tools

    def system_blocks(self, language: str = "en") -> list[dict[str, Any]]:
        """The instructions and the add-on's prompts as one cached system block."""
        text = INSTRUCTIONS + "\n" + prompt_context(language)
        return [{"type": "text", "text": text, "cache_control": dict(CACHE_CONTROL)}]

    # Asking -------------------------------------------------------------------

    async def ask(
        self,
        question: str,
        *,
        language: str = "en",
        caller: str = CALLER,
        read_only: bool = False,
    ) -> AskResult:
        """Answer one question, using tools; stop at a confirmation or the budget."""
        usage = _usage_dict()
        if not self.enabled:
            return self._result("disabled", DISABLED_MESSAGE, usage)
        question = question.strip()
        if not question:
            return self._result("error", "The question is empty.", usage)
        tools = self.tool_definitions(read_only)
        offered = {tool["name"] for tool in tools}
        system = self.system_blocks(language)
        messages: list[dict[str, Any]] = [{"role": "user", "content": question}]
        calls: list[ToolCallRecord] = []
        texts: list[str] = []
        started = time.perf_counter()
        for turn in range(1, self.max_turns + 1):
            try:
                self.budget.check()
            except BudgetExhaustedError as err:
                return self._result(
                    "budget_exhausted", str(err), usage, calls, turn - 1, texts
                )
            try:
                response = await self._api().messages.create(
                    model=self.model,
                    max_tokens=self.max_tokens,
                    system=system,  # type: ignore[arg-type]
                    tools=tools,  # type: ignore[arg-type]
                    messages=messages,  # type: ignore[arg-type]
                )
            except anthropic.APIError as err:
                _LOGGER.warning("Claude call failed: %s", self._redact(str(err)))
                return self._result(
                    "error",
                    f"Claude could not be reached or refused the request: "
                    f"{self._redact(_api_error_text(err))}",
                    usage,
                    calls,
                    turn - 1,
                    texts,
                )
            await self.budget.record(response.usage)
            _add_usage(usage, response.usage)
            blocks: list[dict[str, Any]] = []
            tool_uses: list[Any] = []
            turn_texts: list[str] = []
            for block in response.content:
                if block.type == "text":
                    turn_texts.append(block.text)
                    blocks.append({"type": "text", "text": block.text})
                elif block.type == "tool_use":
                    tool_uses.append(block)
                    blocks.append(
                        {
                            "type": "tool_use",
                            "id": block.id,
                            "name": block.name,
                            "input": block.input,
                        }
                    )
            texts.extend(t for t in turn_texts if t.strip())
            if response.stop_reason != "tool_use" or not tool_uses:
                answer = "\n\n".join(t.strip() for t in turn_texts if t.strip())
                if response.stop_reason == "max_tokens":
                    answer += "\n\n(The answer was cut off at the length limit.)"
                _LOGGER.info(
                    "Answered in %d turn(s), %d tool call(s), %d tokens, %.1f s",
                    turn,
                    len(calls),
                    sum(usage.values()),
                    time.perf_counter() - started,
                )
                return self._result("answered", answer, usage, calls, turn)
            messages.append({"role": "assistant", "content": blocks})
            results, confirmations = await self._run_tools(
                tool_uses, offered, caller, calls
            )
            if confirmations:
                lead = "\n\n".join(t.strip() for t in turn_texts if t.strip())
                asks = "\n".join(
                    f"- {c['summary']} (code {c['code']}, valid {c['expires_in_s']} s)"
                    for c in confirmations
                )
                answer = (lead + "\n\n" if lead else "") + (
                    "This needs your confirmation before anything happens:\n" + asks
                )
                result = self._result(
                    "confirmation_required", answer, usage, calls, turn
                )
                result.confirmations = confirmations
                return result
            messages.append({"role": "user", "content": results})
        return self._result(
            "max_turns",
            f"Stopped after {self.max_turns} Claude calls without a final answer; "
            "ask a narrower question.",
            usage,
            calls,
            self.max_turns,
            texts,
        )

    async def _run_tools(
        self,
        tool_uses: Sequence[Any],
        offered: set[str],
        caller: str,
        calls: list[ToolCallRecord],
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """Run one turn's tool calls; their results and any confirmation requests."""
        results: list[dict[str, Any]] = []
        confirmations: list[dict[str, Any]] = []
        for use in tool_uses:
            arguments = dict(use.input) if isinstance(use.input, dict) else {}
            # A code only ever comes from the person, through confirm().
            arguments.pop(CONFIRM_ARGUMENT, None)
            record = ToolCallRecord(use.name, arguments)
            calls.append(record)
            if use.name not in offered:
                record.is_error = True
                results.append(
                    {
                        "type": "tool_result",
                        "tool_use_id": use.id,
                        "content": json.dumps(
                            {"error": f"tool {use.name!r} is not available here"}
                        ),
                        "is_error": True,
                    }
                )
                continue
            result = await self.registry.call(use.name, arguments, caller)
            if result.confirmation is not None:
                record.confirmation_required = True
                confirmation = dict(result.confirmation)
                self._remember(caller, confirmation)
                confirmations.append(confirmation)
                continue
            record.is_error = result.is_error
            results.append(
                {
                    "type": "tool_result",
                    "tool_use_id": use.id,
                    "content": _tool_result_text(result),
                    "is_error": result.is_error,
                }
            )
        return results, confirmations

    # Confirmations ------------------------------------------------------------

    def _remember(self, caller: str, confirmation: dict[str, Any]) -> None:
        now = time.monotonic()
        self._pending = {c: p for c, p in self._pending.items() if p.expires > now}
        self._pending[str(confirmation["code"])] = _Pending(
            caller=caller,
            tool=str(confirmation["tool"]),
            arguments=dict(confirmation.get("arguments") or {}),
            expires=now + float(confirmation.get("expires_in_s") or 120),
        )

    async def confirm(self, code: str) -> AskResult:
        """Carry out an action the person confirmed with the code they were given."""
        usage = _usage_dict()
        pending = self._pending.pop(str(code).strip(), None)
        if pending is None or pending.expires <= time.monotonic():
            return self._result(
                "error",
                "Unknown or expired confirmation code; ask again to get a new one.",
                usage,
            )
        arguments = dict(pending.arguments)
        arguments[CONFIRM_ARGUMENT] = str(code).strip()
        result = await self.registry.call(pending.tool, arguments, pending.caller)
        record = ToolCallRecord(pending.tool, pending.arguments, result.is_error)
        content = result.content
        if result.is_error:
            error = content.get("error") if isinstance(content, dict) else content
            return self._result("error", f"Not done: {error}", usage, [record])
        done = content.get("done") if isinstance(content, dict) else None
        answer = str(done) if done else _tool_result_text(result)
        return self._result("done", answer, usage, [record])

    # Helpers ------------------------------------------------------------------

    def _redact(self, text: str) -> str:
        return self.registry.redactor.text(text)

    def _result(
        self,
        status: Status,
        answer: str,
        usage: dict[str, int],
        calls: list[ToolCallRecord] | None = None,
        turns: int = 0,
        partial: list[str] | None = None,
    ) -> AskResult:
        if partial and status in ("budget_exhausted", "max_turns", "error"):
            answer = "\n\n".join([*(p.strip() for p in partial), answer])
        return AskResult(
            status=status,
            answer=self._redact(answer),
            tool_calls=list(calls or []),
            usage=usage,
            budget=self.budget.as_dict(),
            turns=turns,
        )


def _api_error_text(err: anthropic.APIError) -> str:
    if isinstance(err, anthropic.APIStatusError):
        body = err.body
        if isinstance(body, dict):
            detail = body.get("error")
            if isinstance(detail, dict) and detail.get("message"):
                return f"{err.status_code} {detail['message']}"
        return f"{err.status_code} {err.message}"
    return err.message


__all__ = [
    "DISABLED_MESSAGE",
    "AskResult",
    "Assistant",
    "AssistantDisabledError",
    "ToolCallRecord",
]
