"""The OCPP 2.0.1 charge-point handler of the central system.

`ChargePoint201` owns one 2.0.1 connection: it answers what the charging station
sends (boot, status, authorization, transaction events, meter values, device-model
reports, events, firmware and log status) by updating the version-neutral model and
the session ledger of `ChargePointLink`, and it turns our commands into 2.0.1 CALLs.

For 2.0.1 one `ConnectorState` is one EVSE: its `connector_id` is the evseId and its
`evse_connector_id` the connector within that EVSE. Device-model values are kept in
`ChargerState.configuration` as ``Component.Variable`` keys, written
``Component[:instance][evse[,connector]].Variable[:instance]`` when they carry an
instance or an EVSE (e.g. ``EVSE[1].Power``, ``Connector[1,1].ConnectorType``).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from ocpp.exceptions import NotImplementedError as OcppNotImplemented
from ocpp.exceptions import NotSupportedError as OcppNotSupported
from ocpp.messages import Call
from ocpp.routing import on as _ocpp_on
from ocpp.v201 import ChargePoint as _V201ChargePoint
from ocpp.v201 import call, call_result
from ocpp.v201.enums import Action

from .commands import (
    ChargingLimit,
    CommandError,
    CommandNotSupported,
    CommandRejected,
    IdTagEntry,
    LimitPurpose,
    ResetKind,
)
from .link import ChargePointLink, parse_time, utcnow
from .meter import ENERGY_REGISTER, Sample, apply_samples, to_si
from .model import (
    PLUGGED_STATES,
    ChargerInfo,
    ConnectorState,
    ConnectorStatus,
    MeterReading,
    Transaction,
)

_LOGGER = logging.getLogger(__name__)

_ACTIONS = frozenset(action.value for action in Action)


def _on[F: Callable[..., Any]](action: Action) -> Callable[[F], F]:
    """The ocpp library's `@on`, typed."""
    return cast(Callable[[F], F], _ocpp_on(action))


class _RequestIds:
    """Ids for remoteStartId / requestId: increasing, also across restarts."""

    def __init__(self) -> None:
        self._ids = itertools.count(max(1, int(time.time()) - 1_700_000_000))

    def next(self) -> int:
        return next(self._ids)


_REQUEST_IDS = _RequestIds()

#: Profile ids are stable per purpose and EVSE: base + evseId.
_PROFILE_ID_BASE: dict[LimitPurpose, int] = {
    LimitPurpose.TX_DEFAULT: 1000,
    LimitPurpose.TX: 2000,
    LimitPurpose.CHARGE_POINT_MAX: 3000,
}
_PROFILE_PURPOSE: dict[LimitPurpose, str] = {
    LimitPurpose.TX_DEFAULT: "TxDefaultProfile",
    LimitPurpose.TX: "TxProfile",
    LimitPurpose.CHARGE_POINT_MAX: "ChargingStationMaxProfile",
}
#: The stack level of every profile we set (and clear).
PROFILE_STACK_LEVEL = 1
#: Remote starts remembered until their transaction reports its remoteStartId.
MAX_REMOTE_STARTS = 32

_CONNECTOR_STATUS: dict[str, ConnectorStatus] = {
    "Available": ConnectorStatus.AVAILABLE,
    "Occupied": ConnectorStatus.OCCUPIED,
    "Reserved": ConnectorStatus.RESERVED,
    "Unavailable": ConnectorStatus.UNAVAILABLE,
    "Faulted": ConnectorStatus.FAULTED,
}
#: Which connector of a multi-connector EVSE speaks for it (first match wins).
_EVSE_STATUS_ORDER = ("Occupied", "Reserved", "Available", "Faulted", "Unavailable")

_CHARGING_STATE: dict[str, ConnectorStatus] = {
    "Charging": ConnectorStatus.CHARGING,
    "SuspendedEV": ConnectorStatus.SUSPENDED_EV,
    "SuspendedEVSE": ConnectorStatus.SUSPENDED_EVSE,
    "EVConnected": ConnectorStatus.PREPARING,
    "Idle": ConnectorStatus.PREPARING,  # authorized, no cable yet
}
_TX_STATES = frozenset(
    {
        ConnectorStatus.CHARGING,
        ConnectorStatus.SUSPENDED_EV,
        ConnectorStatus.SUSPENDED_EVSE,
        ConnectorStatus.PREPARING,
        ConnectorStatus.OCCUPIED,
    }
)

#: 1.6 trigger names the HA layer may use, in 2.0.1 terms.
_TRIGGER_ALIASES = {"DiagnosticsStatusNotification": "LogStatusNotification"}
_TRIGGERS = frozenset(
    {
        "BootNotification",
        "LogStatusNotification",
        "FirmwareStatusNotification",
        "Heartbeat",
        "MeterValues",
        "SignChargingStationCertificate",
        "SignV2GCertificate",
        "StatusNotification",
        "TransactionEvent",
        "SignCombinedCertificate",
        "PublishFirmwareStatusNotification",
    }
)

#: Event variables that report a fault of their component.
_PROBLEM_VARIABLES = frozenset({"problem", "tripped"})

_KEY_RE = re.compile(
    r"^(?P<comp>[^./:\[\]]+)(?::(?P<cinst>[^./\[\]]+))?"
    r"(?:\[(?P<evse>\d+)(?:,(?P<conn>\d+))?\])?"
    r"[./](?P<var>[^:/\[\]]+?)(?::(?P<vinst>.+))?$"
)
_HEX_RE = re.compile(r"^(?:[0-9A-Fa-f]{2}){4,10}$")


def _now_text() -> str:
    return utcnow().replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _time_text(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


@dataclass(frozen=True, slots=True)
class VariableKey:
    """A device-model Component/Variable address, as `configuration` keys name it."""

    component: str
    variable: str
    component_instance: str | None = None
    variable_instance: str | None = None
    evse_id: int | None = None
    connector_id: int | None = None

    @classmethod
    def parse(cls, key: str) -> VariableKey | None:
        """Read "Component.Variable" or "Component/Variable" (see module doc)."""
        match = _KEY_RE.match(key.strip())
        if match is None:
            return None
        return cls(
            component=match["comp"],
            variable=match["var"],
            component_instance=match["cinst"],
            variable_instance=match["vinst"],
            evse_id=int(match["evse"]) if match["evse"] else None,
            connector_id=int(match["conn"]) if match["conn"] else None,
        )

    @classmethod
    def from_wire(
        cls, component: dict[str, Any], variable: dict[str, Any]
    ) -> VariableKey:
        """From the (snake_case) component and variable objects of a frame."""
        evse = component.get("evse") or {}
        return cls(
            component=str(component.get("name", "")),
            variable=str(variable.get("name", "")),
            component_instance=component.get("instance"),
            variable_instance=variable.get("instance"),
            evse_id=evse.get("id"),
            connector_id=evse.get("connector_id"),
        )

    def text(self) -> str:
        """The configuration key."""
        comp = self.component
        if self.component_instance:
            comp += f":{self.component_instance}"
        if self.evse_id is not None:
            comp += (
                f"[{self.evse_id},{self.connector_id}]"
                if self.connector_id is not None
                else f"[{self.evse_id}]"
            )
        var = self.variable
        if self.variable_instance:
            var += f":{self.variable_instance}"
        return f"{comp}.{var}"

    def identity(self) -> tuple[Any, ...]:
        """Case-insensitive identity (device-model names are case-insensitive)."""
        return (
            self.component.lower(),
            (self.component_instance or "").lower(),
            self.evse_id,
            self.connector_id,
            self.variable.lower(),
            (self.variable_instance or "").lower(),
        )

    def wire(self) -> dict[str, Any]:
        """The {component, variable} pair of a Get/SetVariables request."""
        component: dict[str, Any] = {"name": self.component}
        if self.component_instance:
            component["instance"] = self.component_instance
        if self.evse_id is not None:
            evse: dict[str, Any] = {"id": self.evse_id}
            if self.connector_id is not None:
                evse["connector_id"] = self.connector_id
            component["evse"] = evse
        variable: dict[str, Any] = {"name": self.variable}
        if self.variable_instance:
            variable["instance"] = self.variable_instance
        return {"component": component, "variable": variable}


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


def _registers(meter_values: Iterable[dict[str, Any]]) -> list[tuple[str, float]]:
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


def _ordered(meter_values: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """Meter values oldest first (stable for equal timestamps)."""
    return sorted(meter_values or [], key=lambda mv: parse_time(mv.get("timestamp")))


def token_type(id_tag: str) -> str:
    """A guess at the IdToken type of a tag we only know as text."""
    return "ISO14443" if _HEX_RE.match(id_tag) else "Local"


class ChargePoint201(ChargePointLink, _V201ChargePoint):  # type: ignore[misc]
    """One OCPP 2.0.1 charging station connection."""

    format_error_code = "FormatViolation"
    message_type_error_code = "MessageTypeNotSupported"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # (evseId, connectorId) -> last 2.0.1 connectorStatus
        self._connector_status: dict[tuple[int, int], str] = {}
        # idToken -> the type the station presented it with
        self._token_types: dict[str, str] = {}
        # requestId of a device-model report -> set once its last part arrived
        self._reports: dict[int, asyncio.Event] = {}
        self._evses_added = False

    # Routing ------------------------------------------------------------------

    async def _handle_call(self, msg: Call) -> Any:
        # OCPP-J: NotImplemented = action unknown, NotSupported = known, not served.
        if msg.action not in self.route_map:
            if msg.action in _ACTIONS:
                raise OcppNotSupported(
                    details={"cause": f"{msg.action} is not supported"}
                )
            raise OcppNotImplemented(details={"cause": f"Unknown action {msg.action}"})
        return await super()._handle_call(msg)

    def _done(self, changed: bool) -> None:
        """End of a frame: persist new EVSEs, tell the listeners once."""
        if self._evses_added:
            self._evses_added = False
            self.spawn(self.system.connectors_changed(self.charger))
            changed = True
        if changed:
            self.charger.notify()

    def _evse(self, evse_id: int, connector_id: int | None = None) -> ConnectorState:
        """The EVSE's ConnectorState, created (and announced) when new."""
        if evse_id not in self.charger.connectors:
            self._evses_added = True
        conn = self.charger.connector(evse_id)
        if connector_id is not None and conn.evse_connector_id is None:
            conn.evse_connector_id = connector_id
        return conn

    def _authorize(self, id_token: dict[str, Any]) -> str:
        token = str(id_token.get("id_token", ""))
        kind = str(id_token.get("type", ""))
        if kind == "NoAuthorization":
            return "Accepted"
        if token and kind and kind != "Central":
            self._token_types[token] = kind
        return self.system.authorize(token)

    # Station -> CSMS ----------------------------------------------------------

    @_on(Action.boot_notification)
    async def on_boot_notification(
        self, charging_station: dict[str, Any], reason: str, **_: Any
    ) -> call_result.BootNotification:
        modem = charging_station.get("modem") or {}
        info = ChargerInfo(
            vendor=charging_station.get("vendor_name"),
            model=charging_station.get("model"),
            serial_number=charging_station.get("serial_number"),
            firmware_version=charging_station.get("firmware_version"),
            iccid=modem.get("iccid"),
            imsi=modem.get("imsi"),
        )
        _LOGGER.debug("%s booted (%s)", self.id, reason)
        status = await self.system.on_boot(self, info)
        return call_result.BootNotification(
            current_time=_now_text(),
            interval=self.system.config.heartbeat_interval,
            status=status,
        )

    @_on(Action.heartbeat)
    async def on_heartbeat(self, **_: Any) -> call_result.Heartbeat:
        return call_result.Heartbeat(current_time=_now_text())

    @_on(Action.status_notification)
    async def on_status_notification(
        self,
        timestamp: str,
        connector_status: str,
        evse_id: int,
        connector_id: int,
        **_: Any,
    ) -> call_result.StatusNotification:
        if evse_id == 0:
            self.charger.status = _CONNECTOR_STATUS.get(
                connector_status, ConnectorStatus.UNKNOWN
            )
            self._done(True)
            return call_result.StatusNotification()
        conn = self._evse(evse_id, connector_id)
        self._connector_status[(evse_id, connector_id)] = connector_status
        if connector_status == "Occupied":
            conn.evse_connector_id = connector_id
        statuses = {s for (e, _c), s in self._connector_status.items() if e == evse_id}
        wire = next((s for s in _EVSE_STATUS_ORDER if s in statuses), connector_status)
        conn.set_status(self._evse_status(conn, wire))
        self._done(True)
        return call_result.StatusNotification()

    @staticmethod
    def _evse_status(conn: ConnectorState, wire: str) -> ConnectorStatus:
        if wire != "Occupied":
            return _CONNECTOR_STATUS.get(wire, ConnectorStatus.UNKNOWN)
        if conn.transaction is not None:
            # Keep what the transaction events said about charging.
            return (
                conn.status if conn.status in _TX_STATES else ConnectorStatus.OCCUPIED
            )
        if conn.status == ConnectorStatus.FINISHING:
            return ConnectorStatus.FINISHING
        return ConnectorStatus.PREPARING

    @_on(Action.authorize)
    async def on_authorize(
        self, id_token: dict[str, Any], **_: Any
    ) -> call_result.Authorize:
        return call_result.Authorize(
            id_token_info={"status": self._authorize(id_token)}
        )

    @_on(Action.meter_values)
    async def on_meter_values(
        self, evse_id: int, meter_value: list[dict[str, Any]], **_: Any
    ) -> call_result.MeterValues:
        if evse_id == 0:  # the station's main meter: not a charging point
            return call_result.MeterValues()
        conn = self._evse(evse_id)
        register, live = self._apply_meter(conn, _ordered(meter_value))
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
        """Book a register; False when it was only booked on the session.

        A register older and lower than the last one known (a message queued
        while offline, delivered after newer values) must not move the energy
        total's baseline back, or the difference would be counted twice.
        """
        last = self.system.energy_total(self.id, conn.connector_id).last_register_wh
        if live or last is None or register >= last:
            await self.record_register(conn.connector_id, register, tx, seq_no)
            return True
        if tx is not None and register >= tx.meter_start_wh:
            tx.meter_last_wh = max(tx.meter_last_wh, register)
            await self.system.store.update_session(
                tx.session_id, tx.meter_last_wh, seq_no
            )
            if conn.transaction is tx:
                conn.last_session_energy_wh = tx.energy_wh
        return False

    @_on(Action.transaction_event)
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
            started_with = self.charger.remote_starts.pop(int(remote_start_id), None)
            id_tag = id_tag or started_with
        response = call_result.TransactionEvent(
            id_token_info={"status": self._authorize(id_token)} if id_token else None
        )
        meter_values = _ordered(meter_value)
        tx = self.find_transaction(tx_id)
        if tx is None:
            stored = await self.system.store.get_session(self.id, tx_id)
            if stored is not None and stored.stop_time is not None:
                _LOGGER.debug("%s: event for finished transaction %s", self.id, tx_id)
                return response  # a repeat: nothing changes
            evse_id = self._event_evse(evse, stored.connector_id if stored else None)
            conn = self._evse(evse_id, (evse or {}).get("connector_id"))
            await self._close_stale(conn, tx_id, when)
            opened = await self.open_transaction(
                evse_id,
                id_tag,
                stored.start_time if stored else when,
                self._meter_start(conn, evse_id, meter_values, event_type),
                transaction_id=tx_id,
                evse_id=evse_id,
                seq_no=seq_no,
            )
            # Meter the connector's own Transaction object, not the returned copy.
            tx = self.find_transaction(tx_id) or opened
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
            await self._set_id_tag(conn, tx, id_tag)
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
            await self.close_transaction(
                tx_id, when, register if live else None, reason
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
        registers = _registers(meter_values)
        for context, value in registers:
            if context == "Transaction.Begin":
                return value
        known = conn.meter.energy_wh
        if known is None:
            known = self.system.energy_total(self.id, evse_id).last_register_wh
        if event_type == "Started" and registers:
            return registers[0][1]
        if known is not None:
            return known
        if registers:
            return registers[0][1]
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
            await self.close_transaction(old.transaction_id, when, None, "Other")

    async def _set_id_tag(
        self, conn: ConnectorState, tx: Transaction, id_tag: str
    ) -> None:
        """An id token that arrived after the transaction started."""
        tx.id_tag = id_tag
        await self.system.store.update_session(
            tx.session_id, tx.meter_last_wh, id_tag=id_tag
        )
        if conn.transaction is not None:
            conn.transaction.id_tag = id_tag
        conn.last_session_id_tag = id_tag

    @_on(Action.notify_report)
    async def on_notify_report(
        self,
        request_id: int,
        generated_at: str,
        seq_no: int,
        report_data: list[dict[str, Any]] | None = None,
        tbc: bool = False,
        **_: Any,
    ) -> call_result.NotifyReport:
        for item in report_data or []:
            key = VariableKey.from_wire(item["component"], item["variable"])
            value = next(
                (
                    attr.get("value")
                    for attr in item.get("variable_attribute") or []
                    if attr.get("type", "Actual") == "Actual"
                ),
                None,
            )
            self._learn(key, value)
        if not tbc:
            event = self._reports.get(request_id)
            if event is not None:
                event.set()
        self._done(True)
        return call_result.NotifyReport()

    def _learn(self, key: VariableKey, value: str | None) -> None:
        """Record one device-model variable and what it tells us."""
        component = key.component.lower()
        if component in ("evse", "connector") and key.evse_id:
            self._evse(key.evse_id, key.connector_id)
        if value is None:
            return
        self.charger.configuration[key.text()] = value
        if key.variable.lower() == "enabled" and not key.component_instance:
            enabled = value.strip().lower() == "true"
            if component == "smartchargingctrlr":
                self.charger.supports_smart_charging = enabled
            elif component == "localauthlistctrlr":
                self.charger.supports_local_list = enabled

    @_on(Action.notify_event)
    async def on_notify_event(
        self,
        generated_at: str,
        seq_no: int,
        event_data: list[dict[str, Any]],
        **_: Any,
    ) -> call_result.NotifyEvent:
        for event in event_data:
            key = VariableKey.from_wire(event["component"], event["variable"])
            value = str(event.get("actual_value", ""))
            self._learn(key, value)
            if key.variable.lower() not in _PROBLEM_VARIABLES:
                continue
            active = value.strip().lower() == "true" and not event.get("cleared")
            code = (
                (event.get("tech_code") or f"{key.component}.{key.variable}")
                if active
                else None
            )
            if key.evse_id and key.component.lower() in ("evse", "connector"):
                conn = self._evse(key.evse_id, key.connector_id)
                conn.error_code = code
                conn.vendor_error = event.get("tech_info") if active else None
            else:
                self.charger.error_code = code
            _LOGGER.info(
                "%s: %s %s", self.id, key.text(), "raised" if active else "cleared"
            )
        self._done(True)
        return call_result.NotifyEvent()

    @_on(Action.firmware_status_notification)
    async def on_firmware_status_notification(
        self, status: str, **_: Any
    ) -> call_result.FirmwareStatusNotification:
        self.charger.firmware_status = status
        self._done(True)
        return call_result.FirmwareStatusNotification()

    @_on(Action.log_status_notification)
    async def on_log_status_notification(
        self, status: str, **_: Any
    ) -> call_result.LogStatusNotification:
        self.charger.diagnostics_status = status
        self._done(True)
        return call_result.LogStatusNotification()

    @_on(Action.security_event_notification)
    async def on_security_event_notification(
        self, **kwargs: Any
    ) -> call_result.SecurityEventNotification:
        _LOGGER.info(
            "%s: security event %s %s",
            self.id,
            kwargs.get("type"),
            kwargs.get("tech_info") or "",
        )
        return call_result.SecurityEventNotification()

    @_on(Action.data_transfer)
    async def on_data_transfer(
        self, vendor_id: str, **_: Any
    ) -> call_result.DataTransfer:
        return call_result.DataTransfer(status="UnknownVendorId")

    # CSMS -> station ----------------------------------------------------------

    async def after_accepted(self) -> None:
        """Learn the EVSEs and features, then bring the local list up to date."""
        try:
            done = await self._request_report()
            await asyncio.wait_for(
                done.wait(), timeout=2 * self.system.config.response_timeout
            )
        except CommandError as err:
            _LOGGER.info("%s: no device-model report: %s", self.id, err)
        except TimeoutError:
            _LOGGER.info("%s: device-model report incomplete", self.id)
        if self.charger.supports_local_list:
            version = await self.system.store.local_list_version()
            if version > 0 and await self.get_local_list_version() != version:
                tags = sorted(self.system.tags.values(), key=lambda t: t.id_tag)
                await self.send_local_list(tags, version)

    async def get_base_report(self) -> None:
        """Ask for the full device model (it arrives as NotifyReport frames)."""
        await self._request_report()

    async def _request_report(self) -> asyncio.Event:
        """Send GetBaseReport; the event is set when the whole report arrived."""
        request_id = _REQUEST_IDS.next()
        done = asyncio.Event()
        self._reports = {request_id: done}  # only the newest report is awaited
        result = await self.request(
            call.GetBaseReport(request_id=request_id, report_base="FullInventory"),
            accepted=("Accepted", "EmptyResultSet"),
        )
        if result.status == "EmptyResultSet":
            done.set()
        return done

    async def start_charging(self, connector_id: int, id_tag: str) -> None:
        remote_start_id = _REQUEST_IDS.next()
        # Known before the answer: the Started event may come first.
        starts = self.charger.remote_starts
        starts[remote_start_id] = id_tag
        while len(starts) > MAX_REMOTE_STARTS:
            del starts[next(iter(starts))]
        try:
            await self.request(
                call.RequestStartTransaction(
                    id_token={"id_token": id_tag, "type": "Central"},
                    remote_start_id=remote_start_id,
                    evse_id=connector_id or None,
                )
            )
        except CommandError:
            starts.pop(remote_start_id, None)
            raise

    def _running(self, connector_id: int, action: str) -> Transaction:
        if connector_id == 0:
            tx = self.charger.active_transaction()
        else:
            conn = self.charger.connectors.get(connector_id)
            tx = conn.transaction if conn is not None else None
        if tx is None:
            raise CommandError(
                self.id, action, f"no transaction running on EVSE {connector_id}"
            )
        return tx

    async def stop_charging(self, connector_id: int) -> None:
        tx = self._running(connector_id, "RequestStopTransaction")
        await self.request(
            call.RequestStopTransaction(transaction_id=tx.transaction_id)
        )

    async def set_charging_limit(self, limit: ChargingLimit) -> None:
        evse_id = limit.connector_id
        transaction_id: str | None = None
        if limit.purpose == LimitPurpose.TX:
            tx = self._running(evse_id, "SetChargingProfile")
            transaction_id = tx.transaction_id
            evse_id = tx.connector_id
        elif limit.purpose == LimitPurpose.CHARGE_POINT_MAX:
            evse_id = 0
        profile_id = _PROFILE_ID_BASE[limit.purpose] + evse_id
        period: dict[str, Any] = {"start_period": 0, "limit": float(limit.value)}
        if limit.phases is not None:
            period["number_phases"] = limit.phases
        schedule: dict[str, Any] = {
            "id": profile_id,
            "start_schedule": _now_text(),
            "charging_rate_unit": limit.unit.value,
            "charging_schedule_period": [period],
        }
        if limit.duration_s is not None:
            schedule["duration"] = limit.duration_s
        profile: dict[str, Any] = {
            "id": profile_id,
            "stack_level": PROFILE_STACK_LEVEL,
            "charging_profile_purpose": _PROFILE_PURPOSE[limit.purpose],
            "charging_profile_kind": "Absolute",
            "charging_schedule": [schedule],
        }
        if transaction_id is not None:
            profile["transaction_id"] = transaction_id
        targets = self._targets(evse_id)
        self._done(False)  # a new EVSE is announced before the answer
        await self.send_limit(
            call.SetChargingProfile(evse_id=evse_id, charging_profile=profile),
            targets,
            limit,
        )

    def _targets(self, evse_id: int) -> list[ConnectorState]:
        """The EVSE, or every EVSE for 0."""
        if evse_id == 0:
            return [c for i, c in self.charger.connectors.items() if i > 0]
        return [self._evse(evse_id)]

    async def clear_charging_limit(self, connector_id: int) -> None:
        criteria: dict[str, Any] = {"stack_level": PROFILE_STACK_LEVEL}
        if connector_id:
            criteria["evse_id"] = connector_id
        await self.request(
            call.ClearChargingProfile(charging_profile_criteria=criteria),
            accepted=("Accepted", "Unknown"),
        )
        for conn in self._targets(connector_id):
            conn.current_limit_a = conn.power_limit_w = conn.limit_phases = None
        self._done(True)

    async def get_composite_schedule(
        self, connector_id: int, duration_s: int, unit: str | None
    ) -> dict[str, Any]:
        result = await self.request(
            call.GetCompositeSchedule(
                duration=duration_s, evse_id=connector_id, charging_rate_unit=unit
            )
        )
        return {"status": str(result.status), "schedule": result.schedule}

    async def reset(self, kind: ResetKind) -> None:
        await self.request(
            call.Reset(type="Immediate" if kind == ResetKind.HARD else "OnIdle"),
            accepted=("Accepted", "Scheduled"),
        )

    async def unlock(self, connector_id: int) -> None:
        conn = self.charger.connectors.get(connector_id)
        connector = conn.evse_connector_id if conn and conn.evse_connector_id else 1
        await self.request(
            call.UnlockConnector(evse_id=connector_id, connector_id=connector),
            accepted=("Unlocked",),
        )

    async def set_availability(self, connector_id: int, available: bool) -> None:
        await self.request(
            call.ChangeAvailability(
                operational_status="Operative" if available else "Inoperative",
                evse={"id": connector_id} if connector_id else None,
            ),
            accepted=("Accepted", "Scheduled"),
        )
        for conn in self._targets(connector_id):
            conn.available = available
        self._done(True)

    async def get_configuration(self, keys: list[str] | None) -> dict[str, Any]:
        """Read device-model variables; without keys, what the report told us."""
        if keys is None:
            return {
                "configuration": {
                    key: {"value": value, "status": "Accepted"}
                    for key, value in sorted(self.charger.configuration.items())
                },
                "unknown": [],
            }
        unknown: list[str] = []
        wanted: list[tuple[str, VariableKey]] = []
        for key in keys:
            parsed = VariableKey.parse(key)
            if parsed is None:
                unknown.append(key)
            else:
                wanted.append((key, parsed))
        configuration: dict[str, dict[str, Any]] = {}
        if wanted:
            result = await self.request(
                call.GetVariables(get_variable_data=[k.wire() for _, k in wanted]),
                accepted=None,
            )
            by_identity = {k.identity(): key for key, k in wanted}
            changed = False
            for index, item in enumerate(result.get_variable_result):
                got = VariableKey.from_wire(item["component"], item["variable"])
                asked = by_identity.get(got.identity())
                if asked is None and index < len(wanted):
                    asked = wanted[index][0]
                if asked is None:
                    continue
                status = str(item["attribute_status"])
                if status in ("UnknownComponent", "UnknownVariable"):
                    unknown.append(asked)
                    continue
                value = item.get("attribute_value")
                configuration[asked] = {"value": value, "status": status}
                if status == "Accepted" and value is not None:
                    self.charger.configuration[got.text()] = str(value)
                    changed = True
            if changed:
                self.charger.notify()
        return {"configuration": configuration, "unknown": unknown}

    async def set_configuration(self, key: str, value: str) -> str:
        parsed = VariableKey.parse(key)
        if parsed is None:
            raise CommandError(self.id, "SetVariables", f"not a variable name: {key}")
        result = await self.request(
            call.SetVariables(
                set_variable_data=[{**parsed.wire(), "attribute_value": value}]
            ),
            accepted=None,
        )
        items = result.set_variable_result
        status = str(items[0]["attribute_status"]) if items else "Rejected"
        if status not in ("Accepted", "RebootRequired"):
            raise CommandRejected(self.id, "SetVariables", status)
        self._learn(parsed, value)
        self.charger.notify()
        return status

    async def trigger_message(self, message: str, connector_id: int | None) -> None:
        requested = _TRIGGER_ALIASES.get(message, message)
        if requested not in _TRIGGERS:
            raise CommandNotSupported(self.id, "TriggerMessage", message)
        await self.request(
            call.TriggerMessage(
                requested_message=requested,
                evse={"id": connector_id} if connector_id else None,
            )
        )

    async def update_firmware(
        self, location: str, retrieve_date: datetime | None
    ) -> None:
        await self.request(
            call.UpdateFirmware(
                request_id=_REQUEST_IDS.next(),
                firmware={
                    "location": location,
                    "retrieve_date_time": _time_text(retrieve_date or utcnow()),
                },
            ),
            accepted=("Accepted", "AcceptedCanceled"),
        )

    async def request_diagnostics(self, location: str) -> str | None:
        result = await self.request(
            call.GetLog(
                log={"remote_location": location},
                log_type="DiagnosticsLog",
                request_id=_REQUEST_IDS.next(),
            ),
            accepted=("Accepted", "AcceptedCanceled"),
        )
        return cast(str | None, result.filename)

    async def data_transfer(
        self, vendor_id: str, message_id: str | None, data: str | None
    ) -> dict[str, Any]:
        result = await self.request(
            call.DataTransfer(vendor_id=vendor_id, message_id=message_id, data=data),
            accepted=None,
        )
        return {"status": str(result.status), "data": result.data}

    async def send_local_list(self, tags: list[IdTagEntry], version: int) -> None:
        now = utcnow()
        entries: list[dict[str, Any]] = []
        for tag in tags:
            info: dict[str, Any] = {"status": tag.status}
            if tag.expiry is not None:
                info["cache_expiry_date_time"] = _time_text(tag.expiry)
                if tag.expiry <= now:
                    info["status"] = "Expired"
            kind = self._token_types.get(tag.id_tag) or token_type(tag.id_tag)
            entries.append(
                {
                    "id_token": {"id_token": tag.id_tag, "type": kind},
                    "id_token_info": info,
                }
            )
        await self.request(
            call.SendLocalList(
                version_number=version,
                update_type="Full",
                local_authorization_list=entries or None,
            )
        )

    async def get_local_list_version(self) -> int:
        """The version of the station's local authorization list."""
        result = await self.request(call.GetLocalListVersion(), accepted=None)
        return int(result.version_number)

    async def clear_cache(self) -> None:
        """Empty the station's authorization cache."""
        await self.request(call.ClearCache())
