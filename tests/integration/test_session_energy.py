"""What HA records of a session: no phantom power, no backward energy step.

A 1.6 charger as the field saw it (issue 9, bugs 1 and 2): the last MeterValues has
a fractional register (66.3 Wh) and power, the StopTransaction an integer meterStop
(66 Wh) and no power. Every state the session-energy sensor (`total_increasing`)
and the energy total take is recorded: none is lower than the one before, and the
power sensor reads 0 W once the transaction ended.
"""

from __future__ import annotations

import pytest
from homeassistant.const import EVENT_STATE_CHANGED
from homeassistant.core import Event, HomeAssistant
from homeassistant.helpers import entity_registry as er

from custom_components.energy_coordinator.const import DOMAIN
from tests.fake_charge_point import fake_charger

from .conftest import SetupSite

CP = "CP1"


def energy(value: str) -> dict[str, str]:
    return {"measurand": "Energy.Active.Import.Register", "value": value, "unit": "Wh"}


async def test_session_stop_never_steps_back(
    hass: HomeAssistant, setup_site: SetupSite
) -> None:
    entry = await setup_site()
    system = entry.runtime_data.system
    registry = er.async_get(hass)
    async with fake_charger(system, CP) as charger:
        await charger.boot()
        await hass.async_block_till_done()
        connector = system.chargers[CP].connectors
        tx_id = await charger.start_tx(meter_start=0)
        await hass.async_block_till_done()

        def sensor(key: str) -> str:
            unique_ids = [
                e.unique_id
                for e in er.async_entries_for_config_entry(registry, entry.entry_id)
                if e.domain == "sensor" and e.unique_id.endswith(f"_1_{key}")
            ]
            assert len(unique_ids) == 1, unique_ids
            found = registry.async_get_entity_id("sensor", DOMAIN, unique_ids[0])
            assert found is not None
            return found

        session, total, power = (
            sensor("session_energy"),
            sensor("energy"),
            sensor("power"),
        )
        seen: dict[str, list[float]] = {session: [], total: []}

        def record(event: Event) -> None:
            entity_id = event.data["entity_id"]
            new = event.data["new_state"]
            if (
                entity_id in seen
                and new is not None
                and new.state
                not in (
                    "unknown",
                    "unavailable",
                )
            ):
                seen[entity_id].append(float(new.state))

        unsubscribe = hass.bus.async_listen(EVENT_STATE_CHANGED, record)
        await charger.meter(
            1,
            tx_id,
            energy("66.3"),
            {"measurand": "Power.Active.Import", "value": "7200", "unit": "W"},
        )
        await hass.async_block_till_done()
        assert hass.states.get(power).state == "7200.0"
        assert connector[1].transaction is not None

        await charger.stop_tx(tx_id, 66, reason="Local")
        await hass.async_block_till_done()
        unsubscribe()
        assert hass.states.get(power).state == "0.0"

    for entity_id, values in seen.items():
        assert values, entity_id
        assert values == sorted(values), (entity_id, values)
        assert values[-1] == pytest.approx(0.0663), (entity_id, values)
    (stored,), _, _ = await system.store.query_sessions(charger_id=CP)
    assert stored.energy_wh == pytest.approx(66.3)
