"""The format registry: a file's format comes from its content, whatever it is called."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

import ortholens.intraoral.service  # noqa: F401  (importing it registers the scan formats)
from ortholens.audit.service import SYSTEM
from ortholens.ingest import Incoming, IngestLimits, Submission, detect_format, prepare
from ortholens.ingest.formats import photo_content_types
from ortholens.kit.errors import InvalidInput
from ortholens.kit.storage import ObjectStore
from ortholens.models import FileType, ImageSource
from ortholens.processing.meshes.types import ArchType
from ortholens.runtime import Runtime
from tests.fixtures.photos import jpeg
from tests.intraoral import scan_files
from tests.processing.meshes import mesh_files

REALDATA = Path(__file__).resolve().parents[3] / "shared" / "realdata" / "sjtu-five-view"
needs_realdata = pytest.mark.skipif(
    not REALDATA.is_dir(), reason="../shared/realdata/sjtu-five-view is not on this machine"
)


def submission(*takes: FileType) -> Submission:
    return Submission(
        actor=SYSTEM,
        clinic_id=uuid.uuid4(),
        user_id=None,
        source=ImageSource.IMPORT,
        takes=frozenset(takes),
    )


def refusal(store: ObjectStore, name: str, data: bytes, *takes: FileType) -> str:
    with pytest.raises(InvalidInput) as refused:
        prepare(store, submission(*takes), [Incoming(name, data=data)], IngestLimits())
    return refused.value.detail


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (jpeg(1), "jpeg"),
        (scan_files.stl(ArchType.UPPER), "stl"),
        (mesh_files.ascii_stl(mesh_files.cube()), "stl"),
        (mesh_files.ply(mesh_files.cube()), "ply"),
        (mesh_files.threemf(mesh_files.cube()), "3mf"),
        (scan_files.itero_bundle(), "scan-bundle"),
    ],
    ids=["jpeg", "binary-stl", "ascii-stl", "ply", "3mf", "itero-zip"],
)
def test_the_format_comes_from_the_content(data: bytes, expected: str) -> None:
    found = detect_format(data)
    assert found is not None and found.name == expected


@needs_realdata
def test_real_photos_and_arches_are_recognised() -> None:
    photo = detect_format((REALDATA / "photo_1-4.png").read_bytes())
    arch = detect_format((REALDATA / "arch_upper_1.obj").read_bytes())
    assert photo is not None and (photo.name, photo.file_type) == ("png", FileType.PHOTO)
    assert arch is not None and (arch.name, arch.file_type) == ("obj", FileType.SCAN_3D)
    assert arch.processor_job == "intraoral.derive" and photo.processor_job == "image.process"


def test_a_jpeg_named_stl_is_a_jpeg(runtime: Runtime) -> None:
    (photo,) = prepare(
        runtime.store,
        submission(FileType.PHOTO),
        [Incoming("upper.stl", data=jpeg(2))],
        IngestLimits(),
    )
    assert (photo.format.name, photo.format.extension, photo.parsed) == ("jpeg", "jpg", "jpeg")
    detail = refusal(runtime.store, "upper.stl", jpeg(2), FileType.SCAN_3D)
    assert detail == "upper.stl: This file is a JPEG photo, not a 3D scan."


def test_a_scan_named_jpg_is_not_taken_as_a_photo(runtime: Runtime) -> None:
    detail = refusal(runtime.store, "smile.jpg", scan_files.stl(ArchType.LOWER), FileType.PHOTO)
    assert detail.startswith("smile.jpg: This file is not a photo we can read")


def test_a_zip_that_is_not_a_scan_bundle_is_refused_clearly(runtime: Runtime) -> None:
    archive = mesh_files.zip_bytes({"notes.txt": b"x-ray booked for May", "photo.jpg": jpeg(3)})
    detail = refusal(runtime.store, "records.zip", archive, FileType.SCAN_3D)
    assert detail == "'records.zip' holds no 3D scan (STL, PLY, OBJ, 3MF or 3Shape DCM files)."


def test_unknown_and_empty_files_are_refused_by_name(runtime: Runtime) -> None:
    assert refusal(runtime.store, "a.txt", b"", FileType.PHOTO) == "a.txt: The file is empty."
    detail = refusal(runtime.store, "a.txt", b"just words", FileType.SCAN_3D)
    assert detail.startswith("a.txt: This file is not one we can read here (3D scan (STL)")


def test_photo_formats_are_listed_once() -> None:
    table = photo_content_types()
    assert table == {
        "image/jpeg": "jpg",
        "image/png": "png",
        "image/heic": "heic",
        "image/heif": "heic",
        "image/tiff": "tiff",
        "image/webp": "webp",
    }
