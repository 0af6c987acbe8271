"""warm starts of the daily refresh: the chosen model's searched form per forecast series

Revision ID: 0032
Revises: 0031
"""

import sqlalchemy as sa
from alembic import op

revision = "0032"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("forecast_series") as batch:
        batch.add_column(sa.Column("fitted_params", sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table("forecast_series") as batch:
        batch.drop_column("fitted_params")
