"""decisions workflow: recommendation routing, SLA and source; decision version guard

Revision ID: 0005
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("recommendation") as batch:
        batch.add_column(sa.Column("source", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("routing", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("sla_due_utc", sa.DateTime(timezone=True), nullable=True))
        batch.create_index("ix_recommendation_state_sla", ["state", "sla_due_utc"])
        batch.create_index("ix_recommendation_plant_created", ["plant_id", "created_utc"])
    with op.batch_alter_table("decision") as batch:
        batch.add_column(sa.Column("rec_version", sa.Integer(), nullable=True))
        batch.create_unique_constraint("uq_decision_rec_version", ["rec_id", "rec_version"])
        batch.create_index("ix_decision_decided", ["decided_utc"])
    op.create_index("ix_audit_log_plant_at", "audit_log", ["plant_id", "at_utc"])


def downgrade():
    op.drop_index("ix_audit_log_plant_at", table_name="audit_log")
    with op.batch_alter_table("decision") as batch:
        batch.drop_index("ix_decision_decided")
        batch.drop_constraint("uq_decision_rec_version", type_="unique")
        batch.drop_column("rec_version")
    with op.batch_alter_table("recommendation") as batch:
        batch.drop_index("ix_recommendation_plant_created")
        batch.drop_index("ix_recommendation_state_sla")
        batch.drop_column("sla_due_utc")
        batch.drop_column("routing")
        batch.drop_column("source")
