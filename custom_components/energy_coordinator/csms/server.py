"""The central system: one websocket server, its chargers and their connections.

`CentralSystem` owns the websocket server (handshake auth, charger policy, subprotocol
negotiation), the `ChargerState` of every known charger, the live `ChargePointLink` of
every connected one, the id-tag list, the `SessionLedger` of every transaction, and
the liveness watchdog (no frame for 3 heartbeat intervals -> offline). To its links
it is their `LinkHost`: they ask it, it never calls back into a link while answering.
The HA layer creates one per config entry and is told about chargers through
`CentralSystemHooks`.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import decimal
import hmac
import importlib
import logging
from collections.abc import Callable, Sequence
from http import HTTPStatus
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import unquote

import ocpp.messages
from ocpp.messages import MessageType, get_validator
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.http11 import Request, Response
from websockets.typing import Subprotocol

from .commands import ChargerNotConnected, IdTagEntry
from .config import CentralSystemConfig, ChargerPolicy, TagPolicy
from .ledger import SessionLedger
from .link import ChargePointLink, utcnow
from .model import ChargerInfo, ChargerState, OcppVersion
from .sessions import ChargerRecord, SessionStore, TagRecord

__all__ = [
    "CentralSystem",
    "CentralSystemConfig",
    "CentralSystemHooks",
    "ChargerPolicy",
    "TagPolicy",
]

_LOGGER = logging.getLogger(__name__)

#: Frames above this size close the connection (1009) at the websocket layer.
MAX_WS_FRAME = 1024 * 1024

SUBPROTOCOLS = [OcppVersion.V201.value, OcppVersion.V16.value]


class CentralSystemHooks(Protocol):
    """How the central system tells its owner (the HA layer) about chargers."""

    def charger_added(self, charger: ChargerState) -> None:
        """A charger became known (approved) while running."""

    def charger_pending(self, charger_id: str, info: ChargerInfo) -> None:
        """An unknown charger booted under the `ask` policy."""

    def charger_booted(self, charger: ChargerState) -> None:
        """A known charger booted (its vendor, model or firmware may be new)."""


class CentralSystem:
    """The OCPP server of one site."""

    def __init__(
        self,
        config: CentralSystemConfig,
        store: SessionStore,
        hooks: CentralSystemHooks | None = None,
    ) -> None:
        self._config = config
        self.store = store
        self._ledger = SessionLedger(store)
        self.hooks = hooks
        self.chargers: dict[str, ChargerState] = {}
        self.links: dict[str, ChargePointLink] = {}
        self.tags: dict[str, IdTagEntry] = {}
        self._approved: set[str] = set()
        self._last_heard: dict[str, float] = {}
        self._server: Server | None = None
        self._watchdog: asyncio.Task[None] | None = None
        self._pending_announced: set[str] = set()
        #: Charger connections accepted, and those that have ended (closed,
        #: dropped or replaced).
        self.connections_opened = 0
        self.connections_closed = 0

    # Lifecycle ----------------------------------------------------------------

    async def load(self) -> None:
        """Restore chargers, running transactions, energy totals and tags."""
        for record in await self.store.chargers():
            if not record.approved:
                continue
            self._approved.add(record.charger_id)
            charger = self._charger(record.charger_id)
            charger.info.vendor = record.vendor
            charger.info.model = record.model
            charger.info.serial_number = record.serial_number
            charger.info.firmware_version = record.firmware_version
            if record.ocpp_version:
                charger.ocpp_version = OcppVersion(record.ocpp_version)
            for connector_id in record.connectors:
                charger.connector(connector_id)
        await self._ledger.restore(self.chargers)
        for tag in await self.store.tags():
            self.tags[tag.id_tag] = IdTagEntry(
                tag.id_tag, tag.name, tag.status, tag.expiry
            )

    async def start(self) -> None:
        """Start listening; raises OSError when the port is taken."""
        await asyncio.get_running_loop().run_in_executor(None, preload_validators)
        self._server = await serve(
            self._handle_connection,
            self.config.host,
            self.config.port,
            ssl=self.config.ssl_context,
            subprotocols=[Subprotocol(p) for p in SUBPROTOCOLS],
            select_subprotocol=_select_subprotocol,
            process_request=self._process_request,
            max_size=MAX_WS_FRAME,
            compression=None,
            ping_interval=None,  # liveness is judged on OCPP frames
            logger=logging.getLogger(__package__ + ".websockets"),
        )
        self._watchdog = asyncio.get_running_loop().create_task(
            self._watch_liveness(), name="energy_coordinator_ocpp_watchdog"
        )

    async def stop(self) -> None:
        """Close every connection and the server."""
        if self._watchdog is not None:
            self._watchdog.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watchdog
            self._watchdog = None
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    @property
    def port(self) -> int:
        """The port actually listened on (useful with port 0)."""
        assert self._server is not None
        return int(self._server.sockets[0].getsockname()[1])

    # Chargers -----------------------------------------------------------------

    def _charger(self, charger_id: str) -> ChargerState:
        charger = self.chargers.get(charger_id)
        if charger is None:
            charger = ChargerState(charger_id)
            self.chargers[charger_id] = charger
        return charger

    def is_approved(self, charger_id: str) -> bool:
        """Whether the charger may operate (boot Accepted)."""
        return (
            charger_id in self._approved
            or self.config.charger_policy == ChargerPolicy.ACCEPT
        )

    def link(self, charger_id: str) -> ChargePointLink:
        """The live connection of a charger; raises ChargerNotConnected."""
        link = self.links.get(charger_id)
        if link is None:
            raise ChargerNotConnected(charger_id, "connect", "not connected")
        return link

    async def approve(self, charger_id: str) -> ChargerState:
        """Add a charger (the owner said yes); it is Accepted from now on."""
        charger = self._charger(charger_id)
        newly = charger_id not in self._approved
        self._approved.add(charger_id)
        self._pending_announced.discard(charger_id)
        await self._save_charger(charger)
        if newly and self.hooks is not None:
            self.hooks.charger_added(charger)
        link = self.links.get(charger_id)
        if link is not None and charger.registration != "Accepted":
            link.spawn(link.trigger_message("BootNotification", None))
        return charger

    async def forget(self, charger_id: str) -> None:
        """Remove a charger; its connection is closed, its sessions stay stored."""
        self._approved.discard(charger_id)
        self._pending_announced.discard(charger_id)
        await self.store.remove_charger(charger_id)
        link = self.links.pop(charger_id, None)
        self.chargers.pop(charger_id, None)
        self._last_heard.pop(charger_id, None)
        if link is not None:
            await link.connection.close(1000, "removed")

    async def _save_charger(self, charger: ChargerState) -> None:
        await self.store.save_charger(
            ChargerRecord(
                charger_id=charger.charger_id,
                approved=charger.charger_id in self._approved,
                vendor=charger.info.vendor,
                model=charger.info.model,
                serial_number=charger.info.serial_number,
                firmware_version=charger.info.firmware_version,
                ocpp_version=charger.ocpp_version.value
                if charger.ocpp_version
                else None,
                connectors=tuple(sorted(charger.connectors)),
            )
        )

    @property
    def config(self) -> CentralSystemConfig:
        """The settings this central system runs with."""
        return self._config

    @property
    def ledger(self) -> SessionLedger:
        """The transactions and energy of every charger."""
        return self._ledger

    async def charger_booted(self, charger: ChargerState, info: ChargerInfo) -> str:
        """Record a BootNotification; returns Accepted or Pending."""
        charger.booted(info, utcnow())
        charger_id = charger.charger_id
        if self.is_approved(charger_id):
            newly = charger_id not in self._approved
            self._approved.add(charger_id)
            charger.registration = "Accepted"
            await self._save_charger(charger)
            if self.hooks is not None:
                if newly:
                    self.hooks.charger_added(charger)
                else:
                    self.hooks.charger_booted(charger)
        else:
            charger.registration = "Pending"
            if charger_id not in self._pending_announced:
                self._pending_announced.add(charger_id)
                _LOGGER.info("Charger %s is waiting to be added", charger_id)
                if self.hooks is not None:
                    self.hooks.charger_pending(charger_id, info)
        charger.notify()
        return charger.registration

    async def connectors_changed(self, charger: ChargerState) -> None:
        """Persist a charger's connector list after a new one appeared."""
        if charger.charger_id in self._approved:
            await self._save_charger(charger)

    # Id tags ------------------------------------------------------------------

    def authorize(self, id_tag: str) -> str:
        """Authorization status of a tag: Accepted, Blocked, Expired or Invalid."""
        if id_tag == self.config.remote_id_tag:
            return "Accepted"
        entry = self.tags.get(id_tag)
        if entry is None:
            return (
                "Accepted" if self.config.tag_policy == TagPolicy.ACCEPT else "Invalid"
            )
        if entry.expiry is not None and entry.expiry <= utcnow():
            return "Expired"
        return entry.status

    def tag(self, id_tag: str) -> IdTagEntry | None:
        """The owner's entry of an id tag, if any."""
        return self.tags.get(id_tag)

    async def local_list(self) -> tuple[list[IdTagEntry], int]:
        """Every id tag (sorted) and the list's version, for a local list."""
        version = await self.store.local_list_version()
        return sorted(self.tags.values(), key=lambda t: t.id_tag), version

    async def add_tag(self, entry: IdTagEntry) -> None:
        """Add or update a tag and push the list to connected chargers."""
        await self.store.save_tag(
            TagRecord(entry.id_tag, entry.name, entry.status, entry.expiry)
        )
        self.tags[entry.id_tag] = entry
        await self._push_local_list()

    async def remove_tag(self, id_tag: str) -> bool:
        """Remove a tag; False when unknown."""
        removed = await self.store.remove_tag(id_tag)
        self.tags.pop(id_tag, None)
        if removed:
            await self._push_local_list()
        return removed

    async def _push_local_list(self) -> None:
        tags, version = await self.local_list()
        for link in list(self.links.values()):
            if link.charger.supports_local_list:
                link.spawn(link.send_local_list(tags, version))

    # Liveness -----------------------------------------------------------------

    def heard_from(self, charger: ChargerState) -> None:
        """A frame arrived from the charger."""
        now = asyncio.get_running_loop().time()
        self._last_heard[charger.charger_id] = now
        charger.last_seen = utcnow()
        if not charger.online:
            charger.online = True
            _LOGGER.info("Charger %s is online", charger.charger_id)
            charger.notify()

    async def _watch_liveness(self) -> None:
        interval = self.config.heartbeat_interval
        period = max(0.05, min(10.0, interval / 4))
        while True:
            await asyncio.sleep(period)
            now = asyncio.get_running_loop().time()
            for charger_id, heard in list(self._last_heard.items()):
                if now - heard <= 3 * interval:
                    continue
                charger = self.chargers.get(charger_id)
                del self._last_heard[charger_id]
                if charger is not None and charger.online:
                    charger.went_offline()
                    _LOGGER.warning(
                        "Charger %s sent nothing for %d s; marked unavailable",
                        charger_id,
                        3 * interval,
                    )
                    charger.notify()

    # Connections --------------------------------------------------------------

    def _process_request(
        self, connection: ServerConnection, request: Request
    ) -> Response | None:
        charger_id = unquote(
            request.path.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
        )
        if not charger_id:
            return connection.respond(HTTPStatus.NOT_FOUND, "No charger id in path\n")
        if self.config.password and not self._password_ok(charger_id, request.headers):
            _LOGGER.warning("Charger %s refused: wrong or missing password", charger_id)
            response = connection.respond(HTTPStatus.UNAUTHORIZED, "Unauthorized\n")
            response.headers["WWW-Authenticate"] = 'Basic realm="OCPP"'
            return response
        if (
            self.config.charger_policy == ChargerPolicy.REJECT
            and charger_id not in self._approved
        ):
            _LOGGER.warning("Charger %s refused: not added", charger_id)
            return connection.respond(HTTPStatus.NOT_FOUND, "Unknown charger\n")
        return None

    def _password_ok(self, charger_id: str, headers: Headers) -> bool:
        header = headers.get("Authorization", "")
        scheme, _, encoded = header.partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            decoded = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            return False
        user, _, password = decoded.partition(b":")
        expected = (self.config.password or "").encode()
        # Compare both in constant time; the user name must be the charger id.
        user_ok = hmac.compare_digest(user, charger_id.encode())
        password_ok = hmac.compare_digest(password, expected)
        return user_ok and password_ok

    async def _handle_connection(self, connection: ServerConnection) -> None:
        from .ocpp16 import ChargePoint16
        from .ocpp201 import ChargePoint201

        assert connection.request is not None
        path = connection.request.path.split("?", 1)[0].rstrip("/")
        charger_id = unquote(path.rsplit("/", 1)[-1])
        version = (
            OcppVersion.V201
            if connection.subprotocol == OcppVersion.V201.value
            else OcppVersion.V16
        )
        charger = self._charger(charger_id)
        charger.ocpp_version = version
        link_cls = ChargePoint201 if version == OcppVersion.V201 else ChargePoint16
        link = link_cls(charger, self, connection)
        old = self.links.get(charger_id)
        self.links[charger_id] = link
        if old is not None:
            _LOGGER.info(
                "Charger %s reconnected; closing its old connection", charger_id
            )
            await old.connection.close(1000, "replaced by a new connection")
        self.connections_opened += 1
        charger.connection_opened()
        _LOGGER.debug("Charger %s connected (%s)", charger_id, version)
        self.heard_from(charger)
        charger.notify()
        try:
            await link.serve()
        finally:
            self.connections_closed += 1
            if self.links.get(charger_id) is link:
                del self.links[charger_id]
                charger.connection_closed()
                charger.notify()
                _LOGGER.debug("Charger %s disconnected", charger_id)


def preload_validators() -> None:
    """Read every OCPP JSON schema and handler module once, off the event loop.

    The `ocpp` library caches a validator per schema on first use; without this,
    the first frame of each action would open a file inside the event loop. The
    library parses floats as Decimal for three 1.6 schemas (multipleOf checks), so
    those are loaded the same way here.
    """
    # The handlers (and the library's enums and payload classes they import)
    # load here too, not on the event loop at the first charger's connection.
    importlib.import_module(".ocpp16", __package__)
    importlib.import_module(".ocpp201", __package__)
    decimal_16 = {
        (MessageType.Call, "SetChargingProfile"),
        (MessageType.Call, "RemoteStartTransaction"),
        (MessageType.CallResult, "GetCompositeSchedule"),
    }
    package = Path(ocpp.messages.__file__).parent
    for version, folder in (("1.6", "v16"), ("2.0.1", "v201")):
        for path in sorted((package / folder / "schemas").glob("*.json")):
            name = path.stem
            if name.endswith("Response"):
                message_type, action = MessageType.CallResult, name[: -len("Response")]
            else:
                message_type, action = MessageType.Call, name.removesuffix("Request")
            parse_float: Callable[[str], Any] = float
            if version == "1.6" and (message_type, action) in decimal_16:
                parse_float = decimal.Decimal
            with contextlib.suppress(OSError, ValueError):
                get_validator(message_type, action, version, parse_float=parse_float)


def _select_subprotocol(
    connection: ServerConnection, offered: Sequence[Subprotocol]
) -> Subprotocol | None:
    """Our first version the charger offers; none offered (or none known) -> 1.6."""
    for candidate in SUBPROTOCOLS:
        if candidate in offered:
            return Subprotocol(candidate)
    return None
