"""Wavefront OBJ, with its MTL material and texture image when they come along (sibling entries
of a ZIP bundle). A lone OBJ is read as geometry only: its `mtllib` names files we do not have."""

from __future__ import annotations

import io
import posixpath
import re
from collections.abc import Mapping

import trimesh
from PIL import Image
from trimesh.resolvers import Resolver

from ortholens.kit.errors import InvalidInput
from ortholens.processing.meshes.checks import check_declared_counts, check_mesh
from ortholens.processing.meshes.scanner_text import scanner_from_text
from ortholens.processing.meshes.sniff import Sniffed, sniff
from ortholens.processing.meshes.types import MeshLimits, ScannerMetadata


class SiblingResolver(Resolver):
    """Serves the files next to an OBJ from memory; refuses oversized texture images before
    trimesh decodes them (a small PNG can declare gigapixels)."""

    def __init__(
        self, files: Mapping[str, bytes], base_dir: str, name: str, limits: MeshLimits
    ) -> None:
        self.files = {k.lower(): v for k, v in files.items()}
        self.base_dir = base_dir
        self.name = name
        self.limits = limits
        self.served_image = False  # trimesh invents a placeholder texture when none was given
        # trimesh swallows errors raised while loading materials, so refusals are kept here too
        self.refusal: InvalidInput | None = None

    def get(self, key: str) -> bytes:
        wanted = posixpath.normpath(posixpath.join(self.base_dir, key.replace("\\", "/"))).lower()
        data = self.files.get(wanted)
        if data is None:  # exporters often write absolute or differently-cased paths
            base = posixpath.basename(wanted)
            data = next((v for k, v in self.files.items() if posixpath.basename(k) == base), None)
        if data is None:
            raise FileNotFoundError(key)
        if sniff(data) is Sniffed.IMAGE:
            self.refusal = self._image_refusal(data)
            if self.refusal is not None:
                raise self.refusal
            self.served_image = True
        return data

    def _image_refusal(self, data: bytes) -> InvalidInput | None:
        try:
            with Image.open(io.BytesIO(data)) as image:
                width, height = image.size
        except Exception:  # PIL raises many types on broken images
            return InvalidInput(f"The texture of '{self.name}' is not a readable image.")
        if width * height > self.limits.max_texture_pixels:
            return InvalidInput(
                f"The texture of '{self.name}' is {width}x{height} pixels; at most "
                f"{self.limits.max_texture_pixels:,} pixels are accepted."
            )
        return None

    def namespaced(self, namespace: str) -> SiblingResolver:
        return SiblingResolver(
            self.files, posixpath.join(self.base_dir, namespace), self.name, self.limits
        )

    def keys(self) -> list[str]:
        return list(self.files)

    def write(self, key: str, value: bytes) -> None:
        raise PermissionError("read-only")


def _texture_png(mesh: trimesh.Trimesh) -> bytes | None:
    material = getattr(mesh.visual, "material", None)
    image = getattr(material, "image", None) or getattr(material, "baseColorTexture", None)
    if not isinstance(image, Image.Image):
        return None
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def _no_faces(name: str, vertices: int) -> str:
    if vertices == 0:
        return f"'{name}' contains no triangles: it has no vertices and no faces (only comments or other statements)."
    return (
        f"'{name}' contains no triangles: it has {vertices:,} vertices but no faces "
        "(a point cloud cannot be imported as a scan)."
    )


def read_obj(
    data: bytes,
    name: str,
    limits: MeshLimits,
    siblings: Mapping[str, bytes] | None = None,
) -> tuple[trimesh.Trimesh, ScannerMetadata, bytes | None]:
    """(mesh, scanner metadata, texture as PNG or None). `siblings` maps bundle paths to bytes."""
    faces = len(re.findall(rb"^[ \t]*f[ \t]", data, re.M))
    vertices = len(re.findall(rb"^[ \t]*v[ \t]", data, re.M))
    check_declared_counts(
        faces, vertices, name, limits
    )  # polygons add triangles: checked again after
    if faces == 0:
        raise InvalidInput(_no_faces(name, vertices))
    resolver = None
    if siblings:
        resolver = SiblingResolver(siblings, posixpath.dirname(name), name, limits)
    try:
        loaded = trimesh.load(
            io.BytesIO(data),
            file_type="obj",
            resolver=resolver,
            process=False,
            skip_materials=resolver is None,
        )
    except InvalidInput:
        raise
    except Exception as error:  # trimesh raises many types on malformed files
        raise InvalidInput(f"'{name}' could not be read as OBJ: the file is malformed.") from error
    if resolver is not None and resolver.refusal is not None:
        raise resolver.refusal
    if isinstance(loaded, trimesh.Scene):
        geometries = [g for g in loaded.dump() if isinstance(g, trimesh.Trimesh)]
        if not geometries:
            raise InvalidInput(f"'{name}' contains no triangles.")
        loaded = geometries[0] if len(geometries) == 1 else trimesh.util.concatenate(geometries)
    if not isinstance(loaded, trimesh.Trimesh):
        raise InvalidInput(f"'{name}' contains no triangles.")
    check_mesh(loaded, name, limits)
    meta = ScannerMetadata(units="mm")
    comments = "\n".join(
        m.decode("utf-8", "replace") for m in re.findall(rb"^#(.*)$", data[:8192], re.M)
    )
    found = scanner_from_text(comments)
    if found:
        meta.scanner_type, meta.extra["scanner_name"] = found
    texture = _texture_png(loaded) if resolver is not None and resolver.served_image else None
    return loaded, meta, texture
