"""Facts as the plants deliver them (through the ingest or the sample generator)."""

from sqlalchemy import Boolean, Column, Date, Float, ForeignKey, Index, Integer, String, Table

from data_access.schema.base import metadata, utc_column

production_daily = Table(
    "production_daily",
    metadata,
    Column("line_id", ForeignKey("line.line_id"), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("plant_id", ForeignKey("plant.plant_id"), nullable=False),
    Column("planned_busy_s", Float, nullable=False),
    Column("run_s", Float, nullable=False),
    Column("ideal_cycle_s", Float, nullable=False),  # seconds per unit at rated speed
    Column("produced_qty", Float, nullable=False),
    Column("good_qty", Float, nullable=False),
    Index("ix_production_daily_plant_day", "plant_id", "day"),
)

downtime_event = Table(
    "downtime_event",
    metadata,
    Column("event_id", Integer, primary_key=True, autoincrement=True),
    Column("plant_id", ForeignKey("plant.plant_id"), nullable=False),
    Column("line_id", ForeignKey("line.line_id"), nullable=False),
    Column("asset_id", ForeignKey("asset.asset_id"), nullable=False, index=True),
    utc_column("start_utc", nullable=False),
    utc_column("end_utc", nullable=False),
    Column("day", Date, nullable=False),  # plant-local day of the start
    Column("duration_s", Float, nullable=False),
    Column("reason_code", ForeignKey("downtime_reason.reason_code"), nullable=False),
    Column("category", String(24), nullable=False),
    Column("is_failure", Boolean, nullable=False),
    Column("local_reason", String(100), nullable=False),
    Index("ix_downtime_event_plant_day", "plant_id", "day"),
    # the natural key the ingest looks events up by
    Index("ix_downtime_event_natural_key", "plant_id", "asset_id", "start_utc"),
)

asset_health_daily = Table(
    "asset_health_daily",
    metadata,
    Column("asset_id", ForeignKey("asset.asset_id"), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("plant_id", ForeignKey("plant.plant_id"), nullable=False, index=True),
    Column("vibration_mm_s", Float),
    Column("temperature_c", Float),
    Column("current_a", Float),
    Column("run_hours", Float),
)

work_order = Table(
    "work_order",
    metadata,
    Column("wo_id", String(48), primary_key=True),
    Column("plant_id", ForeignKey("plant.plant_id"), nullable=False, index=True),
    Column("asset_id", ForeignKey("asset.asset_id"), nullable=False),
    Column("wo_type", String(16), nullable=False),  # preventive | corrective | inspection
    Column("status", String(16), nullable=False),  # open | closed
    utc_column("created_utc", nullable=False),
    utc_column("completed_utc"),
    Column("local_code", String(64), nullable=False),
    Index("ix_work_order_plant_local_code", "plant_id", "local_code"),  # the ingest's natural key
)

inventory_snapshot = Table(
    "inventory_snapshot",
    metadata,
    Column("plant_id", ForeignKey("plant.plant_id"), primary_key=True),
    Column("material_id", ForeignKey("material.material_id"), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("on_hand", Float, nullable=False),
    Index("ix_inventory_snapshot_day", "day"),  # network-wide windows of stock counts
)

# Demand for finished goods, consumption for raw, packaging and spare parts. Days with
# no demand may have no row: average daily demand divides by calendar days, not rows.
demand_daily = Table(
    "demand_daily",
    metadata,
    Column("plant_id", ForeignKey("plant.plant_id"), primary_key=True),
    Column("material_id", ForeignKey("material.material_id"), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("qty", Float, nullable=False),
    Index("ix_demand_daily_day", "day"),
)

purchase_order = Table(
    "purchase_order",
    metadata,
    Column("po_id", String(48), primary_key=True),
    Column("plant_id", ForeignKey("plant.plant_id"), nullable=False, index=True),
    Column("material_id", ForeignKey("material.material_id"), nullable=False),
    Column("supplier_id", ForeignKey("supplier.supplier_id"), nullable=False),
    Column("qty", Float, nullable=False),
    Column("ordered_day", Date, nullable=False),
    Column("promised_day", Date, nullable=False),
    Column("received_day", Date),  # null while open
    Column("status", String(16), nullable=False),  # open | received | cancelled
)

production_order = Table(
    "production_order",
    metadata,
    Column("order_id", String(48), primary_key=True),
    Column("plant_id", ForeignKey("plant.plant_id"), nullable=False),
    Column("line_id", ForeignKey("line.line_id"), nullable=False),
    Column("product_id", ForeignKey("material.material_id"), nullable=False),
    Column("qty", Float, nullable=False),
    utc_column("due_utc"),  # some ERPs leave it empty: such orders are not "due"
    Column("due_day", Date),  # plant-local day of due_utc
    utc_column("planned_start_utc", nullable=False),
    utc_column("planned_end_utc", nullable=False),
    utc_column("actual_end_utc"),
    Column("produced_qty", Float, nullable=False, default=0.0),
    Column("status", String(16), nullable=False),  # planned | released | completed | cancelled
    Index("ix_production_order_plant_due", "plant_id", "due_day"),
    Index("ix_production_order_status_due", "status", "due_day"),  # open orders, orders due in a window
    Index("ix_production_order_due_day", "due_day"),
)

feed_status = Table(
    "feed_status",
    metadata,
    Column("plant_id", ForeignKey("plant.plant_id"), primary_key=True),
    Column("source", String(32), primary_key=True),  # production | downtime | health | inventory | ...
    utc_column("last_received_utc"),
    Column("expected_cadence_h", Float, nullable=False),
)

FACT_TABLES = (
    production_daily,
    downtime_event,
    asset_health_daily,
    work_order,
    inventory_snapshot,
    demand_daily,
    purchase_order,
    production_order,
    feed_status,
)

# A change of a production order's plan (quantity, planned start, due time), as the planning
# system recorded it: what schedule stability is measured on (data_access.value, docs/kpis.md).
# order_id names production_order.order_id without a foreign key: a plan may revise an order
# before the warehouse has loaded it. Keyed by order and revision time (natural, so a reload
# of the same plans gives the same rows).
plan_revision = Table(
    "plan_revision",
    metadata,
    Column("order_id", String(48), primary_key=True),
    utc_column("revised_utc", primary_key=True),
    Column("plant_id", ForeignKey("plant.plant_id"), nullable=False),
    Column("line_id", String(48), nullable=False),
    Column("old_qty", Float, nullable=False),
    Column("new_qty", Float, nullable=False),
    utc_column("old_planned_start_utc", nullable=False),
    utc_column("new_planned_start_utc", nullable=False),
    utc_column("old_due_utc"),
    utc_column("new_due_utc"),
)
