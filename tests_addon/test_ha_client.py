"""The HA client on its own: mirror, registries, reconnection, errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from energy_coordinator_mcp.ha_client import HAClient, HAError, websocket_url
from helpers import eventually
from stack import Stack


def test_websocket_url() -> None:
    assert websocket_url("http://supervisor/core") == "ws://supervisor/core/websocket"
    assert websocket_url("http://ha:8123/") == "ws://ha:8123/api/websocket"
    assert websocket_url("https://ha.example") == "wss://ha.example/api/websocket"


async def test_mirror_registries_and_reconnect(stack: Stack) -> None:
    ha = HAClient(stack.url, stack.token)
    await ha.start(wait=30)
    try:
        assert "sensor.pv_power" in ha.states
        assert ha.config["time_zone"]
        assert "garage" in ha.areas
        assert ha.area_of("switch.garage_socket") == "garage"
        assert ha.platform_entities("energy_coordinator")
        # A registry change arrives without asking.
        await stack.ha.ws_command("config/area_registry/create", name="Loft")
        await eventually(lambda: "loft" in ha.areas)
        # The connection drops: it comes back and the mirror follows again.
        assert ha._ws is not None
        await ha._ws.close()
        await eventually(lambda: ha.reconnects >= 1 and ha.connected.is_set(), 15)
        await stack.ha.call_service(
            "input_number",
            "set_value",
            {"entity_id": "input_number.house_power", "value": 1950},
        )
        await eventually(
            lambda: ha.states["sensor.house_consumption"].state.startswith("1950")
        )
        await stack.ha.call_service(
            "input_number",
            "set_value",
            {"entity_id": "input_number.house_power", "value": 1900},
        )
        # Errors carry HA's message; the connection stays usable.
        with pytest.raises(HAError, match="not found|Service"):
            await ha.call_service("light", "no_such_service", {})
        assert await ha.has_service("energy_coordinator", "get_status")
        stats = await ha.statistics(
            ["sensor.pv_power"], datetime.now(UTC) - timedelta(hours=1)
        )
        assert isinstance(stats, dict)
        status = await ha.call_service(
            "energy_coordinator", "get_status", {}, return_response=True
        )
        assert "status" in status
    finally:
        await ha.stop()
    assert not ha.connected.is_set()


async def test_bad_token_is_reported(stack: Stack) -> None:
    ha = HAClient(stack.url, "not-a-token")
    with pytest.raises(HAError, match="authentication"):
        await ha.start(wait=3)
    await ha.stop()
