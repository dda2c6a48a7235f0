"""Runtime data of a config entry and the bridge from the central system to HA.

Owns `RuntimeData` (what `entry.runtime_data` holds) and `HassHooks`, which turns the
central system's announcements into HA dispatcher signals and discovery flows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from homeassistant.config_entries import SOURCE_INTEGRATION_DISCOVERY, ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import discovery_flow
from homeassistant.helpers.dispatcher import async_dispatcher_send

from .const import DOMAIN, SIGNAL_NEW_CHARGER
from .csms.model import ChargerInfo, ChargerState
from .csms.server import CentralSystem
from .csms.sessions import SessionStore
from .entity_index import EntityIndex
from .entity_pacing import AddPacer
from .identifiers import charger_device_id
from .site import SiteCoordinator

if TYPE_CHECKING:
    from .central_system import RunningCentralSystem
    from .site.planning import SitePlanner


@dataclass
class RuntimeData:
    """What a loaded Energy Coordinator entry holds."""

    system: CentralSystem
    store: SessionStore
    site: SiteCoordinator
    central: RunningCentralSystem
    entities: EntityIndex = field(default_factory=EntityIndex)
    #: When the platforms may hand HA new entities (the loop is free).
    pacer: AddPacer = field(default_factory=AddPacer)
    #: The horizon planner (None: the site does not coordinate).
    planner: SitePlanner | None = None


type EnergyCoordinatorConfigEntry = ConfigEntry[RuntimeData]


class HassHooks:
    """Announces chargers to the entity platforms and to the owner."""

    def __init__(self, hass: HomeAssistant, entry_id: str) -> None:
        self._hass = hass
        self._entry_id = entry_id

    @callback
    def charger_added(self, charger: ChargerState) -> None:
        """A charger became known: the platforms create its entities."""
        async_dispatcher_send(
            self._hass, SIGNAL_NEW_CHARGER.format(self._entry_id), charger.charger_id
        )

    @callback
    def charger_booted(self, charger: ChargerState) -> None:
        """Keep the device's vendor, model, serial and firmware current."""
        devices = dr.async_get(self._hass)
        device = devices.async_get_device(
            identifiers={charger_device_id(self._entry_id, charger.charger_id)}
        )
        if device is None:
            return
        info = charger.info
        devices.async_update_device(
            device.id,
            manufacturer=info.vendor,
            model=info.model,
            serial_number=info.serial_number,
            sw_version=info.firmware_version,
        )

    @callback
    def charger_pending(self, charger_id: str, info: ChargerInfo) -> None:
        """An unknown charger booted: ask the owner whether to add it."""
        discovery_flow.async_create_flow(
            self._hass,
            DOMAIN,
            context={"source": SOURCE_INTEGRATION_DISCOVERY},
            data={
                "entry_id": self._entry_id,
                "charger_id": charger_id,
                "vendor": info.vendor or "",
                "model": info.model or "",
            },
        )
