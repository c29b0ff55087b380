"""Seed 000 mesh export: every format round-trips, frames and units convert, metadata is embedded,
ZIPs are valid."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pytest
import trimesh
from lxml import etree
from scipy.spatial import cKDTree

from ortholens.kit.errors import InvalidInput
from ortholens.processing.meshes.export import (
    EXPORT_FORMATS,
    INCH_PER_MM,
    ExportItem,
    ExportOptions,
    export_mesh,
    export_transform,
)
from ortholens.processing.meshes.types import MeshFormat

FORMATS = list(EXPORT_FORMATS)
CORE_NS = "http://schemas.microsoft.com/3dmanufacturing/core/2015/02"


def scan_like() -> trimesh.Trimesh:
    """A closed, coloured, off-centre mesh in mm with a distinct extent per axis."""
    mesh = trimesh.creation.icosphere(subdivisions=3)
    mesh.apply_scale([20.0, 12.0, 6.0])
    mesh.apply_translation([3.0, -4.0, 11.0])
    rgba = np.c_[(mesh.vertices[:, :3] % 255).astype(np.uint8), np.full(len(mesh.vertices), 255)]
    mesh.visual = trimesh.visual.ColorVisuals(mesh, vertex_colors=rgba.astype(np.uint8))
    return mesh


def reload(data: bytes, extension: str) -> trimesh.Trimesh:
    loaded = trimesh.load(io.BytesIO(data), file_type=extension, process=False, force="mesh")
    assert isinstance(loaded, trimesh.Trimesh)
    return loaded


def in_scanner_frame(mesh: trimesh.Trimesh, options: ExportOptions) -> np.ndarray:
    """Undo the axis and unit conversion."""
    inverse = np.linalg.inv(export_transform(options.up_axis, options.units))
    return trimesh.transform_points(mesh.vertices, inverse)


def canonical_faces(faces: np.ndarray) -> set[tuple[int, ...]]:
    """Faces as sets that keep winding: each rolled so its smallest index comes first."""
    rolled = [np.roll(face, -int(np.argmin(face))) for face in faces]
    return {tuple(int(i) for i in face) for face in rolled}


def assert_same_geometry(original: trimesh.Trimesh, back: np.ndarray, faces: np.ndarray) -> None:
    assert len(faces) == len(original.faces)
    distance, nearest = cKDTree(original.vertices).query(back)
    assert distance.max() < 1e-4  # mm: float32 STL/PLY, 8-decimal OBJ, 3MF text
    # every face comes back with the same corners in the same winding
    assert canonical_faces(nearest[faces]) == canonical_faces(original.faces)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(("up_axis", "units"), [("Z", "mm"), ("Y", "inch")])
def test_round_trip_gives_the_same_geometry(fmt: MeshFormat, up_axis: str, units: str) -> None:
    mesh = scan_like()
    options = ExportOptions(format=fmt, up_axis=up_axis, units=units)  # type: ignore[arg-type]
    result = export_mesh([ExportItem("upper", mesh)], options)
    extension = EXPORT_FORMATS[fmt][0]
    assert result.filename == f"upper.{extension}"
    assert result.content_type == EXPORT_FORMATS[fmt][1]
    back = reload(result.read_bytes(), extension)
    back.merge_vertices()  # STL is a triangle soup
    assert_same_geometry(mesh, in_scanner_frame(back, options), back.faces)
    assert result.files[0].faces == len(mesh.faces)


@pytest.mark.parametrize("fmt", [MeshFormat.PLY, MeshFormat.OBJ])
def test_vertex_colours_survive_formats_that_hold_them(fmt: MeshFormat) -> None:
    mesh = scan_like()
    result = export_mesh([ExportItem("upper", mesh)], ExportOptions(format=fmt))
    back = reload(result.read_bytes(), EXPORT_FORMATS[fmt][0])
    _, nearest = cKDTree(mesh.vertices).query(back.vertices)
    np.testing.assert_array_equal(
        back.visual.vertex_colors[:, :3], mesh.visual.vertex_colors[nearest, :3]
    )


def test_inch_scales_by_one_over_25_4() -> None:
    mesh = scan_like()
    result = export_mesh([ExportItem("upper", mesh)], ExportOptions(units="inch"))
    back = reload(result.read_bytes(), "stl")
    np.testing.assert_allclose(back.extents, mesh.extents * INCH_PER_MM, rtol=1e-6)
    np.testing.assert_allclose(back.bounds, mesh.bounds / 25.4, atol=1e-6)


def test_y_up_is_a_rotation_not_a_mirror() -> None:
    mesh = scan_like()
    rotation = export_transform("Y", "mm")[:3, :3]
    assert np.linalg.det(rotation) == pytest.approx(1.0)
    np.testing.assert_allclose(rotation @ [0, 0, 1], [0, 1, 0])  # scanner up is now +Y
    result = export_mesh([ExportItem("upper", mesh)], ExportOptions(up_axis="Y"))
    back = reload(result.read_bytes(), "stl")
    back.merge_vertices()
    assert back.is_watertight
    assert back.volume > 0  # outward normals stay outward
    assert back.volume == pytest.approx(mesh.volume, rel=1e-5)
    # each face normal is the rotated original one
    np.testing.assert_allclose(back.face_normals, mesh.face_normals @ rotation.T, atol=1e-5)
    np.testing.assert_allclose(back.extents, mesh.extents[[0, 2, 1]], rtol=1e-6)


def test_metadata_is_embedded_in_every_format() -> None:
    mesh = scan_like()
    options = ExportOptions(metadata={"clinic": "North\nside", "Title": "Upper <arch> & co"})
    item = ExportItem("upper", mesh, metadata={"case": "C-17"})

    def exported(fmt: MeshFormat, units: str = "mm") -> bytes:
        chosen = ExportOptions(
            format=fmt,
            units=units,  # type: ignore[arg-type]
            metadata=options.metadata,
        )
        return export_mesh([item], chosen).read_bytes()

    stl = exported(MeshFormat.STL)
    header = stl[:80]
    assert header.startswith(b"units=mm; up_axis=Z; ")
    assert b"clinic=North side" in header  # control characters never break a header
    assert b"case=C-17" in header
    assert not header.lower().startswith(b"solid")

    ply = exported(MeshFormat.PLY)
    ply_header = ply[: ply.index(b"end_header")]
    assert b"\ncomment case: C-17\n" in ply_header
    assert b"\ncomment Title: Upper <arch> & co\n" in ply_header
    assert b"trimesh" not in ply_header

    obj = exported(MeshFormat.OBJ).decode()
    assert obj.startswith("# units: mm\n")
    assert "# case: C-17\n" in obj and "# clinic: North side\n" in obj

    package = zipfile.ZipFile(io.BytesIO(exported(MeshFormat.THREE_MF, "inch")))
    model = etree.fromstring(package.read("3D/3dmodel.model"))
    assert model.get("unit") == "inch"
    values = {m.get("name"): m.text for m in model.findall(f"{{{CORE_NS}}}metadata")}
    assert values["Title"] == "Upper <arch> & co"  # a well-known 3MF name, kept as is
    assert values["ortholens:case"] == "C-17"  # others namespaced
    assert values["Application"] == "OrthoLens"
    assert model.index(model.find(f"{{{CORE_NS}}}resources")) == len(values)  # metadata first
    assert model.find(f".//{{{CORE_NS}}}object").get("name") == "upper"


def test_ply_comments_cannot_end_the_header() -> None:
    mesh = scan_like()
    options = ExportOptions(format=MeshFormat.PLY, metadata={"note": "end_header ü"})
    data = export_mesh([ExportItem("upper", mesh)], options).read_bytes()
    assert b"comment note: end-header \\xfc\n" in data
    assert len(reload(data, "ply").faces) == len(mesh.faces)


def test_callers_cannot_overwrite_the_declared_units() -> None:
    options = ExportOptions(units="inch", metadata={"units": "mm"})
    data = export_mesh([ExportItem("upper", scan_like())], options).read_bytes()
    assert data.startswith(b"units=inch;")


def test_a_scan_set_is_one_valid_zip_with_a_file_per_arch() -> None:
    upper, lower = scan_like(), scan_like()
    lower.apply_translation([0, 0, -20])
    seen: list[tuple[float, str]] = []
    result = export_mesh(
        [ExportItem("upper", upper), ExportItem("lower", lower)],
        ExportOptions(format=MeshFormat.STL, archive_name="case-17"),
        progress=lambda fraction, message: seen.append((fraction, message)),
    )
    assert result.filename == "case-17.zip"
    assert result.content_type == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(result.read_bytes()))
    assert archive.testzip() is None
    assert archive.namelist() == ["upper.stl", "lower.stl"]
    assert all(info.compress_type == zipfile.ZIP_DEFLATED for info in archive.infolist())
    assert [f.name for f in result.files] == ["upper.stl", "lower.stl"]
    back = reload(archive.read("lower.stl"), "stl")
    back.merge_vertices()
    assert_same_geometry(lower, back.vertices, back.faces)
    fractions = [fraction for fraction, _ in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0


def test_zip_of_one_3mf_stores_it_without_deflating_twice() -> None:
    result = export_mesh(
        [ExportItem("bite", scan_like())], ExportOptions(format=MeshFormat.THREE_MF, zip=True)
    )
    archive = zipfile.ZipFile(io.BytesIO(result.read_bytes()))
    (info,) = archive.infolist()
    assert info.filename == "bite.3mf"
    assert info.compress_type == zipfile.ZIP_STORED
    assert zipfile.is_zipfile(io.BytesIO(archive.read(info)))


def test_target_faces_decimates_each_arch() -> None:
    mesh = trimesh.creation.icosphere(subdivisions=4)  # 5,120 faces
    result = export_mesh([ExportItem("upper", mesh)], ExportOptions(target_faces=1_000))
    assert abs(result.files[0].faces - 1_000) <= 50
    assert len(reload(result.read_bytes(), "stl").faces) == result.files[0].faces


def test_a_textured_obj_is_zipped_with_its_material_and_image() -> None:
    from PIL import Image

    plane = trimesh.Trimesh(
        [[0, 0, 0], [1, 0, 0], [1, 1, 0], [0, 1, 0]], [[0, 1, 2], [0, 2, 3]], process=False
    )
    uv = np.array([[0, 0], [1, 0], [1, 1], [0, 1]], dtype=float)
    plane.visual = trimesh.visual.TextureVisuals(uv=uv, image=Image.new("RGB", (4, 4), "red"))
    result = export_mesh([ExportItem("upper", plane)], ExportOptions(format=MeshFormat.OBJ))
    archive = zipfile.ZipFile(io.BytesIO(result.read_bytes()))
    names = archive.namelist()
    assert "upper/upper.obj" in names and "upper/upper.mtl" in names
    assert any(name.startswith("upper/") and name.endswith(".png") for name in names)
    assert "mtllib upper.mtl" in archive.read("upper/upper.obj").decode()


def test_large_results_go_to_a_temporary_file(tmp_path) -> None:
    options = ExportOptions(spill_bytes=1, spill_dir=tmp_path)
    result = export_mesh([ExportItem("upper", scan_like())], options)
    assert result.data is None
    assert result.path is not None and result.path.parent == tmp_path
    assert len(reload(result.path.read_bytes(), "stl").faces) == 1_280


def test_a_failed_export_leaves_no_temporary_file(tmp_path) -> None:
    def cancel(fraction: float, message: str) -> None:
        if message == "Writing":
            raise RuntimeError("job cancelled")

    options = ExportOptions(spill_bytes=1, spill_dir=tmp_path)
    with pytest.raises(RuntimeError):
        export_mesh([ExportItem("upper", scan_like())], options, progress=cancel)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("items", "options"),
    [
        ([], {}),
        ([ExportItem("upper", trimesh.Trimesh())], {}),
        ([ExportItem("../etc", trimesh.creation.box())], {}),
        ([ExportItem("upper", trimesh.creation.box())] * 2, {}),
        ([ExportItem("upper", trimesh.creation.box())], {"format": MeshFormat.DCM}),
        ([ExportItem("upper", trimesh.creation.box())], {"up_axis": "X"}),
        ([ExportItem("upper", trimesh.creation.box())], {"units": "cm"}),
        ([ExportItem("upper", trimesh.creation.box())], {"target_faces": 2}),
    ],
)
def test_bad_requests_are_refused(items: list[ExportItem], options: dict[str, object]) -> None:
    with pytest.raises(InvalidInput):
        export_mesh(items, ExportOptions(**options))  # type: ignore[arg-type]
