"""The inventory & supply page's view."""

from dataclasses import dataclass

import numpy as np
import pandas as pd

from components import cached
from components.filters import Selection
from components.formatting import format_kpi
from components.operations.common import has_data, plant_rows, with_text
from components.operations.reads import deliveries, material_history, material_positions
from data_access import kpis


@dataclass(frozen=True)
class InventoryView:
    totals: pd.Series  # days_of_supply, inventory_turns, supplier_otd, stockout_exposed, spare_availability
    previous: pd.Series
    plants: pd.DataFrame  # one row per plant
    materials: pd.DataFrame  # one row per plant x material
    exposed: pd.DataFrame  # materials whose days of supply is below lead time, worst first
    spares: pd.DataFrame  # plant x asset class
    suppliers: pd.DataFrame  # one row per supplier
    lateness: pd.DataFrame  # lateness_days, received, on_time (bool)
    shared: pd.DataFrame  # materials several plants stock
    history: pd.DataFrame  # the drilled-down material per plant and day (else empty)
    material_id: str | None

    @property
    def is_empty(self) -> bool:
        return self.materials.empty


def inventory_view(engine, selection: Selection) -> InventoryView:
    """Everything the inventory & supply page shows for the selection."""
    scope, start, end, days = selection.scope, selection.start, selection.end, selection.days
    info = plant_rows(engine, selection)
    materials = _material_table(material_positions(engine, scope, start, end, selection.material_id), info, days)
    spares = _spares(materials)
    supplier_rows = deliveries(engine, scope, start, end, ("supplier_id",), selection.material_id)
    return InventoryView(
        totals=_inventory_totals(engine, selection, materials, spares),
        previous=_inventory_totals(engine, selection.previous(), None, None)
        if has_data(engine, selection.previous())
        else pd.Series(dtype=object),
        plants=_inventory_plants(engine, selection, info, materials, spares),
        materials=materials,
        exposed=_exposed(materials),
        spares=spares,
        suppliers=_suppliers(supplier_rows, days),
        lateness=_lateness(deliveries(engine, scope, start, end, ("lateness_days",), selection.material_id)),
        shared=_shared(materials, days),
        history=_history(engine, selection, info),
        material_id=selection.material_id,
    )


def _material_table(frame: pd.DataFrame, info: pd.DataFrame, days: int) -> pd.DataFrame:
    frame = frame.merge(info[["plant_id", "name"]].rename(columns={"name": "plant"}), on="plant_id")
    frame["avg_daily_demand"] = frame["demand_qty"] / days
    frame["material_dos"] = kpis.material_days_of_supply(frame["on_hand"], frame["demand_qty"], days)
    frame["exposed"] = kpis.is_stockout_exposed(frame["material_dos"], frame["lead_time_days"]).to_numpy()
    frame["below_safety"] = (frame["on_hand"] < frame["safety_stock"]).to_numpy()
    frame["status"] = [_stock_status(r) for r in frame.itertuples()]
    frame = with_text(frame, ("material_dos",), days)
    frame.loc[frame["on_hand"].isna(), "material_dos_text"] = "no recent count"
    return frame


def _stock_status(row) -> str:
    if pd.isna(row.on_hand):
        return f"no stock count in the last {kpis.STOCK_COUNT_LOOKBACK_DAYS} days"
    if row.exposed:
        return "exposed: runs out before a new order arrives"
    if row.on_hand <= 0 and row.demand_qty > 0:
        return "out of stock"
    if row.demand_qty <= 0:
        return "no demand in the window"
    if pd.isna(row.lead_time_days):
        return "made here (no supplier lead time)"
    return "covered"


def _spares(materials: pd.DataFrame) -> pd.DataFrame:
    spares = materials[(materials["material_type"] == "spare_part") & materials["on_hand"].notna()]
    if spares.empty:
        return pd.DataFrame()
    frame = (
        spares.assign(in_stock=spares["on_hand"] >= 1)
        .groupby(["plant_id", "plant", "asset_class"], as_index=False)
        .agg(
            stocked=("material_id", "size"),
            in_stock=("in_stock", "sum"),
            below_safety=("below_safety", "sum"),
            on_hand=("on_hand", "sum"),
        )
    )
    frame["spare_availability"] = kpis.spare_parts_availability(
        frame["in_stock"].astype(float), frame["stocked"].astype(float)
    )
    return frame.sort_values(["spare_availability", "plant"], ignore_index=True)


def _inventory_totals(engine, selection, materials, spares) -> pd.Series:
    comp = cached.plant_kpi_components(engine, selection.scope, selection.start, selection.end)
    if comp.empty:
        summed = pd.Series({c: 0.0 for c in kpis.COMPONENTS})
    else:
        summed = comp[list(kpis.COMPONENTS)].sum()
    totals = {
        "days_of_supply": kpis.days_of_supply(summed["inventory_value"], summed["covered_demand_value"]),
        "inventory_turns": kpis.inventory_turns(
            summed["covered_demand_value"], summed["inventory_value"] / selection.days, selection.days
        ),
        "supplier_otd": kpis.supplier_on_time(summed["po_on_time"], summed["po_received"]),
    }
    if materials is not None:
        assessed = materials["material_dos"].notna() & materials["lead_time_days"].notna()
        totals["stockout_exposed"] = int(materials["exposed"].sum())
        totals["assessed"] = int(assessed.sum())
        totals["spare_availability"] = (
            kpis.spare_parts_availability(float(spares["in_stock"].sum()), float(spares["stocked"].sum()))
            if not spares.empty
            else float("nan")
        )
        if selection.material_id:
            counted = materials[materials["on_hand"].notna()]
            totals["material_dos"] = kpis.material_days_of_supply(
                float(counted["on_hand"].sum()), float(counted["demand_qty"].sum()), selection.days
            )
    return pd.Series(totals, dtype=object)


def _inventory_plants(engine, selection, info, materials, spares) -> pd.DataFrame:
    comp = cached.plant_kpi_components(engine, selection.scope, selection.start, selection.end)
    frame = info[["plant_id", "name", "data_maturity", "currency"]].rename(columns={"name": "plant"})
    frame = frame.merge(comp, on="plant_id", how="left").fillna({c: 0.0 for c in kpis.COMPONENTS})
    frame["days"] = frame["days"].fillna(0)
    frame["days_of_supply"] = kpis.days_of_supply(frame["inventory_value"], frame["covered_demand_value"])
    frame["inventory_turns"] = kpis.inventory_turns(
        frame["covered_demand_value"], frame["inventory_value"] / selection.days, selection.days
    )
    frame["supplier_otd"] = kpis.supplier_on_time(frame["po_on_time"], frame["po_received"])
    per_plant = materials.groupby("plant_id").agg(
        stocked=("material_id", "size"), counted=("on_hand", "count"), stockout_exposed=("exposed", "sum")
    )
    frame = frame.merge(per_plant, on="plant_id", how="left").fillna(
        {"stocked": 0, "counted": 0, "stockout_exposed": 0}
    )
    if not spares.empty:
        spare = spares.groupby("plant_id")[["in_stock", "stocked"]].sum()
        frame["spare_availability"] = frame["plant_id"].map(
            kpis.spare_parts_availability(spare["in_stock"].astype(float), spare["stocked"].astype(float))
        )
    else:
        frame["spare_availability"] = np.nan
    for col in ("stocked", "counted", "stockout_exposed"):
        frame[col] = frame[col].astype(int)
    frame = with_text(
        frame, ("days_of_supply", "inventory_turns", "supplier_otd", "spare_availability"), selection.days
    )
    return frame.sort_values(["stockout_exposed", "plant"], ascending=[False, True], ignore_index=True)


def _exposed(materials: pd.DataFrame) -> pd.DataFrame:
    frame = materials[materials["exposed"]].copy()
    frame["cover_ratio"] = frame["material_dos"] / frame["lead_time_days"]
    frame["label"] = frame["material_name"] + " · " + frame["plant"]
    return frame.sort_values("cover_ratio", ignore_index=True)


def _suppliers(frame: pd.DataFrame, days: int) -> pd.DataFrame:
    if frame.empty:
        return frame
    frame = frame.assign(
        supplier_otd=kpis.supplier_on_time(frame["on_time"].astype(float), frame["received"].astype(float)),
        mean_lateness_days=frame["lateness_days_sum"] / frame["received"],
    )
    frame = with_text(frame, ("supplier_otd",), days)
    return frame.sort_values("supplier_otd", ignore_index=True)


def _lateness(frame: pd.DataFrame) -> pd.DataFrame:
    if frame.empty:
        return frame
    frame = frame.assign(on_time=frame["lateness_days"] <= kpis.DELIVERY_TOLERANCE_DAYS)
    return frame[["lateness_days", "received", "on_time"]].sort_values("lateness_days", ignore_index=True)


def _shared(materials: pd.DataFrame, days: int) -> pd.DataFrame:
    """Materials stocked by two or more plants: quantities add up (one unit per material)."""
    counts = materials.groupby("material_id")["plant_id"].nunique()
    shared = materials[materials["material_id"].isin(counts[counts >= 2].index)]
    if shared.empty:
        return pd.DataFrame()
    counted = shared[shared["on_hand"].notna()]
    frame = shared.groupby(["material_id", "material_name", "material_type", "unit"], as_index=False).agg(
        plants=("plant_id", "nunique"),
        demand_qty=("demand_qty", "sum"),
        exposed_plants=("exposed", "sum"),
        plant_list=("plant", lambda s: ", ".join(sorted(s))),
    )
    frame = frame.merge(
        counted.groupby("material_id", as_index=False).agg(
            on_hand=("on_hand", "sum"), counted_demand=("demand_qty", "sum"), min_plant_dos=("material_dos", "min")
        ),
        on="material_id",
        how="left",
    )
    frame["avg_daily_demand"] = frame["demand_qty"] / days
    frame["material_dos"] = kpis.material_days_of_supply(frame["on_hand"], frame["counted_demand"], days)
    frame["exposed_plants"] = frame["exposed_plants"].astype(int)
    frame = with_text(frame, ("material_dos",), days)
    frame["min_plant_dos_text"] = [format_kpi("material_dos", v, days) for v in frame["min_plant_dos"]]
    return frame.sort_values(["exposed_plants", "plants"], ascending=False, ignore_index=True)


def _history(engine, selection, info) -> pd.DataFrame:
    if not selection.material_id:
        return pd.DataFrame()
    frame = material_history(engine, selection.scope, selection.start, selection.end, selection.material_id)
    return frame.merge(info[["plant_id", "name"]].rename(columns={"name": "plant"}), on="plant_id")
