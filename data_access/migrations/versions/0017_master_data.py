"""master data onboarding: an asset's model and install date from the plant's asset master

Revision ID: 0017
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("asset") as batch:
        batch.add_column(sa.Column("model", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("install_date", sa.Date(), nullable=True))


def downgrade():
    with op.batch_alter_table("asset") as batch:
        batch.drop_column("install_date")
        batch.drop_column("model")
