"""The site in Home Assistant: the adapter between HA and the coordination core.

`coordinator` (one loop decides), `outcomes` (what a coordination returns),
`settings` (the owner's choices and their store), `readings` (the one place that
reads the meters), `snapshot` (the site as the core sees it), `actuation`
(carrying decisions out), `repairs` (issues in HA's registry).
"""

from __future__ import annotations

from .coordinator import SiteCoordinator
from .outcomes import CoordinationResult, ManualCap
from .settings import (
    BatteryCommand,
    LoadpointSettings,
    loadpoint_id,
    site_store,
    split_loadpoint_id,
)

__all__ = [
    "BatteryCommand",
    "CoordinationResult",
    "LoadpointSettings",
    "ManualCap",
    "SiteCoordinator",
    "loadpoint_id",
    "site_store",
    "split_loadpoint_id",
]
