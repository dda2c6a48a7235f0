"""Bad input on an OCPP 1.6J connection: a CALLERROR with the 1.6 code, nothing
changes, and the same connection keeps working."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect

from custom_components.energy_coordinator.csms.link import MAX_FRAME_CHARS

from .conftest import CsmsFactory


async def _reply(ws: ClientConnection, frame: str) -> list[Any]:
    await ws.send(frame)
    reply = json.loads(await asyncio.wait_for(ws.recv(), 5))
    assert isinstance(reply, list)
    return reply


async def _heartbeat_ok(ws: ClientConnection) -> None:
    reply = await _reply(ws, json.dumps([2, "hb", "Heartbeat", {}]))
    assert reply[:2] == [3, "hb"]
    assert "currentTime" in reply[2]


BOOT = {"chargePointVendor": "Acme", "chargePointModel": "X"}

BAD_FRAMES: list[tuple[str, str, str, str]] = [
    # (test id, raw frame, expected unique id in the reply, expected error code)
    ("not_json", '[2, "a1", "Heartbeat", {', "-1", "FormationViolation"),
    ("garbage", "hello", "-1", "FormationViolation"),
    ("not_a_list", '{"foo": 1}', "-1", "ProtocolError"),
    ("missing_payload", '[2, "a2", "Heartbeat"]', "a2", "ProtocolError"),
    ("wrong_message_type", '[7, "a3", "Heartbeat", {}]', "a3", "ProtocolError"),
    ("unknown_action", '[2, "a4", "MakeCoffee", {}]', "a4", "NotImplemented"),
    (
        "known_action_not_handled",
        '[2, "a5", "SignCertificate", {"csr": "x"}]',
        "a5",
        "NotSupported",
    ),
    (
        "wrong_type",
        json.dumps([2, "a6", "BootNotification", {**BOOT, "chargePointModel": 5}]),
        "a6",
        "TypeConstraintViolation",
    ),
    (
        "missing_field",
        json.dumps([2, "a7", "BootNotification", {"chargePointVendor": "Acme"}]),
        "a7",
        "ProtocolError",
    ),
    (
        "extra_field",
        json.dumps([2, "a8", "BootNotification", {**BOOT, "colour": "red"}]),
        "a8",
        "FormationViolation",
    ),
    (
        "bad_enum",
        json.dumps(
            [
                2,
                "a9",
                "StatusNotification",
                {"connectorId": 1, "errorCode": "NoError", "status": "Dancing"},
            ]
        ),
        "a9",
        "FormationViolation",
    ),
    (
        "too_long",
        json.dumps([2, "a10", "Authorize", {"idTag": "X" * 21}]),
        "a10",
        "TypeConstraintViolation",
    ),
    (
        "payload_not_object",
        '[2, "a11", "Heartbeat", [1, 2]]',
        "a11",
        "FormationViolation",
    ),
    (
        "oversized",
        json.dumps([2, "a12", "DataTransfer", {"vendorId": "v", "data": "x" * 70_000}]),
        "a12",
        "FormationViolation",
    ),
]


@pytest.mark.parametrize(
    ("frame", "unique_id", "code"),
    [case[1:] for case in BAD_FRAMES],
    ids=[case[0] for case in BAD_FRAMES],
)
async def test_bad_frame_gets_callerror(
    csms_factory: CsmsFactory, frame: str, unique_id: str, code: str
) -> None:
    system = await csms_factory()
    async with connect(
        f"ws://127.0.0.1:{system.port}/CP1", subprotocols=["ocpp1.6"]
    ) as ws:
        assert ws.subprotocol == "ocpp1.6"
        reply = await _reply(ws, frame)
        assert reply[0] == 4
        assert reply[1] == unique_id
        assert reply[2] == code
        assert isinstance(reply[3], str)
        assert isinstance(reply[4], dict)
        await _heartbeat_ok(ws)
    charger = system.chargers["CP1"]
    assert charger.registration is None
    assert charger.connectors == {}
    sessions, _, _ = await system.store.query_sessions()
    assert sessions == []


async def test_oversized_frame_limit_is_exact(csms_factory: CsmsFactory) -> None:
    """A frame of exactly the limit is processed; one character more is refused."""
    system = await csms_factory()
    async with connect(
        f"ws://127.0.0.1:{system.port}/CP1", subprotocols=["ocpp1.6"]
    ) as ws:
        head = json.dumps([2, "big", "DataTransfer", {"vendorId": "v", "data": ""}])
        pad = MAX_FRAME_CHARS - len(head)
        frame = head.replace('"data": ""', '"data": "' + "y" * pad + '"')
        assert len(frame) == MAX_FRAME_CHARS
        reply = await _reply(ws, frame)
        assert reply[0] == 3
        assert reply[2] == {"status": "UnknownVendorId"}
        frame = frame.replace('"y', '"yy')
        reply = await _reply(ws, frame)
        assert reply[:3] == [4, "big", "FormationViolation"]
        await _heartbeat_ok(ws)


async def test_late_and_unknown_results_are_ignored(csms_factory: CsmsFactory) -> None:
    """A CALLRESULT or CALLERROR nobody waits for is dropped without an answer."""
    system = await csms_factory()
    async with connect(
        f"ws://127.0.0.1:{system.port}/CP1", subprotocols=["ocpp1.6"]
    ) as ws:
        await ws.send(json.dumps([3, "nobody", {"status": "Accepted"}]))
        await ws.send(json.dumps([4, "nobody", "GenericError", "x", {}]))
        await _heartbeat_ok(ws)
