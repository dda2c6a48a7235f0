"""The assistant's daily token budget, kept in the data directory.

Owns `TokenBudget`: how many tokens the Claude assistant has spent today, counted
from the Messages API's `usage` fields (input, output, cache creation and cache
read tokens all count), persisted as `assistant_budget.json` so a restart does not
reset it, reset when the local day changes, and the check that refuses a new API
call once the day's budget is spent.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, Protocol

BUDGET_FILE = "assistant_budget.json"


class UsageLike(Protocol):
    """The `usage` object of a Messages API response (anthropic's `Usage`)."""

    @property
    def input_tokens(self) -> int: ...

    @property
    def output_tokens(self) -> int: ...

    @property
    def cache_creation_input_tokens(self) -> int | None: ...

    @property
    def cache_read_input_tokens(self) -> int | None: ...


@dataclass(slots=True)
class Spent:
    """Tokens spent on one day, by kind."""

    day: str
    input: int = 0
    output: int = 0
    cache_creation: int = 0
    cache_read: int = 0
    calls: int = 0

    @property
    def total(self) -> int:
        """Every kind of token together: what the budget counts."""
        return self.input + self.output + self.cache_creation + self.cache_read

    def add(self, usage: UsageLike) -> int:
        """Count one response's usage; the tokens it added."""
        added = (
            int(usage.input_tokens or 0),
            int(usage.output_tokens or 0),
            int(usage.cache_creation_input_tokens or 0),
            int(usage.cache_read_input_tokens or 0),
        )
        self.input += added[0]
        self.output += added[1]
        self.cache_creation += added[2]
        self.cache_read += added[3]
        self.calls += 1
        return sum(added)


class BudgetExhaustedError(RuntimeError):
    """Today's token budget is spent; no further Claude call is made."""


def _today() -> date:
    return datetime.now().astimezone().date()


class TokenBudget:
    """A daily token allowance for Claude calls, persisted in `data_dir`.

    `limit` 0 means no call is allowed at all. `check()` raises
    `BudgetExhaustedError` once the day's total reaches the limit; `record()` adds a
    response's usage and writes the file.
    """

    def __init__(
        self,
        data_dir: Path,
        limit: int,
        *,
        today: Callable[[], date] = _today,
    ) -> None:
        self.path = data_dir / BUDGET_FILE
        self.limit = limit
        self._today = today
        self._lock = asyncio.Lock()
        self._spent = self._load()

    def _load(self) -> Spent:
        day = self._today().isoformat()
        try:
            data: Any = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return Spent(day)
        if not isinstance(data, dict) or data.get("day") != day:
            return Spent(day)
        try:
            return Spent(
                day=day,
                input=int(data.get("input", 0)),
                output=int(data.get("output", 0)),
                cache_creation=int(data.get("cache_creation", 0)),
                cache_read=int(data.get("cache_read", 0)),
                calls=int(data.get("calls", 0)),
            )
        except (TypeError, ValueError):
            return Spent(day)

    def _current(self) -> Spent:
        day = self._today().isoformat()
        if self._spent.day != day:
            self._spent = Spent(day)
        return self._spent

    @property
    def spent(self) -> Spent:
        """Today's spending (a new day starts at zero)."""
        return self._current()

    @property
    def used(self) -> int:
        """Tokens spent today."""
        return self._current().total

    @property
    def remaining(self) -> int:
        """Tokens left today (never negative)."""
        return max(0, self.limit - self.used)

    @property
    def exhausted(self) -> bool:
        """Whether no further call may be made today."""
        return self.used >= self.limit

    def message(self) -> str:
        """What the owner is told when the budget stops a call."""
        return (
            f"The assistant's daily token budget is spent ({self.used:,} of "
            f"{self.limit:,} tokens used today). It resets at midnight; raise "
            "`daily_token_budget` in the add-on options to allow more."
        )

    def check(self) -> None:
        """Raise `BudgetExhaustedError` when today's budget is spent."""
        if self.exhausted:
            raise BudgetExhaustedError(self.message())

    async def record(self, usage: UsageLike) -> int:
        """Add one response's usage to today's total and persist it."""
        async with self._lock:
            added = self._current().add(usage)
            data = json.dumps(asdict(self._spent) | {"limit": self.limit})
            await asyncio.to_thread(self._write, data)
            return added

    def _write(self, data: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(data + "\n", encoding="utf-8")
        tmp.replace(self.path)
        with contextlib.suppress(OSError):
            self.path.chmod(0o600)

    def as_dict(self) -> dict[str, Any]:
        """Today's numbers for a status page or an answer."""
        spent = self._current()
        return {
            "day": spent.day,
            "limit": self.limit,
            "used": spent.total,
            "remaining": self.remaining,
            "input": spent.input,
            "output": spent.output,
            "cache_creation": spent.cache_creation,
            "cache_read": spent.cache_read,
            "calls": spent.calls,
        }
