"""What both OCPP handlers share: framing errors, liveness, commands, session ledger.

`ChargePointLink` is mixed into the `ocpp` library's ChargePoint classes by
`ocpp16.ChargePoint16` and `ocpp201.ChargePoint201`. It owns:

- reading frames from the websocket and answering bad ones with a CALLERROR (the
  connection is kept; nothing is logged with a traceback for a charger's mistake);
- liveness: every frame marks the charger as heard from;
- turning a command's outcome (result status, CALLERROR, time-out) into our errors;
- the session ledger: opening, metering and closing transactions through the
  `SessionStore` before the charger is answered, and the monotonic energy total.

The version-specific command methods are declared here and implemented per version.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import json
import logging
import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ocpp.exceptions import OCPPError
from ocpp.messages import Call, MessageType, unpack
from websockets.exceptions import ConnectionClosed

from .commands import (
    NOT_SUPPORTED_CODES,
    ChargingLimit,
    CommandError,
    CommandFailed,
    CommandNotSupported,
    CommandRejected,
    CommandTimeout,
    IdTagEntry,
    LimitUnit,
    ResetKind,
    short_detail,
)
from .meter import advance_total
from .model import ChargerState, ConnectorState, Transaction
from .sessions import EnergyTotal, SessionRecord

if TYPE_CHECKING:
    from websockets.asyncio.server import ServerConnection

    from .server import CentralSystem

_LOGGER = logging.getLogger(__name__)
#: Frame-level log (every frame at DEBUG); kept apart so it can be enabled alone.
FRAME_LOGGER = logging.getLogger(__package__ + ".frames")


class _FramesAtDebug(logging.Filter):
    """The `ocpp` library logs every frame sent and received at INFO.

    That is debugging detail: such records become DEBUG and pass only when DEBUG is
    enabled for the frames logger. Its warnings and errors pass unchanged.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno != logging.INFO:
            return True
        record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return FRAME_LOGGER.isEnabledFor(logging.DEBUG)


FRAME_LOGGER.addFilter(_FramesAtDebug())

#: Largest frame we process; bigger ones get a CALLERROR (much bigger ones are
#: refused by the websocket layer, see server.MAX_WS_FRAME).
MAX_FRAME_CHARS = 64 * 1024


def utcnow() -> datetime:
    """Current time, timezone-aware UTC."""
    return datetime.now(UTC)


def parse_time(value: str | None) -> datetime:
    """An OCPP timestamp as an aware datetime (now when missing or unparsable)."""
    if not value:
        return utcnow()
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return utcnow()
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


class ChargePointLink(abc.ABC):
    """Connection-scoped handler for one charger; mixed into an ocpp ChargePoint."""

    # Provided by the ocpp library's ChargePoint.
    id: str
    _ocpp_version: str

    if TYPE_CHECKING:

        async def call(
            self,
            payload: Any,
            suppress: bool = True,
            unique_id: str | None = None,
            skip_schema_validation: bool = False,
        ) -> Any: ...

        async def _handle_call(self, msg: Call) -> Any: ...

        async def _send(self, message: str) -> None: ...

    def __init__(
        self,
        charger: ChargerState,
        system: CentralSystem,
        connection: ServerConnection,
    ) -> None:
        super().__init__(  # type: ignore[call-arg]
            charger.charger_id,
            connection,
            response_timeout=system.config.response_timeout,
            logger=FRAME_LOGGER,
        )
        self.charger = charger
        self.system = system
        self.connection = connection
        self._tasks: set[asyncio.Task[Any]] = set()

    # Framing ------------------------------------------------------------------

    #: Error code for a frame that is not valid JSON (1.6 says FormationViolation).
    format_error_code = "FormatViolation"
    #: Error code for a frame with an unknown message type id.
    message_type_error_code = "MessageTypeNotSupported"

    async def serve(self) -> None:
        """Process frames until the connection closes."""
        try:
            async for raw in self.connection:
                text = raw if isinstance(raw, str) else raw.decode("utf-8", "replace")
                self.system.heard_from(self.charger)
                await self.route_message(text)
        except ConnectionClosed:
            pass
        finally:
            for task in list(self._tasks):
                task.cancel()

    async def _reply_error(self, unique_id: str, code: str, description: str) -> None:
        frame = json.dumps([MessageType.CallError, unique_id, code, description, {}])
        with contextlib.suppress(ConnectionClosed):
            await self._send(frame)

    async def route_message(self, raw_msg: str) -> None:
        """Route one frame; every bad CALL gets a CALLERROR, nothing raises."""
        if len(raw_msg) > MAX_FRAME_CHARS:
            _LOGGER.warning("%s: frame of %d characters refused", self.id, len(raw_msg))
            await self._reply_error(
                _leading_unique_id(raw_msg[:256]),
                self.format_error_code,
                f"Frame larger than {MAX_FRAME_CHARS} characters",
            )
            return
        FRAME_LOGGER.debug("%s: receive %s", self.id, raw_msg)
        try:
            msg = unpack(raw_msg)
        except OCPPError as err:
            unique_id = _guess_unique_id(raw_msg)
            code = err.code
            if code == "PropertyConstraintViolation":  # unknown MessageTypeId
                code = self.message_type_error_code
            elif code == "FormatViolation":
                code = self.format_error_code
            _LOGGER.warning("%s: malformed frame: %s", self.id, err.description)
            await self._reply_error(unique_id, code, str(err.description))
            return
        if msg.message_type_id == MessageType.Call:
            if not isinstance(msg.payload, dict) or not isinstance(msg.action, str):
                await self._reply_error(
                    str(msg.unique_id), self.format_error_code, "Payload not an object"
                )
                return
            try:
                await self._handle_call(msg)
            except OCPPError as err:
                _LOGGER.warning(
                    "%s: %s refused: %s %s",
                    self.id,
                    msg.action,
                    err.code,
                    err.details or err.description,
                )
                await self._send(msg.create_call_error(err).to_json())
            except ConnectionClosed:
                pass
        else:
            self._response_queue.put_nowait(msg)  # type: ignore[attr-defined]

    def spawn(self, coro: Any) -> None:
        """Run a follow-up (a call to the charger) after answering its frame."""
        task: asyncio.Task[Any] = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        task.add_done_callback(_log_task_error)

    # Commands -----------------------------------------------------------------

    async def request(
        self, payload: Any, accepted: tuple[str, ...] | None = ("Accepted",)
    ) -> Any:
        """Send a CALL; raise our errors on time-out, CALLERROR or a refusal."""
        action = type(payload).__name__
        try:
            result = await self.call(payload, suppress=False)
        except TimeoutError as err:
            raise CommandTimeout(self.id, action) from err
        except OCPPError as err:
            if err.code in NOT_SUPPORTED_CODES:
                raise CommandNotSupported(self.id, action, err.code) from err
            raise CommandFailed(
                self.id, action, short_detail(f"{err.code}: {err.description}")
            ) from err
        except ConnectionClosed as err:
            raise CommandFailed(self.id, action, "connection closed") from err
        if accepted is not None:
            status = getattr(result, "status", None)
            status = getattr(status, "value", status)
            if status not in accepted:
                raise CommandRejected(self.id, action, str(status))
        return result

    async def send_limit(
        self, payload: Any, targets: list[ConnectorState], limit: ChargingLimit
    ) -> None:
        """Send a SetChargingProfile for `limit`; once accepted the targets show it.

        Not sent to a charger whose configuration says it has no smart charging
        (`supports_smart_charging` False). A NotImplemented or NotSupported answer
        is remembered (`limits_refused`, until it connects or boots again), but
        each new request is still sent: when to ask again is the caller's policy
        (the site backs off). Unknown chargers are tried.

        A Rejected answer counts against each target (`rejected_limits`, so that
        a charger that keeps refusing can be told from one that refused once); an
        accepted one resets the count.
        """
        if self.charger.supports_smart_charging is False:
            raise CommandNotSupported(
                self.id, "SetChargingProfile", "no smart charging"
            )
        try:
            await self.request(payload)
        except CommandNotSupported as err:
            # Remembered until the charger connects or boots again.
            self.charger.limits_refused = err.detail
            self.charger.notify()
            raise
        except CommandRejected:
            for conn in targets:
                conn.rejected_limits += 1
            self.charger.notify()
            raise
        for conn in targets:
            conn.rejected_limits = 0
            if limit.unit == LimitUnit.AMPERE:
                conn.current_limit_a, conn.power_limit_w = float(limit.value), None
            else:
                conn.current_limit_a, conn.power_limit_w = None, float(limit.value)
            conn.limit_phases = limit.phases
        self.charger.notify()

    @abc.abstractmethod
    async def start_charging(self, connector_id: int, id_tag: str) -> None:
        """Ask the charger to start a transaction."""

    @abc.abstractmethod
    async def stop_charging(self, connector_id: int) -> None:
        """Ask the charger to stop the connector's transaction."""

    @abc.abstractmethod
    async def set_charging_limit(self, limit: ChargingLimit) -> None:
        """Apply a current or power limit (0 pauses) as a charging profile."""

    @abc.abstractmethod
    async def clear_charging_limit(self, connector_id: int) -> None:
        """Remove the limits we set."""

    @abc.abstractmethod
    async def get_composite_schedule(
        self, connector_id: int, duration_s: int, unit: str | None
    ) -> dict[str, Any]:
        """The schedule the charger will follow."""

    @abc.abstractmethod
    async def reset(self, kind: ResetKind) -> None:
        """Reboot the charger."""

    @abc.abstractmethod
    async def unlock(self, connector_id: int) -> None:
        """Unlock the connector's cable."""

    @abc.abstractmethod
    async def set_availability(self, connector_id: int, available: bool) -> None:
        """Make the connector (0 = charger) operative or inoperative."""

    @abc.abstractmethod
    async def get_configuration(self, keys: list[str] | None) -> dict[str, Any]:
        """Read configuration keys (2.0.1: Component.Variable names)."""

    @abc.abstractmethod
    async def set_configuration(self, key: str, value: str) -> str:
        """Change one configuration key; returns the status (e.g. RebootRequired)."""

    @abc.abstractmethod
    async def trigger_message(self, message: str, connector_id: int | None) -> None:
        """Ask the charger to send a message now."""

    @abc.abstractmethod
    async def update_firmware(
        self, location: str, retrieve_date: datetime | None
    ) -> None:
        """Ask the charger to download and install firmware."""

    @abc.abstractmethod
    async def request_diagnostics(self, location: str) -> str | None:
        """Ask the charger to upload diagnostics/logs; returns the file name."""

    @abc.abstractmethod
    async def data_transfer(
        self, vendor_id: str, message_id: str | None, data: str | None
    ) -> dict[str, Any]:
        """Vendor-specific DataTransfer; returns status and data."""

    @abc.abstractmethod
    async def send_local_list(self, tags: list[IdTagEntry], version: int) -> None:
        """Replace the charger's local authorization list."""

    async def after_accepted(self) -> None:  # noqa: B027 - optional hook
        """Called (as a task) once the charger's boot is accepted."""

    # Session ledger -----------------------------------------------------------

    async def open_transaction(
        self,
        connector_id: int,
        id_tag: str | None,
        start_time: datetime,
        meter_start_wh: float | None,
        transaction_id: str | None = None,
        evse_id: int | None = None,
        seq_no: int | None = None,
    ) -> Transaction:
        """Store a new (or repeated) transaction and make it the connector's.

        Returns the connector's own `Transaction` object (meter it, not a copy).
        Without `meter_start_wh` the connector's last known register is used, or,
        when none is known, the first register read in the transaction.
        """
        total = self.system.energy_total(self.id, connector_id)
        pending = False
        if meter_start_wh is None:
            pending = total.last_register_wh is None
            meter_start_wh = total.last_register_wh or 0.0
        record = await self.system.store.start_session(
            self.id,
            connector_id,
            id_tag,
            start_time,
            meter_start_wh,
            transaction_id=transaction_id,
            evse_id=evse_id,
            seq_no=seq_no,
        )
        conn = self.charger.connector(connector_id)
        if not pending and (
            total.last_register_wh is None or meter_start_wh < total.last_register_wh
        ):
            # New or reset meter: count this session from its start value.
            total = EnergyTotal(total.total_wh, meter_start_wh)
            self.system.set_energy_total(self.id, connector_id, total)
            await self.system.store.save_energy_total(self.id, connector_id, total)
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
        conn.last_session_energy_wh = record.energy_wh
        conn.last_session_id_tag = record.id_tag
        conn.last_session_start = record.start_time
        conn.last_session_stop = None
        return transaction

    async def record_register(
        self,
        connector_id: int,
        register_wh: float,
        transaction: Transaction | None,
        seq_no: int | None = None,
    ) -> None:
        """Advance the energy total and the transaction's meter, durably."""
        if transaction is not None and transaction.meter_start_pending:
            transaction.meter_start_pending = False
            transaction.meter_start_wh = register_wh
            transaction.meter_last_wh = register_wh
            await self.system.store.set_meter_start(transaction.session_id, register_wh)
        old = self.system.energy_total(self.id, connector_id)
        total = advance_total(old, register_wh)
        meter: float | None = None
        if transaction is not None and register_wh >= transaction.meter_start_wh:
            transaction.meter_last_wh = max(transaction.meter_last_wh, register_wh)
            meter = transaction.meter_last_wh
            if seq_no is not None:
                transaction.last_seq_no = seq_no
        await self.system.store.record_meter(
            self.id,
            connector_id,
            total if total != old else None,
            transaction.session_id if transaction is not None else None,
            meter,
            seq_no,
        )
        self.system.set_energy_total(self.id, connector_id, total)
        conn = self.charger.connector(connector_id)
        conn.energy_total_wh = total.total_wh
        if transaction is not None and conn.transaction is transaction:
            conn.last_session_energy_wh = transaction.energy_wh

    async def close_transaction(
        self,
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
        tx = self.find_transaction(transaction_id)
        if tx is not None:
            session_id = tx.session_id
            connector_id = tx.connector_id
        else:
            stored = await self.system.store.get_session(self.id, transaction_id)
            if stored is None or stored.stop_time is not None:
                return None
            session_id = stored.session_id
            connector_id = stored.connector_id
        if meter_stop_wh is not None:
            await self.record_register(connector_id, meter_stop_wh, tx)
        record = await self.system.store.finish_session(
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
                self.id,
                transaction_id,
                meter_stop_wh,
                record.meter_stop_wh,
            )
        conn = self.charger.connector(connector_id)
        if conn.transaction is not None and conn.transaction.session_id == session_id:
            conn.end_transaction()
        if record is not None:
            conn.last_session_energy_wh = record.energy_wh
            conn.last_session_id_tag = record.id_tag
            conn.last_session_start = record.start_time
            conn.last_session_stop = record.stop_time
        return record

    def find_transaction(self, transaction_id: str) -> Transaction | None:
        """The running transaction with this id, if we hold it in memory."""
        for conn in self.charger.connectors.values():
            if conn.transaction and conn.transaction.transaction_id == transaction_id:
                return conn.transaction
        return None


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


def _guess_unique_id(raw: str) -> str:
    """The unique id of a broken frame when it can be read, else "-1"."""
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        return "-1"
    if isinstance(data, list) and len(data) > 1 and isinstance(data[1], str):
        return data[1][:36]
    return "-1"


#: The start of a frame up to its unique id: `[<type>, "<id>"`.
_FRAME_HEAD = re.compile(r'\s*\[\s*\d+\s*,\s*"([^"\\]{1,36})"')


def _leading_unique_id(head: str) -> str:
    """The unique id at the start of a frame too big to parse, else "-1"."""
    match = _FRAME_HEAD.match(head)
    return match.group(1) if match else "-1"


def _log_task_error(task: asyncio.Task[Any]) -> None:
    if task.cancelled():
        return
    err = task.exception()
    if err is None:
        return
    if isinstance(err, CommandError):
        _LOGGER.info("Follow-up command failed: %s", err)
    else:
        _LOGGER.error("Follow-up task failed", exc_info=err)
