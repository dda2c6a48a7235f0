"""The SessionStore: exactly-once finish, queries, tags, chargers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from custom_components.energy_coordinator.csms.sessions import (
    ChargerRecord,
    EnergyTotal,
    SessionStore,
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
