"""What decoding in an isolated worker process costs, per photo and per scan, on one core.

The same step runs twice on the same bytes: in-process (`DecoderPool(isolated=False)`, the old path)
and isolated (`DecoderPool`, the default: a warm forkserver worker with a time and a memory limit).
The isolated call adds pickling the input and the result through a pipe, the task hand-off in
pebble, and setting the memory limit; the decode itself is the same code.

  photo: `image.process`'s `derive_photo` (variants, quality, view) of a 4000x3000 JPEG (q90)
  scan:  `intraoral.derive`'s `derive_scan_views` (parse, decimate to <= 150k faces, thumbnail) of a
         200,000-triangle binary STL (10 MB)

Printed: best of ROUNDS for each path (rounds of the two alternate), the ratio isolated / in-process and the absolute overhead
in ms; the median time an isolated call spends outside the step (measured around and inside the
worker, so it holds on a busy machine where the two bests differ by noise); the first call of a new
pool (fork server start and imports); a bare round trip of the photo's bytes with no decode.
"""

from __future__ import annotations

import os

if hasattr(os, "sched_setaffinity"):
    # One core for every thread and process, set before numpy, OpenCV and libvips start their
    # thread pools (a later call pins only the calling thread, and the in-process side would get
    # the second core through them while the fork server's workers do not).
    os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})

import io
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import trimesh
from PIL import Image, ImageDraw

from ortholens.image.tasks import derive_photo
from ortholens.intraoral.tasks import derive_scan_views
from ortholens.kit.isolation import DecoderPool, IsolationLimits
from ortholens.processing.meshes.stl import STL_RECORD
from ortholens.processing.meshes.types import MeshLimits

ROUNDS = 7
WIDTH, HEIGHT = 4000, 3000
TRIANGLES = 200_000
LIMITS = IsolationLimits(timeout_seconds=300, memory_mb=2048, processes=1)
PRELOAD = ["ortholens.image.tasks", "ortholens.intraoral.tasks"]


def make_jpeg() -> bytes:
    """A 12-MP photo-like JPEG: gradients, sensor noise and soft shapes (as in photo_variants.py)."""
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:HEIGHT, 0:WIDTH].astype(np.float32)
    base = np.stack(
        [x / WIDTH * 180 + 40, y / HEIGHT * 160 + 50, (x + y) / (WIDTH + HEIGHT) * 140 + 60], -1
    )
    base += rng.normal(0, 6, (HEIGHT, WIDTH, 3)).astype(np.float32)
    image = Image.fromarray(np.clip(base, 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(image)
    for _ in range(40):
        cx, cy, r = (
            int(v) for v in (rng.integers(0, WIDTH), rng.integers(0, HEIGHT), rng.integers(40, 400))
        )
        draw.ellipse(
            (cx - r, cy - r, cx + r, cy + r), fill=tuple(int(v) for v in rng.integers(0, 255, 3))
        )
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue()


def make_stl() -> bytes:
    """A noisy icosphere (radius 25 mm) trimmed to TRIANGLES faces, one boundary like a scan."""
    sphere = trimesh.creation.icosphere(subdivisions=7)
    rng = np.random.default_rng(0)
    vertices = sphere.vertices * (25.0 + rng.normal(0, 0.02, (len(sphere.vertices), 1)))
    faces = sphere.faces[np.argsort(sphere.triangles_center[:, 2])[:TRIANGLES]]
    records = np.zeros(len(faces), dtype=STL_RECORD)
    records["corners"] = vertices[faces]
    header = b"bench export".ljust(80)
    return header + np.uint32(len(faces)).tobytes() + records.tobytes()


def byte_count(data: bytes) -> int:
    """No decode at all: what a round trip of the input costs by itself."""
    return len(data)


def paired(local: Callable[[], Any], isolated: Callable[[], Any]) -> tuple[float, float]:
    """Best of ROUNDS for each path, the two alternating so that a busy machine slows both alike."""
    local(), isolated()
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(ROUNDS):
        for fn, into in ((local, times[0]), (isolated, times[1])):
            started = time.perf_counter()
            fn()
            into.append(time.perf_counter() - started)
    return min(times[0]), min(times[1])


def timed_call(step: Callable[..., Any], *args: Any) -> float:
    """Run `step` and return how long it took where it ran (inside the worker, when isolated)."""
    started = time.perf_counter()
    step(*args)
    return time.perf_counter() - started


def hand_off(pool: DecoderPool, step: Callable[..., Any], *args: Any) -> float:
    """Median time an isolated call spends outside the step itself: pickling, pipe, pebble."""
    pool.run(timed_call, step, *args)
    outside = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        inside = pool.run(timed_call, step, *args)
        outside.append(time.perf_counter() - started - inside)
    return sorted(outside)[len(outside) // 2]


def best(fn: Callable[[], Any]) -> float:
    fn()  # warm caches (and, isolated, the worker)
    times = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def compare(name: str, in_process: float, isolated: float, outside: float) -> None:
    print(
        f"{name:6} in-process {in_process * 1e3:8.1f} ms   isolated {isolated * 1e3:8.1f} ms   "
        f"ratio {isolated / in_process:5.3f}   overhead {(isolated - in_process) * 1e3:+7.1f} ms"
        f"   (hand-off outside the step: {outside * 1e3:.1f} ms)"
    )


def main() -> None:
    photo, scan = make_jpeg(), make_stl()
    limits = MeshLimits()
    print(
        f"photo: JPEG {WIDTH}x{HEIGHT} q90, {len(photo) / 1e6:.1f} MB; scan: binary STL "
        f"{TRIANGLES:,} triangles, {len(scan) / 1e6:.1f} MB; one core, one worker, best of {ROUNDS}"
    )
    in_process = DecoderPool(LIMITS, isolated=False)
    with DecoderPool(LIMITS, preload=PRELOAD) as isolated:
        started = time.perf_counter()
        isolated.run(byte_count, b"")
        first = time.perf_counter() - started
        trip = best(lambda: isolated.run(byte_count, photo))
        photo_local, photo_isolated = paired(
            lambda: in_process.run(derive_photo, photo), lambda: isolated.run(derive_photo, photo)
        )
        scan_local, scan_isolated = paired(
            lambda: in_process.run(derive_scan_views, scan, "arch.stl", limits),
            lambda: isolated.run(derive_scan_views, scan, "arch.stl", limits),
        )
        photo_outside = hand_off(isolated, derive_photo, photo)
        scan_outside = hand_off(isolated, derive_scan_views, scan, "arch.stl", limits)
    print(f"first call of a new pool (fork server start, imports, worker): {first * 1e3:.0f} ms")
    print(
        f"bare round trip of the photo's {len(photo) / 1e6:.1f} MB, no decode: {trip * 1e3:.1f} ms"
    )
    compare("photo", photo_local, photo_isolated, photo_outside)
    compare("scan", scan_local, scan_isolated, scan_outside)


if __name__ == "__main__":
    main()
