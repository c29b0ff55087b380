"""Demo records for remote monitoring and 3D scans, so a fresh `./run` has something to review:
a check-in waiting for the doctor with an earlier reviewed one to compare against, a conversation,
an overdue patient, and an upper/lower/bite scan set. The photos are drawn, the arches generated;
the worker makes their thumbnails and web meshes as for any upload."""

from __future__ import annotations

import io
import random
import uuid
from datetime import timedelta

from PIL import Image as PILImage
from PIL import ImageDraw
from sqlalchemy.orm import Session

from ortholens.audit.service import SYSTEM
from ortholens.intraoral.arches_in import read_arches
from ortholens.intraoral.service import Importer, import_scan_set
from ortholens.intraoral.tasks import scan_limits
from ortholens.kit.db import utcnow
from ortholens.kit.jobs import request_job
from ortholens.kit.storage import ObjectStore
from ortholens.kit.storage.keys import make_key
from ortholens.models import (
    FileType,
    Image,
    ImageSource,
    ImageStatus,
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


def _check_in(
    session: Session, store: ObjectStore, patient: Patient, days_ago: int, seed: int
) -> ScanSession:
    at = utcnow() - timedelta(days=days_ago)
    views = [slot.view_code for slot in REMOTE_MONITORING.slots]
    scan = ScanSession(
        clinic_id=patient.clinic_id,
        patient_id=patient.id,
        status=ScanSessionStatus.PENDING,
        image_count=len(views),
        expected_views=views,
        created_at=at,
        updated_at=at,
    )
    session.add(scan)
    session.flush()
    for index, view in enumerate(views):
        image_id = uuid.uuid4()
        key = make_key(
            patient.clinic_id, patient.id, "photo", "original", "jpg", object_id=image_id
        )
        stored = store.put(key, intraoral_photo(seed * 10 + index), content_type="image/jpeg")
        session.add(
            Image(
                id=image_id,
                clinic_id=patient.clinic_id,
                patient_id=patient.id,
                scan_session_id=scan.id,
                file_type=FileType.PHOTO,
                view_code=view,
                view_set_by_user=True,
                source=ImageSource.PATIENT_APP,
                status=ImageStatus.UPLOADED,
                original_key=key,
                original_sha256=stored.sha256,
                original_size=stored.size,
                mime_type="image/jpeg",
                created_at=at,
                updated_at=at,
            )
        )
        session.flush()
        request_job(
            session, "image.process", {"image_id": str(image_id)}, clinic_id=patient.clinic_id
        )
    return scan


def seed_monitoring(
    session: Session, store: ObjectStore, patients: list[Patient], doctor: User | None
) -> None:
    """Add the demo's check-ins, messages and scans to freshly created demo patients."""
    mia, noah, ava = patients[0], patients[1], patients[2]
    now = utcnow()
    for patient in (mia, noah, ava):
        patient.onboarded_at = now - timedelta(days=40)
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
    thread = MessageThread(
        clinic_id=mia.clinic_id,
        patient_id=mia.id,
        subject="Your aligners",
        created_by_id=doctor.id if doctor else None,
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
    arches = []
    for kind, seed in ((ArchType.UPPER, 11), (ArchType.LOWER, 12), (ArchType.BITE, 13)):
        data = make_arch(kind, seed, triangles=60_000).export(file_type="stl")
        assert isinstance(data, bytes)
        arches.extend(read_arches(data, f"{kind.value.lower()}.stl", scan_limits(100)))
    importer = Importer(SYSTEM, ava.clinic_id, None, ImageSource.IMPORT)
    import_scan_set(session, store, importer, arches, ava)
