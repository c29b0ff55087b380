"""The doctor's review of remote-monitoring check-ins (seed 004 section 3).

    queue -> open a session -> (optional) AI suggestion -> submit the tag set -> `scan.reviewed`

Submitting a tag set is one transaction: the tag set is created and the session becomes REVIEWED
with who and when. A second review of the same session is a conflict (the unique tag set per
session decides a race). Reviewing emits `scan.reviewed`, which the notify domain turns into a
push to the patient.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ortholens.audit import service as audit
from ortholens.auth.principals import Authorized
from ortholens.clinic.tenancy import find_in_clinic
from ortholens.events import SCAN_REVIEWED
from ortholens.image.service import GalleryItem, gallery_item
from ortholens.kit import events
from ortholens.kit.db import utcnow
from ortholens.kit.errors import Conflict, InvalidInput
from ortholens.kit.paging import decode_cursor, encode_cursor
from ortholens.kit.storage import ObjectStore
from ortholens.models import (
    AiTagSuggestion,
    Patient,
    ScanSession,
    ScanSessionStatus,
    TagSet,
)
from ortholens.protocol.builtin import VIEW_LABELS
from ortholens.review import repository
from ortholens.review.ai.base import ReviewImage, TagSuggestion
from ortholens.review.vocabulary import validate_tag_set

NOT_FOUND = "No scan session with this id."
TARGET = "scan_session"
PREVIEW_MEDIA_TYPE = "image/jpeg"
MAX_NOTES_CHARS = 2000


@dataclass(frozen=True)
class SessionView:
    scan: ScanSession
    patient: Patient
    images: list[GalleryItem]
    tag_set: TagSet | None
    suggestion: AiTagSuggestion | None
    previous_session_id: uuid.UUID | None


def list_queue(
    db: Session,
    auth: Authorized,
    *,
    status: ScanSessionStatus | None,
    patient_id: uuid.UUID | None,
    cursor: str | None,
    limit: int,
) -> tuple[list[tuple[ScanSession, Patient]], str | None]:
    """Check-ins of the clinic, oldest first; only sessions the patient has sent photos to."""
    rows = repository.list_sessions(
        db,
        auth.principal.clinic_scope,
        status=status,
        patient_id=patient_id,
        after=decode_cursor(cursor) if cursor else None,
        limit=limit + 1,
    )
    more = len(rows) > limit
    rows = rows[:limit]
    audit.record(
        db,
        auth.principal.actor,
        "scan_session.list",
        target_type=TARGET,
        details={"count": len(rows), "status": status.value if status else None},
    )
    return rows, encode_cursor(rows[-1][0].created_at, rows[-1][0].id) if more and rows else None


def _scoped(db: Session, auth: Authorized, scan_id: uuid.UUID, action: str) -> ScanSession:
    return find_in_clinic(
        db,
        auth.principal,
        ScanSession,
        scan_id,
        action=action,
        target_type=TARGET,
        not_found=NOT_FOUND,
    )


def _record(
    db: Session, auth: Authorized, action: str, scan: ScanSession, **details: object
) -> None:
    audit.record(
        db,
        auth.principal.actor,
        action,
        clinic_id=scan.clinic_id,
        target_type=TARGET,
        target_id=scan.id,
        details={"patient_id": str(scan.patient_id), **details},
    )


def get_session(
    db: Session, store: ObjectStore, auth: Authorized, scan_id: uuid.UUID, *, url_seconds: int
) -> SessionView:
    """A session with its photos (signed links as the role allows), tag set and latest suggestion."""
    scan = _scoped(db, auth, scan_id, "scan_session.read")
    patient = db.get(Patient, scan.patient_id)
    assert patient is not None
    _record(db, auth, "scan_session.read", scan)
    images = [
        gallery_item(db, store, auth, image, expires_in=url_seconds, original=False)
        for image in repository.session_images(db, scan.id)
    ]
    previous = repository.previous_session(db, scan)
    return SessionView(
        scan=scan,
        patient=patient,
        images=images,
        tag_set=repository.tag_set_of(db, scan.id),
        suggestion=repository.latest_suggestion(db, scan.id),
        previous_session_id=previous.id if previous else None,
    )


def change_status(
    db: Session, auth: Authorized, scan_id: uuid.UUID, status: ScanSessionStatus
) -> ScanSession:
    """Mark a session REVIEWED (without tags), NEEDS_RETAKE, or back to PENDING."""
    scan = _scoped(db, auth, scan_id, "scan_session.status")
    if status is ScanSessionStatus.PENDING and repository.tag_set_of(db, scan.id) is not None:
        raise Conflict("This session has a submitted review; it cannot go back to pending.")
    if scan.status is status:
        return scan
    previous = scan.status
    scan.status = status
    if status is ScanSessionStatus.PENDING:
        scan.reviewed_at = scan.reviewed_by_id = None
    else:
        scan.reviewed_at, scan.reviewed_by_id = utcnow(), auth.principal.user_id
    _record(db, auth, "scan_session.status", scan, status=status.value, previous=previous.value)
    if status is not ScanSessionStatus.PENDING:
        events.emit(
            db,
            SCAN_REVIEWED,
            scan_session_id=scan.id,
            patient_id=scan.patient_id,
            clinic_id=scan.clinic_id,
            status=status.value,
        )
    return scan


@dataclass(frozen=True)
class SuggestionRequest:
    """What a provider needs, read out of the database so the (slow) call holds no transaction."""

    clinic_id: uuid.UUID
    scan_session_id: uuid.UUID
    images: list[ReviewImage]


def prepare_suggestion(
    db: Session, store: ObjectStore, auth: Authorized, scan_id: uuid.UUID
) -> SuggestionRequest:
    """Load the session's preview photos for a provider (the loading is audited as a read)."""
    scan = _scoped(db, auth, scan_id, "scan_session.suggest")
    images = [
        image for image in repository.session_images(db, scan.id) if "preview" in image.variants
    ]
    if not images:
        raise Conflict("This session has no processed photos yet; try again once they are ready.")
    _record(db, auth, "scan_session.suggest", scan, images=len(images))
    return SuggestionRequest(
        clinic_id=scan.clinic_id,
        scan_session_id=scan.id,
        images=[
            ReviewImage(
                view_code=image.view_code,
                mime_type=PREVIEW_MEDIA_TYPE,
                data=store.read(image.variants["preview"]),
                quality=dict(image.quality) if image.quality else None,
                view_label=VIEW_LABELS.get(image.view_code or ""),
            )
            for image in images
        ],
    )


def save_suggestion(
    db: Session, auth: Authorized, request: SuggestionRequest, suggestion: TagSuggestion
) -> AiTagSuggestion:
    """Store what the provider suggested (already clamped to the vocabulary)."""
    row = AiTagSuggestion(
        clinic_id=request.clinic_id,
        scan_session_id=request.scan_session_id,
        provider=suggestion.provider,
        model=suggestion.model,
        overall_tracking=suggestion.overall_tracking,
        oral_hygiene=suggestion.oral_hygiene,
        detail_tags=list(suggestion.detail_tags),
        confidence=suggestion.confidence,
        rationale=suggestion.rationale or None,
        cannot_judge=suggestion.cannot_judge,
        cannot_judge_reason=suggestion.cannot_judge_reason,
        dropped_tags=list(suggestion.dropped_tags),
        requested_by_id=auth.principal.user_id,
    )
    db.add(row)
    db.flush()
    audit.record(
        db,
        auth.principal.actor,
        "scan_session.suggestion",
        clinic_id=row.clinic_id,
        target_type=TARGET,
        target_id=row.scan_session_id,
        details={"provider": row.provider, "cannot_judge": row.cannot_judge},
    )
    return row


def submit_tags(
    db: Session,
    auth: Authorized,
    scan_id: uuid.UUID,
    *,
    overall_tracking: int,
    oral_hygiene: int,
    detail_tags: list[str],
    notes: str | None,
    ai_suggested: bool,
    ai_overridden: bool,
) -> TagSet:
    """Record the doctor's review: the tag set, and the session REVIEWED by them, together."""
    tags = validate_tag_set(overall_tracking, oral_hygiene, detail_tags)
    if notes is not None and len(notes) > MAX_NOTES_CHARS:
        raise InvalidInput(f"Notes may be at most {MAX_NOTES_CHARS} characters long.")
    scan = _scoped(db, auth, scan_id, "scan_session.review")
    if repository.tag_set_of(db, scan.id) is not None:
        raise Conflict("This scan session was already reviewed.")
    suggestion = repository.latest_suggestion(db, scan.id) if ai_suggested else None
    if ai_suggested and suggestion is None:
        raise InvalidInput("aiSuggested is true but no AI suggestion was made for this session.")
    if suggestion is not None:
        # What the doctor changed is decided here, from the stored suggestion, not taken on trust.
        ai_overridden = (
            suggestion.overall_tracking != int(tags.overall_tracking)
            or suggestion.oral_hygiene != int(tags.oral_hygiene)
            or list(suggestion.detail_tags) != list(tags.detail_tags)
        )
    now = utcnow()
    tag_set = TagSet(
        clinic_id=scan.clinic_id,
        scan_session_id=scan.id,
        overall_tracking=int(tags.overall_tracking),
        oral_hygiene=int(tags.oral_hygiene),
        detail_tags=list(tags.detail_tags),
        notes=notes,
        ai_suggested=ai_suggested,
        ai_overridden=ai_overridden if ai_suggested else False,
        ai_suggestion_id=suggestion.id if suggestion else None,
        reviewed_by_id=auth.principal.user_id,
    )
    try:
        with db.begin_nested():
            db.add(tag_set)
            db.flush()
    except IntegrityError:
        raise Conflict("This scan session was already reviewed.") from None
    repository.mark_reviewed(db, scan.id, auth.principal.user_id, now)
    db.refresh(scan)
    _record(
        db,
        auth,
        "scan_session.review",
        scan,
        overall_tracking=tag_set.overall_tracking,
        ai_suggested=tag_set.ai_suggested,
        ai_overridden=tag_set.ai_overridden,
    )
    events.emit(
        db,
        SCAN_REVIEWED,
        scan_session_id=scan.id,
        patient_id=scan.patient_id,
        clinic_id=scan.clinic_id,
        status=ScanSessionStatus.REVIEWED.value,
    )
    return tag_set
