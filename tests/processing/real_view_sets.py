"""Labelled real photos for the view classifier: the shared real set, its augmentations, and
real non-dental photos that a package ships.

- `real_photos()`: `../shared/realdata/sjtu-five-view/` (five retracted intraoral photos of one
  patient, MIT licence; see that folder's README), absent in a fresh clone.
- `augmented_photos()`: each real photo under white-balance casts, exposure, a flash-like hot
  centre, gamma, crops, small rotations, JPEG recompression and mirroring, with the label changed
  where the convention says so (a mirrored right buccal is a left buccal; an occlusal turned
  upside down is the other arch by the "incisors towards the other arch" display convention).
- `package_photos()`: scikit-image's bundled `skimage/data` photos when scikit-image is
  importable (astronaut: a frontal portrait, smiling with teeth; the rest, a cat, a coffee cup,
  a fundus photo, a rocket, a motorcycle, a microscope slide, a Hubble field and two greyscale
  photographs, are not dental and must get no view). The astronaut portrait (NASA, public domain) is also kept small in
  `tests/processing/data/` so the test suite has one real face without the package.

A label of None means "must not be given any view".
"""

from __future__ import annotations

import importlib.util
import io
from collections.abc import Callable, Iterator
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from ortholens.processing.views import ViewCode

REALDATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "realdata"
FIVE_VIEW = REALDATA / "sjtu-five-view"
FIVE_VIEW_LABELS = {
    "photo_1-0.png": ViewCode.IV25,
    "photo_1-1.png": ViewCode.IV27,
    "photo_1-2.png": ViewCode.IV18,
    "photo_1-3.png": ViewCode.IV01,
    "photo_1-4.png": ViewCode.IV07,
}
ASTRONAUT = Path(__file__).parent / "data" / "astronaut_400.jpg"
# scikit-image's shipped photos and what each must be called (None: no view at all).
PACKAGE_LABELS: dict[str, ViewCode | None] = {
    "astronaut.png": ViewCode.EV19,
    "chelsea.png": None,
    "coffee.png": None,
    "retina.jpg": None,
    "rocket.jpg": None,
    "motorcycle_left.png": None,
    "hubble_deep_field.jpg": None,
    "ihc.png": None,
    "color.png": None,
    # Greyscale photographs, not radiographs: the radiograph rule (near-grey, film-like spread)
    # takes both for X-rays; listed so the table shows it.
    "camera.png": None,
    "coins.png": None,
}

MIRRORED = {ViewCode.IV01: ViewCode.IV18, ViewCode.IV18: ViewCode.IV01}
UPSIDE_DOWN = {ViewCode.IV25: ViewCode.IV27, ViewCode.IV27: ViewCode.IV25}

Labelled = tuple[str, ViewCode | None, np.ndarray]


def load_rgb(path: Path) -> np.ndarray:
    """An RGB uint8 array of an image file, shrunk to the 1600 px preview the app classifies."""
    with Image.open(path) as opened:
        image = opened.convert("RGB")
    image.thumbnail((1600, 1600))
    return np.asarray(image)


def real_photos() -> Iterator[Labelled]:
    """The shared real intraoral set (nothing when ../shared/realdata is absent)."""
    for name, view in FIVE_VIEW_LABELS.items():
        path = FIVE_VIEW / name
        if path.is_file():
            yield name, view, load_rgb(path)


def _gains(r: float, g: float, b: float) -> Callable[[np.ndarray], np.ndarray]:
    def apply(rgb: np.ndarray) -> np.ndarray:
        scaled = rgb.astype(np.float32) * np.array([r, g, b], np.float32)
        return np.clip(scaled, 0, 255).astype(np.uint8)

    return apply


def _gamma(value: float) -> Callable[[np.ndarray], np.ndarray]:
    table = np.array([((i / 255.0) ** value) * 255 for i in range(256)], np.uint8)
    return lambda rgb: np.asarray(table[rgb])


def _flash(rgb: np.ndarray) -> np.ndarray:
    """A hot centre falling off to the edges, as a ring flash too close to the mouth gives."""
    height, width = rgb.shape[:2]
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    r = np.hypot((x - width / 2) / width, (y - height / 2) / height)
    gain = 1.35 - 0.9 * r
    return np.clip(rgb.astype(np.float32) * gain[..., None], 0, 255).astype(np.uint8)


def _crop(left: float, top: float, keep: float) -> Callable[[np.ndarray], np.ndarray]:
    def apply(rgb: np.ndarray) -> np.ndarray:
        height, width = rgb.shape[:2]
        x0, y0 = int(width * left), int(height * top)
        return np.ascontiguousarray(rgb[y0 : y0 + int(height * keep), x0 : x0 + int(width * keep)])

    return apply


def _rotate(angle: float) -> Callable[[np.ndarray], np.ndarray]:
    def apply(rgb: np.ndarray) -> np.ndarray:
        height, width = rgb.shape[:2]
        matrix = cv2.getRotationMatrix2D((width / 2, height / 2), angle, 1.08)
        return cv2.warpAffine(rgb, matrix, (width, height), borderMode=cv2.BORDER_REFLECT)

    return apply


def _jpeg(quality: int) -> Callable[[np.ndarray], np.ndarray]:
    def apply(rgb: np.ndarray) -> np.ndarray:
        buffer = io.BytesIO()
        Image.fromarray(rgb).save(buffer, "JPEG", quality=quality)
        return np.asarray(Image.open(io.BytesIO(buffer.getvalue())).convert("RGB"))

    return apply


# name -> (transform, whether it mirrors left/right, whether it turns the photo upside down)
AUGMENTATIONS: dict[str, tuple[Callable[[np.ndarray], np.ndarray], bool, bool]] = {
    "warm cast": (_gains(1.15, 1.0, 0.8), False, False),
    "cool cast": (_gains(0.85, 1.0, 1.2), False, False),
    "green cast": (_gains(0.95, 1.1, 0.9), False, False),
    "under-exposed": (_gains(0.65, 0.65, 0.65), False, False),
    "over-exposed": (_gains(1.3, 1.3, 1.3), False, False),
    "flash hot centre": (_flash, False, False),
    "gamma 0.7": (_gamma(0.7), False, False),
    "centre crop 85%": (_crop(0.075, 0.075, 0.85), False, False),
    "corner crop 85%": (_crop(0.0, 0.15, 0.85), False, False),
    "rotated +8": (_rotate(8.0), False, False),
    "rotated -8": (_rotate(-8.0), False, False),
    "jpeg q40": (_jpeg(40), False, False),
    "mirrored": (lambda rgb: np.ascontiguousarray(rgb[:, ::-1]), True, False),
    "mirrored + cool": (lambda rgb: _gains(0.85, 1.0, 1.2)(rgb[:, ::-1]), True, False),
    "turned 180": (lambda rgb: np.ascontiguousarray(rgb[::-1, ::-1]), True, True),
}


def augmented_label(view: ViewCode, mirrors: bool, turns: bool) -> ViewCode | None:
    """The view a transformed photo shows; None where no convention defines it (a row upside down)."""
    if turns:
        if view not in UPSIDE_DOWN:
            return None
        return UPSIDE_DOWN[view]  # an occlusal arch turned 180 degrees is symmetric left/right
    return MIRRORED.get(view, view) if mirrors else view


def augmented_photos() -> Iterator[Labelled]:
    """Every real photo under every augmentation that has a defined label."""
    for name, view, rgb in real_photos():
        assert view is not None
        for augmentation, (transform, mirrors, turns) in AUGMENTATIONS.items():
            label = augmented_label(view, mirrors, turns)
            if label is None:
                continue  # classify_view takes upright photos (EXIF orientation applied)
            yield f"{name} {augmentation}", label, transform(rgb)


def package_photos() -> Iterator[Labelled]:
    """scikit-image's shipped photos, when the package is importable (else only our astronaut)."""
    spec = importlib.util.find_spec("skimage")
    folders = spec.submodule_search_locations if spec else None
    data = Path(next(iter(folders))) / "data" if folders else None
    if data is None or not data.is_dir():
        if ASTRONAUT.is_file():
            yield ASTRONAUT.name, ViewCode.EV19, load_rgb(ASTRONAUT)
        return
    for name, view in PACKAGE_LABELS.items():
        if (data / name).is_file():
            yield name, view, load_rgb(data / name)
