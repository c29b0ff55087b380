"""Scan metadata on meshes whose answers are known."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import trimesh

from ortholens.kit.errors import InvalidInput
from ortholens.processing.meshes.analysis import analyse_mesh
from tests.processing.meshes import mesh_files


def test_unit_cube() -> None:
    metrics = analyse_mesh(mesh_files.cube())
    assert metrics.vertex_count == 8 and metrics.face_count == 12
    assert metrics.bbox_min_mm == pytest.approx((0, 0, 0))
    assert metrics.bbox_max_mm == pytest.approx((1, 1, 1))
    assert metrics.bbox_size_mm == pytest.approx((1, 1, 1))
    assert metrics.surface_area_mm2 == pytest.approx(6)
    assert metrics.volume_mm3 == pytest.approx(1)
    assert metrics.is_watertight
    assert metrics.hole_count == 0
    assert metrics.degenerate_face_count == 0
    assert metrics.duplicate_face_count == 0
    assert not metrics.has_colour
    assert metrics.units == "mm"


def test_icosphere_area_and_volume() -> None:
    radius = 12.0
    sphere = trimesh.creation.icosphere(subdivisions=5, radius=radius)
    metrics = analyse_mesh(sphere)
    assert metrics.surface_area_mm2 == pytest.approx(4 * math.pi * radius**2, rel=2e-3)
    assert metrics.volume_mm3 == pytest.approx(4 / 3 * math.pi * radius**3, rel=3e-3)
    # and exactly what trimesh computes for the polyhedron itself
    assert metrics.surface_area_mm2 == pytest.approx(sphere.area, rel=1e-9)
    assert metrics.volume_mm3 == pytest.approx(sphere.volume, rel=1e-9)
    assert metrics.bbox_size_mm == pytest.approx((2 * radius,) * 3)


def test_inverted_winding_still_gives_a_positive_volume() -> None:
    cube = mesh_files.cube()
    cube.faces = np.asarray(cube.faces)[:, ::-1]
    assert analyse_mesh(cube).volume_mm3 == pytest.approx(1)


def test_cube_with_one_side_removed_has_one_hole_and_no_volume() -> None:
    cube = mesh_files.cube()
    top = np.flatnonzero(np.asarray(cube.vertices)[cube.faces][:, :, 2].min(axis=1) > 0.99)
    assert len(top) == 2
    open_box = trimesh.Trimesh(cube.vertices, np.delete(cube.faces, top, axis=0), process=False)
    metrics = analyse_mesh(open_box)
    assert not metrics.is_watertight
    assert metrics.hole_count == 1
    assert metrics.volume_mm3 is None
    assert metrics.surface_area_mm2 == pytest.approx(5)


def test_two_separate_holes() -> None:
    sphere = trimesh.creation.icosphere(subdivisions=3)
    centres = np.asarray(sphere.triangles_center)
    cut = (centres[:, 2] > 0.9) | (centres[:, 2] < -0.9)
    punctured = trimesh.Trimesh(sphere.vertices, sphere.faces[~cut], process=False)
    assert analyse_mesh(punctured).hole_count == 2


def test_duplicate_and_degenerate_faces() -> None:
    cube = mesh_files.cube()
    vertices = np.vstack([cube.vertices, [[0.5, 0.0, 0.0]]])  # midpoint of the edge (0,0,0)-(1,0,0)
    origin = int(np.flatnonzero((np.asarray(cube.vertices) == [0, 0, 0]).all(axis=1))[0])
    x_end = int(np.flatnonzero((np.asarray(cube.vertices) == [1, 0, 0]).all(axis=1))[0])
    faces = np.vstack([
        cube.faces,
        cube.faces[0][::-1],  # same vertex set as face 0, reversed: a duplicate
        [origin, origin, x_end],  # repeated index: degenerate
        [origin, 8, x_end],  # three collinear points: zero area
    ])  # fmt: skip
    metrics = analyse_mesh(trimesh.Trimesh(vertices, faces, process=False))
    assert metrics.duplicate_face_count == 1
    assert metrics.degenerate_face_count == 2
    assert not metrics.is_watertight
    assert metrics.volume_mm3 is None


def test_inches_are_converted_to_millimetres() -> None:
    metrics = analyse_mesh(mesh_files.cube(), units="inch")
    assert metrics.bbox_size_mm == pytest.approx((25.4,) * 3)
    assert metrics.surface_area_mm2 == pytest.approx(6 * 25.4**2)
    assert metrics.volume_mm3 == pytest.approx(25.4**3)
    assert metrics.units == "in"
    with pytest.raises(InvalidInput, match="Unknown units"):
        analyse_mesh(mesh_files.cube(), units="furlongs")


def test_colour_and_json() -> None:
    cube = mesh_files.cube()
    cube.visual.vertex_colors = np.tile([200, 30, 30, 255], (8, 1))
    metrics = analyse_mesh(cube)
    assert metrics.has_colour
    document = json.loads(json.dumps(metrics.to_json()))
    assert document["bbox_size_mm"] == pytest.approx([1, 1, 1])
    assert document["volume_mm3"] == pytest.approx(1)
    assert document["hole_count"] == 0


def test_agrees_with_trimesh_on_a_noisy_open_mesh() -> None:
    rng = np.random.default_rng(3)
    sphere = trimesh.creation.icosphere(subdivisions=3)
    keep = rng.random(len(sphere.faces)) > 0.05
    mesh = trimesh.Trimesh(sphere.vertices, sphere.faces[keep], process=False)
    metrics = analyse_mesh(mesh)
    assert metrics.is_watertight == mesh.is_watertight
    assert metrics.surface_area_mm2 == pytest.approx(mesh.area)
    boundary = trimesh.grouping.group_rows(mesh.edges_sorted, require_count=1)
    loops = trimesh.graph.connected_components(mesh.edges_sorted[boundary], min_len=1)
    assert metrics.hole_count == len(loops)
