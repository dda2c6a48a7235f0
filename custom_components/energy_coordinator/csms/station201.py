"""What every part of an OCPP 2.0.1 connection shares: its EVSEs and helpers.

`Station201` is the base of `ocpp201.ChargePoint201`: the connection's own state
(the status of each connector of each EVSE, the token types the station used, the
device-model reports awaited), the 2.0.1 error codes for unknown actions, the EVSEs
as `ConnectorState`s (one per EVSE: its `connector_id` is the evseId, its
`evse_connector_id` the connector within it), what a device-model variable teaches,
and one notification per frame. The station handlers (`ocpp201`), the transaction
events (`transactions201`) and the commands (`commands201`) build on it.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any, cast

from ocpp.exceptions import NotImplementedError as OcppNotImplemented
from ocpp.exceptions import NotSupportedError as OcppNotSupported
from ocpp.messages import Call
from ocpp.routing import on as _ocpp_on
from ocpp.v201.enums import Action

from .commands import CommandError
from .device_model201 import VariableKey
from .link import ChargePointLink, utcnow
from .model import ConnectorState, ConnectorStatus, Transaction

_ACTIONS = frozenset(action.value for action in Action)

#: Connector states of a running transaction (kept while the station says Occupied).
TX_STATES = frozenset(
    {
        ConnectorStatus.CHARGING,
        ConnectorStatus.SUSPENDED_EV,
        ConnectorStatus.SUSPENDED_EVSE,
        ConnectorStatus.PREPARING,
        ConnectorStatus.OCCUPIED,
    }
)


def handles[F: Callable[..., Any]](action: Action) -> Callable[[F], F]:
    """The ocpp library's `@on`, typed."""
    return cast(Callable[[F], F], _ocpp_on(action))


class _RequestIds:
    """Ids for remoteStartId / requestId: increasing, also across restarts."""

    def __init__(self) -> None:
        self._ids = itertools.count(max(1, int(time.time()) - 1_700_000_000))

    def next(self) -> int:
        return next(self._ids)


REQUEST_IDS = _RequestIds()


def now_text() -> str:
    """Now as a 2.0.1 timestamp (UTC, seconds, 'Z')."""
    return utcnow().replace(microsecond=0).isoformat().replace("+00:00", "Z")


def time_text(value: datetime) -> str:
    """An aware datetime as a 2.0.1 timestamp."""
    return value.isoformat().replace("+00:00", "Z")


class Station201(ChargePointLink):
    """The shared state and helpers of one OCPP 2.0.1 connection."""

    format_error_code = "FormatViolation"
    message_type_error_code = "MessageTypeNotSupported"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # (evseId, connectorId) -> last 2.0.1 connectorStatus
        self._connector_status: dict[tuple[int, int], str] = {}
        # idToken -> the type the station presented it with
        self._token_types: dict[str, str] = {}
        # requestId of a device-model report -> set once its last part arrived
        self._reports: dict[int, asyncio.Event] = {}
        self._evses_added = False

    async def _handle_call(self, msg: Call) -> Any:
        # OCPP-J: NotImplemented = action unknown, NotSupported = known, not served.
        if msg.action not in self.route_map:
            if msg.action in _ACTIONS:
                raise OcppNotSupported(
                    details={"cause": f"{msg.action} is not supported"}
                )
            raise OcppNotImplemented(details={"cause": f"Unknown action {msg.action}"})
        return await super()._handle_call(msg)

    def _done(self, changed: bool) -> None:
        """End of a frame: persist new EVSEs, tell the listeners once."""
        if self._evses_added:
            self._evses_added = False
            self.spawn(self.host.connectors_changed(self.charger))
            changed = True
        if changed:
            self.charger.notify()

    def _evse(self, evse_id: int, connector_id: int | None = None) -> ConnectorState:
        """The EVSE's ConnectorState, created (and announced) when new."""
        if evse_id not in self.charger.connectors:
            self._evses_added = True
        conn = self.charger.connector(evse_id)
        if connector_id is not None and conn.evse_connector_id is None:
            conn.evse_connector_id = connector_id
        return conn

    def _targets(self, evse_id: int) -> list[ConnectorState]:
        """The EVSE, or every EVSE for 0."""
        if evse_id == 0:
            return [c for i, c in self.charger.connectors.items() if i > 0]
        return [self._evse(evse_id)]

    def _running(self, connector_id: int, action: str) -> Transaction:
        """The transaction of an EVSE (0: the first one running)."""
        if connector_id == 0:
            tx = self.charger.active_transaction()
        else:
            conn = self.charger.connectors.get(connector_id)
            tx = conn.transaction if conn is not None else None
        if tx is None:
            raise CommandError(
                self.id, action, f"no transaction running on EVSE {connector_id}"
            )
        return tx

    def _authorize(self, id_token: dict[str, Any]) -> str:
        token = str(id_token.get("id_token", ""))
        kind = str(id_token.get("type", ""))
        if kind == "NoAuthorization":
            return "Accepted"
        if token and kind and kind != "Central":
            self._token_types[token] = kind
        return self.host.authorize(token)

    def _learn(self, key: VariableKey, value: str | None) -> None:
        """Record one device-model variable and what it tells us."""
        component = key.component.lower()
        if component in ("evse", "connector") and key.evse_id:
            self._evse(key.evse_id, key.connector_id)
        if value is None:
            return
        self.charger.configuration[key.text()] = value
        if key.variable.lower() == "enabled" and not key.component_instance:
            enabled = value.strip().lower() == "true"
            if component == "smartchargingctrlr":
                self.charger.supports_smart_charging = enabled
            elif component == "localauthlistctrlr":
                self.charger.supports_local_list = enabled
