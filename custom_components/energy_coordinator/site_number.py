"""Number entities of the site and its EV loadpoints.

Site: the grid import limit, in the unit the site was configured with (A per phase or
kW in total); setting it overrides the configured limit (stored). EV loadpoint: the
minimum and maximum charging current, the minimum and target SoC and the vehicle's
battery capacity, stored with the loadpoint's settings. A minimum current above the
maximum (or the reverse) is refused with a translated error.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from homeassistant.components.number import (
    NumberDeviceClass,
    NumberEntity,
    NumberEntityDescription,
    NumberMode,
)
from homeassistant.const import (
    PERCENTAGE,
    EntityCategory,
    UnitOfElectricCurrent,
    UnitOfEnergy,
    UnitOfPower,
)
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import DOMAIN
from .csms.model import ChargerState
from .runtime import EnergyCoordinatorConfigEntry
from .site import LoadpointSettings, SiteCoordinator
from .site_entity import (
    SITE,
    LoadpointEntity,
    SiteEntity,
    async_ensure_site_devices,
    site_device_info,
)

GRID_LIMIT_A = NumberEntityDescription(
    key="grid_limit",
    translation_key="grid_limit",
    device_class=NumberDeviceClass.CURRENT,
    native_unit_of_measurement=UnitOfElectricCurrent.AMPERE,
    native_min_value=0,
    native_max_value=1000,
    native_step=0.1,
    mode=NumberMode.BOX,
    entity_category=EntityCategory.CONFIG,
)
GRID_LIMIT_KW = NumberEntityDescription(
    key="grid_limit",
    translation_key="grid_limit",
    device_class=NumberDeviceClass.POWER,
    native_unit_of_measurement=UnitOfPower.KILO_WATT,
    native_min_value=0,
    native_max_value=1000,
    native_step=0.1,
    mode=NumberMode.BOX,
    entity_category=EntityCategory.CONFIG,
)


@dataclass(frozen=True, kw_only=True)
class LoadpointNumberEntityDescription(NumberEntityDescription):
    """A setting of one EV loadpoint."""

    value_fn: Callable[[LoadpointSettings], float | None]
    #: The `LoadpointSettings` field it sets.
    field: str
    #: Refuses a value that does not fit the other settings (returns an error key).
    check_fn: Callable[[LoadpointSettings, float], str | None] = lambda _s, _v: None
    #: Whether the vehicle's SoC or a target matters (then the number is created).
    for_targets: bool = False


def _min_current_check(settings: LoadpointSettings, value: float) -> str | None:
    return "min_current_above_max" if value > settings.max_current_a else None


def _max_current_check(settings: LoadpointSettings, value: float) -> str | None:
    return "min_current_above_max" if value < settings.min_current_a else None


LOADPOINT_NUMBERS: tuple[LoadpointNumberEntityDescription, ...] = (
    LoadpointNumberEntityDescription(
        key="min_current",
        translation_key="min_current",
        # Set once per car; hidden until enabled (lean for a garage).
        entity_registry_enabled_default=False,
        device_class=NumberDeviceClass.CURRENT,
        native_unit_of_measurement=UnitOfElectricCurrent.AMPERE,
        native_min_value=6,
        native_max_value=32,
        native_step=1,
        mode=NumberMode.BOX,
        entity_category=EntityCategory.CONFIG,
        field="min_current_a",
        value_fn=lambda settings: settings.min_current_a,
        check_fn=_min_current_check,
    ),
    LoadpointNumberEntityDescription(
        key="max_current",
        translation_key="max_current",
        device_class=NumberDeviceClass.CURRENT,
        native_unit_of_measurement=UnitOfElectricCurrent.AMPERE,
        native_min_value=6,
        native_max_value=32,
        native_step=1,
        mode=NumberMode.BOX,
        entity_category=EntityCategory.CONFIG,
        field="max_current_a",
        value_fn=lambda settings: settings.max_current_a,
        check_fn=_max_current_check,
    ),
    LoadpointNumberEntityDescription(
        key="min_soc",
        translation_key="min_soc",
        for_targets=True,
        # Set once per car; hidden until enabled (lean for a garage).
        entity_registry_enabled_default=False,
        native_unit_of_measurement=PERCENTAGE,
        native_min_value=0,
        native_max_value=100,
        native_step=1,
        mode=NumberMode.SLIDER,
        entity_category=EntityCategory.CONFIG,
        field="min_soc_pct",
        value_fn=lambda settings: settings.min_soc_pct,
    ),
    LoadpointNumberEntityDescription(
        key="target_soc",
        translation_key="target_soc",
        for_targets=True,
        native_unit_of_measurement=PERCENTAGE,
        native_min_value=0,
        native_max_value=100,
        native_step=1,
        mode=NumberMode.SLIDER,
        field="target_soc_pct",
        value_fn=lambda settings: settings.target_soc_pct,
    ),
    LoadpointNumberEntityDescription(
        key="vehicle_capacity",
        translation_key="vehicle_capacity",
        for_targets=True,
        # Set once per car; hidden until enabled (lean for a garage).
        entity_registry_enabled_default=False,
        device_class=NumberDeviceClass.ENERGY_STORAGE,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        native_min_value=1,
        native_max_value=250,
        native_step=0.5,
        mode=NumberMode.BOX,
        entity_category=EntityCategory.CONFIG,
        field="vehicle_capacity_kwh",
        value_fn=lambda settings: settings.vehicle_capacity_kwh,
    ),
)

#: Every description of this module (for the translation checks).
DESCRIPTIONS: tuple[NumberEntityDescription, ...] = (GRID_LIMIT_A, *LOADPOINT_NUMBERS)


@callback
def async_setup_site_numbers(
    hass: HomeAssistant,
    entry: EnergyCoordinatorConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the grid limit (the loadpoints' come from `loadpoint_numbers`)."""
    site = entry.runtime_data.site
    async_ensure_site_devices(hass, entry)
    description = GRID_LIMIT_KW if site.grid_limit_unit == "kW" else GRID_LIMIT_A
    async_add_entities([GridLimitNumber(site, description)])


def loadpoint_numbers(
    site: SiteCoordinator, charger: ChargerState, connector_id: int
) -> Iterable[LoadpointEntity]:
    """The settings of one EV loadpoint (for the entity tracker)."""
    return [
        LoadpointNumberEntity(site, charger, connector_id, description)
        for description in LOADPOINT_NUMBERS
    ]


class GridLimitNumber(SiteEntity, NumberEntity):
    """The grid import limit in force."""

    def __init__(
        self, site: SiteCoordinator, description: NumberEntityDescription
    ) -> None:
        """Bind the number to the site device."""
        super().__init__(
            site,
            description,
            site_device_info(site, SITE),
            f"{site.entry_id}_{description.key}",
        )

    @property
    def native_value(self) -> float | None:
        """The limit, in the configured unit."""
        return self.site.grid_limit

    def shown(self) -> Any:
        """The value."""
        return self.native_value

    async def async_set_native_value(self, value: float) -> None:
        """Override the configured limit (stored)."""
        self.site.set_grid_limit(value)


class LoadpointNumberEntity(LoadpointEntity, NumberEntity):
    """A setting of one EV loadpoint."""

    entity_description: LoadpointNumberEntityDescription

    @property
    def native_value(self) -> float | None:
        """The stored setting."""
        return self.entity_description.value_fn(self.site.settings(self.lp_id))

    def shown(self) -> Any:
        """The value."""
        return self.native_value

    def reported(self) -> bool:
        """SoC and target settings once the loadpoint charges to a target or its
        vehicle's SoC is known; the others always."""
        return not self.entity_description.for_targets or self.site.soc_matters(
            self.lp_id, self.connector
        )

    async def async_set_native_value(self, value: float) -> None:
        """Store the setting."""
        description = self.entity_description
        settings = self.site.settings(self.lp_id)
        if error := description.check_fn(settings, value):
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key=error,
                translation_placeholders={
                    "min": f"{settings.min_current_a:g}",
                    "max": f"{settings.max_current_a:g}",
                    "value": f"{value:g}",
                },
            )
        self.site.update_settings(self.lp_id, **{description.field: value})
