"""Actions (services) of the integration: charger commands, id tags and sessions.

Owns the action schemas, finding the site, charger and connector an action targets
(a charger device, or a connector device of a multi-connector charger), the checks
that turn bad input into a translated `ServiceValidationError` before anything is
sent, and the response data. Charger refusals, time-outs and lost connections become
translated `HomeAssistantError`s through `command_errors`.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast
from urllib.parse import urlsplit

import voluptuous as vol
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import ATTR_DEVICE_ID
from homeassistant.core import (
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
    callback,
)
from homeassistant.exceptions import ServiceValidationError, Unauthorized, UnknownUser
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers import device_registry as dr
from homeassistant.util import dt as dt_util
from homeassistant.util.json import JsonObjectType

from .command_errors import command_errors
from .const import DOMAIN
from .csms.commands import ChargingLimit, IdTagEntry, LimitPurpose, LimitUnit, ResetKind
from .csms.link import ChargePointLink
from .csms.model import ChargerState, OcppVersion
from .csms.server import CentralSystem
from .identifiers import charger_of_device
from .runtime import EnergyCoordinatorConfigEntry
from .site.commands import ChargerCommands

ATTR_CONFIG_ENTRY_ID = "config_entry_id"
ATTR_CONNECTOR_ID = "connector_id"
ATTR_ID_TAG = "id_tag"
ATTR_LIMIT = "limit"
ATTR_UNIT = "unit"
ATTR_PHASES = "phases"
ATTR_DURATION = "duration"
ATTR_PURPOSE = "purpose"
ATTR_KIND = "kind"
ATTR_AVAILABLE = "available"
ATTR_KEYS = "keys"
ATTR_KEY = "key"
ATTR_VALUE = "value"
ATTR_MESSAGE = "message"
ATTR_LOCATION = "location"
ATTR_RETRIEVE_TIME = "retrieve_time"
ATTR_VENDOR_ID = "vendor_id"
ATTR_MESSAGE_ID = "message_id"
ATTR_DATA = "data"
ATTR_NAME = "name"
ATTR_STATUS = "status"
ATTR_EXPIRY = "expiry"
ATTR_START = "start"
ATTR_END = "end"
ATTR_OFFSET = "offset"

SERVICE_START_CHARGING = "start_charging"
SERVICE_STOP_CHARGING = "stop_charging"
SERVICE_SET_CURRENT_LIMIT = "set_current_limit"
SERVICE_CLEAR_CURRENT_LIMIT = "clear_current_limit"
SERVICE_RESET = "reset"
SERVICE_UNLOCK = "unlock"
SERVICE_SET_AVAILABILITY = "set_availability"
SERVICE_GET_CONFIGURATION = "get_configuration"
SERVICE_SET_CONFIGURATION = "set_configuration"
SERVICE_GET_COMPOSITE_SCHEDULE = "get_composite_schedule"
SERVICE_TRIGGER_MESSAGE = "trigger_message"
SERVICE_UPDATE_FIRMWARE = "update_firmware"
SERVICE_REQUEST_DIAGNOSTICS = "request_diagnostics"
SERVICE_DATA_TRANSFER = "data_transfer"
SERVICE_ADD_ID_TAG = "add_id_tag"
SERVICE_REMOVE_ID_TAG = "remove_id_tag"
SERVICE_LIST_ID_TAGS = "list_id_tags"
SERVICE_GET_SESSIONS = "get_sessions"

#: Longest id tag: OCPP 1.6 IdToken is CiString20; the list holds 1.6-sized tags.
MAX_ID_TAG_LENGTH = 20
#: Longest OCPP 2.0.1 IdToken.
MAX_ID_TOKEN_LENGTH_201 = 36
#: Largest page of `get_sessions`.
MAX_SESSIONS_PAGE = 500
#: URL schemes a charger can download firmware from or upload diagnostics to.
TRANSFER_SCHEMES = frozenset({"http", "https", "ftp", "ftps", "sftp"})

#: Trigger options -> requested message for OCPP 1.6 and 2.0.1.
TRIGGER_MESSAGES: dict[str, tuple[str, str]] = {
    "boot_notification": ("BootNotification", "BootNotification"),
    "heartbeat": ("Heartbeat", "Heartbeat"),
    "meter_values": ("MeterValues", "MeterValues"),
    "status_notification": ("StatusNotification", "StatusNotification"),
    "diagnostics_status_notification": (
        "DiagnosticsStatusNotification",
        "LogStatusNotification",
    ),
    "firmware_status_notification": (
        "FirmwareStatusNotification",
        "FirmwareStatusNotification",
    ),
}

#: Tag status options -> OCPP authorization status.
TAG_STATUSES: dict[str, str] = {
    "accepted": "Accepted",
    "blocked": "Blocked",
    "expired": "Expired",
    "invalid": "Invalid",
}

_CONNECTOR = vol.Coerce(int)

CHARGER_SCHEMA = vol.Schema({vol.Required(ATTR_DEVICE_ID): cv.string})
CONNECTOR_SCHEMA = CHARGER_SCHEMA.extend({vol.Optional(ATTR_CONNECTOR_ID): _CONNECTOR})

START_CHARGING_SCHEMA = CONNECTOR_SCHEMA.extend({vol.Optional(ATTR_ID_TAG): cv.string})
SET_CURRENT_LIMIT_SCHEMA = CONNECTOR_SCHEMA.extend(
    {
        vol.Required(ATTR_LIMIT): vol.Coerce(float),
        vol.Optional(ATTR_UNIT, default=LimitUnit.AMPERE): vol.All(
            cv.string, vol.Upper, vol.Coerce(LimitUnit)
        ),
        vol.Optional(ATTR_PHASES): vol.All(vol.Coerce(int), vol.In([1, 3])),
        vol.Optional(ATTR_DURATION): vol.All(vol.Coerce(int), vol.Range(min=1)),
        vol.Optional(ATTR_PURPOSE, default=LimitPurpose.TX_DEFAULT): vol.All(
            cv.string, vol.Lower, vol.Coerce(LimitPurpose)
        ),
    }
)
RESET_SCHEMA = CHARGER_SCHEMA.extend(
    {
        vol.Optional(ATTR_KIND, default=ResetKind.SOFT): vol.All(
            cv.string, vol.Lower, vol.Coerce(ResetKind)
        )
    }
)
SET_AVAILABILITY_SCHEMA = CONNECTOR_SCHEMA.extend(
    {vol.Required(ATTR_AVAILABLE): cv.boolean}
)
GET_CONFIGURATION_SCHEMA = CHARGER_SCHEMA.extend(
    {vol.Optional(ATTR_KEYS): vol.All(cv.ensure_list, [cv.string])}
)
SET_CONFIGURATION_SCHEMA = CHARGER_SCHEMA.extend(
    {vol.Required(ATTR_KEY): cv.string, vol.Required(ATTR_VALUE): cv.string}
)
GET_COMPOSITE_SCHEDULE_SCHEMA = CONNECTOR_SCHEMA.extend(
    {
        vol.Optional(ATTR_DURATION, default=3600): vol.All(
            vol.Coerce(int), vol.Range(min=1)
        ),
        vol.Optional(ATTR_UNIT): vol.All(cv.string, vol.Upper, vol.Coerce(LimitUnit)),
    }
)
TRIGGER_MESSAGE_SCHEMA = CONNECTOR_SCHEMA.extend(
    {vol.Required(ATTR_MESSAGE): vol.In(list(TRIGGER_MESSAGES))}
)
UPDATE_FIRMWARE_SCHEMA = CHARGER_SCHEMA.extend(
    {
        vol.Required(ATTR_LOCATION): cv.string,
        vol.Optional(ATTR_RETRIEVE_TIME): cv.datetime,
    }
)
REQUEST_DIAGNOSTICS_SCHEMA = CHARGER_SCHEMA.extend(
    {vol.Required(ATTR_LOCATION): cv.string}
)
DATA_TRANSFER_SCHEMA = CHARGER_SCHEMA.extend(
    {
        vol.Required(ATTR_VENDOR_ID): cv.string,
        vol.Optional(ATTR_MESSAGE_ID): cv.string,
        vol.Optional(ATTR_DATA): cv.string,
    }
)
SITE_SCHEMA = vol.Schema({vol.Optional(ATTR_CONFIG_ENTRY_ID): cv.string})
ADD_ID_TAG_SCHEMA = SITE_SCHEMA.extend(
    {
        vol.Required(ATTR_ID_TAG): cv.string,
        vol.Required(ATTR_NAME): cv.string,
        vol.Optional(ATTR_STATUS, default="accepted"): vol.All(
            cv.string, vol.Lower, vol.In(list(TAG_STATUSES))
        ),
        vol.Optional(ATTR_EXPIRY): cv.datetime,
    }
)
REMOVE_ID_TAG_SCHEMA = SITE_SCHEMA.extend({vol.Required(ATTR_ID_TAG): cv.string})
GET_SESSIONS_SCHEMA = SITE_SCHEMA.extend(
    {
        vol.Optional(ATTR_DEVICE_ID): cv.string,
        vol.Optional(ATTR_ID_TAG): cv.string,
        vol.Optional(ATTR_START): cv.datetime,
        vol.Optional(ATTR_END): cv.datetime,
        vol.Optional(ATTR_LIMIT, default=50): vol.All(
            vol.Coerce(int), vol.Range(min=1, max=MAX_SESSIONS_PAGE)
        ),
        vol.Optional(ATTR_OFFSET, default=0): vol.All(
            vol.Coerce(int), vol.Range(min=0)
        ),
    }
)


def _invalid(key: str, **placeholders: object) -> ServiceValidationError:
    """A translated validation error."""
    return ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key=key,
        translation_placeholders={k: str(v) for k, v in placeholders.items()},
    )


# Targets -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ChargerTarget:
    """The charger (and connector device) an action was called for."""

    entry: EnergyCoordinatorConfigEntry
    charger: ChargerState
    device_connector: int | None  # set when a connector device was targeted

    @property
    def system(self) -> CentralSystem:
        """The central system of the charger's site."""
        return self.entry.runtime_data.system

    @property
    def charger_id(self) -> str:
        """The charger's id."""
        return self.charger.charger_id

    def connector(
        self, requested: int | None, *, whole_charger: bool = False, default: int = 1
    ) -> int:
        """The connector to act on; 0 (the whole charger) only if `whole_charger`.

        A connector device selects its own connector; otherwise `default` when none
        is given. A connector the charger has not reported is refused.
        """
        if self.device_connector is not None:
            if requested is not None and requested != self.device_connector:
                raise _invalid(
                    "connector_mismatch",
                    connector_id=requested,
                    device_connector=self.device_connector,
                )
            return self.device_connector
        connector_id = default if requested is None else requested
        if connector_id == 0 and whole_charger:
            return 0
        known = sorted(c for c in self.charger.connectors if c > 0) or [1]
        if connector_id not in known:
            raise _invalid(
                "unknown_connector",
                charger=self.charger_id,
                connector_id=connector_id,
                connectors=", ".join(str(c) for c in known),
            )
        return connector_id

    async def send[T](self, command: Callable[[ChargePointLink], Awaitable[T]]) -> T:
        """Run a command on the charger's live connection, errors translated."""
        with command_errors():
            return await command(self.system.link(self.charger_id))

    async def command[T](self, command: Callable[[ChargerCommands], Awaitable[T]]) -> T:
        """Run a person's charging command through the site, errors translated."""
        with command_errors():
            return await command(self.entry.runtime_data.site.commands)


def _loaded_entry(
    hass: HomeAssistant, entry_id: str
) -> EnergyCoordinatorConfigEntry | None:
    entry = hass.config_entries.async_get_entry(entry_id)
    if entry is None or entry.domain != DOMAIN:
        return None
    if entry.state is not ConfigEntryState.LOADED:
        raise _invalid("site_not_loaded", site=entry.title)
    return cast(EnergyCoordinatorConfigEntry, entry)


def _charger_target(hass: HomeAssistant, device_id: str) -> ChargerTarget:
    """Resolve a device id to its loaded site, charger and connector."""
    device = dr.async_get(hass).async_get(device_id)
    if device is None:
        raise _invalid("device_not_found", device_id=device_id)
    identifiers = [ident for domain, ident in device.identifiers if domain == DOMAIN]
    for entry_id in device.config_entries:
        entry = _loaded_entry(hass, entry_id)
        if entry is None:
            continue
        chargers = entry.runtime_data.system.chargers
        for identifier in identifiers:
            found = charger_of_device(entry_id, identifier)
            if found is not None and found[0] in chargers:
                return ChargerTarget(entry, chargers[found[0]], found[1])
    raise _invalid(
        "not_a_charger", device=device.name_by_user or device.name or device.id
    )


def _site(hass: HomeAssistant, entry_id: str | None) -> EnergyCoordinatorConfigEntry:
    """The site an action is for: the given entry, or the only loaded one."""
    if entry_id is not None:
        entry = _loaded_entry(hass, entry_id)
        if entry is None:
            raise _invalid("site_not_found", config_entry_id=entry_id)
        return entry
    loaded = hass.config_entries.async_loaded_entries(DOMAIN)
    if not loaded:
        raise _invalid("no_site_loaded")
    if len(loaded) > 1:
        raise _invalid("site_required")
    return cast(EnergyCoordinatorConfigEntry, loaded[0])


def _target(call: ServiceCall) -> ChargerTarget:
    return _charger_target(call.hass, call.data[ATTR_DEVICE_ID])


def _location(value: str) -> str:
    """A URL a charger can transfer a file to or from."""
    parts = urlsplit(value)
    if parts.scheme.lower() not in TRANSFER_SCHEMES or not parts.netloc:
        raise _invalid("invalid_location", location=value)
    return value


# Charger commands ----------------------------------------------------------------


async def _start_charging(call: ServiceCall) -> ServiceResponse:
    target = _target(call)
    connector_id = target.connector(call.data.get(ATTR_CONNECTOR_ID))
    id_tag = call.data.get(ATTR_ID_TAG) or target.system.config.remote_id_tag
    longest = (
        MAX_ID_TOKEN_LENGTH_201
        if target.charger.ocpp_version == OcppVersion.V201
        else MAX_ID_TAG_LENGTH
    )
    if len(id_tag) > longest:
        raise _invalid("invalid_id_tag", id_tag=id_tag, max=longest)
    return _json(
        await target.command(
            lambda commands: commands.start(target.charger_id, connector_id, id_tag)
        )
    )


async def _stop_charging(call: ServiceCall) -> ServiceResponse:
    target = _target(call)
    connector_id = target.connector(call.data.get(ATTR_CONNECTOR_ID))
    connector = target.charger.connectors.get(connector_id)
    if connector is None or connector.transaction is None:
        raise _invalid(
            "no_transaction", charger=target.charger_id, connector_id=connector_id
        )
    return _json(
        await target.command(
            lambda commands: commands.stop(target.charger_id, connector_id)
        )
    )


async def _set_current_limit(call: ServiceCall) -> ServiceResponse:
    target = _target(call)
    value: float = call.data[ATTR_LIMIT]
    if not math.isfinite(value) or value < 0:
        raise _invalid("negative_limit", limit=value)
    purpose: LimitPurpose = call.data[ATTR_PURPOSE]
    requested: int | None = call.data.get(ATTR_CONNECTOR_ID)
    if purpose is LimitPurpose.CHARGE_POINT_MAX:
        # The charger-wide maximum always sits on connector 0.
        if target.device_connector is not None or requested not in (None, 0):
            raise _invalid("charge_point_max_connector")
        connector_id = 0
    else:
        connector_id = target.connector(requested, whole_charger=True)
    limit = ChargingLimit(
        value=value,
        unit=call.data[ATTR_UNIT],
        connector_id=connector_id,
        phases=call.data.get(ATTR_PHASES),
        duration_s=call.data.get(ATTR_DURATION),
        purpose=purpose,
    )
    return _json(
        await target.command(
            lambda commands: commands.set_limit(target.charger_id, limit)
        )
    )


async def _clear_current_limit(call: ServiceCall) -> ServiceResponse:
    target = _target(call)
    # Without a connector, every limit we set on the charger goes.
    connector_id = target.connector(
        call.data.get(ATTR_CONNECTOR_ID), whole_charger=True, default=0
    )
    return _json(
        await target.command(
            lambda commands: commands.clear_limit(target.charger_id, connector_id)
        )
    )


async def _reset(call: ServiceCall) -> None:
    target = _target(call)
    kind: ResetKind = call.data[ATTR_KIND]
    await target.send(lambda link: link.reset(kind))


async def _unlock(call: ServiceCall) -> None:
    target = _target(call)
    connector_id = target.connector(call.data.get(ATTR_CONNECTOR_ID))
    await target.send(lambda link: link.unlock(connector_id))


async def _set_availability(call: ServiceCall) -> None:
    target = _target(call)
    connector_id = target.connector(
        call.data.get(ATTR_CONNECTOR_ID), whole_charger=True
    )
    available: bool = call.data[ATTR_AVAILABLE]
    await target.send(lambda link: link.set_availability(connector_id, available))


async def _get_configuration(call: ServiceCall) -> ServiceResponse:
    target = _target(call)
    keys: list[str] | None = call.data.get(ATTR_KEYS) or None
    result = await target.send(lambda link: link.get_configuration(keys))
    return _json(result)


async def _set_configuration(call: ServiceCall) -> ServiceResponse:
    target = _target(call)
    key: str = call.data[ATTR_KEY]
    value: str = call.data[ATTR_VALUE]
    status = await target.send(lambda link: link.set_configuration(key, value))
    return {"key": key, "status": status}


async def _get_composite_schedule(call: ServiceCall) -> ServiceResponse:
    target = _target(call)
    connector_id = target.connector(
        call.data.get(ATTR_CONNECTOR_ID), whole_charger=True
    )
    duration: int = call.data[ATTR_DURATION]
    unit: LimitUnit | None = call.data.get(ATTR_UNIT)
    result = await target.send(
        lambda link: link.get_composite_schedule(
            connector_id, duration, unit.value if unit else None
        )
    )
    return _json(result)


async def _trigger_message(call: ServiceCall) -> None:
    target = _target(call)
    requested: int | None = call.data.get(ATTR_CONNECTOR_ID)
    connector_id: int | None = None
    if requested is not None or target.device_connector is not None:
        connector_id = target.connector(requested, whole_charger=True)
    v16, v201 = TRIGGER_MESSAGES[call.data[ATTR_MESSAGE]]
    message = v201 if target.charger.ocpp_version == OcppVersion.V201 else v16
    await target.send(lambda link: link.trigger_message(message, connector_id))


async def _update_firmware(call: ServiceCall) -> None:
    target = _target(call)
    location = _location(call.data[ATTR_LOCATION])
    retrieve: datetime | None = call.data.get(ATTR_RETRIEVE_TIME)
    retrieve_utc = dt_util.as_utc(retrieve) if retrieve is not None else None
    await target.send(lambda link: link.update_firmware(location, retrieve_utc))


async def _request_diagnostics(call: ServiceCall) -> ServiceResponse:
    target = _target(call)
    location = _location(call.data[ATTR_LOCATION])
    file_name = await target.send(lambda link: link.request_diagnostics(location))
    return {"file_name": file_name}


async def _data_transfer(call: ServiceCall) -> ServiceResponse:
    target = _target(call)
    vendor_id: str = call.data[ATTR_VENDOR_ID]
    message_id: str | None = call.data.get(ATTR_MESSAGE_ID)
    data: str | None = call.data.get(ATTR_DATA)
    result = await target.send(
        lambda link: link.data_transfer(vendor_id, message_id, data)
    )
    return _json(result)


# Id tags -------------------------------------------------------------------------


def _tag_dict(tag: IdTagEntry) -> dict[str, Any]:
    return {
        "id_tag": tag.id_tag,
        "name": tag.name,
        "status": tag.status,
        "expiry": tag.expiry.isoformat() if tag.expiry else None,
    }


async def _add_id_tag(call: ServiceCall) -> None:
    entry = _site(call.hass, call.data.get(ATTR_CONFIG_ENTRY_ID))
    id_tag: str = call.data[ATTR_ID_TAG].strip()
    if not 0 < len(id_tag) <= MAX_ID_TAG_LENGTH:
        raise _invalid("invalid_id_tag", id_tag=id_tag, max=MAX_ID_TAG_LENGTH)
    expiry: datetime | None = call.data.get(ATTR_EXPIRY)
    tag = IdTagEntry(
        id_tag=id_tag,
        name=call.data[ATTR_NAME],
        status=TAG_STATUSES[call.data[ATTR_STATUS]],
        expiry=dt_util.as_utc(expiry) if expiry is not None else None,
    )
    await entry.runtime_data.system.add_tag(tag)


async def _remove_id_tag(call: ServiceCall) -> None:
    entry = _site(call.hass, call.data.get(ATTR_CONFIG_ENTRY_ID))
    id_tag: str = call.data[ATTR_ID_TAG]
    system = entry.runtime_data.system
    if id_tag not in system.tags:
        raise _invalid("unknown_id_tag", id_tag=id_tag, site=entry.title)
    await system.remove_tag(id_tag)


async def _list_id_tags(call: ServiceCall) -> ServiceResponse:
    entry = _site(call.hass, call.data.get(ATTR_CONFIG_ENTRY_ID))
    tags = sorted(entry.runtime_data.system.tags.values(), key=lambda t: t.id_tag)
    return {"id_tags": [_tag_dict(tag) for tag in tags]}


# Sessions ------------------------------------------------------------------------


async def _get_sessions(call: ServiceCall) -> ServiceResponse:
    charger_id: str | None = None
    if (device_id := call.data.get(ATTR_DEVICE_ID)) is not None:
        target = _charger_target(call.hass, device_id)
        requested = call.data.get(ATTR_CONFIG_ENTRY_ID)
        if requested is not None and requested != target.entry.entry_id:
            raise _invalid("device_not_in_site", config_entry_id=requested)
        entry = target.entry
        charger_id = target.charger_id
    else:
        entry = _site(call.hass, call.data.get(ATTR_CONFIG_ENTRY_ID))
    start: datetime | None = call.data.get(ATTR_START)
    end: datetime | None = call.data.get(ATTR_END)
    start = dt_util.as_utc(start) if start is not None else None
    end = dt_util.as_utc(end) if end is not None else None
    if start is not None and end is not None and start >= end:
        raise _invalid("invalid_time_range", start=start, end=end)
    limit: int = call.data[ATTR_LIMIT]
    offset: int = call.data[ATTR_OFFSET]
    records, total, total_wh = await entry.runtime_data.store.query_sessions(
        charger_id=charger_id,
        id_tag=call.data.get(ATTR_ID_TAG),
        start=start,
        end=end,
        limit=limit,
        offset=offset,
    )
    return {
        "sessions": [record.as_dict() for record in records],
        "total": total,
        "total_energy_kwh": round(total_wh / 1000, 3),
        "limit": limit,
        "offset": offset,
    }


# Registration --------------------------------------------------------------------


def _json_value(value: Any) -> Any:
    """`value` made of JSON types only (times as ISO 8601)."""
    if isinstance(value, dict):
        return {str(k): _json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_value(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def _json(result: dict[str, Any]) -> JsonObjectType:
    """A charger's answer as response data."""
    return cast(JsonObjectType, _json_value(result))


type _Handler = Callable[[ServiceCall], Coroutine[Any, Any, ServiceResponse]]

_ACTIONS: dict[str, tuple[_Handler, vol.Schema, SupportsResponse]] = {
    SERVICE_START_CHARGING: (
        _start_charging,
        START_CHARGING_SCHEMA,
        SupportsResponse.OPTIONAL,
    ),
    SERVICE_STOP_CHARGING: (
        _stop_charging,
        CONNECTOR_SCHEMA,
        SupportsResponse.OPTIONAL,
    ),
    SERVICE_SET_CURRENT_LIMIT: (
        _set_current_limit,
        SET_CURRENT_LIMIT_SCHEMA,
        SupportsResponse.OPTIONAL,
    ),
    SERVICE_CLEAR_CURRENT_LIMIT: (
        _clear_current_limit,
        CONNECTOR_SCHEMA,
        SupportsResponse.OPTIONAL,
    ),
    SERVICE_RESET: (_reset, RESET_SCHEMA, SupportsResponse.NONE),
    SERVICE_UNLOCK: (_unlock, CONNECTOR_SCHEMA, SupportsResponse.NONE),
    SERVICE_SET_AVAILABILITY: (
        _set_availability,
        SET_AVAILABILITY_SCHEMA,
        SupportsResponse.NONE,
    ),
    SERVICE_GET_CONFIGURATION: (
        _get_configuration,
        GET_CONFIGURATION_SCHEMA,
        SupportsResponse.ONLY,
    ),
    SERVICE_SET_CONFIGURATION: (
        _set_configuration,
        SET_CONFIGURATION_SCHEMA,
        SupportsResponse.OPTIONAL,
    ),
    SERVICE_GET_COMPOSITE_SCHEDULE: (
        _get_composite_schedule,
        GET_COMPOSITE_SCHEDULE_SCHEMA,
        SupportsResponse.ONLY,
    ),
    SERVICE_TRIGGER_MESSAGE: (
        _trigger_message,
        TRIGGER_MESSAGE_SCHEMA,
        SupportsResponse.NONE,
    ),
    SERVICE_UPDATE_FIRMWARE: (
        _update_firmware,
        UPDATE_FIRMWARE_SCHEMA,
        SupportsResponse.NONE,
    ),
    SERVICE_REQUEST_DIAGNOSTICS: (
        _request_diagnostics,
        REQUEST_DIAGNOSTICS_SCHEMA,
        SupportsResponse.OPTIONAL,
    ),
    SERVICE_DATA_TRANSFER: (
        _data_transfer,
        DATA_TRANSFER_SCHEMA,
        SupportsResponse.OPTIONAL,
    ),
    SERVICE_ADD_ID_TAG: (_add_id_tag, ADD_ID_TAG_SCHEMA, SupportsResponse.NONE),
    SERVICE_REMOVE_ID_TAG: (
        _remove_id_tag,
        REMOVE_ID_TAG_SCHEMA,
        SupportsResponse.NONE,
    ),
    SERVICE_LIST_ID_TAGS: (_list_id_tags, SITE_SCHEMA, SupportsResponse.ONLY),
    SERVICE_GET_SESSIONS: (_get_sessions, GET_SESSIONS_SCHEMA, SupportsResponse.ONLY),
}


#: Actions that change or reveal how a charger or the site is set up (firmware,
#: configuration, vendor commands, diagnostics uploads, reboots, the id tags that
#: open the chargers): administrators only, as HA core's admin services.
ADMIN_ACTIONS = frozenset(
    {
        SERVICE_RESET,
        SERVICE_GET_CONFIGURATION,
        SERVICE_SET_CONFIGURATION,
        SERVICE_UPDATE_FIRMWARE,
        SERVICE_REQUEST_DIAGNOSTICS,
        SERVICE_DATA_TRANSFER,
        SERVICE_ADD_ID_TAG,
        SERVICE_REMOVE_ID_TAG,
        SERVICE_LIST_ID_TAGS,
    }
)


def _admin_only(hass: HomeAssistant, handler: _Handler) -> _Handler:
    """`handler` for administrators only: the checks of HA's admin services.

    The same checks as `homeassistant.helpers.service.async_register_admin_service`,
    whose HA 2025.4 version cannot register an action that returns data (several of
    ours do), so one wrapper serves all of them. A call without a user (an
    automation, a script) is the system's own and allowed.
    """

    async def checked(call: ServiceCall) -> ServiceResponse:
        if call.context.user_id:
            user = await hass.auth.async_get_user(call.context.user_id)
            if user is None:
                raise UnknownUser(context=call.context)
            if not user.is_admin:
                raise Unauthorized(context=call.context)
        return await handler(call)

    return checked


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register the integration's actions (the admin ones for admins only)."""
    for service, (handler, schema, supports_response) in _ACTIONS.items():
        hass.services.async_register(
            DOMAIN,
            service,
            _admin_only(hass, handler) if service in ADMIN_ACTIONS else handler,
            schema=schema,
            supports_response=supports_response,
        )
