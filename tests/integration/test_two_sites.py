"""Two sites never collide, and registries of the first release are migrated.

Two config entries (sites) that both accept a charger called `CP1` get a device and
a set of entities each (issue 9). An install of the first release, whose charger
devices and entities carried no entry id, is migrated on its first load: unique ids
and device identifiers are scoped, entity ids, history and device ids stay.
"""

from __future__ import annotations

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from ocpp.v16 import call

from custom_components.energy_coordinator.const import DOMAIN
from custom_components.energy_coordinator.identifiers import (
    async_migrate_registries,
    charger_device_id,
    charger_unique_id,
    connector_device_id,
    loadpoint_device_id,
)
from tests.fake_charge_point import fake_charger

from .conftest import SetupSite

CP = "CP1"


async def test_two_sites_accept_the_same_charger_id(
    hass: HomeAssistant, setup_site: SetupSite
) -> None:
    first = await setup_site(site_name="Garage A")
    second = await setup_site(site_name="Garage B")
    devices, entities = dr.async_get(hass), er.async_get(hass)
    async with (
        fake_charger(first.runtime_data.system, CP) as a,
        fake_charger(second.runtime_data.system, CP) as b,
    ):
        a.config["HeartbeatInterval"] = "61"
        b.config["HeartbeatInterval"] = "62"
        for charger in (a, b):
            await charger.boot()
            await charger.send(
                call.StatusNotification(
                    connector_id=1, error_code="NoError", status="Available"
                )
            )
        await hass.async_block_till_done()

        ids = {}
        for entry in (first, second):
            device = devices.async_get_device({charger_device_id(entry.entry_id, CP)})
            assert device is not None
            assert device.config_entries == {entry.entry_id}
            power = entities.async_get_entity_id(
                "sensor", DOMAIN, charger_unique_id(entry.entry_id, CP, 1, "power")
            )
            assert power is not None
            assert entities.async_get(power).device_id == device.id
            ids[entry.entry_id] = (device.id, power)
        assert len({device for device, _ in ids.values()}) == 2
        assert len({power for _, power in ids.values()}) == 2

        # An action on a device reaches that site's charger, not the other one.
        for entry, charger, beat in ((first, a, "61"), (second, b, "62")):
            device_id = ids[entry.entry_id][0]
            response = await hass.services.async_call(
                DOMAIN,
                "get_configuration",
                {"device_id": device_id, "keys": ["HeartbeatInterval"]},
                blocking=True,
                return_response=True,
            )
            assert response is not None
            assert response["configuration"] == {
                "HeartbeatInterval": {"value": beat, "readonly": False}
            }
            assert charger.frames("GetConfiguration")[-1] == {
                "key": ["HeartbeatInterval"]
            }


async def test_first_release_registries_are_migrated(
    hass: HomeAssistant, setup_site: SetupSite
) -> None:
    """Unscoped ids of 1.1 become scoped; entity ids and device ids stay."""
    entry = await setup_site()
    other = await setup_site(site_name="Other")
    for site in (entry, other):
        assert await hass.config_entries.async_unload(site.entry_id)
    devices, entities = dr.async_get(hass), er.async_get(hass)

    # What the first release left in the registries for CP1 with two connectors,
    # and a device the other site shared (same charger id).
    charger = devices.async_get_or_create(
        config_entry_id=entry.entry_id, identifiers={(DOMAIN, CP)}, name=CP
    )
    devices.async_update_device(charger.id, add_config_entry_id=other.entry_id)
    connector = devices.async_get_or_create(
        config_entry_id=entry.entry_id,
        identifiers={(DOMAIN, f"{CP}/2")},
        via_device=(DOMAIN, CP),
    )
    site_device = devices.async_get_or_create(
        config_entry_id=entry.entry_id,
        identifiers={(DOMAIN, f"{entry.entry_id}_site")},
    )
    old = {
        ("sensor", f"{CP}_2_power", connector.id): "sensor.cp1_connector_2_power",
        ("binary_sensor", f"{CP}_connected", charger.id): "binary_sensor.cp1_online",
        ("sensor", f"{entry.entry_id}_grid_power", site_device.id): "sensor.grid",
    }
    for (domain, unique_id, device_id), entity_id in old.items():
        made = entities.async_get_or_create(
            domain,
            DOMAIN,
            unique_id,
            config_entry=entry,
            device_id=device_id,
            suggested_object_id=entity_id.split(".", 1)[1],
        )
        assert made.entity_id == entity_id
    hass.config_entries.async_update_entry(entry, minor_version=1)

    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert entry.minor_version == 3

    scoped = {
        "sensor.cp1_connector_2_power": charger_unique_id(
            entry.entry_id, CP, 2, "power"
        ),
        "binary_sensor.cp1_online": charger_unique_id(
            entry.entry_id, CP, None, "connected"
        ),
        "sensor.grid": f"{entry.entry_id}_grid_power",  # already scoped
    }
    for entity_id, unique_id in scoped.items():
        registered = entities.async_get(entity_id)
        assert registered is not None, entity_id
        assert registered.unique_id == unique_id
    assert entities.async_get("sensor.cp1_connector_2_power").device_id == connector.id

    moved = {
        charger.id: charger_device_id(entry.entry_id, CP),
        connector.id: connector_device_id(entry.entry_id, CP, 2),
        site_device.id: (DOMAIN, f"{entry.entry_id}_site"),
    }
    for device_id, identifier in moved.items():
        device = devices.async_get(device_id)
        assert device is not None
        assert device.identifiers == {identifier}
    # The shared device stays with the migrated site; the other makes its own.
    assert devices.async_get(charger.id).config_entries == {entry.entry_id}
    assert devices.async_get(connector.id).via_device_id == charger.id

    # Loading again changes nothing (the entry is at 1.2 now).
    assert await hass.config_entries.async_reload(entry.entry_id)
    assert (
        entities.async_get("binary_sensor.cp1_online").unique_id
        == scoped["binary_sensor.cp1_online"]
    )


async def test_first_release_loadpoint_device_is_migrated(
    hass: HomeAssistant, setup_site: SetupSite
) -> None:
    """An EV loadpoint's device and its entities (already scoped) keep their ids."""
    entry = await setup_site()
    assert await hass.config_entries.async_unload(entry.entry_id)
    devices, entities = dr.async_get(hass), er.async_get(hass)
    charger = devices.async_get_or_create(
        config_entry_id=entry.entry_id, identifiers={(DOMAIN, CP)}
    )
    loadpoint = devices.async_get_or_create(
        config_entry_id=entry.entry_id,
        identifiers={(DOMAIN, f"loadpoint_{CP}_2")},
        via_device=(DOMAIN, CP),
    )
    mode = entities.async_get_or_create(
        "select",
        DOMAIN,
        f"{entry.entry_id}_loadpoint_{CP}_2_mode",
        config_entry=entry,
        device_id=loadpoint.id,
    )

    async_migrate_registries(hass, entry.entry_id)

    moved = devices.async_get(loadpoint.id)
    assert moved is not None
    assert moved.identifiers == {loadpoint_device_id(entry.entry_id, CP, 2)}
    assert moved.via_device_id == charger.id
    assert entities.async_get(mode.entity_id).unique_id == mode.unique_id
