"""Which format a file is, from its bytes. Names lie (and iTero bundles use opaque ones); content
does not. Binary STL is recognised by size arithmetic because many exporters start its 80-byte
header with "solid", the ASCII STL keyword."""

from __future__ import annotations

import io
import re
import zipfile
from enum import StrEnum

from ortholens.processing.meshes.xmlsafe import utf8_xml


class Sniffed(StrEnum):
    STL_BINARY = "STL_BINARY"
    STL_ASCII = "STL_ASCII"
    PLY = "PLY"
    OBJ = "OBJ"
    THREE_MF = "3MF"
    HPS = "HPS"
    ZIP = "ZIP"
    XML = "XML"  # not a mesh; a bundle's order/metadata file
    MTL = "MTL"  # not a mesh; an OBJ material library
    IMAGE = "IMAGE"  # not a mesh; an OBJ texture


_IMAGE_MAGIC = (b"\x89PNG", b"\xff\xd8\xff", b"BM", b"II*\x00", b"MM\x00*", b"GIF8")
_OBJ_LINE = re.compile(rb"^\s*(v|vt|vn|f|o|g|s|mtllib|usemtl)\s", re.M)
# Only `#` comments and blank lines: an OBJ (or other text mesh) with no geometry; its reader
# says "contains no triangles" rather than "not a format we read".
_ONLY_COMMENTS = re.compile(rb"\A(?:[ \t]*(?:#[^\n]*)?\r?\n)*[ \t]*(?:#[^\n]*)?\Z")
_MTL_LINE = re.compile(rb"^\s*newmtl\s", re.M)
_STL_FACET = re.compile(rb"\bfacet\s+normal\b|\bendsolid\b", re.I)


_STL_RECORD_BYTES = 50


def binary_stl_trailing(data: bytes | memoryview) -> int | None:
    """Bytes after the last record a binary STL's header declares, when they are padding: fewer
    than one record (some exporters round the file up), or any number of zero bytes. None when
    the file is shorter than declared or what follows looks like data."""
    if len(data) < 84:
        return None
    expected = 84 + _STL_RECORD_BYTES * int.from_bytes(data[80:84], "little")
    extra = len(data) - expected
    if extra < 0:
        return None
    if extra < _STL_RECORD_BYTES or not bytes(data[expected:]).strip(b"\x00"):
        return extra
    return None


def binary_stl_size_matches(data: bytes | memoryview) -> bool:
    """84-byte header + 50 bytes per declared triangle, give or take trailing padding."""
    return binary_stl_trailing(data) is not None


def _is_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as error:
        # a multi-byte character cut at the end of the window is still text
        return error.start >= len(head) - 3
    return True


def is_3mf(data: bytes | memoryview) -> bool:
    """A 3MF is a ZIP whose package holds a 3D model part."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return any(
                n.lower().endswith(".model") and n.lower().startswith("3d/")
                for n in archive.namelist()
            )
    except (zipfile.BadZipFile, OSError, ValueError):
        return False


def is_zip(data: bytes | memoryview) -> bool:
    """A ZIP archive (a local file header, or the end record of an empty archive) by its magic."""
    return bytes(data[:4]) in (b"PK\x03\x04", b"PK\x05\x06")


def sniff(data: bytes | memoryview) -> Sniffed | None:
    """The format of `data`, or None when it is none we read."""
    head = utf8_xml(bytes(data[:4096]))
    if is_zip(head):
        return Sniffed.THREE_MF if is_3mf(data) else Sniffed.ZIP
    if head.startswith(_IMAGE_MAGIC) or (head[:4] == b"RIFF" and head[8:12] == b"WEBP"):
        return Sniffed.IMAGE
    if re.match(rb"ply\r?\n", head):
        return Sniffed.PLY
    if binary_stl_size_matches(data):
        return Sniffed.STL_BINARY
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if _is_text(head):
        if stripped[:5].lower() == b"solid" and _STL_FACET.search(head):
            return Sniffed.STL_ASCII
        if stripped.startswith(b"<"):
            return Sniffed.HPS if re.search(rb"<HPS[\s>]", head) else Sniffed.XML
        if _MTL_LINE.search(head):
            return Sniffed.MTL
        if _OBJ_LINE.search(head):
            return Sniffed.OBJ
        if stripped.startswith(b"#") and _ONLY_COMMENTS.match(bytes(data[: 1 << 20])):
            return Sniffed.OBJ
        if stripped[:5].lower() == b"solid":
            return Sniffed.STL_ASCII
        return None
    # Binary that is nothing else: a binary STL whose size does not add up (truncated, or more data);
    # the STL reader says so precisely.
    if len(data) >= 84:
        return Sniffed.STL_BINARY
    return None
