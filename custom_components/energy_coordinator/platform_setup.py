"""Creating the entities of chargers and connectors as they become known.

Every entity platform (sensor, binary_sensor, switch, number, button) hands
`async_setup_charger_platform` two factories: one for a charger's own entities and one
for a connector's. This module calls them for every charger already added when the
entry loads, for every charger added later (the `SIGNAL_NEW_CHARGER` dispatcher
signal) and for every connector a charger reports, including ones that appear later.

A charger with one connector shows everything on one device; when a second connector
appears, the first connector's entities are moved onto their own connector device
(their registry entries change device; entity ids and history stay).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import SIGNAL_NEW_CHARGER
from .csms.model import ChargerState
from .csms.server import CentralSystem
from .entity import ChargerEntity, charger_device_info, connector_device_info
from .runtime import EnergyCoordinatorConfigEntry

type ChargerFactory = Callable[[CentralSystem, ChargerState], Iterable[ChargerEntity]]
type ConnectorFactory = Callable[
    [CentralSystem, ChargerState, int], Iterable[ChargerEntity]
]


@dataclass
class _Tracked:
    """The entities this platform made for one charger."""

    charger: ChargerState
    connectors: dict[int, list[ChargerEntity]] = field(default_factory=dict)
    split: bool = False  # connector entities live on connector devices
    remove_listener: Callable[[], None] | None = None


@callback
def async_setup_charger_platform(
    hass: HomeAssistant,
    entry: EnergyCoordinatorConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
    charger_entities: ChargerFactory | None = None,
    connector_entities: ConnectorFactory | None = None,
) -> None:
    """Add the platform's entities for every charger and connector, now and later."""
    system = entry.runtime_data.system
    devices = dr.async_get(hass)
    tracked: dict[str, _Tracked] = {}

    def ensure_devices(charger: ChargerState) -> None:
        # The charger device must exist before connector devices point to it.
        devices.async_get_or_create(
            config_entry_id=entry.entry_id, **charger_device_info(charger)
        )
        if len(charger.connectors) > 1:
            for connector_id in charger.connectors:
                devices.async_get_or_create(
                    config_entry_id=entry.entry_id,
                    **connector_device_info(charger, connector_id),
                )

    @callback
    def add_connector(item: _Tracked, connector_id: int) -> None:
        charger = item.charger
        if connector_entities is None or connector_id < 1:
            return
        if connector_id in item.connectors:
            return
        ensure_devices(charger)
        split = len(charger.connectors) > 1
        if split and not item.split and item.connectors:
            rehome(item)
        item.split = split
        entities = list(connector_entities(system, charger, connector_id))
        item.connectors[connector_id] = entities
        async_add_entities(entities)

    @callback
    def rehome(item: _Tracked) -> None:
        """Move the existing connector entities onto their connector devices."""
        entities = er.async_get(hass)
        for connector_id, made in item.connectors.items():
            info = connector_device_info(item.charger, connector_id)
            device = devices.async_get_or_create(config_entry_id=entry.entry_id, **info)
            for entity in made:
                # Used when the entity is registered later; else move its entry.
                entity._attr_device_info = info
                if entity.registry_entry is not None:
                    entities.async_update_entity(
                        entity.registry_entry.entity_id, device_id=device.id
                    )

    @callback
    def add_charger(charger_id: str) -> None:
        charger = system.chargers.get(charger_id)
        if charger is None:
            return
        item = tracked.get(charger_id)
        if item is not None and item.charger is charger:
            return
        if item is not None and item.remove_listener is not None:
            item.remove_listener()  # the charger was removed and added again
        item = tracked[charger_id] = _Tracked(charger)
        ensure_devices(charger)
        item.split = len(charger.connectors) > 1
        if charger_entities is not None:
            async_add_entities(list(charger_entities(system, charger)))
        for connector_id in sorted(charger.connectors):
            add_connector(item, connector_id)
        bound = item
        item.remove_listener = charger.add_connector_listener(
            lambda connector_id: add_connector(bound, connector_id)
        )

    @callback
    def remove_listeners() -> None:
        for item in tracked.values():
            if item.remove_listener is not None:
                item.remove_listener()

    for charger_id in list(system.chargers):
        if system.is_approved(charger_id):
            add_charger(charger_id)
    entry.async_on_unload(remove_listeners)
    entry.async_on_unload(
        async_dispatcher_connect(
            hass, SIGNAL_NEW_CHARGER.format(entry.entry_id), add_charger
        )
    )
