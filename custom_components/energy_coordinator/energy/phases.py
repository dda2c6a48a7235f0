"""1-phase / 3-phase switching of one loadpoint.

Owns `PhaseSwitcher`. With the `auto` phase setting on a three-phase site:

* a vehicle that is not charging starts on three phases when the surplus
  covers the three-phase minimum power, otherwise on one (switching while idle
  is immediate);
* a charging vehicle switches to one phase after the surplus has stayed below
  the three-phase minimum for `phase_to_1p_delay_s`, and back to three after it
  has covered the three-phase minimum for `phase_to_3p_delay_s`;
* "now" wants three phases and switches at once;
* no switch happens within `phase_settle_s` of the previous one.

A fixed setting (1 or 3) that differs from the phases in use is applied at once.
"""

from __future__ import annotations

from dataclasses import dataclass

from .explanation import Code, Reason, kw, secs
from .readings import LoadpointReadings
from .settings import ControllerSettings
from .state import LoadpointState


@dataclass(frozen=True, slots=True)
class PhaseDecision:
    """The phases to use and the phase timers to remember."""

    phases: int
    phase_since: float | None
    phase_target: int | None
    last_switch_at: float | None
    settling: bool  # within the settle time of the last switch (after this one)
    reasons: tuple[Reason, ...]


def since(previous: float | None, now: float) -> float:
    """Start of a running timer: `previous` if set and not in the future."""
    return previous if previous is not None and previous <= now else now


def _label(phases: int) -> str:
    return "1 phase" if phases == 1 else f"{phases} phases"


class PhaseSwitcher:
    """Decides the phases of one loadpoint, with delays and a settle time."""

    def __init__(self, settings: ControllerSettings) -> None:
        self._settings = settings

    @staticmethod
    def phases_in_use(lp: LoadpointReadings, state: LoadpointState) -> int:
        """The phases last commanded, else reported, else the most allowed."""
        for phases in (state.phases, lp.active_phases):
            if phases is not None:
                return phases
        return max(lp.allowed_phases)

    def _settling(self, last_switch: float | None, now: float) -> bool:
        if last_switch is None:
            return False
        return now - since(last_switch, now) < self._settings.phase_settle_s

    def keep(
        self, lp: LoadpointReadings, state: LoadpointState, now: float
    ) -> PhaseDecision:
        """No switching (paused, unplugged, or inputs missing)."""
        current = self.phases_in_use(lp, state)
        if current not in lp.allowed_phases:
            return self._switch(lp, current, lp.allowed_phases[0], now, "setting")
        return PhaseDecision(
            current,
            None,
            None,
            state.last_switch_at,
            self._settling(state.last_switch_at, now),
            (),
        )

    def for_max(
        self, lp: LoadpointReadings, state: LoadpointState, now: float
    ) -> PhaseDecision:
        """Fast charging: as many phases as allowed, at once."""
        current = self.phases_in_use(lp, state)
        want = max(lp.allowed_phases)
        if current == want:
            return self.keep(lp, state, now)
        if current in lp.allowed_phases and self._settling(state.last_switch_at, now):
            return self._wait_settle(lp, state, current, want, now)
        return self._switch(lp, current, want, now, "fast charging")

    def for_surplus(
        self,
        lp: LoadpointReadings,
        state: LoadpointState,
        available_w: float,
        charging: bool,
        now: float,
        volts: float,
    ) -> PhaseDecision:
        """PV modes: follow the surplus."""
        current = self.phases_in_use(lp, state)
        if len(lp.allowed_phases) == 1 or current not in lp.allowed_phases:
            return self.keep(lp, state, now)
        settings = self._settings
        min3_w = lp.min_a * volts * 3
        if not charging:
            want = 3 if available_w >= min3_w + settings.enable_threshold_w else 1
            if want == current:
                return self.keep(lp, state, now)
            if self._settling(state.last_switch_at, now):
                return self._wait_settle(lp, state, current, want, now)
            return self._switch(lp, current, want, now, "idle", available_w, min3_w)
        if current == 3 and available_w < min3_w - settings.disable_threshold_w:
            want, delay = 1, settings.phase_to_1p_delay_s
        elif current == 1 and available_w >= min3_w + settings.enable_threshold_w:
            want, delay = 3, settings.phase_to_3p_delay_s
        else:
            return self.keep(lp, state, now)
        if self._settling(state.last_switch_at, now):
            return self._wait_settle(lp, state, current, want, now)
        started = since(state.phase_since if state.phase_target == want else None, now)
        if now - started >= delay:
            return self._switch(lp, current, want, now, "surplus", available_w, min3_w)
        direction = "below" if want == 1 else "above"
        return PhaseDecision(
            current,
            started,
            want,
            state.last_switch_at,
            False,
            (
                Reason(
                    Code.EV_PHASE_WAIT,
                    lp.id,
                    f"'{lp.id}' switches to {_label(want)} in "
                    f"{secs(delay - (now - started))} if the surplus stays {direction} "
                    f"the 3-phase minimum of {kw(min3_w)} (now {kw(available_w)}).",
                ),
            ),
        )

    def _wait_settle(
        self,
        lp: LoadpointReadings,
        state: LoadpointState,
        current: int,
        want: int,
        now: float,
    ) -> PhaseDecision:
        last = since(state.last_switch_at, now)
        left = self._settings.phase_settle_s - (now - last)
        return PhaseDecision(
            current,
            None,
            None,
            last,
            True,
            (
                Reason(
                    Code.EV_PHASE_SETTLING,
                    lp.id,
                    f"'{lp.id}' stays on {_label(current)} for {secs(left)} more: the "
                    f"last phase switch is still settling (wants {_label(want)}).",
                ),
            ),
        )

    def _switch(
        self,
        lp: LoadpointReadings,
        current: int,
        want: int,
        now: float,
        why: str,
        available_w: float = 0.0,
        min3_w: float = 0.0,
    ) -> PhaseDecision:
        if why == "setting":
            text = f"the phase setting allows only {_label(want)}"
        elif why == "fast charging":
            text = "fast charging uses every allowed phase"
        elif want == 3:
            text = f"the surplus ({kw(available_w)}) covers the 3-phase minimum"
        else:
            text = (
                f"the surplus ({kw(available_w)}) is below the 3-phase minimum "
                f"({kw(min3_w)})"
            )
        verb = "will start on" if why == "idle" else "switches to"
        return PhaseDecision(
            want,
            None,
            None,
            now,
            self._settings.phase_settle_s > 0,
            (
                Reason(
                    Code.EV_PHASE_SWITCH,
                    lp.id,
                    f"'{lp.id}' {verb} {_label(want)} "
                    f"(from {_label(current)}): {text}.",
                ),
            ),
        )
