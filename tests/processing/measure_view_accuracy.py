"""Print the view classifier's accuracy per class on the seeded synthetic set.

.venv/bin/python -m tests.processing.measure_view_accuracy [per_class]
"""

from __future__ import annotations

import sys
import time
from collections import Counter, defaultdict

from ortholens.processing.views import ViewCode, classify_view
from tests.processing.view_samples import SAMPLED_VIEWS, labelled_samples


def measure(per_class: int = 20) -> dict[ViewCode, Counter[str]]:
    """Outcome counts per true view: the predicted code, or "unset" when below threshold."""
    outcomes: dict[ViewCode, Counter[str]] = defaultdict(Counter)
    for truth, image in labelled_samples(per_class):
        suggestion = classify_view(image)
        outcomes[truth][suggestion.view.value if suggestion.view else "unset"] += 1
    return outcomes


def main() -> None:
    per_class = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    started = time.perf_counter()
    outcomes = measure(per_class)
    elapsed = time.perf_counter() - started
    print(f"{'true view':<10} {'n':>4} {'correct':>8} {'accuracy':>9}  predictions")
    total = correct = 0
    for view in SAMPLED_VIEWS:
        counts = outcomes[view]
        n = sum(counts.values())
        ok = counts[view.value]
        total += n
        correct += ok
        detail = ", ".join(f"{code} {count}" for code, count in counts.most_common())
        print(f"{view.value:<10} {n:>4} {ok:>8} {ok / n:>9.0%}  {detail}")
    print(f"{'all':<10} {total:>4} {correct:>8} {correct / total:>9.0%}")
    print(f"{elapsed / total * 1000:.1f} ms per image (generation + classification)")


if __name__ == "__main__":
    main()
