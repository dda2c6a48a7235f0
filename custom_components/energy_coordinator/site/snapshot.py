"""The site as the coordination core sees it: one `SiteSnapshot` per decision.

Owns `SnapshotBuilder`: the measurements (through `SourceReader`), the site's
configuration (phases, voltage, grid limit, battery), one `LoadpointSnapshot` per
charger connector with the owner's settings, and the flexible-load subentries,
with the `coordinate` action's measurement overrides applied.

Loadpoint snapshots are kept between decisions. A charger's are rebuilt when it
reports something (in its listener, so a garage's thousand reports are spread over
the cycle instead of read in one block when it starts), a loadpoint's when its
settings or controllability change (`invalidate`, rebuilt when next used), and the
few that read the clock or another entity (a manual cap with an end, a vehicle SoC
entity) for every snapshot. A cycle re-reads what changed, not every charger.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from homeassistant.const import STATE_ON
from homeassistant.core import HomeAssistant, callback
from homeassistant.util import dt as dt_util

from ..const import (
    CONF_BATTERY_BUFFER_SOC,
    CONF_BATTERY_CAPACITY,
    CONF_BATTERY_MAX_CHARGE,
    CONF_BATTERY_MAX_DISCHARGE,
    CONF_BATTERY_PHASES,
    CONF_BATTERY_POWER,
    CONF_BATTERY_PRIORITY_SOC,
    CONF_BATTERY_SOC,
    CONF_GRID_CURRENTS,
    CONF_GRID_POWER,
    CONF_HOUSE_POWER,
    CONF_LOAD_ENTITY,
    CONF_LOAD_POWER,
    CONF_LOAD_PRIORITY,
    CONF_PV_PHASES,
    CONF_PV_POWER,
    CONF_SITE_PHASES,
    CONF_SITE_VOLTAGE,
    DEFAULT_BATTERY_BUFFER_SOC,
    DEFAULT_BATTERY_PRIORITY_SOC,
    DEFAULT_SITE_PHASES,
    DEFAULT_SITE_VOLTAGE,
)
from ..csms.model import ChargerState, ConnectorState
from ..csms.server import CentralSystem
from ..energy import (
    BatterySnapshot,
    ChargeMode,
    FlexibleLoadSnapshot,
    LoadpointSnapshot,
    PhaseSetting,
    SiteSnapshot,
)
from .readings import SourceReader, number
from .settings import LoadpointSettings, loadpoint_id

type Loadpoint = tuple[str, ChargerState, ConnectorState]

#: A phase counts as used above this current.
ACTIVE_PHASE_A = 1.0


def _opt_float(value: Any) -> float | None:
    return float(value) if value not in (None, "") else None


class SnapshotBuilder:
    """Builds the snapshot of one site; keeps loadpoint snapshots between calls."""

    def __init__(
        self,
        hass: HomeAssistant,
        options: Mapping[str, Any],
        loads: list[dict[str, Any]],
        system: CentralSystem,
        reader: SourceReader,
        settings: Callable[[str], LoadpointSettings],
        controllable: Callable[[str], bool],
        grid_limit: Callable[[], tuple[float | None, float | None]],
        expected_current_a: Callable[[str, ConnectorState], float | None],
    ) -> None:
        self._hass = hass
        self._grid_limit = grid_limit
        self._options = options
        self._loads = loads
        self._system = system
        self._reader = reader
        self._settings = settings
        self._controllable = controllable
        self._expected_current_a = expected_current_a
        self._cache: dict[str, LoadpointSnapshot] = {}
        # Loadpoints rebuilt for every snapshot (they read the clock or HA state).
        self._volatile: set[str] = set()
        # Every loadpoint's snapshot in order, until one is rebuilt.
        self._ordered: list[LoadpointSnapshot] | None = None
        self._watched: dict[str, tuple[ChargerState, list[Callable[[], None]]]] = {}
        # The loadpoint list, until a charger or connector comes or goes.
        self._list: list[Loadpoint] | None = None
        self._by_charger: dict[str, list[Loadpoint]] = {}
        self._list_key: tuple[int, int] = (-1, -1)
        self._generation = 0

    # Which loadpoints exist ----------------------------------------------------

    @property
    def coordinates_evs(self) -> bool:
        """Whether the chargers' connectors are loadpoints (EV devices).

        Only a site that measures its grid or PV power can steer EVs; without
        either, the chargers stay plain chargers, controlled by hand.
        """
        return self._reader.configured(CONF_GRID_POWER, CONF_PV_POWER)

    @callback
    def chargers_changed(self) -> None:
        """A charger was approved, added or forgotten: list the loadpoints again."""
        self._generation += 1

    def loadpoints(self) -> list[Loadpoint]:
        """Every loadpoint: (id, charger, connector), sorted by id."""
        if not self.coordinates_evs:
            return []
        system = self._system
        key = (len(system.chargers), self._generation)
        if self._list is not None and key == self._list_key:
            return self._list
        result: list[Loadpoint] = []
        for charger_id in sorted(system.chargers):
            if not system.is_approved(charger_id):
                continue
            charger = system.chargers[charger_id]
            self._watch(charger)
            for connector_id in sorted(charger.connectors):
                if connector_id > 0:
                    result.append(
                        (
                            loadpoint_id(charger_id, connector_id),
                            charger,
                            charger.connectors[connector_id],
                        )
                    )
        self._list, self._list_key = result, key
        self._by_charger = {}
        for lp in result:
            self._by_charger.setdefault(lp[1].charger_id, []).append(lp)
        self._ordered = None
        return result

    def _watch(self, charger: ChargerState) -> None:
        watched = self._watched.get(charger.charger_id)
        if watched is not None and watched[0] is charger:
            return
        charger_id = charger.charger_id
        if watched is not None:  # the charger was removed and added again
            for remove in watched[1]:
                remove()
            for lp_id, _, _ in self._by_charger.get(charger_id, ()):
                self._cache.pop(lp_id, None)
        self._watched[charger_id] = (
            charger,
            [
                charger.add_listener(lambda: self._reported(charger_id)),
                charger.add_connector_listener(lambda _: self.chargers_changed()),
            ],
        )

    @callback
    def _reported(self, charger_id: str) -> None:
        """A charger reported: rebuild its loadpoints' snapshots now."""
        now = dt_util.utcnow()
        for lp_id, charger, conn in self._by_charger.get(charger_id, ()):
            if lp_id in self._cache:
                self._build(lp_id, charger, conn, now)

    @callback
    def invalidate(self, lp_id: str | None = None) -> None:
        """Rebuild one loadpoint's snapshot (all, without an id) next time."""
        if lp_id is None:
            self._cache.clear()
        else:
            self._cache.pop(lp_id, None)
        self._ordered = None

    @callback
    def close(self) -> None:
        """Stop following the chargers."""
        for _, removers in self._watched.values():
            for remove in removers:
                remove()
        self._watched.clear()
        self._cache.clear()

    # Snapshot -----------------------------------------------------------------

    def site(
        self, now: datetime, overrides: Mapping[str, Any] | None = None
    ) -> SiteSnapshot:
        """The site as HA sees it now, with the action's overrides applied."""
        overrides = overrides or {}
        reader = self._reader
        options = self._options
        stale = {
            key
            for key in (*_SITE_STALE_NAMES, CONF_BATTERY_SOC, CONF_BATTERY_POWER)
            if reader.stale(key, now)
        }
        pv = reader.pv_w()
        grid = reader.grid_w()
        house = reader.house_w()
        soc = reader.battery_soc_pct()
        battery_w = reader.battery_w()

        capacity = options.get(CONF_BATTERY_CAPACITY)
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

        loadpoints = self.loadpoint_snapshots(now, overrides)
        if (solar or load or battery_o) and "power_kw" not in grid_o:
            # The measured grid power no longer matches: derive it.
            ev_w = sum(lp.charging_power_w or 0.0 for lp in loadpoints)
            if pv is not None and house is not None:
                grid = house + ev_w + (battery_w or 0.0) - pv

        battery = None
        if reader.configured(CONF_BATTERY_SOC, CONF_BATTERY_POWER) or battery_o:
            battery = BatterySnapshot(
                soc_pct=soc,
                power_w=battery_w,
                capacity_kwh=float(capacity) if capacity else None,
                max_charge_w=_opt_float(options.get(CONF_BATTERY_MAX_CHARGE)),
                max_discharge_w=_opt_float(options.get(CONF_BATTERY_MAX_DISCHARGE)),
                priority_soc_pct=float(
                    options.get(CONF_BATTERY_PRIORITY_SOC, DEFAULT_BATTERY_PRIORITY_SOC)
                ),
                buffer_soc_pct=float(
                    options.get(CONF_BATTERY_BUFFER_SOC, DEFAULT_BATTERY_BUFFER_SOC)
                ),
                phases=int(options.get(CONF_BATTERY_PHASES) or 1),
                stale=frozenset(
                    name
                    for key, name in (
                        (CONF_BATTERY_SOC, "soc"),
                        (CONF_BATTERY_POWER, "power"),
                    )
                    if key in stale
                ),
            )
        limit_a, limit_kw = self._grid_limit()
        phases = self.phases
        # Per-line currents count only when there is one per line of the site.
        lines = reader.line_currents_a()
        phase_currents = None
        if len(lines) == (3 if phases >= 2 else 1):
            phase_currents = tuple(math.nan if v is None else v for v in lines)
        return SiteSnapshot(
            pv_power_w=pv,
            grid_power_w=grid,
            house_power_w=house,
            battery=battery,
            loadpoints=tuple(loadpoints),
            loads=tuple(self._load_snapshots()),
            phases=phases,
            pv_phases=int(options.get(CONF_PV_PHASES) or 1),
            grid_phase_currents_a=phase_currents,
            voltage_v=self.voltage_v,
            grid_limit_a=limit_a,
            grid_limit_kw=limit_kw,
            stale=frozenset(
                _SITE_STALE_NAMES[key] for key in stale if key in _SITE_STALE_NAMES
            ),
        )

    @property
    def phases(self) -> int:
        """The site's phase count (1 or 3)."""
        return int(self._options.get(CONF_SITE_PHASES) or DEFAULT_SITE_PHASES)

    @property
    def voltage_v(self) -> float:
        """The site's nominal phase voltage."""
        return float(self._options.get(CONF_SITE_VOLTAGE) or DEFAULT_SITE_VOLTAGE)

    def loadpoint_snapshots(
        self, now: datetime, overrides: Mapping[str, Any]
    ) -> list[LoadpointSnapshot]:
        """Every loadpoint's snapshot; only changed ones are rebuilt."""
        loadpoints = self.loadpoints()
        ordered = self._ordered
        if ordered is None or self._volatile:
            cache, volatile = self._cache, self._volatile
            ordered = []
            for lp_id, charger, conn in loadpoints:
                cached = cache.get(lp_id)
                if cached is None or lp_id in volatile:
                    cached = self._build(lp_id, charger, conn, now)
                ordered.append(cached)
            self._ordered = ordered
        vehicle_o = overrides.get("vehicle") or {}
        per_lp = overrides.get("vehicles") or {}
        if not vehicle_o and not per_lp:
            return list(ordered)
        result: list[LoadpointSnapshot] = []
        for index, snapshot in enumerate(ordered):
            o = dict(vehicle_o) if index == 0 else {}
            o |= per_lp.get(snapshot.id) or {}
            result.append(
                self._override(snapshot, self._settings(snapshot.id), o)
                if o
                else snapshot
            )
        return result

    def _build(
        self,
        lp_id: str,
        charger: ChargerState,
        conn: ConnectorState,
        now: datetime,
    ) -> LoadpointSnapshot:
        """Rebuild and keep one loadpoint's snapshot."""
        settings = self._settings(lp_id)
        snapshot = self._cache[lp_id] = self._loadpoint(
            lp_id, charger, conn, settings, now
        )
        if settings.vehicle_soc_entity is not None or (
            settings.manual_cap_until is not None
        ):
            self._volatile.add(lp_id)
        else:
            self._volatile.discard(lp_id)
        self._ordered = None
        return snapshot

    def _loadpoint(
        self,
        lp_id: str,
        charger: ChargerState,
        conn: ConnectorState,
        settings: LoadpointSettings,
        now: datetime,
    ) -> LoadpointSnapshot:
        soc = conn.meter.soc_percent
        if settings.vehicle_soc_entity:
            value = number(self._hass.states.get(settings.vehicle_soc_entity))
            if value is not None:
                soc = value
        online = charger.online
        active = [
            p for p, a in conn.meter.current_phases_a.items() if a > ACTIVE_PHASE_A
        ]
        power = (conn.meter.power_w or 0.0) if conn.transaction is not None else 0.0
        if (expected := self._expected_current_a(lp_id, conn)) is not None:
            phases = conn.limit_phases or len(active) or 3
            power = expected * self.voltage_v * phases
        return LoadpointSnapshot(
            id=lp_id,
            mode=ChargeMode(settings.mode),
            min_current_a=settings.min_current_a,
            max_current_a=settings.max_current_a,
            manual_cap_a=settings.cap_at(now),
            phases_setting=PhaseSetting(settings.phases),
            active_phases=len(active) or conn.limit_phases,
            connected=conn.plugged if online else None,
            online=online,
            controllable=self._controllable(lp_id),
            charging_power_w=power,
            current_a=conn.current_limit_a,
            min_soc_pct=settings.min_soc_pct,
            target_soc_pct=settings.target_soc_pct,
            target_time=settings.target_at(),
            vehicle_soc_pct=soc,
            vehicle_capacity_kwh=settings.vehicle_capacity_kwh,
            session_energy_kwh=conn.last_session_energy_wh / 1000,
            priority=settings.priority,
            measured_current_a=max(conn.meter.current_phases_a.values(), default=None)
            if conn.transaction is not None
            else 0.0,
        )

    @staticmethod
    def _override(
        snapshot: LoadpointSnapshot,
        settings: LoadpointSettings,
        o: Mapping[str, Any],
    ) -> LoadpointSnapshot:
        changes: dict[str, Any] = {}
        if "connected" in o:
            changes["connected"] = bool(o["connected"])
            changes["online"] = True
        if "state_of_charge_kwh" in o and settings.vehicle_capacity_kwh:
            changes["vehicle_soc_pct"] = (
                100 * float(o["state_of_charge_kwh"]) / settings.vehicle_capacity_kwh
            )
        if "state_of_charge_pct" in o:
            changes["vehicle_soc_pct"] = float(o["state_of_charge_pct"])
        if "charging_power_kw" in o:
            changes["charging_power_w"] = float(o["charging_power_kw"]) * 1000
        if "mode" in o:
            changes["mode"] = ChargeMode(str(o["mode"]))
        return replace(snapshot, **changes)

    def _load_snapshots(self) -> list[FlexibleLoadSnapshot]:
        result = []
        for load in self._loads:
            entity_id = load[CONF_LOAD_ENTITY]
            state = self._hass.states.get(entity_id)
            result.append(
                FlexibleLoadSnapshot(
                    id=entity_id,
                    power_w=float(load[CONF_LOAD_POWER]),
                    priority=int(load.get(CONF_LOAD_PRIORITY, 0)),
                    is_on=None if state is None else state.state == STATE_ON,
                )
            )
        return result


#: The site sources whose staleness the core is told about, by the name it knows.
_SITE_STALE_NAMES = {
    CONF_PV_POWER: "pv_power",
    CONF_GRID_POWER: "grid_power",
    CONF_HOUSE_POWER: "house_power",
    **dict.fromkeys(CONF_GRID_CURRENTS, "grid_phase_currents"),
}
