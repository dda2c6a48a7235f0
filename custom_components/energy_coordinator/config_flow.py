"""Config flow: the site and its OCPP server, options, reconfigure, charger approval.

Owns the forms and their validation (a port that is taken, a certificate that does not
load) and the discovery step that asks the owner to add a charger that booted under
the `ask` policy.
"""

from __future__ import annotations

import errno
import socket
import ssl
from pathlib import Path
from typing import Any

import voluptuous as vol
from homeassistant.config_entries import (
    ConfigEntryState,
    ConfigFlow,
    ConfigFlowResult,
    OptionsFlow,
)
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.selector import (
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

from . import build_ssl_context
from .const import (
    CONF_CHARGER_PASSWORD,
    CONF_CHARGER_POLICY,
    CONF_HEARTBEAT_INTERVAL,
    CONF_OCPP_PORT,
    CONF_REMOTE_ID_TAG,
    CONF_SITE_NAME,
    CONF_SSL_CERTFILE,
    CONF_SSL_KEYFILE,
    CONF_TAG_POLICY,
    DEFAULT_HEARTBEAT_INTERVAL,
    DEFAULT_OCPP_PORT,
    DEFAULT_REMOTE_ID_TAG,
    DEFAULT_SITE_NAME,
    DOMAIN,
    OCPP_HOST,
)
from .runtime import EnergyCoordinatorConfigEntry

CHARGER_POLICIES = ["ask", "accept", "reject"]
TAG_POLICIES = ["accept", "reject"]


def _server_schema(values: dict[str, Any], *, advanced: bool) -> dict[Any, Any]:
    fields: dict[Any, Any] = {
        vol.Required(
            CONF_OCPP_PORT, default=values.get(CONF_OCPP_PORT, DEFAULT_OCPP_PORT)
        ): NumberSelector(
            NumberSelectorConfig(min=1, max=65535, step=1, mode=NumberSelectorMode.BOX)
        ),
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
        }
    return fields


def _port_free(port: int) -> bool:
    """Whether the OCPP port can be bound (blocking)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((OCPP_HOST, port))
        except OSError as err:
            if err.errno in (errno.EADDRINUSE, errno.EACCES):
                return False
            raise
    return True


async def _validate_server(
    hass: HomeAssistant,
    user_input: dict[str, Any],
    own_entry: EnergyCoordinatorConfigEntry | None,
) -> dict[str, str]:
    """Form errors for the server settings (empty when valid)."""
    errors: dict[str, str] = {}
    port = int(user_input[CONF_OCPP_PORT])
    user_input[CONF_OCPP_PORT] = port
    own_port: int | None = None
    if own_entry is not None and own_entry.state is ConfigEntryState.LOADED:
        own_port = own_entry.runtime_data.system.config.port
    for other in hass.config_entries.async_entries(DOMAIN, include_ignore=False):
        if other is own_entry:
            continue
        if {**other.data, **other.options}.get(CONF_OCPP_PORT) == port:
            errors[CONF_OCPP_PORT] = "port_in_use"
    if (
        not errors
        and port != own_port
        and not await hass.async_add_executor_job(_port_free, port)
    ):
        errors[CONF_OCPP_PORT] = "port_in_use"

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


class EnergyCoordinatorConfigFlow(ConfigFlow, domain=DOMAIN):
    """Set up a site's central system; approve chargers that ask to join."""

    VERSION = 1

    def __init__(self) -> None:
        """Start a flow."""
        self._discovery: dict[str, str] = {}

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
                return self.async_create_entry(
                    title=user_input[CONF_SITE_NAME], data=user_input
                )
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
    """Server, charger and tag settings of a loaded site."""

    async def async_step_init(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """One form with every setting."""
        entry: EnergyCoordinatorConfigEntry = self.config_entry
        errors: dict[str, str] = {}
        if user_input is not None:
            errors = await _validate_server(self.hass, user_input, entry)
            if not errors:
                user_input[CONF_HEARTBEAT_INTERVAL] = int(
                    user_input[CONF_HEARTBEAT_INTERVAL]
                )
                return self.async_create_entry(data=user_input)
        values = user_input or {**entry.data, **entry.options}
        return self.async_show_form(
            step_id="init",
            data_schema=vol.Schema(_server_schema(values, advanced=True)),
            errors=errors,
        )
