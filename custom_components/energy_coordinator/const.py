"""Constants of the Energy Coordinator integration."""

from __future__ import annotations

from typing import Final

DOMAIN: Final = "energy_coordinator"

CONF_SITE_NAME: Final = "site_name"
CONF_OCPP_PORT: Final = "ocpp_port"
#: The address the OCPP server listens on (an IP address of this host).
CONF_OCPP_HOST: Final = "ocpp_host"
CONF_SSL_CERTFILE: Final = "ssl_certfile"
CONF_SSL_KEYFILE: Final = "ssl_keyfile"
CONF_CHARGER_PASSWORD: Final = "charger_password"
CONF_CHARGER_POLICY: Final = "charger_policy"
CONF_TAG_POLICY: Final = "tag_policy"
CONF_REMOTE_ID_TAG: Final = "remote_id_tag"
CONF_HEARTBEAT_INTERVAL: Final = "heartbeat_interval"
#: Whether chargers and EVs get their entities that are disabled by default.
CONF_DETAIL_ENTITIES: Final = "detail_entities"

DEFAULT_SITE_NAME: Final = "Home"
DEFAULT_OCPP_PORT: Final = 9000
DEFAULT_REMOTE_ID_TAG: Final = "energy-coordinator"
DEFAULT_HEARTBEAT_INTERVAL: Final = 60
#: Seconds a charger gets to answer a command.
RESPONSE_TIMEOUT: Final = 30.0
#: Address the OCPP server listens on by default: every IPv4 interface, as chargers
#: on the network need.
OCPP_HOST: Final = "0.0.0.0"

SIGNAL_NEW_CHARGER: Final = "energy_coordinator_new_charger_{}"

# Site coordination (sources, limits, battery, actuators, coordination loop).
CONF_PV_POWER: Final = "pv_power_entity"
CONF_PV_ENERGY: Final = "pv_energy_entity"
CONF_GRID_POWER: Final = "grid_power_entity"
CONF_BATTERY_SOC: Final = "battery_soc_entity"
CONF_BATTERY_POWER: Final = "battery_power_entity"
CONF_BATTERY_POWER_SIGN: Final = "battery_power_sign"
CONF_HOUSE_POWER: Final = "house_power_entity"
#: Optional per-line import currents of the grid meter (L1 alone on a 1-phase site).
CONF_GRID_CURRENTS: Final = (
    "grid_current_l1_entity",
    "grid_current_l2_entity",
    "grid_current_l3_entity",
)
CONF_PV_PHASES: Final = "pv_phases"
CONF_BATTERY_PHASES: Final = "battery_phases"
CONF_GRID_LIMIT: Final = "grid_limit"
CONF_GRID_LIMIT_UNIT: Final = "grid_limit_unit"
CONF_SITE_PHASES: Final = "site_phases"
CONF_SITE_VOLTAGE: Final = "site_voltage"
CONF_BATTERY_CAPACITY: Final = "battery_capacity_kwh"
CONF_BATTERY_MAX_CHARGE: Final = "battery_max_charge_w"
CONF_BATTERY_MAX_DISCHARGE: Final = "battery_max_discharge_w"
CONF_BATTERY_PRIORITY_SOC: Final = "battery_priority_soc"
CONF_BATTERY_BUFFER_SOC: Final = "battery_buffer_soc"
CONF_BATTERY_SCRIPT: Final = "battery_script"
CONF_EV_FALLBACK: Final = "ev_fallback"
CONF_SHARING: Final = "charger_sharing"
CONF_LOOP_INTERVAL: Final = "loop_interval"
#: The controller's delays and timers in seconds (the options' "timing" step), and
#: the `ControllerSettings` field each one sets; unset, the core's defaults apply.
TIMING_SETTINGS: Final = {
    "enable_delay": "enable_delay_s",
    "disable_delay": "disable_delay_s",
    "phase_to_1p_delay": "phase_to_1p_delay_s",
    "phase_to_3p_delay": "phase_to_3p_delay_s",
    "phase_settle": "phase_settle_s",
    "share_rotate": "share_rotate_s",
    "load_restore_delay": "load_restore_delay_s",
}

BATTERY_SIGN_CHARGING_POSITIVE: Final = "charging_positive"
BATTERY_SIGN_DISCHARGING_POSITIVE: Final = "discharging_positive"

DEFAULT_SITE_PHASES: Final = 3
DEFAULT_SITE_VOLTAGE: Final = 230
DEFAULT_GRID_LIMIT: Final = 25.0
#: The grid limit is a current per phase or a total power. These are the stored
#: values (lowercase translation keys; config entries before minor version 2
#: stored "A" and "kW").
GRID_LIMIT_UNIT_AMPERE: Final = "ampere"
GRID_LIMIT_UNIT_KILOWATT: Final = "kilowatt"
DEFAULT_GRID_LIMIT_UNIT: Final = GRID_LIMIT_UNIT_AMPERE
DEFAULT_BATTERY_PRIORITY_SOC: Final = 20
DEFAULT_BATTERY_BUFFER_SOC: Final = 80
DEFAULT_LOOP_INTERVAL: Final = 0  # 0: run by an automation (the blueprint)

# Flexible loads are config subentries of this type.
SUBENTRY_FLEXIBLE_LOAD: Final = "flexible_load"
CONF_LOAD_ENTITY: Final = "entity_id"
CONF_LOAD_POWER: Final = "power_w"
CONF_LOAD_PRIORITY: Final = "priority"
#: Deferrable loads (optional fields of a flexible load): the run time it needs a
#: day, within a daily window, and whether it must run in one block.
CONF_LOAD_RUN_HOURS: Final = "run_hours"
CONF_LOAD_WINDOW_START: Final = "window_start"
CONF_LOAD_WINDOW_END: Final = "window_end"
CONF_LOAD_CONTIGUOUS: Final = "contiguous"

# The horizon planner's inputs (options step "Planning").
CONF_PRICE_SOURCE: Final = "price_source"
CONF_PRICE_FIXED: Final = "price_fixed"
CONF_PRICE_TOU: Final = "price_time_of_use"
CONF_PRICE_ENTITY: Final = "price_entity"
CONF_EXPORT_SOURCE: Final = "export_price_source"
CONF_EXPORT_FIXED: Final = "export_price_fixed"
CONF_EXPORT_TOU: Final = "export_price_time_of_use"
CONF_EXPORT_ENTITY: Final = "export_price_entity"
CONF_PV_FORECAST: Final = "pv_forecast"
CONF_PV_FORECAST_ENTITIES: Final = "pv_forecast_entities"
CONF_LOAD_FORECAST: Final = "load_forecast"
CONF_FLAT_LOAD: Final = "flat_load_kw"
CONF_BATTERY_EFFICIENCY: Final = "battery_efficiency"
CONF_BATTERY_CYCLE_COST: Final = "battery_cycle_cost"
CONF_BATTERY_MIN_SOC: Final = "battery_min_soc"
CONF_PLAN_HOURS: Final = "plan_hours"

#: Price sources: none (the plan uses solar and the deadlines only), a fixed price,
#: a time-of-use schedule, or a price entity whose attributes carry the forecast.
PRICE_NONE: Final = "none"
PRICE_FIXED: Final = "fixed"
PRICE_TOU: Final = "time_of_use"
PRICE_ENTITY: Final = "entity"
PRICE_SOURCES: Final = (PRICE_NONE, PRICE_FIXED, PRICE_TOU, PRICE_ENTITY)
#: PV forecasts: the recorder's production history (persistence), the Energy
#: dashboard's solar forecast (Forecast.Solar, Solcast, ...), or forecast sensors.
PV_FORECAST_HISTORY: Final = "history"
PV_FORECAST_ENERGY: Final = "energy"
PV_FORECAST_ENTITY: Final = "entity"
PV_FORECASTS: Final = (PV_FORECAST_HISTORY, PV_FORECAST_ENERGY, PV_FORECAST_ENTITY)
#: House load forecasts: the recorder's history, or a flat estimate.
LOAD_FORECAST_HISTORY: Final = "history"
LOAD_FORECAST_FLAT: Final = "flat"
LOAD_FORECASTS: Final = (LOAD_FORECAST_HISTORY, LOAD_FORECAST_FLAT)

DEFAULT_FLAT_LOAD: Final = 0.45
DEFAULT_BATTERY_EFFICIENCY: Final = 90
DEFAULT_BATTERY_MIN_SOC: Final = 10
DEFAULT_PLAN_HOURS: Final = 48
