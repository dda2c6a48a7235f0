"""Sensor entities of the site, its solar, battery and house parts, and the EVs.

Site: grid power, surplus power, coordinator status (what the last coordination did,
with its explanation, codes and actions as attributes, and each EV loadpoint with
why it is or is not charging: `loadpoint_status`) and the last decision's time.
Solar: power and energy today. Home battery: SoC, power (positive = charging) and the
commanded power. House load: consumption (measured, or derived from PV, grid,
battery and EV power) and the power of the flexible loads shed. EV loadpoint:
vehicle SoC, charging power and session energy.

Mirrored measurements follow their source entities' state changes; decision-derived
values follow the coordinator. House consumption (when derived) and surplus also count
the EVs' power, and are recomputed when a source changes or the coordinator runs (an
EV's draw shows at the grid meter anyway).

Solar energy today is the rise of the solar energy meter since local midnight when
one is configured (a decrease of more than 10 % is a new meter, counted from 0, as
HA's statistics count a `total_increasing` sensor; a smaller dip is ignored), else
the PV power integrated with a left Riemann sum over its state changes (each value
counts until the next one; an unavailable source counts nothing). It restarts at
local midnight and is restored after a restart or reload on the same day (with the
meter reading it had counted up to, so what the meter rose in between counts), so it
never steps backwards within a day.

Vehicle SoC comes from the loadpoint's vehicle SoC entity when one is set and
readable, else from the charger's SoC measurand. Without either, it is estimated
while the session in which a SoC was last known goes on: that SoC plus the session
energy charged since, divided by the vehicle's capacity (at most 100 %; the last
known SoC is kept in memory, so no estimate after a restart until a SoC is known
again); the `source` attribute says which (`entity`, `charger` or `estimate`).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from homeassistant.components.sensor import (
    RestoreSensor,
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorExtraStoredData,
    SensorStateClass,
)
from homeassistant.const import (
    PERCENTAGE,
    EntityCategory,
    UnitOfEnergy,
    UnitOfPower,
)
from homeassistant.core import (
    CALLBACK_TYPE,
    Event,
    EventStateChangedData,
    HomeAssistant,
    callback,
)
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.event import (
    async_track_state_change_event,
    async_track_time_change,
)
from homeassistant.helpers.typing import StateType
from homeassistant.util import dt as dt_util

from .const import (
    CONF_BATTERY_POWER,
    CONF_BATTERY_SOC,
    CONF_GRID_POWER,
    CONF_HOUSE_POWER,
    CONF_PV_ENERGY,
    CONF_PV_POWER,
)
from .csms.model import ChargerState, ConnectorState
from .energy import Code, Decision, house_estimate, surplus_estimate
from .entity_index import EntityIndex
from .loadpoint_status import loadpoint_status
from .runtime import EnergyCoordinatorConfigEntry
from .site import SiteCoordinator
from .site.readings import energy_wh, number, power_w
from .site_entity import (
    BATTERY,
    HOUSE,
    SITE,
    SOLAR,
    LoadpointEntity,
    SiteEntity,
    async_ensure_site_devices,
    site_device_info,
)

#: HA limits a state to 255 characters.
MAX_STATE_LENGTH = 255
#: Sentences of the explanation the status sensor carries (a garage has thousands;
#: `get_status` and `coordinate` return all of them).
MAX_STATUS_REASONS = 20

COORDINATOR_STATUS = "coordinator_status"

#: The subjects of the site's own sentences (the others are loadpoints and loads).
_SITE_SUBJECTS = frozenset({"site", "grid", "battery"})

#: Explanation codes that report something the coordinator did (or held back).
_ACTION_PREFIXES = ("ev.", "battery.", "load.", "grid.over_limit")


def rounded(value: float | None, digits: int = 1) -> float | None:
    """`value` rounded for display, None stays None."""
    return None if value is None else round(value, digits)


def loadpoint_power_w(charger: ChargerState, conn: ConnectorState) -> float:
    """What a loadpoint draws: the meter's power during a session, else 0."""
    if not charger.online or conn.transaction is None:
        return 0.0
    return conn.meter.power_w or 0.0


def house_w(site: SiteCoordinator) -> tuple[float | None, bool]:
    """House consumption in W and whether it was derived (as the core does it)."""
    reader = site.reader
    battery = reader.battery_w() if reader.configured(CONF_BATTERY_POWER) else 0.0
    return house_estimate(
        reader.house_w(), reader.pv_w(), reader.grid_w(), battery, site.ev_power_w()
    )


def surplus_w(site: SiteCoordinator) -> float | None:
    """PV minus house consumption as the grid meter shows it (as the core does)."""
    reader = site.reader
    return surplus_estimate(reader.grid_w(), site.ev_power_w(), reader.battery_w())


def status_summary(decision: Decision) -> str:
    """A short sentence on what a decision did: its first action-related reason."""
    reasons = decision.explanation
    if not reasons:
        return "Nothing to do."
    chosen = next(
        (r for r in reasons if r.code.value.startswith(_ACTION_PREFIXES)), reasons[0]
    )
    text = chosen.message
    if len(text) > MAX_STATE_LENGTH:
        text = text[: MAX_STATE_LENGTH - 1] + "…"
    return text


#: The coordinator's headline, from the most pressing situation down.
STATUS_OPTIONS = [
    "fallback",
    "grid_limited",
    "charging",
    "waiting_for_surplus",
    "idle",
]
_FALLBACK_CODES = frozenset(
    {Code.EV_FALLBACK, Code.BATTERY_HOLD_FALLBACK, Code.GRID_LIMIT_UNKNOWN}
)
_GRID_CODES = frozenset(
    {Code.EV_GRID_REDUCED, Code.EV_GRID_PAUSED, Code.GRID_OVER_LIMIT}
)
_WAITING_CODES = frozenset(
    {
        Code.EV_PV_NO_SURPLUS,
        Code.EV_PV_ENABLE_WAIT,
        Code.EV_PV_SHARE_WAIT,
    }
)


def status_headline(decision: Decision) -> str:
    """What the site is doing, as one of `STATUS_OPTIONS` (translated in the UI).

    It changes when the situation changes, not with every reading, so the
    logbook and the recorder see what matters.
    """
    codes = {reason.code for reason in decision.explanation}
    if codes & _FALLBACK_CODES:
        return "fallback"
    if codes & _GRID_CODES:
        return "grid_limited"
    if any(action.charging for action in decision.actions.vehicles.values()):
        return "charging"
    if codes & _WAITING_CODES:
        return "waiting_for_surplus"
    return "idle"


def _status_value(site: SiteCoordinator) -> str | None:
    return None if site.last is None else status_headline(site.last.decision)


def _status_attributes(site: SiteCoordinator) -> dict[str, Any]:
    last = site.last
    if last is None:
        return {}
    decision = last.decision
    reasons = decision.explanation
    vehicles = decision.actions.vehicles
    # The site's own sentences first, then the loadpoints' (a garage has
    # thousands: only the first few are shown).
    site_first = [r for r in reasons if r.subject in _SITE_SUBJECTS]
    site_first = site_first[:MAX_STATUS_REASONS]
    if len(site_first) < MAX_STATUS_REASONS:
        others = (r for r in reasons if r.subject not in _SITE_SUBJECTS)
        site_first += itertools.islice(others, MAX_STATUS_REASONS - len(site_first))
    return {
        "summary": status_summary(decision),
        "codes": sorted({r.code.value for r in reasons}),
        "explanation": [r.as_dict() for r in site_first],
        "battery": decision.actions.battery_dict(),
        "loads": decision.actions.loads.as_dict(),
        "vehicles": len(vehicles),
        "charging": sum(1 for a in vehicles.values() if a.charging),
        "errors": last.errors[:MAX_STATUS_REASONS],
    }


def _shed_w(site: SiteCoordinator) -> float | None:
    return None if site.last is None else site.last.decision.actions.loads.shed_w


@dataclass(frozen=True, kw_only=True)
class SiteSensorEntityDescription(SensorEntityDescription):
    """A sensor of the site or one of its parts."""

    part: str
    value_fn: Callable[[SiteCoordinator], StateType | datetime]
    attributes_fn: Callable[[SiteCoordinator], dict[str, Any]] | None = None
    #: Option keys of the source entities whose state changes it follows.
    sources: tuple[str, ...] = ()
    #: Whether the site has this sensor (its source is configured).
    exists_fn: Callable[[SiteCoordinator], bool] = lambda _: True


def _configured(*keys: str) -> Callable[[SiteCoordinator], bool]:
    return lambda site: any(site.options.get(key) for key in keys)


SITE_SENSORS: tuple[SiteSensorEntityDescription, ...] = (
    SiteSensorEntityDescription(
        key="grid_power",
        translation_key="grid_power",
        part=SITE,
        device_class=SensorDeviceClass.POWER,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfPower.WATT,
        suggested_display_precision=0,
        sources=(CONF_GRID_POWER,),
        exists_fn=_configured(CONF_GRID_POWER),
        value_fn=lambda site: rounded(site.reader.grid_w()),
    ),
    SiteSensorEntityDescription(
        key="surplus_power",
        translation_key="surplus_power",
        part=SITE,
        device_class=SensorDeviceClass.POWER,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfPower.WATT,
        suggested_display_precision=0,
        sources=(CONF_GRID_POWER, CONF_BATTERY_POWER),
        exists_fn=_configured(CONF_GRID_POWER),
        value_fn=lambda site: rounded(surplus_w(site)),
    ),
    SiteSensorEntityDescription(
        key=COORDINATOR_STATUS,
        translation_key="coordinator_status",
        part=SITE,
        device_class=SensorDeviceClass.ENUM,
        options=STATUS_OPTIONS,
        value_fn=_status_value,
        attributes_fn=_status_attributes,
    ),
    SiteSensorEntityDescription(
        # When the decision last changed (not every run: that is not news).
        key="last_decision",
        translation_key="last_decision",
        part=SITE,
        device_class=SensorDeviceClass.TIMESTAMP,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda site: None if site.last is None else site.last.changed_at,
    ),
    SiteSensorEntityDescription(
        key="solar_power",
        translation_key="solar_power",
        part=SOLAR,
        device_class=SensorDeviceClass.POWER,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfPower.WATT,
        suggested_display_precision=0,
        sources=(CONF_PV_POWER,),
        value_fn=lambda site: rounded(site.reader.pv_w()),
    ),
    SiteSensorEntityDescription(
        key="battery_soc",
        translation_key="battery_soc",
        part=BATTERY,
        device_class=SensorDeviceClass.BATTERY,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=PERCENTAGE,
        suggested_display_precision=0,
        sources=(CONF_BATTERY_SOC,),
        exists_fn=_configured(CONF_BATTERY_SOC),
        value_fn=lambda site: rounded(site.reader.battery_soc_pct()),
    ),
    SiteSensorEntityDescription(
        key="battery_power",
        translation_key="battery_power",
        part=BATTERY,
        device_class=SensorDeviceClass.POWER,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfPower.WATT,
        suggested_display_precision=0,
        sources=(CONF_BATTERY_POWER,),
        exists_fn=_configured(CONF_BATTERY_POWER),
        value_fn=lambda site: rounded(site.reader.battery_w()),
    ),
    SiteSensorEntityDescription(
        key="battery_command_power",
        translation_key="battery_command_power",
        part=BATTERY,
        device_class=SensorDeviceClass.POWER,
        native_unit_of_measurement=UnitOfPower.WATT,
        suggested_display_precision=0,
        value_fn=lambda site: site.battery_command.power_w,
    ),
    SiteSensorEntityDescription(
        key="house_power",
        translation_key="house_power",
        part=HOUSE,
        device_class=SensorDeviceClass.POWER,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfPower.WATT,
        suggested_display_precision=0,
        sources=(CONF_HOUSE_POWER, CONF_PV_POWER, CONF_GRID_POWER, CONF_BATTERY_POWER),
        value_fn=lambda site: rounded(house_w(site)[0]),
        attributes_fn=lambda site: {"derived": house_w(site)[1]},
    ),
    SiteSensorEntityDescription(
        key="shed_power",
        translation_key="shed_power",
        part=HOUSE,
        device_class=SensorDeviceClass.POWER,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfPower.WATT,
        suggested_display_precision=0,
        value_fn=lambda site: rounded(_shed_w(site)),
        attributes_fn=lambda site: {
            "loads": []
            if site.last is None
            else list(site.last.decision.actions.loads.shed)
        },
    ),
)

SOLAR_ENERGY_TODAY = SensorEntityDescription(
    key="solar_energy_today",
    translation_key="solar_energy_today",
    device_class=SensorDeviceClass.ENERGY,
    state_class=SensorStateClass.TOTAL_INCREASING,
    native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
    suggested_display_precision=2,
)


@dataclass(frozen=True, kw_only=True)
class LoadpointSensorEntityDescription(SensorEntityDescription):
    """A sensor of one EV loadpoint."""

    value_fn: Callable[[ChargerState, ConnectorState], StateType]
    #: Unavailable while the charger is offline (a live measurement).
    measured: bool = False


LOADPOINT_SENSORS: tuple[LoadpointSensorEntityDescription, ...] = (
    LoadpointSensorEntityDescription(
        key="charging_power",
        entity_registry_enabled_default=False,
        translation_key="charging_power",
        device_class=SensorDeviceClass.POWER,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfPower.WATT,
        suggested_display_precision=0,
        measured=True,
        value_fn=lambda charger, conn: rounded(loadpoint_power_w(charger, conn)),
    ),
    LoadpointSensorEntityDescription(
        key="session_energy",
        entity_registry_enabled_default=False,
        translation_key="session_energy",
        device_class=SensorDeviceClass.ENERGY,
        state_class=SensorStateClass.TOTAL_INCREASING,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        suggested_display_precision=2,
        value_fn=lambda charger, conn: None
        if conn.energy_unconfirmed
        else round(conn.last_session_energy_wh / 1000, 4),
    ),
)

VEHICLE_SOC = SensorEntityDescription(
    key="vehicle_soc",
    translation_key="vehicle_soc",
    device_class=SensorDeviceClass.BATTERY,
    state_class=SensorStateClass.MEASUREMENT,
    native_unit_of_measurement=PERCENTAGE,
    suggested_display_precision=0,
)

#: Every description of this module (for the translation checks).
DESCRIPTIONS: tuple[SensorEntityDescription, ...] = (
    *SITE_SENSORS,
    SOLAR_ENERGY_TODAY,
    *LOADPOINT_SENSORS,
    VEHICLE_SOC,
)


@callback
def async_setup_site_sensors(
    hass: HomeAssistant,
    entry: EnergyCoordinatorConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the site's sensors (the loadpoints' come from `loadpoint_sensors`)."""
    site = entry.runtime_data.site
    parts = async_ensure_site_devices(hass, entry)
    entities: list[SensorEntity] = [
        CoordinatorStatusSensor(site, description, entry.runtime_data.entities)
        if description.key == COORDINATOR_STATUS
        else SiteSensorEntity(site, description)
        for description in SITE_SENSORS
        if description.part in parts and description.exists_fn(site)
    ]
    if SOLAR in parts:
        entities.append(SolarEnergyTodaySensor(site, SOLAR_ENERGY_TODAY))
    async_add_entities(entities)


def loadpoint_sensors(
    site: SiteCoordinator, charger: ChargerState, connector_id: int
) -> Iterable[LoadpointEntity]:
    """The sensors of one EV loadpoint (for the entity tracker)."""
    return [
        *(
            LoadpointSensorEntity(site, charger, connector_id, description)
            for description in LOADPOINT_SENSORS
        ),
        VehicleSocSensor(site, charger, connector_id, VEHICLE_SOC),
    ]


class SiteSensorEntity(SiteEntity, SensorEntity):
    """A sensor of the site or one of its parts."""

    entity_description: SiteSensorEntityDescription
    # The explanation and actions are for the UI, not for the database.
    _unrecorded_attributes = frozenset(
        {
            "summary",
            "codes",
            "explanation",
            "battery",
            "loads",
            "vehicles",
            "charging",
            "errors",
            "loadpoints",
            "loadpoints_total",
        }
    )

    def __init__(
        self, site: SiteCoordinator, description: SiteSensorEntityDescription
    ) -> None:
        """Bind the sensor to its site part."""
        super().__init__(
            site,
            description,
            site_device_info(site, description.part),
            f"{site.entry_id}_{description.key}",
            description.part,
        )

    @property
    def native_value(self) -> StateType | datetime:
        """The site's value."""
        return self.entity_description.value_fn(self.site)

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """Details, when the sensor has any."""
        if self.entity_description.attributes_fn is None:
            return None
        return self.entity_description.attributes_fn(self.site)

    def source_entity_ids(self) -> list[str]:
        """The configured sources this sensor shows."""
        options = self.site.options
        return [
            str(options[key])
            for key in self.entity_description.sources
            if options.get(key)
        ]

    def shown(self) -> Any:
        """The value and the attributes."""
        return (self.native_value, self.extra_state_attributes)


class CoordinatorStatusSensor(SiteSensorEntity):
    """What the coordinator does, and each EV loadpoint and why (for the cards)."""

    def __init__(
        self,
        site: SiteCoordinator,
        description: SiteSensorEntityDescription,
        index: EntityIndex,
    ) -> None:
        """Bind the sensor to the site and its entity index."""
        super().__init__(site, description)
        self._entity_index = index

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """The decision's details, then the loadpoints (`loadpoint_status`)."""
        attributes = super().extra_state_attributes
        if not attributes:
            return attributes
        listed, total = loadpoint_status(
            self.hass, self.site.entry_id, self.site, self._entity_index
        )
        return {**attributes, "loadpoints": listed, "loadpoints_total": total}


@dataclass
class SolarEnergyStoredData(SensorExtraStoredData):
    """What solar energy today keeps across restarts: the day and its energy."""

    energy_wh: float
    day: str
    meter_wh: float | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return super().as_dict() | {
            "energy_wh": self.energy_wh,
            "day": self.day,
            "meter_wh": self.meter_wh,
        }


class SolarEnergyTodaySensor(SiteEntity, RestoreSensor):
    """PV energy produced today: the solar meter's rise, or the PV power integrated
    (left Riemann sum) without a meter."""

    def __init__(
        self, site: SiteCoordinator, description: SensorEntityDescription
    ) -> None:
        """Start at 0 for today; restored when added."""
        super().__init__(
            site,
            description,
            site_device_info(site, SOLAR),
            f"{site.entry_id}_{description.key}",
            SOLAR,
        )
        self._energy_wh = 0.0
        self._day: date = dt_util.now().date()
        self._power_w: float | None = None  # the last value, counted until the next
        self._since: datetime | None = None
        #: The solar meter's entity, and its reading counted up to (Wh).
        self._meter: str | None = site.options.get(CONF_PV_ENERGY) or None
        self._meter_wh: float | None = None

    @property
    def native_value(self) -> float:
        """kWh produced today."""
        return round(self._energy_wh / 1000, 3)

    @property
    def extra_restore_state_data(self) -> SolarEnergyStoredData:
        """The energy at full precision and the day it belongs to."""
        return SolarEnergyStoredData(
            self.native_value,
            self.native_unit_of_measurement,
            self._energy_wh,
            self._day.isoformat(),
            self._meter_wh,
        )

    def source_entity_ids(self) -> list[str]:
        """The solar meter, else the PV power source."""
        entity_id = self._meter or self.site.options.get(CONF_PV_POWER)
        return [str(entity_id)] if entity_id else []

    def shown(self) -> Any:
        """The value."""
        return self.native_value

    async def async_added_to_hass(self) -> None:
        """Restore today's energy, then count the meter or the PV power from now."""
        now = dt_util.utcnow()
        self._day = dt_util.as_local(now).date()
        if (extra := await self.async_get_last_extra_data()) is not None:
            stored = extra.as_dict()
            energy, meter = stored.get("energy_wh"), stored.get("meter_wh")
            if stored.get("day") == self._day.isoformat() and isinstance(
                energy, int | float
            ):
                self._energy_wh = max(0.0, float(energy))
                if isinstance(meter, int | float):
                    self._meter_wh = float(meter)
        if self._meter is not None:
            self._count_meter(energy_wh(self.hass.states.get(self._meter)))
        else:
            self._power_w = self.site.reader.pv_w()
        self._since = now
        await super().async_added_to_hass()
        self.async_on_remove(
            async_track_time_change(
                self.hass, self._midnight, hour=0, minute=0, second=0
            )
        )

    @callback
    def _source_changed(self, event: Event[EventStateChangedData]) -> None:
        new_state = event.data["new_state"]
        at = new_state.last_updated if new_state is not None else dt_util.utcnow()
        self._advance(at)
        if self._meter is not None:
            self._count_meter(energy_wh(new_state))
        else:
            self._power_w = power_w(new_state)
        self._refresh()

    def _count_meter(self, reading: float | None) -> None:
        """Add what the meter rose since the reading counted last."""
        if reading is None:  # unavailable: the next reading counts the gap
            return
        last = self._meter_wh
        if last is not None and reading < last:
            if reading >= 0.9 * last:
                return  # a dip: keep counting from the higher reading
            last = 0.0  # a new meter (or a reset one) counts from 0
        if last is not None:
            self._energy_wh += reading - last
        self._meter_wh = reading

    @callback
    def _midnight(self, now: datetime) -> None:
        self._advance(dt_util.utcnow())
        self._refresh()

    def _advance(self, now: datetime) -> None:
        """Count the last power up to `now`, starting a new day at midnight."""
        today = dt_util.as_local(now).date()
        if today != self._day:
            self._integrate(dt_util.start_of_local_day(today))
            self._energy_wh = 0.0
            self._day = today
        self._integrate(now)

    def _integrate(self, until: datetime) -> None:
        if self._since is not None and self._power_w is not None:
            seconds = (until - self._since).total_seconds()
            if seconds > 0:
                self._energy_wh += max(0.0, self._power_w) * seconds / 3600
        if self._since is None or until > self._since:
            self._since = until


class LoadpointSensorEntity(LoadpointEntity, SensorEntity):
    """A sensor of one EV loadpoint."""

    entity_description: LoadpointSensorEntityDescription
    _follows_charger = True

    def __init__(
        self,
        site: SiteCoordinator,
        charger: ChargerState,
        connector_id: int,
        description: LoadpointSensorEntityDescription,
    ) -> None:
        """Bind the sensor to its loadpoint."""
        super().__init__(site, charger, connector_id, description)
        self._follows_charger_availability = description.measured

    @property
    def native_value(self) -> StateType:
        """The loadpoint's value."""
        return self.entity_description.value_fn(self.charger, self.connector)

    def shown(self) -> Any:
        """The value."""
        return self.native_value


class VehicleSocSensor(LoadpointEntity, SensorEntity):
    """The vehicle's state of charge: its entity, the charger, or an estimate."""

    _follows_charger = True

    def __init__(
        self,
        site: SiteCoordinator,
        charger: ChargerState,
        connector_id: int,
        description: SensorEntityDescription,
    ) -> None:
        """Bind the sensor to its loadpoint."""
        super().__init__(site, charger, connector_id, description)
        self._value: float | None = None
        self._source: str | None = None
        # (session start, SoC, session Wh) when a SoC was last known.
        self._anchor: tuple[datetime, float, float] | None = None
        self._soc_entity: str | None = None
        self._unsub_soc: CALLBACK_TYPE | None = None

    @property
    def native_value(self) -> float | None:
        """The SoC in %."""
        return self._value

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """Where the value comes from."""
        return {"source": self._source}

    def reported(self) -> bool:
        """Once the vehicle's SoC can be known or the loadpoint charges to a
        target (the SoC is then estimated from the energy charged)."""
        return self.site.soc_matters(self.lp_id, self.connector)

    def shown(self) -> Any:
        """Work the value out (and remember a known SoC for estimates)."""
        self._value, self._source = self._soc()
        return (self._value, self._source)

    def _soc(self) -> tuple[float | None, str | None]:
        settings = self.site.settings(self.lp_id)
        conn = self.connector
        tx = conn.transaction
        known: tuple[float | None, str | None] = (None, None)
        if entity_id := settings.vehicle_soc_entity:
            known = (number(self.hass.states.get(entity_id)), "entity")
        if known[0] is None and conn.meter.soc_percent is not None:
            known = (conn.meter.soc_percent, "charger")
        if known[0] is not None:
            if tx is not None:
                self._anchor = (tx.start_time, known[0], tx.energy_wh)
            return round(known[0], 1), known[1]
        anchor = self._anchor
        capacity = settings.vehicle_capacity_kwh
        if tx is None or anchor is None or anchor[0] != tx.start_time or capacity <= 0:
            return None, None
        charged_kwh = (tx.energy_wh - anchor[2]) / 1000
        return round(min(100.0, anchor[1] + 100 * charged_kwh / capacity), 1), (
            "estimate"
        )

    async def async_added_to_hass(self) -> None:
        """Follow the vehicle SoC entity too."""
        await super().async_added_to_hass()
        self._follow_soc_entity()
        self.async_on_remove(self._stop_following)

    @callback
    def _refresh(self) -> None:
        self._follow_soc_entity()
        super()._refresh()

    @callback
    def _follow_soc_entity(self) -> None:
        wanted = self.site.settings(self.lp_id).vehicle_soc_entity
        if wanted == self._soc_entity:
            return
        self._stop_following()
        self._soc_entity = wanted
        if wanted:
            self._unsub_soc = async_track_state_change_event(
                self.hass, [wanted], self._source_changed
            )

    @callback
    def _stop_following(self) -> None:
        if self._unsub_soc is not None:
            self._unsub_soc()
            self._unsub_soc = None
        self._soc_entity = None
