"""`ortholens storage check`: orphans, missing objects, checksum mismatches, safe repairs."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable

from click.testing import Result
from sqlalchemy import select

from ortholens.image.integrity import check_storage
from ortholens.kit.db import transaction
from ortholens.kit.jobs import Job
from ortholens.models import Image, ImageStatus
from ortholens.runtime import Runtime
from tests.factories import create_clinic, create_image, create_patient


def check(runtime: Runtime, *, repair: bool = False):  # type: ignore[no-untyped-def]
    with transaction(runtime.session_factory) as session:
        return check_storage(session, runtime.store, repair=repair)


def with_checksum(runtime: Runtime, image: Image, sha256: str) -> None:
    with transaction(runtime.session_factory) as session:
        row = session.get(Image, image.id)
        assert row is not None
        row.original_sha256 = sha256


def test_a_consistent_store_is_clean(runtime: Runtime) -> None:
    image = create_image(runtime, create_patient(runtime, create_clinic(runtime)))
    with_checksum(runtime, image, hashlib.sha256(b"original-bytes").hexdigest())
    report = check(runtime)
    assert report.clean
    assert report.images_checked == 1


def test_orphans_are_found_and_repair_deletes_only_them(runtime: Runtime) -> None:
    image = create_image(runtime, create_patient(runtime, create_clinic(runtime)))
    orphan = f"{uuid.uuid4()}/{uuid.uuid4()}/photo/{uuid.uuid4()}/original.jpg"
    runtime.store.put(orphan, b"left behind", content_type="image/jpeg")
    in_flight = image.original_key.rsplit("/", 1)[0] + "/preview.jpg"  # a variant not yet committed
    runtime.store.put(in_flight, b"preview", content_type="image/jpeg")
    assert check(runtime).orphan_objects == [orphan]
    repaired = check(runtime, repair=True)
    assert f"deleted orphan object {orphan}" in repaired.repaired
    assert runtime.store.head(orphan) is None
    assert runtime.store.head(in_flight) is not None
    assert check(runtime).clean


def test_missing_original_and_bad_checksum_are_reported_not_repaired(runtime: Runtime) -> None:
    patient = create_patient(runtime, create_clinic(runtime))
    gone, altered = create_image(runtime, patient), create_image(runtime, patient)
    runtime.store.delete(gone.original_key)
    with_checksum(runtime, altered, "0" * 64)
    report = check(runtime, repair=True)
    assert report.missing_originals == [str(gone.id)]
    assert report.checksum_mismatches == [str(altered.id)]
    assert not report.clean


def test_missing_variants_are_rebuilt_by_reprocessing(runtime: Runtime) -> None:
    image = create_image(runtime, create_patient(runtime, create_clinic(runtime)))
    runtime.store.delete(image.variants["thumbnail"])
    report = check(runtime, repair=True)
    assert report.missing_variants == [str(image.id)]
    with runtime.session_factory() as session:
        assert session.get(Image, image.id).status is ImageStatus.UPLOADED  # type: ignore[union-attr]
        assert session.scalar(select(Job.name)) == "image.process"


def test_cli_exit_codes(runtime: Runtime, run_cli: Callable[..., Result]) -> None:
    image = create_image(runtime, create_patient(runtime, create_clinic(runtime)))
    ok = run_cli("storage", "check")
    assert ok.exit_code == 0, ok.output
    assert "agree" in ok.output
    runtime.store.delete(image.original_key)
    broken = run_cli("storage", "check")
    assert broken.exit_code == 1
    assert "original is missing" in broken.output
