"""What both OCPP handlers share: framing, CALLs both ways, command outcomes.

`ChargePointLink` is mixed into the `ocpp` library's ChargePoint classes by
`ocpp16.ChargePoint16` and `ocpp201.ChargePoint201`. It owns one connection:

- reading frames from the websocket and answering bad ones with a CALLERROR (the
  connection is kept; nothing is logged with a traceback for a charger's mistake);
- answering CALLs with their `@on` handler and sending ours, each validated inline
  against the OCPP schemas, an answer matched to its CALL by unique id;
- turning a command's outcome (result status, CALLERROR, time-out) into our errors,
  and what a charger's answers to limits teach (`send_limit`).

A link sees its central system only through `LinkHost` (calls go one way: the
server creates, serves and commands links; a link asks its host and is never
called back from it); transactions and energy go to the host's `SessionLedger`.
The version-specific command methods are declared here and implemented per version.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import inspect
import json
import logging
import re
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from ocpp.charge_point import (
    camel_to_snake_case,
    remove_nones,
    serialize_as_dict,
    snake_to_camel_case,
)
from ocpp.exceptions import InternalError, OCPPError
from ocpp.messages import Call, CallError, CallResult, MessageType, unpack
from ocpp.messages import _validate_payload as _library_validation
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
from .config import CentralSystemConfig
from .ledger import SessionLedger
from .model import ChargerInfo, ChargerState, ConnectorState

if TYPE_CHECKING:
    from websockets.asyncio.server import ServerConnection

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


def validate(message: Call | CallResult, ocpp_version: str) -> None:
    """Check a frame's payload against its OCPP schema, here and now.

    The `ocpp` library's own validator and error codes (FormatViolation,
    PropertyConstraintViolation, ...), run inline; the library's `validate_payload`
    runs it in an executor thread unless `ocpp.messages.ASYNC_VALIDATION` is
    turned off for the whole process, which other OCPP users in HA must not see.
    """
    _library_validation(message, ocpp_version)


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


class LinkHost(Protocol):
    """All a link may ask of its central system (`server.CentralSystem`)."""

    @property
    def config(self) -> CentralSystemConfig:
        """The central system's settings."""
        ...

    @property
    def ledger(self) -> SessionLedger:
        """Where transactions and energy are booked."""
        ...

    def is_approved(self, charger_id: str) -> bool:
        """Whether the owner added the charger (it may charge and authorize)."""
        ...

    def authorize(self, id_tag: str) -> str:
        """Accepted, Blocked, Expired or Invalid."""
        ...

    def tag(self, id_tag: str) -> IdTagEntry | None:
        """The owner's entry of an id tag, if any."""
        ...

    async def local_list(self) -> tuple[list[IdTagEntry], int]:
        """The id tags for a charger's local list, and the list's version."""
        ...

    async def charger_booted(self, charger: ChargerState, info: ChargerInfo) -> str:
        """Record a BootNotification; returns Accepted or Pending."""
        ...

    async def connectors_changed(self, charger: ChargerState) -> None:
        """A new connector appeared: persist the charger's connector list."""
        ...

    def heard_from(self, charger: ChargerState) -> None:
        """A frame arrived from the charger."""
        ...


class ChargePointLink(abc.ABC):
    """Connection-scoped handler for one charger; mixed into an ocpp ChargePoint."""

    # Provided by the ocpp library's ChargePoint.
    id: str
    _ocpp_version: str
    _response_timeout: float
    _call_lock: asyncio.Lock
    _call_result: Any  # the version's call_result module
    route_map: dict[str, dict[str, Any]]

    if TYPE_CHECKING:

        async def _send(self, message: str) -> None: ...

    def __init__(
        self, charger: ChargerState, host: LinkHost, connection: ServerConnection
    ) -> None:
        super().__init__(  # type: ignore[call-arg]
            charger.charger_id,
            connection,
            response_timeout=host.config.response_timeout,
            logger=FRAME_LOGGER,
        )
        self.charger = charger
        self.host = host
        self.ledger = host.ledger
        self.connection = connection
        self._tasks: set[asyncio.Task[Any]] = set()
        # unique id -> the answer awaited for our CALL (one at a time, OCPP-J)
        self._awaiting: dict[str, asyncio.Future[CallResult | CallError]] = {}

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
                self.host.heard_from(self.charger)
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
            waiting = self._awaiting.get(str(msg.unique_id))
            if waiting is None or waiting.done():
                _LOGGER.debug("%s: answer %s not awaited", self.id, msg.unique_id)
            else:
                waiting.set_result(msg)

    async def _handle_call(self, msg: Call) -> None:
        """Answer one CALL with its `@on` handler (the version checked the action).

        The payload is validated against the OCPP schema before the handler runs,
        and the answer before it is sent, inline: the library would do it in an
        executor thread (unless reconfigured for the whole process), and a thread
        hop per frame costs more than the validation.
        """
        validate(msg, self._ocpp_version)
        handler = self.route_map[msg.action]["_on_action"]
        try:
            response = handler(**camel_to_snake_case(msg.payload))
            if inspect.isawaitable(response):
                response = await response
        except (OCPPError, ConnectionClosed):
            raise
        except Exception as err:  # our bug: the charger gets an InternalError
            _LOGGER.exception("%s: handling %s failed", self.id, msg.action)
            raise InternalError(description="Internal error") from err
        payload = snake_to_camel_case(remove_nones(serialize_as_dict(response)))
        result = msg.create_call_result(payload)
        validate(result, self._ocpp_version)
        await self._send(result.to_json())

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
        """Send a CALL and return the charger's answer (its call_result payload).

        Raises our errors on time-out, CALLERROR (NotImplemented / NotSupported:
        `CommandNotSupported`), a lost connection, an answer that is not valid
        OCPP, or a status not in `accepted`. Request and answer are validated
        inline against the OCPP schemas (see `_handle_call`).
        """
        action = type(payload).__name__
        message = Call(
            unique_id=str(uuid.uuid4()),
            action=action,
            payload=remove_nones(snake_to_camel_case(serialize_as_dict(payload))),
        )
        try:
            validate(message, self._ocpp_version)
        except OCPPError as err:
            raise CommandFailed(
                self.id, action, short_detail(f"{err.code}: {err.description}")
            ) from err
        answer = await self._exchange(message)
        if isinstance(answer, CallError):
            code = str(answer.error_code)
            FRAME_LOGGER.debug("%s: %s answered %s", self.id, action, code)
            if code in NOT_SUPPORTED_CODES:
                raise CommandNotSupported(self.id, action, code)
            raise CommandFailed(
                self.id, action, short_detail(f"{code}: {answer.error_description}")
            )
        answer.action = action
        try:
            validate(answer, self._ocpp_version)
        except OCPPError as err:
            raise CommandFailed(
                self.id,
                action,
                short_detail(f"invalid answer: {err.code}: {err.description}"),
            ) from err
        result = getattr(self._call_result, action)(
            **camel_to_snake_case(answer.payload)
        )
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

    async def _exchange(self, message: Call) -> CallResult | CallError:
        """Send one CALL and wait for its answer (one CALL at a time, OCPP-J)."""
        action = message.action
        async with self._call_lock:
            waiting = asyncio.get_running_loop().create_future()
            self._awaiting[message.unique_id] = waiting
            try:
                await self._send(message.to_json())
                async with asyncio.timeout(self._response_timeout):
                    return await waiting
            except TimeoutError as err:
                raise CommandTimeout(self.id, action) from err
            except ConnectionClosed as err:
                raise CommandFailed(self.id, action, "connection closed") from err
            finally:
                del self._awaiting[message.unique_id]

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

    async def booted(self, info: ChargerInfo) -> str:
        """A BootNotification: the host decides; an accepted charger is learned."""
        status = await self.host.charger_booted(self.charger, info)
        if status == "Accepted":
            self.spawn(self.after_accepted())
        return status

    @property
    def approved(self) -> bool:
        """Whether the owner added this charger (it may charge and authorize)."""
        return self.host.is_approved(self.id)

    async def after_accepted(self) -> None:  # noqa: B027 - optional hook
        """Called (as a task) once the charger's boot is accepted."""


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
