"""Demo records for remote monitoring and 3D scans, so a fresh `./run` has something to review:
a check-in waiting for the doctor with an earlier reviewed one to compare against, a conversation,
an overdue patient, and an upper/lower/bite scan set. The photos are drawn and the arches
generated, but both enter through the ingest pipeline like any upload (consent, audit, processing
jobs), and the worker makes their thumbnails and web meshes."""

from __future__ import annotations

import io
import random
import secrets
import zipfile
from datetime import datetime, timedelta

from PIL import Image as PILImage
from PIL import ImageDraw
from sqlalchemy.orm import Session

from ortholens.audit.service import SYSTEM, Actor
from ortholens.consent import repository as consent_repository
from ortholens.consent.service import age_on
from ortholens.demo.occlusion import in_occlusion
from ortholens.ingest import Incoming, IngestLimits, Submission, ingest
from ortholens.kit.db import utcnow
from ortholens.kit.passwords import hash_password
from ortholens.kit.storage import ObjectStore
from ortholens.models import (
    ActorType,
    Consent,
    ConsentGrantor,
    ConsentKind,
    FileType,
    ImageSource,
    Message,
    MessageThread,
    Patient,
    ScanSession,
    ScanSessionStatus,
    SenderType,
    TagSet,
    User,
)
from ortholens.processing.meshes.synthetic_arches import make_arch
from ortholens.processing.meshes.types import ArchType
from ortholens.protocol.builtin import REMOTE_MONITORING


def intraoral_photo(seed: int) -> bytes:
    """A drawn stand-in for an intraoral photo: gums, a row of teeth, a little shading."""
    rng = random.Random(seed)  # noqa: S311 - a drawing, not a secret
    image = PILImage.new("RGB", (1200, 900), (150, 40, 50))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 300, 1200, 600), fill=(205, 110, 115))
    for index in range(8):
        left = 80 + index * 130 + rng.randint(-8, 8)
        shade = 235 - rng.randint(0, 25)
        draw.rounded_rectangle(
            (left, 330, left + 115, 570), radius=30, fill=(shade, shade, shade - 20)
        )
    out = io.BytesIO()
    image.save(out, "JPEG", quality=88)
    return out.getvalue()


def _consent_to_photos(session: Session, patient: Patient, at: datetime) -> None:
    """Patients who send check-ins agreed to photography (a guardian for a minor), as in a clinic."""
    minor = patient.date_of_birth is not None and age_on(patient.date_of_birth, at.date()) < 18
    consent_repository.add(
        session,
        Consent(
            clinic_id=patient.clinic_id,
            patient_id=patient.id,
            kind=ConsentKind.PHOTOGRAPHY,
            granted_by=ConsentGrantor.GUARDIAN if minor else ConsentGrantor.PATIENT,
            guardian_name=f"Parent of {patient.first_name}" if minor else None,
            granted_at=at,
        ),
    )


def _check_in(
    session: Session, store: ObjectStore, patient: Patient, days_ago: int, seed: int
) -> ScanSession:
    """A remote-monitoring check-in of five drawn photos, sent through the ingest pipeline as the
    patient app's would be, then dated `days_ago`."""
    at = utcnow() - timedelta(days=days_ago)
    views = [slot.view_code for slot in REMOTE_MONITORING.slots]
    scan = ScanSession(
        clinic_id=patient.clinic_id,
        patient_id=patient.id,
        status=ScanSessionStatus.PENDING,
        image_count=0,
        expected_views=views,
        created_at=at,
        updated_at=at,
    )
    session.add(scan)
    session.flush()
    submission = Submission(
        actor=Actor(ActorType.PATIENT, patient.id, patient.clinic_id),
        clinic_id=patient.clinic_id,
        user_id=None,
        source=ImageSource.PATIENT_APP,
        patient_id=patient.id,
        scan_session_id=scan.id,
    )
    for index, view in enumerate(views):
        photo = Incoming(f"{view}.jpg", intraoral_photo(seed * 10 + index))
        (filed,) = ingest(session, store, submission, [photo], IngestLimits())
        for image in filed.images:
            image.view_code, image.view_set_by_user = view, True
            image.created_at = image.updated_at = at
    # Sent by the patient, minutes after taking the photos: in the review queue.
    scan.created_at = scan.updated_at = at
    scan.submitted_at = at + timedelta(minutes=4)
    return scan


def _scanner_bundle() -> bytes:
    """An upper/lower/bite export as a scanner writes it: one ZIP, one STL per arch, the arches
    in one frame and in occlusion."""
    upper, lower, bite = in_occlusion(
        make_arch(ArchType.UPPER, 11, triangles=60_000),
        make_arch(ArchType.LOWER, 12, triangles=60_000),
        make_arch(ArchType.BITE, 13, triangles=60_000),
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as bundle:
        for kind, mesh in ((ArchType.UPPER, upper), (ArchType.LOWER, lower), (ArchType.BITE, bite)):
            data = mesh.export(file_type="stl")
            assert isinstance(data, bytes)
            bundle.writestr(f"{kind.value.lower()}.stl", data)
    return out.getvalue()


def _register(patient: Patient, at: datetime) -> None:
    """A portal account as registration from an invitation leaves it (the password is random
    and never shown: the demo's patients are looked at from the staff side)."""
    patient.portal_email = f"{patient.first_name}.{patient.last_name}@patients.example".lower()
    patient.portal_password_hash = hash_password(secrets.token_urlsafe(16))
    patient.onboarded_at = at


def seed_monitoring(
    session: Session, store: ObjectStore, patients: list[Patient], doctor: User | None
) -> None:
    """Add the demo's check-ins, messages and scans to freshly created demo patients."""
    mia, noah, ava = patients[0], patients[1], patients[2]
    now = utcnow()
    for patient in (mia, noah, ava):
        _register(patient, now - timedelta(days=40))
    for patient in (mia, ava):
        _consent_to_photos(session, patient, now - timedelta(days=40))
    reviewed = _check_in(session, store, mia, days_ago=15, seed=1)
    reviewed.status, reviewed.reviewed_at = ScanSessionStatus.REVIEWED, now - timedelta(days=14)
    reviewed.reviewed_by_id = doctor.id if doctor else None
    session.add(
        TagSet(
            clinic_id=mia.clinic_id,
            scan_session_id=reviewed.id,
            overall_tracking=1,
            oral_hygiene=2,
            detail_tags=["PLAQUE"],
            reviewed_by_id=reviewed.reviewed_by_id,
        )
    )
    _check_in(session, store, mia, days_ago=1, seed=2)
    _check_in(session, store, ava, days_ago=3, seed=3)
    started = now - timedelta(days=14)  # with its first message, not on the day of seeding
    thread = MessageThread(
        clinic_id=mia.clinic_id,
        patient_id=mia.id,
        subject="Your aligners",
        created_by_id=doctor.id if doctor else None,
        created_at=started,
        updated_at=now - timedelta(days=13),
    )
    session.add(thread)
    session.flush()
    for offset, sender, text in (
        (14, SenderType.DOCTOR, "Nice progress! Please brush along the gum line a little longer."),
        (13, SenderType.PATIENT, "Will do, thanks!"),
    ):
        at = now - timedelta(days=offset)
        session.add(
            Message(
                clinic_id=mia.clinic_id,
                thread_id=thread.id,
                sender_type=sender,
                sender_user_id=doctor.id if doctor and sender is SenderType.DOCTOR else None,
                content=text,
                read_at=at + timedelta(hours=2),
                created_at=at,
                updated_at=at,
            )
        )
    # Noah never sent a check-in since registering 40 days ago: he is on the overdue list.
    bundle = Submission(
        actor=SYSTEM,
        clinic_id=ava.clinic_id,
        user_id=None,
        source=ImageSource.IMPORT,
        patient_id=ava.id,
        takes=frozenset({FileType.SCAN_3D}),
    )
    limits = IngestLimits.for_scans_up_to(100)
    ingest(session, store, bundle, [Incoming("ava-scans.zip", _scanner_bundle())], limits)
