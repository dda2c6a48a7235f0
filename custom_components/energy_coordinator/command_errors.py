"""Turning the central system's command errors into translated HA errors.

Entities (switches, numbers, buttons) and actions send commands to chargers; when a
command does not succeed, the person who pressed the button or called the action gets a
`HomeAssistantError` with a translated message saying what the charger did (not
connected, refused, no answer, error, not supported).

Use it as a context manager around the whole command, including `system.link(...)`,
which raises `ChargerNotConnected` itself::

    with command_errors():
        await system.link(charger_id).unlock(connector_id)
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from homeassistant.exceptions import HomeAssistantError

from .const import DOMAIN
from .csms.commands import (
    ChargerNotConnected,
    CommandError,
    CommandNotSupported,
    CommandRejected,
    CommandTimeout,
)


def command_error_to_ha(err: CommandError) -> HomeAssistantError:
    """The translated `HomeAssistantError` for a command error."""
    placeholders = {
        "charger_id": err.charger_id,
        "action": err.action,
        "detail": err.detail,
    }
    if isinstance(err, ChargerNotConnected):
        key = "charger_not_connected"
    elif isinstance(err, CommandRejected):
        key = "command_rejected"
        placeholders["status"] = err.status
    elif isinstance(err, CommandTimeout):
        key = "command_timeout"
    elif isinstance(err, CommandNotSupported):
        key = "command_not_supported"
    else:  # CommandFailed and any other CommandError
        key = "command_failed"
    return HomeAssistantError(
        translation_domain=DOMAIN,
        translation_key=key,
        translation_placeholders=placeholders,
    )


@contextmanager
def command_errors() -> Iterator[None]:
    """Re-raise command errors inside the block as translated HA errors."""
    try:
        yield
    except CommandError as err:
        raise command_error_to_ha(err) from err
