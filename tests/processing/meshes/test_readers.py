"""Every single-file scan format, its metadata, and every refusal of a bad file."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest
import trimesh

from ortholens.kit.errors import InvalidInput, PayloadTooLarge
from ortholens.processing.meshes.readers import read_mesh_file
from ortholens.processing.meshes.sniff import Sniffed, sniff
from ortholens.processing.meshes.types import ArchType, MeshFormat, MeshLimits, ScannerType
from tests.processing.meshes import mesh_files


def same_geometry(a: trimesh.Trimesh, b: trimesh.Trimesh) -> bool:
    """Same triangle set regardless of vertex order and indexing."""

    def triangles(mesh: trimesh.Trimesh) -> np.ndarray:
        corners = np.round(np.asarray(mesh.vertices)[mesh.faces], 4).reshape(-1, 9)
        return corners[np.lexsort(corners.T[::-1])]

    return a.faces.shape == b.faces.shape and np.allclose(triangles(a), triangles(b))


def read_one(data: bytes, name: str = "scan", limits: MeshLimits = MeshLimits()):
    meshes = read_mesh_file(data, name, limits)
    assert len(meshes) == 1
    return meshes[0]


# --- STL ----------------------------------------------------------------------------------------


def test_binary_stl_whose_header_starts_with_solid_is_read_as_binary() -> None:
    sphere = trimesh.creation.icosphere(subdivisions=2)
    data = mesh_files.binary_stl(sphere, header=b"solid iTero scan export")
    assert data.startswith(b"solid")
    assert sniff(data) is Sniffed.STL_BINARY
    loaded = read_one(data)
    assert loaded.format is MeshFormat.STL
    # corners merged into an indexed mesh: one vertex per sphere vertex, not three per face
    assert len(loaded.mesh.vertices) == len(sphere.vertices)
    assert same_geometry(loaded.mesh, sphere)
    assert loaded.scanner.scanner_type is ScannerType.ITERO
    assert loaded.scanner.units == "mm"
    assert loaded.scanner.arch is None  # an STL header naming a scanner says nothing of the jaw


def test_binary_stl_merges_negative_zero_with_zero() -> None:
    mesh = mesh_files.cube()
    mesh.vertices = np.asarray(mesh.vertices) - 0.5  # vertices at +-0.5, none at zero
    data = bytearray(mesh_files.binary_stl(mesh))
    records = np.frombuffer(bytes(data), dtype=mesh_files.STL_RECORD, offset=84).copy()
    records["corners"][records["corners"] == -0.5] = 0.0
    records["corners"][0, 0, 0] = -0.0
    loaded = read_one(bytes(data[:84]) + records.tobytes())
    assert not (np.signbit(loaded.mesh.vertices) & (loaded.mesh.vertices == 0)).any()
    assert len(np.unique(loaded.mesh.vertices, axis=0)) == len(loaded.mesh.vertices)


def test_ascii_stl_facet_cap_is_checked_before_parsing_coordinates() -> None:
    with pytest.raises(InvalidInput, match="declares 12 triangles"):
        read_mesh_file(
            mesh_files.ascii_stl(mesh_files.cube()), "a.stl", MeshLimits(max_triangles=5)
        )


def test_truncated_ascii_stl_is_refused() -> None:
    data = mesh_files.ascii_stl(mesh_files.cube())
    cut = data[: data.rindex(b"vertex")] + b"endloop\nendfacet\n"
    with pytest.raises(InvalidInput, match="does not have 3 vertices"):
        read_mesh_file(cut, "a.stl")


def test_ascii_stl() -> None:
    cube = mesh_files.cube()
    loaded = read_one(mesh_files.ascii_stl(cube, name="3Shape TRIOS upper"))
    assert loaded.format is MeshFormat.STL
    assert len(loaded.mesh.vertices) == 8
    assert same_geometry(loaded.mesh, cube)
    assert loaded.scanner.scanner_type is ScannerType.THREESHAPE


def test_stl_read_from_a_path(tmp_path: Path) -> None:
    path = tmp_path / "no-extension"
    path.write_bytes(mesh_files.binary_stl(mesh_files.cube()))
    assert same_geometry(read_mesh_file(path, "upload")[0].mesh, mesh_files.cube())


def test_truncated_binary_stl_is_refused() -> None:
    data = mesh_files.binary_stl(mesh_files.cube(), header=b"binary")
    with pytest.raises(InvalidInput, match="truncated"):
        read_mesh_file(data[:-7], "scan.stl")


def test_stl_triangle_cap_is_checked_from_the_header_before_reading() -> None:
    header = b"x" * 80 + struct.pack("<I", 2_000_000_000)  # promises 100 GB, has 84 bytes
    with pytest.raises(InvalidInput, match="declares 2,000,000,000 triangles"):
        read_mesh_file(header + b"\x01" * 50, "scan.stl")


def test_stl_with_zero_triangles_is_refused() -> None:
    with pytest.raises(InvalidInput, match="no triangles"):
        read_mesh_file(b"\x01" * 80 + struct.pack("<I", 0), "empty.stl")
    with pytest.raises(InvalidInput, match="no triangles"):
        read_mesh_file(b"solid empty\nendsolid empty\n", "empty.stl")


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_stl_with_non_finite_coordinates_is_refused(bad: float) -> None:
    mesh = mesh_files.cube()
    data = bytearray(mesh_files.binary_stl(mesh, header=b"binary"))
    struct.pack_into("<f", data, 84 + 12 + 4, bad)  # first triangle, first corner, y
    with pytest.raises(InvalidInput, match="NaN or infinite"):
        read_mesh_file(bytes(data), "scan.stl")
    text = mesh_files.ascii_stl(mesh).replace(b"vertex 1.000000e+00", f"vertex {bad}".encode(), 1)
    with pytest.raises(InvalidInput, match="NaN or infinite"):
        read_mesh_file(text, "scan.stl")


def test_file_over_the_size_cap_is_refused_as_payload_too_large(tmp_path: Path) -> None:
    data = mesh_files.binary_stl(mesh_files.cube())
    limits = MeshLimits(max_file_bytes=len(data) - 1)
    with pytest.raises(PayloadTooLarge):
        read_mesh_file(data, "scan.stl", limits)
    path = tmp_path / "big.stl"
    path.write_bytes(data)
    with pytest.raises(PayloadTooLarge):
        read_mesh_file(path, "big.stl", limits)


def test_vertex_cap_is_enforced_after_merging() -> None:
    sphere = trimesh.creation.icosphere(subdivisions=2)  # 162 vertices, 320 faces
    with pytest.raises(InvalidInput, match="vertices"):
        read_mesh_file(mesh_files.binary_stl(sphere), "s.stl", MeshLimits(max_vertices=100))


def test_unknown_format_is_refused() -> None:
    for data in (b"", b"hello, this is a text file\n", b"\x89PNG\r\n\x1a\n"):
        with pytest.raises(InvalidInput, match="not a 3D scan format"):
            read_mesh_file(data, "thing.stl")


# --- PLY ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["ascii", "binary_little_endian", "binary_big_endian"])
def test_ply_keeps_vertex_colours(encoding: str) -> None:
    mesh = mesh_files.cube()
    colours = np.array([[i * 30, 255 - i * 30, 7] for i in range(8)], dtype=np.uint8)
    comments = ("Medit Link export", "jaw: Lower", "units: mm", "scan_date: 2025-12-01T09:30:00")
    loaded = read_one(mesh_files.ply(mesh, encoding, colours, comments))
    assert loaded.format is MeshFormat.PLY
    assert loaded.has_colour
    assert np.allclose(loaded.mesh.vertices, mesh.vertices)
    np.testing.assert_array_equal(loaded.mesh.faces, mesh.faces)
    np.testing.assert_array_equal(np.asarray(loaded.mesh.visual.vertex_colors)[:, :3], colours)
    assert loaded.scanner.scanner_type is ScannerType.MEDIT
    assert loaded.scanner.arch is ArchType.LOWER
    assert loaded.scanner.captured_at is not None and loaded.scanner.captured_at.day == 1


def test_ply_without_colour_says_so() -> None:
    loaded = read_one(mesh_files.ply(mesh_files.cube(), "binary_little_endian"))
    assert not loaded.has_colour
    assert loaded.scanner.scanner_type is None


def test_ply_shorter_than_its_header_promises_is_refused() -> None:
    data = mesh_files.ply(mesh_files.cube(), "binary_little_endian")
    with pytest.raises(InvalidInput, match="truncated"):
        read_mesh_file(data[:-20], "scan.ply")
    ascii_data = mesh_files.ply(mesh_files.cube(), "ascii")
    with pytest.raises(InvalidInput, match="fewer lines"):
        read_mesh_file(ascii_data[: ascii_data.index(b"3 ")], "scan.ply")


def test_ply_declared_counts_are_checked_before_reading() -> None:
    data = mesh_files.ply(mesh_files.cube(), "binary_little_endian", face_count=10**9)
    with pytest.raises(InvalidInput, match="declares 1,000,000,000 triangles"):
        read_mesh_file(data, "scan.ply")


def test_ply_point_cloud_is_refused_as_empty() -> None:
    data = mesh_files.ply(mesh_files.cube(), "ascii", face_count=0)
    with pytest.raises(InvalidInput, match="no triangles"):
        read_mesh_file(data[: data.index(b"3 ")], "cloud.ply")


def test_ply_face_index_out_of_range_is_refused() -> None:
    mesh = mesh_files.cube()
    broken = trimesh.Trimesh(
        mesh.vertices, np.where(mesh.faces == 7, 99, mesh.faces), process=False
    )
    with pytest.raises(InvalidInput, match="vertices that do not exist"):
        read_mesh_file(mesh_files.ply(broken, "binary_little_endian"), "scan.ply")
    with pytest.raises(InvalidInput, match="vertices that do not exist"):
        read_mesh_file(mesh_files.ply(broken, "ascii"), "scan.ply")


def test_ply_with_nan_is_refused() -> None:
    mesh = mesh_files.cube()
    mesh.vertices[3, 1] = np.nan
    with pytest.raises(InvalidInput, match="NaN or infinite"):
        read_mesh_file(mesh_files.ply(mesh, "binary_big_endian"), "scan.ply")


# --- OBJ ----------------------------------------------------------------------------------------


def test_lone_obj_is_read_as_geometry_only() -> None:
    files = mesh_files.obj_with_texture()
    loaded = read_one(files["scan/model.obj"], "model.obj")
    assert loaded.format is MeshFormat.OBJ
    assert len(loaded.mesh.faces) == 2
    assert loaded.texture_png is None
    assert loaded.scanner.scanner_type is ScannerType.MEDIT


def test_obj_face_index_out_of_range_is_refused() -> None:
    with pytest.raises(InvalidInput):
        read_mesh_file(b"v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 9\n", "bad.obj")


def test_obj_without_faces_is_refused() -> None:
    with pytest.raises(InvalidInput, match="no triangles"):
        read_mesh_file(b"v 0 0 0\nv 1 0 0\nv 0 1 0\n", "cloud.obj")


# --- 3MF ----------------------------------------------------------------------------------------


def test_3mf_round_trip_keeps_geometry_and_unit() -> None:
    sphere = trimesh.creation.icosphere(subdivisions=1, radius=5)
    data = mesh_files.threemf(sphere)
    assert sniff(data) is Sniffed.THREE_MF
    loaded = read_one(data, "arch.3mf")
    assert loaded.format is MeshFormat.THREE_MF
    assert same_geometry(loaded.mesh, sphere)
    assert loaded.scanner.units == "mm"
    assert "3mf_metadata" in loaded.scanner.extra


def test_3mf_triangle_cap() -> None:
    data = mesh_files.threemf(trimesh.creation.icosphere(subdivisions=1))
    with pytest.raises(InvalidInput, match="triangles"):
        read_mesh_file(data, "arch.3mf", MeshLimits(max_triangles=10))


# --- 3Shape HPS ---------------------------------------------------------------------------------


def test_hps_unencrypted_schema_is_decoded_with_its_properties() -> None:
    vertices, faces = mesh_files.tetrahedron()
    data = mesh_files.hps(
        vertices, faces, properties={"ScanType": "Maxilla", "PatientName": "Ann Example"}
    )
    loaded = read_one(data, "upper.dcm")
    assert loaded.format is MeshFormat.DCM
    np.testing.assert_allclose(loaded.mesh.vertices, vertices)
    np.testing.assert_array_equal(loaded.mesh.faces, faces)
    assert loaded.scanner.scanner_type is ScannerType.THREESHAPE
    assert loaded.scanner.arch is ArchType.UPPER
    assert loaded.scanner.patient_name == "Ann Example"


def test_hps_vertex_colours_are_kept() -> None:
    vertices, faces = mesh_files.tetrahedron()
    colours = np.array([[250, 0, 0], [0, 250, 0], [0, 0, 250], [9, 9, 9]], dtype=np.uint8)
    loaded = read_one(mesh_files.hps(vertices, faces, colours=colours), "scan.dcm")
    assert loaded.has_colour
    np.testing.assert_array_equal(np.asarray(loaded.mesh.visual.vertex_colors)[:, :3], colours)


def test_hps_encrypted_schema_is_refused_clearly() -> None:
    vertices, faces = mesh_files.tetrahedron()
    with pytest.raises(InvalidInput, match="This 3Shape file is encrypted"):
        read_mesh_file(mesh_files.hps(vertices, faces, schema="CE"), "scan.dcm")


def test_hps_corrupt_geometry_is_refused() -> None:
    vertices, faces = mesh_files.tetrahedron()
    with pytest.raises(InvalidInput, match="damaged 3Shape file"):
        read_mesh_file(mesh_files.hps(vertices, faces, facet_count=5), "scan.dcm")
    with pytest.raises(InvalidInput, match="damaged 3Shape file"):
        read_mesh_file(mesh_files.hps(vertices, faces)[:-40], "scan.dcm")
    bad_index = faces.copy()
    bad_index[0, 0] = 50
    with pytest.raises(InvalidInput, match="damaged 3Shape file"):
        read_mesh_file(mesh_files.hps(vertices, bad_index), "scan.dcm")


def test_hps_with_a_dtd_is_refused() -> None:
    vertices, faces = mesh_files.tetrahedron()
    data = mesh_files.hps(vertices, faces).replace(
        b"<HPS", b'<!DOCTYPE x [<!ENTITY a "aaaa">]>\n<HPS', 1
    )
    with pytest.raises(InvalidInput, match="3Shape"):
        read_mesh_file(data, "scan.dcm")


def test_hps_counts_are_checked_before_decoding() -> None:
    vertices, faces = mesh_files.tetrahedron()
    with pytest.raises(InvalidInput, match="declares"):
        read_mesh_file(mesh_files.hps(vertices, faces), "scan.dcm", MeshLimits(max_triangles=3))
