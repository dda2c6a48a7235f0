"""End to end: Home Assistant stops, or dies, in the middle of a charging session.

A real `hass` process (recorder on) runs the integration; a simulated OCPP 1.6J
charger starts a transaction and sends meter values; `hass` is then stopped
(`homeassistant.stop`), or in the second run killed with SIGKILL as a power cut
would, and started again on the same config directory while the charger keeps
charging and reconnects by itself; the charger then stops the transaction.
Checked over HA's public APIs: exactly one session with the exact energy of the
charger's meter (counted once in the session list and its total), no energy
sensor ever lower than before (states sampled over the whole run, restart
included, and the recorder's statistics), and no warning from the integration in
HA's log.
"""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime

import pytest
from hass_process import DOMAIN, HassProcess, free_port

from simulator import ChargePoint16
from tests.e2e.conftest import MakeHass
from tests.e2e.observe import (
    RECORDING,
    StateSampler,
    backward_steps,
    compile_statistics,
    number,
    statistics_steps,
    wait_for,
)

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]

CHARGER_ID = "e2e-restart-01"


async def _entity(ha: HassProcess, key: str) -> str:
    """The entity id of one of the connector's sensors (by unique id)."""
    entities = await ha.ws_command("config/entity_registry/list")
    for entity in entities:
        entry_id = entity.get("config_entry_id")
        if entity["platform"] == DOMAIN and entity.get("unique_id") == (
            f"{entry_id}_charger_{CHARGER_ID}_1_{key}"
        ):
            return str(entity["entity_id"])
    pytest.fail(f"no {key} sensor for the charger")


async def _kwh(ha: HassProcess, entity_id: str) -> float | None:
    state = await ha.get(f"/api/states/{entity_id}")
    return number(state["state"])


@pytest.mark.parametrize("how", ["stop", "kill"])
async def test_restart_mid_transaction(make_hass: MakeHass, how: str) -> None:
    """One session, exact energy, no backward step across a stop or a SIGKILL."""
    ha = await make_hass(**RECORDING)
    since = datetime.now(UTC)
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
    sampler = StateSampler(ha, every=0.25)
    await charger.start()
    try:
        await charger.wait_booted(15)
        assert await charger.authorize_and_start(1, "RESTART1") is not None
        connector = charger.connector(1)
        entity_id = await wait_for(
            lambda: _entity(ha, "energy"), 10, "the energy sensor"
        )
        session_entity = await _entity(ha, "session_energy")
        sampler.start()
        before = await wait_for(
            lambda: _kwh(ha, entity_id), 10, "energy before the restart"
        )
        assert before > 0
        # HA's registries are saved ten seconds after a change: a power cut
        # sooner would lose the charger's entities, which is not this story.
        await asyncio.sleep(11 if how == "kill" else 2)
        before = await _kwh(ha, entity_id)
        assert before is not None

        if how == "kill":
            await ha.kill()
        else:
            await ha.stop()
        await asyncio.sleep(1.0)  # the charger keeps charging, disconnected
        await ha.start(within=60, fresh=False)
        await ha.wait_running()
        await charger.wait_booted(30)
        await asyncio.sleep(1.5)  # meter values after the reconnect

        after_restart = await wait_for(
            lambda: _kwh(ha, entity_id), 10, "energy after the restart"
        )
        assert after_restart >= before

        await charger.stop_transaction(1)
        meter_start = connector.meter_start_wh
        meter_stop = connector.energy_wh
        expected_kwh = round((round(meter_stop) - round(meter_start)) / 1000, 3)
        final = await wait_for(
            lambda: _final(ha, entity_id, expected_kwh), 10, "the final energy"
        )
        await asyncio.sleep(1.0)  # the last states reach the recorder
    finally:
        await sampler.stop()
        await charger.stop()

    response = await ha.call_service(DOMAIN, "get_sessions", {}, return_response=True)
    sessions = [
        s
        for s in response["service_response"]["sessions"]
        if s["charger_id"] == CHARGER_ID
    ]
    assert len(sessions) == 1, sessions
    assert sessions[0]["active"] is False
    assert sessions[0]["energy_kwh"] == pytest.approx(expected_kwh, abs=0.001)
    assert response["service_response"]["total_energy_kwh"] == pytest.approx(
        expected_kwh, abs=0.001
    )
    assert final >= after_restart
    assert final == pytest.approx(expected_kwh, abs=0.002)

    # No backward step in what HA showed (the restart is a gap in the samples) ...
    restarts = [
        at
        for (at, _), (nxt, _) in zip(
            sampler.values(entity_id), sampler.values(entity_id)[1:], strict=False
        )
        if nxt - at > 1.5
    ]
    assert restarts, "the samples do not span the restart"
    for sensor in (entity_id, session_entity):
        assert not backward_steps(sampler.values(sensor)), sampler.values(sensor)
    # ... nor in the recorder's statistics.
    rows = await compile_statistics(ha, [entity_id, session_entity], since)
    for sensor in (entity_id, session_entity):
        series = rows.get(sensor)
        assert series, (sensor, rows)
        assert not statistics_steps(series, "sum"), series
        assert not statistics_steps(series, "state"), series
        # The last compiled state is not below any value the sensor showed.
        assert series[-1]["state"] >= max(v for _, v in sampler.values(sensor)) - 1e-6
    assert rows[session_entity][-1]["state"] == pytest.approx(expected_kwh, abs=0.002)

    # HA keeps the log of the run before the restart as home-assistant.log.1.
    log = "\n".join(
        path.read_text(encoding="utf-8", errors="replace")
        for path in (ha.log_path.with_name(ha.log_path.name + ".1"), ha.log_path)
        if path.exists()
    )
    problems = [
        line
        for line in log.splitlines()
        if re.search(r" (WARNING|ERROR|CRITICAL) .*custom_components\.energy", line)
        or "not strictly increasing" in line
    ]
    assert not problems, "\n".join(problems)


async def _final(ha: HassProcess, entity_id: str, expected_kwh: float) -> float | None:
    """The energy sensor once it shows the session's end."""
    value = await _kwh(ha, entity_id)
    if value is None or abs(value - expected_kwh) > 0.002:
        return None
    return value
