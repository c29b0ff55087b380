"""3MF: a ZIP package with an XML model. trimesh decodes the geometry (after `safezip` has checked
the package); its metadata, unit and colours are read here from the model part, because trimesh
reads no 3MF colour.

One file is one scan. A package whose build holds several objects (a slicer's plate, a gear set)
is merged into one mesh, with the objects listed in the metadata, unless every object is named for
a different jaw ("Upper", "Mandible", "Bite"): then it is a labelled set, one arch per object.
"""

from __future__ import annotations

import copy
import io
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import trimesh

from ortholens.kit.errors import InvalidInput
from ortholens.processing.meshes.checks import check_declared_counts, check_mesh, colour_kind
from ortholens.processing.meshes.safezip import Budget, read_all
from ortholens.processing.meshes.scanner_text import (
    arch_from_text,
    normalise_units,
    parse_datetime,
    scanner_from_text,
)
from ortholens.processing.meshes.types import ArchType, ColourKind, MeshLimits, ScannerMetadata
from ortholens.processing.meshes.xmlsafe import DTD, UnsafeXml, local_name, parse_xml

_MAX_LABELLED = 3  # upper, lower, bite
_HEX = re.compile(r"^#([0-9a-fA-F]{6})([0-9a-fA-F]{2})?$")


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


@dataclass
class _ObjectColours:
    """One object of the model with a mesh, in file order: its name and the RGBA colour of each
    triangle corner ((n, 3, 4) uint8), or None where the object has no colour."""

    name: str
    triangles: int
    corners: npt.NDArray[np.uint8] | None


def _hex_colour(text: str) -> tuple[int, int, int, int]:
    match = _HEX.match(text.strip())
    if match is None:
        return (102, 102, 102, 255)
    rgb = bytes.fromhex(match.group(1))
    alpha = int(match.group(2), 16) if match.group(2) else 255
    return (rgb[0], rgb[1], rgb[2], alpha)


def _read_colours(model: bytes) -> list[_ObjectColours]:
    """Triangle colours from core `basematerials` and materials-extension `colorgroup`s.

    A triangle takes its property group `pid` and indices `p1` (`p2`, `p3` for per-corner colours,
    else `p1`) or the object's `pid`/`pindex` (3MF core spec, section 4.1.4.2)."""
    if DTD.search(model):
        return []
    groups: dict[str, list[tuple[int, int, int, int]]] = {}
    objects: list[_ObjectColours] = []
    try:
        for _, element in ET.iterparse(io.BytesIO(model), events=("end",)):  # noqa: S314
            tag = local_name(element.tag)
            if tag == "basematerials":
                groups[element.get("id", "")] = [
                    _hex_colour(base.get("displaycolor", "")) for base in element
                ]
            elif tag == "colorgroup":
                groups[element.get("id", "")] = [
                    _hex_colour(colour.get("color", "")) for colour in element
                ]
            elif tag == "object":
                mesh = next((c for c in element if local_name(c.tag) == "mesh"), None)
                if mesh is not None:
                    objects.append(_object_colours(element, mesh, groups))
                element.clear()
    except ET.ParseError:
        return []
    return objects


def _object_colours(
    element: ET.Element, mesh: ET.Element, groups: dict[str, list[tuple[int, int, int, int]]]
) -> _ObjectColours:
    name = element.get("name") or element.get("id") or ""
    triangles = next((c for c in mesh if local_name(c.tag) == "triangles"), None)
    rows = list(triangles) if triangles is not None else []
    default_pid, default_index = element.get("pid"), element.get("pindex")
    corners = np.full((len(rows), 3, 4), 102, dtype=np.uint8)
    corners[..., 3] = 255
    coloured = False
    for i, triangle in enumerate(rows):
        pid = triangle.get("pid", default_pid)
        group = groups.get(pid) if pid is not None else None
        first = triangle.get("p1", default_index)
        if group is None or first is None:
            continue
        for corner, key in enumerate(("p1", "p2", "p3")):
            try:
                corners[i, corner] = group[int(triangle.get(key, first))]
                coloured = True
            except (ValueError, IndexError):
                continue
    return _ObjectColours(name, len(rows), corners if coloured else None)


def _apply_colours(geometry: trimesh.Trimesh, corners: npt.NDArray[np.uint8]) -> None:
    faces = np.asarray(geometry.faces)
    if bool((corners == corners[:, :1]).all()):
        geometry.visual = trimesh.visual.ColorVisuals(geometry, face_colors=corners[:, 0])
        return
    vertex = np.full((len(geometry.vertices), 4), 102, dtype=np.uint8)
    vertex[:, 3] = 255
    for corner in range(3):
        vertex[faces[:, corner]] = corners[:, corner]
    geometry.visual = trimesh.visual.ColorVisuals(geometry, vertex_colors=vertex)


def _colour_scene(scene: trimesh.Scene, colours: list[_ObjectColours]) -> None:
    """Put the model's colours on trimesh's geometries (one per object with a mesh, in file
    order); left alone when the two disagree on the objects or their triangle counts."""
    geometries = list(scene.geometry.values())
    if len(geometries) != len(colours):
        return
    if any(len(g.faces) != c.triangles for g, c in zip(geometries, colours, strict=True)):
        return
    for geometry, found in zip(geometries, colours, strict=True):
        if found.corners is not None and isinstance(geometry, trimesh.Trimesh):
            _apply_colours(geometry, found.corners)


def _jaws(names: list[str]) -> list[ArchType] | None:
    """The jaw each object is named for, when every one names a different jaw."""
    if not 1 < len(names) <= _MAX_LABELLED:
        return None
    jaws = [arch_from_text(name) for name in names]
    if any(jaw is None for jaw in jaws) or len(set(jaws)) != len(jaws):
        return None
    return [jaw for jaw in jaws if jaw is not None]


def read_3mf(
    data: bytes, name: str, limits: MeshLimits, budget: Budget
) -> list[tuple[trimesh.Trimesh, ScannerMetadata, ColourKind | None]]:
    """One scan, or a labelled set of arches (see the module docstring), with the package's
    metadata and where each mesh's colour is."""
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
    if isinstance(scene, trimesh.Scene):
        if b"colorgroup" in model or b"basematerials" in model:
            _colour_scene(scene, _read_colours(model))
        geometries = scene.dump()
    else:
        geometries = [scene]
    meshes = [g for g in geometries if isinstance(g, trimesh.Trimesh) and len(g.faces)]
    if not meshes:
        raise InvalidInput(f"'{name}' contains no triangles: its build holds no mesh.")
    names = [str(m.metadata.get("name") or i + 1) for i, m in enumerate(meshes)]
    jaws = _jaws(names)
    if jaws is not None:
        labelled = []
        for mesh, jaw, object_name in zip(meshes, jaws, names, strict=True):
            arch_meta = copy.deepcopy(meta)
            arch_meta.arch = jaw
            arch_meta.extra["3mf_object"] = object_name
            labelled.append((check_mesh(mesh, name, limits), arch_meta, colour_kind(mesh.visual)))
        return labelled
    if len(meshes) > 1:
        meta.extra["3mf_objects"] = [
            {"name": n, "triangles": len(m.faces)} for n, m in zip(names, meshes, strict=True)
        ]
        meta.extra["file_notes"] = [
            f"Its build holds {len(meshes)} objects; they were merged into one scan "
            "(a 3MF is one scan unless each object is named for a different jaw)."
        ]
    merged = meshes[0] if len(meshes) == 1 else trimesh.util.concatenate(meshes)
    if not isinstance(merged, trimesh.Trimesh):
        raise InvalidInput(f"'{name}' contains no triangles: its build holds no mesh.")
    return [(check_mesh(merged, name, limits), meta, colour_kind(merged.visual))]
