"""The session ledger: every transaction and every watt-hour, in one place.

`SessionLedger` owns the charging sessions of all chargers and their energy: it
opens, meters and closes transactions through the durable `SessionStore` (awaited
before the charger is answered), keeps each connector's monotonic energy total,
restores running transactions after a restart, and remembers the id tags of
remote starts until their transactions report them. It writes the session parts of
the model (`ConnectorState.transaction`, `last_session_*`, `energy_total_wh`); the
OCPP links tell it what the charger reported and nothing else.

The rules it keeps:
- exactly once: a repeated start returns the running transaction, a repeated or
  unknown stop changes nothing;
- nothing counted twice: a register below the connector's last one never moves
  the total's baseline back (a late sample or a meter reset), except when a new
  transaction starts below it;
- nothing steps back: a session closes at the larger of the stop value and its
  last register; after a crash a restored running session's energy is marked
  unconfirmed (`energy_unconfirmed`) until the charger reports its register again.
"""

from __future__ import annotations

import logging
from datetime import datetime

from .meter import advance_total
from .model import ChargerState, ConnectorState, Transaction
from .sessions import EnergyTotal, SessionRecord, SessionStore

_LOGGER = logging.getLogger(__name__)

#: Remote starts remembered per charger until their transaction reports them.
MAX_REMOTE_STARTS = 32


def transaction_from_record(record: SessionRecord) -> Transaction:
    """A running `Transaction` rebuilt from its stored session."""
    return Transaction(
        session_id=record.session_id,
        transaction_id=record.transaction_id,
        connector_id=record.connector_id,
        id_tag=record.id_tag,
        start_time=record.start_time,
        meter_start_wh=record.meter_start_wh,
        meter_last_wh=record.meter_last_wh,
        evse_id=record.evse_id,
        last_seq_no=record.last_seq_no,
    )


class SessionLedger:
    """Transactions and energy of every charger of one central system."""

    def __init__(self, store: SessionStore) -> None:
        self.store = store
        self._totals: dict[tuple[str, int], EnergyTotal] = {}
        # charger id -> remoteStartId -> the id tag we started it with
        self._remote_starts: dict[str, dict[int, str]] = {}

    # Restoring ------------------------------------------------------------------

    async def restore(self, chargers: dict[str, ChargerState]) -> None:
        """Energy totals, last sessions and running transactions from the store."""
        for charger_id, charger in chargers.items():
            for connector_id, total in (
                await self.store.energy_totals(charger_id)
            ).items():
                self._totals[(charger_id, connector_id)] = total
                charger.connector(connector_id).energy_total_wh = total.total_wh
            for connector_id, last in (
                await self.store.last_sessions(charger_id)
            ).items():
                _show_session(charger.connector(connector_id), last)
        for session in await self.store.open_sessions():
            owner = chargers.get(session.charger_id)
            if owner is not None:
                conn = owner.connector(session.connector_id)
                conn.transaction = transaction_from_record(session)
                # After a crash its last meter reports may be lost: the stored
                # energy can be below what was shown, so it is not shown until
                # the charger reports again (no sensor steps back).
                conn.energy_unconfirmed = self.store.unclean_shutdown

    # Lookups --------------------------------------------------------------------

    def energy_total(self, charger_id: str, connector_id: int) -> EnergyTotal:
        """The energy counter of a connector (0 Wh when new)."""
        return self._totals.get((charger_id, connector_id), EnergyTotal(0.0, None))

    def last_register(self, charger_id: str, connector_id: int) -> float | None:
        """The connector's last energy register booked, if any."""
        return self.energy_total(charger_id, connector_id).last_register_wh

    @staticmethod
    def find(charger: ChargerState, transaction_id: str) -> Transaction | None:
        """The running transaction with this id, if the charger has it."""
        for conn in charger.connectors.values():
            if conn.transaction and conn.transaction.transaction_id == transaction_id:
                return conn.transaction
        return None

    async def stored(
        self, charger_id: str, transaction_id: str
    ) -> SessionRecord | None:
        """The stored session of a transaction id, running or finished."""
        return await self.store.get_session(charger_id, transaction_id)

    # Remote starts --------------------------------------------------------------

    def remote_start_requested(
        self, charger_id: str, remote_start_id: int, id_tag: str
    ) -> None:
        """We asked the charger to start with `id_tag` (before its answer)."""
        starts = self._remote_starts.setdefault(charger_id, {})
        starts[remote_start_id] = id_tag
        while len(starts) > MAX_REMOTE_STARTS:
            del starts[next(iter(starts))]

    def remote_start_settled(self, charger_id: str, remote_start_id: int) -> str | None:
        """The id tag of a remote start whose transaction reported (or failed)."""
        return self._remote_starts.get(charger_id, {}).pop(remote_start_id, None)

    # Transactions ---------------------------------------------------------------

    async def open(
        self,
        charger: ChargerState,
        connector_id: int,
        id_tag: str | None,
        start_time: datetime,
        meter_start_wh: float | None,
        transaction_id: str | None = None,
        evse_id: int | None = None,
        seq_no: int | None = None,
    ) -> Transaction:
        """Store a new (or repeated) transaction and make it the connector's.

        Returns the connector's own `Transaction` object (meter it, not a copy);
        for the repeat of a finished transaction, a detached copy. Without
        `meter_start_wh` the connector's last known register is used, or, when
        none is known, the first register read in the transaction.
        """
        charger_id = charger.charger_id
        total = self.energy_total(charger_id, connector_id)
        pending = False
        if meter_start_wh is None:
            pending = total.last_register_wh is None
            meter_start_wh = total.last_register_wh or 0.0
        record = await self.store.start_session(
            charger_id,
            connector_id,
            id_tag,
            start_time,
            meter_start_wh,
            transaction_id=transaction_id,
            evse_id=evse_id,
            seq_no=seq_no,
        )
        conn = charger.connector(connector_id)
        if not pending and (
            total.last_register_wh is None or meter_start_wh < total.last_register_wh
        ):
            # New or reset meter: count this session from its start value.
            total = EnergyTotal(total.total_wh, meter_start_wh)
            self._totals[(charger_id, connector_id)] = total
            await self.store.save_energy_total(charger_id, connector_id, total)
        transaction = transaction_from_record(record)
        transaction.meter_start_pending = pending and record.energy_wh == 0
        if record.stop_time is not None:  # a repeat of a finished transaction
            conn.transaction = None
            return transaction
        if (
            conn.transaction is not None
            and conn.transaction.session_id == record.session_id
        ):
            return conn.transaction  # a repeated start of the running one
        conn.transaction = transaction
        # A new session may be another vehicle: its SoC is unknown until reported
        # (the last one stays visible until then, after the session has ended).
        conn.meter.soc_percent = None
        _show_session(conn, record)
        return transaction

    async def record_register(
        self,
        charger: ChargerState,
        connector_id: int,
        register_wh: float,
        transaction: Transaction | None,
        seq_no: int | None = None,
        live: bool = True,
    ) -> bool:
        """Book an energy register on the total and the transaction, durably.

        `live=False` for a register older than what the connector reported last
        (a message queued while offline): when lower than the last register it
        is booked on its session only, never on the total, whose baseline would
        otherwise move back and count the difference twice. Returns whether it
        was booked on the total.
        """
        charger_id = charger.charger_id
        last = self.last_register(charger_id, connector_id)
        if not live and last is not None and register_wh < last:
            await self._book_on_session(charger, register_wh, transaction, seq_no)
            return False
        if transaction is not None and transaction.meter_start_pending:
            transaction.meter_start_pending = False
            transaction.meter_start_wh = register_wh
            transaction.meter_last_wh = register_wh
            await self.store.set_meter_start(transaction.session_id, register_wh)
        old = self.energy_total(charger_id, connector_id)
        total = advance_total(old, register_wh)
        meter: float | None = None
        if transaction is not None and register_wh >= transaction.meter_start_wh:
            transaction.meter_last_wh = max(transaction.meter_last_wh, register_wh)
            meter = transaction.meter_last_wh
            if seq_no is not None:
                transaction.last_seq_no = seq_no
        await self.store.record_meter(
            charger_id,
            connector_id,
            total if total != old else None,
            transaction.session_id if transaction is not None else None,
            meter,
            seq_no,
        )
        self._totals[(charger_id, connector_id)] = total
        conn = charger.connector(connector_id)
        conn.energy_total_wh = total.total_wh
        conn.energy_unconfirmed = False
        if transaction is not None and conn.transaction is transaction:
            conn.last_session_energy_wh = transaction.energy_wh
        return True

    async def _book_on_session(
        self,
        charger: ChargerState,
        register_wh: float,
        transaction: Transaction | None,
        seq_no: int | None,
    ) -> None:
        if transaction is None or register_wh < transaction.meter_start_wh:
            return
        transaction.meter_last_wh = max(transaction.meter_last_wh, register_wh)
        await self.store.update_session(
            transaction.session_id, transaction.meter_last_wh, seq_no
        )
        conn = charger.connectors.get(transaction.connector_id)
        if conn is not None and conn.transaction is transaction:
            conn.last_session_energy_wh = transaction.energy_wh

    async def set_id_tag(
        self, charger: ChargerState, transaction: Transaction, id_tag: str
    ) -> None:
        """An id tag that became known after the transaction started."""
        transaction.id_tag = id_tag
        await self.store.update_session(
            transaction.session_id, transaction.meter_last_wh, id_tag=id_tag
        )
        conn = charger.connector(transaction.connector_id)
        if conn.transaction is not None:
            conn.transaction.id_tag = id_tag
        conn.last_session_id_tag = id_tag

    async def close(
        self,
        charger: ChargerState,
        transaction_id: str,
        stop_time: datetime,
        meter_stop_wh: float | None,
        reason: str | None,
        resolution_wh: float = 1.0,
    ) -> SessionRecord | None:
        """Finish the transaction exactly once, even if it began before a restart.

        Returns the finished session, or None when it was unknown or already
        finished (the charger is still answered positively; nothing changes).
        A stop value below the last register closes at the register (energy never
        steps back); that is rounding when they differ by less than the meter's
        `resolution_wh`, and worth a log line when they differ by more.
        """
        tx = self.find(charger, transaction_id)
        if tx is not None:
            session_id, connector_id = tx.session_id, tx.connector_id
        else:
            stored = await self.stored(charger.charger_id, transaction_id)
            if stored is None or stored.stop_time is not None:
                return None
            session_id, connector_id = stored.session_id, stored.connector_id
        if meter_stop_wh is not None:
            await self.record_register(charger, connector_id, meter_stop_wh, tx)
        record = await self.store.finish_session(
            session_id, stop_time, meter_stop_wh, reason
        )
        if (
            record is not None
            and meter_stop_wh is not None
            and record.meter_stop_wh is not None
            and record.meter_stop_wh - meter_stop_wh >= resolution_wh
        ):
            _LOGGER.info(
                "%s: transaction %s stopped at %s Wh, below its last register;"
                " closed at %s Wh",
                charger.charger_id,
                transaction_id,
                meter_stop_wh,
                record.meter_stop_wh,
            )
        conn = charger.connector(connector_id)
        if conn.transaction is not None and conn.transaction.session_id == session_id:
            conn.end_transaction()
        if record is not None:
            _show_session(conn, record)
            conn.energy_unconfirmed = False
        return record


def _show_session(conn: ConnectorState, record: SessionRecord) -> None:
    """The connector's session sensors show this session."""
    conn.last_session_energy_wh = record.energy_wh
    conn.last_session_id_tag = record.id_tag
    conn.last_session_start = record.start_time
    conn.last_session_stop = record.stop_time
