"""Fuzzing the readers of untrusted files: every input parses or is refused with our own error.

The mesh reader (STL, PLY, OBJ, 3MF, ZIP bundles with order XML), the order-XML reader and the
photo type sniffer get the seed corpus (`corpus.py`) as it is, then Hypothesis mutations of it:
truncation, overwritten and inserted bytes, and header counts replaced by huge ones. Anything
other than a result or an `InvalidInput` (a `struct.error`, `IndexError`, `MemoryError`, a
trimesh or lxml exception) fails the test with the input that caused it.

Bounded for the suite: derandomized (the same inputs every run), few examples, no deadline, and
limits small enough that an accepted "huge count" cannot allocate much.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from ortholens.kit.errors import InvalidInput
from ortholens.processing.meshes.order_xml import read_order_xml
from ortholens.processing.meshes.readers import read_mesh_file
from ortholens.processing.meshes.types import MeshLimits
from ortholens.processing.photo_types import PhotoLimits, detect_image_type
from tests.fuzz import corpus

LIMITS = MeshLimits(
    max_file_bytes=4 * 1024 * 1024,
    max_triangles=50_000,
    max_vertices=50_000,
    max_zip_entries=20,
    max_zip_total_bytes=16 * 1024 * 1024,
    max_xml_bytes=1024 * 1024,
    max_texture_pixels=1_000_000,
)

FUZZ = settings(
    max_examples=60,
    derandomize=True,
    database=None,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],  # no shrinking: keeps the run short and bounded
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

GOOD = corpus.good_files()
BAD = corpus.bad_files()
SEEDS = {**GOOD, **BAD, **corpus.hostile_files()}


# Crashes the fuzzers found and handed on: each gets a strict xfail below with its reproducer, and
# the properties step over it so that they keep looking for other crashes meanwhile. None open.
KNOWN_FINDINGS: tuple[type[Exception], ...] = ()


def parses_or_refuses(read: Callable[[], object]) -> None:
    """The property: a result, or our clear error with a message for a person."""
    try:
        read()
    except KNOWN_FINDINGS:
        return
    except InvalidInput as refused:
        detail = refused.detail
    else:
        return
    assert detail.strip(), "a refusal says why"


# Counts in headers, where a reader that trusts them allocates what an attacker asks for.
_COUNT = re.compile(rb"(element (?:vertex|face) )(\d+)")


@st.composite
def mutated(draw: st.DrawFn, seeds: dict[str, bytes]) -> bytes:
    """A seed file, damaged the ways files are damaged in transit or on purpose."""
    data = bytearray(seeds[draw(st.sampled_from(sorted(seeds)))])
    for _ in range(draw(st.integers(1, 3))):
        how = draw(st.sampled_from(["truncate", "overwrite", "insert", "count", "stl-count"]))
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if how == "truncate":
            del data[at:]
        elif how == "overwrite":
            chunk = draw(st.binary(min_size=1, max_size=8))
            data[at : at + len(chunk)] = chunk
        elif how == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=16))
        elif how == "count":
            huge = str(draw(st.sampled_from([0, 1, 2**31, 2**32 + 1, 10**18]))).encode()
            data = bytearray(_COUNT.sub(rb"\g<1>" + huge, bytes(data), count=1))
        elif len(data) >= 84:  # a binary STL's triangle count
            data[80:84] = draw(st.sampled_from([b"\xff\xff\xff\xff", b"\x00\x00\x00\x00"]))
    return bytes(data)


@pytest.mark.parametrize("name", sorted(SEEDS))
def test_every_seed_file_parses_or_is_refused(name: str) -> None:
    parses_or_refuses(lambda: read_mesh_file(SEEDS[name], name, LIMITS))


@pytest.mark.parametrize("name", sorted(BAD))
def test_every_bad_seed_file_is_refused(name: str) -> None:
    with pytest.raises(InvalidInput):
        read_mesh_file(BAD[name], name, LIMITS)


def test_a_damaged_deflate_stream_is_refused_as_a_damaged_zip() -> None:
    with pytest.raises(InvalidInput, match="damaged ZIP"):
        read_mesh_file(corpus.corrupt_deflate_zip(), "bundle.zip", LIMITS)


@pytest.mark.parametrize("name", sorted(corpus.hostile_files()))
def test_hostile_xml_in_a_bundle_is_not_expanded_or_followed(name: str) -> None:
    (mesh,) = read_mesh_file(corpus.hostile_files()[name], name, LIMITS)
    assert mesh.scanner.arch is None  # the Jaw came only through the entity: ignored


@settings(FUZZ, max_examples=150)
@given(data=mutated(SEEDS))
def test_damaged_scan_files_parse_or_are_refused(data: bytes) -> None:
    parses_or_refuses(lambda: read_mesh_file(data, "fuzzed", LIMITS))


@FUZZ
@given(
    prefix=st.sampled_from([b"", b"solid ", b"ply\n", b"PK\x03\x04", b"v ", b"<?xml", b"<HPS"]),
    tail=st.binary(max_size=512),
)
def test_random_bytes_behind_a_format_magic_parse_or_are_refused(
    prefix: bytes, tail: bytes
) -> None:
    parses_or_refuses(lambda: read_mesh_file(prefix + tail, "fuzzed", LIMITS))


@FUZZ
@given(data=mutated(corpus.xml_documents()))
def test_order_xml_is_read_or_ignored(data: bytes) -> None:
    parses_or_refuses(lambda: read_order_xml(data, ["upper.stl"]))


@FUZZ
@given(data=st.one_of(mutated(corpus.photo_heads()), st.binary(max_size=64)))
def test_photo_type_is_known_or_refused(data: bytes) -> None:
    def sniff() -> None:
        PhotoLimits().check_size(data)
        detect_image_type(data)

    parses_or_refuses(sniff)
