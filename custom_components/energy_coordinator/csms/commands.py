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
    """The charger does not do this: not in its OCPP version or features, or it
    answered the CALL with a NotImplemented or NotSupported CALLERROR (`detail`
    is then that code)."""


#: CALLERROR codes with which a charger says it does not do an action.
NOT_SUPPORTED_CODES = frozenset({"NotImplemented", "NotSupported"})
#: Longest charger-provided text kept in an error (some echo the whole request).
MAX_DETAIL_CHARS = 120


def short_detail(text: str) -> str:
    """A charger's error text cut to `MAX_DETAIL_CHARS` characters."""
    text = " ".join(text.split())
    if len(text) <= MAX_DETAIL_CHARS:
        return text
    return text[: MAX_DETAIL_CHARS - 1].rstrip() + "…"


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
