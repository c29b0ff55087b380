"""`image.process`: derive a photo's variants, score its quality and suggest its view.

All the decoding of the photo's (untrusted) bytes happens in one isolated call, `derive_photo`, run
by the runtime's decoder pool: a decoder that crashes, hangs or runs out of memory fails this photo
with a reason instead of taking the worker down. Only plain data comes back.

Safe to run twice: a finished image is skipped, and a variant already stored by a crashed run is
reused rather than written again (objects are never overwritten).
"""

from __future__ import annotations

import hashlib
import io
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from PIL import Image as PILImage
from sqlalchemy.orm import Session

from ortholens.kit.db import transaction
from ortholens.kit.errors import InvalidInput
from ortholens.kit.jobs import JobContext, job_handler
from ortholens.kit.storage import ObjectStore, put_once
from ortholens.models import FileType, Image, ImageStatus
from ortholens.processing.photos import PhotoVariants, make_variants
from ortholens.processing.quality import score_quality
from ortholens.processing.views import classify_view

TO_PROCESS = (ImageStatus.UPLOADED, ImageStatus.PROCESSING)


@dataclass(frozen=True)
class _Input:
    key: str
    file_type: FileType
    status: ImageStatus
    view_set_by_user: bool


def variant_key(original_key: str, name: str, ext: str) -> str:
    """`{clinic}/{patient}/{kind}/{uuid}/original.jpg` -> `.../{uuid}/{name}.{ext}`."""
    return f"{original_key.rsplit('/', 1)[0]}/{name}.{ext}"


def _captured_at(kept: dict[str, Any]) -> datetime | None:
    value = kept.get("captured_at")
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else None


def _give_up(session: Session, args: dict[str, Any], error: str) -> None:
    """Processing failed for good: say so on the image instead of leaving it "processing"."""
    image = session.get(Image, uuid.UUID(str(args["image_id"])))
    if image is not None and image.status in TO_PROCESS:
        image.status = ImageStatus.FAILED
        image.failure_reason = "Processing failed repeatedly; try uploading the photo again."


@job_handler("image.process", on_give_up=_give_up)
def process_image(ctx: JobContext, image_id: str) -> dict[str, Any]:
    """Thumbnail (300x300 WebP), preview (1600 px), quality score and view suggestion."""
    runtime = ctx.resources
    store: ObjectStore = runtime.store
    with ctx.snapshot() as read:
        row = read.get(Image, uuid.UUID(image_id))
        found = row and _Input(row.original_key, row.file_type, row.status, row.view_set_by_user)
    if not found or found.status not in TO_PROCESS or found.file_type is not FileType.PHOTO:
        return {"skipped": True}
    with transaction(runtime.session_factory) as mark:
        image = mark.get(Image, uuid.UUID(image_id))
        if image is not None:
            image.status = ImageStatus.PROCESSING
    ctx.progress(0.1, "reading the original")
    data = store.read(found.key)
    sha256 = hashlib.sha256(data).hexdigest()
    ctx.progress(0.2, "making the thumbnail and preview, scoring the photo")
    try:
        derived = runtime.decoders.run(runtime.decode_steps.photo, data)
    except InvalidInput as exc:  # including DecoderFailed: a crash or hang on this file
        image = ctx.session.get(Image, uuid.UUID(image_id))
        assert image is not None
        image.status, image.failure_reason = ImageStatus.FAILED, exc.detail
        image.original_sha256 = image.original_sha256 or sha256
        return {"failed": exc.detail}
    variants, analysed = derived.variants, derived.analysis
    thumb_key = variant_key(found.key, "thumbnail", "webp")
    preview_key = variant_key(found.key, "preview", "jpg")
    put_once(store, thumb_key, variants.thumbnail, content_type=variants.thumbnail_media_type)
    put_once(store, preview_key, variants.preview, content_type=variants.preview_media_type)
    ctx.progress(0.9, "saving")
    image = ctx.session.get(Image, uuid.UUID(image_id))
    assert image is not None
    image.status = ImageStatus.READY
    image.failure_reason = None
    image.original_sha256 = image.original_sha256 or sha256
    image.width, image.height = variants.width, variants.height
    image.variants = {"thumbnail": thumb_key, "preview": preview_key}
    image.captured_at = _captured_at(dict(variants.kept_metadata))
    image.info = {
        "exif": dict(variants.kept_metadata),
        "view_scores": analysed["view_scores"],
        "view_reason": analysed["view_reason"],  # why the classifier left the view unset
    }
    image.quality_score = analysed["quality"]["overall"]
    image.quality = analysed["quality"]
    image.category = image.category or analysed["category"]
    if not found.view_set_by_user and analysed["view"] is not None:
        image.view_code, image.view_confidence = analysed["view"], analysed["confidence"]
    return {"quality": image.quality_score, "view": image.view_code}


@dataclass(frozen=True)
class DerivedPhoto:
    """What the pixel work on one photo yields: its variants and the quality and view analysis."""

    variants: PhotoVariants
    analysis: dict[str, Any]


def derive_photo(data: bytes) -> DerivedPhoto:
    """Variants, quality score and view suggestion of one photo: every decode of its bytes."""
    variants = make_variants(data)
    return DerivedPhoto(variants=variants, analysis=_analyse(variants))


def _analyse(variants: PhotoVariants) -> dict[str, Any]:
    """Quality and view from the preview (decoded once, small enough to be quick)."""
    rgb = np.asarray(PILImage.open(io.BytesIO(variants.preview)).convert("RGB"))
    quality = score_quality(rgb, original_size=(variants.width, variants.height))
    view = classify_view(rgb)
    return {
        "quality": {
            "overall": round(float(quality.overall), 1),
            "focus": round(float(quality.focus), 1),
            "exposure": round(float(quality.exposure), 1),
            "resolution": round(float(quality.resolution), 1),
            "reasons": list(quality.reasons),
            "retake_suggested": quality.retake_suggested,
        },
        "view": view.view.value if view.view and view.view.value != "XRAY" else None,
        "confidence": round(float(view.confidence), 3),
        "category": view.category.value if view.category else None,
        # float(): OpenCV gives numpy scalars, which a JSON column refuses.
        "view_scores": {code.value: round(float(score), 3) for code, score in view.scores.items()},
        "view_reason": view.reason,
    }
