"""Carrying a decision out: charging limits, the battery command, load switches.

Owns `Actuator` and what it remembers per loadpoint (`LoadpointRuntime`):

- A charger is sent a charging profile only when its limit or phases change (by
  at least its current step), when it reconnected, or when it ignores the limit
  we sent; never on every cycle. Profiles to many chargers go out concurrently,
  each with the link's own time-out, and the decision waits at most
  `ACTION_WAIT_S` for them: a silent charger never holds the others or the
  action (its command finishes in the background and is reported next time).
- A charger that ignores a profile purpose (its offered or measured current
  stays above the limit) is tried with the next purpose (`PURPOSE_ORDER`).
- A charger that answers NotImplemented/NotSupported, refuses limits
  `REJECTIONS_BEFORE_UNCONTROLLABLE` times in a row (the link counts them), or
  ignores every purpose is
  *uncontrollable*: no profile is sent to it until a retry with back-off
  (`RETRY_FIRST_S` doubling up to `RETRY_MAX_S`), or at once when it reconnects
  or reboots. The site reads `controllable()` into the snapshot, so the core
  keeps its draw free under the grid limit, and the coordinator raises a repair.
- The battery command goes to the battery script only when it changes; the
  flexible loads are switched when the decision sheds or restores them, or when
  a planned run of a deferrable load starts or ends.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from homeassistant.const import ATTR_ENTITY_ID, SERVICE_TURN_OFF, SERVICE_TURN_ON
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError

from ..const import CONF_BATTERY_SCRIPT
from ..csms.commands import (
    ChargingLimit,
    CommandError,
    CommandNotSupported,
    CommandRejected,
    LimitPurpose,
    LimitUnit,
)
from ..csms.link import ChargePointLink
from ..csms.model import ChargerState, ConnectorState
from ..csms.server import CentralSystem
from ..energy import Decision, LoadpointAction
from .settings import BatteryCommand, split_loadpoint_id

_LOGGER = logging.getLogger(__name__)

#: How long a decision waits for its charging profiles to be answered.
ACTION_WAIT_S = 2.0
#: Measured or offered current this far above the limit means "not applied".
LIMIT_TOLERANCE_A = 1.5
#: Meter reports that show a charger ignoring a profile before the next purpose.
#: Only a report newer than the last one judged counts, so a charger that reports
#: less often than we coordinate is not misjudged.
IGNORED_RUNS_BEFORE_FALLBACK = 2
#: Rejected answers in a row after which a charger counts as uncontrollable.
REJECTIONS_BEFORE_UNCONTROLLABLE = 3
#: Back-off of the retries of an uncontrollable charger.
RETRY_FIRST_S = 300.0
RETRY_MAX_S = 3600.0

#: Profile purposes tried in turn when a charger ignores one.
PURPOSE_ORDER = (
    LimitPurpose.TX_DEFAULT,
    LimitPurpose.TX,
    LimitPurpose.CHARGE_POINT_MAX,
)


@dataclass
class LoadpointRuntime:
    """What the actuator remembers about applying limits to one loadpoint."""

    purpose: LimitPurpose = LimitPurpose.TX_DEFAULT
    applied_a: float | None = None
    applied_phases: int | None = None
    ignored_runs: int = 0
    judged_reading: int | None = None  # MeterReading.updates last judged
    applied_reading: int | None = None  # MeterReading.updates when last applied
    previous_a: float | None = None  # the limit in force before the last one
    follows: bool = False  # seen drawing within the limit we sent
    last_error: str | None = None
    in_flight: asyncio.Task[None] | None = None
    #: Why limits are not sent (None: controllable), and when to try again.
    uncontrollable: str | None = None
    retry_at: datetime | None = None
    backoff_s: float = RETRY_FIRST_S
    #: (online, link epoch) of the charger when last looked at.
    seen: tuple[bool, int] = (False, -1)


@dataclass(frozen=True, slots=True)
class _Send:
    """One charging profile to send: to whom, what, and whether it raises."""

    lp_id: str
    link: ChargePointLink
    limit: ChargingLimit
    raises: bool


@dataclass
class CarryOut:
    """What carrying out one decision did."""

    executed: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)


class Actuator:
    """Applies decisions to the chargers, the battery and the flexible loads."""

    def __init__(
        self,
        hass: HomeAssistant,
        options: Mapping[str, Any],
        system: CentralSystem,
    ) -> None:
        self._hass = hass
        self._options = options
        self._system = system
        self.runtime: dict[str, LoadpointRuntime] = {}
        self.battery_command = BatteryCommand()
        # The battery's real mode is unknown until the first command reaches it.
        self._battery_sent = False
        #: Loadpoints whose controllability changed since the last call.
        self.changed: set[str] = set()
        #: Loadpoints sent a limit since the last call (what they are expected
        #: to draw changed: `expected_current_a`).
        self.sent: set[str] = set()

    def _runtime(self, lp_id: str) -> LoadpointRuntime:
        runtime = self.runtime.get(lp_id)
        if runtime is None:
            runtime = self.runtime[lp_id] = LoadpointRuntime()
        return runtime

    def controllable(self, lp_id: str) -> bool:
        """Whether limits are sent to the loadpoint now."""
        runtime = self.runtime.get(lp_id)
        return runtime is None or runtime.uncontrollable is None

    def expected_current_a(self, lp_id: str, conn: ConnectorState) -> float | None:
        """What a charger draws now, when a limit was sent since its last report.

        The grid meter sees a new limit within a second or two; the charger
        reports its new draw only with its next meter values. Until then the
        site counts the EV at what it will draw, so the house load it derives
        (PV + grid - EVs) neither drops by a cut (and hands it out again) nor
        grows by a raise (and cuts again). A charger that drew at its limit
        draws the new one; one that drew less keeps drawing that, at most the
        new limit. Only for a charger seen following our limits (None else).
        """
        runtime = self.runtime.get(lp_id)
        if (
            runtime is None
            or not runtime.follows
            or runtime.applied_a is None
            or runtime.applied_reading != conn.meter.updates
        ):
            return None
        reported = max(conn.meter.current_phases_a.values(), default=None)
        if reported is None:
            reported = conn.meter.current_a
        if reported is None:
            return None
        previous = runtime.previous_a
        if previous is not None and reported >= previous - LIMIT_TOLERANCE_A:
            return runtime.applied_a  # it drew at its limit: it takes the new one
        return min(reported, runtime.applied_a)

    def uncontrollable(self) -> dict[str, str]:
        """Loadpoints that refuse limits, and why."""
        return {
            lp_id: runtime.uncontrollable
            for lp_id, runtime in self.runtime.items()
            if runtime.uncontrollable is not None
        }

    # Loadpoints ----------------------------------------------------------------

    def observe(self, lp_id: str, charger: ChargerState, now: datetime) -> None:
        """Note reconnects and reboots (the link's epoch): they end an
        uncontrollable spell at once, and the limit is sent again."""
        runtime = self._runtime(lp_id)
        seen = (charger.online, charger.link_epoch)
        if seen == runtime.seen:
            return
        came_back = runtime.seen[1] >= 0 and charger.link_epoch != runtime.seen[1]
        runtime.seen = seen
        if not charger.online or came_back:
            runtime.applied_a = None  # resend once it is back
        if came_back and runtime.uncontrollable is not None:
            runtime.retry_at = now
            runtime.backoff_s = RETRY_FIRST_S

    def _due_for_retry(self, runtime: LoadpointRuntime, now: datetime) -> bool:
        return runtime.retry_at is not None and runtime.retry_at <= now

    async def apply_vehicles(
        self,
        vehicles: Mapping[str, LoadpointAction],
        now: datetime,
        done: CarryOut,
    ) -> None:
        """Send the limits that changed: cuts first, raises once the cuts are in.

        So the sum of the limits in force never exceeds what the decision allows
        on the way from the old limits to the new ones. Waits `ACTION_WAIT_S` in
        all; a raise whose cuts are not all confirmed by then waits for the next
        decision.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + ACTION_WAIT_S
        cuts: list[_Send] = []
        raises: list[_Send] = []
        for lp_id, action in vehicles.items():
            send = self._prepare(lp_id, action, now)
            if send is not None:
                (raises if send.raises else cuts).append(send)
        if not cuts and not raises:
            return
        cut_tasks = {self._start(send, now, done): send.lp_id for send in cuts}
        if cut_tasks:
            finished, _ = await asyncio.wait(
                cut_tasks, timeout=max(0.0, deadline - loop.time())
            )
            late = [lp_id for task, lp_id in cut_tasks.items() if task not in finished]
            done.pending.extend(late)
            failed = any(
                self.runtime[lp_id].applied_a is None
                or self.runtime[lp_id].last_error is not None
                for task, lp_id in cut_tasks.items()
                if task in finished
            )
            if late or failed:
                done.pending.extend(send.lp_id for send in raises)
                return
        raise_tasks = {self._start(send, now, done): send.lp_id for send in raises}
        if raise_tasks:
            finished, _ = await asyncio.wait(
                raise_tasks, timeout=max(0.0, deadline - loop.time())
            )
            done.pending.extend(
                lp_id for task, lp_id in raise_tasks.items() if task not in finished
            )

    def _prepare(
        self, lp_id: str, action: LoadpointAction, now: datetime
    ) -> _Send | None:
        """What to send a loadpoint now (None: nothing)."""
        charger_id, connector_id = split_loadpoint_id(lp_id)
        charger = self._system.chargers.get(charger_id)
        link = self._system.links.get(charger_id)
        if charger is None or link is None or not charger.online:
            return None
        runtime = self._runtime(lp_id)
        if runtime.in_flight is not None and not runtime.in_flight.done():
            return None
        conn = charger.connector(connector_id)
        if runtime.uncontrollable is not None:
            if not self._due_for_retry(runtime, now):
                return None
            return self._probe(lp_id, conn, link, action)
        self._check_applied(lp_id, conn, runtime, now)
        if runtime.uncontrollable is not None:
            return None
        current = round(action.current_a, 1)
        if (
            runtime.applied_a is not None
            and abs(runtime.applied_a - current) < 0.05
            and runtime.applied_phases == action.phases
            and conn.current_limit_a is not None
            and abs(conn.current_limit_a - current) < 0.05
        ):
            return None
        purpose = runtime.purpose
        if purpose == LimitPurpose.TX and conn.transaction is None:
            purpose = LimitPurpose.TX_DEFAULT
        limit = ChargingLimit(
            value=current,
            unit=LimitUnit.AMPERE,
            connector_id=0
            if purpose == LimitPurpose.CHARGE_POINT_MAX
            else connector_id,
            phases=action.phases,
            purpose=purpose,
        )
        # A charger without a limit of ours may draw its maximum: any limit cuts.
        raises = (
            conn.current_limit_a is not None
            and current * action.phases
            > conn.current_limit_a * (conn.limit_phases or action.phases) + 0.05
        )
        return _Send(lp_id, link, limit, raises)

    def _start(self, send: _Send, now: datetime, done: CarryOut) -> asyncio.Task[None]:
        task = self._hass.async_create_background_task(
            self._send(send, now, done),
            f"energy_coordinator limit {send.lp_id}",
            eager_start=True,
        )
        if not task.done():
            self._runtime(send.lp_id).in_flight = task
        return task

    def _probe(
        self,
        lp_id: str,
        conn: ConnectorState,
        link: ChargePointLink,
        action: LoadpointAction,
    ) -> _Send:
        """Try an uncontrollable charger again with what it draws now.

        The core keeps that much free for it, so the attempt changes nothing
        if it is accepted; the next decision then gives it its share.
        """
        self._runtime(lp_id).retry_at = None
        measured = max(conn.meter.current_phases_a.values(), default=None)
        if measured is None:
            measured = conn.meter.current_a
        limit = ChargingLimit(
            value=round(measured if measured is not None else action.current_a, 1),
            unit=LimitUnit.AMPERE,
            connector_id=conn.connector_id,
            phases=conn.limit_phases or action.phases,
            purpose=LimitPurpose.TX_DEFAULT,
        )
        return _Send(lp_id, link, limit, raises=False)

    async def _send(self, send: _Send, now: datetime, done: CarryOut) -> None:
        lp_id, limit = send.lp_id, send.limit
        runtime = self._runtime(lp_id)
        try:
            await send.link.set_charging_limit(limit)
        except CommandNotSupported as err:
            self._give_up(lp_id, runtime, "not_supported", now)
            done.errors.append(f"{lp_id}: {err}")
            return
        except CommandRejected as err:
            runtime.last_error = str(err)
            done.errors.append(f"{lp_id}: {err}")
            if self._connector(lp_id).rejected_limits >= (
                REJECTIONS_BEFORE_UNCONTROLLABLE
            ):
                self._give_up(lp_id, runtime, "rejected", now)
            return
        except CommandError as err:
            runtime.last_error = str(err)
            done.errors.append(f"{lp_id}: {err}")
            _LOGGER.debug("Limit for %s not applied: %s", lp_id, err)
            return
        finally:
            runtime.in_flight = None
        if runtime.uncontrollable is not None:
            _LOGGER.info("%s takes charging limits again", lp_id)
            runtime.uncontrollable = None
            runtime.retry_at = None
            runtime.purpose = LimitPurpose.TX_DEFAULT
            self.changed.add(lp_id)
        runtime.previous_a = runtime.applied_a
        runtime.applied_a = limit.value
        runtime.applied_phases = limit.phases
        runtime.ignored_runs = 0
        runtime.backoff_s = RETRY_FIRST_S
        runtime.judged_reading = self._connector(lp_id).meter.updates
        runtime.applied_reading = runtime.judged_reading
        runtime.last_error = None
        self.sent.add(lp_id)
        done.executed.append(
            f"{lp_id}: {limit.value} A on {limit.phases} phase(s) "
            f"({limit.purpose.value})"
        )

    def _connector(self, lp_id: str) -> ConnectorState:
        charger_id, connector_id = split_loadpoint_id(lp_id)
        return self._system.chargers[charger_id].connector(connector_id)

    def _give_up(
        self, lp_id: str, runtime: LoadpointRuntime, why: str, now: datetime
    ) -> None:
        """Stop sending limits to a loadpoint until the next retry."""
        if runtime.uncontrollable is None:
            self.changed.add(lp_id)
            _LOGGER.info(
                "%s does not take charging limits (%s); retrying in %.0f s",
                lp_id,
                why,
                runtime.backoff_s,
            )
        runtime.uncontrollable = why
        runtime.retry_at = now + timedelta(seconds=runtime.backoff_s)
        runtime.backoff_s = min(RETRY_MAX_S, runtime.backoff_s * 2)
        runtime.applied_a = None

    def _check_applied(
        self,
        lp_id: str,
        conn: ConnectorState,
        runtime: LoadpointRuntime,
        now: datetime,
    ) -> None:
        """Does the charger follow our limit? If not, try the next purpose."""
        if runtime.applied_a is None or conn.transaction is None:
            return
        reading = conn.meter.updates
        if reading == runtime.judged_reading:
            return  # nothing reported since the limit was sent or last judged
        runtime.judged_reading = reading
        observed = conn.meter.current_offered_a
        if observed is None:
            observed = conn.meter.current_a
        if observed is None or observed <= runtime.applied_a + LIMIT_TOLERANCE_A:
            runtime.ignored_runs = 0
            runtime.follows = observed is not None
            return
        runtime.follows = False
        runtime.ignored_runs += 1
        if runtime.ignored_runs < IGNORED_RUNS_BEFORE_FALLBACK:
            return
        runtime.ignored_runs = 0
        index = PURPOSE_ORDER.index(runtime.purpose)
        if index + 1 >= len(PURPOSE_ORDER):
            self._give_up(lp_id, runtime, "ignored", now)
            return
        runtime.purpose = PURPOSE_ORDER[index + 1]
        _LOGGER.info(
            "%s draws %.1f A above its %.1f A limit; trying a %s profile",
            lp_id,
            observed,
            runtime.applied_a,
            runtime.purpose.value,
        )
        runtime.applied_a = None  # send again

    # Battery and loads ---------------------------------------------------------

    async def apply_battery(self, decision: Decision, done: CarryOut) -> None:
        """Run the battery script when the command changed."""
        battery = decision.actions.battery
        if battery is None:
            return
        # `auto` carries no setpoint (None): it is sent as 0 W.
        command = BatteryCommand(battery.mode.value, round(battery.power_w or 0.0))
        if command == self.battery_command and self._battery_sent:
            return
        self.battery_command = command
        self._battery_sent = await self._command_battery(command, done)

    async def _command_battery(self, command: BatteryCommand, done: CarryOut) -> bool:
        """Run the battery script; whether the command reached it."""
        script = self._options.get(CONF_BATTERY_SCRIPT)
        if not script:
            return True
        try:
            await self._hass.services.async_call(
                "script",
                "turn_on",
                {
                    ATTR_ENTITY_ID: script,
                    "variables": {"mode": command.mode, "power_w": command.power_w},
                },
                blocking=True,
            )
        except HomeAssistantError as err:
            done.errors.append(f"battery: {err}")
            return False
        done.executed.append(f"battery: {command.mode} {command.power_w} W")
        return True

    async def apply_loads(self, decision: Decision, done: CarryOut) -> None:
        """Switch the flexible loads the decision sheds or restores, and the
        deferrable loads whose planned run starts or ends."""
        loads = decision.actions.loads
        for entity_id in (*loads.newly_shed, *loads.plan_off):
            await self._switch(entity_id, SERVICE_TURN_OFF, done)
        for entity_id in (*loads.restore, *loads.plan_on):
            await self._switch(entity_id, SERVICE_TURN_ON, done)

    async def _switch(self, entity_id: str, service: str, done: CarryOut) -> None:
        domain = entity_id.split(".", 1)[0]
        try:
            await self._hass.services.async_call(
                domain, service, {ATTR_ENTITY_ID: entity_id}, blocking=True
            )
        except HomeAssistantError as err:
            done.errors.append(f"{entity_id}: {err}")
            return
        done.executed.append(f"{entity_id}: {service}")

    async def send_now(self, lp_id: str, limit: ChargingLimit) -> None:
        """Send one limit now (a person's cap), recorded as applied; errors raise."""
        charger_id, _ = split_loadpoint_id(lp_id)
        link = self._system.link(charger_id)
        runtime = self._runtime(lp_id)
        await link.set_charging_limit(limit)
        runtime.applied_a = limit.value
        runtime.applied_phases = limit.phases
