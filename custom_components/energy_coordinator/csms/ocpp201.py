"""The OCPP 2.0.1 charge-point handler of the central system.

`ChargePoint201` owns one 2.0.1 connection. It is made of parts with one job each:
`station201.Station201` (the connection's state, EVSEs, routing errors),
`transactions201.TransactionEvents201` (transaction events and meter values into
the session ledger), `commands201.Commands201` (our commands as 2.0.1 CALLs) and,
here, what the station tells about itself: boot, heartbeat, connector status,
authorization, device-model reports and events, firmware, log and security
notifications, vendor data.

For 2.0.1 one `ConnectorState` is one EVSE: its `connector_id` is the evseId and its
`evse_connector_id` the connector within that EVSE. Device-model values are kept in
`ChargerState.configuration` as `device_model201.VariableKey` texts.
"""

from __future__ import annotations

import logging
from typing import Any

from ocpp.v201 import ChargePoint as _V201ChargePoint
from ocpp.v201 import call_result
from ocpp.v201.enums import Action

from .commands201 import PROFILE_STACK_LEVEL, Commands201
from .device_model201 import VariableKey
from .model import ChargerInfo, ConnectorState, ConnectorStatus
from .station201 import TX_STATES, handles, now_text
from .transactions201 import TransactionEvents201, to_samples

__all__ = ["PROFILE_STACK_LEVEL", "ChargePoint201", "VariableKey", "to_samples"]

_LOGGER = logging.getLogger(__name__)

_CONNECTOR_STATUS: dict[str, ConnectorStatus] = {
    "Available": ConnectorStatus.AVAILABLE,
    "Occupied": ConnectorStatus.OCCUPIED,
    "Reserved": ConnectorStatus.RESERVED,
    "Unavailable": ConnectorStatus.UNAVAILABLE,
    "Faulted": ConnectorStatus.FAULTED,
}
#: Which connector of a multi-connector EVSE speaks for it (first match wins).
_EVSE_STATUS_ORDER = ("Occupied", "Reserved", "Available", "Faulted", "Unavailable")
#: Event variables that report a fault of their component.
_PROBLEM_VARIABLES = frozenset({"problem", "tripped"})


class ChargePoint201(
    Commands201,
    TransactionEvents201,
    _V201ChargePoint,  # type: ignore[misc]
):
    """One OCPP 2.0.1 charging station connection."""

    # Station -> CSMS ----------------------------------------------------------

    @handles(Action.boot_notification)
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
        status = await self.booted(info)
        return call_result.BootNotification(
            current_time=now_text(),
            interval=self.host.config.heartbeat_interval,
            status=status,
        )

    @handles(Action.heartbeat)
    async def on_heartbeat(self, **_: Any) -> call_result.Heartbeat:
        return call_result.Heartbeat(current_time=now_text())

    @handles(Action.status_notification)
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
            return conn.status if conn.status in TX_STATES else ConnectorStatus.OCCUPIED
        if conn.status == ConnectorStatus.FINISHING:
            return ConnectorStatus.FINISHING
        return ConnectorStatus.PREPARING

    @handles(Action.authorize)
    async def on_authorize(
        self, id_token: dict[str, Any], **_: Any
    ) -> call_result.Authorize:
        return call_result.Authorize(
            id_token_info={"status": self._authorize(id_token)}
        )

    @handles(Action.notify_report)
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

    @handles(Action.notify_event)
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

    @handles(Action.firmware_status_notification)
    async def on_firmware_status_notification(
        self, status: str, **_: Any
    ) -> call_result.FirmwareStatusNotification:
        self.charger.firmware_status = status
        self._done(True)
        return call_result.FirmwareStatusNotification()

    @handles(Action.log_status_notification)
    async def on_log_status_notification(
        self, status: str, **_: Any
    ) -> call_result.LogStatusNotification:
        self.charger.diagnostics_status = status
        self._done(True)
        return call_result.LogStatusNotification()

    @handles(Action.security_event_notification)
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

    @handles(Action.data_transfer)
    async def on_data_transfer(
        self, vendor_id: str, **_: Any
    ) -> call_result.DataTransfer:
        return call_result.DataTransfer(status="UnknownVendorId")
