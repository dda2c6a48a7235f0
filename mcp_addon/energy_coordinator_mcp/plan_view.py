"""The horizon plan in few words: the integration's `get_plan` and `explain_plan`.

Owns `plan_summary()`: the plan's status, horizon, expected cost and solar used
at home, every EV (its state from `get_status`, what the plan does for it and
why, in the integration's own sentences), and what the plan does with the home
battery and the deferrable loads, in HA's time zone. The slots stay in HA (the
`get_plan` action without `slots: false` has them); a model needs the sentences.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import tzinfo
from typing import Any

from .site_view import ev_summary, local_time


def _why(explained: Mapping[str, Any], subject: str) -> list[str]:
    return [
        str(r.get("message"))
        for r in explained.get("reasons") or []
        if isinstance(r, Mapping) and r.get("subject") == subject
    ]


def _goal_text(goal: Mapping[str, Any]) -> str:
    planned = goal.get("planned_soc_pct")
    target = goal.get("target_soc_pct")
    text = f"{planned:.0f} % planned" if isinstance(planned, int | float) else "planned"
    if isinstance(target, int | float):
        text += f" of {target:.0f} %"
    return text + (" (met)" if goal.get("met") else " (will be missed)")


def _not_planned(lp: Mapping[str, Any]) -> str:
    if not lp.get("plugged"):
        return "not in the plan: no vehicle plugged in"
    mode = lp.get("mode")
    if mode in ("pv", "minpv"):
        return f"not in the plan: mode {mode} without a target time (solar only)"
    return f"not in the plan: mode {mode}"


def plan_summary(
    plan: Mapping[str, Any],
    explained: Mapping[str, Any],
    status: Mapping[str, Any],
    zone: tzinfo,
    loadpoint: str | None = None,
) -> dict[str, Any]:
    """The plan per EV (all, or `loadpoint`), then the site, in short sentences."""
    goals = {
        str(g.get("id")): g
        for g in plan.get("goals") or []
        if isinstance(g, Mapping) and g.get("kind") == "ev"
    }
    loadpoints = status.get("loadpoints") or {}
    evs = []
    for lp_id, lp in sorted(loadpoints.items()):
        if loadpoint is not None and lp_id != loadpoint:
            continue
        item = ev_summary(lp_id, lp, zone)
        goal = goals.get(lp_id)
        item["plan"] = _goal_text(goal) if goal else _not_planned(lp)
        if why := _why(explained, lp_id):
            item["why"] = why
        evs.append(item)
    out: dict[str, Any] = {
        "status": plan.get("status"),
        "planned_at": local_time(plan.get("planned_at"), zone),
        "until": local_time(plan.get("end"), zone),
    }
    if plan.get("reason"):
        out["reason"] = plan["reason"]
    cost, currency = plan.get("expected_cost"), plan.get("currency")
    if isinstance(cost, int | float):
        out["expected_cost"] = f"{cost:.2f} {currency or ''}".strip()
    solar = plan.get("expected_self_consumption_kwh")
    if isinstance(solar, int | float):
        out["solar_used_at_home"] = f"{solar:.1f} kWh"
    out["summary"] = explained.get("summary")
    out["evs"] = evs
    if loadpoint is None:
        others = [
            str(r.get("message"))
            for r in explained.get("reasons") or []
            if isinstance(r, Mapping)
            and r.get("subject") not in loadpoints
            and r.get("subject") != "site"
        ]
        if others:
            out["battery_and_loads"] = others
    return out
