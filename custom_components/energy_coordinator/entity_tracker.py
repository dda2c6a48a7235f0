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
the vehicle's SoC, see `ChargerEntity.reported`), or that its loadpoint does not use
yet (the target time and SoC settings of a car in *now* mode, see
`LoadpointEntity.reported`), is added when the charger first reports it or the
loadpoint's settings come to need it, or at once when it was registered before.
Entities disabled by default are registered only while the entry's *Detail
entities* option is on (`CONF_DETAIL_ENTITIES`, the default): a garage turns it off
and HA keeps about half as many registry entries per charger. With it off, such an
entity is still added when a person enabled it (its registry entry says so); the
registry entries of those still disabled by the integration are removed.

Entities are only referenced weakly here: HA holds the added ones, and with
thousands of chargers the disabled ones should not stay in memory.

Entities are handed to HA a few at a time (`AddQueue`), and only when the event
loop is free (`entity_pacing.AddPacer`, shared by the entry's platforms): adding one
costs about a millisecond on the event loop (registry, first state write), so a
garage whose chargers all boot at once would otherwise hold the loop for seconds
inside the chargers' BootNotification and StatusNotification handlers, and every
charger's answers would wait. The chargers are answered first; their entities
follow as the loop has time.
"""

from __future__ import annotations

import asyncio
import weakref
from collections import deque
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

from .const import CONF_DETAIL_ENTITIES, DOMAIN, SIGNAL_NEW_CHARGER
from .csms.model import ChargerState
from .entity import ChargerEntity, charger_device_info, connector_device_info
from .entity_pacing import AddPacer
from .runtime import EnergyCoordinatorConfigEntry
from .site import SiteCoordinator
from .site_entity import LoadpointEntity

type TrackedEntity = ChargerEntity | LoadpointEntity
type ChargerFactory = Callable[[ChargerState], Iterable[ChargerEntity]]
type ConnectorFactory = Callable[[ChargerState, int], Iterable[ChargerEntity]]
type LoadpointFactory = Callable[
    [SiteCoordinator, ChargerState, int], Iterable[LoadpointEntity]
]

#: Entities handed to HA at once before the event loop serves others again.
ADD_CHUNK = 8


class AddQueue:
    """Hands a platform's new entities to HA in chunks, in the order they came.

    `add` returns at once; a task of the config entry (so `async_block_till_done`
    waits for it) adds `ADD_CHUNK` entities and, while more wait, each further
    chunk when its turn comes (`AddPacer`: the loop is free). `drop` forgets
    the queued entities of a charger that went away; after `close` (the
    platform unloads) nothing more is added.
    """

    def __init__(
        self,
        hass: HomeAssistant,
        entry: EnergyCoordinatorConfigEntry,
        add: Callable[[list[Entity]], None],
        name: str,
        pacer: AddPacer,
    ) -> None:
        """Queue for one platform's `async_add_entities`."""
        self._hass = hass
        self._entry = entry
        self._add = add
        self._pacer = pacer
        self._name = name
        self._queue: deque[Entity] = deque()
        self._task: asyncio.Task[None] | None = None
        self._closed = False

    @callback
    def add(self, entities: Iterable[Entity]) -> None:
        """Queue entities to be added."""
        if self._closed:
            return
        self._queue.extend(entities)
        if self._queue and self._task is None:
            self._task = self._entry.async_create_task(
                self._hass, self._drain(), self._name, eager_start=False
            )

    @callback
    def drop(self, charger: ChargerState) -> None:
        """Forget the queued entities of `charger`."""
        kept = [e for e in self._queue if getattr(e, "charger", None) is not charger]
        self._queue = deque(kept)

    @callback
    def close(self) -> None:
        """Add nothing more."""
        self._closed = True
        self._queue.clear()

    async def _drain(self) -> None:
        try:
            while self._queue and not self._closed:
                chunk = [
                    self._queue.popleft()
                    for _ in range(min(ADD_CHUNK, len(self._queue)))
                ]
                self._add(chunk)
                if self._queue:
                    await self._pacer.turn()
        finally:
            self._task = None


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
    # Entities waiting for their charger to report what they show, or for their
    # loadpoint to use them.
    waiting: list[TrackedEntity] = field(default_factory=list)
    remove_waiting: Callable[[], None] | None = None
    # Loadpoint ids whose settings changes are followed (for waiting entities).
    settings_followed: dict[str, Callable[[], None]] = field(default_factory=dict)

    def stop(self) -> None:
        """Stop following the charger."""
        for remove in (
            self.remove_listener,
            self.remove_waiting,
            *self.settings_followed.values(),
        ):
            if remove is not None:
                remove()
        self.remove_listener = self.remove_waiting = None
        self.settings_followed.clear()


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
    queue = AddQueue(
        hass,
        entry,
        async_add_entities,
        f"{DOMAIN} add {domain} entities",
        entry.runtime_data.pacer,
    )

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

    detail = {**entry.data, **entry.options}.get(CONF_DETAIL_ENTITIES) is not False

    def known(entity: TrackedEntity) -> bool:
        unique_id = str(entity.unique_id)
        return registry.async_get_entity_id(domain, DOMAIN, unique_id) is not None

    def wanted(entity: TrackedEntity) -> bool:
        """Whether the entity is made at all (see *Detail entities*)."""
        if detail or entity.entity_description.entity_registry_enabled_default:
            return True
        entity_id = registry.async_get_entity_id(domain, DOMAIN, str(entity.unique_id))
        if entity_id is None:
            return False
        registered = registry.async_get(entity_id)
        if registered is not None and (
            registered.disabled_by is er.RegistryEntryDisabler.INTEGRATION
        ):
            registry.async_remove(entity_id)
            return False
        return True  # a person enabled it (or disabled it: their choice stays)

    @callback
    def add_when_reported(item: _Tracked, entities: list[TrackedEntity]) -> None:
        """Add the entities that are reported or known; the rest wait."""
        entities = [e for e in entities if wanted(e)]
        now = [e for e in entities if e.reported() or known(e)]
        queue.add(now)
        for entity in entities:
            if entity in now:
                continue
            item.waiting.append(entity)
            if isinstance(entity, LoadpointEntity) and (
                entity.lp_id not in item.settings_followed
            ):
                item.settings_followed[entity.lp_id] = site.add_listener(
                    lambda: check_waiting(item, at_once=True), entity.lp_id
                )
        if item.waiting and item.remove_waiting is None:
            item.remove_waiting = item.charger.add_listener(lambda: check_waiting(item))

    @callback
    def check_waiting(item: _Tracked, at_once: bool = False) -> None:
        """Add the waiting entities that are needed now; `at_once` (a person
        changed the loadpoint's settings) hands them to HA before returning, so
        the next step of the script or automation that chose plan mode finds
        them."""
        ready = [e for e in item.waiting if e.reported()]
        if not ready:
            return
        item.waiting = [e for e in item.waiting if e not in ready]
        if at_once:
            async_add_entities(ready)
        else:
            queue.add(ready)
        still = {e.lp_id for e in item.waiting if isinstance(e, LoadpointEntity)}
        for lp_id in [lp for lp in item.settings_followed if lp not in still]:
            item.settings_followed.pop(lp_id)()
        if not item.waiting and item.remove_waiting is not None:
            item.remove_waiting()
            item.remove_waiting = None

    @callback
    def add_loadpoint(item: _Tracked, connector_id: int) -> None:
        if loadpoint_entities is None or connector_id in item.loadpoints:
            return
        item.loadpoints.add(connector_id)
        ensure_devices(item.charger)
        add_when_reported(
            item, list(loadpoint_entities(site, item.charger, connector_id))
        )

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
        add_when_reported(item, [*entities])

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
            queue.drop(item.charger)
        item = tracked[charger_id] = _Tracked(charger)
        ensure_devices(charger)
        item.split = len(charger.connectors) > 1
        if charger_entities is not None:
            add_when_reported(item, [*charger_entities(charger)])
        for connector_id in sorted(charger.connectors):
            add_connector(item, connector_id)
        bound = item
        item.remove_listener = charger.add_connector_listener(
            lambda connector_id: add_connector(bound, connector_id)
        )

    @callback
    def remove_listeners() -> None:
        queue.close()
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
