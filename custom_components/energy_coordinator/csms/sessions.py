"""Durable storage of charging sessions, known chargers, energy totals and id tags.

`SessionStore` owns one SQLite database (stdlib `sqlite3`, WAL mode with
`synchronous=FULL`: every commit is synced to disk, so it survives a power loss).
Every call runs on one dedicated worker thread, off the event loop, and commits
before it returns, so a handler that awaits it before answering the charger never
acknowledges a transaction that is not on disk. Calls that wait at the same time
share one commit (and one sync), so a thousand chargers do not queue behind a
thousand syncs.

Meter updates (a connector's energy counter and its session's last register)
are the exception: they are written behind, coalesced per connector, at most
`METER_FLUSH_S` late and before any other call reaches the database, so a meter
report is answered without waiting for a sync. Losing them in a crash loses no
energy: registers are cumulative, so the next report, or the stop, books the
difference from the last one written.

While the database is open a marker file (`<database>.open`) exists; finding it
at `open()` means the last run did not close the store (`unclean_shutdown`), so
its last meter updates may be missing and what was shown may have been higher.

The database carries its schema version (`PRAGMA user_version`); `open()` brings an
older one up to `SCHEMA_VERSION` one migration at a time, each in one transaction,
and refuses a newer one (a downgrade) without touching it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

_LOGGER = logging.getLogger(__name__)

#: Meter updates are written at most this many seconds after they arrive.
METER_FLUSH_S = 2.0

#: The schema this code reads and writes.
SCHEMA_VERSION = 1

#: Version 1: the schema of the first release (whose databases carry version 0,
#: i.e. no version; every statement is idempotent, so it also completes them).
SCHEMA_V1 = """
CREATE TABLE IF NOT EXISTS sessions (
    session_id INTEGER PRIMARY KEY AUTOINCREMENT,
    charger_id TEXT NOT NULL,
    connector_id INTEGER NOT NULL,
    evse_id INTEGER,
    transaction_id TEXT,
    id_tag TEXT,
    start_time TEXT NOT NULL,
    stop_time TEXT,
    meter_start_wh REAL NOT NULL,
    meter_last_wh REAL NOT NULL,
    meter_stop_wh REAL,
    energy_wh REAL NOT NULL DEFAULT 0,
    stop_reason TEXT,
    last_seq_no INTEGER,
    UNIQUE (charger_id, transaction_id)
);
CREATE INDEX IF NOT EXISTS sessions_open ON sessions (charger_id, stop_time);
CREATE INDEX IF NOT EXISTS sessions_start ON sessions (start_time);
CREATE TABLE IF NOT EXISTS chargers (
    charger_id TEXT PRIMARY KEY,
    approved INTEGER NOT NULL DEFAULT 0,
    vendor TEXT,
    model TEXT,
    serial_number TEXT,
    firmware_version TEXT,
    ocpp_version TEXT,
    connectors TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS energy_totals (
    charger_id TEXT NOT NULL,
    connector_id INTEGER NOT NULL,
    total_wh REAL NOT NULL,
    last_register_wh REAL,
    PRIMARY KEY (charger_id, connector_id)
);
CREATE TABLE IF NOT EXISTS id_tags (
    id_tag TEXT PRIMARY KEY,
    name TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'Accepted',
    expiry TEXT
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


def _migrate_to_1(db: sqlite3.Connection) -> None:
    for statement in SCHEMA_V1.split(";"):
        if statement.strip():
            db.execute(statement)


#: Migration to version N (from N - 1), in order.
MIGRATIONS: dict[int, Callable[[sqlite3.Connection], None]] = {1: _migrate_to_1}


class StoreVersionError(Exception):
    """The database was written by a newer version of the integration."""

    def __init__(self, path: str, version: int) -> None:
        super().__init__(
            f"{path} has schema version {version}; this version reads up to"
            f" {SCHEMA_VERSION}"
        )
        self.path = path
        self.version = version


def _check_version(db: sqlite3.Connection, path: str) -> int:
    """The database's schema version; StoreVersionError when newer than ours."""
    (found,) = db.execute("PRAGMA user_version").fetchone()
    if found > SCHEMA_VERSION:
        raise StoreVersionError(path, found)
    return int(found)


def migrate(db: sqlite3.Connection, path: str = "") -> int:
    """Bring the database up to `SCHEMA_VERSION`; returns the version it had.

    Each step runs in its own transaction with the version bump, so a failing
    step leaves the database at the previous version.
    """
    found = _check_version(db, path)
    for version in range(found + 1, SCHEMA_VERSION + 1):
        db.execute("BEGIN IMMEDIATE")
        try:
            MIGRATIONS[version](db)
            db.execute(f"PRAGMA user_version={version:d}")
        except BaseException:
            db.rollback()
            raise
        db.commit()
    return int(found)


@dataclass(frozen=True, slots=True)
class SessionRecord:
    """One charging session as stored."""

    session_id: int
    charger_id: str
    connector_id: int
    transaction_id: str
    id_tag: str | None
    start_time: datetime
    stop_time: datetime | None
    meter_start_wh: float
    meter_last_wh: float
    meter_stop_wh: float | None
    energy_wh: float
    stop_reason: str | None
    evse_id: int | None = None
    last_seq_no: int | None = None

    @property
    def active(self) -> bool:
        """Whether the session is still running."""
        return self.stop_time is None

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly representation (times as ISO 8601, energy in kWh too)."""
        return {
            "session_id": self.session_id,
            "charger_id": self.charger_id,
            "connector_id": self.connector_id,
            "transaction_id": self.transaction_id,
            "id_tag": self.id_tag,
            "start_time": self.start_time.isoformat(),
            "stop_time": self.stop_time.isoformat() if self.stop_time else None,
            "meter_start_wh": self.meter_start_wh,
            "meter_stop_wh": self.meter_stop_wh,
            "energy_kwh": round(self.energy_wh / 1000, 3),
            "stop_reason": self.stop_reason,
            "active": self.active,
        }


@dataclass(frozen=True, slots=True)
class ChargerRecord:
    """A charger the central system has seen."""

    charger_id: str
    approved: bool
    vendor: str | None
    model: str | None
    serial_number: str | None
    firmware_version: str | None
    ocpp_version: str | None
    connectors: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class EnergyTotal:
    """The monotonic energy counter of one connector."""

    total_wh: float
    last_register_wh: float | None


@dataclass(frozen=True, slots=True)
class TagRecord:
    """A stored id tag."""

    id_tag: str
    name: str
    status: str
    expiry: datetime | None


def _ts(value: datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat()


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _session(row: sqlite3.Row) -> SessionRecord:
    start = _dt(row["start_time"])
    assert start is not None
    return SessionRecord(
        session_id=row["session_id"],
        charger_id=row["charger_id"],
        connector_id=row["connector_id"],
        transaction_id=row["transaction_id"],
        id_tag=row["id_tag"],
        start_time=start,
        stop_time=_dt(row["stop_time"]),
        meter_start_wh=row["meter_start_wh"],
        meter_last_wh=row["meter_last_wh"],
        meter_stop_wh=row["meter_stop_wh"],
        energy_wh=row["energy_wh"],
        stop_reason=row["stop_reason"],
        evse_id=row["evse_id"],
        last_seq_no=row["last_seq_no"],
    )


#: Most jobs committed together (one sync to disk for all of them).
MAX_BATCH = 100


@dataclass(slots=True)
class _Job:
    """One call into the store, run on its worker thread."""

    func: Callable[[sqlite3.Connection | None], Any]
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[Any]
    alone: bool = False  # open/close: outside any transaction, not batched

    def settle(self, result: Any, error: BaseException | None) -> None:
        """Hand the outcome to the waiting coroutine (thread-safe)."""

        def deliver() -> None:
            if self.future.done():  # the caller was cancelled
                return
            if error is None:
                self.future.set_result(result)
            else:
                self.future.set_exception(error)

        self.loop.call_soon_threadsafe(deliver)


@dataclass(frozen=True, slots=True)
class _MeterUpdate:
    """The latest energy counter and session meter of one connector.

    A connector's session only changes through `start_session`, which writes
    what is pending first, so one update holds at most one session.
    """

    total: EnergyTotal | None = None
    session_id: int | None = None
    meter_last_wh: float | None = None
    seq_no: int | None = None

    def merge(
        self,
        total: EnergyTotal | None,
        session_id: int | None,
        meter_last_wh: float | None,
        seq_no: int | None,
    ) -> _MeterUpdate:
        """This update with a newer report folded in."""
        if session_id is None or meter_last_wh is None:
            return _MeterUpdate(
                total or self.total, self.session_id, self.meter_last_wh, self.seq_no
            )
        return _MeterUpdate(total or self.total, session_id, meter_last_wh, seq_no)

    def write(self, db: sqlite3.Connection, charger_id: str, connector_id: int) -> None:
        """Store it (in the worker thread, inside a batch's transaction)."""
        total = self.total
        if total is not None:
            db.execute(
                "INSERT INTO energy_totals VALUES (?,?,?,?) ON CONFLICT"
                " (charger_id, connector_id) DO UPDATE SET"
                " total_wh=excluded.total_wh,"
                " last_register_wh=excluded.last_register_wh",
                (charger_id, connector_id, total.total_wh, total.last_register_wh),
            )
        if self.session_id is not None and self.meter_last_wh is not None:
            db.execute(
                "UPDATE sessions SET meter_last_wh=MAX(meter_last_wh, ?),"
                " energy_wh=MAX(0, MAX(meter_last_wh, ?) - meter_start_wh),"
                " last_seq_no=COALESCE(?, last_seq_no)"
                " WHERE session_id=? AND stop_time IS NULL",
                (self.meter_last_wh, self.meter_last_wh, self.seq_no, self.session_id),
            )


def _log_meter_failure(future: asyncio.Future[Any]) -> None:
    if not future.cancelled() and (err := future.exception()) is not None:
        _LOGGER.warning("Meter updates could not be stored: %s", err)


class SessionStore:
    """SQLite-backed store; every public coroutine commits before returning.

    One worker thread owns the connection. Calls waiting at the same time are
    committed together (group commit): each runs in its own savepoint, so one that
    fails changes nothing and the others still commit, and every one returns only
    after the one commit that holds it is synced. Under load the cost of a sync is
    shared; a lone call is committed alone, as before.
    """

    def __init__(self, path: Path | str, synchronous: str = "FULL") -> None:
        """A store at `path`; `synchronous` other than FULL only for benchmarks."""
        if synchronous not in ("FULL", "EXTRA", "NORMAL"):
            raise ValueError(f"synchronous={synchronous!r}")
        self._path = str(path)
        self._synchronous = synchronous
        self._db: sqlite3.Connection | None = None
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._worker: threading.Thread | None = None
        self._closed = False
        #: Meter updates not written yet, by (charger, connector).
        self._meters: dict[tuple[str, int], _MeterUpdate] = {}
        self._flush_timer: asyncio.TimerHandle | None = None
        #: Commits made (one per batch), for tests and benchmarks.
        self.commits = 0
        #: Whether the last process to open the database did not close it (it
        #: crashed or lost power): meter updates of its last `METER_FLUSH_S`
        #: may be missing. Known once `open()` returned.
        self.unclean_shutdown = False

    async def _submit(
        self, func: Callable[[sqlite3.Connection | None], Any], alone: bool = False
    ) -> Any:
        if self._worker is None or (self._closed and not alone):
            raise RuntimeError("session store is closed")
        loop = asyncio.get_running_loop()
        self._queue_meters(loop)  # what was reported before goes in before
        job = _Job(func, loop, loop.create_future(), alone)
        self._jobs.put(job)
        return await job.future

    def _queue_meters(self, loop: asyncio.AbstractEventLoop) -> None:
        """Queue the pending meter updates as one job (nobody waits for it)."""
        if self._flush_timer is not None:
            self._flush_timer.cancel()
            self._flush_timer = None
        if not self._meters or self._worker is None:
            return
        pending, self._meters = self._meters, {}

        def job(db: sqlite3.Connection | None) -> None:
            if db is None:
                return
            for (charger_id, connector_id), update in pending.items():
                update.write(db, charger_id, connector_id)

        future: asyncio.Future[Any] = loop.create_future()
        future.add_done_callback(_log_meter_failure)
        self._jobs.put(_Job(job, loop, future, False))

    def _flush_due(self) -> None:
        self._flush_timer = None
        self._queue_meters(asyncio.get_running_loop())

    async def flush(self) -> None:
        """Write the pending meter updates now (and wait for them)."""

        def nothing(_: sqlite3.Connection) -> None:
            return None

        await self._run(nothing)

    async def _run[T](self, func: Callable[[sqlite3.Connection], T]) -> T:
        def job(db: sqlite3.Connection | None) -> T:
            if db is None:
                raise RuntimeError("session store is closed")
            return func(db)

        result: T = await self._submit(job)
        return result

    def _work(self) -> None:
        """The worker thread: run jobs, the waiting ones in one transaction."""
        while (job := self._jobs.get()) is not None:
            if job.alone:
                self._run_alone(job)
                continue
            batch = [job]
            while len(batch) < MAX_BATCH:
                try:
                    following = self._jobs.get_nowait()
                except queue.Empty:
                    break
                if following is None or following.alone:
                    self._jobs.put(following)  # after this batch (FIFO)
                    break
                batch.append(following)
            self._run_batch(batch)

    def _run_alone(self, job: _Job) -> None:
        try:
            result = job.func(self._db)
        except BaseException as err:
            job.settle(None, err)
        else:
            job.settle(result, None)

    def _run_batch(self, batch: list[_Job]) -> None:
        db = self._db
        if db is None:
            for job in batch:
                job.settle(None, RuntimeError("session store is closed"))
            return
        outcomes: list[tuple[_Job, Any, BaseException | None]] = []
        try:
            db.execute("BEGIN")
            for job in batch:
                db.execute("SAVEPOINT job")
                try:
                    result = job.func(db)
                except Exception as err:
                    db.execute("ROLLBACK TO job")
                    db.execute("RELEASE job")
                    outcomes.append((job, None, err))
                else:
                    db.execute("RELEASE job")
                    outcomes.append((job, result, None))
            db.commit()
            self.commits += 1
        except sqlite3.Error as err:  # the commit (or the database) failed
            with contextlib.suppress(sqlite3.Error):
                db.rollback()
            for job in batch:
                job.settle(None, err)
            return
        for job, result, error in outcomes:
            job.settle(result, error)

    async def open(self) -> None:
        """Open (and create or migrate) the database; StoreVersionError if newer."""

        def job(_: sqlite3.Connection | None) -> None:
            marker = self._open_marker
            if marker is not None:
                marker.parent.mkdir(parents=True, exist_ok=True)
                self.unclean_shutdown = marker.exists()
            db = sqlite3.connect(self._path, check_same_thread=False)
            try:
                db.row_factory = sqlite3.Row
                _check_version(db, self._path)  # before anything is written
                db.execute("PRAGMA journal_mode=WAL")
                db.execute(f"PRAGMA synchronous={self._synchronous}")
                migrate(db, self._path)
            except BaseException:
                db.close()
                raise
            self._db = db
            if marker is not None:
                marker.touch()

        self._worker = worker = threading.Thread(
            target=self._work, name="ec_sessions", daemon=True
        )
        worker.start()
        try:
            await self._submit(job, alone=True)
        except BaseException:
            self._closed = True  # nothing to close: the worker just stops
            self._jobs.put(None)
            await asyncio.get_running_loop().run_in_executor(None, worker.join)
            raise

    @property
    def _open_marker(self) -> Path | None:
        """A file that exists while the database is open (none in memory)."""
        if self._path == ":memory:":
            return None
        return Path(f"{self._path}.open")

    async def close(self) -> None:
        """Close the database and stop the worker thread (idempotent)."""
        if self._closed:
            return
        self._closed = True
        worker = self._worker
        if worker is None:
            return

        def job(_: sqlite3.Connection | None) -> None:
            if self._db is not None:
                self._db.close()
                self._db = None
                if self._open_marker is not None:
                    self._open_marker.unlink(missing_ok=True)

        await self._submit(job, alone=True)
        self._jobs.put(None)
        await asyncio.get_running_loop().run_in_executor(None, worker.join)

    # Sessions -----------------------------------------------------------------

    async def start_session(
        self,
        charger_id: str,
        connector_id: int,
        id_tag: str | None,
        start_time: datetime,
        meter_start_wh: float,
        transaction_id: str | None = None,
        evse_id: int | None = None,
        seq_no: int | None = None,
    ) -> SessionRecord:
        """Insert a running session; without `transaction_id` the row id is used.

        Starting a session whose (charger, transaction id) already exists returns
        the stored one unchanged (a repeated StartTransaction or Started event).
        """

        def job(db: sqlite3.Connection) -> SessionRecord:
            if transaction_id is not None:
                row = db.execute(
                    "SELECT * FROM sessions WHERE charger_id=? AND transaction_id=?",
                    (charger_id, transaction_id),
                ).fetchone()
                if row is not None:
                    return _session(row)
            cur = db.execute(
                "INSERT INTO sessions (charger_id, connector_id, evse_id,"
                " transaction_id, id_tag, start_time, meter_start_wh, meter_last_wh,"
                " last_seq_no) VALUES (?,?,?,?,?,?,?,?,?)",
                (
                    charger_id,
                    connector_id,
                    evse_id,
                    transaction_id,
                    id_tag,
                    _ts(start_time),
                    meter_start_wh,
                    meter_start_wh,
                    seq_no,
                ),
            )
            session_id = cur.lastrowid
            assert session_id is not None
            if transaction_id is None:
                db.execute(
                    "UPDATE sessions SET transaction_id=? WHERE session_id=?",
                    (str(session_id), session_id),
                )
            row = db.execute(
                "SELECT * FROM sessions WHERE session_id=?", (session_id,)
            ).fetchone()
            return _session(row)

        return await self._run(job)

    async def get_session(
        self, charger_id: str, transaction_id: str
    ) -> SessionRecord | None:
        """The session with this charger and transaction id, running or finished."""

        def job(db: sqlite3.Connection) -> SessionRecord | None:
            row = db.execute(
                "SELECT * FROM sessions WHERE charger_id=? AND transaction_id=?",
                (charger_id, transaction_id),
            ).fetchone()
            return _session(row) if row else None

        return await self._run(job)

    async def update_session(
        self,
        session_id: int,
        meter_last_wh: float,
        seq_no: int | None = None,
        id_tag: str | None = None,
    ) -> None:
        """Record the latest meter register of a running session."""

        def job(db: sqlite3.Connection) -> None:
            db.execute(
                "UPDATE sessions SET meter_last_wh=MAX(meter_last_wh, ?),"
                " energy_wh=MAX(0, MAX(meter_last_wh, ?) - meter_start_wh),"
                " last_seq_no=COALESCE(?, last_seq_no), id_tag=COALESCE(id_tag, ?)"
                " WHERE session_id=? AND stop_time IS NULL",
                (meter_last_wh, meter_last_wh, seq_no, id_tag, session_id),
            )

        await self._run(job)

    async def set_meter_start(self, session_id: int, meter_start_wh: float) -> None:
        """Fix the start register of a session opened without one."""

        def job(db: sqlite3.Connection) -> None:
            db.execute(
                "UPDATE sessions SET meter_start_wh=?, meter_last_wh=?, energy_wh=0"
                " WHERE session_id=? AND stop_time IS NULL",
                (meter_start_wh, meter_start_wh, session_id),
            )

        await self._run(job)

    async def finish_session(
        self,
        session_id: int,
        stop_time: datetime,
        meter_stop_wh: float | None,
        reason: str | None,
    ) -> SessionRecord | None:
        """Close a running session exactly once.

        Returns the finished record, or None when it was already finished (a
        repeated stop changes nothing). The session's energy never steps back: it
        closes at the larger of `meter_stop_wh` and the last recorded register (a
        1.6 charger's integer meterStop of 66 Wh after a register of 66.3 Wh
        closes at 66.3 Wh); without `meter_stop_wh`, at the last register.
        """

        def job(db: sqlite3.Connection) -> SessionRecord | None:
            row = db.execute(
                "SELECT * FROM sessions WHERE session_id=?", (session_id,)
            ).fetchone()
            if row is None or row["stop_time"] is not None:
                return None
            last = max(row["meter_last_wh"], row["meter_start_wh"])
            stop = last if meter_stop_wh is None else max(meter_stop_wh, last)
            energy = max(0.0, stop - row["meter_start_wh"])
            db.execute(
                "UPDATE sessions SET stop_time=?, meter_stop_wh=?, meter_last_wh=?,"
                " energy_wh=?, stop_reason=? WHERE session_id=?",
                (_ts(stop_time), stop, stop, energy, reason, session_id),
            )
            row = db.execute(
                "SELECT * FROM sessions WHERE session_id=?", (session_id,)
            ).fetchone()
            return _session(row)

        return await self._run(job)

    async def open_sessions(self, charger_id: str | None = None) -> list[SessionRecord]:
        """Running sessions, of one charger or all."""

        def job(db: sqlite3.Connection) -> list[SessionRecord]:
            if charger_id is None:
                rows = db.execute(
                    "SELECT * FROM sessions WHERE stop_time IS NULL"
                ).fetchall()
            else:
                rows = db.execute(
                    "SELECT * FROM sessions WHERE stop_time IS NULL AND charger_id=?",
                    (charger_id,),
                ).fetchall()
            return [_session(r) for r in rows]

        return await self._run(job)

    async def last_sessions(self, charger_id: str) -> dict[int, SessionRecord]:
        """The newest session of each connector of a charger."""

        def job(db: sqlite3.Connection) -> dict[int, SessionRecord]:
            rows = db.execute(
                "SELECT * FROM sessions WHERE session_id IN (SELECT MAX(session_id)"
                " FROM sessions WHERE charger_id=? GROUP BY connector_id)",
                (charger_id,),
            ).fetchall()
            return {r["connector_id"]: _session(r) for r in rows}

        return await self._run(job)

    async def query_sessions(
        self,
        charger_id: str | None = None,
        id_tag: str | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[list[SessionRecord], int, float]:
        """Sessions newest first, filtered; returns (page, total count, total Wh).

        `start`/`end` select sessions that started in [start, end).
        """
        where: list[str] = []
        args: list[Any] = []
        if charger_id is not None:
            where.append("charger_id=?")
            args.append(charger_id)
        if id_tag is not None:
            where.append("id_tag=?")
            args.append(id_tag)
        if start is not None:
            where.append("start_time>=?")
            args.append(_ts(start))
        if end is not None:
            where.append("start_time<?")
            args.append(_ts(end))
        clause = f" WHERE {' AND '.join(where)}" if where else ""

        def job(db: sqlite3.Connection) -> tuple[list[SessionRecord], int, float]:
            total, energy = db.execute(
                f"SELECT COUNT(*), COALESCE(SUM(energy_wh), 0) FROM sessions{clause}",
                args,
            ).fetchone()
            rows = db.execute(
                f"SELECT * FROM sessions{clause} ORDER BY start_time DESC,"
                " session_id DESC LIMIT ? OFFSET ?",
                [*args, limit, offset],
            ).fetchall()
            return [_session(r) for r in rows], int(total), float(energy)

        return await self._run(job)

    # Energy totals ------------------------------------------------------------

    async def energy_totals(self, charger_id: str) -> dict[int, EnergyTotal]:
        """The energy counters of a charger's connectors."""

        def job(db: sqlite3.Connection) -> dict[int, EnergyTotal]:
            rows = db.execute(
                "SELECT * FROM energy_totals WHERE charger_id=?", (charger_id,)
            ).fetchall()
            return {
                r["connector_id"]: EnergyTotal(r["total_wh"], r["last_register_wh"])
                for r in rows
            }

        return await self._run(job)

    async def save_energy_total(
        self, charger_id: str, connector_id: int, total: EnergyTotal
    ) -> None:
        """Store a connector's energy counter."""

        def job(db: sqlite3.Connection) -> None:
            db.execute(
                "INSERT INTO energy_totals VALUES (?,?,?,?) ON CONFLICT"
                " (charger_id, connector_id) DO UPDATE SET total_wh=excluded.total_wh,"
                " last_register_wh=excluded.last_register_wh",
                (charger_id, connector_id, total.total_wh, total.last_register_wh),
            )

        await self._run(job)

    async def record_meter(
        self,
        charger_id: str,
        connector_id: int,
        total: EnergyTotal | None,
        session_id: int | None,
        meter_last_wh: float | None,
        seq_no: int | None = None,
    ) -> None:
        """Note a connector's energy counter and its session's meter (written
        behind, within `METER_FLUSH_S`, before any other call; see the module)."""
        if self._closed or self._worker is None:
            raise RuntimeError("session store is closed")
        key = (charger_id, connector_id)
        update = self._meters.get(key) or _MeterUpdate()
        self._meters[key] = update.merge(total, session_id, meter_last_wh, seq_no)
        if self._flush_timer is None:
            self._flush_timer = asyncio.get_running_loop().call_later(
                METER_FLUSH_S, self._flush_due
            )

    async def chargers(self) -> list[ChargerRecord]:
        """Every charger seen, approved or not."""

        def job(db: sqlite3.Connection) -> list[ChargerRecord]:
            rows = db.execute("SELECT * FROM chargers ORDER BY charger_id").fetchall()
            return [
                ChargerRecord(
                    charger_id=r["charger_id"],
                    approved=bool(r["approved"]),
                    vendor=r["vendor"],
                    model=r["model"],
                    serial_number=r["serial_number"],
                    firmware_version=r["firmware_version"],
                    ocpp_version=r["ocpp_version"],
                    connectors=tuple(
                        int(c) for c in r["connectors"].split(",") if c.strip()
                    ),
                )
                for r in rows
            ]

        return await self._run(job)

    async def save_charger(self, record: ChargerRecord) -> None:
        """Insert or update a charger."""

        def job(db: sqlite3.Connection) -> None:
            db.execute(
                "INSERT INTO chargers VALUES (?,?,?,?,?,?,?,?) ON CONFLICT (charger_id)"
                " DO UPDATE SET approved=excluded.approved, vendor=excluded.vendor,"
                " model=excluded.model, serial_number=excluded.serial_number,"
                " firmware_version=excluded.firmware_version,"
                " ocpp_version=excluded.ocpp_version, connectors=excluded.connectors",
                (
                    record.charger_id,
                    int(record.approved),
                    record.vendor,
                    record.model,
                    record.serial_number,
                    record.firmware_version,
                    record.ocpp_version,
                    ",".join(str(c) for c in record.connectors),
                ),
            )

        await self._run(job)

    async def remove_charger(self, charger_id: str) -> None:
        """Forget a charger (its sessions are kept)."""

        def job(db: sqlite3.Connection) -> None:
            db.execute("DELETE FROM chargers WHERE charger_id=?", (charger_id,))

        await self._run(job)

    # Id tags --------------------------------------------------------------------

    async def tags(self) -> list[TagRecord]:
        """Every stored id tag, sorted."""

        def job(db: sqlite3.Connection) -> list[TagRecord]:
            rows = db.execute("SELECT * FROM id_tags ORDER BY id_tag").fetchall()
            return [
                TagRecord(r["id_tag"], r["name"], r["status"], _dt(r["expiry"]))
                for r in rows
            ]

        return await self._run(job)

    async def save_tag(self, tag: TagRecord) -> None:
        """Insert or update an id tag."""

        def job(db: sqlite3.Connection) -> None:
            db.execute(
                "INSERT INTO id_tags VALUES (?,?,?,?) ON CONFLICT (id_tag) DO UPDATE"
                " SET name=excluded.name, status=excluded.status,"
                " expiry=excluded.expiry",
                (
                    tag.id_tag,
                    tag.name,
                    tag.status,
                    _ts(tag.expiry) if tag.expiry else None,
                ),
            )
            self._bump_list_version(db)

        await self._run(job)

    async def remove_tag(self, id_tag: str) -> bool:
        """Delete an id tag; False when it did not exist."""

        def job(db: sqlite3.Connection) -> bool:
            cur = db.execute("DELETE FROM id_tags WHERE id_tag=?", (id_tag,))
            if cur.rowcount:
                self._bump_list_version(db)
            return bool(cur.rowcount)

        return await self._run(job)

    async def local_list_version(self) -> int:
        """Version of the id-tag list; increases with every change."""

        def job(db: sqlite3.Connection) -> int:
            row = db.execute(
                "SELECT value FROM meta WHERE key='local_list_version'"
            ).fetchone()
            return int(row["value"]) if row else 0

        return await self._run(job)

    @staticmethod
    def _bump_list_version(db: sqlite3.Connection) -> None:
        db.execute(
            "INSERT INTO meta VALUES ('local_list_version', '1') ON CONFLICT (key)"
            " DO UPDATE SET value=CAST(value AS INTEGER) + 1"
        )
