"""SQLAlchemy models, one file per model. Importing this package registers every table on
`Base.metadata` (Alembic's autogenerate and the migration check rely on that)."""

from ortholens.kit.db import Base
from ortholens.kit.jobs.record import Job, JobStatus
from ortholens.models.audit_event import AuditEvent
from ortholens.models.auth_session import AuthSession
from ortholens.models.clinic import Clinic
from ortholens.models.consent import Consent
from ortholens.models.enums import (
    ActorType,
    AuditOutcome,
    ConsentGrantor,
    ConsentKind,
    FileType,
    ImageSource,
    ImageStatus,
    PatientStatus,
    Role,
    ScanSessionStatus,
    SubjectType,
)
from ortholens.models.image import Image
from ortholens.models.patient import Patient
from ortholens.models.patient_invite import PatientInvite
from ortholens.models.photo_protocol import PhotoProtocol, ProtocolSlot
from ortholens.models.rate_limit_bucket import RateLimitBucket
from ortholens.models.refresh_token import RefreshToken
from ortholens.models.scan_session import ScanSession
from ortholens.models.user import User

__all__ = [
    "ActorType",
    "AuditEvent",
    "AuditOutcome",
    "AuthSession",
    "Base",
    "Clinic",
    "Consent",
    "ConsentGrantor",
    "ConsentKind",
    "FileType",
    "Image",
    "ImageSource",
    "ImageStatus",
    "Job",
    "JobStatus",
    "Patient",
    "PatientInvite",
    "PatientStatus",
    "PhotoProtocol",
    "ProtocolSlot",
    "RateLimitBucket",
    "RefreshToken",
    "Role",
    "ScanSession",
    "ScanSessionStatus",
    "SubjectType",
    "User",
]
