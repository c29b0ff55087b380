"""indexes in the order of every list (keyset pages without a sort)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 02:45:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("images", schema=None) as batch_op:
        batch_op.create_index(
            "ix_images_patient_created", ["patient_id", "created_at", "id"], unique=False
        )
    with op.batch_alter_table("scan_sessions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_scan_sessions_clinic_status_created",
            ["clinic_id", "status", "created_at", "id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_scan_sessions_clinic_created", ["clinic_id", "created_at", "id"], unique=False
        )
    # The two indexes that lacked the id tiebreaker are rebuilt with it.
    with op.batch_alter_table("message_threads", schema=None) as batch_op:
        batch_op.drop_index("ix_message_threads_patient_updated")
        batch_op.create_index(
            "ix_message_threads_patient_updated", ["patient_id", "updated_at", "id"], unique=False
        )
        batch_op.create_index(
            "ix_message_threads_clinic_updated", ["clinic_id", "updated_at", "id"], unique=False
        )
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_index("ix_messages_thread_created")
        batch_op.create_index(
            "ix_messages_thread_created", ["thread_id", "created_at", "id"], unique=False
        )
        batch_op.create_index(
            "ix_messages_clinic_created", ["clinic_id", "created_at", "id"], unique=False
        )
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.create_index("ix_audit_events_clinic_seq", ["clinic_id", "seq"], unique=False)
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.create_index(
            "ix_jobs_status_created", ["status", "created_at", "id"], unique=False
        )
        batch_op.create_index("ix_jobs_created", ["created_at", "id"], unique=False)
    # An expression index: created directly (batch mode copies tables, which it need not do here).
    op.create_index(
        "ix_patients_clinic_name",
        "patients",
        [
            "clinic_id",
            sa.text("lower(last_name)"),
            sa.text("lower(first_name)"),
            "id",
        ],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_patients_clinic_name", table_name="patients")
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_index("ix_jobs_created")
        batch_op.drop_index("ix_jobs_status_created")
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_events_clinic_seq")
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_index("ix_messages_clinic_created")
        batch_op.drop_index("ix_messages_thread_created")
        batch_op.create_index(
            "ix_messages_thread_created", ["thread_id", "created_at"], unique=False
        )
    with op.batch_alter_table("message_threads", schema=None) as batch_op:
        batch_op.drop_index("ix_message_threads_clinic_updated")
        batch_op.drop_index("ix_message_threads_patient_updated")
        batch_op.create_index(
            "ix_message_threads_patient_updated", ["patient_id", "updated_at"], unique=False
        )
    with op.batch_alter_table("scan_sessions", schema=None) as batch_op:
        batch_op.drop_index("ix_scan_sessions_clinic_created")
        batch_op.drop_index("ix_scan_sessions_clinic_status_created")
    with op.batch_alter_table("images", schema=None) as batch_op:
        batch_op.drop_index("ix_images_patient_created")
