"""The rest of the home: entity search, lean states and downsampled history.

Owns fuzzy entity search over the state mirror and the registries (name, id, area,
device, domain, device class), the lean form of a state (value with its unit, name,
area, last change; attributes only when asked), and turning recorder history into
a few buckets (numeric: mean/min/max per bucket; others: the changes).
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from .ha_client import EntityState, HAClient
from .security import Redactor

#: Attributes never shown (large, internal, or covered by the lean fields).
HIDDEN_ATTRIBUTES = frozenset(
    {
        "friendly_name",
        "unit_of_measurement",
        "icon",
        "entity_picture",
        "supported_features",
    }
)


def value_text(state: EntityState) -> str:
    """`"21.5 °C"`, `"on"`: the state with its unit."""
    unit = state.attributes.get("unit_of_measurement")
    if not unit or state.state in ("unknown", "unavailable", ""):
        return state.state
    return f"{state.state} {unit}"


def lean_state(
    ha: HAClient,
    state: EntityState,
    zone: tzinfo,
    redactor: Redactor,
    fields: Sequence[str] = (),
) -> dict[str, Any]:
    """One entity in a few tokens; `fields` adds attributes (`"*"`: all)."""
    out: dict[str, Any] = {
        "id": state.entity_id,
        "name": state.name,
        "state": value_text(state),
    }
    area = ha.area_name(ha.area_of(state.entity_id))
    if area:
        out["area"] = area
    changed = datetime.fromtimestamp(state.last_changed, zone)
    out["since"] = changed.isoformat(timespec="seconds")
    if fields:
        wanted = (
            {k for k in state.attributes if k not in HIDDEN_ATTRIBUTES}
            if "*" in fields
            else set(fields)
        )
        attrs = {
            k: state.attributes[k] for k in sorted(wanted) if k in state.attributes
        }
        if attrs:
            out["attributes"] = redactor.data(attrs)
    return out


@dataclass(frozen=True, slots=True)
class SearchHit:
    """A search result and how well it matched."""

    score: float
    state: EntityState


def _haystack(ha: HAClient, state: EntityState) -> str:
    device = ha.device_of(state.entity_id) or {}
    parts = [
        state.entity_id.replace("_", " ").replace(".", " "),
        state.name,
        ha.area_name(ha.area_of(state.entity_id)) or "",
        str(device.get("name_by_user") or device.get("name") or ""),
        str(state.attributes.get("device_class") or ""),
    ]
    return " ".join(parts).lower()


def _score(query_words: list[str], haystack: str) -> float:
    """Share of query words found (substring, else a close word)."""
    if not query_words:
        return 1.0
    words = haystack.split()
    total = 0.0
    for word in query_words:
        if word in haystack:
            total += 1.0
            continue
        close = difflib.get_close_matches(word, words, n=1, cutoff=0.75)
        if close:
            total += 0.6
    return total / len(query_words)


def search(
    ha: HAClient,
    states: Iterable[EntityState],
    *,
    query: str = "",
    domain: str | None = None,
    area: str | None = None,
    device_class: str | None = None,
) -> list[EntityState]:
    """Entities matching the filters, best matches first (then by id)."""
    words = [w for w in query.lower().replace("_", " ").split() if w]
    area_l = area.lower() if area else None
    hits: list[SearchHit] = []
    for state in states:
        if domain and state.domain != domain.lower():
            continue
        if device_class and str(state.attributes.get("device_class") or "") != (
            device_class.lower()
        ):
            continue
        if area_l is not None:
            area_id = ha.area_of(state.entity_id)
            name = (ha.area_name(area_id) or "").lower()
            if area_l not in (str(area_id or "").lower(), name):
                continue
        score = _score(words, _haystack(ha, state))
        if words and score < 0.5:
            continue
        hits.append(SearchHit(score, state))
    hits.sort(key=lambda h: (-h.score, h.state.entity_id))
    return [h.state for h in hits]


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def downsample(
    rows: Sequence[Mapping[str, Any]],
    start: datetime,
    end: datetime,
    points: int,
    zone: tzinfo,
) -> dict[str, Any]:
    """Recorder rows (`s`, `lu`/`lc`) as at most `points` buckets or changes."""
    samples: list[tuple[float, str]] = []
    for row in rows:
        when = row.get("lu") or row.get("lc") or row.get("last_changed")
        if isinstance(when, str):
            when = datetime.fromisoformat(when).timestamp()
        if not isinstance(when, int | float):
            continue
        samples.append((float(when), str(row.get("s", row.get("state")))))
    values: list[tuple[float, float]] = []
    for t, s in samples:
        number = _number(s)
        if number is not None:
            values.append((t, number))
    t0, t1 = start.timestamp(), end.timestamp()
    if values and len(values) >= len(samples) / 2:
        width = (t1 - t0) / max(points, 1)
        buckets: list[dict[str, Any]] = []
        last: float | None = None
        index = 0
        ordered = sorted(values)
        for n in range(points):
            lo, hi = t0 + n * width, t0 + (n + 1) * width
            chunk: list[float] = []
            while index < len(ordered) and ordered[index][0] < hi:
                if ordered[index][0] >= lo:
                    chunk.append(ordered[index][1])
                last = ordered[index][1]
                index += 1
            if not chunk and last is None:
                continue
            # Quiet buckets carry the last value through.
            nums = chunk or ([last] if last is not None else [])
            buckets.append(
                {
                    "t": datetime.fromtimestamp(lo, zone).strftime("%m-%d %H:%M"),
                    "mean": round(sum(nums) / len(nums), 3),
                    "min": round(min(nums), 3),
                    "max": round(max(nums), 3),
                }
            )
        return {"kind": "numeric", "samples": len(values), "buckets": buckets}
    changes = [
        {"t": datetime.fromtimestamp(t, zone).strftime("%m-%d %H:%M:%S"), "s": s}
        for t, s in samples
    ]
    total = len(changes)
    if total > points:
        changes = changes[-points:]
    return {"kind": "changes", "total": total, "changes": changes}
