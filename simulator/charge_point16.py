"""Simulated OCPP 1.6J charge point.

Owns the 1.6 message formats (BootNotification, StatusNotification, Authorize,
Start/StopTransaction, MeterValues, firmware/diagnostics notifications), the 1.6
connector status machine (Available, Preparing, Charging, SuspendedEVSE,
SuspendedEV, Finishing, Unavailable; connector 0 for the whole charger), the
configuration keys answered by GetConfiguration/ChangeConfiguration and every
central-system -> charge point handler of the Core, Smart Charging, Local Auth
List, Remote Trigger and Firmware Management profiles.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from ocpp.v16 import ChargePoint as OcppChargePoint
from ocpp.v16 import call, call_result
from ocpp.v16.enums import Action

from .base import OCPP_LOGGER, VENDOR, Connector, fmt, handles, iso
from .commands import CommandHandling

SUPPORTED_FEATURE_PROFILES = (
    "Core,SmartCharging,LocalAuthListManagement,RemoteTrigger,FirmwareManagement"
)
#: The configuration keys of the Smart Charging feature profile.
SMART_CHARGING_KEYS = frozenset(
    {
        "ChargeProfileMaxStackLevel",
        "ChargingScheduleAllowedChargingRateUnit",
        "ChargingScheduleMaxPeriods",
        "MaxChargingProfilesInstalled",
    }
)
MEASURANDS = (
    "Energy.Active.Import.Register,Power.Active.Import,Current.Import,Voltage,"
    "Current.Offered,SoC"
)


def _interval_text(seconds: float) -> str:
    return str(int(seconds)) if float(seconds).is_integer() else str(seconds)


class ChargePoint16(CommandHandling, OcppChargePoint):  # type: ignore[misc]
    """A simulated OCPP 1.6J charge point (connectors 1..n plus connector 0)."""

    ocpp_version = "1.6"
    subprotocol = "ocpp1.6"
    model = "Sim-16"
    reason_ev_full = "Local"
    reason_ev_disconnected = "EVDisconnected"
    reason_remote = "Remote"
    reason_deauthorized = "DeAuthorized"
    upload_trigger = "DiagnosticsStatusNotification"

    def _init_ocpp(self, response_timeout: float) -> None:
        OcppChargePoint.__init__(
            self, self.charger_id, None, response_timeout, logger=OCPP_LOGGER
        )
        self.authorize_remote_tx_requests = False
        self.stop_transaction_on_ev_side_disconnect = True
        self.connection_timeout = 60
        self.connector0_status: str | None = None
        #: What GetConfiguration reports as SupportedFeatureProfiles.
        self.feature_profiles = SUPPORTED_FEATURE_PROFILES
        #: Configuration keys GetConfiguration leaves out (a firmware that
        #: misreports its features, e.g. no SupportedFeatureProfiles).
        self.unreported_keys: set[str] = set()
        #: A firmware that sends its fractional register in a last MeterValues and
        #: then a StopTransaction with the register truncated to whole Wh and no
        #: transactionData (register 66.3 Wh, meterStop 66).
        self.truncated_meter_stop = False

    async def _receive_forever(self) -> None:
        await OcppChargePoint.start(self)

    async def _handle_call(self, msg: Any) -> Any:
        return await self._dispatch_call(msg, super()._handle_call)

    # ------------------------------------------------------ outgoing messages
    async def _send_boot_notification(self) -> tuple[str, float]:
        result = await self._call(
            call.BootNotification(
                charge_point_vendor=VENDOR,
                charge_point_model=self.model,
                charge_point_serial_number=self.serial_number,
                charge_box_serial_number=self.serial_number,
                firmware_version=self.firmware_version,
            )
        )
        return str(result.status), float(result.interval)

    async def _send_heartbeat(self) -> None:
        await self._call(call.Heartbeat())

    def _status_of(self, connector: Connector) -> str:
        if not connector.operative:
            return "Unavailable"
        if connector.transaction_id is not None:
            if connector.charging_state in ("SuspendedEVSE", "SuspendedEV"):
                return connector.charging_state
            return "Charging"
        if connector.ev is not None:
            return "Finishing" if connector.finishing else "Preparing"
        return "Available"

    async def _send_status(self, connector: Connector) -> None:
        await self._call(
            call.StatusNotification(
                connector_id=connector.id,
                error_code="NoError",
                status=connector.status,
                timestamp=iso(),
            )
        )

    async def _sync_connector0(self, *, force: bool = False) -> None:
        status = "Available" if self.operative else "Unavailable"
        if force or status != self.connector0_status:
            self.connector0_status = status
            await self._call(
                call.StatusNotification(
                    connector_id=0, error_code="NoError", status=status, timestamp=iso()
                )
            )

    async def _send_boot_statuses(self) -> None:
        await self._sync_connector0(force=True)
        await super()._send_boot_statuses()

    def _sampled_values(
        self, connector: Connector, context: str
    ) -> list[dict[str, Any]]:
        values = []
        for sample in self._samples(connector):
            value: dict[str, Any] = {
                "value": fmt(sample.value),
                "context": context,
                "measurand": sample.measurand,
                "unit": sample.unit,
                "location": sample.location or "Outlet",
            }
            if sample.phase:
                value["phase"] = sample.phase
            values.append(value)
        return values

    async def _send_meter_values(
        self,
        connector: Connector,
        context: str = "Sample.Periodic",
        transaction_id: int | str | None = None,
    ) -> None:
        tx = connector.transaction_id if transaction_id is None else transaction_id
        await self._call(
            call.MeterValues(
                connector_id=connector.id,
                transaction_id=tx if isinstance(tx, int) else None,
                meter_value=[
                    {
                        "timestamp": iso(),
                        "sampled_value": self._sampled_values(connector, context),
                    }
                ],
            )
        )

    def _register_value(self, wh: float, context: str, at: str) -> dict[str, Any]:
        return {
            "timestamp": at,
            "sampled_value": [
                {
                    "value": fmt(wh),
                    "context": context,
                    "measurand": "Energy.Active.Import.Register",
                    "unit": "Wh",
                    "location": "Outlet",
                }
            ],
        }

    # ------------------------------------------------------------ transactions
    async def _start_transaction(
        self,
        connector: Connector,
        id_tag: str,
        *,
        authorize: bool,
        remote_start_id: int | None = None,
    ) -> int | str | None:
        connector.busy = True
        try:
            await self._sync_status(connector)
            if authorize:
                result = await self._call(call.Authorize(id_tag=id_tag))
                if result.id_tag_info.get("status") != "Accepted":
                    return None
            result = await self._call(
                call.StartTransaction(
                    connector_id=connector.id,
                    id_tag=id_tag,
                    meter_start=round(connector.energy_wh),
                    timestamp=iso(),
                )
            )
            self._begin_tx(connector, int(result.transaction_id), id_tag)
        finally:
            connector.busy = False
        await self._sync_status(connector)
        if result.id_tag_info.get("status") != "Accepted":
            await self._stop_transaction(connector, self.reason_deauthorized)
        return int(result.transaction_id)

    async def _stop_transaction(self, connector: Connector, reason: str) -> None:
        if connector.transaction_id is None:
            return
        started = iso(connector.tx_started_at)
        meter_start = connector.meter_start_wh
        id_tag = connector.id_tag
        transaction_id = self._end_tx(connector, reason)  # the register stops here
        now = iso()
        if self.truncated_meter_stop:
            # The last sample of the transaction, then a stop frame that
            # truncates the same register.
            await self._send_meter_values(connector, transaction_id=transaction_id)
            meter_stop = math.floor(connector.energy_wh)
            transaction_data = None
        else:
            meter_stop = round(connector.energy_wh)
            transaction_data = [
                self._register_value(meter_start, "Transaction.Begin", started),
                self._register_value(connector.energy_wh, "Transaction.End", now),
            ]
        await self._call(
            call.StopTransaction(
                meter_stop=meter_stop,
                timestamp=now,
                transaction_id=transaction_id,
                reason=reason,
                id_tag=id_tag,
                transaction_data=transaction_data,
            )
        )
        if reason != self.reason_ev_disconnected:  # unplug() reports Available
            await self._sync_status(connector)

    async def _on_refresh(
        self, connector: Connector, state_changed: bool, rate_changed: bool
    ) -> None:
        if state_changed:
            await self._sync_status(connector)

    # --------------------------------------------------------------- handlers
    @handles(Action.remote_start_transaction)
    def on_remote_start_transaction(
        self,
        id_tag: str,
        connector_id: int | None = None,
        charging_profile: dict[str, Any] | None = None,
        **_: Any,
    ) -> Any:
        target = self._remote_start(
            connector_id,
            id_tag,
            charging_profile,
            authorize=self.authorize_remote_tx_requests,
        )
        return call_result.RemoteStartTransaction(
            status="Rejected" if target is None else "Accepted"
        )

    @handles(Action.remote_stop_transaction)
    def on_remote_stop_transaction(self, transaction_id: int, **_: Any) -> Any:
        stopping = self._remote_stop(transaction_id)
        return call_result.RemoteStopTransaction(
            status="Accepted" if stopping else "Rejected"
        )

    @handles(Action.reset)
    def on_reset(self, type: str, **_: Any) -> Any:
        self._reset("HardReset" if type == "Hard" else "SoftReset")
        return call_result.Reset(status="Accepted")

    @handles(Action.unlock_connector)
    def on_unlock_connector(self, connector_id: int, **_: Any) -> Any:
        connector = self.connectors.get(connector_id)
        if connector is None:
            return call_result.UnlockConnector(status="NotSupported")
        if connector.transaction_id is not None:
            self._after(lambda: self._stop_transaction(connector, "UnlockCommand"))
        return call_result.UnlockConnector(status="Unlocked")

    @handles(Action.change_availability)
    def on_change_availability(self, connector_id: int, type: str, **_: Any) -> Any:
        status = self._change_availability(connector_id, type == "Operative")
        return call_result.ChangeAvailability(status=status)

    async def _after_availability(self, targets: list[Connector], whole: bool) -> None:
        await self._sync_connector0()
        await super()._after_availability(targets, whole)

    def _configuration(self) -> dict[str, tuple[str, bool]]:
        """Configuration key -> (value, readonly)."""
        return {
            "HeartbeatInterval": (_interval_text(self.heartbeat_interval), False),
            "MeterValueSampleInterval": (_interval_text(self.meter_interval), False),
            "MeterValuesSampledData": (MEASURANDS, False),
            "ClockAlignedDataInterval": ("0", False),
            "ConnectionTimeOut": (str(self.connection_timeout), False),
            "NumberOfConnectors": (str(len(self.connectors)), True),
            "SupportedFeatureProfiles": (self.feature_profiles, True),
            "AuthorizeRemoteTxRequests": (
                str(self.authorize_remote_tx_requests).lower(),
                False,
            ),
            "StopTransactionOnEVSideDisconnect": (
                str(self.stop_transaction_on_ev_side_disconnect).lower(),
                False,
            ),
            "LocalAuthListEnabled": (str(self.local_auth_enabled).lower(), False),
            "LocalAuthListMaxLength": ("1000", True),
            "SendLocalListMaxLength": ("100", True),
            "ChargeProfileMaxStackLevel": ("8", True),
            "ChargingScheduleAllowedChargingRateUnit": ("Current,Power", True),
            "ChargingScheduleMaxPeriods": ("24", True),
            "MaxChargingProfilesInstalled": ("16", True),
        }

    @handles(Action.get_configuration)
    def on_get_configuration(self, key: list[str] | None = None, **_: Any) -> Any:
        config = {
            k: v
            for k, v in self._configuration().items()
            if k not in self.unreported_keys
        }
        wanted = key if key else list(config)
        known = [
            {"key": k, "readonly": config[k][1], "value": config[k][0]}
            for k in wanted
            if k in config
        ]
        unknown = [k for k in wanted if k not in config]
        return call_result.GetConfiguration(
            configuration_key=known, unknown_key=unknown or None
        )

    def _setters(self) -> dict[str, Callable[[str], None]]:
        def as_bool(value: str) -> bool:
            if value.lower() not in ("true", "false"):
                raise ValueError(value)
            return value.lower() == "true"

        def set_auth_remote(value: str) -> None:
            self.authorize_remote_tx_requests = as_bool(value)

        def set_stop_on_disconnect(value: str) -> None:
            self.stop_transaction_on_ev_side_disconnect = as_bool(value)

        def set_local_auth(value: str) -> None:
            self.local_auth_enabled = as_bool(value)

        def set_timeout(value: str) -> None:
            self.connection_timeout = int(value)

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

        def accept(value: str) -> None:
            return None

        def set_aligned(value: str) -> None:
            if int(value) < 0:
                raise ValueError(value)

        return {
            "HeartbeatInterval": set_heartbeat,
            "MeterValueSampleInterval": set_meter,
            "MeterValuesSampledData": accept,
            "ClockAlignedDataInterval": set_aligned,
            "ConnectionTimeOut": set_timeout,
            "AuthorizeRemoteTxRequests": set_auth_remote,
            "StopTransactionOnEVSideDisconnect": set_stop_on_disconnect,
            "LocalAuthListEnabled": set_local_auth,
        }

    @handles(Action.change_configuration)
    def on_change_configuration(self, key: str, value: str, **_: Any) -> Any:
        config = self._configuration()
        if key not in config:
            return call_result.ChangeConfiguration(status="NotSupported")
        setter = self._setters().get(key)
        if config[key][1] or setter is None:
            return call_result.ChangeConfiguration(status="Rejected")
        try:
            setter(value)
        except ValueError:
            return call_result.ChangeConfiguration(status="Rejected")
        return call_result.ChangeConfiguration(status="Accepted")

    @handles(Action.trigger_message)
    def on_trigger_message(
        self, requested_message: str, connector_id: int | None = None, **_: Any
    ) -> Any:
        if connector_id and connector_id not in self.connectors:
            return call_result.TriggerMessage(status="Rejected")
        # None: every connector; 0: the charge point itself; n: connector n.
        targets = (
            [self.connectors[connector_id]]
            if connector_id
            else list(self.connectors.values())
        )
        status = self._trigger(
            requested_message,
            targets,
            charger_status=not connector_id,
            status_targets=[] if connector_id == 0 else targets,
        )
        return call_result.TriggerMessage(status=status)

    async def _sync_charger_status(self) -> None:
        await self._sync_connector0(force=True)

    async def _send_firmware_status(self, status: str, request_id: int | None) -> None:
        await self._call(call.FirmwareStatusNotification(status=status))

    async def _send_upload_status(self, status: str, request_id: int | None) -> None:
        await self._call(call.DiagnosticsStatusNotification(status=status))

    async def _triggered_boot(self) -> None:
        if not self.booted.is_set():
            self._boot_now.set()
            return
        status, interval = await self._send_boot_notification()
        if status == "Accepted" and interval > 0:
            self.set_heartbeat_interval(interval)

    @handles(Action.set_charging_profile)
    def on_set_charging_profile(
        self, connector_id: int, cs_charging_profiles: dict[str, Any], **_: Any
    ) -> Any:
        accepted = self._set_profile(connector_id, cs_charging_profiles)
        return call_result.SetChargingProfile(
            status="Accepted" if accepted else "Rejected"
        )

    @handles(Action.clear_charging_profile)
    def on_clear_charging_profile(
        self,
        id: int | None = None,
        connector_id: int | None = None,
        charging_profile_purpose: str | None = None,
        stack_level: int | None = None,
        **_: Any,
    ) -> Any:
        removed = self._clear_profiles(
            id, connector_id, charging_profile_purpose, stack_level
        )
        return call_result.ClearChargingProfile(
            status="Accepted" if removed else "Unknown"
        )

    @handles(Action.get_composite_schedule)
    def on_get_composite_schedule(
        self,
        connector_id: int,
        duration: int,
        charging_rate_unit: str | None = None,
        **_: Any,
    ) -> Any:
        composite = self._composite(connector_id, charging_rate_unit)
        if composite is None:
            return call_result.GetCompositeSchedule(status="Rejected")
        unit, limit, phases = composite
        return call_result.GetCompositeSchedule(
            status="Accepted",
            connector_id=connector_id,
            schedule_start=iso(),
            charging_schedule={
                "duration": duration,
                "start_schedule": iso(),
                "charging_rate_unit": unit,
                "charging_schedule_period": [
                    {"start_period": 0, "limit": limit, "number_phases": phases}
                ],
            },
        )

    @handles(Action.send_local_list)
    def on_send_local_list(
        self,
        list_version: int,
        update_type: str,
        local_authorization_list: list[dict[str, Any]] | None = None,
        **_: Any,
    ) -> Any:
        entries = [
            (entry["id_tag"], entry.get("id_tag_info"))
            for entry in local_authorization_list or []
        ]
        if not self._update_local_list(list_version, update_type, entries):
            return call_result.SendLocalList(status="NotSupported")
        return call_result.SendLocalList(status="Accepted")

    @handles(Action.get_local_list_version)
    def on_get_local_list_version(self, **_: Any) -> Any:
        version = self.local_list_version if self.local_auth_enabled else -1
        return call_result.GetLocalListVersion(list_version=version)

    @handles(Action.clear_cache)
    def on_clear_cache(self, **_: Any) -> Any:
        return call_result.ClearCache(status="Accepted")

    @handles(Action.update_firmware)
    def on_update_firmware(self, location: str, retrieve_date: str, **_: Any) -> Any:
        self._update_firmware(retrieve_date, None)
        return call_result.UpdateFirmware()

    @handles(Action.get_diagnostics)
    def on_get_diagnostics(self, location: str, **_: Any) -> Any:
        return call_result.GetDiagnostics(file_name=self._upload("diagnostics", None))

    @handles(Action.data_transfer)
    def on_data_transfer(
        self,
        vendor_id: str,
        message_id: str | None = None,
        data: str | None = None,
        **_: Any,
    ) -> Any:
        return call_result.DataTransfer(status="Accepted", data=data)
