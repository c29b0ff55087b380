"""A labelled, seeded set of synthetic images for the view classifier.

Drawn with OpenCV: film-like grey radiographs, and intraoral scenes (pink/red soft tissue with
white/ivory rounded teeth) in the five intraoral views, following the image conventions documented
in `ortholens.processing.views`. Each sample jitters colour, size, position, rotation and noise from
a fixed seed, so the set is the same on every run. Extraoral frontal views (EV15/EV19) are drawn,
shaded cartoon faces that OpenCV's face and eye cascades do detect; they say nothing about real
faces, and profiles / 45-degree views are not generated at all.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import cv2
import numpy as np

from ortholens.processing.views import ViewCode

Color = tuple[int, int, int]
SAMPLED_VIEWS = (
    ViewCode.XRAY,
    ViewCode.EV15,
    ViewCode.EV19,
    ViewCode.IV07,
    ViewCode.IV01,
    ViewCode.IV18,
    ViewCode.IV25,
    ViewCode.IV27,
)


def labelled_samples(
    per_class: int = 20, seed: int = 2026
) -> Iterator[tuple[ViewCode, np.ndarray]]:
    """Yield (true view, RGB uint8 image) pairs, `per_class` of each sampled view."""
    for index, view in enumerate(SAMPLED_VIEWS):
        for variant in range(per_class):
            rng = np.random.default_rng([seed, index, variant])
            yield view, make_sample(view, rng)


def make_sample(view: ViewCode, rng: np.random.Generator) -> np.ndarray:
    """One jittered synthetic image of `view`."""
    width = int(rng.integers(900, 1600))
    height = int(width * rng.uniform(0.66, 0.8))
    if view is ViewCode.XRAY:
        return radiograph(rng, width, height)
    if view in (ViewCode.EV15, ViewCode.EV19):
        image = drawn_face(rng, height, width, smile=view is ViewCode.EV19)  # portrait
    elif view is ViewCode.IV07:
        image = intraoral_frontal(rng, width, height)
    elif view is ViewCode.IV01:
        image = intraoral_buccal_right(rng, width, height)
    elif view is ViewCode.IV18:
        image = cv2.flip(intraoral_buccal_right(rng, width, height), 1)
    elif view in (ViewCode.IV25, ViewCode.IV27):
        image = intraoral_occlusal(rng, width, height, maxillary=view is ViewCode.IV25)
    else:
        raise ValueError(f"no generator for {view}")
    return _finish(rng, image)


def _finish(rng: np.random.Generator, image: np.ndarray) -> np.ndarray:
    """Small rotation, exposure and white-balance drift, a little blur and sensor noise."""
    height, width = image.shape[:2]
    gains = rng.uniform(0.92, 1.08, 3) * rng.uniform(0.7, 1.1)
    image = np.clip(image.astype(np.float32) * gains, 0, 255).astype(np.uint8)
    angle = float(rng.uniform(-12, 12))
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), angle, float(rng.uniform(1.0, 1.1)))
    image = cv2.warpAffine(image, matrix, (width, height), borderMode=cv2.BORDER_REFLECT)
    image = cv2.GaussianBlur(image, (0, 0), float(rng.uniform(0.5, 1.2)))
    noise = rng.normal(0, float(rng.uniform(1, 4)), image.shape)
    return np.clip(image.astype(np.float32) + noise, 0, 255).astype(np.uint8)


def _jitter(rng: np.random.Generator, color: Color, amount: int = 18) -> Color:
    r, g, b = (int(np.clip(c + rng.integers(-amount, amount + 1), 0, 255)) for c in color)
    return r, g, b


def _gum(rng: np.random.Generator) -> Color:
    return _jitter(rng, (215, 105, 115), 20)


def _tooth(rng: np.random.Generator) -> Color:
    return _jitter(rng, (238, 232, 212), 12)


def _soft_background(rng: np.random.Generator, width: int, height: int) -> np.ndarray:
    """Gum/cheek tissue with a darker red vignette (lips, retractors' shadow)."""
    base = np.array(_gum(rng), np.float32)
    dark = np.array(_jitter(rng, (140, 35, 45), 15), np.float32)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    cx, cy = width * rng.uniform(0.45, 0.55), height * rng.uniform(0.45, 0.55)
    r = np.hypot((x - cx) / (width / 2), (y - cy) / (height / 2))
    t = np.clip((r - 0.6) / 0.6, 0, 1)[..., None]
    return np.asarray(base * (1 - t) + dark * t, dtype=np.uint8)


def _tooth_shape(
    image: np.ndarray,
    center: tuple[float, float],
    size: tuple[float, float],
    angle: float,
    color: Color,
) -> None:
    """A rounded tooth: a filled ellipse-capped rectangle, rotated by `angle` degrees."""
    w, h = size
    box = cv2.boxPoints(((center[0], center[1]), (w, h * 0.7), angle)).astype(np.int32)
    cv2.fillConvexPoly(image, box, color, cv2.LINE_AA)
    cv2.ellipse(
        image,
        (int(center[0]), int(center[1])),
        (max(1, int(w / 2)), max(1, int(h / 2))),
        angle,
        0,
        360,
        color,
        -1,
        cv2.LINE_AA,
    )


def _tooth_row(
    image: np.ndarray,
    rng: np.random.Generator,
    xs: list[float],
    widths: list[float],
    y: float,
    heights: list[float],
) -> None:
    for x, w, h in zip(xs, widths, heights, strict=True):
        _tooth_shape(image, (x, y), (w * 0.92, h), float(rng.uniform(-4, 4)), _tooth(rng))


def intraoral_frontal(rng: np.random.Generator, width: int, height: int) -> np.ndarray:
    """IV07: upper and lower rows centred and symmetric, widest teeth in the middle."""
    image = _soft_background(rng, width, height)
    cx = width * rng.uniform(0.42, 0.58)
    cy = height * rng.uniform(0.45, 0.55)
    scale = width * rng.uniform(0.055, 0.07)
    count = int(rng.integers(5, 7))  # per side
    rel = [1.0, 0.8, 0.9, 0.85, 0.9, 0.9, 0.9][:count]
    for row, (dy, hfac) in enumerate(((-0.55, 1.3), (0.55, 1.05))):
        xs, widths = [], []
        pos = 0.0
        for w in rel:
            w_px = w * scale * (1.0 if row == 0 else 0.8)
            xs += [cx + pos + w_px / 2, cx - pos - w_px / 2]
            widths += [w_px, w_px]
            pos += w_px
        heights = [hfac * scale * 1.1 * (1 - 0.5 * abs(x - cx) / (pos + 1)) for x in xs]
        _tooth_row(image, rng, xs, widths, cy + dy * scale * 1.1, heights)
    return image


def intraoral_buccal_right(rng: np.random.Generator, width: int, height: int) -> np.ndarray:
    """IV01: anterior teeth (taller) on the image right, retracted cheek and dark posterior left."""
    image = _soft_background(rng, width, height)
    cheek_edge = width * rng.uniform(0.2, 0.4)
    dark = np.array(_jitter(rng, (120, 30, 40), 15), np.float32)
    ramp = np.clip(1 - np.arange(width, dtype=np.float32) / cheek_edge, 0, 1)[None, :, None]
    image = (image * (1 - 0.8 * ramp) + dark * 0.8 * ramp).astype(np.uint8)
    cy = height * rng.uniform(0.45, 0.55)
    tilt = float(rng.uniform(-0.06, 0.06))
    x = cheek_edge - width * 0.05
    end = width * rng.uniform(0.9, 1.02)
    while x < end:
        t = (x - cheek_edge) / max(end - cheek_edge, 1)
        size = width * (0.045 + 0.045 * t)  # nearer the anterior, larger (perspective)
        for dy, hfac in ((-0.55, 1.25), (0.55, 1.0)):
            _tooth_shape(
                image,
                (x + size / 2, cy + dy * size * 1.1 + tilt * (x - width / 2)),
                (size * 0.9, size * 1.2 * hfac),
                float(rng.uniform(-4, 4)),
                _tooth(rng),
            )
        x += size
    return np.asarray(image, dtype=np.uint8)


def intraoral_occlusal(
    rng: np.random.Generator, width: int, height: int, *, maxillary: bool
) -> np.ndarray:
    """IV25/IV27: a horseshoe of teeth; maxillary opens towards the bottom (palate inside)."""
    image = _soft_background(rng, width, height)
    cx = width * rng.uniform(0.45, 0.55)
    half_w = width * rng.uniform(0.25, 0.32)
    depth = height * rng.uniform(0.55, 0.7)
    apex_y = (height - depth) / 2 + height * rng.uniform(-0.04, 0.04)
    inside = _jitter(rng, (225, 130, 140) if maxillary else (200, 80, 90), 15)
    # Teeth placed by arc length along a parabola, from one distal end to the other.
    params = np.linspace(-1, 1, 400)
    curve = np.stack([cx + half_w * params, apex_y + depth * params**2], axis=1)
    arc = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(curve, axis=0).T))])
    points = []
    position = 0.0
    while position < arc[-1]:
        s = float(np.interp(position, arc, params))
        size = width * (0.045 + 0.03 * abs(s))  # molars are bigger than incisors
        points.append((cx + half_w * s, apex_y + depth * s * s, s, size))
        position += size * 0.95
    hull = curve.astype(np.int32)
    cv2.fillPoly(image, [hull], inside, cv2.LINE_AA)
    for px, py, s, size in points:
        tangent = math.degrees(math.atan2(2 * depth * s, half_w))
        _tooth_shape(image, (px, py), (size * 0.95, size * 1.1), tangent, _tooth(rng))
    if maxillary:
        return image
    return cv2.flip(image, 0)


def radiograph(rng: np.random.Generator, width: int, height: int) -> np.ndarray:
    """A film-like grey image: dark air, a soft skull-ish shape, bright teeth and cortical rims."""
    image: np.ndarray = np.full((height, width), int(rng.integers(5, 30)), np.uint8)
    cx, cy = int(width * rng.uniform(0.4, 0.6)), int(height * rng.uniform(0.4, 0.55))
    axes = (int(width * rng.uniform(0.28, 0.38)), int(height * rng.uniform(0.32, 0.42)))
    cv2.ellipse(image, (cx, cy), axes, 0, 0, 360, int(rng.integers(90, 130)), -1, cv2.LINE_AA)
    cv2.ellipse(image, (cx, cy), axes, 0, 0, 360, int(rng.integers(170, 220)), 8, cv2.LINE_AA)
    jaw_y = cy + int(axes[1] * 0.7)
    cv2.ellipse(image, (cx, jaw_y), (int(axes[0] * 0.7), int(axes[1] * 0.45)), 0, 0, 180, 140, -1)
    for i in range(int(rng.integers(10, 16))):
        tx = cx - axes[0] // 2 + i * axes[0] // 14
        cv2.rectangle(image, (tx, jaw_y - 25), (tx + axes[0] // 18, jaw_y + 30), 230, -1)
    image = cv2.GaussianBlur(image, (0, 0), float(rng.uniform(2, 5)))
    noise = rng.normal(0, float(rng.uniform(2, 6)), image.shape)
    grey = np.clip(image.astype(np.float32) + noise, 0, 255)
    tint = rng.uniform(-2, 2, 3)  # scanned film is rarely perfectly neutral
    return np.clip(grey[..., None] + tint, 0, 255).astype(np.uint8)


def drawn_face(rng: np.random.Generator, width: int, height: int, *, smile: bool) -> np.ndarray:
    """EV15/EV19: a shaded frontal cartoon face (hair, eye sockets, nose, lips; teeth if smiling)."""
    image = np.full((height, width, 3), _jitter(rng, (205, 205, 205), 25), np.uint8)
    skin = _jitter(rng, (224, 172, 140), 22)
    cx = width // 2 + int(width * rng.uniform(-0.04, 0.04))
    cy = height // 2 + int(height * rng.uniform(-0.03, 0.03))
    fw, fh = int(width * rng.uniform(0.27, 0.33)), int(height * rng.uniform(0.27, 0.32))
    hair = _jitter(rng, (55, 40, 32), 15)
    cv2.ellipse(image, (cx, cy + fh // 3), (int(fw * 0.9), int(fh * 0.6)), 0, 0, 360, hair, -1)
    cv2.ellipse(
        image, (cx, cy - int(fh * 0.35)), (int(fw * 1.05), int(fh * 0.8)), 0, 180, 360, hair, -1
    )
    cv2.ellipse(image, (cx, cy), (fw, fh), 0, 0, 360, skin, -1, cv2.LINE_AA)
    yy, xx = np.mgrid[0:height, 0:width]
    radius = np.clip(np.hypot((xx - cx) / fw, (yy - cy) / fh), 0, 1)
    inside = radius < 0.999
    image[inside] = (image[inside] * (1 - 0.35 * radius[inside] ** 3)[:, None]).astype(np.uint8)

    def shade(factor: float) -> Color:
        r, g, b = (int(c * factor) for c in skin)
        return r, g, b

    ey = cy - int(fh * 0.18)
    for side in (-1, 1):
        ex = cx + side * int(fw * 0.4)
        brow = (ex, ey - int(fh * 0.14))
        cv2.ellipse(image, brow, (int(fw * 0.22), int(fh * 0.035)), 0, 180, 360, hair, -1)
        cv2.ellipse(image, (ex, ey), (int(fw * 0.26), int(fh * 0.11)), 0, 0, 360, shade(0.6), -1)
        cv2.ellipse(
            image, (ex, ey), (int(fw * 0.16), int(fh * 0.05)), 0, 0, 360, (200, 195, 190), -1
        )
        cv2.circle(image, (ex, ey), int(fh * 0.045), (70, 50, 35), -1, cv2.LINE_AA)
        cv2.circle(image, (ex, ey), int(fh * 0.02), (10, 10, 10), -1, cv2.LINE_AA)
    nose = shade(0.75)
    cv2.line(image, (cx - fw // 12, ey + 20), (cx - fw // 8, cy + int(fh * 0.2)), nose, 8)
    cv2.ellipse(
        image, (cx, cy + int(fh * 0.22)), (int(fw * 0.16), int(fh * 0.05)), 0, 0, 180, nose, -1
    )
    my = cy + int(fh * 0.5)
    lips = _jitter(rng, (170, 65, 75), 15)
    if smile:
        cv2.ellipse(
            image, (cx, my - fh // 20), (int(fw * 0.38), int(fh * 0.15)), 0, 0, 180, lips, -1
        )
        cv2.ellipse(
            image, (cx, my - fh // 25), (int(fw * 0.32), int(fh * 0.1)), 0, 0, 180, _tooth(rng), -1
        )
    else:
        cv2.ellipse(
            image, (cx, my), (int(fw * 0.3), int(fh * 0.05)), 0, 0, 360, lips, -1, cv2.LINE_AA
        )
        cv2.line(image, (cx - int(fw * 0.3), my), (cx + int(fw * 0.3), my), (90, 40, 45), 4)
    return cv2.GaussianBlur(image, (0, 0), float(rng.uniform(4, 7)))


def with_retractors(image: np.ndarray) -> np.ndarray:
    """The photo with two cheek retractors entering from the top and bottom edges.

    Real retractors are white or clear plastic, as bright as enamel but greyer than ivory teeth
    (CIELAB b* - a* lower by 6..20 on the real photos, the plastic itself near neutral), so the
    plastic is drawn a little darker than the teeth, neutral and a little pink, and at least 12
    below the teeth in b*; the lower one overlaps the lower teeth a little.
    """
    out = image.copy()
    height, width = out.shape[:2]
    hsv = cv2.cvtColor(out, cv2.COLOR_RGB2HSV)
    enamel = out[(hsv[..., 1] < 90) & (hsv[..., 2] > 135)]
    lab = cv2.cvtColor(np.median(enamel, axis=0).astype(np.uint8)[None, None], cv2.COLOR_RGB2LAB)
    lab = lab.astype(np.int16)
    # Neutral, slightly pink (lips through clear plastic), and always 12 below the teeth in b*.
    lab[..., 2] = np.minimum(lab[..., 2] - 12, 128)
    lab[..., 1] = 131
    lab[..., 0] -= (
        20  # in the flash's fall-off: real retractors measure L* 185..205, teeth 210..230
    )
    plastic_pixel = cv2.cvtColor(np.clip(lab, 0, 255).astype(np.uint8), cv2.COLOR_LAB2RGB)
    plastic = tuple(int(c) for c in plastic_pixel[0, 0])
    axes = (int(width * 0.6), int(height * 0.2))
    cv2.ellipse(out, (width // 2, -int(height * 0.05)), axes, 0, 0, 360, plastic, -1)
    cv2.ellipse(out, (width // 2, int(height * 1.05)), axes, 0, 0, 360, plastic, -1)
    return out
