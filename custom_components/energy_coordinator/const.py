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
