"""Scan jobs.

intraoral.derive   one arch: the decimated web mesh (binary PLY) and a rendered thumbnail
intraoral.import   a file over ORTHOLENS_SCAN_BACKGROUND_MB (seed 001): parse, measure,
                   classify and record it in the background, with progress
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.orm import Session

from ortholens.intraoral import service
from ortholens.intraoral.arches_in import read_arches
from ortholens.intraoral.keys import arch_key
from ortholens.kit.db import defer_on_commit, transaction
from ortholens.kit.errors import InvalidInput
from ortholens.kit.jobs import JobContext, job_handler
from ortholens.kit.storage import ObjectStore
from ortholens.models import Image, ImageSource, ImageStatus, Patient
from ortholens.processing.meshes.decimate import web_mesh
from ortholens.processing.meshes.readers import read_mesh_file
from ortholens.processing.meshes.thumbnail import THUMBNAIL_MEDIA_TYPE, render_thumbnail
from ortholens.processing.meshes.types import MeshLimits

TO_DERIVE = (ImageStatus.UPLOADED, ImageStatus.PROCESSING)


def scan_limits(max_mb: int) -> MeshLimits:
    return MeshLimits(max_file_bytes=max_mb * 1024 * 1024)


def _give_up(session: Session, args: dict[str, Any], error: str) -> None:
    image = session.get(Image, uuid.UUID(str(args["image_id"])))
    if image is not None and image.status in TO_DERIVE:
        image.status = ImageStatus.FAILED
        image.failure_reason = (
            "Preparing the 3D view failed repeatedly; try importing the scan again."
        )


@job_handler(service.DERIVE_JOB, on_give_up=_give_up)
def derive_views(ctx: JobContext, image_id: str) -> dict[str, Any]:
    """Web mesh and thumbnail of one arch, from its original."""
    runtime = ctx.resources
    store: ObjectStore = runtime.store
    with ctx.snapshot() as read:
        row = read.get(Image, uuid.UUID(image_id))
        found = row and (
            row.original_key,
            row.status,
            row.clinic_id,
            row.patient_id,
            row.scan_format,
        )
    if not found or found[1] not in TO_DERIVE:
        return {"skipped": True}
    key, _, clinic_id, patient_id, _ = found
    with transaction(runtime.session_factory) as mark:
        image = mark.get(Image, uuid.UUID(image_id))
        if image is not None:
            image.status = ImageStatus.PROCESSING
    ctx.progress(0.1, "reading the scan")
    try:
        loaded = read_mesh_file(
            store.read(key), key.rsplit("/", 1)[1], scan_limits(runtime.settings.max_scan_upload_mb)
        )
    except InvalidInput as exc:
        image = ctx.session.get(Image, uuid.UUID(image_id))
        assert image is not None
        image.status, image.failure_reason = ImageStatus.FAILED, exc.detail
        return {"failed": exc.detail}
    mesh = loaded[0].mesh
    ctx.progress(0.4, "simplifying the mesh for the viewer")
    viewer = web_mesh(mesh)
    ctx.progress(0.8, "rendering the thumbnail")
    thumbnail = render_thumbnail(mesh)
    image_uuid = uuid.UUID(image_id)
    web_key = arch_key(clinic_id, patient_id, image_uuid, "web-mesh", viewer.extension)
    thumb_key = arch_key(clinic_id, patient_id, image_uuid, "thumbnail", "webp")
    for variant_key, data, media_type in (
        (web_key, viewer.data, viewer.content_type),
        (thumb_key, thumbnail, THUMBNAIL_MEDIA_TYPE),
    ):
        if store.head(variant_key) is None:  # a re-run reuses what an earlier attempt stored
            store.put(variant_key, data, content_type=media_type)
    image = ctx.session.get(Image, image_uuid)
    if image is None:
        return {"skipped": True}
    image.variants = {"web_mesh": web_key, "thumbnail": thumb_key}
    image.status, image.failure_reason = ImageStatus.READY, None
    info = dict(image.info)
    info["web_mesh"] = {
        "faces": viewer.faces,
        "vertices": viewer.vertices,
        "has_colour": viewer.has_colour,
    }
    image.info = info
    return {"faces": viewer.faces}


@job_handler("intraoral.import", max_attempts=2)
def import_in_background(
    ctx: JobContext,
    *,
    upload_key: str,
    name: str,
    clinic_id: str,
    patient_id: str | None,
    user_id: str | None,
    source: str,
) -> dict[str, Any]:
    """Import a large scan file that was stored first; the upload is removed once recorded."""
    runtime = ctx.resources
    store: ObjectStore = runtime.store
    ctx.progress(0.05, "reading the file")
    try:
        data = store.read(upload_key)
        ctx.progress(0.2, "parsing and measuring the meshes")
        arches = read_arches(data, name, scan_limits(runtime.settings.max_scan_upload_mb))
    except InvalidInput:
        store.delete(upload_key)  # a refused file leaves nothing behind
        raise
    ctx.progress(0.7, "recording the scans")
    importer = service.Importer.in_job(clinic_id, user_id, ImageSource(source))
    patient = ctx.session.get(Patient, uuid.UUID(patient_id)) if patient_id else None
    outcome = service.import_scan_set(
        ctx.session,
        store,
        importer,
        arches,
        patient,
        bundle=data if data[:4] == b"PK\x03\x04" else None,
    )
    defer_on_commit(ctx.session, lambda: store.delete(upload_key))
    return {
        "scanSetId": str(outcome.scan_set_id),
        "patientId": str(outcome.patient_id) if outcome.patient_id else None,
        "matchedBy": outcome.matched_by,
        "images": [str(image.id) for image in outcome.images],
        "pending": [str(row.id) for row in outcome.pending],
    }
