"""cross-plant operations: line-day, downtime, work-order and delivery marts

Revision ID: 0003
Revises: 0001

The marts start empty. A warehouse that already holds plants gets them filled by the next
load's mart refresh, or at once with `python -m data_access.marts`; until then the
operations pages say so instead of showing empty charts.
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0001"
branch_labels = None
depends_on = None


def _float(name):
    return sa.Column(name, sa.Float(), nullable=False)


def _int(name):
    return sa.Column(name, sa.Integer(), nullable=False)


def upgrade():
    op.create_table(
        "mart_line_daily",
        sa.Column("line_id", sa.String(length=48), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("plant_id", sa.String(length=32), nullable=False),
        sa.Column("week_start", sa.Date(), nullable=False),
        sa.Column("month_start", sa.Date(), nullable=False),
        _float("planned_busy_s"),
        _float("run_s"),
        _float("ideal_produced_s"),
        _float("ideal_good_s"),
        _float("produced_qty"),
        _float("good_qty"),
        _float("unplanned_downtime_s"),
        _float("planned_downtime_s"),
        _int("failures"),
        _float("restoration_s"),
        _int("orders_due"),
        _int("orders_on_time"),
        _float("scheduled_qty"),
        _float("actual_qty"),
        sa.PrimaryKeyConstraint("day", "line_id"),
        sqlite_with_rowid=False,  # clustered by day: a network-wide window is one range
    )
    op.create_index("ix_mart_line_daily_plant_day", "mart_line_daily", ["plant_id", "day"])

    op.create_table(
        "mart_downtime_daily",
        sa.Column("asset_id", sa.String(length=64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("reason_code", sa.String(length=32), nullable=False),
        sa.Column("local_reason", sa.String(length=100), nullable=False),
        sa.Column("plant_id", sa.String(length=32), nullable=False),
        sa.Column("line_id", sa.String(length=48), nullable=False),
        sa.Column("week_start", sa.Date(), nullable=False),
        sa.Column("month_start", sa.Date(), nullable=False),
        sa.Column("category", sa.String(length=24), nullable=False),
        sa.Column("is_failure", sa.Boolean(), nullable=False),
        _int("events"),
        _float("duration_s"),
        sa.PrimaryKeyConstraint("day", "asset_id", "reason_code", "local_reason"),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_mart_downtime_daily_plant_day", "mart_downtime_daily", ["plant_id", "day"])

    op.create_table(
        "mart_work_order_daily",
        sa.Column("asset_id", sa.String(length=64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("wo_type", sa.String(length=16), nullable=False),
        sa.Column("plant_id", sa.String(length=32), nullable=False),
        sa.Column("line_id", sa.String(length=48), nullable=False),
        _int("created"),
        _int("completed"),
        _float("close_s"),
        sa.PrimaryKeyConstraint("day", "asset_id", "wo_type"),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_mart_work_order_daily_plant_day", "mart_work_order_daily", ["plant_id", "day"])

    op.create_table(
        "mart_delivery_daily",
        sa.Column("plant_id", sa.String(length=32), nullable=False),
        sa.Column("supplier_id", sa.String(length=32), nullable=False),
        sa.Column("material_id", sa.String(length=48), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("lateness_days", sa.Integer(), nullable=False),
        _int("received"),
        _int("on_time"),
        sa.PrimaryKeyConstraint("day", "plant_id", "supplier_id", "material_id", "lateness_days"),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_mart_delivery_daily_plant_day", "mart_delivery_daily", ["plant_id", "day"])

    # the facts the operations pages read directly, across plants
    op.create_index("ix_inventory_snapshot_day", "inventory_snapshot", ["day"])
    op.create_index("ix_demand_daily_day", "demand_daily", ["day"])
    op.create_index("ix_production_order_status_due", "production_order", ["status", "due_day"])
    op.create_index("ix_production_order_due_day", "production_order", ["due_day"])


def downgrade():
    for index, table in (
        ("ix_production_order_due_day", "production_order"),
        ("ix_production_order_status_due", "production_order"),
        ("ix_demand_daily_day", "demand_daily"),
        ("ix_inventory_snapshot_day", "inventory_snapshot"),
    ):
        op.drop_index(index, table_name=table)
    for table, index in (
        ("mart_delivery_daily", "ix_mart_delivery_daily_plant_day"),
        ("mart_work_order_daily", "ix_mart_work_order_daily_plant_day"),
        ("mart_downtime_daily", "ix_mart_downtime_daily_plant_day"),
        ("mart_line_daily", "ix_mart_line_daily_plant_day"),
    ):
        op.drop_index(index, table_name=table)
        op.drop_table(table)
