"""Simulated OCPP 1.6J / 2.0.1 charge points and EVs for Energy Coordinator.

Run ``python -m simulator --help`` for the command line; tests import
:class:`ChargePoint16` / :class:`ChargePoint201` and drive sessions directly.
"""

from .base import (
    DEFAULT_ID_TAG,
    ERROR,
    NOT_IMPLEMENTED,
    NOT_SUPPORTED,
    TIMEOUT,
    Connector,
    NotConnectedError,
    SimulatedChargePoint,
    SimulatorError,
)
from .charge_point16 import ChargePoint16
from .charge_point201 import ChargePoint201
from .ev import EV
from .runner import create_charge_point, make_fleet, start_all, stop_all

__all__ = [
    "DEFAULT_ID_TAG",
    "ERROR",
    "EV",
    "NOT_IMPLEMENTED",
    "NOT_SUPPORTED",
    "TIMEOUT",
    "ChargePoint16",
    "ChargePoint201",
    "Connector",
    "NotConnectedError",
    "SimulatedChargePoint",
    "SimulatorError",
    "create_charge_point",
    "make_fleet",
    "start_all",
    "stop_all",
]
