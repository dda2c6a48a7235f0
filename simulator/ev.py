"""The electric vehicle on the other end of the cable.

Owns the vehicle side of a charging session: battery capacity, state of charge,
the most power the on-board charger accepts, how many phases it uses and the state
of charge at which it stops accepting energy. The model is pure: it never reads a
clock, callers pass the elapsed time in.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

# 32 A x 3 phases x 230 V: by default the car never caps what a 32 A box offers.
DEFAULT_EV_MAX_POWER_W = 22_080.0


@dataclass(slots=True)
class EV:
    """A battery electric vehicle as seen by an AC charger."""

    capacity_kwh: float = 60.0
    soc: float = 20.0
    max_power_w: float = DEFAULT_EV_MAX_POWER_W
    phases: int = 3
    target_soc: float = 80.0

    def __post_init__(self) -> None:
        if self.capacity_kwh <= 0:
            raise ValueError("capacity_kwh must be positive")
        if self.phases not in (1, 2, 3):
            raise ValueError("phases must be 1, 2 or 3")
        if not 0.0 <= self.soc <= 100.0 or not 0.0 <= self.target_soc <= 100.0:
            raise ValueError("soc and target_soc are percentages (0..100)")
        if self.max_power_w < 0:
            raise ValueError("max_power_w must not be negative")

    @property
    def capacity_wh(self) -> float:
        """Usable battery capacity in Wh."""
        return self.capacity_kwh * 1000.0

    @property
    def energy_to_target_wh(self) -> float:
        """Energy the vehicle still accepts before it reaches its target SoC."""
        return max(0.0, (self.target_soc - self.soc) / 100.0 * self.capacity_wh)

    @property
    def at_target(self) -> bool:
        """True once the state of charge has reached the target."""
        return self.energy_to_target_wh < 1e-6

    def accepted_power_w(self, offered_w: float) -> float:
        """Power the vehicle draws when the charger offers ``offered_w``."""
        if self.at_target or offered_w <= 0:
            return 0.0
        return min(offered_w, self.max_power_w)

    def charge(self, power_w: float, seconds: float) -> float:
        """Charge at ``power_w`` for ``seconds``; return the Wh actually stored.

        Stops exactly at the target SoC, so the returned energy can be less than
        ``power_w * seconds``.
        """
        if power_w <= 0 or seconds <= 0:
            return 0.0
        energy_wh = min(power_w * seconds / 3600.0, self.energy_to_target_wh)
        self.soc = min(100.0, self.soc + energy_wh / self.capacity_wh * 100.0)
        if self.energy_to_target_wh < 1e-6:
            self.soc = max(self.soc, self.target_soc)
        return energy_wh

    @classmethod
    def random(cls, rng: random.Random) -> EV:
        """A plausible, varied vehicle for demo sessions."""
        capacity = rng.choice((40.0, 52.0, 60.0, 77.0, 82.0))
        max_power = rng.choice((7_360.0, 11_000.0, 11_000.0, 22_080.0))
        phases = 1 if max_power < 8_000 else 3
        soc = round(rng.uniform(10.0, 60.0), 1)
        target = round(rng.uniform(max(soc + 10.0, 70.0), 100.0), 1)
        return cls(
            capacity_kwh=capacity,
            soc=soc,
            max_power_w=max_power,
            phases=phases,
            target_soc=target,
        )
