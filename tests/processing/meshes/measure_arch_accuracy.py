"""Print the arch detector's accuracy on a labelled set of synthetic scans read back from STL files.

.venv/bin/python -m tests.processing.meshes.measure_arch_accuracy [per_class] [--big]

Each mesh is written under a random uuid file name (names carry no hint) and read back with trimesh,
as an import would. Seeds start at 100_000, disjoint from the seeds used while tuning (below 5_000)
and from the tests'. `--big` also times classification of a scan of about a million triangles.
"""

from __future__ import annotations

import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from pathlib import Path

import trimesh

from ortholens.processing.meshes.arches import CONFIDENT, classify_arch
from ortholens.processing.meshes.synthetic_arches import make_arch
from ortholens.processing.meshes.types import ArchType

FIRST_SEED = 100_000


def build_set(folder: Path, per_class: int) -> dict[str, ArchType]:
    """Write `per_class` STL scans of each kind under uuid names; return name -> true arch."""
    truth: dict[str, ArchType] = {}
    for kind in ArchType:
        for seed in range(FIRST_SEED, FIRST_SEED + per_class):
            name = f"{uuid.uuid4().hex}.stl"
            make_arch(kind, seed).export(folder / name)
            truth[name] = kind
    return truth


def measure(
    folder: Path, truth: dict[str, ArchType]
) -> tuple[dict[ArchType, Counter[str]], int, int, float]:
    """Predictions per true arch, below-threshold and confidently wrong counts, seconds taken."""
    outcomes: dict[ArchType, Counter[str]] = defaultdict(Counter)
    unsure = confidently_wrong = 0
    seconds = 0.0
    for name in sorted(truth):  # uuid order: the classes are interleaved
        mesh = trimesh.load(folder / name, file_type="stl", process=False)
        started = time.perf_counter()
        guess = classify_arch(mesh)
        seconds += time.perf_counter() - started
        outcomes[truth[name]][guess.arch.value if guess.arch else "none"] += 1
        unsure += guess.confidence < CONFIDENT
        confidently_wrong += guess.confidence >= CONFIDENT and guess.arch is not truth[name]
    return outcomes, unsure, confidently_wrong, seconds


def time_big_scan() -> None:
    mesh = make_arch(ArchType.UPPER, FIRST_SEED + 1, triangles=1_300_000)
    started = time.perf_counter()
    guess = classify_arch(mesh)
    elapsed = time.perf_counter() - started
    print(
        f"{len(mesh.faces):,} triangles: {guess.arch} ({guess.confidence:.2f}) in {elapsed:.3f} s"
    )


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    per_class = int(args[0]) if args else 50
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        truth = build_set(folder, per_class)
        outcomes, unsure, wrong, seconds = measure(folder, truth)
    labels = [kind.value for kind in ArchType] + ["none"]
    print("Synthetic arches (ortholens.processing.meshes.synthetic_arches), not real scans.")
    print(
        f"{'true arch':<10} {'n':>4} {'correct':>8} {'accuracy':>9}  "
        + " ".join(f"{x:>6}" for x in labels)
    )
    total = correct = 0
    for kind in ArchType:
        counts = outcomes[kind]
        n = sum(counts.values())
        ok = counts[kind.value]
        total += n
        correct += ok
        row = " ".join(f"{counts[x]:>6}" for x in labels)
        print(f"{kind.value:<10} {n:>4} {ok:>8} {ok / n:>9.1%}  {row}")
    print(f"{'all':<10} {total:>4} {correct:>8} {correct / total:>9.1%}")
    print(f"below confidence {CONFIDENT}: {unsure} of {total} (sent to a person)")
    print(f"wrong with confidence >= {CONFIDENT}: {wrong} of {total}")
    print(f"{seconds / total * 1000:.1f} ms per scan classifying (~40k triangles)")
    if "--big" in sys.argv:
        time_big_scan()


if __name__ == "__main__":
    main()
