"""Actions (services) of the integration. Placeholder until the actions land."""

from __future__ import annotations

from homeassistant.core import HomeAssistant, callback


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register the integration's actions."""
