"""Home Assistant over its public WebSocket API: one connection, kept alive.

Owns `HAClient`: the connection (authenticated with the add-on's own token, never a
caller's), reconnection with backoff, a state mirror kept current with
`subscribe_entities` (HA's compressed state diffs), the area/device/entity
registries and the config entries (reloaded when HA announces a registry change,
counted by `registry_version`),
`call_service` with `return_response`, the recorder's history and statistics
commands, the services list and the Assist exposure list. REST is only used by
callers that need it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import aiohttp

_LOGGER = logging.getLogger(__name__)

#: Seconds to wait for a command's result.
COMMAND_TIMEOUT = 30.0
#: Reconnection backoff bounds, in seconds.
BACKOFF_MIN = 0.5
BACKOFF_MAX = 30.0
#: Debounce before registries are reloaded after an update event.
REGISTRY_RELOAD_DELAY = 0.5
#: How long the services list is cached.
SERVICES_TTL = 60.0
REGISTRY_EVENTS = (
    "area_registry_updated",
    "device_registry_updated",
    "entity_registry_updated",
)


class HAError(Exception):
    """Home Assistant refused or failed a command (its message is shown)."""

    def __init__(self, message: str, code: str = "error") -> None:
        """Keep HA's error code next to its message."""
        super().__init__(message)
        self.code = code


class HAConnectionError(HAError):
    """Home Assistant cannot be reached right now."""


@dataclass(slots=True)
class EntityState:
    """One entity's state, as the mirror holds it."""

    entity_id: str
    state: str
    attributes: dict[str, Any] = field(default_factory=dict)
    last_changed: float = 0.0
    last_updated: float = 0.0

    @property
    def domain(self) -> str:
        """`light` for `light.kitchen`."""
        return self.entity_id.split(".", 1)[0]

    @property
    def name(self) -> str:
        """Friendly name, else the object id."""
        return str(self.attributes.get("friendly_name") or self.entity_id)

    def as_dict(self) -> dict[str, Any]:
        """The REST API's shape."""
        return {
            "entity_id": self.entity_id,
            "state": self.state,
            "attributes": dict(self.attributes),
            "last_changed": iso(self.last_changed),
            "last_updated": iso(self.last_updated),
        }


def iso(timestamp: float) -> str:
    """A POSIX timestamp as ISO 8601 (UTC, seconds)."""
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="seconds")


def websocket_url(base_url: str) -> str:
    """The WebSocket API address for an HA base URL (Supervisor proxy aware)."""
    url = base_url.rstrip("/")
    if url.startswith("https://"):
        ws = "wss://" + url.removeprefix("https://")
    elif url.startswith("http://"):
        ws = "ws://" + url.removeprefix("http://")
    else:
        ws = url
    # The Supervisor's proxy serves the API at /core/websocket.
    if url.endswith("/core"):
        return ws + "/websocket"
    return ws + "/api/websocket"


StateListener = Callable[[set[str]], None]


class HAClient:
    """A kept-alive WebSocket connection to Home Assistant with a state mirror."""

    def __init__(
        self,
        url: str,
        token: str,
        *,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        """Talk to HA at `url` (http(s) base URL) with this access token."""
        self.url = url.rstrip("/")
        self.ws_url = websocket_url(url)
        self._token = token
        self._session = session
        self._own_session = session is None
        self.states: dict[str, EntityState] = {}
        self.areas: dict[str, dict[str, Any]] = {}
        self.devices: dict[str, dict[str, Any]] = {}
        self.entities: dict[str, dict[str, Any]] = {}
        self.config_entries: dict[str, dict[str, Any]] = {}
        self.config: dict[str, Any] = {}
        #: Grows every time the registries are (re)loaded: caches built from
        #: them (or from what the integration says about them) compare it.
        self.registry_version = 0
        self.connected = asyncio.Event()
        self.ready = asyncio.Event()  # first state snapshot and registries loaded
        self.reconnects = 0
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._next_id = 1
        self._waiters: dict[int, asyncio.Future[Any]] = {}
        self._subscriptions: dict[int, Callable[[Any], None]] = {}
        self._runner: asyncio.Task[None] | None = None
        self._registry_reload: asyncio.TimerHandle | None = None
        self._registry_task: asyncio.Task[None] | None = None
        self._services: tuple[float, dict[str, Any]] | None = None
        self._state_listeners: list[StateListener] = []
        self._stopping = False
        self._resync = True
        self.last_error: str | None = None

    # Lifecycle ----------------------------------------------------------------

    async def start(self, wait: float | None = 30.0) -> None:
        """Connect in the background; wait up to `wait` s for the first snapshot."""
        if self._session is None:
            self._session = aiohttp.ClientSession()
        self._stopping = False
        self._runner = asyncio.create_task(self._run(), name="ha-client")
        if wait:
            try:
                await asyncio.wait_for(self.ready.wait(), wait)
            except TimeoutError as err:
                raise HAConnectionError(
                    f"Home Assistant at {self.url} did not answer in {wait:.0f} s"
                    + (f": {self.last_error}" if self.last_error else "")
                ) from err

    async def stop(self) -> None:
        """Close the connection and stop reconnecting."""
        self._stopping = True
        if self._registry_reload is not None:
            self._registry_reload.cancel()
        for task in (self._runner, self._registry_task):
            if task is not None and not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        if self._ws is not None and not self._ws.closed:
            await self._ws.close()
        self._fail_waiters(HAConnectionError("client stopped"))
        if self._own_session and self._session is not None:
            await self._session.close()
            self._session = None

    async def _run(self) -> None:
        backoff = BACKOFF_MIN
        while not self._stopping:
            try:
                await self._connect_once()
                backoff = BACKOFF_MIN
            except asyncio.CancelledError:
                raise
            except HAError as err:
                self.last_error = str(err)
                _LOGGER.warning("Home Assistant connection: %s", err)
            except (aiohttp.ClientError, OSError, TimeoutError) as err:
                self.last_error = f"{type(err).__name__}: {err}"
                _LOGGER.warning(
                    "Home Assistant unreachable at %s: %s", self.ws_url, self.last_error
                )
            finally:
                self.connected.clear()
                self._fail_waiters(HAConnectionError("connection to HA lost"))
                self._subscriptions.clear()
            if self._stopping:
                return
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, BACKOFF_MAX)
            self.reconnects += 1

    async def _connect_once(self) -> None:
        assert self._session is not None
        async with self._session.ws_connect(
            self.ws_url, heartbeat=30, max_msg_size=0, compress=0
        ) as ws:
            hello = await ws.receive_json(timeout=10)
            if hello.get("type") != "auth_required":
                raise HAError(f"unexpected greeting {hello.get('type')}")
            await ws.send_json({"type": "auth", "access_token": self._token})
            auth = await ws.receive_json(timeout=10)
            if auth.get("type") != "auth_ok":
                raise HAError("authentication with Home Assistant failed", "auth")
            self._ws = ws
            self._next_id = 1
            reader = asyncio.create_task(self._read(ws), name="ha-client-read")
            try:
                self.connected.set()
                await self._setup()
                self.last_error = None
                await reader
            finally:
                reader.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await reader
                self._ws = None

    async def _setup(self) -> None:
        """After (re)connecting: snapshot, subscriptions, registries."""
        first = asyncio.get_running_loop().create_future()

        def on_entities(event: Any) -> None:
            self._apply_entities(event)
            if not first.done():
                first.set_result(None)

        self.config = await self.send("get_config")
        self._resync = True
        await self._subscribe({"type": "subscribe_entities"}, on_entities)
        for event_type in REGISTRY_EVENTS:
            await self._subscribe(
                {"type": "subscribe_events", "event_type": event_type},
                lambda _event: self._schedule_registry_reload(),
            )
        await self._load_registries()
        await asyncio.wait_for(first, COMMAND_TIMEOUT)
        self.ready.set()

    async def _read(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        async for msg in ws:
            if msg.type != aiohttp.WSMsgType.TEXT:
                if msg.type in (aiohttp.WSMsgType.ERROR, aiohttp.WSMsgType.CLOSE):
                    break
                continue
            data = msg.json()
            for item in data if isinstance(data, list) else [data]:
                self._dispatch(item)

    def _dispatch(self, msg: Mapping[str, Any]) -> None:
        msg_id = msg.get("id")
        kind = msg.get("type")
        if kind == "event" and isinstance(msg_id, int):
            callback = self._subscriptions.get(msg_id)
            if callback is not None:
                try:
                    callback(msg.get("event"))
                except Exception:  # a listener bug must not kill the connection
                    _LOGGER.exception("Error handling an HA event")
            return
        if kind == "result" and isinstance(msg_id, int):
            waiter = self._waiters.pop(msg_id, None)
            if waiter is None or waiter.done():
                return
            if msg.get("success"):
                waiter.set_result(msg.get("result"))
            else:
                error = msg.get("error") or {}
                waiter.set_exception(
                    HAError(
                        str(error.get("message") or "command failed"),
                        str(error.get("code") or "error"),
                    )
                )

    def _fail_waiters(self, err: Exception) -> None:
        for waiter in self._waiters.values():
            if not waiter.done():
                waiter.set_exception(err)
        self._waiters.clear()

    # Commands -----------------------------------------------------------------

    async def _send_raw(
        self,
        payload: dict[str, Any],
        on_event: Callable[[Any], None] | None = None,
    ) -> tuple[int, asyncio.Future[Any]]:
        ws = self._ws
        if ws is None or ws.closed:
            raise HAConnectionError("not connected to Home Assistant")
        msg_id = self._next_id
        self._next_id += 1
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiters[msg_id] = future
        if on_event is not None:
            self._subscriptions[msg_id] = on_event
        await ws.send_json({**payload, "id": msg_id})
        return msg_id, future

    async def send(
        self, command: str, *, wait: float = COMMAND_TIMEOUT, **payload: Any
    ) -> Any:
        """Send one WebSocket command and return its result."""
        if not self.connected.is_set():
            try:
                await asyncio.wait_for(self.connected.wait(), min(wait, 10.0))
            except TimeoutError as err:
                raise HAConnectionError(
                    "Home Assistant is not connected"
                    + (f" ({self.last_error})" if self.last_error else "")
                ) from err
        _, future = await self._send_raw({"type": command, **payload})
        try:
            return await asyncio.wait_for(future, wait)
        except TimeoutError as err:
            raise HAError(f"{command}: no answer in {wait:.0f} s", "timeout") from err

    async def _subscribe(
        self, payload: dict[str, Any], callback: Callable[[Any], None]
    ) -> None:
        msg_id, future = await self._send_raw(payload, callback)
        try:
            await asyncio.wait_for(future, COMMAND_TIMEOUT)
        except BaseException:
            self._subscriptions.pop(msg_id, None)
            raise

    async def call_service(
        self,
        domain: str,
        service: str,
        data: Mapping[str, Any] | None = None,
        return_response: bool = False,
        *,
        target: Mapping[str, Any] | None = None,
        wait: float = COMMAND_TIMEOUT,
    ) -> Any:
        """Call an action; with `return_response`, its response data."""
        payload: dict[str, Any] = {
            "domain": domain,
            "service": service,
            "service_data": dict(data or {}),
        }
        if target:
            payload["target"] = dict(target)
        if return_response:
            payload["return_response"] = True
        result = await self.send("call_service", wait=wait, **payload)
        if return_response:
            return (result or {}).get("response")
        return result

    async def services(self) -> dict[str, Any]:
        """Every action by domain (cached for a minute)."""
        now = time.monotonic()
        if self._services is not None and now - self._services[0] < SERVICES_TTL:
            return self._services[1]
        services = await self.send("get_services")
        self._services = (now, dict(services or {}))
        return self._services[1]

    async def has_service(self, domain: str, service: str) -> bool:
        """Whether HA offers this action right now."""
        return service in (await self.services()).get(domain, {})

    async def history(
        self,
        entity_ids: list[str],
        start: datetime,
        end: datetime | None = None,
        *,
        minimal: bool = True,
        significant_only: bool = False,
    ) -> dict[str, list[dict[str, Any]]]:
        """State changes of entities over a window (recorder's compressed form)."""
        payload: dict[str, Any] = {
            "start_time": start.isoformat(),
            "entity_ids": entity_ids,
            "minimal_response": minimal,
            "no_attributes": True,
            "significant_changes_only": significant_only,
        }
        if end is not None:
            payload["end_time"] = end.isoformat()
        result = await self.send("history/history_during_period", **payload)
        return dict(result or {})

    async def statistics(
        self,
        statistic_ids: list[str],
        start: datetime,
        end: datetime | None = None,
        *,
        period: str = "hour",
        types: tuple[str, ...] = ("mean", "min", "max", "change"),
    ) -> dict[str, list[dict[str, Any]]]:
        """Long-term statistics (5minute/hour/day/week/month buckets)."""
        payload: dict[str, Any] = {
            "start_time": start.isoformat(),
            "statistic_ids": statistic_ids,
            "period": period,
            "types": list(types),
        }
        if end is not None:
            payload["end_time"] = end.isoformat()
        result = await self.send("recorder/statistics_during_period", **payload)
        return dict(result or {})

    async def exposed_entities(self, assistant: str = "conversation") -> set[str]:
        """Entities exposed to an assistant (Assist by default)."""
        result = await self.send("homeassistant/expose_entity/list")
        exposed = (result or {}).get("exposed_entities", {})
        return {
            entity_id
            for entity_id, assistants in exposed.items()
            if isinstance(assistants, dict) and assistants.get(assistant)
        }

    # State mirror -------------------------------------------------------------

    def add_state_listener(self, listener: StateListener) -> Callable[[], None]:
        """Call `listener(changed_entity_ids)` after every state update."""
        self._state_listeners.append(listener)

        def remove() -> None:
            if listener in self._state_listeners:
                self._state_listeners.remove(listener)

        return remove

    def _apply_entities(self, event: Mapping[str, Any]) -> None:
        changed: set[str] = set()
        added = event.get("a") or {}
        if self._resync and "a" in event:
            # The first message after (re)connecting is a full snapshot.
            self.states = {}
            self._resync = False
        for entity_id, comp in added.items():
            lc = float(comp.get("lc") or 0.0)
            self.states[entity_id] = EntityState(
                entity_id=entity_id,
                state=str(comp.get("s")),
                attributes=dict(comp.get("a") or {}),
                last_changed=lc,
                last_updated=float(comp.get("lu") or lc),
            )
            changed.add(entity_id)
        for entity_id, diff in (event.get("c") or {}).items():
            current = self.states.get(entity_id)
            if current is None:
                continue
            plus = diff.get("+") or {}
            minus = diff.get("-") or {}
            if "s" in plus:
                current.state = str(plus["s"])
            if "a" in plus:
                current.attributes.update(plus["a"])
            for key in minus.get("a") or []:
                current.attributes.pop(key, None)
            if "lc" in plus:
                current.last_changed = float(plus["lc"])
                current.last_updated = float(plus.get("lu") or plus["lc"])
            elif "lu" in plus:
                current.last_updated = float(plus["lu"])
            changed.add(entity_id)
        for entity_id in event.get("r") or []:
            self.states.pop(entity_id, None)
            changed.add(entity_id)
        if changed:
            for listener in list(self._state_listeners):
                try:
                    listener(changed)
                except Exception:
                    _LOGGER.exception("Error in a state listener")

    # Registries ---------------------------------------------------------------

    async def _load_registries(self) -> None:
        areas, devices, entities = await asyncio.gather(
            self.send("config/area_registry/list"),
            self.send("config/device_registry/list"),
            self.send("config/entity_registry/list"),
        )
        self.areas = {a["area_id"]: a for a in areas or []}
        self.devices = {d["id"]: d for d in devices or []}
        self.entities = {e["entity_id"]: e for e in entities or []}
        try:
            entries = await self.send("config_entries/get")
        except HAError as err:  # kept from the last load; registries still tell
            _LOGGER.debug("Config entries not loaded: %s", err)
        else:
            self.config_entries = {e["entry_id"]: e for e in entries or []}
        self.registry_version += 1

    def _schedule_registry_reload(self) -> None:
        if self._registry_reload is not None:
            self._registry_reload.cancel()
        loop = asyncio.get_running_loop()
        self._registry_reload = loop.call_later(
            REGISTRY_RELOAD_DELAY, self._start_registry_reload
        )

    def _start_registry_reload(self) -> None:
        self._registry_reload = None
        self._services = None

        async def reload() -> None:
            try:
                await self._load_registries()
            except HAError as err:
                _LOGGER.debug("Registry reload failed: %s", err)

        self._registry_task = asyncio.create_task(reload(), name="ha-registries")

    async def reload_registries(self) -> None:
        """Reload areas, devices and entities now."""
        await self._load_registries()

    def area_of(self, entity_id: str) -> str | None:
        """The area id of an entity (its own, else its device's)."""
        entry = self.entities.get(entity_id)
        if entry is None:
            return None
        if entry.get("area_id"):
            return str(entry["area_id"])
        device = self.devices.get(entry.get("device_id") or "")
        return str(device["area_id"]) if device and device.get("area_id") else None

    def area_name(self, area_id: str | None) -> str | None:
        """An area's display name."""
        if area_id is None:
            return None
        area = self.areas.get(area_id)
        return str(area.get("name") or area_id) if area else area_id

    def device_of(self, entity_id: str) -> dict[str, Any] | None:
        """The device an entity belongs to."""
        entry = self.entities.get(entity_id)
        if entry is None or not entry.get("device_id"):
            return None
        return self.devices.get(entry["device_id"])

    def platform_entities(self, platform: str) -> list[dict[str, Any]]:
        """Registry entries of one integration, sorted by entity id."""
        return sorted(
            (e for e in self.entities.values() if e.get("platform") == platform),
            key=lambda e: str(e["entity_id"]),
        )
