"""Date/time entities of the EV loadpoints: the time the target SoC is due by.

Stored with the loadpoint's settings (ISO 8601): the horizon planner plans the
target SoC by then (in charge mode `plan`, and in `pv` / `minpv`, which then use
the grid where the deadline needs it); the real-time controller follows that plan.
A time in the past means no deadline; the loadpoint's *Clear target time* button
removes it (the entity then shows unknown).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from homeassistant.components.datetime import DateTimeEntity, DateTimeEntityDescription
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.util import dt as dt_util

from .csms.model import ChargerState
from .entity_tracker import async_setup_tracked_entities
from .runtime import EnergyCoordinatorConfigEntry
from .site import SiteCoordinator
from .site_entity import LoadpointEntity

PARALLEL_UPDATES = 0

TARGET_TIME = DateTimeEntityDescription(
    key="target_time",
    translation_key="target_time",
)

#: Every description of this platform (for the translation checks).
DESCRIPTIONS: tuple[DateTimeEntityDescription, ...] = (TARGET_TIME,)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: EnergyCoordinatorConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add every loadpoint's target time, now and later."""

    def loadpoint_datetimes(
        site: SiteCoordinator, charger: ChargerState, connector_id: int
    ) -> Iterable[LoadpointEntity]:
        return [TargetTimeEntity(site, charger, connector_id, TARGET_TIME)]

    async_setup_tracked_entities(
        hass, entry, async_add_entities, loadpoint_entities=loadpoint_datetimes
    )


class TargetTimeEntity(LoadpointEntity, DateTimeEntity):
    """When the vehicle should reach its target SoC."""

    @property
    def native_value(self) -> datetime | None:
        """The stored target time."""
        stored = self.site.settings(self.lp_id).target_time
        value = dt_util.parse_datetime(stored) if stored else None
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=dt_util.get_default_time_zone())
        return value

    def shown(self) -> Any:
        """The value."""
        return self.native_value

    def reported(self) -> bool:
        """Once the loadpoint charges to a target."""
        return self.site.plans_for(self.lp_id)

    async def async_set_value(self, value: datetime) -> None:
        """Store the target time."""
        self.site.update_settings(
            self.lp_id, target_time=dt_util.as_utc(value).isoformat()
        )
