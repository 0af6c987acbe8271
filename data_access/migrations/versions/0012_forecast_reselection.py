"""incremental forecast refresh: when and why each series' model was last reselected

Revision ID: 0012
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("forecast_series") as batch:
        batch.add_column(sa.Column("reselected_day", sa.Date(), nullable=True))
        batch.add_column(sa.Column("reselect_reason", sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table("forecast_series") as batch:
        batch.drop_column("reselect_reason")
        batch.drop_column("reselected_day")
