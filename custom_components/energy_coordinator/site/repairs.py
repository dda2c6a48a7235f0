"""Repair issues of one site, kept in step with HA's issue registry.

Owns `SiteRepairs`: an issue per configured measurement that is missing or
unreadable (`source_unavailable`, naming the entity and its translated field
label), one per charger that does not take charging limits
(`charger_uncontrollable`), one per price entity whose attributes carry no
forecast in a known shape (`price_shape_unknown`) and one per planning goal the
plan will miss (`ev_goal_unreachable`, `load_goal_unreachable`: what was asked and
what is planned, updated as the plan changes, cleared when it is reachable).
Which issues are raised is read back from HA's issue registry when the site
loads, so one raised before a restart or reload is cleared when its cause is
gone; `clear_all` removes them on unload and removal.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir

from ..const import DOMAIN

if TYPE_CHECKING:
    from .planning import MissedGoal

SOURCE_ISSUE = "source_unavailable"
CHARGER_ISSUE = "charger_uncontrollable"
PRICE_ISSUE = "price_shape_unknown"
GOAL_ISSUES = {"ev": "ev_goal_unreachable", "load": "load_goal_unreachable"}
_UNSAFE = re.compile(r"[^a-z0-9_]+")


class SiteRepairs:
    """Raises and clears the repair issues of one site."""

    def __init__(self, hass: HomeAssistant, entry_id: str) -> None:
        self._hass = hass
        self._prefix = f"{entry_id}_"
        registry = ir.async_get(hass)
        self._raised: set[str] = {
            issue_id
            for (domain, issue_id) in registry.issues
            if domain == DOMAIN and issue_id.startswith(self._prefix)
        }
        #: The placeholders of each goal issue raised in this run, and its goal.
        self._goals: dict[str, tuple[str, dict[str, str]]] = {}

    @property
    def raised(self) -> frozenset[str]:
        """The ids of the issues raised now."""
        return frozenset(self._raised)

    @callback
    def _create(
        self, issue_id: str, translation_key: str, placeholders: dict[str, str]
    ) -> None:
        if issue_id in self._raised:
            return
        self._raised.add(issue_id)
        ir.async_create_issue(
            self._hass,
            DOMAIN,
            issue_id,
            is_fixable=False,
            severity=ir.IssueSeverity.WARNING,
            translation_key=translation_key,
            translation_placeholders=placeholders,
        )

    @callback
    def _keep_only(self, kind: str, wanted: Iterable[str]) -> None:
        """Delete the issues of `kind` not in `wanted`."""
        keep = set(wanted)
        for issue_id in [i for i in self._raised if i.endswith(kind)]:
            if issue_id not in keep:
                self._raised.discard(issue_id)
                ir.async_delete_issue(self._hass, DOMAIN, issue_id)

    @callback
    def sources(self, missing: Mapping[str, tuple[str, str]]) -> None:
        """Raise one issue per missing source: key -> (entity id, label)."""
        wanted = []
        for key, (entity_id, label) in missing.items():
            issue_id = f"{self._prefix}{key}_unavailable"
            wanted.append(issue_id)
            self._create(
                issue_id, SOURCE_ISSUE, {"entity_id": entity_id, "source": label}
            )
        self._keep_only("_unavailable", wanted)

    @callback
    def chargers(self, refusing: Mapping[str, str]) -> None:
        """Raise one issue per charger that refuses limits: charger id -> name."""
        wanted = []
        for charger_id, name in refusing.items():
            issue_id = f"{self._prefix}{charger_id}_uncontrollable"
            wanted.append(issue_id)
            self._create(
                issue_id, CHARGER_ISSUE, {"charger": name, "charger_id": charger_id}
            )
        self._keep_only("_uncontrollable", wanted)

    @callback
    def price_shapes(self, unknown: Mapping[str, tuple[str, Sequence[str]]]) -> None:
        """One issue per price entity of unknown shape: which -> (entity, attrs)."""
        wanted = []
        for which, (entity_id, attributes) in unknown.items():
            issue_id = f"{self._prefix}{which}_price_shape"
            wanted.append(issue_id)
            self._create(
                issue_id,
                PRICE_ISSUE,
                {
                    "entity_id": entity_id,
                    "attributes": ", ".join(attributes) or "-",
                },
            )
        self._keep_only("_price_shape", wanted)

    @property
    def goal_ids(self) -> frozenset[str]:
        """The goals whose issue is raised now."""
        return frozenset(goal for goal, _ in self._goals.values())

    @callback
    def goals(self, missed: Iterable[MissedGoal]) -> None:
        """One issue per goal the plan will miss; updated when its text changes."""
        wanted = []
        for goal in missed:
            slug = _UNSAFE.sub("_", goal.goal_id.lower()).strip("_")
            issue_id = f"{self._prefix}{slug}_goal"
            wanted.append(issue_id)
            known = self._goals.get(issue_id)
            if known is not None and known[1] == goal.placeholders:
                continue
            self._goals[issue_id] = (goal.goal_id, dict(goal.placeholders))
            self._raised.add(issue_id)
            ir.async_create_issue(
                self._hass,
                DOMAIN,
                issue_id,
                is_fixable=False,
                severity=ir.IssueSeverity.WARNING,
                translation_key=GOAL_ISSUES[goal.kind],
                translation_placeholders=goal.placeholders,
            )
        self._keep_only("_goal", wanted)
        for issue_id in [i for i in self._goals if i not in wanted]:
            del self._goals[issue_id]

    @callback
    def clear_all(self) -> None:
        """Remove every issue of this site."""
        for issue_id in list(self._raised):
            ir.async_delete_issue(self._hass, DOMAIN, issue_id)
        self._raised.clear()
        self._goals.clear()
