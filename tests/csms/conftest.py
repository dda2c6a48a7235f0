"""Fixtures for the central system tested on its own (no Home Assistant)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from custom_components.energy_coordinator.csms.model import ChargerInfo, ChargerState
from custom_components.energy_coordinator.csms.server import (
    CentralSystem,
    CentralSystemConfig,
    ChargerPolicy,
)
from custom_components.energy_coordinator.csms.sessions import SessionStore


class RecordingHooks:
    """Collects what the central system tells its owner."""

    def __init__(self) -> None:
        self.added: list[str] = []
        self.pending: list[tuple[str, ChargerInfo]] = []
        self.booted: list[str] = []

    def charger_added(self, charger: ChargerState) -> None:
        self.added.append(charger.charger_id)

    def charger_pending(self, charger_id: str, info: ChargerInfo) -> None:
        self.pending.append((charger_id, info))

    def charger_booted(self, charger: ChargerState) -> None:
        self.booted.append(charger.charger_id)


type CsmsFactory = Callable[..., Coroutine[Any, Any, CentralSystem]]


@pytest.fixture
async def csms_factory(
    socket_enabled: None, tmp_path: Path
) -> AsyncIterator[CsmsFactory]:
    """Start central systems on 127.0.0.1 with an ephemeral port.

    `await csms_factory(charger_policy=..., heartbeat_interval=...)`; calling it
    again with `db=` the same path simulates a restart.
    """
    started: list[tuple[CentralSystem, SessionStore]] = []

    async def factory(
        db: Path | None = None, hooks: RecordingHooks | None = None, **overrides: Any
    ) -> CentralSystem:
        store = SessionStore(db or tmp_path / "sessions.db")
        await store.open()
        config = replace(
            CentralSystemConfig(
                host="127.0.0.1",
                port=0,
                charger_policy=ChargerPolicy.ACCEPT,
                response_timeout=2.0,
            ),
            **overrides,
        )
        system = CentralSystem(config, store, hooks or RecordingHooks())
        await system.load()
        await system.start()
        started.append((system, store))
        return system

    yield factory
    for system, store in started:
        await system.stop()
        await store.close()


async def stop_system(system: CentralSystem) -> None:
    """Stop a system started by the factory early (to simulate a restart)."""
    await system.stop()
    await system.store.close()
