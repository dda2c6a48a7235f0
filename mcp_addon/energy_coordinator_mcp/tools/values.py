"""Reading the values models send: times, charge-mode names, confirmation codes."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from .spec import ToolError


def parse_time(value: str, zone: tzinfo) -> datetime:
    """An ISO 8601 time; without an offset, in HA's time zone."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ToolError(f"cannot read time {value!r}; use ISO 8601") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment


def next_time(value: str, zone: tzinfo) -> datetime:
    """`"07:30"` -> the next 07:30 in HA's zone; ISO strings as given (future only)."""
    text = value.strip()
    with contextlib.suppress(ValueError):
        hour, minute = (int(p) for p in text.split(":")[:2])
        if len(text) <= 5 and 0 <= hour < 24 and 0 <= minute < 60:
            now = datetime.now(zone)
            moment = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
            if moment <= now:
                moment += timedelta(days=1)
            return moment
    moment = parse_time(text, zone)
    if moment <= datetime.now(UTC):
        raise ToolError(f"{value!r} is in the past")
    return moment


def match_option(wanted: str, options: list[str]) -> str | None:
    """The option that `wanted` names, ignoring case, `+`, `_` and spaces."""

    def plain(text: str) -> str:
        return text.lower().replace("+", "").replace("_", "").replace(" ", "")

    for option in options:
        if plain(option) == plain(wanted):
            return option
    return None


def confirmation_code(value: Any) -> str:
    """A confirmation code as the gate issued it: six digits, as a string.

    A number (`42017`, which a model may send for `"042017"`) is the same code.
    """
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:06d}"
    return str(value).strip()
