"""scan sessions record when the patient sent them (the review queue holds sent check-ins only)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 04:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ortholens.kit.db

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("scan_sessions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("submitted_at", ortholens.kit.db.UTCDateTime(timezone=True), nullable=True)
        )
    # Check-ins with photos were in the queue before this revision: they count as sent.
    op.execute(
        "UPDATE scan_sessions SET submitted_at = created_at "
        "WHERE image_count > 0 AND submitted_at IS NULL"
    )


def downgrade() -> None:
    with op.batch_alter_table("scan_sessions", schema=None) as batch_op:
        batch_op.drop_column("submitted_at")
