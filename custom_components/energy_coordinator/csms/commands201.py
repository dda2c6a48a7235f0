"""OCPP 2.0.1 commands: what the central system asks of a charging station.

`Commands201` (a part of `ocpp201.ChargePoint201`) turns each version-neutral
command of `ChargePointLink` into one 2.0.1 CALL and its answer into our result or
error: remote start and stop, charging profiles (one stable id per purpose and EVSE,
stack level `PROFILE_STACK_LEVEL`), reset, unlock, availability, device-model
variables (Get/SetVariables, GetBaseReport), triggers, firmware, logs, vendor data
and the local authorization list. After a boot it learns the device model and
brings the local list up to date.
"""

from __future__ import annotations

import asyncio
import logging
import re
from datetime import datetime
from typing import Any, cast

from ocpp.v201 import call

from .commands import (
    ChargingLimit,
    CommandError,
    CommandNotSupported,
    CommandRejected,
    IdTagEntry,
    LimitPurpose,
    ResetKind,
)
from .device_model201 import VariableKey
from .link import utcnow
from .station201 import REQUEST_IDS, Station201, now_text, time_text

_LOGGER = logging.getLogger(__name__)

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
_HEX_RE = re.compile(r"^(?:[0-9A-Fa-f]{2}){4,10}$")


def token_type(id_tag: str) -> str:
    """A guess at the IdToken type of a tag we only know as text."""
    return "ISO14443" if _HEX_RE.match(id_tag) else "Local"


class Commands201(Station201):
    """The commands of one 2.0.1 connection."""

    async def after_accepted(self) -> None:
        """Learn the EVSEs and features, then bring the local list up to date."""
        try:
            done = await self._request_report()
            await asyncio.wait_for(
                done.wait(), timeout=2 * self.host.config.response_timeout
            )
        except CommandError as err:
            _LOGGER.info("%s: no device-model report: %s", self.id, err)
        except TimeoutError:
            _LOGGER.info("%s: device-model report incomplete", self.id)
        if self.charger.supports_local_list:
            tags, version = await self.host.local_list()
            if version > 0 and await self.get_local_list_version() != version:
                await self.send_local_list(tags, version)

    async def get_base_report(self) -> None:
        """Ask for the full device model (it arrives as NotifyReport frames)."""
        await self._request_report()

    async def _request_report(self) -> asyncio.Event:
        """Send GetBaseReport; the event is set when the whole report arrived."""
        request_id = REQUEST_IDS.next()
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
        remote_start_id = REQUEST_IDS.next()
        # Known before the answer: the Started event may come first.
        self.ledger.remote_start_requested(self.id, remote_start_id, id_tag)
        try:
            await self.request(
                call.RequestStartTransaction(
                    id_token={"id_token": id_tag, "type": "Central"},
                    remote_start_id=remote_start_id,
                    evse_id=connector_id or None,
                )
            )
        except CommandError:
            self.ledger.remote_start_settled(self.id, remote_start_id)
            raise

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
            "start_schedule": now_text(),
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
                request_id=REQUEST_IDS.next(),
                firmware={
                    "location": location,
                    "retrieve_date_time": time_text(retrieve_date or utcnow()),
                },
            ),
            accepted=("Accepted", "AcceptedCanceled"),
        )

    async def request_diagnostics(self, location: str) -> str | None:
        result = await self.request(
            call.GetLog(
                log={"remote_location": location},
                log_type="DiagnosticsLog",
                request_id=REQUEST_IDS.next(),
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
                info["cache_expiry_date_time"] = time_text(tag.expiry)
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
