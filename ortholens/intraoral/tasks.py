"""Scan jobs.

intraoral.derive   one arch: the decimated web mesh (binary PLY) and a rendered thumbnail

A scan file over ORTHOLENS_SCAN_BACKGROUND_MB is filed by the ingest pipeline's `ingest.file` job.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from ortholens.intraoral import service
from ortholens.intraoral.keys import arch_key
from ortholens.kit.db import transaction
from ortholens.kit.errors import InvalidInput
from ortholens.kit.jobs import JobContext, job_handler
from ortholens.kit.storage import ObjectStore, put_once
from ortholens.models import Image, ImageStatus
from ortholens.processing.meshes.decimate import WebMesh, web_mesh
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


@dataclass(frozen=True)
class ScanViews:
    """What the viewer needs of one arch: the decimated web mesh and the rendered thumbnail."""

    web: WebMesh
    thumbnail: bytes  # WebP, THUMBNAIL_MEDIA_TYPE


def derive_scan_views(data: bytes, name: str, limits: MeshLimits) -> ScanViews:
    """Parse one arch's original, decimate it for the viewer and render its thumbnail."""
    mesh = read_mesh_file(data, name, limits)[0].mesh
    return ScanViews(web=web_mesh(mesh), thumbnail=render_thumbnail(mesh))


@job_handler(service.DERIVE_JOB, on_give_up=_give_up)
def derive_views(ctx: JobContext, image_id: str) -> dict[str, Any]:
    """Web mesh and thumbnail of one arch, from its original (decoded in one isolated call)."""
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
    data = store.read(key)
    ctx.progress(0.2, "simplifying the mesh for the viewer and rendering the thumbnail")
    try:
        views = runtime.decoders.run(
            runtime.decode_steps.scan_views,
            data,
            key.rsplit("/", 1)[1],
            scan_limits(runtime.settings.max_scan_upload_mb),
        )
    except InvalidInput as exc:  # including DecoderFailed: a crash or hang on this file
        image = ctx.session.get(Image, uuid.UUID(image_id))
        assert image is not None
        image.status, image.failure_reason = ImageStatus.FAILED, exc.detail
        return {"failed": exc.detail}
    viewer, thumbnail = views.web, views.thumbnail
    image_uuid = uuid.UUID(image_id)
    web_key = arch_key(clinic_id, patient_id, image_uuid, "web-mesh", viewer.extension)
    thumb_key = arch_key(clinic_id, patient_id, image_uuid, "thumbnail", "webp")
    for variant_key, data, media_type in (
        (web_key, viewer.data, viewer.content_type),
        (thumb_key, thumbnail, THUMBNAIL_MEDIA_TYPE),
    ):
        put_once(store, variant_key, data, content_type=media_type)  # a re-run reuses it
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
