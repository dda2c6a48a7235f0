"""OCPP 1.6J charge-point handler: one `ChargePoint16` per connected 1.6 charger.

Owns the translation between OCPP 1.6J frames and the version-neutral model:

- charger -> central system: one small `@on` handler per action, each updating the
  `ChargerState` (and, through the session ledger of `ChargePointLink`, the durable
  session store) before the charger is answered;
- central system -> charger: the command methods of `ChargePointLink`, each sending
  one 1.6 CALL and turning the answer into our result or error;
- 1.6 error codes: FormationViolation instead of FormatViolation, NotImplemented for
  an unknown action and NotSupported for a known one we do not handle (the `ocpp`
  library swaps the last two).

A charger that the owner has not added (boot answered Pending) may send Heartbeat,
StatusNotification and meter values, but its id tags are Invalid and a transaction it
starts is answered Invalid and not stored. Meter values of a transaction that is no
longer running change neither the energy total (a late, lower register would make it
count energy twice) nor, when taken before the last session stopped, the live reading
(a late power value would show a car charging on an idle connector).
"""

from __future__ import annotations

import decimal
import logging
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any, cast

from ocpp.exceptions import (
    FormationViolationError,
    FormatViolationError,
    NotSupportedError,
)
from ocpp.exceptions import (
    NotImplementedError as OcppNotImplementedError,
)
from ocpp.messages import Call
from ocpp.routing import on
from ocpp.v16 import ChargePoint as OcppChargePoint
from ocpp.v16 import call, call_result, datatypes
from ocpp.v16.enums import Action

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
from .meter import Sample, apply_samples
from .model import (
    ChargerInfo,
    ConnectorState,
    ConnectorStatus,
    MeterReading,
    Transaction,
)

_LOGGER = logging.getLogger(__name__)

#: 1.6 StatusNotification status -> our connector status.
STATUS_MAP: dict[str, ConnectorStatus] = {
    "Available": ConnectorStatus.AVAILABLE,
    "Preparing": ConnectorStatus.PREPARING,
    "Charging": ConnectorStatus.CHARGING,
    "SuspendedEV": ConnectorStatus.SUSPENDED_EV,
    "SuspendedEVSE": ConnectorStatus.SUSPENDED_EVSE,
    "Finishing": ConnectorStatus.FINISHING,
    "Reserved": ConnectorStatus.RESERVED,
    "Unavailable": ConnectorStatus.UNAVAILABLE,
    "Faulted": ConnectorStatus.FAULTED,
}

#: Messages a 1.6 TriggerMessage.req may ask for.
TRIGGERABLE = frozenset(
    {
        "BootNotification",
        "DiagnosticsStatusNotification",
        "FirmwareStatusNotification",
        "Heartbeat",
        "MeterValues",
        "StatusNotification",
    }
)

#: Our charging profile ids: one per purpose (and connector), so that a new limit
#: replaces the previous one and a clear removes exactly what we installed.
_PROFILE_ID_BASE = {
    LimitPurpose.TX_DEFAULT: 9100,
    LimitPurpose.TX: 9200,
    LimitPurpose.CHARGE_POINT_MAX: 9300,
}
_PURPOSE = {
    LimitPurpose.TX_DEFAULT: "TxDefaultProfile",
    LimitPurpose.TX: "TxProfile",
    LimitPurpose.CHARGE_POINT_MAX: "ChargePointMaxProfile",
}
#: Stack level of our profiles (above a vendor default at 0), capped by the
#: charger's ChargeProfileMaxStackLevel when it told us.
STACK_LEVEL = 1
#: Longest id tag a 1.6 charger accepts (CiString20).
MAX_ID_TAG_LEN = 20
#: Configuration keys of the Smart Charging feature profile.
SMART_CHARGING_KEYS = frozenset(
    {
        "ChargeProfileMaxStackLevel",
        "ChargingScheduleAllowedChargingRateUnit",
        "ChargingScheduleMaxPeriods",
        "MaxChargingProfilesInstalled",
    }
)
#: Transaction id answered to a charger that may not start transactions.
REFUSED_TRANSACTION_ID = 0


def handles[F: Callable[..., Any]](action: Any) -> Callable[[F], F]:
    """Typed wrapper of the `ocpp` library's `@on` decorator."""
    return cast(Callable[[F], F], on(action))


def ocpp_time(value: datetime) -> str:
    """An aware datetime as an OCPP timestamp (UTC, milliseconds, 'Z')."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    text = value.astimezone(UTC).isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z")


def profile_id(purpose: LimitPurpose, connector_id: int) -> int:
    """The stable chargingProfileId we use for a purpose on a connector."""
    if purpose == LimitPurpose.CHARGE_POINT_MAX:
        return _PROFILE_ID_BASE[purpose]
    return _PROFILE_ID_BASE[purpose] + connector_id


def _plain(value: Any) -> Any:
    """A response payload with Decimals (1.6 schedule validation) as floats."""
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def samples_of(meter_value: dict[str, Any]) -> list[Sample]:
    """The numeric samples of one 1.6 MeterValue (signed or unreadable ones skipped)."""
    samples: list[Sample] = []
    for sampled in meter_value.get("sampled_value") or []:
        if sampled.get("format") == "SignedData":
            continue
        try:
            value = float(sampled["value"])
        except (KeyError, TypeError, ValueError):
            continue
        samples.append(
            Sample(
                value=value,
                measurand=sampled.get("measurand") or "Energy.Active.Import.Register",
                phase=sampled.get("phase"),
                unit=sampled.get("unit"),
                location=sampled.get("location"),
            )
        )
    return samples


class ChargePoint16(ChargePointLink, OcppChargePoint):  # type: ignore[misc]
    """One OCPP 1.6J connection."""

    format_error_code = "FormationViolation"
    message_type_error_code = "ProtocolError"

    route_map: dict[str, dict[str, Any]]

    # Routing ------------------------------------------------------------------

    async def _handle_call(self, msg: Call) -> Any:
        """Route one CALL with the 1.6 error codes."""
        if "_on_action" not in self.route_map.get(msg.action, {}):
            if msg.action in Action.__members__.values():
                raise NotSupportedError(
                    description="Requested Action is recognized but not supported",
                    details={"cause": f"{msg.action} is not handled"},
                )
            raise OcppNotImplementedError(
                description="Requested Action is not known by receiver",
                details={"cause": f"Unknown action {msg.action}"},
            )
        try:
            return await super()._handle_call(msg)
        except FormatViolationError as err:
            cause = err.details.get("cause") if isinstance(err.details, dict) else None
            raise FormationViolationError(
                description=err.description, details={"cause": str(cause or "")}
            ) from err

    # Helpers ------------------------------------------------------------------

    def _connector(self, connector_id: int) -> ConnectorState:
        """The connector; a new one is announced and persisted."""
        is_new = connector_id not in self.charger.connectors
        conn = self.charger.connector(connector_id)
        if is_new:
            self.spawn(self.host.connectors_changed(self.charger))
        return conn

    def _id_tag_info(self, id_tag: str) -> datatypes.IdTagInfo:
        status = self.host.authorize(id_tag) if self.approved else "Invalid"
        entry = self.host.tag(id_tag)
        expiry = None
        if entry is not None and entry.expiry is not None:
            expiry = ocpp_time(entry.expiry)
        return datatypes.IdTagInfo(status=status, expiry_date=expiry)

    async def _fold_meter_values(
        self,
        conn: ConnectorState,
        meter_values: Iterable[dict[str, Any]],
        transaction: Transaction | None,
        update_reading: bool = True,
        ledger: bool = True,
        readings_after: datetime | None = None,
    ) -> bool:
        """Fold MeterValue entries into the connector and the ledger.

        Returns whether anything was recorded. Energy registers go to the session
        ledger in the order the charger sent them (only for an added charger).
        With `readings_after`, only values taken after it update the live reading.
        """
        ledger = ledger and self.approved
        changed = False
        last_register: float | None = None
        for meter_value in meter_values:
            samples = samples_of(meter_value)
            if not samples:
                continue
            timestamp = parse_time(meter_value.get("timestamp"))
            live = update_reading and (
                readings_after is None or timestamp > readings_after
            )
            reading = conn.meter if live else MeterReading()
            register = apply_samples(reading, samples, timestamp)
            changed = changed or live
            if register is None or register == last_register or not ledger:
                continue
            last_register = register
            await self.ledger.record_register(
                self.charger, conn.connector_id, register, transaction
            )
            changed = True
        return changed

    # Charger -> central system ------------------------------------------------

    @handles(Action.boot_notification)
    async def on_boot_notification(
        self, charge_point_vendor: str, charge_point_model: str, **kwargs: Any
    ) -> call_result.BootNotification:
        info = ChargerInfo(
            vendor=charge_point_vendor,
            model=charge_point_model,
            serial_number=kwargs.get("charge_point_serial_number")
            or kwargs.get("charge_box_serial_number"),
            firmware_version=kwargs.get("firmware_version"),
            iccid=kwargs.get("iccid"),
            imsi=kwargs.get("imsi"),
            meter_type=kwargs.get("meter_type"),
            meter_serial_number=kwargs.get("meter_serial_number"),
        )
        status = await self.booted(info)  # notifies
        return call_result.BootNotification(
            current_time=ocpp_time(utcnow()),
            interval=self.host.config.heartbeat_interval,
            status=status,
        )

    @handles(Action.heartbeat)
    async def on_heartbeat(self) -> call_result.Heartbeat:
        return call_result.Heartbeat(current_time=ocpp_time(utcnow()))

    @handles(Action.status_notification)
    async def on_status_notification(
        self, connector_id: int, error_code: str, status: str, **kwargs: Any
    ) -> call_result.StatusNotification:
        mapped = STATUS_MAP.get(status, ConnectorStatus.UNKNOWN)
        if connector_id == 0:
            before: tuple[Any, ...] = (self.charger.status, self.charger.error_code)
            self.charger.status = mapped
            self.charger.error_code = error_code
            after: tuple[Any, ...] = (self.charger.status, self.charger.error_code)
            changed = before != after
        else:
            is_new = connector_id not in self.charger.connectors
            conn = self._connector(connector_id)
            before = (
                conn.status,
                conn.error_code,
                conn.info,
                conn.vendor_error,
                conn.available,
            )
            conn.set_status(mapped)
            conn.error_code = error_code
            conn.info = kwargs.get("info")
            conn.vendor_error = kwargs.get("vendor_error_code")
            if mapped == ConnectorStatus.UNAVAILABLE:
                conn.available = False
            elif mapped not in (ConnectorStatus.FAULTED, ConnectorStatus.UNKNOWN):
                conn.available = True
            after = (
                conn.status,
                conn.error_code,
                conn.info,
                conn.vendor_error,
                conn.available,
            )
            changed = is_new or before != after
        if changed:
            self.charger.notify()
        return call_result.StatusNotification()

    @handles(Action.authorize)
    async def on_authorize(self, id_tag: str) -> call_result.Authorize:
        return call_result.Authorize(id_tag_info=self._id_tag_info(id_tag))

    @handles(Action.start_transaction)
    async def on_start_transaction(
        self,
        connector_id: int,
        id_tag: str,
        meter_start: int,
        timestamp: str,
        **kwargs: Any,
    ) -> call_result.StartTransaction:
        id_tag_info = self._id_tag_info(id_tag)
        if not self.approved:
            _LOGGER.warning(
                "%s: StartTransaction refused, charger not added yet", self.id
            )
            return call_result.StartTransaction(
                transaction_id=REFUSED_TRANSACTION_ID, id_tag_info=id_tag_info
            )
        start = parse_time(timestamp)
        conn = self._connector(connector_id)
        running = conn.transaction
        if running is not None and (
            running.id_tag == id_tag
            and running.meter_start_wh == float(meter_start)
            and running.start_time == start
        ):
            # The charger repeated a StartTransaction we already answered.
            tx = running
        else:
            if running is not None:
                # Its StopTransaction never came; the connector starts anew.
                _LOGGER.warning(
                    "%s: transaction %s on connector %d closed by a new start",
                    self.id,
                    running.transaction_id,
                    connector_id,
                )
                await self.ledger.close(
                    self.charger, running.transaction_id, start, None, "Other"
                )
            tx = await self.ledger.open(
                self.charger, connector_id, id_tag, start, float(meter_start)
            )
        self.charger.notify()
        return call_result.StartTransaction(
            transaction_id=int(tx.transaction_id), id_tag_info=id_tag_info
        )

    @handles(Action.stop_transaction)
    async def on_stop_transaction(
        self,
        meter_stop: int,
        timestamp: str,
        transaction_id: int,
        **kwargs: Any,
    ) -> call_result.StopTransaction:
        id_tag: str | None = kwargs.get("id_tag")
        id_tag_info = self._id_tag_info(id_tag) if id_tag else None
        tx_id = str(transaction_id)
        tx = self.ledger.find(self.charger, tx_id)
        if tx is not None:
            connector_id = tx.connector_id
        else:
            stored = await self.ledger.stored(self.id, tx_id)
            if stored is None or stored.stop_time is not None:
                _LOGGER.info(
                    "%s: StopTransaction for %s unknown or already finished",
                    self.id,
                    tx_id,
                )
                return call_result.StopTransaction(id_tag_info=id_tag_info)
            connector_id = stored.connector_id
        conn = self._connector(connector_id)
        current = tx is not None and conn.transaction is tx
        await self._fold_meter_values(
            conn, kwargs.get("transaction_data") or [], tx, update_reading=current
        )
        # 1.6: the reason may only be left out when it is Local.
        reason = kwargs.get("reason") or "Local"
        await self.ledger.close(
            self.charger, tx_id, parse_time(timestamp), float(meter_stop), reason
        )
        self.charger.notify()
        return call_result.StopTransaction(id_tag_info=id_tag_info)

    @handles(Action.meter_values)
    async def on_meter_values(
        self,
        connector_id: int,
        meter_value: list[dict[str, Any]],
        transaction_id: int | None = None,
        **kwargs: Any,
    ) -> call_result.MeterValues:
        tx = (
            self.ledger.find(self.charger, str(transaction_id))
            if transaction_id is not None
            else None
        )
        if tx is not None:
            connector_id = tx.connector_id
        if connector_id == 0:
            # The charger's own main meter: not a connector, and mixing its
            # register into a connector's would break the energy total.
            _LOGGER.debug("%s: MeterValues of connector 0 ignored", self.id)
            return call_result.MeterValues()
        conn = self._connector(connector_id)
        stale = transaction_id is not None and tx is None
        if stale:
            # Values of a transaction that has ended (or that we never had): its
            # energy is settled, and an old register would step the total back.
            _LOGGER.debug(
                "%s: MeterValues of transaction %s not running; total unchanged",
                self.id,
                transaction_id,
            )
        elif tx is None:
            tx = conn.transaction
        # Late values of the last session do not bring back what flowed then.
        after = conn.last_session_stop if stale else None
        if await self._fold_meter_values(
            conn, meter_value, tx, ledger=not stale, readings_after=after
        ):
            self.charger.notify()
        return call_result.MeterValues()

    @handles(Action.data_transfer)
    async def on_data_transfer(
        self, vendor_id: str, **kwargs: Any
    ) -> call_result.DataTransfer:
        _LOGGER.info(
            "%s: DataTransfer from vendor %s (message %s) not handled",
            self.id,
            vendor_id,
            kwargs.get("message_id"),
        )
        return call_result.DataTransfer(status="UnknownVendorId")

    @handles(Action.diagnostics_status_notification)
    async def on_diagnostics_status_notification(
        self, status: str
    ) -> call_result.DiagnosticsStatusNotification:
        if self.charger.diagnostics_status != status:
            self.charger.diagnostics_status = status
            self.charger.notify()
        return call_result.DiagnosticsStatusNotification()

    @handles(Action.firmware_status_notification)
    async def on_firmware_status_notification(
        self, status: str
    ) -> call_result.FirmwareStatusNotification:
        if self.charger.firmware_status != status:
            self.charger.firmware_status = status
            self.charger.notify()
        return call_result.FirmwareStatusNotification()

    @handles(Action.security_event_notification)
    async def on_security_event_notification(
        self, type: str, timestamp: str, **kwargs: Any
    ) -> call_result.SecurityEventNotification:
        _LOGGER.warning(
            "%s: security event %s at %s %s",
            self.id,
            type,
            timestamp,
            kwargs.get("tech_info") or "",
        )
        return call_result.SecurityEventNotification()

    # Central system -> charger ------------------------------------------------

    async def after_accepted(self) -> None:
        """Learn the charger's features and push the local list if it has one."""
        try:
            config = await self.get_configuration(None)
        except CommandError as err:
            _LOGGER.info("%s: could not read the configuration: %s", self.id, err)
            return
        values = {k: v.get("value") or "" for k, v in config["configuration"].items()}
        profiles = {
            p.strip().lower()
            for p in values.get("SupportedFeatureProfiles", "").split(",")
            if p.strip()
        }
        local_list: bool | None
        smart: bool | None
        if profiles:
            local_list = "localauthlistmanagement" in profiles
            smart = "smartcharging" in profiles
        else:
            # No profile list: a profile's keys say it is there; their absence
            # says nothing (chargers misreport), so limits are tried.
            local_list = "LocalAuthListEnabled" in values or None
            smart = bool(SMART_CHARGING_KEYS & values.keys()) or None
        self.charger.supports_local_list = local_list
        self.charger.supports_smart_charging = smart
        self.charger.notify()
        if not local_list:
            return
        tags, version = await self.host.local_list()
        if version <= 0:
            return
        try:
            if await self.get_local_list_version() == version:
                return
            await self.send_local_list(tags, version)
        except CommandError as err:
            _LOGGER.info("%s: local list not sent: %s", self.id, err)

    def _require_approved(self, action: str) -> None:
        if not self.approved:
            raise CommandRejected(self.id, action, "Pending")

    async def start_charging(self, connector_id: int, id_tag: str) -> None:
        self._require_approved("RemoteStartTransaction")
        await self.request(
            call.RemoteStartTransaction(
                id_tag=id_tag, connector_id=connector_id if connector_id > 0 else None
            )
        )

    async def stop_charging(self, connector_id: int) -> None:
        self._require_approved("RemoteStopTransaction")
        if connector_id == 0:
            tx = self.charger.active_transaction()
        else:
            conn = self.charger.connectors.get(connector_id)
            tx = conn.transaction if conn is not None else None
        if tx is None:
            raise CommandRejected(self.id, "RemoteStopTransaction", "NoTransaction")
        await self.request(
            call.RemoteStopTransaction(transaction_id=int(tx.transaction_id))
        )

    def _limit_connectors(self, connector_id: int) -> list[ConnectorState]:
        if connector_id == 0:
            return [c for c in self.charger.connectors.values() if c.connector_id > 0]
        return [self._connector(connector_id)]

    async def set_charging_limit(self, limit: ChargingLimit) -> None:
        action = "SetChargingProfile"
        connector_id = limit.connector_id
        transaction_id: int | None = None
        if limit.purpose == LimitPurpose.CHARGE_POINT_MAX:
            connector_id = 0
        elif limit.purpose == LimitPurpose.TX:
            if connector_id == 0:
                tx = self.charger.active_transaction()
            else:
                conn = self.charger.connectors.get(connector_id)
                tx = conn.transaction if conn is not None else None
            if tx is None:
                raise CommandRejected(self.id, action, "NoTransaction")
            connector_id = tx.connector_id
            transaction_id = int(tx.transaction_id)
        schedule: dict[str, Any] = {
            "chargingRateUnit": limit.unit.value,
            "chargingSchedulePeriod": [
                {"startPeriod": 0, "limit": round(max(0.0, limit.value), 1)}
                | ({"numberPhases": limit.phases} if limit.phases else {})
            ],
        }
        profile: dict[str, Any] = {
            "chargingProfileId": profile_id(limit.purpose, connector_id),
            "stackLevel": self._stack_level(),
            "chargingProfilePurpose": _PURPOSE[limit.purpose],
        }
        if limit.duration_s:
            # Absolute from now, so the limit lapses `duration` after it is set.
            profile["chargingProfileKind"] = "Absolute"
            schedule["startSchedule"] = ocpp_time(utcnow())
            schedule["duration"] = int(limit.duration_s)
        elif limit.purpose == LimitPurpose.CHARGE_POINT_MAX:
            # Relative has no start for a charger-wide profile: Absolute from now.
            profile["chargingProfileKind"] = "Absolute"
            schedule["startSchedule"] = ocpp_time(utcnow())
        else:
            profile["chargingProfileKind"] = "Relative"
        if transaction_id is not None:
            profile["transactionId"] = transaction_id
        profile["chargingSchedule"] = schedule
        await self.send_limit(
            call.SetChargingProfile(
                connector_id=connector_id, cs_charging_profiles=profile
            ),
            self._limit_connectors(connector_id),
            limit,
        )

    def _stack_level(self) -> int:
        raw = self.charger.configuration.get("ChargeProfileMaxStackLevel")
        try:
            return max(0, min(STACK_LEVEL, int(raw))) if raw else STACK_LEVEL
        except ValueError:
            return STACK_LEVEL

    async def clear_charging_limit(self, connector_id: int) -> None:
        if connector_id == 0:
            ids = [
                profile_id(LimitPurpose.TX_DEFAULT, 0),
                profile_id(LimitPurpose.CHARGE_POINT_MAX, 0),
            ]
            for conn in self.charger.connectors.values():
                if conn.connector_id > 0:
                    ids.append(profile_id(LimitPurpose.TX_DEFAULT, conn.connector_id))
                    ids.append(profile_id(LimitPurpose.TX, conn.connector_id))
        else:
            ids = [
                profile_id(LimitPurpose.TX_DEFAULT, connector_id),
                profile_id(LimitPurpose.TX, connector_id),
            ]
        for charging_profile_id in ids:
            await self.request(
                call.ClearChargingProfile(id=charging_profile_id),
                accepted=("Accepted", "Unknown"),
            )
        for conn in self._limit_connectors(connector_id):
            conn.current_limit_a = None
            conn.power_limit_w = None
            conn.limit_phases = None
        self.charger.notify()

    async def get_composite_schedule(
        self, connector_id: int, duration_s: int, unit: str | None
    ) -> dict[str, Any]:
        result = await self.request(
            call.GetCompositeSchedule(
                connector_id=connector_id,
                duration=int(duration_s),
                charging_rate_unit=unit or None,
            )
        )
        return {
            "status": str(result.status),
            "connector_id": result.connector_id,
            "schedule_start": result.schedule_start,
            "charging_schedule": _plain(result.charging_schedule),
        }

    async def reset(self, kind: ResetKind) -> None:
        await self.request(
            call.Reset(type="Hard" if kind == ResetKind.HARD else "Soft")
        )

    async def unlock(self, connector_id: int) -> None:
        await self.request(
            call.UnlockConnector(connector_id=connector_id), accepted=("Unlocked",)
        )

    async def set_availability(self, connector_id: int, available: bool) -> None:
        await self.request(
            call.ChangeAvailability(
                connector_id=connector_id,
                type="Operative" if available else "Inoperative",
            ),
            accepted=("Accepted", "Scheduled"),
        )
        if connector_id == 0:
            targets = list(self.charger.connectors.values())
        else:
            targets = [self._connector(connector_id)]
        for conn in targets:
            conn.available = available
        self.charger.notify()

    async def get_configuration(self, keys: list[str] | None) -> dict[str, Any]:
        result = await self.request(
            call.GetConfiguration(key=list(keys) if keys else None), accepted=None
        )
        configuration: dict[str, dict[str, Any]] = {}
        for item in result.configuration_key or []:
            configuration[item["key"]] = {
                "value": item.get("value"),
                "readonly": bool(item.get("readonly")),
            }
        stored = {
            k: v["value"] for k, v in configuration.items() if v["value"] is not None
        }
        if any(self.charger.configuration.get(k) != v for k, v in stored.items()):
            self.charger.configuration.update(stored)
            self.charger.notify()
        return {
            "configuration": configuration,
            "unknown": list(result.unknown_key or []),
        }

    async def set_configuration(self, key: str, value: str) -> str:
        result = await self.request(
            call.ChangeConfiguration(key=key, value=value),
            accepted=("Accepted", "RebootRequired"),
        )
        self.charger.configuration[key] = value
        self.charger.notify()
        return str(result.status)

    async def trigger_message(self, message: str, connector_id: int | None) -> None:
        if message not in TRIGGERABLE:
            raise CommandNotSupported(self.id, "TriggerMessage", message)
        await self.request(
            call.TriggerMessage(requested_message=message, connector_id=connector_id)
        )

    async def update_firmware(
        self, location: str, retrieve_date: datetime | None
    ) -> None:
        await self.request(
            call.UpdateFirmware(
                location=location, retrieve_date=ocpp_time(retrieve_date or utcnow())
            ),
            accepted=None,
        )

    async def request_diagnostics(self, location: str) -> str | None:
        result = await self.request(
            call.GetDiagnostics(location=location), accepted=None
        )
        return cast(str | None, result.file_name)

    async def data_transfer(
        self, vendor_id: str, message_id: str | None, data: str | None
    ) -> dict[str, Any]:
        result = await self.request(
            call.DataTransfer(vendor_id=vendor_id, message_id=message_id, data=data),
            accepted=None,
        )
        return {"status": str(result.status), "data": result.data}

    async def send_local_list(self, tags: list[IdTagEntry], version: int) -> None:
        entries: list[datatypes.AuthorizationData] = []
        for tag in tags:
            if len(tag.id_tag) > MAX_ID_TAG_LEN:
                _LOGGER.debug("%s: id tag %s too long for 1.6", self.id, tag.id_tag)
                continue
            entries.append(
                datatypes.AuthorizationData(
                    id_tag=tag.id_tag,
                    id_tag_info=datatypes.IdTagInfo(
                        status=tag.status,
                        expiry_date=ocpp_time(tag.expiry) if tag.expiry else None,
                    ),
                )
            )
        await self.request(
            call.SendLocalList(
                list_version=version,
                update_type="Full",
                local_authorization_list=entries,
            )
        )

    async def get_local_list_version(self) -> int:
        """The version of the charger's local list (-1: not supported)."""
        result = await self.request(call.GetLocalListVersion(), accepted=None)
        return int(result.list_version)

    async def clear_cache(self) -> None:
        """Empty the charger's authorization cache."""
        await self.request(call.ClearCache())
