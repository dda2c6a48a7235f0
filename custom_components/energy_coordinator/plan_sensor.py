"""The plan sensor of a site: when the horizon plan next changes what the site does.

State: that moment (a timestamp; unknown when nothing changes within the plan).
Attributes (`site.plan_view`): the planning's status, totals (expected cost,
import, export, solar used on site), each goal in short, and what changes next;
the segments (runs of slots doing the same) and every slot in columns
(`slots`: prices, PV, load, grid, battery, each EV and load) for a plan card.
The large ones are kept out of the recorder. It follows the planner: it writes
its state after each planning, not after each coordination.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
)
from homeassistant.util import dt as dt_util

from .site import SiteCoordinator
from .site.plan_view import UNRECORDED, sensor_attributes, sensor_state
from .site.planning import SitePlanner
from .site_entity import SITE, SiteEntity, site_device_info

PLAN = SensorEntityDescription(
    key="plan",
    translation_key="plan",
    device_class=SensorDeviceClass.TIMESTAMP,
)


class PlanSensor(SiteEntity, SensorEntity):
    """The site's horizon plan."""

    _unrecorded_attributes = UNRECORDED

    def __init__(self, site: SiteCoordinator, planner: SitePlanner) -> None:
        """Bind the sensor to the site's planner."""
        super().__init__(
            site, PLAN, site_device_info(site), f"{site.entry_id}_{PLAN.key}", SITE
        )
        self.planner = planner

    def _follow_site(self) -> Callable[[], None]:
        return self.planner.add_listener(self._refresh)

    @property
    def native_value(self) -> datetime | None:
        """When the plan next changes what the site does."""
        return sensor_state(self.planner.result, dt_util.utcnow())

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """The plan in short, and in full for a card."""
        return sensor_attributes(
            self.planner.result,
            self.site.options,
            self.hass.config.currency,
            dt_util.utcnow(),
        )

    def shown(self) -> Any:
        """The planning (each new one is shown)."""
        return self.planner.generation
