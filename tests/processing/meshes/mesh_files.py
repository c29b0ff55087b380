"""Scan files built in code for the mesh tests: every format, and the broken variants readers refuse."""

from __future__ import annotations

import base64
import io
import struct
import zipfile

import numpy as np
import trimesh
from PIL import Image

STL_RECORD = np.dtype([("normal", "<f4", (3,)), ("corners", "<f4", (3, 3)), ("attribute", "<u2")])


def cube() -> trimesh.Trimesh:
    """Unit cube, corner at the origin: area 6, volume 1."""
    mesh = trimesh.creation.box(extents=(1, 1, 1))
    mesh.apply_translation((0.5, 0.5, 0.5))
    return mesh


def tetrahedron() -> tuple[np.ndarray, np.ndarray]:
    vertices = np.array([[0, 0, 0], [10, 0, 0], [0, 10, 0], [0, 0, 10]], dtype=np.float32)
    faces = np.array([[0, 2, 1], [0, 1, 3], [0, 3, 2], [1, 2, 3]], dtype=np.int64)
    return vertices, faces


def binary_stl(mesh: trimesh.Trimesh, header: bytes = b"solid exported by a test") -> bytes:
    records = np.zeros(len(mesh.faces), dtype=STL_RECORD)
    records["corners"] = np.asarray(mesh.vertices)[mesh.faces]
    records["normal"] = mesh.face_normals
    return header.ljust(80, b" ")[:80] + struct.pack("<I", len(records)) + records.tobytes()


def ascii_stl(mesh: trimesh.Trimesh, name: str = "part") -> bytes:
    lines = [f"solid {name}"]
    for triangle in np.asarray(mesh.vertices)[mesh.faces]:
        lines += ["  facet normal 0 0 0", "    outer loop"]
        lines += [f"      vertex {x:.6e} {y:.6e} {z:.6e}" for x, y, z in triangle]
        lines += ["    endloop", "  endfacet"]
    lines.append(f"endsolid {name}")
    return ("\n".join(lines) + "\n").encode()


def ply(
    mesh: trimesh.Trimesh,
    encoding: str = "binary_little_endian",
    colours: np.ndarray | None = None,
    comments: tuple[str, ...] = (),
    face_count: int | None = None,
) -> bytes:
    """A PLY written by hand so tests control byte order, comments and declared counts."""
    vertices = np.asarray(mesh.vertices, dtype=np.float32)
    faces = np.asarray(mesh.faces, dtype=np.int32)
    head = ["ply", f"format {encoding} 1.0", *(f"comment {c}" for c in comments)]
    head += [
        f"element vertex {len(vertices)}",
        "property float x",
        "property float y",
        "property float z",
    ]
    if colours is not None:
        head += ["property uchar red", "property uchar green", "property uchar blue"]
    head += [f"element face {face_count if face_count is not None else len(faces)}",
             "property list uchar int vertex_indices", "end_header"]  # fmt: skip
    header = ("\n".join(head) + "\n").encode()
    if encoding == "ascii":
        rows = []
        for i, v in enumerate(vertices):
            extra = (
                f" {' '.join(str(int(c)) for c in colours[i][:3])}" if colours is not None else ""
            )
            rows.append(f"{v[0]} {v[1]} {v[2]}{extra}")
        rows += [f"3 {a} {b} {c}" for a, b, c in faces]
        return header + ("\n".join(rows) + "\n").encode()
    order = "<" if encoding == "binary_little_endian" else ">"
    fields = [("x", f"{order}f4"), ("y", f"{order}f4"), ("z", f"{order}f4")]
    if colours is not None:
        fields += [("red", "u1"), ("green", "u1"), ("blue", "u1")]
    vertex_rows = np.zeros(len(vertices), dtype=fields)
    vertex_rows["x"], vertex_rows["y"], vertex_rows["z"] = vertices.T
    if colours is not None:
        vertex_rows["red"], vertex_rows["green"], vertex_rows["blue"] = np.asarray(colours)[:, :3].T
    face_rows = np.zeros(len(faces), dtype=[("n", "u1"), ("i", f"{order}i4", (3,))])
    face_rows["n"], face_rows["i"] = 3, faces
    return header + vertex_rows.tobytes() + face_rows.tobytes()


def obj_with_texture() -> dict[str, bytes]:
    """An OBJ quad with UVs, its MTL and a 4x4 PNG texture, as a bundle's entries."""
    obj = b"""# exported by Medit Link
mtllib model.mtl
v 0 0 0
v 10 0 0
v 10 10 0
v 0 10 0
vt 0 0
vt 1 0
vt 1 1
vt 0 1
usemtl skin
f 1/1 2/2 3/3
f 1/1 3/3 4/4
"""
    mtl = b"newmtl skin\nKd 1 1 1\nmap_Kd tex/texture.png\n"
    image = Image.new("RGB", (4, 4), (180, 40, 40))
    png = io.BytesIO()
    image.save(png, "PNG")
    return {"scan/model.obj": obj, "scan/model.mtl": mtl, "scan/tex/texture.png": png.getvalue()}


def threemf(mesh: trimesh.Trimesh) -> bytes:
    return bytes(trimesh.exchange.threemf.export_3MF(mesh))


def hps(
    vertices: np.ndarray,
    faces: np.ndarray,
    schema: str = "CA",
    properties: dict[str, str] | None = None,
    facet_count: int | None = None,
    colours: np.ndarray | None = None,
) -> bytes:
    """An unencrypted HIMSA packed scan: float32 vertices and one Restart32 command per face."""
    vertex_data = np.asarray(vertices, dtype="<f4").tobytes()
    face_data = b"".join(b"\x06" + struct.pack("<3I", *map(int, face)) for face in faces)
    props = "".join(f'<Property name="{k}" value="{v}"/>' for k, v in (properties or {}).items())
    count = len(faces) if facet_count is None else facet_count
    colour_xml = ""
    if colours is not None:
        packed = base64.b64encode(np.asarray(colours, dtype=np.uint8).tobytes()).decode()
        colour_xml = f"<VertexColorSets><VertexColorSet>{packed}</VertexColorSet></VertexColorSets>"
    xml = f"""<?xml version="1.0" encoding="utf-8"?>
<HPS version="1.1">
  <Packed_geometry>
    <Schema>{schema}</Schema>
    <Binary_data>
      <{schema} version="1.0">
        <Vertices base64_encoded_bytes="{len(vertex_data)}" vertex_count="{len(vertices)}">{base64.b64encode(vertex_data).decode()}</Vertices>
        <Facets base64_encoded_bytes="{len(face_data)}" facet_count="{count}">{base64.b64encode(face_data).decode()}</Facets>
      </{schema}>
    </Binary_data>
  </Packed_geometry>
  {colour_xml}
  <Properties>{props}</Properties>
</HPS>
"""
    return xml.encode()


def zip_bytes(entries: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return out.getvalue()


def zip_with_info(info: zipfile.ZipInfo, data: bytes = b"x") -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr(info, data)
    return out.getvalue()


def zip_lying_about_size(data: bytes, declared: int) -> bytes:
    """A stored entry whose central directory and local header declare `declared` bytes."""
    archive = zip_bytes({"scan.stl": data}, zipfile.ZIP_STORED)
    real = struct.pack("<I", len(data))
    fake = struct.pack("<I", declared)
    # local header: sizes at offsets 18 (compressed) and 22 (uncompressed); same in central dir at 20/24
    patched = bytearray(archive)
    patched[22:26] = fake
    central = patched.rfind(b"PK\x01\x02")
    assert patched[central + 24 : central + 28] == real
    patched[central + 24 : central + 28] = fake
    return bytes(patched)


ITERO_ORDER_XML = b"""<?xml version="1.0" encoding="utf-8"?>
<Order xmlns="http://example.com/itero">
  <OrderId>ORD-991</OrderId>
  <Device>iTero Element 5D</Device>
  <Patient><FirstName>Ann</FirstName><LastName>Example</LastName><ChartNumber>C-17</ChartNumber></Patient>
  <ScanDate>2026-03-04T10:20:00</ScanDate>
  <Scans>
    <Scan><File>a1.stl</File><Jaw>Upper</Jaw></Scan>
    <Scan file="b2.stl" jaw="Mandible"/>
    <Scan><Type>Bite</Type><Files><File name="c3.stl"/></Files></Scan>
  </Scans>
</Order>
"""
