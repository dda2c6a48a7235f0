"""The daily charger diagnostics: faults of the day, a short report, a notification.

Owns `DiagnosticsJob`. Once a day (21:00 in HA's time zone by default) it collects
the day's charger faults from Home Assistant: error codes and faulted/unavailable
states from the recorder's history of each charger's entities, disconnects of its
connectivity sensor, the integration's warnings in HA's system log, and limits the
charger rejected (the coordinator's last decision). When there were any, it asks the
Claude assistant for a short report with the `diagnose_charger` prompt over that data
(read-only tools only) and posts it with `persistent_notification.create`. A day
without faults costs no tokens. Without an API key the job is disabled and says so;
if Claude cannot answer (budget spent, API down) the facts are posted alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, time, timedelta, tzinfo
from typing import Any, Literal

from .assistant import DISABLED_MESSAGE, AskResult, Assistant
from .charger_index import DOMAIN, ChargerInfo, SiteError
from .ha_client import HAError
from .prompts import render
from .site_view import local_zone

_LOGGER = logging.getLogger(__name__)

#: When the job runs, in HA's time zone.
DEFAULT_RUN_AT = time(21, 0)
#: The notification id (one per day; a re-run replaces that day's notification).
NOTIFICATION_ID = "energy_coordinator_charger_diagnostics"
#: Audit-log caller of the job's tool calls.
CALLER = "assistant:diagnostics"
#: Error-code states that are not faults.
NO_ERROR = frozenset({"noerror", "no_error", "none", "", "unknown", "unavailable"})
#: Status states that are faults.
FAULT_STATES = frozenset({"faulted"})
#: Log lines kept per charger (and for the site).
MAX_LOG_LINES = 5
#: Timed events kept per charger.
MAX_EVENTS = 8
LOGGER_PREFIX = f"custom_components.{DOMAIN}"

Outcome = Literal["posted", "no_faults", "disabled", "failed"]


@dataclass(slots=True)
class ChargerFaults:
    """What went wrong with one charger over the window."""

    charger: str
    error_codes: dict[str, int] = field(default_factory=dict)
    faulted: int = 0
    unavailable: int = 0
    disconnects: int = 0
    rejected_limits: list[str] = field(default_factory=list)
    log: list[str] = field(default_factory=list)
    #: "HH:MM what happened", oldest first.
    events: list[str] = field(default_factory=list)
    online_now: bool | None = None

    def event(self, when: float | None, what: str, zone: tzinfo) -> None:
        """Note one timed event (the first MAX_EVENTS are kept)."""
        if len(self.events) < MAX_EVENTS:
            at = f"{datetime.fromtimestamp(when, zone):%H:%M} " if when else ""
            self.events.append(at + what)

    @property
    def any(self) -> bool:
        """Whether anything is worth a report."""
        return bool(
            self.error_codes
            or self.faulted
            or self.unavailable
            or self.disconnects
            or self.rejected_limits
            or self.log
        )

    def as_dict(self) -> dict[str, Any]:
        """Only what happened (empty fields left out)."""
        return {k: v for k, v in asdict(self).items() if v not in (0, [], {}, None)}


@dataclass(slots=True)
class FaultReport:
    """The day's faults of every charger."""

    start: datetime
    end: datetime
    chargers: list[ChargerFaults]
    site_log: list[str] = field(default_factory=list)
    history_available: bool = True

    @property
    def faulty(self) -> list[ChargerFaults]:
        """Chargers that had something."""
        return [c for c in self.chargers if c.any]

    @property
    def any(self) -> bool:
        """Whether any charger (or the central system) had a fault."""
        return bool(self.faulty or self.site_log)

    def as_dict(self, zone: tzinfo) -> dict[str, Any]:
        """Compact JSON for the model (times in HA's zone)."""
        out: dict[str, Any] = {
            "window": (
                f"{self.start.astimezone(zone):%Y-%m-%d %H:%M} to "
                f"{self.end.astimezone(zone):%H:%M}"
            ),
            "chargers": [c.as_dict() for c in self.faulty],
            "chargers_without_faults": [c.charger for c in self.chargers if not c.any],
        }
        if self.site_log:
            out["central_system_log"] = self.site_log
        if not self.history_available:
            out["note"] = "recorder history unavailable; only logs and current states"
        return out


@dataclass(slots=True)
class JobResult:
    """What one run did."""

    outcome: Outcome
    message: str
    report: FaultReport | None = None
    answer: AskResult | None = None
    notification_id: str | None = None


def _rows(rows: Iterable[Mapping[str, Any]]) -> list[tuple[str, float | None]]:
    """(state, time) pairs of the recorder's compressed history rows."""
    out: list[tuple[str, float | None]] = []
    for row in rows:
        when = row.get("lu", row.get("lc"))
        out.append(
            (
                str(row.get("s", row.get("state", ""))),
                float(when) if isinstance(when, int | float) else None,
            )
        )
    return out


def _entered(
    rows: list[tuple[str, float | None]], into: Iterable[str]
) -> list[float | None]:
    """When the series entered one of the `into` states."""
    targets = set(into)
    times: list[float | None] = []
    previous: str | None = None
    for state, when in rows:
        if state in targets and previous not in targets:
            times.append(when)
        previous = state
    return times


def _log_time(entry: Mapping[str, Any]) -> float:
    value = entry.get("timestamp") or entry.get("first_occurred") or 0
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


def _log_text(entry: Mapping[str, Any]) -> str:
    message = entry.get("message")
    if isinstance(message, list):
        message = message[-1] if message else ""
    text = str(message or "").strip()
    count = entry.get("count")
    if isinstance(count, int) and count > 1:
        text += f" (x{count})"
    return text[:300]


class DiagnosticsJob:
    """Collects the day's charger faults and posts Claude's short report."""

    def __init__(
        self,
        assistant: Assistant,
        *,
        run_at: time = DEFAULT_RUN_AT,
        language: str = "en",
    ) -> None:
        """Use this assistant (and its registry's HA client)."""
        self.assistant = assistant
        self.registry = assistant.registry
        self.ha = assistant.registry.ha
        self.run_at = run_at
        self.language = language
        self._task: asyncio.Task[None] | None = None
        self.last: JobResult | None = None

    @property
    def enabled(self) -> bool:
        """Whether the assistant has an API key."""
        return self.assistant.enabled

    @property
    def zone(self) -> tzinfo:
        """HA's time zone."""
        return local_zone(self.ha)

    # Collecting ---------------------------------------------------------------

    async def collect(self, start: datetime, end: datetime) -> FaultReport:
        """The faults of every charger between `start` and `end`."""
        try:
            chargers = await self.registry.index.chargers()
        except (SiteError, HAError) as err:
            _LOGGER.warning("Charger diagnostics: no chargers known (%s)", err)
            chargers = {}
        faults = {cid: ChargerFaults(cid) for cid in chargers}
        report = FaultReport(start, end, list(faults.values()))
        await self._from_history(chargers, faults, report)
        for charger in chargers.values():
            connected = self.ha.states.get(charger.entities.get("connected", ""))
            faults[charger.charger_id].online_now = (
                connected.state == "on" if connected is not None else None
            )
        await self._from_system_log(faults, report)
        await self._from_last_decision(faults, start, end)
        return report

    async def _from_history(
        self,
        chargers: Mapping[str, ChargerInfo],
        faults: Mapping[str, ChargerFaults],
        report: FaultReport,
    ) -> None:
        wanted: dict[str, tuple[str, str]] = {}
        for charger in chargers.values():
            for key in ("status", "connected"):
                if entity_id := charger.entities.get(key):
                    wanted[entity_id] = (charger.charger_id, key)
            for conn in charger.connectors.values():
                for key in ("error_code", "connector_status"):
                    if entity_id := conn.entities.get(key):
                        wanted[entity_id] = (charger.charger_id, key)
        if not wanted:
            return
        try:
            history = await self.ha.history(
                sorted(wanted), report.start, report.end, minimal=True
            )
        except HAError as err:
            _LOGGER.info("No recorder history for the diagnostics: %s", err)
            report.history_available = False
            history = {
                entity_id: [{"s": state.state}]
                for entity_id in wanted
                if (state := self.ha.states.get(entity_id)) is not None
            }
        zone = self.zone
        for entity_id, raw in history.items():
            if entity_id not in wanted:
                continue
            charger_id, key = wanted[entity_id]
            rows = _rows(raw)
            found = faults[charger_id]
            if key == "connected":
                for when in _entered(rows, {"off", "unavailable"}):
                    found.disconnects += 1
                    found.event(when, "disconnected", zone)
            elif key == "error_code":
                for code, when in rows:
                    if code.strip().lower() not in NO_ERROR:
                        found.error_codes[code] = found.error_codes.get(code, 0) + 1
                        found.event(when, f"error {code}", zone)
            else:
                for when in _entered(rows, FAULT_STATES):
                    found.faulted += 1
                    found.event(when, f"{key.replace('_', ' ')} faulted", zone)
                if key == "status":
                    for when in _entered(rows, {"unavailable"}):
                        found.unavailable += 1
                        found.event(when, "unavailable", zone)
        for found in faults.values():
            found.events.sort()

    async def _from_system_log(
        self, faults: Mapping[str, ChargerFaults], report: FaultReport
    ) -> None:
        try:
            entries = await self.ha.send("system_log/list")
        except HAError as err:
            _LOGGER.debug("No system log for the diagnostics: %s", err)
            return
        start, end = report.start.timestamp(), report.end.timestamp()
        for entry in entries or []:
            if not isinstance(entry, Mapping):
                continue
            if not str(entry.get("name") or "").startswith(LOGGER_PREFIX):
                continue
            if not start <= _log_time(entry) <= end:
                continue
            text = _log_text(entry)
            owner = next((f for cid, f in faults.items() if cid and cid in text), None)
            if owner is not None:
                if len(owner.log) < MAX_LOG_LINES:
                    owner.log.append(text)
            elif len(report.site_log) < MAX_LOG_LINES:
                report.site_log.append(text)

    async def _from_last_decision(
        self, faults: Mapping[str, ChargerFaults], start: datetime, end: datetime
    ) -> None:
        try:
            status = await self.ha.call_service(
                DOMAIN, "get_status", {}, return_response=True
            )
        except HAError as err:
            _LOGGER.debug("No coordinator status for the diagnostics: %s", err)
            return
        if not isinstance(status, dict):
            return
        decision = status.get("last_decision")
        if not isinstance(decision, Mapping):
            return
        with contextlib.suppress(TypeError, ValueError):
            when = datetime.fromisoformat(str(decision.get("time")))
            if when.tzinfo is None:
                when = when.replace(tzinfo=UTC)
            if not start <= when <= end:
                return
        for error in decision.get("errors") or []:
            text = str(error)
            lp_id = text.split(":", 1)[0]
            charger_id = lp_id.rpartition("/")[0] or lp_id
            if charger_id in faults:
                faults[charger_id].rejected_limits.append(text[:300])

    # Reporting ----------------------------------------------------------------

    def question(self, report: FaultReport) -> str:
        """The diagnose_charger prompt over the day's data."""
        chargers = ", ".join(c.charger for c in report.faulty) or "the central system"
        hours = max(1, round((report.end - report.start).total_seconds() / 3600))
        prompt = render(
            "diagnose_charger",
            {"charger": chargers, "hours": str(hours), "language": self.language},
        )
        data = json.dumps(report.as_dict(self.zone), ensure_ascii=False)
        return (
            f"{prompt}\n\nThe add-on collected today's faults from Home Assistant:\n"
            f"{data}\n\nWrite the report for a Home Assistant notification: at most "
            "120 words, one short paragraph or list per charger. Use tools only if "
            "something essential is missing."
        )

    def _facts_text(self, report: FaultReport) -> str:
        lines = []
        for charger in report.faulty:
            parts = []
            if charger.error_codes:
                codes = ", ".join(f"{c} x{n}" for c, n in charger.error_codes.items())
                parts.append(f"error codes {codes}")
            if charger.faulted:
                parts.append(f"faulted {charger.faulted}x")
            if charger.disconnects:
                parts.append(f"disconnected {charger.disconnects}x")
            if charger.unavailable:
                parts.append(f"unavailable {charger.unavailable}x")
            if charger.rejected_limits:
                parts.append(f"limits not applied: {charger.rejected_limits[0]}")
            if charger.log and not parts:
                parts.append(charger.log[0])
            lines.append(f"- {charger.charger}: " + "; ".join(parts))
        lines.extend(f"- central system: {line}" for line in report.site_log[:2])
        return "\n".join(lines)

    async def run_once(self, now: datetime | None = None) -> JobResult:
        """Check the day so far; post a notification when there were faults."""
        if not self.enabled:
            self.last = JobResult("disabled", DISABLED_MESSAGE)
            return self.last
        end = now or datetime.now(self.zone)
        local_end = end.astimezone(self.zone)
        start = local_end.replace(hour=0, minute=0, second=0, microsecond=0)
        report = await self.collect(start, end)
        if not report.any:
            self.last = JobResult("no_faults", "No charger faults today.", report)
            _LOGGER.info("Charger diagnostics: no faults today")
            return self.last
        answer = await self.assistant.ask(
            self.question(report),
            language=self.language,
            caller=CALLER,
            read_only=True,
        )
        if answer.status == "answered" and answer.answer.strip():
            message = answer.answer.strip()
        else:
            message = (
                self._facts_text(report)
                + f"\n\n(No report from Claude: {answer.answer.strip()})"
            )
        notification_id = f"{NOTIFICATION_ID}_{local_end:%Y%m%d}"
        title = f"EV charger diagnostics {local_end:%Y-%m-%d}"
        try:
            await self.ha.call_service(
                "persistent_notification",
                "create",
                {
                    "title": title,
                    "message": message,
                    "notification_id": notification_id,
                },
            )
        except HAError as err:
            self.last = JobResult(
                "failed", f"Could not post the notification: {err}", report, answer
            )
            _LOGGER.warning("Charger diagnostics: %s", self.last.message)
            return self.last
        self.last = JobResult(
            "posted", message, report, answer, notification_id=notification_id
        )
        _LOGGER.info("Charger diagnostics posted for %d charger(s)", len(report.faulty))
        return self.last

    # Schedule -----------------------------------------------------------------

    def next_run(self, now: datetime | None = None) -> datetime:
        """The next time the job runs (today at `run_at`, else tomorrow)."""
        current = (now or datetime.now(self.zone)).astimezone(self.zone)
        moment = current.replace(
            hour=self.run_at.hour,
            minute=self.run_at.minute,
            second=0,
            microsecond=0,
        )
        if moment <= current:
            moment += timedelta(days=1)
        return moment

    def start(self) -> bool:
        """Schedule the daily run; False (with a log line) when disabled."""
        if not self.enabled:
            _LOGGER.info("Daily charger diagnostics off: %s", DISABLED_MESSAGE)
            return False
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._loop(), name="charger-diagnostics")
        return True

    async def stop(self) -> None:
        """Cancel the schedule."""
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _loop(self) -> None:
        while True:
            delay = (self.next_run() - datetime.now(self.zone)).total_seconds()
            await asyncio.sleep(max(1.0, delay))
            try:
                await self.run_once()
            except Exception:
                _LOGGER.exception("Charger diagnostics failed")


__all__ = ["ChargerFaults", "DiagnosticsJob", "FaultReport", "JobResult"]
