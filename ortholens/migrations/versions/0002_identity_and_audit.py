"""identity, sessions, invites, consents, audit

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 18:30:47.135561
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ortholens.kit.db

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_events",
        sa.Column("chain", sa.String(length=50), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("at", ortholens.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("clinic_id", sa.Uuid(), nullable=True),
        sa.Column(
            "actor_type",
            sa.Enum(
                "user",
                "patient",
                "system",
                "anonymous",
                name="actortype",
                native_enum=False,
                length=30,
            ),
            nullable=False,
        ),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("action", sa.String(length=60), nullable=False),
        sa.Column("target_type", sa.String(length=40), nullable=True),
        sa.Column("target_id", sa.Uuid(), nullable=True),
        sa.Column(
            "outcome",
            sa.Enum(
                "success", "denied", "failure", name="auditoutcome", native_enum=False, length=30
            ),
            nullable=False,
        ),
        sa.Column("ip", sa.String(length=45), nullable=True),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
        sa.UniqueConstraint("chain", "seq", name=op.f("uq_audit_events_chain_seq")),
        sa.UniqueConstraint("hash", name=op.f("uq_audit_events_hash")),
    )
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_events_action"), ["action"], unique=False)
        batch_op.create_index("ix_audit_events_clinic_at", ["clinic_id", "at"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_events_target_id"), ["target_id"], unique=False)

    op.create_table(
        "rate_limit_buckets",
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("window_started_at", ortholens.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("blocked_until", ortholens.kit.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", ortholens.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", ortholens.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_rate_limit_buckets")),
    )
    op.create_table(
        "auth_sessions",
        sa.Column(
            "subject_type",
            sa.Enum("staff", "patient", name="subjecttype", native_enum=False, length=30),
            nullable=False,
        ),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("patient_id", sa.Uuid(), nullable=True),
        sa.Column("clinic_id", sa.Uuid(), nullable=True),
        sa.Column("expires_at", ortholens.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", ortholens.kit.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_reason", sa.String(length=50), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", ortholens.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", ortholens.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name=op.f("fk_auth_sessions_patient_id_patients"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_auth_sessions_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auth_sessions")),
    )
    with op.batch_alter_table("auth_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_auth_sessions_clinic_id"), ["clinic_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_auth_sessions_patient_id"), ["patient_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_auth_sessions_user_id"), ["user_id"], unique=False)

    op.create_table(
        "consents",
        sa.Column("clinic_id", sa.Uuid(), nullable=False),
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "PHOTOGRAPHY",
                "MARKETING",
                "EDUCATION",
                name="consentkind",
                native_enum=False,
                length=30,
            ),
            nullable=False,
        ),
        sa.Column(
            "granted_by",
            sa.Enum("PATIENT", "GUARDIAN", name="consentgrantor", native_enum=False, length=30),
            nullable=False,
        ),
        sa.Column("guardian_name", sa.String(length=200), nullable=True),
        sa.Column("granted_at", ortholens.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", ortholens.kit.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", ortholens.kit.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("recorded_by_id", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", ortholens.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", ortholens.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["clinic_id"],
            ["clinics.id"],
            name=op.f("fk_consents_clinic_id_clinics"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name=op.f("fk_consents_patient_id_patients"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["users.id"],
            name=op.f("fk_consents_recorded_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consents")),
    )
    with op.batch_alter_table("consents", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_consents_clinic_id"), ["clinic_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_consents_patient_id"), ["patient_id"], unique=False)

    op.create_table(
        "patient_invites",
        sa.Column("clinic_id", sa.Uuid(), nullable=False),
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("expires_at", ortholens.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", ortholens.kit.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("voided_at", ortholens.kit.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_by_id", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", ortholens.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", ortholens.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["clinic_id"],
            ["clinics.id"],
            name=op.f("fk_patient_invites_clinic_id_clinics"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_patient_invites_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name=op.f("fk_patient_invites_patient_id_patients"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patient_invites")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_patient_invites_token_hash")),
    )
    with op.batch_alter_table("patient_invites", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_patient_invites_clinic_id"), ["clinic_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_patient_invites_patient_id"), ["patient_id"], unique=False
        )

    op.create_table(
        "refresh_tokens",
        sa.Column("session_id", sa.Uuid(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("expires_at", ortholens.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", ortholens.kit.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", ortholens.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", ortholens.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["auth_sessions.id"],
            name=op.f("fk_refresh_tokens_session_id_auth_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refresh_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_refresh_tokens_token_hash")),
    )
    with op.batch_alter_table("refresh_tokens", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_refresh_tokens_session_id"), ["session_id"], unique=False
        )

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("mfa_enabled_at", ortholens.kit.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.alter_column(
            "mfa_secret",
            existing_type=sa.VARCHAR(length=200),
            type_=sa.String(length=300),
            existing_nullable=True,
        )


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.alter_column(
            "mfa_secret",
            existing_type=sa.String(length=300),
            type_=sa.VARCHAR(length=200),
            existing_nullable=True,
        )
        batch_op.drop_column("mfa_enabled_at")

    with op.batch_alter_table("refresh_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_refresh_tokens_session_id"))

    op.drop_table("refresh_tokens")
    with op.batch_alter_table("patient_invites", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_patient_invites_patient_id"))
        batch_op.drop_index(batch_op.f("ix_patient_invites_clinic_id"))

    op.drop_table("patient_invites")
    with op.batch_alter_table("consents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_consents_patient_id"))
        batch_op.drop_index(batch_op.f("ix_consents_clinic_id"))

    op.drop_table("consents")
    with op.batch_alter_table("auth_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_auth_sessions_user_id"))
        batch_op.drop_index(batch_op.f("ix_auth_sessions_patient_id"))
        batch_op.drop_index(batch_op.f("ix_auth_sessions_clinic_id"))

    op.drop_table("auth_sessions")
    op.drop_table("rate_limit_buckets")
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_events_target_id"))
        batch_op.drop_index("ix_audit_events_clinic_at")
        batch_op.drop_index(batch_op.f("ix_audit_events_action"))

    op.drop_table("audit_events")
