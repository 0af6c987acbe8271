"""Marts: daily KPI components refreshed after every load (data_access.marts); pages read these."""

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
)

from data_access.schema.base import metadata

mart_plant_daily = Table(
    "mart_plant_daily",
    metadata,
    Column("plant_id", ForeignKey("plant.plant_id"), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("week_start", Date, nullable=False),  # Monday of the plant-local ISO week
    Column("planned_busy_s", Float, nullable=False, default=0.0),
    Column("run_s", Float, nullable=False, default=0.0),
    Column("ideal_produced_s", Float, nullable=False, default=0.0),  # sum(ideal cycle x produced)
    Column("ideal_good_s", Float, nullable=False, default=0.0),  # sum(ideal cycle x good)
    Column("produced_qty", Float, nullable=False, default=0.0),
    Column("good_qty", Float, nullable=False, default=0.0),
    Column("unplanned_downtime_s", Float, nullable=False, default=0.0),
    Column("planned_downtime_s", Float, nullable=False, default=0.0),
    Column("failures", Integer, nullable=False, default=0),
    Column("restoration_s", Float, nullable=False, default=0.0),
    Column("orders_due", Integer, nullable=False, default=0),
    Column("orders_on_time", Integer, nullable=False, default=0),
    Column("scheduled_qty", Float, nullable=False, default=0.0),
    Column("actual_qty", Float, nullable=False, default=0.0),
    Column("po_received", Integer, nullable=False, default=0),
    Column("po_on_time", Integer, nullable=False, default=0),
    # Inventory and consumption of raw and packaging materials, at the network-wide unit cost:
    Column("demand_value", Float, nullable=False, default=0.0),  # sum(consumed qty x unit cost)
    Column("inventory_value", Float, nullable=False, default=0.0),  # on-hand value, carried
    # forward from the latest snapshot; 0 before the first one
    Column("covered_demand_value", Float, nullable=False, default=0.0),  # demand_value on days
    # with a known on-hand value, the denominator of days of supply
    Index("ix_mart_plant_daily_day", "day"),
)

# What cross-plant operations (issue 3) adds; migration 0003. See docs/kpis.md. Refreshed by
# data_access.marts.refresh in the same transaction as mart_plant_daily, over the same
# plant-local days (each plant's first to last production day), so their sums agree with it.
# Their rows are bounded by lines, assets, reasons and days, not by how many events a plant logs.
# Derived tables without foreign keys: deleting a network's facts never trips on them, and a
# refresh of every plant rebuilds them whole (rows of plants no longer present go too).
# Their keys start with the day, and SQLite stores them clustered by it (WITHOUT ROWID), so a
# network-wide window reads one contiguous range; a plant's window uses (plant_id, day).


mart_line_daily = Table(
    "mart_line_daily",
    metadata,
    Column("line_id", String(48), nullable=False),
    Column("day", Date, nullable=False),  # plant-local
    Column("plant_id", String(32), nullable=False),
    Column("week_start", Date, nullable=False),  # Monday of the plant-local ISO week
    Column("month_start", Date, nullable=False),  # first day of the plant-local month
    Column("planned_busy_s", Float, nullable=False, default=0.0),
    Column("run_s", Float, nullable=False, default=0.0),
    Column("ideal_produced_s", Float, nullable=False, default=0.0),
    Column("ideal_good_s", Float, nullable=False, default=0.0),
    Column("produced_qty", Float, nullable=False, default=0.0),
    Column("good_qty", Float, nullable=False, default=0.0),
    Column("unplanned_downtime_s", Float, nullable=False, default=0.0),
    Column("planned_downtime_s", Float, nullable=False, default=0.0),
    Column("failures", Integer, nullable=False, default=0),
    Column("restoration_s", Float, nullable=False, default=0.0),
    Column("orders_due", Integer, nullable=False, default=0),
    Column("orders_on_time", Integer, nullable=False, default=0),
    Column("scheduled_qty", Float, nullable=False, default=0.0),
    Column("actual_qty", Float, nullable=False, default=0.0),
    Index("ix_mart_line_daily_plant_day", "plant_id", "day"),
    PrimaryKeyConstraint("day", "line_id"),
    sqlite_with_rowid=False,
)

# Downtime per asset, plant-local day (of the event's start), canonical reason and the
# plant's own reason text: Pareto, worst assets, MTBF/MTTR per asset and class, local codes.
mart_downtime_daily = Table(
    "mart_downtime_daily",
    metadata,
    Column("asset_id", String(64), nullable=False),
    Column("day", Date, nullable=False),
    Column("reason_code", String(32), nullable=False),
    Column("local_reason", String(100), nullable=False),
    Column("plant_id", String(32), nullable=False),
    Column("line_id", String(48), nullable=False),
    Column("week_start", Date, nullable=False),
    Column("month_start", Date, nullable=False),
    Column("category", String(24), nullable=False),
    Column("is_failure", Boolean, nullable=False),
    Column("events", Integer, nullable=False, default=0),
    Column("duration_s", Float, nullable=False, default=0.0),
    Index("ix_mart_downtime_daily_plant_day", "plant_id", "day"),
    PrimaryKeyConstraint("day", "asset_id", "reason_code", "local_reason"),
    sqlite_with_rowid=False,
)

# Work orders per asset, plant-local day and type: how many were created and completed that
# day (each on its own day), and the hours the completed ones took. The backlog at the end of
# a day is everything created up to it minus everything completed up to it, so this mart
# covers each plant's whole work-order history, not only its production days.
mart_work_order_daily = Table(
    "mart_work_order_daily",
    metadata,
    Column("asset_id", String(64), nullable=False),
    Column("day", Date, nullable=False),
    Column("wo_type", String(16), nullable=False),  # preventive | corrective | inspection
    Column("plant_id", String(32), nullable=False),
    Column("line_id", String(48), nullable=False),
    Column("created", Integer, nullable=False, default=0),
    Column("completed", Integer, nullable=False, default=0),
    Column("close_s", Float, nullable=False, default=0.0),  # sum(completed - created) of those completed
    Index("ix_mart_work_order_daily_plant_day", "plant_id", "day"),
    PrimaryKeyConstraint("day", "asset_id", "wo_type"),
    sqlite_with_rowid=False,
)

# Purchase orders received per plant, supplier, material, plant-local receipt day and lateness
# in days (received - promised; negative is early), with how many of them were on time.
mart_delivery_daily = Table(
    "mart_delivery_daily",
    metadata,
    Column("plant_id", String(32), nullable=False),
    Column("supplier_id", String(32), nullable=False),
    Column("material_id", String(48), nullable=False),
    Column("day", Date, nullable=False),
    Column("lateness_days", Integer, nullable=False),
    Column("received", Integer, nullable=False, default=0),
    Column("on_time", Integer, nullable=False, default=0),
    Index("ix_mart_delivery_daily_plant_day", "plant_id", "day"),
    PrimaryKeyConstraint("day", "plant_id", "supplier_id", "material_id", "lateness_days"),
    sqlite_with_rowid=False,
)

OPERATIONS_MARTS = (mart_line_daily, mart_downtime_daily, mart_work_order_daily, mart_delivery_daily)

# How far each feed of a plant reaches (first and last plant-local day with a row), written
# with the marts: the marts' calendar is the union of the feeds, and the overview says which
# feed ends before a window does. feed: production | downtime | purchase_orders | demand | inventory.
mart_feed_reach = Table(
    "mart_feed_reach",
    metadata,
    Column("plant_id", String(32), nullable=False),
    Column("feed", String(32), nullable=False),
    Column("first_day", Date, nullable=False),
    Column("last_day", Date, nullable=False),
    PrimaryKeyConstraint("plant_id", "feed"),
)
