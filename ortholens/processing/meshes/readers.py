"""`read_mesh_file`: one entry point for every scan format and bundle. The format comes from the
content (see `sniff`); every refusal is an `InvalidInput` (or `PayloadTooLarge`) with a message
a user can act on."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import trimesh

from ortholens.kit.errors import InvalidInput
from ortholens.processing.meshes.bundles import read_bundle
from ortholens.processing.meshes.checks import check_file_size, colour_kind
from ortholens.processing.meshes.hps import read_hps
from ortholens.processing.meshes.obj import read_obj
from ortholens.processing.meshes.ply import read_ply
from ortholens.processing.meshes.safezip import Budget
from ortholens.processing.meshes.sniff import Sniffed, sniff
from ortholens.processing.meshes.stl import read_ascii_stl, read_binary_stl
from ortholens.processing.meshes.threemf import read_3mf
from ortholens.processing.meshes.types import (
    ColourKind,
    LoadedMesh,
    MeshFormat,
    MeshLimits,
    ScannerMetadata,
)

_UNKNOWN = "'{name}' is not a 3D scan format we read. Import STL, PLY, OBJ, 3MF, 3Shape DCM, or a ZIP of them."


def read_mesh_file(
    data: bytes | Path, name: str, limits: MeshLimits = MeshLimits()
) -> list[LoadedMesh]:
    """The meshes in a file: one for a single-arch file, one per arch for a bundle."""
    if isinstance(data, Path):
        check_file_size(data.stat().st_size, name, limits)  # before reading a byte
        data = data.read_bytes()
    check_file_size(len(data), name, limits)
    return _read(data, name, limits=limits, budget=Budget(limits), siblings={}, depth=0)


def _read(
    data: bytes,
    name: str,
    *,
    limits: MeshLimits,
    budget: Budget,
    siblings: Mapping[str, bytes],
    depth: int,
) -> list[LoadedMesh]:
    kind = sniff(data)
    if kind is Sniffed.STL_BINARY:
        mesh, meta = read_binary_stl(data, name, limits)
        return [_loaded(name, MeshFormat.STL, mesh, meta, colour_kind(mesh.visual))]
    if kind is Sniffed.STL_ASCII:
        mesh, meta = read_ascii_stl(data, name, limits)
        return [_loaded(name, MeshFormat.STL, mesh, meta, None)]
    if kind is Sniffed.PLY:
        mesh, meta, colour = read_ply(data, name, limits)
        return [_loaded(name, MeshFormat.PLY, mesh, meta, colour)]
    if kind is Sniffed.OBJ:
        mesh, meta, texture = read_obj(data, name, limits, siblings)
        colour = ColourKind.TEXTURE if texture is not None else colour_kind(mesh.visual)
        if colour is ColourKind.TEXTURE and texture is None:
            colour = None  # a texture trimesh made up: the file named none we were given
        loaded = _loaded(name, MeshFormat.OBJ, mesh, meta, colour)
        loaded.texture_png = texture
        return [loaded]
    if kind is Sniffed.HPS:
        mesh, meta, has_colour = read_hps(data, name, limits)
        colour = ColourKind.VERTEX if has_colour else None
        return [_loaded(name, MeshFormat.DCM, mesh, meta, colour)]
    if kind is Sniffed.THREE_MF:
        return [
            _loaded(name, MeshFormat.THREE_MF, mesh, meta, colour)
            for mesh, meta, colour in read_3mf(data, name, limits, budget)
        ]
    if kind is Sniffed.ZIP:

        def member(
            content: bytes, path: str, files: Mapping[str, bytes], level: int
        ) -> list[LoadedMesh]:
            return _read(content, path, limits=limits, budget=budget, siblings=files, depth=level)

        return read_bundle(
            data, name, limits=limits, budget=budget, depth=depth, read_member=member
        )
    raise InvalidInput(_UNKNOWN.format(name=name))


def _loaded(
    name: str,
    fmt: MeshFormat,
    mesh: trimesh.Trimesh,
    meta: ScannerMetadata,
    colour: ColourKind | None,
) -> LoadedMesh:
    return LoadedMesh(name, fmt, mesh, meta, has_colour=colour is not None, colour=colour)
