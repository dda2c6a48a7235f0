"""The websocket server: handshake, subprotocols, reconnects, liveness."""

from __future__ import annotations

import asyncio
import base64
import json

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from custom_components.energy_coordinator.csms.model import OcppVersion
from custom_components.energy_coordinator.csms.server import ChargerPolicy

from .conftest import CsmsFactory


def _url(port: int, charger_id: str) -> str:
    return f"ws://127.0.0.1:{port}/ocpp/{charger_id}"


async def _heartbeat(ws: ClientConnection, unique_id: str = "hb") -> list[object]:
    await ws.send(json.dumps([2, unique_id, "Heartbeat", {}]))
    reply = json.loads(await asyncio.wait_for(ws.recv(), 5))
    assert isinstance(reply, list)
    return reply


async def test_subprotocol_negotiation(csms_factory: CsmsFactory) -> None:
    """2.0.1 and 1.6 are negotiated; a charger offering none speaks 1.6."""
    system = await csms_factory()
    async with connect(_url(system.port, "A"), subprotocols=["ocpp2.0.1"]) as ws:
        assert ws.subprotocol == "ocpp2.0.1"
        assert (await _heartbeat(ws))[0] == 3
        assert system.chargers["A"].ocpp_version == OcppVersion.V201
    async with connect(
        _url(system.port, "B"), subprotocols=["ocpp1.6", "ocpp2.0.1"]
    ) as ws:
        assert ws.subprotocol == "ocpp2.0.1"
    async with connect(_url(system.port, "C"), subprotocols=["ocpp1.6"]) as ws:
        assert ws.subprotocol == "ocpp1.6"
    async with connect(_url(system.port, "D")) as ws:
        assert ws.subprotocol is None
        assert (await _heartbeat(ws))[0] == 3
        assert system.chargers["D"].ocpp_version == OcppVersion.V16


async def test_password_checked_at_handshake(csms_factory: CsmsFactory) -> None:
    """Security profile 1: wrong or missing password -> 401, right one -> open."""
    system = await csms_factory(password="s3cret")
    for headers in (
        {},
        {"Authorization": "Basic " + base64.b64encode(b"CP1:wrong").decode()},
        {"Authorization": "Basic " + base64.b64encode(b"OTHER:s3cret").decode()},
        {"Authorization": "Bearer s3cret"},
        {"Authorization": "Basic !!!notbase64"},
    ):
        with pytest.raises(InvalidStatus) as err:
            async with connect(
                _url(system.port, "CP1"),
                subprotocols=["ocpp1.6"],
                additional_headers=headers,
            ):
                pass
        assert err.value.response.status_code == 401
    assert "CP1" not in system.chargers
    good = {"Authorization": "Basic " + base64.b64encode(b"CP1:s3cret").decode()}
    async with connect(
        _url(system.port, "CP1"), subprotocols=["ocpp1.6"], additional_headers=good
    ) as ws:
        assert (await _heartbeat(ws))[0] == 3


async def test_reject_policy_refuses_unknown_chargers(
    csms_factory: CsmsFactory,
) -> None:
    """Under `reject` an unknown charger gets 404; an approved one connects."""
    system = await csms_factory(charger_policy=ChargerPolicy.REJECT)
    with pytest.raises(InvalidStatus) as err:
        async with connect(_url(system.port, "X1"), subprotocols=["ocpp1.6"]):
            pass
    assert err.value.response.status_code == 404
    await system.approve("X1")
    async with connect(_url(system.port, "X1"), subprotocols=["ocpp1.6"]) as ws:
        assert (await _heartbeat(ws))[0] == 3


async def test_no_charger_id_is_404(csms_factory: CsmsFactory) -> None:
    """A URL without a charger id is refused."""
    system = await csms_factory()
    with pytest.raises(InvalidStatus) as err:
        async with connect(f"ws://127.0.0.1:{system.port}/", subprotocols=["ocpp1.6"]):
            pass
    assert err.value.response.status_code == 404


async def test_reconnect_replaces_old_connection(csms_factory: CsmsFactory) -> None:
    """A second connection with the same id closes the first; state is kept."""
    system = await csms_factory()
    old = await connect(_url(system.port, "R1"), subprotocols=["ocpp1.6"])
    await _heartbeat(old)
    charger = system.chargers["R1"]
    first_link = system.links["R1"]
    async with connect(_url(system.port, "R1"), subprotocols=["ocpp1.6"]) as new:
        await _heartbeat(new)
        with pytest.raises(ConnectionClosed):
            await asyncio.wait_for(old.recv(), 5)
        assert system.chargers["R1"] is charger
        assert system.links["R1"] is not first_link
        assert charger.connected
    await asyncio.sleep(0.05)
    assert not charger.connected
    assert "R1" not in system.links


async def test_other_chargers_unaffected_by_a_bad_one(
    csms_factory: CsmsFactory,
) -> None:
    """Garbage from one charger changes nothing for another."""
    system = await csms_factory()
    async with (
        connect(_url(system.port, "BAD"), subprotocols=["ocpp1.6"]) as bad,
        connect(_url(system.port, "GOOD"), subprotocols=["ocpp2.0.1"]) as good,
    ):
        await bad.send(b"\x00\xff\xfe garbage")
        await bad.send("{not json")
        for _ in range(2):
            reply = json.loads(await asyncio.wait_for(bad.recv(), 5))
            assert reply[:2] == [4, "-1"]
        assert (await _heartbeat(good))[0] == 3
        assert (await _heartbeat(bad, "again"))[:2] == [3, "again"]


async def test_liveness_after_three_heartbeat_intervals(
    csms_factory: CsmsFactory,
) -> None:
    """Silent for 3 intervals -> offline (notified once); a frame -> online."""
    system = await csms_factory(heartbeat_interval=0.2)
    async with connect(_url(system.port, "HB"), subprotocols=["ocpp1.6"]) as ws:
        await _heartbeat(ws)
        charger = system.chargers["HB"]
        assert charger.online
        changes: list[bool] = []
        charger.add_listener(lambda: changes.append(charger.online))
        await asyncio.sleep(0.45)  # < 3 intervals: still online
        assert charger.online
        await asyncio.sleep(0.4)
        assert not charger.online
        assert changes == [False]
        await asyncio.sleep(0.4)
        assert changes == [False]  # told once
        await _heartbeat(ws)
        assert charger.online
        assert changes[-1] is True
        assert changes.count(True) == 1
