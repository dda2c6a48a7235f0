"""Each EV loadpoint as the coordinator status sensor shows it to people and cards.

Owns `loadpoint_status()`: for at most `MAX_LOADPOINTS` loadpoints (the charging
ones first, then the plugged-in ones, then by id) the charger's device name (as
the owner named it in the device registry), the registry ids the power-flow card
follows (that device, the connector's power sensor), the charge mode, whether a
car is plugged in, the charger online and charging, the power now, and why it is
or is not charging: the last decision's sentences about it, in the controller's
words with the device names in place of the loadpoint ids (its own, and those of
the other loadpoints a sentence mentions, such as the ones it shares the surplus
with).
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Callable, Sequence
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr

from .csms.model import ChargerState, ConnectorState
from .energy import Reason
from .entity_index import EntityIndex
from .identifiers import charger_device_id, connector_device_id
from .site import SiteCoordinator

#: Loadpoints the status sensor lists (a garage has hundreds; `get_status` has all).
MAX_LOADPOINTS = 20
#: Sentences of the reason of one loadpoint.
MAX_SENTENCES = 3
#: The reason's length (the attribute stays small).
MAX_REASON_LENGTH = 300


def _device(
    devices: dr.DeviceRegistry, entry_id: str, charger: ChargerState, connector: int
) -> dr.DeviceEntry | None:
    """The device the loadpoint's charger entities are on (its connector's, when
    the charger has several)."""
    if len(charger.connectors) > 1:
        found = devices.async_get_device(
            identifiers={connector_device_id(entry_id, charger.charger_id, connector)}
        )
        if found is not None:
            return found
    return devices.async_get_device(
        identifiers={charger_device_id(entry_id, charger.charger_id)}
    )


#: A loadpoint id as the controller quotes it in a sentence ('wallbox/1').
_QUOTED_ID = re.compile(r"'([^'\s]+)'")


def in_words(
    reasons: Sequence[Reason],
    lp_id: str,
    name: str,
    name_of: Callable[[str], str | None] | None = None,
) -> str:
    """The sentences about a loadpoint with its name in place of its id, and with
    `name_of(id)` in place of any other loadpoint's quoted id it mentions."""
    text = " ".join(r.message for r in reasons[:MAX_SENTENCES])
    for raw in (f"Loadpoint '{lp_id}'", f"'{lp_id}'", lp_id):
        text = text.replace(raw, name)
    if name_of is not None:
        text = _QUOTED_ID.sub(lambda m: name_of(m.group(1)) or m.group(0), text)
    if len(text) > MAX_REASON_LENGTH:
        text = text[: MAX_REASON_LENGTH - 1] + "…"
    return text


def _power_kw(charger: ChargerState, conn: ConnectorState) -> float:
    if not charger.online or conn.transaction is None:
        return 0.0
    return round((conn.meter.power_w or 0.0) / 1000, 2)


def loadpoint_status(
    hass: HomeAssistant, entry_id: str, site: SiteCoordinator, index: EntityIndex
) -> tuple[list[dict[str, Any]], int]:
    """The listed loadpoints and how many there are in all."""
    last = site.last
    vehicles = last.decision.actions.vehicles if last is not None else {}
    loadpoints = site.loadpoint_connectors()

    def charging(lp_id: str) -> bool:
        action = vehicles.get(lp_id)
        return action is not None and action.charging

    listed = heapq.nsmallest(
        MAX_LOADPOINTS,
        loadpoints,
        key=lambda lp: (not charging(lp[0]), not lp[2].plugged, lp[0]),
    )
    # The sentences about the listed loadpoints only (a garage has thousands).
    about: dict[str, list[Reason]] = {lp[0]: [] for lp in listed}
    if last is not None:
        for reason in last.decision.explanation:
            sentences = about.get(reason.subject)
            if sentences is not None and reason.code.value.startswith(
                ("ev.", "input.")
            ):
                sentences.append(reason)
    devices = dr.async_get(hass)
    by_id = {lp[0]: lp for lp in loadpoints}

    def device_name(charger: ChargerState, conn: ConnectorState) -> str:
        device = _device(devices, entry_id, charger, conn.connector_id)
        return (
            (device.name_by_user or device.name) if device is not None else None
        ) or charger.charger_id

    def name_of(other: str) -> str | None:
        """Another loadpoint's name, looked up only when a sentence names it."""
        found = by_id.get(other)
        return device_name(found[1], found[2]) if found is not None else None

    out: list[dict[str, Any]] = []
    for lp_id, charger, conn in listed:
        device = _device(devices, entry_id, charger, conn.connector_id)
        name = device_name(charger, conn)
        reasons = about.get(lp_id, [])
        entities = index.chargers.get(charger.charger_id, {}).get(conn.connector_id, {})
        out.append(
            {
                "id": lp_id,
                "name": name,
                "charger_device_id": device.id if device is not None else None,
                "power_entity": entities.get("power"),
                "mode": site.settings(lp_id).mode,
                "plugged": conn.plugged,
                "online": charger.online,
                "charging": charging(lp_id),
                "power_kw": _power_kw(charger, conn),
                "codes": [r.code.value for r in reasons[:MAX_SENTENCES]],
                "reason": in_words(reasons, lp_id, name, name_of),
            }
        )
    return out, len(loadpoints)
