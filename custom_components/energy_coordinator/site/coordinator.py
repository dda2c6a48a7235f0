"""The site in Home Assistant: one loop decides, for one config entry.

Owns `SiteCoordinator`, the HA adapter around `energy.decide()`: it holds the
owner's settings (`settings.py`), builds the snapshot (`snapshot.py`, reading the
meters through `readings.py`), runs the core off the event loop, hands the
decision to the actuator (`actuation.py`), keeps the repair issues in step
(`repairs.py`), and tells the site's entities what changed: site-wide listeners
after each coordination, per-loadpoint listeners only when that loadpoint's
settings or controllability changed. It also runs the optional built-in loop for
owners who want no automation, and carries out a person's commands on a
coordinated loadpoint (a manual current cap, start and stop) as inputs the
coordinator honours, never fights. Each decision follows the horizon plan's slot
(`plan_targets`, set by the site's `planning.SitePlanner`). What a coordination
and a person's cap return is in `outcomes.py`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, replace
from datetime import datetime, timedelta
from typing import Any

from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.event import async_track_time_interval
from homeassistant.helpers.translation import async_get_translations
from homeassistant.util import dt as dt_util

from ..const import (
    CONF_EV_FALLBACK,
    CONF_GRID_LIMIT,
    CONF_GRID_LIMIT_UNIT,
    CONF_LOOP_INTERVAL,
    CONF_SHARING,
    DOMAIN,
    GRID_LIMIT_UNIT_KILOWATT,
    SIGNAL_NEW_CHARGER,
    TIMING_SETTINGS,
)
from ..csms.commands import ChargingLimit, LimitPurpose, LimitUnit
from ..csms.model import ChargerState, ConnectorState
from ..csms.server import CentralSystem
from ..energy import (
    ChargeMode,
    ControllerSettings,
    ControllerState,
    Decision,
    FallbackPolicy,
    SharingPolicy,
    SiteSnapshot,
    SlotTargets,
    decide,
)
from .actuation import Actuator, CarryOut, LoadpointRuntime
from .commands import ChargerCommands
from .outcomes import CoordinationResult, CycleClock, ManualCap
from .readings import SOURCE_KEYS, SourceReader, number
from .repairs import SiteRepairs
from .settings import (
    CONTROLLER_SAVE_DELAY_S,
    SETTINGS_SAVE_DELAY_S,
    BatteryCommand,
    LoadpointSettings,
    SiteSettingsStore,
)
from .snapshot import Loadpoint, SnapshotBuilder

_LOGGER = logging.getLogger(__name__)

#: The measured sources; their labels in repairs are the (translated) field names of
#: the config flow's Measurements step, with these English words as a fallback.
SOURCE_LABELS = {
    "pv_power_entity": "PV power",
    "pv_energy_entity": "Solar energy meter",
    "grid_power_entity": "Grid power",
    "battery_soc_entity": "Home battery state of charge",
    "battery_power_entity": "Home battery power",
    "house_power_entity": "House consumption",
    "grid_current_l1_entity": "Grid current L1",
    "grid_current_l2_entity": "Grid current L2",
    "grid_current_l3_entity": "Grid current L3",
}


class SiteCoordinator:
    """Runs the coordination of one site (one config entry)."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry_id: str,
        options: Mapping[str, Any],
        loads: list[dict[str, Any]],
        system: CentralSystem,
    ) -> None:
        """Bind to the entry's options, flexible loads and central system."""
        self.hass = hass
        self.entry_id = entry_id
        self.options = dict(options)
        self.loads = loads
        self.system = system
        self.loadpoints: dict[str, LoadpointSettings] = {}
        self.last: CoordinationResult | None = None
        self.grid_limit_override: float | None = None
        self.reader = SourceReader(hass, self.options)
        self.actuator = Actuator(hass, self.options, system)
        self.snapshots = SnapshotBuilder(
            hass,
            self.options,
            loads,
            system,
            self.reader,
            self.settings,
            self.actuator.controllable,
            self._grid_limits,
            self.actuator.expected_current_a,
        )
        self._state = ControllerState()
        self._store = SiteSettingsStore(hass, entry_id)
        self._listeners: list[Callable[[], None]] = []
        self._lp_listeners: dict[str, list[Callable[[], None]]] = {}
        self._lock = asyncio.Lock()
        self._unsub_loop: Callable[[], None] | None = None
        self.repairs = SiteRepairs(hass, entry_id)
        self.commands = ChargerCommands(self)
        self._unsub_chargers = async_dispatcher_connect(
            hass, SIGNAL_NEW_CHARGER.format(entry_id), self._charger_added
        )
        self._source_labels = dict(SOURCE_LABELS)
        #: The horizon plan's targets for the slot containing a moment.
        self.plan_targets: Callable[[datetime], SlotTargets | None] = _no_plan

    # Lifecycle ----------------------------------------------------------------

    async def async_load(self) -> None:
        """Restore loadpoint settings, grid limit and controller memory."""
        stored = await self._store.async_load()
        self.loadpoints = stored.loadpoints
        self.grid_limit_override = stored.grid_limit
        self._state = ControllerState.from_dict(stored.controller)
        translations = await async_get_translations(
            self.hass, self.hass.config.language, "config", [DOMAIN]
        )
        prefix = f"component.{DOMAIN}.config.step.sources.data."
        for key in SOURCE_LABELS:
            if label := translations.get(prefix + key):
                self._source_labels[key] = label

    @callback
    def async_start_loop(self) -> Callable[[], None] | None:
        """Run the coordination every `loop_interval` seconds when configured."""
        interval = int(self.options.get(CONF_LOOP_INTERVAL) or 0)
        if interval <= 0:
            return None

        async def tick(now: datetime) -> None:
            if self._lock.locked():
                return  # the last run is still going: skip, do not queue
            try:
                await self.async_coordinate()
            except HomeAssistantError as err:
                _LOGGER.warning("Coordination failed: %s", err)

        self._unsub_loop = async_track_time_interval(
            self.hass, tick, timedelta(seconds=interval), name=f"{DOMAIN} loop"
        )
        return self._unsub_loop

    def _saved(self) -> tuple[dict[str, LoadpointSettings], float | None, Any]:
        return self.loadpoints, self.grid_limit_override, self._state.to_dict()

    @callback
    def _schedule_save(self, delay: float = SETTINGS_SAVE_DELAY_S) -> None:
        self._store.schedule_save(self._saved, delay)

    async def async_save(self) -> None:
        """Write the settings now."""
        await self._store.async_save(*self._saved())

    @callback
    def _charger_added(self, charger_id: str) -> None:
        self.snapshots.chargers_changed()

    async def async_shutdown(self) -> None:
        """Stop the loop and write the settings now (a reload may follow at once)."""
        self._unsub_chargers()
        if self._unsub_loop is not None:
            self._unsub_loop()
            self._unsub_loop = None
        self.snapshots.close()
        await self.async_save()

    # Listeners (the site entities) ---------------------------------------------

    @callback
    def add_listener(
        self, listener: Callable[[], None], lp_id: str | None = None
    ) -> Callable[[], None]:
        """Call `listener` after every coordination or site settings change.

        With `lp_id`: only when that loadpoint's settings or controllability
        change.
        """
        listeners = (
            self._listeners
            if lp_id is None
            else self._lp_listeners.setdefault(lp_id, [])
        )
        listeners.append(listener)

        def remove() -> None:
            if listener in listeners:
                listeners.remove(listener)

        return remove

    @callback
    def _notify(self, lp_ids: set[str] | None = None, site: bool = True) -> None:
        """Wake the site's entities (`site`) and those of `lp_ids`."""
        if site:
            for listener in list(self._listeners):
                listener()
        for lp_id in lp_ids or ():
            for listener in list(self._lp_listeners.get(lp_id, ())):
                listener()

    # Loadpoints ---------------------------------------------------------------

    @property
    def coordinates_evs(self) -> bool:
        """Whether the chargers' connectors are loadpoints (EV devices)."""
        return self.snapshots.coordinates_evs

    def loadpoint_connectors(self) -> list[Loadpoint]:
        """Every loadpoint: (id, charger, connector), sorted by id."""
        return self.snapshots.loadpoints()

    def is_loadpoint(self, charger_id: str, connector_id: int) -> bool:
        """Whether the site coordinates this charger connector."""
        return (
            self.coordinates_evs
            and connector_id > 0
            and self.system.is_approved(charger_id)
            and connector_id in self.system.chargers[charger_id].connectors
        )

    def settings(self, lp_id: str) -> LoadpointSettings:
        """The settings of a loadpoint (defaults when new)."""
        settings = self.loadpoints.get(lp_id)
        if settings is None:
            settings = self.loadpoints[lp_id] = LoadpointSettings()
        return settings

    def plans_for(self, lp_id: str) -> bool:
        """Whether the loadpoint charges to a target (plan mode or a target time)."""
        settings = self.settings(lp_id)
        return settings.mode == ChargeMode.PLAN or bool(settings.target_time)

    def knows_soc(self, lp_id: str, conn: ConnectorState) -> bool:
        """Whether the vehicle's SoC can be known: its charger reports it, or the
        owner named an entity for it."""
        return (
            conn.meter.soc_percent is not None
            or self.settings(lp_id).vehicle_soc_entity is not None
        )

    def soc_matters(self, lp_id: str, conn: ConnectorState) -> bool:
        """Whether the loadpoint's SoC entities are of use: it charges to a
        target, or its vehicle's SoC can be known."""
        return self.plans_for(lp_id) or self.knows_soc(lp_id, conn)

    @property
    def runtime(self) -> dict[str, LoadpointRuntime]:
        """What the actuator remembers per loadpoint."""
        return self.actuator.runtime

    @callback
    def update_settings(self, lp_id: str, **changes: Any) -> None:
        """Change a loadpoint's settings (stored), e.g. `mode="now"`."""
        self.loadpoints[lp_id] = replace(self.settings(lp_id), **changes)
        self.snapshots.invalidate(lp_id)
        self._schedule_save()
        # Only this loadpoint's entities show its settings: a thousand changes
        # (one select_option call for a garage) wake nothing else.
        self._notify({lp_id}, site=False)

    @property
    def battery_command(self) -> BatteryCommand:
        """The battery command in force."""
        return self.actuator.battery_command

    @callback
    def set_battery_command(self, command: BatteryCommand) -> None:
        """Publish a battery command chosen by the owner (until the next run)."""
        self.actuator.battery_command = command
        self._notify()

    @callback
    def set_grid_limit(self, value: float) -> None:
        """Override the configured grid limit (same unit), stored."""
        self.grid_limit_override = value
        self._schedule_save()
        self._notify()

    @property
    def grid_limit(self) -> float | None:
        """The grid import limit in force, in the configured unit."""
        if self.grid_limit_override is not None:
            return self.grid_limit_override
        value = self.options.get(CONF_GRID_LIMIT)
        return float(value) if value else None

    @property
    def grid_limit_unit(self) -> str:
        """A (per phase) or kW (total), from the stored option key."""
        if self.options.get(CONF_GRID_LIMIT_UNIT) == GRID_LIMIT_UNIT_KILOWATT:
            return "kW"
        return "A"

    def _grid_limits(self) -> tuple[float | None, float | None]:
        limit, unit = self.grid_limit, self.grid_limit_unit
        return (limit if unit == "A" else None, limit if unit == "kW" else None)

    @property
    def voltage_v(self) -> float:
        """The site's nominal phase voltage."""
        return self.snapshots.voltage_v

    # Readings for the site's sensors ----------------------------------------------

    def ev_power_w(self) -> float:
        """What the loadpoints of online chargers draw now, in W (as the core
        counts them: a charger just cut is counted at no more than its limit)."""
        return sum(
            lp.charging_power_w or 0.0
            for lp in self.snapshots.loadpoint_snapshots(dt_util.utcnow(), {})
            if lp.online
        )

    # Coordination -------------------------------------------------------------

    def snapshot(
        self, now: datetime, overrides: Mapping[str, Any] | None = None
    ) -> SiteSnapshot:
        """The site as HA sees it now, with the action's overrides applied."""
        return self.snapshots.site(now, overrides)

    def controller_settings(self) -> ControllerSettings:
        """Tuning from the entry options (delays unset: the core's defaults)."""
        delays: dict[str, Any] = {
            field: float(value)
            for key, field in TIMING_SETTINGS.items()
            if isinstance(value := self.options.get(key), int | float)
        }
        return ControllerSettings(
            fallback=FallbackPolicy(self.options.get(CONF_EV_FALLBACK) or "pause"),
            sharing=SharingPolicy(self.options.get(CONF_SHARING) or "fair"),
            **delays,
        )

    async def _decide(self, snapshot: SiteSnapshot, now: datetime) -> Decision:
        """The core's decision, computed off the event loop (it is pure).

        Every few dozen loadpoints the worker sleeps for a moment: the GIL goes
        to the event loop, which serves the chargers' frames meanwhile instead of
        waiting out the interpreter's switch interval for each of them.
        """
        return await self.hass.async_add_executor_job(
            decide,
            snapshot,
            self._state,
            now.timestamp(),
            self.controller_settings(),
            self.plan_targets(now),
            _give_way,
        )

    async def async_coordinate(
        self, overrides: Mapping[str, Any] | None = None, dry_run: bool = False
    ) -> CoordinationResult:
        """Decide and, unless `dry_run`, carry the decision out."""
        async with self._lock:
            clock = CycleClock()
            now = dt_util.utcnow()
            self._prepare_loadpoints(now)
            self._update_repairs()
            snapshot = self.snapshot(now, overrides)
            clock.lap("snapshot")
            decision = await self._decide(snapshot, now)
            clock.lap("decide (executor)", on_loop=False)
            result = CoordinationResult(at=now, decision=decision, dry_run=dry_run)
            if dry_run:
                return result
            self._state = decision.new_state
            done = CarryOut(result.executed, result.errors, result.pending)
            await self.actuator.apply_vehicles(decision.actions.vehicles, now, done)
            await self.actuator.apply_battery(decision, done)
            await self.actuator.apply_loads(decision, done)
            clock.lap("carry out (incl. waiting for answers)", on_loop=False)
            previous = self.last
            if previous is None or previous.decision.actions != decision.actions:
                result.changed_at = now
            else:
                result.changed_at = previous.changed_at
            self.last = result
            self._schedule_save(CONTROLLER_SAVE_DELAY_S)
            changed = set(self.actuator.changed)
            self.actuator.changed.clear()
            for lp_id in changed | self.actuator.sent:
                self.snapshots.invalidate(lp_id)
            self.actuator.sent.clear()
            self._update_charger_repairs()
            self._notify(changed)
            clock.lap("notify")
            _LOGGER.debug(
                "Coordinated %d loadpoints in %.1f ms (%.1f ms on the event loop: "
                "%s): %d commands, %d pending",
                len(decision.actions.vehicles),
                clock.total_ms,
                clock.loop_ms,
                clock.laps(),
                len(result.executed),
                len(result.pending),
            )
            return result

    def _prepare_loadpoints(self, now: datetime) -> None:
        """Note reconnects and reboots (retries are due at once after them)."""
        for lp_id, charger, _ in self.loadpoint_connectors():
            self.actuator.observe(lp_id, charger, now)

    def status(self) -> dict[str, Any]:
        """The site as it is now (no decision is made or carried out)."""
        now = dt_util.utcnow()
        decision = decide(
            self.snapshot(now),
            self._state,
            now.timestamp(),
            self.controller_settings(),
            self.plan_targets(now),
        )
        data: dict[str, Any] = {"status": decision.status.as_dict()}
        uncontrollable = self.actuator.uncontrollable()
        data["loadpoints"] = {
            lp_id: {
                **asdict(self.settings(lp_id)),
                "charger_id": charger.charger_id,
                "connector_id": conn.connector_id,
                "online": charger.online,
                "plugged": conn.plugged,
                "controllable": lp_id not in uncontrollable,
                "charging_power_kw": round((conn.meter.power_w or 0.0) / 1000, 3),
                "current_limit_a": conn.current_limit_a,
                "session_energy_kwh": round(conn.last_session_energy_wh / 1000, 3),
            }
            for lp_id, charger, conn in self.loadpoint_connectors()
        }
        data["battery_command"] = asdict(self.battery_command)
        data["last_decision"] = self.last.as_dict() if self.last else None
        return data

    # A person's commands on a coordinated loadpoint ----------------------------

    async def async_set_manual_cap(
        self,
        lp_id: str,
        conn: ConnectorState,
        value: float,
        unit: LimitUnit,
        phases: int | None,
        duration_s: int | None,
    ) -> ManualCap:
        """Make a person's limit the loadpoint's cap; lower the charger at once."""
        now = dt_util.utcnow()
        if unit == LimitUnit.WATT:
            used = phases or conn.limit_phases or 3
            cap_a = value / (self.voltage_v * used)
        else:
            cap_a = value
        cap_a = round(max(0.0, cap_a), 1)
        until = now + timedelta(seconds=duration_s) if duration_s else None
        self.update_settings(
            lp_id,
            manual_cap_a=cap_a,
            manual_cap_until=until.isoformat() if until else None,
        )
        applied = conn.current_limit_a
        if applied is None or applied > cap_a:
            await self.actuator.send_now(
                lp_id,
                ChargingLimit(
                    value=cap_a if cap_a >= self.settings(lp_id).min_current_a else 0,
                    unit=LimitUnit.AMPERE,
                    connector_id=conn.connector_id,
                    phases=phases or conn.limit_phases,
                    purpose=LimitPurpose.TX_DEFAULT,
                ),
            )
        return ManualCap(lp_id, cap_a, until)

    @callback
    def clear_manual_cap(self, lp_id: str) -> None:
        """Remove a person's cap: the coordinator decides alone again."""
        self.update_settings(lp_id, manual_cap_a=None, manual_cap_until=None)

    # Repairs ------------------------------------------------------------------

    @callback
    def _update_repairs(self) -> None:
        missing: dict[str, tuple[str, str]] = {}
        for key in SOURCE_KEYS:
            entity_id = self.reader.entity_id(key)
            if entity_id and number(self.reader.state(key)) is None:
                missing[key] = (entity_id, self._source_labels.get(key, key))
        self.repairs.sources(missing)

    @callback
    def _update_charger_repairs(self) -> None:
        refusing: dict[str, str] = {}
        for lp_id in self.actuator.uncontrollable():
            charger_id = lp_id.rpartition("/")[0]
            charger = self.system.chargers.get(charger_id)
            refusing[charger_id] = _charger_name(charger, charger_id)
        self.repairs.chargers(refusing)


def _no_plan(now: datetime) -> SlotTargets | None:
    return None


#: How long the decision's worker steps aside at each checkpoint (a real sleep:
#: `sleep(0)` may take the GIL straight back).
GIVE_WAY_S = 0.0002


def _give_way() -> None:
    time.sleep(GIVE_WAY_S)


def _charger_name(charger: ChargerState | None, charger_id: str) -> str:
    if charger is None:
        return charger_id
    model = " ".join(p for p in (charger.info.vendor, charger.info.model) if p)
    return f"{charger_id} ({model})" if model else charger_id
