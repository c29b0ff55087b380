"""Seed 004 section 3: the review queue, a session, its status, AI suggestions and the tag set."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from ortholens.auth.deps import RequirePermission
from ortholens.auth.policy import Permission
from ortholens.auth.principals import Authorized
from ortholens.http.deps import SessionDep, SettingsDep, StoreDep
from ortholens.image.endpoints import image_read
from ortholens.kit.paging import CURSOR_PATTERN
from ortholens.models import AiTagSuggestion, Patient, ScanSession, ScanSessionStatus, TagSet
from ortholens.review import flows, service
from ortholens.review.ai.factory import provider_for
from ortholens.review.schemas import (
    AiSuggestionRead,
    ScanSessionDetail,
    ScanSessionItem,
    ScanSessionPage,
    StatusChange,
    TagSetCreate,
    TagSetRead,
)

router = APIRouter(tags=["review"])
Viewer = Annotated[Authorized, RequirePermission(Permission.IMAGING_VIEW)]
Reviewer = Annotated[Authorized, RequirePermission(Permission.IMAGING_ANNOTATE)]


def _item(scan: ScanSession, patient: Patient) -> ScanSessionItem:
    return ScanSessionItem(
        id=scan.id,
        patient_id=scan.patient_id,
        patient_name=f"{patient.first_name} {patient.last_name}",
        status=scan.status,
        image_count=scan.image_count,
        expected_views=list(scan.expected_views),
        created_at=scan.created_at,
        reviewed_at=scan.reviewed_at,
        reviewed_by_id=scan.reviewed_by_id,
    )


def _suggestion(row: AiTagSuggestion | None) -> AiSuggestionRead | None:
    return AiSuggestionRead.model_validate(row) if row is not None else None


def _tag_set(row: TagSet | None) -> TagSetRead | None:
    return TagSetRead.model_validate(row) if row is not None else None


@router.get("/api/scans/sessions", response_model=ScanSessionPage)
def list_sessions(
    *,
    auth: Viewer,
    db: SessionDep,
    status: ScanSessionStatus | None = None,
    patient_id: Annotated[uuid.UUID | None, Query(alias="patientId")] = None,
    cursor: Annotated[str | None, Query(max_length=200, pattern=CURSOR_PATTERN)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> ScanSessionPage:
    """The clinic's check-ins (those with photos), oldest first: `?status=PENDING` is the queue."""
    rows, next_cursor = service.list_queue(
        db, auth, status=status, patient_id=patient_id, cursor=cursor, limit=limit
    )
    return ScanSessionPage(items=[_item(s, p) for s, p in rows], next_cursor=next_cursor)


@router.get("/api/scans/sessions/{session_id}", response_model=ScanSessionDetail)
def get_session(
    session_id: uuid.UUID, auth: Viewer, db: SessionDep, store: StoreDep, settings: SettingsDep
) -> ScanSessionDetail:
    """A session with its photos, tag set, latest AI suggestion and the previous session's id."""
    view = service.get_session(db, store, auth, session_id, url_seconds=settings.signed_url_seconds)
    return ScanSessionDetail(
        **_item(view.scan, view.patient).model_dump(),
        images=[image_read(item) for item in view.images],
        tag_set=_tag_set(view.tag_set),
        ai_suggestion=_suggestion(view.suggestion),
        previous_session_id=view.previous_session_id,
    )


@router.patch("/api/scans/sessions/{session_id}/status", response_model=ScanSessionItem)
def change_status(
    session_id: uuid.UUID, body: StatusChange, auth: Reviewer, db: SessionDep
) -> ScanSessionItem:
    """Set REVIEWED or NEEDS_RETAKE (the patient is notified), or back to PENDING."""
    scan = service.change_status(db, auth, session_id, body.status)
    patient = db.get(Patient, scan.patient_id)
    assert patient is not None
    return _item(scan, patient)


@router.post("/api/tagging/sessions/{session_id}/suggest", response_model=AiSuggestionRead)
def suggest_tags(
    session_id: uuid.UUID, auth: Reviewer, db: SessionDep, store: StoreDep, settings: SettingsDep
) -> AiSuggestionRead:
    """Ask the AI provider for a suggested tag set; stored, and returned to pre-fill the form."""
    suggestion = flows.ask_for_suggestion(db, store, auth, session_id, provider_for(settings))
    return AiSuggestionRead.model_validate(suggestion)


@router.post("/api/tagging/sessions/{session_id}/tags", response_model=TagSetRead, status_code=201)
def submit_tags(
    session_id: uuid.UUID, body: TagSetCreate, auth: Reviewer, db: SessionDep
) -> TagSetRead:
    """Submit the review: the tag set is created and the session becomes REVIEWED, together."""
    tag_set = service.submit_tags(
        db,
        auth,
        session_id,
        overall_tracking=body.overall_tracking,
        oral_hygiene=body.oral_hygiene,
        detail_tags=body.detail_tags,
        notes=body.notes,
        ai_suggested=body.ai_suggested,
        ai_overridden=body.ai_overridden,
    )
    return TagSetRead.model_validate(tag_set)
