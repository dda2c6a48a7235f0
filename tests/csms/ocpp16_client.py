"""A scriptable OCPP 1.6J charge point (the `ocpp` library's client) for the tests.

It records every CALL the central system sends (action and camelCase payload, as on
the wire) and answers with the status configured per action, or never answers at
all when `silent` is set.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

from ocpp.routing import on
from ocpp.v16 import ChargePoint, call, call_result
from ocpp.v16.enums import Action
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from custom_components.energy_coordinator.csms.server import CentralSystem

DEFAULT_CONFIG = {
    "SupportedFeatureProfiles": (
        "Core,FirmwareManagement,LocalAuthListManagement,SmartCharging,RemoteTrigger"
    ),
    "LocalAuthListEnabled": "true",
    "ChargeProfileMaxStackLevel": "8",
    "HeartbeatInterval": "60",
}
READONLY = {"SupportedFeatureProfiles", "ChargeProfileMaxStackLevel"}


def now() -> str:
    """The current time as an OCPP timestamp."""
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


class FakeCharger(ChargePoint):  # type: ignore[misc]
    """A 1.6 charge point whose answers the test decides."""

    def __init__(self, charger_id: str, ws: ClientConnection) -> None:
        super().__init__(charger_id, ws, response_timeout=5)
        self.ws = ws
        self.received: list[tuple[str, dict[str, Any]]] = []
        self.statuses: dict[str, str] = {}
        self.config: dict[str, str] = dict(DEFAULT_CONFIG)
        self.list_version = 0
        self.silent = False

    def frames(self, action: str) -> list[dict[str, Any]]:
        """Payloads of the CALLs of one action received so far."""
        return [payload for name, payload in self.received if name == action]

    def status(self, action: str, default: str = "Accepted") -> str:
        return self.statuses.get(action, default)

    async def route_message(self, raw_msg: str) -> None:
        msg = json.loads(raw_msg)
        if msg[0] == 2:
            self.received.append((msg[2], msg[3]))
            if self.silent:
                return
        await super().route_message(raw_msg)

    async def send(self, payload: Any) -> Any:
        """Send a CALL and return the result (raises on CALLERROR)."""
        return await self.call(payload, suppress=False)

    @on(Action.remote_start_transaction)
    def _remote_start(self, **kw: Any) -> Any:
        return call_result.RemoteStartTransaction(self.status("RemoteStartTransaction"))

    @on(Action.remote_stop_transaction)
    def _remote_stop(self, **kw: Any) -> Any:
        return call_result.RemoteStopTransaction(self.status("RemoteStopTransaction"))

    @on(Action.reset)
    def _reset(self, **kw: Any) -> Any:
        return call_result.Reset(self.status("Reset"))

    @on(Action.unlock_connector)
    def _unlock(self, **kw: Any) -> Any:
        return call_result.UnlockConnector(self.status("UnlockConnector", "Unlocked"))

    @on(Action.change_availability)
    def _availability(self, **kw: Any) -> Any:
        return call_result.ChangeAvailability(self.status("ChangeAvailability"))

    @on(Action.get_configuration)
    def _get_configuration(self, key: list[str] | None = None, **kw: Any) -> Any:
        keys = key if key else list(self.config)
        return call_result.GetConfiguration(
            configuration_key=[
                {"key": k, "readonly": k in READONLY, "value": self.config[k]}
                for k in keys
                if k in self.config
            ],
            unknown_key=[k for k in keys if k not in self.config] or None,
        )

    @on(Action.change_configuration)
    def _change_configuration(self, key: str, value: str) -> Any:
        status = self.status("ChangeConfiguration")
        if status in ("Accepted", "RebootRequired"):
            self.config[key] = value
        return call_result.ChangeConfiguration(status)

    @on(Action.trigger_message)
    def _trigger(self, **kw: Any) -> Any:
        return call_result.TriggerMessage(self.status("TriggerMessage"))

    @on(Action.set_charging_profile)
    def _set_profile(self, **kw: Any) -> Any:
        return call_result.SetChargingProfile(self.status("SetChargingProfile"))

    @on(Action.clear_charging_profile)
    def _clear_profile(self, **kw: Any) -> Any:
        return call_result.ClearChargingProfile(self.status("ClearChargingProfile"))

    @on(Action.get_composite_schedule)
    def _composite(self, connector_id: int, duration: int, **kw: Any) -> Any:
        status = self.status("GetCompositeSchedule")
        if status != "Accepted":
            return call_result.GetCompositeSchedule(status)
        return call_result.GetCompositeSchedule(
            status,
            connector_id=connector_id,
            schedule_start="2030-01-01T00:00:00Z",
            charging_schedule={
                "duration": duration,
                "chargingRateUnit": kw.get("charging_rate_unit") or "A",
                "chargingSchedulePeriod": [
                    {"startPeriod": 0, "limit": 16.0, "numberPhases": 3},
                    {"startPeriod": 600, "limit": 6.5},
                ],
            },
        )

    @on(Action.send_local_list)
    def _send_local_list(self, list_version: int, **kw: Any) -> Any:
        status = self.status("SendLocalList")
        if status == "Accepted":
            self.list_version = list_version
        return call_result.SendLocalList(status)

    @on(Action.get_local_list_version)
    def _list_version(self, **kw: Any) -> Any:
        return call_result.GetLocalListVersion(self.list_version)

    @on(Action.clear_cache)
    def _clear_cache(self, **kw: Any) -> Any:
        return call_result.ClearCache(self.status("ClearCache"))

    @on(Action.update_firmware)
    def _update_firmware(self, **kw: Any) -> Any:
        return call_result.UpdateFirmware()

    @on(Action.get_diagnostics)
    def _get_diagnostics(self, **kw: Any) -> Any:
        return call_result.GetDiagnostics(file_name="diag-CP1.zip")

    @on(Action.data_transfer)
    def _data_transfer(self, vendor_id: str, **kw: Any) -> Any:
        return call_result.DataTransfer(
            self.status("DataTransfer"), data=f"echo:{kw.get('data')}"
        )

    # Charger -> central system shortcuts ---------------------------------------

    async def boot(self) -> Any:
        return await self.send(
            call.BootNotification(
                charge_point_model="Wallbox X",
                charge_point_vendor="Acme",
                charge_point_serial_number="SN-1",
                firmware_version="1.2.3",
                meter_type="DIN",
            )
        )

    async def start_tx(
        self, connector_id: int = 1, meter_start: int = 1000, id_tag: str = "TAG1"
    ) -> int:
        result = await self.send(
            call.StartTransaction(
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
        return await self.send(
            call.MeterValues(
                connector_id=connector_id,
                transaction_id=transaction_id,
                meter_value=[{"timestamp": now(), "sampledValue": list(sampled)}],
            )
        )

    async def stop_tx(self, transaction_id: int, meter_stop: int, **extra: Any) -> Any:
        return await self.send(
            call.StopTransaction(
                meter_stop=meter_stop,
                timestamp=now(),
                transaction_id=transaction_id,
                **extra,
            )
        )


async def wait_until(check: Callable[[], object], seconds: float = 5.0) -> None:
    """Poll until `check()` is truthy (raises TimeoutError after `seconds`)."""
    for _ in range(int(seconds / 0.01)):
        if check():
            return
        await asyncio.sleep(0.01)
    raise TimeoutError("condition not reached")


@contextlib.asynccontextmanager
async def fake_charger(
    system: CentralSystem, charger_id: str = "CP1"
) -> AsyncIterator[FakeCharger]:
    """Connect a `FakeCharger`, run it, and stop it (no task left behind)."""
    async with connect(
        f"ws://127.0.0.1:{system.port}/{charger_id}", subprotocols=["ocpp1.6"]
    ) as ws:
        charger = FakeCharger(charger_id, ws)
        task = asyncio.create_task(charger.start())
        try:
            await wait_until(lambda: charger_id in system.links)
            yield charger
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, ConnectionClosed):
                await task
