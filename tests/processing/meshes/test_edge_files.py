"""Edge files as they occur in the wild: padding after a binary STL, files without geometry,
several objects in a 3MF, and colour in every format (STL attributes, PLY faces, 3MF materials,
a textured PLY's vertex colours). Real files: numpy-stl's own test models (BSD licence, beside
them) and the teeth-only arches in ../shared/realdata when present."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest
import trimesh

from ortholens.kit.errors import InvalidInput
from ortholens.processing.meshes.readers import read_mesh_file
from ortholens.processing.meshes.types import ArchType, ColourKind, MeshFormat
from tests.processing.meshes import mesh_files

NUMPY_STL = Path(__file__).parent / "data" / "numpy_stl"
REAL_ARCHES = Path(__file__).resolve().parents[3].parent / "shared" / "realdata" / "sjtu-five-view"


def _refusal(data: bytes, name: str) -> str:
    with pytest.raises(InvalidInput) as refused:
        read_mesh_file(data, name)
    return refused.value.detail


# ---- binary STL padding -------------------------------------------------------------------------


def test_numpy_stls_half_donut_one_byte_longer_than_declared_is_read_and_the_byte_reported() -> (
    None
):
    data = (NUMPY_STL / "binary_HalfDonut.stl").read_bytes()
    assert len(data) == 84 + 50 * 288 + 1  # the file as numpy-stl ships it
    (loaded,) = read_mesh_file(data, "HalfDonut.stl")
    assert len(loaded.mesh.faces) == 288
    assert loaded.scanner.extra["file_notes"] == [
        "1 byte(s) after the last of the 288 triangles the header declares were ignored (padding)."
    ]


@pytest.mark.parametrize(
    "name", sorted(p.name for p in NUMPY_STL.glob("*.stl")), ids=lambda name: name
)
def test_every_numpy_stl_test_model_is_read(name: str) -> None:
    (loaded,) = read_mesh_file((NUMPY_STL / name).read_bytes(), name)
    assert loaded.format is MeshFormat.STL and len(loaded.mesh.faces) >= 12


@pytest.mark.parametrize("padding", [b"\x01", b"\x7f" * 49, b"\x00" * 300])
def test_padding_after_the_last_record_is_accepted_and_reported(padding: bytes) -> None:
    data = mesh_files.binary_stl(mesh_files.cube(), header=b"solid padded") + padding
    (loaded,) = read_mesh_file(data, "padded.stl")
    assert len(loaded.mesh.faces) == 12
    assert (
        f"{len(padding):,} byte(s) after the last of the 12 triangles"
        in (loaded.scanner.extra["file_notes"][0])
    )


def test_data_after_the_declared_records_is_refused_as_a_wrong_count() -> None:
    data = mesh_files.binary_stl(mesh_files.cube()) + b"\x01" * 100
    message = _refusal(data, "long.stl")
    assert "declares 12 triangles (684 bytes)" in message
    assert (
        "100 more bytes that are not padding" in message
        and "count in its header is wrong" in message
    )


def test_a_truncated_stl_says_how_many_bytes_are_missing() -> None:
    data = mesh_files.binary_stl(mesh_files.cube())[:-30]
    message = _refusal(data, "cut.stl")
    assert "30 too few" in message and "truncated" in message


# ---- files without geometry -------------------------------------------------------------------


def test_an_obj_with_only_comments_contains_no_triangles() -> None:
    message = _refusal(b"# Exported by a scanner\n# nothing else\n\n", "empty.obj")
    assert message == (
        "'empty.obj' contains no triangles: it has no vertices and no faces "
        "(only comments or other statements)."
    )


def test_an_obj_with_vertices_only_is_a_point_cloud() -> None:
    message = _refusal(b"# cloud\nv 0 0 0\nv 1 0 0\nv 0 1 0\n", "cloud.obj")
    assert "it has 3 vertices but no faces" in message


def test_a_ply_declaring_zero_vertices_is_not_called_a_point_cloud() -> None:
    header = b"ply\nformat ascii 1.0\nelement vertex 0\nproperty float x\nproperty float y\n"
    header += (
        b"property float z\nelement face 0\nproperty list uchar int vertex_indices\nend_header\n"
    )
    message = _refusal(header, "nothing.ply")
    assert (
        message
        == "'nothing.ply' contains no triangles: its header declares no vertices and no faces."
    )
    assert "point cloud" not in message
    cloud = mesh_files.ply(mesh_files.cube(), encoding="ascii", face_count=0)
    assert "declares 8 vertices and no faces (a point cloud" in _refusal(cloud, "cloud.ply")


# ---- 3MF with several objects -------------------------------------------------------------------


def _model_3mf(objects: list[tuple[str, trimesh.Trimesh, str]], resources: str = "") -> bytes:
    """A 3MF written by hand: objects (name, mesh, extra triangle attributes) and one build
    item each."""
    parts = []
    for index, (name, mesh, attributes) in enumerate(objects, start=1):
        vertices = "".join(f'<vertex x="{x}" y="{y}" z="{z}"/>' for x, y, z in mesh.vertices)
        triangles = "".join(
            f'<triangle v1="{a}" v2="{b}" v3="{c}" {attributes.format(i=i)}/>'
            for i, (a, b, c) in enumerate(mesh.faces)
        )
        parts.append(
            f'<object id="{index + 10}" name="{name}" type="model"><mesh><vertices>{vertices}'
            f"</vertices><triangles>{triangles}</triangles></mesh></object>"
        )
    items = "".join(f'<item objectid="{i + 10}"/>' for i in range(1, len(objects) + 1))
    model = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<model unit="millimeter" xmlns="http://schemas.microsoft.com/3dmanufacturing/core/2015/02"'
        ' xmlns:m="http://schemas.microsoft.com/3dmanufacturing/material/2015/02">'
        f"<resources>{resources}{''.join(parts)}</resources><build>{items}</build></model>"
    )
    return mesh_files.zip_bytes(
        {"[Content_Types].xml": b"<Types/>", "3D/3dmodel.model": model.encode()}
    )


def _shifted(mesh: trimesh.Trimesh, dx: float) -> trimesh.Trimesh:
    moved = mesh.copy()
    moved.apply_translation((dx, 0, 0))
    return moved


def test_a_3mf_with_several_unnamed_objects_is_one_scan_listing_its_objects() -> None:
    gears = [(f"gear {i}", _shifted(mesh_files.cube(), 3 * i), "") for i in range(5)]
    (loaded,) = read_mesh_file(_model_3mf(gears), "plate.3mf")
    assert len(loaded.mesh.faces) == 5 * 12
    assert sorted(o["name"] for o in loaded.scanner.extra["3mf_objects"]) == [
        n for n, _, _ in gears
    ]
    assert "5 objects; they were merged into one scan" in loaded.scanner.extra["file_notes"][0]


def test_numpy_stls_moon_3mf_with_two_objects_is_one_scan() -> None:
    (loaded,) = read_mesh_file((NUMPY_STL / "Moon.3mf").read_bytes(), "Moon.3mf")
    assert len(loaded.mesh.faces) == 116 + 68
    assert len(loaded.scanner.extra["3mf_objects"]) == 2


def test_a_3mf_whose_objects_are_named_for_the_jaws_is_a_labelled_set() -> None:
    objects = [
        ("Upper jaw", mesh_files.cube(), ""),
        ("Mandible", _shifted(mesh_files.cube(), 5), ""),
    ]
    upper, lower = read_mesh_file(_model_3mf(objects), "set.3mf")
    assert (upper.scanner.arch, lower.scanner.arch) == (ArchType.UPPER, ArchType.LOWER)
    assert upper.scanner.extra["3mf_object"] == "Upper jaw"
    # the same jaw twice is no labelled set
    twice = [("Upper", mesh_files.cube(), ""), ("Upper", _shifted(mesh_files.cube(), 5), "")]
    assert len(read_mesh_file(_model_3mf(twice), "twice.3mf")) == 1


# ---- colours ---------------------------------------------------------------------------------------


def test_3mf_per_corner_colours_are_vertex_colours() -> None:
    colours = (
        '<m:colorgroup id="5"><m:color color="#FF0000"/><m:color color="#00FF00"/></m:colorgroup>'
    )
    mesh = mesh_files.cube()
    objects = [("scan", mesh, 'pid="5" p1="0" p2="1" p3="0"')]
    (loaded,) = read_mesh_file(_model_3mf(objects, colours), "colour.3mf")
    assert loaded.colour is ColourKind.VERTEX and loaded.has_colour
    seen = {tuple(c) for c in np.asarray(loaded.mesh.visual.vertex_colors)[:, :3]}
    assert {(255, 0, 0), (0, 255, 0)} <= seen


def test_3mf_base_material_colours_are_face_colours() -> None:
    materials = '<basematerials id="3"><base name="gum" displaycolor="#C04050"/></basematerials>'
    objects = [("scan", mesh_files.cube(), 'pid="3" p1="0"')]
    (loaded,) = read_mesh_file(_model_3mf(objects, materials), "faces.3mf")
    assert loaded.colour is ColourKind.FACE
    assert tuple(loaded.mesh.visual.face_colors[0]) == (192, 64, 80, 255)


def test_a_3mf_without_materials_has_no_colour() -> None:
    (loaded,) = read_mesh_file(mesh_files.threemf(mesh_files.cube()), "plain.3mf")
    assert loaded.colour is None and not loaded.has_colour


def _ascii_ply(
    vertex_props: str,
    face_props: str,
    vertex_rows: list[str],
    face_rows: list[str],
    comments: str = "",
) -> bytes:
    head = f"ply\nformat ascii 1.0\n{comments}element vertex {len(vertex_rows)}\n"
    head += "property float x\nproperty float y\nproperty float z\n" + vertex_props
    head += f"element face {len(face_rows)}\nproperty list uchar int vertex_indices\n{face_props}end_header\n"
    return (head + "\n".join(vertex_rows + face_rows) + "\n").encode()


def test_ply_face_colours_are_detected() -> None:
    cube = mesh_files.cube()
    data = _ascii_ply(
        "",
        "property uchar red\nproperty uchar green\nproperty uchar blue\n",
        [f"{x} {y} {z}" for x, y, z in cube.vertices],
        [f"3 {a} {b} {c} 200 30 40" for a, b, c in cube.faces],
    )
    (loaded,) = read_mesh_file(data, "faces.ply")
    assert loaded.colour is ColourKind.FACE
    assert tuple(loaded.mesh.visual.face_colors[0][:3]) == (200, 30, 40)


def test_a_textured_ply_keeps_its_vertex_colours() -> None:
    cube = mesh_files.cube()
    data = _ascii_ply(
        "property uchar red\nproperty uchar green\nproperty uchar blue\nproperty float s\nproperty float t\n",
        "",
        [f"{x} {y} {z} 10 {20 + i} 30 0.5 0.5" for i, (x, y, z) in enumerate(cube.vertices)],
        [f"3 {a} {b} {c}" for a, b, c in cube.faces],
        comments="comment TextureFile scan_texture.png\n",
    )
    (loaded,) = read_mesh_file(data, "textured.ply")
    assert loaded.colour is ColourKind.VERTEX
    assert [tuple(c[:3]) for c in loaded.mesh.visual.vertex_colors[:2]] == [
        (10, 20, 30),
        (10, 21, 30),
    ]
    assert "scan_texture.png" in loaded.scanner.extra["file_notes"][0]


def _stl_with_attributes(attributes: list[int], header: bytes) -> bytes:
    data = bytearray(mesh_files.binary_stl(mesh_files.cube(), header=header))
    for i, word in enumerate(attributes):
        offset = 84 + 50 * i + 48
        data[offset : offset + 2] = struct.pack("<H", word)
    return bytes(data)


def test_viscam_stl_attribute_colours_are_face_colours() -> None:
    red = 0x8000 | (31 << 10)  # valid bit, red in the high bits
    data = _stl_with_attributes([red] * 6 + [0] * 6, b"binary stl with colour")
    (loaded,) = read_mesh_file(data, "viscam.stl")
    assert loaded.colour is ColourKind.FACE
    assert tuple(loaded.mesh.visual.face_colors[0][:3]) == (255, 0, 0)
    assert tuple(loaded.mesh.visual.face_colors[-1][:3]) == (102, 102, 102)


def test_materialise_stl_colours_use_the_header_default() -> None:
    header = b"COLOR=" + bytes((0, 0, 255, 255)) + b" MATERIAL=..."
    data = _stl_with_attributes([31] * 1 + [0x8000] * 11, header)  # face 0: own red colour
    (loaded,) = read_mesh_file(data, "magics.stl")
    colours = loaded.mesh.visual.face_colors
    assert tuple(colours[0][:3]) == (255, 0, 0) and tuple(colours[1][:3]) == (0, 0, 255)


def test_an_stl_without_attribute_colours_has_none() -> None:
    (loaded,) = read_mesh_file(mesh_files.binary_stl(mesh_files.cube()), "plain.stl")
    assert loaded.colour is None


# ---- real teeth-only arches ------------------------------------------------------------------------


@pytest.mark.skipif(not REAL_ARCHES.is_dir(), reason="../shared/realdata/sjtu-five-view is absent")
@pytest.mark.parametrize("name", ["arch_upper_1.obj", "arch_lower_1.obj"])
def test_the_real_teeth_only_obj_arches_are_read(name: str) -> None:
    (loaded,) = read_mesh_file((REAL_ARCHES / name).read_bytes(), name)
    assert loaded.format is MeshFormat.OBJ and len(loaded.mesh.faces) > 1000
    assert np.isfinite(loaded.mesh.vertices).all()


def test_face_colours_reach_the_web_mesh_as_vertex_colours() -> None:
    from ortholens.processing.meshes.decimate import web_mesh

    red = 0x8000 | (31 << 10)
    (loaded,) = read_mesh_file(_stl_with_attributes([red] * 12, b"coloured"), "red.stl")
    viewer = web_mesh(loaded.mesh)
    assert viewer.has_colour
    (shown,) = read_mesh_file(viewer.data, "web.ply")
    assert shown.colour is ColourKind.VERTEX
    assert tuple(shown.mesh.visual.vertex_colors[0][:3]) == (255, 0, 0)
