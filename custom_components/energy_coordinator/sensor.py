"""Sensor entities of chargers and their connectors.

Charger: status (connector 0 / the station), last seen, firmware status, OCPP
version. Connector: status, error code, power, current, voltage, the monotonic energy
total, the session's energy, duration and id tag, the current limit, and (disabled by
default) SoC, offered current and temperature.

The energy sensors are Energy-dashboard ready and stay available while the charger is
offline: their values come from the session store, which the central system loads at
start, so they keep their value across HA restarts and never step backwards.

The site's sensors (site, solar, battery, house, EV loadpoints) are in `site_sensor`,
the horizon plan's in `plan_sensor`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import (
    PERCENTAGE,
    EntityCategory,
    UnitOfElectricCurrent,
    UnitOfElectricPotential,
    UnitOfEnergy,
    UnitOfPower,
    UnitOfTemperature,
    UnitOfTime,
)
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.event import async_track_time_interval
from homeassistant.helpers.typing import StateType
from homeassistant.util import dt as dt_util

from .csms.model import ChargerState, ConnectorState, ConnectorStatus
from .entity import ChargerEntity
from .entity_tracker import async_setup_tracked_entities
from .plan_sensor import PlanSensor
from .runtime import EnergyCoordinatorConfigEntry
from .site_sensor import async_setup_site_sensors, loadpoint_sensors

PARALLEL_UPDATES = 0

#: How often a running session's duration is refreshed between charger messages.
DURATION_REFRESH = timedelta(minutes=1)

# "unknown" and "unavailable" are HA's own states: the model's UNKNOWN shows as
# unknown (None) and its UNAVAILABLE (inoperative connector) as "inoperative".
_STATUS_OPTION = {
    status: status.value
    for status in ConnectorStatus
    if status not in (ConnectorStatus.UNKNOWN, ConnectorStatus.UNAVAILABLE)
} | {ConnectorStatus.UNAVAILABLE: "inoperative"}
STATUS_OPTIONS = list(_STATUS_OPTION.values())


PHASES = ("L1", "L2", "L3")


def status_option(status: ConnectorStatus) -> str | None:
    """The sensor option of a connector status (None when unknown)."""
    return _STATUS_OPTION.get(status)


def phase_attributes(values: dict[str, float]) -> dict[str, float]:
    """Per-phase values as attributes `l1`..`l3` (phases the charger reported)."""
    return {phase.lower(): values[phase] for phase in PHASES if phase in values}


def session_duration_min(conn: ConnectorState) -> int | None:
    """Whole minutes of the running session, else of the last one."""
    if conn.transaction is not None:
        end = dt_util.utcnow()
        start = conn.transaction.start_time
    elif conn.last_session_start is not None and conn.last_session_stop is not None:
        start = conn.last_session_start
        end = conn.last_session_stop
    else:
        return None
    return max(0, int((end - start).total_seconds() // 60))


def session_id_tag(conn: ConnectorState) -> str | None:
    """Id tag of the running session, else of the last one."""
    if conn.transaction is not None:
        return conn.transaction.id_tag
    return conn.last_session_id_tag


def _wh_to_kwh(value: float | None) -> float | None:
    return None if value is None else round(value / 1000, 4)


def error_code(conn: ConnectorState) -> str | None:
    """The connector's error code; NoError once its status is known."""
    if conn.error_code:
        return conn.error_code
    return None if conn.status == ConnectorStatus.UNKNOWN else "NoError"


@dataclass(frozen=True, kw_only=True)
class ChargerSensorEntityDescription(SensorEntityDescription):
    """A sensor of a whole charger."""

    value_fn: Callable[[ChargerState], StateType | datetime]
    #: Reported only sometimes: the entity is created once the charger reports it.
    reported_fn: Callable[[ChargerState], bool] | None = None


@dataclass(frozen=True, kw_only=True)
class ConnectorSensorEntityDescription(SensorEntityDescription):
    """A sensor of one connector."""

    value_fn: Callable[[ConnectorState], StateType | datetime]
    attributes_fn: Callable[[ConnectorState], dict[str, Any]] | None = None
    #: Shown from stored data while the charger is offline.
    always_available: bool = False
    #: Changes with time alone (refreshed every DURATION_REFRESH).
    ticks: bool = False
    #: An optional measurand: the entity is created once the charger reports it.
    reported_fn: Callable[[ConnectorState], bool] | None = None


CHARGER_SENSORS: tuple[ChargerSensorEntityDescription, ...] = (
    ChargerSensorEntityDescription(
        key="status",
        entity_registry_enabled_default=False,
        translation_key="status",
        device_class=SensorDeviceClass.ENUM,
        options=STATUS_OPTIONS,
        # Connector 0 of OCPP 1.6; 2.0.1 chargers report per EVSE only.
        reported_fn=lambda charger: charger.status is not ConnectorStatus.UNKNOWN,
        value_fn=lambda charger: status_option(charger.status),
    ),
    ChargerSensorEntityDescription(
        key="last_seen",
        translation_key="last_seen",
        device_class=SensorDeviceClass.TIMESTAMP,
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        value_fn=lambda charger: charger.last_seen,
    ),
    ChargerSensorEntityDescription(
        key="firmware_status",
        translation_key="firmware_status",
        entity_category=EntityCategory.DIAGNOSTIC,
        reported_fn=lambda charger: charger.firmware_status is not None,
        value_fn=lambda charger: charger.firmware_status,
    ),
)

CONNECTOR_SENSORS: tuple[ConnectorSensorEntityDescription, ...] = (
    ConnectorSensorEntityDescription(
        key="connector_status",
        translation_key="connector_status",
        device_class=SensorDeviceClass.ENUM,
        options=STATUS_OPTIONS,
        value_fn=lambda conn: status_option(conn.status),
    ),
    ConnectorSensorEntityDescription(
        key="error_code",
        translation_key="error_code",
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=error_code,
        attributes_fn=lambda conn: {
            "vendor_error_code": conn.vendor_error,
            "info": conn.info,
        },
    ),
    ConnectorSensorEntityDescription(
        key="power",
        device_class=SensorDeviceClass.POWER,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfPower.WATT,
        suggested_display_precision=0,
        value_fn=lambda conn: conn.meter.power_w,
    ),
    ConnectorSensorEntityDescription(
        key="current",
        entity_registry_enabled_default=False,
        translation_key="current",
        device_class=SensorDeviceClass.CURRENT,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfElectricCurrent.AMPERE,
        suggested_display_precision=1,
        value_fn=lambda conn: conn.meter.current_a,
        attributes_fn=lambda conn: phase_attributes(conn.meter.current_phases_a),
    ),
    ConnectorSensorEntityDescription(
        key="voltage",
        entity_registry_enabled_default=False,
        translation_key="voltage",
        device_class=SensorDeviceClass.VOLTAGE,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfElectricPotential.VOLT,
        suggested_display_precision=0,
        value_fn=lambda conn: conn.meter.voltage_v,
        attributes_fn=lambda conn: phase_attributes(conn.meter.voltage_phases_v),
    ),
    ConnectorSensorEntityDescription(
        key="energy",
        translation_key="energy_total",
        device_class=SensorDeviceClass.ENERGY,
        state_class=SensorStateClass.TOTAL_INCREASING,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        suggested_display_precision=2,
        always_available=True,
        value_fn=lambda conn: _wh_to_kwh(conn.energy_total_wh),
    ),
    ConnectorSensorEntityDescription(
        key="session_energy",
        translation_key="session_energy",
        device_class=SensorDeviceClass.ENERGY,
        state_class=SensorStateClass.TOTAL_INCREASING,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        suggested_display_precision=2,
        always_available=True,
        value_fn=lambda conn: _wh_to_kwh(conn.last_session_energy_wh),
    ),
    ConnectorSensorEntityDescription(
        key="session_duration",
        entity_registry_enabled_default=False,
        translation_key="session_duration",
        device_class=SensorDeviceClass.DURATION,
        native_unit_of_measurement=UnitOfTime.MINUTES,
        suggested_display_precision=0,
        ticks=True,
        value_fn=session_duration_min,
    ),
    ConnectorSensorEntityDescription(
        key="current_limit",
        entity_registry_enabled_default=False,
        translation_key="current_limit",
        device_class=SensorDeviceClass.CURRENT,
        native_unit_of_measurement=UnitOfElectricCurrent.AMPERE,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda conn: conn.current_limit_a,
    ),
    ConnectorSensorEntityDescription(
        key="id_tag",
        translation_key="id_tag",
        value_fn=session_id_tag,
    ),
    ConnectorSensorEntityDescription(
        key="soc",
        translation_key="soc",
        device_class=SensorDeviceClass.BATTERY,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=PERCENTAGE,
        entity_registry_enabled_default=False,
        reported_fn=lambda conn: conn.meter.soc_percent is not None,
        value_fn=lambda conn: conn.meter.soc_percent,
    ),
    ConnectorSensorEntityDescription(
        key="current_offered",
        translation_key="current_offered",
        device_class=SensorDeviceClass.CURRENT,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfElectricCurrent.AMPERE,
        suggested_display_precision=1,
        entity_registry_enabled_default=False,
        reported_fn=lambda conn: conn.meter.current_offered_a is not None,
        value_fn=lambda conn: conn.meter.current_offered_a,
    ),
    ConnectorSensorEntityDescription(
        key="temperature",
        device_class=SensorDeviceClass.TEMPERATURE,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfTemperature.CELSIUS,
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        reported_fn=lambda conn: conn.meter.temperature_c is not None,
        value_fn=lambda conn: conn.meter.temperature_c,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: EnergyCoordinatorConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the sensors of every charger and connector, and of the site."""

    def charger_sensors(charger: ChargerState) -> Iterable[ChargerEntity]:
        return [
            ChargerSensorEntity(entry, charger, description)
            for description in CHARGER_SENSORS
        ]

    def connector_sensors(
        charger: ChargerState, connector_id: int
    ) -> Iterable[ChargerEntity]:
        return [
            ConnectorSensorEntity(entry, charger, description, connector_id)
            for description in CONNECTOR_SENSORS
        ]

    async_setup_tracked_entities(
        hass,
        entry,
        async_add_entities,
        charger_sensors,
        connector_sensors,
        loadpoint_sensors,
    )
    async_setup_site_sensors(hass, entry, async_add_entities)
    if (planner := entry.runtime_data.planner) is not None:
        async_add_entities([PlanSensor(entry.runtime_data.site, planner)])


class ChargerSensorEntity(ChargerEntity, SensorEntity):
    """A sensor of a whole charger."""

    entity_description: ChargerSensorEntityDescription

    def reported(self) -> bool:
        """Sensors of occasional reports wait until the charger sends one."""
        reported_fn = self.entity_description.reported_fn
        return reported_fn is None or reported_fn(self.charger)

    @property
    def native_value(self) -> StateType | datetime:
        """The charger's value."""
        return self.entity_description.value_fn(self.charger)

    def shown(self) -> Any:
        """The value."""
        return self.native_value


class ConnectorSensorEntity(ChargerEntity, SensorEntity):
    """A sensor of one connector."""

    entity_description: ConnectorSensorEntityDescription

    def reported(self) -> bool:
        """Optional measurands wait until the charger reports them."""
        reported_fn = self.entity_description.reported_fn
        return reported_fn is None or reported_fn(self.connector)

    @property
    def available(self) -> bool:
        """Stored values stay available while the charger is offline."""
        return self.entity_description.always_available or super().available

    @property
    def native_value(self) -> StateType | datetime:
        """The connector's value."""
        return self.entity_description.value_fn(self.connector)

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """Per-phase values or error details."""
        if self.entity_description.attributes_fn is None:
            return None
        return self.entity_description.attributes_fn(self.connector)

    def shown(self) -> Any:
        """The value and the attributes."""
        return (self.native_value, self.extra_state_attributes)

    async def async_added_to_hass(self) -> None:
        """Follow the charger, and the clock for a running session's duration."""
        await super().async_added_to_hass()
        if self.entity_description.ticks:
            self.async_on_remove(
                async_track_time_interval(self.hass, self._tick, DURATION_REFRESH)
            )

    @callback
    def _tick(self, _now: datetime) -> None:
        self._charger_changed()
