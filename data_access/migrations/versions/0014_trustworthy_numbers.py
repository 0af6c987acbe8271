"""trustworthy numbers (issue 14): how far each feed of a plant reaches, beside the marts

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


def downgrade():
    op.drop_table("mart_feed_reach")
