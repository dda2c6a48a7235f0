"""Charging profiles as the simulated charger understands them.

Owns the version-neutral model of a smart-charging profile (parsed from the
snake_case payload of an OCPP 1.6 ``SetChargingProfile`` / ``RemoteStartTransaction``
or an OCPP 2.0.1 ``SetChargingProfile`` / ``RequestStartTransaction``), the store
of installed profiles and the rule that turns them into the limit in force on a
connector at a given moment. Pure: times are passed in.

Precedence follows the OCPP specification: per purpose the highest stack level
with a period in force wins; a ``TxProfile`` replaces the ``TxDefaultProfile``
during its transaction; a ``ChargePointMaxProfile`` (2.0.1:
``ChargingStationMaxProfile``) caps the whole charger and is shared equally by
the connectors that are in a transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

CP_MAX = "ChargePointMaxProfile"
TX_DEFAULT = "TxDefaultProfile"
TX = "TxProfile"

_PURPOSE_ALIASES = {
    "ChargePointMaxProfile": CP_MAX,
    "ChargingStationMaxProfile": CP_MAX,
    "TxDefaultProfile": TX_DEFAULT,
    "TxProfile": TX,
}


def canonical_purpose(name: str) -> str | None:
    """The 1.6 name of a profile purpose given in 1.6 or 2.0.1 terms."""
    return _PURPOSE_ALIASES.get(name)


# How far in the future an absolute schedule may start and still count as
# "starting now" (clock skew between central system and charger).
CLOCK_SKEW_S = 60.0


def parse_time(value: Any) -> datetime | None:
    """Parse an OCPP date-time (RFC 3339); ``None`` when absent or invalid."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Period:
    """One ``chargingSchedulePeriod``."""

    start_s: float
    limit: float
    number_phases: int | None = None


@dataclass(slots=True)
class ChargingProfile:
    """An installed charging profile (first schedule only for 2.0.1)."""

    id: int
    connector_id: int
    stack_level: int
    purpose: str
    kind: str
    unit: str
    periods: tuple[Period, ...]
    start_schedule: datetime | None = None
    duration_s: float | None = None
    recurrency: str | None = None
    transaction_id: int | str | None = None
    valid_from: datetime | None = None
    valid_to: datetime | None = None
    raw: dict[str, Any] = field(default_factory=dict)

    def period_at(self, now: datetime, tx_start: datetime | None) -> Period | None:
        """The period in force at ``now``, or ``None`` if the profile is idle."""
        if self.valid_from and now < self.valid_from - timedelta(seconds=CLOCK_SKEW_S):
            return None
        if self.valid_to and now >= self.valid_to:
            return None
        if self.kind == "Relative":
            start = tx_start or now
        else:
            start = self.start_schedule or tx_start or now
        elapsed = (now - start).total_seconds()
        if elapsed < -CLOCK_SKEW_S:
            return None
        elapsed = max(elapsed, 0.0)
        if self.kind == "Recurring":
            cycle = 7 * 86400.0 if self.recurrency == "Weekly" else 86400.0
            elapsed %= cycle
        if self.duration_s is not None and elapsed >= self.duration_s:
            return None
        current: Period | None = None
        for period in self.periods:
            if period.start_s <= elapsed:
                current = period
            else:
                break
        return current


def parse_profile(data: Mapping[str, Any], connector_id: int) -> ChargingProfile:
    """Build a profile from a snake_case 1.6 or 2.0.1 charging profile payload.

    Raises ``ValueError`` when the payload cannot be used.
    """
    purpose = _PURPOSE_ALIASES.get(str(data.get("charging_profile_purpose")))
    if purpose is None:
        raise ValueError(f"unsupported purpose {data.get('charging_profile_purpose')}")
    schedule = data.get("charging_schedule")
    if isinstance(schedule, list):  # 2.0.1: one to three schedules
        schedule = schedule[0] if schedule else None
    if not isinstance(schedule, Mapping):
        raise ValueError("missing charging schedule")
    periods = tuple(
        sorted(
            (
                Period(
                    start_s=float(p.get("start_period", 0)),
                    limit=float(p["limit"]),
                    number_phases=(
                        int(p["number_phases"])
                        if p.get("number_phases") is not None
                        else None
                    ),
                )
                for p in schedule.get("charging_schedule_period", [])
            ),
            key=lambda p: p.start_s,
        )
    )
    if not periods:
        raise ValueError("charging schedule has no periods")
    unit = str(schedule.get("charging_rate_unit", "A"))
    if unit not in ("A", "W"):
        raise ValueError(f"unsupported charging rate unit {unit}")
    profile_id = data.get("charging_profile_id", data.get("id"))
    if profile_id is None:
        raise ValueError("missing profile id")
    duration = schedule.get("duration")
    return ChargingProfile(
        id=int(profile_id),
        connector_id=connector_id,
        stack_level=int(data.get("stack_level", 0)),
        purpose=purpose,
        kind=str(data.get("charging_profile_kind", "Absolute")),
        unit=unit,
        periods=periods,
        start_schedule=parse_time(schedule.get("start_schedule")),
        duration_s=float(duration) if duration is not None else None,
        recurrency=data.get("recurrency_kind"),
        transaction_id=data.get("transaction_id"),
        valid_from=parse_time(data.get("valid_from")),
        valid_to=parse_time(data.get("valid_to")),
        raw=dict(data),
    )


@dataclass(frozen=True, slots=True)
class Limit:
    """A combined limit: per-phase current, total power and phase count caps."""

    amps: float | None = None
    watts: float | None = None
    phases: int | None = None

    @property
    def unlimited(self) -> bool:
        return self.amps is None and self.watts is None and self.phases is None

    def combine(self, other: Limit) -> Limit:
        """The stricter of two limits, field by field."""
        return Limit(
            amps=_min_opt(self.amps, other.amps),
            watts=_min_opt(self.watts, other.watts),
            phases=_min_opt(self.phases, other.phases),
        )


def _min_opt[T: (int, float)](a: T | None, b: T | None) -> T | None:
    if a is None:
        return b
    if b is None:
        return a
    return min(a, b)


def as_limit(period: Period, unit: str, share: int = 1) -> Limit:
    share = max(share, 1)
    if unit == "W":
        return Limit(watts=period.limit / share, phases=period.number_phases)
    return Limit(amps=period.limit / share, phases=period.number_phases)


class ProfileStore:
    """The profiles installed on one charger, keyed by profile id."""

    def __init__(self) -> None:
        self.profiles: dict[int, ChargingProfile] = {}

    def __len__(self) -> int:
        return len(self.profiles)

    def __iter__(self) -> Iterator[ChargingProfile]:
        return iter(list(self.profiles.values()))

    def install(self, profile: ChargingProfile) -> None:
        """Add a profile, replacing one with the same id or the same slot."""
        for old in list(self.profiles.values()):
            if old.id == profile.id or (
                old.connector_id == profile.connector_id
                and old.purpose == profile.purpose
                and old.stack_level == profile.stack_level
            ):
                del self.profiles[old.id]
        self.profiles[profile.id] = profile

    def clear(
        self,
        *,
        profile_id: int | None = None,
        connector_id: int | None = None,
        purpose: str | None = None,
        stack_level: int | None = None,
    ) -> int:
        """Remove matching profiles and return how many went."""
        canonical = _PURPOSE_ALIASES.get(purpose) if purpose else None
        doomed = [
            p.id
            for p in self.profiles.values()
            if (profile_id is None or p.id == profile_id)
            and (connector_id is None or p.connector_id == connector_id)
            and (canonical is None or p.purpose == canonical)
            and (stack_level is None or p.stack_level == stack_level)
        ]
        for pid in doomed:
            del self.profiles[pid]
        return len(doomed)

    def end_transaction(
        self, transaction_id: int | str | None, connector_id: int
    ) -> None:
        """Drop TxProfiles that belonged to a finished transaction."""
        for p in list(self.profiles.values()):
            if (
                p.purpose == TX
                and p.connector_id == connector_id
                and p.transaction_id in (None, transaction_id)
            ):
                del self.profiles[p.id]

    def _winner(
        self,
        candidates: Iterable[ChargingProfile],
        now: datetime,
        tx_start: datetime | None,
    ) -> tuple[ChargingProfile, Period] | None:
        for profile in sorted(candidates, key=lambda p: -p.stack_level):
            period = profile.period_at(now, tx_start)
            if period is not None:
                return profile, period
        return None

    def limit_for(
        self,
        connector_id: int,
        now: datetime,
        *,
        transaction_id: int | str | None,
        tx_start: datetime | None,
        active_connectors: int = 1,
    ) -> Limit:
        """The limit in force on ``connector_id`` at ``now``."""
        profiles = list(self.profiles.values())
        limit = Limit()
        in_tx = transaction_id is not None
        tx_choice = None
        if in_tx:
            tx_choice = self._winner(
                (
                    p
                    for p in profiles
                    if p.purpose == TX
                    and p.connector_id == connector_id
                    and (p.transaction_id is None or p.transaction_id == transaction_id)
                ),
                now,
                tx_start,
            )
        if tx_choice is None:
            tx_choice = self._winner(
                (
                    p
                    for p in profiles
                    if p.purpose == TX_DEFAULT and p.connector_id == connector_id
                ),
                now,
                tx_start,
            ) or self._winner(
                (
                    p
                    for p in profiles
                    if p.purpose == TX_DEFAULT and p.connector_id == 0
                ),
                now,
                tx_start,
            )
        if tx_choice is not None:
            limit = limit.combine(as_limit(tx_choice[1], tx_choice[0].unit))
        cp_choice = self._winner(
            (p for p in profiles if p.purpose == CP_MAX), now, tx_start
        )
        if cp_choice is not None:
            limit = limit.combine(
                as_limit(cp_choice[1], cp_choice[0].unit, active_connectors)
            )
        return limit
