"""The central system leaves the `ocpp` library as it found it (issue 9).

It validates every frame against the OCPP schemas inline, with the library's
validator, without turning off the library's executor validation for the whole
process (`ocpp.messages.ASYNC_VALIDATION`): another OCPP user in the same Home
Assistant (here: a library client charge point) keeps the library's behaviour.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import ocpp.messages
import pytest
from ocpp.v16 import call
from websockets.asyncio.client import connect

from custom_components.energy_coordinator.csms import link, server
from tests.fake_charge_point import fake_charger

from .conftest import CsmsFactory


@contextmanager
def executor_validations() -> Iterator[list[str]]:
    """The actions validated in an executor thread while the block runs."""
    loop = asyncio.get_running_loop()
    original = loop.run_in_executor
    seen: list[str] = []

    def spy(executor: Any, func: Callable[..., Any], *args: Any) -> Any:
        if func is ocpp.messages._validate_payload:
            seen.append(args[0].action)
        return original(executor, func, *args)

    loop.run_in_executor = spy  # type: ignore[method-assign]
    try:
        yield seen
    finally:
        loop.run_in_executor = original  # type: ignore[method-assign]


async def test_library_not_reconfigured(csms_factory: CsmsFactory) -> None:
    assert server.__name__ and link.__name__  # the central system is imported
    assert ocpp.messages.ASYNC_VALIDATION is True
    system = await csms_factory()
    assert ocpp.messages.ASYNC_VALIDATION is True

    # Our side validates inline: a raw websocket charger, no library client.
    async with connect(
        f"ws://127.0.0.1:{system.port}/RAW", subprotocols=["ocpp1.6"]
    ) as ws:
        with executor_validations() as ours:
            await ws.send(json.dumps([2, "b1", "BootNotification", BOOT]))
            assert json.loads(await ws.recv())[2]["status"] == "Accepted"
            # After the boot the central system asks for the configuration.
            request = json.loads(await ws.recv())
            assert request[2] == "GetConfiguration"
            await ws.send(json.dumps([3, request[1], {"configurationKey": []}]))
            await ws.send(json.dumps([2, "h1", "Heartbeat", {}]))
            assert json.loads(await ws.recv())[:2] == [3, "h1"]
            # Still validated: a bad payload is refused.
            await ws.send(json.dumps([2, "h2", "Heartbeat", {"extra": 1}]))
            assert json.loads(await ws.recv())[:3] == [4, "h2", "FormationViolation"]
        assert ours == []

    # Another OCPP user in the process: the library validates as it always did.
    async with fake_charger(system, "LIB") as charger:
        with executor_validations() as theirs:
            await charger.send(call.Heartbeat())
        assert theirs == ["Heartbeat", "Heartbeat"]  # its CALL and our answer
    assert ocpp.messages.ASYNC_VALIDATION is True


BOOT = {"chargePointVendor": "Acme", "chargePointModel": "Raw"}


@pytest.fixture(autouse=True)
def _library_default() -> Iterator[None]:
    """Every test here starts with the library's own default."""
    assert ocpp.messages.ASYNC_VALIDATION is True
    yield
