"""Version-neutral command vocabulary: what the HA layer can ask of a charger.

Owns the argument types (`ChargingLimit`, `IdTagEntry`, ...) and the errors a command
can end in. The OCPP handlers translate these into 1.6J or 2.0.1 frames.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime


class CommandError(Exception):
    """A command to a charger did not succeed."""

    def __init__(self, charger_id: str, action: str, detail: str = "") -> None:
        super().__init__(f"{charger_id}: {action} {detail}".strip())
        self.charger_id = charger_id
        self.action = action
        self.detail = detail


class ChargerNotConnected(CommandError):
    """The charger has no open connection."""


class CommandRejected(CommandError):
    """The charger answered with a status other than Accepted."""

    def __init__(self, charger_id: str, action: str, status: str) -> None:
        super().__init__(charger_id, action, status)
        self.status = status


class CommandTimeout(CommandError):
    """The charger did not answer in time."""


class CommandFailed(CommandError):
    """The charger answered with a CALLERROR."""


class CommandNotSupported(CommandError):
    """The command does not exist for this charger's OCPP version or features."""


class LimitPurpose(enum.StrEnum):
    """Which charging profile purpose a limit is sent as."""

    TX_DEFAULT = "tx_default"  # TxDefaultProfile: applies to every transaction
    TX = "tx"  # TxProfile: only the running transaction
    CHARGE_POINT_MAX = "charge_point_max"  # ChargePointMaxProfile / ChargingStation


class LimitUnit(enum.StrEnum):
    """Unit of a charging limit."""

    AMPERE = "A"
    WATT = "W"


@dataclass(frozen=True, slots=True)
class ChargingLimit:
    """A current or power limit for one connector (0 = whole charger).

    A limit of 0 pauses charging without ending the transaction.
    """

    value: float
    unit: LimitUnit = LimitUnit.AMPERE
    connector_id: int = 0
    phases: int | None = None
    duration_s: int | None = None
    purpose: LimitPurpose = LimitPurpose.TX_DEFAULT


@dataclass(frozen=True, slots=True)
class IdTagEntry:
    """An RFID card or other token the owner manages."""

    id_tag: str
    name: str = ""
    status: str = "Accepted"  # Accepted / Blocked / Expired / Invalid
    expiry: datetime | None = None


class ResetKind(enum.StrEnum):
    """Soft or hard reset (2.0.1: OnIdle / Immediate)."""

    SOFT = "soft"
    HARD = "hard"
