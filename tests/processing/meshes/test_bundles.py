"""ZIP bundles as scanners export them, and every ZIP refusal."""

from __future__ import annotations

import io
import stat
import zipfile

import numpy as np
import pytest
import trimesh

from ortholens.kit.errors import InvalidInput, PayloadTooLarge
from ortholens.processing.meshes.readers import read_mesh_file
from ortholens.processing.meshes.types import ArchType, MeshFormat, MeshLimits, ScannerType
from tests.processing.meshes import mesh_files


def arch_mesh(offset: float) -> trimesh.Trimesh:
    mesh = trimesh.creation.icosphere(subdivisions=1)
    mesh.apply_translation((offset, 0, 0))
    return mesh


def test_itero_bundle_order_xml_names_each_jaw() -> None:
    # Names carry no hint; the order XML is the only source of the jaw.
    bundle = mesh_files.zip_bytes({
        "export/a1.stl": mesh_files.binary_stl(arch_mesh(0), header=b"binary export"),
        "export/b2.stl": mesh_files.binary_stl(arch_mesh(10), header=b"binary export"),
        "export/c3.stl": mesh_files.binary_stl(arch_mesh(20), header=b"binary export"),
        "export/order.xml": mesh_files.ITERO_ORDER_XML,
    })  # fmt: skip
    meshes = {m.source_name: m for m in read_mesh_file(bundle, "itero.zip")}
    assert set(meshes) == {"export/a1.stl", "export/b2.stl", "export/c3.stl"}
    assert meshes["export/a1.stl"].scanner.arch is ArchType.UPPER
    assert meshes["export/b2.stl"].scanner.arch is ArchType.LOWER
    assert meshes["export/c3.stl"].scanner.arch is ArchType.BITE
    a1 = meshes["export/a1.stl"].scanner
    assert a1.scanner_type is ScannerType.ITERO
    assert a1.patient_name == "Ann Example"
    assert a1.patient_ref == "C-17"
    assert a1.order_ref == "ORD-991"
    assert a1.captured_at is not None and a1.captured_at.year == 2026
    assert np.isclose(meshes["export/b2.stl"].mesh.bounds[0][0], 9, atol=0.01)


def test_jaw_is_never_taken_from_file_names() -> None:
    bundle = mesh_files.zip_bytes({
        "upper.stl": mesh_files.binary_stl(arch_mesh(0), header=b"binary"),
        "lower.stl": mesh_files.binary_stl(arch_mesh(10), header=b"binary"),
        "info.xml": b"<Order><Scan file='upper.stl'/><Scan file='lower.stl'/></Order>",
    })  # fmt: skip
    assert [m.scanner.arch for m in read_mesh_file(bundle, "set.zip")] == [None, None]


def test_attribute_name_can_name_the_jaw() -> None:
    bundle = mesh_files.zip_bytes({
        "x.ply": mesh_files.ply(mesh_files.cube()),
        "y.ply": mesh_files.ply(mesh_files.cube()),
        "case.xml": b'<Case><Models upperJaw="x.ply" lowerJaw="y.ply"/></Case>',
    })  # fmt: skip
    arches = {m.source_name: m.scanner.arch for m in read_mesh_file(bundle, "set.zip")}
    assert arches == {"x.ply": ArchType.UPPER, "y.ply": ArchType.LOWER}


def test_obj_with_mtl_and_texture_from_sibling_entries() -> None:
    loaded = read_mesh_file(mesh_files.zip_bytes(mesh_files.obj_with_texture()), "obj.zip")
    assert len(loaded) == 1
    obj = loaded[0]
    assert obj.format is MeshFormat.OBJ
    assert obj.has_colour
    assert obj.texture_png is not None and obj.texture_png.startswith(b"\x89PNG")
    from PIL import Image

    image = Image.open(io.BytesIO(obj.texture_png)).convert("RGB")
    assert image.size == (4, 4) and image.getpixel((1, 1)) == (180, 40, 40)
    assert np.asarray(obj.mesh.visual.uv).shape == (len(obj.mesh.vertices), 2)


def test_obj_texture_over_the_pixel_cap_is_refused() -> None:
    files = mesh_files.obj_with_texture()
    with pytest.raises(InvalidInput, match="pixels"):
        read_mesh_file(mesh_files.zip_bytes(files), "obj.zip", MeshLimits(max_texture_pixels=15))


def test_zipped_dcm_one_level_down_and_deeper_nesting_refused() -> None:
    vertices, faces = mesh_files.tetrahedron()
    inner = mesh_files.zip_bytes(
        {"scan.dcm": mesh_files.hps(vertices, faces, properties={"Jaw": "Lower"})}
    )
    loaded = read_mesh_file(mesh_files.zip_bytes({"inner.zip": inner}), "outer.zip")
    assert [(m.source_name, m.format, m.scanner.arch) for m in loaded] == [
        ("inner.zip/scan.dcm", MeshFormat.DCM, ArchType.LOWER)
    ]
    deeper = mesh_files.zip_bytes({"middle.zip": mesh_files.zip_bytes({"inner.zip": inner})})
    with pytest.raises(InvalidInput, match="nests ZIP files deeper"):
        read_mesh_file(deeper, "outer.zip")


def test_encrypted_dcm_in_a_bundle_is_refused() -> None:
    vertices, faces = mesh_files.tetrahedron()
    bundle = mesh_files.zip_bytes({"a.dcm": mesh_files.hps(vertices, faces, schema="CE")})
    with pytest.raises(InvalidInput, match="This 3Shape file is encrypted"):
        read_mesh_file(bundle, "trios.zip")


def test_bundle_without_meshes_is_refused() -> None:
    with pytest.raises(InvalidInput, match="holds no 3D scan"):
        read_mesh_file(mesh_files.zip_bytes({"readme.txt": b"hello"}), "x.zip")


def test_broken_mesh_inside_a_bundle_is_refused() -> None:
    data = mesh_files.binary_stl(mesh_files.cube(), header=b"binary")[:-10]
    with pytest.raises(InvalidInput, match="truncated"):
        read_mesh_file(mesh_files.zip_bytes({"a.stl": data}), "x.zip")


@pytest.mark.parametrize(
    "path", ["/etc/scan.stl", "../scan.stl", "a/../../scan.stl", "C:/scan.stl", "a\\..\\b.stl"]
)
def test_unsafe_paths_are_refused(path: str) -> None:
    info = zipfile.ZipInfo("placeholder")
    info.filename = path  # ZipInfo() would normalise some of these; real attackers' zips do not
    with pytest.raises(InvalidInput, match="unsafe path"):
        read_mesh_file(
            mesh_files.zip_with_info(info, mesh_files.binary_stl(mesh_files.cube())), "x.zip"
        )


def test_symlinks_are_refused() -> None:
    info = zipfile.ZipInfo("scan.stl")
    info.create_system = 3
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    with pytest.raises(InvalidInput, match="symbolic link"):
        read_mesh_file(mesh_files.zip_with_info(info, b"/etc/passwd"), "x.zip")


def test_encrypted_entries_are_refused() -> None:
    data = bytearray(mesh_files.zip_bytes({"scan.stl": mesh_files.binary_stl(mesh_files.cube())}))
    data[6] |= 0x1  # general purpose flag bit 0 (encrypted), local header
    central = data.rfind(b"PK\x01\x02")
    data[central + 8] |= 0x1  # and central directory
    with pytest.raises(InvalidInput, match="password-protected"):
        read_mesh_file(bytes(data), "x.zip")


def test_too_many_entries_are_refused() -> None:
    entries = {f"f{i}.txt": b"x" for i in range(6)}
    with pytest.raises(InvalidInput, match="entries"):
        read_mesh_file(mesh_files.zip_bytes(entries), "x.zip", MeshLimits(max_zip_entries=5))


def test_zip_bomb_by_ratio_is_refused() -> None:
    bomb = mesh_files.zip_bytes({"scan.stl": bytes(4 * 1024 * 1024)})  # 4 MB of zeros -> ~4 kB
    with pytest.raises(PayloadTooLarge, match="zip bomb"):
        read_mesh_file(bomb, "x.zip")


def test_declared_total_over_the_cap_is_refused() -> None:
    bundle = mesh_files.zip_bytes({"a.stl": mesh_files.binary_stl(mesh_files.cube())})
    with pytest.raises(PayloadTooLarge, match="expand"):
        read_mesh_file(bundle, "x.zip", MeshLimits(max_zip_total_bytes=100))


def test_entry_producing_more_than_declared_is_refused() -> None:
    data = mesh_files.binary_stl(trimesh.creation.icosphere(subdivisions=2))
    lying = mesh_files.zip_lying_about_size(data, declared=200)
    with pytest.raises(InvalidInput, match="damaged ZIP"):
        read_mesh_file(lying, "x.zip")


def test_nested_zip_output_counts_against_one_budget() -> None:
    stl = mesh_files.binary_stl(trimesh.creation.icosphere(subdivisions=3))  # ~64 kB
    inner = mesh_files.zip_bytes({"a.stl": stl})
    outer = mesh_files.zip_bytes({"i1.zip": inner, "i2.zip": inner}, zipfile.ZIP_STORED)
    limits = MeshLimits(max_zip_total_bytes=2 * len(inner) + len(stl) + 10)
    with pytest.raises(PayloadTooLarge):
        read_mesh_file(outer, "x.zip", limits)
    assert len(read_mesh_file(outer, "x.zip")) == 2


def test_side_files_that_are_not_meshes_are_ignored() -> None:
    from PIL import Image

    photo = io.BytesIO()
    Image.fromarray(np.random.default_rng(1).integers(0, 255, (64, 64, 3), dtype=np.uint8)).save(
        photo, "PNG"
    )
    bundle = mesh_files.zip_bytes({
        "a1.stl": mesh_files.binary_stl(arch_mesh(0), header=b"binary"),
        "photo.png": photo.getvalue(),
        "rx.pdf": b"%PDF-1.7\n\x00\x01\x02" + bytes(range(256)) * 4,
    })  # fmt: skip
    assert [m.source_name for m in read_mesh_file(bundle, "set.zip")] == ["a1.stl"]
