"""The scan wizard's steps: the remote-monitoring series (seed 004), with a short guide per view.

The order and view codes come from the built-in protocol; the wizard names each photo with the
upload API's image type (FRONTAL, RIGHT, LEFT, UPPER, LOWER).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ortholens.protocol.builtin import REMOTE_MONITORING


@dataclass(frozen=True)
class WizardStep:
    image_type: str  # what the upload API calls the photo
    view_code: str  # ADA-1100
    label: str  # the protocol's label, e.g. "right buccal"
    title: str  # what the patient reads
    short: str  # the stepper's chip
    guide: tuple[str, ...]
    illustration: str  # which drawing of templates/portal/_views.html


_GUIDES: dict[str, WizardStep] = {
    "IV07": WizardStep(
        "FRONTAL",
        "IV07",
        "",
        "Front view",
        "Front",
        (
            "Put the cheek retractors in and bite together on your back teeth.",
            "Hold the phone upright, level with your mouth, about 20 cm away.",
            "Keep your front teeth in the middle of the screen and tap to focus.",
        ),
        "frontal",
    ),
    "IV01": WizardStep(
        "RIGHT",
        "IV01",
        "",
        "Right side",
        "Right",
        (
            "Keep the retractors in and bite together.",
            "Pull the right retractor back towards your ear.",
            "Hold the phone to your right so it looks straight at your back teeth.",
        ),
        "right",
    ),
    "IV18": WizardStep(
        "LEFT",
        "IV18",
        "",
        "Left side",
        "Left",
        (
            "Keep the retractors in and bite together.",
            "Pull the left retractor back towards your ear.",
            "Hold the phone to your left so it looks straight at your back teeth.",
        ),
        "left",
    ),
    "IV25": WizardStep(
        "UPPER",
        "IV25",
        "",
        "Upper teeth",
        "Upper",
        (
            "Open wide and put the mirror in your mouth, under your upper teeth.",
            "Tilt your head back a little so all upper teeth show in the mirror.",
            "Photograph the mirror from below, holding the phone flat.",
        ),
        "upper",
    ),
    "IV27": WizardStep(
        "LOWER",
        "IV27",
        "",
        "Lower teeth",
        "Lower",
        (
            "Open wide and put the mirror in your mouth, above your lower teeth.",
            "Lower your chin so all lower teeth show in the mirror.",
            "Photograph the mirror from above, holding the phone flat.",
        ),
        "lower",
    ),
}

WIZARD_STEPS: tuple[WizardStep, ...] = tuple(
    WizardStep(
        step.image_type,
        slot.view_code,
        slot.label,
        step.title,
        step.short,
        step.guide,
        step.illustration,
    )
    for slot in REMOTE_MONITORING.slots
    for step in [_GUIDES[slot.view_code]]
)


def _arch(teeth: int = 14) -> tuple[tuple[float, float, float], ...]:
    """Centres and radii of the teeth of a dental arch seen from above, for the occlusal drawings
    (a 200 x 120 viewBox, incisors at the top)."""
    points = []
    for i in range(teeth):
        t = -math.pi / 2 + math.pi * i / (teeth - 1)
        x = 100 + 58 * math.sin(t)
        y = 20 + 76 * (1 - math.cos(t))
        r = 6 + 4.5 * abs(math.sin(t)) ** 1.5
        points.append((round(x, 1), round(y, 1), round(r, 1)))
    return tuple(points)


ARCH = _arch()
