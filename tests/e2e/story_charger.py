"""One simulated OCPP 1.6J charger and its car, as a process of its own.

Used by the evening story (test_story_evening.py), which runs it on the same
accelerated clock as `hass` (libfaketime, see stories.SharedFakeClock), so the
energy the car takes, the charger's timestamps and the charging profiles'
schedules all follow the clock Home Assistant plans on.

    python tests/e2e/story_charger.py URL CHARGER_ID PLUG_AT_ISO SOC CAPACITY_KWH

It connects and boots at once, then waits for a line `go` on stdin; at
PLUG_AT (local ISO time, or at once when that has passed) it plugs in the car
and starts a session. Every minute of its clock it prints one JSON line: the
time, the car's SoC, the power and current drawn, the limit in force and the
meter register. It stops at `stop` or the end of stdin.

Two settings differ from the simulator's defaults because the clock runs a few
hundred times faster than the real one: no websocket pings (20 s of this clock
would be a tenth of a real second) and a response timeout of 10 minutes of this
clock (a few real seconds).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import sys
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import simulator.base
from simulator import EV, ChargePoint16

simulator.base.connect = functools.partial(  # type: ignore[attr-defined]
    simulator.base.connect, ping_interval=None
)


def emit(kind: str, **fields: object) -> None:
    print(json.dumps({"kind": kind, **fields}), flush=True)


async def main(url: str, charger_id: str, plug_at: str, soc: float, kwh: float) -> None:
    cp = ChargePoint16(
        charger_id,
        url,
        meter_interval=60.0,
        response_timeout=600.0,
        reconnect=True,
        reconnect_delay=30.0,
    )
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(reader), sys.stdin
    )
    await cp.start()
    await cp.wait_booted(600)
    emit("booted", at=datetime.now().astimezone().isoformat())
    if (await reader.readline()).strip() != b"go":
        await cp.stop()
        return
    when = datetime.fromisoformat(plug_at)
    wait = (when - datetime.now().astimezone()).total_seconds()
    if wait > 0:
        await asyncio.sleep(wait)
    ev = EV(capacity_kwh=kwh, soc=soc, target_soc=100.0)
    await cp.plug_in(1, ev)
    transaction = await cp.authorize_and_start(1, "EVENING1")
    emit("plugged", at=datetime.now().astimezone().isoformat(), tx=transaction)

    async def report() -> None:
        connector = cp.connector(1)
        while True:
            emit(
                "state",
                at=datetime.now().astimezone().isoformat(),
                soc=round(ev.soc, 3),
                power_w=round(connector.power_w, 1),
                current_a=round(connector.current_a, 2),
                limit_a=connector.limit_a,
                energy_wh=round(connector.energy_wh, 1),
                session_wh=round(connector.session_energy_wh, 1),
                connected=cp.is_connected,
            )
            await asyncio.sleep(60)

    task = asyncio.create_task(report())
    await reader.readline()  # "stop", or the end of stdin
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    await cp.stop()


if __name__ == "__main__":
    url_, charger_, plug_, soc_, kwh_ = sys.argv[1:6]
    asyncio.run(main(url_, charger_, plug_, float(soc_), float(kwh_)))
