"""Decimating a 1,000,000-triangle scan-sized mesh to 100,000 triangles, on one core.

Reference: `fast_simplification.simplify` called directly on the mesh's arrays. Ours:
`ortholens.processing.meshes.decimate.decimate` (the same library, plus building the result
`Trimesh` and, when the scan has colour, carrying the colours by nearest original vertex).
Goal: ratio ours / library close to 1.0 without colour; the colour line shows what colour costs.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

import fast_simplification
import numpy as np
import trimesh

from ortholens.processing.meshes.decimate import decimate

TRIANGLES = 1_000_000
TARGET = 100_000
ROUNDS = 3


def make_mesh(seed: int = 0) -> trimesh.Trimesh:
    """A noisy sphere of radius 25 mm trimmed to exactly TRIANGLES faces (an open surface, like a
    scan), with shared vertices as an importer leaves them."""
    sphere = trimesh.creation.icosphere(subdivisions=8)  # 1,310,720 faces
    rng = np.random.default_rng(seed)
    vertices = sphere.vertices * (25.0 + rng.normal(0, 0.02, (len(sphere.vertices), 1)))
    faces = sphere.faces[np.argsort(sphere.triangles_center[:, 2])[:TRIANGLES]]
    mesh = trimesh.Trimesh(vertices, faces, process=False)
    mesh.remove_unreferenced_vertices()
    return mesh


def coloured(mesh: trimesh.Trimesh) -> trimesh.Trimesh:
    copy = mesh.copy()
    shade = ((copy.vertices[:, 2] + 25) / 50 * 255).astype(np.uint8)
    rgba = np.c_[shade, 255 - shade, np.full_like(shade, 200), np.full_like(shade, 255)]
    copy.visual = trimesh.visual.ColorVisuals(copy, vertex_colors=rgba)
    return copy


def best_times(cases: dict[str, Callable[[], object]]) -> dict[str, tuple[float, float]]:
    """Best (wall, CPU) seconds per case over ROUNDS rounds. The cases take turns within each round
    so that load from other processes on a shared machine falls on all of them alike; CPU time is
    reported beside wall time because it is the steadier of the two under such load."""
    best = {name: (float("inf"), float("inf")) for name in cases}
    for _ in range(ROUNDS):
        for name, fn in cases.items():
            wall, cpu = time.perf_counter(), time.process_time()
            fn()
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            best[name] = (min(best[name][0], wall), min(best[name][1], cpu))
    return best


def main() -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    mesh = make_mesh()
    with_colour = coloured(mesh)
    print(f"{len(mesh.faces):,} triangles, {len(mesh.vertices):,} vertices -> {TARGET:,}; "
          f"one core, fast-simplification {fast_simplification.__version__}, best of {ROUNDS}")  # fmt: skip
    points = np.asarray(mesh.vertices, dtype=np.float64)
    triangles = np.asarray(mesh.faces, dtype=np.int32)

    times = best_times(
        {
            "fast_simplification.simplify": lambda: fast_simplification.simplify(
                points, triangles, target_count=TARGET
            ),
            "ours, decimate()": lambda: decimate(mesh, TARGET),
            "ours, decimate() with colour": lambda: decimate(with_colour, TARGET),
        }
    )
    print(f"  {'':30} {'wall':>8} {'CPU':>8}")
    for name, (wall, cpu) in times.items():
        print(f"  {name:30} {wall * 1000:6.0f} ms {cpu * 1000:6.0f} ms")
    library_wall, library_cpu = times["fast_simplification.simplify"]
    for name in ("ours, decimate()", "ours, decimate() with colour"):
        wall, cpu = times[name]
        print(
            f"ratio {name} / library: wall {wall / library_wall:.2f}, CPU {cpu / library_cpu:.2f}"
        )
    print(f"faces after decimate(): {len(decimate(mesh, TARGET).faces):,}")


if __name__ == "__main__":
    main()
