"""The SessionStore: exactly-once finish, queries, tags, chargers."""

from __future__ import annotations

import asyncio
import sqlite3
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from custom_components.energy_coordinator.csms import sessions
from custom_components.energy_coordinator.csms.sessions import (
    SCHEMA_VERSION,
    ChargerRecord,
    EnergyTotal,
    SessionStore,
    StoreVersionError,
    TagRecord,
)

T0 = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)


async def test_session_lifecycle_survives_reopen(tmp_path: Path) -> None:
    """A running session is on disk; it finishes exactly once after reopening."""
    store = SessionStore(tmp_path / "s.db")
    await store.open()
    record = await store.start_session("CP1", 1, "TAG", T0, 1000.0)
    assert record.transaction_id == str(record.session_id)
    await store.update_session(record.session_id, 1800.0)
    await store.update_session(record.session_id, 1700.0)  # never backwards
    await store.close()

    store = SessionStore(tmp_path / "s.db")
    await store.open()
    (running,) = await store.open_sessions("CP1")
    assert running.meter_last_wh == 1800.0
    assert running.energy_wh == 800.0
    done = await store.finish_session(
        running.session_id, T0 + timedelta(hours=1), 2500.0, "Local"
    )
    assert done is not None
    assert done.energy_wh == 1500.0
    assert done.stop_reason == "Local"
    again = await store.finish_session(
        running.session_id, T0 + timedelta(hours=2), 9999.0, "Other"
    )
    assert again is None
    stored = await store.get_session("CP1", running.transaction_id)
    assert stored is not None
    assert stored.energy_wh == 1500.0
    assert stored.stop_time == T0 + timedelta(hours=1)
    await store.close()


async def test_repeated_start_returns_the_same_session(tmp_path: Path) -> None:
    """A Started event sent twice does not create two sessions."""
    store = SessionStore(tmp_path / "s.db")
    await store.open()
    first = await store.start_session("CP2", 1, None, T0, 0.0, transaction_id="tx-1")
    second = await store.start_session("CP2", 1, None, T0, 0.0, transaction_id="tx-1")
    assert first.session_id == second.session_id
    _, total, _ = await store.query_sessions()
    assert total == 1
    await store.close()


async def test_query_filters_and_pages(tmp_path: Path) -> None:
    """Filters by charger, tag and time; pages newest first; totals."""
    store = SessionStore(tmp_path / "s.db")
    await store.open()
    for i in range(5):
        rec = await store.start_session(
            "CPA" if i % 2 else "CPB", 1, f"T{i % 2}", T0 + timedelta(hours=i), 0.0
        )
        await store.finish_session(
            rec.session_id, T0 + timedelta(hours=i, minutes=30), 1000.0 * (i + 1), None
        )
    page, total, energy = await store.query_sessions(limit=2)
    assert total == 5
    assert energy == 15000.0
    assert [r.start_time for r in page] == [
        T0 + timedelta(hours=4),
        T0 + timedelta(hours=3),
    ]
    page, total, energy = await store.query_sessions(charger_id="CPA")
    assert total == 2
    assert energy == 6000.0
    page, total, _ = await store.query_sessions(id_tag="T0", limit=1, offset=1)
    assert total == 3
    assert page[0].start_time == T0 + timedelta(hours=2)
    page, total, _ = await store.query_sessions(
        start=T0 + timedelta(hours=1), end=T0 + timedelta(hours=3)
    )
    assert total == 2
    await store.close()


async def test_tags_chargers_totals(tmp_path: Path) -> None:
    """Tags bump the list version; chargers and totals round-trip."""
    store = SessionStore(tmp_path / "s.db")
    await store.open()
    assert await store.local_list_version() == 0
    await store.save_tag(TagRecord("AA", "Alice", "Accepted", None))
    await store.save_tag(TagRecord("BB", "Bob", "Blocked", T0))
    assert await store.local_list_version() == 2
    assert [t.id_tag for t in await store.tags()] == ["AA", "BB"]
    assert await store.remove_tag("AA")
    assert not await store.remove_tag("AA")
    assert await store.local_list_version() == 3
    await store.save_charger(
        ChargerRecord("CP1", True, "V", "M", "S", "1.0", "ocpp1.6", (1, 2))
    )
    (charger,) = await store.chargers()
    assert charger.connectors == (1, 2)
    await store.save_energy_total("CP1", 1, EnergyTotal(5.0, 10.0))
    assert (await store.energy_totals("CP1"))[1] == EnergyTotal(5.0, 10.0)
    await store.close()


# Durability and the schema version ----------------------------------------------

#: The schema of the first release, which had no version (user_version 0).
RELEASE_0_1_SCHEMA = """
CREATE TABLE sessions (
    session_id INTEGER PRIMARY KEY AUTOINCREMENT,
    charger_id TEXT NOT NULL, connector_id INTEGER NOT NULL, evse_id INTEGER,
    transaction_id TEXT, id_tag TEXT, start_time TEXT NOT NULL, stop_time TEXT,
    meter_start_wh REAL NOT NULL, meter_last_wh REAL NOT NULL, meter_stop_wh REAL,
    energy_wh REAL NOT NULL DEFAULT 0, stop_reason TEXT, last_seq_no INTEGER,
    UNIQUE (charger_id, transaction_id)
);
CREATE TABLE chargers (
    charger_id TEXT PRIMARY KEY, approved INTEGER NOT NULL DEFAULT 0, vendor TEXT,
    model TEXT, serial_number TEXT, firmware_version TEXT, ocpp_version TEXT,
    connectors TEXT NOT NULL DEFAULT ''
);
CREATE TABLE energy_totals (
    charger_id TEXT NOT NULL, connector_id INTEGER NOT NULL, total_wh REAL NOT NULL,
    last_register_wh REAL, PRIMARY KEY (charger_id, connector_id)
);
CREATE TABLE id_tags (
    id_tag TEXT PRIMARY KEY, name TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'Accepted', expiry TEXT
);
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT INTO sessions (charger_id, connector_id, transaction_id, id_tag, start_time,
    meter_start_wh, meter_last_wh, energy_wh)
    VALUES ('CP1', 1, '7', 'TAG', '2026-11-01T08:00:00+00:00', 100, 600, 500);
INSERT INTO chargers VALUES ('CP1', 1, 'Acme', 'X', 'SN', '1.0', 'ocpp1.6', '1');
INSERT INTO energy_totals VALUES ('CP1', 1, 12345.0, 600.0);
INSERT INTO id_tags VALUES ('TAG', 'Card', 'Accepted', NULL);
INSERT INTO meta VALUES ('local_list_version', '3');
"""


def _pragma(path: Path, name: str) -> int:
    with closing(sqlite3.connect(path)) as db:
        return int(db.execute(f"PRAGMA {name}").fetchone()[0])


async def test_commits_are_synced_and_versioned(tmp_path: Path) -> None:
    """A new database: synchronous=FULL on the store's connection, schema version."""
    store = SessionStore(tmp_path / "new.db")
    await store.open()
    assert store._db is not None
    assert store._db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert store._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    await store.close()
    assert _pragma(tmp_path / "new.db", "user_version") == SCHEMA_VERSION


async def test_release_0_1_database_is_migrated(tmp_path: Path) -> None:
    """An unversioned database keeps every row and works at the current version."""
    path = tmp_path / "old.db"
    with closing(sqlite3.connect(path)) as db:
        db.executescript(RELEASE_0_1_SCHEMA)
    assert _pragma(path, "user_version") == 0

    store = SessionStore(path)
    await store.open()
    (running,) = await store.open_sessions("CP1")
    assert (running.transaction_id, running.energy_wh) == ("7", 500)
    assert (await store.energy_totals("CP1"))[1] == EnergyTotal(12345.0, 600.0)
    assert [c.charger_id for c in await store.chargers()] == ["CP1"]
    assert [t.id_tag for t in await store.tags()] == ["TAG"]
    assert await store.local_list_version() == 3
    done = await store.finish_session(running.session_id, T0, 700.0, "Local")
    assert done is not None
    assert done.energy_wh == 600
    await store.close()
    assert _pragma(path, "user_version") == SCHEMA_VERSION


async def test_failed_migration_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A step that fails rolls back: same version, no half-made tables."""
    path = tmp_path / "old.db"
    with closing(sqlite3.connect(path)) as db:
        db.execute("CREATE TABLE chargers (charger_id TEXT PRIMARY KEY)")

    def broken(db: sqlite3.Connection) -> None:
        db.execute("CREATE TABLE half (x)")
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setitem(sessions.MIGRATIONS, 1, broken)
    store = SessionStore(path)
    with pytest.raises(sqlite3.OperationalError):
        await store.open()
    await store.close()
    assert _pragma(path, "user_version") == 0
    with closing(sqlite3.connect(path)) as db:
        query = "SELECT name FROM sqlite_master WHERE type = 'table'"
        tables = {r[0] for r in db.execute(query)}
    assert tables == {"chargers"}


async def test_newer_database_is_refused_untouched(tmp_path: Path) -> None:
    """A database from a newer release: a clear error, the file unchanged."""
    path = tmp_path / "new.db"
    with closing(sqlite3.connect(path)) as db:
        db.execute(f"PRAGMA user_version={SCHEMA_VERSION + 1}")
    before = path.read_bytes()
    store = SessionStore(path)
    with pytest.raises(StoreVersionError) as err:
        await store.open()
    await store.close()
    assert err.value.version == SCHEMA_VERSION + 1
    assert str(SCHEMA_VERSION) in str(err.value)
    assert path.read_bytes() == before


# Group commit --------------------------------------------------------------------


async def test_waiting_calls_share_a_commit(tmp_path: Path) -> None:
    """Calls made together are committed together, each one on disk when it returns."""
    store = SessionStore(tmp_path / "g.db")
    await store.open()
    session = await store.start_session("CP1", 1, "TAG", T0, 0.0)
    before = store.commits
    await asyncio.gather(
        *(store.save_energy_total(f"CP{n}", 1, EnergyTotal(n, n)) for n in range(200)),
        store.update_session(session.session_id, 250.0),
    )
    assert store.commits - before < 100  # shared syncs, not one per call
    await store.close()

    store = SessionStore(tmp_path / "g.db")
    await store.open()
    for n in (0, 57, 199):
        assert (await store.energy_totals(f"CP{n}"))[1] == EnergyTotal(n, n)
    (running,) = await store.open_sessions("CP1")
    assert running.energy_wh == 250.0
    await store.close()


async def test_meter_reports_are_written_behind_and_coalesced(tmp_path: Path) -> None:
    """A meter report returns without a commit; many reports of a connector are one
    write; what reads the store afterwards sees them; a close stores them."""
    store = SessionStore(tmp_path / "m.db")
    await store.open()
    session = await store.start_session("CP1", 1, "TAG", T0, 100.0)
    before = store.commits
    for register in range(101, 301):
        await store.record_meter(
            "CP1",
            1,
            EnergyTotal(register - 100.0, register),
            session.session_id,
            float(register),
            register,
        )
    assert store.commits == before  # nothing written yet, nobody waited
    (running,) = await store.open_sessions("CP1")  # a read goes in after them
    assert running.meter_last_wh == 300.0
    assert running.energy_wh == 200.0
    assert running.last_seq_no == 300
    assert store.commits - before <= 2
    # A later, lower report never moves the session backwards.
    await store.record_meter("CP1", 1, None, session.session_id, 250.0)
    await store.record_meter("CP2", 1, EnergyTotal(5.0, 5.0), None, None)
    await store.close()  # stores what is pending

    store = SessionStore(tmp_path / "m.db")
    await store.open()
    (running,) = await store.open_sessions("CP1")
    assert running.meter_last_wh == 300.0
    assert (await store.energy_totals("CP1"))[1] == EnergyTotal(200.0, 300.0)
    assert (await store.energy_totals("CP2"))[1] == EnergyTotal(5.0, 5.0)
    await store.close()


async def test_meter_reports_are_written_within_the_flush_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With nothing else happening, a report reaches the disk by itself."""
    monkeypatch.setattr(sessions, "METER_FLUSH_S", 0.05)
    path = tmp_path / "t.db"
    store = SessionStore(path)
    await store.open()
    await store.record_meter("CP1", 1, EnergyTotal(7.0, 7.0), None, None)
    for _ in range(200):
        with closing(sqlite3.connect(path)) as db:
            rows = db.execute("SELECT total_wh FROM energy_totals").fetchall()
        if rows:
            break
        await asyncio.sleep(0.01)
    assert rows == [(7.0,)]
    await store.close()


async def test_a_failing_call_leaves_the_others(tmp_path: Path) -> None:
    """In a shared commit, a call that fails changes nothing and fails alone."""
    store = SessionStore(tmp_path / "f.db")
    await store.open()

    def half_then_fail(db: sqlite3.Connection) -> None:
        db.execute("INSERT INTO meta VALUES ('half', 'done')")
        raise ValueError("broken call")

    results = await asyncio.gather(
        store.save_tag(TagRecord("A", "", "Accepted", None)),
        store._run(half_then_fail),
        store.save_tag(TagRecord("B", "", "Accepted", None)),
        return_exceptions=True,
    )
    assert isinstance(results[1], ValueError)
    assert results[0] is None and results[2] is None
    assert [t.id_tag for t in await store.tags()] == ["A", "B"]
    rows = await store._run(
        lambda db: db.execute("SELECT * FROM meta WHERE key='half'").fetchall()
    )
    assert rows == []
    await store.close()
    with pytest.raises(RuntimeError, match="closed"):
        await store.tags()


async def test_energy_after_a_crash_is_unconfirmed_until_reported(
    tmp_path: Path,
) -> None:
    """After a crash the stored energy of a running session can be below what was
    shown (its last meter reports were written behind and lost): it is marked
    unconfirmed until the charger reports its register again; a clean close is
    not a crash."""
    from custom_components.energy_coordinator.csms.ledger import SessionLedger
    from custom_components.energy_coordinator.csms.model import ChargerState

    live, image = tmp_path / "live", tmp_path / "image"
    store = SessionStore(live / "s.db")
    await store.open()
    assert store.unclean_shutdown is False
    ledger = SessionLedger(store)
    charger = ChargerState("CP1")
    tx = await ledger.open(charger, 1, "TAG", T0, 1000.0)
    await ledger.record_register(charger, 1, 1500.0, tx)
    await store.open_sessions()  # the reports so far are on disk
    await ledger.record_register(charger, 1, 1600.0, tx)  # written behind
    shown = charger.connector(1).energy_total_wh
    assert shown == 600.0
    # A power cut now: the files as they are on disk, the marker included.
    image.mkdir()
    for path in live.iterdir():
        (image / path.name).write_bytes(path.read_bytes())
    await store.close()
    assert not (live / "s.db.open").exists()

    crashed = SessionStore(image / "s.db")
    await crashed.open()
    assert crashed.unclean_shutdown is True
    after = SessionLedger(crashed)
    restored = ChargerState("CP1")
    await after.restore({"CP1": restored})
    conn = restored.connector(1)
    assert conn.energy_total_wh < shown  # what a sensor must not show
    assert conn.energy_unconfirmed is True
    assert conn.transaction is not None
    await after.record_register(restored, 1, 1700.0, conn.transaction)
    assert conn.energy_unconfirmed is False
    assert conn.energy_total_wh == 700.0
    await crashed.close()

    reopened = SessionStore(live / "s.db")
    await reopened.open()
    assert reopened.unclean_shutdown is False
    clean = ChargerState("CP1")
    await SessionLedger(reopened).restore({"CP1": clean})
    assert clean.connector(1).energy_unconfirmed is False
    assert clean.connector(1).energy_total_wh == 600.0
    await reopened.close()
