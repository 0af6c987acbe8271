"""Inventory & supply: which plants run short of material, spare parts, and how suppliers deliver."""

import streamlit as st

from components import figures
from components.filters import filter_bar
from components.formatting import kpi_column_config
from components.operations.common import drill_path, metric_row, require_marts
from components.operations.inventory import inventory_view
from components.tables import chart, table
from components.warehouse import get_engine
from data_access import kpis
from governance.login import current_user

st.title("Inventory & supply")
user = current_user()
engine = get_engine()
st.caption(
    "Drill down network → plant → material. Days of supply look backward: on hand against "
    "the average daily demand of the selected days (calendar days, so days without demand "
    "count as zero). Hover a tile for its definition."
)

selection = filter_bar(engine, user, drill=("material",))
if selection is None:
    st.stop()
require_marts(engine, selection.scope)
view = inventory_view(engine, selection)
if view.is_empty:
    st.info(
        f"No material is stocked at {drill_path(engine, selection)}. Pick other plants or another material.",
        icon=":material/inventory_2:",
    )
    st.stop()

days = selection.days
st.subheader(f"{drill_path(engine, selection)}, {selection.start:%d %b %Y} to {selection.end:%d %b %Y} ({days} days)")
st.caption("Inventory is held per plant: the line and asset picked on other pages do not narrow it.")
metric_row(("days_of_supply", "inventory_turns", "supplier_otd"), view.totals, view.previous, days)
keys = ("stockout_exposed", "spare_availability") + (("material_dos",) if view.material_id else ())
metric_row(keys, view.totals, None, days)
st.caption(
    f"Stockout exposure: {view.totals['stockout_exposed']} of {view.totals['assessed']} materials with "
    "both demand and a supplier lead time have fewer days of supply than their lead time. "
    "Plant days of supply and turns are value-weighted over raw and packaging materials, "
    "at each material's network-wide unit cost."
)

# --- per plant --------------------------------------------------------------------------------
st.subheader("Plants")
table(
    view.plants,
    key="inventory_plants",
    file_name="inventory_by_plant.csv",
    column_config={
        "plant": st.column_config.TextColumn("Plant"),
        "data_maturity": st.column_config.TextColumn("Data"),
        "days_of_supply_text": st.column_config.TextColumn(
            "Days of supply (d)", help=kpis.KPI_CATALOG["days_of_supply"][2]
        ),
        "inventory_turns_text": st.column_config.TextColumn(
            "Inventory turns (/yr)", help=kpis.OPERATIONS_KPI_CATALOG["inventory_turns"][2]
        ),
        "supplier_otd_text": st.column_config.TextColumn(
            "Supplier on-time (%)", help=kpis.KPI_CATALOG["supplier_otd"][2]
        ),
        "stocked": st.column_config.NumberColumn("Materials stocked", format="%d"),
        "stockout_exposed": st.column_config.NumberColumn(
            "Exposed", format="%d", help="days of supply below supplier lead time"
        ),
        "spare_availability_text": st.column_config.TextColumn(
            "Spare parts available (%)", help=kpis.OPERATIONS_KPI_CATALOG["spare_availability"][2]
        ),
    },
)

# --- stockout exposure --------------------------------------------------------------------------
st.subheader("Stockout exposure")
st.caption(
    "Materials that run out before a replenishment ordered today would arrive: days of supply "
    "(bar) below the supplier lead time (mark)."
)
if view.exposed.empty:
    st.success(
        f"No material is exposed: every material with demand in these {days} days covers its supplier lead time.",
        icon=":material/check_circle:",
    )
else:
    chart(
        figures.supply_cover(view.exposed.head(30)),
        view.exposed,
        key="inventory_exposure_chart",
        file_name="stockout_exposure.csv",
    )
    if len(view.exposed) > 30:
        st.caption(f"The 30 least covered of {len(view.exposed)} exposed materials; the CSV has them all.")

# --- per material --------------------------------------------------------------------------
st.subheader("Materials by plant")
types = sorted(view.materials["material_type"].unique())
chosen = st.multiselect(
    "Material types",
    types,
    key="inventory_material_types",
    placeholder="All types",
    format_func=lambda t: t.replace("_", " "),
)
shown = view.materials if not chosen else view.materials[view.materials["material_type"].isin(chosen)]
shown = shown.sort_values(["exposed", "material_dos"], ascending=[False, True], na_position="last")
table(
    shown,
    key="inventory_materials",
    file_name="materials_by_plant.csv",
    column_config={
        "plant": st.column_config.TextColumn("Plant"),
        "material_name": st.column_config.TextColumn("Material"),
        "material_type": st.column_config.TextColumn("Type"),
        "local_code": st.column_config.TextColumn("Plant's code"),
        "on_hand": st.column_config.NumberColumn("On hand", format="%.1f"),
        "unit": st.column_config.TextColumn("Unit"),
        "counted_day": st.column_config.DateColumn("Counted on", help="plant-local day of the latest stock count"),
        "avg_daily_demand": st.column_config.NumberColumn(
            "Avg daily demand", format="%.1f", help="demand in the window / its calendar days"
        ),
        "material_dos_text": st.column_config.TextColumn(
            "Days of supply (d)", help=kpis.OPERATIONS_KPI_CATALOG["material_dos"][2]
        ),
        "lead_time_days": st.column_config.NumberColumn("Lead time (d)", format="%.0f d"),
        "supplier_name": st.column_config.TextColumn("Supplier"),
        "status": st.column_config.TextColumn("Status"),
    },
    empty_message="No material of these types.",
)

if view.material_id and not view.history.empty:
    unit = view.materials["unit"].iloc[0]
    st.markdown("**This material over the window, per plant**")
    chart(
        figures.material_history(view.history, unit),
        view.history,
        key="inventory_material_history",
        file_name=f"material_{view.material_id}_history.csv",
    )

# --- spare parts --------------------------------------------------------------------------
st.subheader("Spare parts availability by asset class")
st.caption("A spare part is available when at least one unit is on hand at its latest count.")
table(
    view.spares,
    key="inventory_spares",
    file_name="spare_parts_by_asset_class.csv",
    column_config={
        "plant": st.column_config.TextColumn("Plant"),
        "asset_class": st.column_config.TextColumn("Asset class"),
        "stocked": st.column_config.NumberColumn("Parts stocked", format="%d"),
        "in_stock": st.column_config.NumberColumn("Available", format="%d"),
        "below_safety": st.column_config.NumberColumn("Below safety stock", format="%d"),
        **kpi_column_config(("spare_availability",)),
    },
    empty_message="No spare part with a recent stock count at these plants.",
)

# --- suppliers ------------------------------------------------------------------------------
st.subheader("Suppliers: on-time delivery and lateness")
st.caption(
    f"Purchase orders received in the window; on time when received no later than "
    f"{kpis.DELIVERY_TOLERANCE_DAYS} day after the promised day."
)
sup_col, late_col = st.columns([3, 2])
with sup_col:
    table(
        view.suppliers,
        key="inventory_suppliers",
        file_name="supplier_on_time.csv",
        column_config={
            "supplier_name": st.column_config.TextColumn("Supplier"),
            "received": st.column_config.NumberColumn("Received", format="%d"),
            "on_time": st.column_config.NumberColumn("On time", format="%d"),
            "supplier_otd_text": st.column_config.TextColumn(
                "On-time delivery (%)", help=kpis.KPI_CATALOG["supplier_otd"][2]
            ),
            "mean_lateness_days": st.column_config.NumberColumn(
                "Mean lateness (d)", format="%+.1f d", help="received - promised; negative is early"
            ),
        },
        empty_message=f"No purchase order received in these {days} days.",
    )
with late_col:
    chart(
        figures.lateness_histogram(
            view.lateness, "lateness_days", "received", "Days after the promised day", "on_time"
        ),
        view.lateness,
        key="inventory_lateness_chart",
        file_name="delivery_lateness.csv",
        empty_message=f"No purchase order received in these {days} days.",
    )

# --- shared materials ---------------------------------------------------------------------
st.subheader("Materials shared across plants")
st.caption(
    "Materials two or more of the selected plants stock, in the material's own unit: where one "
    "plant is exposed, another may hold stock."
)
table(
    view.shared,
    key="inventory_shared",
    file_name="shared_materials.csv",
    column_config={
        "material_name": st.column_config.TextColumn("Material"),
        "material_type": st.column_config.TextColumn("Type"),
        "unit": st.column_config.TextColumn("Unit"),
        "plants": st.column_config.NumberColumn("Plants", format="%d"),
        "on_hand": st.column_config.NumberColumn("On hand, all plants", format="%.1f"),
        "avg_daily_demand": st.column_config.NumberColumn("Avg daily demand, all plants", format="%.1f"),
        "material_dos_text": st.column_config.TextColumn("Days of supply, all plants (d)"),
        "min_plant_dos_text": st.column_config.TextColumn("Lowest plant days of supply (d)"),
        "exposed_plants": st.column_config.NumberColumn("Plants exposed", format="%d"),
        "plant_list": st.column_config.TextColumn("Plants"),
    },
    empty_message="No material is stocked by more than one of the selected plants.",
)
