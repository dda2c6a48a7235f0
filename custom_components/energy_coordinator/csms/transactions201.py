"""OCPP 2.0.1 transactions: TransactionEvent and MeterValues into the ledger.

`TransactionEvents201` (a part of `ocpp201.ChargePoint201`) owns how a station's
transaction events and meter values become sessions and energy: the transaction an
event belongs to (opened when first seen, even from an Updated or Ended event after
a restart), its start register (Transaction.Begin, else what the connector showed),
the order of meter values (oldest first; values older than the live reading only
count for their register), seqNo repeats (ignored), offline events (booked on the
session, never moving the energy total back), the id tag (from the event, or from
the remoteStartId of our RequestStartTransaction), and the EVSE's charging state.
The `SessionLedger` stores and counts; this module tells it what the station said.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from ocpp.v201 import call_result
from ocpp.v201.enums import Action

from .link import parse_time
from .meter import ENERGY_REGISTER, Sample, apply_samples, to_si
from .model import (
    PLUGGED_STATES,
    ConnectorState,
    ConnectorStatus,
    MeterReading,
    Transaction,
)
from .station201 import Station201, handles

_LOGGER = logging.getLogger(__name__)

#: 2.0.1 chargingState -> our connector status.
_CHARGING_STATE: dict[str, ConnectorStatus] = {
    "Charging": ConnectorStatus.CHARGING,
    "SuspendedEV": ConnectorStatus.SUSPENDED_EV,
    "SuspendedEVSE": ConnectorStatus.SUSPENDED_EVSE,
    "EVConnected": ConnectorStatus.PREPARING,
    "Idle": ConnectorStatus.PREPARING,  # authorized, no cable yet
}


def to_samples(meter_value: dict[str, Any]) -> list[Sample]:
    """The sampled values of one 2.0.1 MeterValue: value * 10^multiplier."""
    samples: list[Sample] = []
    for sampled in meter_value.get("sampled_value") or []:
        uom = sampled.get("unit_of_measure") or {}
        multiplier = int(uom.get("multiplier", 0) or 0)
        value = float(sampled["value"])
        # Divide for negative powers: 12345 * 10^-1 is then exactly 1234.5.
        if multiplier >= 0:
            value *= 10.0**multiplier
        else:
            value /= 10.0**-multiplier
        samples.append(
            Sample(
                value=value,
                measurand=sampled.get("measurand") or ENERGY_REGISTER,
                phase=sampled.get("phase"),
                unit=uom.get("unit"),
                location=sampled.get("location"),
            )
        )
    return samples


def registers(meter_values: Iterable[dict[str, Any]]) -> list[tuple[str, float]]:
    """(context, Wh) of every whole-meter energy register sample, in order."""
    found: list[tuple[str, float]] = []
    for meter_value in meter_values:
        for sampled, sample in zip(
            meter_value.get("sampled_value") or [],
            to_samples(meter_value),
            strict=True,
        ):
            if sample.measurand == ENERGY_REGISTER and sample.phase is None:
                found.append((sampled.get("context") or "", to_si(sample)))
    return found


def ordered(meter_values: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """Meter values oldest first (stable for equal timestamps)."""
    return sorted(meter_values or [], key=lambda mv: parse_time(mv.get("timestamp")))


class TransactionEvents201(Station201):
    """The transaction events and meter values of one 2.0.1 connection."""

    @handles(Action.meter_values)
    async def on_meter_values(
        self, evse_id: int, meter_value: list[dict[str, Any]], **_: Any
    ) -> call_result.MeterValues:
        if evse_id == 0:  # the station's main meter: not a charging point
            return call_result.MeterValues()
        conn = self._evse(evse_id)
        register, live = self._apply_meter(conn, ordered(meter_value))
        if register is not None:
            await self._record(conn, register, live, conn.transaction)
        self._done(True)
        return call_result.MeterValues()

    @staticmethod
    def _apply_meter(
        conn: ConnectorState, meter_values: list[dict[str, Any]]
    ) -> tuple[float | None, bool]:
        """Fold meter values (oldest first) into the live reading.

        Values older than the reading only contribute their energy register,
        so a queued offline message never makes the live values go back.
        Returns the newest energy register, if any, and whether it is live
        (not older than what we already knew).
        """
        register: float | None = None
        live = True
        for meter_value in meter_values:
            when = parse_time(meter_value.get("timestamp"))
            last = conn.meter.timestamp
            current = last is None or when >= last
            target = conn.meter if current else MeterReading()
            found = apply_samples(target, to_samples(meter_value), when)
            if found is not None:
                register, live = found, current
        return register, live

    async def _record(
        self,
        conn: ConnectorState,
        register: float,
        live: bool,
        tx: Transaction | None,
        seq_no: int | None = None,
    ) -> bool:
        """Book a register; False when it was only booked on the session."""
        return await self.ledger.record_register(
            self.charger, conn.connector_id, register, tx, seq_no, live=live
        )

    @handles(Action.transaction_event)
    async def on_transaction_event(
        self,
        event_type: str,
        timestamp: str,
        trigger_reason: str,
        seq_no: int,
        transaction_info: dict[str, Any],
        meter_value: list[dict[str, Any]] | None = None,
        offline: bool = False,
        evse: dict[str, Any] | None = None,
        id_token: dict[str, Any] | None = None,
        **_: Any,
    ) -> call_result.TransactionEvent:
        tx_id = str(transaction_info["transaction_id"])
        when = parse_time(timestamp)
        id_tag = str(id_token["id_token"]) if id_token else None
        remote_start_id = transaction_info.get("remote_start_id")
        if remote_start_id is not None:
            # Started by us; without an idToken in the event, the tag we sent.
            started_with = self.ledger.remote_start_settled(
                self.id, int(remote_start_id)
            )
            id_tag = id_tag or started_with
        response = call_result.TransactionEvent(
            id_token_info={"status": self._authorize(id_token)} if id_token else None
        )
        meter_values = ordered(meter_value)
        tx = self.ledger.find(self.charger, tx_id)
        if tx is None:
            stored = await self.ledger.stored(self.id, tx_id)
            if stored is not None and stored.stop_time is not None:
                _LOGGER.debug("%s: event for finished transaction %s", self.id, tx_id)
                return response  # a repeat: nothing changes
            evse_id = self._event_evse(evse, stored.connector_id if stored else None)
            conn = self._evse(evse_id, (evse or {}).get("connector_id"))
            await self._close_stale(conn, tx_id, when)
            opened = await self.ledger.open(
                self.charger,
                evse_id,
                id_tag,
                stored.start_time if stored else when,
                self._meter_start(conn, evse_id, meter_values, event_type),
                transaction_id=tx_id,
                evse_id=evse_id,
                seq_no=seq_no,
            )
            # Meter the connector's own Transaction object, not the returned copy.
            tx = self.ledger.find(self.charger, tx_id) or opened
            fresh = True
            if event_type != "Started":
                _LOGGER.info(
                    "%s: %s event for unknown transaction %s; opened it",
                    self.id,
                    event_type,
                    tx_id,
                )
        else:
            evse_id = tx.connector_id
            conn = self._evse(evse_id, (evse or {}).get("connector_id"))
            fresh = tx.last_seq_no is None or seq_no > tx.last_seq_no
        if tx.id_tag is None and id_tag is not None:
            await self.ledger.set_id_tag(self.charger, tx, id_tag)
        if not fresh:
            _LOGGER.debug("%s: %s seqNo %s seen before", self.id, tx_id, seq_no)
        register, live = (
            self._apply_meter(conn, meter_values) if fresh else (None, True)
        )
        state = transaction_info.get("charging_state")
        if event_type == "Ended":
            reason = transaction_info.get("stopped_reason") or "Local"
            if register is not None and not live:
                # Book it on the session only; close with the session's meter.
                live = await self._record(conn, register, live, tx)
            await self.ledger.close(
                self.charger, tx_id, when, register if live else None, reason
            )
            if fresh and not offline:
                if state == "Idle" and conn.status in PLUGGED_STATES:
                    conn.set_status(ConnectorStatus.AVAILABLE)
                elif conn.status in PLUGGED_STATES:
                    conn.set_status(ConnectorStatus.FINISHING)
        elif fresh:
            if register is not None:
                await self._record(conn, register, live, tx, seq_no)
            tx.last_seq_no = seq_no
            if not offline and state in _CHARGING_STATE:
                conn.set_status(_CHARGING_STATE[state])
        self._done(True)
        return response

    def _event_evse(self, evse: dict[str, Any] | None, stored: int | None) -> int:
        """The EVSE of a transaction event (omitted after the first one)."""
        if evse and evse.get("id"):
            return int(evse["id"])
        if stored is not None:
            return stored
        evses = sorted(e for e in self.charger.connectors if e > 0)
        return evses[0] if evses else 1

    def _meter_start(
        self,
        conn: ConnectorState,
        evse_id: int,
        meter_values: list[dict[str, Any]],
        event_type: str,
    ) -> float | None:
        found = registers(meter_values)
        for context, value in found:
            if context == "Transaction.Begin":
                return value
        known = conn.meter.energy_wh
        if known is None:
            known = self.ledger.last_register(self.id, evse_id)
        if event_type == "Started" and found:
            return found[0][1]
        if known is not None:
            return known
        if found:
            return found[0][1]
        _LOGGER.debug(
            "%s: no meter start for a transaction on EVSE %s yet; the first"
            " register read becomes it",
            self.id,
            evse_id,
        )
        return None

    async def _close_stale(
        self, conn: ConnectorState, tx_id: str, when: datetime
    ) -> None:
        """A new transaction on an EVSE whose previous one never ended."""
        old = conn.transaction
        if old is not None and old.transaction_id != tx_id:
            _LOGGER.warning(
                "%s: transaction %s on EVSE %s never ended; closing it",
                self.id,
                old.transaction_id,
                conn.connector_id,
            )
            await self.ledger.close(
                self.charger, old.transaction_id, when, None, "Other"
            )
