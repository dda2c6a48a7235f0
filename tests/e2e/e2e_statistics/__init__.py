"""Test helper for the end-to-end tests: the recorder compiles its statistics now.

Home Assistant's recorder compiles the short-term (five-minute) statistics of a
period ten seconds after it ends; a test would wait up to five minutes for the
statistics of what it just did. This integration, linked into the config dir of
a test's `hass` only, adds one admin WebSocket command,
`e2e_statistics/compile` (`since`: an ISO time), that queues the recorder's own
`StatisticsTask` for every five-minute period from `since` up to the current one
and answers when the recorder has run them. The compile is HA's code, unchanged
(the sensor platform's `compile_statistics`, its dip and reset rules, its
warnings); only the moment is the test's. A period compiled early is not compiled
again, so call it once, at the end of a run.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import voluptuous as vol
from homeassistant.components import websocket_api
from homeassistant.components.recorder import get_instance
from homeassistant.components.recorder.tasks import StatisticsTask, SynchronizeTask
from homeassistant.core import HomeAssistant
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers.typing import ConfigType
from homeassistant.util import dt as dt_util

DOMAIN = "e2e_statistics"
CONFIG_SCHEMA = cv.empty_config_schema(DOMAIN)
PERIOD = timedelta(minutes=5)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the WebSocket command."""
    websocket_api.async_register_command(hass, ws_compile)
    return True


@websocket_api.websocket_command(
    {vol.Required("type"): f"{DOMAIN}/compile", vol.Required("since"): str}
)
@websocket_api.require_admin
@websocket_api.async_response
async def ws_compile(
    hass: HomeAssistant,
    connection: websocket_api.ActiveConnection,
    msg: dict[str, Any],
) -> None:
    """Compile the statistics of every period since `since`; the periods' starts."""
    since = dt_util.parse_datetime(msg["since"])
    if since is None:
        connection.send_error(msg["id"], "invalid_format", "since: not a time")
        return
    since = dt_util.as_utc(since)
    start = since.replace(
        minute=since.minute - since.minute % 5, second=0, microsecond=0
    )
    now = dt_util.utcnow()
    instance = get_instance(hass)
    periods = []
    while start <= now:
        instance.queue_task(StatisticsTask(start, True))
        periods.append(start.isoformat())
        start += PERIOD
    # Tasks run in order: this one is done once the compiles before it are (the
    # recorder's async_block_till_done would return as soon as the queue is
    # empty, while the last compile still runs).
    done = asyncio.Event()
    instance.queue_task(SynchronizeTask(done))
    await done.wait()
    connection.send_result(msg["id"], {"periods": periods})
