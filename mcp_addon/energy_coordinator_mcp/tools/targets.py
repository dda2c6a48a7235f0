"""What a `call_service` call would reach, and whether any of it is the integration's.

Owns `ServiceTarget` and `resolve_target`: the call's targets (entity ids, device
ids, area ids or names) checked against what the model may see, then everything
Home Assistant would act on, as far as its public registries and states tell:
the entities named, those of the devices named, those in the areas named (their
own area, else their device's), the members of groups and scenes among them (their
`entity_id` attribute), and every entity or device id mentioned anywhere in the
call's data (`scene.apply` takes entity ids as keys). `touched` lists what of that
belongs to Energy Coordinator; the call is then consequential whatever the owner's
`confirm_domains` say, because it can start, stop or reshape a charge.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from .access import HomeAccess
from .spec import ToolError

#: Keys Home Assistant reads as a call's target wherever they appear in its data.
TARGET_KEYS = ("entity_id", "device_id", "area_id", "floor_id", "label_id")
#: How many of the integration's parts a confirmation summary names.
NAMED_IN_SUMMARY = 4


@dataclass(slots=True)
class ServiceTarget:
    """A call's resolved targets and what of the integration they reach."""

    entity_ids: list[str] = field(default_factory=list)
    device_ids: list[str] = field(default_factory=list)
    area_ids: list[str] = field(default_factory=list)
    touched: list[str] = field(default_factory=list)
    described: list[str] = field(default_factory=list)

    def as_target(self) -> dict[str, list[str]] | None:
        """The `target` of HA's `call_service` command (None when there is none)."""
        target = {
            key: ids
            for key, ids in (
                ("entity_id", self.entity_ids),
                ("device_id", self.device_ids),
                ("area_id", self.area_ids),
            )
            if ids
        }
        return target or None

    def text(self) -> str:
        """`" on light.a, device Garage charger"` for the summary."""
        return f" on {', '.join(self.described)}" if self.described else ""

    def touched_text(self, domain: str) -> str:
        """`" (changes Energy Coordinator's switch.x, …)"`, or nothing.

        Names the parts the action's own domain acts on first (a `switch` action
        on a charger's device: its switches), else everything reached.
        """
        if not self.touched:
            return ""
        named = [t for t in self.touched if t.startswith(f"{domain}.")]
        named = named or self.touched
        text = ", ".join(named[:NAMED_IN_SUMMARY])
        more = len(named) - NAMED_IN_SUMMARY
        text += f" and {more} more" if more > 0 else ""
        return f" (changes Energy Coordinator's {text})"


def _strings(value: Any) -> Iterator[str]:
    """Every string in JSON-able data, dictionary keys included."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str):
                yield key
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)


def _members(access: HomeAccess, entity_id: str) -> list[str]:
    state = access.ha.states.get(entity_id)
    members = state.attributes.get("entity_id") if state else None
    if isinstance(members, str):
        return [members]
    if isinstance(members, list | tuple):
        return [str(m) for m in members]
    return []


def _device_name(access: HomeAccess, device_id: str) -> str:
    device = access.ha.devices.get(device_id) or {}
    return str(device.get("name_by_user") or device.get("name") or device_id)


def _area_id(access: HomeAccess, wanted: str) -> str:
    areas = access.ha.areas
    if wanted in areas:
        return wanted
    lowered = wanted.strip().lower()
    for area_id, area in areas.items():
        if lowered in (area_id.lower(), str(area.get("name") or "").lower()):
            return area_id
    known = ", ".join(sorted(areas)) or "none"
    raise ToolError(f"unknown area {wanted!r}; areas: {known}")


async def resolve_target(
    access: HomeAccess,
    *,
    entity_ids: list[str],
    device_ids: list[str],
    area_ids: list[str],
    data: dict[str, Any],
) -> ServiceTarget:
    """Check the targets and find what of the integration the call would reach."""
    inside = [key for key in TARGET_KEYS if key in data]
    if inside:
        raise ToolError(
            f"give {', '.join(inside)} as the tool's entity_id, device_id or area_id "
            "argument, not inside data (floor_id and label_id are not supported)"
        )
    target = ServiceTarget()
    for entity_id in entity_ids:
        await access.visible(entity_id)
        target.entity_ids.append(entity_id)
        target.described.append(entity_id)
    if (device_ids or area_ids) and await access.exposed_ids() is not None:
        raise ToolError(
            "only entities exposed to Assist may be used: target them by entity_id "
            "(a device or area would reach the others too)"
        )
    for device_id in device_ids:
        if device_id not in access.ha.devices:
            raise ToolError(
                f"unknown device {device_id!r}; list_chargers with charger=<id> "
                "gives a charger's device_id"
            )
        target.device_ids.append(device_id)
        target.described.append(f"device {_device_name(access, device_id)}")
    for wanted in area_ids:
        area_id = _area_id(access, wanted)
        target.area_ids.append(area_id)
        target.described.append(f"area {access.ha.area_name(area_id)}")
    target.touched = _touched(access, target, data)
    return target


def _touched(
    access: HomeAccess, target: ServiceTarget, data: dict[str, Any]
) -> list[str]:
    ha = access.ha
    touched: list[str] = []
    devices = list(target.device_ids)
    start = list(target.entity_ids)
    for text in _strings(data):
        if text in ha.devices:
            devices.append(text)
        elif text in ha.states or text in ha.entities:
            start.append(text)
    for device_id in devices:
        if access.owns_device(device_id):
            touched.append(f"device {_device_name(access, device_id)}")
        start += [
            entity_id
            for entity_id, entry in ha.entities.items()
            if entry.get("device_id") == device_id
        ]
    for area_id in target.area_ids:
        start += [e for e in ha.entities if ha.area_of(e) == area_id]
    seen: set[str] = set()
    queue = list(start)
    while queue:
        entity_id = queue.pop()
        if entity_id in seen:
            continue
        seen.add(entity_id)
        if access.owns_entity(entity_id):
            touched.append(entity_id)
        queue += _members(access, entity_id)
    return list(dict.fromkeys(sorted(touched)))
