"""image deletion requests

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 19:53:22.033583
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ortholens.kit.db

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("images", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "deletion_requested_at", ortholens.kit.db.UTCDateTime(timezone=True), nullable=True
            )
        )
        batch_op.add_column(sa.Column("deletion_requested_by_id", sa.Uuid(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_images_deletion_requested_by_id_users"),
            "users",
            ["deletion_requested_by_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("images", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_images_deletion_requested_by_id_users"), type_="foreignkey"
        )
        batch_op.drop_column("deletion_requested_by_id")
        batch_op.drop_column("deletion_requested_at")
