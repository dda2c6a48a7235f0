"""Simulated OCPP 2.0.1 charging station.

Owns the 2.0.1 message formats (BootNotification with ``chargingStation``,
StatusNotification per EVSE/connector, Authorize with ``idToken``,
TransactionEvent Started/Updated/Ended with ``seqNo`` and meter values,
MeterValues outside transactions, firmware and log notifications, NotifyReport),
the small device model behind GetVariables/SetVariables/GetBaseReport/GetReport
and every CSMS -> station handler the coordinator uses. Each simulated EVSE
``n`` has exactly one connector (``evse n, connector 1``).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ocpp.v201 import ChargePoint as OcppChargePoint
from ocpp.v201 import call, call_result
from ocpp.v201.enums import Action

from .base import OCPP_LOGGER, VENDOR, Connector, handles, iso
from .commands import CommandHandling

ID_TOKEN_TYPE = "ISO14443"
REGISTER = "Energy.Active.Import.Register"
MEASURANDS = (
    "Energy.Active.Import.Register,Power.Active.Import,Current.Import,Voltage,"
    "Current.Offered,SoC"
)

# stoppedReason -> triggerReason of the Ended event.
_STOP_TRIGGERS = {
    "Local": "StopAuthorized",
    "Remote": "RemoteStop",
    "EVDisconnected": "EVDeparted",
    "StoppedByEV": "ChargingStateChanged",
    "ImmediateReset": "ResetCommand",
    "Reboot": "ResetCommand",
    "DeAuthorized": "Deauthorized",
    "EnergyLimitReached": "EnergyLimitReached",
    "SOCLimitReached": "EnergyLimitReached",
    "TimeLimitReached": "TimeLimitReached",
}


def _interval_text(seconds: float) -> str:
    return str(int(seconds)) if float(seconds).is_integer() else str(seconds)


def _as_bool(value: str) -> bool:
    if value.lower() not in ("true", "false"):
        raise ValueError(value)
    return value.lower() == "true"


@dataclass(frozen=True, slots=True)
class Variable:
    """One entry of the simulated device model (attribute ``Actual`` only)."""

    component: str
    name: str
    value: str
    data_type: str = "string"
    evse: int | None = None
    connector: int | None = None
    setter: Callable[[str], None] | None = None
    values_list: str | None = None
    unit: str | None = None

    @property
    def mutability(self) -> str:
        return "ReadWrite" if self.setter is not None else "ReadOnly"

    def component_dict(self) -> dict[str, Any]:
        component: dict[str, Any] = {"name": self.component}
        if self.evse is not None:
            evse: dict[str, Any] = {"id": self.evse}
            if self.connector is not None:
                evse["connector_id"] = self.connector
            component["evse"] = evse
        return component

    def report(self) -> dict[str, Any]:
        characteristics: dict[str, Any] = {
            "data_type": self.data_type,
            "supports_monitoring": False,
        }
        if self.values_list:
            characteristics["values_list"] = self.values_list
        if self.unit:
            characteristics["unit"] = self.unit
        return {
            "component": self.component_dict(),
            "variable": {"name": self.name},
            "variable_attribute": [
                {"type": "Actual", "value": self.value, "mutability": self.mutability}
            ],
            "variable_characteristics": characteristics,
        }


def _component_key(component: dict[str, Any]) -> tuple[str, int | None, int | None]:
    evse = component.get("evse") or {}
    return (
        str(component.get("name", "")).lower(),
        evse.get("id"),
        evse.get("connector_id"),
    )


class ChargePoint201(CommandHandling, OcppChargePoint):  # type: ignore[misc]
    """A simulated OCPP 2.0.1 charging station (EVSEs 1..n, one connector each)."""

    ocpp_version = "2.0.1"
    subprotocol = "ocpp2.0.1"
    model = "Sim-201"
    reason_ev_full = "StoppedByEV"
    reason_ev_disconnected = "EVDisconnected"
    reason_remote = "Remote"
    reason_deauthorized = "DeAuthorized"
    upload_trigger = "LogStatusNotification"

    def _init_ocpp(self, response_timeout: float) -> None:
        OcppChargePoint.__init__(
            self, self.charger_id, None, response_timeout, logger=OCPP_LOGGER
        )
        self.authorize_remote_start = False
        self.tx_start_point = "Authorized"
        self.tx_stop_point = "Authorized"
        self.sampled_data_enabled = True
        #: Whether a remotely started transaction's Started event carries the
        #: idToken (some stations send only the remoteStartId).
        self.token_on_remote_start = True
        #: Whether the Ended event's meter value carries every measurand (some
        #: stations send only the energy register, no power and no currents).
        self.full_meter_at_end = True
        self._token_types: dict[int, str] = {}

    async def _receive_forever(self) -> None:
        await OcppChargePoint.start(self)

    async def _handle_call(self, msg: Any) -> Any:
        return await self._dispatch_call(msg, super()._handle_call)

    # ------------------------------------------------------ outgoing messages
    async def _send_boot_notification(self) -> tuple[str, float]:
        result = await self._call(
            call.BootNotification(
                charging_station={
                    "model": self.model,
                    "vendor_name": VENDOR,
                    "serial_number": self.serial_number,
                    "firmware_version": self.firmware_version,
                },
                reason=self.boot_reason,
            )
        )
        return str(result.status), float(result.interval)

    async def _send_heartbeat(self) -> None:
        await self._call(call.Heartbeat())

    def _status_of(self, connector: Connector) -> str:
        if not connector.operative:
            return "Unavailable"
        if connector.ev is not None or connector.transaction_id is not None:
            return "Occupied"
        return "Available"

    async def _send_status(self, connector: Connector) -> None:
        await self._call(
            call.StatusNotification(
                timestamp=iso(),
                connector_status=connector.status,
                evse_id=connector.id,
                connector_id=1,
            )
        )

    def _meter_value(
        self, connector: Connector, context: str, *, register_only: bool = False
    ) -> dict[str, Any]:
        sampled = []
        for sample in self._samples(connector):
            if register_only and sample.measurand != REGISTER:
                continue
            value: dict[str, Any] = {
                "value": sample.value,
                "context": context,
                "measurand": sample.measurand,
                "location": sample.location or "Outlet",
                "unit_of_measure": {"unit": sample.unit},
            }
            if sample.phase:
                value["phase"] = sample.phase
            sampled.append(value)
        return {"timestamp": iso(), "sampled_value": sampled}

    async def _transaction_event(
        self,
        connector: Connector,
        event_type: str,
        trigger_reason: str,
        *,
        transaction_id: str,
        charging_state: str,
        context: str | None = "Sample.Periodic",
        stopped_reason: str | None = None,
        with_token: bool = False,
        register_only: bool = False,
    ) -> Any:
        info: dict[str, Any] = {
            "transaction_id": transaction_id,
            "charging_state": charging_state,
        }
        if stopped_reason is not None:
            info["stopped_reason"] = stopped_reason
        if connector.remote_start_id is not None:
            info["remote_start_id"] = connector.remote_start_id
        seq_no = connector.seq_no
        connector.seq_no += 1
        token = None
        if with_token and connector.id_tag is not None:
            token = {
                "id_token": connector.id_tag,
                "type": self._token_types.get(connector.id, ID_TOKEN_TYPE),
            }
        return await self._call(
            call.TransactionEvent(
                event_type=event_type,
                timestamp=iso(),
                trigger_reason=trigger_reason,
                seq_no=seq_no,
                transaction_info=info,
                meter_value=(
                    [self._meter_value(connector, context, register_only=register_only)]
                    if context
                    else None
                ),
                evse={"id": connector.id, "connector_id": 1},
                id_token=token,
                number_of_phases_used=connector.phases_in_use or None,
            )
        )

    async def _send_meter_values(
        self, connector: Connector, context: str = "Sample.Periodic"
    ) -> None:
        tx = connector.transaction_id
        if tx is None:
            await self._call(
                call.MeterValues(
                    evse_id=connector.id,
                    meter_value=[self._meter_value(connector, context)],
                )
            )
            return
        trigger = "Trigger" if context == "Trigger" else "MeterValuePeriodic"
        await self._transaction_event(
            connector,
            "Updated",
            trigger,
            transaction_id=str(tx),
            charging_state=connector.charging_state,
            context=context,
        )

    # ------------------------------------------------------------ transactions
    async def _start_transaction(
        self,
        connector: Connector,
        id_tag: str,
        *,
        authorize: bool,
        remote_start_id: int | None = None,
    ) -> int | str | None:
        token_type = self._token_types.setdefault(connector.id, ID_TOKEN_TYPE)
        connector.busy = True
        try:
            await self._sync_status(connector)
            if authorize:
                result = await self._call(
                    call.Authorize(id_token={"id_token": id_tag, "type": token_type})
                )
                if (result.id_token_info or {}).get("status") != "Accepted":
                    return None
            transaction_id = str(uuid.uuid4())
            self._begin_tx(connector, transaction_id, id_tag)
            connector.seq_no = 0
            connector.remote_start_id = remote_start_id
        finally:
            connector.busy = False
        result = await self._transaction_event(
            connector,
            "Started",
            "RemoteStart" if remote_start_id is not None else "Authorized",
            transaction_id=transaction_id,
            charging_state=connector.charging_state,
            context="Transaction.Begin",
            with_token=remote_start_id is None or self.token_on_remote_start,
        )
        info = getattr(result, "id_token_info", None) or {}
        if info.get("status", "Accepted") != "Accepted":
            await self._stop_transaction(connector, self.reason_deauthorized)
        return transaction_id

    async def _stop_transaction(self, connector: Connector, reason: str) -> None:
        if connector.transaction_id is None:
            return
        transaction_id = self._end_tx(connector, reason)
        unplugging = reason == self.reason_ev_disconnected or connector.ev is None
        await self._transaction_event(
            connector,
            "Ended",
            _STOP_TRIGGERS.get(reason, "AbnormalCondition"),
            transaction_id=str(transaction_id),
            charging_state="Idle" if unplugging else "EVConnected",
            context="Transaction.End",
            stopped_reason=reason,
            register_only=not self.full_meter_at_end,
        )
        self._token_types.pop(connector.id, None)
        if not unplugging:
            await self._sync_status(connector)

    async def _on_refresh(
        self, connector: Connector, state_changed: bool, rate_changed: bool
    ) -> None:
        if connector.transaction_id is None:
            return
        await self._transaction_event(
            connector,
            "Updated",
            "ChargingStateChanged" if state_changed else "ChargingRateChanged",
            transaction_id=str(connector.transaction_id),
            charging_state=connector.charging_state,
        )

    # ------------------------------------------------------------ device model
    def device_model(self) -> list[Variable]:
        """The variables this station reports and accepts."""

        def set_heartbeat(value: str) -> None:
            seconds = float(value)
            if seconds <= 0:
                raise ValueError(value)
            self.set_heartbeat_interval(seconds)

        def set_meter(value: str) -> None:
            seconds = float(value)
            if seconds < 0:
                raise ValueError(value)
            self.set_meter_interval(seconds)

        def set_smart(value: str) -> None:
            self.smart_charging_enabled = _as_bool(value)

        def set_local(value: str) -> None:
            self.local_auth_enabled = _as_bool(value)

        def set_sampled(value: str) -> None:
            self.sampled_data_enabled = _as_bool(value)

        def set_auth_remote(value: str) -> None:
            self.authorize_remote_start = _as_bool(value)

        def accept(value: str) -> None:
            return None

        def availability(operative: bool) -> str:
            return "Available" if operative else "Unavailable"

        max_power = self.max_current * self.voltage * self.phases
        variables = [
            Variable(
                "ChargingStation", "AvailabilityState", availability(self.operative)
            ),
            Variable("ChargingStation", "Available", "true", "boolean"),
            Variable("ChargingStation", "SupplyPhases", str(self.phases), "integer"),
            Variable(
                "OCPPCommCtrlr",
                "HeartbeatInterval",
                _interval_text(self.heartbeat_interval),
                "integer",
                setter=set_heartbeat,
                unit="s",
            ),
            Variable(
                "SampledDataCtrlr",
                "Enabled",
                str(self.sampled_data_enabled).lower(),
                "boolean",
                setter=set_sampled,
            ),
            Variable(
                "SampledDataCtrlr",
                "TxUpdatedInterval",
                _interval_text(self.meter_interval),
                "integer",
                setter=set_meter,
                unit="s",
            ),
            Variable(
                "SampledDataCtrlr",
                "TxUpdatedMeasurands",
                MEASURANDS,
                "MemberList",
                setter=accept,
                values_list=MEASURANDS,
            ),
            Variable(
                "SmartChargingCtrlr",
                "Enabled",
                str(self.smart_charging_enabled).lower(),
                "boolean",
                setter=set_smart,
            ),
            Variable("SmartChargingCtrlr", "RateUnit", "A,W", "MemberList"),
            Variable("SmartChargingCtrlr", "PeriodsPerSchedule", "24", "integer"),
            Variable("SmartChargingCtrlr", "ProfileStackLevel", "8", "integer"),
            Variable(
                "LocalAuthListCtrlr",
                "Enabled",
                str(self.local_auth_enabled).lower(),
                "boolean",
                setter=set_local,
            ),
            Variable(
                "LocalAuthListCtrlr", "Entries", str(len(self.local_list)), "integer"
            ),
            Variable(
                "AuthCtrlr",
                "AuthorizeRemoteStart",
                str(self.authorize_remote_start).lower(),
                "boolean",
                setter=set_auth_remote,
            ),
            Variable(
                "TxCtrlr",
                "TxStartPoint",
                self.tx_start_point,
                "MemberList",
                values_list="Authorized,EVConnected,PowerPathClosed",
            ),
            Variable(
                "TxCtrlr",
                "TxStopPoint",
                self.tx_stop_point,
                "MemberList",
                values_list="Authorized,EVConnected,PowerPathClosed",
            ),
        ]
        for n, connector in self.connectors.items():
            variables += [
                Variable(
                    "EVSE",
                    "AvailabilityState",
                    availability(connector.operative),
                    evse=n,
                ),
                Variable("EVSE", "Available", "true", "boolean", evse=n),
                Variable(
                    "EVSE", "Power", str(round(max_power)), "decimal", evse=n, unit="W"
                ),
                Variable("EVSE", "SupplyPhases", str(self.phases), "integer", evse=n),
                Variable(
                    "Connector",
                    "AvailabilityState",
                    connector.status or self._status_of(connector),
                    evse=n,
                    connector=1,
                ),
                Variable(
                    "Connector", "Available", "true", "boolean", evse=n, connector=1
                ),
                Variable(
                    "Connector",
                    "ConnectorType",
                    "cType2",
                    "OptionList",
                    evse=n,
                    connector=1,
                ),
                Variable(
                    "Connector",
                    "SupplyPhases",
                    str(self.phases),
                    "integer",
                    evse=n,
                    connector=1,
                ),
            ]
        return variables

    def _lookup(
        self, component: dict[str, Any], variable: dict[str, Any]
    ) -> tuple[str, Variable | None]:
        """Find a variable; returns (status if not found, variable)."""
        key = _component_key(component)
        if component.get("instance"):
            return "UnknownComponent", None
        matches = [
            v
            for v in self.device_model()
            if (v.component.lower(), v.evse, v.connector) == key
        ]
        if not matches:
            return "UnknownComponent", None
        name = str(variable.get("name", "")).lower()
        for v in matches:
            if v.name.lower() == name and not variable.get("instance"):
                return "Accepted", v
        return "UnknownVariable", None

    def _report_data(self, report_base: str) -> list[dict[str, Any]]:
        variables = self.device_model()
        if report_base == "ConfigurationInventory":
            variables = [v for v in variables if v.setter is not None]
        elif report_base == "SummaryInventory":
            variables = [v for v in variables if v.name == "AvailabilityState"]
        return [v.report() for v in variables]

    async def _notify_report(self, request_id: int, data: list[dict[str, Any]]) -> None:
        chunk = 50
        parts = [data[i : i + chunk] for i in range(0, len(data), chunk)] or [[]]
        for seq_no, part in enumerate(parts):
            await self._call(
                call.NotifyReport(
                    request_id=request_id,
                    generated_at=iso(),
                    seq_no=seq_no,
                    report_data=part or None,
                    tbc=seq_no < len(parts) - 1,
                )
            )

    # --------------------------------------------------------------- handlers
    @handles(Action.request_start_transaction)
    def on_request_start_transaction(
        self,
        id_token: dict[str, Any],
        remote_start_id: int,
        evse_id: int | None = None,
        charging_profile: dict[str, Any] | None = None,
        **_: Any,
    ) -> Any:
        target = self._remote_start(
            evse_id,
            str(id_token["id_token"]),
            charging_profile,
            authorize=self.authorize_remote_start,
            remote_start_id=remote_start_id,
        )
        if target is None:
            return call_result.RequestStartTransaction(status="Rejected")
        self._token_types[target.id] = str(id_token.get("type", ID_TOKEN_TYPE))
        return call_result.RequestStartTransaction(status="Accepted")

    @handles(Action.request_stop_transaction)
    def on_request_stop_transaction(self, transaction_id: str, **_: Any) -> Any:
        stopping = self._remote_stop(transaction_id)
        return call_result.RequestStopTransaction(
            status="Accepted" if stopping else "Rejected"
        )

    @handles(Action.reset)
    def on_reset(self, type: str, evse_id: int | None = None, **_: Any) -> Any:
        if evse_id is not None:
            connector = self.connectors.get(evse_id)
            if connector is None:
                return call_result.Reset(status="Rejected")
            if connector.transaction_id is not None:
                self._after(lambda: self._stop_transaction(connector, "ImmediateReset"))
            return call_result.Reset(status="Accepted")
        busy = any(c.transaction_id is not None for c in self.connectors.values())
        if type == "OnIdle" and busy:
            self._reset_when_idle = True
            return call_result.Reset(status="Scheduled")
        self._reset("ImmediateReset")
        return call_result.Reset(status="Accepted")

    @handles(Action.unlock_connector)
    def on_unlock_connector(self, evse_id: int, connector_id: int, **_: Any) -> Any:
        connector = self.connectors.get(evse_id)
        if connector is None or connector_id != 1:
            return call_result.UnlockConnector(status="UnknownConnector")
        if connector.transaction_id is not None:
            return call_result.UnlockConnector(status="OngoingAuthorizedTransaction")
        return call_result.UnlockConnector(status="Unlocked")

    @handles(Action.change_availability)
    def on_change_availability(
        self, operational_status: str, evse: dict[str, Any] | None = None, **_: Any
    ) -> Any:
        status = self._change_availability(
            (evse or {}).get("id"), operational_status == "Operative"
        )
        return call_result.ChangeAvailability(status=status)

    @handles(Action.get_variables)
    def on_get_variables(
        self, get_variable_data: list[dict[str, Any]], **_: Any
    ) -> Any:
        results = []
        for item in get_variable_data:
            component, variable = item["component"], item["variable"]
            attribute_type = item.get("attribute_type", "Actual")
            result: dict[str, Any] = {"component": component, "variable": variable}
            if "attribute_type" in item:
                result["attribute_type"] = attribute_type
            status, found = self._lookup(component, variable)
            if found is not None and attribute_type != "Actual":
                status = "NotSupportedAttributeType"
            result["attribute_status"] = status
            if status == "Accepted" and found is not None:
                result["attribute_value"] = found.value
            results.append(result)
        return call_result.GetVariables(get_variable_result=results)

    @handles(Action.set_variables)
    def on_set_variables(
        self, set_variable_data: list[dict[str, Any]], **_: Any
    ) -> Any:
        results = []
        for item in set_variable_data:
            component, variable = item["component"], item["variable"]
            attribute_type = item.get("attribute_type", "Actual")
            result: dict[str, Any] = {"component": component, "variable": variable}
            if "attribute_type" in item:
                result["attribute_type"] = attribute_type
            status, found = self._lookup(component, variable)
            if found is not None:
                if attribute_type != "Actual":
                    status = "NotSupportedAttributeType"
                elif found.setter is None:
                    status = "Rejected"
                else:
                    try:
                        found.setter(str(item["attribute_value"]))
                    except ValueError:
                        status = "Rejected"
            result["attribute_status"] = status
            results.append(result)
        return call_result.SetVariables(set_variable_result=results)

    @handles(Action.get_base_report)
    def on_get_base_report(self, request_id: int, report_base: str, **_: Any) -> Any:
        data = self._report_data(report_base)
        self._after(lambda: self._notify_report(request_id, data))
        return call_result.GetBaseReport(status="Accepted")

    @handles(Action.get_report)
    def on_get_report(
        self,
        request_id: int,
        component_variable: list[dict[str, Any]] | None = None,
        **_: Any,
    ) -> Any:
        variables = self.device_model()
        if component_variable:
            wanted = []
            for item in component_variable:
                key = _component_key(item["component"])
                name = (item.get("variable") or {}).get("name")
                wanted += [
                    v
                    for v in variables
                    if (v.component.lower(), v.evse, v.connector)[0] == key[0]
                    and (key[1] is None or v.evse == key[1])
                    and (key[2] is None or v.connector == key[2])
                    and (name is None or v.name.lower() == str(name).lower())
                ]
            variables = wanted
        if not variables:
            return call_result.GetReport(status="EmptyResultSet")
        data = [v.report() for v in variables]
        self._after(lambda: self._notify_report(request_id, data))
        return call_result.GetReport(status="Accepted")

    @handles(Action.trigger_message)
    def on_trigger_message(
        self, requested_message: str, evse: dict[str, Any] | None = None, **_: Any
    ) -> Any:
        evse_id = (evse or {}).get("id")
        if evse_id is not None and evse_id not in self.connectors:
            return call_result.TriggerMessage(status="Rejected")
        targets = (
            [self.connectors[evse_id]] if evse_id else list(self.connectors.values())
        )
        return call_result.TriggerMessage(
            status=self._trigger(requested_message, targets)
        )

    async def _send_firmware_status(self, status: str, request_id: int | None) -> None:
        await self._call(
            call.FirmwareStatusNotification(status=status, request_id=request_id)
        )

    async def _send_upload_status(self, status: str, request_id: int | None) -> None:
        await self._call(
            call.LogStatusNotification(status=status, request_id=request_id)
        )

    async def _triggered_boot(self) -> None:
        if not self.booted.is_set():
            self._boot_now.set()
            return
        self.boot_reason = "Triggered"
        status, interval = await self._send_boot_notification()
        self.boot_reason = "PowerUp"
        if status == "Accepted" and interval > 0:
            self.set_heartbeat_interval(interval)

    @handles(Action.set_charging_profile)
    def on_set_charging_profile(
        self, evse_id: int, charging_profile: dict[str, Any], **_: Any
    ) -> Any:
        accepted = self._set_profile(evse_id, charging_profile)
        return call_result.SetChargingProfile(
            status="Accepted" if accepted else "Rejected"
        )

    @handles(Action.clear_charging_profile)
    def on_clear_charging_profile(
        self,
        charging_profile_id: int | None = None,
        charging_profile_criteria: dict[str, Any] | None = None,
        **_: Any,
    ) -> Any:
        criteria = charging_profile_criteria or {}
        removed = self._clear_profiles(
            charging_profile_id,
            criteria.get("evse_id"),
            criteria.get("charging_profile_purpose"),
            criteria.get("stack_level"),
        )
        return call_result.ClearChargingProfile(
            status="Accepted" if removed else "Unknown"
        )

    @handles(Action.get_charging_profiles)
    def on_get_charging_profiles(
        self,
        request_id: int,
        charging_profile: dict[str, Any],
        evse_id: int | None = None,
        **_: Any,
    ) -> Any:
        purpose = charging_profile.get("charging_profile_purpose")
        stack_level = charging_profile.get("stack_level")
        ids = charging_profile.get("charging_profile_id")
        found = [
            p
            for p in self.profiles
            if (evse_id is None or p.connector_id == evse_id)
            and (purpose is None or p.raw.get("charging_profile_purpose") == purpose)
            and (stack_level is None or p.stack_level == stack_level)
            and (not ids or p.id in ids)
        ]
        if not found:
            return call_result.GetChargingProfiles(status="NoProfiles")
        by_evse: dict[int, list[dict[str, Any]]] = {}
        for p in found:
            by_evse.setdefault(p.connector_id, []).append(p.raw)

        async def report() -> None:
            groups = list(by_evse.items())
            for index, (evse, profiles) in enumerate(groups):
                await self._call(
                    call.ReportChargingProfiles(
                        request_id=request_id,
                        charging_limit_source="CSO",
                        charging_profile=profiles,
                        evse_id=evse,
                        tbc=index < len(groups) - 1,
                    )
                )

        self._after(report)
        return call_result.GetChargingProfiles(status="Accepted")

    @handles(Action.get_composite_schedule)
    def on_get_composite_schedule(
        self,
        duration: int,
        evse_id: int,
        charging_rate_unit: str | None = None,
        **_: Any,
    ) -> Any:
        composite = self._composite(evse_id, charging_rate_unit)
        if composite is None:
            return call_result.GetCompositeSchedule(status="Rejected")
        unit, limit, phases = composite
        return call_result.GetCompositeSchedule(
            status="Accepted",
            schedule={
                "evse_id": evse_id,
                "duration": duration,
                "schedule_start": iso(),
                "charging_rate_unit": unit,
                "charging_schedule_period": [
                    {"start_period": 0, "limit": limit, "number_phases": phases}
                ],
            },
        )

    @handles(Action.send_local_list)
    def on_send_local_list(
        self,
        version_number: int,
        update_type: str,
        local_authorization_list: list[dict[str, Any]] | None = None,
        **_: Any,
    ) -> Any:
        entries = [
            (str(entry["id_token"]["id_token"]), entry.get("id_token_info"))
            for entry in local_authorization_list or []
        ]
        if not self._update_local_list(version_number, update_type, entries):
            return call_result.SendLocalList(status="Failed")
        return call_result.SendLocalList(status="Accepted")

    @handles(Action.get_local_list_version)
    def on_get_local_list_version(self, **_: Any) -> Any:
        return call_result.GetLocalListVersion(version_number=self.local_list_version)

    @handles(Action.clear_cache)
    def on_clear_cache(self, **_: Any) -> Any:
        return call_result.ClearCache(status="Accepted")

    @handles(Action.update_firmware)
    def on_update_firmware(
        self, request_id: int, firmware: dict[str, Any], **_: Any
    ) -> Any:
        self._update_firmware(firmware.get("retrieve_date_time"), request_id)
        return call_result.UpdateFirmware(status="Accepted")

    @handles(Action.get_log)
    def on_get_log(
        self, log: dict[str, Any], log_type: str, request_id: int, **_: Any
    ) -> Any:
        filename = self._upload(log_type.lower(), request_id)
        return call_result.GetLog(status="Accepted", filename=filename)

    @handles(Action.data_transfer)
    def on_data_transfer(
        self,
        vendor_id: str,
        message_id: str | None = None,
        data: Any = None,
        **_: Any,
    ) -> Any:
        return call_result.DataTransfer(status="Accepted", data=data)
