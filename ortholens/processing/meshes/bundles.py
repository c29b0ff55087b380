"""ZIP bundles as scanners export them: several arches, OBJ materials and textures as sibling
entries, an order XML naming the jaws, gallery images, and (3Shape) zipped `.dcm` files one
level down. A folder a user unzipped arrives here too, packed as a ZIP (`ortholens.ingest.folders`).

What the XML files say fills what a mesh file did not say itself; every value of every XML is kept
in `extra["export_fields"]` by the XML's path. Images that are no mesh's texture are the export's
renders and ride on the first mesh (`LoadedMesh.renders`)."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Mapping

from ortholens.kit.errors import InvalidInput
from ortholens.processing.meshes.order_xml import OrderHints, read_order_xml
from ortholens.processing.meshes.safezip import Budget, checked_entries, open_zip, read_entry
from ortholens.processing.meshes.sniff import Sniffed, binary_stl_size_matches, sniff
from ortholens.processing.meshes.types import LoadedMesh, MeshLimits, Render
from ortholens.processing.photo_types import detect_image_type

# (entry bytes, entry path, sibling entries, depth) -> meshes; `readers` passes its dispatcher.
ReadMember = Callable[[bytes, str, Mapping[str, bytes], int], list[LoadedMesh]]

_MAX_RENDERS = 50
_TEXTURE_REF = re.compile(rb"(?:map_\w+|TextureFile)\s+(?:-\S+\s+\S+\s+)*([^\r\n]+)", re.I)
_MESH_KINDS = {
    Sniffed.STL_BINARY,
    Sniffed.STL_ASCII,
    Sniffed.PLY,
    Sniffed.OBJ,
    Sniffed.THREE_MF,
    Sniffed.HPS,
}


def _apply_hints(mesh: LoadedMesh, hints: list[OrderHints]) -> None:
    """Fill what the mesh file itself did not say from the bundle's XML files."""
    basename = posixpath.basename(mesh.source_name).lower()
    meta = mesh.scanner
    for hint in hints:
        if meta.arch is None:
            meta.arch = hint.arches.get(basename)
        if meta.scanner_type is None and hint.scanner_type is not None:
            meta.scanner_type = hint.scanner_type
            meta.extra.setdefault("scanner_name", hint.scanner_name)
        meta.patient_name = meta.patient_name or hint.patient_name
        meta.patient_ref = meta.patient_ref or hint.patient_ref
        meta.patient_birth_date = meta.patient_birth_date or hint.patient_birth_date
        meta.order_ref = meta.order_ref or hint.order_ref
        meta.captured_at = meta.captured_at or hint.captured_at
        meta.extra.setdefault("export_fields", {})[hint.source] = hint.fields


def _renders(files: Mapping[str, bytes], kinds: Mapping[str, Sniffed | None]) -> list[Render]:
    """The export's images that no mesh uses as its texture (an MTL's `map_Kd`, a PLY's
    `TextureFile`): its gallery JPGs and screenshots, kept with the scan set."""
    textual = (files[p] for p, kind in kinds.items() if kind in (Sniffed.MTL, Sniffed.PLY))
    textures = {
        posixpath.basename(m.decode("utf-8", "replace").strip().replace("\\", "/")).lower()
        for text in textual
        for m in _TEXTURE_REF.findall(text[:65536])
    }
    renders = []
    for path, kind in kinds.items():
        if kind is not Sniffed.IMAGE or posixpath.basename(path).lower() in textures:
            continue
        try:
            image_type = detect_image_type(files[path][:64])
        except InvalidInput:
            continue  # an image kind we do not keep (BMP, GIF)
        renders.append(Render(path, files[path], image_type.media_type, image_type.extension))
    return renders[:_MAX_RENDERS]


def _is_mesh(path: str, kind: Sniffed | None, content: bytes) -> bool:
    """Content decides, except for binary data that is no format we know: inside a bundle that is
    a side file (a PDF, a vendor blob) unless it is named .stl, when its size mismatch is reported."""
    if kind is Sniffed.STL_BINARY and not binary_stl_size_matches(content):
        return path.lower().endswith(".stl")
    return True


def read_bundle(
    data: bytes,
    name: str,
    *,
    limits: MeshLimits,
    budget: Budget,
    depth: int,
    read_member: ReadMember,
) -> list[LoadedMesh]:
    """Every mesh in the ZIP (and in ZIPs inside it, up to `limits.max_zip_depth`)."""
    if depth > limits.max_zip_depth:
        raise InvalidInput(f"'{name}' nests ZIP files deeper than {limits.max_zip_depth} level(s).")
    files: dict[str, bytes] = {}
    kinds: dict[str, Sniffed | None] = {}
    with open_zip(data, name) as archive:
        for info in checked_entries(archive, name, limits):
            content = read_entry(archive, info, name, limits, budget)
            files[info.filename] = content
            kinds[info.filename] = sniff(content)
    meshes_paths = [
        p for p, kind in kinds.items() if kind in _MESH_KINDS and _is_mesh(p, kind, files[p])
    ]
    zips = [p for p, kind in kinds.items() if kind is Sniffed.ZIP]
    if zips and depth + 1 > limits.max_zip_depth:
        raise InvalidInput(f"'{name}' nests ZIP files deeper than {limits.max_zip_depth} level(s).")
    basenames = [posixpath.basename(p) for p in meshes_paths]
    hints = [
        h
        for p, kind in kinds.items()
        if kind is Sniffed.XML and (h := read_order_xml(files[p], basenames, source=p)) is not None
    ]
    loaded: list[LoadedMesh] = []
    for path in meshes_paths:
        loaded.extend(read_member(files[path], path, files, depth))
    for path in zips:
        for mesh in read_member(files[path], path, {}, depth + 1):
            mesh.source_name = f"{path}/{mesh.source_name}"
            loaded.append(mesh)
    if not loaded:
        raise InvalidInput(f"'{name}' holds no 3D scan (STL, PLY, OBJ, 3MF or 3Shape DCM files).")
    for mesh in loaded:
        _apply_hints(mesh, hints)
    loaded[0].renders = _renders(files, kinds)
    return loaded
