"""Creating the entities of chargers, connectors and EV loadpoints as they appear.

The one tracker for entities that appear at runtime. Every entity platform hands
`async_setup_tracked_entities` up to three factories: one for a charger's own
entities, one for a connector's, and one for the EV loadpoint of a connector (only
used while the site coordinates EVs). This module calls them for every charger
already approved when the entry loads, for every charger added later (the
`SIGNAL_NEW_CHARGER` dispatcher signal) and for every connector a charger reports,
including ones that appear later.

A charger with one connector shows everything on one device; when a second connector
appears, the first connector's entities are moved onto their own connector device
(their registry entries change device; entity ids and history stay).

An entity whose data the charger has not reported yet (an optional measurand such as
the vehicle's SoC, see `ChargerEntity.reported`) is added when the charger first
reports it, or at once when it was registered before. Entities are only referenced
weakly here: HA holds the added ones, and with thousands of chargers the disabled
ones should not stay in memory.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.entity import Entity
from homeassistant.helpers.entity_platform import (
    AddConfigEntryEntitiesCallback,
    async_get_current_platform,
)

from .const import DOMAIN, SIGNAL_NEW_CHARGER
from .csms.model import ChargerState
from .entity import ChargerEntity, charger_device_info, connector_device_info
from .runtime import EnergyCoordinatorConfigEntry
from .site import SiteCoordinator

type ChargerFactory = Callable[[ChargerState], Iterable[ChargerEntity]]
type ConnectorFactory = Callable[[ChargerState, int], Iterable[ChargerEntity]]
type LoadpointFactory = Callable[[SiteCoordinator, ChargerState, int], Iterable[Entity]]


@dataclass
class _Tracked:
    """The entities this platform made for one charger."""

    charger: ChargerState
    # connector id -> (unique id, entity) of each entity made for it
    connectors: dict[int, list[tuple[str, weakref.ref[ChargerEntity]]]] = field(
        default_factory=dict
    )
    split: bool = False  # connector entities live on connector devices
    loadpoints: set[int] = field(default_factory=set)  # connectors with EV entities
    remove_listener: Callable[[], None] | None = None
    # Entities waiting for their charger to report what they show.
    waiting: list[ChargerEntity] = field(default_factory=list)
    remove_waiting: Callable[[], None] | None = None

    def stop(self) -> None:
        """Stop following the charger."""
        for remove in (self.remove_listener, self.remove_waiting):
            if remove is not None:
                remove()
        self.remove_listener = self.remove_waiting = None


@callback
def async_setup_tracked_entities(
    hass: HomeAssistant,
    entry: EnergyCoordinatorConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
    charger_entities: ChargerFactory | None = None,
    connector_entities: ConnectorFactory | None = None,
    loadpoint_entities: LoadpointFactory | None = None,
) -> None:
    """Add the platform's entities for every charger, connector and loadpoint."""
    system = entry.runtime_data.system
    site = entry.runtime_data.site
    if not site.coordinates_evs:
        loadpoint_entities = None
    devices = dr.async_get(hass)
    registry = er.async_get(hass)
    domain = async_get_current_platform().domain
    tracked: dict[str, _Tracked] = {}

    def ensure_devices(charger: ChargerState) -> None:
        # The charger device must exist before connector devices point to it.
        devices.async_get_or_create(
            config_entry_id=entry.entry_id,
            **charger_device_info(entry.entry_id, charger),
        )
        if len(charger.connectors) > 1:
            for connector_id in charger.connectors:
                devices.async_get_or_create(
                    config_entry_id=entry.entry_id,
                    **connector_device_info(entry.entry_id, charger, connector_id),
                )

    def known(entity: ChargerEntity) -> bool:
        unique_id = str(entity.unique_id)
        return registry.async_get_entity_id(domain, DOMAIN, unique_id) is not None

    @callback
    def add_when_reported(item: _Tracked, entities: list[ChargerEntity]) -> None:
        """Add the entities that are reported or known; the rest wait."""
        now = [e for e in entities if e.reported() or known(e)]
        if now:
            async_add_entities(now)
        item.waiting.extend(e for e in entities if e not in now)
        if item.waiting and item.remove_waiting is None:
            item.remove_waiting = item.charger.add_listener(lambda: check_waiting(item))

    @callback
    def check_waiting(item: _Tracked) -> None:
        ready = [e for e in item.waiting if e.reported()]
        if not ready:
            return
        item.waiting = [e for e in item.waiting if e not in ready]
        async_add_entities(ready)
        if not item.waiting and item.remove_waiting is not None:
            item.remove_waiting()
            item.remove_waiting = None

    @callback
    def add_loadpoint(item: _Tracked, connector_id: int) -> None:
        if loadpoint_entities is None or connector_id in item.loadpoints:
            return
        item.loadpoints.add(connector_id)
        ensure_devices(item.charger)
        async_add_entities(list(loadpoint_entities(site, item.charger, connector_id)))

    @callback
    def add_connector(item: _Tracked, connector_id: int) -> None:
        charger = item.charger
        if connector_id < 1:
            return
        add_loadpoint(item, connector_id)
        if connector_entities is None or connector_id in item.connectors:
            return
        ensure_devices(charger)
        split = len(charger.connectors) > 1
        if split and not item.split and item.connectors:
            rehome(item)
        item.split = split
        entities = list(connector_entities(charger, connector_id))
        item.connectors[connector_id] = [
            (str(entity.unique_id), weakref.ref(entity)) for entity in entities
        ]
        add_when_reported(item, entities)

    @callback
    def rehome(item: _Tracked) -> None:
        """Move the existing connector entities onto their connector devices."""
        for connector_id, made in item.connectors.items():
            info = connector_device_info(entry.entry_id, item.charger, connector_id)
            device = devices.async_get_or_create(config_entry_id=entry.entry_id, **info)
            for unique_id, ref in made:
                entity = ref()
                if entity is not None and entity.registry_entry is None:
                    # Not registered yet: it registers on this device.
                    entity._attr_device_info = info
                    continue
                entity_id = registry.async_get_entity_id(domain, DOMAIN, unique_id)
                if entity_id is not None:
                    registry.async_update_entity(entity_id, device_id=device.id)

    @callback
    def add_charger(charger_id: str) -> None:
        charger = system.chargers.get(charger_id)
        if charger is None:
            return
        item = tracked.get(charger_id)
        if item is not None and item.charger is charger:
            return
        if item is not None:
            item.stop()  # the charger was removed and added again
        item = tracked[charger_id] = _Tracked(charger)
        ensure_devices(charger)
        item.split = len(charger.connectors) > 1
        if charger_entities is not None:
            add_when_reported(item, list(charger_entities(charger)))
        for connector_id in sorted(charger.connectors):
            add_connector(item, connector_id)
        bound = item
        item.remove_listener = charger.add_connector_listener(
            lambda connector_id: add_connector(bound, connector_id)
        )

    @callback
    def remove_listeners() -> None:
        for item in tracked.values():
            item.stop()

    for charger_id in list(system.chargers):
        if system.is_approved(charger_id):
            add_charger(charger_id)
    entry.async_on_unload(remove_listeners)
    entry.async_on_unload(
        async_dispatcher_connect(
            hass, SIGNAL_NEW_CHARGER.format(entry.entry_id), add_charger
        )
    )
