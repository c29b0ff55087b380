"""Enumerations stored in the database (as strings, so adding a member needs no ALTER TYPE)."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from sqlalchemy import Enum


class Role(StrEnum):
    """Staff roles of seed 003; what each may do is in `ortholens.auth.policy`."""

    SUPER_ADMIN = "super_admin"
    CLINIC_ADMIN = "clinic_admin"
    DOCTOR = "doctor"
    CLINICAL_STAFF = "clinical_staff"
    FRONT_DESK = "front_desk"
    BILLING = "billing"
    READ_ONLY = "read_only"


class PatientStatus(StrEnum):
    ACTIVE = "ACTIVE"
    PAUSED = "PAUSED"
    COMPLETED = "COMPLETED"
    ARCHIVED = "ARCHIVED"


class SubjectType(StrEnum):
    """Who a sign-in session belongs to."""

    STAFF = "staff"
    PATIENT = "patient"


class ConsentKind(StrEnum):
    PHOTOGRAPHY = "PHOTOGRAPHY"
    MARKETING = "MARKETING"
    EDUCATION = "EDUCATION"


class ConsentGrantor(StrEnum):
    PATIENT = "PATIENT"
    GUARDIAN = "GUARDIAN"


class ActorType(StrEnum):
    USER = "user"
    PATIENT = "patient"
    SYSTEM = "system"
    ANONYMOUS = "anonymous"


class AuditOutcome(StrEnum):
    SUCCESS = "success"
    DENIED = "denied"
    FAILURE = "failure"


class FileType(StrEnum):
    """What kind of item of the imaging record an `Image` is."""

    PHOTO = "PHOTO"
    XRAY = "XRAY"
    CBCT = "CBCT"
    SCAN_3D = "SCAN_3D"
    SIMULATION = "SIMULATION"
    DOCUMENT = "DOCUMENT"


class ImageSource(StrEnum):
    UPLOAD = "UPLOAD"  # staff, through the web or API
    PATIENT_APP = "PATIENT_APP"  # the patient portal's scan wizard
    IMPORT = "IMPORT"  # `ortholens import ...` from an existing archive
    DICOM = "DICOM"
    ITERO = "ITERO"
    THREESHAPE = "THREESHAPE"


class ImageStatus(StrEnum):
    """Upload lifecycle (ARCHITECTURE rule 3): pending -> uploaded -> processing -> ready | failed."""

    PENDING = "PENDING"
    UPLOADED = "UPLOADED"
    PROCESSING = "PROCESSING"
    READY = "READY"
    FAILED = "FAILED"


class ScanSessionStatus(StrEnum):
    PENDING = "PENDING"
    REVIEWED = "REVIEWED"
    NEEDS_RETAKE = "NEEDS_RETAKE"


class SenderType(StrEnum):
    """Who wrote a message (seed 004 section 4); set by the server from the signed-in principal."""

    DOCTOR = "DOCTOR"
    STAFF = "STAFF"
    PATIENT = "PATIENT"


class PendingScanStatus(StrEnum):
    PENDING = "PENDING"
    ASSIGNED = "ASSIGNED"
    DISCARDED = "DISCARDED"


def str_enum(enum_cls: type[StrEnum]) -> Enum:
    """A portable column type storing an enum's values as VARCHAR."""
    values: Any = lambda members: [m.value for m in members]  # noqa: E731
    return Enum(enum_cls, native_enum=False, length=30, values_callable=values)
