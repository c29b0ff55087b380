"""Thumbnail (300x300 WebP) + preview (1600 px JPEG) of 12-megapixel JPEGs, on one core.

References, measured in the same run on the same files, each making ONE variant:
  (a) the `vipsthumbnail` command, (b) pyvips `thumbnail_buffer`, (c) Pillow with JPEG draft mode.
Ours (`make_variants`) makes BOTH variants. Goal: ours <= fastest thumbnail path + fastest preview
path, i.e. ratio ours / (sum of fastest) <= 1.0.

A second table times our pipeline per format with each decoder (Pillow, pyvips): the choice in
`ortholens.processing.photos.DECODERS` comes from it.
"""

from __future__ import annotations

import os

os.environ["VIPS_CONCURRENCY"] = "1"  # before libvips starts its thread pool

import io
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyvips
from PIL import Image, ImageDraw, ImageOps

from ortholens.kit.errors import InvalidInput
from ortholens.processing.photo_decoders import decode_with_pillow, decode_with_vips
from ortholens.processing.photos import make_variants

WIDTH, HEIGHT = 4000, 3000
ORIENTATIONS = (1, 6, 8)
ROUNDS = 5
VIPSTHUMBNAIL = shutil.which("vipsthumbnail")


def make_photo(seed: int) -> Image.Image:
    """A 12-MP photo-like image: smooth gradients, sensor noise and soft-edged shapes."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:HEIGHT, 0:WIDTH].astype(np.float32)
    base = np.stack(
        [x / WIDTH * 180 + 40, y / HEIGHT * 160 + 50, (x + y) / (WIDTH + HEIGHT) * 140 + 60], -1
    )
    base += rng.normal(0, 6, (HEIGHT, WIDTH, 3)).astype(np.float32)
    image = Image.fromarray(np.clip(base, 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(image)
    for _ in range(40):
        cx, cy, r = rng.integers(0, WIDTH), rng.integers(0, HEIGHT), rng.integers(40, 400)
        colour = tuple(int(v) for v in rng.integers(0, 255, 3))
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=colour)
    return image


def jpeg_with_orientation(image: Image.Image, orientation: int) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010F] = "BenchCam"  # Make
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90, exif=exif)
    return out.getvalue()


# --- reference paths: one variant each ---------------------------------------------------------


def vipsthumbnail_thumb(path: Path, data: bytes, out: Path) -> None:
    subprocess.run(
        [VIPSTHUMBNAIL or "vipsthumbnail", str(path), "-s", "300x300", "-c",
         "-o", f"{out}/%s_t.webp[Q=80,strip]"],
        check=True,
    )  # fmt: skip


def vipsthumbnail_preview(path: Path, data: bytes, out: Path) -> None:
    subprocess.run(
        [VIPSTHUMBNAIL or "vipsthumbnail", str(path), "-s", "1600x1600>",
         "-o", f"{out}/%s_p.jpg[Q=85,strip]"],
        check=True,
    )  # fmt: skip


def pyvips_thumb(path: Path, data: bytes, out: Path) -> None:
    image = pyvips.Image.thumbnail_buffer(data, 300, height=300, crop="centre")
    image.webpsave_buffer(Q=80, keep=0)


def pyvips_preview(path: Path, data: bytes, out: Path) -> None:
    image = pyvips.Image.thumbnail_buffer(data, 1600, height=1600, size="down")
    image.jpegsave_buffer(Q=85, keep=0)


def _draft(data: bytes, cover: int | None, fit: int | None) -> tuple[Image.Image, int]:
    """Open with draft mode towards the target; the EXIF orientation is applied after resizing."""
    image = Image.open(io.BytesIO(data))
    w, h = image.size
    scale = cover / min(w, h) if cover else (fit or 1) / max(w, h)
    image.draft("RGB", (round(w * scale), round(h * scale)))
    return image, image.getexif().get(0x0112, 1)


_TRANSPOSE = {3: Image.Transpose.ROTATE_180, 6: Image.Transpose.ROTATE_270,
              8: Image.Transpose.ROTATE_90}  # fmt: skip


def pillow_thumb(path: Path, data: bytes, out: Path) -> None:
    image, orientation = _draft(data, 300, None)
    square = ImageOps.fit(
        image, (300, 300)
    )  # a centre square: crop then rotate == rotate then crop
    if orientation in _TRANSPOSE:
        square = square.transpose(_TRANSPOSE[orientation])
    square.save(io.BytesIO(), "WEBP", quality=80)


def pillow_preview(path: Path, data: bytes, out: Path) -> None:
    image, orientation = _draft(data, None, 1600)
    image.thumbnail((1600, 1600))
    upright = image.transpose(_TRANSPOSE[orientation]) if orientation in _TRANSPOSE else image
    upright.save(io.BytesIO(), "JPEG", quality=85)


def ours(path: Path, data: bytes, out: Path) -> None:
    make_variants(data)


Path_ = Callable[[Path, bytes, Path], None]


def best_rate(fn: Path_, files: list[tuple[Path, bytes]], out: Path) -> float:
    """Images per second: the best of ROUNDS passes over all files (after one warm-up pass)."""
    best = float("inf")
    for round_ in range(ROUNDS + 1):
        started = time.perf_counter()
        for path, data in files:
            fn(path, data, out)
        if round_:
            best = min(best, time.perf_counter() - started)
    return len(files) / best


def format_table(photo: Image.Image) -> None:
    def encode(fmt: str, **options: object) -> bytes:
        buffer = io.BytesIO()
        photo.save(buffer, fmt, **options)
        return buffer.getvalue()

    import pillow_heif  # noqa: F401  (registers the HEIF writer)

    samples = {
        "JPEG": encode("JPEG", quality=90),
        "PNG": encode("PNG", compress_level=6),
        "TIFF": encode("TIFF"),
        "WebP": encode("WEBP", quality=90),
        "HEIC": encode("HEIF", quality=90),
    }
    print("\nper format, make_variants with each decoder (4000x3000, one core):")
    for name, data in samples.items():
        row = [f"  {name:5} ({len(data) / 1e6:5.1f} MB)"]
        for label, decoder in (("Pillow", decode_with_pillow), ("pyvips", decode_with_vips)):
            try:
                make_variants(data, decoder=decoder)
                started = time.perf_counter()
                for _ in range(3):
                    make_variants(data, decoder=decoder)
                row.append(f"{label} {3 / (time.perf_counter() - started):6.2f}/s")
            except InvalidInput:
                row.append(f"{label}  cannot decode")
        print("   ".join(row))


def main() -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core, children too
    pyvips.cache_set_max(0)
    photos = [make_photo(seed) for seed in range(len(ORIENTATIONS))]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        files = []
        for i, (photo, orientation) in enumerate(zip(photos, ORIENTATIONS, strict=True)):
            data = jpeg_with_orientation(photo, orientation)
            path = root / f"photo{i}.jpg"
            path.write_bytes(data)
            files.append((path, data))
        size_mb = sum(len(d) for _, d in files) / len(files) / 1e6
        print(f"{len(files)} JPEGs {WIDTH}x{HEIGHT} q90, {size_mb:.1f} MB each, one core, "
              f"libvips {pyvips.version(0)}.{pyvips.version(1)}, best of {ROUNDS}")  # fmt: skip
        thumbs = {"vipsthumbnail": vipsthumbnail_thumb, "pyvips": pyvips_thumb,
                  "Pillow draft": pillow_thumb}  # fmt: skip
        previews = {"vipsthumbnail": vipsthumbnail_preview, "pyvips": pyvips_preview,
                    "Pillow draft": pillow_preview}  # fmt: skip
        if VIPSTHUMBNAIL is None:
            del thumbs["vipsthumbnail"], previews["vipsthumbnail"]
        thumb_rates = {name: best_rate(fn, files, root) for name, fn in thumbs.items()}
        preview_rates = {name: best_rate(fn, files, root) for name, fn in previews.items()}
        our_rate = best_rate(ours, files, root)
    for title, rates in (
        ("300x300 WebP thumbnail", thumb_rates),
        ("1600 px preview", preview_rates),
    ):
        print(f"\n{title}:")
        for name, rate in rates.items():
            print(f"  {name:14} {rate:6.1f}/s  {1000 / rate:6.1f} ms")
    fastest_thumb = max(thumb_rates, key=thumb_rates.__getitem__)
    fastest_preview = max(preview_rates, key=preview_rates.__getitem__)
    reference_ms = 1000 / thumb_rates[fastest_thumb] + 1000 / preview_rates[fastest_preview]
    ours_ms = 1000 / our_rate
    print(f"\nsum of fastest ({fastest_thumb} thumbnail + {fastest_preview} preview): "
          f"{reference_ms:.1f} ms per photo")  # fmt: skip
    print(f"ours, both variants (make_variants): {ours_ms:.1f} ms per photo ({our_rate:.1f}/s)")
    print(f"ratio ours / sum of fastest: {ours_ms / reference_ms:.2f}  (goal <= 1.0)")
    format_table(photos[0])


if __name__ == "__main__":
    main()
