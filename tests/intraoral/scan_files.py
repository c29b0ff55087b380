"""Scan files for the record tests, built from the synthetic arch generator."""

from __future__ import annotations

import trimesh

from ortholens.processing.meshes.synthetic_arches import make_arch
from ortholens.processing.meshes.types import ArchType
from tests.processing.meshes import mesh_files

ORDER_XML = mesh_files.ITERO_ORDER_XML  # names Ann Example; a1 upper, b2 lower, c3 bite


def arch(kind: ArchType, seed: int = 1, triangles: int = 8_000) -> trimesh.Trimesh:
    return make_arch(kind, seed, triangles=triangles)


def stl(kind: ArchType, seed: int = 1) -> bytes:
    return mesh_files.binary_stl(arch(kind, seed), header=b"binary export")


def itero_bundle(order_xml: bytes = ORDER_XML) -> bytes:
    """An iTero-like export: three arches with neutral names, and the order XML naming the jaws."""
    return mesh_files.zip_bytes(
        {
            "export/a1.stl": stl(ArchType.UPPER, 3),
            "export/b2.stl": stl(ArchType.LOWER, 4),
            "export/c3.stl": stl(ArchType.BITE, 5),
            "export/order.xml": order_xml,
        }
    )
