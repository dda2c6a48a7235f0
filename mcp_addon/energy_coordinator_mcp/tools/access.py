"""What the tools may see of Home Assistant, and the integration's own parts.

Owns `HomeAccess`: the state mirror filtered by the owner's exposure choice (every
entity, or only those exposed to Assist, cached for 30 s), the integration's
`get_status`, HA's time zone, the charger index (the integration's
`get_chargers`), and which entities, devices and
areas belong to the Energy Coordinator integration, learnt from HA's config
entries and its device and entity registries (an entity the integration's platform
registered, a device of the integration's config entries), never from the shape
of ids.
"""

from __future__ import annotations

import time
from datetime import tzinfo
from typing import Any

from energy_coordinator_mcp.charger_index import DOMAIN, ChargerIndex, ChargerInfo
from energy_coordinator_mcp.config import Options
from energy_coordinator_mcp.ha_client import EntityState, HAClient
from energy_coordinator_mcp.home_view import value_text
from energy_coordinator_mcp.security import Redactor
from energy_coordinator_mcp.site_view import local_zone

from .spec import ToolError

#: Seconds the Assist exposure list is cached.
EXPOSURE_TTL = 30.0


class HomeAccess:
    """HA as the tools see it (one per registry)."""

    def __init__(self, ha: HAClient, options: Options, redactor: Redactor) -> None:
        """Read through this client, as these options allow."""
        self.ha = ha
        self.options = options
        self.redactor = redactor
        self.index = ChargerIndex(ha)
        self._exposed: tuple[float, set[str]] | None = None

    @property
    def zone(self) -> tzinfo:
        """HA's time zone."""
        return local_zone(self.ha)

    async def status(self) -> dict[str, Any]:
        """The integration's `get_status` response."""
        response = await self.ha.call_service(
            DOMAIN, "get_status", {}, return_response=True
        )
        if not isinstance(response, dict):
            raise ToolError("the integration returned no status")
        return response

    # Visibility -----------------------------------------------------------------

    async def exposed_ids(self) -> set[str] | None:
        """None when everything is exposed, else the Assist-exposed entities."""
        if self.options.expose == "all":
            return None
        now = time.monotonic()
        if self._exposed is None or now - self._exposed[0] > EXPOSURE_TTL:
            self._exposed = (now, await self.ha.exposed_entities())
        return self._exposed[1]

    async def visible_states(self) -> list[EntityState]:
        """States the owner lets the model see."""
        exposed = await self.exposed_ids()
        states = self.ha.states.values()
        if exposed is None:
            return list(states)
        return [s for s in states if s.entity_id in exposed]

    async def visible(self, entity_id: str) -> EntityState:
        """One visible entity's state, else a tool error naming the way out."""
        state = self.ha.states.get(entity_id)
        exposed = await self.exposed_ids()
        if state is None or (exposed is not None and entity_id not in exposed):
            raise ToolError(
                f"unknown entity {entity_id!r}; use search_entities to find ids"
            )
        return state

    def state_text(self, entity_id: str | None) -> str | None:
        """An entity's state with its unit, None when it has none."""
        if not entity_id:
            return None
        state = self.ha.states.get(entity_id)
        return value_text(state) if state else None

    # Chargers ---------------------------------------------------------------------

    async def connector_states(self) -> dict[str, str | None]:
        """The raw status of each loadpoint's connector, by loadpoint id."""
        out: dict[str, str | None] = {}
        for charger in (await self.index.chargers()).values():
            for conn in charger.connectors.values():
                if conn.loadpoint is None:
                    continue
                state = self.ha.states.get(conn.entities.get("connector_status", ""))
                out[conn.loadpoint] = state.state if state else None
        return out

    def online(self, charger: ChargerInfo) -> bool:
        """Whether a charger is connected to the central system now."""
        state = self.ha.states.get(charger.entities.get("connected", ""))
        return state is not None and state.state == "on"

    # What belongs to the integration ----------------------------------------------

    def owned_entry_ids(self) -> set[str]:
        """The integration's config entries (its sites)."""
        return {
            entry_id
            for entry_id, entry in self.ha.config_entries.items()
            if entry.get("domain") == DOMAIN
        }

    def owns_entity(self, entity_id: str) -> bool:
        """Whether the integration provides this entity (or its device)."""
        entry = self.ha.entities.get(entity_id)
        if entry is None:
            return False
        if entry.get("platform") == DOMAIN:
            return True
        if entry.get("config_entry_id") in self.owned_entry_ids():
            return True
        device_id = entry.get("device_id")
        return bool(device_id) and self.owns_device(str(device_id))

    def owns_device(self, device_id: str) -> bool:
        """Whether a device belongs to the integration.

        One of its config entries is the integration's, or the integration's
        platform registered an entity on it.
        """
        device = self.ha.devices.get(device_id)
        if device is None:
            return False
        if set(device.get("config_entries") or []) & self.owned_entry_ids():
            return True
        return any(
            entry.get("device_id") == device_id and entry.get("platform") == DOMAIN
            for entry in self.ha.entities.values()
        )
