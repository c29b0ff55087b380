"""remote monitoring and intraoral scans

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 20:52:58.294219
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ortholens.kit.db

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "scanner_integrations",
        sa.Column("clinic_id", sa.Uuid(), nullable=False),
        sa.Column("scanner_type", sa.String(length=20), nullable=False),
        sa.Column("credentials", sa.Text(), nullable=True),
        sa.Column("last_sync_at", ortholens.kit.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("connected_by_id", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", ortholens.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", ortholens.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["clinic_id"],
            ["clinics.id"],
            name=op.f("fk_scanner_integrations_clinic_id_clinics"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["connected_by_id"],
            ["users.id"],
            name=op.f("fk_scanner_integrations_connected_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scanner_integrations")),
        sa.UniqueConstraint(
            "clinic_id", "scanner_type", name=op.f("uq_scanner_integrations_clinic_id_scanner_type")
        ),
    )
    with op.batch_alter_table("scanner_integrations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_scanner_integrations_clinic_id"), ["clinic_id"], unique=False
        )

    op.create_table(
        "message_threads",
        sa.Column("clinic_id", sa.Uuid(), nullable=False),
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("created_by_id", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", ortholens.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", ortholens.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["clinic_id"],
            ["clinics.id"],
            name=op.f("fk_message_threads_clinic_id_clinics"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_message_threads_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name=op.f("fk_message_threads_patient_id_patients"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message_threads")),
    )
    with op.batch_alter_table("message_threads", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_message_threads_clinic_id"), ["clinic_id"], unique=False
        )
        batch_op.create_index(
            "ix_message_threads_patient_updated", ["patient_id", "updated_at"], unique=False
        )

    op.create_table(
        "push_subscriptions",
        sa.Column("clinic_id", sa.Uuid(), nullable=False),
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("endpoint", sa.String(length=1000), nullable=False),
        sa.Column("p256dh", sa.String(length=200), nullable=False),
        sa.Column("auth", sa.String(length=100), nullable=False),
        sa.Column("user_agent", sa.String(length=300), nullable=True),
        sa.Column("last_sent_at", ortholens.kit.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", ortholens.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", ortholens.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["clinic_id"],
            ["clinics.id"],
            name=op.f("fk_push_subscriptions_clinic_id_clinics"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name=op.f("fk_push_subscriptions_patient_id_patients"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_push_subscriptions")),
        sa.UniqueConstraint("endpoint", name=op.f("uq_push_subscriptions_endpoint")),
    )
    with op.batch_alter_table("push_subscriptions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_push_subscriptions_clinic_id"), ["clinic_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_push_subscriptions_patient_id"), ["patient_id"], unique=False
        )

    op.create_table(
        "ai_tag_suggestions",
        sa.Column("clinic_id", sa.Uuid(), nullable=False),
        sa.Column("scan_session_id", sa.Uuid(), nullable=False),
        sa.Column("provider", sa.String(length=40), nullable=False),
        sa.Column("model", sa.String(length=100), nullable=True),
        sa.Column("overall_tracking", sa.Integer(), nullable=True),
        sa.Column("oral_hygiene", sa.Integer(), nullable=True),
        sa.Column("detail_tags", sa.JSON(), nullable=False),
        sa.Column("confidence", sa.Double(), nullable=True),
        sa.Column("rationale", sa.Text(), nullable=True),
        sa.Column("cannot_judge", sa.Boolean(), nullable=False),
        sa.Column("cannot_judge_reason", sa.Text(), nullable=True),
        sa.Column("dropped_tags", sa.JSON(), nullable=False),
        sa.Column("requested_by_id", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", ortholens.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", ortholens.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["clinic_id"],
            ["clinics.id"],
            name=op.f("fk_ai_tag_suggestions_clinic_id_clinics"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["requested_by_id"],
            ["users.id"],
            name=op.f("fk_ai_tag_suggestions_requested_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["scan_session_id"],
            ["scan_sessions.id"],
            name=op.f("fk_ai_tag_suggestions_scan_session_id_scan_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ai_tag_suggestions")),
    )
    with op.batch_alter_table("ai_tag_suggestions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_ai_tag_suggestions_clinic_id"), ["clinic_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_ai_tag_suggestions_scan_session_id"), ["scan_session_id"], unique=False
        )

    op.create_table(
        "messages",
        sa.Column("clinic_id", sa.Uuid(), nullable=False),
        sa.Column("thread_id", sa.Uuid(), nullable=False),
        sa.Column(
            "sender_type",
            sa.Enum("DOCTOR", "STAFF", "PATIENT", name="sendertype", native_enum=False, length=30),
            nullable=False,
        ),
        sa.Column("sender_user_id", sa.Uuid(), nullable=True),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("read_at", ortholens.kit.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", ortholens.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", ortholens.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["clinic_id"],
            ["clinics.id"],
            name=op.f("fk_messages_clinic_id_clinics"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["sender_user_id"],
            ["users.id"],
            name=op.f("fk_messages_sender_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["thread_id"],
            ["message_threads.id"],
            name=op.f("fk_messages_thread_id_message_threads"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_messages")),
    )
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_messages_clinic_id"), ["clinic_id"], unique=False)
        batch_op.create_index(
            "ix_messages_thread_created", ["thread_id", "created_at"], unique=False
        )

    op.create_table(
        "pending_scans",
        sa.Column("clinic_id", sa.Uuid(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "PENDING",
                "ASSIGNED",
                "DISCARDED",
                name="pendingscanstatus",
                native_enum=False,
                length=30,
            ),
            nullable=False,
        ),
        sa.Column("scan_set_id", sa.Uuid(), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("source_name", sa.String(length=300), nullable=False),
        sa.Column("original_key", sa.String(length=512), nullable=False),
        sa.Column("original_sha256", sa.String(length=64), nullable=False),
        sa.Column("original_size", sa.BigInteger(), nullable=False),
        sa.Column("scan_format", sa.String(length=10), nullable=False),
        sa.Column("scanner_type", sa.String(length=20), nullable=True),
        sa.Column("arch", sa.String(length=10), nullable=True),
        sa.Column("arch_confidence", sa.Double(), nullable=True),
        sa.Column("scanner_metadata", sa.JSON(), nullable=False),
        sa.Column("external_ref", sa.String(length=200), nullable=True),
        sa.Column("imported_by_id", sa.Uuid(), nullable=True),
        sa.Column("resolved_at", ortholens.kit.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("resolved_by_id", sa.Uuid(), nullable=True),
        sa.Column("image_id", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", ortholens.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", ortholens.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["clinic_id"],
            ["clinics.id"],
            name=op.f("fk_pending_scans_clinic_id_clinics"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["image_id"],
            ["images.id"],
            name=op.f("fk_pending_scans_image_id_images"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["imported_by_id"],
            ["users.id"],
            name=op.f("fk_pending_scans_imported_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["resolved_by_id"],
            ["users.id"],
            name=op.f("fk_pending_scans_resolved_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pending_scans")),
        sa.UniqueConstraint("original_key", name=op.f("uq_pending_scans_original_key")),
    )
    with op.batch_alter_table("pending_scans", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pending_scans_clinic_id"), ["clinic_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_pending_scans_external_ref"), ["external_ref"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_pending_scans_scan_set_id"), ["scan_set_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_pending_scans_status"), ["status"], unique=False)

    op.create_table(
        "tag_sets",
        sa.Column("clinic_id", sa.Uuid(), nullable=False),
        sa.Column("scan_session_id", sa.Uuid(), nullable=False),
        sa.Column("overall_tracking", sa.Integer(), nullable=False),
        sa.Column("oral_hygiene", sa.Integer(), nullable=False),
        sa.Column("detail_tags", sa.JSON(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("ai_suggested", sa.Boolean(), nullable=False),
        sa.Column("ai_overridden", sa.Boolean(), nullable=False),
        sa.Column("ai_suggestion_id", sa.Uuid(), nullable=True),
        sa.Column("reviewed_by_id", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", ortholens.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", ortholens.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["ai_suggestion_id"],
            ["ai_tag_suggestions.id"],
            name=op.f("fk_tag_sets_ai_suggestion_id_ai_tag_suggestions"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["clinic_id"],
            ["clinics.id"],
            name=op.f("fk_tag_sets_clinic_id_clinics"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["reviewed_by_id"],
            ["users.id"],
            name=op.f("fk_tag_sets_reviewed_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["scan_session_id"],
            ["scan_sessions.id"],
            name=op.f("fk_tag_sets_scan_session_id_scan_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tag_sets")),
        sa.UniqueConstraint("scan_session_id", name=op.f("uq_tag_sets_scan_session_id")),
    )
    with op.batch_alter_table("tag_sets", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_tag_sets_clinic_id"), ["clinic_id"], unique=False)

    with op.batch_alter_table("images", schema=None) as batch_op:
        batch_op.add_column(sa.Column("scanner_type", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("scan_format", sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column("scan_quality", sa.Double(), nullable=True))
        batch_op.add_column(sa.Column("scan_set_id", sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column("bite_upper_id", sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column("bite_lower_id", sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column("external_ref", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("treatment_id", sa.Uuid(), nullable=True))
        batch_op.create_index(batch_op.f("ix_images_external_ref"), ["external_ref"], unique=False)
        batch_op.create_index(batch_op.f("ix_images_scan_set_id"), ["scan_set_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_images_bite_upper_id_images"),
            "images",
            ["bite_upper_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_images_bite_lower_id_images"),
            "images",
            ["bite_lower_id"],
            ["id"],
            ondelete="SET NULL",
        )

    with op.batch_alter_table("patients", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "last_scan_reminder_at", ortholens.kit.db.UTCDateTime(timezone=True), nullable=True
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("patients", schema=None) as batch_op:
        batch_op.drop_column("last_scan_reminder_at")

    with op.batch_alter_table("images", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_images_bite_lower_id_images"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("fk_images_bite_upper_id_images"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_images_scan_set_id"))
        batch_op.drop_index(batch_op.f("ix_images_external_ref"))
        batch_op.drop_column("treatment_id")
        batch_op.drop_column("external_ref")
        batch_op.drop_column("bite_lower_id")
        batch_op.drop_column("bite_upper_id")
        batch_op.drop_column("scan_set_id")
        batch_op.drop_column("scan_quality")
        batch_op.drop_column("scan_format")
        batch_op.drop_column("scanner_type")

    with op.batch_alter_table("tag_sets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tag_sets_clinic_id"))

    op.drop_table("tag_sets")
    with op.batch_alter_table("pending_scans", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pending_scans_status"))
        batch_op.drop_index(batch_op.f("ix_pending_scans_scan_set_id"))
        batch_op.drop_index(batch_op.f("ix_pending_scans_external_ref"))
        batch_op.drop_index(batch_op.f("ix_pending_scans_clinic_id"))

    op.drop_table("pending_scans")
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_index("ix_messages_thread_created")
        batch_op.drop_index(batch_op.f("ix_messages_clinic_id"))

    op.drop_table("messages")
    with op.batch_alter_table("ai_tag_suggestions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ai_tag_suggestions_scan_session_id"))
        batch_op.drop_index(batch_op.f("ix_ai_tag_suggestions_clinic_id"))

    op.drop_table("ai_tag_suggestions")
    with op.batch_alter_table("push_subscriptions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_push_subscriptions_patient_id"))
        batch_op.drop_index(batch_op.f("ix_push_subscriptions_clinic_id"))

    op.drop_table("push_subscriptions")
    with op.batch_alter_table("message_threads", schema=None) as batch_op:
        batch_op.drop_index("ix_message_threads_patient_updated")
        batch_op.drop_index(batch_op.f("ix_message_threads_clinic_id"))

    op.drop_table("message_threads")
    with op.batch_alter_table("scanner_integrations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_scanner_integrations_clinic_id"))

    op.drop_table("scanner_integrations")
