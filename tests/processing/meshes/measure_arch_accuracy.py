"""Print the arch detector's accuracy on labelled synthetic scans read back from STL files, on the
real meshes in ../shared/realdata/ when present, and its refusals of non-dental objects.

.venv/bin/python -m tests.processing.meshes.measure_arch_accuracy [per_class] [--big] [--objects DIR]

Each synthetic mesh is written under a random uuid file name (names carry no hint) and read back
with trimesh, as an import would: full scans with gingiva (`make_arch`) and teeth-only crowns
(`make_teeth_arch`). Seeds start at 100_000, disjoint from the seeds used while tuning (below
5_000) and from the tests'. `--big` also times classification of a scan of about a million
triangles. `--objects DIR` adds every STL/OBJ/PLY/3MF under DIR to the non-dental set (e.g. the
test models of numpy-stl's sdist: `pip download --no-deps --no-binary :all: numpy-stl==3.1.2`).
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
from ortholens.processing.meshes.synthetic_arches import make_arch, make_teeth_arch
from ortholens.processing.meshes.types import ArchType
from tests.processing.meshes.non_dental import NON_DENTAL

FIRST_SEED = 100_000
REALDATA = Path(__file__).resolve().parents[4] / "shared" / "realdata" / "sjtu-five-view"
REAL_ARCHES = {"arch_upper_1.obj": ArchType.UPPER, "arch_lower_1.obj": ArchType.LOWER}
OBJECT_SUFFIXES = {".stl", ".obj", ".ply", ".3mf", ".off"}


def build_set(folder: Path, per_class: int, *, teeth_only: bool = False) -> dict[str, ArchType]:
    """Write `per_class` STL scans of each kind under uuid names; return name -> true arch."""
    truth: dict[str, ArchType] = {}
    make = make_teeth_arch if teeth_only else make_arch
    for kind in ArchType:
        for seed in range(FIRST_SEED, FIRST_SEED + per_class):
            name = f"{uuid.uuid4().hex}.stl"
            make(kind, seed).export(folder / name)
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


def report_real() -> None:
    if not REALDATA.is_dir():
        print(f"Real meshes: {REALDATA} is not on this machine, not measured.")
        return
    print(f"Real teeth-only meshes ({REALDATA.name}, SJTU five-view reconstruction):")
    for name, kind in REAL_ARCHES.items():
        guess = classify_arch(trimesh.load(REALDATA / name, process=False))
        found = guess.arch.value if guess.arch else "none"
        print(f"  {name}: true {kind.value}, got {found} ({guess.confidence:.2f})")


def report_non_dental(folder: Path | None) -> None:
    """How many non-dental objects got an arch with confidence >= CONFIDENT (should be none)."""
    objects: dict[str, trimesh.Trimesh] = {
        f"generated {k}": make() for k, make in NON_DENTAL.items()
    }
    for path in sorted(folder.rglob("*") if folder else []):
        if path.suffix.lower() not in OBJECT_SUFFIXES:
            continue
        try:
            mesh = trimesh.load(path, force="mesh", process=False)
        except Exception:  # a test model trimesh cannot read is not counted
            continue
        if isinstance(mesh, trimesh.Trimesh) and len(mesh.faces) > 0:
            objects[str(path.relative_to(folder))] = mesh
    confident = hinted = 0
    for name, mesh in objects.items():
        guess = classify_arch(mesh)
        confident += guess.arch is not None and guess.confidence >= CONFIDENT
        hinted += guess.arch is not None and guess.confidence < CONFIDENT
        if guess.arch is not None:
            print(f"  {name}: {guess.arch.value} ({guess.confidence:.2f}) {guess.reasons[0]}")
    print(
        f"Non-dental objects: {len(objects)}; given an arch with confidence >= {CONFIDENT}: "
        f"{confident}; left unset with a below-threshold hint: {hinted}; "
        f"no arch: {len(objects) - confident - hinted}"
    )


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--") and not Path(a).is_dir()]
    per_class = int(args[0]) if args else 50
    objects = Path(sys.argv[sys.argv.index("--objects") + 1]) if "--objects" in sys.argv else None
    for teeth_only in (False, True):
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            truth = build_set(folder, per_class, teeth_only=teeth_only)
            outcomes, unsure, wrong, seconds = measure(folder, truth)
        print_table(outcomes, unsure, wrong, seconds, teeth_only=teeth_only)
    report_real()
    report_non_dental(objects)
    if "--big" in sys.argv:
        time_big_scan()


def print_table(
    outcomes: dict[ArchType, Counter[str]],
    unsure: int,
    wrong: int,
    seconds: float,
    *,
    teeth_only: bool,
) -> None:
    labels = [kind.value for kind in ArchType] + ["none"]
    title = "teeth-only crowns" if teeth_only else "full scans with gingiva and bite wafers"
    print(f"Synthetic arches, {title} (processing.meshes.synthetic_arches), not real scans.")
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
    print(f"{seconds / total * 1000:.1f} ms per scan classifying")


if __name__ == "__main__":
    main()
