"""Shortage probability per plant material, and disruption probability per production order.

Shortage (`shortage_probability`, a Monte Carlo simulation, nothing trained): the probability
that a material's stock runs out (demand on a day exceeds what is on hand) within its supplier
lead time from `as_of`, i.e. before an order placed now could arrive. Each of SIMULATIONS runs
- starts from the stock on `as_of` (the newest count rolled forward by the receipts and
  consumption recorded after it, `data_access.stock`);
- draws each day's consumption from the material's own last CONSUMPTION_DAYS days
  (bootstrap: intermittent spare-part use keeps its shape), scaled by the plant's forecast
  factor: the served output forecast of the next FACTOR_DAYS days over the last FACTOR_DAYS
  actual days (raw and packaging materials follow output; spare parts keep factor 1);
- receives each open purchase order on its promised day plus a delay drawn from the
  supplier's delivery record (received minus promised days over the last RECORD_DAYS; an
  overdue order gets a delay beyond what it is already late; a supplier without a record
  uses every supplier's record).
The result also keeps the probability of having run out by each day (`by_day`), which the
disruption of an order due on that day reads.

Fallback (`shortage_rule`): stockout exposure (docs/kpis.md): days of supply, counting open
orders promised within the lead time as stock, against the lead time; risk = share of the
lead time not covered, clipped to 0..1.

Disruption (`disruption_probability`) of a production order planned or released in the
next DISRUPTION_DAYS: 1 - (1 - P(line failure during the order)) x prod over its bill of
material of (1 - P(material runs out by the order's planned end)). The line fails when any
of its assets fails; an asset's 7-day failure probability p becomes 1 - (1 - p)^(w / 7) over
an order window of w days (constant hazard within the week). Inputs are assumed independent.
"""

from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd

from data_access import kpis

SIMULATIONS = 1000
CONSUMPTION_DAYS = 56
FACTOR_DAYS = 28
FACTOR_BOUNDS = (0.5, 2.0)
RECORD_DAYS = 365
DEFAULT_LEAD_DAYS = 14.0
DISRUPTION_DAYS = 14
FOLLOWS_OUTPUT = ("raw", "packaging")
SEED = 20240601


def forecast_factor(actual: pd.Series, forecast: pd.Series) -> float:
    """Mean forecast over mean recent actual, clipped to FACTOR_BOUNDS; 1 when undefined."""
    a, f = np.nanmean(actual) if len(actual) else np.nan, np.nanmean(forecast) if len(forecast) else np.nan
    if not (np.isfinite(a) and np.isfinite(f)) or a <= 0:
        return 1.0
    return float(np.clip(f / a, *FACTOR_BOUNDS))


def _delays(record: pd.DataFrame) -> tuple[dict, np.ndarray]:
    by_supplier = {s: g["delay_days"].to_numpy(dtype=float) for s, g in record.groupby("supplier_id")}
    pooled = record["delay_days"].to_numpy(dtype=float) if len(record) else np.array([0.0])
    return by_supplier, pooled


def shortage_probability(
    stock: pd.DataFrame,
    consumption: pd.DataFrame,
    open_pos: pd.DataFrame,
    record: pd.DataFrame,
    factors: dict,
    as_of_day: date,
    simulations: int = SIMULATIONS,
    seed: int = SEED,
) -> pd.DataFrame:
    """Simulated probability of running out within the lead time, per plant material.

    stock: data_access.intelligence.material_stock; consumption: material_consumption over
    the CONSUMPTION_DAYS days ending as_of_day (or more); open_pos: open_purchase_orders at
    as_of_day; record: deliveries of the last RECORD_DAYS; factors: plant_id -> forecast factor.
    Columns: plant_id, material_id, risk, lead_time_days, on_hand, snapshot_day, daily_mean,
    factor, open_po_qty, open_pos, supplier_on_time, by_day (list: P(run out by day k), k=1..L).
    Materials without a stock count or without consumption get no row.
    """
    rng = np.random.default_rng(seed)
    by_supplier, pooled = _delays(record)
    on_time = {s: float(np.mean(d <= kpis.DELIVERY_TOLERANCE_DAYS)) for s, d in by_supplier.items()}
    first = as_of_day - timedelta(days=CONSUMPTION_DAYS - 1)
    use = consumption[(consumption["day"] >= first) & (consumption["day"] <= as_of_day)]
    use = {k: g for k, g in use.groupby(["plant_id", "material_id"])}
    pos = {k: g for k, g in open_pos.groupby(["plant_id", "material_id"])}
    rows = []
    for s in stock.itertuples(index=False):
        key = (s.plant_id, s.material_id)
        if pd.isna(s.on_hand) or s.snapshot_day is None or key not in use:
            continue
        daily = np.zeros(CONSUMPTION_DAYS)
        g = use[key]
        daily[[(d - first).days for d in g["day"]]] = g["qty"].to_numpy(dtype=float)
        if daily.sum() <= 0:
            continue
        factor = factors.get(s.plant_id, 1.0) if s.material_type in FOLLOWS_OUTPUT else 1.0
        lead = float(s.lead_time_days) if pd.notna(s.lead_time_days) and s.lead_time_days > 0 else DEFAULT_LEAD_DAYS
        lead_days = int(np.ceil(lead))
        horizon = lead_days  # on_hand is the position on as_of_day: the days since the count are known
        demand = rng.choice(daily, size=(simulations, horizon), replace=True) * factor
        arrivals = np.zeros((simulations, horizon))
        orders = pos.get(key)
        po_qty = 0.0
        if orders is not None:
            for o in orders.itertuples(index=False):
                po_qty += float(o.qty)
                delays = by_supplier.get(o.supplier_id, pooled)
                late_by = (as_of_day - o.promised_day).days
                if late_by >= 0:  # overdue: it will come later than it already is
                    later = delays[delays > late_by] - late_by
                    extra = rng.choice(later, simulations) if later.size else np.ones(simulations)
                    day = np.maximum(extra, 1)
                else:
                    day = (o.promised_day - as_of_day).days + rng.choice(delays, simulations)
                day = np.clip(np.round(day).astype(int), 1, None)
                inside = day <= horizon
                arrivals[np.flatnonzero(inside), day[inside] - 1] += float(o.qty)
        stock_now = np.full(simulations, float(s.on_hand))
        ran_out = np.zeros(simulations, dtype=bool)
        by_day = []
        for t in range(horizon):  # demand beyond the stock of a day is lost, not backlogged
            stock_now += arrivals[:, t]
            short = demand[:, t] > stock_now + 1e-9
            stock_now = np.maximum(stock_now - demand[:, t], 0.0)
            ran_out |= short
            by_day.append(float(ran_out.mean()))
        rows.append(
            dict(
                plant_id=s.plant_id,
                material_id=s.material_id,
                risk=float(by_day[-1]) if len(by_day) else 0.0,
                lead_time_days=lead,
                on_hand=float(s.on_hand),
                snapshot_day=s.snapshot_day,
                daily_mean=float(daily.mean()),
                factor=factor,
                open_po_qty=po_qty,
                open_pos=0 if orders is None else len(orders),
                supplier_on_time=on_time.get(s.supplier_id),
                by_day=[round(float(p), 4) for p in by_day],
            )
        )
    return pd.DataFrame(
        rows,
        columns=[
            "plant_id",
            "material_id",
            "risk",
            "lead_time_days",
            "on_hand",
            "snapshot_day",
            "daily_mean",
            "factor",
            "open_po_qty",
            "open_pos",
            "supplier_on_time",
            "by_day",
        ],
    )


def shortage_rule(
    stock: pd.DataFrame, consumption: pd.DataFrame, open_pos: pd.DataFrame, as_of_day: date
) -> pd.DataFrame:
    """The fallback: graded stockout exposure per plant material (see module docstring).

    Columns: plant_id, material_id, risk, days_of_supply, lead_time_days.
    """
    first = as_of_day - timedelta(days=CONSUMPTION_DAYS - 1)
    use = consumption[(consumption["day"] >= first) & (consumption["day"] <= as_of_day)]
    mean = (use.groupby(["plant_id", "material_id"])["qty"].sum() / CONSUMPTION_DAYS).to_dict()
    pos = {k: g for k, g in open_pos.groupby(["plant_id", "material_id"])}
    rows = []
    for s in stock.itertuples(index=False):
        key = (s.plant_id, s.material_id)
        daily = mean.get(key, 0.0)
        if pd.isna(s.on_hand) or s.snapshot_day is None or daily <= 0:
            continue
        lead = float(s.lead_time_days) if pd.notna(s.lead_time_days) and s.lead_time_days > 0 else DEFAULT_LEAD_DAYS
        orders = pos.get(key)
        coming = (
            0.0
            if orders is None
            else float(
                sum(qty for qty, d in zip(orders["qty"], orders["promised_day"]) if (d - as_of_day).days <= lead)
            )
        )
        now = float(s.on_hand)  # already rolled forward to as_of_day
        dos = max(now + coming, 0.0) / daily
        rows.append(
            dict(
                plant_id=s.plant_id,
                material_id=s.material_id,
                risk=float(np.clip(1.0 - dos / lead, 0.0, 1.0)),
                days_of_supply=dos,
                lead_time_days=lead,
            )
        )
    return pd.DataFrame(rows, columns=["plant_id", "material_id", "risk", "days_of_supply", "lead_time_days"])


def window_probability(p7: float, days: float) -> float:
    """A 7-day failure probability turned into one over `days` (constant hazard)."""
    p7 = min(max(float(p7), 0.0), 1.0)
    if p7 >= 1.0:
        return 1.0
    return float(1.0 - (1.0 - p7) ** (max(days, 0.0) / 7.0))


def disruption_probability(
    orders: pd.DataFrame,
    assets: pd.DataFrame,
    asset_risk: dict,
    bom: pd.DataFrame,
    shortage_by_day: dict,
    as_of: datetime,
) -> pd.DataFrame:
    """Per order: probability that a line failure or a material shortage disrupts it.

    orders: data_access.intelligence.upcoming_orders; assets: asset_register; asset_risk:
    asset_id -> served 7-day failure probability; bom: bill_of_materials; shortage_by_day:
    (plant_id, material_id) -> P(run out by day k after as_of), k = 1..L.
    Columns: order_id, plant_id, line_id, product_id, risk, line_risk, material_risk,
    window_days, worst_material, assets_scored, materials_scored.
    """
    line_assets = {k: list(g["asset_id"]) for k, g in assets.groupby("line_id")}
    inputs = {k: list(g["material_id"]) for k, g in bom.groupby("product_id")}
    as_of_ts = pd.Timestamp(as_of)
    rows = []
    for o in orders.itertuples(index=False):
        start = max(o.planned_start_utc, as_of_ts)
        window = max((o.planned_end_utc - start).total_seconds() / 86400.0, 0.0)
        line_ok = 1.0
        scored = 0
        for asset_id in line_assets.get(o.line_id, []):
            if asset_id in asset_risk:
                line_ok *= 1.0 - window_probability(asset_risk[asset_id], window)
                scored += 1
        end_day = max(int(np.ceil((o.planned_end_utc - as_of_ts).total_seconds() / 86400.0)), 1)
        material_ok, worst, worst_p, materials = 1.0, None, 0.0, 0
        for material_id in inputs.get(o.product_id, []):
            curve = shortage_by_day.get((o.plant_id, material_id))
            if curve is None:
                continue
            p = curve[min(end_day, len(curve)) - 1] if len(curve) else 0.0
            material_ok *= 1.0 - p
            materials += 1
            if p > worst_p:
                worst, worst_p = material_id, p
        rows.append(
            dict(
                order_id=o.order_id,
                plant_id=o.plant_id,
                line_id=o.line_id,
                product_id=o.product_id,
                risk=float(1.0 - line_ok * material_ok),
                line_risk=float(1.0 - line_ok),
                material_risk=float(1.0 - material_ok),
                window_days=round(window, 2),
                worst_material=worst,
                assets_scored=scored,
                materials_scored=materials,
            )
        )
    return pd.DataFrame(
        rows,
        columns=[
            "order_id",
            "plant_id",
            "line_id",
            "product_id",
            "risk",
            "line_risk",
            "material_risk",
            "window_days",
            "worst_material",
            "assets_scored",
            "materials_scored",
        ],
    )
