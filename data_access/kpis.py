"""The one definition of every KPI (ISO 22400-2 where it has one); see docs/kpis.md.

Each KPI is a ratio of additive components. Queries sum the components in SQL over any
set of days, lines, plants or regions; these functions divide last, so a roll-up is the
same function applied to summed components and ratios are never averaged. They work on
scalars and on pandas Series alike. A zero denominator gives NaN (shown as "no data" or an
explained empty state), never inf.
"""

import numpy as np
import pandas as pd

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
    "schedule_adherence": ("Schedule adherence", "%",
                           f"orders done by due + {SCHEDULE_TOLERANCE_HOURS:g} h / orders due", True),
    "days_of_supply": ("Days of supply", "d",
                       "average on-hand value / average daily consumption value (raw, packaging)",
                       True),
    "supplier_otd": ("Supplier on-time", "%",
                     f"POs received by promise + {DELIVERY_TOLERANCE_DAYS} d / POs received", True),
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
    "planned_busy_s", "run_s", "ideal_produced_s", "ideal_good_s", "produced_qty", "good_qty",
    "unplanned_downtime_s", "planned_downtime_s", "failures", "restoration_s",
    "orders_due", "orders_on_time", "scheduled_qty", "actual_qty",
    "po_received", "po_on_time", "demand_value", "inventory_value", "covered_demand_value",
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
