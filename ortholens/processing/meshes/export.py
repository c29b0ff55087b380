"""Seed 000 "3D Mesh Export": optimisation, coordinate-system conversion, format encoding, metadata
embedding and compression, for one scan set.

    export_mesh([ExportItem("upper", mesh), ...], ExportOptions(format=MeshFormat.STL, ...),
                progress=lambda fraction, message: ...) -> ExportResult

Input meshes are in the scanner frame: millimetres, +Z up (the occlusal axis). Output:
- formats: binary STL, OBJ (vertex colours as `v x y z r g b`; textures as .mtl + image), binary
  little-endian PLY (vertex colours as uchar RGBA), 3MF (core spec; geometry only). Encoding is
  trimesh's; this module only adds what trimesh does not write: metadata, the 3MF unit, the STL
  header.
- `up_axis="Y"` rotates -90 degrees about +X, (x, y, z) -> (x, z, -y): a proper rotation, so the
  winding, the outward normals and the sign of a closed mesh's volume are kept. `units="inch"`
  scales by 1/25.4; 3MF also declares `unit="inch"` on its model element, other formats carry no
  unit field, so the unit is written into their metadata.
- metadata (str -> str; the caller decides what it may hold, it is written verbatim after control
  characters become spaces): STL the 80-byte header (ASCII, `units=mm; up_axis=Z; key=value; ...`,
  truncated; so it never starts with "solid", which readers take for ASCII STL), PLY
  `comment key: value` lines, OBJ `# key: value` lines, 3MF `<metadata>` elements (the spec's
  well-known names as they are, other keys namespaced `ortholens:key`).
- packaging: one arch without `zip` is a bare file (`upper.stl`); several arches, `zip=True`, or a
  textured OBJ (which needs its .mtl and image beside it) give one ZIP (DEFLATE) with one file per
  arch: `upper.stl`, `lower.stl`, `bite.stl`; a textured OBJ's files go in a folder named after the
  arch so texture names of two arches cannot collide. 3MF files are stored, not deflated again (a
  3MF is a ZIP already).
- large results (estimated above `ExportOptions.spill_bytes`) are written to a temporary file whose
  path is returned; the caller deletes it.
"""

from __future__ import annotations

import html
import io
import re
import tempfile
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Literal

import numpy as np
import trimesh
from numpy.typing import NDArray

from ortholens.kit.errors import InvalidInput
from ortholens.processing.meshes.decimate import MIN_TARGET_FACES, decimate
from ortholens.processing.meshes.types import MeshFormat

__all__ = [
    "EXPORT_FORMATS",
    "INCH_PER_MM",
    "ExportItem",
    "ExportOptions",
    "ExportResult",
    "ExportedFile",
    "Progress",
    "export_mesh",
    "export_transform",
]

UpAxis = Literal["Z", "Y"]
Units = Literal["mm", "inch"]
Progress = Callable[[float, str], None]

INCH_PER_MM = 1 / 25.4
# glTF-style +Y up from the scanner's +Z up: -90 degrees about +X, (x, y, z) -> (x, z, -y).
Z_UP_TO_Y_UP = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]])

EXPORT_FORMATS: dict[MeshFormat, tuple[str, str]] = {  # format -> (extension, media type)
    MeshFormat.STL: ("stl", "model/stl"),
    MeshFormat.OBJ: ("obj", "model/obj"),
    MeshFormat.PLY: ("ply", "application/octet-stream"),  # PLY has no registered media type
    MeshFormat.THREE_MF: ("3mf", "model/3mf"),
}
ZIP_MEDIA_TYPE = "application/zip"
GENERATOR = "OrthoLens"
STL_HEADER_BYTES = 80
# 3MF core spec 4.1.1: names a consumer understands without a namespace.
THREE_MF_WELL_KNOWN = {
    name.lower(): name
    for name in (
        "Title",
        "Designer",
        "Description",
        "Copyright",
        "LicenseTerms",
        "Rating",
        "CreationDate",
        "ModificationDate",
        "Application",
    )
}
THREE_MF_METADATA_NS = "https://ortholens.org/ns/3mf/metadata/1"
THREE_MF_MODEL_PATH = "3D/3dmodel.model"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# Rough bytes per face of the encoded output, only to choose memory or a temporary file up front.
_BYTES_PER_FACE_ESTIMATE = 60


@dataclass(frozen=True)
class ExportOptions:
    """What the user chose in the export dialog."""

    format: MeshFormat = MeshFormat.STL
    target_faces: int | None = None  # decimate each arch to about this many faces
    up_axis: UpAxis = "Z"
    units: Units = "mm"
    metadata: Mapping[str, str] = field(default_factory=dict)  # embedded in every file
    zip: bool = False
    archive_name: str = "scans"  # the ZIP's file name, without extension
    spill_bytes: int = 64 * 1024 * 1024
    spill_dir: Path | None = None

    def __post_init__(self) -> None:
        if self.format not in EXPORT_FORMATS:
            supported = ", ".join(EXPORT_FORMATS)
            raise InvalidInput(f"Scans can be exported as {supported}, not {self.format}.")
        if self.up_axis not in ("Z", "Y"):
            raise InvalidInput("The up axis must be Z or Y.")
        if self.units not in ("mm", "inch"):
            raise InvalidInput("The units must be mm or inch.")
        if self.target_faces is not None and self.target_faces < MIN_TARGET_FACES:
            raise InvalidInput(f"The target face count must be at least {MIN_TARGET_FACES}.")
        _check_name(self.archive_name, "archive name")


@dataclass(frozen=True)
class ExportItem:
    """One arch to export: `name` becomes its file name (`upper` -> `upper.stl`)."""

    name: str
    mesh: trimesh.Trimesh
    metadata: Mapping[str, str] = field(default_factory=dict)  # over ExportOptions.metadata


@dataclass(frozen=True, slots=True)
class ExportedFile:
    """One file written: its name (inside the ZIP when zipped) and what it holds."""

    name: str
    faces: int
    vertices: int
    size: int  # bytes, uncompressed


@dataclass(frozen=True)
class ExportResult:
    """The download: bytes in memory, or a temporary file the caller must delete."""

    filename: str
    content_type: str
    files: list[ExportedFile]
    data: bytes | None = None
    path: Path | None = None

    def read_bytes(self) -> bytes:
        """The whole download, wherever it is kept."""
        if self.data is not None:
            return self.data
        assert self.path is not None
        return self.path.read_bytes()


def _check_name(name: str, what: str) -> None:
    if not _NAME.fullmatch(name):
        raise InvalidInput(
            f"The {what} must be 1-64 letters, digits, '_', '.' or '-', starting with a letter "
            "or digit."
        )


def export_transform(up_axis: UpAxis, units: Units) -> NDArray[np.float64]:
    """The 4x4 matrix from the scanner frame (mm, +Z up) to the export frame."""
    transform = np.eye(4)
    if up_axis == "Y":
        transform[:3, :3] = Z_UP_TO_Y_UP
    if units == "inch":
        transform[:3, :3] *= INCH_PER_MM
    return transform


def _clean(text: str) -> str:
    """One line of printable text: metadata values must not break the line-based headers."""
    return _CONTROL.sub(" ", str(text)).strip()


def _file_metadata(options: ExportOptions, item: ExportItem) -> dict[str, str]:
    """Units and axis first (an STL header may cut the rest) and never overridden, then item keys
    over option keys."""
    merged: dict[str, str] = {"units": options.units, "up_axis": options.up_axis}
    for key, value in {**options.metadata, **item.metadata}.items():
        merged.setdefault(key, value)
    merged.setdefault("Application", GENERATOR)
    return {_clean(key): _clean(value) for key, value in merged.items() if _clean(key)}


# --- format encoders: trimesh writes the geometry, these add the metadata ---------------------


def _stl_header(metadata: Mapping[str, str]) -> bytes:
    text = "; ".join(f"{key}={value}" for key, value in metadata.items())
    # Starts with "units=", so never with "solid", which many readers take for ASCII STL.
    header = text.encode("ascii", "replace")[:STL_HEADER_BYTES]
    return header.ljust(STL_HEADER_BYTES, b"\0")


def _encode_stl(mesh: trimesh.Trimesh, metadata: Mapping[str, str]) -> dict[str, bytes]:
    body = trimesh.exchange.stl.export_stl(mesh)
    return {"": _stl_header(metadata) + body[STL_HEADER_BYTES:]}


def _encode_ply(mesh: trimesh.Trimesh, metadata: Mapping[str, str]) -> dict[str, bytes]:
    data = trimesh.exchange.ply.export_ply(
        mesh, encoding="binary", vertex_normal=False, include_attributes=False
    )
    head, separator, body = data.partition(b"end_header\n")
    lines = head.split(b"\n")
    # trimesh writes `ply`, `format ...`, then a comment naming itself: ours take its place.
    lines = [line for line in lines if not line.startswith(b"comment ")]
    # Some readers (trimesh among them) end the header at the first line that merely contains
    # "end_header", so a comment must not.
    comments = [
        f"comment {key}: {value}".replace("end_header", "end-header").encode(
            "ascii", "backslashreplace"
        )
        for key, value in metadata.items()
    ]
    return {"": b"\n".join(lines[:2] + comments + lines[2:]) + separator + body}


def _encode_obj(mesh: trimesh.Trimesh, metadata: Mapping[str, str], name: str) -> dict[str, bytes]:
    header = "\n# ".join(f"{key}: {value}" for key, value in metadata.items())
    text, extra = trimesh.exchange.obj.export_obj(  # type: ignore[no-untyped-call]
        mesh,
        include_normals=False,
        include_color=True,
        include_texture=True,
        return_texture=True,
        mtl_name=f"{name}.mtl",
        header=header,
    )
    return {"": text.encode("utf-8"), **{key: bytes(value) for key, value in extra.items()}}


def _three_mf_metadata(metadata: Mapping[str, str]) -> bytes:
    elements = []
    for key, value in metadata.items():
        well_known = THREE_MF_WELL_KNOWN.get(key.lower())
        local = re.sub(r"[^A-Za-z0-9_.-]", "_", key)
        qualified = well_known or f"ortholens:{'_' if not local[0].isalpha() else ''}{local}"
        # html.escape's entities (&amp; &lt; &gt; &quot; &#x27;) are all valid XML; the element
        # inherits the 3MF core default namespace of <model>.
        elements.append(f'<metadata name="{qualified}">{html.escape(value)}</metadata>'.encode())
    return b"".join(elements)


def _patch_three_mf_model(model: bytes, metadata: Mapping[str, str], units: Units) -> bytes:
    """Set the unit and add <metadata> right after the <model> start tag (the spec puts them
    before <resources>), without parsing the whole document: it holds one element per vertex."""
    start = model.find(b"<model")
    end = model.find(b">", start)
    if start < 0 or end < 0 or b'unit="millimeter"' not in model[start:end]:
        raise RuntimeError("trimesh's 3MF model element has changed; update the 3MF patch")
    tag = model[start:end].replace(
        b'unit="millimeter"', b'unit="inch"' if units == "inch" else b'unit="millimeter"'
    )
    tag += f' xmlns:ortholens="{THREE_MF_METADATA_NS}"'.encode()
    return model[:start] + tag + b">" + _three_mf_metadata(metadata) + model[end + 1 :]


def _encode_three_mf(
    mesh: trimesh.Trimesh, metadata: Mapping[str, str], units: Units, name: str
) -> dict[str, bytes]:
    # A one-geometry scene, so the 3MF object is named after the arch, not "geometry_0".
    geometry: dict[str, trimesh.parent.Geometry] = {name: mesh}
    package = trimesh.exchange.threemf.export_3MF(trimesh.Scene(geometry))  # type: ignore[no-untyped-call]
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(package)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=5) as target,
    ):
        for info in source.infolist():
            content = source.read(info)
            if info.filename == THREE_MF_MODEL_PATH:
                content = _patch_three_mf_model(content, metadata, units)
            target.writestr(info.filename, content)
    return {"": out.getvalue()}


def _encode(
    mesh: trimesh.Trimesh, options: ExportOptions, metadata: Mapping[str, str], name: str
) -> dict[str, bytes]:
    """The encoded file under the key "" and any companion files (OBJ material, texture)."""
    if options.format == MeshFormat.STL:
        return _encode_stl(mesh, metadata)
    if options.format == MeshFormat.PLY:
        return _encode_ply(mesh, metadata)
    if options.format == MeshFormat.OBJ:
        return _encode_obj(mesh, metadata, name)
    return _encode_three_mf(mesh, metadata, options.units, name)


# --- the pipeline ------------------------------------------------------------------------------


def _check_items(items: list[ExportItem]) -> None:
    if not items:
        raise InvalidInput("Choose at least one scan to export.")
    names = [item.name for item in items]
    for name in names:
        _check_name(name, "scan name")
    if len({name.lower() for name in names}) != len(names):
        raise InvalidInput("Each exported scan needs its own name.")
    for item in items:
        if len(item.mesh.faces) == 0:
            raise InvalidInput(f"The {item.name} scan has no faces to export.")


def _output(options: ExportOptions, estimated_faces: int) -> IO[bytes]:
    if estimated_faces * _BYTES_PER_FACE_ESTIMATE > options.spill_bytes:
        return tempfile.NamedTemporaryFile(  # handed to the caller as a path
            prefix="ortholens-export-", dir=options.spill_dir, delete=False
        )
    return io.BytesIO()


def _add_to_zip(
    archive: zipfile.ZipFile,
    item: ExportItem,
    files: dict[str, bytes],
    mesh: trimesh.Trimesh,
    options: ExportOptions,
) -> ExportedFile:
    """Write one arch's file(s); a textured OBJ's companions go in a folder named after it."""
    extension = EXPORT_FORMATS[options.format][0]
    folder = f"{item.name}/" if len(files) > 1 else ""
    for key, content in files.items():
        name = f"{folder}{item.name}.{extension}" if key == "" else folder + key
        # A 3MF is itself a deflated ZIP: deflating it again costs time and gains nothing.
        stored = options.format == MeshFormat.THREE_MF and key == ""
        archive.writestr(name, content, zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED)
    main = f"{folder}{item.name}.{extension}"
    return ExportedFile(main, len(mesh.faces), len(mesh.vertices), len(files[""]))


def export_mesh(
    meshes: list[ExportItem], options: ExportOptions, progress: Progress | None = None
) -> ExportResult:
    """Export a scan set (frame, units and metadata per `options`) as one file or one ZIP."""
    _check_items(meshes)
    report = progress or (lambda fraction, message: None)
    extension, media_type = EXPORT_FORMATS[options.format]
    transform = export_transform(options.up_axis, options.units)
    steps = len(meshes) + 1

    def prepare(index: int, item: ExportItem) -> tuple[trimesh.Trimesh, dict[str, bytes]]:
        report(index / steps, f"Preparing {item.name}")
        mesh = item.mesh
        if options.target_faces is not None:
            mesh = decimate(mesh, options.target_faces)
        converted = mesh.copy()
        converted.apply_transform(transform)
        report((index + 0.5) / steps, f"Encoding {item.name} as {options.format}")
        return converted, _encode(converted, options, _file_metadata(options, item), item.name)

    limit = options.target_faces or max(len(item.mesh.faces) for item in meshes)
    output = _output(options, sum(min(len(item.mesh.faces), limit) for item in meshes))
    exported: list[ExportedFile] = []
    try:
        with output:
            # One arch is a bare file unless asked to zip or it brings companions (OBJ texture).
            single = prepare(0, meshes[0]) if len(meshes) == 1 and not options.zip else None
            if single is not None and len(single[1]) == 1:
                converted, files = single
                filename, content_type = f"{meshes[0].name}.{extension}", media_type
                report(1 / steps, "Writing")
                output.write(files[""])
                exported.append(
                    ExportedFile(
                        filename, len(converted.faces), len(converted.vertices), len(files[""])
                    )
                )
            else:
                filename, content_type = f"{options.archive_name}.zip", ZIP_MEDIA_TYPE
                # Arch by arch, so only one encoded arch is held in memory at a time.
                with zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
                    for index, item in enumerate(meshes):
                        prepared = single if single is not None else prepare(index, item)
                        converted, files = prepared
                        exported.append(_add_to_zip(archive, item, files, converted, options))
                    report(len(meshes) / steps, "Compressing")
            data = output.getvalue() if isinstance(output, io.BytesIO) else None
    except BaseException:
        if not isinstance(output, io.BytesIO):
            Path(output.name).unlink(missing_ok=True)
        raise
    report(1.0, "Done")
    path = None if data is not None else Path(output.name)
    return ExportResult(filename, content_type, exported, data=data, path=path)
