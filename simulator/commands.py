"""What a simulated charger does with the central system's commands, either version.

Owns the version-neutral handling of every central-system -> charger command the
1.6 and 2.0.1 charge points share: charging profiles (install, clear, the composite
limit), remote start and stop, reset, availability, trigger messages, the local
authorization list, firmware updates and log uploads. Each returns a neutral
outcome (a status word, or None for a refusal); `charge_point16` and
`charge_point201` read the CALL in their wire format, call these and answer in it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from functools import partial
from typing import Any

from .base import Connector, SimulatedChargePoint, utcnow
from .profiles import CP_MAX, TX, parse_profile, parse_time

#: Trigger names (either version's) -> what the charger sends.
BOOT, HEARTBEAT, STATUS, METER, TRANSACTION, FIRMWARE, UPLOAD = (
    "BootNotification",
    "Heartbeat",
    "StatusNotification",
    "MeterValues",
    "TransactionEvent",
    "FirmwareStatusNotification",
    "Upload",
)


class CommandHandling(SimulatedChargePoint):
    """The central system's commands, handled once for both OCPP versions."""

    #: The version's trigger names for the upload status notification.
    upload_trigger: str = ""

    # Hooks of the version ---------------------------------------------------------

    async def _send_firmware_status(self, status: str, request_id: int | None) -> None:
        """Send a FirmwareStatusNotification."""
        raise NotImplementedError

    async def _send_upload_status(self, status: str, request_id: int | None) -> None:
        """Send a DiagnosticsStatusNotification (1.6) / LogStatusNotification."""
        raise NotImplementedError

    async def _triggered_boot(self) -> None:
        """Send a BootNotification because the central system asked."""
        raise NotImplementedError

    async def _after_availability(self, targets: list[Connector], whole: bool) -> None:
        """Report the statuses an availability change caused."""
        for connector in targets:
            await self._sync_status(connector)

    # Charging profiles ------------------------------------------------------------

    def _set_profile(self, connector_id: int, raw: dict[str, Any]) -> bool:
        """Install a profile for a connector (0: the charger); False: Rejected."""
        if not self.smart_charging_enabled or (
            connector_id != 0 and connector_id not in self.connectors
        ):
            return False
        try:
            profile = parse_profile(raw, connector_id)
        except (ValueError, KeyError, TypeError):
            return False
        if profile.purpose == CP_MAX and connector_id != 0:
            return False
        if profile.purpose == TX:
            connector = self.connectors.get(connector_id)
            if connector is None or connector.transaction_id is None:
                return False
            if profile.transaction_id not in (None, connector.transaction_id):
                return False
        if self.ignores_purpose(profile.purpose):
            return True
        self.profiles.install(profile)
        self._after(self._apply_limits)
        return True

    def _clear_profiles(
        self,
        profile_id: int | None,
        connector_id: int | None,
        purpose: str | None,
        stack_level: int | None,
    ) -> bool:
        """Remove the matching profiles; False when none matched (Unknown)."""
        removed = self.profiles.clear(
            profile_id=profile_id,
            connector_id=connector_id,
            purpose=purpose,
            stack_level=stack_level,
        )
        if removed:
            self._after(self._apply_limits)
        return bool(removed)

    def _composite(
        self, connector_id: int, unit: str | None
    ) -> tuple[str, float, int] | None:
        """(unit, limit, phases) in force on a connector; None: unknown connector."""
        if connector_id != 0 and connector_id not in self.connectors:
            return None
        amps, phases = self.composite_limit(connector_id)
        unit = unit or "A"
        limit = amps if unit == "A" else amps * self.voltage * phases
        return unit, round(limit, 1), phases

    # Transactions -----------------------------------------------------------------

    def _remote_start(
        self,
        connector_id: int | None,
        id_tag: str,
        raw_profile: dict[str, Any] | None,
        *,
        authorize: bool,
        remote_start_id: int | None = None,
    ) -> Connector | None:
        """Start a transaction once answered; None: Rejected."""
        target = self._remote_start_target(connector_id)
        if target is None:
            return None
        if raw_profile is not None:
            try:
                profile = parse_profile(raw_profile, target.id)
            except (ValueError, KeyError, TypeError):
                return None
            if profile.purpose != TX:
                return None
            self.profiles.install(profile)
        target.busy = True

        async def begin() -> None:
            target.busy = False
            if target.ev is None:
                await self.plug_in(target.id)
            started = await self._start_transaction(
                target, id_tag, authorize=authorize, remote_start_id=remote_start_id
            )
            if started is None:  # rejected: drop the profile sent along
                self.profiles.end_transaction(None, target.id)

        self._after(begin)
        return target

    def _remote_stop(self, transaction_id: int | str) -> bool:
        """Stop a running transaction once answered; False: Rejected."""
        for connector in self.connectors.values():
            if connector.transaction_id == transaction_id:
                self._after(
                    partial(self._stop_transaction, connector, self.reason_remote)
                )
                return True
        return False

    def _reset(self, reason: str) -> None:
        """Once answered: stop every transaction, then reboot."""

        async def reset() -> None:
            for connector in list(self.connectors.values()):
                if connector.transaction_id is not None:
                    await self._stop_transaction(connector, reason)
            await self._reboot()

        self._after(reset)

    # Availability -----------------------------------------------------------------

    def _change_availability(self, connector_id: int | None, operative: bool) -> str:
        """Accepted, Scheduled (a transaction runs) or Rejected; None/0: all."""
        whole = not connector_id
        if whole:
            targets = list(self.connectors.values())
        elif connector_id in self.connectors:
            targets = [self.connectors[connector_id]]
        else:
            return "Rejected"
        scheduled = False
        for connector in targets:
            if connector.transaction_id is not None and not operative:
                connector.scheduled_operative = False
                scheduled = True
            else:
                connector.operative = operative
                connector.scheduled_operative = None
        if whole:
            self.operative = operative
        self._after(lambda: self._after_availability(targets, whole))
        return "Scheduled" if scheduled else "Accepted"

    # Trigger messages -------------------------------------------------------------

    def _trigger(
        self,
        message: str,
        targets: list[Connector],
        *,
        charger_status: bool = False,
        status_targets: list[Connector] | None = None,
    ) -> str:
        """Send `message` once answered: Accepted, Rejected or NotImplemented.

        A StatusNotification reports `status_targets` (default: `targets`) and,
        with `charger_status`, the charger itself (1.6 connector 0).
        """
        reported = targets if status_targets is None else status_targets
        action: Callable[[], Awaitable[Any]]
        if message == BOOT:
            action = self._triggered_boot
        elif message == HEARTBEAT:
            action = self._send_heartbeat
        elif message == STATUS:

            async def action() -> None:
                if charger_status:
                    await self._sync_charger_status()
                for connector in reported:
                    await self._sync_status(connector, force=True)

        elif message in (METER, TRANSACTION):
            if message == TRANSACTION and not _running(targets):
                return "Rejected"

            async def action() -> None:
                for connector in targets:
                    if connector.transaction_id is not None:
                        self._refresh(connector)
                    elif message == TRANSACTION:
                        continue
                    await self._send_meter_values(connector, "Trigger")

        elif message == FIRMWARE:

            async def action() -> None:
                await self._send_firmware_status(self.firmware_status, None)

        elif message == self.upload_trigger:

            async def action() -> None:
                await self._send_upload_status(self.upload_status, None)

        else:
            return "NotImplemented"
        self._after(action)
        return "Accepted"

    async def _sync_charger_status(self) -> None:
        """Report the whole charger's status (1.6 connector 0); none in 2.0.1."""

    # Local list -------------------------------------------------------------------

    def _update_local_list(
        self,
        version: int,
        update_type: str,
        entries: Iterable[tuple[str, dict[str, Any] | None]],
    ) -> bool:
        """Apply a SendLocalList (token, info or None to remove); False: refused."""
        if not self.local_auth_enabled:
            return False
        if update_type == "Full":
            self.local_list = {}
        for token, info in entries:
            if info is None:
                self.local_list.pop(token, None)
            else:
                self.local_list[token] = info
        self.local_list_version = version
        return True

    # Firmware and uploads ---------------------------------------------------------

    def _update_firmware(self, retrieve: str | None, request_id: int | None) -> None:
        """Once answered: wait for the retrieve time, then report each step."""

        async def update() -> None:
            when = parse_time(retrieve)
            if when is not None:
                delay = (when - utcnow()).total_seconds()
                if delay > 0:
                    await asyncio.sleep(delay)
            for status in ("Downloading", "Downloaded", "Installing", "Installed"):
                self.firmware_status = status
                await self._send_firmware_status(status, request_id)
                await asyncio.sleep(self.step_delay)
            self.firmware_status = "Idle"

        self._after(update)

    def _upload(self, kind: str, request_id: int | None) -> str:
        """Once answered: upload a file of `kind`; returns its name."""
        file_name = f"{kind}-{self.charger_id}-{utcnow():%Y%m%dT%H%M%S}.log"

        async def upload() -> None:
            for status in ("Uploading", "Uploaded"):
                self.upload_status = status
                await self._send_upload_status(status, request_id)
                await asyncio.sleep(self.step_delay)
            self.upload_status = "Idle"

        self._after(upload)
        return file_name


def _running(targets: list[Connector]) -> bool:
    return any(c.transaction_id is not None for c in targets)
