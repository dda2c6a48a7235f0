"""Starting and stopping many simulated chargers in one event loop.

Owns the mapping from an OCPP version string to a charger class, charger id
numbering, staggered connects (so a thousand chargers do not hit the central
system in the same millisecond) and stopping a whole fleet. No threads: every
charger is a handful of asyncio tasks.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from typing import Any

from .base import NOT_IMPLEMENTED, SimulatedChargePoint
from .charge_point16 import SMART_CHARGING_KEYS, ChargePoint16
from .charge_point201 import ChargePoint201

VERSIONS: dict[str, type[SimulatedChargePoint]] = {
    "1.6": ChargePoint16,
    "16": ChargePoint16,
    "ocpp1.6": ChargePoint16,
    "2.0.1": ChargePoint201,
    "201": ChargePoint201,
    "ocpp2.0.1": ChargePoint201,
}


#: Ways a charger can misbehave like ones in the field (``--quirk``).
QUIRKS = {
    "no-smart-charging": "answers SetChargingProfile with a NotImplemented CALLERROR",
    "no-feature-list": "1.6: GetConfiguration without SupportedFeatureProfiles and"
    " SmartCharging keys",
    "no-remote-start-token": "2.0.1: a remote start's Started event without idToken",
    "end-register-only": "2.0.1: the Ended event's meter value carries only the"
    " energy register (no power, no currents)",
    "truncated-meter-stop": "1.6: a last MeterValues with the fractional register"
    " (66.3 Wh), then StopTransaction with it truncated (meterStop 66) and no"
    " transactionData",
}


def apply_quirks(cp: SimulatedChargePoint, quirks: Iterable[str]) -> None:
    """Make a charger misbehave as `QUIRKS` describes (unknown names: ValueError)."""
    for quirk in quirks:
        if quirk not in QUIRKS:
            raise ValueError(f"unknown quirk {quirk!r}; known: {', '.join(QUIRKS)}")
        if quirk == "no-smart-charging":
            cp.responses["SetChargingProfile"] = NOT_IMPLEMENTED
        elif quirk == "no-feature-list" and isinstance(cp, ChargePoint16):
            cp.unreported_keys |= {"SupportedFeatureProfiles", *SMART_CHARGING_KEYS}
        elif quirk == "no-remote-start-token" and isinstance(cp, ChargePoint201):
            cp.token_on_remote_start = False
        elif quirk == "end-register-only" and isinstance(cp, ChargePoint201):
            cp.full_meter_at_end = False
        elif quirk == "truncated-meter-stop" and isinstance(cp, ChargePoint16):
            cp.truncated_meter_stop = True


def create_charge_point(
    version: str, charger_id: str, url: str, **options: Any
) -> SimulatedChargePoint:
    """One charger of the given OCPP version (``"1.6"`` or ``"2.0.1"``)."""
    try:
        cls = VERSIONS[version.strip().lower()]
    except KeyError:
        raise ValueError(f"unknown OCPP version {version!r}") from None
    return cls(charger_id, url, **options)


def make_fleet(
    url: str,
    count: int,
    versions: Sequence[str] = ("1.6",),
    *,
    id_prefix: str = "sim",
    first: int = 1,
    **options: Any,
) -> list[SimulatedChargePoint]:
    """``count`` chargers ``<prefix>-001``...; versions are assigned round robin."""
    if not versions:
        raise ValueError("at least one OCPP version is needed")
    width = max(3, len(str(first + count - 1)))
    return [
        create_charge_point(
            versions[i % len(versions)],
            f"{id_prefix}-{first + i:0{width}d}",
            url,
            **options,
        )
        for i in range(count)
    ]


async def start_all(
    chargers: Iterable[SimulatedChargePoint],
    *,
    stagger: float = 0.0,
    wait_booted: float | None = None,
) -> None:
    """Start each charger, ``stagger`` seconds apart.

    With ``wait_booted`` set, also wait (that many seconds at most) until every
    charger has booted; raises ``TimeoutError`` otherwise.
    """
    chargers = list(chargers)
    for index, charger in enumerate(chargers):
        if index and stagger > 0:
            await asyncio.sleep(stagger)
        await charger.start()
    if wait_booted is not None:
        async with asyncio.timeout(wait_booted):
            await asyncio.gather(*(c.booted.wait() for c in chargers))


async def stop_all(chargers: Iterable[SimulatedChargePoint]) -> None:
    """Stop every charger concurrently and wait until all tasks are gone."""
    await asyncio.gather(*(c.stop() for c in chargers))
