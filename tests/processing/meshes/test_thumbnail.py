"""The gallery thumbnail is a real, shaded picture of the scan, seen from its occlusal side."""

from __future__ import annotations

import io

import numpy as np
import pytest
import trimesh
from PIL import Image

from ortholens.kit.errors import InvalidInput
from ortholens.processing.meshes.thumbnail import BACKGROUND, render_thumbnail, view_rotation

GUM = (200, 90, 100, 255)
TOOTH = (240, 235, 220, 255)


def make_arch(around: int = 240, across: int = 40, *, colour: bool = True) -> trimesh.Trimesh:
    """An open horseshoe surface in mm, +Z occlusal, with a bump per tooth: an arch-scan stand-in."""
    t = np.linspace(-0.62 * np.pi, 0.62 * np.pi, around)
    s = np.linspace(-1.0, 1.0, across)
    tt, ss = np.meshgrid(t, s, indexing="ij")
    teeth = 1.0 + 0.35 * np.cos(7 * tt) ** 2
    radial = ss * 5.0
    z = 8 * np.sqrt(np.clip(1 - ss**2, 0, 1)) * teeth
    x = 25 * np.sin(tt) + radial * np.sin(tt)
    y = 22 * np.cos(tt) + radial * np.cos(tt)
    index = np.arange(around * across).reshape(around, across)
    a, b, c, d = index[:-1, :-1], index[1:, :-1], index[1:, 1:], index[:-1, 1:]
    faces = np.r_[np.c_[a.ravel(), b.ravel(), c.ravel()], np.c_[a.ravel(), c.ravel(), d.ravel()]]
    arch = trimesh.Trimesh(np.c_[x.ravel(), y.ravel(), z.ravel()], faces, process=False)
    if arch.area_faces @ arch.face_normals[:, 2] < 0:
        arch.invert()  # outward = occlusal
    if colour:
        rgba = np.where((z.ravel() < 3)[:, None], GUM, TOOTH).astype(np.uint8)
        arch.visual = trimesh.visual.ColorVisuals(arch, vertex_colors=rgba)
    return arch


def decode(data: bytes) -> np.ndarray:
    image = Image.open(io.BytesIO(data))
    assert image.format == "WEBP"
    return np.asarray(image.convert("RGB")).astype(np.int32)


def foreground(pixels: np.ndarray) -> np.ndarray:
    return np.abs(pixels - np.array(BACKGROUND)).sum(axis=2) > 24


def test_thumbnail_is_a_shaded_picture_not_a_blank() -> None:
    pixels = decode(render_thumbnail(make_arch(colour=False)))
    assert pixels.shape == (300, 300, 3)
    mask = foreground(pixels)
    assert 0.12 < mask.mean() < 0.9  # the arch fills a fair part, not all, of the frame
    luminance = pixels[mask].mean(axis=1)
    assert luminance.std() > 10  # shading varies across the cusps
    # the drawing is centred: the foreground's bounding box touches neither edge
    rows, cols = np.nonzero(mask)
    assert rows.min() > 0 and cols.min() > 0 and rows.max() < 299 and cols.max() < 299


def test_thumbnail_uses_vertex_colours() -> None:
    coloured = decode(render_thumbnail(make_arch(colour=True)))
    plain = decode(render_thumbnail(make_arch(colour=False)))

    def reddish(pixels: np.ndarray) -> float:
        red, green = pixels[..., 0], pixels[..., 1]
        return float((foreground(pixels) & (red - green > 50)).mean())

    assert reddish(coloured) > 0.01  # gum shows
    assert reddish(plain) == 0


def test_thumbnail_size_is_honoured() -> None:
    assert decode(render_thumbnail(trimesh.creation.icosphere(3), size=64)).shape == (64, 64, 3)


def test_view_looks_at_the_occlusal_side() -> None:
    arch = make_arch(colour=False)
    _, rotation = view_rotation(arch)
    assert np.linalg.det(rotation) == pytest.approx(1.0)
    np.testing.assert_allclose(rotation @ rotation.T, np.eye(3), atol=1e-9)
    towards_viewer = rotation[2]
    assert towards_viewer @ [0, 0, 1] > 0.85  # along +Z, tilted by VIEW_TILT_DEG at most
    # flipped upside down, the same scan is still seen from its occlusal (now -Z) side
    flipped = arch.copy()
    flipped.apply_transform(trimesh.transformations.rotation_matrix(np.pi, [1, 0, 0]))
    _, rotation = view_rotation(flipped)
    assert rotation[2] @ [0, 0, -1] > 0.85


def test_thumbnail_refuses_empty_meshes_and_silly_sizes() -> None:
    with pytest.raises(InvalidInput):
        render_thumbnail(trimesh.Trimesh())
    with pytest.raises(InvalidInput):
        render_thumbnail(trimesh.creation.icosphere(1), size=10_000)
