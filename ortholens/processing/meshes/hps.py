"""3Shape HPS (`.dcm`): XML with packed vertices and facet commands, decoded by `hpsdecode`.

The encrypted schema (CE) needs 3Shape's key, which we do not have: it is refused with a message
saying how to export a readable file. Properties in the XML become scanner metadata."""

from __future__ import annotations

import io
import re

import hpsdecode
import numpy as np
import trimesh
from hpsdecode.exceptions import HPSEncryptionError

from ortholens.kit.errors import InvalidInput, PayloadTooLarge
from ortholens.processing.meshes.checks import check_declared_counts, check_mesh
from ortholens.processing.meshes.scanner_text import arch_from_text, parse_datetime
from ortholens.processing.meshes.types import MeshLimits, ScannerMetadata, ScannerType
from ortholens.processing.meshes.xmlsafe import UnsafeXml, parse_xml

ENCRYPTED_SCHEMAS = ("CE",)


def _schema_and_counts(data: bytes, name: str) -> tuple[str, int, int]:
    try:
        root = parse_xml(data)
    except UnsafeXml as error:
        raise InvalidInput(f"'{name}' is a damaged 3Shape file: its XML is malformed.") from error
    schema = (root.findtext(".//Schema") or "").strip()
    if not schema:
        raise InvalidInput(f"'{name}' is a damaged 3Shape file: it names no geometry schema.")
    vertices = faces = 0
    block = root.find(f".//{schema}") if re.fullmatch(r"\w+", schema) else None
    if block is not None:
        try:
            vertex_element, face_element = block.find(".//Vertices"), block.find(".//Facets")
            vertices = (
                int(vertex_element.get("vertex_count", "0")) if vertex_element is not None else 0
            )
            faces = int(face_element.get("facet_count", "0")) if face_element is not None else 0
        except ValueError as error:
            raise InvalidInput(
                f"'{name}' is a damaged 3Shape file: its counts are not numbers."
            ) from error
    return schema, vertices, faces


def _metadata(properties: dict[str, str]) -> ScannerMetadata:
    meta = ScannerMetadata(scanner_type=ScannerType.THREESHAPE, units="mm")
    meta.extra["scanner_name"] = "3Shape"
    kept: dict[str, str] = {}
    for key, value in properties.items():
        lowered = key.lower()
        if "key" in lowered or "lock" in lowered:
            continue  # encryption material, not metadata
        kept[key] = value
        if any(word in lowered for word in ("jaw", "arch", "scantype", "modeltype")):
            meta.arch = arch_from_text(value) or meta.arch
        elif "patient" in lowered and ("name" in lowered or lowered == "patient"):
            meta.patient_name = value
        elif "patient" in lowered and ("id" in lowered or "ref" in lowered):
            meta.patient_ref = value
        elif "order" in lowered or "case" in lowered:
            meta.order_ref = value
        elif "date" in lowered or "time" in lowered:
            meta.captured_at = parse_datetime(value) or meta.captured_at
    meta.extra["hps_properties"] = kept
    return meta


def read_hps(
    data: bytes, name: str, limits: MeshLimits
) -> tuple[trimesh.Trimesh, ScannerMetadata, bool]:
    """(mesh, scanner metadata, has vertex colour)."""
    if len(data) > limits.max_xml_bytes:
        raise PayloadTooLarge(
            f"'{name}' is larger than the {limits.max_xml_bytes / 1e6:.0f} MB accepted for 3Shape files."
        )
    schema, vertices, faces = _schema_and_counts(data, name)
    if schema in ENCRYPTED_SCHEMAS:
        raise InvalidInput(
            f"This 3Shape file is encrypted (HPS schema {schema}) and cannot be read without 3Shape's "
            "key. Export the scan from 3Shape as STL or PLY (or as an unencrypted DCM) and import that."
        )
    check_declared_counts(faces, vertices, name, limits)
    try:
        packed, decoded = hpsdecode.load_hps(io.BytesIO(data), encryption_key=None)
    except hpsdecode.HPSSchemaError as error:
        raise InvalidInput(
            f"'{name}' uses the 3Shape schema '{schema}', which cannot be read."
        ) from error
    except HPSEncryptionError as error:
        raise InvalidInput(
            f"This 3Shape file is encrypted and cannot be read: '{name}'."
        ) from error
    except (
        hpsdecode.HPSParseError,
        NotImplementedError,
        ValueError,
        TypeError,
        IndexError,
        EOFError,
    ) as error:
        raise InvalidInput(
            f"'{name}' is a damaged 3Shape file: its geometry could not be decoded."
        ) from error
    vertices_array = np.asarray(decoded.vertices, dtype=np.float64).reshape(-1, 3)
    faces_array = np.asarray(decoded.faces, dtype=np.int64).reshape(-1, 3)
    colours = np.asarray(decoded.vertex_colors) if decoded.has_vertex_colors else None
    has_colour = colours is not None and len(colours) == len(vertices_array)
    mesh = trimesh.Trimesh(
        vertices=vertices_array,
        faces=faces_array,
        vertex_colors=colours if has_colour else None,
        process=False,
    )
    check_mesh(mesh, name, limits)
    return mesh, _metadata(dict(packed.properties)), has_colour
