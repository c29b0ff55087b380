"""`read_mesh_file`: one entry point for every scan format and bundle. The format comes from the
content (see `sniff`); every refusal is an `InvalidInput` (or `PayloadTooLarge`) with a message
a user can act on."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from ortholens.kit.errors import InvalidInput
from ortholens.processing.meshes.bundles import read_bundle
from ortholens.processing.meshes.checks import check_file_size, has_defined_colours
from ortholens.processing.meshes.hps import read_hps
from ortholens.processing.meshes.obj import read_obj
from ortholens.processing.meshes.ply import read_ply
from ortholens.processing.meshes.safezip import Budget
from ortholens.processing.meshes.sniff import Sniffed, sniff
from ortholens.processing.meshes.stl import read_ascii_stl, read_binary_stl
from ortholens.processing.meshes.threemf import read_3mf
from ortholens.processing.meshes.types import LoadedMesh, MeshFormat, MeshLimits

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
        return [LoadedMesh(name, MeshFormat.STL, mesh, meta)]
    if kind is Sniffed.STL_ASCII:
        mesh, meta = read_ascii_stl(data, name, limits)
        return [LoadedMesh(name, MeshFormat.STL, mesh, meta)]
    if kind is Sniffed.PLY:
        mesh, meta, colour = read_ply(data, name, limits)
        return [LoadedMesh(name, MeshFormat.PLY, mesh, meta, has_colour=colour)]
    if kind is Sniffed.OBJ:
        mesh, meta, texture = read_obj(data, name, limits, siblings)
        colour = texture is not None or has_defined_colours(mesh.visual)
        return [
            LoadedMesh(name, MeshFormat.OBJ, mesh, meta, texture_png=texture, has_colour=colour)
        ]
    if kind is Sniffed.HPS:
        mesh, meta, colour = read_hps(data, name, limits)
        return [LoadedMesh(name, MeshFormat.DCM, mesh, meta, has_colour=colour)]
    if kind is Sniffed.THREE_MF:
        return [
            LoadedMesh(
                name, MeshFormat.THREE_MF, mesh, meta, has_colour=has_defined_colours(mesh.visual)
            )
            for mesh, meta in read_3mf(data, name, limits, budget)
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
