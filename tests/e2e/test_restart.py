"""End to end: Home Assistant restarts in the middle of a charging session.

A real `hass` process runs the integration; a simulated OCPP 1.6J charger starts a
transaction and sends meter values; `hass` is stopped and started again on the same
config directory while the charger keeps charging and reconnects by itself; the
charger then stops the transaction. Checked over HA's public APIs: exactly one
session with the exact energy of the charger's meter, the energy sensor never lower
than before the restart, and no warning from the integration in HA's log.
"""

from __future__ import annotations

import asyncio
import re
import time
from typing import Any

import pytest
from hass_process import DOMAIN, HassProcess, free_port

from simulator import ChargePoint16

pytestmark = pytest.mark.e2e

CHARGER_ID = "e2e-restart-01"


async def _energy_entity(ha: HassProcess) -> str:
    """The connector's monotonic energy sensor of our charger."""
    entities = await ha.ws_command("config/entity_registry/list")
    for entity in entities:
        entry_id = entity.get("config_entry_id")
        if entity["platform"] == DOMAIN and entity.get("unique_id") == (
            f"{entry_id}_charger_{CHARGER_ID}_1_energy"
        ):
            return str(entity["entity_id"])
    pytest.fail("no energy sensor for the charger")


async def _kwh(ha: HassProcess, entity_id: str) -> float | None:
    state = await ha.get(f"/api/states/{entity_id}")
    if state["state"] in ("unknown", "unavailable"):
        return None
    return float(state["state"])


async def _wait(predicate: Any, within: float, what: str) -> Any:
    deadline = time.monotonic() + within
    while True:
        value = await predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            pytest.fail(f"timed out waiting for {what}")
        await asyncio.sleep(0.25)


async def test_restart_mid_transaction(hass_proc: HassProcess) -> None:
    """One session, exact energy, no backward step across an HA restart."""
    ha = hass_proc
    ocpp_port = free_port()
    await ha.add_integration(ocpp_port=ocpp_port, charger_policy="accept")
    charger = ChargePoint16(
        CHARGER_ID,
        f"ws://127.0.0.1:{ocpp_port}",
        meter_interval=0.5,
        speed=30.0,
        reconnect=True,
        reconnect_delay=0.5,
        meter_start_wh=123_456,
    )
    await charger.start()
    try:
        await charger.wait_booted(15)
        assert await charger.authorize_and_start(1, "RESTART1") is not None
        connector = charger.connector(1)
        await asyncio.sleep(2.0)
        entity_id = await _energy_entity(ha)
        before = await _wait(
            lambda: _kwh(ha, entity_id), 10, "energy before the restart"
        )
        assert before > 0

        await ha.stop()
        await asyncio.sleep(1.0)  # the charger keeps charging, disconnected
        await ha.start(within=60, fresh=False)
        await ha.wait_running()
        await charger.wait_booted(30)
        await asyncio.sleep(1.5)  # meter values after the reconnect

        after_restart = await _wait(
            lambda: _kwh(ha, entity_id), 10, "energy after the restart"
        )
        assert after_restart >= before

        await charger.stop_transaction(1)
        meter_start = connector.meter_start_wh
        meter_stop = connector.energy_wh
    finally:
        await charger.stop()
    expected_kwh = round((round(meter_stop) - round(meter_start)) / 1000, 3)

    response = await ha.call_service(DOMAIN, "get_sessions", {}, return_response=True)
    sessions = [
        s
        for s in response["service_response"]["sessions"]
        if s["charger_id"] == CHARGER_ID
    ]
    assert len(sessions) == 1, sessions
    assert sessions[0]["active"] is False
    assert sessions[0]["energy_kwh"] == pytest.approx(expected_kwh, abs=0.001)
    final = await _wait(lambda: _kwh(ha, entity_id), 10, "final energy")
    assert final >= after_restart
    assert final == pytest.approx(expected_kwh, abs=0.002)

    log = ha.log_path.read_text(encoding="utf-8", errors="replace")
    problems = [
        line
        for line in log.splitlines()
        if re.search(r" (WARNING|ERROR|CRITICAL) .*custom_components\.energy", line)
    ]
    assert not problems, "\n".join(problems)
