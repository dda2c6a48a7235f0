"""The floor of `bench/garage.py`: a bare `ocpp`-library central system, no HA.

Owns the least a central system can do for the garage's load, so the benchmark can
tell what the protocol itself costs on this machine: a `websockets` server on
127.0.0.1 and, per connection, the `ocpp` library's v16 `ChargePoint` with one
handler per action the load chargers send (BootNotification, StatusNotification,
Authorize, StartTransaction, MeterValues, Heartbeat, StopTransaction), each with
the library's schema validation, as the integration does. Nothing is stored and no
charger is commanded.

    python bench/floor_csms.py --port 0     # prints {"event": "listening", "port": N}

Runs until SIGTERM/SIGINT; `garage.py` samples its CPU and RSS from /proc.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import resource
import signal
import sys
from datetime import UTC, datetime
from typing import Any

import ocpp.messages
from ocpp.routing import on
from ocpp.v16 import ChargePoint, call_result
from ocpp.v16.enums import Action, AuthorizationStatus, RegistrationStatus
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

# Validate inline, as the integration's central system does.
ocpp.messages.ASYNC_VALIDATION = False

HEARTBEAT_INTERVAL_S = 60
_transaction_ids = itertools.count(1)


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


class FloorChargePoint(ChargePoint):  # type: ignore[misc]
    """Accepts everything, remembers nothing."""

    @on(Action.boot_notification)
    def on_boot_notification(self, **_: Any) -> Any:
        return call_result.BootNotification(
            current_time=now_iso(),
            interval=HEARTBEAT_INTERVAL_S,
            status=RegistrationStatus.accepted,
        )

    @on(Action.status_notification)
    def on_status_notification(self, **_: Any) -> Any:
        return call_result.StatusNotification()

    @on(Action.authorize)
    def on_authorize(self, **_: Any) -> Any:
        return call_result.Authorize(
            id_tag_info={"status": AuthorizationStatus.accepted}
        )

    @on(Action.start_transaction)
    def on_start_transaction(self, **_: Any) -> Any:
        return call_result.StartTransaction(
            transaction_id=next(_transaction_ids),
            id_tag_info={"status": AuthorizationStatus.accepted},
        )

    @on(Action.meter_values)
    def on_meter_values(self, **_: Any) -> Any:
        return call_result.MeterValues()

    @on(Action.heartbeat)
    def on_heartbeat(self, **_: Any) -> Any:
        return call_result.Heartbeat(current_time=now_iso())

    @on(Action.stop_transaction)
    def on_stop_transaction(self, **_: Any) -> Any:
        return call_result.StopTransaction(
            id_tag_info={"status": AuthorizationStatus.accepted}
        )


async def handle(ws: ServerConnection) -> None:
    assert ws.request is not None
    charger_id = ws.request.path.rstrip("/").rsplit("/", 1)[-1]
    with contextlib.suppress(ConnectionClosed):
        await FloorChargePoint(charger_id, ws).start()


async def run(port: int) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with serve(
        handle,
        "127.0.0.1",
        port,
        subprotocols=["ocpp1.6"],  # type: ignore[list-item]
        compression=None,
        ping_interval=None,
    ) as server:
        bound = server.sockets[0].getsockname()[1]
        sys.stdout.write(json.dumps({"event": "listening", "port": bound}) + "\n")
        sys.stdout.flush()
        await stop.wait()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--port", type=int, default=0, help="0: a free port")
    args = parser.parse_args(argv)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    asyncio.run(run(args.port))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
