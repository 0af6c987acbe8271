"""Named reads of the executive value KPIs (issue 14): service level, procurement
responsiveness, the value realized by approved recommendations, resilience (time to recover
from a line failure), quality cost (scrap) and schedule stability (plan revisions). Formulas in
`data_access.kpis`; definitions, sources and limits in docs/kpis.md ("Value KPIs").

Each function takes the user's PlantScope and filters on it in SQL; the reads of raw tables
are bounded by the window (orders due in it, purchase orders received in it, recommendations
raised in it and the facts of their subjects). Days are plant-local; timestamps UTC.
"""

from datetime import date, datetime, time, timedelta, timezone

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from data_access import kpis
from data_access.frames import read_frame, utc_columns
from data_access.schema import (
    downtime_event,
    inventory_snapshot,
    mart_feed_reach,
    material,
    plan_revision,
    plant,
    production_daily,
    production_order,
    purchase_order,
    recommendation,
)
from data_access.scope import PlantScope

LOOKBACK_DAYS = 90  # an asset's failure rate before a recommendation: at most this many days
_R = recommendation.c


def _read(engine: Engine, stmt) -> pd.DataFrame:
    with engine.connect() as conn:
        return read_frame(conn, stmt)


def _day(value) -> date | None:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    return value if isinstance(value, date) and not isinstance(value, datetime) else date.fromisoformat(str(value)[:10])


def service_components(engine: Engine, scope: PlantScope, start: date, end: date) -> pd.DataFrame:
    """Production orders due on plant-local days start..end (not cancelled) per plant.

    Columns: plant_id, orders_due, orders_otif (finished by due + kpis.SCHEDULE_TOLERANCE_HOURS
    with produced qty >= ordered qty), orders_on_time, orders_in_full.
    """
    o = production_order.c
    rows = _read(
        engine,
        select(o.plant_id, o.due_utc, o.actual_end_utc, o.qty, o.produced_qty).where(
            scope.clause(o.plant_id), o.due_day.between(start, end), o.status != "cancelled"
        ),
    )
    columns = ["plant_id", "orders_due", "orders_otif", "orders_on_time", "orders_in_full"]
    if rows.empty:
        return pd.DataFrame(columns=columns)
    rows = utc_columns(rows, "due_utc", "actual_end_utc")
    on_time = kpis.is_on_time(
        rows["actual_end_utc"], rows["due_utc"], timedelta(hours=kpis.SCHEDULE_TOLERANCE_HOURS)
    ).to_numpy()
    in_full = kpis.is_in_full(rows["produced_qty"], rows["qty"]).to_numpy()
    rows = rows.assign(
        on_time=on_time, in_full=in_full & rows["actual_end_utc"].notna().to_numpy(), otif=on_time & in_full
    )
    out = rows.groupby("plant_id", as_index=False).agg(
        orders_due=("otif", "size"),
        orders_otif=("otif", "sum"),
        orders_on_time=("on_time", "sum"),
        orders_in_full=("in_full", "sum"),
    )
    return out[columns].astype({c: int for c in columns[1:]})


def procurement_components(engine: Engine, scope: PlantScope, start: date, end: date) -> pd.DataFrame:
    """Procurement responsiveness per plant.

    Columns: plant_id, pos_received (purchase orders received on days start..end),
    order_to_receipt_days (their received - ordered days, summed), shortage_signals (shortage
    recommendations raised start..end), signals_ordered (those followed by a purchase order of
    the plant and material ordered on or after the day raised), signal_to_po_days (raised day
    to that first order, summed over the ordered ones).
    """
    po = purchase_order.c
    received = _read(
        engine,
        select(po.plant_id, po.ordered_day, po.received_day).where(
            scope.clause(po.plant_id), po.received_day.between(start, end), po.status == "received"
        ),
    )
    received["days"] = [(_day(r) - _day(o)).days for r, o in zip(received["received_day"], received["ordered_day"])]
    lead = received.groupby("plant_id").agg(pos_received=("days", "size"), order_to_receipt_days=("days", "sum"))

    signals = _read(
        engine,
        select(_R.rec_id, _R.plant_id, _R.subject_id, _R.created_utc).where(
            scope.clause(_R.plant_id),
            _R.kind == "shortage",
            _R.created_utc >= datetime.combine(start, time(), timezone.utc),
            _R.created_utc < datetime.combine(end + timedelta(days=1), time(), timezone.utc),
        ),
    )
    signals = utc_columns(signals, "created_utc")
    signals["raised_day"] = signals["created_utc"].dt.date
    orders = _read(
        engine,
        select(po.plant_id, po.material_id, po.ordered_day).where(
            scope.clause(po.plant_id), po.ordered_day >= start, po.status != "cancelled"
        ),
    )
    orders["ordered_day"] = orders["ordered_day"].map(_day)
    first = []
    for s in signals.itertuples(index=False):
        later = orders[
            (orders["plant_id"] == s.plant_id)
            & (orders["material_id"] == s.subject_id)
            & (orders["ordered_day"] >= s.raised_day)
        ]["ordered_day"]
        first.append((min(later) - s.raised_day).days if len(later) else None)
    signals["to_po_days"] = pd.Series(first, index=signals.index, dtype=float)
    react = signals.groupby("plant_id").agg(
        shortage_signals=("rec_id", "size"),
        signals_ordered=("to_po_days", "count"),
        signal_to_po_days=("to_po_days", "sum"),
    )
    out = lead.join(react, how="outer").fillna(0).reset_index()
    columns = [
        "plant_id",
        "pos_received",
        "order_to_receipt_days",
        "shortage_signals",
        "signals_ordered",
        "signal_to_po_days",
    ]
    if out.empty:
        return pd.DataFrame(columns=columns)
    return out[columns].astype(
        {
            "pos_received": int,
            "shortage_signals": int,
            "signals_ordered": int,
            "order_to_receipt_days": float,
            "signal_to_po_days": float,
        }
    )


def value_outcomes(engine: Engine, scope: PlantScope, start: date, end: date) -> pd.DataFrame:
    """One row per recommendation approved (by a person or the policy) on days start..end
    (UTC days of its decision), maintenance or shortage, with what was expected and what followed.

    Columns: rec_id, plant_id, kind, subject_id, title, decided_utc, estimated_cost, expected
    (maintenance: failure hours expected within its horizon, risk x MTTR; shortage: days without
    stock expected within the lead time), observed_days (days of data after the decision: the
    plant's downtime and production feeds, or its stock counts within the lead time), rate_before_h_per_day (maintenance: the asset's
    failure hours per day over the LOOKBACK_DAYS before it was raised), hours_after (failure
    hours after the decision), downtime_avoided_h (kpis.downtime_avoided_hours; NaN without
    days after), stockout_followed (shortage: a stock count at or below zero within the lead
    time after the decision; None without a count yet), working_capital (shortage: approved
    quantity x unit cost, in kpis.REFERENCE_CURRENCY).
    """
    columns = [
        "rec_id",
        "plant_id",
        "kind",
        "subject_id",
        "title",
        "decided_utc",
        "estimated_cost",
        "expected",
        "observed_days",
        "rate_before_h_per_day",
        "hours_after",
        "downtime_avoided_h",
        "stockout_followed",
        "working_capital",
    ]
    recs = _read(
        engine,
        select(
            _R.rec_id,
            _R.plant_id,
            _R.kind,
            _R.subject_id,
            _R.title,
            _R.risk,
            _R.created_utc,
            _R.decided_utc,
            _R.estimated_cost,
            _R.evidence,
        )
        .where(
            scope.clause(_R.plant_id),
            _R.state == "approved",
            _R.kind.in_(["maintenance", "shortage"]),
            _R.decided_utc >= datetime.combine(start, time(), timezone.utc),
            _R.decided_utc < datetime.combine(end + timedelta(days=1), time(), timezone.utc),
        )
        .order_by(_R.rec_id),
    )
    if recs.empty:
        return pd.DataFrame(columns=columns)
    recs = utc_columns(recs, "created_utc", "decided_utc")
    reach = _read(
        engine,
        select(
            mart_feed_reach.c.plant_id, mart_feed_reach.c.feed, mart_feed_reach.c.first_day, mart_feed_reach.c.last_day
        ).where(scope.clause(mart_feed_reach.c.plant_id)),
    )
    reach = {(p, f): (_day(a), _day(b)) for p, f, a, b in reach.itertuples(index=False)}
    rows = []
    maint = recs[recs["kind"] == "maintenance"]
    failures = _failures(engine, scope, list(maint["subject_id"]), recs["created_utc"].min())
    for r in maint.itertuples(index=False):
        # a day without a stop has no downtime row: production reported that day says "no stop" too
        spans = [reach[(r.plant_id, f)] for f in ("downtime", "production") if (r.plant_id, f) in reach]
        first = min((a for a, _ in spans), default=None)
        last = max((b for _, b in spans), default=None)
        ev = r.evidence or {}
        mttr = ev.get("mttr_hours")
        expected = None if mttr is None or r.risk is None else float(r.risk) * float(mttr)
        raised, decided = r.created_utc, r.decided_utc
        since = max(
            raised - pd.Timedelta(days=LOOKBACK_DAYS),
            pd.Timestamp(first, tz="UTC") if first else raised - pd.Timedelta(days=LOOKBACK_DAYS),
        )
        days_before = (raised - since).total_seconds() / 86400.0
        mine = failures[failures["asset_id"] == r.subject_id]
        before = mine[(mine["start_utc"] >= since) & (mine["start_utc"] < raised)]["hours"].sum()
        end_of_data = pd.Timestamp(last + timedelta(days=1), tz="UTC") if last else decided
        observed = max((end_of_data - decided).total_seconds() / 86400.0, 0.0)
        after = mine[(mine["start_utc"] >= decided) & (mine["start_utc"] < end_of_data)]["hours"].sum()
        rate = float(before / days_before) if days_before > 0 else float("nan")
        rows.append(
            dict(
                rec_id=r.rec_id,
                plant_id=r.plant_id,
                kind=r.kind,
                subject_id=r.subject_id,
                title=r.title,
                decided_utc=decided,
                estimated_cost=r.estimated_cost,
                expected=expected,
                observed_days=round(observed, 3),
                rate_before_h_per_day=rate,
                hours_after=float(after),
                downtime_avoided_h=kpis.downtime_avoided_hours(rate, observed, float(after))
                if observed > 0
                else float("nan"),
                stockout_followed=None,
                working_capital=float("nan"),
            )
        )
    short = recs[recs["kind"] == "shortage"]
    counts = _counts(engine, scope, short, recs["decided_utc"].min().date())
    for r in short.itertuples(index=False):
        ev = r.evidence or {}
        lead = float(ev.get("lead_time_days") or 0.0)
        action = ev.get("action") or {}
        qty, unit_cost = action.get("qty"), ev.get("unit_cost")
        day = r.decided_utc.date()
        mine = counts[
            (counts["plant_id"] == r.plant_id)
            & (counts["material_id"] == r.subject_id)
            & (counts["day"] > day)
            & (counts["day"] <= day + timedelta(days=lead))
        ]
        last = reach.get((r.plant_id, "inventory"), (None, None))[1]
        observed = max(((min(last, day + timedelta(days=lead)) if last else day) - day).days, 0)
        rows.append(
            dict(
                rec_id=r.rec_id,
                plant_id=r.plant_id,
                kind=r.kind,
                subject_id=r.subject_id,
                title=r.title,
                decided_utc=r.decided_utc,
                estimated_cost=r.estimated_cost,
                expected=ev.get("days_short_within_lead_time"),
                observed_days=float(observed),
                rate_before_h_per_day=float("nan"),
                hours_after=float("nan"),
                downtime_avoided_h=float("nan"),
                stockout_followed=None if mine.empty else bool((mine["on_hand"] <= 0).any()),
                working_capital=float(qty) * float(unit_cost) if qty and unit_cost else float("nan"),
            )
        )
    return pd.DataFrame(rows, columns=columns).sort_values("rec_id", ignore_index=True)


def _failures(engine, scope, asset_ids, earliest) -> pd.DataFrame:
    d = downtime_event.c
    if not asset_ids:
        return pd.DataFrame(columns=["asset_id", "start_utc", "hours"])
    frame = _read(
        engine,
        select(d.asset_id, d.start_utc, (d.duration_s / 3600.0).label("hours")).where(
            scope.clause(d.plant_id),
            d.is_failure,
            d.asset_id.in_(sorted(set(asset_ids))),
            d.start_utc >= (earliest - pd.Timedelta(days=LOOKBACK_DAYS)).to_pydatetime(),
        ),
    )
    frame["hours"] = frame["hours"].astype(float)
    return utc_columns(frame, "start_utc")


def _counts(engine, scope, short, first_day) -> pd.DataFrame:
    i = inventory_snapshot.c
    if short.empty:
        return pd.DataFrame(columns=["plant_id", "material_id", "day", "on_hand"])
    frame = _read(
        engine,
        select(i.plant_id, i.material_id, i.day, i.on_hand).where(
            scope.clause(i.plant_id), i.material_id.in_(sorted(set(short["subject_id"]))), i.day > first_day
        ),
    )
    frame["day"] = frame["day"].map(_day)
    frame["on_hand"] = frame["on_hand"].astype(float)
    return frame


RECOVERY_LOOKAHEAD_DAYS = 30  # a disruption not recovered within this many days stays "not recovered"


def recoveries(engine: Engine, scope: PlantScope, start: date, end: date) -> pd.DataFrame:
    """One row per line failure disruption (a line-day with at least one failure) on plant-local
    days start..end, with its recovery.

    Columns: plant_id, line_id, day, disruption ('line failure'), failures, baseline_output
    (mean good qty of the line's kpis.RECOVERY_BASELINE_DAYS production days before; NaN
    without any), recovered_day (first production day from `day` on whose good qty is
    kpis.recovered; None if not within RECOVERY_LOOKAHEAD_DAYS of data), days_to_recover.
    """
    d, p = downtime_event.c, production_daily.c
    columns = [
        "plant_id",
        "line_id",
        "day",
        "disruption",
        "failures",
        "baseline_output",
        "recovered_day",
        "days_to_recover",
    ]
    events = _read(
        engine,
        select(d.plant_id, d.line_id, d.day).where(scope.clause(d.plant_id), d.is_failure, d.day.between(start, end)),
    )
    if events.empty:
        return pd.DataFrame(columns=columns)
    events["day"] = events["day"].map(_day)
    events = events.groupby(["plant_id", "line_id", "day"], as_index=False).size().rename(columns={"size": "failures"})
    output = _read(
        engine,
        select(p.line_id, p.day, p.good_qty).where(
            scope.clause(p.plant_id),
            p.planned_busy_s > 0,
            p.line_id.in_(sorted(set(events["line_id"]))),
            p.day.between(
                start - timedelta(days=4 * kpis.RECOVERY_BASELINE_DAYS), end + timedelta(days=RECOVERY_LOOKAHEAD_DAYS)
            ),
        ),
    )
    output["day"] = output["day"].map(_day)
    output["good_qty"] = output["good_qty"].astype(float)
    lines = {k: g.sort_values("day") for k, g in output.groupby("line_id")}
    rows = []
    for e in events.itertuples(index=False):
        days = lines.get(e.line_id, output.iloc[0:0])
        before = days[days["day"] < e.day].tail(kpis.RECOVERY_BASELINE_DAYS)["good_qty"]
        level = float(before.mean()) if len(before) else float("nan")
        after = days[(days["day"] >= e.day) & (days["day"] <= e.day + timedelta(days=RECOVERY_LOOKAHEAD_DAYS))]
        back = after[kpis.recovered(after["good_qty"], level)]
        day = back["day"].iloc[0] if len(back) else None
        rows.append(
            dict(
                plant_id=e.plant_id,
                line_id=e.line_id,
                day=e.day,
                disruption="line failure",
                failures=int(e.failures),
                baseline_output=level,
                recovered_day=day,
                days_to_recover=float((day - e.day).days) if day is not None else float("nan"),
            )
        )
    return pd.DataFrame(rows, columns=columns)


def quality_components(engine: Engine, scope: PlantScope, start: date, end: date) -> pd.DataFrame:
    """Scrap and its cost per plant over plant-local days start..end.

    Columns: plant_id, produced_qty, scrap_qty (produced - good), scrap_cost (each line's scrap
    x the unit cost of what the line made: its production orders' products weighted by their
    produced qty, all its orders when none was due in the window; NaN cost for a line without
    orders).
    """
    p, o, m = production_daily.c, production_order.c, material.c
    columns = ["plant_id", "produced_qty", "scrap_qty", "scrap_cost"]
    made = _read(
        engine,
        select(
            p.plant_id,
            p.line_id,
            func.sum(p.produced_qty).label("produced_qty"),
            func.sum(p.produced_qty - p.good_qty).label("scrap_qty"),
        )
        .where(scope.clause(p.plant_id), p.day.between(start, end))
        .group_by(p.plant_id, p.line_id),
    )
    if made.empty:
        return pd.DataFrame(columns=columns)
    mix = _read(
        engine,
        select(o.line_id, o.due_day, o.produced_qty, o.qty, m.unit_cost)
        .join_from(production_order, material, o.product_id == m.material_id)
        .where(scope.clause(o.plant_id), o.line_id.in_(sorted(set(made["line_id"])))),
    )
    mix["weight"] = mix["produced_qty"].astype(float).where(mix["produced_qty"] > 0, mix["qty"].astype(float))
    mix["in_window"] = [d is not None and start <= _day(d) <= end for d in mix["due_day"]]
    costs = {}
    for line_id, g in mix.groupby("line_id"):
        use = g[g["in_window"]] if g["in_window"].any() else g
        costs[line_id] = (
            float((use["weight"] * use["unit_cost"].astype(float)).sum() / use["weight"].sum())
            if use["weight"].sum() > 0
            else float("nan")
        )
    made["unit_cost"] = made["line_id"].map(costs).astype(float)
    made["scrap_cost"] = kpis.scrap_cost(made["scrap_qty"].astype(float), made["unit_cost"])
    out = made.groupby("plant_id", as_index=False).agg(
        produced_qty=("produced_qty", "sum"),
        scrap_qty=("scrap_qty", "sum"),
        scrap_cost=("scrap_cost", lambda s: s.sum(min_count=1)),
    )
    return out[columns]


def stability_components(engine: Engine, scope: PlantScope, start: date, end: date) -> pd.DataFrame:
    """Plan changes inside the frozen horizon per plant and plant-local ISO week (Monday) of the
    orders' planned start, for the orders planned to start on days start..end.

    Columns: plant_id, week_start, orders_planned, planned_qty (each order's quantity when
    its plan froze: before its first revision inside the horizon), changed_qty (|new - old|
    quantity summed over those revisions), orders_redated (orders whose start or due time such
    a revision moved), revisions (revisions inside the horizon), revisions_any (all revisions
    of these orders, inside the horizon or before it).
    """
    o, r = production_order.c, plan_revision.c
    columns = [
        "plant_id",
        "week_start",
        "orders_planned",
        "planned_qty",
        "changed_qty",
        "orders_redated",
        "revisions",
        "revisions_any",
    ]
    orders = _read(
        engine,
        select(o.order_id, o.plant_id, o.qty, o.planned_start_utc, plant.c.timezone)
        .join_from(production_order, plant, o.plant_id == plant.c.plant_id)
        .where(
            scope.clause(o.plant_id),
            o.planned_start_utc >= datetime.combine(start - timedelta(days=1), time(), timezone.utc),
            o.planned_start_utc < datetime.combine(end + timedelta(days=2), time(), timezone.utc),
        ),
    )
    if orders.empty:
        return pd.DataFrame(columns=columns)
    orders = utc_columns(orders, "planned_start_utc")
    orders["day"] = [ts.tz_convert(tz).date() for ts, tz in zip(orders["planned_start_utc"], orders["timezone"])]
    orders = orders[[start <= d <= end for d in orders["day"]]]
    if orders.empty:
        return pd.DataFrame(columns=columns)
    revs = _read(
        engine,
        select(
            r.order_id,
            r.revised_utc,
            r.old_qty,
            r.new_qty,
            r.old_planned_start_utc,
            r.new_planned_start_utc,
            r.old_due_utc,
            r.new_due_utc,
        )
        .where(scope.clause(r.plant_id), r.order_id.in_(sorted(orders["order_id"])))
        .order_by(r.order_id, r.revised_utc),
    )
    revs = utc_columns(
        revs, "revised_utc", "old_planned_start_utc", "new_planned_start_utc", "old_due_utc", "new_due_utc"
    )
    counted = revs.groupby("order_id").size()
    frozen = revs[kpis.is_frozen(revs["revised_utc"], revs["old_planned_start_utc"]).to_numpy()].copy()
    frozen["changed"] = (frozen["new_qty"].astype(float) - frozen["old_qty"].astype(float)).abs()
    frozen["moved"] = (frozen["new_planned_start_utc"] != frozen["old_planned_start_utc"]) | (
        frozen["new_due_utc"].fillna(pd.NaT) != frozen["old_due_utc"].fillna(pd.NaT)
    ) & frozen["new_due_utc"].notna()
    per_order = frozen.groupby("order_id").agg(
        first_qty=("old_qty", "first"),
        changed_qty=("changed", "sum"),
        moved=("moved", "any"),
        revisions=("changed", "size"),
    )
    orders = orders.join(per_order, on="order_id")
    orders["planned_qty"] = orders["first_qty"].astype(float).fillna(orders["qty"].astype(float))
    orders["changed_qty"] = orders["changed_qty"].astype(float).fillna(0.0)
    orders["moved"] = orders["moved"].eq(True)
    orders["revisions"] = orders["revisions"].astype(float).fillna(0.0)
    orders["revisions_any"] = orders["order_id"].map(counted).fillna(0)
    days = pd.to_datetime(orders["day"])
    orders["week_start"] = (days - pd.to_timedelta(days.dt.weekday, unit="D")).dt.date
    out = orders.groupby(["plant_id", "week_start"], as_index=False).agg(
        orders_planned=("order_id", "size"),
        planned_qty=("planned_qty", "sum"),
        changed_qty=("changed_qty", "sum"),
        orders_redated=("moved", "sum"),
        revisions=("revisions", "sum"),
        revisions_any=("revisions_any", "sum"),
    )
    return out[columns].astype({"orders_planned": int, "orders_redated": int, "revisions": int, "revisions_any": int})
