"""The audit log: one JSON line per tool call, in the data directory.

Owns the line format (time, caller, tool, arguments with secrets redacted, outcome,
a short redacted result, duration) and size-based rotation (one `.1` backup).
Writes are small appends from the event loop; a failing disk never fails a call.
"""

from __future__ import annotations

import json
import logging
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .security import Redactor

_LOGGER = logging.getLogger(__name__)

AUDIT_FILE = "audit.jsonl"
#: Rotate the log when it grows past this size.
MAX_BYTES = 5 * 1024 * 1024
#: Longest result excerpt kept per line.
RESULT_CHARS = 400


class AuditLog:
    """Appends tool calls to `<data_dir>/audit.jsonl`."""

    def __init__(self, data_dir: Path, redactor: Redactor) -> None:
        """Log into this directory, through this redactor."""
        self.path = data_dir / AUDIT_FILE
        self.redactor = redactor

    def record(
        self,
        *,
        caller: str,
        tool: str,
        arguments: dict[str, Any],
        outcome: str,
        result: Any,
        duration_s: float,
    ) -> dict[str, Any]:
        """Append one line; returns what was written."""
        excerpt = json.dumps(
            self.redactor.data(result), separators=(",", ":"), default=str
        )
        if len(excerpt) > RESULT_CHARS:
            excerpt = excerpt[:RESULT_CHARS] + "…"
        line = {
            "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "caller": caller,
            "tool": tool,
            "arguments": self.redactor.data(arguments, arguments=True),
            "outcome": outcome,
            "result": excerpt,
            "duration_ms": round(duration_s * 1000, 1),
        }
        try:
            self._rotate()
            with self.path.open("a", encoding="utf-8") as out:
                out.write(json.dumps(line, separators=(",", ":"), default=str) + "\n")
        except OSError as err:
            _LOGGER.warning("Cannot write the audit log %s: %s", self.path, err)
        return line

    def _rotate(self) -> None:
        if self.path.exists() and self.path.stat().st_size > MAX_BYTES:
            self.path.replace(self.path.with_suffix(".jsonl.1"))

    def tail(self, lines: int = 20) -> list[dict[str, Any]]:
        """The last lines, newest last (for the status page and tests)."""
        if not self.path.exists():
            return []
        rows = self.path.read_text(encoding="utf-8").splitlines()[-lines:]
        out: list[dict[str, Any]] = []
        for row in rows:
            try:
                out.append(json.loads(row))
            except ValueError:
                continue
        return out


class Timer:
    """Wall time of a call."""

    def __init__(self) -> None:
        """Start now."""
        self.start = time.perf_counter()

    def elapsed(self) -> float:
        """Seconds since start."""
        return time.perf_counter() - self.start
