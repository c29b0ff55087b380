"""A patient's check-in from their side: what became of each photo, and sending the check-in.

A check-in (scan session) is started by the scan wizard, filled one photo at a time, and enters the
doctor's review queue only when the patient sends it (`submit`); one left half done stays out of
the queue and is picked up again if the patient comes back within a day (`RESUME_WITHIN`).
While photos are processed the wizard polls `checkin_status`, which gives each photo the server's
quality verdict in the patient's words (`patient_advice`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from ortholens.audit import service as audit
from ortholens.kit.db import utcnow
from ortholens.kit.errors import Conflict, InvalidInput, NotFound
from ortholens.models import Image, ImageStatus, ScanSession, ScanSessionStatus
from ortholens.upload import repository

RESUME_WITHIN = timedelta(hours=24)
NO_SESSION = "No scan session with this id."

# The quality reasons of `processing.quality`, said to the patient as what to do about them.
ADVICE = {
    "blurred": "The photo is blurred. Hold the phone still, tap the screen to focus, and try again.",
    "too dark": "The photo is too dark. Stand near a window or turn on more light, and try again.",
    "too bright": "The photo is too bright. Move away from direct light, and try again.",
    "overexposed highlights": "Part of the photo is washed out by light. Avoid the flash "
    "shining straight at your teeth, and try again.",
    "poorly exposed": "The light is uneven. Face a window or a lamp, and try again.",
    "low resolution": "The photo is too small. Use your phone's main camera at full size.",
}
GENERIC_ADVICE = "The photo is hard to read. Take it again in good light, holding the phone still."


@dataclass(frozen=True)
class PhotoVerdict:
    """One photo of a check-in as the patient's phone shows it."""

    id: uuid.UUID
    view_code: str | None
    state: str  # "processing" | "good" | "retake" | "failed"
    quality_score: float | None
    reasons: tuple[str, ...]
    advice: str | None


@dataclass(frozen=True)
class CheckinStatus:
    scan: ScanSession
    photos: tuple[PhotoVerdict, ...]


def patient_advice(quality: dict[str, Any] | None) -> tuple[bool, tuple[str, ...], str | None]:
    """(retake suggested, reasons, what to do) for a photo's stored quality verdict."""
    if not quality:
        return False, (), None
    reasons = tuple(str(reason) for reason in quality.get("reasons") or ())
    if not quality.get("retake_suggested"):
        return False, reasons, None
    tips = [ADVICE[reason] for reason in reasons if reason in ADVICE]
    return True, reasons, " ".join(tips[:2]) if tips else GENERIC_ADVICE


def verdict_of(image: Image) -> PhotoVerdict:
    """A photo's state for the patient: still processing, good, retake (with advice) or failed."""
    retake, reasons, advice = patient_advice(image.quality)
    if image.status is ImageStatus.FAILED:
        state = "failed"
        advice = "This photo could not be read. Take it again."
    elif image.status is not ImageStatus.READY:
        state = "processing"
    else:
        state = "retake" if retake else "good"
    return PhotoVerdict(
        id=image.id,
        view_code=image.view_code,
        state=state,
        quality_score=image.quality_score,
        reasons=reasons,
        advice=advice,
    )


def own_session(session: Session, patient_id: uuid.UUID, scan_session_id: uuid.UUID) -> ScanSession:
    """The patient's own check-in; another patient's id answers like an unknown one."""
    scan = session.get(ScanSession, scan_session_id)
    if scan is None or scan.patient_id != patient_id:
        raise NotFound(NO_SESSION)
    return scan


def open_session(session: Session, patient_id: uuid.UUID, now: datetime) -> ScanSession | None:
    """A check-in the patient started within `RESUME_WITHIN` and has not sent yet."""
    return repository.open_session_of(session, patient_id, now - RESUME_WITHIN)


def checkin_status(
    session: Session,
    patient_id: uuid.UUID,
    actor: audit.Actor,
    scan_session_id: uuid.UUID,
) -> CheckinStatus:
    """The check-in and the verdict on each of its photos (audited as a read)."""
    scan = own_session(session, patient_id, scan_session_id)
    photos = tuple(verdict_of(image) for image in repository.session_photos(session, scan.id))
    audit.record(
        session,
        actor,
        "scan_session.read",
        clinic_id=scan.clinic_id,
        target_type="scan_session",
        target_id=scan.id,
    )
    return CheckinStatus(scan=scan, photos=photos)


def submit(
    session: Session, patient_id: uuid.UUID, actor: audit.Actor, scan_session_id: uuid.UUID
) -> ScanSession:
    """Send the check-in to the practice: from now on it is in the review queue. Sending it
    again changes nothing; a check-in without a photo cannot be sent."""
    scan = own_session(session, patient_id, scan_session_id)
    if scan.submitted_at is not None:
        return scan
    if scan.status is not ScanSessionStatus.PENDING:
        raise Conflict("This check-in was already reviewed; start a new one.")
    if scan.image_count < 1:
        raise InvalidInput("Take at least one photo before sending.")
    scan.submitted_at = utcnow()
    session.flush()
    audit.record(
        session,
        actor,
        "scan_session.submit",
        clinic_id=scan.clinic_id,
        target_type="scan_session",
        target_id=scan.id,
        details={"image_count": scan.image_count},
    )
    return scan
