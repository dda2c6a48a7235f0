"""OCPP 2.0.1 device-model addresses: the Component/Variable keys of a station.

Owns `VariableKey`, which names one device-model variable as the central system's
`ChargerState.configuration` keys do: ``Component.Variable``, written
``Component[:instance][evse[,connector]].Variable[:instance]`` when they carry an
instance or an EVSE (e.g. ``EVSE[1].Power``, ``Connector[1,1].ConnectorType``), and
turns it into and from the component/variable objects of a frame.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

_KEY_RE = re.compile(
    r"^(?P<comp>[^./:\[\]]+)(?::(?P<cinst>[^./\[\]]+))?"
    r"(?:\[(?P<evse>\d+)(?:,(?P<conn>\d+))?\])?"
    r"[./](?P<var>[^:/\[\]]+?)(?::(?P<vinst>.+))?$"
)


@dataclass(frozen=True, slots=True)
class VariableKey:
    """A device-model Component/Variable address, as `configuration` keys name it."""

    component: str
    variable: str
    component_instance: str | None = None
    variable_instance: str | None = None
    evse_id: int | None = None
    connector_id: int | None = None

    @classmethod
    def parse(cls, key: str) -> VariableKey | None:
        """Read "Component.Variable" or "Component/Variable" (see module doc)."""
        match = _KEY_RE.match(key.strip())
        if match is None:
            return None
        return cls(
            component=match["comp"],
            variable=match["var"],
            component_instance=match["cinst"],
            variable_instance=match["vinst"],
            evse_id=int(match["evse"]) if match["evse"] else None,
            connector_id=int(match["conn"]) if match["conn"] else None,
        )

    @classmethod
    def from_wire(
        cls, component: dict[str, Any], variable: dict[str, Any]
    ) -> VariableKey:
        """From the (snake_case) component and variable objects of a frame."""
        evse = component.get("evse") or {}
        return cls(
            component=str(component.get("name", "")),
            variable=str(variable.get("name", "")),
            component_instance=component.get("instance"),
            variable_instance=variable.get("instance"),
            evse_id=evse.get("id"),
            connector_id=evse.get("connector_id"),
        )

    def text(self) -> str:
        """The configuration key."""
        comp = self.component
        if self.component_instance:
            comp += f":{self.component_instance}"
        if self.evse_id is not None:
            comp += (
                f"[{self.evse_id},{self.connector_id}]"
                if self.connector_id is not None
                else f"[{self.evse_id}]"
            )
        var = self.variable
        if self.variable_instance:
            var += f":{self.variable_instance}"
        return f"{comp}.{var}"

    def identity(self) -> tuple[Any, ...]:
        """Case-insensitive identity (device-model names are case-insensitive)."""
        return (
            self.component.lower(),
            (self.component_instance or "").lower(),
            self.evse_id,
            self.connector_id,
            self.variable.lower(),
            (self.variable_instance or "").lower(),
        )

    def wire(self) -> dict[str, Any]:
        """The {component, variable} pair of a Get/SetVariables request."""
        component: dict[str, Any] = {"name": self.component}
        if self.component_instance:
            component["instance"] = self.component_instance
        if self.evse_id is not None:
            evse: dict[str, Any] = {"id": self.evse_id}
            if self.connector_id is not None:
                evse["connector_id"] = self.connector_id
            component["evse"] = evse
        variable: dict[str, Any] = {"name": self.variable}
        if self.variable_instance:
            variable["instance"] = self.variable_instance
        return {"component": component, "variable": variable}
