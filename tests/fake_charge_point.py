"""One scriptable charge point for the tests, OCPP 1.6J or 2.0.1.

`FakeChargePoint` is the `ocpp` library's client ChargePoint, of either version. It
records every CALL the central system sends (action and camelCase payload, as on
the wire) and answers it, after the library has checked it against the OCPP schema,
with the status the test sets per action (`statuses`), with a CALLERROR
(`call_errors`), or not at all (`silent`: those actions, or every one when True).
Its few stored values answer the reads: 1.6 configuration keys (`config`), 2.0.1
device-model variables (`variables`), the local list version. Shortcuts send what
a charger sends (`boot`, `status_notification`, `start_tx`/`meter`/`stop_tx` in
1.6, `tx_event`/`report` in 2.0.1); `send` any CALL.

`fake_charge_point(system, id, version)` connects one to a central system.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

from ocpp.charge_point import (
    ChargePoint,
    camel_to_snake_case,
    remove_nones,
    snake_to_camel_case,
)
from ocpp.messages import Call, validate_payload
from ocpp.v16 import call as call16
from ocpp.v16 import call_result as result16
from ocpp.v201 import call as call201
from ocpp.v201 import call_result as result201
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from custom_components.energy_coordinator.csms.server import CentralSystem

V16, V201 = "1.6", "2.0.1"

#: What a 1.6 charger with every feature profile reports by default.
DEFAULT_CONFIG = {
    "SupportedFeatureProfiles": (
        "Core,FirmwareManagement,LocalAuthListManagement,SmartCharging,RemoteTrigger"
    ),
    "LocalAuthListEnabled": "true",
    "ChargeProfileMaxStackLevel": "8",
    "HeartbeatInterval": "60",
}
READONLY = {"SupportedFeatureProfiles", "ChargeProfileMaxStackLevel"}
#: 2.0.1 device-model variables a station reports by default.
DEFAULT_VARIABLES = {
    ("OCPPCommCtrlr", "HeartbeatInterval"): "60",
    ("EVSE", "Power"): "22000",
}

type Answer = Callable[["FakeChargePoint", str, dict[str, Any]], dict[str, Any]]


def ts(value: datetime) -> str:
    """An aware datetime as an OCPP timestamp (seconds, 'Z')."""
    return value.isoformat().replace("+00:00", "Z")


def now() -> str:
    """The current time as an OCPP timestamp."""
    return ts(datetime.now(UTC).replace(microsecond=0))


class FakeChargePoint(ChargePoint):  # type: ignore[misc]
    """A charge point of either OCPP version whose answers the test decides."""

    def __init__(self, charger_id: str, ws: ClientConnection, version: str) -> None:
        super().__init__(charger_id, ws, response_timeout=5)
        self.version = version
        self._ocpp_version = version
        self._call = call16 if version == V16 else call201
        self._call_result = result16 if version == V16 else result201
        self.ws = ws
        self.received: list[tuple[str, dict[str, Any]]] = []
        self.statuses: dict[str, str] = {}
        self.call_errors: dict[str, str] = {}
        self.silent: bool | set[str] = False
        self.config: dict[str, str] = dict(DEFAULT_CONFIG)
        self.variables: dict[tuple[str, str], str] = dict(DEFAULT_VARIABLES)
        self.list_version = 0

    # What was received -------------------------------------------------------------

    def frames(self, action: str) -> list[dict[str, Any]]:
        """Payloads of the CALLs of one action received so far."""
        return [payload for name, payload in self.received if name == action]

    def last(self, action: str) -> dict[str, Any]:
        """The payload of the latest CALL of one action."""
        frames = self.frames(action)
        assert frames, f"no {action} received"
        return frames[-1]

    def status(self, action: str, default: str = "Accepted") -> str:
        """The status this charger answers `action` with."""
        return self.statuses.get(action, default)

    # Answering ---------------------------------------------------------------------

    async def route_message(self, raw_msg: str) -> None:
        msg = json.loads(raw_msg)
        if msg[0] == 2:
            self.received.append((msg[2], msg[3]))
            if self.silent is True or (
                isinstance(self.silent, set) and msg[2] in self.silent
            ):
                return
        await super().route_message(raw_msg)

    async def _handle_call(self, msg: Call) -> None:
        """Answer a CALL from the answer table (after the library's schema check)."""
        await validate_payload(msg, self._ocpp_version)
        if msg.action in self.call_errors:
            code = self.call_errors[msg.action]
            frame = [4, msg.unique_id, code, f"{code}: {msg.action}", {}]
            await self._send(json.dumps(frame))
            return
        answers = ANSWERS_16 if self.version == V16 else ANSWERS_201
        answer = answers.get(msg.action, _status)
        payload = answer(self, msg.action, camel_to_snake_case(msg.payload))
        result = msg.create_call_result(snake_to_camel_case(remove_nones(payload)))
        await validate_payload(result, self._ocpp_version)
        await self._send(result.to_json())

    # Sending -----------------------------------------------------------------------

    async def send(self, payload: Any) -> Any:
        """Send a CALL and return the result (raises on CALLERROR)."""
        return await self.call(payload, suppress=False)

    async def boot(self) -> Any:
        """A BootNotification with vendor Acme, serial and firmware."""
        if self.version == V16:
            return await self.send(
                call16.BootNotification(
                    charge_point_model="Wallbox X",
                    charge_point_vendor="Acme",
                    charge_point_serial_number="SN-1",
                    firmware_version="1.2.3",
                    meter_type="DIN",
                )
            )
        return await self.send(
            call201.BootNotification(
                charging_station={
                    "vendor_name": "Acme",
                    "model": "Wallbox 2",
                    "serial_number": "SN-201",
                    "firmware_version": "2.0.1-rc",
                    "modem": {"iccid": "8931", "imsi": "2620"},
                },
                reason="PowerUp",
            )
        )

    async def status_notification(
        self,
        status: str,
        evse_id: int = 1,
        connector_id: int = 1,
        error_code: str = "NoError",
    ) -> Any:
        """The status of a connector: 1.6 connector `evse_id`, 2.0.1 EVSE/connector."""
        if self.version == V16:
            return await self.send(
                call16.StatusNotification(
                    connector_id=evse_id, error_code=error_code, status=status
                )
            )
        return await self.send(
            call201.StatusNotification(
                timestamp=now(),
                connector_status=status,
                evse_id=evse_id,
                connector_id=connector_id,
            )
        )

    async def start_tx(
        self, connector_id: int = 1, meter_start: int = 1000, id_tag: str = "TAG1"
    ) -> int:
        """1.6 StartTransaction; returns the transaction id."""
        result = await self.send(
            call16.StartTransaction(
                connector_id=connector_id,
                id_tag=id_tag,
                meter_start=meter_start,
                timestamp=now(),
            )
        )
        return int(result.transaction_id)

    async def meter(
        self,
        connector_id: int,
        transaction_id: int | None,
        *sampled: dict[str, Any],
    ) -> Any:
        """1.6 MeterValues with one MeterValue of these sampled values."""
        return await self.send(
            call16.MeterValues(
                connector_id=connector_id,
                transaction_id=transaction_id,
                meter_value=[{"timestamp": now(), "sampledValue": list(sampled)}],
            )
        )

    async def stop_tx(self, transaction_id: int, meter_stop: int, **extra: Any) -> Any:
        """1.6 StopTransaction."""
        return await self.send(
            call16.StopTransaction(
                meter_stop=meter_stop,
                timestamp=now(),
                transaction_id=transaction_id,
                **extra,
            )
        )

    async def tx_event(
        self,
        event_type: str,
        seq_no: int,
        tx_id: str,
        *,
        meter: list[dict[str, Any]] | None = None,
        when: datetime | None = None,
        charging_state: str | None = None,
        stopped_reason: str | None = None,
        evse: dict[str, Any] | None = None,
        id_token: dict[str, Any] | None = None,
        offline: bool | None = None,
        trigger: str = "MeterValuePeriodic",
        remote_start_id: int | None = None,
    ) -> Any:
        """2.0.1 TransactionEvent."""
        info: dict[str, Any] = {"transaction_id": tx_id}
        if charging_state:
            info["charging_state"] = charging_state
        if stopped_reason:
            info["stopped_reason"] = stopped_reason
        if remote_start_id is not None:
            info["remote_start_id"] = remote_start_id
        return await self.send(
            call201.TransactionEvent(
                event_type=event_type,
                timestamp=ts(when) if when else now(),
                trigger_reason=trigger,
                seq_no=seq_no,
                transaction_info=info,
                meter_value=meter,
                offline=offline,
                evse=evse,
                id_token=id_token,
            )
        )

    async def report(
        self, request_id: int, items: list[dict[str, Any]], seq_no: int, tbc: bool
    ) -> Any:
        """2.0.1 NotifyReport."""
        return await self.send(
            call201.NotifyReport(
                request_id=request_id,
                generated_at=now(),
                seq_no=seq_no,
                report_data=items,
                tbc=tbc,
            )
        )


# Answers: (charge point, action, snake_case payload) -> answer payload -----------


def _status(
    cp: FakeChargePoint, action: str, payload: dict[str, Any]
) -> dict[str, Any]:
    return {"status": cp.status(action)}


def _unlock(
    cp: FakeChargePoint, action: str, payload: dict[str, Any]
) -> dict[str, Any]:
    return {"status": cp.status("UnlockConnector", "Unlocked")}


def _data_transfer(
    cp: FakeChargePoint, action: str, payload: dict[str, Any]
) -> dict[str, Any]:
    return {"status": cp.status("DataTransfer"), "data": f"echo:{payload.get('data')}"}


def _get_configuration(
    cp: FakeChargePoint, action: str, payload: dict[str, Any]
) -> dict[str, Any]:
    keys = payload.get("key") or list(cp.config)
    return {
        "configuration_key": [
            {"key": k, "readonly": k in READONLY, "value": cp.config[k]}
            for k in keys
            if k in cp.config
        ],
        "unknown_key": [k for k in keys if k not in cp.config] or None,
    }


def _change_configuration(
    cp: FakeChargePoint, action: str, payload: dict[str, Any]
) -> dict[str, Any]:
    status = cp.status("ChangeConfiguration")
    if status in ("Accepted", "RebootRequired"):
        cp.config[payload["key"]] = payload["value"]
    return {"status": status}


def _composite_16(
    cp: FakeChargePoint, action: str, payload: dict[str, Any]
) -> dict[str, Any]:
    status = cp.status("GetCompositeSchedule")
    if status != "Accepted":
        return {"status": status}
    return {
        "status": status,
        "connector_id": payload["connector_id"],
        "schedule_start": "2030-01-01T00:00:00Z",
        "charging_schedule": {
            "duration": payload["duration"],
            "charging_rate_unit": payload.get("charging_rate_unit") or "A",
            "charging_schedule_period": [
                {"start_period": 0, "limit": 16.0, "number_phases": 3},
                {"start_period": 600, "limit": 6.5},
            ],
        },
    }


def _composite_201(
    cp: FakeChargePoint, action: str, payload: dict[str, Any]
) -> dict[str, Any]:
    status = cp.status("GetCompositeSchedule")
    if status != "Accepted":
        return {"status": status}
    return {
        "status": status,
        "schedule": {
            "evse_id": payload["evse_id"],
            "duration": payload["duration"],
            "schedule_start": "2030-01-01T00:00:00Z",
            "charging_rate_unit": payload.get("charging_rate_unit") or "A",
            "charging_schedule_period": [
                {"start_period": 0, "limit": 16.0, "number_phases": 3}
            ],
        },
    }


def _send_local_list(
    cp: FakeChargePoint, action: str, payload: dict[str, Any]
) -> dict[str, Any]:
    status = cp.status("SendLocalList")
    if status == "Accepted":
        cp.list_version = payload.get("list_version", payload.get("version_number"))
    return {"status": status}


def _get_variables(
    cp: FakeChargePoint, action: str, payload: dict[str, Any]
) -> dict[str, Any]:
    results = []
    for item in payload["get_variable_data"]:
        name = (item["component"]["name"], item["variable"]["name"])
        result: dict[str, Any] = {
            "component": item["component"],
            "variable": item["variable"],
        }
        if name not in cp.variables:
            result["attribute_status"] = "UnknownVariable"
        elif cp.status("GetVariables") != "Accepted":
            result["attribute_status"] = cp.status("GetVariables")
        else:
            result["attribute_status"] = "Accepted"
            result["attribute_value"] = cp.variables[name]
        results.append(result)
    return {"get_variable_result": results}


def _set_variables(
    cp: FakeChargePoint, action: str, payload: dict[str, Any]
) -> dict[str, Any]:
    status = cp.status("SetVariables")
    results = []
    for item in payload["set_variable_data"]:
        if status in ("Accepted", "RebootRequired"):
            name = (item["component"]["name"], item["variable"]["name"])
            cp.variables[name] = item["attribute_value"]
        results.append(
            {
                "attribute_status": status,
                "component": item["component"],
                "variable": item["variable"],
            }
        )
    return {"set_variable_result": results}


def _get_log(
    cp: FakeChargePoint, action: str, payload: dict[str, Any]
) -> dict[str, Any]:
    status = cp.status("GetLog")
    return {
        "status": status,
        "filename": "log-CP201.zip" if status == "Accepted" else None,
    }


ANSWERS_16: dict[str, Answer] = {
    "UnlockConnector": _unlock,
    "GetConfiguration": _get_configuration,
    "ChangeConfiguration": _change_configuration,
    "GetCompositeSchedule": _composite_16,
    "SendLocalList": _send_local_list,
    "GetLocalListVersion": lambda cp, action, payload: {
        "list_version": cp.list_version
    },
    "UpdateFirmware": lambda cp, action, payload: {},
    "GetDiagnostics": lambda cp, action, payload: {"file_name": "diag-CP1.zip"},
    "DataTransfer": _data_transfer,
}
ANSWERS_201: dict[str, Answer] = {
    "UnlockConnector": _unlock,
    "GetVariables": _get_variables,
    "SetVariables": _set_variables,
    "GetCompositeSchedule": _composite_201,
    "SendLocalList": _send_local_list,
    "GetLocalListVersion": lambda cp, action, payload: {
        "version_number": cp.list_version
    },
    "GetLog": _get_log,
    "DataTransfer": _data_transfer,
}


async def wait_until(check: Callable[[], object], seconds: float = 5.0) -> None:
    """Poll until `check()` is truthy (raises TimeoutError after `seconds`)."""
    for _ in range(int(seconds / 0.01)):
        if check():
            return
        await asyncio.sleep(0.01)
    raise TimeoutError("condition not reached")


@contextlib.asynccontextmanager
async def fake_charge_point(
    system: CentralSystem | str, charger_id: str = "CP1", version: str = V16
) -> AsyncIterator[FakeChargePoint]:
    """Connect a `FakeChargePoint` (to a central system, or a ws:// URL), run it,
    and stop it (no task left behind). It is not booted."""
    if isinstance(system, str):
        url, known = f"{system}/{charger_id}", None
    else:
        url, known = f"ws://127.0.0.1:{system.port}/{charger_id}", system
    subprotocol = "ocpp1.6" if version == V16 else "ocpp2.0.1"
    async with connect(url, subprotocols=[Subprotocol(subprotocol)]) as ws:
        assert ws.subprotocol == subprotocol
        cp = FakeChargePoint(charger_id, ws, version)
        task = asyncio.create_task(cp.start())
        try:
            if known is not None:
                await wait_until(lambda: charger_id in known.links)
            yield cp
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, ConnectionClosed):
                await task


def fake_charger(
    system: CentralSystem, charger_id: str = "CP1"
) -> contextlib.AbstractAsyncContextManager[FakeChargePoint]:
    """A 1.6 `FakeChargePoint` on a central system."""
    return fake_charge_point(system, charger_id, V16)
