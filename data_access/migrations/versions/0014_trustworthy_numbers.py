"""trustworthy numbers (issue 14): how far each feed of a plant reaches, beside the marts;
model holds (a model version served by the fallback at a plant after drift or lost accuracy);
plan revisions (schedule stability)

Revision ID: 0014
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "mart_feed_reach",
        sa.Column("plant_id", sa.String(length=32), nullable=False),
        sa.Column("feed", sa.String(length=32), nullable=False),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("plant_id", "feed"),
    )
    op.create_table(
        "model_hold",
        sa.Column("hold_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("model_id", sa.Integer(), sa.ForeignKey("model_version.model_id"), nullable=False),
        sa.Column("plant_id", sa.String(length=32), sa.ForeignKey("plant.plant_id"), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("held_utc", sa.DateTime(timezone=True), nullable=False),
        sa.Column("released_utc", sa.DateTime(timezone=True), nullable=True),
        sa.Column("released_by", sa.String(length=64), nullable=True),
        sa.Column("release_reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("hold_id"),
    )
    op.create_index("ix_model_hold_model_plant", "model_hold", ["model_id", "plant_id"])
    op.create_table(
        "plan_revision",
        sa.Column("order_id", sa.String(length=48), nullable=False),
        sa.Column("revised_utc", sa.DateTime(timezone=True), nullable=False),
        sa.Column("plant_id", sa.String(length=32), sa.ForeignKey("plant.plant_id"), nullable=False),
        sa.Column("line_id", sa.String(length=48), nullable=False),
        sa.Column("old_qty", sa.Float(), nullable=False),
        sa.Column("new_qty", sa.Float(), nullable=False),
        sa.Column("old_planned_start_utc", sa.DateTime(timezone=True), nullable=False),
        sa.Column("new_planned_start_utc", sa.DateTime(timezone=True), nullable=False),
        sa.Column("old_due_utc", sa.DateTime(timezone=True), nullable=True),
        sa.Column("new_due_utc", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("order_id", "revised_utc"),
    )


def downgrade():
    op.drop_table("plan_revision")
    op.drop_index("ix_model_hold_model_plant", table_name="model_hold")
    op.drop_table("model_hold")
    op.drop_table("mart_feed_reach")
