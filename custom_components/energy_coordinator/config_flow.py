"""Config flow: the site and its OCPP server, options, reconfigure, charger approval.

Owns the forms and their validation (a port that is taken, a certificate that does not
load) and the discovery step that asks the owner to add a charger that booted under
the `ask` policy. The planner's forms (options *Planning*, a flexible load's run
time and window) are built in `plan_flow`.
"""

from __future__ import annotations

import errno
import ipaddress
import socket
import ssl
from pathlib import Path
from typing import Any

import voluptuous as vol
from homeassistant.config_entries import (
    ConfigEntry,
    ConfigEntryState,
    ConfigFlow,
    ConfigFlowResult,
    ConfigSubentryFlow,
    OptionsFlow,
    SubentryFlowResult,
)
from homeassistant.const import (
    ATTR_UNIT_OF_MEASUREMENT,
    PERCENTAGE,
    UnitOfElectricCurrent,
    UnitOfPower,
)
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.selector import (
    BooleanSelector,
    EntitySelector,
    EntitySelectorConfig,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)
from homeassistant.util.unit_conversion import EnergyConverter

from .central_system import build_ssl_context
from .const import (
    BATTERY_SIGN_CHARGING_POSITIVE,
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
    CONF_CHARGER_PASSWORD,
    CONF_CHARGER_POLICY,
    CONF_DETAIL_ENTITIES,
    CONF_EV_FALLBACK,
    CONF_GRID_CURRENTS,
    CONF_GRID_LIMIT,
    CONF_GRID_LIMIT_UNIT,
    CONF_GRID_POWER,
    CONF_HEARTBEAT_INTERVAL,
    CONF_HOUSE_POWER,
    CONF_LOAD_ENTITY,
    CONF_LOAD_POWER,
    CONF_LOAD_PRIORITY,
    CONF_LOOP_INTERVAL,
    CONF_OCPP_HOST,
    CONF_OCPP_PORT,
    CONF_PV_ENERGY,
    CONF_PV_PHASES,
    CONF_PV_POWER,
    CONF_REMOTE_ID_TAG,
    CONF_SHARING,
    CONF_SITE_NAME,
    CONF_SITE_PHASES,
    CONF_SITE_VOLTAGE,
    CONF_SSL_CERTFILE,
    CONF_SSL_KEYFILE,
    CONF_TAG_POLICY,
    DEFAULT_BATTERY_BUFFER_SOC,
    DEFAULT_BATTERY_PRIORITY_SOC,
    DEFAULT_GRID_LIMIT,
    DEFAULT_GRID_LIMIT_UNIT,
    DEFAULT_HEARTBEAT_INTERVAL,
    DEFAULT_LOOP_INTERVAL,
    DEFAULT_OCPP_PORT,
    DEFAULT_REMOTE_ID_TAG,
    DEFAULT_SITE_NAME,
    DEFAULT_SITE_PHASES,
    DEFAULT_SITE_VOLTAGE,
    DOMAIN,
    GRID_LIMIT_UNIT_AMPERE,
    GRID_LIMIT_UNIT_KILOWATT,
    OCPP_HOST,
    SUBENTRY_FLEXIBLE_LOAD,
    TIMING_SETTINGS,
)
from .energy.settings import DEFAULT_SETTINGS
from .plan_flow import (
    PLANNING_KEYS,
    deferrable_fields,
    needs_sources,
    normalize_planning,
    number_box,
    planning_schema,
    sources_schema,
    validate_deferrable,
)
from .plan_flow import (
    SOURCE_KEYS as PLANNING_SOURCE_KEYS,
)
from .plan_flow import (
    validate_sources as validate_planning_sources,
)
from .runtime import EnergyCoordinatorConfigEntry

CHARGER_POLICIES = ["ask", "accept", "reject"]
SERVER_KEYS = (
    CONF_OCPP_PORT,
    CONF_OCPP_HOST,
    CONF_SSL_CERTFILE,
    CONF_SSL_KEYFILE,
    CONF_CHARGER_PASSWORD,
    CONF_CHARGER_POLICY,
    CONF_TAG_POLICY,
    CONF_REMOTE_ID_TAG,
    CONF_HEARTBEAT_INTERVAL,
    CONF_DETAIL_ENTITIES,
)
LIMIT_KEYS = (
    CONF_GRID_LIMIT,
    CONF_GRID_LIMIT_UNIT,
    CONF_SITE_PHASES,
    CONF_SITE_VOLTAGE,
    CONF_PV_PHASES,
    CONF_BATTERY_PHASES,
    CONF_BATTERY_CAPACITY,
    CONF_BATTERY_MAX_CHARGE,
    CONF_BATTERY_MAX_DISCHARGE,
    CONF_BATTERY_PRIORITY_SOC,
    CONF_BATTERY_BUFFER_SOC,
    CONF_EV_FALLBACK,
    CONF_SHARING,
)
TAG_POLICIES = ["accept", "reject"]


def _server_schema(values: dict[str, Any], *, advanced: bool) -> dict[Any, Any]:
    fields: dict[Any, Any] = {
        vol.Required(
            CONF_OCPP_PORT, default=values.get(CONF_OCPP_PORT, DEFAULT_OCPP_PORT)
        ): NumberSelector(
            NumberSelectorConfig(min=1, max=65535, step=1, mode=NumberSelectorMode.BOX)
        ),
        vol.Required(
            CONF_OCPP_HOST, default=values.get(CONF_OCPP_HOST) or OCPP_HOST
        ): TextSelector(),
        vol.Optional(
            CONF_SSL_CERTFILE,
            description={"suggested_value": values.get(CONF_SSL_CERTFILE)},
        ): TextSelector(),
        vol.Optional(
            CONF_SSL_KEYFILE,
            description={"suggested_value": values.get(CONF_SSL_KEYFILE)},
        ): TextSelector(),
        vol.Optional(
            CONF_CHARGER_PASSWORD,
            description={"suggested_value": values.get(CONF_CHARGER_PASSWORD)},
        ): TextSelector(TextSelectorConfig(type=TextSelectorType.PASSWORD)),
        vol.Required(
            CONF_CHARGER_POLICY, default=values.get(CONF_CHARGER_POLICY, "ask")
        ): SelectSelector(
            SelectSelectorConfig(
                options=CHARGER_POLICIES,
                translation_key=CONF_CHARGER_POLICY,
                mode=SelectSelectorMode.LIST,
            )
        ),
    }
    if advanced:
        fields |= {
            vol.Required(
                CONF_TAG_POLICY, default=values.get(CONF_TAG_POLICY, "accept")
            ): SelectSelector(
                SelectSelectorConfig(
                    options=TAG_POLICIES,
                    translation_key=CONF_TAG_POLICY,
                    mode=SelectSelectorMode.LIST,
                )
            ),
            vol.Required(
                CONF_REMOTE_ID_TAG,
                default=values.get(CONF_REMOTE_ID_TAG, DEFAULT_REMOTE_ID_TAG),
            ): TextSelector(),
            vol.Required(
                CONF_HEARTBEAT_INTERVAL,
                default=values.get(CONF_HEARTBEAT_INTERVAL, DEFAULT_HEARTBEAT_INTERVAL),
            ): NumberSelector(
                NumberSelectorConfig(
                    min=10,
                    max=86400,
                    step=1,
                    unit_of_measurement="s",
                    mode=NumberSelectorMode.BOX,
                )
            ),
            vol.Required(
                CONF_DETAIL_ENTITIES, default=values.get(CONF_DETAIL_ENTITIES, True)
            ): BooleanSelector(),
        }
    return fields


def _bind_error(host: str, port: int) -> str | None:
    """Why the OCPP server could not listen on host:port, None if it can (blocking).

    Port 0 checks only that the address belongs to this host.
    """
    version = ipaddress.ip_address(host).version
    family = socket.AF_INET6 if version == 6 else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as err:
            if err.errno in (errno.EADDRINUSE, errno.EACCES):
                return "port_in_use"
            return "address_not_available"
    return None


async def _validate_server(
    hass: HomeAssistant,
    user_input: dict[str, Any],
    own_entry: EnergyCoordinatorConfigEntry | None,
) -> dict[str, str]:
    """Form errors for the server settings (empty when valid)."""
    errors: dict[str, str] = {}
    port = int(user_input[CONF_OCPP_PORT])
    user_input[CONF_OCPP_PORT] = port
    try:
        address = str(user_input.get(CONF_OCPP_HOST) or OCPP_HOST).strip()
        host = str(ipaddress.ip_address(address))
    except ValueError:
        errors[CONF_OCPP_HOST] = "invalid_address"
        host = OCPP_HOST
    user_input[CONF_OCPP_HOST] = host
    own_port: int | None = None
    if own_entry is not None and own_entry.state is ConfigEntryState.LOADED:
        own_port = own_entry.runtime_data.system.config.port
    for other in hass.config_entries.async_entries(DOMAIN, include_ignore=False):
        if other is own_entry:
            continue
        if {**other.data, **other.options}.get(CONF_OCPP_PORT) == port:
            errors[CONF_OCPP_PORT] = "port_in_use"
    if not errors:
        # The site's own server holds its port until the reload: check the
        # address alone then.
        bind_port = 0 if port == own_port else port
        error = await hass.async_add_executor_job(_bind_error, host, bind_port)
        if error == "port_in_use":
            errors[CONF_OCPP_PORT] = error
        elif error is not None:
            errors[CONF_OCPP_HOST] = error

    certfile = (user_input.get(CONF_SSL_CERTFILE) or "").strip()
    keyfile = (user_input.get(CONF_SSL_KEYFILE) or "").strip()
    user_input[CONF_SSL_CERTFILE] = certfile
    user_input[CONF_SSL_KEYFILE] = keyfile
    if bool(certfile) != bool(keyfile):
        errors["base"] = "certificate_pair"
    elif certfile:
        if not await hass.async_add_executor_job(Path(certfile).is_file):
            errors[CONF_SSL_CERTFILE] = "file_not_found"
        elif not await hass.async_add_executor_job(Path(keyfile).is_file):
            errors[CONF_SSL_KEYFILE] = "file_not_found"
        else:
            try:
                await hass.async_add_executor_job(build_ssl_context, certfile, keyfile)
            except (OSError, ssl.SSLError):
                errors["base"] = "invalid_certificate"
    user_input[CONF_CHARGER_PASSWORD] = user_input.get(CONF_CHARGER_PASSWORD) or ""
    return errors


POWER_UNITS = {UnitOfPower.WATT, UnitOfPower.KILO_WATT}
SOURCE_KEYS = (
    CONF_PV_POWER,
    CONF_PV_ENERGY,
    CONF_GRID_POWER,
    CONF_BATTERY_SOC,
    CONF_BATTERY_POWER,
    CONF_HOUSE_POWER,
    *CONF_GRID_CURRENTS,
)


def _power_entity() -> EntitySelector:
    return EntitySelector(EntitySelectorConfig(domain="sensor", device_class="power"))


def _current_entity() -> EntitySelector:
    return EntitySelector(EntitySelectorConfig(domain="sensor", device_class="current"))


def _phases() -> SelectSelector:
    return SelectSelector(
        SelectSelectorConfig(options=["1", "3"], translation_key="phases")
    )


def _optional(key: str, values: dict[str, Any]) -> vol.Optional:
    return vol.Optional(key, description={"suggested_value": values.get(key)})


def _sources_schema(values: dict[str, Any]) -> vol.Schema:
    return vol.Schema(
        {
            _optional(CONF_PV_POWER, values): _power_entity(),
            _optional(CONF_PV_ENERGY, values): EntitySelector(
                EntitySelectorConfig(domain="sensor", device_class="energy")
            ),
            _optional(CONF_GRID_POWER, values): _power_entity(),
            _optional(CONF_BATTERY_SOC, values): EntitySelector(
                EntitySelectorConfig(domain="sensor", device_class="battery")
            ),
            _optional(CONF_BATTERY_POWER, values): _power_entity(),
            vol.Required(
                CONF_BATTERY_POWER_SIGN,
                default=values.get(
                    CONF_BATTERY_POWER_SIGN, BATTERY_SIGN_CHARGING_POSITIVE
                ),
            ): SelectSelector(
                SelectSelectorConfig(
                    options=[
                        BATTERY_SIGN_CHARGING_POSITIVE,
                        BATTERY_SIGN_DISCHARGING_POSITIVE,
                    ],
                    translation_key=CONF_BATTERY_POWER_SIGN,
                )
            ),
            _optional(CONF_HOUSE_POWER, values): _power_entity(),
            _optional(CONF_GRID_CURRENTS[0], values): _current_entity(),
            _optional(CONF_GRID_CURRENTS[1], values): _current_entity(),
            _optional(CONF_GRID_CURRENTS[2], values): _current_entity(),
        }
    )


def _limits_schema(values: dict[str, Any]) -> vol.Schema:
    def default(key: str, fallback: Any) -> dict[str, Any]:
        return {"default": values.get(key, fallback)}

    return vol.Schema(
        {
            vol.Required(
                CONF_GRID_LIMIT, **default(CONF_GRID_LIMIT, DEFAULT_GRID_LIMIT)
            ): number_box(0, 1000, 0.1),
            vol.Required(
                CONF_GRID_LIMIT_UNIT,
                **default(CONF_GRID_LIMIT_UNIT, DEFAULT_GRID_LIMIT_UNIT),
            ): SelectSelector(
                SelectSelectorConfig(
                    options=[GRID_LIMIT_UNIT_AMPERE, GRID_LIMIT_UNIT_KILOWATT],
                    translation_key=CONF_GRID_LIMIT_UNIT,
                )
            ),
            vol.Required(
                CONF_SITE_PHASES,
                default=str(values.get(CONF_SITE_PHASES, DEFAULT_SITE_PHASES)),
            ): _phases(),
            vol.Required(
                CONF_SITE_VOLTAGE, **default(CONF_SITE_VOLTAGE, DEFAULT_SITE_VOLTAGE)
            ): number_box(100, 480, 1, "V"),
            vol.Required(
                CONF_PV_PHASES, default=str(values.get(CONF_PV_PHASES, 1))
            ): _phases(),
            vol.Required(
                CONF_BATTERY_PHASES, default=str(values.get(CONF_BATTERY_PHASES, 1))
            ): _phases(),
            _optional(CONF_BATTERY_CAPACITY, values): number_box(0, 1000, 0.1, "kWh"),
            _optional(CONF_BATTERY_MAX_CHARGE, values): number_box(0, 100000, 1, "W"),
            _optional(CONF_BATTERY_MAX_DISCHARGE, values): number_box(
                0, 100000, 1, "W"
            ),
            vol.Required(
                CONF_BATTERY_PRIORITY_SOC,
                **default(CONF_BATTERY_PRIORITY_SOC, DEFAULT_BATTERY_PRIORITY_SOC),
            ): number_box(0, 100, 1, PERCENTAGE),
            vol.Required(
                CONF_BATTERY_BUFFER_SOC,
                **default(CONF_BATTERY_BUFFER_SOC, DEFAULT_BATTERY_BUFFER_SOC),
            ): number_box(0, 100, 1, PERCENTAGE),
            vol.Required(
                CONF_EV_FALLBACK, **default(CONF_EV_FALLBACK, "pause")
            ): SelectSelector(
                SelectSelectorConfig(
                    options=["pause", "minimum"], translation_key=CONF_EV_FALLBACK
                )
            ),
            vol.Required(CONF_SHARING, **default(CONF_SHARING, "fair")): SelectSelector(
                SelectSelectorConfig(
                    options=["fair", "priority"], translation_key=CONF_SHARING
                )
            ),
        }
    )


def _actuators_schema(values: dict[str, Any]) -> vol.Schema:
    return vol.Schema(
        {
            _optional(CONF_BATTERY_SCRIPT, values): EntitySelector(
                EntitySelectorConfig(domain="script")
            ),
            vol.Required(
                CONF_LOOP_INTERVAL,
                default=values.get(CONF_LOOP_INTERVAL, DEFAULT_LOOP_INTERVAL),
            ): number_box(0, 3600, 1, "s"),
        }
    )


def _timing_schema(values: dict[str, Any]) -> vol.Schema:
    """The controller's delays, in seconds (the core's defaults when unset)."""
    return vol.Schema(
        {
            vol.Required(
                key,
                default=getattr(DEFAULT_SETTINGS, field)
                if values.get(key) is None
                else values[key],
            ): number_box(0, 86400, 1, "s")
            for key, field in TIMING_SETTINGS.items()
        }
    )


def _validate_sources(
    hass: HomeAssistant, user_input: dict[str, Any]
) -> dict[str, str]:
    """Each source must exist and report power in W/kW, or SoC in %."""
    errors: dict[str, str] = {}
    for key in SOURCE_KEYS:
        entity_id = user_input.get(key)
        if not entity_id:
            user_input.pop(key, None)
            continue
        state = hass.states.get(entity_id)
        if state is None:
            errors[key] = "entity_not_found"
            continue
        unit = state.attributes.get(ATTR_UNIT_OF_MEASUREMENT)
        if key == CONF_BATTERY_SOC:
            if unit != PERCENTAGE:
                errors[key] = "not_percentage"
        elif key in CONF_GRID_CURRENTS:
            if unit != UnitOfElectricCurrent.AMPERE:
                errors[key] = "not_current"
        elif key == CONF_PV_ENERGY:
            if unit not in EnergyConverter.VALID_UNITS:
                errors[key] = "not_energy"
        elif unit not in POWER_UNITS:
            errors[key] = "not_power"
    # Per-line currents: L1 alone (a one-phase site) or all three lines.
    given = [bool(user_input.get(key)) for key in CONF_GRID_CURRENTS]
    if any(given) and given not in ([True, False, False], [True, True, True]):
        missing = CONF_GRID_CURRENTS[given.index(False)]
        errors.setdefault(missing, "grid_currents_incomplete")
    return errors


def _validate_limits(user_input: dict[str, Any]) -> dict[str, str]:
    errors: dict[str, str] = {}
    for key in (CONF_SITE_PHASES, CONF_PV_PHASES, CONF_BATTERY_PHASES):
        user_input[key] = int(user_input[key])
    priority = user_input[CONF_BATTERY_PRIORITY_SOC]
    if user_input[CONF_BATTERY_BUFFER_SOC] < priority:
        errors[CONF_BATTERY_BUFFER_SOC] = "buffer_below_priority"
    return errors


def _validate_actuators(user_input: dict[str, Any]) -> dict[str, str]:
    user_input[CONF_LOOP_INTERVAL] = int(user_input[CONF_LOOP_INTERVAL])
    if 0 < user_input[CONF_LOOP_INTERVAL] < 5:
        return {CONF_LOOP_INTERVAL: "loop_too_fast"}
    if not user_input.get(CONF_BATTERY_SCRIPT):
        user_input.pop(CONF_BATTERY_SCRIPT, None)
    return {}


class EnergyCoordinatorConfigFlow(ConfigFlow, domain=DOMAIN):
    """Set up a site's central system; approve chargers that ask to join."""

    VERSION = 1
    #: 1.2: charger devices and entities scoped by the entry; 1.3: grid_limit_unit
    #: stores "ampere"/"kilowatt" (was "A"/"kW"). See async_migrate_entry.
    MINOR_VERSION = 3

    def __init__(self) -> None:
        """Start a flow."""
        self._discovery: dict[str, str] = {}
        self._data: dict[str, Any] = {}

    @classmethod
    @callback
    def async_get_supported_subentry_types(
        cls, config_entry: ConfigEntry
    ) -> dict[str, type[ConfigSubentryFlow]]:
        """Flexible loads are added to a site as subentries."""
        return {SUBENTRY_FLEXIBLE_LOAD: FlexibleLoadFlow}

    async def async_step_sources(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Which of the owner's entities measure PV, grid, battery and house."""
        errors: dict[str, str] = {}
        if user_input is not None:
            errors = _validate_sources(self.hass, user_input)
            if not errors:
                self._data |= user_input
                return await self.async_step_limits()
        return self.async_show_form(
            step_id="sources",
            data_schema=_sources_schema(user_input or {}),
            errors=errors,
        )

    async def async_step_limits(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Grid connection, battery size and thresholds, EV policies."""
        errors: dict[str, str] = {}
        if user_input is not None:
            errors = _validate_limits(user_input)
            if not errors:
                self._data |= user_input
                return await self.async_step_actuators()
        return self.async_show_form(
            step_id="limits",
            data_schema=_limits_schema(user_input or {}),
            errors=errors,
        )

    async def async_step_actuators(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """How the battery is commanded and who runs the coordination."""
        errors: dict[str, str] = {}
        if user_input is not None:
            errors = _validate_actuators(user_input)
            if not errors:
                self._data |= user_input
                return self.async_create_entry(
                    title=self._data[CONF_SITE_NAME], data=self._data
                )
        return self.async_show_form(
            step_id="actuators",
            data_schema=_actuators_schema(user_input or {}),
            errors=errors,
        )

    @staticmethod
    @callback
    def async_get_options_flow(
        config_entry: EnergyCoordinatorConfigEntry,
    ) -> EnergyCoordinatorOptionsFlow:
        """Options: the same server settings plus tags and heartbeat."""
        return EnergyCoordinatorOptionsFlow()

    async def async_step_user(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The site name and OCPP server settings."""
        errors: dict[str, str] = {}
        if user_input is not None:
            errors = await _validate_server(self.hass, user_input, None)
            if not errors:
                self._data = dict(user_input)
                return await self.async_step_sources()
        values = user_input or {}
        schema = vol.Schema(
            {
                vol.Required(
                    CONF_SITE_NAME,
                    default=values.get(CONF_SITE_NAME, DEFAULT_SITE_NAME),
                ): TextSelector(),
                **_server_schema(values, advanced=False),
            }
        )
        return self.async_show_form(step_id="user", data_schema=schema, errors=errors)

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change the site name and server settings of an existing entry."""
        entry: EnergyCoordinatorConfigEntry = self._get_reconfigure_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            errors = await _validate_server(self.hass, user_input, entry)
            if not errors:
                options = {
                    k: v for k, v in entry.options.items() if k not in user_input
                }
                return self.async_update_reload_and_abort(
                    entry,
                    title=user_input[CONF_SITE_NAME],
                    data_updates=user_input,
                    options=options,
                )
        values = user_input or {**entry.data, **entry.options}
        schema = vol.Schema(
            {
                vol.Required(
                    CONF_SITE_NAME, default=values.get(CONF_SITE_NAME, entry.title)
                ): TextSelector(),
                **_server_schema(values, advanced=False),
            }
        )
        return self.async_show_form(
            step_id="reconfigure", data_schema=schema, errors=errors
        )

    async def async_step_integration_discovery(
        self, discovery_info: dict[str, Any]
    ) -> ConfigFlowResult:
        """A charger booted that the owner has not added yet."""
        charger_id = str(discovery_info["charger_id"])
        entry_id = str(discovery_info["entry_id"])
        await self.async_set_unique_id(f"{entry_id}_{charger_id}")
        self._abort_if_unique_id_configured()
        self._discovery = {
            "entry_id": entry_id,
            "charger_id": charger_id,
            "vendor": str(discovery_info.get("vendor") or "?"),
            "model": str(discovery_info.get("model") or "?"),
        }
        self.context["title_placeholders"] = {"charger_id": charger_id}
        return await self.async_step_confirm_charger()

    async def async_step_confirm_charger(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask the owner to add the charger."""
        entry = self.hass.config_entries.async_get_entry(self._discovery["entry_id"])
        if entry is None or entry.state is not ConfigEntryState.LOADED:
            return self.async_abort(reason="site_not_loaded")
        if user_input is not None:
            await entry.runtime_data.system.approve(self._discovery["charger_id"])
            return self.async_abort(
                reason="charger_added",
                description_placeholders={"charger_id": self._discovery["charger_id"]},
            )
        return self.async_show_form(
            step_id="confirm_charger",
            description_placeholders={**self._discovery, "site": entry.title},
        )


class EnergyCoordinatorOptionsFlow(OptionsFlow):
    """Every setting of a site, one menu entry per step."""

    _loadpoint: str = ""
    _planning: dict[str, Any] | None = None

    def _values(self) -> dict[str, Any]:
        return {**self.config_entry.data, **self.config_entry.options}

    def _save(
        self, user_input: dict[str, Any], keys: tuple[str, ...]
    ) -> ConfigFlowResult:
        options = {k: v for k, v in self._values().items() if k not in keys}
        options.pop(CONF_SITE_NAME, None)
        # A cleared optional field is stored as None so the entry data's value
        # does not come back.
        options |= dict.fromkeys(keys) | user_input
        return self.async_create_entry(data=options)

    async def async_step_init(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Choose what to change."""
        return self.async_show_menu(
            step_id="init",
            menu_options=[
                "central_system",
                "sources",
                "limits",
                "actuators",
                "timing",
                "planning",
                "vehicles",
            ],
        )

    async def async_step_central_system(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The OCPP server, chargers and id tags."""
        entry: EnergyCoordinatorConfigEntry = self.config_entry
        errors: dict[str, str] = {}
        if user_input is not None:
            errors = await _validate_server(self.hass, user_input, entry)
            if not errors:
                user_input[CONF_HEARTBEAT_INTERVAL] = int(
                    user_input[CONF_HEARTBEAT_INTERVAL]
                )
                return self._save(user_input, SERVER_KEYS)
        values = user_input or self._values()
        return self.async_show_form(
            step_id="central_system",
            data_schema=vol.Schema(_server_schema(values, advanced=True)),
            errors=errors,
        )

    async def async_step_sources(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The measuring entities."""
        errors: dict[str, str] = {}
        if user_input is not None:
            errors = _validate_sources(self.hass, user_input)
            if not errors:
                return self._save(user_input, (*SOURCE_KEYS, CONF_BATTERY_POWER_SIGN))
        return self.async_show_form(
            step_id="sources",
            data_schema=_sources_schema(user_input or self._values()),
            errors=errors,
        )

    async def async_step_limits(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Grid connection, battery and EV policies."""
        errors: dict[str, str] = {}
        if user_input is not None:
            errors = _validate_limits(user_input)
            if not errors:
                return self._save(user_input, LIMIT_KEYS)
        return self.async_show_form(
            step_id="limits",
            data_schema=_limits_schema(user_input or self._values()),
            errors=errors,
        )

    async def async_step_actuators(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Battery command script and the built-in loop."""
        errors: dict[str, str] = {}
        if user_input is not None:
            errors = _validate_actuators(user_input)
            if not errors:
                return self._save(user_input, (CONF_BATTERY_SCRIPT, CONF_LOOP_INTERVAL))
        return self.async_show_form(
            step_id="actuators",
            data_schema=_actuators_schema(user_input or self._values()),
            errors=errors,
        )

    async def async_step_timing(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The controller's delays and timers."""
        if user_input is not None:
            return self._save(
                {key: float(value) for key, value in user_input.items()},
                tuple(TIMING_SETTINGS),
            )
        return self.async_show_form(
            step_id="timing", data_schema=_timing_schema(self._values())
        )

    async def async_step_planning(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Where prices and forecasts come from; the battery's economics."""
        currency = self.hass.config.currency
        if user_input is not None:
            normalize_planning(user_input)
            if needs_sources(user_input):
                self._planning = user_input
                return await self.async_step_planning_sources()
            return self._save(user_input, (*PLANNING_KEYS, *PLANNING_SOURCE_KEYS))
        return self.async_show_form(
            step_id="planning",
            data_schema=planning_schema(self._values(), currency),
            description_placeholders={"currency": currency},
        )

    async def async_step_planning_sources(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The prices, schedules, price entities and forecast sensors chosen."""
        choices = self._planning or {}
        currency = self.hass.config.currency
        errors: dict[str, str] = {}
        if user_input is not None:
            errors = validate_planning_sources(self.hass, user_input)
            if not errors:
                return self._save(
                    {**choices, **user_input}, (*PLANNING_KEYS, *PLANNING_SOURCE_KEYS)
                )
        return self.async_show_form(
            step_id="planning_sources",
            data_schema=sources_schema(choices, user_input or self._values(), currency),
            description_placeholders={"currency": currency},
            errors=errors,
        )

    async def async_step_vehicles(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Choose the loadpoint (charger connector) whose vehicle to set up."""
        entry: EnergyCoordinatorConfigEntry = self.config_entry
        if entry.state is not ConfigEntryState.LOADED:
            return self.async_abort(reason="site_not_loaded")
        loadpoints = [lp for lp, _, _ in entry.runtime_data.site.loadpoint_connectors()]
        if not loadpoints:
            return self.async_abort(reason="no_loadpoints")
        if user_input is not None:
            self._loadpoint = user_input["loadpoint"]
            return await self.async_step_vehicle()
        return self.async_show_form(
            step_id="vehicles",
            data_schema=vol.Schema(
                {
                    vol.Required("loadpoint", default=loadpoints[0]): SelectSelector(
                        SelectSelectorConfig(options=loadpoints)
                    )
                }
            ),
        )

    async def async_step_vehicle(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The vehicle's SoC source and the loadpoint's priority."""
        entry: EnergyCoordinatorConfigEntry = self.config_entry
        site = entry.runtime_data.site
        settings = site.settings(self._loadpoint)
        errors: dict[str, str] = {}
        if user_input is not None:
            soc_entity = user_input.get("vehicle_soc_entity") or None
            if soc_entity is not None:
                state = self.hass.states.get(soc_entity)
                if state is None:
                    errors["vehicle_soc_entity"] = "entity_not_found"
                elif state.attributes.get(ATTR_UNIT_OF_MEASUREMENT) != PERCENTAGE:
                    errors["vehicle_soc_entity"] = "not_percentage"
            if not errors:
                site.update_settings(
                    self._loadpoint,
                    vehicle_soc_entity=soc_entity,
                    priority=int(user_input["priority"]),
                )
                await site.async_save()
                return self.async_create_entry(data=dict(entry.options))
        return self.async_show_form(
            step_id="vehicle",
            data_schema=vol.Schema(
                {
                    vol.Optional(
                        "vehicle_soc_entity",
                        description={"suggested_value": settings.vehicle_soc_entity},
                    ): EntitySelector(EntitySelectorConfig(domain="sensor")),
                    vol.Required("priority", default=settings.priority): number_box(
                        0, 100, 1
                    ),
                }
            ),
            description_placeholders={"loadpoint": self._loadpoint},
            errors=errors,
        )


class FlexibleLoadFlow(ConfigSubentryFlow):
    """Add or change a load the coordinator may switch off; with a run time, the
    planner also runs it in the cheapest (or sunniest) hours of its window."""

    def _schema(self, values: dict[str, Any]) -> vol.Schema:
        return vol.Schema(
            {
                vol.Required(
                    CONF_LOAD_ENTITY,
                    default=values.get(CONF_LOAD_ENTITY, vol.UNDEFINED),
                ): EntitySelector(
                    EntitySelectorConfig(domain=["switch", "input_boolean"])
                ),
                vol.Required(
                    CONF_LOAD_POWER, default=values.get(CONF_LOAD_POWER, vol.UNDEFINED)
                ): number_box(1, 100000, 1, "W"),
                vol.Required(
                    CONF_LOAD_PRIORITY, default=values.get(CONF_LOAD_PRIORITY, 0)
                ): number_box(0, 100, 1),
                **deferrable_fields(values),
            }
        )

    def _validate(
        self, user_input: dict[str, Any], current: str | None
    ) -> dict[str, str]:
        user_input[CONF_LOAD_PRIORITY] = int(user_input[CONF_LOAD_PRIORITY])
        user_input[CONF_LOAD_POWER] = float(user_input[CONF_LOAD_POWER])
        if errors := validate_deferrable(user_input):
            return errors
        entity_id = user_input[CONF_LOAD_ENTITY]
        if self.hass.states.get(entity_id) is None:
            return {CONF_LOAD_ENTITY: "entity_not_found"}
        for subentry in self._get_entry().subentries.values():
            if (
                subentry.subentry_type == SUBENTRY_FLEXIBLE_LOAD
                and subentry.data.get(CONF_LOAD_ENTITY) == entity_id
                and subentry.subentry_id != current
            ):
                return {CONF_LOAD_ENTITY: "load_already_added"}
        return {}

    def _title(self, entity_id: str) -> str:
        state = self.hass.states.get(entity_id)
        return state.name if state is not None else entity_id

    async def async_step_user(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """A switch or input_boolean with its power and priority."""
        errors: dict[str, str] = {}
        if user_input is not None:
            errors = self._validate(user_input, None)
            if not errors:
                return self.async_create_entry(
                    title=self._title(user_input[CONF_LOAD_ENTITY]),
                    data=user_input,
                    unique_id=user_input[CONF_LOAD_ENTITY],
                )
        return self.async_show_form(
            step_id="user", data_schema=self._schema(user_input or {}), errors=errors
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Change a load's power or priority."""
        subentry = self._get_reconfigure_subentry()
        errors: dict[str, str] = {}
        if user_input is not None:
            errors = self._validate(user_input, subentry.subentry_id)
            if not errors:
                return self.async_update_and_abort(
                    self._get_entry(),
                    subentry,
                    title=self._title(user_input[CONF_LOAD_ENTITY]),
                    data=user_input,
                    unique_id=user_input[CONF_LOAD_ENTITY],
                )
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=self._schema(user_input or dict(subentry.data)),
            errors=errors,
        )
