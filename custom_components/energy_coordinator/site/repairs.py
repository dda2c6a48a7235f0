"""Repair issues of one site, kept in step with HA's issue registry.

Owns `SiteRepairs`: an issue per configured measurement that is missing or
unreadable (`source_unavailable`, naming the entity and its translated field
label) and one per charger that does not take charging limits
(`charger_uncontrollable`). Which issues are raised is read back from HA's
issue registry when the site loads, so one raised before a restart or reload is
cleared when its cause is gone; `clear_all` removes them on unload and removal.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir

from ..const import DOMAIN

SOURCE_ISSUE = "source_unavailable"
CHARGER_ISSUE = "charger_uncontrollable"


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
    def clear_all(self) -> None:
        """Remove every issue of this site."""
        for issue_id in list(self._raised):
            ir.async_delete_issue(self._hass, DOMAIN, issue_id)
        self._raised.clear()
