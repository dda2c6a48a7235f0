"""Tuning of the real-time controller: delays, thresholds and policies.

Owns `ControllerSettings` and the policy enums. These are the user's options (the
HA layer builds them from the config entry's options); the site's physical
properties live in the snapshot instead.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class FallbackPolicy(enum.StrEnum):
    """What a PV-mode EV does when the inputs it depends on are missing."""

    PAUSE = "pause"
    MINIMUM = "minimum"


class SharingPolicy(enum.StrEnum):
    """How chargers share what is scarce.

    The policy governs both the current the grid limit leaves and the solar
    surplus shared by PV-mode vehicles.
    """

    FAIR = "fair"  # equal shares (max-min fair), each within its min/max
    PRIORITY = "priority"  # higher priority first, the others keep their minimum


class HouseLoadSplit(enum.StrEnum):
    """Assumed spread of the house load over the lines of a three-phase site.

    Only used when the grid meter gives no per-phase currents.
    """

    ONE_PHASE = "one_phase"  # conservative: all of it may be on any one line
    EVEN = "even"  # balanced: a third on each line


@dataclass(frozen=True, slots=True, kw_only=True)
class ControllerSettings:
    """Delays (seconds), thresholds (W, A) and policies of the controller.

    PV mode starts a vehicle after the surplus has covered its minimum power for
    `enable_delay_s` and stops it after the site has imported at minimum current
    for `disable_delay_s`. With automatic phases, a charging vehicle switches to
    one phase after the surplus has stayed below the three-phase minimum for
    `phase_to_1p_delay_s`, and back to three phases after the surplus has covered
    the three-phase minimum for `phase_to_3p_delay_s`. After any switch no other
    switch happens for `phase_settle_s`, and the stop timer does not run (the
    measurements are settling).

    Under a grid limit that binds, a charger keeps the limit in force while its
    new share differs from it by less than `limit_hold_a` and the lines allow
    it (no profile for every tenth of an ampere the house load moves).

    Under `SharingPolicy.FAIR`, PV-mode vehicles of equal priority share the
    surplus; when it covers fewer minimums than there are vehicles, one that has
    waited `share_rotate_s` takes the place of one that has charged that long.
    """

    enable_delay_s: float = 60.0
    disable_delay_s: float = 180.0
    enable_threshold_w: float = 0.0
    disable_threshold_w: float = 0.0
    phase_to_1p_delay_s: float = 60.0
    phase_to_3p_delay_s: float = 120.0
    phase_settle_s: float = 60.0
    fallback: FallbackPolicy = FallbackPolicy.PAUSE
    sharing: SharingPolicy = SharingPolicy.FAIR
    house_load_split: HouseLoadSplit = HouseLoadSplit.ONE_PHASE
    grid_margin_a: float = 0.0
    battery_hold_threshold_w: float = 100.0
    share_rotate_s: float = 1800.0
    limit_hold_a: float = 0.5
    load_restore_delay_s: float = 120.0
    load_restore_margin_w: float = 200.0


DEFAULT_SETTINGS = ControllerSettings()
