"""What the executive Value page shows (issue 14): service level, procurement responsiveness
and the value realized by approved recommendations, per plant and for the selection.

Every KPI is divided last from summed components (`data_access.kpis`); a KPI without a
denominator in the window is NaN with a sentence saying why (`ValueView.why_empty`).
"""

from dataclasses import dataclass

import pandas as pd

from components.cached import cache_query
from components.filters import Selection
from data_access import kpis, queries
from data_access import value as vq

COMPONENTS = [
    "orders_due",
    "orders_otif",
    "pos_received",
    "order_to_receipt_days",
    "shortage_signals",
    "signals_ordered",
    "signal_to_po_days",
    "maintenance_approved",
    "maintenance_observed",
    "downtime_avoided_h",
    "shortage_approved",
    "stockout_known",
    "stockout_avoided",
    "working_capital",
    "disruptions",
    "recoveries",
    "recovery_days",
    "produced_qty",
    "scrap_qty",
    "scrap_cost",
    "orders_planned",
    "planned_qty",
    "changed_qty",
    "orders_redated",
    "revisions_any",
]
STABILITY = ["orders_planned", "planned_qty", "changed_qty", "orders_redated", "revisions_any"]
NAN_UNLESS_SUMMED = ("downtime_avoided_h", "scrap_cost")  # sums of values that may all be unknown
"""Additive components per plant; the value KPIs divide them (kpis.VALUE_KPI_CATALOG)."""


@dataclass(frozen=True)
class ValueView:
    totals: pd.Series  # the KPIs of the whole selection (VALUE_KPI_CATALOG keys) and its components
    plants: pd.DataFrame  # one row per plant: name, components, KPIs
    outcomes: pd.DataFrame  # one row per approved recommendation (data_access.value.value_outcomes), plant name
    disruptions: pd.DataFrame  # one row per line failure disruption (data_access.value.recoveries), plant name
    stability_weeks: pd.DataFrame  # week_start, STABILITY components and the two plan-change KPIs, selection-wide
    why_empty: dict  # KPI key -> why it has no value in this window


@cache_query()
def _service(engine, scope, start, end):
    return vq.service_components(engine, scope, start, end)


@cache_query()
def _procurement(engine, scope, start, end):
    return vq.procurement_components(engine, scope, start, end)


@cache_query()
def _outcomes(engine, scope, start, end):
    return vq.value_outcomes(engine, scope, start, end)


@cache_query()
def _recoveries(engine, scope, start, end):
    return vq.recoveries(engine, scope, start, end)


@cache_query()
def _quality(engine, scope, start, end):
    return vq.quality_components(engine, scope, start, end)


@cache_query()
def _stability(engine, scope, start, end):
    return vq.stability_components(engine, scope, start, end)


@cache_query()
def _plants(engine, scope):
    return queries.plants(engine, scope)


def with_value_kpis(c: pd.DataFrame) -> pd.DataFrame:
    """Add every VALUE_KPI_CATALOG column to summed components (one row per group)."""
    return c.assign(
        service_level=kpis.service_level(c["orders_otif"], c["orders_due"]),
        order_to_receipt_d=kpis.mean_days(c["order_to_receipt_days"], c["pos_received"]),
        signal_to_po_d=kpis.mean_days(c["signal_to_po_days"], c["signals_ordered"]),
        downtime_avoided_h=c["downtime_avoided_h"].where(c["maintenance_observed"] > 0),
        stockout_avoided=kpis.stockout_avoided_share(c["stockout_avoided"], c["stockout_known"]),
        working_capital=c["working_capital"].where(c["shortage_approved"] > 0),
        time_to_recover_d=kpis.mean_time_to_recover_days(c["recovery_days"], c["recoveries"]),
        quality_cost=c["scrap_cost"].where(c["produced_qty"] > 0),
        plan_qty_change=kpis.plan_qty_change(c["changed_qty"], c["planned_qty"]).where(c["revisions_any"] > 0),
        plan_date_change=kpis.plan_date_change(c["orders_redated"], c["orders_planned"]).where(c["revisions_any"] > 0),
    )


def _per_plant_outcomes(outcomes: pd.DataFrame) -> pd.DataFrame:
    o = outcomes.assign(
        maintenance_approved=outcomes["kind"] == "maintenance",
        maintenance_observed=outcomes["downtime_avoided_h"].notna(),
        shortage_approved=outcomes["kind"] == "shortage",
        stockout_known=outcomes["stockout_followed"].notna(),
        stockout_avoided=outcomes["stockout_followed"].map(lambda v: v is False),
    )
    return o.groupby("plant_id").agg(
        maintenance_approved=("maintenance_approved", "sum"),
        maintenance_observed=("maintenance_observed", "sum"),
        downtime_avoided_h=("downtime_avoided_h", lambda s: s.sum(min_count=1)),
        shortage_approved=("shortage_approved", "sum"),
        stockout_known=("stockout_known", "sum"),
        stockout_avoided=("stockout_avoided", "sum"),
        working_capital=("working_capital", lambda s: s.sum()),
    )


def value_view(engine, selection: Selection) -> ValueView:
    """The Value page's numbers for the selected plants and plant-local days."""
    args = (engine, selection.scope, selection.start, selection.end)
    info = _plants(engine, selection.scope)[["plant_id", "name"]]
    outcomes, disruptions = _outcomes(*args), _recoveries(*args)
    recovered = disruptions.groupby("plant_id").agg(
        disruptions=("day", "size"), recoveries=("days_to_recover", "count"), recovery_days=("days_to_recover", "sum")
    )
    stability = _stability(*args)
    parts = [
        _service(*args).set_index("plant_id"),
        _procurement(*args).set_index("plant_id"),
        _per_plant_outcomes(outcomes),
        recovered,
        _quality(*args).set_index("plant_id"),
        stability.groupby("plant_id")[STABILITY].sum(),
    ]
    zeros = {c: 0.0 for c in COMPONENTS if c not in NAN_UNLESS_SUMMED}
    per_plant = pd.concat(parts, axis=1).reindex(columns=COMPONENTS).astype(float).fillna(zeros)
    plants = info.merge(with_value_kpis(per_plant).reset_index(names="plant_id"), on="plant_id", how="inner")
    summed = per_plant.sum(min_count=1).reindex(COMPONENTS).fillna(zeros)
    totals = with_value_kpis(summed.to_frame().T).iloc[0]
    names = dict(zip(info["plant_id"], info["name"]))
    return ValueView(
        totals=totals,
        plants=plants,
        outcomes=outcomes.assign(plant=outcomes["plant_id"].map(names)),
        disruptions=disruptions.assign(plant=disruptions["plant_id"].map(names)),
        stability_weeks=_weekly(stability),
        why_empty=why_empty(totals, selection.days),
    )


def _weekly(stability: pd.DataFrame) -> pd.DataFrame:
    weeks = stability.groupby("week_start", as_index=False)[STABILITY].sum()
    return weeks.assign(
        plan_qty_change=kpis.plan_qty_change(weeks["changed_qty"], weeks["planned_qty"]).where(
            weeks["revisions_any"] > 0
        ),
        plan_date_change=kpis.plan_date_change(weeks["orders_redated"], weeks["orders_planned"]).where(
            weeks["revisions_any"] > 0
        ),
    )


def why_empty(totals: pd.Series, days: int) -> dict:
    """KPI key -> a sentence for each KPI without a value (never a zero by accident)."""
    reasons = {
        "service_level": f"No production order was due in these {days} days.",
        "order_to_receipt_d": f"No purchase order was received in these {days} days.",
        "signal_to_po_d": (
            f"No shortage recommendation was raised in these {days} days."
            if not totals["shortage_signals"]
            else f"None of the {totals['shortage_signals']:.0f} shortage recommendations raised in these "
            "days has been followed by a purchase order yet."
        ),
        "downtime_avoided_h": (
            "No maintenance recommendation was approved in these days."
            if not totals["maintenance_approved"]
            else "Approved too recently: no downtime data after the decision yet."
        ),
        "stockout_avoided": (
            "No shortage recommendation was approved in these days."
            if not totals["shortage_approved"]
            else "No stock count after the decision yet, within the lead time."
        ),
        "working_capital": "No shortage recommendation was approved in these days.",
        "time_to_recover_d": (
            f"No line failure in these {days} days."
            if not totals["disruptions"]
            else f"None of the {totals['disruptions']:.0f} line failures has recovered to its earlier "
            "output yet (or a line had no production days before to compare with)."
        ),
        "plan_qty_change": _no_revision(totals, days),
        "plan_date_change": _no_revision(totals, days),
        "quality_cost": (
            f"No production was reported in these {days} days."
            if not totals["produced_qty"]
            else "The lines' products are unknown (no production orders), so their scrap has no cost."
        ),
    }
    return {key: text for key, text in reasons.items() if pd.isna(totals.get(key))}


def _no_revision(totals: pd.Series, days: int) -> str:
    if not totals["orders_planned"]:
        return f"No production order was planned to start in these {days} days."
    return (
        "No plan revision was recorded for the orders starting in these days: nothing changed, or the "
        "plants do not send plan revisions."
    )
