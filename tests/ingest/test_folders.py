"""A scanner's export as a folder: which files form one bundle, safe entry paths, and the limits
a packed folder meets before anything is packed."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from ortholens.ingest.folders import (
    bundle_name,
    entry_path,
    group_for_import,
    pack_as_bundle,
    strip_common_folder,
)
from ortholens.ingest.formats import IngestLimits
from ortholens.kit.errors import InvalidInput, PayloadTooLarge
from ortholens.processing.meshes.types import MeshLimits

XML = b'<?xml version="1.0"?><Order><Scan File="u.stl" Jaw="Upper"/></Order>'


def write(path: Path, data: bytes = b"solid x\nendsolid x\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def test_a_folder_holding_an_export_xml_is_one_group_and_loose_files_stay_alone(
    tmp_path: Path,
) -> None:
    export = tmp_path / "ann"
    files = [
        write(export / "u.stl"),
        write(export / "meta" / "not-xml-by-name.dat", XML),  # content decides, not the name
        write(export / "gallery" / "a.jpg", b"\xff\xd8\xff\xe0"),
        write(tmp_path / "loose.stl"),
        write(tmp_path / "other" / "lone.stl"),
    ]
    groups = group_for_import(tmp_path, sorted(files))
    bundles = [g for g in groups if g.is_bundle]
    assert [g.root for g in bundles] == [export / "meta"]
    # the XML's own folder is the bundle; its parent's other files are not pulled in
    singles = sorted(g.root.name for g in groups if not g.is_bundle)
    assert singles == ["a.jpg", "lone.stl", "loose.stl", "u.stl"]


def test_files_belong_to_the_deepest_folder_with_an_xml(tmp_path: Path) -> None:
    outer, inner = tmp_path / "case", tmp_path / "case" / "scan-2"
    files = [
        write(outer / "order.xml", XML),
        write(outer / "u.stl"),
        write(inner / "export.xml", XML),
        write(inner / "sub" / "l.stl"),
    ]
    groups = {g.root: g for g in group_for_import(tmp_path, files)}
    assert set(groups) == {outer, inner}
    assert [name for name, _ in groups[inner].entries()] == ["export.xml", "sub/l.stl"]
    assert [name for name, _ in groups[outer].entries()] == ["order.xml", "u.stl"]


@pytest.mark.parametrize("bad", ["../x.stl", "/etc/passwd", "C:/scan.stl", "a/../../b", ""])
def test_unsafe_paths_are_refused(bad: str) -> None:
    with pytest.raises(InvalidInput, match="unsafe path"):
        entry_path(bad)


def test_a_browser_folder_upload_loses_its_top_folder_and_names_the_bundle() -> None:
    names = ["ann-export/u.stl", "ann-export/gallery/a.jpg", "ann-export\\export.xml"]
    assert strip_common_folder(names) == ["u.stl", "gallery/a.jpg", "export.xml"]
    assert bundle_name(names) == "ann-export.zip"
    assert bundle_name(["u.stl", "l.stl"]) == "files.zip"


def test_a_packed_folder_is_an_uncompressed_zip_of_its_files() -> None:
    data = pack_as_bundle(
        [("u.stl", b"abc"), ("gallery/a.jpg", io.BytesIO(b"jpg"))], IngestLimits()
    )
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.namelist() == ["u.stl", "gallery/a.jpg"]
        assert {i.compress_type for i in archive.infolist()} == {zipfile.ZIP_STORED}
        assert archive.read("gallery/a.jpg") == b"jpg"


def test_a_folder_over_the_limits_is_refused_before_packing() -> None:
    small = IngestLimits(mesh=MeshLimits(max_file_bytes=10, max_zip_entries=2))
    with pytest.raises(PayloadTooLarge, match="at most"):
        pack_as_bundle([("a", b"x" * 11)], small)
    with pytest.raises(InvalidInput, match="3 files; at most 2"):
        pack_as_bundle([("a", b""), ("b", b""), ("c", b"")], small)
    with pytest.raises(InvalidInput, match="same path"):
        pack_as_bundle([("a/b", b""), ("a//b", b"")], IngestLimits())
