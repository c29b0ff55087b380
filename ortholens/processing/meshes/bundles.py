"""ZIP bundles as scanners export them: several arches, OBJ materials and textures as sibling
entries, an order XML naming the jaws, and (3Shape) zipped `.dcm` files one level down."""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Mapping

from ortholens.kit.errors import InvalidInput
from ortholens.processing.meshes.order_xml import OrderHints, read_order_xml
from ortholens.processing.meshes.safezip import Budget, checked_entries, open_zip, read_entry
from ortholens.processing.meshes.sniff import Sniffed, binary_stl_size_matches, sniff
from ortholens.processing.meshes.types import LoadedMesh, MeshLimits

# (entry bytes, entry path, sibling entries, depth) -> meshes; `readers` passes its dispatcher.
ReadMember = Callable[[bytes, str, Mapping[str, bytes], int], list[LoadedMesh]]

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
        meta.order_ref = meta.order_ref or hint.order_ref
        meta.captured_at = meta.captured_at or hint.captured_at


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
        if kind is Sniffed.XML and (h := read_order_xml(files[p], basenames)) is not None
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
    return loaded
