"""The seed corpus of the parser fuzzers: good files of every format, and the bad files issue 12's
outside probing used (truncated, huge counts, nested ZIPs, ZIP bombs, XML entities, unsafe paths).
All built in code; the fuzzers mutate them."""

from __future__ import annotations

import io
import re
import struct
import zipfile

import trimesh

from tests.processing.meshes import mesh_files


def _mesh() -> trimesh.Trimesh:
    return trimesh.creation.icosphere(subdivisions=1, radius=10.0)


def good_files() -> dict[str, bytes]:
    """One well-formed file of each format the scan reader takes."""
    mesh = _mesh()
    stl = mesh_files.binary_stl(mesh)
    return {
        "binary.stl": stl,
        "ascii.stl": mesh_files.ascii_stl(mesh),
        "binary.ply": mesh_files.ply(mesh),
        "ascii.ply": mesh_files.ply(mesh, encoding="ascii"),
        "mesh.obj": mesh.export(file_type="obj").encode(),
        "mesh.3mf": mesh_files.threemf(mesh),
        "bundle.zip": mesh_files.zip_bytes({"upper.stl": stl, "order.xml": ORDER_XML}),
    }


ORDER_XML = (
    b'<?xml version="1.0"?><Order><Patient><FirstName>Ada</FirstName><LastName>Test</LastName>'
    b"</Patient><Scan><File>upper.stl</File><Jaw>Upper</Jaw></Scan></Order>"
)

BILLION_LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
    b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">'
    b'<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]>'
    b"<Order><Jaw>&lol4;</Jaw></Order>"
)
EXTERNAL_ENTITY = (
    b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
    b"<Order><Jaw>&e;</Jaw></Order>"
)


def _nested_zip(depth: int, inner: bytes) -> bytes:
    data = inner
    for level in range(depth):
        data = mesh_files.zip_bytes({f"level{level}.zip": data})
    return data


def _entity_3mf() -> bytes:
    """A 3MF whose model part declares nested entities (parsed by lxml inside trimesh)."""
    dtd = BILLION_LAUGHS[BILLION_LAUGHS.index(b"<!DOCTYPE") : BILLION_LAUGHS.index(b"<Order>")]
    source = zipfile.ZipFile(io.BytesIO(mesh_files.threemf(_mesh())))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename.endswith(".model"):
                data = re.sub(rb"^(<\?xml[^>]*\?>)?", lambda m: m.group(0) + dtd, data, count=1)
            target.writestr(info.filename, data)
    return out.getvalue()


def bad_files() -> dict[str, bytes]:
    """Files every reader must refuse with a clear message, never crash on."""
    mesh = _mesh()
    stl = mesh_files.binary_stl(mesh)
    ply_text = mesh_files.ply(mesh, encoding="ascii")
    return {
        "empty": b"",
        "truncated.stl": stl[: len(stl) // 2],
        "header-only.stl": stl[:84],
        "huge-count.stl": stl[:80] + struct.pack("<I", 0xFFFFFFFF) + stl[84:184],
        "truncated.ply": ply_text[: len(ply_text) // 3],
        "huge-count.ply": b"ply\nformat binary_little_endian 1.0\nelement vertex 4000000000\n"
        b"property float x\nproperty float y\nproperty float z\nelement face 4000000000\n"
        b"property list uchar int vertex_indices\nend_header\n" + b"\0" * 64,
        "negative-count.ply": b"ply\nformat ascii 1.0\nelement vertex -5\nproperty float x\n"
        b"end_header\n1\n",
        "nan.stl": mesh_files.ascii_stl(mesh).replace(b"1.000000e+01", b"nan", 3),
        "bad-index.obj": b"v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 99999999\n",
        "no-faces.obj": b"v 0 0 0\nv 1 0 0\n",
        "truncated.3mf": mesh_files.threemf(mesh)[:300],
        "entities.3mf": _entity_3mf(),
        "nested.zip": _nested_zip(3, stl),
        "bomb.zip": mesh_files.zip_bytes({"scan.stl": bytes(8 * 1024 * 1024)}),
        "lying-size.zip": mesh_files.zip_lying_about_size(stl, declared=10),
        "unsafe-path.zip": mesh_files.zip_with_info(zipfile.ZipInfo("../../etc/scan.stl"), stl),
        "zip-of-nothing.zip": mesh_files.zip_bytes({"readme.txt": b"hello"}),
    }


def hostile_files() -> dict[str, bytes]:
    """Files with a hostile part that must be ignored or refused, never expanded or followed."""
    stl = mesh_files.binary_stl(_mesh())
    return {
        "billion-laughs.zip": mesh_files.zip_bytes({"scan.stl": stl, "order.xml": BILLION_LAUGHS}),
        "external-entity.zip": mesh_files.zip_bytes(
            {"scan.stl": stl, "order.xml": EXTERNAL_ENTITY}
        ),
    }


def corrupt_deflate_zip() -> bytes:
    """A bundle whose entry's deflate stream is damaged inside: zlib.error from zipfile (found by
    `test_damaged_scan_files_parse_or_are_refused`)."""
    data = bytearray(mesh_files.zip_bytes({"upper.stl": good_files()["binary.stl"]}))
    data[40:44] = b"\xff\xff\xff\xff"  # in the compressed data right after the local header
    return bytes(data)


def xml_documents() -> dict[str, bytes]:
    """Order XML, good and hostile, for the XML readers."""
    return {
        "order.xml": ORDER_XML,
        "billion-laughs.xml": BILLION_LAUGHS,
        "external-entity.xml": EXTERNAL_ENTITY,
        "not-xml.xml": b"\xff\xfe<\x00O\x00",
        "deep.xml": b"<a>" * 5000 + b"</a>" * 5000,
    }


def photo_heads() -> dict[str, bytes]:
    """The first bytes of each photo format, and near misses."""
    return {
        "jpeg": b"\xff\xd8\xff\xe0" + bytes(60),
        "png": b"\x89PNG\r\n\x1a\n" + bytes(60),
        "tiff": b"II*\x00" + bytes(60),
        "webp": b"RIFF\x00\x00\x00\x00WEBPVP8 " + bytes(60),
        "heic": b"\x00\x00\x00\x18ftypheic" + bytes(60),
        "truncated-png": b"\x89PNG\r\n",
        "riff-not-webp": b"RIFF\x00\x00\x00\x00WAVE",
        "empty": b"",
    }
