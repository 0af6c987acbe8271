"""Join the branches of the third round into one head (no change).

Revision ID: 0031
Revises: 0012, 0013, 0014, 0015, 0018, 0020
"""

revision = "0031"
down_revision = ("0012", "0013", "0014", "0015", "0018", "0020")
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
