"""Decimation keeps shape and colour; the web mesh is a binary PLY the three.js viewer can load."""

from __future__ import annotations

import io

import numpy as np
import pytest
import trimesh
from PIL import Image
from scipy.spatial import cKDTree

from ortholens.kit.errors import InvalidInput
from ortholens.processing.meshes.decimate import decimate, vertex_colours, web_mesh


def coloured_sphere(subdivisions: int = 5) -> trimesh.Trimesh:
    """Unit sphere, red on the northern hemisphere, blue on the southern one."""
    sphere = trimesh.creation.icosphere(subdivisions=subdivisions)
    north = sphere.vertices[:, 2] > 0
    rgba = np.where(north[:, None], [220, 30, 30, 255], [30, 30, 220, 255]).astype(np.uint8)
    sphere.visual = trimesh.visual.ColorVisuals(sphere, vertex_colors=rgba)
    return sphere


def test_decimate_hits_the_target_and_keeps_the_sphere() -> None:
    sphere = trimesh.creation.icosphere(subdivisions=5)  # 20,480 faces
    reduced = decimate(sphere, 2_000)
    assert abs(len(reduced.faces) - 2_000) <= 100
    radii = np.linalg.norm(reduced.vertices, axis=1)
    assert np.abs(radii - 1).max() < 0.02  # every new vertex on the surface
    # and the surface still covers the sphere: no original vertex is far from the new ones
    gaps, _ = cKDTree(reduced.vertices).query(sphere.vertices)
    assert gaps.max() < 0.15
    np.testing.assert_allclose(reduced.bounds, sphere.bounds, atol=0.03)
    assert reduced.is_watertight
    assert reduced.volume == pytest.approx(sphere.volume, rel=0.02)


def test_decimate_carries_vertex_colours() -> None:
    reduced = decimate(coloured_sphere(), 1_500)
    colours = vertex_colours(reduced)
    assert colours is not None
    assert len(colours) == len(reduced.vertices)
    z = reduced.vertices[:, 2]
    assert (colours[z > 0.1, :3] == [220, 30, 30]).all()
    assert (colours[z < -0.1, :3] == [30, 30, 220]).all()


def test_decimate_under_target_is_a_no_op() -> None:
    sphere = trimesh.creation.icosphere(subdivisions=2)
    assert decimate(sphere, len(sphere.faces)) is sphere


def test_decimate_merges_a_triangle_soup_first() -> None:
    sphere = trimesh.creation.icosphere(subdivisions=4)
    soup = trimesh.Trimesh(
        sphere.triangles.reshape(-1, 3),
        np.arange(len(sphere.faces) * 3).reshape(-1, 3),
        process=False,
    )
    reduced = decimate(soup, 1_000)
    assert abs(len(reduced.faces) - 1_000) <= 50
    assert reduced.is_watertight  # collapses crossed the (once unshared) edges


def test_decimate_refuses_a_target_below_a_tetrahedron() -> None:
    with pytest.raises(InvalidInput):
        decimate(trimesh.creation.icosphere(subdivisions=1), 3)


def test_vertex_colours_sample_a_texture() -> None:
    plane = trimesh.Trimesh(
        [[0, 0, 0], [1, 0, 0], [1, 1, 0], [0, 1, 0]], [[0, 1, 2], [0, 2, 3]], process=False
    )
    texture = Image.new("RGB", (2, 1), (0, 200, 0))
    texture.putpixel((1, 0), (200, 0, 0))
    uv = np.array([[0.1, 0.5], [0.9, 0.5], [0.9, 0.5], [0.1, 0.5]])
    plane.visual = trimesh.visual.TextureVisuals(uv=uv, image=texture)
    colours = vertex_colours(plane)
    assert colours is not None
    assert colours[0, :3].tolist() == [0, 200, 0]
    assert colours[1, :3].tolist() == [200, 0, 0]


def test_vertex_colours_none_without_colour() -> None:
    assert vertex_colours(trimesh.creation.icosphere(subdivisions=1)) is None


def test_web_mesh_is_a_bounded_binary_ply_with_colours() -> None:
    sphere = coloured_sphere()
    result = web_mesh(sphere, max_faces=3_000)
    assert result.has_colour
    header = result.data[: result.data.index(b"end_header\n")].decode("ascii")
    assert "format binary_little_endian 1.0" in header
    assert "property uchar red" in header
    assert "property float nx" not in header  # the viewer computes normals
    back = trimesh.load(io.BytesIO(result.data), file_type="ply", process=False)
    assert len(back.faces) == result.faces <= 3_000
    assert len(back.vertices) == result.vertices
    north = back.vertices[:, 2] > 0.1
    assert (back.visual.vertex_colors[north, :3] == [220, 30, 30]).all()
    # coordinates are the input's, in mm, unscaled
    np.testing.assert_allclose(back.bounds, sphere.bounds, atol=0.03)


def test_web_mesh_without_colour_has_no_colour_properties() -> None:
    result = web_mesh(trimesh.creation.icosphere(subdivisions=3))
    assert not result.has_colour
    assert b"property uchar red" not in result.data[:500]
    assert result.faces == 1_280  # under the cap: not decimated
