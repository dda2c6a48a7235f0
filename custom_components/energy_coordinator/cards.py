"""The Lovelace cards: served by the integration and loaded on every frontend page.

Owns the URL of `frontend/energy-coordinator-cards.js` (the plan card and the
power-flow card, plain web components) and its registration: a static path on
HA's HTTP server and an extra module URL of the frontend, with a version query
(the manifest version and the file's hash) so a browser loads the new file after
an update. Registered once per HA run, from `async_setup` when the frontend is
set up, so reloading an entry or adding a second site does not register again.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

from homeassistant.components.frontend import add_extra_js_url
from homeassistant.components.http import StaticPathConfig
from homeassistant.core import HomeAssistant, callback
from homeassistant.loader import async_get_integration
from homeassistant.setup import async_when_setup
from homeassistant.util.hass_dict import HassKey

from .const import DOMAIN

_LOGGER = logging.getLogger(__name__)

CARDS_PATH = f"/{DOMAIN}/energy-coordinator-cards.js"
CARDS_FILE = Path(__file__).parent / "frontend" / "energy-coordinator-cards.js"
#: The versioned URL the frontend loads (set once registered).
DATA_CARDS_URL: HassKey[str] = HassKey(f"{DOMAIN}_cards_url")


def _file_hash() -> str:
    return hashlib.sha256(CARDS_FILE.read_bytes()).hexdigest()[:8]


async def async_register_cards(hass: HomeAssistant) -> str:
    """Serve the cards and add them to the frontend (once); their versioned URL."""
    if (url := hass.data.get(DATA_CARDS_URL)) is not None:
        return url
    integration = await async_get_integration(hass, DOMAIN)
    digest = await hass.async_add_executor_job(_file_hash)
    if (url := hass.data.get(DATA_CARDS_URL)) is not None:
        return url  # registered while this call waited
    url = f"{CARDS_PATH}?v={integration.version}-{digest}"
    hass.data[DATA_CARDS_URL] = url
    await hass.http.async_register_static_paths(
        [StaticPathConfig(CARDS_PATH, str(CARDS_FILE), True)]
    )
    add_extra_js_url(hass, url)
    _LOGGER.debug("Lovelace cards at %s", url)
    return url


@callback
def async_setup_cards(hass: HomeAssistant) -> None:
    """Register the cards once the frontend is set up (at once if it is)."""

    async def frontend_ready(hass: HomeAssistant, component: str) -> None:
        await async_register_cards(hass)

    async_when_setup(hass, "frontend", frontend_ready)
