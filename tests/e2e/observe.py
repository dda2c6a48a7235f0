"""What the end-to-end tests read back from a real `hass`, as an owner would see it.

Owns the observation helpers the e2e stories share: the site's entities by unique
id (the entity registry), a sampler that records every state of chosen entities
while Home Assistant runs (and keeps going while it restarts), the recorder's
short-term statistics once HA has compiled the period a run ended in, the repair
issues, and the warnings in HA's log. Everything goes through HA's public REST and
WebSocket APIs or its log file.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import re
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest
from hass_process import DOMAIN, HassError, HassProcess

#: States that are no reading.
NO_VALUE = ("unknown", "unavailable")


async def wait_for(
    predicate: Callable[[], Any], within: float, what: str, every: float = 0.25
) -> Any:
    """Await `predicate()` (sync or async) until it returns a truthy value."""
    deadline = time.monotonic() + within
    while True:
        value = predicate()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        if time.monotonic() >= deadline:
            pytest.fail(f"timed out after {within:.0f} s waiting for {what}")
        await asyncio.sleep(every)


async def entities_by_unique_id(ha: HassProcess, entry_id: str) -> dict[str, str]:
    """unique id -> entity id of the site's entities (the entity registry)."""
    entities = await ha.ws_command("config/entity_registry/list")
    return {
        e["unique_id"]: e["entity_id"]
        for e in entities
        if e["platform"] == DOMAIN and e.get("config_entry_id") == entry_id
    }


def number(state: str | None) -> float | None:
    """A state as a number, None when it is not one."""
    if state is None or state in NO_VALUE:
        return None
    try:
        value = float(state)
    except ValueError:
        return None
    return None if math.isnan(value) else value


@dataclass
class Sample:
    """All states at one moment: entity id -> (state, attributes)."""

    at: float  # time.time()
    states: dict[str, dict[str, Any]]

    def state(self, entity_id: str) -> str | None:
        found = self.states.get(entity_id)
        return None if found is None else str(found["state"])

    def value(self, entity_id: str) -> float | None:
        return number(self.state(entity_id))


@dataclass
class StateSampler:
    """Reads every state every `every` seconds while HA answers (a restart is a gap)."""

    ha: HassProcess
    every: float = 0.25
    samples: list[Sample] = field(default_factory=list)
    _task: asyncio.Task[None] | None = None
    _checks: list[Callable[[Sample], None]] = field(default_factory=list)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def check(self, check: Callable[[Sample], None]) -> None:
        """Run `check` on every sample from now on (it raises AssertionError)."""
        self._checks.append(check)

    async def _run(self) -> None:
        while True:
            # A restart: HassProcess has no session until hass answers again.
            with contextlib.suppress(
                HassError, aiohttp.ClientError, TimeoutError, OSError
            ):
                if self.ha.running():
                    states = await self.ha.get("/api/states", request_timeout=5)
                    sample = Sample(time.time(), {s["entity_id"]: s for s in states})
                    self.samples.append(sample)
                    for check in self._checks:
                        check(sample)
            await asyncio.sleep(self.every)

    def values(self, entity_id: str) -> list[tuple[float, float]]:
        """(time, value) of each sample where the entity had a number."""
        return [
            (s.at, v) for s in self.samples if (v := s.value(entity_id)) is not None
        ]


def backward_steps(values: Iterable[tuple[float, float]]) -> list[str]:
    """Where a series went down, as readable lines."""
    steps = []
    last: tuple[float, float] | None = None
    for at, value in values:
        if last is not None and value < last[1]:
            moment = datetime.fromtimestamp(at, UTC).strftime("%H:%M:%S.%f")[:-3]
            steps.append(f"{last[1]} -> {value} at {moment} UTC")
        last = (at, value)
    return steps


# The recorder's statistics ------------------------------------------------------

#: HA compiles the short-term statistics of each five-minute period this long
#: after it ends (`minute=range(0, 60, 5), second=10` in the recorder).
COMPILE_DELAY_S = 10


def period_start(moment: datetime) -> datetime:
    """The start of the five-minute statistics period `moment` falls in."""
    return moment.replace(
        minute=moment.minute - moment.minute % 5, second=0, microsecond=0
    )


async def statistics(
    ha: HassProcess, statistic_ids: list[str], since: datetime
) -> dict[str, list[dict[str, Any]]]:
    """The five-minute `state`/`sum` rows of each statistic since `since`."""
    result = await ha.ws_command(
        "recorder/statistics_during_period",
        start_time=period_start(since).isoformat(),
        statistic_ids=statistic_ids,
        period="5minute",
        types=["state", "sum"],
    )
    return dict(result)


async def compiled_statistics(
    ha: HassProcess, statistic_ids: list[str], since: datetime, until: datetime
) -> dict[str, list[dict[str, Any]]]:
    """The rows once HA has compiled the period `until` falls in (waits for it).

    Nothing can make the recorder compile sooner; a run that ends just after a
    period began waits up to five minutes here.
    """
    last_period = period_start(until)
    due = last_period + timedelta(minutes=5, seconds=COMPILE_DELAY_S)
    wait = (due - datetime.now(UTC)).total_seconds()
    if wait > 0:
        print(f"waiting {wait:.0f} s for the recorder's statistics of {last_period}")
        await asyncio.sleep(wait)
    wanted_ms = last_period.timestamp() * 1000

    async def compiled() -> dict[str, list[dict[str, Any]]] | None:
        rows = await statistics(ha, statistic_ids, since)
        done = all(
            any(row["start"] >= wanted_ms for row in rows.get(sid, ()))
            for sid in statistic_ids
        )
        return rows if done else None

    return await wait_for(compiled, 60, f"the statistics of {last_period}", every=1)


def statistics_steps(rows: list[dict[str, Any]], key: str) -> list[str]:
    """Where a statistics series (`state` or `sum`) went down."""
    return backward_steps(
        (row["start"] / 1000, float(row[key])) for row in rows if row[key] is not None
    )


# Repairs and the log ------------------------------------------------------------


async def repair_issues(ha: HassProcess) -> list[dict[str, Any]]:
    """The integration's repair issues, as Settings > Repairs lists them."""
    result = await ha.ws_command("repairs/list_issues")
    return [i for i in result["issues"] if i["domain"] == DOMAIN]


_LOG_LINE = re.compile(
    r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+ (?P<level>[A-Z]+) \([^)]*\) "
    r"\[(?P<logger>[^\]]+)\] (?P<message>.*)$"
)


@dataclass(frozen=True)
class LogLine:
    """One record of HA's log (its first line)."""

    level: str
    logger: str
    message: str

    def __str__(self) -> str:
        return f"{self.level} [{self.logger}] {self.message}"


def log_records(
    text: str, levels: tuple[str, ...] = ("WARNING", "ERROR")
) -> list[LogLine]:
    """The records of HA's log text at these levels."""
    found = []
    for line in text.splitlines():
        match = _LOG_LINE.match(line)
        if match and match["level"] in levels:
            found.append(LogLine(match["level"], match["logger"], match["message"]))
    return found


def repeated(records: Iterable[LogLine], times: int = 3) -> list[str]:
    """Records that came `times` times or more in one run (numbers masked): what
    a warning per coordination cycle looks like."""
    counts = Counter(
        (r.level, r.logger, re.sub(r"\d+(\.\d+)?", "#", r.message)) for r in records
    )
    return [
        f"{n} x {level} [{logger}] {message}"
        for (level, logger, message), n in counts.items()
        if n >= times
    ]


def read_log(ha: HassProcess) -> str:
    """HA's log of the current (or last) run."""
    if not ha.log_path.exists():
        return ""
    return ha.log_path.read_text(encoding="utf-8", errors="replace")
