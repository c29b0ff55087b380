"""Turning a triangle soup (STL) into an indexed mesh by merging bit-identical vertices.

Speed matters here (a 1M-triangle scan has 3M corners). `np.unique` over 12-byte rows compares
byte strings and `np.argsort` of 64-bit keys is slow; a plain `np.sort` of 64-bit integers is
vectorised and ~6x faster. So each corner gets one uint64: the high bits a hash of its coordinate
bits, the low bits its own index, and one `np.sort` yields both the grouping and the order.
Truncated hashes can collide; every corner is then checked against its group's representative and
the few that differ are merged exactly on their own, so the result is always exact."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

_MIX = (np.uint64(0x9E3779B97F4A7C15), np.uint64(0xC2B2AE3D27D4EB4F), np.uint64(0x165667B19E3779F9))


def _hash_rows(bits: npt.NDArray[np.uint32]) -> npt.NDArray[np.uint64]:
    h = bits[:, 0].astype(np.uint64) * _MIX[0]
    h ^= bits[:, 1].astype(np.uint64) * _MIX[1]
    h = (h ^ (h >> np.uint64(29))) * _MIX[2]
    h ^= bits[:, 2].astype(np.uint64) * _MIX[0]
    h ^= h >> np.uint64(31)
    return h


def merge_identical_vertices(
    points: npt.NDArray[np.float32],
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.int64]]:
    """(unique points, inverse) such that unique[inverse] is bitwise equal to points.

    `points` must be C-contiguous float32 (n, 3); fold -0.0 into +0.0 beforehand if the two should
    merge (adding 0.0 does it)."""
    n = len(points)
    if n == 0:
        return points, np.empty(0, dtype=np.int64)
    bits = points.view(np.uint32)
    index_bits = max(1, int(n - 1).bit_length())
    shift = np.uint64(index_bits)
    packed = _hash_rows(bits) >> shift << shift
    packed |= np.arange(n, dtype=np.uint64)
    packed.sort()
    order = (packed & np.uint64((1 << index_bits) - 1)).astype(np.int64)
    hashes = packed >> shift
    differ = np.empty(n, dtype=bool)
    differ[0] = True
    np.not_equal(hashes[1:], hashes[:-1], out=differ[1:])
    group = np.cumsum(differ, dtype=np.int64)
    group -= 1
    inverse = np.empty(n, dtype=np.int64)
    inverse[order] = group
    unique = np.take(points, order[differ], axis=0)  # np.take: far faster than fancy row indexing
    rebuilt = np.take(unique.view(np.uint32), inverse, axis=0)
    if not np.array_equal(rebuilt, bits):
        wrong = np.flatnonzero((rebuilt != bits).any(axis=1))
        # Hash collisions: these corners differ from their group's representative, and from every
        # other group (equal points hash equally), so they only need merging among themselves.
        extra, extra_inverse = np.unique(points[wrong].view(np.uint32), axis=0, return_inverse=True)
        inverse[wrong] = len(unique) + extra_inverse.ravel()
        unique = np.concatenate([unique, extra.view(np.float32)])
    return unique, inverse
