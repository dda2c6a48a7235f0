"""The site in Home Assistant: snapshots in, actions out, for the coordination core.

Owns `SiteCoordinator`, the HA adapter around `energy.decide()`:

- the owner's loadpoint settings (charge mode, currents, phases, SoC targets, vehicle
  capacity) and the battery command, stored durably with HA's `Store`;
- building one `SiteSnapshot` from the configured source entities, the chargers'
  states and the flexible-load subentries (with measurement overrides for the
  `coordinate` action), normalising units (W/kW) and the battery sign convention;
- running the controller and carrying out its decision: charging profiles through
  the central system (verified against the charger's offered or measured current,
  falling back to another profile purpose when a charger ignores one), the battery
  command entities and script, and the flexible-load switches;
- repair issues naming a configured source entity that is missing or unavailable;
- the optional built-in loop for owners who want no automation.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from homeassistant.const import (
    ATTR_ENTITY_ID,
    ATTR_UNIT_OF_MEASUREMENT,
    SERVICE_TURN_OFF,
    SERVICE_TURN_ON,
    STATE_ON,
    UnitOfPower,
)
from homeassistant.core import HomeAssistant, State, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.event import async_track_time_interval
from homeassistant.helpers.storage import Store
from homeassistant.helpers.translation import async_get_translations
from homeassistant.util import dt as dt_util

from .const import (
    BATTERY_SIGN_DISCHARGING_POSITIVE,
    CONF_BATTERY_BUFFER_SOC,
    CONF_BATTERY_CAPACITY,
    CONF_BATTERY_MAX_CHARGE,
    CONF_BATTERY_MAX_DISCHARGE,
    CONF_BATTERY_PHASES,
    CONF_BATTERY_POWER,
    CONF_BATTERY_POWER_SIGN,
    CONF_BATTERY_PRIORITY_SOC,
    CONF_BATTERY_SCRIPT,
    CONF_BATTERY_SOC,
    CONF_EV_FALLBACK,
    CONF_GRID_CURRENTS,
    CONF_GRID_LIMIT,
    CONF_GRID_LIMIT_UNIT,
    CONF_GRID_POWER,
    CONF_HOUSE_POWER,
    CONF_LOAD_ENTITY,
    CONF_LOAD_POWER,
    CONF_LOAD_PRIORITY,
    CONF_LOOP_INTERVAL,
    CONF_PV_PHASES,
    CONF_PV_POWER,
    CONF_SHARING,
    CONF_SITE_PHASES,
    CONF_SITE_VOLTAGE,
    DEFAULT_BATTERY_BUFFER_SOC,
    DEFAULT_BATTERY_PRIORITY_SOC,
    DEFAULT_SITE_PHASES,
    DEFAULT_SITE_VOLTAGE,
    DOMAIN,
    GRID_LIMIT_UNIT_KILOWATT,
)
from .csms.commands import ChargingLimit, CommandError, LimitPurpose, LimitUnit
from .csms.model import ChargerState, ConnectorState
from .csms.server import CentralSystem
from .energy import (
    BatterySnapshot,
    ChargeMode,
    ControllerSettings,
    ControllerState,
    Decision,
    FallbackPolicy,
    FlexibleLoadSnapshot,
    LoadpointAction,
    LoadpointSnapshot,
    PhaseSetting,
    SharingPolicy,
    SiteSnapshot,
    decide,
)

_LOGGER = logging.getLogger(__name__)

STORAGE_VERSION = 1
#: A source whose non-zero state has not been reported for this long is stale. A
#: reading of 0 is exempt: PV at night, or an idle battery, legitimately stays at 0
#: for hours and integrations that write only on change never re-report it.
STALE_AFTER = timedelta(minutes=15)
#: Measured or offered current this far above the limit means "not applied".
LIMIT_TOLERANCE_A = 1.5
#: Coordination runs a charger may ignore a profile before we try another purpose.
#: Only a run that sees a meter reading newer than the last one judged counts, so
#: a charger that reports less often than we coordinate is not misjudged.
IGNORED_RUNS_BEFORE_FALLBACK = 2

#: The measured sources; their labels in repairs are the (translated) field names of
#: the config flow's Measurements step, with these English words as a fallback.
SOURCE_LABELS = {
    CONF_PV_POWER: "PV power",
    CONF_GRID_POWER: "Grid power",
    CONF_BATTERY_SOC: "Home battery state of charge",
    CONF_BATTERY_POWER: "Home battery power",
    CONF_HOUSE_POWER: "House consumption",
    CONF_GRID_CURRENTS[0]: "Grid current L1",
    CONF_GRID_CURRENTS[1]: "Grid current L2",
    CONF_GRID_CURRENTS[2]: "Grid current L3",
}

#: Profile purposes tried in turn when a charger ignores one.
PURPOSE_ORDER = (
    LimitPurpose.TX_DEFAULT,
    LimitPurpose.TX,
    LimitPurpose.CHARGE_POINT_MAX,
)


def loadpoint_id(charger_id: str, connector_id: int) -> str:
    """The id of the loadpoint of one charger connector."""
    return f"{charger_id}/{connector_id}"


@dataclass
class LoadpointSettings:
    """The owner's choices for one loadpoint (stored)."""

    mode: str = ChargeMode.PV.value
    min_current_a: float = 6.0
    max_current_a: float = 16.0
    phases: str = PhaseSetting.AUTO.value
    min_soc_pct: float | None = None
    target_soc_pct: float | None = 80.0
    target_time: str | None = None  # ISO 8601
    vehicle_capacity_kwh: float = 60.0
    vehicle_soc_entity: str | None = None
    priority: int = 0

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LoadpointSettings:
        """Rebuild from storage, ignoring unknown keys."""
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)


@dataclass
class LoadpointRuntime:
    """What the adapter remembers about applying limits to one loadpoint."""

    purpose: LimitPurpose = LimitPurpose.TX_DEFAULT
    applied_a: float | None = None
    applied_phases: int | None = None
    ignored_runs: int = 0
    last_error: str | None = None
    judged_reading: int | None = None  # MeterReading.updates last judged


@dataclass
class BatteryCommand:
    """The battery command last decided (published as entities)."""

    mode: str = "auto"
    power_w: float = 0.0


@dataclass
class CoordinationResult:
    """The last coordination: when, the decision, and what was carried out."""

    at: datetime
    decision: Decision
    dry_run: bool
    executed: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """The response of the `coordinate` action."""
        data = self.decision.as_dict()
        data["time"] = self.at.isoformat()
        data["dry_run"] = self.dry_run
        data["executed"] = list(self.executed)
        data["errors"] = list(self.errors)
        return data


def _power_w(state: State | None) -> float | None:
    """A power sensor's value in W (kW converted), None when unusable."""
    value = _number(state)
    if value is None or state is None:
        return None
    if state.attributes.get(ATTR_UNIT_OF_MEASUREMENT) == UnitOfPower.KILO_WATT:
        return value * 1000.0
    return value


def _number(state: State | None) -> float | None:
    if state is None:
        return None
    try:
        value = float(state.state)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def site_store(hass: HomeAssistant, entry_id: str) -> Store[dict[str, Any]]:
    """The stored loadpoint settings, battery command and controller memory."""
    return Store(hass, STORAGE_VERSION, f"{DOMAIN}.{entry_id}.site")


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
        self.runtime: dict[str, LoadpointRuntime] = {}
        self.battery_command = BatteryCommand()
        # The battery's real mode is unknown until the first command reaches it.
        self._battery_sent = False
        self.last: CoordinationResult | None = None
        self.grid_limit_override: float | None = None
        self._state = ControllerState()
        self._store = site_store(hass, entry_id)
        self._listeners: list[Callable[[], None]] = []
        self._lock = asyncio.Lock()
        self._unsub_loop: Callable[[], None] | None = None
        self._issues: set[str] = set()
        self._source_labels = dict(SOURCE_LABELS)

    # Lifecycle ----------------------------------------------------------------

    async def async_load(self) -> None:
        """Restore loadpoint settings, battery command and controller memory."""
        data = await self._store.async_load() or {}
        for lp_id, raw in (data.get("loadpoints") or {}).items():
            if isinstance(raw, Mapping):
                self.loadpoints[lp_id] = LoadpointSettings.from_dict(raw)
        grid_limit = data.get("grid_limit")
        if isinstance(grid_limit, int | float):
            self.grid_limit_override = float(grid_limit)
        self._state = ControllerState.from_dict(data.get("controller"))
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
            try:
                await self.async_coordinate()
            except HomeAssistantError as err:
                _LOGGER.warning("Coordination failed: %s", err)

        self._unsub_loop = async_track_time_interval(
            self.hass, tick, timedelta(seconds=interval), name=f"{DOMAIN} loop"
        )
        return self._unsub_loop

    @callback
    def _schedule_save(self) -> None:
        self._store.async_delay_save(self._data_to_save, 5)

    @callback
    def _data_to_save(self) -> dict[str, Any]:
        return {
            "loadpoints": {k: asdict(v) for k, v in self.loadpoints.items()},
            "grid_limit": self.grid_limit_override,
            "controller": self._state.to_dict(),
        }

    # Listeners (the site entities) ---------------------------------------------

    @callback
    def add_listener(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call `listener` after every coordination or settings change."""
        self._listeners.append(listener)

        def remove() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return remove

    @callback
    def _notify(self) -> None:
        for listener in list(self._listeners):
            listener()

    # Loadpoints ---------------------------------------------------------------

    @property
    def coordinates_evs(self) -> bool:
        """Whether the chargers' connectors are loadpoints (EV devices).

        Only a site that measures its grid or PV power can steer EVs; without either,
        the chargers stay plain chargers, controlled by hand.
        """
        return bool(
            self.options.get(CONF_GRID_POWER) or self.options.get(CONF_PV_POWER)
        )

    def loadpoint_connectors(self) -> list[tuple[str, ChargerState, ConnectorState]]:
        """Every loadpoint: (id, charger, connector), sorted by id."""
        if not self.coordinates_evs:
            return []
        result = []
        for charger_id, charger in sorted(self.system.chargers.items()):
            if not self.system.is_approved(charger_id):
                continue
            for connector_id, conn in sorted(charger.connectors.items()):
                if connector_id > 0:
                    result.append(
                        (loadpoint_id(charger_id, connector_id), charger, conn)
                    )
        return result

    def settings(self, lp_id: str) -> LoadpointSettings:
        """The settings of a loadpoint (defaults when new)."""
        settings = self.loadpoints.get(lp_id)
        if settings is None:
            settings = self.loadpoints[lp_id] = LoadpointSettings()
        return settings

    @callback
    def update_settings(self, lp_id: str, **changes: Any) -> None:
        """Change a loadpoint's settings (stored), e.g. `mode="now"`."""
        settings = self.settings(lp_id)
        self.loadpoints[lp_id] = replace(settings, **changes)
        self._schedule_save()
        self._notify()

    @callback
    def set_battery_command(self, command: BatteryCommand) -> None:
        """Publish a battery command chosen by the owner (until the next run)."""
        self.battery_command = command
        self._notify()

    @callback
    def set_grid_limit(self, value: float) -> None:
        """Override the configured grid limit (same unit), stored."""
        self.grid_limit_override = value
        self._schedule_save()
        self._notify()

    # Snapshot -----------------------------------------------------------------

    def _source(self, key: str) -> State | None:
        entity_id = self.options.get(key)
        return self.hass.states.get(entity_id) if entity_id else None

    def _stale(self, state: State | None, now: datetime) -> bool:
        if state is None or _number(state) in (None, 0.0):
            return False
        return now - state.last_reported > STALE_AFTER

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

    def _battery_power(self) -> float | None:
        value = _power_w(self._source(CONF_BATTERY_POWER))
        if value is not None and (
            self.options.get(CONF_BATTERY_POWER_SIGN)
            == BATTERY_SIGN_DISCHARGING_POSITIVE
        ):
            value = -value
        return value

    def _vehicle_soc(
        self, settings: LoadpointSettings, conn: ConnectorState
    ) -> float | None:
        if settings.vehicle_soc_entity:
            value = _number(self.hass.states.get(settings.vehicle_soc_entity))
            if value is not None:
                return value
        return conn.meter.soc_percent

    def snapshot(
        self, now: datetime, overrides: Mapping[str, Any] | None = None
    ) -> SiteSnapshot:
        """The site as HA sees it now, with the action's overrides applied."""
        overrides = overrides or {}
        stale: set[str] = set()
        states = {key: self._source(key) for key in SOURCE_LABELS}
        for key, state in states.items():
            if self._stale(state, now):
                stale.add(key.removesuffix("_entity"))
        pv = _power_w(states[CONF_PV_POWER])
        grid = _power_w(states[CONF_GRID_POWER])
        house = _power_w(states[CONF_HOUSE_POWER])
        soc = _number(states[CONF_BATTERY_SOC])
        battery_w = self._battery_power()

        capacity = self.options.get(CONF_BATTERY_CAPACITY)
        solar = overrides.get("solar") or {}
        load = overrides.get("load") or {}
        battery_o = overrides.get("battery") or {}
        grid_o = overrides.get("grid") or {}
        if "production_kw" in solar:
            pv = float(solar["production_kw"]) * 1000
        if "critical_load_kw" in load or "flexible_load_kw" in load:
            house = 1000 * (
                float(load.get("critical_load_kw", 0.0))
                + float(load.get("flexible_load_kw", 0.0))
            )
        if "state_of_charge_kwh" in battery_o and capacity:
            soc = 100 * float(battery_o["state_of_charge_kwh"]) / float(capacity)
        if "state_of_charge_pct" in battery_o:
            soc = float(battery_o["state_of_charge_pct"])
        if "power_kw" in battery_o:
            battery_w = float(battery_o["power_kw"]) * 1000
        if "power_kw" in grid_o:
            grid = float(grid_o["power_kw"]) * 1000

        loadpoints = self._loadpoint_snapshots(overrides)
        if (solar or load or battery_o) and "power_kw" not in grid_o:
            # The measured grid power no longer matches: derive it.
            ev_w = sum(lp.charging_power_w or 0.0 for lp in loadpoints)
            if pv is not None and house is not None:
                grid = house + ev_w + (battery_w or 0.0) - pv

        has_battery = bool(
            self.options.get(CONF_BATTERY_SOC) or self.options.get(CONF_BATTERY_POWER)
        ) or bool(battery_o)
        battery = None
        if has_battery:
            battery = BatterySnapshot(
                soc_pct=soc,
                power_w=battery_w,
                capacity_kwh=float(capacity) if capacity else None,
                max_charge_w=_opt_float(self.options.get(CONF_BATTERY_MAX_CHARGE)),
                max_discharge_w=_opt_float(
                    self.options.get(CONF_BATTERY_MAX_DISCHARGE)
                ),
                priority_soc_pct=float(
                    self.options.get(
                        CONF_BATTERY_PRIORITY_SOC, DEFAULT_BATTERY_PRIORITY_SOC
                    )
                ),
                buffer_soc_pct=float(
                    self.options.get(
                        CONF_BATTERY_BUFFER_SOC, DEFAULT_BATTERY_BUFFER_SOC
                    )
                ),
                phases=int(self.options.get(CONF_BATTERY_PHASES) or 1),
                stale=frozenset(
                    {"soc"} & {s.removeprefix("battery_") for s in stale}
                    | ({"power"} if "battery_power" in stale else set())
                ),
            )
        limit = self.grid_limit
        unit = self.grid_limit_unit
        phases = int(self.options.get(CONF_SITE_PHASES) or DEFAULT_SITE_PHASES)
        # Per-line currents count only when there is one per line of the site.
        lines = [states[key] for key in CONF_GRID_CURRENTS if self.options.get(key)]
        phase_currents = None
        if len(lines) == (3 if phases >= 2 else 1):
            phase_currents = tuple(
                value if (value := _number(state)) is not None else math.nan
                for state in lines
            )
            if any(self._stale(state, now) for state in lines):
                stale.add("grid_phase_currents")
        return SiteSnapshot(
            pv_power_w=pv,
            grid_power_w=grid,
            house_power_w=house,
            battery=battery,
            loadpoints=tuple(loadpoints),
            loads=tuple(self._load_snapshots()),
            phases=phases,
            pv_phases=int(self.options.get(CONF_PV_PHASES) or 1),
            grid_phase_currents_a=phase_currents,
            voltage_v=float(
                self.options.get(CONF_SITE_VOLTAGE) or DEFAULT_SITE_VOLTAGE
            ),
            grid_limit_a=limit if unit == "A" else None,
            grid_limit_kw=limit if unit == "kW" else None,
            stale=frozenset(
                {"pv_power", "grid_power", "house_power", "grid_phase_currents"}
                & {s.removesuffix("_entity") for s in stale}
            ),
        )

    def _loadpoint_snapshots(
        self, overrides: Mapping[str, Any]
    ) -> list[LoadpointSnapshot]:
        vehicle_o = overrides.get("vehicle") or {}
        per_lp = overrides.get("vehicles") or {}
        result = []
        for index, (lp_id, charger, conn) in enumerate(self.loadpoint_connectors()):
            settings = self.settings(lp_id)
            o = dict(vehicle_o) if index == 0 else {}
            o |= per_lp.get(lp_id) or {}
            connected: bool | None = conn.plugged if charger.online else None
            if "connected" in o:
                connected = bool(o["connected"])
            soc = self._vehicle_soc(settings, conn)
            if "state_of_charge_kwh" in o and settings.vehicle_capacity_kwh:
                soc = (
                    100
                    * float(o["state_of_charge_kwh"])
                    / settings.vehicle_capacity_kwh
                )
            if "state_of_charge_pct" in o:
                soc = float(o["state_of_charge_pct"])
            power = conn.meter.power_w if conn.transaction is not None else 0.0
            if "charging_power_kw" in o:
                power = float(o["charging_power_kw"]) * 1000
            active = [p for p, a in conn.meter.current_phases_a.items() if a > 1.0]
            result.append(
                LoadpointSnapshot(
                    id=lp_id,
                    mode=ChargeMode(str(o.get("mode", settings.mode))),
                    min_current_a=settings.min_current_a,
                    max_current_a=settings.max_current_a,
                    phases_setting=PhaseSetting(settings.phases),
                    active_phases=len(active) or conn.limit_phases,
                    connected=connected,
                    online=charger.online or "connected" in o,
                    charging_power_w=power,
                    current_a=conn.current_limit_a,
                    min_soc_pct=settings.min_soc_pct,
                    target_soc_pct=settings.target_soc_pct,
                    target_time=(
                        dt_util.parse_datetime(settings.target_time)
                        if settings.target_time
                        else None
                    ),
                    vehicle_soc_pct=soc,
                    vehicle_capacity_kwh=settings.vehicle_capacity_kwh,
                    session_energy_kwh=conn.last_session_energy_wh / 1000,
                    priority=settings.priority,
                )
            )
        return result

    def _load_snapshots(self) -> list[FlexibleLoadSnapshot]:
        result = []
        for load in self.loads:
            entity_id = load[CONF_LOAD_ENTITY]
            state = self.hass.states.get(entity_id)
            result.append(
                FlexibleLoadSnapshot(
                    id=entity_id,
                    power_w=float(load[CONF_LOAD_POWER]),
                    priority=int(load.get(CONF_LOAD_PRIORITY, 0)),
                    is_on=None if state is None else state.state == STATE_ON,
                )
            )
        return result

    def controller_settings(self) -> ControllerSettings:
        """Tuning from the entry options."""
        return ControllerSettings(
            fallback=FallbackPolicy(self.options.get(CONF_EV_FALLBACK) or "pause"),
            sharing=SharingPolicy(self.options.get(CONF_SHARING) or "fair"),
        )

    # Coordination -------------------------------------------------------------

    async def async_coordinate(
        self, overrides: Mapping[str, Any] | None = None, dry_run: bool = False
    ) -> CoordinationResult:
        """Decide and, unless `dry_run`, carry the decision out."""
        async with self._lock:
            now = dt_util.utcnow()
            self._update_repairs()
            snapshot = self.snapshot(now, overrides)
            decision = decide(
                snapshot, self._state, now.timestamp(), self.controller_settings()
            )
            result = CoordinationResult(at=now, decision=decision, dry_run=dry_run)
            if dry_run:
                return result
            self._state = decision.new_state
            await self._carry_out(decision, result)
            self.last = result
            self._schedule_save()
            self._notify()
            return result

    def status(self) -> dict[str, Any]:
        """The site as it is now (no decision is made or carried out)."""
        now = dt_util.utcnow()
        decision = decide(
            self.snapshot(now), self._state, now.timestamp(), self.controller_settings()
        )
        data: dict[str, Any] = {"status": decision.status.as_dict()}
        data["loadpoints"] = {
            lp_id: {
                **asdict(self.settings(lp_id)),
                "charger_id": charger.charger_id,
                "connector_id": conn.connector_id,
                "online": charger.online,
                "plugged": conn.plugged,
                "charging_power_kw": round((conn.meter.power_w or 0.0) / 1000, 3),
                "current_limit_a": conn.current_limit_a,
                "session_energy_kwh": round(conn.last_session_energy_wh / 1000, 3),
            }
            for lp_id, charger, conn in self.loadpoint_connectors()
        }
        data["battery_command"] = asdict(self.battery_command)
        data["last_decision"] = self.last.as_dict() if self.last else None
        return data

    async def _carry_out(self, decision: Decision, result: CoordinationResult) -> None:
        for lp_id, action in decision.actions.vehicles.items():
            await self._apply_loadpoint(lp_id, action, result)
        battery = decision.actions.battery
        if battery is not None:
            # `auto` carries no setpoint (None): it is sent as 0 W.
            command = BatteryCommand(battery.mode.value, round(battery.power_w or 0.0))
            if command != self.battery_command or not self._battery_sent:
                self.battery_command = command
                self._battery_sent = await self._command_battery(command, result)
        loads = decision.actions.loads
        for entity_id in loads.newly_shed:
            await self._switch(entity_id, SERVICE_TURN_OFF, result)
        for entity_id in loads.restore:
            await self._switch(entity_id, SERVICE_TURN_ON, result)

    async def _apply_loadpoint(
        self, lp_id: str, action: LoadpointAction, result: CoordinationResult
    ) -> None:
        charger_id, _, connector = lp_id.rpartition("/")
        connector_id = int(connector)
        charger = self.system.chargers.get(charger_id)
        link = self.system.links.get(charger_id)
        if charger is None or link is None or not charger.online:
            return
        conn = charger.connector(connector_id)
        runtime = self.runtime.setdefault(lp_id, LoadpointRuntime())
        self._check_applied(lp_id, conn, runtime)
        current = round(action.current_a, 1)
        if (
            runtime.applied_a == current
            and runtime.applied_phases == action.phases
            and conn.current_limit_a == current
        ):
            return
        purpose = runtime.purpose
        if purpose == LimitPurpose.TX and conn.transaction is None:
            purpose = LimitPurpose.TX_DEFAULT
        limit = ChargingLimit(
            value=current,
            unit=LimitUnit.AMPERE,
            connector_id=0
            if purpose == LimitPurpose.CHARGE_POINT_MAX
            else connector_id,
            phases=action.phases,
            purpose=purpose,
        )
        try:
            await link.set_charging_limit(limit)
        except CommandError as err:
            runtime.last_error = str(err)
            result.errors.append(f"{lp_id}: {err}")
            _LOGGER.info("Limit for %s not applied: %s", lp_id, err)
            return
        if purpose == LimitPurpose.CHARGE_POINT_MAX:
            conn.current_limit_a = current
        runtime.applied_a = current
        runtime.applied_phases = action.phases
        runtime.ignored_runs = 0
        runtime.judged_reading = conn.meter.updates
        runtime.last_error = None
        result.executed.append(
            f"{lp_id}: {current} A on {action.phases} phase(s) ({purpose.value})"
        )

    def _check_applied(
        self, lp_id: str, conn: ConnectorState, runtime: LoadpointRuntime
    ) -> None:
        """Does the charger follow our limit? If not, try the next purpose."""
        if runtime.applied_a is None or conn.transaction is None:
            return
        reading = conn.meter.updates
        if reading == runtime.judged_reading:
            return  # nothing reported since the limit was sent or last judged
        runtime.judged_reading = reading
        observed = conn.meter.current_offered_a
        if observed is None:
            observed = conn.meter.current_a
        if observed is None or observed <= runtime.applied_a + LIMIT_TOLERANCE_A:
            runtime.ignored_runs = 0
            return
        runtime.ignored_runs += 1
        if runtime.ignored_runs < IGNORED_RUNS_BEFORE_FALLBACK:
            return
        index = PURPOSE_ORDER.index(runtime.purpose)
        if index + 1 < len(PURPOSE_ORDER):
            runtime.purpose = PURPOSE_ORDER[index + 1]
            _LOGGER.warning(
                "%s draws %.1f A above its %.1f A limit; trying a %s profile",
                lp_id,
                observed,
                runtime.applied_a,
                runtime.purpose.value,
            )
        runtime.applied_a = None  # send again
        runtime.ignored_runs = 0

    async def _command_battery(
        self, command: BatteryCommand, result: CoordinationResult
    ) -> bool:
        """Run the battery script; whether the command reached it."""
        script = self.options.get(CONF_BATTERY_SCRIPT)
        if not script:
            return True
        try:
            await self.hass.services.async_call(
                "script",
                "turn_on",
                {
                    ATTR_ENTITY_ID: script,
                    "variables": {"mode": command.mode, "power_w": command.power_w},
                },
                blocking=True,
            )
        except HomeAssistantError as err:
            result.errors.append(f"battery: {err}")
            return False
        result.executed.append(f"battery: {command.mode} {command.power_w} W")
        return True

    async def _switch(
        self, entity_id: str, service: str, result: CoordinationResult
    ) -> None:
        domain = entity_id.split(".", 1)[0]
        try:
            await self.hass.services.async_call(
                domain, service, {ATTR_ENTITY_ID: entity_id}, blocking=True
            )
        except HomeAssistantError as err:
            result.errors.append(f"{entity_id}: {err}")
            return
        result.executed.append(f"{entity_id}: {service}")

    # Repairs ------------------------------------------------------------------

    @callback
    def _update_repairs(self) -> None:
        for key, label in self._source_labels.items():
            entity_id = self.options.get(key)
            issue_id = f"{self.entry_id}_{key}_unavailable"
            missing = False
            if entity_id:
                state = self.hass.states.get(entity_id)
                missing = state is None or _number(state) is None
            if missing:
                if issue_id not in self._issues:
                    self._issues.add(issue_id)
                    ir.async_create_issue(
                        self.hass,
                        DOMAIN,
                        issue_id,
                        is_fixable=False,
                        severity=ir.IssueSeverity.WARNING,
                        translation_key="source_unavailable",
                        translation_placeholders={
                            "entity_id": str(entity_id),
                            "source": label,
                        },
                    )
            elif issue_id in self._issues:
                self._issues.discard(issue_id)
                ir.async_delete_issue(self.hass, DOMAIN, issue_id)

    async def async_save(self) -> None:
        """Write the settings now."""
        await self._store.async_save(self._data_to_save())

    async def async_shutdown(self) -> None:
        """Stop the loop and write the settings now (a reload may follow at once)."""
        if self._unsub_loop is not None:
            self._unsub_loop()
            self._unsub_loop = None
        await self._store.async_save(self._data_to_save())


def _opt_float(value: Any) -> float | None:
    return float(value) if value not in (None, "") else None
