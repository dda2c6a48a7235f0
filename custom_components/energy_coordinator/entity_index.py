"""Which entity shows what: the integration's own index of its entity ids.

Owns `EntityIndex`: every entity of a site registers its entity id when it is
added to HA (and leaves when removed or renamed), under what it shows — a
charger's or connector's key (`power`, `charge`, …), a loadpoint's setting
(`charge_mode`, `target_soc`, …) or a site part's sensor. The `get_chargers`
action answers from it, so the MCP add-on (and anyone else) never parses
unique-id or device-identifier formats.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(slots=True)
class EntityIndex:
    """Entity ids by charger (connector 0: the charger itself), loadpoint, site."""

    chargers: dict[str, dict[int, dict[str, str]]] = field(default_factory=dict)
    loadpoints: dict[str, dict[str, str]] = field(default_factory=dict)
    site: dict[str, dict[str, str]] = field(default_factory=dict)

    @staticmethod
    def _add(keyed: dict[str, str], key: str, entity_id: str) -> Callable[[], None]:
        keyed[key] = entity_id

        def remove() -> None:
            if keyed.get(key) == entity_id:
                del keyed[key]

        return remove

    def add_charger(
        self, charger_id: str, connector_id: int, key: str, entity_id: str
    ) -> Callable[[], None]:
        """A charger entity (connector 0) or a connector entity."""
        connectors = self.chargers.setdefault(charger_id, {})
        return self._add(connectors.setdefault(connector_id, {}), key, entity_id)

    def add_loadpoint(self, lp_id: str, key: str, entity_id: str) -> Callable[[], None]:
        """An entity of an EV loadpoint."""
        return self._add(self.loadpoints.setdefault(lp_id, {}), key, entity_id)

    def add_site(self, part: str, key: str, entity_id: str) -> Callable[[], None]:
        """An entity of the site or one of its parts (solar, battery, house)."""
        return self._add(self.site.setdefault(part, {}), key, entity_id)
