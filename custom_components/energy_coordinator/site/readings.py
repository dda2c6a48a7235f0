"""The one place that reads the site's meters.

Owns `SourceReader`: the configured source entities (PV, the solar energy meter,
grid, house, home battery, per-line grid currents) read as numbers in the site's
units and signs — power in W through HA's `PowerConverter` (W, kW, MW, mW, …; no
unit means W), energy in Wh through `EnergyConverter`, current in A through
`ElectricCurrentConverter`, battery power positive when charging — and
whether a reading is stale. The snapshot for the coordination core and the site's
mirrored sensors both read through it, so they never disagree.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from homeassistant.const import (
    ATTR_UNIT_OF_MEASUREMENT,
    UnitOfElectricCurrent,
    UnitOfEnergy,
    UnitOfPower,
)
from homeassistant.core import HomeAssistant, State
from homeassistant.util.unit_conversion import (
    BaseUnitConverter,
    ElectricCurrentConverter,
    EnergyConverter,
    PowerConverter,
)

from ..const import (
    BATTERY_SIGN_DISCHARGING_POSITIVE,
    CONF_BATTERY_POWER,
    CONF_BATTERY_POWER_SIGN,
    CONF_BATTERY_SOC,
    CONF_GRID_CURRENTS,
    CONF_GRID_POWER,
    CONF_HOUSE_POWER,
    CONF_PV_ENERGY,
    CONF_PV_POWER,
)

#: A source whose non-zero state has not been reported for this long is stale. A
#: reading of 0 is exempt: PV at night, or an idle battery, legitimately stays at 0
#: for hours and integrations that write only on change never re-report it.
STALE_AFTER = timedelta(minutes=15)

#: Every measured source, in the order the Measurements step shows them.
SOURCE_KEYS: tuple[str, ...] = (
    CONF_PV_POWER,
    CONF_PV_ENERGY,
    CONF_GRID_POWER,
    CONF_BATTERY_SOC,
    CONF_BATTERY_POWER,
    CONF_HOUSE_POWER,
    *CONF_GRID_CURRENTS,
)


def number(state: State | None) -> float | None:
    """A state's finite numeric value, else None."""
    if state is None:
        return None
    try:
        value = float(state.state)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def _converted(
    state: State | None, converter: type[BaseUnitConverter], unit: str
) -> float | None:
    value = number(state)
    if value is None or state is None:
        return None
    source_unit = state.attributes.get(ATTR_UNIT_OF_MEASUREMENT)
    if source_unit in converter.VALID_UNITS and source_unit != unit:
        return converter.convert(value, source_unit, unit)
    return value


def power_w(state: State | None) -> float | None:
    """A power state in W (any unit HA's power converter knows; none means W)."""
    return _converted(state, PowerConverter, UnitOfPower.WATT)


def energy_wh(state: State | None) -> float | None:
    """An energy state in Wh (any unit HA's energy converter knows; none means Wh)."""
    return _converted(state, EnergyConverter, UnitOfEnergy.WATT_HOUR)


def current_a(state: State | None) -> float | None:
    """A current state in A (mA converted; none means A)."""
    return _converted(state, ElectricCurrentConverter, UnitOfElectricCurrent.AMPERE)


class SourceReader:
    """Reads the configured source entities of one site."""

    def __init__(self, hass: HomeAssistant, options: Mapping[str, Any]) -> None:
        self._hass = hass
        self._options = options

    def entity_id(self, key: str) -> str | None:
        """The entity configured for `key`, if any."""
        entity_id = self._options.get(key)
        return str(entity_id) if entity_id else None

    def configured(self, *keys: str) -> bool:
        """Whether any of the sources is configured."""
        return any(self._options.get(key) for key in keys)

    def state(self, key: str) -> State | None:
        """The state of the source configured for `key`."""
        entity_id = self.entity_id(key)
        return self._hass.states.get(entity_id) if entity_id else None

    def usable(self, key: str) -> bool:
        """Whether a configured source is readable now (unconfigured: True)."""
        return self.entity_id(key) is None or number(self.state(key)) is not None

    def stale(self, key: str, now: datetime) -> bool:
        """Whether a non-zero reading has not been reported for `STALE_AFTER`."""
        state = self.state(key)
        if state is None or number(state) in (None, 0.0):
            return False
        return now - state.last_reported > STALE_AFTER

    def pv_w(self) -> float | None:
        """PV production in W."""
        return power_w(self.state(CONF_PV_POWER))

    def grid_w(self) -> float | None:
        """Grid power in W, positive when importing."""
        return power_w(self.state(CONF_GRID_POWER))

    def house_w(self) -> float | None:
        """Measured house consumption in W (None: not measured or unreadable)."""
        return power_w(self.state(CONF_HOUSE_POWER))

    def battery_soc_pct(self) -> float | None:
        """Home battery state of charge in %."""
        return number(self.state(CONF_BATTERY_SOC))

    def battery_w(self) -> float | None:
        """Home battery power in W, positive when charging."""
        value = power_w(self.state(CONF_BATTERY_POWER))
        if value is not None and (
            self._options.get(CONF_BATTERY_POWER_SIGN)
            == BATTERY_SIGN_DISCHARGING_POSITIVE
        ):
            return -value
        return value

    def line_currents_a(self) -> list[float | None]:
        """The configured per-line grid currents in A (one entry per configured)."""
        return [
            current_a(self.state(key))
            for key in CONF_GRID_CURRENTS
            if self._options.get(key)
        ]
