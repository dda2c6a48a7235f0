"""The horizon planner in Home Assistant: one plan per site, kept fresh.

Owns `SitePlanner`: it gathers what is known now (prices, the PV forecast, the
recorder's histories through `plan_inputs`, the battery's SoC, the EV goals of the
loadpoints and the deferrable loads), runs the pure planner
(`energy.horizon.replan`, HiGHS) in an executor with the last plan as its warm
start, keeps the result (`PlanResult`), hands the real-time controller the targets
of the slot that contains a moment (`targets_at`), keeps the planning repairs in
step (an unknown price shape, a goal that will be missed) and tells its listeners
(the plan sensor) when a new plan is made.

It re-plans every quarter hour and whenever something that matters changes: a
loadpoint's settings (mode, target SoC, target time, ...), a plug-in or unplug, a
vehicle SoC or battery SoC that strays from what the plan expects, the price or PV
forecast entities. Requests that arrive while a plan is being made are merged into
one more run; a re-plan never blocks the event loop.

Which loadpoints are goals: a plugged-in vehicle in charge mode `plan` (its target
SoC by its target time, or within the horizon when it has none), or in `pv` /
`minpv` with a target time ahead (solar first, the grid where the deadline needs
it). A deferrable load is a flexible load with a run time: that many hours a day
within its daily window (less what it has run in the window so far).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from homeassistant.core import (
    Event,
    EventStateChangedData,
    HomeAssistant,
    callback,
)
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.event import (
    async_track_state_change_event,
    async_track_time_change,
)
from homeassistant.util import dt as dt_util

from ..const import (
    CONF_BATTERY_CAPACITY,
    CONF_BATTERY_CYCLE_COST,
    CONF_BATTERY_EFFICIENCY,
    CONF_BATTERY_MAX_CHARGE,
    CONF_BATTERY_MAX_DISCHARGE,
    CONF_BATTERY_MIN_SOC,
    CONF_BATTERY_SOC,
    CONF_EXPORT_ENTITY,
    CONF_EXPORT_SOURCE,
    CONF_FLAT_LOAD,
    CONF_LOAD_CONTIGUOUS,
    CONF_LOAD_ENTITY,
    CONF_LOAD_FORECAST,
    CONF_LOAD_POWER,
    CONF_LOAD_RUN_HOURS,
    CONF_LOAD_WINDOW_END,
    CONF_LOAD_WINDOW_START,
    CONF_PLAN_HOURS,
    CONF_PRICE_ENTITY,
    CONF_PRICE_SOURCE,
    CONF_PV_FORECAST_ENTITIES,
    DEFAULT_BATTERY_EFFICIENCY,
    DEFAULT_BATTERY_MIN_SOC,
    DEFAULT_FLAT_LOAD,
    DEFAULT_PLAN_HOURS,
    LOAD_FORECAST_FLAT,
    PRICE_ENTITY,
    SIGNAL_NEW_CHARGER,
)
from ..energy import ChargeMode, SlotTargets
from ..energy.horizon import SiteModel, World, replan, targets_at
from ..energy.plan_model import (
    BatteryModel,
    DeferrableLoad,
    EvGoal,
    GridConnection,
    Plan,
)
from ..energy.planner import PlanningError
from .plan_inputs import (
    Histories,
    HistoryReader,
    async_on_hours,
    async_pv_forecast,
    read_prices,
)
from .readings import number

if TYPE_CHECKING:
    from ..entity_index import EntityIndex
    from .coordinator import SiteCoordinator

_LOGGER = logging.getLogger(__name__)

#: Minutes past the hour at which the site re-plans (each quarter's start).
REPLAN_MINUTES = (0, 15, 30, 45)
#: AC energy a vehicle takes per kWh stored (charger and battery losses).
EV_CHARGE_EFFICIENCY = 0.9
#: SoC assumed for a vehicle whose SoC nobody reports.
ASSUMED_SOC_PCT = 20.0
#: A vehicle (or home battery) SoC this far from what the plan expects re-plans.
SOC_JUMP_PCT = 5.0
BATTERY_JUMP_PCT = 10.0
#: Shortfalls that raise the repair issue, and below which it clears again.
EV_SHORT_KWH = 0.5
EV_MET_KWH = 0.1
LOAD_SHORT_HOURS = 0.25
LOAD_MET_HOURS = 0.05

#: Why there is no plan.
NO_PRICES = "no_prices"
PRICE_SHAPE = "price_shape"
SOLVER_FAILED = "solver_failed"


@dataclass(frozen=True, slots=True)
class EvInfo:
    """One vehicle the plan covers, as it was planned."""

    id: str
    name: str
    mode: str
    soc_pct: float
    soc_source: str  # entity, charger, estimate or assumed
    target_soc_pct: float
    capacity_kwh: float
    deadline: datetime | None
    #: The planned AC energy by the end of each slot (kWh, cumulative).
    delivered_kwh: tuple[float, ...] = ()

    def soc_from_kwh(self, kwh: float) -> float:
        """The SoC after `kwh` more of AC energy."""
        gain = 100.0 * kwh * EV_CHARGE_EFFICIENCY / self.capacity_kwh
        return min(100.0, self.soc_pct + gain)


@dataclass(frozen=True, slots=True)
class LoadInfo:
    """One deferrable load the plan covers."""

    id: str
    name: str
    power_kw: float
    run_hours: float  # a day, in its window
    done_hours: float  # run so far in the current window
    window_start: datetime
    window_end: datetime


@dataclass(frozen=True, slots=True)
class PlanResult:
    """The last planning: the plan (None: why not) and what it was made of."""

    planned_at: datetime
    plan: Plan | None
    reason: str | None = None
    nominal_prices: bool = False
    evs: dict[str, EvInfo] = field(default_factory=dict)
    loads: dict[str, LoadInfo] = field(default_factory=dict)
    price_entity: str | None = None
    #: The home battery's capacity when the plan has a battery (for SoC in %).
    battery_capacity_kwh: float | None = None


class SitePlanner:
    """Plans one site's next hours and keeps the plan fresh."""

    def __init__(
        self, hass: HomeAssistant, site: SiteCoordinator, entities: EntityIndex
    ) -> None:
        """Plan for `site` (its options, loadpoints and flexible loads)."""
        self.hass = hass
        self.site = site
        self.options = site.options
        self._entities = entities
        self._history = HistoryReader(hass, self.options)
        self.result: PlanResult | None = None
        #: Counts the plannings (each new result, even on a frozen clock).
        self.generation = 0
        self._listeners: list[Callable[[], None]] = []
        self._unsubs: list[Callable[[], None]] = []
        self._lp_unsubs: dict[str, Callable[[], None]] = {}
        self._charger_unsubs: dict[str, tuple[object, Callable[[], None]]] = {}
        self._plugged: dict[str, bool | None] = {}
        self._wanted = False
        self._task: asyncio.Task[None] | None = None
        self._closed = False

    # Lifecycle -------------------------------------------------------------------

    @callback
    def async_start(self) -> None:
        """Plan now, then every quarter hour and on every change that matters."""
        self._unsubs.append(
            async_track_time_change(
                self.hass,
                self._quarter,
                minute=list(REPLAN_MINUTES),
                second=0,
            )
        )
        watched = [
            self.options.get(key)
            for key in (CONF_PRICE_ENTITY, CONF_EXPORT_ENTITY)
            if self.options.get(
                CONF_PRICE_SOURCE if key == CONF_PRICE_ENTITY else CONF_EXPORT_SOURCE
            )
            == PRICE_ENTITY
        ]
        watched += list(self.options.get(CONF_PV_FORECAST_ENTITIES) or ())
        if entity_ids := [str(e) for e in watched if e]:
            self._unsubs.append(
                async_track_state_change_event(
                    self.hass, entity_ids, self._forecast_changed
                )
            )
        if soc := self.options.get(CONF_BATTERY_SOC):
            self._unsubs.append(
                async_track_state_change_event(
                    self.hass, [str(soc)], self._battery_changed
                )
            )
        self._unsubs.append(
            async_dispatcher_connect(
                self.hass,
                SIGNAL_NEW_CHARGER.format(self.site.entry_id),
                self._charger_added,
            )
        )
        self._follow_loadpoints()
        self.async_request_replan()

    async def async_shutdown(self) -> None:
        """Stop following changes; a plan being made is cancelled."""
        self._closed = True
        for unsub in (
            *self._unsubs,
            *self._lp_unsubs.values(),
            *(remove for _, remove in self._charger_unsubs.values()),
        ):
            unsub()
        self._unsubs.clear()
        self._lp_unsubs.clear()
        self._charger_unsubs.clear()
        if self._task is not None and not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    @callback
    def add_listener(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call `listener` after every planning."""
        self._listeners.append(listener)

        def remove() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return remove

    # What the controller follows ---------------------------------------------------

    def targets_at(self, when: datetime) -> SlotTargets | None:
        """The plan's targets for the slot containing `when` (None: no plan)."""
        result = self.result
        if result is None or result.plan is None:
            return None
        return targets_at(result.plan, when)

    # Triggers ----------------------------------------------------------------------

    @callback
    def async_request_replan(self) -> None:
        """Plan again soon; requests while a plan is being made merge into one."""
        if self._closed:
            return
        self._wanted = True
        if self._task is None or self._task.done():
            self._task = self.hass.async_create_task(
                self._async_run(), "energy_coordinator replan", eager_start=False
            )

    async def async_fresh(self) -> PlanResult | None:
        """The result, after the plan being made (if any) is done."""
        task = self._task
        if task is not None and not task.done():
            await asyncio.shield(task)
        return self.result

    async def _async_run(self) -> None:
        while self._wanted and not self._closed:
            self._wanted = False
            try:
                await self._async_replan()
            except Exception:  # planning must never take the site down
                _LOGGER.exception("Planning failed")

    @callback
    def _quarter(self, now: datetime) -> None:
        self._follow_loadpoints()
        self.async_request_replan()

    @callback
    def _forecast_changed(self, event: Event[EventStateChangedData]) -> None:
        self.async_request_replan()

    @callback
    def _battery_changed(self, event: Event[EventStateChangedData]) -> None:
        result = self.result
        new_state = event.data["new_state"]
        soc = number(new_state)
        plan = result.plan if result is not None else None
        capacity = _float(self.options.get(CONF_BATTERY_CAPACITY))
        if soc is None or plan is None or not plan.battery_soc_kwh or not capacity:
            return
        index = plan.slot_index(dt_util.utcnow())
        if index is None:
            return
        # The SoC the plan expects now: between the slot's start and end values.
        before = plan.battery_soc_kwh[index - 1] if index else None
        after = plan.battery_soc_kwh[index]
        expected = [100 * v / capacity for v in (before, after) if v is not None]
        if min(abs(soc - e) for e in expected) >= BATTERY_JUMP_PCT:
            self.async_request_replan()

    @callback
    def _follow_loadpoints(self) -> None:
        """Follow every approved charger, and the settings of its loadpoints."""
        for charger_id in list(self.site.system.chargers):
            self._follow_charger(charger_id)
        known = {lp_id for lp_id, _, _ in self.site.loadpoint_connectors()}
        for lp_id in [lp for lp in self._lp_unsubs if lp not in known]:
            self._lp_unsubs.pop(lp_id)()
            self._plugged.pop(lp_id, None)

    @callback
    def _follow_charger(self, charger_id: str) -> None:
        """Follow one approved charger's reports and its loadpoints' settings."""
        system = self.site.system
        charger = system.chargers.get(charger_id)
        if charger is None or not system.is_approved(charger_id):
            return
        watched = self._charger_unsubs.get(charger_id)
        if watched is None or watched[0] is not charger:
            if watched is not None:
                watched[1]()
            self._charger_unsubs[charger_id] = (
                charger,
                charger.add_listener(self._reported_by(charger_id)),
            )
        self._follow_connectors(charger_id)

    @callback
    def _follow_connectors(self, charger_id: str) -> bool:
        """Follow the settings of the charger's new loadpoints; whether a new one
        has a vehicle plugged in."""
        charger = self.site.system.chargers.get(charger_id)
        if charger is None:
            return False
        plugged = False
        for connector_id, conn in charger.connectors.items():
            lp_id = f"{charger_id}/{connector_id}"
            if lp_id in self._lp_unsubs or not self.site.is_loadpoint(
                charger_id, connector_id
            ):
                continue
            self._lp_unsubs[lp_id] = self.site.add_listener(
                self._settings_changed, lp_id
            )
            self._plugged[lp_id] = conn.plugged
            plugged = plugged or bool(conn.plugged)
        return plugged

    @callback
    def _charger_added(self, charger_id: str) -> None:
        # Only this charger: a garage booting a thousand must not walk them all
        # for each (a forgotten charger's loadpoints go at the next quarter hour).
        self._follow_charger(charger_id)
        self.async_request_replan()

    def _reported_by(self, charger_id: str) -> Callable[[], None]:
        @callback
        def reported() -> None:
            self._charger_reported(charger_id)

        return reported

    @callback
    def _settings_changed(self) -> None:
        self.async_request_replan()

    @callback
    def _charger_reported(self, charger_id: str) -> None:
        """A plug-in, an unplug or a SoC that strays from the plan re-plans."""
        charger = self.site.system.chargers.get(charger_id)
        if charger is None:
            return
        if self._follow_connectors(charger_id):
            self.async_request_replan()
        result = self.result
        for connector_id, conn in charger.connectors.items():
            lp_id = f"{charger_id}/{connector_id}"
            if lp_id not in self._lp_unsubs:
                continue
            if conn.plugged != self._plugged.get(lp_id):
                self._plugged[lp_id] = conn.plugged
                if self._relevant(lp_id):
                    self.async_request_replan()
                continue
            info = result.evs.get(lp_id) if result is not None else None
            soc = conn.meter.soc_percent
            if info is None or soc is None or info.soc_source == "entity":
                continue
            if info.soc_source != "charger" or (
                abs(soc - self._expected_soc(info)) >= SOC_JUMP_PCT
            ):
                # A SoC at last (the plan assumed or estimated one), or a jump.
                self.async_request_replan()

    def _relevant(self, lp_id: str) -> bool:
        return self.site.plans_for(lp_id)

    def _expected_soc(self, info: EvInfo) -> float:
        result = self.result
        plan = result.plan if result is not None else None
        if plan is None or not info.delivered_kwh:
            return info.soc_pct
        index = plan.slot_index(dt_util.utcnow())
        if index is None:
            index = len(info.delivered_kwh) - 1
        before = info.delivered_kwh[index - 1] if index else 0.0
        # Mid-slot: half of the slot's planned energy.
        return info.soc_from_kwh((before + info.delivered_kwh[index]) / 2)

    # Planning ----------------------------------------------------------------------

    @property
    def hours(self) -> float:
        """The longest horizon."""
        return float(self.options.get(CONF_PLAN_HOURS) or DEFAULT_PLAN_HOURS)

    async def _async_replan(self) -> None:
        hass = self.hass
        now = dt_util.utcnow()
        prices = read_prices(hass, self.options, "import", now, self.hours)
        exports = read_prices(hass, self.options, "export", now, self.hours)
        self.site.repairs.price_shapes(
            {
                which: (read.entity_id, read.unknown.attributes)
                for which, read in (("import", prices), ("export", exports))
                if read.entity_id and read.unknown is not None
            }
        )
        evs, ev_infos = self._ev_goals(now)
        loads, load_infos = await self._load_goals(now)
        if prices.series is None or prices.series.price_at(now) is None:
            self._publish(
                PlanResult(
                    now,
                    None,
                    PRICE_SHAPE if prices.unknown is not None else NO_PRICES,
                    evs=ev_infos,
                    loads=load_infos,
                    price_entity=prices.entity_id,
                )
            )
            return
        pv_forecast = await async_pv_forecast(hass, self.options)
        histories = await self._histories(now)
        world = World(
            now=now,
            import_prices=prices.series,
            export_prices=exports.series,
            battery_soc_kwh=self._battery_soc_kwh(),
            load_history=histories.load,
            ev_history=histories.ev,
            pv_history=histories.pv,
            pv_forecast=pv_forecast,
            evs=evs,
            loads=loads,
        )
        previous = self.result.plan if self.result is not None else None
        reason = None
        try:
            plan = await hass.async_add_executor_job(
                replan, self._site_model(), world, previous
            )
        except PlanningError:
            _LOGGER.exception("The planner failed")
            plan, reason = None, SOLVER_FAILED
        if plan is None and reason is None:
            reason = NO_PRICES
        if plan is not None:
            ev_infos = {
                goal.id: _delivered(ev_infos[goal.id], plan, k)
                for k, goal in enumerate(plan.evs)
            }
        battery = self._battery()
        self._publish(
            PlanResult(
                now,
                plan,
                reason,
                nominal_prices=prices.nominal,
                evs=ev_infos,
                loads=load_infos,
                price_entity=prices.entity_id,
                battery_capacity_kwh=battery.capacity_kwh if battery else None,
            )
        )

    @callback
    def _publish(self, result: PlanResult) -> None:
        if self._closed:
            return
        self.result = result
        self.generation += 1
        self.site.repairs.goals(_missed_goals(result, self.site.repairs.goal_ids))
        for listener in list(self._listeners):
            listener()

    async def _histories(self, now: datetime) -> Histories:
        chargers = [
            entity_id
            for _, charger, conn in self.site.loadpoint_connectors()
            if (entity_id := self._power_entity(charger.charger_id, conn.connector_id))
        ]
        histories = await self._history.async_histories(now, chargers)
        if self.options.get(CONF_LOAD_FORECAST) == LOAD_FORECAST_FLAT:
            return Histories(pv=histories.pv)
        return histories

    def _power_entity(self, charger_id: str, connector_id: int) -> str | None:
        connectors = self._entities.chargers.get(charger_id, {})
        for number_ in (connector_id, 0):
            found = connectors.get(number_, {}).get("power")
            if found:
                return found
        return None

    def _site_model(self) -> SiteModel:
        options = self.options
        limit, unit = self.site.grid_limit, self.site.grid_limit_unit
        import_kw: float | None = None
        if limit:
            phases = self.site.snapshots.phases
            import_kw = limit if unit == "kW" else limit * self.site.voltage_v * phases
            import_kw = import_kw if unit == "kW" else import_kw / 1000.0
        return SiteModel(
            tz=dt_util.get_default_time_zone(),
            grid=GridConnection(import_limit_kw=import_kw),
            battery=self._battery(),
            max_hours=self.hours,
            flat_load_kw=float(options.get(CONF_FLAT_LOAD) or DEFAULT_FLAT_LOAD),
        )

    def _battery(self) -> BatteryModel | None:
        options = self.options
        capacity = _float(options.get(CONF_BATTERY_CAPACITY))
        if not capacity or not options.get(CONF_BATTERY_SOC):
            return None
        round_trip = (
            _float(options.get(CONF_BATTERY_EFFICIENCY)) or DEFAULT_BATTERY_EFFICIENCY
        )
        one_way = math.sqrt(min(100.0, max(1.0, round_trip)) / 100.0)
        min_soc = _float(options.get(CONF_BATTERY_MIN_SOC))
        min_kwh = capacity * (DEFAULT_BATTERY_MIN_SOC if min_soc is None else min_soc)
        charge_w = _float(options.get(CONF_BATTERY_MAX_CHARGE))
        discharge_w = _float(options.get(CONF_BATTERY_MAX_DISCHARGE))
        return BatteryModel(
            capacity_kwh=capacity,
            soc_kwh=min_kwh / 100.0,
            max_charge_kw=charge_w / 1000.0 if charge_w else capacity / 2,
            max_discharge_kw=discharge_w / 1000.0 if discharge_w else capacity / 2,
            min_soc_kwh=min_kwh / 100.0,
            charge_efficiency=one_way,
            discharge_efficiency=one_way,
            cycle_cost_per_kwh=_float(options.get(CONF_BATTERY_CYCLE_COST)) or 0.0,
        )

    def _battery_soc_kwh(self) -> float | None:
        capacity = _float(self.options.get(CONF_BATTERY_CAPACITY))
        soc = self.site.reader.battery_soc_pct()
        if not capacity or soc is None:
            return None
        return max(0.0, min(100.0, soc)) * capacity / 100.0

    # Goals -------------------------------------------------------------------------

    def _ev_goals(self, now: datetime) -> tuple[tuple[EvGoal, ...], dict[str, EvInfo]]:
        goals: list[EvGoal] = []
        infos: dict[str, EvInfo] = {}
        site = self.site
        volts = site.voltage_v
        site_phases = site.snapshots.phases
        for lp_id, charger, conn in site.loadpoint_connectors():
            settings = site.settings(lp_id)
            if not charger.online or not conn.plugged:
                continue
            deadline = settings.target_at()
            if deadline is not None and deadline <= now:
                deadline = None
            mode = settings.mode
            if mode != ChargeMode.PLAN and not (
                mode in (ChargeMode.PV, ChargeMode.MIN_PV) and deadline is not None
            ):
                continue
            soc, source = self._vehicle_soc(lp_id, conn.meter.soc_percent)
            target = (
                settings.target_soc_pct if settings.target_soc_pct is not None else 100
            )
            capacity = max(1.0, settings.vehicle_capacity_kwh)
            need = max(0.0, target - soc) / 100.0 * capacity / EV_CHARGE_EFFICIENCY
            phases = _allowed_phases(settings.phases, site_phases)
            max_a = settings.max_current_a
            cap = settings.cap_at(now)
            if cap is not None:
                max_a = min(max_a, cap) if cap >= settings.min_current_a else 0.0
            goals.append(
                EvGoal(
                    id=lp_id,
                    need_kwh=need,
                    max_power_kw=max_a * volts * max(phases) / 1000.0,
                    min_power_kw=min(
                        settings.min_current_a * volts * min(phases) / 1000.0,
                        max_a * volts * max(phases) / 1000.0,
                    ),
                    deadline=deadline,
                )
            )
            infos[lp_id] = EvInfo(
                id=lp_id,
                name=_loadpoint_name(lp_id),
                mode=mode,
                soc_pct=soc,
                soc_source=source,
                target_soc_pct=float(target),
                capacity_kwh=capacity,
                deadline=deadline,
            )
        return tuple(goals), infos

    def _vehicle_soc(self, lp_id: str, charger_soc: float | None) -> tuple[float, str]:
        """The vehicle's SoC: its entity, the charger, the estimate, or assumed."""
        settings = self.site.settings(lp_id)
        if settings.vehicle_soc_entity:
            value = number(self.hass.states.get(settings.vehicle_soc_entity))
            if value is not None:
                return _pct(value), "entity"
        if charger_soc is not None:
            return _pct(charger_soc), "charger"
        sensor = self._entities.loadpoints.get(lp_id, {}).get("vehicle_soc")
        state = self.hass.states.get(sensor) if sensor else None
        value = number(state)
        if value is not None and state is not None:
            source = state.attributes.get("source")
            return _pct(value), "estimate" if source == "estimate" else "charger"
        return ASSUMED_SOC_PCT, "assumed"

    async def _load_goals(
        self, now: datetime
    ) -> tuple[tuple[DeferrableLoad, ...], dict[str, LoadInfo]]:
        goals: list[DeferrableLoad] = []
        infos: dict[str, LoadInfo] = {}
        for load in self.site.loads:
            run_hours = _float(load.get(CONF_LOAD_RUN_HOURS))
            if not run_hours or run_hours <= 0:
                continue
            entity_id = str(load[CONF_LOAD_ENTITY])
            start, end = _window(
                now,
                _time(load.get(CONF_LOAD_WINDOW_START)),
                _time(load.get(CONF_LOAD_WINDOW_END)),
            )
            done = (
                await async_on_hours(self.hass, entity_id, start, now)
                if start < now
                else 0.0
            )
            # Whole minutes: the recorder's seconds are not worth a re-plan.
            done = math.floor(done * 60) / 60
            contiguous = bool(load.get(CONF_LOAD_CONTIGUOUS))
            state = self.hass.states.get(entity_id)
            running = (
                contiguous and done > 0 and state is not None and (state.state == "on")
            )
            power_kw = float(load[CONF_LOAD_POWER]) / 1000.0
            goals.append(
                DeferrableLoad(
                    id=entity_id,
                    power_kw=power_kw,
                    run_hours=max(0.0, run_hours - done),
                    earliest_start=start if start > now else None,
                    latest_end=end,
                    contiguous=contiguous,
                    running=running and run_hours - done > 0,
                )
            )
            infos[entity_id] = LoadInfo(
                id=entity_id,
                name=state.name if state is not None else entity_id,
                power_kw=power_kw,
                run_hours=run_hours,
                done_hours=done,
                window_start=start,
                window_end=end,
            )
        return tuple(goals), infos


# Helpers -------------------------------------------------------------------------


def _float(value: Any) -> float | None:
    if value in (None, ""):
        return None
    try:
        number_ = float(value)
    except (TypeError, ValueError):
        return None
    return number_ if math.isfinite(number_) else None


def _pct(value: float) -> float:
    return max(0.0, min(100.0, value))


def _allowed_phases(setting: str, site_phases: int) -> tuple[int, ...]:
    if site_phases < 2 or setting == "1":
        return (1,)
    if setting == "3":
        return (3,)
    return (1, 3)


def _loadpoint_name(lp_id: str) -> str:
    """The loadpoint's device name: the charger id (connector 1) or charger/n."""
    charger_id, _, connector = lp_id.rpartition("/")
    return charger_id if connector == "1" else lp_id


def _time(value: Any) -> time | None:
    if isinstance(value, time):
        return value
    if isinstance(value, str) and value:
        return dt_util.parse_time(value)
    return None


def _window(
    now: datetime, start: time | None, end: time | None
) -> tuple[datetime, datetime]:
    """The daily window [start, end) that is open now, or the next one (UTC).

    No start: midnight; no end (or the same time): a whole day from the start.
    A window whose end is not after its start runs past midnight.
    """
    local = dt_util.as_local(now)
    begin = start or time(0, 0)
    finish = end or begin
    for offset in (-1, 0, 1):
        day = local.date() + timedelta(days=offset)
        opens = dt_util.as_utc(datetime.combine(day, begin, local.tzinfo))
        closes_day = day if finish > begin else day + timedelta(days=1)
        closes = dt_util.as_utc(datetime.combine(closes_day, finish, local.tzinfo))
        if closes > now:
            return opens, closes
    raise AssertionError("a daily window always closes within two days")


def _delivered(info: EvInfo, plan: Plan, index: int) -> EvInfo:
    """`info` with the plan's cumulative energy per slot end."""
    total = 0.0
    delivered = []
    for k in range(plan.slot_count):
        start = plan.slot_start(k)
        hours = (plan.slot_start(k + 1) - start).total_seconds() / 3600
        total += plan.ev_kw[index][k] * hours
        delivered.append(total)
    return EvInfo(
        id=info.id,
        name=info.name,
        mode=info.mode,
        soc_pct=info.soc_pct,
        soc_source=info.soc_source,
        target_soc_pct=info.target_soc_pct,
        capacity_kwh=info.capacity_kwh,
        deadline=info.deadline,
        delivered_kwh=tuple(delivered),
    )


@dataclass(frozen=True, slots=True)
class MissedGoal:
    """A goal the plan cannot meet, for the repair issue."""

    goal_id: str
    kind: str  # "ev" or "load"
    placeholders: dict[str, str]


def _missed_goals(result: PlanResult, raised: frozenset[str]) -> list[MissedGoal]:
    """Goals the plan will miss (with hysteresis against the raised ones)."""
    plan = result.plan
    if plan is None:
        return []
    missed: list[MissedGoal] = []
    for outcome in plan.evs:
        info = result.evs.get(outcome.id)
        if info is None:
            continue
        limit = EV_MET_KWH if outcome.id in raised else EV_SHORT_KWH
        if outcome.shortfall_kwh < limit:
            continue
        planned = outcome.planned_kwh + outcome.deferred_kwh
        missed.append(
            MissedGoal(
                outcome.id,
                "ev",
                {
                    "vehicle": info.name,
                    "target": f"{info.target_soc_pct:.0f}",
                    "time": format_deadline(outcome.deadline or plan.end, plan.start),
                    "planned": f"{math.floor(info.soc_from_kwh(planned)):.0f}",
                },
            )
        )
    for load_outcome in plan.loads:
        load_info = result.loads.get(load_outcome.id)
        if load_info is None:
            continue
        limit = LOAD_MET_HOURS if load_outcome.id in raised else LOAD_SHORT_HOURS
        if load_outcome.shortfall_hours < limit:
            continue
        planned = load_info.done_hours + load_outcome.planned_hours
        planned += load_outcome.deferred_hours
        missed.append(
            MissedGoal(
                load_outcome.id,
                "load",
                {
                    "load": load_info.name,
                    "hours": _hours(load_info.run_hours),
                    "time": format_deadline(load_info.window_end, plan.start),
                    "planned": _hours(planned),
                },
            )
        )
    return missed


def _hours(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def format_deadline(when: datetime, now: datetime) -> str:
    """A time in the home's time zone: HH:MM within a day, else with the date."""
    local = dt_util.as_local(when)
    if when - now < timedelta(hours=24):
        return local.strftime("%H:%M")
    return local.strftime("%Y-%m-%d %H:%M")


__all__ = [
    "EvInfo",
    "LoadInfo",
    "MissedGoal",
    "PlanResult",
    "SitePlanner",
    "format_deadline",
]
