"""Version-neutral core of a simulated charge point.

Owns everything that does not depend on the OCPP version: the connection
lifecycle (connect with subprotocol and Basic auth, boot with retry, heartbeat,
reconnect, reboot, clean shutdown), the task bookkeeping, the per-connector
electrical state and metering (energy integration, limits from charging
profiles, pause/resume, stop at target SoC), the EV session API used by tests
and the demo (``plug_in``, ``authorize_and_start``, ``stop_transaction``,
``unplug``), the ``received`` log of central-system calls and the ``responses``
knob that makes the charger answer differently or not at all.

``commands.CommandHandling`` adds what the charger does with the central system's
commands, once for both versions; the OCPP 1.6 and 2.0.1 subclasses
(``charge_point16``, ``charge_point201``) add the message formats and the handlers
that read and answer each command in them.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import random
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple, TypeVar, cast

from ocpp.charge_point import remove_nones, serialize_as_dict, snake_to_camel_case
from ocpp.exceptions import InternalError, OCPPError
from ocpp.messages import Call, _validate_payload
from ocpp.routing import on
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidURI, WebSocketException
from websockets.typing import Subprotocol

from .ev import EV
from .profiles import CP_MAX, Limit, ProfileStore, as_limit, canonical_purpose

_LOGGER = logging.getLogger(__name__)
OCPP_LOGGER = logging.getLogger("simulator.ocpp")

VENDOR = "EnergyCoordinatorSim"
FIRMWARE_VERSION = "1.0.0"
DEFAULT_ID_TAG = "SIMTAG0001"
MAX_RECEIVED = 10_000

# Values of ``responses[action]`` with a special meaning.
TIMEOUT = "timeout"
ERROR = "error"
#: CALLERRORs of a charger that does not do an action (its description echoes the
#: whole request, as some firmwares do).
NOT_IMPLEMENTED = "error:NotImplemented"
NOT_SUPPORTED = "error:NotSupported"

_F = TypeVar("_F", bound=Callable[..., Any])


def handles(action: str) -> Callable[[_F], _F]:
    """Typed wrapper of ``ocpp.routing.on``: mark a method as a CALL handler."""
    return cast(Callable[[_F], _F], on(action))


def utcnow() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime | None = None) -> str:
    """RFC 3339 UTC timestamp with milliseconds and a ``Z`` suffix."""
    return (
        (moment or utcnow()).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    )


def fmt(value: float) -> str:
    """A number as OCPP 1.6 sampled-value text: at most two decimals."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


class SimulatorError(Exception):
    """A session API call that does not fit the charger's current state."""


class NotConnectedError(SimulatorError, ConnectionError):
    """The charger has no open connection to the central system."""


class Sample(NamedTuple):
    """One measured value, version-neutral."""

    measurand: str
    value: float
    unit: str
    phase: str | None = None
    location: str | None = None


@dataclass(slots=True, eq=False)
class Connector:
    """State of one connector (1.6) / EVSE with one connector (2.0.1).

    ``status`` is the last status sent in StatusNotification (1.6: Available,
    Preparing, Charging, SuspendedEVSE, SuspendedEV, Finishing, Unavailable;
    2.0.1: Available, Occupied, Unavailable). ``charging_state`` is version
    neutral: Idle, EVConnected, Charging, SuspendedEVSE, SuspendedEV.
    ``energy_wh`` is the monotonic meter register, ``power_w`` / ``current_a``
    (per phase) / ``phases_in_use`` what flows now, ``offered_current_a`` the
    per-phase current offered to the EV (charger maximum and profiles) and
    ``limit_a`` the profile limit converted to amps (``None``: no profile).
    """

    id: int
    energy_wh: float = 0.0
    status: str | None = None
    operative: bool = True
    scheduled_operative: bool | None = None
    ev: EV | None = None
    transaction_id: int | str | None = None
    id_tag: str | None = None
    tx_started_at: datetime | None = None
    meter_start_wh: float = 0.0
    finishing: bool = False
    charging_state: str = "Idle"
    power_w: float = 0.0
    current_a: float = 0.0
    offered_current_a: float = 0.0
    limit_a: float | None = None
    phases_in_use: int = 0
    last_update: float | None = None
    seq_no: int = 0
    remote_start_id: int | None = None
    last_stop_reason: str | None = None
    sessions: int = 0
    busy: bool = False
    session_ended: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def plugged(self) -> bool:
        return self.ev is not None

    @property
    def in_transaction(self) -> bool:
        return self.transaction_id is not None

    @property
    def session_energy_wh(self) -> float:
        """Energy of the running (or last) session."""
        return self.energy_wh - self.meter_start_wh


class SimulatedChargePoint:
    """Shared behaviour of :class:`ChargePoint16` and :class:`ChargePoint201`.

    Not instantiated directly. The subclasses also inherit the ``ocpp`` library's
    ``ChargePoint`` (after this class in the MRO), whose ``call``/``_send``/
    ``route_map`` this code uses. ``start()`` here is the simulator's own
    lifecycle method; the library's receive loop is run by ``_receive_forever``.

    Options: ``password`` (HTTP Basic, user = charger id), ``connectors``,
    ``voltage``, ``phases``, ``max_current`` / ``min_current`` (A; an offer
    below ``min_current`` pauses like IEC 61851's 6 A), ``meter_interval`` (s,
    fractions allowed; 0 = no periodic values), ``meter_start_wh``,
    ``heartbeat_interval`` (until the boot answer sets it),
    ``response_timeout``, ``reconnect`` / ``reconnect_delay``,
    ``boot_retry_interval`` (when Pending/Rejected come with interval 0),
    ``speed`` (battery time acceleration: energy per second x speed),
    ``default_ev`` (factory for plug-ins without an EV), ``stop_at_target`` /
    ``unplug_at_target``, ``auto_session`` / ``auto_session_pause`` (demo
    loop), ``step_delay`` (firmware/upload progress steps), ``seed``,
    ``validate_messages`` (JSON-schema checks of own frames; off for benchmarks).
    """

    ocpp_version: ClassVar[str] = ""
    subprotocol: ClassVar[str] = ""
    model: ClassVar[str] = ""
    # Stop reasons in the version's vocabulary, for events the simulator causes.
    reason_ev_full: ClassVar[str] = "Local"
    reason_ev_disconnected: ClassVar[str] = "EVDisconnected"
    reason_remote: ClassVar[str] = "Remote"
    reason_deauthorized: ClassVar[str] = "DeAuthorized"

    if TYPE_CHECKING:  # provided by the ocpp library's ChargePoint
        id: str
        _connection: Any
        _response_queue: asyncio.Queue[Any]
        _response_timeout: float

        async def call(
            self,
            payload: Any,
            suppress: bool = True,
            unique_id: str | None = None,
            skip_schema_validation: bool = False,
        ) -> Any: ...

        async def _send(self, message: str) -> None: ...

    def __init__(
        self,
        charger_id: str,
        url: str,
        *,
        password: str | None = None,
        connectors: int = 1,
        voltage: float = 230.0,
        phases: int = 3,
        max_current: float = 32.0,
        min_current: float = 6.0,
        meter_interval: float = 10.0,
        meter_start_wh: float = 0.0,
        heartbeat_interval: float = 300.0,
        response_timeout: float = 10.0,
        reconnect: bool = True,
        reconnect_delay: float = 5.0,
        boot_retry_interval: float = 10.0,
        speed: float = 1.0,
        serial_number: str | None = None,
        firmware_version: str = FIRMWARE_VERSION,
        default_ev: Callable[[], EV] = EV,
        stop_at_target: bool = True,
        unplug_at_target: bool = False,
        auto_session: bool = False,
        auto_session_pause: float = 30.0,
        step_delay: float = 0.5,
        seed: int | None = None,
        validate_messages: bool = True,
    ) -> None:
        if connectors < 1:
            raise ValueError("connectors must be >= 1")
        if phases not in (1, 2, 3):
            raise ValueError("phases must be 1, 2 or 3")
        self.charger_id = charger_id
        self.url = url
        self.password = password
        self.voltage = voltage
        self.phases = phases
        self.max_current = max_current
        self.min_current = min_current
        self.meter_interval = meter_interval
        self.heartbeat_interval = heartbeat_interval
        self.reconnect = reconnect
        self.reconnect_delay = reconnect_delay
        self.boot_retry_interval = boot_retry_interval
        self.speed = speed
        # OCPP limits serial numbers to 25 characters.
        self.serial_number = (serial_number or f"SIM-{charger_id}")[:25]
        self.firmware_version = firmware_version
        self.default_ev = default_ev
        self.stop_at_target = stop_at_target
        self.unplug_at_target = unplug_at_target
        self.auto_session = auto_session
        self.auto_session_pause = auto_session_pause
        self.step_delay = step_delay
        self.validate_messages = validate_messages
        self.rng = random.Random(seed if seed is not None else charger_id)

        #: Every CALL received from the central system: (action, camelCase payload).
        self.received: list[tuple[str, dict[str, Any]]] = []
        #: Override the answer per action: a status string (sent as
        #: ``{"status": value}``), a full payload dict, ``"timeout"`` (never
        #: answer), ``"error"`` (CALLERROR InternalError) or ``"error:<code>"``
        #: (CALLERROR with that code, e.g. ``NOT_IMPLEMENTED``).
        self.responses: dict[str, str | dict[str, Any]] = {}
        #: Charging profile purposes (1.6 or 2.0.1 names, e.g. "TxDefaultProfile")
        #: the charger accepts but never applies, like a firmware that ignores them.
        self.ignore_purposes: set[str] = set()

        self.connectors: dict[int, Connector] = {
            n: Connector(id=n, energy_wh=meter_start_wh)
            for n in range(1, connectors + 1)
        }
        self.profiles = ProfileStore()
        self.operative = True
        self.local_auth_enabled = True
        self.smart_charging_enabled = True
        self.local_list: dict[str, dict[str, Any]] = {}
        self.local_list_version = 0
        self.firmware_status = "Idle"
        self.upload_status = "Idle"

        self.registration_status: str | None = None
        self.boot_reason = "PowerUp"
        self.connect_count = 0
        self.boot_count = 0
        self.last_error: str | None = None
        self.connected = asyncio.Event()
        self.booted = asyncio.Event()

        self._out_lock = asyncio.Lock()
        self._boot_now = asyncio.Event()
        self._heartbeat_changed = asyncio.Event()
        self._meter_changed = asyncio.Event()
        self._run_task: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._conn_tasks: set[asyncio.Task[Any]] = set()
        self._pending_after: list[Callable[[], Coroutine[Any, Any, Any]]] = []
        self._ws: ClientConnection | None = None
        self._stopping = False
        self._reboot_requested = False
        self._reset_when_idle = False

        self._init_ocpp(response_timeout)

    # ------------------------------------------------------------------ hooks
    def _init_ocpp(self, response_timeout: float) -> None:
        raise NotImplementedError

    async def _receive_forever(self) -> None:
        raise NotImplementedError

    async def _send_boot_notification(self) -> tuple[str, float]:
        """Send BootNotification; return (status, interval)."""
        raise NotImplementedError

    async def _send_heartbeat(self) -> None:
        raise NotImplementedError

    async def _send_status(self, connector: Connector) -> None:
        raise NotImplementedError

    async def _send_boot_statuses(self) -> None:
        for connector in self.connectors.values():
            await self._sync_status(connector, force=True)

    def _status_of(self, connector: Connector) -> str:
        raise NotImplementedError

    async def _send_meter_values(
        self, connector: Connector, context: str = "Sample.Periodic"
    ) -> None:
        raise NotImplementedError

    async def _start_transaction(
        self,
        connector: Connector,
        id_tag: str,
        *,
        authorize: bool,
        remote_start_id: int | None = None,
    ) -> int | str | None:
        raise NotImplementedError

    async def _stop_transaction(self, connector: Connector, reason: str) -> None:
        raise NotImplementedError

    async def _on_refresh(
        self, connector: Connector, state_changed: bool, rate_changed: bool
    ) -> None:
        """React to a change of charging state or offered current mid-session."""
        raise NotImplementedError

    # -------------------------------------------------------------- lifecycle
    @property
    def endpoint(self) -> str:
        return f"{self.url.rstrip('/')}/{self.charger_id}"

    @property
    def is_connected(self) -> bool:
        return self.connected.is_set()

    async def start(self) -> None:
        """Connect in the background (returns at once; see ``wait_booted``)."""
        if self._run_task is not None and not self._run_task.done():
            return
        self._stopping = False
        self._run_task = asyncio.create_task(
            self._run(), name=f"simulator-{self.charger_id}"
        )
        if self.auto_session:
            for n in self.connectors:
                self._spawn(self._auto_session_loop(n), conn=False)

    async def stop(self) -> None:
        """Cancel every task, close the websocket and wait until all is gone."""
        self._stopping = True
        tasks = [t for t in (self._run_task, *self._tasks) if t is not None]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        await self._cancel_conn_tasks()
        self._run_task = None
        if self._ws is not None:
            await self._ws.close()
            self._ws = None

    async def wait_booted(self, timeout: float = 10.0) -> None:  # noqa: ASYNC109
        """Wait until the boot was accepted and the statuses were sent."""
        async with asyncio.timeout(timeout):
            await self.booted.wait()

    async def wait_until(
        self,
        predicate: Callable[[], bool],
        timeout: float = 5.0,  # noqa: ASYNC109
        poll: float = 0.01,
    ) -> None:
        """Poll ``predicate`` until it holds; ``TimeoutError`` after ``timeout``."""
        async with asyncio.timeout(timeout):
            while not predicate():  # noqa: ASYNC110 - polling is the point
                await asyncio.sleep(poll)

    async def disconnect(self) -> None:
        """Drop the connection, as a network outage would; reconnects if enabled."""
        if self._ws is not None:
            await self._ws.close()

    def _headers(self) -> dict[str, str]:
        if not self.password:
            return {}
        token = base64.b64encode(f"{self.charger_id}:{self.password}".encode()).decode()
        return {"Authorization": f"Basic {token}"}

    async def _run(self) -> None:
        while not self._stopping:
            try:
                async with connect(
                    self.endpoint,
                    subprotocols=[Subprotocol(self.subprotocol)],
                    additional_headers=self._headers(),
                    open_timeout=max(self._response_timeout, 5.0),
                    close_timeout=2.0,
                    user_agent_header=f"{VENDOR}/{self.firmware_version}",
                ) as ws:
                    if ws.subprotocol != self.subprotocol:
                        self.last_error = (
                            f"central system chose subprotocol {ws.subprotocol!r}"
                        )
                        _LOGGER.warning("%s: %s", self.charger_id, self.last_error)
                    else:
                        await self._serve(ws)
            except InvalidURI as err:
                self.last_error = repr(err)
                _LOGGER.error("%s: invalid URL: %s", self.charger_id, err)
                return
            except (OSError, TimeoutError, WebSocketException) as err:
                self.last_error = repr(err)
                _LOGGER.info("%s: connection failed: %r", self.charger_id, err)
            finally:
                await self._connection_lost()
            if self._stopping:
                return
            if self._reboot_requested:
                self._reboot_requested = False
                await asyncio.sleep(min(self.reconnect_delay, 0.2))
                continue
            if not self.reconnect:
                return
            await asyncio.sleep(self.reconnect_delay)

    async def _serve(self, ws: ClientConnection) -> None:
        self._ws = ws
        self._connection = ws
        self._response_queue = asyncio.Queue()
        self.connect_count += 1
        self.connected.set()
        receiver = self._spawn(self._receive())
        self._spawn(self._boot_and_run())
        await receiver

    async def _receive(self) -> None:
        with contextlib.suppress(ConnectionClosed):
            await self._receive_forever()

    async def _connection_lost(self) -> None:
        self.connected.clear()
        self.booted.clear()
        self.registration_status = None
        await self._cancel_conn_tasks()
        for connector in self.connectors.values():
            connector.busy = False
        self._ws = None

    async def _cancel_conn_tasks(self) -> None:
        current = asyncio.current_task()
        tasks = [t for t in self._conn_tasks if t is not current]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    def _spawn(
        self, coro: Coroutine[Any, Any, Any], *, conn: bool = True
    ) -> asyncio.Task[Any]:
        """Run ``coro`` as a task owned by this charger (or its connection)."""
        task = asyncio.create_task(coro)
        group = self._conn_tasks if conn else self._tasks
        group.add(task)
        task.add_done_callback(lambda t: self._task_done(t, group))
        return task

    def _task_done(
        self, task: asyncio.Task[Any], group: set[asyncio.Task[Any]]
    ) -> None:
        group.discard(task)
        if task.cancelled():
            return
        err = task.exception()
        if err is not None and not isinstance(err, ConnectionClosed):
            _LOGGER.error("%s: background task failed", self.charger_id, exc_info=err)

    async def _reboot(self) -> None:
        """Simulate a reboot: drop the connection and boot again."""
        self._reboot_requested = True
        self.boot_reason = "RemoteReset"
        if self._ws is not None:
            await self._ws.close()

    # ------------------------------------------------------------------- boot
    async def _boot_and_run(self) -> None:
        await self._boot()
        try:
            await self._send_boot_statuses()
        except (TimeoutError, OCPPError) as err:
            _LOGGER.info("%s: StatusNotification failed: %r", self.charger_id, err)
        self.booted.set()
        self._spawn(self._heartbeat_loop())
        self._spawn(self._meter_loop())

    async def _boot(self) -> None:
        while True:
            self._boot_now.clear()
            try:
                status, interval = await self._send_boot_notification()
            except (TimeoutError, OCPPError) as err:
                _LOGGER.info("%s: BootNotification failed: %r", self.charger_id, err)
                status, interval = "", 0.0
            self.registration_status = status or None
            if status == "Accepted":
                self.boot_count += 1
                self.boot_reason = "PowerUp"
                if interval > 0:
                    self.heartbeat_interval = interval
                return
            wait = interval if interval > 0 else self.boot_retry_interval
            await _sleep_or_wake(self._boot_now, wait)

    async def _heartbeat_loop(self) -> None:
        while True:
            if await _sleep_or_wake(self._heartbeat_changed, self.heartbeat_interval):
                self._heartbeat_changed.clear()
                continue
            try:
                await self._send_heartbeat()
            except (TimeoutError, OCPPError) as err:
                _LOGGER.info("%s: Heartbeat failed: %r", self.charger_id, err)

    def set_heartbeat_interval(self, seconds: float) -> None:
        self.heartbeat_interval = seconds
        self._heartbeat_changed.set()

    def set_meter_interval(self, seconds: float) -> None:
        self.meter_interval = seconds
        self._meter_changed.set()

    # --------------------------------------------------------------- metering
    async def _meter_loop(self) -> None:
        while True:
            interval = self.meter_interval if self.meter_interval > 0 else 60.0
            if await _sleep_or_wake(self._meter_changed, interval):
                self._meter_changed.clear()
                continue
            for connector in list(self.connectors.values()):
                if connector.transaction_id is None or connector.busy:
                    continue
                try:
                    await self._tick(connector)
                except (TimeoutError, OCPPError) as err:
                    _LOGGER.info("%s: meter tick failed: %r", self.charger_id, err)

    async def _tick(self, connector: Connector) -> None:
        state_changed, rate_changed = self._refresh(connector)
        ev = connector.ev
        if self.stop_at_target and ev is not None and ev.at_target:
            await self._finish_at_target(connector)
            return
        if state_changed or rate_changed:
            await self._on_refresh(connector, state_changed, rate_changed)
        if self.meter_interval > 0 and connector.transaction_id is not None:
            await self._send_meter_values(connector)

    async def _finish_at_target(self, connector: Connector) -> None:
        if self.unplug_at_target:
            await self.unplug(connector.id)
        else:
            await self._stop_transaction(connector, self.reason_ev_full)

    def _active_count(self) -> int:
        return max(
            1, sum(1 for c in self.connectors.values() if c.transaction_id is not None)
        )

    def limit_for(self, connector: Connector) -> Limit:
        """The profile limit in force on ``connector`` now."""
        return self.profiles.limit_for(
            connector.id,
            utcnow(),
            transaction_id=connector.transaction_id,
            tx_start=connector.tx_started_at,
            active_connectors=self._active_count(),
        )

    def _phases_for(self, connector: Connector, limit: Limit) -> int:
        phases = self.phases
        if connector.ev is not None:
            phases = min(phases, connector.ev.phases)
        if limit.phases:
            phases = min(phases, limit.phases)
        return max(phases, 1)

    def _limit_amps(self, limit: Limit, phases: int) -> float | None:
        amps = limit.amps
        if limit.watts is not None:
            from_watts = limit.watts / (self.voltage * phases)
            amps = from_watts if amps is None else min(amps, from_watts)
        return None if amps is None else max(amps, 0.0)

    def composite_limit(self, connector_id: int) -> tuple[float, int]:
        """(amps per phase, phases) in force on a connector; 0 = the charger."""
        if connector_id == 0:
            limit = Limit()
            for profile in self.profiles:
                if profile.purpose == CP_MAX:
                    period = profile.period_at(utcnow(), None)
                    if period is not None:
                        limit = limit.combine(as_limit(period, profile.unit))
            phases = min(self.phases, limit.phases or self.phases)
        else:
            connector = self.connectors[connector_id]
            limit = self.limit_for(connector)
            phases = self._phases_for(connector, limit)
        amps = self._limit_amps(limit, phases)
        return (self.max_current if amps is None else min(amps, self.max_current)), (
            phases
        )

    def _refresh(self, connector: Connector) -> tuple[bool, bool]:
        """Integrate energy up to now, then recompute power from the limits.

        Returns (charging state changed, offered current changed).
        """
        now = time.monotonic()
        ev = connector.ev
        if connector.last_update is not None and connector.power_w > 0 and ev:
            seconds = (now - connector.last_update) * self.speed
            connector.energy_wh += ev.charge(connector.power_w, seconds)
        connector.last_update = now
        old_state = connector.charging_state
        old_offered = connector.offered_current_a
        self._compute_power(connector)
        return (
            connector.charging_state != old_state,
            abs(connector.offered_current_a - old_offered) > 1e-9,
        )

    def _compute_power(self, connector: Connector) -> None:
        ev = connector.ev
        limit = self.limit_for(connector)
        phases = self._phases_for(connector, limit)
        connector.limit_a = self._limit_amps(limit, phases)
        offered = self.max_current
        if connector.limit_a is not None:
            offered = min(offered, connector.limit_a)
        connector.offered_current_a = offered
        connector.power_w = connector.current_a = 0.0
        connector.phases_in_use = 0
        if connector.transaction_id is None or ev is None:
            connector.charging_state = "EVConnected" if ev else "Idle"
            return
        if offered <= 0 or offered < self.min_current:
            connector.charging_state = "SuspendedEVSE"
            return
        power = ev.accepted_power_w(offered * self.voltage * phases)
        if power <= 0:
            connector.charging_state = "SuspendedEV"
            return
        connector.charging_state = "Charging"
        connector.power_w = power
        connector.current_a = power / (self.voltage * phases)
        connector.phases_in_use = phases

    async def _apply_limits(self) -> None:
        """Re-evaluate limits on every connector after a profile change."""
        for connector in list(self.connectors.values()):
            if connector.transaction_id is None:
                self._compute_power(connector)
                continue
            state_changed, rate_changed = self._refresh(connector)
            if state_changed or rate_changed:
                await self._on_refresh(connector, state_changed, rate_changed)

    def _samples(self, connector: Connector) -> list[Sample]:
        samples = [
            Sample(
                "Energy.Active.Import.Register", round(connector.energy_wh, 2), "Wh"
            ),
            Sample("Power.Active.Import", round(connector.power_w, 1), "W"),
        ]
        for n in range(1, self.phases + 1):
            amps = connector.current_a if n <= connector.phases_in_use else 0.0
            samples.append(Sample("Current.Import", round(amps, 2), "A", f"L{n}"))
        for n in range(1, self.phases + 1):
            samples.append(Sample("Voltage", self.voltage, "V", f"L{n}-N"))
        samples.append(
            Sample("Current.Offered", round(connector.offered_current_a, 2), "A")
        )
        if connector.ev is not None:
            samples.append(
                Sample("SoC", round(connector.ev.soc, 1), "Percent", location="EV")
            )
        return samples

    def ignores_purpose(self, purpose: str) -> bool:
        """Whether a profile of ``purpose`` is accepted but not applied."""
        return canonical_purpose(purpose) in {
            canonical_purpose(p) for p in self.ignore_purposes
        }

    # ------------------------------------------------------------ session API
    def connector(self, connector: int = 1) -> Connector:
        try:
            return self.connectors[connector]
        except KeyError:
            raise SimulatorError(f"no connector {connector}") from None

    async def plug_in(self, connector: int = 1, ev: EV | None = None) -> None:
        """Plug a vehicle (default: ``default_ev()``) into ``connector``."""
        c = self.connector(connector)
        if c.ev is not None:
            raise SimulatorError(f"connector {connector} already has a vehicle")
        c.ev = ev if ev is not None else self.default_ev()
        c.finishing = False
        self._compute_power(c)
        await self._plugged(c)

    async def _plugged(self, connector: Connector) -> None:
        await self._sync_status(connector)

    async def authorize_and_start(
        self,
        connector: int = 1,
        id_tag: str = DEFAULT_ID_TAG,
        *,
        authorize: bool = True,
    ) -> int | str | None:
        """Authorize ``id_tag`` and start a transaction; return its id.

        Plugs in ``default_ev()`` first if the connector is empty. Returns
        ``None`` if the central system rejected the tag.
        """
        c = self.connector(connector)
        if c.transaction_id is not None or c.busy:
            raise SimulatorError(f"connector {connector} is already in a session")
        if not c.operative:
            raise SimulatorError(f"connector {connector} is unavailable")
        if c.ev is None:
            await self.plug_in(connector)
        return await self._start_transaction(c, id_tag, authorize=authorize)

    async def stop_transaction(self, connector: int = 1, reason: str = "Local") -> None:
        """End the transaction on ``connector`` (the vehicle stays plugged)."""
        c = self.connector(connector)
        if c.transaction_id is None:
            raise SimulatorError(f"no transaction on connector {connector}")
        await self._stop_transaction(c, reason)

    async def unplug(self, connector: int = 1) -> None:
        """Unplug the vehicle; ends a running transaction (EV disconnected)."""
        c = self.connector(connector)
        if c.transaction_id is not None:
            await self._stop_transaction(c, self.reason_ev_disconnected)
        c.ev = None
        c.finishing = False
        self._compute_power(c)
        await self._unplugged(c)

    async def _unplugged(self, connector: Connector) -> None:
        await self._sync_status(connector)

    def _begin_tx(
        self, connector: Connector, transaction_id: int | str, id_tag: str
    ) -> None:
        connector.transaction_id = transaction_id
        connector.id_tag = id_tag
        connector.tx_started_at = utcnow()
        connector.meter_start_wh = connector.energy_wh
        connector.last_update = time.monotonic()
        connector.finishing = False
        connector.sessions += 1
        connector.last_stop_reason = None
        connector.session_ended.clear()
        self._compute_power(connector)

    def _end_tx(self, connector: Connector, reason: str) -> int | str | None:
        """Close the books of the running transaction; returns its id."""
        self._refresh(connector)
        transaction_id = connector.transaction_id
        connector.transaction_id = None
        connector.last_stop_reason = reason
        connector.finishing = connector.ev is not None
        connector.remote_start_id = None
        self.profiles.end_transaction(transaction_id, connector.id)
        if connector.scheduled_operative is not None:
            connector.operative = connector.scheduled_operative
            connector.scheduled_operative = None
        self._compute_power(connector)
        connector.session_ended.set()
        if self._reset_when_idle and not any(
            c.transaction_id is not None for c in self.connectors.values()
        ):
            self._reset_when_idle = False
            self._spawn(self._reboot())
        return transaction_id

    async def _sync_status(self, connector: Connector, *, force: bool = False) -> None:
        """Send StatusNotification if the connector's status changed."""
        status = self._status_of(connector)
        if force or status != connector.status:
            connector.status = status
            await self._send_status(connector)

    def _remote_start_target(self, connector_id: int | None) -> Connector | None:
        """The connector a remote start should use, or None to reject it."""
        if connector_id is None:
            free = [
                c
                for c in self.connectors.values()
                if c.transaction_id is None and c.operative and not c.busy
            ]
            plugged = [c for c in free if c.ev is not None]
            candidates = plugged or free
            return candidates[0] if candidates else None
        target = self.connectors.get(connector_id)
        if (
            target is None
            or target.transaction_id is not None
            or target.busy
            or not target.operative
        ):
            return None
        return target

    # ---------------------------------------------------------- auto session
    async def _auto_session_loop(self, number: int) -> None:
        """Demo mode: plug in, charge to target, unplug, pause, repeat."""
        pause = self.auto_session_pause
        while True:
            await self.booted.wait()
            await asyncio.sleep(pause * (0.1 + 0.4 * self.rng.random()))
            try:
                c = self.connectors[number]
                if c.ev is None and c.operative:
                    await self.plug_in(number, EV.random(self.rng))
                if c.ev is not None and c.transaction_id is None and not c.finishing:
                    await self.authorize_and_start(number)
                if c.transaction_id is not None:
                    await c.session_ended.wait()
                await asyncio.sleep(pause * 0.2)
                if c.ev is not None:
                    await self.unplug(number)
            except (
                SimulatorError,
                ConnectionError,
                ConnectionClosed,
                TimeoutError,
                OCPPError,
            ) as err:
                _LOGGER.info("%s: auto session: %r", self.charger_id, err)
            await asyncio.sleep(pause)

    # --------------------------------------------------------- call plumbing
    async def _call(self, payload: Any) -> Any:
        """Send a CALL and return the result; CALLERRORs raise ``OCPPError``."""
        if not self.connected.is_set():
            raise NotConnectedError(f"{self.charger_id} is not connected")
        if self.validate_messages:
            # Our own frame, checked here and now: the library would check it
            # (and the answer) in a worker thread, so the answer's effect (e.g.
            # the transaction id) could come after the central system's next CALL.
            _validate_payload(
                Call(
                    unique_id="-",
                    action=type(payload).__name__,
                    payload=remove_nones(
                        snake_to_camel_case(serialize_as_dict(payload))
                    ),
                ),
                self.ocpp_version,
            )
        # Calls wait for each other, so they leave in the order they were made.
        async with self._out_lock:
            return await self.call(payload, suppress=False, skip_schema_validation=True)

    def _after(self, action: Callable[[], Coroutine[Any, Any, Any]]) -> None:
        """Run ``action`` once the current CALLRESULT has been sent."""
        self._pending_after.append(action)

    async def _dispatch_call(
        self, msg: Any, handle: Callable[[Any], Awaitable[Any]]
    ) -> Any:
        """Record a CALL, apply the ``responses`` knob, run the handler."""
        payload = msg.payload if isinstance(msg.payload, dict) else {}
        self.received.append((str(msg.action), payload))
        if len(self.received) > MAX_RECEIVED:
            del self.received[: MAX_RECEIVED // 2]
        override = self.responses.get(str(msg.action))
        if override == TIMEOUT:
            return None
        if override == ERROR:
            error = InternalError(description="simulated error")
            await self._send(msg.create_call_error(error).to_json())
            return None
        if isinstance(override, str) and override.startswith(f"{ERROR}:"):
            code = override.partition(":")[2]
            echo = f"{code}: {msg.action} {json.dumps(payload)}"
            await self._send(json.dumps([4, msg.unique_id, code, echo, {}]))
            return None
        if override is not None:
            answer = override if isinstance(override, dict) else {"status": override}
            await self._send(msg.create_call_result(answer).to_json())
            return None
        self._pending_after = []
        try:
            result = await handle(msg)
        finally:
            after, self._pending_after = self._pending_after, []
        for action in after:
            self._spawn(action())
        return result


async def _sleep_or_wake(event: asyncio.Event, seconds: float) -> bool:
    """Sleep ``seconds`` or until ``event`` is set; True if it was set."""
    if event.is_set():
        return True
    try:
        async with asyncio.timeout(seconds):
            await event.wait()
    except TimeoutError:
        return False
    return True
