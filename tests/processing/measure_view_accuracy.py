"""Print the view classifier's accuracy per class: synthetic, real, augmented real, package photos.

.venv/bin/python -m tests.processing.measure_view_accuracy [per_class] [--real-only]

The synthetic set is `view_samples.py`'s drawings; the real ones are described in
`real_view_sets.py`. Each table counts, per true view, the suggested views ("unset" when the
classifier left it for a person), so a wrong answer and an honest "unset" are told apart.
"""

from __future__ import annotations

import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterable

from ortholens.processing.views import ViewCode, classify_view
from tests.processing.real_view_sets import (
    Labelled,
    augmented_photos,
    package_photos,
    real_photos,
)
from tests.processing.view_samples import SAMPLED_VIEWS, labelled_samples

NO_VIEW = "none"  # the true label of a photo that must get no view


def measure(per_class: int = 20) -> dict[ViewCode, Counter[str]]:
    """Outcome counts per true view: the predicted code, or "unset" when below threshold."""
    outcomes: dict[ViewCode, Counter[str]] = defaultdict(Counter)
    for truth, image in labelled_samples(per_class):
        suggestion = classify_view(image)
        outcomes[truth][suggestion.view.value if suggestion.view else "unset"] += 1
    return outcomes


def measure_labelled(photos: Iterable[Labelled]) -> tuple[dict[str, Counter[str]], list[str]]:
    """Outcome counts per true label of real photos, and one line per confidently wrong answer."""
    outcomes: dict[str, Counter[str]] = defaultdict(Counter)
    wrong: list[str] = []
    for name, truth, image in photos:
        suggestion = classify_view(image)
        predicted = suggestion.view.value if suggestion.view else "unset"
        label = truth.value if truth else NO_VIEW
        outcomes[label][predicted] += 1
        if predicted not in ("unset", label):
            wrong.append(f"{name}: {label} called {predicted} ({suggestion.confidence:.2f})")
    return outcomes, wrong


def print_table(title: str, outcomes: dict[str, Counter[str]]) -> None:
    """Per-view accuracy, the share left unset, and the confusion row of each true view."""
    print(f"\n{title}")
    print(f"{'true view':<10} {'n':>4} {'right':>6} {'unset':>6} {'wrong':>6}  predictions")
    total = right = unset = 0
    for label in sorted(outcomes):
        counts = outcomes[label]
        n = sum(counts.values())
        ok = counts[label] if label != NO_VIEW else counts["unset"]
        left = counts["unset"] if label != NO_VIEW else 0
        total, right, unset = total + n, right + ok, unset + left
        detail = ", ".join(f"{code} {count}" for code, count in counts.most_common())
        print(f"{label:<10} {n:>4} {ok:>6} {left:>6} {n - ok - left:>6}  {detail}")
    if total:
        wrong = total - right - unset
        print(
            f"{'all':<10} {total:>4} {right:>6} {unset:>6} {wrong:>6}  ({right / total:.0%} right)"
        )


def main() -> None:
    args = [arg for arg in sys.argv[1:] if not arg.startswith("--")]
    per_class = int(args[0]) if args else 20
    if "--real-only" not in sys.argv:
        started = time.perf_counter()
        synthetic = measure(per_class)
        elapsed = time.perf_counter() - started
        table = {view.value: counts for view, counts in synthetic.items()}
        print_table(f"synthetic (view_samples.py, {per_class} per class)", table)
        print(f"{elapsed / (per_class * len(SAMPLED_VIEWS)) * 1000:.1f} ms per image")
    for title, photos in (
        ("real: ../shared/realdata/sjtu-five-view", real_photos()),
        ("augmented real (real_view_sets.AUGMENTATIONS)", augmented_photos()),
        ("package photos (scikit-image data, else the bundled astronaut)", package_photos()),
    ):
        outcomes, wrong = measure_labelled(photos)
        if not outcomes:
            print(f"\n{title}: not present here")
            continue
        print_table(title, outcomes)
        for line in wrong:
            print(f"  wrong: {line}")


if __name__ == "__main__":
    main()
