"""What the owner chose for the site, and where it is kept.

Owns `LoadpointSettings` (one per EV loadpoint: charge mode, currents, phases, SoC
targets, target time, vehicle, priority and a person's manual current cap),
`BatteryCommand` (the battery command last published) and `SiteSettingsStore`, the
HA `Store` that keeps the loadpoint settings, the grid-limit override and the
controller's memory across restarts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util

from ..const import DOMAIN
from ..energy import ChargeMode, PhaseSetting

STORAGE_VERSION = 1

#: A change of the owner's settings is written within this many seconds.
SETTINGS_SAVE_DELAY_S = 5.0
#: The controller's memory (timers, phases) changes every cycle: written at most
#: this often.
CONTROLLER_SAVE_DELAY_S = 60.0


def loadpoint_id(charger_id: str, connector_id: int) -> str:
    """The id of the loadpoint of one charger connector."""
    return f"{charger_id}/{connector_id}"


def split_loadpoint_id(lp_id: str) -> tuple[str, int]:
    """(charger id, connector id) of a loadpoint id."""
    charger_id, _, connector = lp_id.rpartition("/")
    return charger_id, int(connector)


@dataclass(frozen=True, slots=True)
class LoadpointSettings:
    """The owner's choices for one loadpoint (stored).

    `manual_cap_a` is a current cap a person set with `set_current_limit` (or the
    charger's maximum-current number) while the site coordinates the loadpoint: the
    coordinator never gives it more, until `manual_cap_until` (ISO 8601, `None`:
    until cleared).
    """

    mode: str = ChargeMode.PV.value
    min_current_a: float = 6.0
    max_current_a: float = 16.0
    phases: str = PhaseSetting.AUTO.value
    min_soc_pct: float | None = None
    target_soc_pct: float | None = 80.0
    target_time: str | None = None  # ISO 8601
    vehicle_capacity_kwh: float = 60.0
    vehicle_soc_entity: str | None = None
    priority: int = 0
    manual_cap_a: float | None = None
    manual_cap_until: str | None = None  # ISO 8601

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LoadpointSettings:
        """Rebuild from storage, ignoring unknown keys."""
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)

    def cap_at(self, now: datetime) -> float | None:
        """The manual cap in force at `now` (None: none, or it expired)."""
        if self.manual_cap_a is None:
            return None
        if self.manual_cap_until is not None:
            until = dt_util.parse_datetime(self.manual_cap_until)
            if until is not None and until <= now:
                return None
        return self.manual_cap_a

    def target_at(self) -> datetime | None:
        """The target time as an aware datetime (None: no deadline)."""
        if not self.target_time:
            return None
        value = dt_util.parse_datetime(self.target_time)
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=dt_util.get_default_time_zone())
        return value


@dataclass(frozen=True, slots=True)
class BatteryCommand:
    """The battery command last published (shown by the battery entities)."""

    mode: str = "auto"
    power_w: float = 0.0


def site_store(hass: HomeAssistant, entry_id: str) -> Store[dict[str, Any]]:
    """The stored loadpoint settings, grid-limit override and controller memory."""
    return Store(hass, STORAGE_VERSION, f"{DOMAIN}.{entry_id}.site")


@dataclass(slots=True)
class StoredSite:
    """What `SiteSettingsStore` loads."""

    loadpoints: dict[str, LoadpointSettings]
    grid_limit: float | None
    controller: Any


class SiteSettingsStore:
    """Loads and (debounced) saves the site's stored settings."""

    def __init__(self, hass: HomeAssistant, entry_id: str) -> None:
        self._hass = hass
        self._store = site_store(hass, entry_id)
        # Each loadpoint's stored form, until its settings change (a garage's
        # thousand loadpoints are not converted again for every write).
        self._dicts: dict[str, tuple[LoadpointSettings, dict[str, Any]]] = {}
        # When the scheduled write is due (loop time), None: none scheduled.
        self._due: float | None = None

    async def async_load(self) -> StoredSite:
        """The stored settings (empty when none)."""
        data = await self._store.async_load() or {}
        loadpoints: dict[str, LoadpointSettings] = {}
        for lp_id, raw in (data.get("loadpoints") or {}).items():
            if isinstance(raw, Mapping):
                loadpoints[lp_id] = LoadpointSettings.from_dict(raw)
        grid_limit = data.get("grid_limit")
        return StoredSite(
            loadpoints=loadpoints,
            grid_limit=float(grid_limit)
            if isinstance(grid_limit, int | float)
            else None,
            controller=data.get("controller"),
        )

    def _data(
        self,
        loadpoints: Mapping[str, LoadpointSettings],
        grid_limit: float | None,
        controller: dict[str, Any],
    ) -> dict[str, Any]:
        dicts = self._dicts
        stored: dict[str, dict[str, Any]] = {}
        for lp_id, settings in loadpoints.items():
            cached = dicts.get(lp_id)
            if cached is None or cached[0] is not settings:
                cached = dicts[lp_id] = (settings, asdict(settings))
            stored[lp_id] = cached[1]
        return {
            "loadpoints": stored,
            "grid_limit": grid_limit,
            "controller": controller,
        }

    def schedule_save(self, data: Any, delay: float = SETTINGS_SAVE_DELAY_S) -> None:
        """Save `data()` (a callable returning what `save` takes) within `delay` s.

        A write already due sooner takes the newest data with it; a later call
        never postpones it (HA's `Store` alone would push the write back on every
        call, and a loop that saves every cycle would never write).
        """
        now = self._hass.loop.time()
        if self._due is not None and self._due <= now + delay:
            return
        self._due = now + delay

        def write() -> dict[str, Any]:
            self._due = None
            return self._data(*data())

        self._store.async_delay_save(write, delay)

    async def async_save(
        self,
        loadpoints: Mapping[str, LoadpointSettings],
        grid_limit: float | None,
        controller: dict[str, Any],
    ) -> None:
        """Write now."""
        self._due = None
        await self._store.async_save(self._data(loadpoints, grid_limit, controller))
