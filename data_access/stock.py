"""Stock on hand as of a day: the newest count rolled forward by what moved after it (issue 14).

A stock count is a snapshot. Between the count and the day asked, purchase orders were
received and material was consumed; a projection that starts at the count and only
subtracts consumption raises false shortage alarms (a count of 670 t followed by a 5,800 t
receipt the next day). Every reader that starts from a count (shortage signals and
probabilities, scenario inputs, material days of supply, schedule risk, spare parts) goes
through `roll_forward`, so they all see the same position.

Movements, in the order the warehouse records them per plant-local day (a count is taken at
the end of its day): receipts first (purchase orders by `received_day`), then consumption
(`demand_daily.qty`); consumption beyond what is on hand is lost, never negative stock:

    stock_d = max(stock_{d-1} + received_d - consumed_d, 0)

Finished goods are not rolled forward: their inflow is production, which the warehouse
records per line and not per product, so their position stays the count.
"""

from datetime import date

import numpy as np
import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from data_access.frames import read_frame
from data_access.schema import demand_daily, material, purchase_order
from data_access.scope import PlantScope

KEYS = ["plant_id", "material_id"]


def movements_after(
    engine: Engine, scope: PlantScope, first_day: date, last_day: date, material_ids=None
) -> pd.DataFrame:
    """Net movement per plant, material and plant-local day after first_day up to last_day.

    Columns: plant_id, material_id, day, received (qty of purchase orders received that
    day), consumed (qty consumed that day). Finished goods are left out.
    """
    po, d, m = purchase_order.c, demand_daily.c, material.c
    bought = m.material_type != "finished"
    received_where = [
        scope.clause(po.plant_id),
        po.status == "received",
        po.received_day > first_day,
        po.received_day <= last_day,
    ]
    consumed_where = [scope.clause(d.plant_id), d.day > first_day, d.day <= last_day, bought]
    if material_ids is not None:
        received_where.append(po.material_id.in_(list(material_ids)))
        consumed_where.append(d.material_id.in_(list(material_ids)))
    with engine.connect() as conn:
        received = read_frame(
            conn,
            select(
                po.plant_id,
                po.material_id,
                po.received_day.label("day"),
                func.sum(po.qty).label("received"),
            )
            .where(*received_where)
            .group_by(po.plant_id, po.material_id, po.received_day),
        )
        consumed = read_frame(
            conn,
            select(
                d.plant_id,
                d.material_id,
                d.day,
                func.sum(d.qty).label("consumed"),
            )
            .join_from(demand_daily, material, d.material_id == m.material_id)
            .where(*consumed_where)
            .group_by(d.plant_id, d.material_id, d.day),
        )
    for frame in (received, consumed):
        frame["day"] = [v if isinstance(v, date) else date.fromisoformat(str(v)) for v in frame["day"]]
    moves = received.merge(consumed, on=[*KEYS, "day"], how="outer")
    moves["received"] = moves["received"].astype(float).fillna(0.0)
    moves["consumed"] = moves["consumed"].astype(float).fillna(0.0)
    return moves.sort_values([*KEYS, "day"], ignore_index=True)


def roll_forward(counts: pd.DataFrame, moves: pd.DataFrame) -> pd.DataFrame:
    """Each count rolled forward by the movements after its day (pure; see the module docstring).

    counts: plant_id, material_id, snapshot_day (None without a count), on_hand; moves:
    `movements_after`. Returns counts with on_hand replaced by the rolled-forward position and
    counted_on_hand (the count itself), received_after_count, consumed_after_count added.
    Rows without a count keep NaN on hand.
    """
    out = counts.copy()
    out["counted_on_hand"] = out["on_hand"].astype(float)
    out["received_after_count"] = 0.0
    out["consumed_after_count"] = 0.0
    if out.empty or moves.empty:
        return out
    counted = out[out["snapshot_day"].notna() & out["on_hand"].notna()]
    joined = moves.merge(counted[[*KEYS, "snapshot_day", "counted_on_hand"]], on=KEYS, how="inner")
    joined = joined[[d > s for d, s in zip(joined["day"], joined["snapshot_day"])]]
    if joined.empty:
        return out
    joined = joined.sort_values([*KEYS, "day"], kind="stable")
    net = joined["received"] - joined["consumed"]
    level = joined["counted_on_hand"] + net.groupby([joined["plant_id"], joined["material_id"]]).cumsum()
    joined = joined.assign(level=level)
    per = joined.groupby(KEYS, sort=False).agg(
        last_level=("level", "last"),
        lowest=("level", "min"),
        received=("received", "sum"),
        consumed=("consumed", "sum"),
    )
    # Lindley recursion with a floor at zero: the stock lost below zero is added back.
    per["position"] = per["last_level"] - np.minimum(per["lowest"], 0.0)
    index = pd.MultiIndex.from_frame(out[KEYS])
    moved = index.isin(per.index)
    out.loc[moved, "on_hand"] = per["position"].reindex(index[moved]).to_numpy()
    out.loc[moved, "received_after_count"] = per["received"].reindex(index[moved]).to_numpy()
    out.loc[moved, "consumed_after_count"] = per["consumed"].reindex(index[moved]).to_numpy()
    return out


def positions(
    engine: Engine, scope: PlantScope, counts: pd.DataFrame, as_of_day: date, day_column: str = "snapshot_day"
) -> pd.DataFrame:
    """`roll_forward` of `counts` (whose count day is `day_column`) up to as_of_day, reading
    the movements after the oldest count in the frame."""
    days = counts[day_column].dropna() if day_column in counts else pd.Series(dtype=object)
    if counts.empty or days.empty:
        return roll_forward(counts.rename(columns={day_column: "snapshot_day"}), pd.DataFrame()).rename(
            columns={"snapshot_day": day_column}
        )
    first = min(days)
    materials = counts["material_id"].unique() if counts["material_id"].nunique() <= 50 else None
    moves = movements_after(engine, scope, first, as_of_day, materials)
    rolled = roll_forward(counts.rename(columns={day_column: "snapshot_day"}), moves)
    return rolled.rename(columns={"snapshot_day": day_column})
