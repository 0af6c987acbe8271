"""The one definition of every KPI (ISO 22400-2 where it has one); see docs/kpis.md.

Each KPI is a ratio of additive components. Queries sum the components in SQL over any
set of days, lines, plants or regions; these functions divide last, so a roll-up is the
same function applied to summed components and ratios are never averaged. They work on
scalars and on pandas Series alike. A zero denominator gives NaN (shown as "no data" or an
explained empty state), never inf.
"""

import os

import numpy as np
import pandas as pd

REFERENCE_CURRENCY = os.environ.get("REFERENCE_CURRENCY", "EUR")
"""ISO 4217 code of the enterprise reference currency that `material.unit_cost`, the labour rate
and every cost and value are in (docs/decisions.md no. 14): shown beside every amount."""

# Tolerance windows (documented in docs/kpis.md).
SCHEDULE_TOLERANCE_HOURS = 4.0  # an order completed up to 4 h after its due time is on time
DELIVERY_TOLERANCE_DAYS = 1  # a purchase order received up to 1 day after its promise is on time


def _ratio(numerator, denominator):
    """numerator / denominator, NaN where the denominator is zero or missing."""
    num = np.asarray(numerator, dtype=float)
    den = np.asarray(denominator, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)
    if isinstance(numerator, pd.Series):
        return pd.Series(out, index=numerator.index)
    return float(out) if out.ndim == 0 else out


def availability(run_s, planned_busy_s):
    """Run time / planned busy time."""
    return _ratio(run_s, planned_busy_s)


def performance(ideal_produced_s, run_s):
    """Ideal cycle time x produced quantity / run time."""
    return _ratio(ideal_produced_s, run_s)


def quality(good_qty, produced_qty):
    """Good quantity / produced quantity."""
    return _ratio(good_qty, produced_qty)


def oee(ideal_good_s, planned_busy_s):
    """A x P x Q = ideal cycle time x good quantity / planned busy time."""
    return _ratio(ideal_good_s, planned_busy_s)


def mtbf_hours(run_s, failures):
    """Mean time between failures: operating (run) hours / failures; NaN with no failure."""
    return _ratio(run_s / 3600.0, failures)


def mttr_hours(restoration_s, failures):
    """Mean time to repair: restoration hours of failures / failures; NaN with no failure."""
    return _ratio(restoration_s / 3600.0, failures)


def unplanned_downtime_hours(unplanned_downtime_s):
    """Hours of downtime events whose category is a failure."""
    return unplanned_downtime_s / 3600.0


def schedule_adherence(orders_on_time, orders_due):
    """Orders completed by their due time (+ tolerance) / orders due in the window."""
    return _ratio(orders_on_time, orders_due)


def fill_rate(served_qty, demand_qty):
    """Demand served (from stock or production) / demand; NaN without demand."""
    return _ratio(served_qty, demand_qty)


def schedule_attainment(actual_qty, scheduled_qty):
    """Actual quantity / scheduled quantity of the orders due in the window."""
    return _ratio(actual_qty, scheduled_qty)


def days_of_supply(inventory_value_days, covered_demand_value):
    """Average on-hand value / average daily consumption value over the same days.

    Both components are sums over days (on-hand value of each day, and consumption value
    of the days with a known on-hand), so their ratio is in days and rolls up by summing.
    """
    return _ratio(inventory_value_days, covered_demand_value)


def supplier_on_time(po_on_time, po_received):
    """Purchase orders received by their promised day (+ tolerance) / orders received."""
    return _ratio(po_on_time, po_received)


def inventory_turns(consumption_value, average_inventory_value, window_days):
    """Annualized consumption value / average inventory value."""
    return _ratio(consumption_value * (365.0 / window_days), average_inventory_value)


def is_on_time(finished, promised, tolerance) -> pd.Series:
    """True where `finished` is no later than `promised` + `tolerance`; False if unfinished."""
    finished = pd.Series(finished)
    promised = pd.Series(promised, index=finished.index)
    return (finished.notna() & promised.notna() & (finished <= promised + tolerance)).astype(bool)


# The KPIs that every plant is compared on, with unit and one-line definition for the UI.
KPI_CATALOG = {
    "oee": ("OEE", "%", "ideal cycle time x good qty / planned busy time", True),
    "availability": ("Availability", "%", "run time / planned busy time", True),
    "unplanned_downtime_h": ("Unplanned downtime", "h", "hours of failure downtime", False),
    "mtbf_h": ("MTBF", "h", "run hours / failures", True),
    "mttr_h": ("MTTR", "h", "restoration hours of failures / failures", False),
    "schedule_adherence": (
        "Schedule adherence",
        "%",
        f"orders done by due + {SCHEDULE_TOLERANCE_HOURS:g} h / orders due",
        True,
    ),
    "days_of_supply": (
        "Days of supply",
        "d",
        "average on-hand value / average daily consumption value (raw, packaging)",
        True,
    ),
    "supplier_otd": (
        "Supplier on-time",
        "%",
        f"POs received by promise + {DELIVERY_TOLERANCE_DAYS} d / POs received",
        True,
    ),
}
"""key -> (label, unit, definition, higher_is_better)."""


def with_kpis(components: pd.DataFrame) -> pd.DataFrame:
    """Add every KPI_CATALOG column to a frame of summed components (one row per group)."""
    c = components
    return c.assign(
        oee=oee(c["ideal_good_s"], c["planned_busy_s"]),
        availability=availability(c["run_s"], c["planned_busy_s"]),
        performance=performance(c["ideal_produced_s"], c["run_s"]),
        quality=quality(c["good_qty"], c["produced_qty"]),
        unplanned_downtime_h=unplanned_downtime_hours(c["unplanned_downtime_s"]),
        mtbf_h=mtbf_hours(c["run_s"], c["failures"]),
        mttr_h=mttr_hours(c["restoration_s"], c["failures"]),
        schedule_adherence=schedule_adherence(c["orders_on_time"], c["orders_due"]),
        schedule_attainment=schedule_attainment(c["actual_qty"], c["scheduled_qty"]),
        days_of_supply=days_of_supply(c["inventory_value"], c["covered_demand_value"]),
        supplier_otd=supplier_on_time(c["po_on_time"], c["po_received"]),
    )


def roll_up(components: pd.DataFrame) -> pd.Series:
    """The KPIs of all rows together: sum the components first, divide last."""
    summed = components[list(COMPONENTS)].sum().to_frame().T
    return with_kpis(summed).iloc[0]


COMPONENTS = (
    "planned_busy_s",
    "run_s",
    "ideal_produced_s",
    "ideal_good_s",
    "produced_qty",
    "good_qty",
    "unplanned_downtime_s",
    "planned_downtime_s",
    "failures",
    "restoration_s",
    "orders_due",
    "orders_on_time",
    "scheduled_qty",
    "actual_qty",
    "po_received",
    "po_on_time",
    "demand_value",
    "inventory_value",
    "covered_demand_value",
)
"""Additive components stored per plant and day in mart_plant_daily."""


# --- decision KPIs (issue 5; see docs/kpis.md and docs/decisions-workflow.md) ---------------

DECISION_LATENCY_QUANTILES = (0.5, 0.9)


def decision_latency_hours(latencies_h) -> tuple[float, float]:
    """Decision latency: hours from a recommendation being raised to its final human decision
    (approved, rejected or overridden), as (median, p90) over the given recommendations.

    Percentiles are order statistics (numpy's linear interpolation), so they do not roll
    up: a plant group's latency is computed from its recommendations' latencies, never from
    the plants' medians. Auto-approved and expired recommendations carry no latency.
    NaN, NaN without any decided recommendation.
    """
    values = np.asarray(pd.Series(latencies_h, dtype=float).dropna(), dtype=float)
    if values.size == 0:
        return float("nan"), float("nan")
    median, p90 = np.quantile(values, DECISION_LATENCY_QUANTILES)
    return float(median), float(p90)


def adoption(acted_before_expiry, closed):
    """Adoption: recommendations acted on (approved, rejected or overridden by a person)
    before they expired / recommendations whose outcome is known (acted on, or expired).

    Still-pending recommendations are in neither count; auto-approved ones are left out
    (the system acted, not a person). Additive components: sums roll up.
    """
    return _ratio(acted_before_expiry, closed)


# --- operations KPIs (issue 3; see docs/kpis.md) --------------------------------------------
# Downtime & maintenance, inventory & supply, schedule risk. Same rules as above: additive
# components summed in SQL, divided here; a zero denominator is NaN, never inf.

STOCK_COUNT_LOOKBACK_DAYS = 35  # an on-hand count older than this before the day asked is unknown


def material_days_of_supply(on_hand, demand_qty, calendar_days):
    """Per material (backward): on hand / average daily demand, where the average divides
    the window's demand by its calendar days (days without demand have no row, yet count).
    NaN without demand in the window (nothing to cover) or without a known on hand."""
    return _ratio(on_hand * calendar_days, demand_qty)


def is_stockout_exposed(days_of_supply_, lead_time_days):
    """Stockout exposure of a material: its days of supply is below its supplier's lead time,
    so it runs out before a replenishment ordered today arrives. False where either is
    unknown (no demand: nothing runs out; no lead time: not bought)."""
    dos = pd.Series(days_of_supply_, dtype=float)
    lead = pd.Series(lead_time_days, dtype=float, index=dos.index)
    return (dos.notna() & lead.notna() & (dos < lead)).astype(bool)


def spare_parts_availability(in_stock, stocked):
    """Spare parts (plant x part) with at least one unit on hand / spare parts stocked."""
    return _ratio(in_stock, stocked)


def preventive_share(preventive, corrective):
    """Preventive / (preventive + corrective) work orders created in the window
    (inspections are neither)."""
    return _ratio(preventive, preventive + corrective)


def mean_time_to_close_hours(close_s, completed):
    """Hours from creation to completion of the work orders completed in the window, averaged."""
    return _ratio(close_s / 3600.0, completed)


def work_order_backlog(created_to_date, completed_to_date):
    """Work orders open at the end of a day: created up to it minus completed up to it."""
    return created_to_date - completed_to_date


def delivery_lateness_days(received_day, promised_day) -> pd.Series:
    """Whole days a delivery came after its promise (negative: early)."""
    received = pd.to_datetime(pd.Series(received_day))
    promised = pd.to_datetime(pd.Series(promised_day, index=received.index))
    return (received - promised).dt.days


def order_lateness_hours(finished, due) -> pd.Series:
    """Hours an order finished after its due time (negative: early); NaN if unfinished or undated."""
    finished = pd.to_datetime(pd.Series(finished), utc=True)
    due = pd.to_datetime(pd.Series(due, index=finished.index), utc=True)
    return (finished - due).dt.total_seconds() / 3600.0


def expected_line_loss_hours(unplanned_downtime_s, window_days, order_span_h):
    """Failure downtime an order can expect on its line: the line's failure downtime per
    calendar hour in the window x the order's planned span (start to end) in hours."""
    return unplanned_downtime_s / 3600.0 / (window_days * 24.0) * order_span_h


# Operations KPIs beside KPI_CATALOG (which the overview's tiles show in full), same shape:
# key -> (label, unit, definition, higher_is_better). Units: "#" is a count, "/yr" turns a year.
OPERATIONS_KPI_CATALOG = {
    "planned_downtime_h": ("Planned downtime", "h", "hours of downtime events in the planned category", False),
    "failures": ("Failures", "#", "downtime events whose canonical category is failure", False),
    "schedule_attainment": (
        "Schedule attainment",
        "%",
        "produced qty / scheduled qty of the orders due in the window",
        True,
    ),
    "wo_backlog": (
        "Work-order backlog",
        "#",
        "work orders open at the end of the window (created up to it - completed up to it)",
        False,
    ),
    "preventive_share": (
        "Preventive share",
        "%",
        "preventive / (preventive + corrective) work orders created in the window",
        True,
    ),
    "mean_close_h": (
        "Time to close",
        "h",
        "hours from creation to completion / work orders completed in the window",
        False,
    ),
    "inventory_turns": (
        "Inventory turns",
        "/yr",
        "consumption value x 365 / window days / average inventory value (raw, packaging)",
        True,
    ),
    "material_dos": (
        "Material days of supply",
        "d",
        "on hand / (demand in the window / calendar days of the window)",
        True,
    ),
    "stockout_exposed": (
        "Stockout exposure",
        "#",
        "materials whose days of supply is below their supplier lead time",
        False,
    ),
    "spare_availability": (
        "Spare parts availability",
        "%",
        "spare parts with at least one unit on hand / spare parts stocked",
        True,
    ),
    "late_orders": (
        "Late orders",
        "#",
        f"orders due in the window not finished by due + {SCHEDULE_TOLERANCE_HOURS:g} h",
        False,
    ),
    "orders_at_risk": (
        "Orders at risk",
        "#",
        "open orders due in the horizon that their line's failures or short materials threaten",
        False,
    ),
}


def kpi_info(key: str) -> tuple:
    """(label, unit, definition, higher_is_better) of a KPI of any catalog."""
    for catalog in (KPI_CATALOG, OPERATIONS_KPI_CATALOG, VALUE_KPI_CATALOG):
        if key in catalog:
            return catalog[key]
    raise KeyError(key)


def with_line_kpis(components: pd.DataFrame) -> pd.DataFrame:
    """Add the line-level KPIs to summed mart_line_daily components (one row per group)."""
    c = components
    return c.assign(
        oee=oee(c["ideal_good_s"], c["planned_busy_s"]),
        availability=availability(c["run_s"], c["planned_busy_s"]),
        unplanned_downtime_h=unplanned_downtime_hours(c["unplanned_downtime_s"]),
        planned_downtime_h=c["planned_downtime_s"] / 3600.0,
        mtbf_h=mtbf_hours(c["run_s"], c["failures"]),
        mttr_h=mttr_hours(c["restoration_s"], c["failures"]),
        schedule_adherence=schedule_adherence(c["orders_on_time"], c["orders_due"]),
        schedule_attainment=schedule_attainment(c["actual_qty"], c["scheduled_qty"]),
    )


LINE_COMPONENTS = (
    "planned_busy_s",
    "run_s",
    "ideal_produced_s",
    "ideal_good_s",
    "produced_qty",
    "good_qty",
    "unplanned_downtime_s",
    "planned_downtime_s",
    "failures",
    "restoration_s",
    "orders_due",
    "orders_on_time",
    "scheduled_qty",
    "actual_qty",
)
"""Additive components stored per line and plant-local day in mart_line_daily."""


# --- value KPIs (issue 14; see docs/kpis.md "Value KPIs") -------------------------------------
# Service level, procurement responsiveness and value realized by approved recommendations.
# Components are counts and sums (data_access.value), so they roll up by summing.


def is_in_full(produced_qty, qty) -> pd.Series:
    """True where the produced quantity reaches the ordered quantity."""
    produced = pd.Series(produced_qty, dtype=float)
    ordered = pd.Series(qty, dtype=float, index=produced.index)
    return (produced.notna() & ordered.notna() & (produced >= ordered)).astype(bool)


def service_level(orders_otif, orders_due):
    """On time in full: orders finished by due + tolerance with their full quantity / orders due."""
    return _ratio(orders_otif, orders_due)


def mean_days(total_days, count):
    """Average days (order to receipt, shortage signal to purchase order): summed days / count."""
    return _ratio(total_days, count)


def downtime_avoided_hours(rate_before_h_per_day, days_after, hours_after):
    """Failure hours an asset did not lose after a maintenance decision: its own failure rate
    before (hours a day) x the days observed after, minus the failure hours that followed.
    Negative: it lost more than before. NaN without a rate before."""
    return rate_before_h_per_day * days_after - hours_after


def stockout_avoided_share(avoided, known):
    """Shortage decisions after which no stock count reached zero within the lead time / those
    with a stock count in that time."""
    return _ratio(avoided, known)


RECOVERY_BASELINE_DAYS = 7  # production days before a disruption that set its output level
RECOVERY_SHARE = 0.95  # output back at 95 % of that level counts as recovered


def recovered(output, baseline_output):
    """True where a day's good output is back at RECOVERY_SHARE of the pre-disruption level
    (a scalar or values aligned with `output`); False where the level is unknown."""
    out = np.asarray(output, dtype=float)
    level = np.asarray(baseline_output, dtype=float)
    return np.isfinite(level) & (out >= RECOVERY_SHARE * level)


def mean_time_to_recover_days(recovery_days, recoveries):
    """Resilience: days from the day of a disruption to the first day its line's output is back
    at the pre-disruption level (0: the same day), averaged over the disruptions that recovered."""
    return _ratio(recovery_days, recoveries)


FROZEN_HORIZON_DAYS = 7  # a plan change less than this long before the order's planned start is inside it


def is_frozen(revised_utc, old_planned_start_utc) -> pd.Series:
    """True where a revision came within the frozen horizon before the start it moved or changed."""
    revised = pd.to_datetime(pd.Series(revised_utc), utc=True)
    start = pd.to_datetime(pd.Series(old_planned_start_utc, index=revised.index), utc=True)
    return (start - revised) < pd.Timedelta(days=FROZEN_HORIZON_DAYS)


def plan_qty_change(changed_qty, planned_qty):
    """Schedule stability (quantity): |quantity changes| inside the frozen horizon / planned quantity
    of the orders planned to start in the window (lower is more stable)."""
    return _ratio(changed_qty, planned_qty)


def plan_date_change(orders_redated, orders_planned):
    """Schedule stability (dates): orders whose start or due time moved inside the frozen horizon /
    orders planned to start in the window."""
    return _ratio(orders_redated, orders_planned)


def scrap_cost(scrap_qty, unit_cost):
    """Quality cost of scrap: units produced but not good x the unit cost of what was made."""
    return scrap_qty * unit_cost


VALUE_KPI_CATALOG = {
    "service_level": (
        "Service level (OTIF)",
        "%",
        f"orders finished by due + {SCHEDULE_TOLERANCE_HOURS:g} h with their full quantity / orders due",
        True,
    ),
    "order_to_receipt_d": (
        "Order to receipt",
        "d",
        "received day - ordered day, averaged over the purchase orders received in the window",
        False,
    ),
    "signal_to_po_d": (
        "Shortage signal to order",
        "d",
        "day a shortage recommendation was raised to the plant's "
        "next purchase order of that material, averaged over those ordered",
        False,
    ),
    "downtime_avoided_h": (
        "Downtime avoided",
        "h",
        "per approved maintenance recommendation: the asset's "
        "failure hours a day before x days after - failure hours after, summed",
        True,
    ),
    "stockout_avoided": (
        "Stockouts avoided",
        "%",
        "approved shortage recommendations without a zero stock count within the lead time after / those with a count",
        True,
    ),
    "working_capital": (
        "Working capital committed",
        REFERENCE_CURRENCY,
        "approved purchase quantity x unit cost of shortage recommendations",
        False,
    ),
    "time_to_recover_d": (
        "Time to recover",
        "d",
        f"line failure day to the first day output is back at {RECOVERY_SHARE:.0%} of the "
        f"{RECOVERY_BASELINE_DAYS} production days before, averaged over those recovered",
        False,
    ),
    "quality_cost": (
        "Quality cost (scrap)",
        REFERENCE_CURRENCY,
        "(produced - good qty) x unit cost of the line's products",
        False,
    ),
    "plan_qty_change": (
        "Plan changes, quantity",
        "%",
        f"|quantity changed| within {FROZEN_HORIZON_DAYS} d of the planned start / planned quantity "
        "of the orders starting in the window",
        False,
    ),
    "plan_date_change": (
        "Plan changes, dates",
        "%",
        f"orders re-dated within {FROZEN_HORIZON_DAYS} d of their planned start / orders starting in the window",
        False,
    ),
}
"""key -> (label, unit, definition, higher_is_better), as KPI_CATALOG."""
