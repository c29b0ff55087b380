"""The doctor's worklist (issue 23): the check-ins to review with their thumbnails, photo quality
flags and AI triage, the threads with unread patient messages, and the menu's counts.

Reads go through the same clinic scope as the dashboard; the list of check-ins and each signed
thumbnail are audited by the review and image services, the unread threads here.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy.orm import Session

from ortholens.audit import service as audit
from ortholens.auth.principals import Authorized, StaffPrincipal
from ortholens.dashboard import repository
from ortholens.image.service import GalleryItem, gallery_item
from ortholens.kit.storage import ObjectStore
from ortholens.models import AiTagSuggestion, Image, Patient, ScanSession, ScanSessionStatus
from ortholens.review import service as review
from ortholens.review.vocabulary import OralHygiene

# The queue's short words for the AI's overall tracking (the review form spells them out).
TRIAGE_WORDS = {1: ("go", "GO"), 2: ("monitor", "Monitor"), 3: ("nogo", "NO-GO")}


@dataclass(frozen=True)
class MenuCounts:
    """What the staff menu's badges show."""

    pending_check_ins: int
    unread_messages: int


@dataclass(frozen=True)
class Triage:
    """The AI suggestion of a check-in in one word: `kind` is go, monitor, nogo, hygiene (tracking
    left to the doctor), unjudged or none."""

    kind: str
    label: str
    detail: str = ""


@dataclass(frozen=True)
class QueueEntry:
    """One check-in waiting for review, as the worklist shows it."""

    scan: ScanSession
    patient: Patient
    thumbnails: list[GalleryItem]
    photo_count: int
    expected_count: int
    retake_count: int  # photos whose quality check suggests a retake
    quality_reasons: tuple[str, ...]
    lowest_quality: int | None
    triage: Triage


@dataclass(frozen=True)
class UnreadThread:
    thread_id: uuid.UUID
    patient_id: uuid.UUID
    patient_name: str
    subject: str
    unread: int


def menu_counts(
    db: Session, principal: StaffPrincipal, *, check_ins: bool, messages: bool
) -> MenuCounts:
    """Pending check-ins and unread patient messages of the principal's clinic (counts only, no
    patient data, so not audited); a count the role may not see stays 0."""
    clinic_id = principal.clinic_scope
    return MenuCounts(
        pending_check_ins=repository.queued_check_ins(db, clinic_id) if check_ins else 0,
        unread_messages=repository.unread_patient_messages(db, clinic_id) if messages else 0,
    )


def triage_of(suggestion: AiTagSuggestion | None) -> Triage:
    """GO / Monitor / NO-GO from the stored suggestion, or why there is none."""
    if suggestion is None:
        return Triage("none", "No AI suggestion yet")
    if suggestion.overall_tracking in TRIAGE_WORDS:
        kind, word = TRIAGE_WORDS[suggestion.overall_tracking]
        return Triage(kind, f"AI: {word}")
    if suggestion.cannot_judge:
        return Triage("unjudged", "AI could not judge", suggestion.cannot_judge_reason or "")
    if suggestion.oral_hygiene in set(OralHygiene):
        hygiene = OralHygiene(suggestion.oral_hygiene).label.lower()
        return Triage("hygiene", f"AI: hygiene {hygiene}", "Tracking is left to you.")
    return Triage("none", "AI left it to you")


def _quality(photos: list[Image]) -> tuple[int, tuple[str, ...], int | None]:
    retakes = 0
    reasons: list[str] = []
    scores: list[int] = []
    for photo in photos:
        quality = photo.quality or {}
        if quality.get("retake_suggested"):
            retakes += 1
        for reason in quality.get("reasons") or []:
            if isinstance(reason, str) and reason not in reasons:
                reasons.append(reason)
        overall = quality.get("overall")
        if isinstance(overall, int | float):
            scores.append(int(overall))
    return retakes, tuple(reasons), min(scores, default=None)


def review_queue(
    db: Session,
    store: ObjectStore,
    viewer: Authorized,
    *,
    limit: int,
    url_seconds: int,
) -> tuple[list[QueueEntry], bool]:
    """The oldest pending check-ins with signed thumbnail links (as `viewer`'s imaging:view grant
    allows) and whether more are waiting."""
    rows, cursor = review.list_queue(
        db, viewer, status=ScanSessionStatus.PENDING, patient_id=None, cursor=None, limit=limit
    )
    ids = [scan.id for scan, _ in rows]
    photos: dict[uuid.UUID, list[Image]] = defaultdict(list)
    for image in repository.photos_of_sessions(db, ids):
        assert image.scan_session_id is not None
        photos[image.scan_session_id].append(image)
    suggestions = repository.latest_suggestions(db, ids)
    entries = []
    for scan, patient in rows:
        own = photos[scan.id]
        retakes, reasons, lowest = _quality(own)
        thumbnails = [
            gallery_item(db, store, viewer, image, expires_in=url_seconds, original=False)
            for image in own
        ]
        entries.append(
            QueueEntry(
                scan=scan,
                patient=patient,
                thumbnails=thumbnails,
                photo_count=len(own),
                expected_count=len(scan.expected_views),
                retake_count=retakes,
                quality_reasons=reasons,
                lowest_quality=lowest,
                triage=triage_of(suggestions.get(scan.id)),
            )
        )
    return entries, cursor is not None


def unread_threads(db: Session, auth: Authorized, *, limit: int) -> list[UnreadThread]:
    """Threads with patient messages nobody has opened, the longest waiting first."""
    clinic_id = auth.principal.clinic_scope
    rows = repository.threads_with_unread(db, clinic_id, limit)
    audit.record(
        db,
        auth.principal.actor,
        "dashboard.unread_threads",
        clinic_id=clinic_id,
        details={"count": len(rows)},
    )
    return [
        UnreadThread(
            thread.id, patient.id, f"{patient.first_name} {patient.last_name}", thread.subject, n
        )
        for thread, patient, n in rows
    ]


def next_pending(db: Session, viewer: Authorized, after: uuid.UUID) -> uuid.UUID | None:
    """The check-in to review after `after`: the oldest pending one that is not it."""
    rows, _ = review.list_queue(
        db, viewer, status=ScanSessionStatus.PENDING, patient_id=None, cursor=None, limit=2
    )
    return next((scan.id for scan, _ in rows if scan.id != after), None)
