"""SQLAlchemy models, one file per model. Importing this package registers every table on
`Base.metadata` (Alembic's autogenerate and the migration check rely on that)."""

from ortholens.kit.db import Base
from ortholens.kit.jobs.record import Job, JobStatus
from ortholens.models.ai_tag_suggestion import AiTagSuggestion
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
    PendingScanStatus,
    Role,
    ScanSessionStatus,
    SenderType,
    SubjectType,
)
from ortholens.models.image import Image
from ortholens.models.message import Message
from ortholens.models.message_thread import MessageThread
from ortholens.models.patient import Patient
from ortholens.models.patient_invite import PatientInvite
from ortholens.models.pending_scan import PendingScan
from ortholens.models.photo_protocol import PhotoProtocol, ProtocolSlot
from ortholens.models.push_subscription import PushSubscription
from ortholens.models.rate_limit_bucket import RateLimitBucket
from ortholens.models.refresh_token import RefreshToken
from ortholens.models.scan_session import ScanSession
from ortholens.models.scanner_integration import ScannerIntegration
from ortholens.models.tag_set import TagSet
from ortholens.models.user import User

__all__ = [
    "ActorType",
    "AiTagSuggestion",
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
    "Message",
    "MessageThread",
    "Patient",
    "PatientInvite",
    "PatientStatus",
    "PendingScan",
    "PendingScanStatus",
    "PhotoProtocol",
    "ProtocolSlot",
    "PushSubscription",
    "RateLimitBucket",
    "RefreshToken",
    "Role",
    "ScanSession",
    "ScanSessionStatus",
    "ScannerIntegration",
    "SenderType",
    "SubjectType",
    "TagSet",
    "User",
]
