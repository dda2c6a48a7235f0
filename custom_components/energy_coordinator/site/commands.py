"""A person's charging commands, whether or not the site coordinates the charger.

Owns `ChargerCommands`, the one path the actions (`start_charging`,
`stop_charging`, `set_current_limit`, `clear_current_limit`) and the charger's
own entities (the charge switch, the maximum-current number) take. On a charger
the site does not coordinate, each command goes straight to the charger. On a
coordinated loadpoint a command is an input the coordinator honours, never one
it fights: a current limit becomes the loadpoint's cap (the charger is lowered
at once when it is above it), clearing it hands the loadpoint back, stopping sets
the charge mode to *off* (and stops the session), starting sets a loadpoint that
is *off* to *now* (and starts one). Each returns what it did, for the response.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..csms.commands import ChargingLimit, LimitPurpose
from ..energy import ChargeMode
from .settings import loadpoint_id

if TYPE_CHECKING:
    from .coordinator import SiteCoordinator


class ChargerCommands:
    """A person's commands to the chargers of one site."""

    def __init__(self, site: SiteCoordinator) -> None:
        self._site = site

    def _loadpoint(self, charger_id: str, connector_id: int) -> str | None:
        """The coordinated loadpoint of a connector, if the site coordinates it."""
        if self._site.is_loadpoint(charger_id, connector_id):
            return loadpoint_id(charger_id, connector_id)
        return None

    def _coordinated(self, charger_id: str, connector_id: int) -> list[str]:
        """The loadpoints a command for `connector_id` (0: the charger) covers."""
        charger = self._site.system.chargers.get(charger_id)
        if charger is None:
            return []
        connectors = [connector_id] if connector_id else sorted(charger.connectors)
        return [
            lp_id
            for number in connectors
            if (lp_id := self._loadpoint(charger_id, number)) is not None
        ]

    async def start(
        self, charger_id: str, connector_id: int, id_tag: str
    ) -> dict[str, Any]:
        """Start a session; a coordinated loadpoint that is off charges now."""
        lp_id = self._loadpoint(charger_id, connector_id)
        await self._site.system.link(charger_id).start_charging(connector_id, id_tag)
        if lp_id is None:
            return {"coordinated": False}
        site = self._site
        if site.settings(lp_id).mode == ChargeMode.OFF:
            site.update_settings(lp_id, mode=ChargeMode.NOW.value)
        return {"coordinated": True, "mode": site.settings(lp_id).mode}

    async def stop(self, charger_id: str, connector_id: int) -> dict[str, Any]:
        """Stop the session; a coordinated loadpoint is set to off first."""
        lp_id = self._loadpoint(charger_id, connector_id)
        if lp_id is not None:
            self._site.update_settings(lp_id, mode=ChargeMode.OFF.value)
        await self._site.system.link(charger_id).stop_charging(connector_id)
        if lp_id is None:
            return {"coordinated": False}
        return {"coordinated": True, "mode": ChargeMode.OFF.value}

    async def set_limit(self, charger_id: str, limit: ChargingLimit) -> dict[str, Any]:
        """Apply a limit; on a coordinated loadpoint it becomes the cap."""
        site = self._site
        lp_ids = (
            []
            if limit.purpose == LimitPurpose.CHARGE_POINT_MAX
            else self._coordinated(charger_id, limit.connector_id)
        )
        if not lp_ids:
            await site.system.link(charger_id).set_charging_limit(limit)
            return {"coordinated": False}
        charger = site.system.chargers[charger_id]
        caps = []
        for lp_id in lp_ids:
            conn = charger.connectors[int(lp_id.rpartition("/")[2])]
            cap = await site.async_set_manual_cap(
                lp_id, conn, limit.value, limit.unit, limit.phases, limit.duration_s
            )
            caps.append(cap.as_dict())
        return caps[0] if len(caps) == 1 else {"coordinated": True, "caps": caps}

    async def clear_limit(self, charger_id: str, connector_id: int) -> dict[str, Any]:
        """Remove the limits; a coordinated loadpoint is handed back to the site."""
        site = self._site
        lp_ids = self._coordinated(charger_id, connector_id)
        if not lp_ids:
            await site.system.link(charger_id).clear_charging_limit(connector_id)
            return {"coordinated": False}
        for lp_id in lp_ids:
            site.clear_manual_cap(lp_id)
        return {"coordinated": True, "loadpoints": lp_ids}
