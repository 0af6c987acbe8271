"""canonical schema

Revision ID: 0001
Revises:
Create Date: 2026-11-26 05:56:37.233145
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "audit_log",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("at_utc", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=48), nullable=False),
        sa.Column("plant_id", sa.String(length=32), nullable=True),
        sa.Column("entity", sa.String(length=32), nullable=True),
        sa.Column("entity_id", sa.String(length=64), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("row_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq"),
    )
    op.create_table(
        "downtime_reason",
        sa.Column("reason_code", sa.String(length=32), nullable=False),
        sa.Column("category", sa.String(length=24), nullable=False),
        sa.Column("is_failure", sa.Boolean(), nullable=False),
        sa.Column("description", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("reason_code"),
    )
    op.create_table(
        "material",
        sa.Column("material_id", sa.String(length=48), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("material_type", sa.String(length=16), nullable=False),
        sa.Column("unit", sa.String(length=8), nullable=False),
        sa.Column("unit_cost", sa.Float(), nullable=False),
        sa.Column("asset_class", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("material_id"),
    )
    op.create_table(
        "model_version",
        sa.Column("model_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("model_name", sa.String(length=64), nullable=False),
        sa.Column("version", sa.String(length=32), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("artifact", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("trained_utc", sa.DateTime(timezone=True), nullable=False),
        sa.Column("approved_by", sa.String(length=64), nullable=True),
        sa.Column("approved_utc", sa.DateTime(timezone=True), nullable=True),
        sa.Column("approval_reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("model_id"),
        sa.UniqueConstraint("model_name", "version", name="uq_model_version_name_version"),
    )
    op.create_table(
        "region",
        sa.Column("region_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("region_id"),
    )
    op.create_table(
        "scenario",
        sa.Column("scenario_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("owner", sa.String(length=64), nullable=False),
        sa.Column("plant_ids", sa.JSON(), nullable=False),
        sa.Column("levers", sa.JSON(), nullable=False),
        sa.Column("results", sa.JSON(), nullable=True),
        sa.Column("data_version", sa.String(length=64), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_utc", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("scenario_id"),
    )
    op.create_table(
        "supplier",
        sa.Column("supplier_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.PrimaryKeyConstraint("supplier_id"),
    )
    op.create_table(
        "bom",
        sa.Column("product_id", sa.String(length=48), nullable=False),
        sa.Column("material_id", sa.String(length=48), nullable=False),
        sa.Column("qty_per_unit", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["material_id"],
            ["material.material_id"],
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["material.material_id"],
        ),
        sa.PrimaryKeyConstraint("product_id", "material_id"),
    )
    op.create_table(
        "plant",
        sa.Column("plant_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("region_id", sa.String(length=32), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("data_maturity", sa.String(length=16), nullable=False),
        sa.Column("maintenance_workflow", sa.String(length=32), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.ForeignKeyConstraint(
            ["region_id"],
            ["region.region_id"],
        ),
        sa.PrimaryKeyConstraint("plant_id"),
    )
    op.create_table(
        "demand_daily",
        sa.Column("plant_id", sa.String(length=32), nullable=False),
        sa.Column("material_id", sa.String(length=48), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("qty", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["material_id"],
            ["material.material_id"],
        ),
        sa.ForeignKeyConstraint(
            ["plant_id"],
            ["plant.plant_id"],
        ),
        sa.PrimaryKeyConstraint("plant_id", "material_id", "day"),
    )
    op.create_table(
        "feed_status",
        sa.Column("plant_id", sa.String(length=32), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("last_received_utc", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expected_cadence_h", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["plant_id"],
            ["plant.plant_id"],
        ),
        sa.PrimaryKeyConstraint("plant_id", "source"),
    )
    op.create_table(
        "forecast",
        sa.Column("plant_id", sa.String(length=32), nullable=False),
        sa.Column("metric", sa.String(length=32), nullable=False),
        sa.Column("run_id", sa.String(length=32), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("model", sa.String(length=32), nullable=False),
        sa.Column("yhat", sa.Float(), nullable=False),
        sa.Column("yhat_lower", sa.Float(), nullable=True),
        sa.Column("yhat_upper", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["plant_id"],
            ["plant.plant_id"],
        ),
        sa.PrimaryKeyConstraint("plant_id", "metric", "run_id", "day"),
    )
    op.create_table(
        "inventory_snapshot",
        sa.Column("plant_id", sa.String(length=32), nullable=False),
        sa.Column("material_id", sa.String(length=48), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("on_hand", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["material_id"],
            ["material.material_id"],
        ),
        sa.ForeignKeyConstraint(
            ["plant_id"],
            ["plant.plant_id"],
        ),
        sa.PrimaryKeyConstraint("plant_id", "material_id", "day"),
    )
    op.create_table(
        "line",
        sa.Column("line_id", sa.String(length=48), nullable=False),
        sa.Column("plant_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("line_type", sa.String(length=32), nullable=False),
        sa.Column("local_code", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["plant_id"],
            ["plant.plant_id"],
        ),
        sa.PrimaryKeyConstraint("line_id"),
    )
    with op.batch_alter_table("line", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_line_plant_id"), ["plant_id"], unique=False)

    op.create_table(
        "mapping",
        sa.Column("mapping_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("plant_id", sa.String(length=32), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("spec", sa.JSON(), nullable=False),
        sa.Column("created_utc", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["plant_id"],
            ["plant.plant_id"],
        ),
        sa.PrimaryKeyConstraint("mapping_id"),
        sa.UniqueConstraint("plant_id", "source", "version", name="uq_mapping_plant_source_version"),
    )
    op.create_table(
        "mart_plant_daily",
        sa.Column("plant_id", sa.String(length=32), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("week_start", sa.Date(), nullable=False),
        sa.Column("planned_busy_s", sa.Float(), nullable=False),
        sa.Column("run_s", sa.Float(), nullable=False),
        sa.Column("ideal_produced_s", sa.Float(), nullable=False),
        sa.Column("ideal_good_s", sa.Float(), nullable=False),
        sa.Column("produced_qty", sa.Float(), nullable=False),
        sa.Column("good_qty", sa.Float(), nullable=False),
        sa.Column("unplanned_downtime_s", sa.Float(), nullable=False),
        sa.Column("planned_downtime_s", sa.Float(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("restoration_s", sa.Float(), nullable=False),
        sa.Column("orders_due", sa.Integer(), nullable=False),
        sa.Column("orders_on_time", sa.Integer(), nullable=False),
        sa.Column("scheduled_qty", sa.Float(), nullable=False),
        sa.Column("actual_qty", sa.Float(), nullable=False),
        sa.Column("po_received", sa.Integer(), nullable=False),
        sa.Column("po_on_time", sa.Integer(), nullable=False),
        sa.Column("demand_value", sa.Float(), nullable=False),
        sa.Column("inventory_value", sa.Float(), nullable=False),
        sa.Column("covered_demand_value", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["plant_id"],
            ["plant.plant_id"],
        ),
        sa.PrimaryKeyConstraint("plant_id", "day"),
    )
    with op.batch_alter_table("mart_plant_daily", schema=None) as batch_op:
        batch_op.create_index("ix_mart_plant_daily_day", ["day"], unique=False)

    op.create_table(
        "model_metric",
        sa.Column("model_id", sa.Integer(), nullable=False),
        sa.Column("plant_id", sa.String(length=32), nullable=False),
        sa.Column("metric", sa.String(length=32), nullable=False),
        sa.Column("measured_utc", sa.DateTime(timezone=True), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["model_id"],
            ["model_version.model_id"],
        ),
        sa.ForeignKeyConstraint(
            ["plant_id"],
            ["plant.plant_id"],
        ),
        sa.PrimaryKeyConstraint("model_id", "plant_id", "metric", "measured_utc"),
    )
    op.create_table(
        "plant_material",
        sa.Column("plant_id", sa.String(length=32), nullable=False),
        sa.Column("material_id", sa.String(length=48), nullable=False),
        sa.Column("local_code", sa.String(length=64), nullable=False),
        sa.Column("supplier_id", sa.String(length=32), nullable=True),
        sa.Column("lead_time_days", sa.Float(), nullable=True),
        sa.Column("safety_stock", sa.Float(), nullable=False),
        sa.Column("reorder_point", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["material_id"],
            ["material.material_id"],
        ),
        sa.ForeignKeyConstraint(
            ["plant_id"],
            ["plant.plant_id"],
        ),
        sa.ForeignKeyConstraint(
            ["supplier_id"],
            ["supplier.supplier_id"],
        ),
        sa.PrimaryKeyConstraint("plant_id", "material_id"),
    )
    op.create_table(
        "plant_policy",
        sa.Column("policy_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("plant_id", sa.String(length=32), nullable=True),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.Column("updated_utc", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["plant_id"],
            ["plant.plant_id"],
        ),
        sa.PrimaryKeyConstraint("policy_id"),
        sa.UniqueConstraint("plant_id", "key", name="uq_plant_policy_plant_key"),
    )
    op.create_table(
        "purchase_order",
        sa.Column("po_id", sa.String(length=48), nullable=False),
        sa.Column("plant_id", sa.String(length=32), nullable=False),
        sa.Column("material_id", sa.String(length=48), nullable=False),
        sa.Column("supplier_id", sa.String(length=32), nullable=False),
        sa.Column("qty", sa.Float(), nullable=False),
        sa.Column("ordered_day", sa.Date(), nullable=False),
        sa.Column("promised_day", sa.Date(), nullable=False),
        sa.Column("received_day", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["material_id"],
            ["material.material_id"],
        ),
        sa.ForeignKeyConstraint(
            ["plant_id"],
            ["plant.plant_id"],
        ),
        sa.ForeignKeyConstraint(
            ["supplier_id"],
            ["supplier.supplier_id"],
        ),
        sa.PrimaryKeyConstraint("po_id"),
    )
    with op.batch_alter_table("purchase_order", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_purchase_order_plant_id"), ["plant_id"], unique=False)

    op.create_table(
        "quarantine",
        sa.Column("quarantine_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("plant_id", sa.String(length=32), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("file_name", sa.String(length=260), nullable=False),
        sa.Column("row_number", sa.Integer(), nullable=False),
        sa.Column("raw", sa.JSON(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_utc", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["plant_id"],
            ["plant.plant_id"],
        ),
        sa.PrimaryKeyConstraint("quarantine_id"),
    )
    with op.batch_alter_table("quarantine", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_quarantine_plant_id"), ["plant_id"], unique=False)

    op.create_table(
        "recommendation",
        sa.Column("rec_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("plant_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("subject_id", sa.String(length=64), nullable=False),
        sa.Column("signal_key", sa.String(length=128), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("risk", sa.Float(), nullable=True),
        sa.Column("estimated_cost", sa.Float(), nullable=True),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_utc", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_utc", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_utc", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["plant_id"],
            ["plant.plant_id"],
        ),
        sa.PrimaryKeyConstraint("rec_id"),
        sa.UniqueConstraint("signal_key"),
    )
    with op.batch_alter_table("recommendation", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_recommendation_plant_id"), ["plant_id"], unique=False)

    op.create_table(
        "asset",
        sa.Column("asset_id", sa.String(length=64), nullable=False),
        sa.Column("plant_id", sa.String(length=32), nullable=False),
        sa.Column("line_id", sa.String(length=48), nullable=False),
        sa.Column("asset_class", sa.String(length=32), nullable=False),
        sa.Column("criticality", sa.String(length=1), nullable=False),
        sa.Column("local_code", sa.String(length=64), nullable=False),
        sa.Column("local_name", sa.String(length=100), nullable=False),
        sa.Column("install_year", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["line_id"],
            ["line.line_id"],
        ),
        sa.ForeignKeyConstraint(
            ["plant_id"],
            ["plant.plant_id"],
        ),
        sa.PrimaryKeyConstraint("asset_id"),
    )
    with op.batch_alter_table("asset", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_asset_line_id"), ["line_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_asset_plant_id"), ["plant_id"], unique=False)

    op.create_table(
        "decision",
        sa.Column("decision_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("rec_id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("override_value", sa.JSON(), nullable=True),
        sa.Column("decided_utc", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["rec_id"],
            ["recommendation.rec_id"],
        ),
        sa.PrimaryKeyConstraint("decision_id"),
    )
    with op.batch_alter_table("decision", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_decision_rec_id"), ["rec_id"], unique=False)

    op.create_table(
        "outbox",
        sa.Column("outbox_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("rec_id", sa.Integer(), nullable=False),
        sa.Column("plant_id", sa.String(length=32), nullable=False),
        sa.Column("target", sa.String(length=16), nullable=False),
        sa.Column("request_type", sa.String(length=32), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_utc", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivered_utc", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["plant_id"],
            ["plant.plant_id"],
        ),
        sa.ForeignKeyConstraint(
            ["rec_id"],
            ["recommendation.rec_id"],
        ),
        sa.PrimaryKeyConstraint("outbox_id"),
        sa.UniqueConstraint("rec_id"),
    )
    op.create_table(
        "production_daily",
        sa.Column("line_id", sa.String(length=48), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("plant_id", sa.String(length=32), nullable=False),
        sa.Column("planned_busy_s", sa.Float(), nullable=False),
        sa.Column("run_s", sa.Float(), nullable=False),
        sa.Column("ideal_cycle_s", sa.Float(), nullable=False),
        sa.Column("produced_qty", sa.Float(), nullable=False),
        sa.Column("good_qty", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["line_id"],
            ["line.line_id"],
        ),
        sa.ForeignKeyConstraint(
            ["plant_id"],
            ["plant.plant_id"],
        ),
        sa.PrimaryKeyConstraint("line_id", "day"),
    )
    with op.batch_alter_table("production_daily", schema=None) as batch_op:
        batch_op.create_index("ix_production_daily_plant_day", ["plant_id", "day"], unique=False)

    op.create_table(
        "production_order",
        sa.Column("order_id", sa.String(length=48), nullable=False),
        sa.Column("plant_id", sa.String(length=32), nullable=False),
        sa.Column("line_id", sa.String(length=48), nullable=False),
        sa.Column("product_id", sa.String(length=48), nullable=False),
        sa.Column("qty", sa.Float(), nullable=False),
        sa.Column("due_utc", sa.DateTime(timezone=True), nullable=True),
        sa.Column("due_day", sa.Date(), nullable=True),
        sa.Column("planned_start_utc", sa.DateTime(timezone=True), nullable=False),
        sa.Column("planned_end_utc", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actual_end_utc", sa.DateTime(timezone=True), nullable=True),
        sa.Column("produced_qty", sa.Float(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["line_id"],
            ["line.line_id"],
        ),
        sa.ForeignKeyConstraint(
            ["plant_id"],
            ["plant.plant_id"],
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["material.material_id"],
        ),
        sa.PrimaryKeyConstraint("order_id"),
    )
    with op.batch_alter_table("production_order", schema=None) as batch_op:
        batch_op.create_index("ix_production_order_plant_due", ["plant_id", "due_day"], unique=False)

    op.create_table(
        "asset_health_daily",
        sa.Column("asset_id", sa.String(length=64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("plant_id", sa.String(length=32), nullable=False),
        sa.Column("vibration_mm_s", sa.Float(), nullable=True),
        sa.Column("temperature_c", sa.Float(), nullable=True),
        sa.Column("current_a", sa.Float(), nullable=True),
        sa.Column("run_hours", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["asset_id"],
            ["asset.asset_id"],
        ),
        sa.ForeignKeyConstraint(
            ["plant_id"],
            ["plant.plant_id"],
        ),
        sa.PrimaryKeyConstraint("asset_id", "day"),
    )
    with op.batch_alter_table("asset_health_daily", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_asset_health_daily_plant_id"), ["plant_id"], unique=False)

    op.create_table(
        "downtime_event",
        sa.Column("event_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("plant_id", sa.String(length=32), nullable=False),
        sa.Column("line_id", sa.String(length=48), nullable=False),
        sa.Column("asset_id", sa.String(length=64), nullable=False),
        sa.Column("start_utc", sa.DateTime(timezone=True), nullable=False),
        sa.Column("end_utc", sa.DateTime(timezone=True), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("duration_s", sa.Float(), nullable=False),
        sa.Column("reason_code", sa.String(length=32), nullable=False),
        sa.Column("category", sa.String(length=24), nullable=False),
        sa.Column("is_failure", sa.Boolean(), nullable=False),
        sa.Column("local_reason", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["asset_id"],
            ["asset.asset_id"],
        ),
        sa.ForeignKeyConstraint(
            ["line_id"],
            ["line.line_id"],
        ),
        sa.ForeignKeyConstraint(
            ["plant_id"],
            ["plant.plant_id"],
        ),
        sa.ForeignKeyConstraint(
            ["reason_code"],
            ["downtime_reason.reason_code"],
        ),
        sa.PrimaryKeyConstraint("event_id"),
    )
    with op.batch_alter_table("downtime_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_downtime_event_asset_id"), ["asset_id"], unique=False)
        batch_op.create_index("ix_downtime_event_plant_day", ["plant_id", "day"], unique=False)

    op.create_table(
        "work_order",
        sa.Column("wo_id", sa.String(length=48), nullable=False),
        sa.Column("plant_id", sa.String(length=32), nullable=False),
        sa.Column("asset_id", sa.String(length=64), nullable=False),
        sa.Column("wo_type", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_utc", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_utc", sa.DateTime(timezone=True), nullable=True),
        sa.Column("local_code", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["asset_id"],
            ["asset.asset_id"],
        ),
        sa.ForeignKeyConstraint(
            ["plant_id"],
            ["plant.plant_id"],
        ),
        sa.PrimaryKeyConstraint("wo_id"),
    )
    with op.batch_alter_table("work_order", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_work_order_plant_id"), ["plant_id"], unique=False)


def downgrade():
    with op.batch_alter_table("work_order", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_work_order_plant_id"))

    op.drop_table("work_order")
    with op.batch_alter_table("downtime_event", schema=None) as batch_op:
        batch_op.drop_index("ix_downtime_event_plant_day")
        batch_op.drop_index(batch_op.f("ix_downtime_event_asset_id"))

    op.drop_table("downtime_event")
    with op.batch_alter_table("asset_health_daily", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_asset_health_daily_plant_id"))

    op.drop_table("asset_health_daily")
    with op.batch_alter_table("production_order", schema=None) as batch_op:
        batch_op.drop_index("ix_production_order_plant_due")

    op.drop_table("production_order")
    with op.batch_alter_table("production_daily", schema=None) as batch_op:
        batch_op.drop_index("ix_production_daily_plant_day")

    op.drop_table("production_daily")
    op.drop_table("outbox")
    with op.batch_alter_table("decision", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_decision_rec_id"))

    op.drop_table("decision")
    with op.batch_alter_table("asset", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_asset_plant_id"))
        batch_op.drop_index(batch_op.f("ix_asset_line_id"))

    op.drop_table("asset")
    with op.batch_alter_table("recommendation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_recommendation_plant_id"))

    op.drop_table("recommendation")
    with op.batch_alter_table("quarantine", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_quarantine_plant_id"))

    op.drop_table("quarantine")
    with op.batch_alter_table("purchase_order", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_purchase_order_plant_id"))

    op.drop_table("purchase_order")
    op.drop_table("plant_policy")
    op.drop_table("plant_material")
    op.drop_table("model_metric")
    with op.batch_alter_table("mart_plant_daily", schema=None) as batch_op:
        batch_op.drop_index("ix_mart_plant_daily_day")

    op.drop_table("mart_plant_daily")
    op.drop_table("mapping")
    with op.batch_alter_table("line", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_line_plant_id"))

    op.drop_table("line")
    op.drop_table("inventory_snapshot")
    op.drop_table("forecast")
    op.drop_table("feed_status")
    op.drop_table("demand_daily")
    op.drop_table("plant")
    op.drop_table("bom")
    op.drop_table("supplier")
    op.drop_table("scenario")
    op.drop_table("region")
    op.drop_table("model_version")
    op.drop_table("material")
    op.drop_table("downtime_reason")
    op.drop_table("audit_log")
