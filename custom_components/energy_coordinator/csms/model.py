"""The version-neutral model of a charge point that the OCPP handlers update.

Owns `ChargerState` (one per charger id, kept across reconnects), its connectors
(`ConnectorState`), the running `Transaction` of each connector and the latest
`MeterReading`. The OCPP handlers (1.6J and 2.0.1) and the session ledger write into
these objects; the HA layer only reads them. A change is announced through
`ChargerState.notify()`, which calls the listeners registered for that one charger:
nothing polls, and a message from one charger never wakes the entities of another.

Instantaneous measurands never outlive what they measure, for both versions alike:
when a transaction ends or a connector becomes Available, Faulted or Unavailable
nothing flows (`MeterReading.stop_flow`); when the charger disconnects or goes
silent they are unknown (`forget_instantaneous`). Registers persist.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

_LOGGER = logging.getLogger(__name__)

type Listener = Callable[[], None]


class OcppVersion(enum.StrEnum):
    """The OCPP versions the central system speaks (websocket subprotocol names)."""

    V16 = "ocpp1.6"
    V201 = "ocpp2.0.1"


class ConnectorStatus(enum.StrEnum):
    """Connector status, 1.6 and 2.0.1 values mapped onto one set."""

    AVAILABLE = "available"
    PREPARING = "preparing"  # 1.6 Preparing; 2.0.1 Occupied without transaction
    CHARGING = "charging"
    SUSPENDED_EV = "suspended_ev"
    SUSPENDED_EVSE = "suspended_evse"
    FINISHING = "finishing"
    RESERVED = "reserved"
    UNAVAILABLE = "unavailable"
    FAULTED = "faulted"
    OCCUPIED = "occupied"  # 2.0.1 Occupied while the charging state is unknown
    UNKNOWN = "unknown"


#: Connector states in which a cable is plugged into the connector.
PLUGGED_STATES = frozenset(
    {
        ConnectorStatus.PREPARING,
        ConnectorStatus.CHARGING,
        ConnectorStatus.SUSPENDED_EV,
        ConnectorStatus.SUSPENDED_EVSE,
        ConnectorStatus.FINISHING,
        ConnectorStatus.OCCUPIED,
    }
)

#: Connector states in which nothing can flow: power and currents drop to zero.
IDLE_STATES = frozenset(
    {ConnectorStatus.AVAILABLE, ConnectorStatus.FAULTED, ConnectorStatus.UNAVAILABLE}
)


@dataclass(slots=True)
class MeterReading:
    """The latest measurements of one connector, in SI base units (W, A, V, Wh).

    `None` means the charger has not reported that measurand.
    """

    energy_wh: float | None = None  # Energy.Active.Import.Register as reported
    power_w: float | None = None  # Power.Active.Import
    current_a: float | None = None  # Current.Import, sum or single value
    current_phases_a: dict[str, float] = field(default_factory=dict)  # "L1".."L3"
    voltage_v: float | None = None  # Voltage, average of the phases
    voltage_phases_v: dict[str, float] = field(default_factory=dict)
    current_offered_a: float | None = None  # Current.Offered
    power_offered_w: float | None = None  # Power.Offered
    soc_percent: float | None = None  # SoC
    temperature_c: float | None = None
    frequency_hz: float | None = None
    timestamp: datetime | None = None
    updates: int = 0  # how many meter reports were folded in (a change counter)
    # Any other measurand, keyed by "<measurand>[.<phase>]", in its reported unit.
    other: dict[str, float] = field(default_factory=dict)

    def stop_flow(self) -> None:
        """Nothing flows now: power and currents 0, the offer unknown.

        For a connector whose transaction ended or that became Available, Faulted
        or Unavailable. Registers, voltage, SoC and temperature stay.
        """
        if self.power_w is not None:
            self.power_w = 0.0
        if self.current_a is not None:
            self.current_a = 0.0
        self.current_phases_a = dict.fromkeys(self.current_phases_a, 0.0)
        self.current_offered_a = None
        self.power_offered_w = None

    def forget_instantaneous(self) -> None:
        """The charger is offline: every instantaneous value becomes unknown.

        Only the registers (energy) and the vehicle's last SoC stay.
        """
        self.power_w = self.current_a = None
        self.current_phases_a = {}
        self.voltage_v = None
        self.voltage_phases_v = {}
        self.current_offered_a = self.power_offered_w = None
        self.temperature_c = self.frequency_hz = None


@dataclass(slots=True)
class Transaction:
    """A running charging transaction on one connector."""

    session_id: int  # row id in the SessionStore
    transaction_id: str  # as on the wire: 1.6 our integer as text, 2.0.1 the CP's id
    connector_id: int
    id_tag: str | None
    start_time: datetime
    meter_start_wh: float
    meter_last_wh: float
    evse_id: int | None = None  # 2.0.1 only
    last_seq_no: int | None = None  # 2.0.1 TransactionEvent seqNo
    # True while the start register is unknown: the first register read becomes it.
    meter_start_pending: bool = False

    @property
    def energy_wh(self) -> float:
        """Energy delivered so far in this transaction."""
        return max(0.0, self.meter_last_wh - self.meter_start_wh)


@dataclass(slots=True)
class ConnectorState:
    """One connector (1.6) or one EVSE's connector (2.0.1).

    `connector_id` is the 1.6 connector id, or for 2.0.1 the EVSE id (one charging
    point per EVSE; `evse_connector_id` keeps the connector within it).
    """

    connector_id: int
    status: ConnectorStatus = ConnectorStatus.UNKNOWN
    error_code: str | None = None  # None or "NoError" means no error
    vendor_error: str | None = None
    info: str | None = None
    evse_connector_id: int | None = None
    meter: MeterReading = field(default_factory=MeterReading)
    transaction: Transaction | None = None
    # Latest session (running or finished) for the session sensors.
    last_session_energy_wh: float = 0.0
    last_session_id_tag: str | None = None
    last_session_start: datetime | None = None
    last_session_stop: datetime | None = None
    # Monotonic energy total for the Energy dashboard (survives meter resets).
    energy_total_wh: float = 0.0
    # The energy above may be behind what was shown before: restored after the
    # central system ended without closing its store (a crash, a power cut) with a
    # session running, whose last meter reports may not have been written. Cleared
    # when the charger reports its register again (or the session closes).
    energy_unconfirmed: bool = False
    # The charging limit we last applied and the charger accepted.
    current_limit_a: float | None = None
    power_limit_w: float | None = None
    limit_phases: int | None = None
    available: bool = True  # operative (ChangeAvailability) as we last set/learned
    # SetChargingProfile answered Rejected this many times in a row (reset when one
    # is accepted, and when the charger connects or boots).
    rejected_limits: int = 0

    def set_status(self, status: ConnectorStatus) -> None:
        """The connector's new status; in an idle state nothing flows any more."""
        self.status = status
        if status in IDLE_STATES:
            self.meter.stop_flow()

    def end_transaction(self) -> None:
        """The running transaction is over: no transaction, nothing flows."""
        self.transaction = None
        self.meter.stop_flow()

    @property
    def plugged(self) -> bool:
        """Whether a vehicle cable is plugged in."""
        return self.status in PLUGGED_STATES or self.transaction is not None

    @property
    def charging(self) -> bool:
        """Whether energy is flowing (or allowed to flow) in a transaction."""
        return self.status == ConnectorStatus.CHARGING


@dataclass(slots=True)
class ChargerInfo:
    """What a charger told us about itself at boot."""

    vendor: str | None = None
    model: str | None = None
    serial_number: str | None = None
    firmware_version: str | None = None
    iccid: str | None = None
    imsi: str | None = None
    meter_type: str | None = None
    meter_serial_number: str | None = None


class ChargerState:
    """Everything known about one charge point, across its connections.

    Listeners are called synchronously after every change that came from the
    charger; they must be cheap (an entity writing its state is).
    """

    def __init__(self, charger_id: str) -> None:
        self.charger_id = charger_id
        self.info = ChargerInfo()
        self.ocpp_version: OcppVersion | None = None
        self.connected = False
        self.online = False  # connected and heard from within 3 heartbeat intervals
        self.registration: str | None = None  # Accepted / Pending / Rejected
        self.status: ConnectorStatus = ConnectorStatus.UNKNOWN  # connector 0 / station
        self.error_code: str | None = None
        self.connectors: dict[int, ConnectorState] = {}
        self.last_seen: datetime | None = None
        self.last_boot: datetime | None = None
        self.firmware_status: str | None = None
        self.diagnostics_status: str | None = None
        self.supports_local_list: bool | None = None
        # What its configuration (1.6) or device model (2.0.1) says about smart
        # charging; None when it says nothing (then limits are tried).
        self.supports_smart_charging: bool | None = None
        # The CALLERROR code (NotImplemented / NotSupported) it answered a
        # SetChargingProfile with; forgotten when it connects or boots.
        self.limits_refused: str | None = None
        # Increases whenever the charger connects or boots: what it refused before
        # may work now (a caller that backed off retries at once when this changes).
        self.link_epoch = 0
        self.configuration: dict[str, str] = {}  # 1.6 keys / 2.0.1 Component.Variable
        self._listeners: list[Listener] = []
        self._connector_listeners: list[Callable[[int], None]] = []

    def connector(self, connector_id: int) -> ConnectorState:
        """Return the connector, creating it (and announcing it) when new."""
        conn = self.connectors.get(connector_id)
        if conn is None:
            conn = ConnectorState(connector_id)
            self.connectors[connector_id] = conn
            for listener in list(self._connector_listeners):
                listener(connector_id)
        return conn

    def active_transaction(self) -> Transaction | None:
        """The first running transaction of this charger, if any."""
        for conn in self.connectors.values():
            if conn.transaction is not None:
                return conn.transaction
        return None

    @property
    def accepts_limits(self) -> bool | None:
        """Whether the charger takes charging profiles; None when not known.

        False once it answered a SetChargingProfile with NotImplemented or
        NotSupported (until it connects or boots again), or when its configuration
        says it has no smart charging. Unknown means: try, and learn.
        """
        if self.limits_refused is not None:
            return False
        return self.supports_smart_charging

    def connection_opened(self) -> None:
        """A new connection: a new link epoch."""
        self.connected = True
        self._new_epoch()

    def connection_closed(self) -> None:
        """The connection is gone: what flows now is unknown."""
        self.connected = False
        self._forget_instantaneous()

    def went_offline(self) -> None:
        """Nothing heard for too long: offline, what flows now is unknown."""
        self.online = False
        self._forget_instantaneous()

    def booted(self, info: ChargerInfo, when: datetime) -> None:
        """A BootNotification: what the charger says it is, a new link epoch."""
        self.info = info
        self.last_boot = when
        self._new_epoch()

    def _new_epoch(self) -> None:
        self.link_epoch += 1
        self.limits_refused = None
        for conn in self.connectors.values():
            conn.rejected_limits = 0

    def _forget_instantaneous(self) -> None:
        for conn in self.connectors.values():
            conn.meter.forget_instantaneous()

    def add_listener(self, listener: Listener) -> Callable[[], None]:
        """Call `listener` after every change; returns the function that removes it."""
        self._listeners.append(listener)

        def remove() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return remove

    def add_connector_listener(
        self, listener: Callable[[int], None]
    ) -> Callable[[], None]:
        """Call `listener(connector_id)` when a new connector appears."""
        self._connector_listeners.append(listener)

        def remove() -> None:
            if listener in self._connector_listeners:
                self._connector_listeners.remove(listener)

        return remove

    def notify(self) -> None:
        """Tell this charger's listeners that its state changed."""
        for listener in list(self._listeners):
            try:
                listener()
            except Exception:
                _LOGGER.exception("Listener of charger %s failed", self.charger_id)
