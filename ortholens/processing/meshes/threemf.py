"""3MF: a ZIP package with an XML model. trimesh decodes the geometry (after `safezip` has checked
the package); its metadata and unit are read here from the model part."""

from __future__ import annotations

import copy
import io

import trimesh

from ortholens.kit.errors import InvalidInput
from ortholens.processing.meshes.checks import check_declared_counts, check_mesh
from ortholens.processing.meshes.safezip import Budget, read_all
from ortholens.processing.meshes.scanner_text import (
    arch_from_text,
    normalise_units,
    parse_datetime,
    scanner_from_text,
)
from ortholens.processing.meshes.types import MeshLimits, ScannerMetadata
from ortholens.processing.meshes.xmlsafe import UnsafeXml, local_name, parse_xml


def _model_metadata(model: bytes, name: str) -> ScannerMetadata:
    try:
        root = parse_xml(model)
    except UnsafeXml as error:
        raise InvalidInput(f"'{name}' has a malformed 3MF model.") from error
    meta = ScannerMetadata(units=normalise_units(root.get("unit", "millimeter")) or "mm")
    values: dict[str, str] = {}
    for element in root:
        if local_name(element.tag) == "metadata":
            key = element.get("name")
            if key:
                values[key] = (element.text or "").strip()
    meta.extra["3mf_metadata"] = values
    found = scanner_from_text(" ".join(f"{k} {v}" for k, v in values.items()))
    if found:
        meta.scanner_type, meta.extra["scanner_name"] = found
    for key, value in values.items():
        lowered = key.lower().split(":")[-1]
        if lowered in ("jaw", "arch", "scantype", "scan_type"):
            meta.arch = arch_from_text(value)
        elif lowered in ("creationdate", "scandate", "date"):
            meta.captured_at = parse_datetime(value)
        elif lowered in ("patient", "patientname"):
            meta.patient_name = value
        elif lowered in ("patientid", "patientref"):
            meta.patient_ref = value
    return meta


def read_3mf(
    data: bytes, name: str, limits: MeshLimits, budget: Budget
) -> list[tuple[trimesh.Trimesh, ScannerMetadata]]:
    """One mesh per object of the build, each with the package's metadata."""
    files = read_all(data, name, limits, budget)
    model = next(
        (
            v
            for k, v in files.items()
            if k.lower().startswith("3d/") and k.lower().endswith(".model")
        ),
        None,
    )
    if model is None:
        raise InvalidInput(f"'{name}' is not a 3MF package: it has no 3D model.")
    # counted in the XML text before trimesh allocates anything
    check_declared_counts(model.count(b"<triangle "), model.count(b"<vertex "), name, limits)
    meta = _model_metadata(model, name)
    try:
        scene = trimesh.load(io.BytesIO(data), file_type="3mf", process=False)
    except Exception as error:  # trimesh raises many types on malformed packages
        raise InvalidInput(f"'{name}' could not be read as 3MF: the file is malformed.") from error
    geometries = scene.dump() if isinstance(scene, trimesh.Scene) else [scene]
    meshes = [g for g in geometries if isinstance(g, trimesh.Trimesh) and len(g.faces)]
    if not meshes:
        raise InvalidInput(f"'{name}' contains no triangles.")
    return [(check_mesh(m, name, limits), copy.deepcopy(meta)) for m in meshes]
