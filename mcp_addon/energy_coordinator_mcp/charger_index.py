"""The integration's chargers, connectors and loadpoints, as it lists them itself.

Owns `ChargerIndex`: the answer of the integration's `get_chargers` action (per
site its nominal phase voltage and phase count, per charger and connector its
device id, loadpoint and entity ids by what they show, per loadpoint its setting
entities), cached until HA announces a registry change, a minute has passed, or a
charger or loadpoint that is asked for is not in it (then fetched again, unless
another fetch finished meanwhile; a name still unknown after that is not fetched
for again for a few seconds). Nothing here reads a unique id or a device identifier: the
add-on acts through the ids the integration hands out. Also `SiteInfo`, the
site's electrical facts that turn a current into a power and back.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .ha_client import HAClient, HAError

DOMAIN = "energy_coordinator"
#: Seconds a `get_chargers` answer is used before it is fetched again.
CHARGERS_TTL = 60.0
#: Seconds a name that was still unknown after a fetch does not fetch again.
MISS_REFRESH = 2.0
#: Loadpoint setting keys the add-on changes: (entity domain, the integration's keys).
SETTING_KEYS: dict[str, tuple[str, tuple[str, ...]]] = {
    "mode": ("select", ("charge_mode",)),
    "target_soc": ("number", ("target_soc",)),
    "target_time": ("datetime", ("target_time",)),
    "min_soc": ("number", ("min_soc",)),
    "clear_target_time": ("button", ("clear_target_time",)),
}


class SiteError(Exception):
    """The request names a charger or loadpoint that does not exist, or similar."""


@dataclass(frozen=True, slots=True)
class SiteInfo:
    """One site's electrical facts, as the integration is configured."""

    config_entry_id: str | None
    name: str | None
    voltage_v: float
    phases: int
    coordinates_evs: bool = False

    def max_phases(self, setting: Any = None) -> int:
        """The phases a loadpoint with this phase setting may charge on.

        One on a single-phase site or with the setting `1`, else three (`3` or
        `auto`), as the integration's controller counts them.
        """
        if self.phases == 1 or str(setting) == "1":
            return 1
        return 3

    def current_a(self, power_w: float, phases: int) -> float:
        """The current per phase that draws `power_w` on `phases` phases."""
        return power_w / (self.voltage_v * phases)

    def power_kw(self, current_a: float, phases: int) -> float:
        """The power drawn with `current_a` per phase on `phases` phases, in kW."""
        return current_a * self.voltage_v * phases / 1000


@dataclass(slots=True)
class ConnectorInfo:
    """One connector of a charger and its entities (key -> entity id)."""

    connector_id: int
    device_id: str | None
    loadpoint: str | None = None
    entities: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class ChargerInfo:
    """One charger and its entities."""

    charger_id: str
    device_id: str
    name: str
    manufacturer: str | None
    model: str | None
    firmware: str | None
    site: SiteInfo
    ocpp_version: str | None = None
    entities: dict[str, str] = field(default_factory=dict)
    connectors: dict[int, ConnectorInfo] = field(default_factory=dict)


@dataclass(slots=True)
class LoadpointInfo:
    """One loadpoint (a charger connector the site coordinates) and its entities."""

    loadpoint_id: str
    charger_id: str
    connector_id: int
    device_id: str | None
    site: SiteInfo
    entities: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Chargers:
    """One `get_chargers` answer (of every site), when it was fetched."""

    sites: tuple[SiteInfo, ...]
    chargers: dict[str, ChargerInfo]
    loadpoints: dict[str, LoadpointInfo]
    fetched_at: float
    registry_version: int


def _text(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None


def _entities(value: Any) -> dict[str, str]:
    if not isinstance(value, Mapping):
        return {}
    return {str(k): str(v) for k, v in value.items() if isinstance(v, str) and v}


class ChargerIndex:
    """The integration's chargers and loadpoints, from its `get_chargers` action."""

    def __init__(self, ha: HAClient, ttl: float = CHARGERS_TTL) -> None:
        """Ask through this client; keep an answer up to `ttl` seconds."""
        self.ha = ha
        self.ttl = ttl
        self._cached: Chargers | None = None
        self._lock = asyncio.Lock()
        self._misses: dict[str, float] = {}  # unknown name -> when it was checked
        #: How many times `get_chargers` was called (for tests and diagnostics).
        self.fetches = 0

    def _current(self, cached: Chargers | None) -> bool:
        return (
            cached is not None
            and cached.registry_version == self.ha.registry_version
            and time.monotonic() - cached.fetched_at < self.ttl
        )

    async def snapshot(self, *, newer_than: float | None = None) -> Chargers:
        """The cached answer, or a fresh one when stale.

        With `newer_than` (a `time.monotonic()` reading), one fetched after it:
        what a miss asks for, so misses that wait on one fetch share it.
        """
        async with self._lock:
            cached = self._cached
            if newer_than is not None:
                if cached is not None and cached.fetched_at > newer_than:
                    return cached
            elif self._current(cached):
                assert cached is not None
                return cached
            self._cached = await self._fetch()
            return self._cached

    async def _find[T](
        self,
        kind: str,
        wanted: str,
        find: Callable[[Chargers, str], T | None],
    ) -> tuple[T | None, Chargers]:
        """`find` in the cached answer; on a miss, in a fresh one (see module doc)."""
        asked = time.monotonic()
        answer = await self.snapshot()
        found = find(answer, wanted)
        key = f"{kind}:{wanted.lower()}"
        checked = self._misses.get(key)
        if found is None and (checked is None or asked - checked >= MISS_REFRESH):
            answer = await self.snapshot(newer_than=asked)
            found = find(answer, wanted)
            if found is None:
                if len(self._misses) > 100:
                    self._misses.clear()
                self._misses[key] = time.monotonic()
        if found is not None:
            self._misses.pop(key, None)
        return found, answer

    async def _fetch(self) -> Chargers:
        version = self.ha.registry_version
        entries = sorted(
            entry_id
            for entry_id, entry in self.ha.config_entries.items()
            if entry.get("domain") == DOMAIN and entry.get("state") == "loaded"
        )
        # One site (or config entries unknown): the action finds it itself.
        calls: list[dict[str, Any]] = (
            [{"config_entry_id": e} for e in entries] if len(entries) > 1 else [{}]
        )
        self.fetches += 1
        try:
            answers = await asyncio.gather(
                *(
                    self.ha.call_service(
                        DOMAIN, "get_chargers", data, return_response=True
                    )
                    for data in calls
                )
            )
        except HAError as err:
            if err.code == "not_found":
                raise SiteError(
                    "the Energy Coordinator integration does not offer "
                    "get_chargers; update the integration"
                ) from err
            raise
        sites: list[SiteInfo] = []
        chargers: dict[str, ChargerInfo] = {}
        loadpoints: dict[str, LoadpointInfo] = {}
        for answer in answers:
            if isinstance(answer, Mapping):
                site = self._site(answer.get("site"))
                sites.append(site)
                self._read(answer, site, chargers, loadpoints)
        return Chargers(
            tuple(sites),
            dict(sorted(chargers.items())),
            dict(sorted(loadpoints.items())),
            time.monotonic(),
            version,
        )

    @staticmethod
    def _site(raw: Any) -> SiteInfo:
        site = raw if isinstance(raw, Mapping) else {}
        voltage = site.get("voltage_v")
        phases = site.get("phases")
        if not isinstance(voltage, int | float) or voltage <= 0:
            raise SiteError("the integration's get_chargers gave no site voltage")
        return SiteInfo(
            config_entry_id=_text(site.get("config_entry_id")),
            name=_text(site.get("name")),
            voltage_v=float(voltage),
            phases=1 if phases == 1 else 3,
            coordinates_evs=bool(site.get("coordinates_evs")),
        )

    def _read(
        self,
        answer: Mapping[str, Any],
        site: SiteInfo,
        chargers: dict[str, ChargerInfo],
        loadpoints: dict[str, LoadpointInfo],
    ) -> None:
        raw_chargers = answer.get("chargers")
        for charger_id, raw in (
            raw_chargers.items() if isinstance(raw_chargers, Mapping) else ()
        ):
            if not isinstance(raw, Mapping) or not raw.get("device_id"):
                continue
            device_id = str(raw["device_id"])
            device = self.ha.devices.get(device_id) or {}
            charger = ChargerInfo(
                charger_id=str(charger_id),
                device_id=device_id,
                name=str(
                    device.get("name_by_user") or device.get("name") or charger_id
                ),
                manufacturer=_text(raw.get("vendor")),
                model=_text(raw.get("model")),
                firmware=_text(raw.get("firmware")),
                site=site,
                ocpp_version=_text(raw.get("ocpp_version")),
                entities=_entities(raw.get("entities")),
            )
            connectors = raw.get("connectors")
            for number, conn in (
                connectors.items() if isinstance(connectors, Mapping) else ()
            ):
                if not isinstance(conn, Mapping) or not str(number).isdigit():
                    continue
                charger.connectors[int(number)] = ConnectorInfo(
                    connector_id=int(number),
                    device_id=_text(conn.get("device_id")),
                    loadpoint=_text(conn.get("loadpoint")),
                    entities=_entities(conn.get("entities")),
                )
            charger.connectors = dict(sorted(charger.connectors.items()))
            chargers[charger.charger_id] = charger
        raw_loadpoints = answer.get("loadpoints")
        for lp_id, raw in (
            raw_loadpoints.items() if isinstance(raw_loadpoints, Mapping) else ()
        ):
            if not isinstance(raw, Mapping):
                continue
            connector = raw.get("connector_id")
            if raw.get("charger_id") is None or not isinstance(connector, int):
                continue
            loadpoints[str(lp_id)] = LoadpointInfo(
                loadpoint_id=str(lp_id),
                charger_id=str(raw["charger_id"]),
                connector_id=connector,
                device_id=_text(raw.get("device_id")),
                site=site,
                entities=_entities(raw.get("entities")),
            )

    # Reading ----------------------------------------------------------------------

    async def chargers(self) -> dict[str, ChargerInfo]:
        """Every charger by id (sorted), with connectors and entities."""
        return (await self.snapshot()).chargers

    async def loadpoints(self) -> dict[str, LoadpointInfo]:
        """Every loadpoint by id (`charger/connector`) with its entities."""
        return (await self.snapshot()).loadpoints

    async def site(self) -> SiteInfo:
        """The (first) site's electrical facts."""
        sites = (await self.snapshot()).sites
        if not sites:
            raise SiteError("the integration has no site loaded")
        return sites[0]

    @staticmethod
    def setting_entity(loadpoint: LoadpointInfo, setting: str) -> str | None:
        """The entity that holds one setting of a loadpoint (None if missing)."""
        domain, keys = SETTING_KEYS[setting]
        for key in keys:
            entity_id = loadpoint.entities.get(key)
            if entity_id and entity_id.startswith(f"{domain}."):
                return entity_id
        return None

    async def charger(self, charger_id: str) -> ChargerInfo:
        """One charger by id or name (case-insensitive); refetched once if unknown."""
        found, answer = await self._find(
            "charger",
            charger_id.strip(),
            lambda answer, wanted: _charger_named(answer.chargers, wanted),
        )
        if found is None:
            known = ", ".join(answer.chargers) or "none"
            raise SiteError(f"unknown charger {charger_id!r}; chargers: {known}")
        return found

    async def loadpoint(self, loadpoint_id: str) -> LoadpointInfo:
        """A loadpoint by `charger/connector`, or by charger id (its connector 1)."""
        found, answer = await self._find(
            "loadpoint",
            loadpoint_id.strip(),
            lambda answer, wanted: _loadpoint_named(answer.loadpoints, wanted),
        )
        if found is None:
            known = ", ".join(answer.loadpoints) or "none"
            raise SiteError(f"unknown loadpoint {loadpoint_id!r}; loadpoints: {known}")
        return found


def _charger_named(
    chargers: Mapping[str, ChargerInfo], wanted: str
) -> ChargerInfo | None:
    if wanted in chargers:
        return chargers[wanted]
    lowered = wanted.lower()
    for charger in chargers.values():
        if lowered in (charger.charger_id.lower(), charger.name.lower()):
            return charger
    return None


def _loadpoint_named(
    loadpoints: Mapping[str, LoadpointInfo], wanted: str
) -> LoadpointInfo | None:
    for candidate in (wanted, f"{wanted}/1"):
        if candidate in loadpoints:
            return loadpoints[candidate]
    lowered = {k.lower(): v for k, v in loadpoints.items()}
    for candidate in (wanted.lower(), f"{wanted.lower()}/1"):
        if candidate in lowered:
            return lowered[candidate]
    return None
