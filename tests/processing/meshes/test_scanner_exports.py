"""Scanner exports as vendors write them: the vendor from the XML's structure, the export time as
the capture time, patient fields (name, chart number, birth date), every value kept, UTF-16 XML,
and the export's images kept as renders."""

from __future__ import annotations

import io
from datetime import date, datetime

from PIL import Image

from ortholens.processing.meshes.order_xml import read_order_xml
from ortholens.processing.meshes.readers import read_mesh_file
from ortholens.processing.meshes.scanner_text import parse_datetime
from ortholens.processing.meshes.types import ArchType, ScannerType
from tests.processing.meshes import mesh_files

# Shaped like a real iTero/OrthoCAD export: nothing in its values says "iTero"; the root does.
ITERO_EXPORT = b"""<?xml version="1.0" encoding="utf-8"?>
<iTeroExport version="2.1">
  <ExportDate>2026-02-11</ExportDate>
  <ExportTime>14:05:09</ExportTime>
  <Patient>
    <Name>Ann, Example</Name>
    <ChartNumber>C-17</ChartNumber>
    <DateOfBirth>2011-06-30</DateOfBirth>
  </Patient>
  <Order OrderID="88231" />
  <Models>
    <Model Type="Upper" File="u.stl"/>
    <Model Type="Lower" File="l.stl"/>
  </Models>
</iTeroExport>
"""


def _jpeg(colour: tuple[int, int, int] = (200, 180, 170)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (32, 24), colour).save(out, "JPEG")
    return out.getvalue()


def test_the_vendor_is_read_from_the_root_element() -> None:
    hints = read_order_xml(ITERO_EXPORT, ["u.stl", "l.stl"])
    assert hints is not None
    assert (hints.scanner_type, hints.scanner_name) == (ScannerType.ITERO, "iTero")


def test_the_vendor_is_read_from_a_namespace() -> None:
    xml = b'<Case xmlns="http://schemas.3shape.com/dentaldesktop/2019"><Id>1</Id></Case>'
    hints = read_order_xml(xml, [])
    assert hints is not None and hints.scanner_type is ScannerType.THREESHAPE


def test_separate_export_date_and_time_become_the_capture_time() -> None:
    hints = read_order_xml(ITERO_EXPORT, [])
    assert hints is not None and hints.captured_at == datetime(2026, 2, 11, 14, 5, 9)


def test_the_scan_time_wins_over_the_export_time() -> None:
    xml = b"""<Export><Exported>2026-02-11T10:00:00</Exported>
        <Scan ScanDateTime="3/4/2026 9:15:00 AM"/></Export>"""
    hints = read_order_xml(xml, [])
    assert hints is not None and hints.captured_at == datetime(2026, 3, 4, 9, 15)


def test_an_export_element_with_a_date_attribute_times_the_export() -> None:
    xml = b'<Root><Export Date="04.03.2026 08:30"/><Order>7</Order></Root>'
    hints = read_order_xml(xml, [])
    assert hints is not None and hints.captured_at == datetime(2026, 3, 4, 8, 30)


def test_patient_name_chart_number_and_birth_date_are_read() -> None:
    hints = read_order_xml(ITERO_EXPORT, [])
    assert hints is not None
    assert hints.patient_name == "Ann, Example"  # as written; matching tries both orders
    assert hints.patient_ref == "C-17" and hints.patient_birth_date == date(2011, 6, 30)
    assert hints.order_ref == "88231"


def test_every_value_of_the_export_is_kept_by_its_path() -> None:
    hints = read_order_xml(ITERO_EXPORT, [])
    assert hints is not None
    assert hints.fields["iTeroExport/@version"] == "2.1"
    assert hints.fields["iTeroExport/Patient/ChartNumber"] == "C-17"
    assert hints.fields["iTeroExport/Models/Model[2]/@File"] == "l.stl"
    assert hints.fields["iTeroExport/Order/@OrderID"] == "88231"


def test_a_utf16_export_is_read() -> None:
    text = ITERO_EXPORT.decode().replace('encoding="utf-8"', 'encoding="utf-16"')
    hints = read_order_xml(text.encode("utf-16"), ["u.stl", "l.stl"])
    assert hints is not None and hints.scanner_type is ScannerType.ITERO
    assert hints.arches == {"u.stl": ArchType.UPPER, "l.stl": ArchType.LOWER}


def test_a_bundle_carries_the_export_fields_birth_date_and_its_gallery_images() -> None:
    cube = mesh_files.binary_stl(mesh_files.cube(), header=b"binary")
    textured = mesh_files.obj_with_texture()
    bundle = mesh_files.zip_bytes(
        {
            "export/u.stl": cube,
            "export/l.stl": mesh_files.binary_stl(mesh_files.cube(), header=b"other"),
            "export/export.xml": ITERO_EXPORT,
            "export/gallery/front.jpg": _jpeg(),
            "export/gallery/side.jpg": _jpeg((90, 90, 90)),
            **textured,
        }
    )
    meshes = read_mesh_file(bundle, "export.zip")
    by_name = {m.source_name: m for m in meshes}
    upper = by_name["export/u.stl"].scanner
    assert upper.arch is ArchType.UPPER and upper.scanner_type is ScannerType.ITERO
    assert upper.patient_birth_date == date(2011, 6, 30)
    assert upper.captured_at == datetime(2026, 2, 11, 14, 5, 9)
    fields = upper.extra["export_fields"]["export/export.xml"]
    assert fields["iTeroExport/Patient/DateOfBirth"] == "2011-06-30"
    renders = [r for m in meshes for r in m.renders]
    assert sorted(r.name for r in renders) == [
        "export/gallery/front.jpg",
        "export/gallery/side.jpg",
    ]
    assert {r.media_type for r in renders} == {"image/jpeg"}
    assert all(r.data[:3] == b"\xff\xd8\xff" for r in renders)  # the OBJ's texture is no render


def test_dates_in_the_forms_scanner_software_writes() -> None:
    assert parse_datetime("2026-03-04 10:20:00") == datetime(2026, 3, 4, 10, 20)
    assert parse_datetime("3/4/2026 1:45:00 PM") == datetime(2026, 3, 4, 13, 45)
    assert parse_datetime("04.03.2026") == datetime(2026, 3, 4)
    assert parse_datetime("20260304_102000") == datetime(2026, 3, 4, 10, 20)
    assert parse_datetime("04 Mar 2026") == datetime(2026, 3, 4)
    assert parse_datetime("not a date") is None
